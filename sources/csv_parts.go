package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
)

// csvPartTable recognises dir/name/ holding part-*.csv files as one table.
func csvPartTable(dir, name string) (csvFile, bool) {
	if name == "" || name[0] == '.' || name[0] == '_' {
		return csvFile{}, false
	}
	parts, _ := filepath.Glob(filepath.Join(dir, name, "part-*.csv"))
	var regular []string
	for _, p := range parts {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			regular = append(regular, p)
		}
	}
	if len(regular) == 0 {
		return csvFile{}, false
	}
	sort.Strings(regular)
	return csvFile{table: name, path: regular[0], parts: regular}, true
}

// openParts reads the parts of table f one after the other as one table.
// Under a shard, part k belongs to shard k mod Count.
func (c *CSV) openParts(ctx context.Context, f csvFile, opts ReadOptions) (Reader, error) {
	var mine []string
	for k, p := range f.parts {
		if opts.Shard.All() || k%opts.Shard.Count == opts.Shard.Index {
			mine = append(mine, p)
		}
	}
	schema, _, err := csvTypedSchema(f.header, opts.Types)
	if err != nil {
		return nil, fmt.Errorf("opening table %q: %w", f.table, err)
	}
	one := opts
	one.Shard = Shard{}
	return &csvPartsReader{c: c, table: f.table, header: f.header, schema: schema,
		parts: mine, opts: one}, nil
}

// csvPartsReader chains the readers of a table's parts. Row numbers in its
// errors count from the start of the part the error names.
type csvPartsReader struct {
	c      *CSV
	table  string
	header []string
	schema *arrow.Schema
	parts  []string
	opts   ReadOptions
	cur    Reader
}

func (r *csvPartsReader) Schema() *arrow.Schema { return r.schema }

func (r *csvPartsReader) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if r.cur == nil {
			if len(r.parts) == 0 {
				return nil, io.EOF
			}
			cur, err := r.openPart(ctx, r.parts[0])
			if err != nil {
				return nil, err
			}
			r.cur, r.parts = cur, r.parts[1:]
		}
		rec, err := r.cur.Next(ctx)
		if !errors.Is(err, io.EOF) {
			return rec, err
		}
		r.cur.Close()
		r.cur = nil
	}
}

func (r *csvPartsReader) openPart(ctx context.Context, path string) (Reader, error) {
	part := &CSV{comma: r.c.comma, files: []csvFile{{table: r.table, path: path}}}
	tables, err := part.Tables(ctx)
	if err != nil {
		return nil, err
	}
	if h := part.files[0].header; !slices.Equal(h, r.header) {
		return nil, fmt.Errorf("table %q: the header of %s differs from that of its first part",
			r.table, path)
	}
	return part.Open(ctx, tables[0].Name, r.opts)
}

func (r *csvPartsReader) Close() error {
	if r.cur != nil {
		err := r.cur.Close()
		r.cur = nil
		return err
	}
	return nil
}

// Parquet input, read with arrow-go's own Parquet packages (parquet/file and
// parquet/pqarrow); sinks/parquet.go writes with the same packages.
//
// Why arrow-go and not github.com/parquet-go/parquet-go: both were made to
// write and read the same synthetic table (1M rows x 8 columns: two int64
// keys, a name and a low-cardinality code as strings, a date32, a UTC
// timestamp in microseconds, a float64 with 10% nulls and a string with 33%
// nulls) from and to Arrow batches of 8192 rows, zstd, dictionary-encoded
// strings, one row group, each step in its own process on the shared 2-core
// machine. Best of three; write time includes 0.36 s spent making batches:
//
//	                  write   read    peak RSS w/r    allocated (read)  file
//	arrow-go pqarrow  1.11 s  0.27 s  189 / 100 MiB   0.32 GiB          20.6 MiB
//	parquet-go        1.40 s  1.12 s  170 /  66 MiB   1.07 GiB          22.0 MiB
//
// parquet-go has no Arrow path: values go through parquet.Row and
// parquet.Value one cell at a time and into Arrow builders, so it reads 4x
// slower and allocates 3x more. pqarrow decodes pages straight into Arrow
// buffers and writes Arrow arrays column by column; its higher peak is the
// one 1M-row row group held in memory. The parquet-go code was deleted
// after the measurement.
//
// Memory: the reader goes row group by row group, column by column, one
// batch of about ReadOptions.BatchRows rows at a time, and reads pages
// through a 1 MiB buffer rather than loading whole column chunks, so memory
// follows the batch, the page and the width of a row, never the size of a
// file. Copying that table with this source and sinks.ParquetSink (row
// groups of 32Ki rows) peaked at 120 MiB RSS for 200k rows, 147 MiB for 1M
// and 154 MiB for 2M; with the sink's default 1Mi-row row groups, 208, 257
// and 310 MiB, as the writer holds a whole row group (TestParquetMemoryFlat
// in package sinks checks the first kind at 100k and 500k rows).
//
// The Arrow schema a writer may store in the footer (ARROW:schema) is not
// used: arrow-go decodes it without bounds checks, and a damaged one can
// make it allocate without limit. So a time zone other than UTC reads as
// UTC (the same instants) and date64 as date32 (the same days).

package sources

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
)

// ParquetOptions configures a Parquet source.
type ParquetOptions struct {
	// Table names the table of a single file; it defaults to the file's
	// base name without extension. A folder names each table after its
	// file or subfolder, so Table must be empty there.
	Table string
}

// Parquet is a Source over Parquet files: one file, or a folder whose tables
// are files name.parquet or subfolders name/ holding parts part-*.parquet
// (as Spark and other engines write them), read in file-name order.
//
// Columns keep their types: booleans, signed and unsigned integers of every
// width, float and double, decimal, string and binary, fixed-size binary,
// date, time of day, and timestamps in ms, us or ns, local or UTC (a zone
// name other than UTC is not kept, see above). A column the file stores
// dictionary-encoded, as a large string or binary, or as an extension type
// (UUID) is read as its plain type. Nested columns (list, map, struct) and repeated columns are an
// error naming the file and column. Each field of Table.Schema carries the
// Parquet type under MetaSourceType.
//
// The parts of one table must agree on column names, order and types (a
// column required in one part and optional in another is read as nullable);
// otherwise Tables returns an error naming both files and the column.
//
// A damaged file (truncated, a corrupt footer or page, not Parquet at all)
// is a *dataerr.Error naming the file and, where it is known, the column,
// with a fixed reason: no text from the Parquet library reaches an error.
//
// When a read is sharded, the row groups of a table, numbered in order
// across its parts, are dealt out: row group k goes to shard k mod Count.
// The shards are disjoint, together they hold every row, and each shard
// keeps input order.
type Parquet struct {
	files []pqTableFiles // sorted by table name

	mu     sync.Mutex
	tables []pqTable
	closed bool
}

// pqTableFiles is one table as listed: its name, where it lives and its
// files in order.
type pqTableFiles struct {
	name     string
	location string
	paths    []string
}

// pqExt is the extension of a Parquet file.
const pqExt = ".parquet"

// NewParquetFile returns a source of one table read from the Parquet file
// at path.
func NewParquetFile(path string, o ParquetOptions) (*Parquet, error) {
	table, err := fileTable("parquet", path, o.Table)
	if err != nil {
		return nil, err
	}
	return &Parquet{files: []pqTableFiles{{name: table, location: path, paths: []string{path}}}}, nil
}

// NewParquetDir returns a source of the tables in dir: each file
// name.parquet is table name, and each subfolder name/ that holds files
// part-*.parquet is table name spread over those parts. Names starting
// with "." or "_" (temporary files, _SUCCESS markers) are skipped, and so
// are other files. A folder without any table, or a name that is both a
// file and a folder, is an error.
func NewParquetDir(dir string, o ParquetOptions) (*Parquet, error) {
	if o.Table != "" {
		return nil, errors.New("parquet source: a folder names its tables after its files")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("parquet source: %w", err)
	}

	var tables []pqTableFiles
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue
		}
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("parquet source: %w", err)
		}
		switch {
		case fi.Mode().IsRegular() && strings.HasSuffix(name, pqExt) && len(name) > len(pqExt):
			tables = append(tables, pqTableFiles{
				name: strings.TrimSuffix(name, pqExt), location: path, paths: []string{path},
			})
		case fi.IsDir():
			parts, err := pqParts(path)
			if err != nil {
				return nil, err
			}
			if len(parts) > 0 {
				tables = append(tables, pqTableFiles{name: name, location: path, paths: parts})
			}
		}
	}
	if len(tables) == 0 {
		return nil, fmt.Errorf("parquet source: folder %s holds no .parquet file "+
			"and no folder of part-*.parquet files", dir)
	}

	sort.SliceStable(tables, func(i, j int) bool { return tables[i].name < tables[j].name })
	for i := 1; i < len(tables); i++ {
		if tables[i].name == tables[i-1].name {
			return nil, fmt.Errorf("parquet source: %s and %s are both table %q",
				tables[i-1].location, tables[i].location, tables[i].name)
		}
	}
	return &Parquet{files: tables}, nil
}

// pqParts lists the regular files part-*.parquet of a table folder, sorted
// by name.
//
// TODO: Hive-style partition folders (table/year=2024/part-*.parquet) are not
// searched, so such a table is skipped rather than read.
func pqParts(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("parquet source: %w", err)
	}
	var parts []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "part-") || !strings.HasSuffix(name, pqExt) {
			continue
		}
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
			parts = append(parts, path)
		}
	}
	sort.Strings(parts)
	return parts, nil
}

// Tables reads the footer of every file and describes each table, sorted
// by name. It reads no rows.
func (p *Parquet) Tables(ctx context.Context) ([]Table, error) {
	tables, err := p.load(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Table, len(tables))
	for i, t := range tables {
		out[i] = t.Table
	}
	return out, nil
}

// load reads the footers once and keeps what Open needs.
func (p *Parquet) load(ctx context.Context) ([]pqTable, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("parquet source: closed")
	}
	if p.tables != nil {
		return p.tables, nil
	}

	tables := make([]pqTable, 0, len(p.files))
	for _, tf := range p.files {
		t, err := loadPQTable(ctx, tf)
		if err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	p.tables = tables
	return tables, nil
}

// Open starts reading table. Each file is opened again when the reader
// reaches it; a file whose footer changed since Tables is an error.
func (p *Parquet) Open(ctx context.Context, table string, opts ReadOptions) (Reader, error) {
	tables, err := p.load(ctx)
	if err != nil {
		return nil, err
	}
	if s := opts.Shard; s.Count > 1 && (s.Index < 0 || s.Index >= s.Count) {
		return nil, fmt.Errorf("parquet source: shard %d of %d does not exist", s.Index, s.Count)
	}
	i := slices.IndexFunc(tables, func(t pqTable) bool { return t.Name == table })
	if i < 0 {
		return nil, fmt.Errorf("parquet source: no table %q", table)
	}

	batch := opts.BatchRows
	if batch <= 0 {
		batch = DefaultBatchRows
	}
	return newPQReader(&tables[i], opts.Shard, batch), nil
}

// Close marks the source closed. Readers already open stay usable until
// they are closed.
func (p *Parquet) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return nil
}

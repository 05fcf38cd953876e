package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/internal/dataerr"
)

// CSVOptions configures a CSV source.
type CSVOptions struct {
	// Comma is the field delimiter; zero means ','. It must be a single
	// ASCII character other than a quote, CR, LF or NUL.
	Comma rune
	// Table names the table of a single file or stream. For a file it
	// defaults to the file's base name without extension; a stream
	// requires it. A folder names each table after its file, so Table must
	// be empty there.
	Table string
}

// CSV is a Source over RFC 4180 text: one file, every .csv file of a folder,
// or a stream such as stdin.
//
// The first record of each file is its header: one nullable utf8 column per
// field, in order. A UTF-8 byte order mark before it is dropped; blank lines
// between records are skipped; CRLF and LF line endings are both accepted.
// Columns are read as utf8 unless ReadOptions.Types declares int32, int64,
// float64, bool, date32 (YYYY-MM-DD) or a timestamp (see parseTimestamp).
//
// An empty field is null, for every type including utf8, whether it is
// written bare or as "": a CSV file cannot tell an empty string from a
// missing one, and deid treats both as missing.
//
// Input that is not valid UTF-8, holds a NUL byte, has a bare or
// unterminated quote, or a row whose field count differs from the header's
// is an error; so is a value that does not parse as its declared type. Each
// is a *dataerr.Error that names the file, the data row (1-based, header
// excluded), the line and the column where known, and never the value.
//
// A subfolder name/ holding files part-*.csv is table name spread over
// those parts, read in name order; every part has the same header.
//
// When a read is sharded, each table (file) belongs wholly to the shard
// FNV-32a(table name) mod Count, and other shards read it as empty; the
// parts of a part folder are dealt out instead: part k to shard k mod Count.
type CSV struct {
	comma  byte
	files  []csvFile  // sorted by table name; empty for a stream
	stream *csvStream // nil for files

	mu     sync.Mutex
	tables []Table
	closed bool
}

type csvFile struct {
	table  string
	path   string
	header []string
	parts  []string // a table spread over a folder of part files; path is parts[0]
}

// csvStream is the single-pass input of NewCSVReader: Tables reads its
// header and the one Reader continues from there.
type csvStream struct {
	table  string
	sc     *csvScanner
	header []string
	opened bool
	err    error // the error reading the header, if any
}

// stdinName stands for a stream in errors and in Table.Location.
const stdinName = "<stdin>"

// NewCSVFile returns a source of one table read from the CSV file at path.
func NewCSVFile(path string, o CSVOptions) (*CSV, error) {
	comma, err := csvComma(o.Comma)
	if err != nil {
		return nil, err
	}
	table, err := fileTable("csv", path, o.Table)
	if err != nil {
		return nil, err
	}
	return &CSV{comma: comma, files: []csvFile{{table: table, path: path}}}, nil
}

// NewCSVDir returns a source of every file named *.csv (any case) directly
// in dir, one table per file, named by the file's base name without
// extension. Subfolders are not searched. A folder without any is an error.
func NewCSVDir(dir string, o CSVOptions) (*CSV, error) {
	comma, err := csvComma(o.Comma)
	if err != nil {
		return nil, err
	}
	if o.Table != "" {
		return nil, errors.New("csv source: a folder names its tables after its files")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("csv source: %w", err)
	}

	var files []csvFile
	for _, e := range entries {
		if e.IsDir() {
			if f, ok := csvPartTable(dir, e.Name()); ok {
				files = append(files, f)
			}
			continue
		}
		ext := filepath.Ext(e.Name())
		if !strings.EqualFold(ext, ".csv") || len(e.Name()) == len(ext) {
			continue // not a CSV file, or one without a name to give its table
		}
		path := filepath.Join(dir, e.Name())
		if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		files = append(files, csvFile{table: strings.TrimSuffix(e.Name(), ext), path: path})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("csv source: folder %s holds no .csv file", dir)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].table < files[j].table })
	for i := 1; i < len(files); i++ {
		if files[i].table == files[i-1].table {
			return nil, fmt.Errorf("csv source: %s and %s are both table %q",
				files[i-1].path, files[i].path, files[i].table)
		}
	}
	return &CSV{comma: comma, files: files}, nil
}

// NewCSVReader returns a source of one table read once from r, such as
// stdin; o.Table must name it. Tables reads the header and the table's one
// Reader continues after it, so the table can be opened only once.
func NewCSVReader(r io.Reader, o CSVOptions) (*CSV, error) {
	comma, err := csvComma(o.Comma)
	if err != nil {
		return nil, err
	}
	if o.Table == "" {
		return nil, errors.New("csv source: a stream needs a table name")
	}
	sc := newCSVScanner(r, comma, csvBufSize)
	return &CSV{comma: comma, stream: &csvStream{table: o.Table, sc: sc}}, nil
}

func csvComma(r rune) (byte, error) {
	switch {
	case r == 0:
		return ',', nil
	case r >= utf8.RuneSelf || r == '"' || r == '\r' || r == '\n':
		return 0, fmt.Errorf("csv: delimiter %q is not a single ASCII character "+
			"other than quote, CR or LF", r)
	}
	return byte(r), nil
}

// Tables reads the header of every file (or of the stream) and describes
// each table, sorted by name.
func (c *CSV) Tables(ctx context.Context) ([]Table, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("csv source: closed")
	}
	if c.tables != nil {
		return slices.Clone(c.tables), nil
	}

	if s := c.stream; s != nil {
		if s.err != nil {
			return nil, s.err
		}
		h, err := readCSVHeader(s.sc, stdinName, s.table)
		if err != nil {
			s.err = err // the stream is past the header: it cannot be read again
			return nil, err
		}
		s.header = h
		c.tables = []Table{{Name: s.table, Schema: csvSchema(h), Location: stdinName}}
		return slices.Clone(c.tables), nil
	}

	tables := make([]Table, 0, len(c.files))
	for i := range c.files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f := &c.files[i]
		h, err := readCSVFileHeader(f.path, f.table, c.comma, 64<<10)
		if err != nil {
			return nil, err
		}
		f.header = h
		tables = append(tables, Table{Name: f.table, Schema: csvSchema(h), Location: f.path})
	}
	c.tables = tables
	return slices.Clone(c.tables), nil
}

// Open starts reading table. The file is opened again and its header read
// again; a header that changed since Tables is an error.
func (c *CSV) Open(ctx context.Context, table string, opts ReadOptions) (Reader, error) {
	if _, err := c.Tables(ctx); err != nil {
		return nil, err
	}
	if s := opts.Shard; s.Count > 1 && (s.Index < 0 || s.Index >= s.Count) {
		return nil, fmt.Errorf("csv source: shard %d of %d does not exist", s.Index, s.Count)
	}

	var file, path string
	var header []string
	if c.stream != nil && c.stream.table == table {
		file, header = stdinName, c.stream.header
	}
	for _, f := range c.files {
		if f.table == table && len(f.parts) > 1 {
			return c.openParts(ctx, f, opts)
		}
		if f.table == table {
			file, path, header = f.path, f.path, f.header
		}
	}
	if file == "" {
		return nil, fmt.Errorf("csv source: no table %q", table)
	}

	schema, cols, err := csvTypedSchema(header, opts.Types)
	if err != nil {
		return nil, fmt.Errorf("opening table %q: %w", table, err)
	}
	batch := opts.BatchRows
	if batch <= 0 {
		batch = DefaultBatchRows
	}
	r := &csvReader{schema: schema, file: file, table: table, cols: cols, batch: batch}
	if !opts.Shard.All() && csvShard(table, opts.Shard.Count) != opts.Shard.Index {
		return r, nil
	}

	if path == "" {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.stream.opened {
			return nil, fmt.Errorf("csv source: table %q comes from a stream and can be read once", table)
		}
		c.stream.opened = true
		r.sc = c.stream.sc
		return r, nil
	}

	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening table %q: %w", table, err)
	}
	r.sc = newCSVScanner(fh, c.comma, csvBufSize)
	r.closer = fh
	h, err := readCSVHeader(r.sc, path, table)
	if err == nil && !slices.Equal(h, header) {
		err = fmt.Errorf("opening table %q: the header of %s changed after it was read", table, path)
	}
	if err != nil {
		fh.Close()
		return nil, err
	}
	return r, nil
}

// Close marks the source closed. Readers already open stay usable until
// they are closed.
func (c *CSV) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

// csvShard is the shard of count that reads table.
//
// TODO: a table is read whole by one shard; a single large CSV file is not
// split across shards.
func csvShard(table string, count int) int {
	h := fnv.New32a()
	h.Write([]byte(table))
	return int(h.Sum32() % uint32(count))
}

// readCSVFileHeader reads the header of the file at path with a small buffer.
func readCSVFileHeader(path, table string, comma byte, size int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading header of table %q: %w", table, err)
	}
	defer f.Close()
	return readCSVHeader(newCSVScanner(f, comma, size), path, table)
}

// readCSVHeader reads the first record as column names. Errors name a
// header field by position only: a file without a header holds a row of
// data where the names should be.
func readCSVHeader(sc *csvScanner, file, table string) ([]string, error) {
	herr := func(line int64, reason string) error {
		return &dataerr.Error{Table: table, File: file, Line: line, Rule: "csv", Reason: reason}
	}
	if err := sc.skipBOM(); err != nil {
		return nil, fmt.Errorf("reading header of table %q from %s: %w", table, file, err)
	}
	base, fields, line, err := sc.record()
	var fault *scanFault
	switch {
	case err == io.EOF:
		return nil, herr(0, "file is empty: no header row")
	case errors.As(err, &fault):
		if fault.field >= 0 {
			return nil, herr(fault.line, fmt.Sprintf("header field %d: %s", fault.field+1, fault.reason))
		}
		return nil, herr(fault.line, "header: "+fault.reason)
	case err != nil:
		return nil, fmt.Errorf("reading header of table %q from %s: %w", table, file, err)
	}

	names := make([]string, len(fields))
	seen := make(map[string]int, len(fields))
	for i, sp := range fields {
		f := base[sp.start:sp.end]
		names[i] = string(f)
		if len(f) == 0 {
			return nil, herr(line, fmt.Sprintf("header field %d is empty", i+1))
		}
		// Lines ended by a lone CR (old Mac exports) read as one long
		// header whose names would be the data.
		if bytes.ContainsAny(f, "\r\n") {
			return nil, herr(line, fmt.Sprintf("header field %d holds a line break; a file "+
				"whose lines end in a lone CR must be converted to LF or CRLF first", i+1))
		}
		if j, dup := seen[names[i]]; dup {
			return nil, herr(line, fmt.Sprintf("header field %d repeats field %d", i+1, j+1))
		}
		seen[names[i]] = i
	}
	return names, nil
}

// csvSchema is the schema of a header: nullable utf8 columns.
func csvSchema(header []string) *arrow.Schema {
	fields := make([]arrow.Field, len(header))
	for i, name := range header {
		fields[i] = arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// csvTypedSchema applies declared types to a header.
func csvTypedSchema(header []string, types map[string]arrow.DataType) (
	*arrow.Schema, []*csvColumn, error) {
	for name := range types {
		if !slices.Contains(header, name) {
			return nil, nil, fmt.Errorf("a type is declared for column %q, which the header lacks", name)
		}
	}
	fields := make([]arrow.Field, len(header))
	cols := make([]*csvColumn, len(header))
	for i, name := range header {
		dt := types[name]
		if dt == nil {
			dt = arrow.BinaryTypes.String
		}
		col, err := newCSVColumn(name, dt)
		if err != nil {
			return nil, nil, err
		}
		cols[i] = col
		fields[i] = arrow.Field{Name: name, Type: dt, Nullable: true}
	}
	return arrow.NewSchema(fields, nil), cols, nil
}

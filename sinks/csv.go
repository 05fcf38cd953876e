package sinks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/deid/deid/sources"
)

// CSVSinkOptions configures a CSV sink.
type CSVSinkOptions struct {
	// Comma is the field delimiter; zero means ','. It must be a single
	// ASCII character other than a quote, CR, LF or NUL.
	Comma rune
}

// CSVSink writes each table as RFC 4180 text: a header of column names, then
// one line per row, ending in "\n".
//
// A field is quoted only when it holds the delimiter, a quote, CR or LF, or
// is an empty string; a null is an empty field (and, in a table of one
// column, "" so that the row is not a blank line). Integers are decimal;
// floats the shortest text that reads back to the same value; booleans true
// or false; dates YYYY-MM-DD; timestamps RFC 3339 in the column's time zone
// (UTC when it has none) with a fraction only when it is not zero; decimals
// their decimal text with the type's scale; binary values standard base64.
// The CSV source reads an empty field back as null whether or not it is
// quoted, so an empty string does not survive a round trip through CSV.
//
// Tables are written to hidden temporary files named .deid-<random hex>.tmp
// (a name that holds no data) and fsynced on Close. Commit renames them onto
// their final names, replacing earlier files, and fsyncs the folder; Abort
// removes them. A stream sink writes its table to a temporary file in
// os.TempDir and copies it to the stream only in Commit, so a run that fails
// writes nothing to the stream.
type CSVSink struct {
	comma  byte
	dir    string    // where temporary and final files go; empty for a stream
	path   string    // the one output file, for NewCSVFileSink
	stream io.Writer // the output stream, for NewCSVStreamSink

	mu        sync.Mutex
	outs      []*csvOut
	committed bool
	aborted   bool
}

// csvOut is one table's temporary file.
type csvOut struct {
	table  string
	dest   string // where the table goes, for errors: a path or "the output stream"
	final  string // the published path; empty for a stream
	tmp    string
	f      *os.File
	closed atomic.Bool // the writer closed the file without error
}

// NewCSVDirSink returns a sink that writes each table to <table>.csv in dir,
// creating dir when it is missing.
func NewCSVDirSink(dir string, o CSVSinkOptions) (*CSVSink, error) {
	comma, err := csvSinkComma(o.Comma)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("csv sink: %w", err)
	}
	return &CSVSink{comma: comma, dir: dir}, nil
}

// NewCSVFileSink returns a sink that writes exactly one table to path. The
// folder of path must exist.
func NewCSVFileSink(path string, o CSVSinkOptions) (*CSVSink, error) {
	comma, err := csvSinkComma(o.Comma)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("csv sink: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("csv sink: %s is not a folder", dir)
	}
	return &CSVSink{comma: comma, dir: dir, path: path}, nil
}

// NewCSVStreamSink returns a sink that writes exactly one table to w, such
// as stdout, when it commits.
func NewCSVStreamSink(w io.Writer, o CSVSinkOptions) (*CSVSink, error) {
	comma, err := csvSinkComma(o.Comma)
	if err != nil {
		return nil, err
	}
	if w == nil {
		return nil, errors.New("csv sink: nil stream")
	}
	return &CSVSink{comma: comma, stream: w}, nil
}

func csvSinkComma(r rune) (byte, error) {
	switch {
	case r == 0:
		return ',', nil
	case r >= utf8.RuneSelf || r == '"' || r == '\r' || r == '\n':
		return 0, fmt.Errorf("csv sink: delimiter %q is not a single ASCII character "+
			"other than quote, CR or LF", r)
	}
	return byte(r), nil
}

// Create starts writing table t to a temporary file and writes its header.
func (s *CSVSink) Create(ctx context.Context, t sources.Table) (Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t.Schema == nil || t.Schema.NumFields() == 0 {
		return nil, fmt.Errorf("csv sink: table %q has no columns", t.Name)
	}
	for _, f := range t.Schema.Fields() {
		if err := csvCheckType(f.Type); err != nil {
			return nil, fmt.Errorf("csv sink: table %q column %q: %w", t.Name, f.Name, err)
		}
	}

	out, err := s.reserve(t.Name)
	if err != nil {
		return nil, err
	}
	w := &csvWriter{out: out, dst: out.f, q: newCSVQuoter(s.comma), schema: t.Schema}
	w.buf = make([]byte, 0, csvFlushSize+64<<10)
	w.header()
	return w, nil
}

// reserve checks that table may be created and opens its temporary file.
func (s *CSVSink) reserve(table string) (*csvOut, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.committed || s.aborted:
		return nil, errors.New("csv sink: already committed or aborted")
	case s.dir != "" && s.path == "" && !validTableFile(table):
		return nil, fmt.Errorf("csv sink: table name %q cannot be a file name", table)
	case (s.path != "" || s.stream != nil) && len(s.outs) > 0:
		return nil, fmt.Errorf("csv sink: a single file or stream holds one table; "+
			"table %q would be the second", table)
	}
	for _, o := range s.outs {
		if o.table == table {
			return nil, fmt.Errorf("csv sink: table %q created twice", table)
		}
	}

	out := &csvOut{table: table}
	dir, perm := s.dir, os.FileMode(0o666)
	switch {
	case s.stream != nil:
		dir, perm = os.TempDir(), 0o600
		out.dest = "the output stream"
	case s.path != "":
		out.final = s.path
	default:
		out.final = filepath.Join(s.dir, table+".csv")
	}
	if out.final != "" {
		out.dest = out.final
	}
	f, err := createTemp(dir, perm)
	if err != nil {
		return nil, fmt.Errorf("csv sink: creating table %q: %w", table, err)
	}
	out.f, out.tmp = f, f.Name()
	s.outs = append(s.outs, out)
	return out, nil
}

// writeError wraps an error writing the temporary file; the os error names
// the temporary path.
func (o *csvOut) writeError(err error) error {
	return fmt.Errorf("csv sink: writing table %q to %s: %w", o.table, o.dest, err)
}

// validTableFile reports whether <table>.csv is a plain file name.
func validTableFile(table string) bool {
	return table != "" && table != "." && table != ".." &&
		!strings.ContainsAny(table, "/\\\x00") && !strings.HasPrefix(table, ".deid-")
}

// createTemp creates a new file .deid-<random hex>.tmp in dir.
func createTemp(dir string, perm os.FileMode) (*os.File, error) {
	for range 10 {
		var b [8]byte
		rand.Read(b[:])
		name := filepath.Join(dir, ".deid-"+hex.EncodeToString(b[:])+".tmp")
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, errors.New("no free temporary file name")
}

// Commit publishes every table. Files are renamed one after another: if a
// rename fails, tables renamed before it stay published, and Abort removes
// the rest. A stream sink copies its table to the stream.
func (s *CSVSink) Commit(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.committed || s.aborted {
		return errors.New("csv sink: already committed or aborted")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, o := range s.outs {
		if !o.closed.Load() {
			return fmt.Errorf("csv sink: table %q was not closed", o.table)
		}
	}

	if s.stream != nil {
		for _, o := range s.outs {
			if err := copyToStream(s.stream, o.tmp); err != nil {
				return fmt.Errorf("csv sink: writing table %q to the output stream: %w", o.table, err)
			}
			os.Remove(o.tmp)
			o.tmp = ""
		}
		s.committed = true
		return nil
	}

	// Check every target before renaming any, so that a folder in the way
	// does not leave a partial publication.
	for _, o := range s.outs {
		if fi, err := os.Lstat(o.final); err == nil && fi.IsDir() {
			return fmt.Errorf("csv sink: table %q: %s is a folder", o.table, o.final)
		}
	}
	for _, o := range s.outs {
		if err := os.Rename(o.tmp, o.final); err != nil {
			return fmt.Errorf("csv sink: publishing table %q: %w", o.table, err)
		}
		o.tmp = ""
	}
	s.committed = true
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("csv sink: %w", err)
	}
	return nil
}

func copyToStream(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Abort closes and removes every temporary file. After Commit it does
// nothing.
func (s *CSVSink) Abort() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.committed {
		return nil
	}
	s.aborted = true
	var errs []error
	for _, o := range s.outs {
		o.f.Close() // an error only says it was closed already
		if o.tmp == "" {
			continue
		}
		if err := os.Remove(o.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("csv sink: removing table %q: %w", o.table, err))
		}
		o.tmp = ""
	}
	return errors.Join(errs...)
}

// csvFlushSize is how much text a writer gathers before writing it out.
const csvFlushSize = 1 << 20

// csvWriter writes one table's rows into its temporary file.
type csvWriter struct {
	out    *csvOut
	dst    io.Writer // out.f, or a stand-in in tests
	q      *csvQuoter
	schema *arrow.Schema
	buf    []byte
	cols   []csvColumn
	err    error // sticky
	done   bool
}

// header appends the column names. A first name that starts with a byte
// order mark is quoted, so that a reader does not drop the mark.
func (w *csvWriter) header() {
	for i, f := range w.schema.Fields() {
		if i > 0 {
			w.buf = append(w.buf, w.q.comma)
		}
		if i == 0 && strings.HasPrefix(f.Name, "\uFEFF") {
			w.buf = append(w.buf, '"')
			w.buf = append(w.buf, strings.ReplaceAll(f.Name, `"`, `""`)...)
			w.buf = append(w.buf, '"')
			continue
		}
		w.buf = w.q.appendString(w.buf, f.Name)
	}
	w.buf = append(w.buf, '\n')
}

// Write appends the rows of rec, whose columns must match the table's.
func (w *csvWriter) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return fmt.Errorf("csv sink: table %q: write after close", w.out.table)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ncols := int(rec.NumCols())
	if ncols != w.schema.NumFields() {
		return fmt.Errorf("csv sink: table %q: batch has %d columns, table has %d",
			w.out.table, ncols, w.schema.NumFields())
	}

	w.cols = w.cols[:0]
	for i, c := range rec.Columns() {
		col, err := newCSVColumn(c, w.q)
		if err != nil {
			return fmt.Errorf("csv sink: table %q column %q: %w", w.out.table, w.schema.Field(i).Name, err)
		}
		w.cols = append(w.cols, col)
	}

	q, b := w.q, w.buf
	for row := range int(rec.NumRows()) {
		for i := range w.cols {
			c := &w.cols[i]
			if i > 0 {
				b = append(b, q.comma)
			}
			if c.nulls != nil && bitutil.BitIsNotSet(c.nulls, c.offset+row) {
				if ncols == 1 {
					b = append(b, '"', '"')
				}
				continue
			}
			if c.offsets == nil {
				b = c.cell(b, row)
				continue
			}
			// Strings, the common case, are written here without a call.
			v := c.data[c.offsets[row]:c.offsets[row+1]]
			if q.needsQuote(v) {
				b = appendQuoted(b, v)
			} else {
				b = append(b, v...)
			}
		}
		b = append(b, '\n')
		if len(b) >= csvFlushSize {
			w.buf = b
			if err := w.flush(); err != nil {
				return err
			}
			b = w.buf
		}
	}
	w.buf = b
	return nil
}

// csvColumn is one column of the batch being written.
type csvColumn struct {
	nulls  []byte // validity bitmap, nil when the column has no null
	offset int    // the array's offset into nulls

	// A utf8 column is read straight from its buffers: value i is
	// data[offsets[i]:offsets[i+1]]. Other columns have a cell function.
	offsets []int32
	data    []byte
	cell    cellFunc
}

func newCSVColumn(a arrow.Array, q *csvQuoter) (csvColumn, error) {
	var c csvColumn
	if a.NullN() > 0 {
		c.nulls, c.offset = a.NullBitmapBytes(), a.Data().Offset()
	}
	if s, ok := a.(*array.String); ok {
		c.offsets = s.ValueOffsets()
		if len(a.Data().Buffers()) > 2 && a.Data().Buffers()[2] != nil {
			c.data = a.Data().Buffers()[2].Bytes()
		}
		return c, nil
	}
	cell, err := csvCells(a, q)
	c.cell = cell
	return c, err
}

// flush writes out the gathered text.
func (w *csvWriter) flush() error {
	if w.err != nil || len(w.buf) == 0 {
		return w.err
	}
	_, err := w.dst.Write(w.buf)
	w.buf = w.buf[:0]
	if err != nil {
		w.err = w.out.writeError(err)
	}
	return w.err
}

// Close flushes the table and fsyncs its temporary file; Sink.Commit
// publishes it.
func (w *csvWriter) Close(ctx context.Context) error {
	if w.done {
		return w.err
	}
	w.done = true
	err := w.flush()
	if err == nil {
		if err = w.out.f.Sync(); err != nil {
			err = w.out.writeError(err)
		}
	}
	if cerr := w.out.f.Close(); err == nil && cerr != nil {
		err = w.out.writeError(cerr)
	}
	w.err = err
	if err == nil {
		w.out.closed.Store(true)
	}
	return err
}

// csvCheckType reports whether values of type dt can be written.
func csvCheckType(dt arrow.DataType) error {
	switch dt.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW, arrow.BINARY, arrow.LARGE_BINARY,
		arrow.BINARY_VIEW, arrow.FIXED_SIZE_BINARY, arrow.NULL, arrow.BOOL,
		arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64, arrow.FLOAT32, arrow.FLOAT64,
		arrow.DATE32, arrow.DATE64, arrow.TIME32, arrow.TIME64,
		arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		return nil
	case arrow.TIMESTAMP:
		if _, err := dt.(*arrow.TimestampType).GetZone(); err != nil {
			return fmt.Errorf("unknown time zone in %s", dt)
		}
		return nil
	}
	return fmt.Errorf("cannot write type %s as CSV", dt)
}

package sources

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/deid/deid/internal/dataerr"
)

// maxCSVBatchBytes ends a batch early once it holds this much input, so a
// table of very long rows still reads in bounded memory and string offsets
// stay far below 2 GiB.
const maxCSVBatchBytes = 64 << 20

// csvReader is the Reader of one CSV table.
type csvReader struct {
	schema *arrow.Schema
	sc     *csvScanner // nil for a shard that holds no rows
	file   string
	table  string
	closer io.Closer // the file, if the reader opened one
	cols   []*csvColumn
	batch  int
	row    int64 // data rows returned so far
	err    error // sticky: io.EOF or the first error
}

func (r *csvReader) Schema() *arrow.Schema { return r.schema }

// Next returns the next batch: the configured number of rows, or fewer at
// the end of the input or once the batch holds maxCSVBatchBytes of input.
// After an error, Next returns the same error again; the rows of the batch
// that held the fault are not returned.
func (r *csvReader) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if r.err != nil {
		return nil, r.err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.sc == nil {
		r.err = io.EOF
		return nil, r.err
	}

	for _, c := range r.cols {
		c.reset(r.batch)
	}
	limit := r.sc.consumed() + maxCSVBatchBytes
	n := 0
	for n < r.batch && r.sc.consumed() < limit {
		base, fields, line, err := r.sc.record()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.err = r.rowError(err, line)
			return nil, r.err
		}
		if len(fields) != len(r.cols) {
			r.err = r.dataError(line, "", "csv",
				fmt.Sprintf("wrong number of fields: %d, header has %d", len(fields), len(r.cols)))
			return nil, r.err
		}
		for i, sp := range fields {
			c := r.cols[i]
			f := base[sp.start:sp.end]
			if c.kind == kindString {
				c.appendString(n, f)
				continue
			}
			if !c.append(n, f) {
				r.err = r.dataError(line, r.cols[i].name, "type",
					"value is not a valid "+r.cols[i].typeName)
				return nil, r.err
			}
		}
		n++
		r.row++
	}
	if n == 0 {
		r.err = io.EOF
		return nil, r.err
	}

	arrs := make([]arrow.Array, len(r.cols))
	for i, c := range r.cols {
		arrs[i] = c.build(n)
	}
	rec := array.NewRecordBatch(r.schema, arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec, nil
}

// rowError turns a scanner error about the next row into the error Next
// returns.
func (r *csvReader) rowError(err error, line int64) error {
	fault, ok := err.(*scanFault)
	if !ok {
		return fmt.Errorf("reading table %q from %s: %w", r.table, r.file, err)
	}
	col := ""
	if fault.field >= 0 && fault.field < len(r.cols) {
		col = r.cols[fault.field].name
	}
	e := r.dataError(fault.line, col, "csv", fault.reason)
	return e
}

func (r *csvReader) dataError(line int64, col, rule, reason string) *dataerr.Error {
	return &dataerr.Error{
		Table: r.table, File: r.file, Row: r.row + 1, Line: line,
		Column: col, Rule: rule, Reason: reason,
	}
}

// Close closes the file the reader opened.
func (r *csvReader) Close() error {
	if r.err == nil {
		r.err = os.ErrClosed
	}
	if r.closer == nil {
		return nil
	}
	c := r.closer
	r.closer = nil
	return c.Close()
}

// colKind is how a column's text is read.
type colKind uint8

const (
	kindString colKind = iota
	kindInt32
	kindInt64
	kindFloat64
	kindBool
	kindDate32
	kindTimestamp
)

// csvColumn accumulates one column of a batch straight into the buffers of
// an Arrow array. An empty field is null, whatever the column's type.
type csvColumn struct {
	name     string
	kind     colKind
	typ      arrow.DataType
	typeName string // how a type error names the type
	unit     arrow.TimeUnit

	valid   []byte
	nulls   int
	offsets []int32 // n+1 offsets into data
	data    []byte  // storage for string bytes; dlen of it is used
	dlen    int
	i32     []int32
	i64     []int64
	f64     []float64
	bits    []byte
	hint    int // data bytes of the previous batch
}

// newCSVColumn returns the column for a declared type, or an error naming
// the column when the type is not one a CSV source can parse.
func newCSVColumn(name string, dt arrow.DataType) (*csvColumn, error) {
	c := &csvColumn{name: name, typ: dt, typeName: dt.Name()}
	switch t := dt.(type) {
	case *arrow.StringType:
		c.kind = kindString
	case *arrow.Int32Type:
		c.kind = kindInt32
	case *arrow.Int64Type:
		c.kind = kindInt64
	case *arrow.Float64Type:
		c.kind = kindFloat64
	case *arrow.BooleanType:
		c.kind, c.typeName = kindBool, "bool"
	case *arrow.Date32Type:
		c.kind, c.typeName = kindDate32, "date"
	case *arrow.TimestampType:
		c.kind, c.typeName, c.unit = kindTimestamp, "timestamp", t.Unit
	default:
		return nil, fmt.Errorf("column %q: a CSV source cannot read type %s", name, dt)
	}
	return c, nil
}

// reset starts a batch of up to n rows with fresh buffers: the arrays of the
// previous batch belong to the caller.
func (c *csvColumn) reset(n int) {
	c.nulls = 0
	c.valid = make([]byte, (n+7)/8)
	switch c.kind {
	case kindString:
		c.offsets = make([]int32, n+1)
		size := 16 * n // a guess for the first batch
		if c.hint > 0 {
			size = c.hint + c.hint/8
		}
		c.data = make([]byte, size+16)
		c.dlen = 0
	case kindInt32, kindDate32:
		c.i32 = make([]int32, n)
	case kindInt64, kindTimestamp:
		c.i64 = make([]int64, n)
	case kindFloat64:
		c.f64 = make([]float64, n)
	case kindBool:
		c.bits = make([]byte, (n+7)/8)
	}
}

// append adds field f as row i and reports false when f does not parse as
// the column's type.
func (c *csvColumn) append(i int, f []byte) bool {
	if c.kind == kindString {
		c.appendString(i, f)
		return true
	}
	if len(f) == 0 {
		c.nulls++
		return true
	}

	switch c.kind {
	case kindInt32:
		v, ok := parseInt(f, 32)
		if !ok {
			return false
		}
		c.i32[i] = int32(v)
	case kindInt64:
		v, ok := parseInt(f, 64)
		if !ok {
			return false
		}
		c.i64[i] = v
	case kindFloat64:
		v, ok := parseFloat(f)
		if !ok {
			return false
		}
		c.f64[i] = v
	case kindBool:
		v, ok := parseBool(f)
		if !ok {
			return false
		}
		if v {
			c.bits[i>>3] |= 1 << (i & 7)
		}
	case kindDate32:
		v, ok := parseDate(f)
		if !ok || v != int64(int32(v)) {
			return false
		}
		c.i32[i] = int32(v)
	case kindTimestamp:
		sec, nsec, ok := parseTimestamp(f)
		if !ok {
			return false
		}
		if c.i64[i], ok = timestampValue(sec, nsec, c.unit); !ok {
			return false
		}
	}
	c.valid[i>>3] |= 1 << (i & 7)
	return true
}

// appendString adds f as row i of a string column. It is the hot path of
// the reader: it writes no pointer unless the data buffer must grow, so it
// never runs a write barrier, and it copies a short field as two 8-byte
// words instead of calling memmove. Those words may carry bytes past the
// field; they land past the column's used length and are overwritten by the
// next field or never read.
func (c *csvColumn) appendString(i int, f []byte) {
	n := len(f)
	if n == 0 {
		c.nulls++
		c.offsets[i+1] = int32(c.dlen)
		return
	}
	switch {
	case n <= 16 && cap(f) >= 16 && c.dlen+16 <= len(c.data):
		src, dst := f[:16], c.data[c.dlen:c.dlen+16]
		binary.LittleEndian.PutUint64(dst, binary.LittleEndian.Uint64(src))
		binary.LittleEndian.PutUint64(dst[8:], binary.LittleEndian.Uint64(src[8:]))
	case c.dlen+n <= len(c.data):
		copy(c.data[c.dlen:], f)
	default:
		c.data = append(c.data[:c.dlen], f...)
		c.data = c.data[:cap(c.data)]
	}
	c.dlen += n
	c.valid[i>>3] |= 1 << (i & 7)
	c.offsets[i+1] = int32(c.dlen)
}

// build returns the column's first n rows as an array.
func (c *csvColumn) build(n int) arrow.Array {
	var validity *memory.Buffer
	if c.nulls > 0 {
		validity = memory.NewBufferBytes(c.valid)
	}
	var values []*memory.Buffer
	switch c.kind {
	case kindString:
		c.hint = c.dlen
		values = []*memory.Buffer{
			memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.offsets[:n+1])),
			memory.NewBufferBytes(c.data[:c.dlen]),
		}
	case kindInt32, kindDate32:
		values = []*memory.Buffer{memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.i32[:n]))}
	case kindInt64, kindTimestamp:
		values = []*memory.Buffer{memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(c.i64[:n]))}
	case kindFloat64:
		values = []*memory.Buffer{
			memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(c.f64[:n])),
		}
	case kindBool:
		values = []*memory.Buffer{memory.NewBufferBytes(c.bits)}
	}

	d := array.NewData(c.typ, n, append([]*memory.Buffer{validity}, values...), nil, c.nulls, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

package sources

import (
	"context"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/deid/deid/internal/dataerr"
)

// pqReader reads the row groups of one shard of a table, file by file.
type pqReader struct {
	table  *pqTable
	schema *arrow.Schema
	batch  int64
	slices []pqSlice
	next   int     // index in slices of the next file to open
	cur    *pqOpen // the file being read, or nil
	err    error   // the first error, returned again by every later Next
}

// pqSlice is the row groups a reader reads from one part.
type pqSlice struct {
	part      int
	rowGroups []int
	rows      int64
}

// pqOpen is an open part and a reader per column over its row groups.
type pqOpen struct {
	slice pqSlice
	f     *os.File
	cols  []*pqarrow.ColumnReader
	rows  int64 // rows read so far
}

// newPQReader plans which row groups of which parts shard reads: row group
// k of the table, counted across its parts in order, belongs to shard
// k mod Count.
func newPQReader(t *pqTable, shard Shard, batch int) *pqReader {
	r := &pqReader{table: t, schema: t.Schema, batch: int64(batch)}
	k := 0
	for p, part := range t.parts {
		s := pqSlice{part: p}
		for g, rows := range part.rowGroups {
			if (shard.All() || k%shard.Count == shard.Index) && rows > 0 {
				s.rowGroups = append(s.rowGroups, g)
				s.rows += rows
			}
			k++
		}
		if len(s.rowGroups) > 0 {
			r.slices = append(r.slices, s)
		}
	}
	return r
}

// Schema is the table's schema.
func (r *pqReader) Schema() *arrow.Schema { return r.schema }

// Next returns the next batch of at most the batch size; a batch does not
// span two files.
func (r *pqReader) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if r.err != nil {
		return nil, r.err
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if r.cur == nil {
			if r.next >= len(r.slices) {
				return nil, io.EOF
			}
			cur, err := r.open(ctx, r.slices[r.next])
			if err != nil {
				r.err = err
				return nil, err
			}
			r.cur = cur
			r.next++
		}

		rec, err := r.read()
		if err != nil {
			r.closeCur()
			r.err = err
			return nil, err
		}
		if rec != nil {
			return rec, nil
		}
		r.closeCur()
	}
}

// Close releases the open file, if any.
func (r *pqReader) Close() error {
	r.closeCur()
	r.next = len(r.slices)
	return nil
}

func (r *pqReader) closeCur() {
	if r.cur == nil {
		return
	}
	for _, c := range r.cur.cols {
		if c != nil {
			c.Release()
		}
	}
	r.cur.f.Close()
	r.cur = nil
}

// open opens a part again, checks that its footer is the one Tables read,
// and starts a reader per column over the slice's row groups.
func (r *pqReader) open(ctx context.Context, s pqSlice) (o *pqOpen, err error) {
	part := r.table.parts[s.part]
	f, rdr, err := openPQFile(r.table.Name, part.path)
	if err != nil {
		return nil, err
	}
	o = &pqOpen{slice: s, f: f}
	col := ""
	defer func() {
		if p := recover(); p != nil {
			err = r.fault(col, pqReasonData)
		}
		if err != nil {
			r.cur = o
			r.closeCur()
			o = nil
		}
	}()

	if err := r.sameFooter(part, rdr); err != nil {
		return nil, err
	}
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: r.batch},
		memory.DefaultAllocator)
	if err != nil {
		return nil, r.fault("", pqReasonFooter)
	}
	o.cols = make([]*pqarrow.ColumnReader, len(part.read))
	for i := range o.cols {
		col = r.schema.Field(i).Name
		o.cols[i], err = fr.GetFieldReader(ctx, i, map[int]bool{i: true}, s.rowGroups)
		if err != nil {
			return nil, pqIOError(r.table.Name, part.path, col, err, pqReasonData)
		}
	}
	return o, nil
}

// sameFooter checks that a part still has the row groups and types Tables
// found in it.
func (r *pqReader) sameFooter(part pqPart, rdr *file.Reader) error {
	rows := pqRowGroups(rdr)
	changed := len(rows) != len(part.rowGroups)
	for i := 0; !changed && i < len(rows); i++ {
		changed = rows[i] != part.rowGroups[i]
	}
	if !changed {
		_, read, err := pqSchema(r.table.Name, part.path, rdr)
		if err != nil {
			return err
		}
		changed = len(read) != len(part.read)
		for i := 0; !changed && i < len(read); i++ {
			changed = !arrow.TypeEqual(read[i], part.read[i])
		}
	}
	if changed {
		return pqFault(r.table.Name, part.path, pqReasonChanged)
	}
	return nil
}

// fault locates an error in the open part.
func (r *pqReader) fault(col, reason string) *dataerr.Error {
	path := r.table.Location
	if r.cur != nil {
		path = r.table.parts[r.cur.slice.part].path
	} else if r.next < len(r.slices) {
		path = r.table.parts[r.slices[r.next].part].path
	}
	return &dataerr.Error{Table: r.table.Name, File: path, Column: col, Rule: pqRule, Reason: reason}
}

// read returns the next batch of the open part, or nil after its last row.
// Every column must yield the same number of rows, and the part as many
// rows as its footer promises.
func (r *pqReader) read() (rec arrow.RecordBatch, err error) {
	o := r.cur
	path := r.table.parts[o.slice.part].path
	cols := make([]arrow.Array, len(o.cols))
	col := ""
	defer func() {
		if p := recover(); p != nil {
			err = &dataerr.Error{Table: r.table.Name, File: path, Column: col, Rule: pqRule,
				Reason: pqReasonData}
		}
		if err != nil {
			for _, a := range cols {
				if a != nil {
					a.Release()
				}
			}
			rec = nil
		}
	}()

	want := min(r.batch, o.slice.rows-o.rows)
	for i, c := range o.cols {
		col = r.schema.Field(i).Name
		if want == 0 {
			break
		}
		cols[i], err = r.readColumn(c, want, r.schema.Field(i).Type)
		if err != nil {
			return nil, pqIOError(r.table.Name, path, col, err, pqReasonData)
		}
		if int64(cols[i].Len()) != want {
			return nil, &dataerr.Error{Table: r.table.Name, File: path, Column: col, Rule: pqRule,
				Reason: pqReasonRows}
		}
	}
	if want == 0 {
		return nil, nil
	}
	o.rows += want
	rec = array.NewRecordBatch(r.schema, cols, want)
	for _, a := range cols {
		a.Release()
	}
	cols = nil
	return rec, nil
}

// readColumn reads n values of one column as one array of type t.
func (r *pqReader) readColumn(c *pqarrow.ColumnReader, n int64, t arrow.DataType) (
	arrow.Array, error,
) {
	ch, err := c.NextBatch(n)
	if err != nil {
		return nil, err
	}
	defer ch.Release()

	chunks := ch.Chunks()
	if len(chunks) == 0 {
		return array.MakeArrayOfNull(memory.DefaultAllocator, t, 0), nil
	}
	if len(chunks) == 1 {
		return pqPlainArray(chunks[0], t)
	}
	plain := make([]arrow.Array, 0, len(chunks))
	defer func() {
		for _, a := range plain {
			a.Release()
		}
	}()
	for _, c := range chunks {
		a, err := pqPlainArray(c, t)
		if err != nil {
			return nil, err
		}
		plain = append(plain, a)
	}
	return array.Concatenate(plain, memory.DefaultAllocator)
}

// pqPlainArray converts an array read from a file to the table's plain
// type: it unpacks extension and dictionary arrays and narrows large
// strings and binaries.
func pqPlainArray(a arrow.Array, t arrow.DataType) (arrow.Array, error) {
	if ext, ok := a.(array.ExtensionArray); ok {
		return pqPlainArray(ext.Storage(), t)
	}
	if arrow.TypeEqual(a.DataType(), t) {
		a.Retain()
		return a, nil
	}
	if d, ok := a.(*array.Dictionary); ok {
		ctx := compute.WithAllocator(context.Background(), memory.DefaultAllocator)
		plain, err := compute.TakeArray(ctx, d.Dictionary(), d.Indices())
		if err != nil {
			return nil, err
		}
		defer plain.Release()
		return pqPlainArray(plain, t)
	}
	ctx := compute.WithAllocator(context.Background(), memory.DefaultAllocator)
	return compute.CastArray(ctx, a, compute.UnsafeCastOptions(t))
}

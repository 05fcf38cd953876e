package sinks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/deid/deid/internal/dataerr"
	"github.com/deid/deid/sources"
)

// The fixed reasons of the sink's errors about data. None quotes the
// library's own error text, which may hold statistics or values.
const (
	pqReasonEncode   = "cannot encode the batch as Parquet"
	pqReasonFinish   = "cannot finish the Parquet file"
	pqReasonNullable = "null in a column the table declares not nullable"
)

// parquetWriter streams one table's batches into its temporary file,
// holding one row group in memory at a time.
type parquetWriter struct {
	sink    *ParquetSink
	out     *parquetOutput
	table   string
	schema  *arrow.Schema
	f       *os.File
	bw      *bufio.Writer
	fw      *pqarrow.FileWriter
	rgBytes int64
	newRG   bool  // the current row group is full: start one before writing
	err     error // the first error; every later call returns it
	done    bool
}

// newParquetWriter starts the Parquet file of table t in out's temporary
// file.
func newParquetWriter(s *ParquetSink, out *parquetOutput, t sources.Table) (
	w *parquetWriter, err error,
) {
	if t.Schema == nil {
		return nil, fmt.Errorf("parquet sink: table %q has no schema", t.Name)
	}
	w = &parquetWriter{
		sink: s, out: out, table: t.Name, schema: t.Schema, f: out.f,
		bw: bufio.NewWriterSize(out.f, 1<<20), rgBytes: s.opts.rowGroupBytes(),
	}
	defer func() {
		if p := recover(); p != nil {
			err = w.fault("", pqReasonEncode)
		}
	}()

	props := s.opts.props()
	aprops := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())
	if w.fw, err = pqarrow.NewFileWriter(t.Schema, w.bw, props, aprops); err != nil {
		return nil, w.fault(w.badColumn(props, aprops), "column type cannot be written to Parquet")
	}
	return w, nil
}

// badColumn names the first column whose type Parquet cannot hold.
func (w *parquetWriter) badColumn(
	props *parquet.WriterProperties, aprops pqarrow.ArrowWriterProperties,
) string {
	for _, f := range w.schema.Fields() {
		one := arrow.NewSchema([]arrow.Field{f}, nil)
		if _, err := pqarrow.ToParquet(one, props, aprops); err != nil {
			return f.Name
		}
	}
	return ""
}

// fault locates an error about the data of this table.
func (w *parquetWriter) fault(col, reason string) *dataerr.Error {
	return &dataerr.Error{
		Table: w.table, File: w.out.final, Column: col, Rule: "parquet", Reason: reason,
	}
}

// wrap keeps an operating-system error, which names only a path and an
// errno, and turns any other error into a fixed reason.
func (w *parquetWriter) wrap(err error, reason string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("writing table %q: %w", w.table, pe)
	}
	return w.fault("", reason)
}

// fail records the first error and closes the temporary file, which Abort
// then removes.
func (w *parquetWriter) fail(err error) error {
	if w.err == nil {
		w.err = err
		w.sink.finish(w.out, false)
	}
	return w.err
}

// Write appends rec to the current row group, starting a new one when the
// current one holds RowGroupRows rows or RowGroupBytes bytes.
func (w *parquetWriter) Write(ctx context.Context, rec arrow.RecordBatch) (err error) {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return fmt.Errorf("parquet sink: table %q: write after close", w.table)
	}
	if err := ctx.Err(); err != nil {
		return w.fail(err)
	}
	if rec.NumRows() == 0 {
		return nil
	}
	rec, err = w.conform(rec)
	if err != nil {
		return w.fail(err)
	}
	defer rec.Release()

	defer func() {
		if p := recover(); p != nil {
			err = w.fail(w.fault("", pqReasonEncode))
		}
	}()
	if w.newRG {
		if err := w.fw.NewBufferedRowGroupChecked(); err != nil {
			return w.fail(w.wrap(err, pqReasonEncode))
		}
		w.newRG = false
	}
	if err := w.fw.WriteBuffered(rec); err != nil {
		return w.fail(w.wrap(err, pqReasonEncode))
	}
	// Pages count once compressed: the writer keeps them in memory until
	// the row group closes, the dictionary-encoded ones as well.
	held := max(w.fw.RowGroupTotalBytesWritten(), w.fw.RowGroupTotalCompressedBytes())
	w.newRG = held >= w.rgBytes
	return nil
}

// conform checks rec against the table's schema and returns it, retained,
// under that schema (a batch may differ in metadata only).
func (w *parquetWriter) conform(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	if int(rec.NumCols()) != w.schema.NumFields() {
		return nil, w.fault("", fmt.Sprintf("batch has %d columns, the table %d",
			rec.NumCols(), w.schema.NumFields()))
	}
	for i, f := range w.schema.Fields() {
		col := rec.Column(i)
		if !arrow.TypeEqual(col.DataType(), f.Type) {
			return nil, w.fault(f.Name, fmt.Sprintf("batch column is %s, the table's %s",
				col.DataType(), f.Type))
		}
		if !f.Nullable && col.NullN() > 0 {
			return nil, w.fault(f.Name, pqReasonNullable)
		}
	}
	if rec.Schema().Equal(w.schema) {
		rec.Retain()
		return rec, nil
	}
	return array.NewRecordBatch(w.schema, rec.Columns(), rec.NumRows()), nil
}

// Close writes the last row group and the footer, and syncs and closes
// the temporary file. Sink.Commit publishes it.
func (w *parquetWriter) Close(ctx context.Context) (err error) {
	if w.err != nil || w.done {
		return w.err
	}
	w.done = true
	defer func() {
		if p := recover(); p != nil {
			err = w.fail(w.fault("", pqReasonFinish))
		}
	}()
	if err := w.fw.Close(); err != nil {
		return w.fail(w.wrap(err, pqReasonFinish))
	}
	if err := w.bw.Flush(); err != nil {
		return w.fail(fmt.Errorf("writing table %q: %w", w.table, err))
	}
	if err := w.f.Sync(); err != nil {
		return w.fail(fmt.Errorf("writing table %q: %w", w.table, err))
	}
	if err := w.sink.finish(w.out, true); err != nil {
		w.err = fmt.Errorf("writing table %q: %w", w.table, err)
		return w.err
	}
	return nil
}

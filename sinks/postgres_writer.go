package sinks

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5"

	"github.com/deid/deid/internal/dataerr"
	"github.com/deid/deid/internal/pgconn"
)

// pgFlushBytes is how much encoded data a writer gathers before handing it
// to COPY.
const pgFlushBytes = 1 << 20

// pgCopyHeader starts a binary COPY stream: signature, flags, extension.
var pgCopyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// errCopyAborted is what COPY is told when the writer gives up; the server
// sees this fixed text only.
var errCopyAborted = errors.New("load aborted by deid")

// pgWriter streams one table into a binary COPY on a connection of its own.
// Write encodes a batch and pushes it through a pipe that COPY reads from
// in another goroutine, so memory holds about one batch.
type pgWriter struct {
	table   *pgSinkTable
	conn    *pgx.Conn
	pw      *io.PipeWriter
	done    chan struct{} // closed when COPY has returned
	copyErr error         // COPY's result, set before done is closed
	buf     []byte
	rows    int64
	err     error // sticky
	once    sync.Once
	closed  func(*pgSinkTable) // called once the table is loaded
}

func pgStartWriter(ctx context.Context, cfg *pgconn.Config, t *pgSinkTable, rel string,
	closed func(*pgSinkTable)) (*pgWriter, error) {
	conn, err := cfg.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading table %q: %w", t.info.Name, err)
	}
	cols := make([]string, len(t.cols))
	for i, c := range t.cols {
		cols[i] = c.name
	}
	sql := "COPY " + rel
	if len(cols) > 0 {
		sql += " (" + pgconn.QuoteList(cols) + ")"
	}
	sql += " FROM STDIN (FORMAT binary)"

	pr, pw := io.Pipe()
	w := &pgWriter{table: t, conn: conn, pw: pw, done: make(chan struct{}), closed: closed,
		buf: append(make([]byte, 0, pgFlushBytes+64<<10), pgCopyHeader...)}
	go func() {
		_, err := conn.PgConn().CopyFrom(ctx, pr, sql)
		w.copyErr = err
		if err == nil {
			err = errors.New("COPY ended early")
		}
		pr.CloseWithError(err)
		close(w.done)
	}()
	return w, nil
}

// Write encodes rec in COPY's binary format and sends it.
func (w *pgWriter) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if w.err != nil {
		return w.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if int(rec.NumCols()) != len(w.table.cols) {
		return w.fail(fmt.Errorf("loading table %q: batch has %d columns, the table %d",
			w.table.info.Name, rec.NumCols(), len(w.table.cols)))
	}
	encs := make([]pgEncode, len(w.table.cols))
	for i, c := range w.table.cols {
		enc, err := pgEncoder(c.typ, rec.Column(i))
		if err != nil {
			return w.fail(fmt.Errorf("loading table %q column %q: %w", w.table.info.Name, c.name, err))
		}
		encs[i] = enc
	}

	ncols := uint16(len(encs))
	cols := rec.Columns()
	allNull := make([]bool, len(cols))
	for c, col := range cols {
		allNull[c] = col.DataType().ID() == arrow.NULL
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		w.buf = binary.BigEndian.AppendUint16(w.buf, ncols)
		for c, enc := range encs {
			if allNull[c] || cols[c].IsNull(i) {
				w.buf = binary.BigEndian.AppendUint32(w.buf, 0xffffffff)
				continue
			}
			at := len(w.buf)
			w.buf = append(w.buf, 0, 0, 0, 0)
			var reason string
			if w.buf, reason = enc(w.buf, i); reason != "" {
				return w.fail(&dataerr.Error{Table: w.table.info.Name, Row: w.rows + int64(i) + 1,
					Column: w.table.cols[c].name, Rule: "postgres", Reason: reason})
			}
			binary.BigEndian.PutUint32(w.buf[at:], uint32(len(w.buf)-at-4))
		}
		if len(w.buf) >= pgFlushBytes {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	w.rows += rec.NumRows()
	return nil
}

// flush hands the encoded rows to COPY.
func (w *pgWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.pw.Write(w.buf); err != nil {
		<-w.done
		return w.fail(w.copyError())
	}
	w.buf = w.buf[:0]
	return nil
}

// copyError describes COPY's failure, located at the row the server names
// when it names one, and without the value it quotes.
func (w *pgWriter) copyError() error {
	err := w.copyErr
	if err == nil {
		err = errors.New("COPY ended early")
	}
	names := make([]string, len(w.table.cols))
	for i, c := range w.table.cols {
		names[i] = c.name
	}
	reduced := pgconn.Explain(err, w.conn.PgConn())
	var se *pgconn.ServerError
	if w.conn.PgConn().IsClosed() || (errors.As(reduced, &se) && se.Lost()) {
		// The row the server was at when the connection ended is not at fault.
		return fmt.Errorf("loading table %q: %w", w.table.info.Name, reduced)
	}
	line, col := pgconn.CopyLine(err, w.table.rel, names)
	where := ""
	if line > 0 {
		where = fmt.Sprintf(" row %d", line)
	}
	if col != "" {
		where += fmt.Sprintf(" column %q", col)
	}
	return fmt.Errorf("loading table %q%s: %w", w.table.info.Name, where, reduced)
}

// Close ends the COPY and waits for the server to accept it.
func (w *pgWriter) Close(ctx context.Context) error {
	if w.err != nil {
		return w.err
	}
	w.buf = append(w.buf, 0xff, 0xff) // end of data
	if err := w.flush(); err != nil {
		return err
	}
	w.pw.Close()
	select {
	case <-w.done:
	case <-ctx.Done():
		w.abort()
		return ctx.Err()
	}
	if w.copyErr != nil {
		return w.fail(w.copyError())
	}
	closePg(w.conn)
	w.err = errors.New("writer closed")
	w.table.closed = true
	w.closed(w.table)
	return nil
}

// fail records err, stops the COPY and returns err.
func (w *pgWriter) fail(err error) error {
	w.err = err
	w.abort()
	return err
}

// abort makes COPY fail and closes the connection; the staging table keeps
// whatever was loaded until the staging schema is dropped.
func (w *pgWriter) abort() {
	w.once.Do(func() {
		w.pw.CloseWithError(errCopyAborted)
		<-w.done
		closePg(w.conn)
	})
}

// Package sinks writes de-identified tables. Each kind of sink (CSV, Parquet,
// PostgreSQL) lives in its own file. Output is published all at once: a sink
// writes every table somewhere private (temporary files, a staging schema)
// and makes them visible only in Commit, so a failed or interrupted run
// leaves the previous output as it was and nothing partial behind.
package sinks

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/sources"
)

// Sink receives de-identified tables.
//
// Create is called once per table, possibly concurrently for different
// tables. After every Writer has been closed without error the engine calls
// Commit once; on any failure it calls Abort instead. Abort is safe to call
// after Commit (it then does nothing) and more than once.
type Sink interface {
	// Create starts writing table t; t.Schema is the output schema and
	// t.Constraints the keys to recreate where the sink supports them.
	Create(ctx context.Context, t sources.Table) (Writer, error)

	// Commit publishes every table written, replacing earlier output of
	// the same names.
	Commit(ctx context.Context) error

	// Abort removes everything written and not committed.
	Abort() error
}

// Writer writes the batches of one table, in the order it receives them.
// A Writer is used by one goroutine.
type Writer interface {
	// Write appends a batch. The caller keeps ownership of rec; a writer
	// that needs it after returning must Retain it.
	Write(ctx context.Context, rec arrow.RecordBatch) error

	// Close flushes the table. It does not publish it: Sink.Commit does.
	Close(ctx context.Context) error
}

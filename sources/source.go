// Package sources reads the tables deid de-identifies. Each kind of source
// (CSV, Parquet, PostgreSQL) lives in its own file and turns its input into
// Arrow record batches with a schema; the engine in package deid plans a run
// from the tables a Source lists and then pulls batches from a Reader.
//
// A source never logs or returns a row value: its errors are
// *dataerr.Error values that locate a fault by file, row and column.
package sources

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// Source lists the tables of an input and opens them for reading.
//
// Tables is called first, once, before any row is read. Open may then be
// called concurrently for different tables, and for the same table with
// different shards. Close is called once, after every Reader is closed.
type Source interface {
	// Tables describes every table of the input, sorted by name. It reads
	// headers and metadata only (a CSV header row, a Parquet footer, the
	// PostgreSQL catalog), never rows.
	Tables(ctx context.Context) ([]Table, error)

	// Open starts reading one table. The Reader's schema is the table's
	// schema with opts.Types applied.
	Open(ctx context.Context, table string, opts ReadOptions) (Reader, error)

	// Close releases the source. It is safe to call more than once.
	Close() error
}

// Reader yields one table's rows as Arrow record batches, in input order.
// A Reader is used by one goroutine at a time.
type Reader interface {
	// Schema is the schema of every batch Next returns.
	Schema() *arrow.Schema

	// Next returns the next batch, or io.EOF after the last one. The caller
	// owns the batch and must Release it. A batch is never empty.
	Next(ctx context.Context) (arrow.RecordBatch, error)

	// Close releases the reader; it is safe to call more than once and
	// before Next has returned io.EOF.
	Close() error
}

// Table describes one table of a source.
type Table struct {
	// Name is the table's name as a policy refers to it: the file name
	// without extension, or the PostgreSQL table name (schema-qualified
	// when it is not in the search path).
	Name string
	// Schema lists the columns in source order with their Arrow types.
	// Field metadata may carry source details (see MetaSourceType).
	Schema *arrow.Schema
	// Location says where the table comes from: a file or folder path, or
	// a PostgreSQL relation. It never holds a password.
	Location string
	// Constraints holds what the source knows of keys and indexes; only
	// PostgreSQL sources fill it in.
	Constraints Constraints
}

// MetaSourceType is the field-metadata key under which a source records the
// column's type in its own terms, e.g. "varchar(40)" or "numeric(10,2)", so a
// sink of the same kind can recreate it.
const MetaSourceType = "deid.source_type"

// Constraints are a table's keys and indexes as the source declared them.
type Constraints struct {
	PrimaryKey  []string
	Unique      [][]string
	ForeignKeys []ForeignKey
	Indexes     []Index
}

// ForeignKey says that Columns reference RefColumns of RefTable.
type ForeignKey struct {
	Name       string
	Columns    []string
	RefTable   string
	RefColumns []string
}

// Index is a secondary index. Definition is the source's own statement for
// it (for PostgreSQL, pg_get_indexdef), which a sink of the same kind may
// replay.
type Index struct {
	Name       string
	Columns    []string
	Unique     bool
	Definition string
}

// ReadOptions tunes how a table is read.
type ReadOptions struct {
	// BatchRows is the number of rows per batch; 0 means DefaultBatchRows.
	BatchRows int
	// Types declares column types for sources whose input is untyped text
	// (CSV). A value that does not parse as its declared type is an error
	// naming the row and column. Typed sources ignore it.
	Types map[string]arrow.DataType
	// Shard selects a disjoint part of the table; the zero value is all.
	Shard Shard
}

// DefaultBatchRows is the batch size used when ReadOptions.BatchRows is 0.
const DefaultBatchRows = 8192

// Shard names part Index (0-based) of Count disjoint parts. The zero value
// means the whole input.
type Shard struct {
	Index int
	Count int
}

// All reports whether s selects the whole input.
func (s Shard) All() bool { return s.Count <= 1 }

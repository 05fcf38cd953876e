package sinks

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/deid/deid/sources"
)

// Format is an output file format.
type Format string

// The file formats.
const (
	FormatCSV     Format = "csv"
	FormatParquet Format = "parquet"
)

// OpenOptions configures Open.
type OpenOptions struct {
	// Format applies to folder targets; "" picks CSV.
	Format Format
	// Comma is the CSV delimiter; 0 means ','.
	Comma rune
	// Stdout receives the table when the spec is "-".
	Stdout io.Writer
	// Parquet tunes Parquet files.
	Parquet ParquetSinkOptions
	// Logger receives warnings such as a database connection without TLS.
	Logger *slog.Logger
}

// Open opens the sink a command line names: "-" is CSV on standard output,
// a postgres:// URL is a database, a path ending in .csv or .parquet is one
// file, and anything else is a folder of one file per table.
func Open(ctx context.Context, spec string, o OpenOptions) (Sink, error) {
	csvOpts := CSVSinkOptions{Comma: o.Comma}
	switch {
	case spec == "-":
		return NewCSVStreamSink(o.Stdout, csvOpts)
	case sources.IsPostgres(spec):
		return openPostgres(ctx, spec, o)
	}
	switch strings.ToLower(filepath.Ext(spec)) {
	case ".csv", ".tsv", ".txt":
		return NewCSVFileSink(spec, csvOpts)
	case ".parquet", ".parq", ".pq":
		return openParquetFile(spec, o)
	}
	switch o.Format {
	case "", FormatCSV:
		return NewCSVDirSink(spec, csvOpts)
	case FormatParquet:
		return openParquetDir(spec, o)
	}
	return nil, fmt.Errorf("unknown output format %q (csv or parquet)", o.Format)
}

func openParquetDir(dir string, o OpenOptions) (Sink, error) {
	return NewParquetDirSink(dir, o.Parquet)
}

func openParquetFile(path string, o OpenOptions) (Sink, error) {
	return NewParquetFileSink(path, o.Parquet)
}

func openPostgres(ctx context.Context, spec string, o OpenOptions) (Sink, error) {
	return NewPostgresSink(ctx, spec, PostgresSinkOptions{Logger: o.Logger})
}

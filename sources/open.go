package sources

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Spec options for Open.
type OpenOptions struct {
	// Comma is the CSV delimiter; 0 means ','.
	Comma rune
	// Table names the table of a single file or of standard input.
	Table string
	// Tables lists the tables a database source reads (from the policy).
	Tables []string
	// Stdin is read when the spec is "-".
	Stdin io.Reader
	// Logger receives warnings such as a database connection without TLS.
	Logger *slog.Logger
}

// IsPostgres reports whether spec is a PostgreSQL connection URL.
func IsPostgres(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}

// Open opens the source a command line names: "-" is CSV on standard input,
// a postgres:// URL is a database, a .csv or .parquet file is one table,
// and a folder holds one table per file or part folder, CSV and Parquet
// alike.
func Open(ctx context.Context, spec string, o OpenOptions) (Source, error) {
	csvOpts := CSVOptions{Comma: o.Comma, Table: o.Table}
	switch {
	case spec == "-":
		return NewCSVReader(o.Stdin, csvOpts)
	case IsPostgres(spec):
		return openPostgres(ctx, spec, o)
	}

	st, err := os.Stat(spec)
	if err != nil {
		return nil, fmt.Errorf("opening source: %w", err)
	}
	if st.IsDir() {
		switch pq, csv := hasParquet(spec), hasCSV(spec); {
		case pq && csv:
			p, err := openParquetDir(spec, o)
			if err != nil {
				return nil, err
			}
			c, err := NewCSVDir(spec, csvOpts)
			if err != nil {
				p.Close()
				return nil, err
			}
			return NewMulti(c, p), nil
		case pq:
			return openParquetDir(spec, o)
		}
		return NewCSVDir(spec, csvOpts)
	}
	switch strings.ToLower(filepath.Ext(spec)) {
	case ".parquet", ".parq", ".pq":
		return openParquetFile(spec, o)
	default:
		return NewCSVFile(spec, csvOpts)
	}
}

// hasCSV reports whether dir holds a .csv file (any case) or a folder of
// part-*.csv files.
func hasCSV(dir string) bool {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".csv") {
			return true
		}
	}
	m, _ := filepath.Glob(filepath.Join(dir, "*", "part-*.csv"))
	return len(m) > 0
}

// hasParquet reports whether dir holds Parquet files, directly or in one
// level of table folders.
func hasParquet(dir string) bool {
	for _, pattern := range []string{"*.parquet", "*/*.parquet"} {
		if m, _ := filepath.Glob(filepath.Join(dir, pattern)); len(m) > 0 {
			return true
		}
	}
	return false
}

func openParquetDir(dir string, o OpenOptions) (Source, error) {
	return NewParquetDir(dir, ParquetOptions{})
}

func openParquetFile(path string, o OpenOptions) (Source, error) {
	return NewParquetFile(path, ParquetOptions{Table: o.Table})
}

func openPostgres(ctx context.Context, spec string, o OpenOptions) (Source, error) {
	return NewPostgres(ctx, spec, PostgresOptions{Tables: o.Tables, Logger: o.Logger})
}

// fileTable checks that path is a regular file and names its table: table
// when set, else the file's base name without its extension.
func fileTable(kind, path, table string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s source: %w", kind, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s source: %s is not a regular file", kind, path)
	}
	if table == "" {
		base := filepath.Base(path)
		table = strings.TrimSuffix(base, filepath.Ext(base))
	}
	if table == "" {
		return "", fmt.Errorf("%s source: cannot name a table after %s; set a table name", kind, path)
	}
	return table, nil
}

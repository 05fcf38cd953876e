package sinks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/deid/deid/sources"
)

// PartStem names part s of a sharded output, with the 0-based shard index
// and the shard count in five digits so that names sort in shard order:
// shard 3 of 16 is "part-00003-of-00016".
func PartStem(s sources.Shard) string {
	return fmt.Sprintf("part-%05d-of-%05d", s.Index, s.Count)
}

// PartSink writes one shard of a sharded run: each table to its own folder
// of the target, as <dir>/<table>/part-<i>-of-<n>.<csv|parquet>, so that the
// n shards of a run, each in its own process or machine, share one output
// folder without touching each other's files. Every shard writes a part for
// every table, empty when the shard holds none of its rows, so a complete
// output has exactly n parts per table. The Parquet source reads such a
// folder back as one table.
//
// Each part is written and published like a single-file CSV or Parquet
// sink's file: to a temporary file beside it, renamed in Commit. A table's
// folder is created when the table is; Abort removes it again when it is
// left empty.
type PartSink struct {
	dir    string
	part   sources.Shard
	format Format
	comma  rune

	mu    sync.Mutex
	sinks []Sink
	dirs  []string // table folders this sink created
}

// NewPartSink returns a sink that writes part part of every table into
// table folders of dir, creating dir when it is missing. o.Format chooses
// CSV (the default) or Parquet; o.Comma is the CSV delimiter.
func NewPartSink(dir string, part sources.Shard, o OpenOptions) (*PartSink, error) {
	if part.Count < 1 || part.Index < 0 || part.Index >= part.Count {
		return nil, fmt.Errorf("part sink: shard %d of %d does not exist", part.Index, part.Count)
	}
	switch o.Format {
	case "", FormatCSV:
		if _, err := csvSinkComma(o.Comma); err != nil {
			return nil, err
		}
		o.Format = FormatCSV
	case FormatParquet:
	default:
		return nil, fmt.Errorf("unknown output format %q (csv or parquet)", o.Format)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("part sink: %w", err)
	}
	return &PartSink{dir: dir, part: part, format: o.Format, comma: o.Comma}, nil
}

// OpenPart opens the target spec for shard part of a sharded run. A whole
// run (part.All()) opens spec as Open does. A shard needs a folder target:
// standard output, a single file and a database are refused.
func OpenPart(ctx context.Context, spec string, o OpenOptions, part sources.Shard) (Sink, error) {
	if part.All() {
		return Open(ctx, spec, o)
	}
	if err := CheckPartTarget(spec); err != nil {
		return nil, err
	}
	return NewPartSink(spec, part, o)
}

// CheckPartTarget reports why target spec cannot take the part files of a
// shard: standard output, a single file or a database.
func CheckPartTarget(spec string) error {
	switch {
	case spec == "-":
		return errors.New("a shard writes part files into a folder, not to standard output")
	case sources.IsPostgres(spec):
		return errors.New("a shard writes part files into a folder; " +
			"PostgreSQL targets are not sharded")
	}
	switch strings.ToLower(filepath.Ext(spec)) {
	case ".csv", ".tsv", ".txt", ".parquet", ".parq", ".pq":
		return fmt.Errorf("a shard writes part files into a folder; %s names a file", spec)
	}
	return nil
}

// Create starts the part file of table t in its table folder.
func (s *PartSink) Create(ctx context.Context, t sources.Table) (Writer, error) {
	if !validTableFile(t.Name) || strings.HasPrefix(t.Name, ".") {
		return nil, fmt.Errorf("part sink: table name %q cannot be a folder name", t.Name)
	}
	folder := filepath.Join(s.dir, t.Name)
	if err := s.mkdir(folder); err != nil {
		return nil, err
	}

	path := filepath.Join(folder, PartStem(s.part)+"."+string(s.format))
	var inner Sink
	var err error
	if s.format == FormatParquet {
		inner, err = NewParquetFileSink(path, ParquetSinkOptions{})
	} else {
		inner, err = NewCSVFileSink(path, CSVSinkOptions{Comma: s.comma})
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.sinks = append(s.sinks, inner)
	s.mu.Unlock()
	return inner.Create(ctx, t)
}

// mkdir creates a table folder, remembering it when it is new.
func (s *PartSink) mkdir(folder string) error {
	_, err := os.Stat(folder)
	if err == nil {
		return nil
	}
	if err := os.Mkdir(folder, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("part sink: %w", err)
	}
	s.mu.Lock()
	s.dirs = append(s.dirs, folder)
	s.mu.Unlock()
	return nil
}

// Commit publishes the part of every table, one after another, and syncs
// the output folder.
func (s *PartSink) Commit(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, inner := range s.sinks {
		if err := inner.Commit(ctx); err != nil {
			return err
		}
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("part sink: %w", err)
	}
	return nil
}

// Abort removes every part not yet published, and the table folders this
// sink created when nothing else is in them.
func (s *PartSink) Abort() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, inner := range s.sinks {
		errs = append(errs, inner.Abort())
	}
	for _, d := range s.dirs {
		os.Remove(d) // fails, as it should, when another shard's part is there
	}
	s.dirs = nil
	return errors.Join(errs...)
}

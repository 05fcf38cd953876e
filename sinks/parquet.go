package sinks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/deid/deid/sources"
)

// ParquetSinkOptions configures a Parquet sink. The zero value gives zstd,
// dictionary encoding and statistics on every column, and row groups of
// DefaultParquetRowGroupRows rows or DefaultParquetRowGroupBytes bytes,
// whichever comes first.
type ParquetSinkOptions struct {
	// Codec compresses the pages: "zstd" (the default), "snappy", "gzip",
	// "brotli", "lz4" (LZ4_RAW) or "none".
	Codec string
	// Level is the codec's compression level; 0 means the codec's default.
	Level int
	// RowGroupRows caps the rows of a row group; 0 means
	// DefaultParquetRowGroupRows.
	RowGroupRows int64
	// RowGroupBytes closes a row group once its encoded, compressed pages
	// reach this size; 0 means DefaultParquetRowGroupBytes. The writer
	// holds a whole row group in memory, so this also bounds its memory.
	RowGroupBytes int64
	// NoDictionary turns dictionary encoding off for every column.
	NoDictionary bool
	// NoStatistics leaves out the per-page and per-chunk min, max and null
	// counts that let readers skip row groups.
	NoStatistics bool
}

// Row-group defaults. Readers (DuckDB, Spark, pyarrow, deid itself) split
// work and skip data by row group, so a row group should be large enough
// that its column chunks are big sequential reads and its statistics are
// worth checking, and small enough that a writer can hold it in memory.
// 1 Mi rows is what Arrow C++ and pyarrow write by default; for a table of
// ordinary width it compresses to tens of MiB. 128 MiB is the HDFS block
// size that Spark and parquet-mr target, and caps wide tables.
const (
	DefaultParquetRowGroupRows  = 1 << 20
	DefaultParquetRowGroupBytes = 128 << 20
)

// parquetCreatedBy is the created_by of every file: a fixed string, so the
// same batches give the same bytes whatever the version or build.
const parquetCreatedBy = "deid"

// parquetCodecs maps the names ParquetSinkOptions.Codec accepts to codecs.
var parquetCodecs = map[string]compress.Compression{
	"":       compress.Codecs.Zstd,
	"zstd":   compress.Codecs.Zstd,
	"snappy": compress.Codecs.Snappy,
	"gzip":   compress.Codecs.Gzip,
	"brotli": compress.Codecs.Brotli,
	"lz4":    compress.Codecs.Lz4Raw,
	"none":   compress.Codecs.Uncompressed,
}

// Validate reports an unknown codec or a negative size.
func (o ParquetSinkOptions) Validate() error {
	if _, ok := parquetCodecs[o.Codec]; !ok {
		return fmt.Errorf("parquet sink: unknown codec %q "+
			"(want zstd, snappy, gzip, brotli, lz4 or none)", o.Codec)
	}
	if o.RowGroupRows < 0 || o.RowGroupBytes < 0 {
		return errors.New("parquet sink: row-group sizes must not be negative")
	}
	return nil
}

// props returns the Parquet writer properties of o.
func (o ParquetSinkOptions) props() *parquet.WriterProperties {
	rows := o.RowGroupRows
	if rows == 0 {
		rows = DefaultParquetRowGroupRows
	}
	p := []parquet.WriterProperty{
		parquet.WithCreatedBy(parquetCreatedBy),
		parquet.WithCompression(parquetCodecs[o.Codec]),
		parquet.WithMaxRowGroupLength(rows),
		parquet.WithDictionaryDefault(!o.NoDictionary),
		parquet.WithStats(!o.NoStatistics),
	}
	if o.Level != 0 {
		p = append(p, parquet.WithCompressionLevel(o.Level))
	}
	return parquet.NewWriterProperties(p...)
}

func (o ParquetSinkOptions) rowGroupBytes() int64 {
	if o.RowGroupBytes == 0 {
		return DefaultParquetRowGroupBytes
	}
	return o.RowGroupBytes
}

// ParquetSink is a Sink that writes each table as one Parquet file: a folder
// of <table>.parquet files, or one file.
//
// Each file is written to a hidden temporary file .deid-<random hex>.tmp
// in the destination folder, synced, and renamed to its name in Commit;
// Abort removes the temporary files, so a failed run publishes nothing.
//
// Column types map to Parquet's own (integers of every width and sign,
// decimal, date, time, timestamp, string, binary), which deid's source
// reads back as they were; the Arrow schema is stored too (key
// ARROW:schema) for readers such as pyarrow that restore a time zone name
// from it. created_by is the fixed string "deid" and nothing in the file
// depends on the clock or on chance, so the same sequence of batches gives
// byte-identical files.
//
// The writer holds the current row group in memory, encoded and
// compressed, until it is full: for the 8-column benchmark table a
// 1Mi-row row group is about 70 MiB of live heap. Smaller RowGroupRows
// lowers that.
type ParquetSink struct {
	dir  string // the destination folder
	file string // the one file's name in dir; "" for a folder sink
	opts ParquetSinkOptions

	mu        sync.Mutex
	outs      []*parquetOutput
	committed bool
	aborted   bool
}

// parquetOutput is one table's file on its way to publication.
type parquetOutput struct {
	table     string
	final     string // the path it is published at
	tmp       string // the temporary file it is written to
	f         *os.File
	closed    bool // the writer flushed, synced and closed f
	failed    bool // writing it went wrong: it must not be published
	published bool
}

// NewParquetDirSink returns a sink that writes table t to dir/t.parquet,
// creating dir if needed.
func NewParquetDirSink(dir string, o ParquetSinkOptions) (*ParquetSink, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, errors.New("parquet sink: no folder given")
	}
	return &ParquetSink{dir: dir, opts: o}, nil
}

// NewParquetFileSink returns a sink that writes exactly one table to the
// file at path, whatever the table's name.
func NewParquetFileSink(path string, o ParquetSinkOptions) (*ParquetSink, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	dir, name := filepath.Split(path)
	if name == "" {
		return nil, fmt.Errorf("parquet sink: %s names a folder, not a file", path)
	}
	if dir == "" {
		dir = "."
	}
	return &ParquetSink{dir: filepath.Clean(dir), file: name, opts: o}, nil
}

// Create starts the temporary file of table t.
func (s *ParquetSink) Create(ctx context.Context, t sources.Table) (Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, err := s.reserve(t.Name)
	if err != nil {
		return nil, err
	}
	w, err := newParquetWriter(s, out, t)
	if err != nil {
		s.finish(out, false)
		return nil, err
	}
	return w, nil
}

// reserve checks the table's name and opens its temporary file.
func (s *ParquetSink) reserve(table string) (*parquetOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.committed || s.aborted:
		return nil, errors.New("parquet sink: already committed or aborted")
	case s.file != "" && len(s.outs) > 0:
		return nil, fmt.Errorf("parquet sink: file %s holds one table; "+
			"cannot add table %q", filepath.Join(s.dir, s.file), table)
	}
	name := s.file
	if name == "" {
		if err := checkParquetTableName(table); err != nil {
			return nil, err
		}
		name = table + ".parquet"
	}
	for _, o := range s.outs {
		if o.table == table {
			return nil, fmt.Errorf("parquet sink: table %q created twice", table)
		}
	}

	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("parquet sink: %w", err)
	}
	f, err := createParquetTemp(s.dir)
	if err != nil {
		return nil, fmt.Errorf("parquet sink: table %q: %w", table, err)
	}
	out := &parquetOutput{table: table, final: filepath.Join(s.dir, name), tmp: f.Name(), f: f}
	s.outs = append(s.outs, out)
	return out, nil
}

// checkParquetTableName refuses a table name that is not a plain,
// visible file name.
func checkParquetTableName(table string) error {
	switch {
	case table == "":
		return errors.New("parquet sink: a table has no name")
	case strings.HasPrefix(table, "."), strings.ContainsAny(table, "/\\\x00"):
		return fmt.Errorf("parquet sink: table %q cannot be a file name "+
			"(it starts with a dot or holds a slash or NUL)", table)
	}
	return nil
}

// createParquetTemp creates a new hidden file .deid-<random hex>.tmp in dir.
func createParquetTemp(dir string) (*os.File, error) {
	for range 10 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		path := filepath.Join(dir, ".deid-"+hex.EncodeToString(b[:])+".tmp")
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, errors.New("no free temporary file name")
}

// Commit renames every table's temporary file to its name, replacing an
// earlier file of that name, and syncs the folder. Every writer must have
// been closed; a sink of one file must have received its table.
func (s *ParquetSink) Commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.committed:
		return nil
	case s.aborted:
		return errors.New("parquet sink: commit after abort")
	case s.file != "" && len(s.outs) == 0:
		return fmt.Errorf("parquet sink: no table written to %s", filepath.Join(s.dir, s.file))
	}
	for _, o := range s.outs {
		switch {
		case o.failed:
			return fmt.Errorf("parquet sink: table %q was not written", o.table)
		case !o.closed:
			return fmt.Errorf("parquet sink: table %q was not closed", o.table)
		}
	}

	for _, o := range s.outs {
		if err := os.Rename(o.tmp, o.final); err != nil {
			return fmt.Errorf("parquet sink: publishing table %q: %w", o.table, err)
		}
		o.published = true
	}
	s.committed = true
	return syncParquetDir(s.dir)
}

// syncParquetDir makes the renames in dir durable.
func syncParquetDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("parquet sink: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("parquet sink: syncing %s: %w", dir, err)
	}
	return nil
}

// Abort closes and removes every temporary file not yet published. After
// Commit it does nothing.
func (s *ParquetSink) Abort() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.committed {
		return nil
	}
	s.aborted = true
	var errs []error
	for _, o := range s.outs {
		if o.published {
			continue
		}
		if o.f != nil {
			o.f.Close()
			o.f = nil
		}
		if err := os.Remove(o.tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("parquet sink: %w", err))
		}
	}
	return errors.Join(errs...)
}

// finish closes out's temporary file and records whether it is complete.
func (s *ParquetSink) finish(out *parquetOutput, ok bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if out.f != nil {
		err = out.f.Close()
		out.f = nil
	}
	if err != nil || !ok {
		out.failed = true
	}
	out.closed = true
	return err
}

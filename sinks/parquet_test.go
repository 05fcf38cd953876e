package sinks

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/deid/deid/internal/dataerr"
	"github.com/deid/deid/sources"
)

// pqSinkSchema has a column of every type the Parquet source reads back
// as it was written.
var pqSinkSchema = arrow.NewSchema([]arrow.Field{
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	{Name: "i16", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
	{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "i64", Type: arrow.PrimitiveTypes.Int64},
	{Name: "u8", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
	{Name: "u16", Type: arrow.PrimitiveTypes.Uint16, Nullable: true},
	{Name: "u32", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
	{Name: "u64", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
	{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "dec", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
	{Name: "dec38", Type: &arrow.Decimal128Type{Precision: 38, Scale: 6}, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "fixed", Type: &arrow.FixedSizeBinaryType{ByteWidth: 3}, Nullable: true},
	{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ts_ms", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
	{Name: "ts_us_utc", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "ts_ns", Type: &arrow.TimestampType{Unit: arrow.Nanosecond}, Nullable: true},
	{Name: "t32", Type: arrow.FixedWidthTypes.Time32ms, Nullable: true},
	{Name: "t64", Type: arrow.FixedWidthTypes.Time64us, Nullable: true},
}, nil)

// pqSinkRows are synthetic values for pqSinkSchema, row i of n; every
// fifth row is null where the column allows it.
func pqSinkRows(start, n int) string {
	var rows []string
	for i := start; i < start+n; i++ {
		if i%5 == 4 {
			rows = append(rows, fmt.Sprintf(`{"i64": %d}`, i))
			continue
		}
		rows = append(rows, fmt.Sprintf(`{"b": %t, "i8": %d, "i16": %d, "i32": %d, "i64": %d,
 "u8": %d, "u16": %d, "u32": %d, "u64": %d, "f32": %d.5, "f64": %d.25,
 "dec": "%d.%02d", "dec38": "-%d.000001", "s": "Fake Name %d", "bin": "AAEC",
 "fixed": "AQID", "d": "2001-02-%02d", "ts_ms": "2001-02-03T04:05:06.%03d",
 "ts_us_utc": "2001-02-03T04:05:06.%06dZ", "ts_ns": "2001-02-03T04:05:06.%09d",
 "t32": "04:05:06.007", "t64": "04:05:06.000007"}`,
			i%2 == 0, i%128, i%30000, i*7, int64(i)*1_000_003, i%256, i%65536, i, uint64(i)<<40,
			i, i, i, i%100, i, i%7, i%28+1, i%1000, i, i))
	}
	return "[" + strings.Join(rows, ",") + "]"
}

func pqSinkRecord(t testing.TB, sc *arrow.Schema, rows string) arrow.RecordBatch {
	t.Helper()
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, sc, strings.NewReader(rows))
	if err != nil {
		t.Fatalf("building test batch: %v", err)
	}
	return rec
}

// writePQTables writes each table's batches through s and commits.
func writePQTables(t testing.TB, s Sink, tables map[string][]arrow.RecordBatch) {
	t.Helper()
	ctx := context.Background()
	names := make([]string, 0, len(tables))
	for name := range tables {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		recs := tables[name]
		w, err := s.Create(ctx, sources.Table{Name: name, Schema: recs[0].Schema()})
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			if err := w.Write(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// readPQTable reads every batch of one table of src.
func readPQTable(t testing.TB, src sources.Source, table string) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	ctx := context.Background()
	r, err := src.Open(ctx, table, sources.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var recs []arrow.RecordBatch
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return r.Schema(), recs
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
}

// pqColumns joins the batches' columns, one array per column.
func pqColumns(t testing.TB, recs []arrow.RecordBatch) []arrow.Array {
	t.Helper()
	cols := make([]arrow.Array, recs[0].NumCols())
	for i := range cols {
		var chunks []arrow.Array
		for _, rec := range recs {
			chunks = append(chunks, rec.Column(i))
		}
		a, err := array.Concatenate(chunks, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		cols[i] = a
	}
	return cols
}

func TestParquetSinkRoundTrip(t *testing.T) {
	in := []arrow.RecordBatch{
		pqSinkRecord(t, pqSinkSchema, pqSinkRows(0, 40)),
		pqSinkRecord(t, pqSinkSchema, pqSinkRows(40, 7)),
	}
	first := t.TempDir()
	s, err := NewParquetDirSink(first, ParquetSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writePQTables(t, s, map[string][]arrow.RecordBatch{"all_types": in})

	// source -> sink -> source: what deid reads, it writes back unchanged.
	src, err := sources.NewParquetDir(first, sources.ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc, mid := readPQTable(t, src, "all_types")
	second := t.TempDir()
	s2, err := NewParquetDirSink(second, ParquetSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writePQTables(t, s2, map[string][]arrow.RecordBatch{"all_types": mid})
	src2, err := sources.NewParquetFile(filepath.Join(second, "all_types.parquet"), sources.ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc2, out := readPQTable(t, src2, "all_types")

	want := pqColumns(t, in)
	for _, got := range []struct {
		schema *arrow.Schema
		recs   []arrow.RecordBatch
	}{{sc, mid}, {sc2, out}} {
		cols := pqColumns(t, got.recs)
		for i, f := range pqSinkSchema.Fields() {
			g := got.schema.Field(i)
			if g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) || g.Nullable != f.Nullable {
				t.Errorf("column %d: got %s %s nullable=%t, want %s %s nullable=%t",
					i, g.Name, g.Type, g.Nullable, f.Name, f.Type, f.Nullable)
			}
			if !array.Equal(cols[i], want[i]) {
				t.Errorf("column %s: values differ after the round trip", f.Name)
			}
		}
	}
}

func TestParquetSinkDeterministic(t *testing.T) {
	write := func() []byte {
		dir := t.TempDir()
		s, err := NewParquetDirSink(dir, ParquetSinkOptions{RowGroupRows: 30})
		if err != nil {
			t.Fatal(err)
		}
		writePQTables(t, s, map[string][]arrow.RecordBatch{"t": {
			pqSinkRecord(t, pqSinkSchema, pqSinkRows(0, 50)),
			pqSinkRecord(t, pqSinkSchema, pqSinkRows(50, 25)),
		}})
		b, err := os.ReadFile(filepath.Join(dir, "t.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := write(), write()
	if !bytes.Equal(a, b) {
		t.Fatal("the same batches gave different bytes")
	}

	// The golden file catches a change of bytes across versions of deid
	// or of arrow-go; rewrite it with -update after checking why.
	golden := filepath.Join("testdata", "parquet", "all_types.parquet")
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, a, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(a, want) {
		t.Errorf("bytes differ from %s; if the change is intended, run go test -update", golden)
	}

	rdr, err := file.NewParquetReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	md := rdr.MetaData()
	if got := md.GetCreatedBy(); got != "deid" {
		t.Errorf("got created_by %q, want deid", got)
	}
}

// pqMeta opens a written file's footer.
func pqMeta(t testing.TB, path string) *file.Reader {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdr.Close() })
	return rdr
}

func TestParquetSinkRowGroups(t *testing.T) {
	tests := []struct {
		name string
		opts ParquetSinkOptions
		want []int64
	}{
		{"rows", ParquetSinkOptions{RowGroupRows: 1000}, []int64{1000, 1000, 1000}},
		{"default", ParquetSinkOptions{}, []int64{3000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var recs []arrow.RecordBatch
			for i := range 10 {
				recs = append(recs, pqSinkRecord(t, pqSinkSchema, pqSinkRows(i*300, 300)))
			}
			dir := t.TempDir()
			s, err := NewParquetDirSink(dir, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			writePQTables(t, s, map[string][]arrow.RecordBatch{"t": recs})
			md := pqMeta(t, filepath.Join(dir, "t.parquet")).MetaData()
			var got []int64
			for i := range md.NumRowGroups() {
				got = append(got, md.RowGroup(i).NumRows())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got row groups %v, want %v", got, tt.want)
			}
		})
	}
}

// TestParquetSinkRowGroupBytes writes batches of about 1.3 MB of text
// with a limit of 2 MiB: a row group closes once the pages it holds reach
// the limit, so every one but the last holds at least 2 MiB.
func TestParquetSinkRowGroupBytes(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "text", Type: arrow.BinaryTypes.String}}, nil)
	var recs []arrow.RecordBatch
	x := uint64(1)
	for range 6 {
		b := array.NewStringBuilder(memory.DefaultAllocator)
		for range 20000 {
			var sb strings.Builder
			for range 4 {
				x = x*6364136223846793005 + 1442695040888963407
				fmt.Fprintf(&sb, "%016x", x)
			}
			b.Append(sb.String())
		}
		a := b.NewArray()
		recs = append(recs, array.NewRecordBatch(sc, []arrow.Array{a}, 20000))
	}
	dir := t.TempDir()
	s, err := NewParquetDirSink(dir, ParquetSinkOptions{RowGroupBytes: 2 << 20, NoDictionary: true})
	if err != nil {
		t.Fatal(err)
	}
	writePQTables(t, s, map[string][]arrow.RecordBatch{"t": recs})
	md := pqMeta(t, filepath.Join(dir, "t.parquet")).MetaData()
	var rows int64
	for i := range md.NumRowGroups() {
		rg := md.RowGroup(i)
		rows += rg.NumRows()
		if size := rg.TotalCompressedSize(); i < md.NumRowGroups()-1 && size < 2<<20 {
			t.Errorf("row group %d holds %d bytes, want at least 2 MiB", i, size)
		}
	}
	if md.NumRowGroups() < 2 || rows != 120000 {
		t.Errorf("got %d rows in %d row groups, want 120000 in more than one",
			rows, md.NumRowGroups())
	}
}

func TestParquetSinkOptions(t *testing.T) {
	tests := []struct {
		opts  ParquetSinkOptions
		codec compress.Compression
		dict  bool
		stats bool
	}{
		{ParquetSinkOptions{}, compress.Codecs.Zstd, true, true},
		{ParquetSinkOptions{Codec: "snappy", NoDictionary: true}, compress.Codecs.Snappy, false, true},
		{ParquetSinkOptions{Codec: "gzip", Level: 9, NoStatistics: true}, compress.Codecs.Gzip, true, false},
		{ParquetSinkOptions{Codec: "lz4"}, compress.Codecs.Lz4Raw, true, true},
		{ParquetSinkOptions{Codec: "brotli"}, compress.Codecs.Brotli, true, true},
		{ParquetSinkOptions{Codec: "none"}, compress.Codecs.Uncompressed, true, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%+v", tt.opts), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.parquet")
			s, err := NewParquetFileSink(path, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			writePQTables(t, s, map[string][]arrow.RecordBatch{"t": {
				pqSinkRecord(t, pqSinkSchema, pqSinkRows(0, 20)),
			}})
			rg := pqMeta(t, path).MetaData().RowGroup(0)
			cc, err := rg.ColumnChunk(14) // bin, the same value in every row
			if err != nil {
				t.Fatal(err)
			}
			if got := cc.Compression(); got != tt.codec {
				t.Errorf("got codec %s, want %s", got, tt.codec)
			}
			if got := cc.HasDictionaryPage(); got != tt.dict {
				t.Errorf("got dictionary %t, want %t", got, tt.dict)
			}
			if got, _ := cc.StatsSet(); got != tt.stats {
				t.Errorf("got statistics %t, want %t", got, tt.stats)
			}
		})
	}
	for _, bad := range []ParquetSinkOptions{{Codec: "lzo"}, {RowGroupRows: -1}, {RowGroupBytes: -5}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("options %+v accepted", bad)
		}
		if _, err := NewParquetDirSink(t.TempDir(), bad); err == nil {
			t.Errorf("sink with options %+v created", bad)
		}
	}
}

// pqListDir names the files in dir.
func pqListDir(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestParquetSinkPublish(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old := filepath.Join(dir, "t.parquet")
	if err := os.WriteFile(old, []byte("earlier output"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := NewParquetDirSink(dir, ParquetSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := pqSinkRecord(t, pqSinkSchema, pqSinkRows(0, 5))
	w, err := s.Create(ctx, sources.Table{Name: "t", Schema: pqSinkSchema})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx); err == nil {
		t.Error("commit with an open writer succeeded")
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}

	names := pqListDir(t, dir)
	if len(names) != 2 || !strings.HasPrefix(names[0], ".deid-") || !strings.HasSuffix(names[0], ".tmp") {
		t.Fatalf("before commit the folder holds %v, want t.parquet and one .deid-*.tmp", names)
	}
	if b, _ := os.ReadFile(old); string(b) != "earlier output" {
		t.Error("earlier output replaced before commit")
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if names := pqListDir(t, dir); !slices.Equal(names, []string{"t.parquet"}) {
		t.Errorf("after commit the folder holds %v, want t.parquet", names)
	}
	if b, _ := os.ReadFile(old); !bytes.HasPrefix(b, []byte("PAR1")) {
		t.Error("commit did not replace the earlier output")
	}
	if err := s.Abort(); err != nil {
		t.Errorf("abort after commit: %v", err)
	}
	if _, err := os.Stat(old); err != nil {
		t.Errorf("abort after commit removed the output: %v", err)
	}
	if _, err := s.Create(ctx, sources.Table{Name: "u", Schema: pqSinkSchema}); err == nil {
		t.Error("create after commit succeeded")
	}
}

func TestParquetSinkAbort(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "new")
	s, err := NewParquetDirSink(dir, ParquetSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := pqSinkRecord(t, pqSinkSchema, pqSinkRows(0, 5))
	closed, err := s.Create(ctx, sources.Table{Name: "a", Schema: pqSinkSchema})
	if err != nil {
		t.Fatal(err)
	}
	closed.Write(ctx, rec)
	closed.Close(ctx)
	open, err := s.Create(ctx, sources.Table{Name: "b", Schema: pqSinkSchema})
	if err != nil {
		t.Fatal(err)
	}
	open.Write(ctx, rec)

	for range 2 {
		if err := s.Abort(); err != nil {
			t.Fatal(err)
		}
	}
	if names := pqListDir(t, dir); len(names) != 0 {
		t.Errorf("after abort the folder holds %v, want nothing", names)
	}
	if err := s.Commit(ctx); err == nil {
		t.Error("commit after abort succeeded")
	}
}

func TestParquetSinkErrors(t *testing.T) {
	ctx := context.Background()
	const canary = "CANARY-123-45-6789"
	strs := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "ssn", Type: arrow.BinaryTypes.String},
	}, nil)
	ints := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "ssn", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	tests := []struct {
		name   string
		schema *arrow.Schema
		rec    arrow.RecordBatch
		col    string
	}{
		{"type", ints, pqSinkRecord(t, strs, `[{"id": 1, "ssn": "`+canary+`"}]`), "ssn"},
		{"null", strs, pqSinkRecord(t, arrow.NewSchema([]arrow.Field{
			{Name: "id", Type: arrow.PrimitiveTypes.Int64},
			{Name: "ssn", Type: arrow.BinaryTypes.String, Nullable: true},
		}, nil), `[{"id": 1, "ssn": "`+canary+`"}, {"id": 2, "ssn": null}]`), "ssn"},
		{"columns", strs, pqSinkRecord(t, pqSinkSchema, pqSinkRows(0, 3)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := NewParquetDirSink(dir, ParquetSinkOptions{})
			if err != nil {
				t.Fatal(err)
			}
			w, err := s.Create(ctx, sources.Table{Name: "people", Schema: tt.schema})
			if err != nil {
				t.Fatal(err)
			}
			err = w.Write(ctx, tt.rec)
			var de *dataerr.Error
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want a *dataerr.Error", err)
			}
			if de.Column != tt.col || de.File != filepath.Join(dir, "people.parquet") {
				t.Errorf("error %q names column %q file %q, want %q and people.parquet",
					err, de.Column, de.File, tt.col)
			}
			if strings.Contains(err.Error(), "CANARY") {
				t.Errorf("error %q quotes a value", err)
			}
			if err2 := w.Close(ctx); err2 != err {
				t.Errorf("close after a failed write: got %v, want the same error", err2)
			}
			if err := s.Commit(ctx); err == nil {
				t.Error("commit after a failed write succeeded")
			}
			s.Abort()
			if names := pqListDir(t, dir); len(names) != 0 {
				t.Errorf("after abort the folder holds %v, want nothing", names)
			}
		})
	}
}

func TestParquetSinkCreateErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := NewParquetDirSink(dir, ParquetSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", ".hidden", "a/b", `a\b`, "a\x00b"} {
		if _, err := s.Create(ctx, sources.Table{Name: name, Schema: pqSinkSchema}); err == nil {
			t.Errorf("table name %q accepted", name)
		}
	}
	dur := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "stay", Type: arrow.FixedWidthTypes.Duration_s},
	}, nil)
	_, err = s.Create(ctx, sources.Table{Name: "dur", Schema: dur})
	var de *dataerr.Error
	if !errors.As(err, &de) || de.Column != "stay" {
		t.Errorf("got %v, want a *dataerr.Error naming column stay", err)
	}
	if _, err := s.Create(ctx, sources.Table{Name: "dur", Schema: pqSinkSchema}); err == nil {
		t.Error("table created twice")
	}
	s.Abort()
	if names := pqListDir(t, dir); len(names) != 0 {
		t.Errorf("after abort the folder holds %v, want nothing", names)
	}

	one, err := NewParquetFileSink(filepath.Join(dir, "one.parquet"), ParquetSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := one.Commit(ctx); err == nil {
		t.Error("commit of a file sink without a table succeeded")
	}
	w, err := one.Create(ctx, sources.Table{Name: "x", Schema: pqSinkSchema})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := one.Create(ctx, sources.Table{Name: "y", Schema: pqSinkSchema}); err == nil {
		t.Error("second table of a file sink accepted")
	}
	w.Close(ctx)
	if err := one.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "one.parquet")); err != nil {
		t.Error(err)
	}
}

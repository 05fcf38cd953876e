package sinks

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/deid/deid/sources"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// golden compares got with testdata/csv/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "csv", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n got %q\nwant %q", path, got, want)
	}
}

// formatsBatch is a batch with a column of every kind of value the sink
// formats.
func formatsBatch(t *testing.T) arrow.RecordBatch {
	t.Helper()
	ny := &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "+05:30"}
	dec := &arrow.Decimal128Type{Precision: 10, Scale: 2}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "u8", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "at", Type: arrow.FixedWidthTypes.Timestamp_us, Nullable: true},
		{Name: "local", Type: ny, Nullable: true},
		{Name: "amount", Type: dec, Nullable: true},
		{Name: "blob", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "has,comma", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()

	valid := []bool{true, true, true, true, false}
	b.Field(0).(*array.StringBuilder).AppendValues(
		[]string{"Doe, Jane", `say "hi"`, "two\nlines\r\n", "", ""}, valid)
	b.Field(1).(*array.Int64Builder).AppendValues(
		[]int64{math.MinInt64, 0, 42, math.MaxInt64, 0}, valid)
	b.Field(2).(*array.Uint8Builder).AppendValues([]uint8{0, 1, 200, 255, 0}, valid)
	b.Field(3).(*array.Float64Builder).AppendValues(
		[]float64{0.1, -2.5e-300, 1e21, math.Inf(-1), 0}, valid)
	b.Field(4).(*array.BooleanBuilder).AppendValues([]bool{true, false, true, false, false}, valid)
	b.Field(5).(*array.Date32Builder).AppendValues(
		[]arrow.Date32{0, -1, 19782, 2932896, 0}, // 2932896 is 9999-12-31
		valid)
	at := func(s string) arrow.Timestamp {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return arrow.Timestamp(tm.UnixMicro())
	}
	b.Field(6).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{
		at("2024-01-02T03:04:05Z"), at("2024-01-02T03:04:05.5Z"),
		at("1969-12-31T23:59:59.000001Z"), at("2000-02-29T12:00:00Z"), 0}, valid)
	b.Field(7).(*array.TimestampBuilder).AppendValues(
		[]arrow.Timestamp{0, 1, 1704164645123, -1, 0}, valid)
	b.Field(8).(*array.Decimal128Builder).AppendValues([]decimal128.Num{
		decimal128.FromI64(12345), decimal128.FromI64(-5), decimal128.FromI64(0),
		decimal128.FromI64(100), {}}, valid)
	b.Field(9).(*array.BinaryBuilder).AppendValues(
		[][]byte{[]byte("fake"), {0, 255}, {}, []byte("x"), nil}, valid)
	b.Field(10).(*array.StringBuilder).AppendValues([]string{" lead", "trail ", "a", "b", ""}, valid)
	return b.NewRecordBatch()
}

// writeTable writes recs as one table through s and closes the writer.
func writeTable(t *testing.T, s *CSVSink, name string, recs ...arrow.RecordBatch) error {
	t.Helper()
	ctx := context.Background()
	w, err := s.Create(ctx, sources.Table{Name: name, Schema: recs[0].Schema()})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if err := w.Write(ctx, rec); err != nil {
			return err
		}
	}
	return w.Close(ctx)
}

func TestCSVSinkFormats(t *testing.T) {
	rec := formatsBatch(t)
	defer rec.Release()
	var out bytes.Buffer
	s, err := NewCSVStreamSink(&out, CSVSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := writeTable(t, s, "formats", rec); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Fatalf("stream written before Commit: %q", out.Bytes())
	}
	if err := s.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	golden(t, "formats.csv", out.Bytes())
}

func TestCSVSinkOtherDelimiters(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "n", Type: arrow.PrimitiveTypes.Float64},
		{Name: "bin", Type: arrow.BinaryTypes.Binary},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"x;y", "x,y"}, nil)
	b.Field(1).(*array.Float64Builder).AppendValues([]float64{1.5, 2}, nil)
	b.Field(2).(*array.BinaryBuilder).AppendValues([][]byte{{0, 255}, {}}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()

	for _, tt := range []struct {
		comma rune
		want  string
	}{
		{';', "a;n;bin\n\"x;y\";1.5;AP8=\nx,y;2;\"\"\n"},
		{'.', "a.n.bin\nx;y.\"1.5\".AP8=\nx,y.2.\"\"\n"},
		{'=', "a=n=bin\nx;y=1.5=\"AP8=\"\nx,y=2=\"\"\n"},
	} {
		var out bytes.Buffer
		s, err := NewCSVStreamSink(&out, CSVSinkOptions{Comma: tt.comma})
		if err != nil {
			t.Fatal(err)
		}
		if err := writeTable(t, s, "t", rec); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != tt.want {
			t.Errorf("comma %q: got %q, want %q", tt.comma, got, tt.want)
		}
	}
}

// oneColumn is a batch of one string column.
func oneColumn(t *testing.T, name string, values []string, valid []bool) arrow.RecordBatch {
	t.Helper()
	field := arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true}
	schema := arrow.NewSchema([]arrow.Field{field}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues(values, valid)
	return b.NewRecordBatch()
}

func TestCSVSinkOneColumnNull(t *testing.T) {
	rec := oneColumn(t, "\uFEFFname", []string{"a", "", ""}, []bool{true, false, true})
	defer rec.Release()
	var out bytes.Buffer
	s, _ := NewCSVStreamSink(&out, CSVSinkOptions{})
	if err := writeTable(t, s, "t", rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "\"\uFEFFname\"\na\n\"\"\n\"\"\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
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

func isTemp(name string) bool {
	return strings.HasPrefix(name, ".deid-") && strings.HasSuffix(name, ".tmp") && len(name) == 26
}

func TestCSVSinkDirCommit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := []byte("old output\n")
	if err := os.WriteFile(filepath.Join(dir, "patients.csv"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := NewCSVDirSink(dir, CSVSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pat := oneColumn(t, "id", []string{"P-1", "P-2"}, nil)
	defer pat.Release()
	enc := oneColumn(t, "id", []string{"E-1"}, nil)
	defer enc.Release()
	if err := writeTable(t, s, "patients", pat); err != nil {
		t.Fatal(err)
	}
	if err := writeTable(t, s, "encounters", enc); err != nil {
		t.Fatal(err)
	}

	names := listDir(t, dir)
	if len(names) != 3 || !isTemp(names[0]) || !isTemp(names[1]) || names[2] != "patients.csv" {
		t.Fatalf("before Commit the folder holds %q, want two temporaries and the old file", names)
	}
	if old, _ := os.ReadFile(filepath.Join(dir, "patients.csv")); string(old) != "old output\n" {
		t.Errorf("old output changed before Commit: %q", old)
	}

	if err := s.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"encounters.csv", "patients.csv"}
	if got := listDir(t, dir); !slices.Equal(got, want) {
		t.Errorf("after Commit the folder holds %q, want %q", got, want)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "patients.csv")); string(got) != "id\nP-1\nP-2\n" {
		t.Errorf("patients.csv = %q", got)
	}
	if err := s.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if got := listDir(t, dir); len(got) != 2 {
		t.Errorf("Abort after Commit changed the folder: %q", got)
	}
}

func TestCSVSinkAbort(t *testing.T) {
	dir := t.TempDir()
	s, err := NewCSVDirSink(dir, CSVSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := oneColumn(t, "id", []string{"P-1"}, nil)
	defer rec.Release()
	if err := writeTable(t, s, "closed", rec); err != nil {
		t.Fatal(err)
	}
	// A table left open, as after a failure elsewhere.
	open := sources.Table{Name: "open", Schema: rec.Schema()}
	if _, err := s.Create(context.Background(), open); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Abort(); err != nil {
			t.Fatal(err)
		}
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Errorf("after Abort the folder holds %q", got)
	}
	if err := s.Commit(context.Background()); err == nil {
		t.Error("Commit after Abort: no error")
	}
}

func TestCSVSinkFileCommitReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "result.csv")
	if err := os.WriteFile(path, []byte("previous\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := NewCSVFileSink(path, CSVSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := oneColumn(t, "id", []string{"P-9"}, nil)
	defer rec.Release()
	if err := writeTable(t, s, "patients", rec); err != nil {
		t.Fatal(err)
	}
	second := sources.Table{Name: "second", Schema: rec.Schema()}
	if _, err := s.Create(context.Background(), second); err == nil {
		t.Error("a second table in a file sink: no error")
	}
	if err := s.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "id\nP-9\n" {
		t.Errorf("%s = %q", path, got)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"result.csv"}) {
		t.Errorf("folder holds %q", got)
	}
}

// failAfter accepts n bytes, then fails every write as a full disk does.
type failAfter struct {
	w io.Writer
	n int
}

var errDiskFull = errors.New("no space left on device")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		n, _ := f.w.Write(p[:f.n])
		f.n = 0
		return n, errDiskFull
	}
	f.n -= len(p)
	return f.w.Write(p)
}

func TestCSVSinkWriteErrorPublishesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := NewCSVDirSink(dir, CSVSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := oneColumn(t, "id", []string{strings.Repeat("CANARY-7f3e ", 1000)}, nil)
	defer rec.Release()
	w, err := s.Create(ctx, sources.Table{Name: "patients", Schema: rec.Schema()})
	if err != nil {
		t.Fatal(err)
	}
	cw := w.(*csvWriter)
	cw.dst = &failAfter{w: cw.out.f, n: 100}

	for i := 0; err == nil && i < 200; i++ {
		err = w.Write(ctx, rec)
	}
	if err == nil {
		err = w.Close(ctx)
	}
	if !errors.Is(err, errDiskFull) || !strings.Contains(err.Error(), `table "patients"`) {
		t.Fatalf("error = %v, want the write error naming the table", err)
	}
	if strings.Contains(err.Error(), "CANARY") {
		t.Errorf("error %q quotes a value", err)
	}
	if err := w.Close(ctx); !errors.Is(err, errDiskFull) {
		t.Errorf("Close after a failed write = %v, want the write error", err)
	}
	if err := s.Commit(ctx); err == nil {
		t.Error("Commit with a failed table: no error")
	}
	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Errorf("after a write error and Abort the folder holds %q", got)
	}
}

func TestCSVSinkStreamFailure(t *testing.T) {
	ctx := context.Background()
	rec := oneColumn(t, "id", []string{"P-1", "P-2", "P-3"}, nil)
	defer rec.Release()
	var out bytes.Buffer
	s, err := NewCSVStreamSink(&failAfter{w: &out, n: 5}, CSVSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := writeTable(t, s, "patients", rec); err != nil {
		t.Fatal(err)
	}
	tmp := s.outs[0].tmp
	if !isTemp(filepath.Base(tmp)) || filepath.Dir(tmp) != filepath.Clean(os.TempDir()) {
		t.Errorf("stream temporary %q is not a .deid-*.tmp file in %s", tmp, os.TempDir())
	}
	if err := s.Commit(ctx); !errors.Is(err, errDiskFull) {
		t.Fatalf("Commit = %v, want the stream's error", err)
	}
	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left after Abort: %v", err)
	}
}

func TestCSVSinkStreamAbortWritesNothing(t *testing.T) {
	var out bytes.Buffer
	s, _ := NewCSVStreamSink(&out, CSVSinkOptions{})
	rec := oneColumn(t, "id", []string{"P-1"}, nil)
	defer rec.Release()
	if err := writeTable(t, s, "patients", rec); err != nil {
		t.Fatal(err)
	}
	tmp := s.outs[0].tmp
	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("aborted stream sink wrote %q", out.Bytes())
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left after Abort: %v", err)
	}
}

func TestCSVSinkCommitChecksTargetsFirst(t *testing.T) {
	dir := t.TempDir()
	// A non-empty folder where encounters.csv should go.
	if err := os.MkdirAll(filepath.Join(dir, "encounters.csv", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, _ := NewCSVDirSink(dir, CSVSinkOptions{})
	rec := oneColumn(t, "id", []string{"P-1"}, nil)
	defer rec.Release()
	for _, name := range []string{"patients", "encounters"} {
		if err := writeTable(t, s, name, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Commit(context.Background()); err == nil {
		t.Fatal("Commit onto a folder: no error")
	}
	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"encounters.csv"}) {
		t.Errorf("after a failed Commit and Abort the folder holds %q", got)
	}
}

func TestCSVSinkCreateErrors(t *testing.T) {
	ctx := context.Background()
	s, err := NewCSVDirSink(t.TempDir(), CSVSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	str := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.BinaryTypes.String}}, nil)
	listType := arrow.ListOf(arrow.BinaryTypes.String)
	list := arrow.NewSchema([]arrow.Field{{Name: "a", Type: listType}}, nil)
	bad := []sources.Table{
		{Name: "../escape", Schema: str},
		{Name: "", Schema: str},
		{Name: "lists", Schema: list},
		{Name: "empty", Schema: arrow.NewSchema(nil, nil)},
	}
	for _, tb := range bad {
		if _, err := s.Create(ctx, tb); err == nil {
			t.Errorf("Create(%q, %v): no error", tb.Name, tb.Schema)
		}
	}
	if _, err := s.Create(ctx, sources.Table{Name: "twice", Schema: str}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, sources.Table{Name: "twice", Schema: str}); err == nil {
		t.Error("Create of the same table twice: no error")
	}
	if _, err := NewCSVStreamSink(io.Discard, CSVSinkOptions{Comma: '\n'}); err == nil {
		t.Error("LF as delimiter: no error")
	}
}

func TestCSVNeedsQuote(t *testing.T) {
	naive := func(v []byte, comma byte) bool {
		return len(v) == 0 || bytes.ContainsAny(v, "\"\r\n"+string(comma))
	}
	alphabet := []byte("a ,;\"\r\n\x7f\xff\x01\x00é")
	for _, comma := range []byte{',', ';', '\t'} {
		q := newCSVQuoter(comma)
		// Every short value, at every position of a larger buffer, so that
		// both the word loop and the masked tail are exercised.
		buf := make([]byte, 64)
		for n := 0; n <= 20; n++ {
			for trial := range 400 {
				for i := range buf {
					buf[i] = alphabet[(i*7+trial*13+n)%len(alphabet)]
				}
				for _, start := range []int{0, 3, 64 - n} {
					v := buf[start : start+n]
					if got, want := q.needsQuote(v), naive(v, comma); got != want {
						t.Fatalf("needsQuote(%q, comma %q) = %v, want %v", v, comma, got, want)
					}
				}
			}
		}
	}
}

func TestCSVSinkSlicedBatch(t *testing.T) {
	rec := oneColumn(t, "id", []string{"a", "b", "", "d", "e"}, []bool{true, true, false, true, true})
	defer rec.Release()
	two := rec.NewSlice(1, 4) // b, null, d
	defer two.Release()
	var out bytes.Buffer
	s, _ := NewCSVStreamSink(&out, CSVSinkOptions{})
	if err := writeTable(t, s, "t", two); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "id\nb\n\"\"\nd\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

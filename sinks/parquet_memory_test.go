package sinks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/deid/deid/sources"
)

// pqBenchSchema is the shape of the benchmark table: two int64 keys, a
// name, a low-cardinality code, a date, a UTC timestamp, a float with 10%
// nulls and a note with 33% nulls.
var pqBenchSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "patient_id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String},
	{Name: "code", Type: arrow.BinaryTypes.String},
	{Name: "dob", Type: arrow.FixedWidthTypes.Date32},
	{Name: "admitted", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

var pqBenchCodes = []string{"A01", "B20", "C34.1", "E11.9", "I10", "J45", "K21.0", "M54.5"}

// pqBenchRecord makes rows start..start+n-1 of the benchmark table from a
// seeded generator: the same rows every time, and obviously fake.
func pqBenchRecord(start, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, pqBenchSchema)
	defer b.Release()
	x := uint64(start)*2862933555777941757 + 3037000493
	next := func() uint64 {
		x = x*6364136223846793005 + 1442695040888963407
		return x >> 11
	}
	for i := start; i < start+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.Int64Builder).Append(int64(next() % 1000000))
		b.Field(2).(*array.StringBuilder).Append("Fake Person " + strconv.Itoa(int(next()%200000)))
		b.Field(3).(*array.StringBuilder).Append(pqBenchCodes[next()%uint64(len(pqBenchCodes))])
		b.Field(4).(*array.Date32Builder).Append(arrow.Date32(-20000 + int32(next()%30000)))
		b.Field(5).(*array.TimestampBuilder).Append(arrow.Timestamp(1600000000000000 + int64(next()%1e14)))
		if next()%10 == 0 {
			b.Field(6).AppendNull()
		} else {
			b.Field(6).(*array.Float64Builder).Append(float64(next()%100000) / 100)
		}
		if next()%3 == 0 {
			b.Field(7).AppendNull()
		} else {
			b.Field(7).(*array.StringBuilder).Append("synthetic note " + strconv.Itoa(int(next()%1000)))
		}
	}
	return b.NewRecordBatch()
}

// writePQBench writes rows of the benchmark table to path with row groups
// of rowGroup rows.
func writePQBench(t testing.TB, path string, rows int, rowGroup int64) {
	t.Helper()
	ctx := context.Background()
	s, err := NewParquetFileSink(path, ParquetSinkOptions{RowGroupRows: rowGroup})
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Create(ctx, sources.Table{Name: "visits", Schema: pqBenchSchema})
	if err != nil {
		t.Fatal(err)
	}
	for start := 0; start < rows; start += sources.DefaultBatchRows {
		rec := pqBenchRecord(start, min(sources.DefaultBatchRows, rows-start))
		err := w.Write(ctx, rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestParquetMemoryFlat copies a Parquet table of 100k rows and one of
// 500k rows, source to sink, each in a process of its own, and checks that
// the larger one's peak RSS is not much above the smaller one's. Row groups
// are 32Ki rows in and out, so both inputs span many of them.
func TestParquetMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and copies 600k rows")
	}
	dir := t.TempDir()
	peak := map[int]int64{}
	for _, rows := range []int{100_000, 500_000} {
		in := filepath.Join(dir, fmt.Sprintf("in%d.parquet", rows))
		writePQBench(t, in, rows, 32<<10)
		hwm, took := pqCopyInChild(t, in, filepath.Join(dir, fmt.Sprintf("out%d.parquet", rows)), 32<<10)
		peak[rows] = hwm
		t.Logf("%d rows: peak RSS %d MiB, copy %v", rows, hwm>>10, took.Round(time.Millisecond))
	}
	// Half of a peak is the runtime, the binary and the garbage collector's
	// headroom; memory that grew with the input would need 5x the rest.
	if limit := peak[100_000] * 3 / 2; peak[500_000] > limit {
		t.Errorf("peak RSS %d KiB for 500k rows, %d KiB for 100k: want at most %d KiB",
			peak[500_000], peak[100_000], limit)
	}
}

// pqCopyInChild runs TestParquetMemoryChild in a new process and returns
// its peak RSS in KiB and how long the copy took.
func pqCopyInChild(t testing.TB, in, out string, rowGroup int64) (int64, time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestParquetMemoryChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "DEID_PQ_MEM_IN="+in, "DEID_PQ_MEM_OUT="+out,
		"DEID_PQ_MEM_ROWGROUP="+strconv.FormatInt(rowGroup, 10))
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s", err, stdout.String())
	}
	var hwm, ns int64
	for _, line := range strings.Split(stdout.String(), "\n") {
		if _, err := fmt.Sscanf(line, "deid-memory %d %d", &hwm, &ns); err == nil {
			return hwm, time.Duration(ns)
		}
	}
	t.Fatalf("child printed no figures:\n%s", stdout.String())
	return 0, 0
}

// TestParquetMemoryChild is the child of TestParquetMemoryFlat: it copies
// DEID_PQ_MEM_IN to DEID_PQ_MEM_OUT and prints its peak RSS in KiB and the
// time taken in nanoseconds. It does nothing when run directly.
func TestParquetMemoryChild(t *testing.T) {
	in, out := os.Getenv("DEID_PQ_MEM_IN"), os.Getenv("DEID_PQ_MEM_OUT")
	if in == "" || out == "" {
		t.Skip("run by TestParquetMemoryFlat")
	}
	rowGroup, _ := strconv.ParseInt(os.Getenv("DEID_PQ_MEM_ROWGROUP"), 10, 64)
	ctx := context.Background()
	start := time.Now()

	src, err := sources.NewParquetFile(in, sources.ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tables, err := src.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := src.Open(ctx, tables[0].Name, sources.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewParquetFileSink(out, ParquetSinkOptions{RowGroupRows: rowGroup})
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Create(ctx, tables[0])
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		err = w.Write(ctx, rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("deid-memory %d %d\n", pqPeakRSS(t), time.Since(start).Nanoseconds())
}

// pqPeakRSS reads this process's peak resident set size in KiB.
func pqPeakRSS(t testing.TB) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

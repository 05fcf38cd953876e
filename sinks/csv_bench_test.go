package sinks

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/deid/deid/sources"
)

// benchRows is a synthetic encounters table: ids, codes, dates, amounts and
// a free-text note that sometimes needs quoting.
func benchRows(rows int) [][]string {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]string, rows)
	for i := range out {
		note := fmt.Sprintf("synthetic note %d", rng.IntN(1000))
		if rng.IntN(5) == 0 {
			note = fmt.Sprintf("follow-up, \"fake\" case %d", rng.IntN(100))
		}
		out[i] = []string{
			fmt.Sprintf("E%08d", i), fmt.Sprintf("P%07d", rng.IntN(1000000)),
			fmt.Sprintf("2020-%02d-%02d", 1+rng.IntN(12), 1+rng.IntN(28)),
			fmt.Sprintf("2020-01-02T10:%02d:00Z", rng.IntN(60)), fmt.Sprintf("%05d", rng.IntN(100000)),
			fmt.Sprintf("Z%03d.%d", rng.IntN(1000), rng.IntN(10)),
			fmt.Sprintf("%d.%02d", rng.IntN(5000), rng.IntN(100)), note,
		}
	}
	return out
}

var benchHeader = []string{"encounter_id", "patient_id", "admit_date", "discharge_ts", "zip",
	"code", "amount", "note"}

// benchBatches holds rows as utf8 batches of 8192 rows.
func benchBatches(rows [][]string) (*arrow.Schema, []arrow.RecordBatch) {
	fields := make([]arrow.Field, len(benchHeader))
	for i, name := range benchHeader {
		fields[i] = arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	var recs []arrow.RecordBatch
	for start := 0; start < len(rows); start += 8192 {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for _, row := range rows[start:min(start+8192, len(rows))] {
			for j, v := range row {
				b.Field(j).(*array.StringBuilder).Append(v)
			}
		}
		recs = append(recs, b.NewRecordBatch())
		b.Release()
	}
	return schema, recs
}

func csvBytes(rows [][]string) int64 {
	var n int64
	for _, row := range rows {
		for _, v := range row {
			n += int64(len(v)) + 1
		}
	}
	return n
}

// BenchmarkEncodingCSVWriter is the floor: csv.Writer writing every row.
func BenchmarkEncodingCSVWriter(b *testing.B) {
	rows := benchRows(100_000)
	path := filepath.Join(b.TempDir(), "out.csv")
	b.SetBytes(csvBytes(rows))
	for b.Loop() {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := csv.NewWriter(bufio.NewWriterSize(f, 1<<20))
		w.Write(benchHeader)
		for _, row := range rows {
			w.Write(row)
		}
		w.Flush()
		if err := w.Error(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkCSVSink writes the same rows from Arrow batches, fsync included.
func BenchmarkCSVSink(b *testing.B) {
	rows := benchRows(100_000)
	schema, recs := benchBatches(rows)
	dir := b.TempDir()
	ctx := context.Background()
	b.SetBytes(csvBytes(rows))
	for b.Loop() {
		s, err := NewCSVDirSink(dir, CSVSinkOptions{})
		if err != nil {
			b.Fatal(err)
		}
		w, err := s.Create(ctx, sources.Table{Name: "encounters", Schema: schema})
		if err != nil {
			b.Fatal(err)
		}
		for _, rec := range recs {
			if err := w.Write(ctx, rec); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(ctx); err != nil {
			b.Fatal(err)
		}
		if err := s.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// writeBenchFile writes rows as a CSV file and returns its path and size.
func writeBenchFile(b *testing.B, rows [][]string) (string, int64) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "encounters.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write(benchHeader)
	w.WriteAll(rows)
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return path, fi.Size()
}

// BenchmarkCopyEncodingCSV is the speed target's floor: one goroutine that
// reads a CSV file with encoding/csv and writes it with csv.Writer.
func BenchmarkCopyEncodingCSV(b *testing.B) {
	in, size := writeBenchFile(b, benchRows(100_000))
	out := filepath.Join(b.TempDir(), "out.csv")
	b.SetBytes(size)
	for b.Loop() {
		f, err := os.Open(in)
		if err != nil {
			b.Fatal(err)
		}
		g, err := os.Create(out)
		if err != nil {
			b.Fatal(err)
		}
		r := csv.NewReader(bufio.NewReader(f))
		r.ReuseRecord = true
		bw := bufio.NewWriterSize(g, 1<<20)
		w := csv.NewWriter(bw)
		for {
			rec, err := r.Read()
			if err != nil {
				break
			}
			w.Write(rec)
		}
		w.Flush()
		f.Close()
		g.Close()
	}
}

// BenchmarkCopyCSV does the same through the CSV source and sink, in one
// goroutine, fsync included.
func BenchmarkCopyCSV(b *testing.B) {
	in, size := writeBenchFile(b, benchRows(100_000))
	dir := b.TempDir()
	ctx := context.Background()
	b.SetBytes(size)
	for b.Loop() {
		src, err := sources.NewCSVFile(in, sources.CSVOptions{})
		if err != nil {
			b.Fatal(err)
		}
		tables, err := src.Tables(ctx)
		if err != nil {
			b.Fatal(err)
		}
		r, err := src.Open(ctx, tables[0].Name, sources.ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		s, err := NewCSVDirSink(dir, CSVSinkOptions{})
		if err != nil {
			b.Fatal(err)
		}
		w, err := s.Create(ctx, tables[0])
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := r.Next(ctx)
			if err != nil {
				break
			}
			if err := w.Write(ctx, rec); err != nil {
				b.Fatal(err)
			}
			rec.Release()
		}
		r.Close()
		if err := w.Close(ctx); err != nil {
			b.Fatal(err)
		}
		if err := s.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

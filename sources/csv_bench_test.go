package sources

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// benchCSV writes a synthetic table of rows rows shaped like an encounters
// export: ids, codes, dates, amounts and a free-text note that is sometimes
// quoted.
func benchCSV(tb testing.TB, rows int) string {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	b.WriteString("encounter_id,patient_id,admit_date,discharge_ts,zip,code,amount,note\n")
	for i := range rows {
		note := fmt.Sprintf("synthetic note %d", rng.IntN(1000))
		if rng.IntN(5) == 0 {
			note = fmt.Sprintf("\"follow-up, \"\"fake\"\" case %d\"", rng.IntN(100))
		}
		fmt.Fprintf(&b, "E%08d,P%07d,2020-%02d-%02d,2020-01-02T10:%02d:00Z,%05d,Z%03d.%d,%d.%02d,%s\n",
			i, rng.IntN(1000000), 1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(60),
			rng.IntN(100000), rng.IntN(1000), rng.IntN(10), rng.IntN(5000), rng.IntN(100), note)
	}
	path := filepath.Join(tb.TempDir(), "encounters.csv")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

// BenchmarkEncodingCSV is the floor: encoding/csv reading every record.
func BenchmarkEncodingCSV(b *testing.B) {
	path := benchCSV(b, 100_000)
	b.SetBytes(fileSize(b, path))
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r := csv.NewReader(f)
		r.ReuseRecord = true
		for {
			if _, err := r.Read(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
		f.Close()
	}
}

// BenchmarkCSVReader reads the same file into Arrow batches, all utf8 or
// with typed columns.
func BenchmarkCSVReader(b *testing.B) {
	path := benchCSV(b, 100_000)
	types := map[string]DataTypes{
		"utf8":  nil,
		"typed": {"admit_date": date32, "discharge_ts": timestampUS, "amount": float64T},
	}
	for _, name := range []string{"utf8", "typed"} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(fileSize(b, path))
			for b.Loop() {
				readAllBatches(b, path, types[name])
			}
		})
	}
}

func readAllBatches(tb testing.TB, path string, types DataTypes) int64 {
	tb.Helper()
	ctx := context.Background()
	src, err := NewCSVFile(path, CSVOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	tables, err := src.Tables(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := src.Open(ctx, tables[0].Name, ReadOptions{Types: types})
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var rows int64
	for {
		rec, err := r.Next(ctx)
		if err == io.EOF {
			return rows
		}
		if err != nil {
			tb.Fatal(err)
		}
		rows += rec.NumRows()
		rec.Release()
	}
}

// BenchmarkCSVScanner splits the same file into records, building nothing.
func BenchmarkCSVScanner(b *testing.B) {
	path := benchCSV(b, 100_000)
	b.SetBytes(fileSize(b, path))
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		sc := newCSVScanner(f, ',', csvBufSize)
		for {
			if _, _, _, err := sc.record(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
		f.Close()
	}
}

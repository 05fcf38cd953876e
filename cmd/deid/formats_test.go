package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/internal/synth"
	"github.com/deid/deid/sinks"
	"github.com/deid/deid/sources"
)

// toParquet copies one CSV table into dir/table.parquet with declared types.
func toParquet(t *testing.T, csvPath, dir string, types map[string]arrow.DataType) {
	t.Helper()
	ctx := context.Background()
	src, err := sources.NewCSVFile(csvPath, sources.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tables, err := src.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := src.Open(ctx, tables[0].Name, sources.ReadOptions{Types: types})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dst, err := sinks.NewParquetDirSink(dir, sinks.ParquetSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := dst.Create(ctx, sources.Table{Name: tables[0].Name, Schema: r.Schema()})
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
		if err := w.Write(ctx, rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := dst.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// parquetColumn reads one column of dir/table.parquet as text.
func parquetColumn(t *testing.T, dir, table, col string) []string {
	t.Helper()
	ctx := context.Background()
	src, err := sources.NewParquetDir(dir, sources.ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Tables(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := src.Open(ctx, table, sources.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	idx := r.Schema().FieldIndices(col)[0]
	var out []string
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			out = append(out, rec.Column(idx).ValueStr(i))
		}
		rec.Release()
	}
}

// TestTokensAgreeAcrossFormats reads patients from CSV and their encounters
// from Parquet in one run, writes Parquet, and checks that every encounter
// still finds its patient.
func TestTokensAgreeAcrossFormats(t *testing.T) {
	dir := t.TempDir()
	demo := filepath.Join(dir, "demo")
	if err := synth.Demo(demo); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in")
	os.Mkdir(in, 0o755)
	for _, name := range []string{"patients.csv", "providers.csv"} {
		data, _ := os.ReadFile(filepath.Join(demo, name))
		os.WriteFile(filepath.Join(in, name), data, 0o644)
	}
	toParquet(t, filepath.Join(demo, "encounters.csv"), in, map[string]arrow.DataType{
		"encounter_id": arrow.PrimitiveTypes.Int64, "patient_id": arrow.PrimitiveTypes.Int64,
		"provider_id": arrow.PrimitiveTypes.Int64, "age_at_admit": arrow.PrimitiveTypes.Int64,
	})

	out := filepath.Join(dir, "out")
	var b buffers
	err := runRun(context.Background(), runOptions{policy: "demo", from: in, to: out,
		format: "parquet", keyFile: testKeyFile(t), delimiter: ",", asOf: demoAsOf}, b.stdio())
	if err != nil {
		t.Fatalf("run: %v\n%s", err, b.err.String())
	}

	patients := map[string]bool{}
	for _, v := range parquetColumn(t, out, "patients", "patient_id") {
		patients[v] = true
	}
	encounters := parquetColumn(t, out, "encounters", "patient_id")
	if len(encounters) == 0 || len(patients) == 0 {
		t.Fatal("empty output")
	}
	for i, v := range encounters {
		if !patients[v] {
			t.Fatalf("encounter %d: patient token not among the patients' tokens", i+1)
		}
	}
}

// TestCSVToParquetKeepsTypes checks that typed columns come out typed.
func TestCSVToParquetKeepsTypes(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := synth.Demo(in); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	var b buffers
	err := runRun(context.Background(), runOptions{policy: "demo", from: in, to: out,
		format: "parquet", keyFile: testKeyFile(t), delimiter: ",", asOf: demoAsOf}, b.stdio())
	if err != nil {
		t.Fatalf("run: %v\n%s", err, b.err.String())
	}
	src, err := sources.NewParquetDir(out, sources.ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tables, err := src.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]arrow.Type{"encounters.patient_id": arrow.INT64,
		"encounters.admitted": arrow.TIMESTAMP, "encounters.age_at_admit": arrow.INT64,
		"patients.dob": arrow.DATE32, "patients.zip": arrow.STRING}
	for _, tb := range tables {
		for _, f := range tb.Schema.Fields() {
			if id, ok := want[tb.Name+"."+f.Name]; ok && f.Type.ID() != id {
				t.Errorf("%s.%s: type %s, want %s", tb.Name, f.Name, f.Type, id)
			}
		}
	}
}

package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/deid"
	"github.com/deid/deid/internal/synth"
	"github.com/deid/deid/sinks"
	"github.com/deid/deid/sources"
	"github.com/deid/deid/tokenize"
)

// parquetTypes returns the column types of the Parquet tables in dir.
func parquetTypes(t *testing.T, dir string) map[string]map[string]arrow.DataType {
	t.Helper()
	src, err := sources.NewParquetDir(dir, sources.ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tables, err := src.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]map[string]arrow.DataType{}
	for _, tb := range tables {
		types[tb.Name] = map[string]arrow.DataType{}
		for _, f := range tb.Schema.Fields() {
			types[tb.Name][f.Name] = f.Type
		}
	}
	return types
}

// TestFloorCSVParquetTypesMatchDeid checks that the floor writes every column
// deid keeps in the type deid writes it in, so that both encode the same
// kinds of values.
func TestFloorCSVParquetTypesMatchDeid(t *testing.T) {
	ctx := context.Background()
	in := t.TempDir()
	if err := synth.Demo(in); err != nil {
		t.Fatal(err)
	}
	floorOut := filepath.Join(t.TempDir(), "floor")
	if _, err := floorCSVParquet(ctx, "demo", in, floorOut); err != nil {
		t.Fatalf("floorCSVParquet: %v", err)
	}

	p, _, err := loadPolicy("demo")
	if err != nil {
		t.Fatal(err)
	}
	key, err := tokenize.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	src, err := sources.NewCSVDir(in, sources.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	deidOut := filepath.Join(t.TempDir(), "deid")
	dst, err := sinks.NewParquetDirSink(deidOut, sinks.ParquetSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = deid.Run(ctx, src, dst, deid.Options{Policy: p, Tokenizer: tokenize.New(key),
		InferTypes: true})
	if err != nil {
		t.Fatalf("deid.Run: %v", err)
	}

	floor, got := parquetTypes(t, floorOut), parquetTypes(t, deidOut)
	compared := 0
	for table, cols := range got {
		for col, want := range cols {
			ft := floor[table][col]
			if ft == nil {
				t.Errorf("%s.%s: deid writes it, the floor does not", table, col)
				continue
			}
			if !arrow.TypeEqual(ft, want) {
				t.Errorf("%s.%s: floor writes %s, deid %s", table, col, ft, want)
			}
			compared++
		}
	}
	if compared < 20 {
		t.Errorf("compared %d columns, want at least 20", compared)
	}
	// Spot checks: declared, inferred and text columns.
	for _, c := range []struct {
		table, col string
		want       arrow.Type
	}{
		{"patients", "patient_id", arrow.INT64},
		{"patients", "dob", arrow.DATE32},
		{"patients", "zip", arrow.STRING},
		{"encounters", "admitted", arrow.TIMESTAMP},
		{"providers", "npi", arrow.STRING},
	} {
		if dt := floor[c.table][c.col]; dt == nil || dt.ID() != c.want {
			t.Errorf("floor writes %s.%s as %v, want %s", c.table, c.col, dt, c.want)
		}
	}
}

func TestFloorParquet(t *testing.T) {
	ctx := context.Background()
	in := t.TempDir()
	if err := synth.Demo(in); err != nil {
		t.Fatal(err)
	}
	pq := filepath.Join(t.TempDir(), "pq")
	want, err := floorCSVParquet(ctx, "demo", in, pq)
	if err != nil {
		t.Fatal(err)
	}
	if !parquetComplete(pq) {
		t.Fatalf("%s lacks a table", pq)
	}
	out := filepath.Join(t.TempDir(), "out")
	got, err := floorParquet(ctx, "", pq, out)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("floorParquet copied %d rows, want %d", got, want)
	}
	for name, cols := range parquetTypes(t, pq) {
		for col, dt := range cols {
			if ot := parquetTypes(t, out)[name][col]; ot == nil || !arrow.TypeEqual(ot, dt) {
				t.Errorf("%s.%s: copied as %v, want %s", name, col, ot, dt)
			}
		}
	}

	// A failed copy publishes nothing.
	if _, err := floorParquet(ctx, "", t.TempDir(), filepath.Join(t.TempDir(), "x")); err == nil {
		t.Error("floorParquet of an empty folder succeeded")
	}
	if _, err := floorCSVParquet(ctx, "no-such-policy", in, t.TempDir()); err == nil {
		t.Error("floorCSVParquet with an unknown policy succeeded")
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".parquet" {
			t.Errorf("debris in the output: %s", e.Name())
		}
	}
}

package sinks

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/deid/deid/sources"
)

func TestPartStem(t *testing.T) {
	tests := []struct {
		shard sources.Shard
		want  string
	}{
		{sources.Shard{Index: 0, Count: 1}, "part-00000-of-00001"},
		{sources.Shard{Index: 3, Count: 16}, "part-00003-of-00016"},
		{sources.Shard{Index: 99999, Count: 100000}, "part-99999-of-100000"},
	}
	for _, tt := range tests {
		if got := PartStem(tt.shard); got != tt.want {
			t.Errorf("PartStem(%v) = %q, want %q", tt.shard, got, tt.want)
		}
	}
}

// partTable is a one-column table of ids.
func partTable(t *testing.T) (sources.Table, arrow.RecordBatch) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues([]int64{7, 8}, nil)
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, 2)
	t.Cleanup(rec.Release)
	return sources.Table{Name: "people", Schema: schema}, rec
}

func writePart(t *testing.T, dir string, part sources.Shard, format Format, rows bool) {
	t.Helper()
	ctx := context.Background()
	s, err := OpenPart(ctx, dir, OpenOptions{Format: format}, part)
	if err != nil {
		t.Fatal(err)
	}
	table, rec := partTable(t)
	w, err := s.Create(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	if rows {
		if err := w.Write(ctx, rec); err != nil {
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

func TestPartSinkSharesAFolder(t *testing.T) {
	for _, format := range []Format{FormatCSV, FormatParquet} {
		t.Run(string(format), func(t *testing.T) {
			dir := t.TempDir()
			writePart(t, dir, sources.Shard{Index: 1, Count: 2}, format, true)
			writePart(t, dir, sources.Shard{Index: 0, Count: 2}, format, false)

			entries, err := os.ReadDir(filepath.Join(dir, "people"))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			want := []string{"part-00000-of-00002." + string(format),
				"part-00001-of-00002." + string(format)}
			if !slices.Equal(got, want) {
				t.Fatalf("people/ holds %v, want %v", got, want)
			}
			if format == FormatParquet {
				if got := readParquetRows(t, dir); got != 2 {
					t.Errorf("the Parquet source reads %d rows from the parts, want 2", got)
				}
				return
			}
			for name, body := range map[string]string{want[0]: "id\n", want[1]: "id\n7\n8\n"} {
				data, err := os.ReadFile(filepath.Join(dir, "people", name))
				if err != nil {
					t.Fatal(err)
				}
				if string(data) != body {
					t.Errorf("%s = %q, want %q", name, data, body)
				}
			}
		})
	}
}

func TestPartSinkAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := NewPartSink(dir, sources.Shard{Index: 0, Count: 3}, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	table, rec := partTable(t)
	w, err := s.Create(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("after Abort the folder holds %d entries, want none", len(entries))
	}
}

func TestOpenPartRefusesNonFolders(t *testing.T) {
	part := sources.Shard{Index: 0, Count: 2}
	tests := []struct{ spec, want string }{
		{"-", "not to standard output"},
		{"postgres://u@h/db", "PostgreSQL targets are not sharded"},
		{filepath.Join(t.TempDir(), "out.csv"), "names a file"},
		{filepath.Join(t.TempDir(), "out.parquet"), "names a file"},
	}
	for _, tt := range tests {
		_, err := OpenPart(context.Background(), tt.spec, OpenOptions{}, part)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("OpenPart(%q) error = %v, want %q", tt.spec, err, tt.want)
		}
	}
	_, err := NewPartSink(t.TempDir(), sources.Shard{Index: 2, Count: 2}, OpenOptions{})
	if err == nil {
		t.Error("NewPartSink accepted shard 2 of 2")
	}
}

// readParquetRows counts the rows the Parquet source reads from dir.
func readParquetRows(t *testing.T, dir string) int64 {
	t.Helper()
	ctx := context.Background()
	src, err := sources.NewParquetDir(dir, sources.ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r, err := src.Open(ctx, "people", sources.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int64
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n += rec.NumRows()
		rec.Release()
	}
	return n
}

package sinks

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/deid/deid/internal/dataerr"
	"github.com/deid/deid/sources"
)

// FuzzCSVSinkStrings writes two text columns, one named by the fuzzer, of
// arbitrary values through the CSV sink with a fuzzed delimiter, and reads
// the output back with the CSV source. Values the source can hold (valid
// UTF-8 without NUL) come back as they were, the empty string as null;
// others make the source fail with a *dataerr.Error, never misread.
func FuzzCSVSinkStrings(f *testing.F) {
	for _, s := range [][3]string{
		{"plain", "x", "y"},
		{"\uFEFFname", "\uFEFFvalue", ""},
		{"a,b", "\"quoted\"", "line\r\nbreak"},
		{"tab\tname", "lone\rcr", " spaces "},
		{"n", "nul\x00byte", "bad\xffutf8"},
	} {
		f.Add(s[0], s[1], s[2], byte(','))
	}
	f.Fuzz(func(t *testing.T, name, a, b string, comma byte) {
		if name == "" || name == "x" || comma == 0 || comma >= utf8.RuneSelf || comma == '"' ||
			comma == '\r' || comma == '\n' || strings.HasPrefix(name, ".deid-") {
			return
		}
		schema := arrow.NewSchema([]arrow.Field{
			{Name: "x", Type: arrow.BinaryTypes.String, Nullable: true},
			{Name: name, Type: arrow.BinaryTypes.String, Nullable: true},
		}, nil)
		bld := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer bld.Release()
		cells := [][2]string{{a, b}, {b, a}}
		for _, row := range cells {
			bld.Field(0).(*array.StringBuilder).Append(row[0])
			bld.Field(1).(*array.StringBuilder).Append(row[1])
		}
		rec := bld.NewRecordBatch()
		defer rec.Release()

		// The writer of a stream sink, on a buffer rather than a temporary
		// file, so that an execution costs no file system call.
		var out bytes.Buffer
		w := &csvWriter{out: &csvOut{table: "t"}, dst: &out, q: newCSVQuoter(comma), schema: schema}
		w.header()
		if err := w.Write(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		if err := w.flush(); err != nil {
			t.Fatal(err)
		}

		readable := func(v string) bool { return utf8.ValidString(v) && !strings.Contains(v, "\x00") }
		names, rows, err := readBack(out.Bytes(), comma)
		if !readable(a) || !readable(b) || !readable(name) || strings.ContainsAny(name, "\r\n") {
			var de *dataerr.Error
			if err != nil && !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *dataerr.Error", err, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("reading back %q: %v", out.String(), err)
		}
		if len(names) != 2 || names[1] != name || len(rows) != 2 {
			t.Fatalf("read back names %q and %d rows from %q", names, len(rows), out.String())
		}
		for i, row := range cells {
			for j, want := range row {
				if got := rows[i][j]; got != want {
					t.Fatalf("row %d column %d: got %q, want %q; output %q", i, j, got, want, out.String())
				}
			}
		}
	})
}

// readBack reads a CSV stream; a null reads as "".
func readBack(in []byte, comma byte) ([]string, [][]string, error) {
	ctx := context.Background()
	src, err := sources.NewCSVReader(bytes.NewReader(in),
		sources.CSVOptions{Table: "t", Comma: rune(comma)})
	if err != nil {
		return nil, nil, err
	}
	tables, err := src.Tables(ctx)
	if err != nil {
		return nil, nil, err
	}
	var names []string
	for _, f := range tables[0].Schema.Fields() {
		names = append(names, f.Name)
	}
	r, err := src.Open(ctx, "t", sources.ReadOptions{})
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var rows [][]string
	for {
		rec, err := r.Next(ctx)
		if err == io.EOF {
			return names, rows, nil
		}
		if err != nil {
			return nil, nil, err
		}
		for i := range int(rec.NumRows()) {
			row := make([]string, rec.NumCols())
			for j, c := range rec.Columns() {
				if c.IsValid(i) {
					row[j] = c.(*array.String).Value(i)
				}
			}
			rows = append(rows, row)
		}
		rec.Release()
	}
}

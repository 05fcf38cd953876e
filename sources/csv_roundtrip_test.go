package sources_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/internal/dataerr"
	"github.com/deid/deid/sinks"
	"github.com/deid/deid/sources"
)

// table is what a CSV source read: column names and cells, nil for null.
type table struct {
	names []string
	rows  [][]*string
}

// readCSV reads the one table of in through a stream source in small
// batches.
func readCSV(ctx context.Context, in []byte) (table, *arrow.Schema, []arrow.RecordBatch, error) {
	var tb table
	src, err := sources.NewCSVReader(bytes.NewReader(in), sources.CSVOptions{Table: "t"})
	if err != nil {
		return tb, nil, nil, err
	}
	defer src.Close()
	if _, err := src.Tables(ctx); err != nil {
		return tb, nil, nil, err
	}
	r, err := src.Open(ctx, "t", sources.ReadOptions{BatchRows: 3})
	if err != nil {
		return tb, nil, nil, err
	}
	defer r.Close()
	for _, f := range r.Schema().Fields() {
		tb.names = append(tb.names, f.Name)
	}

	var recs []arrow.RecordBatch
	for {
		rec, err := r.Next(ctx)
		if err == io.EOF {
			return tb, r.Schema(), recs, nil
		}
		if err != nil {
			return tb, nil, recs, err
		}
		if rec.NumRows() == 0 {
			return tb, nil, recs, errors.New("empty batch")
		}
		recs = append(recs, rec)
		for i := range int(rec.NumRows()) {
			row := make([]*string, rec.NumCols())
			for j, col := range rec.Columns() {
				if col.IsValid(i) {
					v := col.ValueStr(i)
					row[j] = &v
				}
			}
			tb.rows = append(tb.rows, row)
		}
	}
}

// writeCSV writes batches through a stream sink.
func writeCSV(ctx context.Context, schema *arrow.Schema, recs []arrow.RecordBatch) ([]byte, error) {
	var out bytes.Buffer
	sink, err := sinks.NewCSVStreamSink(&out, sinks.CSVSinkOptions{})
	if err != nil {
		return nil, err
	}
	defer sink.Abort()
	w, err := sink.Create(ctx, sources.Table{Name: "t", Schema: schema})
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		if err := w.Write(ctx, rec); err != nil {
			return nil, err
		}
	}
	if err := w.Close(ctx); err != nil {
		return nil, err
	}
	if err := sink.Commit(ctx); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func sameTable(a, b table) bool {
	return slices.Equal(a.names, b.names) && slices.EqualFunc(a.rows, b.rows,
		func(x, y []*string) bool {
			return slices.EqualFunc(x, y, func(p, q *string) bool {
				return (p == nil) == (q == nil) && (p == nil || *p == *q)
			})
		})
}

// checkRoundTrip reads in, writes what it read with the CSV sink and reads
// that again: the cells must be the same, and any error a *dataerr.Error.
func checkRoundTrip(t *testing.T, in []byte) (first table, out []byte) {
	t.Helper()
	ctx := context.Background()
	first, schema, recs, err := readCSV(ctx, in)
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	if err != nil {
		var de *dataerr.Error
		if !errors.As(err, &de) {
			t.Fatalf("error %v (%T) is not a *dataerr.Error", err, err)
		}
		return first, nil
	}

	out, err = writeCSV(ctx, schema, recs)
	if err != nil {
		t.Fatalf("writing what was read: %v", err)
	}
	second, _, recs2, err := readCSV(ctx, out)
	for _, rec := range recs2 {
		rec.Release()
	}
	if err != nil {
		t.Fatalf("reading what was written: %v\n%q", err, out)
	}
	if !sameTable(first, second) {
		t.Fatalf("round trip changed the table\n in %q\nout %q", in, out)
	}
	return first, out
}

func TestCSVRoundTrip(t *testing.T) {
	in := "\uFEFFid,name,note,city\r\n" +
		"1,\"Doe, Jane\",\"says \"\"hi\"\"\",Zürich\r\n" +
		"2,,\"two\r\nlines\",\r\n" +
		"\r\n" +
		"3,\"\",\" lead and trail \",東京\r\n" +
		"4,x\ry,\"a\nb\",\"\"\"\"\r\n"
	tb, out := checkRoundTrip(t, []byte(in))
	if len(tb.rows) != 4 {
		t.Fatalf("read %d rows, want 4", len(tb.rows))
	}
	want := "id,name,note,city\n" +
		"1,\"Doe, Jane\",\"says \"\"hi\"\"\",Zürich\n" +
		"2,,\"two\r\nlines\",\n" +
		"3,, lead and trail ,東京\n" +
		"4,\"x\ry\",\"a\nb\",\"\"\"\"\n"
	if string(out) != want {
		t.Errorf("written:\n got %q\nwant %q", out, want)
	}
}

// FuzzCSVReader checks that reading never panics, that every error is a
// *dataerr.Error, and that what was read, written by the CSV sink and read
// again gives the same cells.
func FuzzCSVReader(f *testing.F) {
	for _, seed := range []string{
		"a,b\n1,2\n",
		"\uFEFFa,b\r\n\"x,\"\"y\"\"\",\r\n",
		"a\n\n\"\"\n",
		"a,b\n\"multi\nline\",\"cr\r\nlf\"\n",
		"a,b\n1,\"unterminated\n",
		"a,a\n",
		"a,b\n1\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkRoundTrip(t, in)
	})
}

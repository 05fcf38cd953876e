package sources_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/internal/dataerr"
	"github.com/deid/deid/sources"
)

// typedHeader names one column of every type a CSV source can read.
const typedHeader = "i64,i32,f64,b,d,ts,tz\n"

var typedTypes = map[string]arrow.DataType{
	"i64": arrow.PrimitiveTypes.Int64,
	"i32": arrow.PrimitiveTypes.Int32,
	"f64": arrow.PrimitiveTypes.Float64,
	"b":   arrow.FixedWidthTypes.Boolean,
	"d":   arrow.FixedWidthTypes.Date32,
	"ts":  arrow.FixedWidthTypes.Timestamp_us,
	"tz":  &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "America/New_York"},
}

// readTyped reads the one table of in with typedTypes declared.
func readTyped(ctx context.Context, in []byte) (*arrow.Schema, []arrow.RecordBatch, error) {
	src, err := sources.NewCSVReader(bytes.NewReader(in), sources.CSVOptions{Table: "t"})
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	if _, err := src.Tables(ctx); err != nil {
		return nil, nil, err
	}
	r, err := src.Open(ctx, "t", sources.ReadOptions{BatchRows: 4, Types: typedTypes})
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var recs []arrow.RecordBatch
	for {
		rec, err := r.Next(ctx)
		if err == io.EOF {
			return r.Schema(), recs, nil
		}
		if err != nil {
			return nil, recs, err
		}
		recs = append(recs, rec)
	}
}

// FuzzCSVTypedRoundTrip reads typed columns, writes them with the CSV sink
// and reads that again: reading never panics, fails only with a
// *dataerr.Error, and what the sink writes reads back to the same text.
func FuzzCSVTypedRoundTrip(f *testing.F) {
	for _, body := range []string{
		"1,2,3.5,true,2020-01-01,2020-01-01T10:00:00Z,2020-01-01 10:00:00.5+05:30\n",
		"-9223372036854775808,-2147483648,-0,F,0000-01-01,0001-01-01,9999-12-31T23:59:59.999999999Z\n",
		",,NaN,,,,\n+7,+7,1e308,1,9999-12-31,1970-01-01t00:00:00z,1969-12-31T23:59:59.999-00:01\n",
		"1e3,1,1,1,2023-02-30,2020-01-01,2020-01-01\n",
		"1,1,Inf,TRUE,2020-01-01,2020-01-01T24:00:00,x\n",
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ctx := context.Background()
		in := append([]byte(typedHeader), body...)
		schema, recs, err := readTyped(ctx, in)
		defer release(recs)
		if err != nil {
			var de *dataerr.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *dataerr.Error", err, err)
			}
			return
		}

		out, err := writeCSV(ctx, schema, recs)
		if err != nil {
			t.Fatalf("writing what was read: %v", err)
		}
		schema2, recs2, err := readTyped(ctx, out)
		defer release(recs2)
		if err != nil {
			t.Fatalf("reading what was written: %v\n%q", err, out)
		}
		again, err := writeCSV(ctx, schema2, recs2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("round trip changed the values\n in %q\nout %q\nthen %q", in, out, again)
		}
	})
}

func release(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

package sinks

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/deid/deid/sources"
)

// TestCSVSinkOffsetWithSeconds writes times whose zone offset has seconds
// (New York's local mean time before 1883, -04:56:02): RFC 3339 cannot say
// such an offset, so the time is written in UTC, at the same instant.
func TestCSVSinkOffsetWithSeconds(t *testing.T) {
	typ := &arrow.TimestampType{Unit: arrow.Second, TimeZone: "America/New_York"}
	schema := arrow.NewSchema([]arrow.Field{{Name: "at", Type: typ, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no zone data: %v", err)
	}
	tb := b.Field(0).(*array.TimestampBuilder)
	for _, tm := range []time.Time{
		time.Date(1850, 10, 1, 0, 0, 0, 0, ny),
		time.Date(2020, 7, 1, 12, 0, 0, 0, ny),
	} {
		tb.Append(arrow.Timestamp(tm.Unix()))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()

	var out bytes.Buffer
	s, _ := NewCSVStreamSink(&out, CSVSinkOptions{})
	w, err := s.Create(context.Background(), sources.Table{Name: "t", Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := "at\n1850-10-01T04:56:02Z\n2020-07-01T12:00:00-04:00\n"
	if got := out.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

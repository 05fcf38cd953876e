package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/deid/deid/sources"
)

// sample is the first rows of one table, as text, column by column. A null
// is held as absent in valid; typed values (dates, numbers) are held in the
// text form a CSV file would give them.
type sample struct {
	table    sources.Table
	rows     int
	complete bool // the table has no rows beyond the sample
	cols     []*colSample
}

// colSample is the sampled values of one column.
type colSample struct {
	name   string
	typ    arrow.DataType
	values []string
	valid  []bool
	// days holds, per row, the day number of a typed date or timestamp
	// value (days since 1970-01-01), so that typed dates need no parsing;
	// nil for other types.
	days []int32
	// hasTime is set for timestamp columns.
	hasTime bool
}

// readSample reads up to n rows of table t. It reads every column as the
// source types it, without declared types, so nothing can fail to parse.
//
// TODO: the sample is the first n rows, not a random sample, so a table
// sorted by a column shows the scan only one end of it.
func readSample(ctx context.Context, src sources.Source, t sources.Table, n int) (*sample, error) {
	s := &sample{table: t}
	for _, f := range t.Schema.Fields() {
		c := &colSample{name: f.Name, typ: f.Type}
		switch f.Type.ID() {
		case arrow.DATE32, arrow.DATE64, arrow.TIMESTAMP:
			c.days = []int32{}
			c.hasTime = f.Type.ID() == arrow.TIMESTAMP
		}
		s.cols = append(s.cols, c)
	}

	r, err := src.Open(ctx, t.Name, sources.ReadOptions{BatchRows: min(n, sources.DefaultBatchRows)})
	if err != nil {
		return nil, fmt.Errorf("scan: opening table %q: %w", t.Name, err)
	}
	defer r.Close()
	for s.rows < n {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			s.complete = true
			break
		}
		if err != nil {
			return nil, fmt.Errorf("scan: reading table %q: %w", t.Name, err)
		}
		take := min(int(rec.NumRows()), n-s.rows)
		for i, c := range s.cols {
			c.add(rec.Column(i), take)
		}
		s.rows += take
		left := int(rec.NumRows()) - take
		rec.Release()
		if left > 0 {
			return s, nil
		}
	}
	if !s.complete {
		// A table of exactly n rows is complete too.
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			s.complete = true
		} else if err == nil {
			rec.Release()
		}
	}
	return s, nil
}

// add appends the first n values of a.
func (c *colSample) add(a arrow.Array, n int) {
	for i := 0; i < n; i++ {
		if a.IsNull(i) {
			c.values = append(c.values, "")
			c.valid = append(c.valid, false)
			if c.days != nil {
				c.days = append(c.days, noDay)
			}
			continue
		}
		v, day := cellText(a, i)
		c.values = append(c.values, v)
		c.valid = append(c.valid, true)
		if c.days != nil {
			c.days = append(c.days, day)
		}
	}
}

// noDay marks a row without a date.
const noDay = int32(-1 << 31)

// cellText formats row i of a as text, and for dates and timestamps also
// returns the day number.
func cellText(a arrow.Array, i int) (string, int32) {
	switch a := a.(type) {
	case *array.String:
		return a.Value(i), noDay
	case *array.LargeString:
		return a.Value(i), noDay
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10), noDay
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10), noDay
	case *array.Int16:
		return strconv.FormatInt(int64(a.Value(i)), 10), noDay
	case *array.Int8:
		return strconv.FormatInt(int64(a.Value(i)), 10), noDay
	case *array.Uint64:
		return strconv.FormatUint(a.Value(i), 10), noDay
	case *array.Uint32:
		return strconv.FormatUint(uint64(a.Value(i)), 10), noDay
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'f', -1, 64), noDay
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(i)), 'f', -1, 32), noDay
	case *array.Boolean:
		return strconv.FormatBool(a.Value(i)), noDay
	case *array.Date32:
		t := a.Value(i).ToTime()
		return t.Format(time.DateOnly), dayNumber(t)
	case *array.Date64:
		t := a.Value(i).ToTime()
		return t.Format(time.DateOnly), dayNumber(t)
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		t := a.Value(i).ToTime(unit)
		return t.Format("2006-01-02T15:04:05"), dayNumber(t)
	}
	return a.ValueStr(i), noDay
}

// dayNumber returns the days since 1970-01-01 of t's calendar date.
func dayNumber(t time.Time) int32 {
	y, m, d := t.Date()
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

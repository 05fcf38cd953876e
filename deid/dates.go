package deid

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/deid/deid/safeharbor"
)

// bindYear plans the year-only rule for a date column. Text columns become
// the year as text ("1987"); date and timestamp columns keep their type and
// hold January 1 of the year. Birth years that imply an age of 90 or more at
// the reference date become the single bucket ref-90 ("<=1936" as text).
func bindYear(c *ColumnPlan, env Env) error {
	switch c.InType.ID() {
	case arrow.STRING, arrow.DATE32, arrow.DATE64, arrow.TIMESTAMP:
	default:
		return fmt.Errorf("the year rule needs a date, timestamp or string column, not %s", c.InType)
	}
	c.OutType = c.InType
	bucket := c.Kind == safeharbor.BirthDate
	if c.InType.ID() == arrow.STRING {
		c.Note = "year only, as text"
	} else {
		c.Note = "year only, stored as January 1 of the year; month and day carry no information"
	}
	if bucket {
		c.Note += "; birth years implying an age of 90 or more at the latest of the row's other released" +
			" dates (and of the as-of date, unless a listed reference has a date in the row) are" +
			" replaced by that year minus 90, meaning that year or earlier"
		if c.InType.ID() == arrow.STRING {
			c.Note += ` and written "<=YEAR"`
		}
	}

	rule := c.Kind
	refs := c.Refs
	asOf := env.AsOf
	listed := c.ListedRefs
	c.apply = func(b *batchCtx, a arrow.Array) (arrow.Array, error) {
		refYear := func(i int) int {
			return safeharbor.ReferenceYear(len(refs), listed, func(k int) (int, bool) {
				t, ok, _ := dateAt(b.rec.Column(refs[k]), i)
				return t.Year(), ok
			}, asOf.Year())
		}
		// yearOf returns the year to release for row i, whether it is the
		// 90-or-older bucket, and whether the row has a date at all.
		yearOf := func(i int) (year int, bucketed, ok bool, err error) {
			t, ok, bad := dateAt(a, i)
			if bad {
				return 0, false, false, cellError(i, string(rule), "value is not a valid date")
			}
			if !ok {
				return 0, false, false, nil
			}
			if !bucket {
				return t.Year(), false, true, nil
			}
			y, bucketed := safeharbor.BirthYear(t.Year(), refYear(i))
			return y, bucketed, true, nil
		}

		if a.DataType().ID() == arrow.STRING {
			return mapStrings(b, a, func(dst, v []byte, i int) ([]byte, error) {
				y, bucketed, _, err := yearOf(i)
				if err != nil {
					return nil, err
				}
				return appendYear(dst, y, bucketed), nil
			})
		}
		return yearsTyped(b, a, yearOf)
	}
	return nil
}

// yearsTyped writes January 1 of each row's year in a's own type.
func yearsTyped(b *batchCtx, a arrow.Array, yearOf func(int) (int, bool, bool, error)) (
	arrow.Array, error) {
	bld := array.NewBuilder(b.mem, a.DataType())
	defer bld.Release()
	bld.Reserve(a.Len())

	for i := 0; i < a.Len(); i++ {
		y, _, ok, err := yearOf(i)
		if err != nil {
			return nil, err
		}
		if !ok {
			bld.AppendNull()
			continue
		}
		switch bb := bld.(type) {
		case *array.Date32Builder:
			bb.Append(arrow.Date32FromTime(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)))
		case *array.Date64Builder:
			bb.Append(arrow.Date64FromTime(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)))
		case *array.TimestampBuilder:
			tt := a.DataType().(*arrow.TimestampType)
			loc, err := tt.GetZone()
			if err != nil || loc == nil {
				loc = time.UTC
			}
			ts, err := arrow.TimestampFromTime(time.Date(y, 1, 1, 0, 0, 0, 0, loc), tt.Unit)
			if err != nil {
				return nil, cellError(i, "year", "year is outside the timestamp range")
			}
			bb.Append(ts)
		}
	}
	return bld.NewArray(), nil
}

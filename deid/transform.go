package deid

import (
	"fmt"
	"strconv"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/deid/deid/internal/dataerr"
	"github.com/deid/deid/safeharbor"
)

// columnFunc transforms one column of a batch. It returns a new array the
// caller releases; errors are *dataerr.Error values with Row set relative
// to the batch (1-based) and no table, which the caller fills in.
type columnFunc func(b *batchCtx, in arrow.Array) (arrow.Array, error)

// batchCtx is what a column transform may see of its batch.
type batchCtx struct {
	mem    memory.Allocator
	rec    arrow.RecordBatch
	buf    []byte                    // scratch, reused across values
	caches map[*ColumnPlan]*intCache // per column, for one worker
}

// intCache remembers recent integer tokens of one column. Keys repeat a lot
// in child tables (a patient's encounters, a provider's patients), and an
// FF1 token costs ten AES blocks, so a small direct-mapped table pays off.
// It lives in one worker's memory only and is never written anywhere.
type intCache struct {
	keys [intCacheSize]int64
	vals [intCacheSize]int64
	set  [intCacheSize]bool
}

const intCacheBits = 12
const intCacheSize = 1 << intCacheBits

func (b *batchCtx) cache(c *ColumnPlan) *intCache {
	if b.caches == nil {
		b.caches = map[*ColumnPlan]*intCache{}
	}
	ic := b.caches[c]
	if ic == nil {
		ic = new(intCache)
		b.caches[c] = ic
	}
	return ic
}

// get returns the token of v, computing it with f on a miss.
func (ic *intCache) get(v int64, f func(int64) int64) int64 {
	h := uint64(v) * 0x9E3779B97F4A7C15 >> (64 - intCacheBits)
	if ic.set[h] && ic.keys[h] == v {
		return ic.vals[h]
	}
	t := f(v)
	ic.keys[h], ic.vals[h], ic.set[h] = v, t, true
	return t
}

// cellError locates a bad value at row i (0-based) of the batch.
func cellError(i int, rule, reason string) error {
	return &dataerr.Error{Row: int64(i) + 1, Rule: rule, Reason: reason}
}

// bindColumn chooses the output type and the transform for a planned column,
// or says why the action cannot apply to the column's type.
func bindColumn(c *ColumnPlan, env Env) error {
	in := c.InType
	switch c.Action {
	case safeharbor.Keep:
		c.OutType = in
		c.apply = keepColumn
	case safeharbor.Drop:
		c.apply = nil
	case safeharbor.Null:
		c.OutType = in
		c.apply = func(b *batchCtx, a arrow.Array) (arrow.Array, error) {
			return array.MakeArrayOfNull(b.mem, c.OutType, a.Len()), nil
		}
	case safeharbor.Token:
		return bindToken(c, env)
	case safeharbor.Surrogate:
		if in.ID() != arrow.STRING {
			return fmt.Errorf("surrogates need a string column, not %s", in)
		}
		d := env.Tokenizer.Domain(c.Domain)
		fake := c.Fake
		c.OutType = in
		c.apply = func(b *batchCtx, a arrow.Array) (arrow.Array, error) {
			return mapStrings(b, a, func(dst, v []byte, _ int) ([]byte, error) {
				return d.AppendFake(dst, fake, v), nil
			})
		}
	case safeharbor.Year:
		return bindYear(c, env)
	case safeharbor.Zip3:
		return bindZip3(c, env)
	case safeharbor.TopCode:
		return bindTopCode(c)
	default:
		return fmt.Errorf("action %q is not known", c.Action)
	}
	return nil
}

func keepColumn(_ *batchCtx, a arrow.Array) (arrow.Array, error) {
	a.Retain()
	return a, nil
}

func bindToken(c *ColumnPlan, env Env) error {
	d := env.Tokenizer.Domain(c.Domain)
	c.OutType = c.InType
	switch c.InType.ID() {
	case arrow.STRING:
		c.Note = "keyed HMAC-SHA-256 token, 128 bits, derived from the identifier"
		c.apply = func(b *batchCtx, a arrow.Array) (arrow.Array, error) {
			return mapStrings(b, a, func(dst, v []byte, _ int) ([]byte, error) {
				return d.AppendToken(dst, v), nil
			})
		}
	case arrow.INT64:
		c.Note = "keyed FF1 bijection on int64, derived from the identifier; unique stays unique"
		c.apply = func(b *batchCtx, a arrow.Array) (arrow.Array, error) {
			in := a.(*array.Int64)
			out := make([]int64, in.Len())
			ic := b.cache(c)
			for i := range out {
				if in.IsValid(i) {
					out[i] = ic.get(in.Value(i), d.Int64)
				}
			}
			return withNulls(b, a, array.NewInt64Data, arrow.Int64Traits.CastToBytes(out)), nil
		}
	case arrow.INT32:
		int32Token := func(v int64) int64 { return int64(d.Int32(int32(v))) }
		c.Note = "keyed FF1 bijection on int32, derived from the identifier; unique stays unique"
		c.apply = func(b *batchCtx, a arrow.Array) (arrow.Array, error) {
			in := a.(*array.Int32)
			out := make([]int32, in.Len())
			ic := b.cache(c)
			for i := range out {
				if in.IsValid(i) {
					out[i] = int32(ic.get(int64(in.Value(i)), int32Token))
				}
			}
			return withNulls(b, a, array.NewInt32Data, arrow.Int32Traits.CastToBytes(out)), nil
		}
	default:
		return fmt.Errorf("tokens need a string, int32 or int64 column, not %s "+
			"(declare `type: string` or widen the column)", c.InType)
	}
	return nil
}

// withNulls builds a fixed-width array of a's type and null bitmap over the
// given value bytes.
func withNulls[T arrow.Array](b *batchCtx, a arrow.Array, mk func(arrow.ArrayData) T,
	values []byte) arrow.Array {
	d := a.Data()
	var bufs [2]*memory.Buffer
	if a.NullN() > 0 && d.Offset() == 0 {
		bufs[0] = d.Buffers()[0]
	}
	bufs[1] = memory.NewBufferBytes(values)
	nulls := a.NullN()
	if bufs[0] == nil && nulls > 0 {
		// An offset bitmap: copy the validity bit by bit.
		bm := make([]byte, (a.Len()+7)/8)
		for i := 0; i < a.Len(); i++ {
			if a.IsValid(i) {
				bm[i/8] |= 1 << (i % 8)
			}
		}
		bufs[0] = memory.NewBufferBytes(bm)
	}
	out := array.NewData(a.DataType(), a.Len(), bufs[:], nil, nulls, 0)
	defer out.Release()
	return mk(out)
}

// mapStrings applies fn to every non-null value of a string column; nulls
// stay null. fn appends its output to dst and gets the 0-based row.
func mapStrings(b *batchCtx, a arrow.Array, fn func(dst, v []byte, row int) ([]byte, error)) (
	arrow.Array, error) {
	in := a.(*array.String)
	bld := array.NewStringBuilder(b.mem)
	defer bld.Release()
	bld.Reserve(in.Len())
	bld.ReserveData(len(in.ValueBytes()) + 8*in.Len())

	for i := 0; i < in.Len(); i++ {
		if in.IsNull(i) {
			bld.AppendNull()
			continue
		}
		var err error
		b.buf, err = fn(b.buf[:0], bytesOf(in.Value(i)), i)
		if err != nil {
			return nil, err
		}
		bld.BinaryBuilder.Append(b.buf)
	}
	return bld.NewArray(), nil
}

// bytesOf views s as bytes without copying; the result must not be changed.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

func bindZip3(c *ColumnPlan, env Env) error {
	rule := env.Zip
	c.OutType = arrow.BinaryTypes.String
	c.Note = "3-digit ZIP prefix, 000 where the " + safeharbor.CensusVintage +
		" Census prefix holds 20,000 people or fewer"
	switch c.InType.ID() {
	case arrow.STRING:
		c.apply = func(b *batchCtx, a arrow.Array) (arrow.Array, error) {
			return mapStrings(b, a, func(dst, v []byte, _ int) ([]byte, error) {
				return append(dst, rule.Zip3(string(v))...), nil
			})
		}
	case arrow.INT32, arrow.INT64:
		c.Note += "; numeric ZIPs are read as text with leading zeros restored"
		c.apply = func(b *batchCtx, a arrow.Array) (arrow.Array, error) {
			bld := array.NewStringBuilder(b.mem)
			defer bld.Release()
			bld.Reserve(a.Len())
			for i := 0; i < a.Len(); i++ {
				if a.IsNull(i) {
					bld.AppendNull()
					continue
				}
				bld.Append(rule.Zip3Int(intAt(a, i)))
			}
			return bld.NewArray(), nil
		}
	default:
		return fmt.Errorf("zip3 needs a string or integer column, not %s", c.InType)
	}
	return nil
}

func intAt(a arrow.Array, i int) int64 {
	switch a := a.(type) {
	case *array.Int64:
		return a.Value(i)
	case *array.Int32:
		return int64(a.Value(i))
	}
	return 0
}

func bindTopCode(c *ColumnPlan) error {
	c.OutType = c.InType
	switch c.InType.ID() {
	case arrow.INT64, arrow.INT32:
		c.Note = "ages of 90 or more are written as 90, which means 90 or older"
		c.apply = func(b *batchCtx, a arrow.Array) (arrow.Array, error) {
			return topCodeInts(b, a)
		}
	case arrow.FLOAT64:
		c.Note = "ages of 90 or more are written as 90, which means 90 or older"
		c.apply = func(b *batchCtx, a arrow.Array) (arrow.Array, error) {
			in := a.(*array.Float64)
			out := make([]float64, in.Len())
			for i := range out {
				out[i] = safeharbor.TopCodeAgeFloat(in.Value(i))
			}
			return withNulls(b, a, array.NewFloat64Data, arrow.Float64Traits.CastToBytes(out)), nil
		}
	case arrow.STRING:
		c.Note = `ages of 90 or more are written as "90+"`
		c.apply = func(b *batchCtx, a arrow.Array) (arrow.Array, error) {
			return mapStrings(b, a, func(dst, v []byte, row int) ([]byte, error) {
				s, ok := safeharbor.TopCodeAgeText(string(v))
				if !ok {
					return nil, cellError(row, "age", "value is not an age in years")
				}
				return append(dst, s...), nil
			})
		}
	default:
		return fmt.Errorf("top-code needs a numeric or string column, not %s", c.InType)
	}
	return nil
}

func topCodeInts(b *batchCtx, a arrow.Array) (arrow.Array, error) {
	switch in := a.(type) {
	case *array.Int64:
		out := make([]int64, in.Len())
		for i := range out {
			if in.IsValid(i) && in.Value(i) < 0 {
				return nil, cellError(i, "age", "age is negative")
			}
			out[i] = safeharbor.TopCodeAge(in.Value(i))
		}
		return withNulls(b, a, array.NewInt64Data, arrow.Int64Traits.CastToBytes(out)), nil
	case *array.Int32:
		out := make([]int32, in.Len())
		for i := range out {
			if in.IsValid(i) && in.Value(i) < 0 {
				return nil, cellError(i, "age", "age is negative")
			}
			out[i] = int32(safeharbor.TopCodeAge(int64(in.Value(i))))
		}
		return withNulls(b, a, array.NewInt32Data, arrow.Int32Traits.CastToBytes(out)), nil
	}
	return nil, fmt.Errorf("top-code: unexpected array %T", a)
}

// appendYear appends a year, or the "<=YEAR" bucket label, as text.
func appendYear(dst []byte, year int, bucketed bool) []byte {
	if bucketed {
		dst = append(dst, "<="...)
	}
	return strconv.AppendInt(dst, int64(year), 10)
}

// dateAt reads row i of a date, timestamp or string column as a time.
// ok is false for nulls; err is set for text that is not a date.
func dateAt(a arrow.Array, i int) (t time.Time, ok bool, bad bool) {
	if a.IsNull(i) {
		return time.Time{}, false, false
	}
	switch a := a.(type) {
	case *array.String:
		t, ok := safeharbor.ParseDate(a.Value(i))
		return t, ok, !ok
	case *array.Date32:
		return a.Value(i).ToTime(), true, false
	case *array.Date64:
		return a.Value(i).ToTime(), true, false
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit), true, false
	}
	return time.Time{}, false, true
}

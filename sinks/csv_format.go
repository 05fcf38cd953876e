package sinks

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/deid/deid/internal/civil"
)

// cellFunc appends the text of row i of one column, which is not null.
type cellFunc func(b []byte, i int) []byte

// csvCells returns the formatter of one column of a batch. Strings are
// quoted where needed; binary values (written as standard base64), numbers,
// dates and times are checked for quoting only when the delimiter is a
// character their text can hold.
func csvCells(a arrow.Array, q *csvQuoter) (cellFunc, error) {
	switch a := a.(type) {
	case *array.String:
		return func(b []byte, i int) []byte { return q.appendString(b, a.Value(i)) }, nil
	case *array.LargeString:
		return func(b []byte, i int) []byte { return q.appendString(b, a.Value(i)) }, nil
	case *array.StringView:
		return func(b []byte, i int) []byte { return q.appendString(b, a.Value(i)) }, nil
	case *array.Binary:
		return q.base64Cells(a.Value), nil
	case *array.LargeBinary:
		return q.base64Cells(a.Value), nil
	case *array.BinaryView:
		return q.base64Cells(a.Value), nil
	case *array.FixedSizeBinary:
		return q.base64Cells(a.Value), nil
	case *array.Null:
		return func(b []byte, _ int) []byte { return b }, nil
	}
	cell, err := csvPlainCells(a)
	if err != nil || !q.plainNeedsCheck {
		return cell, err
	}
	return func(b []byte, i int) []byte {
		start := len(b)
		b = cell(b, i)
		return q.requote(b, start)
	}, nil
}

// csvPlainCells formats values whose text holds no quote, CR or LF.
func csvPlainCells(a arrow.Array) (cellFunc, error) {
	switch a := a.(type) {

	case *array.Boolean:
		return func(b []byte, i int) []byte { return strconv.AppendBool(b, a.Value(i)) }, nil
	case *array.Int8:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(a.Value(i)), 10) }, nil
	case *array.Int16:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(a.Value(i)), 10) }, nil
	case *array.Int32:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(a.Value(i)), 10) }, nil
	case *array.Int64:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, a.Value(i), 10) }, nil
	case *array.Uint8:
		return func(b []byte, i int) []byte { return strconv.AppendUint(b, uint64(a.Value(i)), 10) }, nil
	case *array.Uint16:
		return func(b []byte, i int) []byte { return strconv.AppendUint(b, uint64(a.Value(i)), 10) }, nil
	case *array.Uint32:
		return func(b []byte, i int) []byte { return strconv.AppendUint(b, uint64(a.Value(i)), 10) }, nil
	case *array.Uint64:
		return func(b []byte, i int) []byte { return strconv.AppendUint(b, a.Value(i), 10) }, nil
	case *array.Float32:
		return func(b []byte, i int) []byte {
			return strconv.AppendFloat(b, float64(a.Value(i)), 'g', -1, 32)
		}, nil
	case *array.Float64:
		return func(b []byte, i int) []byte {
			return strconv.AppendFloat(b, a.Value(i), 'g', -1, 64)
		}, nil
	case *array.Date32:
		return func(b []byte, i int) []byte { return appendDate(b, int64(a.Value(i))) }, nil
	case *array.Date64:
		return func(b []byte, i int) []byte {
			return appendDate(b, civil.FloorDiv(int64(a.Value(i)), 86_400_000))
		}, nil
	case *array.Timestamp:
		return timestampCells(a)
	case *array.Time32:
		unit := a.DataType().(*arrow.Time32Type).Unit
		return func(b []byte, i int) []byte { return appendClock(b, int64(a.Value(i)), unit) }, nil
	case *array.Time64:
		unit := a.DataType().(*arrow.Time64Type).Unit
		return func(b []byte, i int) []byte { return appendClock(b, int64(a.Value(i)), unit) }, nil
	case *array.Decimal32:
		return decimalCells(a)
	case *array.Decimal64:
		return decimalCells(a)
	case *array.Decimal128:
		return decimalCells(a)
	case *array.Decimal256:
		return decimalCells(a)
	}
	return nil, fmt.Errorf("cannot write type %s as CSV", a.DataType())
}

// timestampCells formats RFC 3339 in the type's zone (UTC when it has none),
// with a fraction only when it is not zero. An offset with seconds (local
// mean time, before a zone adopted standard time: -04:56:02 in New York
// until 1883) cannot be written in RFC 3339, whose offsets are whole
// minutes, so such a time is written in UTC rather than moved.
func timestampCells(a *array.Timestamp) (cellFunc, error) {
	typ := a.DataType().(*arrow.TimestampType)
	loc, err := typ.GetZone()
	if err != nil {
		return nil, fmt.Errorf("time zone of %s: unknown", typ)
	}
	unit := typ.Unit
	return func(b []byte, i int) []byte {
		t := a.Value(i).ToTime(unit).In(loc)
		if _, off := t.Zone(); off%60 != 0 {
			t = t.UTC()
		}
		return t.AppendFormat(b, time.RFC3339Nano)
	}, nil
}

// decimalCells formats decimals with exactly the type's scale, e.g. 1.50.
func decimalCells[T interface{ ToString(int32) string }](a interface {
	arrow.Array
	Value(int) T
}) (cellFunc, error) {
	scale := a.DataType().(arrow.DecimalType).GetScale()
	return func(b []byte, i int) []byte { return append(b, a.Value(i).ToString(scale)...) }, nil
}

// base64Cells writes binary values as standard base64, and an empty value
// as "" so that it differs from a null.
func (q *csvQuoter) base64Cells(value func(int) []byte) cellFunc {
	enc := base64.StdEncoding
	return func(b []byte, i int) []byte {
		v := value(i)
		if len(v) == 0 {
			return append(b, '"', '"')
		}
		start := len(b)
		b = enc.AppendEncode(b, v)
		if q.plainNeedsCheck {
			return q.requote(b, start)
		}
		return b
	}
}

// appendDate appends YYYY-MM-DD for a count of days since 1970-01-01.
func appendDate(b []byte, days int64) []byte {
	y, m, d := civil.Date(days)
	if y < 0 || y > 9999 {
		return time.Unix(days*86400, 0).UTC().AppendFormat(b, time.DateOnly)
	}
	return append(b,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}

// appendClock appends a time of day as hh:mm:ss with a fraction only when
// it is not zero.
func appendClock(b []byte, v int64, unit arrow.TimeUnit) []byte {
	ns := v * int64(unit.Multiplier())
	t := time.Unix(0, ns).UTC()
	return t.AppendFormat(b, "15:04:05.999999999")
}

// csvQuoter quotes fields as RFC 4180 requires, and only then: a field is
// quoted when it holds the delimiter, a quote, CR or LF, or is empty (so
// that an empty string differs from a null, which is written as nothing).
type csvQuoter struct {
	comma byte
	pat   uint64 // comma in every byte
	// plainNeedsCheck is set when the delimiter can occur in the text of a
	// number, date or time, which then needs the same check as a string.
	plainNeedsCheck bool
}

func newCSVQuoter(comma byte) *csvQuoter {
	plain := comma >= '0' && comma <= '9' || comma >= 'a' && comma <= 'z' ||
		comma >= 'A' && comma <= 'Z' || strings.IndexByte("-+.:/=", comma) >= 0
	return &csvQuoter{comma: comma, pat: swarLo * uint64(comma), plainNeedsCheck: plain}
}

const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

// special has the high bit set in each byte of x (eight bytes of text) that
// is the delimiter, a quote, CR or LF, and possibly in bytes above one; it
// is zero exactly when there is none (the classic SWAR zero-byte test).
func (q *csvQuoter) special(x uint64) uint64 {
	zero := func(y uint64) uint64 { return (y - swarLo) &^ y & swarHi }
	return zero(x^q.pat) | zero(x^(swarLo*'"')) | zero(x^(swarLo*'\n')) | zero(x^(swarLo*'\r'))
}

// needsQuote reports whether v must be quoted. It reads eight bytes at a
// time, and reads a short tail as a whole word when v's capacity allows.
func (q *csvQuoter) needsQuote(v []byte) bool {
	n := len(v)
	if n == 0 {
		return true
	}
	i := 0
	for ; i+8 <= n; i += 8 {
		if q.special(binary.LittleEndian.Uint64(v[i:])) != 0 {
			return true
		}
	}
	if i == n {
		return false
	}
	if cap(v)-i >= 8 {
		// Bytes past the tail are masked off; a false bit only appears
		// above a true one, so masking keeps the answer exact.
		x := binary.LittleEndian.Uint64(v[i : i+8])
		return q.special(x)&(1<<(8*(n-i))-1) != 0
	}
	for ; i < n; i++ {
		if c := v[i]; c == q.comma || c == '"' || c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}

// appendField appends v, quoted when it must be.
func (q *csvQuoter) appendField(b, v []byte) []byte {
	if !q.needsQuote(v) {
		return append(b, v...)
	}
	return appendQuoted(b, v)
}

// appendString appends s, quoted when it must be.
func (q *csvQuoter) appendString(b []byte, s string) []byte {
	return q.appendField(b, unsafe.Slice(unsafe.StringData(s), len(s)))
}

// appendQuoted appends v between quotes, doubling the quotes in it.
func appendQuoted(b, v []byte) []byte {
	b = append(b, '"')
	for {
		j := bytes.IndexByte(v, '"')
		if j < 0 {
			break
		}
		b = append(b, v[:j+1]...)
		b = append(b, '"')
		v = v[j+1:]
	}
	b = append(b, v...)
	return append(b, '"')
}

// requote quotes b[start:] in place when it must be quoted.
func (q *csvQuoter) requote(b []byte, start int) []byte {
	if !q.needsQuote(b[start:len(b):len(b)]) {
		return b
	}
	field := bytes.Clone(b[start:])
	return appendQuoted(b[:start], field)
}

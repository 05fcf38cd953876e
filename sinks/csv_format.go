package sinks

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// cellFunc appends the text of row i of one column, which is not null.
type cellFunc func(b []byte, i int) []byte

// csvCells returns the formatter of one column of a batch. Strings are
// quoted where needed; binary is written as standard base64 (which needs no
// quoting); numbers, dates and times are checked for quoting only when the
// delimiter is a character their text can hold.
func csvCells(a arrow.Array, q *csvQuoter) (cellFunc, error) {
	switch a := a.(type) {
	case *array.String:
		return func(b []byte, i int) []byte { return q.appendField(b, a.Value(i)) }, nil
	case *array.LargeString:
		return func(b []byte, i int) []byte { return q.appendField(b, a.Value(i)) }, nil
	case *array.StringView:
		return func(b []byte, i int) []byte { return q.appendField(b, a.Value(i)) }, nil
	case *array.Binary:
		return base64Cells(a.Value), nil
	case *array.LargeBinary:
		return base64Cells(a.Value), nil
	case *array.BinaryView:
		return base64Cells(a.Value), nil
	case *array.FixedSizeBinary:
		return base64Cells(a.Value), nil
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
		return func(b []byte, i int) []byte { return strconv.AppendFloat(b, a.Value(i), 'g', -1, 64) }, nil
	case *array.Date32:
		return func(b []byte, i int) []byte { return appendDate(b, int64(a.Value(i))) }, nil
	case *array.Date64:
		return func(b []byte, i int) []byte {
			return appendDate(b, floorDiv(int64(a.Value(i)), 86_400_000))
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
// with a fraction only when it is not zero.
func timestampCells(a *array.Timestamp) (cellFunc, error) {
	typ := a.DataType().(*arrow.TimestampType)
	loc, err := typ.GetZone()
	if err != nil {
		return nil, fmt.Errorf("time zone of %s: unknown", typ)
	}
	unit := typ.Unit
	return func(b []byte, i int) []byte {
		return a.Value(i).ToTime(unit).In(loc).AppendFormat(b, time.RFC3339Nano)
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

func base64Cells(value func(int) []byte) cellFunc {
	enc := base64.StdEncoding
	return func(b []byte, i int) []byte {
		v := value(i)
		if len(v) == 0 {
			return append(b, '"', '"') // an empty value, not a null
		}
		return enc.AppendEncode(b, v)
	}
}

// appendDate appends YYYY-MM-DD for a count of days since 1970-01-01.
func appendDate(b []byte, days int64) []byte {
	y, m, d := civilFromDays(days)
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

// civilFromDays is the proleptic Gregorian date of a count of days since
// 1970-01-01 (Howard Hinnant's algorithm).
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// csvQuoter quotes fields as RFC 4180 requires, and only then: a field is
// quoted when it holds the delimiter, a quote, CR or LF, or is empty (so
// that an empty string differs from a null, which is written as nothing).
type csvQuoter struct {
	comma byte
	// plainNeedsCheck is set when the delimiter can occur in the text of a
	// number, date or time, which then needs the same check as a string.
	plainNeedsCheck bool
}

func newCSVQuoter(comma byte) *csvQuoter {
	plain := comma >= '0' && comma <= '9' || comma >= 'a' && comma <= 'z' ||
		comma >= 'A' && comma <= 'Z' || comma == '-' || comma == '+' || comma == '.' ||
		comma == ':' || comma == '/' || comma == '='
	return &csvQuoter{comma: comma, plainNeedsCheck: plain}
}

// needsQuote reports whether s must be quoted.
func (q *csvQuoter) needsQuote(s string) bool {
	if len(s) == 0 {
		return true
	}
	const lo = 0x0101010101010101
	comma := lo * uint64(q.comma)
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if hasByte(x, comma) || hasByte(x, lo*'"') || hasByte(x, lo*'\n') || hasByte(x, lo*'\r') {
			return true
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c == q.comma || c == '"' || c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}

// hasByte reports whether any byte of x equals the byte repeated in pat
// (the classic SWAR zero-byte test).
func hasByte(x, pat uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	y := x ^ pat
	return (y-lo)&^y&hi != 0
}

// appendField appends s, quoted when it must be.
func (q *csvQuoter) appendField(b []byte, s string) []byte {
	if !q.needsQuote(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for {
		j := strings.IndexByte(s, '"')
		if j < 0 {
			break
		}
		b = append(b, s[:j+1]...)
		b = append(b, '"')
		s = s[j+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}

// requote quotes b[start:] in place when it must be quoted.
func (q *csvQuoter) requote(b []byte, start int) []byte {
	if !q.needsQuote(string(b[start:])) {
		return b
	}
	field := string(b[start:])
	return q.appendField(b[:start], field)
}

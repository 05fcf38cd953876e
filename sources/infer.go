package sources

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// InferType guesses the type of a text column from a sample of its values,
// for sinks that keep types (Parquet, PostgreSQL). It is conservative: a
// column becomes int64, float64, bool, date32 or timestamp only when every
// non-null value of the sample is written in that type's plain form, and
// text that only looks numeric stays text — codes with leading zeros
// ("02134", "007"), signs, or more than 18 digits. An empty sample stays a
// string.
//
// The CSV source parses declared types with the same parsers, so a value
// InferType accepted always reads back.
func InferType(a *array.String) arrow.DataType {
	ints, floats, bools, dates, stamps, n := true, true, true, true, true, 0
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			continue
		}
		n++
		b := []byte(a.Value(i))
		ints = ints && plainInt(b)
		floats = floats && (plainInt(b) || plainFloat(b))
		bools = bools && plainBool(b)
		if dates || stamps {
			_, isDate := parseDate(b)
			_, _, isStamp := parseTimestamp(b)
			dates = dates && isDate
			stamps = stamps && isStamp
		}
		if !ints && !floats && !bools && !dates && !stamps {
			break
		}
	}
	switch {
	case n == 0:
		return arrow.BinaryTypes.String
	case ints:
		return arrow.PrimitiveTypes.Int64
	case floats:
		return arrow.PrimitiveTypes.Float64
	case bools:
		return arrow.FixedWidthTypes.Boolean
	case dates:
		return arrow.FixedWidthTypes.Date32
	case stamps:
		return arrow.FixedWidthTypes.Timestamp_us
	}
	return arrow.BinaryTypes.String
}

// plainInt accepts 0 and unsigned or negative decimals with no leading zero
// and at most 18 digits, which always fit an int64.
func plainInt(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// plainFloat accepts decimals such as -12.5, .5 or 3.0e8: digits with one
// point or an exponent or both; not "NaN", "Inf" or hex floats,
// and no leading zero before another digit.
func plainFloat(b []byte) bool {
	orig := b
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	mant := b
	if i := indexAny(b, 'e', 'E'); i >= 0 {
		mant = b[:i]
		e := b[i+1:]
		if len(e) > 0 && (e[0] == '-' || e[0] == '+') {
			e = e[1:]
		}
		if len(e) == 0 || !allDigits(e) {
			return false
		}
	}
	whole, frac := mant, []byte(nil)
	if i := indexAny(mant, '.'); i >= 0 {
		whole, frac = mant[:i], mant[i+1:]
	} else if len(mant) == len(b) {
		return false // no point and no exponent: an integer, or a long code
	}
	if len(whole)+len(frac) == 0 || !allDigits(whole) || !allDigits(frac) {
		return false
	}
	if len(whole) > 1 && whole[0] == '0' {
		return false
	}
	_, ok := parseFloat(orig)
	return ok
}

func indexAny(b []byte, cs ...byte) int {
	for i, c := range b {
		for _, x := range cs {
			if c == x {
				return i
			}
		}
	}
	return -1
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func plainBool(b []byte) bool {
	switch string(b) {
	case "true", "false", "TRUE", "FALSE", "True", "False":
		return true
	}
	return false
}

package sources

import (
	"math"
	"strconv"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/internal/civil"
)

// The parsers below read CSV text as a declared column type. They take the
// field's bytes, never allocate on success, and report only whether the text
// is valid, so that no parse error can carry a value.

// parseInt parses an optionally signed decimal integer that fits in bits.
func parseInt(b []byte, bits uint) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	limit := uint64(1)<<(bits-1) - 1
	if neg {
		limit++
	}
	var u uint64
	for _, c := range b {
		d := uint64(c - '0')
		if d > 9 || u > (limit-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	if neg {
		return -int64(u), true
	}
	return int64(u), true
}

// parseFloat parses b as strconv.ParseFloat does, without copying it.
func parseFloat(b []byte) (float64, bool) {
	v, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	return v, err == nil
}

// parseBool accepts what strconv.ParseBool accepts: 1, t, T, TRUE, true,
// True, 0, f, F, FALSE, false, False.
func parseBool(b []byte) (bool, bool) {
	v, err := strconv.ParseBool(unsafe.String(unsafe.SliceData(b), len(b)))
	return v, err == nil
}

// parseDate parses YYYY-MM-DD, a real calendar date, as days since
// 1970-01-01.
func parseDate(b []byte) (int64, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(b[0:4])
	m, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return civil.Days(y, m, d), true
}

// parseTimestamp parses an ISO 8601 date and time as seconds and
// nanoseconds since the Unix epoch. It accepts RFC 3339
// ("2006-01-02T15:04:05.999999999Z07:00"), the same with a space instead of
// T, an optional fraction of 1 to 9 digits, no zone (read as UTC), and a
// date alone (midnight UTC).
func parseTimestamp(b []byte) (sec, nsec int64, ok bool) {
	if len(b) < 10 {
		return 0, 0, false
	}
	days, ok := parseDate(b[:10])
	if !ok {
		return 0, 0, false
	}
	sec = days * 86400
	if len(b) == 10 {
		return sec, 0, true
	}
	if len(b) < 19 || (b[10] != 'T' && b[10] != 't' && b[10] != ' ') ||
		b[13] != ':' || b[16] != ':' {
		return 0, 0, false
	}
	h, ok1 := digits(b[11:13])
	mi, ok2 := digits(b[14:16])
	s, ok3 := digits(b[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || s > 59 {
		return 0, 0, false
	}
	sec += h*3600 + mi*60 + s
	b = b[19:]

	if len(b) > 0 && b[0] == '.' {
		n := 1
		for n < len(b) && b[n] >= '0' && b[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 {
			return 0, 0, false
		}
		frac, _ := digits(b[1:n])
		for range 10 - n {
			frac *= 10
		}
		nsec = frac
		b = b[n:]
	}

	switch {
	case len(b) == 0:
	case len(b) == 1 && (b[0] == 'Z' || b[0] == 'z'):
	case len(b) == 6 && (b[0] == '+' || b[0] == '-') && b[3] == ':':
		oh, ok1 := digits(b[1:3])
		om, ok2 := digits(b[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, 0, false
		}
		off := oh*3600 + om*60
		if b[0] == '-' {
			off = -off
		}
		sec -= off
	default:
		return 0, 0, false
	}
	// An offset can carry the instant out of the years 0000-9999, which the
	// CSV sink could then write only as a year this parser refuses.
	if sec < minTimestampSec || sec > maxTimestampSec {
		return 0, 0, false
	}
	return sec, nsec, true
}

// The first and last second of the years 0000 to 9999, in UTC.
var (
	minTimestampSec = civil.Days(0, 1, 1) * 86400
	maxTimestampSec = civil.Days(10000, 1, 1)*86400 - 1
)

// timestampValue converts seconds and nanoseconds to a count of unit,
// truncating finer digits; it reports false when the count overflows.
func timestampValue(sec, nsec int64, unit arrow.TimeUnit) (int64, bool) {
	var per, div int64
	switch unit {
	case arrow.Second:
		return sec, true
	case arrow.Millisecond:
		per, div = 1e3, 1e6
	case arrow.Microsecond:
		per, div = 1e6, 1e3
	default:
		per, div = 1e9, 1
	}
	if sec > math.MaxInt64/per-1 || sec < math.MinInt64/per+1 {
		return 0, false
	}
	return sec*per + nsec/div, true
}

// digits parses a run of ASCII digits.
func digits(b []byte) (int64, bool) {
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, len(b) > 0
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

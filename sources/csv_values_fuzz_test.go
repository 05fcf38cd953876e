package sources

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzCSVValues checks the CSV source's parsers of typed columns against
// the standard library: integers against strconv.ParseInt, dates against
// time.Parse, timestamps against RFC 3339 as time.Parse reads it, within
// the years 0000 to 9999 in UTC.
func FuzzCSVValues(f *testing.F) {
	for _, s := range []string{"0", "-9223372036854775808", "9223372036854775808", "+42",
		"1e3", " 7", "2147483648", "0000-00-00", "2023-02-30", "2024-02-29", "99999-01-01",
		"0000-01-01", "2020-01-01T10:00:00Z", "2020-01-01 10:00:00.123456789+05:30",
		"2020-01-01t10:00:00z", "2020-01-01T24:00:00Z", "2020-01-01T10:00:00,5Z",
		"9999-12-31T23:59:59.9999999999Z", "2020-01-01T10:00:00-23:59"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		for _, bits := range []int{32, 64} {
			got, ok := parseInt(b, uint(bits))
			want, err := strconv.ParseInt(s, 10, bits)
			if ok != (err == nil) || (ok && got != want) {
				t.Fatalf("parseInt(%q, %d) = %d, %v; strconv: %d, %v", s, bits, got, ok, want, err)
			}
		}

		days, ok := parseDate(b)
		d, err := time.Parse(time.DateOnly, s)
		if ok != (err == nil) || (ok && days*86400 != d.Unix()) {
			t.Fatalf("parseDate(%q) = %d, %v; time.Parse: %v, %v", s, days, ok, d, err)
		}

		sec, nsec, ok := parseTimestamp(b)
		if ok {
			norm := normalizeTimestamp(s)
			ts, err := time.Parse(time.RFC3339Nano, norm)
			if err != nil || ts.Unix() != sec || int64(ts.Nanosecond()) != nsec {
				t.Fatalf("parseTimestamp(%q) = %d.%09d; time.Parse(%q): %v, %v",
					s, sec, nsec, norm, ts, err)
			}
		} else if ts, err := time.Parse(time.RFC3339Nano, s); err == nil && strictRFC3339(s) &&
			inFourDigitYears(ts) {
			t.Fatalf("parseTimestamp(%q) refused what time.Parse reads as %v", s, ts)
		}
	})
}

// inFourDigitYears reports whether ts falls in the years 0000 to 9999 in
// UTC, the only instants parseTimestamp accepts.
func inFourDigitYears(ts time.Time) bool {
	y := ts.UTC().Year()
	return y >= 0 && y <= 9999
}

// normalizeTimestamp rewrites a timestamp parseTimestamp accepts into RFC
// 3339: a T between date and time, an upper-case Z, and Z for no zone.
func normalizeTimestamp(s string) string {
	if len(s) == 10 {
		return s + "T00:00:00Z"
	}
	s = s[:10] + "T" + s[11:]
	switch last := s[len(s)-1]; {
	case last == 'z':
		s = s[:len(s)-1] + "Z"
	case last != 'Z' && (len(s) < 6 || (s[len(s)-6] != '+' && s[len(s)-6] != '-')):
		s += "Z"
	}
	return s
}

// strictRFC3339 reports whether s, which time.Parse read as RFC 3339, is
// written as RFC 3339 says: time.Parse also takes one-digit hours, a comma
// before the fraction, more than nine digits of it and a zone offset of 24
// hours.
func strictRFC3339(s string) bool {
	if n := len(s); n >= 6 && (s[n-6] == '+' || s[n-6] == '-') && s[n-5:n-3] > "23" {
		return false
	}
	return len(s) >= 20 && s[13] == ':' && s[16] == ':' && !strings.Contains(s, ",") &&
		fractionDigits(s) <= 9
}

// fractionDigits counts the digits after the seconds' decimal point.
func fractionDigits(s string) int {
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return 0
	}
	n := 0
	for _, c := range s[i+1:] {
		if c < '0' || c > '9' {
			break
		}
		n++
	}
	return n
}

package safeharbor

import (
	"strings"
	"time"
)

// ParseDate parses a date or timestamp held as text, so that the Year
// action can keep its year (45 CFR 164.514(b)(2)(i)(C)). Spaces around s are
// ignored. It accepts exactly these forms:
//
//	2006-01-02
//	2006-01-02T15:04:05     optional .frac (1-9 digits), then Z or ±hh:mm
//	2006-01-02 15:04:05     the same suffixes as the T form
//	01/02/2006              US month/day/year; 1/2/2006 also accepted
//	20060102
//
// It reports false for anything else and for dates that do not exist:
// 2023-02-30, month 13, 0000-00-00, year 0, hour 24, second 60. A time
// without a zone is read as UTC, and a zone's offset is kept, so the year
// returned is the year written in s. ParseDate allocates only for an offset
// outside the whole hours from -12:00 to +14:00 (such as +05:30).
func ParseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	switch {
	case len(s) >= 10 && s[4] == '-':
		return parseISO(s)
	case len(s) == 8 && allDigits(s):
		y, ok1 := digits(s[0:4])
		m, ok2 := digits(s[4:6])
		d, ok3 := digits(s[6:8])
		if !ok1 || !ok2 || !ok3 || !validDate(y, m, d) {
			return time.Time{}, false
		}
		return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), true
	}
	return parseUS(s)
}

// YearOnly returns midnight on January 1 of t's year in t's location: the
// Year action's output for typed date and timestamp columns.
func YearOnly(t time.Time) time.Time {
	return time.Date(t.Year(), time.January, 1, 0, 0, 0, 0, t.Location())
}

// parseISO parses the 2006-01-02 forms with an optional time of day.
func parseISO(s string) (time.Time, bool) {
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || s[7] != '-' || !validDate(y, m, d) {
		return time.Time{}, false
	}
	if len(s) == 10 {
		return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), true
	}

	// Time of day: T or space, then hh:mm:ss.
	rest := s[10:]
	if len(rest) < 9 || (rest[0] != 'T' && rest[0] != ' ') || rest[3] != ':' || rest[6] != ':' {
		return time.Time{}, false
	}
	hh, ok1 := digits(rest[1:3])
	mm, ok2 := digits(rest[4:6])
	ss, ok3 := digits(rest[7:9])
	if !ok1 || !ok2 || !ok3 || hh > 23 || mm > 59 || ss > 59 {
		return time.Time{}, false
	}
	rest = rest[9:]

	// Optional fraction of a second, 1 to 9 digits.
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 {
			return time.Time{}, false
		}
		nsec, _ = digits(rest[1:n])
		for i := n; i < 10; i++ {
			nsec *= 10
		}
		rest = rest[n:]
	}

	loc, ok := parseZone(rest)
	if !ok {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(m), d, hh, mm, ss, nsec, loc), true
}

// parseZone parses "", "Z" or ±hh:mm. Whole-hour offsets from -12 to +14
// come from the time package's cache of unnamed zones.
func parseZone(s string) (*time.Location, bool) {
	switch {
	case s == "" || s == "Z":
		return time.UTC, true
	case len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':':
		return nil, false
	}
	hh, ok1 := digits(s[1:3])
	mm, ok2 := digits(s[4:6])
	if !ok1 || !ok2 || hh > 23 || mm > 59 {
		return nil, false
	}
	off := hh*3600 + mm*60
	if s[0] == '-' {
		off = -off
	}
	return time.FixedZone("", off), true
}

// parseUS parses month/day/year with 1-2 digit month and day and a 4-digit
// year.
func parseUS(s string) (time.Time, bool) {
	ms, rest, ok1 := strings.Cut(s, "/")
	ds, ys, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || len(ms) < 1 || len(ms) > 2 || len(ds) < 1 || len(ds) > 2 || len(ys) != 4 {
		return time.Time{}, false
	}
	m, ok1 := digits(ms)
	d, ok2 := digits(ds)
	y, ok3 := digits(ys)
	if !ok1 || !ok2 || !ok3 || !validDate(y, m, d) {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), true
}

// digits parses a short string of ASCII digits; it reports false for any
// other byte or an empty string.
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// validDate reports whether y-m-d is a real day in years 1 through 9999.
func validDate(y, m, d int) bool {
	if y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= daysIn(time.Month(m), y)
}

func daysIn(m time.Month, y int) int {
	switch m {
	case time.February:
		if isLeap(y) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

func isLeap(y int) bool {
	return y%4 == 0 && (y%100 != 0 || y%400 == 0)
}

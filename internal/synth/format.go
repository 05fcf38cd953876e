package synth

import (
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/deid/deid/internal/civil"
)

// Dates are handled as day numbers (days since 1970-01-01, negative before)
// and converted to calendar dates with integer arithmetic: it is faster than
// time.Time in the hot loop and needs no time zone.

// dayOf returns the day number of t's UTC calendar date.
func dayOf(t time.Time) int {
	y, m, d := t.UTC().Date()
	return dayFromCivil(y, int(m), d)
}

// dayFromCivil returns the day number of the proleptic Gregorian date
// y-m-d. Days past the end of a month roll into the next one.
func dayFromCivil(y, m, d int) int {
	return int(civil.Days(int64(y), int64(m), int64(d)))
}

// civilFromDay returns the calendar date of day number z.
func civilFromDay(z int) (y, m, d int) {
	yy, mm, dd := civil.Date(int64(z))
	return int(yy), int(mm), int(dd)
}

// yearsBefore returns the day whose calendar date is n years before day,
// same month and day; ok is false when that date does not exist (29
// February in a common year).
func yearsBefore(day, n int) (int, bool) {
	y, m, d := civilFromDay(day)
	if m == 2 && d == 29 && !isLeap(y-n) {
		return 0, false
	}
	return dayFromCivil(y-n, m, d), true
}

func isLeap(y int) bool {
	return y%4 == 0 && (y%100 != 0 || y%400 == 0)
}

// ageAt returns the completed years between birth and day (both day
// numbers): the age on day of someone born on birth.
func ageAt(birth, day int) int {
	by, bm, bd := civilFromDay(birth)
	y, m, d := civilFromDay(day)
	age := y - by
	if m < bm || (m == bm && d < bd) {
		age--
	}
	return age
}

// appendDate appends day as YYYY-MM-DD.
func appendDate(dst []byte, day int) []byte {
	y, m, d := civilFromDay(day)
	dst = appendPadded(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, m, 2)
	dst = append(dst, '-')
	return appendPadded(dst, d, 2)
}

// appendTimestamp appends second sec of day as YYYY-MM-DDTHH:MM:SSZ; sec may
// exceed a day and rolls into the following days.
func appendTimestamp(dst []byte, day, sec int) []byte {
	day += sec / 86400
	sec %= 86400
	dst = appendDate(dst, day)
	dst = append(dst, 'T')
	dst = appendPadded(dst, sec/3600, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, sec/60%60, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, sec%60, 2)
	return append(dst, 'Z')
}

// appendPadded appends the non-negative n in decimal, left-padded with zeros
// to width digits.
func appendPadded(dst []byte, n, width int) []byte {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// appendField appends s as one CSV field, quoted exactly when encoding/csv's
// Writer would quote it (a comma, quote, CR or LF; a leading space; `\.`),
// so that reading and rewriting the output with encoding/csv gives the same
// bytes.
func appendField[T string | []byte](dst []byte, s T) []byte {
	if !needsQuotes(s) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

func needsQuotes[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	if len(s) == 2 && s[0] == '\\' && s[1] == '.' {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	if s[0] < utf8.RuneSelf {
		switch s[0] {
		case ' ', '\t', '\v', '\f':
			return true
		}
		return false
	}
	var head [utf8.UTFMax]byte
	n := copy(head[:], s[:min(len(s), utf8.UTFMax)])
	r, _ := utf8.DecodeRune(head[:n])
	return unicode.IsSpace(r)
}

// appendFoldedName appends the letters of name lowercased and folded to
// ASCII (é to e, ñ to n); other characters are dropped.
func appendFoldedName(dst []byte, name string) []byte {
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			dst = append(dst, byte(r))
		case r >= 'A' && r <= 'Z':
			dst = append(dst, byte(r-'A'+'a'))
		default:
			if f, ok := asciiFold[unicode.ToLower(r)]; ok {
				dst = append(dst, f)
			}
		}
	}
	return dst
}

var asciiFold = map[rune]byte{
	'á': 'a', 'à': 'a', 'â': 'a', 'ä': 'a', 'ã': 'a', 'å': 'a',
	'é': 'e', 'è': 'e', 'ê': 'e', 'ë': 'e',
	'í': 'i', 'ì': 'i', 'î': 'i', 'ï': 'i',
	'ó': 'o', 'ò': 'o', 'ô': 'o', 'ö': 'o', 'õ': 'o', 'ø': 'o',
	'ú': 'u', 'ù': 'u', 'û': 'u', 'ü': 'u',
	'ñ': 'n', 'ç': 'c', 'ł': 'l', 'ß': 's',
}

package safeharbor

import (
	"strconv"
	"strings"
	"time"
)

// AgeCap is the age at which Safe Harbor stops releasing exact ages: ages
// over 89 are aggregated into one category, 90 or older
// (45 CFR 164.514(b)(2)(i)(C)). A top-coded numeric age of 90 means "90 or
// older"; the manifest says so.
const AgeCap = 90

// TopCodeAge returns age, or AgeCap for ages of 90 and over. Ages 0 to 89
// stay, and so do negative values, which are invalid rather than
// identifying; validation is the caller's job.
func TopCodeAge(age int64) int64 {
	if age >= AgeCap {
		return AgeCap
	}
	return age
}

// TopCodeAgeFloat is TopCodeAge for ages with a fraction. An age of 89.9 is
// 89 completed years and stays; 90 and over, +Inf included, becomes 90. NaN
// is returned unchanged.
func TopCodeAgeFloat(age float64) float64 {
	if age >= AgeCap {
		return AgeCap
	}
	return age
}

// TopCodeAgeText top-codes an age held as text. Spaces around s are
// ignored. An age of 90 or more, whole ("93") or with a fraction ("93.5"),
// becomes "90+", and so does an open category such as "95+"; younger ages
// are returned as written, trimmed ("45", "85+"). It reports false for
// anything else: empty, negative, units ("93 years") or other text, which
// the caller must not release as it is.
func TopCodeAgeText(s string) (string, bool) {
	s = strings.TrimSpace(s)
	body := strings.TrimSuffix(s, "+")
	whole, frac, dot := strings.Cut(body, ".")
	if whole == "" || !allDigits(whole) || (dot && (frac == "" || !allDigits(frac))) {
		return "", false
	}

	// Compare the whole years without parsing, so long inputs cannot
	// overflow: over two significant digits is at least 100.
	whole = strings.TrimLeft(whole, "0")
	n, _ := digits(whole)
	if len(whole) > 2 || n >= AgeCap {
		return "90+", true
	}
	return s, true
}

// CompletedYears returns the age in completed years on the day of at of
// someone born on the day of birth: the birthday must have been reached,
// so year subtraction overstates the age for most of the year. Each time
// contributes its calendar date in its own location; time of day is
// ignored. In a year without February 29 a person born on that day
// completes a year on February 28, the earliest any convention allows, so
// nobody is released as 89 on a day some reading makes them 90. The result
// is negative when at precedes birth.
func CompletedYears(birth, at time.Time) int {
	by, bm, bd := birth.Date()
	ay, am, ad := at.Date()

	if bm == time.February && bd == 29 && !isLeap(ay) {
		bd = 28
	}
	years := ay - by
	if am < bm || (am == bm && ad < bd) {
		years--
	}
	return years
}

// BirthYear returns the birth year to release for someone born in year
// birth when the latest year released for them (service, discharge or
// death; else the release year) is ref. A birth year that shows an age of
// 90 or more is itself an identifier element (45 CFR 164.514(b)(2)(i)(C)),
// so every birth in or before ref-90 is released as the single bucket
// ref-90, with bucketed true. HHS's example: born 1910, service in 2010,
// released as "on or before 1920". Later births are returned unchanged.
func BirthYear(birth, ref int) (year int, bucketed bool) {
	if edge := ref - AgeCap; birth <= edge {
		return edge, true
	}
	return birth, false
}

// ReferenceYear returns the year a birth year is judged against: the latest
// of a row's n other released years, where year(k) gives the k-th and
// whether the row has it. The first listed of them are the references the
// policy names, each a statement that it holds the person's latest date;
// when none of those has a year in the row, the person may have a later
// date elsewhere, so the as-of year counts too.
func ReferenceYear(n, listed int, year func(k int) (int, bool), asOf int) int {
	best, found, trusted := 0, false, false
	for k := range n {
		y, ok := year(k)
		if !ok {
			continue
		}
		trusted = trusted || k < listed
		if !found || y > best {
			best, found = y, true
		}
	}
	if !trusted && (!found || asOf > best) {
		best = asOf
	}
	return best
}

// BirthYearLabel formats BirthYear's result for text columns: "1987", or
// "<=1920" for the bucket.
func BirthYearLabel(year int, bucketed bool) string {
	if bucketed {
		return "<=" + strconv.Itoa(year)
	}
	return strconv.Itoa(year)
}

// Package civil converts between proleptic Gregorian calendar dates and day
// numbers (days since 1970-01-01, negative before) with integer arithmetic,
// which is faster than going through time.Time in a per-cell loop and needs
// no time zone. The algorithms are Howard Hinnant's "days_from_civil" and
// "civil_from_days", valid for every year an int64 day number can hold.
package civil

// Days returns the day number of the date y-m-d, with m in 1..12. A day past
// the end of its month rolls into the next month.
func Days(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := FloorDiv(y, 400)
	yoe := y - era*400                  // year of era, 0..399
	doy := (153*((m+9)%12)+2)/5 + d - 1 // day of the year starting 1 March
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// Date returns the calendar date of day number z, with m in 1..12.
func Date(z int64) (y, m, d int64) {
	z += 719468
	era := FloorDiv(z, 146097)
	doe := z - era*146097 // day of era, 0..146096
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153 // month starting 1 March, 0..11
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
		y++ // January and February belong to the next civil year
	}
	return y, m, d
}

// Year returns the calendar year of day number z.
func Year(z int64) int64 {
	y, _, _ := Date(z)
	return y
}

// FloorDiv divides a by b > 0, rounding toward negative infinity: the day
// number of a Unix time in seconds is FloorDiv(sec, 86400).
func FloorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

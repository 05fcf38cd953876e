package scan

import (
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/brianvoe/gofakeit/v7/data"

	"github.com/deid/deid/internal/civil"
	"github.com/deid/deid/safeharbor"
)

// pattern is a shape a single value can have.
type pattern int

// The value patterns the classifier counts.
const (
	pSSN       pattern = iota // 123-45-6789
	pSSNBare                  // 9 digits that could be an SSN
	pPhone                    // (617) 555-0123, 617-555-0123, +1 617 555 0123
	pPhoneBare                // 10 digits that could be a NANP number
	pEmail
	pURL
	pIP
	pUUID
	pZip5     // 5 digits
	pZip4     // ZIP+4
	pZipShort // 3 or 4 digits: a numeric ZIP that lost its zeros
	pZipKnown // a ZIP form whose 3-digit prefix is in the Census table
	pState    // a USPS state code or a state name
	pLat      // a decimal in [-90, 90] with at least 3 decimals
	pLon      // a decimal in [-180, 180] with at least 3 decimals
	pDate     // a date or timestamp deid's year rule reads
	pDateOther
	pTime
	pYear // 1900-2099 on its own
	pName // every word a first or last name of the dictionary
	pFirst
	pLast
	pCity
	pStreet
	pCounty
	pVIN
	pMBI
	pCard // 13-19 digits passing the Luhn check
	pMRN
	pCode  // letters then digits, e.g. D1234567 or SN-0042117
	pAge   // an age in years: 0-120, or "90+"
	pInt   // an integer
	pFloat // a number with a fraction
	pBool
	pAlpha  // letters, spaces and name punctuation only
	pIDLike // one compact token of letters, digits, - and _
	pWords  // four words or more
	numPatterns
)

// profile summarises the sampled values of one column: counts of patterns
// and distinctness. It holds no value.
type profile struct {
	typ      arrow.DataType
	rows     int
	nonNull  int
	distinct int
	top      int // occurrences of the most frequent value
	counts   [numPatterns]int
	words    int // total words, for the mean
	length   int // total bytes, for the mean
	intMin   int64
	intMax   int64
	years    []int // the year of every date value, for the distribution
	hasTime  int   // date values with a time of day
	digits4  int   // integers of 4 digits or more
}

func (p *profile) share(pt pattern) float64 {
	if p.nonNull == 0 {
		return 0
	}
	return float64(p.counts[pt]) / float64(p.nonNull)
}

func (p *profile) distinctRatio() float64 {
	if p.nonNull == 0 {
		return 0
	}
	return float64(p.distinct) / float64(p.nonNull)
}

func (p *profile) meanWords() float64 {
	if p.nonNull == 0 {
		return 0
	}
	return float64(p.words) / float64(p.nonNull)
}

func (p *profile) meanLen() float64 {
	if p.nonNull == 0 {
		return 0
	}
	return float64(p.length) / float64(p.nonNull)
}

// categorical reports whether the column holds a few repeated codes.
func (p *profile) categorical() bool {
	return p.nonNull > 0 && (p.distinct <= 12 && 2*p.distinct <= p.nonNull ||
		(p.distinct <= 60 && p.distinctRatio() <= 0.05))
}

func (p *profile) numeric() bool {
	switch p.typ.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16,
		arrow.UINT32, arrow.UINT64, arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL128:
		return true
	}
	return false
}

// profileColumn counts the patterns of every sampled value of c.
func profileColumn(c *colSample) *profile {
	p := &profile{typ: c.typ, rows: len(c.values)}
	freq := make(map[string]int)
	typedDate := c.days != nil
	for i, v := range c.values {
		if !c.valid[i] {
			continue
		}
		p.nonNull++
		freq[v]++
		p.length += len(v)
		p.words += len(strings.Fields(v))
		if typedDate {
			p.counts[pDate]++
			p.years = append(p.years, int(civil.Year(int64(c.days[i]))))
			if c.hasTime {
				p.hasTime++
			}
			continue
		}
		p.add(v)
	}
	p.distinct = len(freq)
	for _, n := range freq {
		p.top = max(p.top, n)
	}
	return p
}

// add counts the patterns of one value.
func (p *profile) add(v string) {
	s := strings.TrimSpace(v)
	if s == "" {
		return
	}
	digits, letters, spaces, other := charClasses(s)

	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		p.counts[pInt]++
		if p.counts[pInt] == 1 {
			p.intMin, p.intMax = n, n
		}
		p.intMin, p.intMax = min(p.intMin, n), max(p.intMax, n)
		if len(strings.TrimLeft(s, "+-")) >= 4 {
			p.digits4++
		}
	} else if _, err := strconv.ParseFloat(s, 64); err == nil && digits > 0 && letters == 0 {
		p.counts[pFloat]++
	}
	if _, ok := safeharbor.TopCodeAgeText(s); ok {
		if n, err := strconv.ParseFloat(strings.TrimSuffix(s, "+"), 64); err == nil &&
			n >= 0 && n <= 120 {
			p.counts[pAge]++
		}
	}
	if _, err := strconv.ParseBool(s); err == nil || boolWords[strings.ToLower(s)] {
		p.counts[pBool]++
	}

	if t, ok := safeharbor.ParseDate(s); ok {
		p.counts[pDate]++
		p.years = append(p.years, t.Year())
		if len(s) > 10 {
			p.hasTime++
		}
	} else if reDateOther.MatchString(s) {
		p.counts[pDateOther]++
	}
	if reTime.MatchString(s) {
		p.counts[pTime]++
	}
	if len(s) == 4 && digits == 4 && (s[:2] == "19" || s[:2] == "20") {
		p.counts[pYear]++
	}

	p.numberShapes(s, digits, letters, other)
	p.textShapes(s, digits, letters, spaces)
}

// numberShapes counts the identifier shapes made mostly of digits.
func (p *profile) numberShapes(s string, digits, letters, other int) {
	switch {
	case reSSN.MatchString(s):
		p.counts[pSSN]++
	case digits == 9 && len(s) == 9 && validSSN(s):
		p.counts[pSSNBare]++
	}
	if m := rePhone.FindStringSubmatch(s); m != nil && m[0] == s {
		p.counts[pPhone]++
	} else if d := onlyDigits(s); len(d) == len(s) && nanp(d) {
		p.counts[pPhoneBare]++
	}
	switch {
	case len(s) == 5 && digits == 5:
		p.counts[pZip5]++
	case reZip4.MatchString(s):
		p.counts[pZip4]++
	case (len(s) == 3 || len(s) == 4) && digits == len(s):
		p.counts[pZipShort]++
	}
	if digits >= 3 && digits <= 9 && letters == 0 && (len(s) == digits || reZip4.MatchString(s)) {
		if pop, ok := safeharbor.Zip3Population(zipHead(s)); ok && pop > 0 {
			p.counts[pZipKnown]++
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && letters == 0 {
		if dot := strings.IndexByte(s, '.'); dot >= 0 && len(s)-dot-1 >= 3 {
			if f >= -90 && f <= 90 {
				p.counts[pLat]++
			}
			if f >= -180 && f <= 180 {
				p.counts[pLon]++
			}
		}
	}
	if d := onlyDigits(s); len(d) >= 13 && len(d) <= 19 && digits == len(d) &&
		len(s)-len(d) == other && luhn(d) {
		p.counts[pCard]++
	}
	if reMRN.MatchString(s) {
		p.counts[pMRN]++
	}
	if reCode.MatchString(s) {
		p.counts[pCode]++
	}
	if len(s) == 17 && reVIN.MatchString(s) && digits > 0 && letters > 0 {
		p.counts[pVIN]++
	}
	if reMBI.MatchString(strings.ReplaceAll(s, "-", "")) {
		p.counts[pMBI]++
	}
}

// textShapes counts the shapes made of words.
func (p *profile) textShapes(s string, digits, letters, spaces int) {
	switch {
	case reEmail.MatchString(s):
		p.counts[pEmail]++
	case reURL.MatchString(s):
		p.counts[pURL]++
	case reUUID.MatchString(s):
		p.counts[pUUID]++
	}
	if strings.ContainsAny(s, ".:") && net.ParseIP(s) != nil {
		p.counts[pIP]++
	}
	lower := strings.ToLower(s)
	if states[lower] {
		p.counts[pState]++
	}
	if cities[lower] {
		p.counts[pCity]++
	}
	if strings.HasSuffix(lower, " county") || strings.HasSuffix(lower, " parish") {
		p.counts[pCounty]++
	}
	if !strings.ContainsAny(s, " \t") && len(s) <= 64 && reIDLike.MatchString(s) {
		p.counts[pIDLike]++
	}
	if digits == 0 && letters > 0 && reAlpha.MatchString(s) {
		p.counts[pAlpha]++
		p.nameShapes(s)
	}
	if spaces >= 3 && letters > digits {
		p.counts[pWords]++
	}
	if digits > 0 && letters > 0 && isStreet(s) {
		p.counts[pStreet]++
	}
}

// nameShapes counts values that read as personal names.
func (p *profile) nameShapes(s string) {
	words := nameWords(s)
	if len(words) == 0 || len(words) > 4 {
		return
	}
	known := 0
	for _, w := range words {
		if firstNames[w] || lastNames[w] {
			known++
		}
	}
	if len(words) == 1 {
		switch {
		case firstNames[words[0]]:
			p.counts[pFirst]++
		case lastNames[words[0]]:
			p.counts[pLast]++
		}
	}
	if known*2 >= len(words) && known > 0 {
		p.counts[pName]++
	}
}

// nameWords splits a name into lowercase words without titles and
// credentials: "Dr. Ada Lovelace, MD" gives ada, lovelace.
func nameWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		w = strings.ToLower(strings.Trim(w, ".'"))
		if w == "" || titles[w] {
			continue
		}
		out = append(out, w)
	}
	return out
}

var titles = map[string]bool{
	"dr": true, "mr": true, "mrs": true, "ms": true, "miss": true, "md": true, "do": true,
	"rn": true, "np": true, "pa": true, "phd": true, "dds": true, "jr": true, "sr": true,
	"ii": true, "iii": true, "iv": true, "prof": true, "pharmd": true, "facp": true,
	"pa-c": true, "aprn": true, "fnp": true, "lpn": true, "dpm": true, "od": true,
}

var boolWords = map[string]bool{"y": true, "n": true, "yes": true, "no": true}

// isStreet reports whether s starts with a house number followed by
// capitalised words, one of which is a street type, a compass direction or
// ends like a place name: "412 Kuhn Avenue", "9 Elm St Apt 4",
// "340 North Terraceland".
func isStreet(s string) bool {
	ws := strings.Fields(s)
	if len(ws) < 2 || len(ws) > 8 {
		return false
	}
	if d := onlyDigits(ws[0]); len(d) == 0 || len(d) > 6 || ws[0][0] < '0' || ws[0][0] > '9' {
		return false
	}
	if r := []rune(ws[1]); len(r) == 0 || !unicode.IsUpper(r[0]) {
		return false
	}
	for _, w := range ws[1:] {
		w = strings.ToLower(strings.Trim(w, ".,"))
		if streetTypes[w] || directions[w] {
			return true
		}
		for _, suf := range placeSuffixes {
			if len(w) > len(suf)+2 && strings.HasSuffix(w, suf) {
				return true
			}
		}
	}
	return false
}

var directions = lowerSet([]string{"North", "South", "East", "West", "N", "S", "E", "W",
	"NE", "NW", "SE", "SW", "Northeast", "Northwest", "Southeast", "Southwest"})

// placeSuffixes end many street and place names (gofakeit's list).
var placeSuffixes = data.Address["street_suffix"]

func charClasses(s string) (digits, letters, spaces, other int) {
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case unicode.IsLetter(r):
			letters++
		case unicode.IsSpace(r):
			spaces++
		default:
			other++
		}
	}
	return
}

func onlyDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// zipHead returns the first three digits of a ZIP form, padded as a
// numeric ZIP that lost its zeros would be.
func zipHead(s string) string {
	head, _, _ := strings.Cut(s, "-")
	if len(head) < 5 {
		head = strings.Repeat("0", 5-len(head)) + head
	}
	return head[:3]
}

// validSSN applies the SSA's rules for a 9-digit string: area not 000 or
// 666, group not 00, serial not 0000.
func validSSN(d string) bool {
	return d[:3] != "000" && d[:3] != "666" && d[3:5] != "00" && d[5:] != "0000"
}

// nanp reports whether d is a 10-digit North American number, or 11 digits
// starting with 1, with area code and exchange starting 2-9.
func nanp(d string) bool {
	if len(d) == 11 && d[0] == '1' {
		d = d[1:]
	}
	return len(d) == 10 && d[0] >= '2' && d[3] >= '2'
}

func luhn(d string) bool {
	sum, double := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}

// months matches an English month name or its abbreviation.
const months = `(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?`

// mbiLetter is a letter the Medicare Beneficiary Identifier allows.
const mbiLetter = `[AC-HJKMNP-RT-Y]`

var (
	reSSN   = regexp.MustCompile(`^\d{3}-\d{2}-\d{4}$`)
	rePhone = regexp.MustCompile(`^(?:\+?1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}` +
		`(?: ?(?:x|ext\.?) ?\d{1,5})?$`)
	reEmail = regexp.MustCompile(`^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*` +
		`\.[A-Za-z]{2,}$`)
	reURL  = regexp.MustCompile(`(?i)^(?:(?:https?|ftp)://|www\.)\S+$`)
	reUUID = regexp.MustCompile(`(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}` +
		`-[0-9a-f]{12}$`)
	reZip4 = regexp.MustCompile(`^\d{5}-\d{4}$`)
	reTime = regexp.MustCompile(`(?i)^\d{1,2}:\d{2}(?::\d{2})?(?: ?[ap]m)?$`)
	reMRN  = regexp.MustCompile(`(?i)^(?:mrn|mr|med|pt|pat)[-#: ]?\d{5,}$`)
	reCode = regexp.MustCompile(`^[A-Z]{1,4}[-]?\d{4,}[A-Z0-9-]*$`)
	reVIN  = regexp.MustCompile(`^[A-HJ-NPR-Z0-9]{17}$`)
	reMBI  = regexp.MustCompile(`^[1-9]` + mbiLetter + `[AC-HJKMNP-RT-Y0-9]\d` + mbiLetter +
		`[AC-HJKMNP-RT-Y0-9]\d` + mbiLetter + `{2}\d{2}$`)
	reIDLike    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
	reAlpha     = regexp.MustCompile(`^[\p{L}][\p{L} .,'-]*$`)
	reDateOther = regexp.MustCompile(`(?i)^(?:` +
		`\d{1,2}[-/ ]` + months + `[-/ ,]+\d{2,4}|` + // 4-Mar-2021
		months + ` \d{1,2},? \d{4}|` + // March 4, 2021
		`\d{4}/\d{1,2}/\d{1,2}|\d{1,2}-\d{1,2}-\d{2,4}|\d{1,2}/\d{1,2}/\d{2}|` +
		`\d{1,2}\.\d{1,2}\.\d{4}` +
		`)(?:[ T]\d{1,2}:\d{2}.*)?$`)
)

// The dictionaries, lowercased: gofakeit's first and last names, cities
// and street types, and the US states.
var (
	firstNames  = lowerSet(data.Person["first"], data.Person["middle"])
	lastNames   = lowerSet(data.Person["last"])
	cities      = lowerSet(data.Address["city"])
	streetTypes = lowerSet(data.Address["street_name"], []string{
		"st", "ave", "av", "rd", "blvd", "dr", "ln", "ct", "pl", "ter", "pkwy", "hwy", "cir",
		"sq", "trl", "way", "plz", "aly", "expy", "fwy", "loop", "row", "walk", "path",
	})
	states = lowerSet(data.Address["state_abr"], data.Address["state"], []string{
		"DC", "PR", "VI", "GU", "AS", "MP", "District of Columbia", "Puerto Rico",
	})
)

func lowerSet(lists ...[]string) map[string]bool {
	m := map[string]bool{}
	for _, l := range lists {
		for _, s := range l {
			m[strings.ToLower(s)] = true
		}
	}
	return m
}

// median returns the median of xs, which it sorts; 0 for none.
func median(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// percentile returns the q-th quantile of sorted xs.
func percentile(sorted []int, q float64) int {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return sorted[i]
}

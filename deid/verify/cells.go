package verify

import (
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/deid/deid/safeharbor"
	"github.com/deid/deid/tokenize"
)

// The residual identifier checks. Each names what it found in a finding.
const (
	checkSSN        = "ssn"
	checkPhone      = "phone"
	checkEmail      = "email"
	checkURL        = "url"
	checkIP         = "ip"
	checkDate       = "date"
	checkZip5       = "zip5"
	checkZip3       = "zip3-restricted"
	checkZipFormat  = "zip-format"
	checkAge        = "age-90"
	checkBirthYear  = "birth-year-90"
	checkMRN        = "mrn"
	checkSource     = "source-value"
	checkSameRow    = "same-as-source"
	checkToken      = "token-format"
	checkSurrogate  = "surrogate-format"
	checkYear       = "year-format"
	checkNull       = "not-null"
	checkSchema     = "schema"
	checkUnique     = "unique"
	checkForeignKey = "foreign-key"
	checkRows       = "row-count"
	checkKAnon      = "k-anonymity"
)

// monthIn matches an English month name or its abbreviation.
const monthIn = `(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?`

var (
	reSSNIn   = regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`)
	rePhoneIn = regexp.MustCompile(`(?:\+?1[ .-]?)?(?:\((\d{3})\) ?|\b(\d{3})[-. ])` +
		`(\d{3})[-. ](\d{4})\b`)
	reEmailIn = regexp.MustCompile(`[A-Za-z0-9._%+'-]+@` +
		`([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})`)
	reURLIn  = regexp.MustCompile(`(?i)\b(?:(?:https?|ftp)://([^\s/:?#]+)|www\.([^\s/:?#]+))`)
	reIPv4In = regexp.MustCompile(`\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b`)
	reISOIn  = regexp.MustCompile(`\b(\d{4})-(\d{1,2})-(\d{1,2})\b`)
	reUSIn   = regexp.MustCompile(`\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b`)
	reMonIn  = regexp.MustCompile(`(?i)\b` + monthIn + ` \d{1,2}(?:st|nd|rd|th)?,? \d{4}\b|` +
		`\b\d{1,2}(?:st|nd|rd|th)? ` + monthIn + `,? \d{4}\b`)
	reZip4In = regexp.MustCompile(`\b\d{5}-\d{4}\b`)
	reMRNIn  = regexp.MustCompile(`(?i)\b(?:mrn|mr#|medical record(?: number| no\.?| #)?)` +
		`\s*[:#]?\s*[A-Z0-9-]*\d{4,}|\b(?:MRN|MR|PT|PAT)[-#]?\d{5,}\b`)
	reYear = regexp.MustCompile(`^(<=)?(\d{4})$`)
)

// isToken reports whether s has the form of a string token: 26 characters
// of lowercase base32 (tokenize.TokenLen).
func isToken(s string) bool {
	if len(s) != tokenize.TokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// hit is one residual identifier found in a cell.
type hit struct {
	check, reason string
}

// residue looks for identifiers in the text of a cell: SSNs, phone numbers
// outside the 555-01XX block kept for fiction, emails, URLs and IPs outside
// the ranges kept for documentation, dates with a month or day, ZIP+4 codes
// and MRN-like labels. dates is false where whole-cell dates are allowed
// (kept columns, limited data sets); zips is false for limited data sets.
func residue(s string, dates, zips bool) (hit, bool) {
	digits, at, colon, slash, dash, dot, letters := cellStats(s)
	if digits >= 9 && dash >= 2 && reSSNIn.MatchString(s) {
		return hit{checkSSN, "SSN pattern"}, true
	}
	if digits >= 10 {
		for _, m := range rePhoneIn.FindAllStringSubmatch(s, -1) {
			if !fictionalPhone(m[3], m[4]) {
				return hit{checkPhone, "phone number outside the 555-0100..0199 block " +
					"kept for fiction"}, true
			}
		}
	}
	if at > 0 {
		for _, m := range reEmailIn.FindAllStringSubmatch(s, -1) {
			if !reservedHost(m[1]) {
				return hit{checkEmail, "email address outside the domains reserved for " +
					"examples"}, true
			}
		}
	}
	if dot > 0 && letters > 0 && (colon > 0 || strings.Contains(strings.ToLower(s), "www.")) {
		for _, m := range reURLIn.FindAllStringSubmatch(s, -1) {
			if host := m[1] + m[2]; !reservedHost(strings.TrimPrefix(host, "www.")) {
				return hit{checkURL, "URL outside the domains reserved for examples"}, true
			}
		}
	}
	if digits >= 4 && dot >= 3 {
		for _, m := range reIPv4In.FindAllStringSubmatch(s, -1) {
			if ipv4(m[1:]) && !documentationIP(net.ParseIP(m[0])) {
				return hit{checkIP, "IPv4 address outside the documentation ranges"}, true
			}
		}
	}
	if colon >= 2 {
		for _, w := range strings.Fields(s) {
			w = strings.Trim(w, "[](),;\"'")
			if ip := net.ParseIP(w); ip != nil && strings.Contains(w, ":") &&
				!documentationIP(ip) {
				return hit{checkIP, "IPv6 address outside the documentation prefix"}, true
			}
		}
	}
	if dates && digits >= 4 {
		if h, ok := dateIn(s, slash, dash, letters); ok {
			return h, true
		}
	}
	if zips && digits >= 9 && dash > 0 && reZip4In.MatchString(s) {
		return hit{checkZip5, "ZIP+4 code"}, true
	}
	if digits >= 4 && letters >= 2 && reMRNIn.MatchString(s) {
		return hit{checkMRN, "MRN-like label or code"}, true
	}
	return hit{}, false
}

// dateIn finds a date with a month or day inside text.
func dateIn(s string, slash, dash, letters int) (hit, bool) {
	found := hit{checkDate, "date with a month or day"}
	if dash >= 2 {
		for _, m := range reISOIn.FindAllStringSubmatch(s, -1) {
			if validDay(m[1], m[2], m[3]) {
				return found, true
			}
		}
	}
	if slash >= 2 {
		for _, m := range reUSIn.FindAllStringSubmatch(s, -1) {
			y := m[3]
			if len(y) == 2 {
				y = "20" + y
			}
			if validDay(y, m[1], m[2]) {
				return found, true
			}
		}
	}
	if letters >= 3 && reMonIn.MatchString(s) {
		return found, true
	}
	return hit{}, false
}

func validDay(y, m, d string) bool {
	yy, _ := strconv.Atoi(y)
	mm, _ := strconv.Atoi(m)
	dd, _ := strconv.Atoi(d)
	if yy < 1000 || mm < 1 || mm > 12 || dd < 1 || dd > 31 {
		return false
	}
	t := time.Date(yy, time.Month(mm), dd, 0, 0, 0, 0, time.UTC)
	return t.Day() == dd
}

func cellStats(s string) (digits, at, colon, slash, dash, dot, letters int) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '@':
			at++
		case c == ':':
			colon++
		case c == '/':
			slash++
		case c == '-':
			dash++
		case c == '.':
			dot++
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			letters++
		}
	}
	return
}

// fictionalPhone reports whether a number is in 555-0100..555-0199, which
// the North American Numbering Plan keeps for fiction.
func fictionalPhone(exchange, line string) bool {
	return exchange == "555" && strings.HasPrefix(line, "01")
}

// reservedHost reports whether a host is in a domain reserved for examples
// and tests (RFC 2606, RFC 6761).
func reservedHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range []string{"example.com", "example.org", "example.net"} {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	for _, tld := range []string{".example", ".test", ".invalid", ".localhost"} {
		if strings.HasSuffix(h, tld) {
			return true
		}
	}
	return h == "localhost"
}

func ipv4(octets []string) bool {
	for _, o := range octets {
		if n, err := strconv.Atoi(o); err != nil || n > 255 {
			return false
		}
	}
	return true
}

// The documentation ranges: TEST-NET-1, -2, -3 (RFC 5737) and 2001:db8::/32
// (RFC 3849); loopback is not a person's address either.
var docNets = func() []*net.IPNet {
	var out []*net.IPNet
	for _, c := range []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
		"2001:db8::/32", "127.0.0.0/8", "::1/128"} {
		_, n, _ := net.ParseCIDR(c)
		out = append(out, n)
	}
	return out
}()

func documentationIP(ip net.IP) bool {
	if ip == nil {
		return false
	}
	for _, n := range docNets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// yearCell checks the output of the year rule: "1987" or "<=1936" as text
// (text set), or January 1 at midnight in a date or timestamp column. It
// returns the year and whether it is the 90-or-older bucket, which a typed
// column cannot mark.
func yearCell(s string) (year int, bucket, text, ok bool) {
	if m := reYear.FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[2])
		return y, m[1] != "", true, true
	}
	if t, ok := safeharbor.ParseDate(s); ok && janFirst(t) {
		return t.Year(), false, false, true
	}
	return 0, false, false, false
}

// janFirst reports whether t is midnight on January 1, the form a date
// reduced to its year takes in a typed column.
func janFirst(t time.Time) bool {
	return t.Month() == time.January && t.Day() == 1 && t.Hour() == 0 && t.Minute() == 0 &&
		t.Second() == 0 && t.Nanosecond() == 0
}

// zipCell checks the output of the ZIP3 rule under rule.
func zipCell(s string, rule safeharbor.ZipRule) (hit, bool) {
	s = strings.TrimSpace(s)
	switch {
	case s == safeharbor.SuppressedZip3:
		return hit{}, false
	case len(s) == 3 && allDigits(s):
		if rule.Allowed(s) {
			return hit{}, false
		}
		return hit{checkZip3, "3-digit ZIP prefix of 20,000 people or fewer, not zeroed"}, true
	case len(s) == 5 && allDigits(s), reZip4In.MatchString(s), len(s) == 9 && allDigits(s):
		return hit{checkZip5, "full ZIP code"}, true
	}
	return hit{checkZipFormat, "not a 3-digit ZIP prefix"}, true
}

// ageCell checks the output of top-coding: numbers over 90 (90 means 90 or
// older), and in text anything 90 or over other than "90+".
func ageCell(s string, numeric bool) (hit, bool) {
	s = strings.TrimSpace(s)
	if !numeric && strings.HasSuffix(s, "+") {
		n, err := strconv.ParseFloat(strings.TrimSuffix(s, "+"), 64)
		if err == nil && n > safeharbor.AgeCap {
			return hit{checkAge, "open age category above 90+"}, true
		}
		return hit{}, false
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return hit{checkAge, "not an age in years"}, true
	}
	if numeric && n > safeharbor.AgeCap || !numeric && n >= safeharbor.AgeCap {
		return hit{checkAge, "age of 90 or more not top-coded"}, true
	}
	return hit{}, false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

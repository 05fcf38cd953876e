package safeharbor

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

// CensusVintage is the decennial Census whose ZCTA populations decide which
// ZIP3 prefixes may remain. The run manifest records it.
const CensusVintage = "2020"

// SuppressedZip3 is what Zip3 emits when a ZIP's first three digits may not
// remain. It is not a prefix: Allowed reports false for it.
const SuppressedZip3 = "000"

// MinZip3Population is the Safe Harbor threshold: a prefix may remain only
// if the ZIPs sharing it hold more than this many people; exactly 20,000 is
// suppressed.
const MinZip3Population = 20000

// ZipList names the list of restricted ZIP3 prefixes a ZipRule applies.
type ZipList string

// The ZIP3 lists a policy may choose.
const (
	// ZipUnion suppresses every prefix the 2020 Census table restricts and
	// also every prefix on HHS's list from the 2000 Census. It is the default:
	// suppressing more than required is always compliant.
	ZipUnion ZipList = "union"
	// ZipCensus2020 suppresses only the prefixes the 2020 Census table
	// restricts, which keeps 063, 790 and 890 (each over 200,000 people now).
	ZipCensus2020 ZipList = "census2020"
)

// ParseZipList returns the ZipList named by s: "union" or "census2020".
// The empty string means the default, ZipUnion.
func ParseZipList(s string) (ZipList, error) {
	switch ZipList(s) {
	case "", ZipUnion:
		return ZipUnion, nil
	case ZipCensus2020:
		return ZipCensus2020, nil
	}
	return "", fmt.Errorf("zip list %q: unknown; want %q or %q", s, ZipUnion, ZipCensus2020)
}

// hhs2000 is the list of restricted prefixes HHS published from the 2000
// Census (67 FR 53233; HHS guidance Q&A 3.1).
var hhs2000 = []string{
	"036", "059", "063", "102", "203", "556", "692", "790", "821",
	"823", "830", "831", "878", "879", "884", "890", "893",
}

// HHS2000Restricted returns the 17 prefixes HHS listed from the 2000 Census
// as holding 20,000 people or fewer. Under ZipUnion they are suppressed even
// where the 2020 Census shows more people. The caller owns the slice.
func HHS2000Restricted() []string {
	return append([]string(nil), hhs2000...)
}

// Census2020Restricted returns, in order, the prefixes present in the 2020
// Census table with 20,000 people or fewer: the 18 of SAFE_HARBOR.md §3.1.
// Prefixes absent from the table are suppressed too but are not listed.
func Census2020Restricted() []string {
	var out []string
	for p, n := range zip3Pop {
		if n >= 0 && n <= MinZip3Population {
			out = append(out, zip3Digits[3*p:3*p+3])
		}
	}
	return out
}

// Zip3Population returns the 2020 Census population of the ZCTAs whose
// first three digits are prefix, and false when prefix is not three ASCII
// digits or is absent from the table (APO/FPO, Island Areas, unassigned).
func Zip3Population(prefix string) (int, bool) {
	p, ok := prefixIndex(prefix)
	if !ok || zip3Pop[p] < 0 {
		return 0, false
	}
	return int(zip3Pop[p]), true
}

// ZipRule generalizes ZIP codes to their first three digits where Safe
// Harbor allows it (45 CFR 164.514(b)(2)(i)(B)) and to "000" elsewhere.
// A prefix remains only if its population in the embedded 2020 Census table
// is over 20,000; under ZipUnion the HHS 2000 list is suppressed as well.
// The zero value applies ZipUnion. A ZipRule is safe for concurrent use.
type ZipRule struct {
	list    ZipList
	allowed *[1000]bool
}

// NewZipRule returns the rule for list l. Any value other than
// ZipCensus2020 gives the more suppressive ZipUnion; validate configuration
// with ParseZipList first.
func NewZipRule(l ZipList) ZipRule {
	if l == ZipCensus2020 {
		return ZipRule{list: ZipCensus2020, allowed: &allowedCensus2020}
	}
	return ZipRule{list: ZipUnion, allowed: &allowedUnion}
}

// List returns the list the rule applies.
func (r ZipRule) List() ZipList {
	if r.allowed == nil {
		return ZipUnion
	}
	return r.list
}

// Zip3 returns the released form of ZIP code s: its first three digits if
// the rule allows that prefix, else "000". The result always has exactly
// three ASCII digits.
//
// Spaces around s are ignored. Accepted forms are "12345", "12345-6789",
// "123456789" and "12345-" (an empty ZIP+4 part, read as "12345"). Digits
// lost to a numeric column are restored: 3 to 4 digits are left-padded to 5
// ("2134" is 02134, "501" is 00501) and 6 to 8 digits to 9, as a ZIP+4 that
// lost its zeros; with a dash, "2134-5678" is 02134-5678. Anything else
// (1 or 2 digits, letters, other separators, empty) gives "000".
func (r ZipRule) Zip3(s string) string {
	p, ok := zipPrefix(strings.TrimSpace(s))
	if !ok {
		return SuppressedZip3
	}
	return r.emit(p)
}

// Zip3Int is Zip3 for ZIP codes stored as integers, whose leading zeros
// are lost: values of 3 to 5 digits are read as a 5-digit ZIP (2134 is
// 02134) and of 6 to 9 digits as a ZIP+4 (21341234 is 02134-1234).
// Values below 100, negative values and values over 9 digits give "000".
func (r ZipRule) Zip3Int(v int64) string {
	if v < 100 || v > 999_999_999 {
		return SuppressedZip3
	}
	if v <= 99_999 {
		return r.emit(int(v / 100))
	}
	return r.emit(int(v / 1_000_000))
}

// Allowed reports whether prefix, three ASCII digits, may remain in a
// released ZIP column under this rule. It is false for "000", which is the
// suppression marker rather than a prefix, and for anything that is not
// three digits. Verification uses it to find prefixes that should be zeroed.
func (r ZipRule) Allowed(prefix string) bool {
	p, ok := prefixIndex(prefix)
	return ok && r.table()[p]
}

func (r ZipRule) table() *[1000]bool {
	if r.allowed == nil {
		return &allowedUnion
	}
	return r.allowed
}

func (r ZipRule) emit(p int) string {
	if !r.table()[p] {
		return SuppressedZip3
	}
	return zip3Digits[3*p : 3*p+3]
}

// zipPrefix returns the first three digits of s, padded as Zip3 documents,
// as a number in 0..999.
func zipPrefix(s string) (int, bool) {
	if len(s) == 5 && allDigits(s) {
		return int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0'), true
	}

	head, tail, dash := strings.Cut(s, "-")
	if dash {
		if len(tail) != 0 && (len(tail) != 4 || !allDigits(tail)) {
			return 0, false
		}
		if len(head) < 3 || len(head) > 5 || !allDigits(head) {
			return 0, false
		}
		return paddedPrefix(head, 5), true
	}

	if len(s) < 3 || len(s) > 9 || !allDigits(s) {
		return 0, false
	}
	if len(s) <= 5 {
		return paddedPrefix(s, 5), true
	}
	return paddedPrefix(s, 9), true
}

// paddedPrefix returns the first three digits of digit string s after
// left-padding it with zeros to width characters.
func paddedPrefix(s string, width int) int {
	zeros := width - len(s)
	p := 0
	for i := 0; i < 3; i++ {
		d := 0
		if i >= zeros {
			d = int(s[i-zeros] - '0')
		}
		p = p*10 + d
	}
	return p
}

func prefixIndex(s string) (int, bool) {
	if len(s) != 3 || !allDigits(s) {
		return 0, false
	}
	return int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0'), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

//go:embed data/zip3-population-2020.csv
var zip3CSV string

var (
	// zip3Digits holds "000001002...999" so emit can return a prefix
	// without allocating and without retaining the caller's string.
	zip3Digits = func() string {
		var b strings.Builder
		for p := 0; p < 1000; p++ {
			fmt.Fprintf(&b, "%03d", p)
		}
		return b.String()
	}()

	// zip3Pop is the 2020 Census population per prefix, -1 where absent.
	zip3Pop = mustParseZip3Table(zip3CSV)

	allowedUnion      = allowedPrefixes(&zip3Pop, ZipUnion)
	allowedCensus2020 = allowedPrefixes(&zip3Pop, ZipCensus2020)
)

// allowedPrefixes returns which prefixes list l lets remain given the
// populations pop (-1 for a prefix absent from the Census table).
func allowedPrefixes(pop *[1000]int32, l ZipList) [1000]bool {
	var ok [1000]bool
	for p, n := range pop {
		ok[p] = n > MinZip3Population
	}
	if l != ZipCensus2020 {
		for _, s := range hhs2000 {
			p, _ := prefixIndex(s)
			ok[p] = false
		}
	}
	return ok
}

// parseZip3Table reads the embedded "zip3,population" table. It reports
// the first bad line by number only.
func parseZip3Table(text string) ([1000]int32, error) {
	var pop [1000]int32
	for i := range pop {
		pop[i] = -1
	}

	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) != "zip3,population" {
		return pop, fmt.Errorf("zip3 table line 1: want header zip3,population")
	}
	for i, line := range lines[1:] {
		prefix, count, found := strings.Cut(strings.TrimSpace(line), ",")
		p, ok := prefixIndex(prefix)
		n, err := strconv.ParseInt(count, 10, 32)
		if !found || !ok || err != nil || n < 0 || pop[p] >= 0 {
			return pop, fmt.Errorf("zip3 table line %d: want a new prefix and a count", i+2)
		}
		pop[p] = int32(n)
	}
	return pop, nil
}

func mustParseZip3Table(text string) [1000]int32 {
	pop, err := parseZip3Table(text)
	if err != nil {
		panic("safeharbor: embedded " + err.Error())
	}
	return pop
}

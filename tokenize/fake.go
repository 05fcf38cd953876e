package tokenize

import (
	"bytes"
	"strconv"
)

// Fake names a surrogate generator: the kind of fictional value AppendFake
// puts in place of a real one.
type Fake string

// The surrogate generators. Names and places come from the word lists of
// github.com/brianvoe/gofakeit/v7/data; numbers and addresses are drawn from
// ranges reserved for fiction or documentation, so a surrogate cannot reach a
// real person.
const (
	FullName  Fake = "full-name"  // "First Last"
	FirstName Fake = "first-name" // a first name
	LastName  Fake = "last-name"  // a last name
	Street    Fake = "street"     // "<number> <name> <type>", e.g. "412 Kuhn Avenue"
	City      Fake = "city"       // a large US city
	Email     Fake = "email"      // first.last<n>@example.com, .org or .net (RFC 2606)
	Phone     Fake = "phone"      // "(NXX) 555-01XX", the NANP range kept for fiction
	Fax       Fake = "fax"        // as Phone, drawn independently
	URL       Fake = "url"        // https://first-last.example.com/ (RFC 2606)
	IPv4      Fake = "ipv4"       // an address in TEST-NET-1, -2 or -3 (RFC 5737)
	IPv6      Fake = "ipv6"       // an address in 2001:db8::/32 (RFC 3849)
)

// fakes lists the generators in the order Fakes reports them.
var fakes = []Fake{FullName, FirstName, LastName, Street, City, Email, Phone, Fax, URL, IPv4, IPv6}

// fakeSalts separates the draws of different generators from one seed, so
// that the phone and the fax of one value are unrelated.
var fakeSalts = func() map[Fake]uint64 {
	s := make(map[Fake]uint64, len(fakes))
	for _, f := range fakes {
		s[f] = fnv64(string(f))
	}
	return s
}()

// Fakes returns the names of all surrogate generators, for validating a
// policy.
func Fakes() []Fake {
	return append([]Fake(nil), fakes...)
}

// ParseFake returns the generator called s and whether there is one.
func ParseFake(s string) (Fake, bool) {
	f := Fake(s)
	_, ok := fakeSalts[f]
	return f, ok
}

// AppendFake appends to dst the surrogate of kind f for the value v: the
// same key, domain, f and v give the same surrogate in every process and
// run. It draws from the list with Seed(v), so without the key the real
// value cannot be found from the surrogate.
//
// Surrogates are not unique: two values may get the same fake name. A column
// whose values must stay distinct takes a token. AppendFake panics on a Fake
// that ParseFake does not know; policies are validated before a run.
func (d *Domain) AppendFake(dst []byte, f Fake, v []byte) []byte {
	salt, ok := fakeSalts[f]
	if !ok {
		panic("tokenize: unknown surrogate " + strconv.Quote(string(f)))
	}
	m := mixer{s: d.Seed(v) ^ salt}

	// A fake drawn from a word list can be the real value by chance. It
	// carries no information then, but it reads like a leak, so such a draw
	// is replaced by the mixer's next one: still one fake per real value.
	start := len(dst)
	for range 8 {
		dst = appendFake(dst[:start], f, &m)
		if !bytes.EqualFold(bytes.TrimSpace(dst[start:]), bytes.TrimSpace(v)) {
			break
		}
	}
	return dst
}

func appendFake(dst []byte, f Fake, m *mixer) []byte {
	switch f {
	case FullName:
		return genFullName(dst, m)
	case FirstName:
		return m.appendFrom(dst, lists.first)
	case LastName:
		return m.appendFrom(dst, lists.last)
	case Street:
		return genStreet(dst, m)
	case City:
		return m.appendFrom(dst, lists.city)
	case Email:
		return genEmail(dst, m)
	case Phone, Fax:
		return genPhone(dst, m)
	case URL:
		return genURL(dst, m)
	case IPv4:
		return genIPv4(dst, m)
	case IPv6:
		return genIPv6(dst, m)
	}
	panic("tokenize: surrogate " + strconv.Quote(string(f)) + " has no generator")
}

func genFullName(dst []byte, m *mixer) []byte {
	dst = m.appendFrom(dst, lists.first)
	dst = append(dst, ' ')
	return m.appendFrom(dst, lists.last)
}

func genStreet(dst []byte, m *mixer) []byte {
	dst = strconv.AppendUint(dst, 1+m.next()%9999, 10)
	dst = append(dst, ' ')
	dst = m.appendFrom(dst, lists.last)
	dst = append(dst, ' ')
	return m.appendFrom(dst, lists.streetType)
}

// reservedDomains are the second-level domains RFC 2606 keeps for examples.
var reservedDomains = [...]string{"example.com", "example.org", "example.net"}

func genEmail(dst []byte, m *mixer) []byte {
	dst = m.appendFrom(dst, lists.firstLower)
	dst = append(dst, '.')
	dst = m.appendFrom(dst, lists.lastLower)
	dst = strconv.AppendUint(dst, 1+m.next()%99999, 10)
	dst = append(dst, '@')
	return append(dst, reservedDomains[m.pick(len(reservedDomains))]...)
}

func genURL(dst []byte, m *mixer) []byte {
	dst = append(dst, "https://"...)
	dst = m.appendFrom(dst, lists.firstLower)
	dst = append(dst, '-')
	dst = m.appendFrom(dst, lists.lastLower)
	dst = append(dst, '.')
	dst = append(dst, reservedDomains[m.pick(len(reservedDomains))]...)
	return append(dst, '/')
}

// genPhone draws "(NXX) 555-01XX": any valid area code but N11, and a line
// in 555-0100..0199, which the North American Numbering Plan keeps for
// fiction.
func genPhone(dst []byte, m *mixer) []byte {
	area := areaCodes[m.pick(len(areaCodes))]
	line := m.pick(100)
	return append(dst, '(',
		'0'+byte(area/100), '0'+byte(area/10%10), '0'+byte(area%10),
		')', ' ', '5', '5', '5', '-', '0', '1',
		'0'+byte(line/10), '0'+byte(line%10))
}

// areaCodes are NXX with N in 2-9, excluding the N11 service codes.
var areaCodes = func() []uint16 {
	var a []uint16
	for c := uint16(200); c <= 999; c++ {
		if c%100 != 11 {
			a = append(a, c)
		}
	}
	return a
}()

// testNets are the three IPv4 documentation networks of RFC 5737.
var testNets = [...]string{"192.0.2.", "198.51.100.", "203.0.113."}

func genIPv4(dst []byte, m *mixer) []byte {
	dst = append(dst, testNets[m.pick(len(testNets))]...)
	return strconv.AppendUint(dst, 1+m.next()%254, 10)
}

// genIPv6 draws 2001:db8:X:Y::Z with X, Y and Z non-zero, which is the
// canonical text form (RFC 5952) of an address in the documentation prefix.
func genIPv6(dst []byte, m *mixer) []byte {
	dst = append(dst, "2001:db8:"...)
	dst = strconv.AppendUint(dst, 1+m.next()%0xffff, 16)
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, 1+m.next()%0xffff, 16)
	dst = append(dst, "::"...)
	return strconv.AppendUint(dst, 1+m.next()%0xffff, 16)
}

// mixer is splitmix64: a small deterministic generator that turns one seed
// into as many well-mixed draws as a surrogate needs.
type mixer struct {
	s uint64
}

func (m *mixer) next() uint64 {
	m.s += 0x9e3779b97f4a7c15
	z := m.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// pick returns a draw in [0, n). The modulo bias is below n/2^64.
func (m *mixer) pick(n int) int { return int(m.next() % uint64(n)) }

// appendFrom appends a draw from list to dst.
func (m *mixer) appendFrom(dst []byte, list []string) []byte {
	return append(dst, list[m.pick(len(list))]...)
}

// fnv64 is 64-bit FNV-1a.
func fnv64(s string) uint64 { return fnvAdd(0xcbf29ce484222325, s) }

package verify

import (
	"encoding/binary"
	"hash/maphash"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/deid/deid/tokenize"
)

// fpSet is a set of 64-bit fingerprints: open addressing with linear
// probing, kept between 3/8 and 3/4 full, so it costs about 11 to 21 bytes
// per distinct value (16 on average) and a lookup touches one cache line.
// The zero fingerprint is reserved for empty slots; fingerprints are
// remapped away from it.
type fpSet struct {
	slots []uint64
	n     int
}

func newFPSet() *fpSet { return &fpSet{slots: make([]uint64, 64)} }

func fix(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}

// add inserts h and reports whether it was new.
func (s *fpSet) add(h uint64) bool {
	h = fix(h)
	if 4*(s.n+1) > 3*len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return false
		case 0:
			s.slots[i] = h
			s.n++
			return true
		}
	}
}

func (s *fpSet) has(h uint64) bool {
	if s == nil || s.n == 0 {
		return false
	}
	h = fix(h)
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return true
		case 0:
			return false
		}
	}
}

func (s *fpSet) grow() {
	old := s.slots
	s.slots = make([]uint64, 2*len(old))
	s.n = 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
		}
	}
}

// bytes is the memory the set holds.
func (s *fpSet) bytes() int64 {
	if s == nil {
		return 0
	}
	return int64(8 * len(s.slots))
}

// len is the number of distinct fingerprints.
func (s *fpSet) len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// fingerprinter computes keyed fingerprints of source values: the first 64
// bits of HMAC-SHA-256 under a key derived for verification from the run's
// key (or from a random key), so that a value can be looked up but never
// read back, and a fingerprint means nothing outside this process.
type fingerprinter struct {
	d   *tokenize.Domain
	buf []byte
}

// verifyDomain is a domain name no policy can use (policies allow only
// lowercase letters, digits, - and _), so its key is used for nothing else.
const verifyDomain = "deid/verify/v1"

func newFingerprinter(k *tokenize.Key) *fingerprinter {
	return &fingerprinter{d: tokenize.New(k).Domain(verifyDomain)}
}

func (f *fingerprinter) of(s string) uint64 {
	f.buf = append(f.buf[:0], s...)
	return f.d.Seed(f.buf)
}

// ofNormal fingerprints the normal form of words and reports whether it is
// eligible; the fingerprint is 0 when it is not.
func (f *fingerprinter) ofNormal(words []string) (uint64, bool) {
	f.buf = appendNormal(f.buf[:0], words)
	if !eligible(f.buf) {
		return 0, false
	}
	return f.d.Seed(f.buf), true
}

// ofRow fingerprints a value together with its row, for the check that an
// output cell differs from the source cell of the same row.
func (f *fingerprinter) ofRow(row int64, s string) uint64 {
	f.buf = binary.BigEndian.AppendUint64(f.buf[:0], uint64(row))
	f.buf = append(f.buf, s...)
	return f.d.Seed(f.buf)
}

// outHash hashes output values (tokens, ZIP3s, years) for the structure and
// k-anonymity checks; the seed is random per process.
type outHash struct{ seed maphash.Seed }

func newOutHash() outHash { return outHash{seed: maphash.MakeSeed()} }

func (o outHash) of(s string) uint64 { return maphash.String(o.seed, s) }

// normalize reduces a value, or a run of words from a text cell, to the
// form fingerprints are taken of: words stripped of surrounding
// punctuation, lowercased, joined by one space; and a value made of digits
// and separators only, with at least 7 digits, to its digits ("(617)
// 555-0123" is 6175550123), so that a phone or SSN is found whatever its
// punctuation.
func normalize(words []string) string {
	return string(appendNormal(nil, words))
}

// appendNormal appends the normal form of words to dst.
func appendNormal(dst []byte, words []string) []byte {
	start := len(dst)
	for _, w := range words {
		w = trimWord(w)
		if w == "" {
			continue
		}
		if len(dst) > start {
			dst = append(dst, ' ')
		}
		dst = appendLower(dst, w)
	}
	if d, ok := digitsOnly(dst[start:]); ok {
		dst = append(dst[:start], d...)
	}
	return dst
}

// appendLower appends w lowercased, without allocating for ASCII.
func appendLower(dst []byte, w string) []byte {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf {
			return append(dst, strings.ToLower(w)...)
		}
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// trimWord strips the punctuation a word carries in prose.
func trimWord(w string) string {
	return strings.TrimFunc(w, func(r rune) bool {
		return unicode.IsPunct(r) && r != '@' && r != '#' || unicode.IsSymbol(r) && r != '+'
	})
}

// digitsOnly returns the digits of s when s holds nothing but digits and
// separators and at least 7 digits. The result reuses a scratch buffer.
func digitsOnly(s []byte) ([]byte, bool) {
	n := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			n++
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '+' || c == '/':
		default:
			return nil, false
		}
	}
	if n < 7 || n == len(s) {
		return nil, false // too short, or digits already
	}
	d := make([]byte, 0, n)
	for _, c := range s {
		if c >= '0' && c <= '9' {
			d = append(d, c)
		}
	}
	return d, true
}

// eligible reports whether a normalized source value is distinctive enough
// to look for: 4 characters or more, and 7 digits or more when it is a
// number, since shorter values recur in any data by chance. A 5-digit ZIP
// is therefore not looked for anywhere; the ZIP column checks and the
// ZIP+4 pattern stand in for it.
func eligible[S string | []byte](n S) bool {
	runes := 0
	for i := 0; i < len(n); i++ {
		if n[i]&0xC0 != 0x80 {
			runes++
		}
	}
	if runes < 4 {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return true
		}
	}
	return len(n) >= 7
}

// commonWords are words of four letters or more that are also surnames or
// first names and recur in ordinary text; the parts of a name are not
// looked for when they are one of these.
var commonWords = map[string]bool{
	"will": true, "long": true, "young": true, "white": true, "brown": true, "green": true,
	"black": true, "gray": true, "grey": true, "king": true, "hill": true, "wood": true,
	"rose": true, "mark": true, "bill": true, "may": true, "june": true,
	"april": true, "august": true, "hope": true, "joy": true, "faith": true, "grace": true,
	"patient": true, "doctor": true, "nurse": true, "street": true, "avenue": true,
	"road": true, "lane": true, "drive": true, "court": true, "place": true, "north": true,
	"south": true, "east": true, "west": true, "city": true, "park": true, "lake": true,
	"river": true, "field": true, "ford": true, "summer": true, "winter": true,
	"case": true, "care": true, "house": true, "bell": true, "banks": true, "price": true,
}

// maxNGram is the longest run of words of a text cell looked up: long
// enough for a full name with a middle name or a street address.
const maxNGram = 6

// words splits a cell into words at white space.
func words(s string) []string { return strings.Fields(s) }

// each calls fn with every fingerprint of the set.
func (s *fpSet) each(fn func(uint64)) {
	if s == nil {
		return
	}
	for _, h := range s.slots {
		if h != 0 {
			fn(h)
		}
	}
}

// missing counts the fingerprints of s that are not in t.
func (s *fpSet) missing(t *fpSet) int64 {
	var n int64
	s.each(func(h uint64) {
		if !t.has(h) {
			n++
		}
	})
	return n
}

package tokenize

import (
	"encoding/hex"
	"strings"

	"github.com/brianvoe/gofakeit/v7/data"
)

// wordLists are the lists surrogates draw from, copied once from gofakeit so
// that nothing else can change them during a run, with duplicates removed
// (first occurrence kept, order otherwise unchanged).
type wordLists struct {
	first, last, city []string
	// streetType holds USPS street types (Avenue, Court, ...), which
	// gofakeit files as "street_name".
	streetType []string
	// firstLower and lastLower are first and last lowercased, for emails and
	// host names; gofakeit's names are ASCII letters only.
	firstLower, lastLower []string
	// id fingerprints every list, in order.
	id string
}

var lists = loadLists()

func loadLists() *wordLists {
	l := &wordLists{
		first:      uniq(data.Person["first"]),
		last:       uniq(data.Person["last"]),
		city:       uniq(data.Address["city"]),
		streetType: uniq(data.Address["street_name"]),
	}
	l.firstLower = lowerASCII(l.first)
	l.lastLower = lowerASCII(l.last)

	h := uint64(0xcbf29ce484222325)
	for _, list := range [][]string{l.first, l.last, l.city, l.streetType} {
		for _, w := range list {
			h = fnvAdd(h, w)
			h = fnvAdd(h, "\x00")
		}
		h = fnvAdd(h, "\x01")
	}
	var b [8]byte
	for i := range b {
		b[i] = byte(h >> (56 - 8*i))
	}
	l.id = hex.EncodeToString(b[:])
	return l
}

// SurrogateListsID fingerprints the word lists surrogates are drawn from (16
// hex digits). Surrogates are stable for as long as it is: a gofakeit upgrade
// that changes a list changes this ID, and the surrogates, so a manifest
// that records it explains why fakes differ between two runs with one key.
func SurrogateListsID() string { return lists.id }

func uniq(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// lowerASCII lowercases each word and keeps only its ASCII letters, so that
// the result is always a valid email local part and host label.
func lowerASCII(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		var b strings.Builder
		for _, r := range strings.ToLower(s) {
			if 'a' <= r && r <= 'z' {
				b.WriteRune(r)
			}
		}
		out[i] = b.String()
		if out[i] == "" {
			out[i] = "x"
		}
	}
	return out
}

func fnvAdd(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return h
}

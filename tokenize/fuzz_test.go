package tokenize

import (
	"regexp"
	"testing"
	"unicode/utf8"
)

// parseKeyMessages are every error ParseKey may return, with lengths
// written as N: an error that is not one of them may be quoting its input.
var parseKeyMessages = map[string]bool{
	"key must be 256 bits: the input is empty":                                 true,
	"key must be 256 bits: 32 hex digits are only 128 bits; use 64 hex digits": true,
	"key must be 256 bits, as 64 hex digits or 32 raw bytes: got N bytes":      true,
	"key must be 256 random bits: it is all zeros":                             true,
	"key must be 256 bits, as 64 hex digits":                                   true,
	"key must be 256 bits, as 64 hex digits: " +
		"the input has a character that is not a hex digit": true,
}

var digits = regexp.MustCompile(`[0-9]+ bytes`)

func FuzzParseKey(f *testing.F) {
	f.Add([]byte(testKeyHex))
	f.Add([]byte(testKeyHex + "\n"))
	f.Add(testKeyBytes())
	f.Add([]byte(testKeyHex[:32]))
	f.Add([]byte(canaryHex))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		k, err := ParseKey(in)
		if err != nil {
			if msg := digits.ReplaceAllString(err.Error(), "N bytes"); !parseKeyMessages[msg] {
				t.Fatalf("unexpected error message %q", err)
			}
			return
		}
		back, err := ParseKey(k.AppendHex(nil))
		if err != nil {
			t.Fatalf("ParseKey(AppendHex) = %v", err)
		}
		if back.ID() != k.ID() {
			t.Fatal("the key changed through AppendHex")
		}
	})
}

var tokenShape = regexp.MustCompile(`^[a-z2-7]{26}$`)

func FuzzAppendToken(f *testing.F) {
	f.Add("patient", []byte("MRN-000001"))
	f.Add("", []byte{})
	f.Add("encounter", []byte{0, 0xff, 0x80})
	a, b := New(testKey(f)), New(testKey(f))
	f.Fuzz(func(t *testing.T, domain string, v []byte) {
		got := a.Domain(domain).AppendToken(nil, v)
		if !tokenShape.Match(got) {
			t.Fatalf("token %q is not 26 characters of lowercase base32", got)
		}
		if again := b.Domain(domain).AppendToken(nil, v); string(again) != string(got) {
			t.Fatalf("token differs between tokenizers of one key: %q, %q", got, again)
		}
	})
}

func FuzzInt64(f *testing.F) {
	f.Add(int64(0))
	f.Add(int64(-1))
	f.Add(int64(1) << 62)
	d := New(testKey(f)).Domain("patient")
	f.Fuzz(func(t *testing.T, v int64) {
		got := d.Int64(v)
		if (got < 0) != (v < 0) {
			t.Fatalf("Int64(%d) = %d changes the sign", v, got)
		}
		if back := d.DecryptInt64(got); back != v {
			t.Fatalf("DecryptInt64(Int64(%d)) = %d", v, back)
		}
		v32 := int32(v)
		if back := d.DecryptInt32(d.Int32(v32)); back != v32 {
			t.Fatalf("DecryptInt32(Int32(%d)) = %d", v32, back)
		}
	})
}

func FuzzAppendFake(f *testing.F) {
	f.Add(uint8(0), []byte("Zyx Fictional Qwerty"))
	f.Add(uint8(5), []byte("fictional@example.invalid"))
	f.Add(uint8(6), []byte("(000) 000-0000"))
	f.Add(uint8(10), []byte{0xff, 0xfe})
	all := Fakes()
	a, b := New(testKey(f)).Domain("patient"), New(testKey(f)).Domain("patient")
	f.Fuzz(func(t *testing.T, which uint8, v []byte) {
		fake := all[int(which)%len(all)]
		got := a.AppendFake([]byte("p:"), fake, v)
		if string(got[:2]) != "p:" || len(got) == 2 {
			t.Fatalf("%s: AppendFake did not append a surrogate: %q", fake, got)
		}
		if !utf8.Valid(got) {
			t.Fatalf("%s: surrogate %q is not UTF-8", fake, got)
		}
		if again := b.AppendFake([]byte("p:"), fake, v); string(again) != string(got) {
			t.Fatalf("%s: surrogate differs between tokenizers: %q, %q", fake, got, again)
		}
	})
}

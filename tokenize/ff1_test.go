package tokenize

import (
	"crypto/aes"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
)

const alphabet36 = "0123456789abcdefghijklmnopqrstuvwxyz"

func numerals(t *testing.T, s string) []uint16 {
	t.Helper()
	out := make([]uint16, len(s))
	for i := range s {
		j := strings.IndexByte(alphabet36, s[i])
		if j < 0 {
			t.Fatalf("numerals(%q): byte %d is not in radix 36", s, i)
		}
		out[i] = uint16(j)
	}
	return out
}

func numeralString(x []uint16) string {
	var b strings.Builder
	for _, d := range x {
		b.WriteByte(alphabet36[d])
	}
	return b.String()
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

// TestFF1NISTSamples checks the nine FF1 sample vectors that NIST publishes
// for SP 800-38G: "FF1 Samples" (FF1samples.pdf) in Examples with
// Intermediate Values, Cryptographic Standards and Guidelines, NIST CSRC,
// https://csrc.nist.gov/projects/cryptographic-standards-and-guidelines/example-values.
func TestFF1NISTSamples(t *testing.T) {
	const (
		key128 = "2B7E151628AED2A6ABF7158809CF4F3C"
		key192 = "2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F"
		key256 = "2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94"
		tweak2 = "39383736353433323130"
		tweak3 = "3737373770717273373737"
		pt10   = "0123456789"
		pt36   = "0123456789abcdefghi"
	)
	tests := []struct {
		name, key   string
		radix       int
		tweak       string
		plain, want string
	}{
		{"sample 1 AES-128 radix 10", key128, 10, "", pt10, "2433477484"},
		{"sample 2 AES-128 radix 10 tweak", key128, 10, tweak2, pt10, "6124200773"},
		{"sample 3 AES-128 radix 36 tweak", key128, 36, tweak3, pt36, "a9tv40mll9kdu509eum"},
		{"sample 4 AES-192 radix 10", key192, 10, "", pt10, "2830668132"},
		{"sample 5 AES-192 radix 10 tweak", key192, 10, tweak2, pt10, "2496655549"},
		{"sample 6 AES-192 radix 36 tweak", key192, 36, tweak3, pt36, "xbj3kv35jrawxv32ysr"},
		{"sample 7 AES-256 radix 10", key256, 10, "", pt10, "6657667009"},
		{"sample 8 AES-256 radix 10 tweak", key256, 10, tweak2, pt10, "1001623463"},
		{"sample 9 AES-256 radix 36 tweak", key256, 36, tweak3, pt36, "xs8a0azh2avyalyzuwd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFF1(mustHex(t, tt.key), tt.radix)
			if err != nil {
				t.Fatal(err)
			}
			tweak := mustHex(t, tt.tweak)

			ct, err := f.Encrypt(tweak, numerals(t, tt.plain))
			if err != nil {
				t.Fatal(err)
			}
			if got := numeralString(ct); got != tt.want {
				t.Errorf("Encrypt = %s, want %s", got, tt.want)
			}

			pt, err := f.Decrypt(tweak, numerals(t, tt.want))
			if err != nil {
				t.Fatal(err)
			}
			if got := numeralString(pt); got != tt.plain {
				t.Errorf("Decrypt = %s, want %s", got, tt.plain)
			}
		})
	}
}

func TestFF1Limits(t *testing.T) {
	key := make([]byte, 32)
	tests := []struct {
		name  string
		radix int
		n     int
		ok    bool
	}{
		{"radix 1", 1, 30, false},
		{"radix 2^16+1", 1<<16 + 1, 4, false},
		{"radix 10, 5 numerals is 100,000", 10, 5, false},
		{"radix 10, 6 numerals is 1,000,000", 10, 6, true},
		{"radix 2, 19 bits", 2, 19, false},
		{"radix 2, 20 bits", 2, 20, true},
		{"radix 2^16, 1 numeral", 1 << 16, 1, false},
		{"radix 2^16, 2 numerals", 1 << 16, 2, true},
		{"radix 1000, 2 numerals", 1000, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFF1(key, tt.radix)
			if err == nil {
				_, err = f.Encrypt(nil, make([]uint16, tt.n))
			}
			if got := err == nil; got != tt.ok {
				t.Errorf("radix %d, n %d: err = %v, want ok %v", tt.radix, tt.n, err, tt.ok)
			}
		})
	}
}

func TestFF1RejectsBadNumeralWithoutQuotingIt(t *testing.T) {
	f, err := NewFF1(make([]byte, 16), 10)
	if err != nil {
		t.Fatal(err)
	}
	x := []uint16{1, 2, 3, 4, 5, 6, 7, 8, 9, 4321}
	_, err = f.Encrypt(nil, x)
	if err == nil {
		t.Fatal("Encrypt accepted numeral 4321 in radix 10")
	}
	if strings.Contains(err.Error(), "4321") {
		t.Errorf("error %q quotes the numeral", err)
	}
}

func TestFF1RejectsBadKey(t *testing.T) {
	if _, err := NewFF1(make([]byte, 7), 10); err == nil {
		t.Error("NewFF1 accepted a 7-byte key")
	}
}

// bitsToNumerals spells the low n bits of x in radix 2, most significant
// first.
func bitsToNumerals(x uint64, n int) []uint16 {
	out := make([]uint16, n)
	for i := range out {
		out[i] = uint16(x >> (n - 1 - i) & 1)
	}
	return out
}

func numeralsToBits(x []uint16) uint64 {
	var v uint64
	for _, d := range x {
		v = v<<1 | uint64(d)
	}
	return v
}

func TestFF1BitsMatchesGeneral(t *testing.T) {
	key := testKeyBytes()
	general, err := NewFF1(key, 2)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))

	for _, tweak := range []string{"", "deid", "a tweak longer than one AES block"} {
		for _, n := range []int{20, 21, 31, 32, 33, 47, 63, 64} {
			fast, err := newFF1Bits(block, n, []byte(tweak))
			if err != nil {
				t.Fatal(err)
			}
			for range 200 {
				x := rng.Uint64() >> (64 - n)
				want, err := general.Encrypt([]byte(tweak), bitsToNumerals(x, n))
				if err != nil {
					t.Fatal(err)
				}
				if got := fast.encrypt(x); got != numeralsToBits(want) {
					t.Fatalf("tweak %q n %d x %#x: fast %#x, general %#x",
						tweak, n, x, got, numeralsToBits(want))
				}
				if got := fast.decrypt(fast.encrypt(x)); got != x {
					t.Fatalf("tweak %q n %d: decrypt(encrypt(%#x)) = %#x", tweak, n, x, got)
				}
			}
		}
	}
}

func TestFF1BitsRefusesSmallDomain(t *testing.T) {
	block, err := aes.NewCipher(testKeyBytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 19, 65} {
		if _, err := newFF1Bits(block, n, nil); err == nil {
			t.Errorf("newFF1Bits(n=%d) succeeded", n)
		}
	}
}

func TestFF1BitsBijective20(t *testing.T) {
	block, err := aes.NewCipher(testKeyBytes())
	if err != nil {
		t.Fatal(err)
	}
	f, err := newFF1Bits(block, 20, nil)
	if err != nil {
		t.Fatal(err)
	}

	const size = 1 << 20
	seen := make([]bool, size)
	for x := uint64(0); x < size; x++ {
		y := f.encrypt(x)
		if y >= size {
			t.Fatalf("encrypt(%#x) = %#x, outside 20 bits", x, y)
		}
		if seen[y] {
			t.Fatalf("encrypt(%#x) = %#x, already an output", x, y)
		}
		seen[y] = true
	}
}

package verify

import (
	"math/rand/v2"
	"testing"

	"github.com/deid/deid/tokenize"
)

func TestFPSet(t *testing.T) {
	s := newFPSet()
	r := rand.New(rand.NewPCG(1, 2))
	var in []uint64
	for i := 0; i < 10000; i++ {
		h := r.Uint64()
		in = append(in, h)
		if !s.add(h) {
			t.Fatalf("add(%d) reported a repeat", i)
		}
	}
	if s.add(in[17]) {
		t.Error("a second add reported a new value")
	}
	for _, h := range in {
		if !s.has(h) {
			t.Fatal("a value added is missing")
		}
	}
	misses := 0
	for i := 0; i < 10000; i++ {
		if s.has(r.Uint64()) {
			misses++
		}
	}
	if misses > 0 {
		t.Errorf("%d values never added were found", misses)
	}
	if !s.add(0) || !s.has(0) {
		t.Error("the zero fingerprint is not kept")
	}
	if s.len() != 10001 {
		t.Errorf("len = %d, want 10001", s.len())
	}
}

// TestFingerprintMemory measures the memory of a million fingerprints:
// about 16 MiB, from 11 to 21 bytes a value depending on where in its
// growth the table is.
func TestFingerprintMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 16 MiB")
	}
	s := newFPSet()
	r := rand.New(rand.NewPCG(3, 4))
	for s.len() < 1_000_000 {
		s.add(r.Uint64())
	}
	perValue := float64(s.bytes()) / float64(s.len())
	t.Logf("1,000,000 distinct values: %.1f MiB, %.1f bytes a value",
		float64(s.bytes())/(1<<20), perValue)
	if perValue < 10 || perValue > 22 {
		t.Errorf("%.1f bytes a value, outside 10..22", perValue)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"Ada", "Lovelace"}, "ada lovelace"},
		{[]string{"Dr.", "Ada", "Lovelace,", "MD"}, "dr ada lovelace md"},
		{[]string{"(617)", "555-0123"}, "6175550123"},
		{[]string{"900-12-3456"}, "900123456"},
		{[]string{"\"Lovelace\""}, "lovelace"},
		{[]string{"ada@example.com"}, "ada@example.com"},
		{[]string{"1950-06-15"}, "19500615"},
		{[]string{"02134"}, "02134"},
	}
	for _, tt := range tests {
		if got := normalize(tt.in); got != tt.want {
			t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEligible(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"ada", false}, {"lovelace", true}, {"1234", false}, {"123456", false},
		{"1234567", true}, {"mrn0012", true}, {"", false},
	}
	for _, tt := range tests {
		if got := eligible(tt.in); got != tt.want {
			t.Errorf("eligible(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestFingerprintsAreKeyed(t *testing.T) {
	k1, _ := tokenize.GenerateKey()
	k2, _ := tokenize.GenerateKey()
	a, b := newFingerprinter(k1), newFingerprinter(k2)
	if a.of("lovelace") == b.of("lovelace") {
		t.Error("two keys give the same fingerprint")
	}
	if a.of("lovelace") != a.of("lovelace") {
		t.Error("one key gives two fingerprints")
	}
	if a.ofRow(1, "x") == a.ofRow(2, "x") {
		t.Error("the row does not change the fingerprint")
	}
}

func BenchmarkLeakedTextCell(b *testing.B) {
	k, _ := tokenize.GenerateKey()
	v := &verifier{fp: newFingerprinter(k), leaks: newFPSet()}
	for i := 0; i < 100000; i++ {
		v.leaks.add(uint64(i) * 0x9e3779b97f4a7c15)
	}
	cell := "patient reports mild pain since last week, denies fever; follow up in two weeks"
	for b.Loop() {
		v.leaked(cell)
	}
}

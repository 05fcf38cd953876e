package tokenize

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"sync"
	"testing"
)

// The golden tests pin every derivation: a change to a label, the HMAC
// truncation, the encoding or FF1 changes these values and breaks joins with
// every earlier release, so it must be deliberate (and take a new label).

func TestAppendTokenGolden(t *testing.T) {
	tok := New(testKey(t))
	tests := []struct {
		domain, in, want string
	}{
		{"patient", "", "lzxopmbqpi44uu6f2avvys7zle"},
		{"patient", "MRN-000001", "7gddlts5ijaudrysn66mu3bdz4"},
		{"patient", "MRN-000002", "pvhssc4thhbni3prlmcsesgcdi"},
		{"encounter", "MRN-000001", "otaa4w5wkuntrs66q65e4yynrm"},
		{"mrn", "Zyx Fictional Qwerty", "erjxx4pyvtjrs52lxtfzzgcfza"},
	}
	for _, tt := range tests {
		got := string(tok.Domain(tt.domain).AppendToken(nil, []byte(tt.in)))
		if got != tt.want {
			t.Errorf("Domain(%q).AppendToken(%q) = %s, want %s", tt.domain, tt.in, got, tt.want)
		}
	}
}

func TestInt64Golden(t *testing.T) {
	d := New(testKey(t)).Domain("patient")
	tests := []struct {
		in, want int64
	}{
		{0, 1110527613687180071},
		{1, 6491197085471939346},
		{1000001, 6287820930847785200},
		{-1, -1110527613687180072},
		{math.MaxInt64, 4617347684460147687},
		{math.MinInt64, -4617347684460147688},
	}
	for _, tt := range tests {
		if got := d.Int64(tt.in); got != tt.want {
			t.Errorf("Int64(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestInt32Golden(t *testing.T) {
	d := New(testKey(t)).Domain("patient")
	tests := []struct {
		in, want int32
	}{
		{0, 1029499457},
		{1, 552792056},
		{1000001, 1981005024},
		{-1, -1029499458},
		{math.MaxInt32, 23105356},
		{math.MinInt32, -23105357},
	}
	for _, tt := range tests {
		if got := d.Int32(tt.in); got != tt.want {
			t.Errorf("Int32(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestSeedGolden(t *testing.T) {
	d := New(testKey(t)).Domain("patient")
	tests := []struct {
		in   string
		want uint64
	}{
		{"", 0x8fea8309bb6f6f3e},
		{"MRN-000001", 0xebbd6a5a6587e3ba},
	}
	for _, tt := range tests {
		if got := d.Seed([]byte(tt.in)); got != tt.want {
			t.Errorf("Seed(%q) = %#x, want %#x", tt.in, got, tt.want)
		}
	}
	if got, want := d.SeedInt64(42), uint64(0xb01456add9f91e0b); got != want {
		t.Errorf("SeedInt64(42) = %#x, want %#x", got, want)
	}
}

// TestInt64IsFF1 checks Int64 and Int32 against the general FF1 (itself
// checked against the NIST samples) under the domain's derived AES key.
func TestInt64IsFF1(t *testing.T) {
	k := testKey(t)
	fk := k.derive(labelFPE, "patient")
	f, err := NewFF1(fk[:], 2)
	if err != nil {
		t.Fatal(err)
	}
	d := New(k).Domain("patient")
	for _, v := range []uint64{0, 1, 1000001, math.MaxInt64} {
		ct, err := f.Encrypt(nil, bitsToNumerals(v, 63))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := d.Int64(int64(v)), int64(numeralsToBits(ct)); got != want {
			t.Errorf("Int64(%d) = %d, FF1 over 63 bits gives %d", v, got, want)
		}
		if got, want := d.Int64(^int64(v)), ^int64(numeralsToBits(ct)); got != want {
			t.Errorf("Int64(%d) = %d, want ^FF1(^v) = %d", ^int64(v), got, want)
		}
	}
	for _, v := range []uint64{0, 1, 1000001, math.MaxInt32} {
		ct, err := f.Encrypt(nil, bitsToNumerals(v, 31))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := d.Int32(int32(v)), int32(numeralsToBits(ct)); got != want {
			t.Errorf("Int32(%d) = %d, FF1 over 31 bits gives %d", v, got, want)
		}
	}
}

func TestSeedInt64IsSeedOfBigEndian(t *testing.T) {
	d := New(testKey(t)).Domain("patient")
	for _, v := range []int64{0, 1, -1, 42, math.MinInt64, math.MaxInt64} {
		u := uint64(v)
		be := []byte{byte(u >> 56), byte(u >> 48), byte(u >> 40), byte(u >> 32),
			byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}
		if got, want := d.SeedInt64(v), d.Seed(be); got != want {
			t.Errorf("SeedInt64(%d) = %#x, want Seed of its bytes %#x", v, got, want)
		}
	}
}

func TestTokenShape(t *testing.T) {
	d := New(testKey(t)).Domain("patient")
	re := regexp.MustCompile(`^[a-z2-7]{26}$`)
	for i := range 1000 {
		tok := d.AppendToken(nil, []byte(strconv.Itoa(i)))
		if !re.Match(tok) {
			t.Fatalf("token %q is not 26 characters of lowercase base32", tok)
		}
	}
	if got := d.AppendToken([]byte("prefix:"), []byte("x")); string(got[:7]) != "prefix:" ||
		len(got) != 7+TokenLen {
		t.Errorf("AppendToken does not append: %q", got)
	}
}

func TestDomainsAndSeedsAreSeparate(t *testing.T) {
	tok := New(testKey(t))
	a, b := tok.Domain("patient"), tok.Domain("encounter")
	v := []byte("MRN-000001")
	if string(a.AppendToken(nil, v)) == string(b.AppendToken(nil, v)) {
		t.Error("two domains give the same token")
	}
	if a.Seed(v) == b.Seed(v) {
		t.Error("two domains give the same seed")
	}
	if a.Int64(12345) == b.Int64(12345) {
		t.Error("two domains give the same Int64")
	}
	if tok.Domain("patient") != a {
		t.Error("Domain is not cached")
	}
	if a.Name() != "patient" {
		t.Errorf("Name = %q, want patient", a.Name())
	}
}

func TestSameKeySameTokensAcrossTokenizers(t *testing.T) {
	k1, k2 := testKey(t), testKey(t)
	a, b := New(k1).Domain("patient"), New(k2).Domain("patient")
	for i := range 100 {
		v := []byte(fmt.Sprintf("MRN-%06d", i))
		if string(a.AppendToken(nil, v)) != string(b.AppendToken(nil, v)) {
			t.Fatalf("token of value %d differs between tokenizers of one key", i)
		}
		if a.Int64(int64(i)) != b.Int64(int64(i)) {
			t.Fatalf("Int64(%d) differs between tokenizers of one key", i)
		}
	}
}

func TestTwoKeysShareNoToken(t *testing.T) {
	a := New(testKey(t)).Domain("patient")
	b := New(otherKey(t)).Domain("patient")
	seen := make(map[string]bool, 10000)
	for i := range 10000 {
		seen[string(a.AppendToken(nil, []byte(strconv.Itoa(i))))] = true
	}
	for i := range 10000 {
		if tok := b.AppendToken(nil, []byte(strconv.Itoa(i))); seen[string(tok)] {
			t.Fatalf("both keys produce token %s", tok)
		}
	}
}

func TestInt64PreservesSignAndRoundTrips(t *testing.T) {
	d := New(testKey(t)).Domain("patient")
	rng := rand.New(rand.NewPCG(3, 4))
	values := []int64{0, 1, -1, 2, -2, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1,
		math.MinInt64 + 1, 1 << 62, -(1 << 62)}
	for range 5000 {
		values = append(values, int64(rng.Uint64()), rng.Int64N(1_000_000))
	}

	for _, v := range values {
		got := d.Int64(v)
		if (v < 0) != (got < 0) {
			t.Fatalf("Int64(%d) = %d changes the sign", v, got)
		}
		if back := d.DecryptInt64(got); back != v {
			t.Fatalf("DecryptInt64(Int64(%d)) = %d", v, back)
		}
	}
}

func TestInt32PreservesSignAndRoundTrips(t *testing.T) {
	d := New(testKey(t)).Domain("patient")
	rng := rand.New(rand.NewPCG(5, 6))
	values := []int32{0, 1, -1, math.MaxInt32, math.MinInt32, math.MaxInt32 - 1, math.MinInt32 + 1}
	for range 5000 {
		values = append(values, int32(rng.Uint32()))
	}

	for _, v := range values {
		got := d.Int32(v)
		if (v < 0) != (got < 0) {
			t.Fatalf("Int32(%d) = %d changes the sign", v, got)
		}
		if back := d.DecryptInt32(got); back != v {
			t.Fatalf("DecryptInt32(Int32(%d)) = %d", v, back)
		}
	}
}

func TestInt64IsInjectiveOnSequentialKeys(t *testing.T) {
	d := New(testKey(t)).Domain("patient")
	seen := make(map[int64]bool, 40000)
	for v := int64(-20000); v < 20000; v++ {
		got := d.Int64(v)
		if seen[got] {
			t.Fatalf("Int64(%d) = %d repeats an earlier output", v, got)
		}
		seen[got] = true
	}
}

func TestConcurrentUseAgrees(t *testing.T) {
	tok := New(testKey(t))
	const n = 2000
	want := make([]string, n)
	wantInt := make([]int64, n)
	d := tok.Domain("patient")
	for i := range n {
		want[i] = string(d.AppendToken(nil, []byte(strconv.Itoa(i))))
		wantInt[i] = d.Int64(int64(i))
	}

	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			d := tok.Domain("patient") // concurrent lookups of one domain
			var buf []byte
			for j := range n {
				i := (j + g*97) % n
				buf = d.AppendToken(buf[:0], []byte(strconv.Itoa(i)))
				if string(buf) != want[i] || d.Int64(int64(i)) != wantInt[i] {
					errs <- fmt.Sprintf("goroutine %d, value %d: result differs", g, i)
					return
				}
				_ = d.AppendFake(nil, FullName, buf)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	d := New(testKey(t)).Domain("patient")
	v := []byte("MRN-000001")
	buf := make([]byte, 0, 128)
	tests := []struct {
		name string
		fn   func()
	}{
		{"AppendToken", func() { buf = d.AppendToken(buf[:0], v) }},
		{"Seed", func() { _ = d.Seed(v) }},
		{"SeedInt64", func() { _ = d.SeedInt64(42) }},
		{"Int64", func() { _ = d.Int64(1234567) }},
		{"Int32", func() { _ = d.Int32(1234567) }},
		{"DecryptInt64", func() { _ = d.DecryptInt64(1234567) }},
	}
	for _, f := range Fakes() {
		tests = append(tests, struct {
			name string
			fn   func()
		}{"AppendFake " + string(f), func() { buf = d.AppendFake(buf[:0], f, v) }})
	}
	for _, tt := range tests {
		tt.fn() // fill the pools
		if got := testing.AllocsPerRun(200, tt.fn); got != 0 {
			t.Errorf("%s: %v allocations per call, want 0", tt.name, got)
		}
	}
}

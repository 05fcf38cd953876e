package safeharbor

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// census2020Restricted is SAFE_HARBOR.md §3.1's list from the 2020 Census.
var census2020Restricted = []string{
	"036", "059", "102", "202", "203", "204", "205", "369", "556",
	"692", "753", "772", "821", "823", "878", "879", "884", "893",
}

func TestParseZipList(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    ZipList
		wantErr bool
	}{
		{name: "empty is union", in: "", want: ZipUnion},
		{name: "union", in: "union", want: ZipUnion},
		{name: "census2020", in: "census2020", want: ZipCensus2020},
		{name: "case matters", in: "Union", wantErr: true},
		{name: "hhs2000 alone is not offered", in: "hhs2000", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseZipList(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseZipList(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseZipList(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestZip3Table(t *testing.T) {
	present, total := 0, 0
	for p := 0; p < 1000; p++ {
		if n, ok := Zip3Population(fmt.Sprintf("%03d", p)); ok {
			present++
			total += n
		}
	}
	if present != 894 {
		t.Errorf("prefixes in the table = %d, want 894", present)
	}
	if total != 334_726_586 {
		t.Errorf("total population = %d, want 334,726,586", total)
	}

	tests := []struct {
		prefix string
		want   int
		wantOK bool
	}{
		{"821", 392, true},
		{"059", 3352, true},
		{"369", 17596, true},
		{"202", 0, true},
		{"753", 0, true},
		{"830", 22696, true},
		{"831", 22228, true},
		{"576", 20310, true},
		{"090", 0, false}, // APO/FPO
		{"340", 0, false}, // APO/FPO
		{"969", 0, false}, // Island Areas
		{"000", 0, false},
		{"005", 0, false}, // IRS unique ZIPs
		{"12", 0, false},
		{"1234", 0, false},
		{"12a", 0, false},
	}
	for _, tt := range tests {
		got, ok := Zip3Population(tt.prefix)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Zip3Population(%q) = %d, %v; want %d, %v",
				tt.prefix, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestCensus2020Restricted(t *testing.T) {
	if got := Census2020Restricted(); !slices.Equal(got, census2020Restricted) {
		t.Errorf("Census2020Restricted() = %v, want %v", got, census2020Restricted)
	}
}

func TestHHS2000Restricted(t *testing.T) {
	got := HHS2000Restricted()
	if len(got) != 17 {
		t.Fatalf("len(HHS2000Restricted()) = %d, want 17", len(got))
	}
	got[0] = "999"
	if again := HHS2000Restricted(); again[0] != "036" {
		t.Errorf("HHS2000Restricted()[0] = %q after the caller changed its copy, want 036",
			again[0])
	}
}

func TestZip3RestrictedPrefixes(t *testing.T) {
	union, census := NewZipRule(ZipUnion), NewZipRule(ZipCensus2020)
	for _, p := range census2020Restricted {
		for _, r := range []ZipRule{union, census} {
			if got := r.Zip3(p + "01"); got != SuppressedZip3 {
				t.Errorf("%s: Zip3(%q) = %q, want 000", r.List(), p+"01", got)
			}
		}
	}
	for _, p := range HHS2000Restricted() {
		if got := union.Zip3(p + "45-6789"); got != SuppressedZip3 {
			t.Errorf("union: Zip3(%q) = %q, want 000", p+"45-6789", got)
		}
	}
}

func TestZip3Lists(t *testing.T) {
	tests := []struct {
		name string
		list ZipList
		in   string
		want string
	}{
		{name: "063 now over 200k", list: ZipCensus2020, in: "06390", want: "063"},
		{name: "790 now over 200k", list: ZipCensus2020, in: "79001", want: "790"},
		{name: "890 now over 200k", list: ZipCensus2020, in: "89001", want: "890"},
		{name: "830 borderline kept", list: ZipCensus2020, in: "83001", want: "830"},
		{name: "831 borderline kept", list: ZipCensus2020, in: "83101", want: "831"},
		{name: "063 on the HHS list", list: ZipUnion, in: "06390", want: "000"},
		{name: "830 on the HHS list", list: ZipUnion, in: "83001", want: "000"},
		{name: "831 on the HHS list", list: ZipUnion, in: "83101", want: "000"},
		{name: "202 zero people", list: ZipCensus2020, in: "20201", want: "000"},
		{name: "576 just over", list: ZipCensus2020, in: "57601", want: "576"},
		{name: "576 just over union", list: ZipUnion, in: "57601", want: "576"},
		{name: "absent APO", list: ZipCensus2020, in: "09001", want: "000"},
		{name: "absent Island Areas", list: ZipUnion, in: "96910", want: "000"},
		{name: "zero value is union", list: "", in: "89001", want: "000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewZipRule(tt.list)
			if tt.list == "" {
				r = ZipRule{}
			}
			if got := r.Zip3(tt.in); got != tt.want {
				t.Errorf("%s: Zip3(%q) = %q, want %q", r.List(), tt.in, got, tt.want)
			}
		})
	}
}

// TestZip3Threshold checks the boundary on a synthetic table, since no
// real prefix holds exactly 20,000 people.
func TestZip3Threshold(t *testing.T) {
	var pop [1000]int32
	for i := range pop {
		pop[i] = -1
	}
	pop[110], pop[111], pop[112], pop[113] = 19_999, 20_000, 20_001, 0
	allowed := allowedPrefixes(&pop, ZipCensus2020)
	r := ZipRule{list: ZipCensus2020, allowed: &allowed}

	tests := []struct {
		in   string
		want string
	}{
		{"11001", "000"}, // 19,999
		{"11101", "000"}, // exactly 20,000
		{"11201", "112"}, // 20,001
		{"11301", "000"}, // 0
		{"11401", "000"}, // absent
	}
	for _, tt := range tests {
		if got := r.Zip3(tt.in); got != tt.want {
			t.Errorf("Zip3(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestZip3Forms(t *testing.T) {
	r := NewZipRule(ZipCensus2020)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "five digits", in: "10001", want: "100"},
		{name: "spaces", in: "  10001\t", want: "100"},
		{name: "zip+4 dash", in: "10001-1234", want: "100"},
		{name: "zip+4 nine digits", in: "100011234", want: "100"},
		{name: "empty plus4", in: "10001-", want: "100"},
		{name: "lost one zero", in: "2134", want: "021"},
		{name: "lost two zeros, PR", in: "601", want: "006"},
		{name: "lost two zeros, absent", in: "501", want: "000"},
		{name: "lost zero with dash", in: "2134-5678", want: "021"},
		{name: "zip+4 lost one zero", in: "21341234", want: "021"},
		{name: "zip+4 lost two zeros", in: "6011234", want: "006"},
		{name: "six digits", in: "123456", want: "000"},
		{name: "one digit", in: "7", want: "000"},
		{name: "two digits", in: "21", want: "000"},
		{name: "empty", in: "", want: "000"},
		{name: "blank", in: "   ", want: "000"},
		{name: "letters", in: "ABCDE", want: "000"},
		{name: "masked", in: "100XX", want: "000"},
		{name: "ten digits", in: "1000112345", want: "000"},
		{name: "short plus4", in: "10001-12", want: "000"},
		{name: "long plus4", in: "10001-12345", want: "000"},
		{name: "two dashes", in: "10001-1234-", want: "000"},
		{name: "leading dash", in: "-10001", want: "000"},
		{name: "space inside", in: "10001 1234", want: "000"},
		{name: "sign", in: "+10001", want: "000"},
		{name: "fraction", in: "10001.0", want: "000"},
		{name: "canadian", in: "K1A 0B1", want: "000"},
		{name: "arabic-indic digits", in: "١٠٠٠١", want: "000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Zip3(tt.in); got != tt.want {
				t.Errorf("Zip3(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestZip3Int(t *testing.T) {
	r := NewZipRule(ZipCensus2020)
	tests := []struct {
		name string
		in   int64
		want string
	}{
		{name: "five digits", in: 10001, want: "100"},
		{name: "four digits", in: 2134, want: "021"},
		{name: "three digits PR", in: 601, want: "006"},
		{name: "three digits absent", in: 501, want: "000"},
		{name: "nine digits", in: 100011234, want: "100"},
		{name: "eight digits", in: 21341234, want: "021"},
		{name: "seven digits", in: 6011234, want: "006"},
		{name: "six digits", in: 123456, want: "000"},
		{name: "two digits", in: 99, want: "000"},
		{name: "zero", in: 0, want: "000"},
		{name: "negative", in: -10001, want: "000"},
		{name: "ten digits", in: 1_000_112_345, want: "000"},
		{name: "restricted", in: 82101, want: "000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Zip3Int(tt.in); got != tt.want {
				t.Errorf("Zip3Int(%d) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestZip3EveryPrefix checks all 1000 prefixes against the table under
// both lists.
func TestZip3EveryPrefix(t *testing.T) {
	for _, l := range []ZipList{ZipUnion, ZipCensus2020} {
		r := NewZipRule(l)
		for p := 0; p < 1000; p++ {
			prefix := fmt.Sprintf("%03d", p)
			n, ok := Zip3Population(prefix)
			want := ok && n > MinZip3Population
			if l == ZipUnion && slices.Contains(hhs2000, prefix) {
				want = false
			}
			if got := r.Allowed(prefix); got != want {
				t.Errorf("%s: Allowed(%q) = %v, want %v", l, prefix, got, want)
			}
			wantZip := SuppressedZip3
			if want {
				wantZip = prefix
			}
			if got := r.Zip3(prefix + "99"); got != wantZip {
				t.Errorf("%s: Zip3(%q) = %q, want %q", l, prefix+"99", got, wantZip)
			}
			if got := r.Zip3Int(int64(p)*100 + 99); got != wantZip {
				t.Errorf("%s: Zip3Int(%d) = %q, want %q", l, p*100+99, got, wantZip)
			}
		}
	}
}

func TestAllowed(t *testing.T) {
	r := NewZipRule(ZipUnion)
	tests := []struct {
		in   string
		want bool
	}{
		{"100", true},
		{"000", false},
		{"821", false},
		{"063", false},
		{"10", false},
		{"1000", false},
		{" 100", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := r.Allowed(tt.in); got != tt.want {
			t.Errorf("Allowed(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestZip3DoesNotAllocate(t *testing.T) {
	r := NewZipRule(ZipUnion)
	for _, in := range []string{"10001", "10001-1234", "2134", " 100011234 ", "garbage"} {
		if got := testing.AllocsPerRun(100, func() { r.Zip3(in) }); got != 0 {
			t.Errorf("Zip3(%q) allocates %v times, want 0", in, got)
		}
	}
}

func TestParseZip3Table(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{name: "ok", in: "zip3,population\n100,5\n"},
		{name: "no header", in: "100,5\n", wantErr: "line 1"},
		{name: "short prefix", in: "zip3,population\n10,5\n", wantErr: "line 2"},
		{name: "negative", in: "zip3,population\n100,5\n101,-1\n", wantErr: "line 3"},
		{name: "duplicate", in: "zip3,population\n100,5\n100,6\n", wantErr: "line 3"},
		{name: "not a number", in: "zip3,population\n100,many\n", wantErr: "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseZip3Table(tt.in)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("parseZip3Table() error = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("parseZip3Table() error = %v, want one naming %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "many"):
				t.Errorf("parseZip3Table() error %q quotes the input", err)
			}
		})
	}
}

func FuzzZip3(f *testing.F) {
	f.Add("10001")
	f.Add("02134-1234")
	f.Add("82101")
	union, census := NewZipRule(ZipUnion), NewZipRule(ZipCensus2020)

	f.Fuzz(func(t *testing.T, s string) {
		got := map[ZipList]string{}
		for _, r := range []ZipRule{union, census} {
			out := r.Zip3(s)
			if len(out) != 3 || !allDigits(out) {
				t.Fatalf("%s: Zip3(%q) = %q, want three digits", r.List(), s, out)
			}
			if out != SuppressedZip3 && !r.Allowed(out) {
				t.Fatalf("%s: Zip3(%q) = %q, a prefix the rule does not allow",
					r.List(), s, out)
			}
			if v := strings.TrimSpace(s); len(v) == 5 && allDigits(v) &&
				r.Allowed(v[:3]) && out != v[:3] {
				t.Fatalf("%s: Zip3(%q) = %q, want %q", r.List(), s, out, v[:3])
			}
			got[r.List()] = out
		}
		if got[ZipUnion] != SuppressedZip3 && got[ZipUnion] != got[ZipCensus2020] {
			t.Fatalf("Zip3(%q) = %q under union but %q under census2020",
				s, got[ZipUnion], got[ZipCensus2020])
		}
	})
}

func BenchmarkZip3(b *testing.B) {
	r := NewZipRule(ZipUnion)
	for _, in := range []string{"10001", "10001-1234", "2134", "not a zip"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.Zip3(in)
			}
		})
	}
}

func BenchmarkZip3Int(b *testing.B) {
	r := NewZipRule(ZipUnion)
	b.ReportAllocs()
	for b.Loop() {
		r.Zip3Int(2134)
	}
}

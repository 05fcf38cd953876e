package verify

import (
	"testing"

	"github.com/deid/deid/safeharbor"
)

func TestResidue(t *testing.T) {
	tests := []struct {
		in   string
		want string // the check, "" for none
	}{
		{"900-12-3456", checkSSN},
		{"ssn 900-12-3456 on file", checkSSN},
		{"(617) 555-0123", ""},
		{"617-555-0199", ""},
		{"+1 617 555 0142", ""},
		{"(555) 555-5555", checkPhone},
		{"call 212.555.1234 now", checkPhone},
		{"jane.roe12@example.com", ""},
		{"a@b.example", ""},
		{"canary@mailhost.zz", checkEmail},
		{"https://jane-roe.example.org/", ""},
		{"see https://portal.zz/x", checkURL},
		{"www.portal.zz", checkURL},
		{"192.0.2.10", ""},
		{"10.1.2.3", checkIP},
		{"2001:db8:1::2", ""},
		{"fd00::1", checkIP},
		{"12:30:45", ""},
		{"1.2.3", ""},
		{"seen 2021-03-04", checkDate},
		{"seen 3/4/2021", checkDate},
		{"seen March 4, 2021", checkDate},
		{"seen 4 Mar 2021", checkDate},
		{"2021-13-45", ""},
		{"2021", ""},
		{"E11.9", ""},
		{"99213", ""},
		{"02134-1234", checkZip5},
		{"MRN: 4455667", checkMRN},
		{"MRN00012345", checkMRN},
		{"medical record no. 12-3456", checkMRN},
		{"Internal Medicine", ""},
		{"", ""},
	}
	for _, tt := range tests {
		h, ok := residue(tt.in, true, true)
		got := ""
		if ok {
			got = h.check
		}
		if got != tt.want {
			t.Errorf("residue(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestResidueWithoutDatesOrZips(t *testing.T) {
	for _, s := range []string{"seen 2021-03-04", "02134-1234"} {
		if h, ok := residue(s, false, false); ok {
			t.Errorf("residue(%q) with dates and ZIPs allowed = %q", s, h.check)
		}
	}
}

func TestZipCell(t *testing.T) {
	rule := safeharbor.NewZipRule(safeharbor.ZipUnion)
	tests := []struct{ in, want string }{
		{"000", ""}, {"021", ""}, {"036", checkZip3}, {"059", checkZip3}, {"02134", checkZip5},
		{"02134-1234", checkZip5}, {"021341234", checkZip5}, {"21", checkZipFormat},
		{"abc", checkZipFormat},
	}
	for _, tt := range tests {
		h, ok := zipCell(tt.in, rule)
		got := ""
		if ok {
			got = h.check
		}
		if got != tt.want {
			t.Errorf("zipCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAgeCell(t *testing.T) {
	tests := []struct {
		in      string
		numeric bool
		found   bool
	}{
		{"45", true, false}, {"90", true, false}, {"91", true, true}, {"90.5", true, true},
		{"45", false, false}, {"90+", false, false}, {"85+", false, false},
		{"90", false, true}, {"95+", false, true}, {"ninety", false, true},
	}
	for _, tt := range tests {
		if _, got := ageCell(tt.in, tt.numeric); got != tt.found {
			t.Errorf("ageCell(%q, numeric %v) found = %v, want %v", tt.in, tt.numeric, got,
				tt.found)
		}
	}
}

func TestYearCell(t *testing.T) {
	tests := []struct {
		in               string
		year             int
		bucket, text, ok bool
	}{
		{"1987", 1987, false, true, true},
		{"<=1936", 1936, true, true, true},
		{"1987-01-01", 1987, false, false, true},
		{"1987-01-01T00:00:00", 1987, false, false, true},
		{"1987-02-01", 0, false, false, false},
		{"1987-01-01 10:00:00", 0, false, false, false},
		{"87", 0, false, false, false},
	}
	for _, tt := range tests {
		y, b, tx, ok := yearCell(tt.in)
		if y != tt.year || b != tt.bucket || tx != tt.text || ok != tt.ok {
			t.Errorf("yearCell(%q) = %d %v %v %v, want %d %v %v %v", tt.in, y, b, tx, ok,
				tt.year, tt.bucket, tt.text, tt.ok)
		}
	}
}

func TestIsSurrogate(t *testing.T) {
	tests := []struct {
		fake, in string
		want     bool
	}{
		{"phone", "(617) 555-0123", true},
		{"phone", "617-555-0123", false},
		{"email", "ada.lovelace123@example.net", true},
		{"email", "ada@mail.zz", false},
		{"url", "https://ada-lovelace.example.com/", true},
		{"ipv4", "198.51.100.7", true},
		{"ipv4", "10.0.0.1", false},
		{"ipv6", "2001:db8:1:2::3", true},
		{"city", "Boston", true},
		{"city", "Canaryville", false},
	}
	for _, tt := range tests {
		if got := isSurrogate(tt.fake, tt.in); got != tt.want {
			t.Errorf("isSurrogate(%s, %q) = %v, want %v", tt.fake, tt.in, got, tt.want)
		}
	}
}

func FuzzResidue(f *testing.F) {
	for _, s := range []string{"900-12-3456", "(555) 555-5555", "a@b.zz", "https://x.zz/",
		"10.1.2.3", "fd00::1", "seen 2021-03-04", "02134-1234", "MRN: 4455667", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := residue(s, true, true)
		if ok && (h.check == "" || h.reason == "") {
			t.Fatalf("a hit without a check or reason")
		}
		if ok && contains(h.reason, s) && len(s) > 3 {
			t.Fatalf("the reason quotes the cell")
		}
	})
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

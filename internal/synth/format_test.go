package synth

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"
)

func TestCivilDatesMatchTimePackage(t *testing.T) {
	start := time.Date(1890, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := start; d.Year() < 2110; d = d.AddDate(0, 0, 1) {
		z := int(d.Unix() / 86400)
		if d.Unix() < 0 && d.Unix()%86400 != 0 {
			z--
		}
		if got := dayOf(d); got != z {
			t.Fatalf("dayOf(%s) = %d, want %d", d.Format(time.DateOnly), got, z)
		}
		y, m, dd := civilFromDay(z)
		if y != d.Year() || m != int(d.Month()) || dd != d.Day() {
			t.Fatalf("civilFromDay(%d) = %d-%d-%d, want %s", z, y, m, dd, d.Format(time.DateOnly))
		}
		if got := string(appendDate(nil, z)); got != d.Format(time.DateOnly) {
			t.Fatalf("appendDate(%d) = %s, want %s", z, got, d.Format(time.DateOnly))
		}
	}
}

func TestAgeAt(t *testing.T) {
	tests := []struct {
		birth, at string
		want      int
	}{
		{"1936-01-02", "2026-01-01", 89},
		{"1936-01-01", "2026-01-01", 90},
		{"1935-12-31", "2026-01-01", 90},
		{"1936-02-29", "2026-02-28", 89},
		{"1936-02-29", "2026-03-01", 90},
		{"1936-02-29", "2028-02-29", 92},
		{"2025-12-31", "2025-12-31", 0},
		{"1960-06-15", "2024-06-14", 63},
	}
	for _, tt := range tests {
		b, _ := time.Parse(time.DateOnly, tt.birth)
		a, _ := time.Parse(time.DateOnly, tt.at)
		if got := ageAt(dayOf(b), dayOf(a)); got != tt.want {
			t.Errorf("ageAt(%s, %s) = %d, want %d", tt.birth, tt.at, got, tt.want)
		}
	}
}

func TestYearsBefore(t *testing.T) {
	tests := []struct {
		from  string
		n     int
		want  string
		valid bool
	}{
		{"2025-03-01", 90, "1935-03-01", true},
		{"2024-02-29", 90, "", false},
		{"2024-02-29", 92, "1932-02-29", true},
	}
	for _, tt := range tests {
		d, _ := time.Parse(time.DateOnly, tt.from)
		got, ok := yearsBefore(dayOf(d), tt.n)
		if ok != tt.valid || (ok && string(appendDate(nil, got)) != tt.want) {
			t.Errorf("yearsBefore(%s, %d) = %s, %v; want %s, %v",
				tt.from, tt.n, appendDate(nil, got), ok, tt.want, tt.valid)
		}
	}
}

func TestAppendTimestamp(t *testing.T) {
	z := dayOf(time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC))
	tests := []struct {
		sec  int
		want string
	}{
		{0, "2024-12-31T00:00:00Z"},
		{3723, "2024-12-31T01:02:03Z"},
		{86399, "2024-12-31T23:59:59Z"},
		{86400 + 61, "2025-01-01T00:01:01Z"},
	}
	for _, tt := range tests {
		if got := string(appendTimestamp(nil, z, tt.sec)); got != tt.want {
			t.Errorf("appendTimestamp(%d) = %s, want %s", tt.sec, got, tt.want)
		}
	}
}

// TestAppendFieldMatchesEncodingCSV checks that fields are quoted exactly as
// encoding/csv quotes them, so the floor's output equals its input.
func TestAppendFieldMatchesEncodingCSV(t *testing.T) {
	fields := []string{
		"", "plain", "a,b", `say "hi"`, "two\nlines", "cr\rhere", " leading", "\tTab",
		`\.`, "trailing ", "Núñez", "\u00a0nbsp", "\u2003em space", "é", "x,", `"`,
	}
	for _, f := range fields {
		var want bytes.Buffer
		w := csv.NewWriter(&want)
		w.Write([]string{f, "z"})
		w.Flush()

		got := appendField(nil, f)
		got = append(got, ",z\n"...)
		if string(got) != want.String() {
			t.Errorf("appendField(%q) = %q, want %q", f, got, want.String())
		}
		if gotB := appendField(nil, []byte(f)); string(gotB) != string(got[:len(got)-3]) {
			t.Errorf("appendField([]byte(%q)) = %q, want %q", f, gotB, got[:len(got)-3])
		}
	}
}

// TestScramble8IsOneToOne checks the first million inputs; the Feistel
// construction makes the whole map a bijection.
func TestScramble8IsOneToOne(t *testing.T) {
	seen := make([]uint64, 100_000_000/64+1)
	for n := range 1_000_000 {
		s := scramble8(n, 0x5eed)
		if s < 0 || s >= 100_000_000 || seen[s/64]&(1<<(s%64)) != 0 {
			t.Fatalf("scramble8(%d) = %d repeats or is out of range", n, s)
		}
		seen[s/64] |= 1 << (s % 64)
	}
}

func TestAppendFoldedName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Núñez", "nunez"}, {"O'Brien", "obrien"}, {"Zoë", "zoe"}, {"Łukasik", "lukasik"},
		{"Grant, Jr.", "grantjr"}, {"", ""},
	}
	for _, tt := range tests {
		if got := string(appendFoldedName(nil, tt.in)); got != tt.want {
			t.Errorf("appendFoldedName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

package synth

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/demo with Demo's output")

// demoDir is the committed demo extract, relative to this package.
var demoDir = filepath.Join("..", "..", "testdata", "demo")

var demoFiles = []string{PatientsFile, EncountersFile, ProvidersFile}

func TestDemoMatchesCommittedFiles(t *testing.T) {
	dir := t.TempDir()
	if err := Demo(dir); err != nil {
		t.Fatalf("Demo: %v", err)
	}

	for _, name := range demoFiles {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join(demoDir, name)
		if *update {
			if err := os.MkdirAll(demoDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/synth -run Demo -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("Demo's %s differs from %s; run with -update if the change is intended",
				name, golden)
		}
	}
}

// TestDemoEdgeCases counts, in the demo extract, each case the Safe Harbor
// rules must handle.
func TestDemoEdgeCases(t *testing.T) {
	x := generate(t, DemoOptions)
	p := parseTable(t, PatientsFile, x.patients)
	e := parseTable(t, EncountersFile, x.encounters)

	if len(p.rows) != 200 {
		t.Errorf("demo has %d patients, want 200", len(p.rows))
	}
	if n := len(e.rows); n < 900 || n > 1100 {
		t.Errorf("demo has %d encounters, want about 1000", n)
	}

	prefixes := map[string]bool{}
	for _, r := range p.rows {
		if z := zip5(p.get(r, "zip")); z != "" {
			prefixes[z[:3]] = true
		}
	}
	for _, e := range restrictedZIP3 {
		if !prefixes[e.prefix] {
			t.Errorf("no ZIP in restricted prefix %s", e.prefix)
		}
	}

	countP := func(f func(r []string) bool) int {
		n := 0
		for _, r := range p.rows {
			if f(r) {
				n++
			}
		}
		return n
	}
	countE := func(f func(note string) bool) int {
		n := 0
		for _, r := range e.rows {
			if f(e.get(r, "note")) {
				n++
			}
		}
		return n
	}
	col := func(c string, re string) func([]string) bool {
		rx := regexp.MustCompile(re)
		return func(r []string) bool { return rx.MatchString(p.get(r, c)) }
	}
	age := func(r []string, at string) int {
		return yearsBetween(day(t, p.get(r, "dob")), day(t, at))
	}
	identifiers := patientIdentifiers(p)

	tests := []struct {
		name string
		got  int
		min  int
	}{
		{"ZIP+4", countP(col("zip", `^\d{5}-\d{4}$`)), 3},
		{"ZIP without its leading zeros", countP(col("zip", `^\d{3,4}$`)), 5},
		{"empty ZIP", countP(col("zip", `^$`)), 1},
		{"aged 90 or more at last_visit", countP(func(r []string) bool {
			return age(r, p.get(r, "last_visit")) >= 90
		}), 6},
		{"90th birthday on last_visit", countP(func(r []string) bool {
			lv := p.get(r, "last_visit")
			return age(r, lv) == 90 && p.get(r, "dob")[4:] == lv[4:]
		}), 2},
		{"90th birthday the day after last_visit", countP(func(r []string) bool {
			next := day(t, p.get(r, "last_visit")).AddDate(0, 0, 1).Format(time.DateOnly)
			return age(r, p.get(r, "last_visit")) == 89 && age(r, next) == 90
		}), 2},
		{"born on 29 February", countP(col("dob", `-02-29$`)), 2},
		{"deceased", countP(col("deceased_date", `.`)), 5},
		{"deceased aged 90 or more", countP(func(r []string) bool {
			d := p.get(r, "deceased_date")
			return d != "" && age(r, d) >= 90
		}), 2},
		{"name with é", countP(func(r []string) bool {
			return strings.Contains(p.get(r, "first_name")+p.get(r, "last_name"), "é")
		}), 1},
		{"name with ñ", countP(func(r []string) bool {
			return strings.Contains(p.get(r, "first_name")+p.get(r, "last_name"), "ñ")
		}), 1},
		{"name with a comma", countP(col("last_name", `,`)), 1},
		{"sex X", countP(col("sex", `^X$`)), 1},
		{"empty first_name", countP(col("first_name", `^$`)), 1},
		{"empty street", countP(col("street", `^$`)), 1},
		{"empty city", countP(col("city", `^$`)), 1},
		{"empty phone", countP(col("phone", `^$`)), 1},
		{"empty email", countP(col("email", `^$`)), 1},
		{"empty ssn", countP(col("ssn", `^$`)), 1},
		{"note with a line break", countE(func(s string) bool { return strings.Contains(s, "\n") }), 1},
		{"note with a quote", countE(func(s string) bool { return strings.Contains(s, `"`) }), 1},
		{"note with a comma", countE(func(s string) bool { return strings.Contains(s, ",") }), 1},
		{"empty note", countE(func(s string) bool { return s == "" }), 1},
		{"note with a patient's MRN", countE(identifiers("mrn")), 1},
		{"note with a patient's phone", countE(identifiers("phone")), 1},
		{"note with a patient's email", countE(identifiers("email")), 1},
		{"note with a patient's last name", countE(identifiers("last_name")), 1},
	}
	for _, tt := range tests {
		if tt.got < tt.min {
			t.Errorf("%s: %d patients or notes, want at least %d", tt.name, tt.got, tt.min)
		}
	}
}

// zip5 restores a ZIP to 5 digits as the Safe Harbor rule reads it: ZIP+4
// cut, lost leading zeros restored; "" if it is not a ZIP.
func zip5(z string) string {
	z, _, _ = strings.Cut(z, "-")
	if len(z) < 3 || len(z) > 5 || strings.Trim(z, "0123456789") != "" {
		return ""
	}
	return strings.Repeat("0", 5-len(z)) + z
}

func day(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatalf("unparseable date in column of dates")
	}
	return d
}

// patientIdentifiers returns, for a column of patients, a test of whether a
// note contains some patient's value of it.
func patientIdentifiers(p table) func(col string) func(string) bool {
	return func(col string) func(string) bool {
		var values []string
		for _, r := range p.rows {
			if v := p.get(r, col); len(v) > 3 {
				values = append(values, v)
			}
		}
		return func(note string) bool {
			for _, v := range values {
				if strings.Contains(note, v) {
					return true
				}
			}
			return false
		}
	}
}

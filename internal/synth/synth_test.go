package synth

import (
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// table is a parsed CSV file with access to fields by column name.
type table struct {
	cols map[string]int
	rows [][]string
}

func parseTable(t *testing.T, name string, data []byte) table {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("parsing %s: %v", name, err)
	}
	if len(recs) == 0 {
		t.Fatalf("%s: no header", name)
	}
	tb := table{cols: map[string]int{}, rows: recs[1:]}
	for i, c := range recs[0] {
		tb.cols[c] = i
	}
	return tb
}

func (tb table) get(row []string, col string) string {
	i, ok := tb.cols[col]
	if !ok {
		panic("no column " + col)
	}
	return row[i]
}

// extract is one generated data set held in memory.
type extract struct {
	patients, encounters, providers []byte
}

func generate(t testing.TB, o Options) extract {
	t.Helper()
	var p, e, v bytes.Buffer
	if err := Write(&p, &e, &v, o); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return extract{p.Bytes(), e.Bytes(), v.Bytes()}
}

func TestWriteIsDeterministic(t *testing.T) {
	o := Options{Patients: 500, Seed: 7}
	a, b := generate(t, o), generate(t, o)
	if !bytes.Equal(a.patients, b.patients) || !bytes.Equal(a.encounters, b.encounters) ||
		!bytes.Equal(a.providers, b.providers) {
		t.Fatal("two runs with the same options differ")
	}

	c := generate(t, Options{Patients: 500, Seed: 8})
	if bytes.Equal(a.patients, c.patients) {
		t.Error("seeds 7 and 8 give the same patients")
	}
}

func TestGenerateWritesFiles(t *testing.T) {
	o := Options{Patients: 50, Seed: 3}
	dir := filepath.Join(t.TempDir(), "new")
	if err := Generate(dir, o); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	want := generate(t, o)

	for name, data := range map[string][]byte{
		PatientsFile: want.patients, EncountersFile: want.encounters, ProvidersFile: want.providers,
	} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%s differs from Write's output", name)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("dir has %d entries, want the 3 tables and no temporary file", len(entries))
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"minimal", Options{Patients: 1}, true},
		{"no patients", Options{}, false},
		{"negative encounters", Options{Patients: 1, EncountersPerPatient: -1}, false},
		{"negative providers", Options{Patients: 1, Providers: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if got := err == nil; got != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
			if err := Write(io.Discard, io.Discard, io.Discard, tt.o); (err == nil) != tt.ok {
				t.Errorf("Write() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestSizes(t *testing.T) {
	tests := []struct {
		o             Options
		wantProviders int
		minEnc        int
		maxEnc        int
	}{
		{Options{Patients: 2000, Seed: 1}, 20, 9000, 11000},
		{Options{Patients: 300, Seed: 1}, 10, 1300, 1700},
		{Options{Patients: 1000, Providers: 3, EncountersPerPatient: 0.5}, 3, 400, 600},
		{Options{Patients: 1000, EncountersPerPatient: 2.5}, 10, 2300, 2700},
	}
	for _, tt := range tests {
		x := generate(t, tt.o)
		p := parseTable(t, PatientsFile, x.patients)
		e := parseTable(t, EncountersFile, x.encounters)
		v := parseTable(t, ProvidersFile, x.providers)
		if len(p.rows) != tt.o.Patients {
			t.Errorf("%+v: %d patients, want %d", tt.o, len(p.rows), tt.o.Patients)
		}
		if len(v.rows) != tt.wantProviders {
			t.Errorf("%+v: %d providers, want %d", tt.o, len(v.rows), tt.wantProviders)
		}
		if n := len(e.rows); n < tt.minEnc || n > tt.maxEnc {
			t.Errorf("%+v: %d encounters, want %d..%d", tt.o, n, tt.minEnc, tt.maxEnc)
		}
	}
}

// TestConsistency checks, on a larger extract than the demo, that keys
// join, identifiers are unique and fake, and dates agree with each other.
func TestConsistency(t *testing.T) {
	x := generate(t, Options{Patients: 3000, Seed: 11})
	p := parseTable(t, PatientsFile, x.patients)
	e := parseTable(t, EncountersFile, x.encounters)
	v := parseTable(t, ProvidersFile, x.providers)

	type person struct{ dob, lastVisit, deceased string }
	people := map[string]person{}
	mrns := map[string]bool{}
	for _, r := range p.rows {
		id := p.get(r, "patient_id")
		people[id] = person{p.get(r, "dob"), p.get(r, "last_visit"), p.get(r, "deceased_date")}
		mrns[p.get(r, "mrn")] = true
		checkPatient(t, p, r)
	}
	if len(people) != len(p.rows) || len(mrns) != len(p.rows) {
		t.Errorf("patient IDs or MRNs repeat: %d IDs, %d MRNs, %d rows",
			len(people), len(mrns), len(p.rows))
	}

	providers := map[string]bool{}
	npis := map[string]bool{}
	npiRE := regexp.MustCompile(`^9\d{9}$`)
	for _, r := range v.rows {
		providers[v.get(r, "provider_id")] = true
		npi := v.get(r, "npi")
		npis[npi] = true
		if !npiRE.MatchString(npi) {
			t.Errorf("provider %s: NPI is not 9 and 9 digits", v.get(r, "provider_id"))
		}
	}
	if len(npis) != len(v.rows) {
		t.Errorf("NPIs repeat: %d distinct of %d", len(npis), len(v.rows))
	}

	latest := map[string]string{}
	for i, r := range e.rows {
		pid := e.get(r, "patient_id")
		who, ok := people[pid]
		if !ok {
			t.Fatalf("encounter row %d: patient_id not in patients", i+1)
		}
		if !providers[e.get(r, "provider_id")] {
			t.Fatalf("encounter row %d: provider_id not in providers", i+1)
		}
		if id, _ := strconv.Atoi(e.get(r, "encounter_id")); id != i+1 {
			t.Fatalf("encounter row %d: encounter_id %d", i+1, id)
		}
		checkEncounter(t, e, r, i+1, who.dob, who.deceased)
		latest[pid] = max(latest[pid], e.get(r, "admitted")[:10])
	}
	for pid, day := range latest {
		if day != people[pid].lastVisit {
			t.Errorf("patient %s: last admission %s, last_visit %s", pid, day, people[pid].lastVisit)
		}
	}
}

var (
	ssnRE   = regexp.MustCompile(`^9\d\d-?[0-4]\d-?\d{4}$`)
	phoneRE = regexp.MustCompile(`^(\d{3}-555-01\d\d|\(\d{3}\) 555-01\d\d|\+1 \d{3} 555 01\d\d)$`)
	emailRE = regexp.MustCompile(`^[a-z0-9.]+@example\.(com|org)$`)
	mrnRE   = regexp.MustCompile(`^MRN\d{8}$`)
	dateRE  = regexp.MustCompile(`^\d{4}-\d\d-\d\d$`)
)

func checkPatient(t *testing.T, p table, r []string) {
	t.Helper()
	id := p.get(r, "patient_id")
	checks := []struct {
		col   string
		re    *regexp.Regexp
		empty bool
	}{
		{"ssn", ssnRE, true}, {"phone", phoneRE, true}, {"email", emailRE, true},
		{"mrn", mrnRE, false}, {"dob", dateRE, false}, {"last_visit", dateRE, false},
		{"deceased_date", dateRE, true},
	}
	for _, c := range checks {
		v := p.get(r, c.col)
		if v == "" && c.empty {
			continue
		}
		if !c.re.MatchString(v) {
			t.Errorf("patient %s: %s does not match %s", id, c.col, c.re)
		}
	}
	if d := p.get(r, "deceased_date"); d != "" && d < p.get(r, "last_visit") {
		t.Errorf("patient %s: deceased before last visit", id)
	}
	if p.get(r, "dob") > p.get(r, "last_visit") {
		t.Errorf("patient %s: born after last visit", id)
	}
	if !strings.Contains("FMX", p.get(r, "sex")) || len(p.get(r, "sex")) != 1 {
		t.Errorf("patient %s: sex not F, M or X", id)
	}
}

func checkEncounter(t *testing.T, e table, r []string, row int, dob, deceased string) {
	t.Helper()
	admitted, err1 := time.Parse(time.RFC3339, e.get(r, "admitted"))
	discharged, err2 := time.Parse(time.RFC3339, e.get(r, "discharged"))
	birth, err3 := time.Parse(time.DateOnly, dob)
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatalf("encounter row %d: unparseable admitted, discharged or dob", row)
	}
	if !discharged.After(admitted) {
		t.Errorf("encounter row %d: discharged not after admitted", row)
	}
	if deceased != "" && discharged.Format(time.DateOnly) > deceased {
		t.Errorf("encounter row %d: discharged after death", row)
	}
	want := strconv.Itoa(yearsBetween(birth, admitted))
	if got := e.get(r, "age_at_admit"); got != want {
		t.Errorf("encounter row %d: age_at_admit %s, want %s", row, got, want)
	}
}

// yearsBetween computes completed years with the time package, as a check
// on ageAt.
func yearsBetween(birth, at time.Time) int {
	years := at.Year() - birth.Year()
	reached := at.Month() > birth.Month() ||
		(at.Month() == birth.Month() && at.Day() >= birth.Day())
	if !reached {
		years--
	}
	return years
}

func BenchmarkGenerate(b *testing.B) {
	o := Options{Patients: 10000, Seed: 1}
	var n int64
	for b.Loop() {
		cw := &countWriter{}
		if err := Write(cw, cw, cw, o); err != nil {
			b.Fatal(err)
		}
		n = cw.n
	}
	b.SetBytes(n)
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

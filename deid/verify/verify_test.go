package verify

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/deid/deid/schemas"
	"github.com/deid/deid/sources"
)

func TestCleanRunPasses(t *testing.T) {
	f := clean(t)
	rep := verifyDir(t, f, f.out, Options{Key: f.key})
	if !rep.Clean {
		t.Fatalf("a clean run has findings:\n%s", rendered(t, rep))
	}
	if rep.Fingerprints == 0 {
		t.Error("no source identifier value was fingerprinted")
	}
	if len(rep.KAnonymity) == 0 {
		t.Error("no k-anonymity report for the patients table")
	}
	for _, k := range rep.KAnonymity {
		if k.Table == "patients" && strings.Join(k.Quasi, ",") != "zip,dob,sex" {
			t.Errorf("patients quasi-identifiers = %v, want zip, dob, sex", k.Quasi)
		}
	}
	t.Log("\n" + rendered(t, rep))
}

// plant is one leak planted into an otherwise clean output.
type plant struct {
	name   string
	table  string
	column string
	row    int // 1-based data row
	// value computes the planted value from the source and output rows;
	// canary is what must never appear in the report.
	value func(src, out *table, row int) string
	// wantCheck is the check that must find it.
	wantCheck string
}

func fixed(s string) func(*table, *table, int) string {
	return func(*table, *table, int) string { return s }
}

// fromSource plants the source value of a column in the same row.
func fromSource(t *testing.T, col string) func(*table, *table, int) string {
	return func(src, _ *table, row int) string { return src.rows[row-1][src.col(t, col)] }
}

func TestPlantedLeaksAreCaught(t *testing.T) {
	f := clean(t)
	patients := readTable(t, filepath.Join(f.src, "patients.csv"))
	plants := []plant{
		{"ssn in a kept column", "encounters", "diagnosis_code", 3,
			fixed("900-41-7733"), checkSSN},
		{"ssn inside kept text", "providers", "specialty", 2,
			fixed("Cardiology ref 900-41-7734 on file"), checkSSN},
		{"phone outside 555-01XX", "encounters", "diagnosis_code", 4,
			fixed("(555) 555-5555"), checkPhone},
		{"email at a real-looking domain", "providers", "specialty", 3,
			fixed("contact canary.person@mailhost.zz"), checkEmail},
		{"url", "encounters", "diagnosis_code", 5, fixed("https://canary-portal.zz/chart"), checkURL},
		{"ip", "encounters", "diagnosis_code", 6, fixed("seen from 10.21.32.43"), checkIP},
		{"ipv6", "encounters", "diagnosis_code", 7, fixed("fd12:3456:789a::1"), checkIP},
		{"date inside kept text", "providers", "specialty", 4,
			fixed("Oncology since 2019-07-23"), checkDate},
		{"full date in a year column", "encounters", "admitted", 8,
			fixed("2021-03-04 10:11:12"), checkDate},
		{"5-digit zip", "patients", "zip", 9, fixed("02134"), checkZip5},
		{"restricted zip3 not zeroed", "patients", "zip", 10, fixed("036"), checkZip3},
		{"zip+4 in kept text", "providers", "specialty", 5,
			fixed("Clinic 02134-1111"), checkZip5},
		{"age over 90", "encounters", "age_at_admit", 11, fixed("97"), checkAge},
		{"birth year of a 90-year-old not bucketed", "patients", "dob", 12,
			fixed("1921"), checkBirthYear},
		{"mrn-like label", "providers", "specialty", 6,
			fixed("Surgery MRN: 4455667"), checkMRN},
		{"source mrn in kept text", "providers", "specialty", 7,
			func(*table, *table, int) string { return "see " + sourceValue(t, patients, "mrn", 5) },
			checkMRN},
		{"source last name in kept text", "providers", "specialty", 8,
			func(*table, *table, int) string {
				return "Referred by " + sourceValue(t, patients, "last_name", 40) + " today"
			}, checkSource},
		{"source ssn without dashes", "encounters", "diagnosis_code", 9,
			func(*table, *table, int) string {
				return strings.ReplaceAll(sourceValue(t, patients, "ssn", 17), "-", "")
			}, checkSource},
		{"token column holds its source value", "patients", "mrn", 13,
			fromSource(t, "mrn"), checkToken},
		{"surrogate column holds its source value", "patients", "phone", 0,
			fromSource(t, "phone"), checkSameRow},
		{"integer token column holds its source value", "encounters", "encounter_id", 19,
			fromSource(t, "encounter_id"), checkSameRow},
		{"value in a nulled column", "patients", "city", 14, fixed("Canaryville"), checkNull},
		{"not a token", "patients", "mrn", 15, fixed("not-a-token"), checkToken},
		{"not a surrogate", "patients", "email", 16,
			fixed("canary.real@mailhost.zz"), checkSurrogate},
		{"repeated key", "patients", "patient_id", 17,
			func(_, out *table, _ int) string { return out.rows[0][out.col(t, "patient_id")] },
			checkUnique},
		{"orphan foreign key", "encounters", "patient_id", 18,
			fixed("424242424242"), checkForeignKey},
	}
	for _, p := range plants {
		t.Run(p.name, func(t *testing.T) {
			out := copyOut(t, f)
			src := readTable(t, filepath.Join(f.src, p.table+".csv"))
			dst := readTable(t, filepath.Join(out, p.table+".csv"))
			row := p.row
			if row == 0 {
				row = fictionalPhoneRow(t, src)
			}
			canary := p.value(src, dst, row)
			dst.rows[row-1][dst.col(t, p.column)] = canary
			dst.write(t)

			rep := verifyDir(t, f, out, Options{Key: f.key})
			found := false
			for _, x := range rep.Findings {
				if x.Check == p.wantCheck && x.Table == p.table &&
					(x.Column == p.column || x.Column == "") &&
					(len(x.Rows) == 0 || containsRow(x.Rows, int64(row))) {
					found = true
				}
			}
			text := rendered(t, rep)
			if !found {
				t.Errorf("planted %s in %s.%s row %d: no %q finding:\n%s",
					p.name, p.table, p.column, row, p.wantCheck, text)
			}
			if rep.Clean {
				t.Error("report says clean")
			}
			// A short number (a row's own id) appears among the counts and
			// row ordinals of any report; only distinctive values can be
			// searched for.
			if len(canary) >= 6 && strings.Contains(text, canary) {
				t.Errorf("the report quotes the planted value")
			}
		})
	}
}

// sourceValue returns the value of a source column at a row.
func sourceValue(t *testing.T, src *table, col string, row int) string {
	t.Helper()
	return src.rows[row-1][src.col(t, col)]
}

// fictionalPhoneRow finds a patient whose source phone already has the
// surrogate form, so only the row-by-row comparison can tell.
func fictionalPhoneRow(t *testing.T, src *table) int {
	t.Helper()
	c := src.col(t, "phone")
	for i, r := range src.rows {
		if isSurrogate("phone", r[c]) {
			return i + 1
		}
	}
	t.Fatal("no source phone in the surrogate form")
	return 0
}

func containsRow(rows []int64, r int64) bool {
	for _, x := range rows {
		if x == r {
			return true
		}
	}
	return false
}

// TestParquetOutput verifies a typed output: integer tokens, dates reduced
// to January 1 in date and timestamp columns, numeric ages.
func TestParquetOutput(t *testing.T) {
	f := clean(t)
	out := parquetOutput(t, f)
	src, err := sources.NewCSVDir(f.src, sources.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := sources.NewParquetDir(out, sources.ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	rep, err := Verify(t.Context(), src, dst, Options{Policy: f.policy, Key: f.key, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean {
		t.Errorf("a clean Parquet output has findings:\n%s", rendered(t, rep))
	}
}

// TestBirthYearAgainstUnlistedDates finds a birth year released next to a
// later date of the same row that shows an age of 90 or more, whether or
// not the policy lists that date as a reference: born 1935, last visit
// 2020 (listed), died 2026 (not listed). Where no listed reference has a
// date, the as-of date counts as well.
func TestBirthYearAgainstUnlistedDates(t *testing.T) {
	p, err := schemas.Check([]byte(`
profile: safe-harbor
as_of: 2026-06-01
tables:
  patients:
    columns:
      dob:   {phi: birth-date, reference: [visit]}
      visit: {phi: service-date}
      died:  {phi: death-date}
  people:
    columns:
      dob:   {phi: birth-date}
      appt:  {phi: service-date}
`), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srcDir, outDir := t.TempDir(), t.TempDir()
	files := map[string]string{
		filepath.Join(srcDir, "patients.csv"): "dob,visit,died\n1935-03-01,2020-05-05,2026-02-02\n1950-01-01,2020-05-05,\n1936-03-01,,\n",
		filepath.Join(outDir, "patients.csv"): "dob,visit,died\n1935,2020,2026\n1950,2020,\n1936,,\n",
		filepath.Join(srcDir, "people.csv"):   "dob,appt\n1936-03-01,2000-01-01\n1960-01-01,2000-01-01\n",
		filepath.Join(outDir, "people.csv"):   "dob,appt\n1936,2000\n1960,2000\n",
	}
	for path, data := range files {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, dst := openPair(t, srcDir, outDir)
	rep, err := Verify(context.Background(), src, dst, Options{Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]int64{}
	for _, x := range rep.Findings {
		if x.Check == checkBirthYear {
			got[x.Table] = append(got[x.Table], x.Rows...)
		}
	}
	for table, want := range map[string][]int64{"patients": {1, 3}, "people": {1}} {
		if rows := got[table]; !slices.Equal(rows, want) {
			t.Errorf("%s: birth-year findings at rows %v, want %v:\n%s",
				table, rows, want, rendered(t, rep))
		}
	}
}

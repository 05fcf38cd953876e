package verify

import (
	"os"
	"path/filepath"
	"testing"
)

func hasFinding(r *Report, check, table, column string) bool {
	for _, f := range r.Findings {
		if f.Check == check && f.Table == table && f.Column == column {
			return true
		}
	}
	return false
}

func TestStructureFindings(t *testing.T) {
	f := clean(t)
	tests := []struct {
		name          string
		change        func(t *testing.T, out string)
		check         string
		table, column string
	}{
		{"a row lost", func(t *testing.T, out string) {
			tb := readTable(t, filepath.Join(out, "encounters.csv"))
			tb.rows = tb.rows[1:]
			tb.write(t)
		}, checkRows, "encounters", ""},
		{"a dropped column present", func(t *testing.T, out string) {
			tb := readTable(t, filepath.Join(out, "patients.csv"))
			tb.header = append(tb.header, "ssn")
			for i := range tb.rows {
				tb.rows[i] = append(tb.rows[i], "")
			}
			tb.write(t)
		}, checkSchema, "patients", "ssn"},
		{"a column the policy does not name", func(t *testing.T, out string) {
			tb := readTable(t, filepath.Join(out, "providers.csv"))
			tb.header = append(tb.header, "extra")
			for i := range tb.rows {
				tb.rows[i] = append(tb.rows[i], "x")
			}
			tb.write(t)
		}, checkSchema, "providers", "extra"},
		{"a table missing", func(t *testing.T, out string) {
			if err := os.Remove(filepath.Join(out, "providers.csv")); err != nil {
				t.Fatal(err)
			}
		}, checkSchema, "providers", ""},
		{"a kept column missing", func(t *testing.T, out string) {
			tb := readTable(t, filepath.Join(out, "providers.csv"))
			c := tb.col(t, "specialty")
			tb.header = append(tb.header[:c:c], tb.header[c+1:]...)
			for i, r := range tb.rows {
				tb.rows[i] = append(r[:c:c], r[c+1:]...)
			}
			tb.write(t)
		}, checkSchema, "providers", "specialty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := copyOut(t, f)
			tt.change(t, out)
			rep := verifyDir(t, f, out, Options{Key: f.key})
			if !hasFinding(rep, tt.check, tt.table, tt.column) {
				t.Errorf("no %s finding on %s.%s:\n%s", tt.check, tt.table, tt.column,
					rendered(t, rep))
			}
		})
	}
}

func TestKAnonymityEnforced(t *testing.T) {
	f := clean(t)
	tests := []struct {
		name  string
		o     Options
		clean bool
		quasi string
	}{
		{"reported only", Options{}, true, "zip,dob,sex"},
		{"enforced", Options{EnforceK: true}, false, "zip,dob,sex"},
		{"one coarse quasi-identifier", Options{EnforceK: true, K: 2, Quasi: []string{"sex"}},
			true, "sex"},
		{"by column name and kind", Options{Quasi: []string{"state", "birth-year"}}, true,
			"state,dob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Key = f.key
			rep := verifyDir(t, f, f.out, tt.o)
			if rep.Clean != tt.clean {
				t.Errorf("clean = %v, want %v:\n%s", rep.Clean, tt.clean, rendered(t, rep))
			}
			var got string
			for _, k := range rep.KAnonymity {
				if k.Table == "patients" {
					got = join(k.Quasi)
					if k.Records != 300 || k.Smallest < 1 || k.RecordsBelowK > k.Records {
						t.Errorf("implausible k-anonymity report %+v", k)
					}
				}
			}
			if got != tt.quasi {
				t.Errorf("quasi-identifiers of patients = %q, want %q", got, tt.quasi)
			}
		})
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

func TestNoManifestComparesWithSource(t *testing.T) {
	f := clean(t)
	out := copyOut(t, f)
	tb := readTable(t, filepath.Join(out, "patients.csv"))
	tb.rows = tb.rows[:len(tb.rows)-1]
	tb.write(t)

	src, dst := openPair(t, f.src, out)
	rep, err := Verify(t.Context(), src, dst, Options{Policy: f.policy})
	if err != nil {
		t.Fatal(err)
	}
	if !hasFinding(rep, checkRows, "patients", "") {
		t.Errorf("no row-count finding without a manifest:\n%s", rendered(t, rep))
	}
}

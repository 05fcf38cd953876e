package schemas

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deid/deid/safeharbor"
	"gopkg.in/yaml.v3"
)

// want is an expected problem: its line, location and a part of its message.
type want struct {
	line          int
	table, column string
	msg           string
}

// problemsOf returns the problems in err, which must be a *Problems.
func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want problems")
	}
	var ps *Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %T %q is not a *Problems", err, err)
	}
	return ps.List
}

// checkProblems compares the problems in err with wants, in order.
func checkProblems(t *testing.T, err error, wants []want) {
	t.Helper()
	got := problemsOf(t, err)
	if len(got) != len(wants) {
		t.Fatalf("got %d problems, want %d:\n%v", len(got), len(wants), err)
	}
	for i, w := range wants {
		g := got[i]
		if g.Line != w.line || g.Table != w.table || g.Column != w.column ||
			!strings.Contains(g.Msg, w.msg) {
			t.Errorf("problem %d = {%d %q %q %q}, want {%d %q %q containing %q}",
				i, g.Line, g.Table, g.Column, g.Msg, w.line, w.table, w.column, w.msg)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []want
	}{
		{
			name: "unknown top-level key",
			in:   "version: 1\ntabels:\n  t: {columns: {a: {keep: x}}}\n",
			want: []want{{2, "", "", `unknown key "tabels" (did you mean "tables"?)`}},
		},
		{
			name: "unknown key in a table",
			in:   "tables:\n  patients:\n    colums: {}\n",
			want: []want{{3, "patients", "", `unknown key "colums" (did you mean "columns"?)`}},
		},
		{
			name: "unknown key in a column",
			in: "tables:\n  patients:\n    columns:\n      mrn:\n        phi: mrn\n" +
				"        tokn: patient\n",
			want: []want{{6, "patients", "mrn", `unknown key "tokn" (did you mean "token"?)`}},
		},
		{
			name: "unknown key with no suggestion",
			in:   "tables:\n  t:\n    columns:\n      a: {keep: x, colour: red}\n",
			want: []want{{4, "t", "a", `unknown key "colour"; known keys: phi, keep,`}},
		},
		{
			name: "version not an integer",
			in:   "version: one\ntables: {}\n",
			want: []want{{1, "", "", "version: expected an integer; found a string"}},
		},
		{
			name: "version a float",
			in:   "version: 1.0\n",
			want: []want{{1, "", "", "version: expected an integer; found a number"}},
		},
		{
			name: "version refused",
			in:   "\nversion: 2\n",
			want: []want{{2, "", "", "version 2 is not supported; the only version is 1"}},
		},
		{
			name: "tables a list",
			in:   "tables:\n  - patients\n",
			want: []want{{1, "", "", "tables: expected a mapping of table names"}},
		},
		{
			name: "table a string",
			in:   "tables:\n  patients: all\n",
			want: []want{{2, "patients", "", "expected a mapping with the key columns; found a string"}},
		},
		{
			name: "columns a list",
			in:   "tables:\n  patients:\n    columns: [mrn]\n",
			want: []want{{3, "patients", "", "columns: expected a mapping of column names"}},
		},
		{
			name: "rule a string",
			in:   "tables:\n  patients:\n    columns:\n      mrn: mrn\n",
			want: []want{{4, "patients", "mrn", "expected a rule such as {phi: mrn}"}},
		},
		{
			name: "phi a mapping",
			in:   "tables:\n  t:\n    columns:\n      a:\n        phi: {kind: mrn}\n",
			want: []want{{5, "t", "a", "phi: expected a string; found a mapping"}},
		},
		{
			name: "keep null",
			in:   "tables:\n  t:\n    columns:\n      a: {keep: }\n",
			want: []want{{4, "t", "a", "keep: expected a string; found null"}},
		},
		{
			name: "reference a string",
			in:   "tables:\n  t:\n    columns:\n      a: {phi: date, reference: b}\n",
			want: []want{{4, "t", "a", "reference: expected a list of column names"}},
		},
		{
			name: "reference of lists",
			in: "tables:\n  t:\n    columns:\n      a:\n        phi: date\n" +
				"        reference:\n          - [b]\n",
			want: []want{{7, "t", "a", "reference: expected a column name; found a list"}},
		},
		{
			name: "duplicate top-level key",
			in:   "profile: safe-harbor\ntables: {}\nprofile: limited-data-set\n",
			want: []want{{3, "", "", `duplicate key "profile" (first at line 1)`}},
		},
		{
			name: "duplicate column",
			in: "tables:\n  t:\n    columns:\n      a: {keep: x}\n      b: {keep: y}\n" +
				"      a: {keep: z}\n",
			want: []want{{6, "t", "", `duplicate key "a" (first at line 4)`}},
		},
		{
			name: "duplicate key in a flow rule",
			in:   "tables:\n  t:\n    columns:\n      a: {phi: mrn, phi: ssn}\n",
			want: []want{{4, "t", "a", `duplicate key "phi" (first at line 4)`}},
		},
		{
			name: "tab indentation",
			in:   "version: 1\nprofile: safe-harbor\n\tzip3: union\n",
			want: []want{{3, "", "", "invalid YAML: found a tab character"}},
		},
		{
			name: "tab in a nested block",
			in:   "tables:\n  t:\n    columns:\n\t  a: {keep: x}\n",
			want: []want{{4, "", "", "invalid YAML: found character that cannot start any token"}},
		},
		{
			name: "stray closing brace",
			in:   "version: 1\n}\n",
			want: []want{{2, "", "", "invalid YAML: did not find expected key"}},
		},
		{
			name: "mapping in a scalar on the first line",
			in:   "profile: safe: harbor\n",
			want: []want{{1, "", "", "invalid YAML: mapping values are not allowed"}},
		},
		{
			name: "unclosed flow mapping",
			in:   "tables:\n  t:\n    columns:\n      a: {keep: x\n      b: {keep: y}\n",
			want: []want{{4, "", "", "invalid YAML: did not find expected ',' or '}'"}},
		},
		{
			name: "unclosed quote",
			in:   "version: 1\nprofile: 'safe-harbor\nzip3: union\n",
			want: []want{{2, "", "", "invalid YAML: found unexpected end of stream"}},
		},
		{
			name: "control character",
			in:   "version: 1\nprofile: safe-harbor\nzip3: \"un\x01ion\"\n",
			want: []want{{3, "", "", "invalid YAML: control characters are not allowed"}},
		},
		{
			name: "empty file",
			in:   "",
			want: []want{{0, "", "", "policy is empty"}},
		},
		{
			name: "comments only",
			in:   "# nothing yet\n\n",
			want: []want{{0, "", "", "policy is empty"}},
		},
		{
			name: "null document",
			in:   "---\n~\n",
			want: []want{{0, "", "", "policy is empty"}},
		},
		{
			name: "a list",
			in:   "- tables\n",
			want: []want{{1, "", "", "a policy is a mapping with the keys version, profile"}},
		},
		{
			name: "two documents",
			in:   "tables: {}\n---\ntables: {}\n",
			want: []want{{2, "", "", "a policy is one YAML document"}},
		},
		{
			name: "alias",
			in: "tables:\n  t:\n    columns:\n      a: &rule {phi: mrn}\n" +
				"      b: *rule\n",
			want: []want{{5, "t", "", "b: aliases (*rule) are not supported"}},
		},
		{
			name: "merge key",
			in: "tables:\n  t:\n    columns:\n      a: &rule {phi: mrn}\n" +
				"      b: {<<: *rule}\n",
			want: []want{{5, "t", "b", "<<: aliases (*rule) are not supported"}},
		},
		{
			name: "null key",
			in:   "~: 1\ntables: {}\n",
			want: []want{{1, "", "", "a key must be a name; found null"}},
		},
		{
			name: "every problem at once",
			in: "version: 3\nprofle: x\ntables:\n  t:\n    columns:\n" +
				"      a: {phi: mrn, tokn: m}\n      b: [keep]\n      a: {keep: x}\n",
			want: []want{
				{1, "", "", "version 3 is not supported"},
				{2, "", "", `unknown key "profle" (did you mean "profile"?)`},
				{6, "t", "a", `unknown key "tokn"`},
				{7, "t", "b", "expected a rule"},
				{8, "t", "", `duplicate key "a"`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Decode([]byte(tt.in), "policy.yaml")
			if p != nil {
				t.Errorf("got a policy with the error")
			}
			checkProblems(t, err, tt.want)
		})
	}
}

func TestDecodeErrorText(t *testing.T) {
	in := "tables:\n  patients:\n    columns:\n      mrn: {phi: mrn, tokn: patient}\n" +
		"      zip: {phi: zip, fakes: street}\nzip4: x\n"
	_, err := Decode([]byte(in), "policy.yaml")
	got := err.Error()
	want := `policy.yaml:4: table "patients" column "mrn": unknown key "tokn" ` +
		`(did you mean "token"?); known keys: phi, keep, action, token, fake, type, reference` +
		"\n" + `policy.yaml:5: table "patients" column "zip": unknown key "fakes" ` +
		`(did you mean "fake"?); known keys: phi, keep, action, token, fake, type, reference` +
		"\n" + `policy.yaml:6: unknown key "zip4" (did you mean "zip3"?); known keys: ` +
		`version, profile, data_use_agreement, as_of, zip3, tables`
	if got != want {
		t.Errorf("error =\n%s\nwant\n%s", got, want)
	}
}

func TestDecodeDefaultsAndLines(t *testing.T) {
	in := `# a comment
tables:
  patients:
    columns:
      mrn: {phi: mrn}
      sex:
        keep: not an identifier
  visits:
    columns:
      dob:
        phi: birth-date
        reference: [seen]
      seen: {phi: service-date, type: date}
`
	p, err := Decode([]byte(in), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 1 || p.Profile != safeharbor.SafeHarborProfile || p.Zip3 != Zip3Union {
		t.Errorf("defaults: version %d profile %q zip3 %q, want 1 safe-harbor union",
			p.Version, p.Profile, p.Zip3)
	}

	lines := []struct {
		table, column string
		want          int
	}{
		{"patients", "", 3},
		{"patients", "mrn", 5},
		{"patients", "sex", 6},
		{"visits", "", 8},
		{"visits", "dob", 10},
		{"visits", "seen", 13},
	}
	for _, l := range lines {
		got := p.Tables[l.table].Line
		if l.column != "" {
			got = p.Tables[l.table].Columns[l.column].Line
		}
		if got != l.want {
			t.Errorf("line of %s.%s = %d, want %d", l.table, l.column, got, l.want)
		}
	}

	dob := p.Tables["visits"].Columns["dob"]
	if len(dob.Reference) != 1 || dob.Reference[0] != "seen" {
		t.Errorf("dob reference = %q, want [seen]", dob.Reference)
	}
	if got := p.Tables["patients"].Columns["sex"].Keep; got != "not an identifier" {
		t.Errorf("sex keep = %q", got)
	}
}

func TestDecodeScalars(t *testing.T) {
	// A date, a number and a boolean are read as the text written.
	in := "as_of: 2024-06-30\ndata_use_agreement: 2024\n" +
		"tables: {t: {columns: {a: {keep: yes}, b: {keep: true}, c: {phi: record-id, token: 42}}}}\n"
	p, err := Decode([]byte(in), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cols := p.Tables["t"].Columns
	got := []string{p.AsOf, p.DataUseAgreement, cols["a"].Keep, cols["b"].Keep, cols["c"].Token}
	want := []string{"2024-06-30", "2024", "yes", "true", "42"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("value %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, name := range BundledNames() {
		t.Run(name, func(t *testing.T) {
			data, err := Bundled(name)
			if err != nil {
				t.Fatal(err)
			}
			p1, err := Check(data, name)
			if err != nil {
				t.Fatal(err)
			}
			out, err := yaml.Marshal(p1)
			if err != nil {
				t.Fatal(err)
			}
			p2, err := Check(out, "marshalled")
			if err != nil {
				t.Fatalf("decoding the marshalled policy: %v\n%s", err, out)
			}
			again, err := yaml.Marshal(p2)
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(out) {
				t.Errorf("round trip changed the policy:\n%s\nthen\n%s", out, again)
			}
			got, want := len(p2.Tables["patients"].Columns), len(p1.Tables["patients"].Columns)
			if got != want {
				t.Errorf("patients has %d columns after the round trip, want %d", got, want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	data := []byte("tables: {t: {columns: {a: {phi: mrn}}}}\n")
	if err := os.WriteFile(good, data, 0o600); err != nil {
		t.Fatal(err)
	}
	p, got, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(data) || p.Tables["t"].Columns["a"].PHI != safeharbor.MRN {
		t.Errorf("Load returned %q, %+v", got, p)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("tables: {t: {columns: {a: {phi: zip, action: keep}}}}\n"),
		0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = Load(bad)
	if err == nil || !strings.HasPrefix(err.Error(), bad+`:1: table "t" column "a": action keep`) {
		t.Errorf("Load(bad) error = %v, want the file name and line first", err)
	}

	_, _, err = Load(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) error = %v, want os.ErrNotExist", err)
	}
}

func TestHash(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, tt := range tests {
		if got := Hash([]byte(tt.in)); got != tt.want {
			t.Errorf("Hash(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

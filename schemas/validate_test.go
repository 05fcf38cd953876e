package schemas

import (
	"errors"
	"strings"
	"testing"

	"github.com/deid/deid/safeharbor"
)

func TestCheckProblems(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []want // nil: the policy is valid
	}{
		{
			name: "unknown profile",
			in:   "version: 1\nprofile: expert\ntables: {t: {columns: {a: {keep: x}}}}\n",
			want: []want{{2, "", "", `profile "expert" is unknown; profiles: safe-harbor, ` +
				`limited-data-set`}},
		},
		{
			name: "limited data set without agreement",
			in:   "profile: limited-data-set\ntables: {t: {columns: {a: {keep: x}}}}\n",
			want: []want{{1, "", "", "profile limited-data-set requires data_use_agreement"}},
		},
		{
			name: "limited data set with agreement",
			in: "profile: limited-data-set\ndata_use_agreement: DUA-2024-017\n" +
				"tables: {t: {columns: {zip: {phi: zip, action: keep}}}}\n",
		},
		{
			name: "as_of not a date",
			in:   "tables: {t: {columns: {a: {keep: x}}}}\nas_of: 2024-02-30\n",
			want: []want{{2, "", "", `as_of "2024-02-30" is not a date in the form YYYY-MM-DD`}},
		},
		{
			name: "as_of in another form",
			in:   "as_of: 06/30/2024\ntables: {t: {columns: {a: {keep: x}}}}\n",
			want: []want{{1, "", "", `as_of "06/30/2024" is not a date`}},
		},
		{
			name: "unknown zip3 list",
			in:   "zip3: census2010\ntables: {t: {columns: {a: {keep: x}}}}\n",
			want: []want{{1, "", "", `zip3 "census2010" is unknown; choose union, census2020`}},
		},
		{
			name: "no tables",
			in:   "version: 1\ntables: {}\n",
			want: []want{{2, "", "", "no tables"}},
		},
		{
			name: "no tables key",
			in:   "version: 1\n",
			want: []want{{0, "", "", "no tables"}},
		},
		{
			name: "table without columns",
			in:   "tables:\n  t:\n    columns: {}\n  u:\n",
			want: []want{{2, "t", "", "no columns"}, {4, "u", "", "no columns"}},
		},
		{
			name: "neither phi nor keep",
			in:   "tables:\n  t:\n    columns:\n      a: {type: int64}\n      b:\n",
			want: []want{
				{4, "t", "a", "has neither phi nor keep"},
				{5, "t", "b", "has neither phi nor keep"},
			},
		},
		{
			name: "both phi and keep",
			in:   "tables:\n  t:\n    columns:\n      a: {phi: mrn, keep: harmless}\n",
			want: []want{{4, "t", "a", "has both phi and keep"}},
		},
		{
			name: "empty keep",
			in:   "tables:\n  t:\n    columns:\n      a: {keep: \"\"}\n",
			want: []want{{4, "t", "a", "has neither phi nor keep"}},
		},
		{
			name: "blank keep",
			in:   "tables:\n  t:\n    columns:\n      a: {keep: \"  \"}\n",
			want: []want{{4, "t", "a", "keep needs a non-empty reason"}},
		},
		{
			name: "keep with a phi rule's keys",
			in: "tables:\n  t:\n    columns:\n" +
				"      a: {keep: x, action: drop, token: t, fake: city, reference: [b]}\n" +
				"      b: {phi: date}\n",
			want: []want{
				{4, "t", "a", "action applies only to phi columns"},
				{4, "t", "a", "token applies only to phi columns"},
				{4, "t", "a", "fake applies only to phi columns"},
				{4, "t", "a", "reference applies only to phi columns"},
			},
		},
		{
			name: "keep with a type",
			in:   "tables:\n  t:\n    columns:\n      a: {keep: x, type: float64}\n",
		},
		{
			name: "unknown kind",
			in:   "tables:\n  t:\n    columns:\n      a: {phi: zipcode}\n",
			want: []want{{4, "t", "a", `phi "zipcode" is not a known kind; kinds: ` +
				strings.Join(safeharbor.KindNames(), ", ")}},
		},
		{
			name: "misspelt kind",
			in:   "tables:\n  t:\n    columns:\n      a: {phi: birthdate}\n",
			want: []want{{4, "t", "a", `phi "birthdate" is not a known kind ` +
				`(did you mean "birth-date"?)`}},
		},
		{
			name: "unknown action",
			in:   "tables:\n  t:\n    columns:\n      a: {phi: mrn, action: tokenize}\n",
			want: []want{{4, "t", "a", `action "tokenize" is unknown (did you mean "token"?); ` +
				"actions: drop, keep, null, surrogate, token, top-code, year, zip3"}},
		},
		{
			name: "keep on a zip under safe harbor",
			in:   "tables:\n  t:\n    columns:\n      zip: {phi: zip, action: keep}\n",
			want: []want{{4, "t", "zip", "action keep is not allowed for zip under safe-harbor; " +
				"allowed: zip3, drop, null"}},
		},
		{
			name: "year on an mrn",
			in:   "tables:\n  t:\n    columns:\n      a: {phi: mrn, action: year}\n",
			want: []want{{4, "t", "a", "action year is not allowed for mrn under safe-harbor; " +
				"allowed: token, drop, null"}},
		},
		{
			name: "action not checked under an unknown profile",
			in:   "profile: x\ntables:\n  t:\n    columns:\n      zip: {phi: zip, action: keep}\n",
			want: []want{{1, "", "", `profile "x" is unknown`}},
		},
		{
			name: "token on a date",
			in:   "tables:\n  t:\n    columns:\n      a: {phi: birth-date, token: patient}\n",
			want: []want{{4, "t", "a", "token applies only to the actions token and surrogate; " +
				"this column's action is year"}},
		},
		{
			name: "token on a dropped column",
			in:   "tables:\n  t:\n    columns:\n      a: {phi: mrn, action: drop, token: m}\n",
			want: []want{{4, "t", "a", "this column's action is drop"}},
		},
		{
			name: "token domains",
			in: "tables:\n  t:\n    columns:\n" +
				"      a: {phi: mrn, token: Patient ID}\n" +
				"      b: {phi: mrn, token: -x}\n" +
				"      c: {phi: name, token: per_son-2}\n" +
				"      d: {phi: email, action: token, token: contact}\n",
			want: []want{
				{4, "t", "a", `token "Patient ID" is not a domain name`},
				{5, "t", "b", `token "-x" is not a domain name`},
			},
		},
		{
			name: "unknown fake format",
			in:   "tables:\n  t:\n    columns:\n      a: {phi: name, fake: fullname}\n",
			want: []want{{4, "t", "a", `fake "fullname" is unknown (did you mean "full-name"?); ` +
				"formats: full-name, first-name, last-name, street, city, email, phone, fax"}},
		},
		{
			name: "fake without surrogate",
			in: "tables:\n  t:\n    columns:\n" +
				"      a: {phi: name, action: token, fake: first-name}\n" +
				"      b: {phi: mrn, fake: first-name}\n" +
				"      c: {phi: city, action: surrogate, fake: city}\n",
			want: []want{
				{4, "t", "a", "fake applies only to the action surrogate; this column's action is token"},
				{5, "t", "b", "fake applies only to the action surrogate; this column's action is token"},
			},
		},
		{
			name: "unknown type",
			in:   "tables:\n  t:\n    columns:\n      a: {phi: record-id, type: integer}\n",
			want: []want{{4, "t", "a", `type "integer" is unknown; types: string, int32, int64, ` +
				"float64, bool, date, timestamp"}},
		},
		{
			name: "reference on a non-date kind",
			in: "tables:\n  t:\n    columns:\n      a: {phi: age, reference: [b]}\n" +
				"      b: {phi: service-date}\n",
			want: []want{{4, "t", "a", "reference applies only to date kinds; age is not one"}},
		},
		{
			name: "reference problems",
			in: "tables:\n  t:\n    columns:\n" +
				"      dob: {phi: birth-date, reference: [last_vist, sex, dob, seen, seen, age]}\n" +
				"      last_visit: {phi: service-date}\n" +
				"      seen: {phi: date}\n" +
				"      sex: {keep: not an identifier}\n" +
				"      age: {phi: age}\n",
			want: []want{
				{4, "t", "dob", `reference "last_vist" is not a column of table "t" ` +
					`(did you mean "last_visit"?)`},
				{4, "t", "dob", `reference "sex" is not a date column`},
				{4, "t", "dob", `reference "dob" names the column itself`},
				{4, "t", "dob", `reference "seen" is listed twice`},
				{4, "t", "dob", `reference "age" is not a date column; a reference must have a ` +
					"date kind (birth-date, death-date,"},
			},
		},
		{
			name: "reference to another table",
			in: "tables:\n  t:\n    columns:\n      dob: {phi: birth-date, reference: [seen]}\n" +
				"  u:\n    columns:\n      seen: {phi: service-date}\n",
			want: []want{{4, "t", "dob", `reference "seen" is not a column of table "t"`}},
		},
		{
			name: "empty reference",
			in:   "tables:\n  t:\n    columns:\n      dob: {phi: birth-date, reference: []}\n",
			want: []want{{4, "t", "dob", "reference is empty"}},
		},
		{
			name: "empty names",
			in:   "tables:\n  \"\":\n    columns:\n      \"\": {keep: x}\n",
			want: []want{{2, "", "", "a table name is empty"}, {4, "", "", "a column name is empty"}},
		},
		{
			name: "five problems together",
			in: "profile: limited-data-set\n" +
				"as_of: 2024-13-01\n" +
				"tables:\n" +
				"  t:\n" +
				"    columns:\n" +
				"      a: {phi: ssn, action: surrogate}\n" +
				"      b: {keep: x, token: b}\n" +
				"  u:\n" +
				"    columns: {}\n",
			want: []want{
				{1, "", "", "requires data_use_agreement"},
				{2, "", "", "is not a date"},
				{6, "t", "a", "action surrogate is not allowed for ssn under limited-data-set"},
				{7, "t", "b", "token applies only to phi columns"},
				{8, "u", "", "no columns"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Check([]byte(tt.in), "policy.yaml")
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				if p == nil {
					t.Fatal("Check returned no policy")
				}
				return
			}
			checkProblems(t, err, tt.want)
		})
	}
}

// TestValidateLines checks that Validate on a decoded policy locates
// column problems by line and top-level problems without one.
func TestValidateLines(t *testing.T) {
	in := "profile: limited-data-set\ntables:\n  t:\n    columns:\n" +
		"      zip: {phi: zip, action: top-code}\n"
	p, err := Decode([]byte(in), "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	err = p.Validate()
	checkProblems(t, err, []want{
		{0, "", "", "requires data_use_agreement"},
		{5, "t", "zip", "action top-code is not allowed"},
	})

	got := err.Error()
	wantText := "profile limited-data-set requires data_use_agreement: a limited data set is " +
		"still PHI and is released only under a data use agreement\n" +
		`line 5: table "t" column "zip": action top-code is not allowed for zip under ` +
		"limited-data-set; allowed: keep, zip3, drop, null"
	if got != wantText {
		t.Errorf("error =\n%s\nwant\n%s", got, wantText)
	}
}

// TestValidateBuilt checks a policy built in code, with zero defaults and
// nil entries.
func TestValidateBuilt(t *testing.T) {
	p := &Policy{Tables: map[string]*TablePolicy{
		"t": {Columns: map[string]*ColumnPolicy{
			"a": {PHI: safeharbor.MRN},
			"b": nil,
		}},
		"u": nil,
	}}
	checkProblems(t, p.Validate(), []want{
		{0, "t", "b", "has neither phi nor keep"},
		{0, "u", "", "no columns"},
	})

	p = &Policy{Version: 2, Tables: map[string]*TablePolicy{
		"t": {Columns: map[string]*ColumnPolicy{"a": {Keep: "x"}}},
	}}
	checkProblems(t, p.Validate(), []want{{0, "", "", "version 2 is not supported"}})

	p.Version = 0
	if err := p.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestProblemsSorted(t *testing.T) {
	ps := &Problems{File: "p.yaml"}
	ps.add(7, "t", "b", "second")
	ps.add(0, "", "", "no line")
	ps.add(3, "t", "", "first")
	ps.add(7, "t", "a", "third")
	err := ps.err()
	want := "p.yaml: no line\np.yaml:3: table \"t\": first\n" +
		"p.yaml:7: table \"t\" column \"b\": second\np.yaml:7: table \"t\" column \"a\": third"
	if got := err.Error(); got != want {
		t.Errorf("error =\n%s\nwant\n%s", got, want)
	}
	var target *Problems
	if !errors.As(err, &target) || len(target.List) != 4 {
		t.Errorf("errors.As did not find the 4 problems")
	}
	if (&Problems{}).err() != nil {
		t.Errorf("no problems gave an error")
	}
}

func TestEffectiveAndDomain(t *testing.T) {
	sh, lds := safeharbor.SafeHarborProfile, safeharbor.LimitedDataSet
	tests := []struct {
		name    string
		col     ColumnPolicy
		profile safeharbor.Profile
		action  safeharbor.Action
		domain  string
	}{
		{"default", ColumnPolicy{PHI: safeharbor.Zip}, sh, safeharbor.Zip3, "zip"},
		{"default lds", ColumnPolicy{PHI: safeharbor.Zip}, lds, safeharbor.Keep, "zip"},
		{"empty profile", ColumnPolicy{PHI: safeharbor.BirthDate}, "", safeharbor.Year, "birth-date"},
		{"override", ColumnPolicy{PHI: safeharbor.Name, Action: safeharbor.Token}, sh,
			safeharbor.Token, "name"},
		{"token domain", ColumnPolicy{PHI: safeharbor.RecordID, Token: "patient"}, sh,
			safeharbor.Token, "patient"},
		{"keep", ColumnPolicy{Keep: "not an identifier"}, sh, safeharbor.Keep, ""},
		{"unknown kind", ColumnPolicy{PHI: "zipcode"}, sh, "", "zipcode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.col.Effective(tt.profile); got != tt.action {
				t.Errorf("Effective(%q) = %q, want %q", tt.profile, got, tt.action)
			}
			if got := tt.col.Domain(); got != tt.domain {
				t.Errorf("Domain() = %q, want %q", got, tt.domain)
			}
		})
	}
}

func TestLists(t *testing.T) {
	// Profiles must be exactly the profiles safeharbor has defaults for.
	seen := map[safeharbor.Profile]bool{}
	for _, k := range safeharbor.Kinds() {
		for p := range k.Defaults {
			seen[p] = true
		}
	}
	if len(seen) != len(Profiles) {
		t.Errorf("safeharbor has %d profiles, Profiles lists %d", len(seen), len(Profiles))
	}
	for _, p := range Profiles {
		if !seen[p] {
			t.Errorf("profile %q has no defaults in safeharbor", p)
		}
	}
	if Profiles[0] != safeharbor.SafeHarborProfile {
		t.Errorf("Profiles[0] = %q, want the default safe-harbor", Profiles[0])
	}

	// Every default action is an allowed one.
	for _, k := range safeharbor.Kinds() {
		for _, p := range Profiles {
			if a := k.Defaults[p]; !safeharbor.Allowed(p, k.Kind, a) {
				t.Errorf("%s under %s: default %s is not allowed", k.Kind, p, a)
			}
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"phi", "keep", "action", "token", "fake", "type", "reference"}
	tests := []struct{ in, want string }{
		{"tokn", "token"},
		{"refrence", "reference"},
		{"Keep", "keep"},
		{"colour", ""},
		{"ph", "phi"},
		{"ab", ""},
		{"tokenize", "token"},
		{strings.Repeat("x", 100), ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

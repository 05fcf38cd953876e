package schemas

import "testing"

// subsetTables is a valid policy body with a subject table, a child linked
// to it through encounters, and a reference table linked the other way.
const subsetTables = `tables:
  patients:
    subject: id
    columns:
      id: {phi: record-id, token: patient}
  encounters:
    columns:
      id:       {phi: record-id, token: encounter}
      patient:  {phi: record-id, token: patient}
      provider: {phi: record-id, token: provider}
  diagnoses:
    link: {column: encounter, to: encounters.id}
    columns:
      encounter: {phi: record-id, token: encounter}
      code:      {keep: "a code"}
  providers:
    link: {column: id, to: encounters.provider}
    columns:
      id: {phi: record-id, token: provider}
`

func TestDecodeSubsetKeys(t *testing.T) {
	p, err := Check([]byte(subsetTables), "policy.yaml")
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if got := p.Tables["patients"].Subject; got != "id" {
		t.Errorf("patients subject = %q, want id", got)
	}
	l := p.Tables["diagnoses"].Link
	if l == nil {
		t.Fatal("diagnoses has no link")
	}
	table, column := l.Target()
	if l.Column != "encounter" || table != "encounters" || column != "id" || l.Line != 12 {
		t.Errorf("link = {%q %q line %d}, target %q.%q; want {encounter encounters.id line 12}",
			l.Column, l.To, l.Line, table, column)
	}
}

func TestLinkTarget(t *testing.T) {
	tests := []struct {
		to, table, column string
	}{
		{"encounters.id", "encounters", "id"},
		{"public.encounters.id", "public.encounters", "id"},
		{"encounters", "", ""},
		{".id", "", ""},
		{"encounters.", "", ""},
	}
	for _, tt := range tests {
		table, column := (&Link{To: tt.to}).Target()
		if table != tt.table || column != tt.column {
			t.Errorf("Target(%q) = %q, %q; want %q, %q", tt.to, table, column, tt.table, tt.column)
		}
	}
}

func TestCheckSubsetProblems(t *testing.T) {
	one := func(extra string) string {
		return "tables:\n  a:\n" + extra +
			"    columns:\n      id: {phi: record-id, token: x}\n      k: {keep: y}\n" +
			"  b:\n    columns:\n      id: {phi: record-id, token: x}\n      a_id: {keep: y}\n"
	}
	tests := []struct {
		name string
		in   string
		want []want
	}{
		{
			name: "subject not a column",
			in:   one("    subject: idd\n"),
			want: []want{{2, "a", "", `subject "idd" is not a column of the table`}},
		},
		{
			name: "subject kept, not tokenised",
			in:   one("    subject: k\n"),
			want: []want{{2, "a", "", `subject "k" must be a tokenised column`}},
		},
		{
			name: "two subject tables for one domain",
			in: "tables:\n  a:\n    subject: id\n    columns: {id: {phi: record-id, token: x}}\n" +
				"  b:\n    subject: id\n    columns: {id: {phi: record-id, token: x}}\n",
			want: []want{{5, "b", "", `table "a" already lists the subjects of token domain "x"`}},
		},
		{
			name: "link column missing",
			in:   one("    link: {column: nope, to: b.a_id}\n"),
			want: []want{{3, "a", "", `link: column "nope" is not a column of the table`}},
		},
		{
			name: "link to without a column",
			in:   one("    link: {column: id, to: b}\n"),
			want: []want{{3, "a", "", `link: to "b" is not of the form table.column`}},
		},
		{
			name: "link to an unknown table",
			in:   one("    link: {column: id, to: c.id}\n"),
			want: []want{{3, "a", "", `names table "c", which is not in the policy`}},
		},
		{
			name: "link to an unknown column",
			in:   one("    link: {column: id, to: b.a_idd}\n"),
			want: []want{{3, "a", "", `names column "a_idd", which is not a column of table "b" ` +
				`(did you mean "a_id"?)`}},
		},
		{
			name: "link to itself",
			in:   one("    link: {column: id, to: a.k}\n"),
			want: []want{{3, "a", "", `link: to "a.k" names the table itself`}},
		},
		{
			name: "link without to",
			in:   one("    link: {column: id}\n"),
			want: []want{{3, "a", "", "link: to is missing"}},
		},
		{
			name: "links form a cycle",
			in: "tables:\n  a:\n    link: {column: id, to: b.id}\n    columns: {id: {keep: y}}\n" +
				"  b:\n    link: {column: id, to: a.id}\n    columns: {id: {keep: y}}\n",
			want: []want{{3, "a", "", "the tables a -> b -> a form a cycle"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Check([]byte(tt.in), "policy.yaml")
			checkProblems(t, err, tt.want)
		})
	}
}

func TestDecodeSubsetErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []want
	}{
		{
			name: "unknown link key",
			in:   "tables:\n  a:\n    link: {colum: id, to: b.id}\n    columns: {id: {keep: y}}\n",
			want: []want{{3, "a", "", `link: unknown key "colum" (did you mean "column"?)`}},
		},
		{
			name: "link not a mapping",
			in:   "tables:\n  a:\n    link: b.id\n    columns: {id: {keep: y}}\n",
			want: []want{{3, "a", "", "link: expected a mapping"}},
		},
		{
			name: "subject not a string",
			in:   "tables:\n  a:\n    subject: [id]\n    columns: {id: {keep: y}}\n",
			want: []want{{3, "a", "", "subject: expected a string; found a list"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in), "policy.yaml")
			checkProblems(t, err, tt.want)
		})
	}
}

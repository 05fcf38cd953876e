package deid

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/deid/deid/sources"
)

// TestPlanKeepsOnlyKeysThatStayUnique checks that a primary key, unique
// constraint or unique index survives only over columns that are kept or
// tokenized: a year, a ZIP3, a top-coded age or a surrogate repeats where
// the source's values did not, so the key would fail on the output.
func TestPlanKeepsOnlyKeysThatStayUnique(t *testing.T) {
	const policy = `
as_of: 2026-01-01
tables:
  people:
    columns:
      id:    {phi: record-id, token: person}
      mrn:   {phi: mrn}
      zip:   {phi: zip}
      email: {phi: email}
      dob:   {phi: birth-date}
      sex:   {keep: "not an identifier"}
`
	src := &constrainedSource{
		memSource: &memSource{tables: map[string][][]string{
			"people": {{"id", "mrn", "zip", "email", "dob", "sex"}}}},
		constraints: map[string]sources.Constraints{"people": {
			PrimaryKey: []string{"id"},
			Unique:     [][]string{{"mrn"}, {"zip"}, {"email"}, {"mrn", "dob"}, {"id", "sex"}},
			Indexes: []sources.Index{
				{Name: "by_dob", Columns: []string{"dob"}},
				{Name: "one_email", Columns: []string{"email"}, Unique: true},
				{Name: "one_mrn", Columns: []string{"mrn"}, Unique: true},
			},
		}},
	}
	p := testPolicy(t, policy)
	env, err := newEnv(Options{Policy: p, Tokenizer: testTokenizer(t)})
	if err != nil {
		t.Fatal(err)
	}
	tables, _ := src.Tables(context.Background())
	plan, err := NewPlan(p, tables, env)
	if err != nil {
		t.Fatal(err)
	}
	out := plan.Tables[0].Out.Constraints

	if got := strings.Join(out.PrimaryKey, ","); got != "id" {
		t.Errorf("primary key %q, want id", got)
	}
	if got, want := fmt.Sprint(out.Unique), "[[mrn] [id sex]]"; got != want {
		t.Errorf("unique constraints %s, want %s", got, want)
	}
	var indexes []string
	for _, ix := range out.Indexes {
		indexes = append(indexes, ix.Name)
	}
	if want := []string{"by_dob", "one_mrn"}; !slices.Equal(indexes, want) {
		t.Errorf("indexes %q, want %q", indexes, want)
	}
	if n := len(plan.Tables[0].Notes); n != 4 {
		t.Errorf("%d notes, want 4 (zip, email, mrn+dob, one_email): %q", n, plan.Tables[0].Notes)
	}
}

package deid

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/deid/deid/internal/dataerr"
)

func TestParseSample(t *testing.T) {
	tests := []struct {
		spec    string
		wantErr string
		below   uint64
		all     bool
	}{
		{spec: "patient=50%", below: 1 << 63},
		{spec: "patient=25%", below: 1 << 62},
		{spec: "patient=100%", all: true},
		{spec: "patient=0%", below: 0},
		{spec: "patient=1%", below: 184467440737095516}, // floor(2^64 / 100)
		{spec: "patient=0.5%", below: 92233720368547758},
		{spec: "patient=1", wantErr: "must be a percentage"},
		{spec: "patient=0.01", wantErr: "must be a percentage"},
		{spec: "patient=-1%", wantErr: "must be a percentage"},
		{spec: "patient=1e2%", wantErr: "must be a percentage"},
		{spec: "patient=101%", wantErr: "between 0% and 100%"},
		{spec: "patient", wantErr: "write it as domain=percent"},
		{spec: "=1%", wantErr: "write it as domain=percent"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := ParseSample(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSample(%q) error = %v, want %q", tt.spec, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSample(%q): %v", tt.spec, err)
			}
			below, all, _ := s.cut()
			if below != tt.below || all != tt.all {
				t.Errorf("cut of %q = %d, %v; want %d, %v", tt.spec, below, all, tt.below, tt.all)
			}
			if s.String() != tt.spec {
				t.Errorf("String() = %q, want %q", s.String(), tt.spec)
			}
		})
	}
}

func TestParseLimit(t *testing.T) {
	tests := []struct {
		spec    string
		want    Limit
		wantErr bool
	}{
		{spec: "patient=500", want: Limit{Domain: "patient", N: 500}},
		{spec: "patient=0", wantErr: true},
		{spec: "patient=-3", wantErr: true},
		{spec: "patient=5%", wantErr: true},
		{spec: "patient", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseLimit(tt.spec)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseLimit(%q) = %v, %v; want %v, error %v",
				tt.spec, got, err, tt.want, tt.wantErr)
		}
	}
}

// subsetPolicy has a subject table, a child, a grandchild linked through
// it, a reference table linked the other way, and a code list kept whole.
const subsetPolicy = `
as_of: 2026-01-01
tables:
  parents:
    subject: id
    columns:
      id: {phi: record-id, token: patient, type: int64}
  children:
    columns:
      id:       {phi: record-id, token: visit, type: int64}
      parent:   {phi: record-id, token: patient, type: int64}
      provider: {phi: record-id, token: provider, type: int64}
      age:      {phi: age, type: int64}
  grandchildren:
    link: {column: visit, to: children.id}
    columns:
      visit: {phi: record-id, token: visit, type: int64}
      code:  {keep: "a code"}
  providers:
    link: {column: id, to: children.provider}
    columns:
      id: {phi: record-id, token: provider, type: int64}
  codes:
    columns:
      code: {keep: "a code"}
`

// subsetSource has 200 parents with 5 children each, 2 grandchildren per
// child, 10 providers of which children use 7, and 4 codes.
func subsetSource() *memSource {
	tables := map[string][][]string{
		"parents":       {{"id"}},
		"children":      {{"id", "parent", "provider", "age"}},
		"grandchildren": {{"visit", "code"}},
		"providers":     {{"id"}},
		"codes":         {{"code"}, {"A"}, {"B"}, {"C"}, {"D"}},
	}
	for i := 1; i <= 200; i++ {
		tables["parents"] = append(tables["parents"], []string{fmt.Sprint(i)})
	}
	for i := 1; i <= 1000; i++ {
		tables["children"] = append(tables["children"],
			[]string{fmt.Sprint(i), fmt.Sprint((i-1)/5 + 1), fmt.Sprint(i%7 + 1), "40"})
		for _, code := range []string{"A", "B"} {
			tables["grandchildren"] = append(tables["grandchildren"], []string{fmt.Sprint(i), code})
		}
	}
	for i := 1; i <= 10; i++ {
		tables["providers"] = append(tables["providers"], []string{fmt.Sprint(i)})
	}
	return &memSource{tables: tables, batchRows: 64}
}

func runSubset(t *testing.T, p string, src *memSource, s Subset, workers int) (*memSink, *Result) {
	t.Helper()
	sink := newMemSink()
	res, err := Run(t.Context(), src, sink, Options{Policy: testPolicy(t, p),
		Tokenizer: testTokenizer(t), Workers: workers, Subset: s})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return sink, res
}

// column returns column i of every row.
func columnOf(rows [][]string, i int) []string {
	out := make([]string, len(rows))
	for r, row := range rows {
		out[r] = row[i]
	}
	return out
}

func setOf(values []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range values {
		m[v] = true
	}
	return m
}

func TestSampleKeepsJoins(t *testing.T) {
	s := Subset{Samples: []Sample{{Domain: "patient", Percent: "30%"}}}
	sink, res := runSubset(t, subsetPolicy, subsetSource(), s, 3)
	out := sink.tables

	// The parents kept are exactly those whose seed is under the cut.
	below, _, _ := s.Samples[0].cut()
	dom := testTokenizer(t).Domain("patient")
	var want int
	for i := int64(1); i <= 200; i++ {
		if dom.SeedInt64(i) < below {
			want++
		}
	}
	if got := len(out["parents"]); got != want || got == 0 || got == 200 {
		t.Fatalf("parents kept = %d, want %d (and neither none nor all)", got, want)
	}

	checks := []struct {
		name          string
		child         string
		col           int
		parent        string
		pcol          int
		wantRows      int
		wantAllParent bool // every parent row is referenced
	}{
		{"children of kept parents", "children", 1, "parents", 0, 5 * want, true},
		{"grandchildren of kept children", "grandchildren", 0, "children", 0, 10 * want, true},
		{"providers used by kept children", "children", 2, "providers", 0,
			len(out["children"]), true},
	}
	for _, c := range checks {
		parents := setOf(columnOf(out[c.parent], c.pcol))
		refs := columnOf(out[c.child], c.col)
		for i, v := range refs {
			if !parents[v] {
				t.Errorf("%s: %s row %d does not resolve in %s", c.name, c.child, i+1, c.parent)
			}
		}
		if len(refs) != c.wantRows {
			t.Errorf("%s: %s has %d rows, want %d", c.name, c.child, len(refs), c.wantRows)
		}
		if used := setOf(refs); c.wantAllParent && len(used) != len(parents) {
			t.Errorf("%s: %d of %d %s rows are referenced, want all", c.name, len(used),
				len(parents), c.parent)
		}
	}
	if got := len(out["codes"]); got != 4 {
		t.Errorf("codes kept = %d, want all 4 (no subject, no link)", got)
	}

	rows := map[string][2]int64{}
	for _, tr := range res.Tables {
		rows[tr.Name] = [2]int64{tr.RowsIn, tr.RowsOut}
	}
	if got := rows["children"]; got != [2]int64{1000, int64(5 * want)} {
		t.Errorf("children rows in/out = %v, want [1000 %d]", got, 5*want)
	}
	m := NewManifest(res, ManifestInfo{Deterministic: true})
	if m.Subset == nil || !reflect.DeepEqual(m.Subset.Sample, []string{"patient=30%"}) {
		t.Errorf("manifest subset = %+v, want sample patient=30%%", m.Subset)
	}
	for _, tm := range m.Tables {
		if tm.Subset == "" {
			t.Errorf("manifest table %s does not say how its rows were chosen", tm.Name)
		}
	}
}

func TestSubsetSameOutputForAnyWorkerCount(t *testing.T) {
	s := Subset{Samples: []Sample{{Domain: "patient", Percent: "10%"}},
		Limits: []Limit{{Domain: "provider", N: 4}}}
	one, _ := runSubset(t, subsetPolicy, subsetSource(), s, 1)
	many, _ := runSubset(t, subsetPolicy, subsetSource(), s, 8)
	if !reflect.DeepEqual(one.tables, many.tables) {
		t.Fatal("a subset with 8 workers differs from one with 1 worker")
	}
}

func TestLimitKeepsTheSmallestSeeds(t *testing.T) {
	const n = 17
	sink, _ := runSubset(t, subsetPolicy, subsetSource(),
		Subset{Limits: []Limit{{Domain: "patient", N: n}}}, 2)

	dom := testTokenizer(t).Domain("patient")
	type seeded struct {
		id   int64
		seed uint64
	}
	var all []seeded
	for i := int64(1); i <= 200; i++ {
		all = append(all, seeded{i, dom.SeedInt64(i)})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seed < all[j].seed })
	var want []string
	for _, s := range all[:n] {
		want = append(want, fmt.Sprint(dom.Int64(s.id)))
	}
	sort.Strings(want)
	got := columnOf(sink.tables["parents"], 0)
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("kept parents = %v, want the %d with the smallest seeds %v", got, n, want)
	}
	if c := len(sink.tables["children"]); c != 5*n {
		t.Errorf("children kept = %d, want %d", c, 5*n)
	}
}

func TestLimitAboveTheSubjectsKeepsAll(t *testing.T) {
	sink, _ := runSubset(t, subsetPolicy, subsetSource(),
		Subset{Limits: []Limit{{Domain: "patient", N: 1000}}}, 2)
	if got := len(sink.tables["parents"]); got != 200 {
		t.Errorf("parents kept = %d, want all 200", got)
	}
}

func TestSubsetPlanErrors(t *testing.T) {
	mixed := `
tables:
  a:
    columns:
      id: {phi: record-id, token: patient, type: int64}
  b:
    columns:
      id: {phi: record-id, token: patient}
`
	tests := []struct {
		name   string
		policy string
		subset Subset
		want   string
	}{
		{"unknown domain", subsetPolicy,
			Subset{Samples: []Sample{{Domain: "patinet", Percent: "1%"}}},
			`no column is tokenised in the domain "patinet"`},
		{"domain chosen twice", subsetPolicy,
			Subset{Samples: []Sample{{Domain: "patient", Percent: "1%"}},
				Limits: []Limit{{Domain: "patient", N: 3}}},
			`domain "patient" is chosen twice`},
		{"integer and string keys in one domain", mixed,
			Subset{Samples: []Sample{{Domain: "patient", Percent: "1%"}}},
			`token domain "patient" is int64 in table "a" column "id" but utf8 in table "b" column "id"`},
		{"bad percent", subsetPolicy,
			Subset{Samples: []Sample{{Domain: "patient", Percent: "1"}}},
			"must be a percentage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := subsetSource()
			if tt.policy == mixed {
				src = &memSource{tables: map[string][][]string{
					"a": {{"id"}, {"1"}}, "b": {{"id"}, {"1"}}}}
			}
			sink := newMemSink()
			_, err := Run(t.Context(), src, sink, Options{Policy: testPolicy(t, tt.policy),
				Tokenizer: testTokenizer(t), Subset: tt.subset})
			var pe *PlanError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want a *PlanError containing %q", err, tt.want)
			}
			if sink.committed {
				t.Error("a run with a plan error committed")
			}
		})
	}
}

// TestSubsetLocatesBadValueInTableRows checks that a transform error in a
// filtered batch names the row of the table, not of the filtered batch.
func TestSubsetLocatesBadValueInTableRows(t *testing.T) {
	const canary = "CANARY-77a1"
	p := `
tables:
  people:
    columns:
      id:  {phi: record-id, token: patient}
      dob: {phi: birth-date}
`
	rows := [][]string{{"id", "dob"}}
	for i := 1; i <= 300; i++ {
		rows = append(rows, []string{fmt.Sprintf("P%d", i), "1970-01-01"})
	}
	// Put the canary in a row the sample keeps, late in its batch.
	dom := testTokenizer(t).Domain("patient")
	bad := 0
	for i := 300; i > 0; i-- {
		if dom.Seed([]byte(fmt.Sprintf("P%d", i))) < 1<<63 {
			bad = i
			break
		}
	}
	rows[bad][1] = canary
	_, err := Run(t.Context(), &memSource{tables: map[string][][]string{"people": rows},
		batchRows: 50}, newMemSink(), Options{Policy: testPolicy(t, p),
		Tokenizer: testTokenizer(t), Subset: Subset{Samples: []Sample{{"patient", "50%"}}}})
	var de *dataerr.Error
	if !errors.As(err, &de) {
		t.Fatalf("error = %v, want a *dataerr.Error", err)
	}
	if de.Row != int64(bad) || de.Column != "dob" {
		t.Errorf("located at row %d column %q, want row %d column dob", de.Row, de.Column, bad)
	}
	if strings.Contains(err.Error(), canary) {
		t.Errorf("error quotes the value: %v", err)
	}
}

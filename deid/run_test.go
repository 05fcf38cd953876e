package deid

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/deid/deid/internal/dataerr"
	"github.com/deid/deid/schemas"
	"github.com/deid/deid/tokenize"
)

func testTokenizer(t *testing.T) *tokenize.Tokenizer {
	t.Helper()
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i)
	}
	k, err := tokenize.ParseKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tokenize.New(k)
}

func testPolicy(t *testing.T, yaml string) *schemas.Policy {
	t.Helper()
	p, err := schemas.Decode([]byte(yaml), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

const patientsPolicy = `
profile: safe-harbor
as_of: 2026-01-01
tables:
  patients:
    columns:
      id:    {phi: record-id, token: patient, type: int64}
      mrn:   {phi: mrn}
      name:  {phi: name, fake: first-name}
      dob:   {phi: birth-date, reference: [visit]}
      visit: {phi: service-date}
      zip:   {phi: zip}
      age:   {phi: age, type: int64}
      ssn:   {phi: ssn}
      note:  {phi: free-text}
      city:  {phi: city}
      sex:   {keep: "not an identifier"}
`

func patientRows(n int) [][]string {
	rows := [][]string{{"id", "mrn", "name", "dob", "visit", "zip", "age", "ssn", "note", "city", "sex"}}
	for i := 1; i <= n; i++ {
		rows = append(rows, []string{
			fmt.Sprint(i), fmt.Sprintf("MRN%08d", i), "Testname", "1950-06-15", "2020-03-01",
			"02134", "69", "900-00-0001", "fake note", "Faketown", "F"})
	}
	return rows
}

func runMem(t *testing.T, p *schemas.Policy, src *memSource, workers int) (*memSink, *Result, error) {
	t.Helper()
	sink := newMemSink()
	res, err := Run(context.Background(), src, sink, Options{
		Policy: p, Tokenizer: testTokenizer(t), Workers: workers})
	return sink, res, err
}

func TestRunSameOutputForAnyWorkerCount(t *testing.T) {
	p := testPolicy(t, patientsPolicy)
	rows := patientRows(5000)
	one, _, err := runMem(t, p, &memSource{tables: map[string][][]string{"patients": rows}, batchRows: 97}, 1)
	if err != nil {
		t.Fatal(err)
	}
	many, _, err := runMem(t, p, &memSource{tables: map[string][][]string{"patients": rows}, batchRows: 97}, 8)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(one.tables, many.tables) {
		t.Fatal("output with 8 workers differs from output with 1 worker")
	}
	if got := len(one.tables["patients"]); got != 5000 {
		t.Fatalf("rows out = %d, want 5000", got)
	}
	if !one.committed || one.aborted {
		t.Fatalf("committed=%v aborted=%v, want committed only", one.committed, one.aborted)
	}
}

func TestRunAppliesRules(t *testing.T) {
	p := testPolicy(t, patientsPolicy)
	rows := [][]string{patientRows(0)[0],
		{"1", "MRN00000001", "Testname", "1930-06-15", "2021-05-05", "82101-1234", "95", "900-00-0001", "x", "Faketown", "F"},
		{"2", "MRN00000002", "Testname", "1980-06-15", "", "2134", "40", "", "", "", "M"},
		{"3", "", "", "1936-12-31", "", "3601", "", "", "", "", ""},
	}
	sink, res, err := runMem(t, p, &memSource{tables: map[string][][]string{"patients": rows}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range sink.schemas["patients"].Fields() {
		names = append(names, f.Name)
	}
	if got, want := strings.Join(names, ","), "id,mrn,name,dob,visit,zip,age,city,sex"; got != want {
		t.Fatalf("output columns = %s, want %s (ssn and note dropped)", got, want)
	}

	out := sink.tables["patients"]
	tests := []struct {
		name      string
		row, col  int
		want      string
		wantNotEq string
	}{
		{"birth year bucketed against the visit year", 0, 3, "<=1931", ""},
		{"birth year kept under 90", 1, 3, "1980", ""},
		{"birth year bucketed against as_of when no visit", 2, 3, "<=1936", ""},
		{"service date year only", 0, 4, "2021", ""},
		{"restricted ZIP3 zeroed", 0, 5, "000", ""},
		{"lost leading zero restored", 1, 5, "021", ""},
		{"restricted prefix with lost zero zeroed", 2, 5, "000", ""},
		{"age top-coded", 0, 6, "90", ""},
		{"age kept", 1, 6, "40", ""},
		{"null stays null", 2, 6, "<null>", ""},
		{"city nulled", 0, 7, "<null>", ""},
		{"sex kept", 0, 8, "F", ""},
		{"mrn tokenized", 0, 1, "", "MRN00000001"},
		{"id tokenized", 0, 0, "", "1"},
		{"name replaced", 0, 2, "", "Testname"},
	}
	for _, tt := range tests {
		got := out[tt.row][tt.col]
		if tt.want != "" && got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
		if tt.wantNotEq != "" && (got == tt.wantNotEq || got == "<null>") {
			t.Errorf("%s: got %q, want a replacement", tt.name, got)
		}
	}
	if len(out[0][1]) != 26 {
		t.Errorf("mrn token length = %d, want 26", len(out[0][1]))
	}
	if res.Tables[0].RowsIn != 3 || res.Tables[0].RowsOut != 3 {
		t.Errorf("rows in/out = %d/%d, want 3/3", res.Tables[0].RowsIn, res.Tables[0].RowsOut)
	}
}

// TestBirthYearJudgedAgainstEveryReleasedDate shows why every released date
// of the row is a reference for the birth year, listed or not: born 1935,
// last visit 2020 (85) and death in 2026 (91). Against the visit alone the
// birth year would be released as 1935, and with the death year 2026 next
// to it the age of 91 could be read off.
func TestBirthYearJudgedAgainstEveryReleasedDate(t *testing.T) {
	p := testPolicy(t, `
profile: safe-harbor
as_of: 2026-06-01
tables:
  patients:
    columns:
      dob:   {phi: birth-date, reference: [visit]}
      visit: {phi: service-date}
      died:  {phi: death-date}
      seen:  {phi: date, action: drop}
  people:
    columns:
      dob:   {phi: birth-date}
      appt:  {phi: service-date}
`)
	rows := [][]string{{"dob", "visit", "died", "seen"},
		{"1935-03-01", "2020-05-05", "2026-02-02", "2040-01-01"},
		{"1935-03-01", "2020-05-05", "", "2040-01-01"},
		{"1936-03-01", "", "", "2040-01-01"},
	}
	// With no reference listed, the as-of date counts next to the row's
	// own dates: 90 at the as-of date, or at a later appointment.
	people := [][]string{{"dob", "appt"},
		{"1936-03-01", "2000-01-01"},
		{"1937-03-01", "2027-05-01"},
		{"1937-03-01", "2000-01-01"},
	}
	sink, _, err := runMem(t, p, &memSource{tables: map[string][][]string{
		"patients": rows, "people": people}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The dropped date is not released, so it does not count; a row whose
	// listed reference is empty is judged at the as-of date too.
	for table, wants := range map[string][]string{
		"patients": {"<=1936", "1935", "<=1936"},
		"people":   {"<=1936", "<=1937", "1937"},
	} {
		for i, want := range wants {
			if got := sink.tables[table][i][0]; got != want {
				t.Errorf("%s row %d: birth year = %q, want %q", table, i+1, got, want)
			}
		}
	}
}

func TestRunTokensJoinAcrossTables(t *testing.T) {
	p := testPolicy(t, `
tables:
  parents:
    columns:
      id: {phi: record-id, token: patient}
  children:
    columns:
      id:     {phi: record-id, token: visit}
      parent: {phi: record-id, token: patient}
`)
	src := &memSource{tables: map[string][][]string{
		"parents":  {{"id"}, {"A1"}, {"A2"}},
		"children": {{"id", "parent"}, {"V1", "A2"}, {"V2", "A1"}, {"V3", "A2"}},
	}}
	sink, _, err := runMem(t, p, src, 2)
	if err != nil {
		t.Fatal(err)
	}
	parents := map[string]bool{}
	for _, r := range sink.tables["parents"] {
		parents[r[0]] = true
	}
	for i, r := range sink.tables["children"] {
		if !parents[r[1]] {
			t.Errorf("child row %d: parent token not among parent tokens", i+1)
		}
	}
}

func TestPlanReportsEveryMismatch(t *testing.T) {
	p := testPolicy(t, `
tables:
  patients:
    columns:
      id:      {phi: record-id}
      missing: {phi: name}
  ghosts:
    columns:
      id: {phi: record-id}
`)
	src := &memSource{tables: map[string][][]string{
		"patients": {{"id", "extra"}},
		"orphans":  {{"id"}},
	}}
	_, _, err := runMem(t, p, src, 1)
	var pe *PlanError
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v, want a *PlanError", err)
	}
	want := []string{`"extra" has no rule`, `"missing" is in the policy`, `"orphans"`, `"ghosts"`}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("plan error does not mention %s:\n%v", w, err)
		}
	}
	if len(pe.Problems) != 4 {
		t.Errorf("got %d problems, want 4: %v", len(pe.Problems), pe.Problems)
	}
}

func TestRunLocatesBadValueWithoutQuotingIt(t *testing.T) {
	const canary = "CANARY-2f9c"
	p := testPolicy(t, patientsPolicy)
	rows := patientRows(300)
	rows[250][3] = canary // data row 250, column dob
	src := &memSource{tables: map[string][][]string{"patients": rows}, batchRows: 64}
	sink, _, err := runMem(t, p, src, 4)
	var de *dataerr.Error
	if !errors.As(err, &de) {
		t.Fatalf("error = %v, want a *dataerr.Error", err)
	}
	if de.Table != "patients" || de.Column != "dob" || de.Row != 250 {
		t.Errorf("located at table %q column %q row %d, want patients dob 250", de.Table, de.Column, de.Row)
	}
	if strings.Contains(err.Error(), canary) {
		t.Errorf("error quotes the value: %v", err)
	}
	if sink.committed || !sink.aborted {
		t.Errorf("committed=%v aborted=%v, want aborted only", sink.committed, sink.aborted)
	}
}

func TestRunAbortsOnWriteError(t *testing.T) {
	p := testPolicy(t, patientsPolicy)
	sink := newMemSink()
	sink.failAfter = 3
	_, err := Run(context.Background(),
		&memSource{tables: map[string][][]string{"patients": patientRows(1000)}, batchRows: 10},
		sink, Options{Policy: p, Tokenizer: testTokenizer(t), Workers: 3})
	if err == nil || sink.committed || !sink.aborted {
		t.Fatalf("err=%v committed=%v aborted=%v, want an error and an abort", err, sink.committed, sink.aborted)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	p := testPolicy(t, patientsPolicy)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sink := newMemSink()
	_, err := Run(ctx, &memSource{tables: map[string][][]string{"patients": patientRows(1000)}, batchRows: 10},
		sink, Options{Policy: p, Tokenizer: testTokenizer(t)})
	if !errors.Is(err, context.Canceled) || sink.committed {
		t.Fatalf("err=%v committed=%v, want context.Canceled and nothing committed", err, sink.committed)
	}
}

func TestRunInfersTypesOfKeptAndDateColumns(t *testing.T) {
	p := testPolicy(t, `
as_of: 2026-01-01
tables:
  t:
    columns:
      id:    {phi: record-id}
      n:     {keep: "a count"}
      code:  {keep: "a code with leading zeros"}
      when:  {phi: service-date}
      age:   {phi: age}
`)
	src := &memSource{tables: map[string][][]string{"t": {
		{"id", "n", "code", "when", "age"},
		{"17", "3", "007", "2020-05-06", "93"},
		{"18", "", "010", "2021-01-02", "45"},
	}}}
	sink := newMemSink()
	res, err := Run(context.Background(), src, sink, Options{Policy: p, Tokenizer: testTokenizer(t),
		InferTypes: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"id": "utf8", "n": "int64", "code": "utf8", "when": "date32", "age": "int64"}
	for _, f := range sink.schemas["t"].Fields() {
		if f.Type.String() != want[f.Name] {
			t.Errorf("column %s: type %s, want %s", f.Name, f.Type, want[f.Name])
		}
	}
	if got := sink.tables["t"][0][3]; got != "2020-01-01" {
		t.Errorf("year-only date = %q, want 2020-01-01", got)
	}
	if got := sink.tables["t"][0][4]; got != "90" {
		t.Errorf("top-coded age = %q, want 90", got)
	}
	m := NewManifest(res, ManifestInfo{})
	for _, c := range m.Tables[0].Columns {
		if inferred := c.Name == "n" || c.Name == "when" || c.Name == "age"; c.TypeInferred != inferred {
			t.Errorf("column %s: type_inferred = %v, want %v", c.Name, c.TypeInferred, inferred)
		}
	}
}

func TestPlanRefusesMixedTypesInOneTokenDomain(t *testing.T) {
	p := testPolicy(t, `
tables:
  a:
    columns:
      id: {phi: record-id, token: patient, type: int64}
  b:
    columns:
      pid: {phi: record-id, token: patient}
`)
	src := &memSource{tables: map[string][][]string{"a": {{"id"}}, "b": {{"pid"}}}}
	_, _, err := runMem(t, p, src, 1)
	var pe *PlanError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), `token domain "patient"`) {
		t.Fatalf("error = %v, want a plan error about the patient domain", err)
	}
}

package scan

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/deid/deid/deid"
	"github.com/deid/deid/safeharbor"
	"github.com/deid/deid/schemas"
	"github.com/deid/deid/sources"
	"github.com/deid/deid/tokenize"
)

// outcome is one labelled column and what the scan made of it.
type outcome struct {
	variant, table, column string
	want, got              safeharbor.Kind // "" is keep
}

// kindLabel names a kind in the table, with keep for "".
func kindLabel(k safeharbor.Kind) string {
	if k == "" {
		return "keep"
	}
	return string(k)
}

// scanCorpus scans one variant and returns the outcome of every column.
func scanCorpus(t *testing.T, dir, variant string, blind bool) ([]outcome, *Result) {
	t.Helper()
	src, err := sources.NewCSVDir(dir, sources.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := Scan(context.Background(), src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkRunnable(t, res, src)

	tables, _ := corpusTables()
	var out []outcome
	for _, tb := range tables {
		name := tb.named
		if blind {
			name = tb.blind
		}
		st := findTable(t, res, name)
		for _, c := range tb.cols {
			col := c.named
			if blind {
				col = c.blind
			}
			got := findColumn(t, st, col)
			out = append(out, outcome{variant, name, col, c.label, got.Kind})
		}
	}
	return out, res
}

func findTable(t *testing.T, res *Result, name string) *Table {
	t.Helper()
	for _, tb := range res.Tables {
		if tb.Name == name {
			return tb
		}
	}
	t.Fatalf("table %q missing from the scan", name)
	return nil
}

func findColumn(t *testing.T, tb *Table, name string) *Column {
	t.Helper()
	for _, c := range tb.Columns {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("table %q: column %q missing from the scan", tb.Name, name)
	return nil
}

// checkRunnable proves the drafted policy runs as it is: its YAML decodes
// strictly, validates, and plans against the source it came from.
func checkRunnable(t *testing.T, res *Result, src sources.Source) *schemas.Policy {
	t.Helper()
	var buf bytes.Buffer
	if err := res.WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	p, err := schemas.Check(buf.Bytes(), "drafted.yaml")
	if err != nil {
		t.Fatalf("the drafted policy does not validate: %v\n%s", err, buf.String())
	}
	tables, err := src.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	key, err := tokenize.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	env := deid.Env{Tokenizer: tokenize.New(key), Zip: safeharbor.NewZipRule(""),
		AsOf: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := deid.NewPlan(p, tables, env); err != nil {
		t.Fatalf("the drafted policy does not plan against its source: %v", err)
	}
	return p
}

// metrics holds the counts of one kind.
type metrics struct{ support, predicted, hit int }

func (m metrics) precision() float64 { return ratio(m.hit, m.predicted) }
func (m metrics) recall() float64    { return ratio(m.hit, m.support) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func tally(outs []outcome, label func(safeharbor.Kind) string) map[string]*metrics {
	m := map[string]*metrics{}
	get := func(k string) *metrics {
		if m[k] == nil {
			m[k] = &metrics{}
		}
		return m[k]
	}
	for _, o := range outs {
		w, g := label(o.want), label(o.got)
		get(w).support++
		get(g).predicted++
		if w == g {
			get(w).hit++
		}
	}
	return m
}

// dateGroup folds the date kinds together: they share the year action and
// differ only in the birth-date bucketing.
func dateGroup(k safeharbor.Kind) string {
	if safeharbor.IsDate(k) {
		return "any date kind"
	}
	return kindLabel(k)
}

// identifierGroup asks only whether a column is an identifier at all.
func identifierGroup(k safeharbor.Kind) string {
	if k == "" {
		return "keep"
	}
	return "any identifier"
}

func printTable(t *testing.T, title string, m map[string]*metrics) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", title)
	fmt.Fprintf(&b, "  %-16s %7s %9s %9s %9s\n", "kind", "columns", "predicted", "precision", "recall")
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		x := m[k]
		fmt.Fprintf(&b, "  %-16s %7d %9d %9s %9s\n", k, x.support, x.predicted,
			orDash(x.predicted, x.precision()), orDash(x.support, x.recall()))
	}
	t.Log("\n" + b.String())
}

// orDash prints a ratio, or - when its denominator is zero.
func orDash(n int, f float64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", f)
}

// TestCorpusPrecisionRecall measures the classification on the corpus and
// fails under the thresholds below, which were set from a measured run
// with a margin; see the report printed by go test -v.
func TestCorpusPrecisionRecall(t *testing.T) {
	named, blind := writeCorpus(t)
	outNamed, resNamed := scanCorpus(t, named, "named", false)
	outBlind, resBlind := scanCorpus(t, blind, "blind", true)
	all := append(append([]outcome(nil), outNamed...), outBlind...)

	for _, o := range all {
		if o.want != o.got {
			t.Logf("miss: %s %s.%s: want %s, got %s", o.variant, o.table, o.column,
				kindLabel(o.want), kindLabel(o.got))
		}
	}
	byKind := tally(all, kindLabel)
	printTable(t, "per kind, both variants", byKind)
	printTable(t, "per kind, names that say nothing", tally(outBlind, kindLabel))
	printTable(t, "date kinds folded, both variants", tally(all, dateGroup))
	printTable(t, "identifier or not, names that say nothing", tally(outBlind, identifierGroup))
	printTable(t, "identifier or not, both variants", tally(all, identifierGroup))

	ident := tally(all, identifierGroup)["any identifier"]
	identBlind := tally(outBlind, identifierGroup)["any identifier"]
	keep := tally(all, identifierGroup)["keep"]
	// Measured at the commit that set them: identifier recall 1.00 in both
	// variants, identifier precision 0.98, keep precision 1.00, exact kind
	// accuracy 1.00 named and 0.85 with names that say nothing. Each floor
	// allows about one more miss than measured.
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"identifier recall, both variants", ident.recall(), 0.98},
		{"identifier recall, names that say nothing", identBlind.recall(), 0.97},
		{"identifier precision, both variants", ident.precision(), 0.93},
		{"keep precision, both variants", keep.precision(), 0.95},
		{"exact kind accuracy, named", accuracy(outNamed), 0.97},
		{"exact kind accuracy, names that say nothing", accuracy(outBlind), 0.80},
	} {
		if c.got < c.want {
			t.Errorf("%s: %.2f, below the threshold %.2f", c.name, c.got, c.want)
		}
	}
	for kind, floor := range perKindRecall {
		if got := byKind[kind].recall(); got < floor {
			t.Errorf("recall of %s: %.2f, below the threshold %.2f", kind, got, floor)
		}
	}

	// Joins share a token domain and a type in both variants.
	tables, fks := corpusTables()
	for _, v := range []struct {
		res   *Result
		blind bool
	}{{resNamed, false}, {resBlind, true}} {
		for _, fk := range fks {
			ct, cc := corpusName(tables, fk.childTable, fk.child, v.blind)
			pt, pc := corpusName(tables, fk.parentTable, fk.parent, v.blind)
			c := findColumn(t, findTable(t, v.res, ct), cc)
			p := findColumn(t, findTable(t, v.res, pt), pc)
			if c.Token != p.Token || c.Type != p.Type || (c.Keep != "") != (p.Keep != "") {
				t.Errorf("%s.%s -> %s.%s: child {%s %q %s}, parent {%s %q %s}: "+
					"the join would break", ct, cc, pt, pc, kindLabel(c.Kind), c.Token, c.Type,
					kindLabel(p.Kind), p.Token, p.Type)
			}
		}
	}
}

// corpusName returns the names a corpus table and column have in a variant.
func corpusName(tables []corpusTable, table, col string, blind bool) (string, string) {
	for _, tb := range tables {
		if tb.named != table {
			continue
		}
		for _, c := range tb.cols {
			if c.named == col {
				if blind {
					return tb.blind, c.blind
				}
				return tb.named, c.named
			}
		}
	}
	return table, col
}

// perKindRecall holds a floor for the kinds whose recall should not fall:
// those the values alone reveal.
var perKindRecall = map[string]float64{
	"ssn": 1, "email": 1, "phone": 1, "name": 1, "birth-date": 1, "death-date": 1,
	"admission-date": 1, "discharge-date": 1, "age": 1, "zip": 1, "record-id": 0.9,
	"free-text": 1, "ip": 1, "url": 1, "address": 1, "mrn": 1, "health-plan-id": 1,
	"vehicle-id": 1, "account-number": 1,
}

func accuracy(outs []outcome) float64 {
	hit := 0
	for _, o := range outs {
		if o.want == o.got {
			hit++
		}
	}
	return ratio(hit, len(outs))
}

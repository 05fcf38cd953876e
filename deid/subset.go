package deid

import (
	"fmt"
	"maps"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/schemas"
	"github.com/deid/deid/tokenize"
)

// Subset chooses some subjects of one or more token domains, and a run
// with a Subset keeps only the rows of those subjects in every table, so the
// output still joins. The choice depends only on the key and the values:
// reruns, other worker counts and other shards choose the same subjects.
//
// A subject is kept by its keyed seed (tokenize.Domain.Seed), computed on
// the raw value before any transform: an int32 or int64 key from the 8-byte
// big-endian form of its int64 value, a string key from its UTF-8 bytes.
// So a domain must be all integers or all strings; a mix is a planning
// error, since the key 42 and the text "42" would be chosen apart (and get
// unrelated tokens anyway). Declare `type: int64` on the text columns.
//
// Tables are cut down as schemas/README.md describes: by their columns in a
// chosen domain, else through their policy link, else kept whole.
type Subset struct {
	Samples []Sample
	Limits  []Limit
}

// IsZero reports whether s chooses nothing, so every row is kept.
func (s Subset) IsZero() bool { return len(s.Samples) == 0 && len(s.Limits) == 0 }

// Sample keeps the subjects of Domain whose seed is below Percent of the
// seed space: a subject is kept when seed < Percent/100 × 2^64.
type Sample struct {
	Domain string
	// Percent is the share kept, such as "1%" or "0.5%", between 0% and 100%.
	Percent string
}

// String returns the sample as written on the command line: "patient=1%".
func (s Sample) String() string { return s.Domain + "=" + s.Percent }

// Limit keeps the N subjects of Domain with the smallest seeds.
type Limit struct {
	Domain string
	N      int64
}

// String returns the limit as written on the command line: "patient=500".
func (l Limit) String() string { return l.Domain + "=" + strconv.FormatInt(l.N, 10) }

var percentRE = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,12})?%$`)

// ParseSample reads a --sample value, "domain=P%".
func ParseSample(spec string) (Sample, error) {
	domain, pct, ok := strings.Cut(spec, "=")
	if !ok || domain == "" {
		return Sample{}, fmt.Errorf("sample %q: write it as domain=percent, such as patient=1%%",
			spec)
	}
	s := Sample{Domain: domain, Percent: pct}
	if _, _, err := s.cut(); err != nil {
		return Sample{}, err
	}
	return s, nil
}

// ParseLimit reads a --limit value, "domain=N".
func ParseLimit(spec string) (Limit, error) {
	domain, n, ok := strings.Cut(spec, "=")
	if !ok || domain == "" {
		return Limit{}, fmt.Errorf("limit %q: write it as domain=count, such as patient=500", spec)
	}
	v, err := strconv.ParseInt(n, 10, 64)
	if err != nil || v <= 0 {
		return Limit{}, fmt.Errorf("limit %q: the count must be a positive whole number", spec)
	}
	return Limit{Domain: domain, N: v}, nil
}

// cut returns the exclusive upper bound of the kept seeds, or all when
// every seed is kept (100%).
func (s Sample) cut() (below uint64, all bool, err error) {
	if !percentRE.MatchString(s.Percent) {
		return 0, false, fmt.Errorf("sample %s: the share must be a percentage such as 1%% "+
			"or 0.5%%", s)
	}
	r, ok := new(big.Rat).SetString(strings.TrimSuffix(s.Percent, "%"))
	hundred := big.NewRat(100, 1)
	switch {
	case !ok || r.Cmp(hundred) > 0:
		return 0, false, fmt.Errorf("sample %s: the share must be between 0%% and 100%%", s)
	case r.Cmp(hundred) == 0:
		return 0, true, nil
	}
	// floor(r / 100 × 2^64), exact
	num := new(big.Int).Lsh(r.Num(), 64)
	den := new(big.Int).Mul(r.Denom(), big.NewInt(100))
	return num.Quo(num, den).Uint64(), false, nil
}

// cut is the kept part of one domain's seeds.
type cut struct {
	below uint64 // seeds below it are kept
	all   bool
}

func (c *cut) keeps(seed uint64) bool { return c.all || seed < c.below }

// keyKind is how a subset compares a key column: as integers or as text.
type keyKind int

const (
	intKey keyKind = iota + 1
	strKey
)

func keyKindOf(dt arrow.DataType) keyKind {
	switch dt.ID() {
	case arrow.INT64, arrow.INT32:
		return intKey
	case arrow.STRING:
		return strKey
	}
	return 0
}

func (k keyKind) String() string {
	if k == intKey {
		return "an integer"
	}
	return "a string"
}

// subsetPlan is the row filter of every table of a subset run, and the
// first passes that fill in what the filters need.
type subsetPlan struct {
	cuts    map[string]*cut       // by domain
	limits  []limitPass           // fill in the cuts of limited domains
	filters map[string]*rowFilter // by table; absent: the table is kept whole
	links   []*linkPass           // in dependency order
	tok     *tokenize.Tokenizer
}

// limitPass finds the cut of one limited domain from its subject columns.
type limitPass struct {
	limit Limit
	cols  []tableColumn
}

// linkPass collects the kept values of one column of one table.
type linkPass struct {
	from tableColumn
	kind keyKind
	set  *keySet
}

type tableColumn struct {
	table *TablePlan
	col   *ColumnPlan
}

func (tc tableColumn) String() string { return tc.table.Name + "." + tc.col.Name }

// newSubsetPlan works out how each table of plan is cut down. Every problem
// is returned together in a *PlanError.
func newSubsetPlan(p *schemas.Policy, plan *Plan, s Subset, tok *tokenize.Tokenizer) (
	*subsetPlan, error) {
	sp := &subsetPlan{cuts: map[string]*cut{}, filters: map[string]*rowFilter{}, tok: tok}
	var problems []string
	byName := map[string]*TablePlan{}
	domains := map[string][]tableColumn{}
	for _, t := range plan.Tables {
		byName[t.Name] = t
		for _, c := range t.Columns {
			if c.Domain != "" {
				domains[c.Domain] = append(domains[c.Domain], tableColumn{t, c})
			}
		}
	}

	add := func(domain, spec string) bool {
		if _, dup := sp.cuts[domain]; dup {
			problems = append(problems, fmt.Sprintf("%s: domain %q is chosen twice", spec, domain))
			return false
		}
		cols := domains[domain]
		if len(cols) == 0 {
			problems = append(problems, fmt.Sprintf("%s: no column is tokenised in the domain %q "+
				"(domains: %s)", spec, domain, strings.Join(slices.Sorted(maps.Keys(domains)), ", ")))
			return false
		}
		if msg := mixedKinds(domain, cols); msg != "" {
			problems = append(problems, spec+": "+msg)
			return false
		}
		sp.cuts[domain] = &cut{}
		return true
	}
	for _, smp := range s.Samples {
		below, all, err := smp.cut()
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if add(smp.Domain, "sample "+smp.String()) {
			*sp.cuts[smp.Domain] = cut{below: below, all: all}
		}
	}
	for _, l := range s.Limits {
		if l.N <= 0 {
			problems = append(problems, fmt.Sprintf("limit %s: the count must be positive", l))
			continue
		}
		if add(l.Domain, "limit "+l.String()) {
			sp.limits = append(sp.limits, limitPass{limit: l,
				cols: subjectColumns(p, plan, l.Domain, domains[l.Domain])})
		}
	}
	if len(problems) > 0 {
		return nil, &PlanError{Problems: problems}
	}

	for _, t := range plan.Tables {
		f, errs := sp.tableFilter(p, t, byName, tok)
		problems = append(problems, errs...)
		if f != nil {
			sp.filters[t.Name] = f
		}
		t.Subset = "whole: no column in a chosen domain and no link"
		if f != nil {
			t.Subset = f.describe()
		}
	}
	if len(problems) > 0 {
		return nil, &PlanError{Problems: problems}
	}
	sp.orderLinks(plan)
	return sp, nil
}

// mixedKinds says why a domain's columns cannot be compared, or "".
func mixedKinds(domain string, cols []tableColumn) string {
	first := cols[0]
	for _, tc := range cols {
		k := keyKindOf(tc.col.InType)
		if k == 0 {
			return fmt.Sprintf("column %s is %s; a subset compares keys as integers or strings",
				tc, tc.col.InType)
		}
		if k != keyKindOf(first.col.InType) {
			return fmt.Sprintf("token domain %q is %s in %s and %s in %s; its subjects would "+
				"be chosen apart (declare one type, e.g. type: int64)",
				domain, keyKindOf(first.col.InType), first, k, tc)
		}
	}
	return ""
}

// subjectColumns picks where a limit counts the subjects of domain: the
// table whose policy names the subject column, else a table whose primary
// key is one column of the domain, else every column of the domain.
func subjectColumns(p *schemas.Policy, plan *Plan, domain string, all []tableColumn) []tableColumn {
	for _, tc := range all {
		if tp := p.Tables[tc.table.Name]; tp != nil && tp.Subject == tc.col.Name {
			return []tableColumn{tc}
		}
	}
	for _, tc := range all {
		pk := tc.table.Source.Constraints.PrimaryKey
		if len(pk) == 1 && pk[0] == tc.col.Name {
			return []tableColumn{tc}
		}
	}
	return all
}

// tableFilter builds the filter of table t, or nil when t is kept whole.
func (sp *subsetPlan) tableFilter(p *schemas.Policy, t *TablePlan, byName map[string]*TablePlan,
	tok *tokenize.Tokenizer) (*rowFilter, []string) {
	f := &rowFilter{}
	tp := p.Tables[t.Name]
	for _, c := range t.Columns {
		ct := sp.cuts[c.Domain]
		if ct == nil || (tp.Subject != "" && t.column(tp.Subject).Domain == c.Domain &&
			c.Name != tp.Subject) {
			continue // not chosen, or the subject column alone decides
		}
		f.subjects = append(f.subjects, subjectColumn{index: c.Index, name: c.Name,
			domain: c.Domain, kind: keyKindOf(c.InType), dom: tok.Domain(c.Domain), cut: ct})
	}

	if tp.Link != nil {
		table, column := tp.Link.Target()
		other := byName[table]
		if other == nil {
			return nil, []string{fmt.Sprintf("table %q: link to %s: table %q is not in the source",
				t.Name, tp.Link.To, table)}
		}
		from, to := t.column(tp.Link.Column), other.column(column)
		k := keyKindOf(from.InType)
		if k == 0 || k != keyKindOf(to.InType) {
			return nil, []string{fmt.Sprintf("table %q: link %s to %s: the columns are %s and "+
				"%s; a link compares integers with integers or strings with strings",
				t.Name, from.Name, tp.Link.To, from.InType, to.InType)}
		}
		lp := sp.linkPassFor(tableColumn{other, to}, k)
		f.link = &linkColumn{index: from.Index, name: from.Name, kind: k, to: tp.Link.To,
			set: lp.set}
	}

	if len(f.subjects) == 0 && f.link == nil {
		return nil, nil
	}
	return f, nil
}

func (sp *subsetPlan) linkPassFor(from tableColumn, k keyKind) *linkPass {
	for _, lp := range sp.links {
		if lp.from.table == from.table && lp.from.col == from.col {
			return lp
		}
	}
	lp := &linkPass{from: from, kind: k, set: newKeySet(k)}
	sp.links = append(sp.links, lp)
	return lp
}

// orderLinks sorts the link passes so that a table's own link set is
// collected before its rows are read for another table's. The policy's
// links form no cycle (schemas checks it), so this terminates.
func (sp *subsetPlan) orderLinks(plan *Plan) {
	depth := map[string]int{}
	var depthOf func(table string) int
	depthOf = func(table string) int {
		if d, ok := depth[table]; ok {
			return d
		}
		depth[table] = 0
		if f := sp.filters[table]; f != nil && f.link != nil {
			for _, lp := range sp.links {
				if lp.set == f.link.set {
					depth[table] = depthOf(lp.from.table.Name) + 1
				}
			}
		}
		return depth[table]
	}
	ordered := make([]*linkPass, 0, len(sp.links))
	for d := 0; len(ordered) < len(sp.links) && d <= len(plan.Tables); d++ {
		for _, lp := range sp.links {
			if depthOf(lp.from.table.Name) == d {
				ordered = append(ordered, lp)
			}
		}
	}
	sp.links = ordered
}

// maxSeed is the largest seed; a cut below it plus one keeps everything.
const maxSeed = math.MaxUint64

// SubsetManifest records in a manifest the subset a run kept, as the
// command line chose it.
type SubsetManifest struct {
	Sample []string `json:"sample,omitempty"` // e.g. "patient=1%"
	Limit  []string `json:"limit,omitempty"`  // e.g. "patient=500"
}

func (s Subset) manifest() *SubsetManifest {
	if s.IsZero() {
		return nil
	}
	m := &SubsetManifest{}
	for _, smp := range s.Samples {
		m.Sample = append(m.Sample, smp.String())
	}
	for _, l := range s.Limits {
		m.Limit = append(m.Limit, l.String())
	}
	return m
}

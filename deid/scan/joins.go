package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/safeharbor"
	"github.com/deid/deid/sources"
)

// colRef names one column of one table being scanned.
type colRef struct {
	t *tableState
	i int
}

func (c colRef) name() string  { return c.t.s.cols[c.i].name }
func (c colRef) table() string { return c.t.s.table.Name }
func (c colRef) String() string {
	return c.table() + "." + c.name()
}

// joinEdge says that child's sampled values are (nearly all) values of
// parent, a unique key of its table.
type joinEdge struct {
	child, parent colRef
	share         float64 // child's distinct values found among parent's
	affinity      bool    // the names agree
	declared      bool    // the source declares the foreign key
}

// isKey reports whether column i of st can be a table's key: no nulls, no
// repeats, compact id-like values read as an identifying code or kept.
func isKey(st *tableState, i int) bool {
	p, v := st.profiles[i], st.verdicts[i]
	if p.nonNull == 0 || p.nonNull != p.rows || p.distinct != p.nonNull {
		return false
	}
	if v.kind != "" && family(v.kind) != "id" {
		return false
	}
	return idValues(p)
}

// canReference reports whether a column may reference another table's key:
// an identifying code, a kept column, or a weak numeric reading (nine
// digits taken for an SSN, five for a ZIP) that a join explains better.
func canReference(p *profile, v verdict) bool {
	switch {
	case v.kind == "" || family(v.kind) == "id":
	case v.review && (v.kind == safeharbor.SSN || v.kind == safeharbor.Zip ||
		v.kind == safeharbor.Phone || v.kind == safeharbor.Age):
	default:
		return false
	}
	return idValues(p)
}

// idValues reports whether every value is an integer or one compact code.
func idValues(p *profile) bool {
	return p.counts[pFloat] == 0 && p.counts[pDate] == 0 &&
		(p.share(pInt) == 1 || p.share(pIDLike) == 1)
}

// findJoins finds every column whose values lie within another table's
// key. Declared foreign keys count as joins outright.
func findJoins(ctx context.Context, src sources.Source, ts []*tableState, joinRows int) (
	[]joinEdge, error) {
	var edges []joinEdge
	byName := map[string]*tableState{}
	for _, st := range ts {
		byName[st.s.table.Name] = st
		st.groups = make([]int, len(st.s.cols))
		for i := range st.groups {
			st.groups[i] = -1
		}
	}
	declared := declaredJoins(ts, byName)

	// Candidate pairs, with the child's distinct values to look up.
	type pending struct {
		edge joinEdge
		want map[string]bool
	}
	var todo []*pending
	for _, pt := range ts {
		for pi := range pt.s.cols {
			if !isKey(pt, pi) {
				continue
			}
			parent := colRef{pt, pi}
			for _, ct := range ts {
				for ci := range ct.s.cols {
					child := colRef{ct, ci}
					if ct == pt && ci == pi {
						continue
					}
					if e, ok := candidatePair(child, parent); ok {
						todo = append(todo, &pending{edge: e, want: distinctSet(child)})
					}
				}
			}
		}
	}

	// Look the child's values up in the parent's sample, and read further
	// into parents larger than their sample.
	more := map[*tableState][]*pending{}
	for _, pd := range todo {
		pset := distinctSet(pd.edge.parent)
		for v := range pd.want {
			if pset[v] {
				delete(pd.want, v)
			}
		}
		if len(pd.want) > 0 && !pd.edge.parent.t.s.complete && joinRows > 0 {
			more[pd.edge.parent.t] = append(more[pd.edge.parent.t], pd)
		}
	}
	for pt, pds := range more {
		cols := map[int][]map[string]bool{}
		for _, pd := range pds {
			cols[pd.edge.parent.i] = append(cols[pd.edge.parent.i], pd.want)
		}
		if err := readFor(ctx, src, pt.s.table, cols, joinRows); err != nil {
			return nil, err
		}
	}

	best := map[colRef]joinEdge{}
	for _, pd := range todo {
		e := pd.edge
		n := len(distinctSet(e.child))
		e.share = float64(n-len(pd.want)) / float64(n)
		if e.share < 0.98 {
			continue
		}
		if b, ok := best[e.child]; !ok || better(e, b) {
			best[e.child] = e
		}
	}
	for _, e := range declared {
		best[e.child] = e
	}
	for _, e := range best {
		edges = append(edges, e)
	}
	sort.Slice(edges, func(i, j int) bool { return edges[i].child.String() < edges[j].child.String() })
	return edges, nil
}

// declaredJoins returns the foreign keys the source declares on one column.
func declaredJoins(ts []*tableState, byName map[string]*tableState) []joinEdge {
	var out []joinEdge
	for _, st := range ts {
		for _, fk := range st.s.table.Constraints.ForeignKeys {
			pt := byName[fk.RefTable]
			if pt == nil || len(fk.Columns) != 1 || len(fk.RefColumns) != 1 {
				continue
			}
			ci, pi := colIndex(st, fk.Columns[0]), colIndex(pt, fk.RefColumns[0])
			if ci < 0 || pi < 0 {
				continue
			}
			out = append(out, joinEdge{child: colRef{st, ci}, parent: colRef{pt, pi},
				share: 1, affinity: true, declared: true})
		}
	}
	return out
}

func colIndex(st *tableState, name string) int {
	for i, c := range st.s.cols {
		if c.name == name {
			return i
		}
	}
	return -1
}

// candidatePair reports whether child could reference parent, before any
// value is looked up: the types agree and the values are worth joining on.
func candidatePair(child, parent colRef) (joinEdge, bool) {
	cp, pp := child.t.profiles[child.i], parent.t.profiles[parent.i]
	cv := child.t.verdicts[child.i]
	if cp.nonNull == 0 || !canReference(cp, cv) || cp.distinct < 3 || cp.distinct > pp.distinct &&
		parent.t.s.complete {
		return joinEdge{}, false
	}
	if (cp.share(pInt) == 1) != (pp.share(pInt) == 1) {
		return joinEdge{}, false
	}
	e := joinEdge{child: child, parent: parent, affinity: affinity(child, parent)}
	if e.affinity {
		return e, true
	}
	// Without a name to go by, small numbers, short codes and sequences
	// join with anything; only distinctive values count. A key of its own
	// table (encounter_id 1..n) is no reference to another's (patient_id
	// 1..m).
	if cp.distinct < 20 || isKey(child.t, child.i) {
		return joinEdge{}, false
	}
	if cp.share(pInt) == 1 {
		dense := cp.intMax-cp.intMin < 2*int64(cp.distinct)
		return e, !dense && float64(cp.digits4) >= 0.5*float64(cp.nonNull)
	}
	return e, cp.meanLen() >= 4
}

// affinity reports whether the names of two columns say they join:
// the same name, or the child naming the parent's table or key.
func affinity(child, parent colRef) bool {
	if strings.EqualFold(child.name(), parent.name()) {
		return true
	}
	ct := splitName(child.name())
	has := func(w string) bool {
		for _, t := range ct {
			if t == w || t == singular(w) {
				return true
			}
		}
		return false
	}
	stem := keyStem(splitName(parent.name()))
	if len(stem) > 0 && !unhelpful(stem) {
		all := true
		for _, w := range stem {
			all = all && has(w)
		}
		if all {
			return true
		}
	}
	tt := splitName(parent.table())
	if len(tt) > 0 && !unhelpful(tt) {
		return has(singular(tt[len(tt)-1]))
	}
	return false
}

// better reports whether join a explains a child better than b does.
func better(a, b joinEdge) bool {
	if a.affinity != b.affinity {
		return a.affinity
	}
	if a.share != b.share {
		return a.share > b.share
	}
	pa, pb := a.parent.t.profiles[a.parent.i], b.parent.t.profiles[b.parent.i]
	if pa.distinct != pb.distinct {
		return pa.distinct < pb.distinct
	}
	return a.parent.String() < b.parent.String()
}

// distinctSet returns the distinct non-null sampled values of a column.
func distinctSet(c colRef) map[string]bool {
	col := c.t.s.cols[c.i]
	m := make(map[string]bool)
	for r, v := range col.values {
		if col.valid[r] {
			m[canonicalKey(v)] = true
		}
	}
	return m
}

// canonicalKey writes an integer key without leading zeros or sign, so
// that "007" in one table meets 7 in another.
func canonicalKey(v string) string {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return strconv.FormatInt(n, 10)
	}
	return v
}

// readFor reads up to limit rows of table t and deletes from each wanted
// set the values that column holds.
func readFor(ctx context.Context, src sources.Source, t sources.Table,
	cols map[int][]map[string]bool, limit int) error {
	r, err := src.Open(ctx, t.Name, sources.ReadOptions{})
	if err != nil {
		return fmt.Errorf("scan: opening table %q: %w", t.Name, err)
	}
	defer r.Close()
	rows := 0
	for rows < limit {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("scan: reading table %q: %w", t.Name, err)
		}
		n := min(int(rec.NumRows()), limit-rows)
		for ci, wants := range cols {
			lookUp(rec.Column(ci), n, wants)
		}
		rows += n
		rec.Release()
	}
	return nil
}

func lookUp(a arrow.Array, n int, wants []map[string]bool) {
	for i := 0; i < n; i++ {
		if a.IsNull(i) {
			continue
		}
		v, _ := cellText(a, i)
		v = canonicalKey(v)
		for _, w := range wants {
			delete(w, v)
		}
	}
}

// applyJoins puts every column of a join into one token domain. A key of a
// table about people is an identifying code, (R), and so is every column
// referencing it; a key of a reference table (drugs, codes) is not, and
// its references are kept like it.
func applyJoins(ts []*tableState, edges []joinEdge) {
	uf := newUnion()
	for _, e := range edges {
		uf.join(e.child, e.parent)
	}
	groups := map[colRef][]colRef{}
	for _, e := range edges {
		for _, c := range []colRef{e.child, e.parent} {
			root := uf.find(c)
			if !contains(groups[root], c) {
				groups[root] = append(groups[root], c)
			}
		}
	}
	roots := make([]colRef, 0, len(groups))
	for r := range groups {
		roots = append(roots, r)
	}
	sort.Slice(roots, func(i, j int) bool { return roots[i].String() < roots[j].String() })

	parentOf := map[colRef]joinEdge{}
	isParent := map[colRef]bool{}
	for _, e := range edges {
		parentOf[e.child] = e
		isParent[e.parent] = true
	}

	for gi, root := range roots {
		members := groups[root]
		// The key's own table decides: a drug code referenced from a
		// prescription is still a drug code.
		person := false
		for _, m := range members {
			if isParent[m] {
				person = person || m.t.person
			}
		}
		for _, m := range members {
			m.t.groups[m.i] = gi
			v := &m.t.verdicts[m.i]
			e, isChild := parentOf[m]
			switch {
			case person && (v.kind == "" || family(v.kind) != "id"):
				v.set(safeharbor.RecordID)
			case !person && (v.kind == "" || v.kind == safeharbor.RecordID) &&
				!readName(m.name()).strong:
				v.keepAs("a key of a table with no person identifiers, or a reference to one")
			}
			if isChild {
				if e.declared {
					v.say("foreign key to %s declared by the source", e.parent)
				} else {
					v.say("%s of its values are values of %s, a unique key: same token domain",
						pct(e.share), e.parent)
				}
				// A join the names agree with settles a weak column; one
				// found from the values alone needs a look.
				v.review = !e.affinity
			} else {
				v.say("unique key, joined from %s", joinedFrom(edges, m))
			}
		}
	}
}

func joinedFrom(edges []joinEdge, parent colRef) string {
	var names []string
	for _, e := range edges {
		if e.parent == parent {
			names = append(names, e.child.String())
		}
	}
	sort.Strings(names)
	if len(names) > 3 {
		names = append(names[:3], fmt.Sprintf("%d more", len(names)-3))
	}
	return strings.Join(names, ", ")
}

func contains(cs []colRef, c colRef) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// union is a union-find over columns.
type union struct{ up map[colRef]colRef }

func newUnion() *union { return &union{up: map[colRef]colRef{}} }

func (u *union) find(c colRef) colRef {
	for {
		p, ok := u.up[c]
		if !ok || p == c {
			return c
		}
		c = p
	}
}

func (u *union) join(a, b colRef) {
	ra, rb := u.find(a), u.find(b)
	if ra != rb {
		u.up[ra] = rb
	}
}

// assignDomains names the token domain of every join group and of every
// other unique key of a table about people, and notes which hold integers
// on every side, so that they can be declared int64 and tokenised as
// integers. Names are unique: a second "patient" becomes "patient-2".
func assignDomains(ts []*tableState, edges []joinEdge) {
	used := map[string]bool{}
	claim := func(base string) string {
		name := base
		for n := 2; used[name]; n++ {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		used[name] = true
		return name
	}
	children := map[colRef]bool{}
	for _, e := range edges {
		children[e.child] = true
	}
	members := map[int][]colRef{}
	for _, st := range ts {
		st.domain = make([]string, len(st.s.cols))
		st.intKey = make([]bool, len(st.s.cols))
		for i, g := range st.groups {
			if g >= 0 {
				members[g] = append(members[g], colRef{st, i})
			}
		}
	}

	for g := 0; g < len(members); g++ {
		ms := members[g]
		sort.Slice(ms, func(i, j int) bool { return ms[i].String() < ms[j].String() })
		top := ms[0]
		for _, m := range ms {
			if !children[m] {
				top = m
				break
			}
		}
		if !tokenized(top.t.verdicts[top.i]) {
			continue
		}
		name := claim(domainName(top.table(), top.name(), top.t.verdicts[top.i].kind))
		ints := true
		for _, m := range ms {
			ints = ints && intColumn(m)
		}
		for _, m := range ms {
			m.t.domain[m.i], m.t.intKey[m.i] = name, ints
		}
	}
	for _, st := range ts {
		for i := range st.s.cols {
			if st.groups[i] < 0 && st.person && isKey(st, i) && tokenized(st.verdicts[i]) {
				st.domain[i] = claim(domainName(st.s.table.Name, st.s.cols[i].name,
					st.verdicts[i].kind))
				st.intKey[i] = intColumn(colRef{st, i})
			}
		}
	}
}

// tokenized reports whether a verdict's action is a token.
func tokenized(v verdict) bool {
	if v.kind == "" {
		return false
	}
	a := v.action
	if a == "" {
		a, _ = safeharbor.Default(safeharbor.SafeHarborProfile, v.kind)
	}
	return a == safeharbor.Token
}

// intColumn reports whether a column holds integers as text or as int64,
// the two forms that give the same integer tokens.
func intColumn(c colRef) bool {
	switch c.t.s.cols[c.i].typ.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.INT64:
		return c.t.profiles[c.i].share(pInt) == 1
	}
	return false
}

// joinRules gives every tokenised column its domain and, for integers
// held as text, type int64.
func joinRules(st *tableState, t *Table) {
	for i, c := range t.Columns {
		action := c.Action
		if action == "" && c.Kind != "" {
			action, _ = safeharbor.Default(safeharbor.SafeHarborProfile, c.Kind)
		}
		if action != safeharbor.Token || st.domain[i] == "" {
			continue
		}
		c.Token = st.domain[i]
		if st.intKey[i] {
			c.Type = intType(st, i)
		}
	}
}

// intType is "int64" for a text column of integers; typed columns keep
// their type.
func intType(st *tableState, i int) string {
	switch st.s.cols[i].typ.ID() {
	case arrow.STRING, arrow.LARGE_STRING:
		return "int64"
	}
	return ""
}

// keyStem drops the id-ish words of a key's name: patient_id is patient.
func keyStem(toks []string) []string {
	var out []string
	for _, t := range toks {
		switch t {
		case "id", "key", "no", "num", "number", "nbr", "nr", "code", "cd", "uuid", "guid",
			"identifier", "pk", "fk", "sk":
			continue
		}
		out = append(out, t)
	}
	return out
}

// unhelpful reports whether name tokens say nothing: c17, field_4, col3.
func unhelpful(toks []string) bool {
	for _, t := range toks {
		if _, err := strconv.Atoi(t); err == nil || len(t) == 1 {
			continue
		}
		switch t {
		case "field", "col", "column", "var", "attr", "fld", "tbl", "table":
			continue
		}
		return false
	}
	return true
}

func singular(w string) string {
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "ses") && len(w) > 4:
		return w[:len(w)-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && len(w) > 3:
		return w[:len(w)-1]
	case w == "people":
		return "person"
	}
	return w
}

// domainName derives a token domain from a key's column and table names:
// patient_id gives patient. When the column's name says nothing (c1), the
// kind names the domain (mrn), or for a plain record id the table does, in
// the singular.
func domainName(table, column string, kind safeharbor.Kind) string {
	stem := keyStem(splitName(column))
	if len(stem) == 0 || unhelpful(stem) {
		if kind != "" && kind != safeharbor.RecordID {
			return string(kind)
		}
		tt := splitName(table)
		if len(tt) > 0 {
			tt[len(tt)-1] = singular(tt[len(tt)-1])
		}
		stem = tt
	}
	var b strings.Builder
	for _, w := range stem {
		for _, r := range w {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				b.WriteRune(r)
			}
		}
		b.WriteByte('-')
	}
	s := strings.Trim(b.String(), "-")
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	if s == "" {
		s = "key"
	}
	return s
}

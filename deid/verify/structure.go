package verify

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/deid/deid/safeharbor"
)

// prepareJoins readies the output sets of kept columns that a foreign key
// declared by the source links, so the output pass collects their values.
func (v *verifier) prepareJoins() {
	for _, fk := range v.declaredFKs() {
		for _, c := range []*colRun{fk.child, fk.parent} {
			if c.action == safeharbor.Keep && c.outVals == nil {
				c.outVals = newFPSet()
			}
		}
	}
}

// fkPair is a foreign key on one column.
type fkPair struct {
	child, parent *colRun
	declared      bool
}

func (v *verifier) declaredFKs() []fkPair {
	var out []fkPair
	for _, name := range v.order {
		tr := v.tables[name]
		for _, fk := range tr.constraints.ForeignKeys {
			pt := v.tables[fk.RefTable]
			if pt == nil || len(fk.Columns) != 1 || len(fk.RefColumns) != 1 {
				continue
			}
			c, p := tr.cols[fk.Columns[0]], pt.cols[fk.RefColumns[0]]
			if c != nil && p != nil {
				out = append(out, fkPair{child: c, parent: p, declared: true})
			}
		}
	}
	return out
}

// checkJoins checks that every foreign-key value of the output exists in
// its parent. The foreign keys are those the source declares, and the
// columns sharing a token domain with a column that is unique in the
// source, which is then their parent. A child value without a parent is a
// finding only when the output has more of them than the source had.
func (v *verifier) checkJoins() {
	seen := map[[2]*colRun]bool{}
	for _, fk := range v.declaredFKs() {
		c, p := fk.child, fk.parent
		switch {
		case c.action == safeharbor.Drop || c.action == safeharbor.Null ||
			p.action == safeharbor.Drop || p.action == safeharbor.Null:
			continue
		case c.action != p.action || c.domain != p.domain:
			v.fs.add(checkForeignKey, c.table, c.name, 0, fmt.Sprintf(
				"declared foreign key to %s.%s, but the two sides are not kept or "+
					"tokenised in one domain: the join is broken", p.table, p.name))
			continue
		}
		seen[[2]*colRun{c, p}] = true
		v.orphans(c, p)
	}

	byDomain := map[string][]*colRun{}
	for _, name := range v.order {
		tr := v.tables[name]
		for _, cname := range slices.Sorted(maps.Keys(tr.cols)) {
			c := tr.cols[cname]
			if c.action == safeharbor.Token && c.present && c.srcVals != nil {
				byDomain[c.domain] = append(byDomain[c.domain], c)
			}
		}
	}
	for _, d := range slices.Sorted(maps.Keys(byDomain)) {
		cs := byDomain[d]
		if len(cs) < 2 {
			continue
		}
		var parent *colRun
		for _, c := range cs {
			if c.srcDup || c.srcVals.len() == 0 {
				continue
			}
			if parent == nil || c.srcVals.len() > parent.srcVals.len() {
				parent = c
			}
		}
		if parent == nil {
			v.notes = append(v.notes, fmt.Sprintf("token domain %q: no column is unique in "+
				"the source, so no join of it was checked", d))
			continue
		}
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].table < cs[j].table })
		for _, c := range cs {
			if c != parent && !seen[[2]*colRun{c, parent}] {
				v.orphans(c, parent)
			}
		}
	}
}

// orphans compares the child values without a parent in output and source.
func (v *verifier) orphans(c, p *colRun) {
	if c.outVals == nil || p.outVals == nil {
		return
	}
	out := c.outVals.missing(p.outVals)
	var src int64 = -1
	if c.srcVals != nil && p.srcVals != nil {
		src = c.srcVals.missing(p.srcVals)
	}
	switch {
	case out > 0 && (src < 0 || out > src):
		reason := fmt.Sprintf("distinct values with no match in %s.%s", p.table, p.name)
		if src >= 0 {
			reason += fmt.Sprintf(" (the source had %d)", src)
		}
		v.fs.addN(checkForeignKey, c.table, c.name, 0, out, reason)
	case out > 0:
		v.notes = append(v.notes, fmt.Sprintf("%s.%s: %d distinct values have no match in "+
			"%s.%s, as in the source", c.table, c.name, out, p.table, p.name))
	}
}

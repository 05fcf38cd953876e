package scan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/safeharbor"
)

// dayColumn returns the day number of every sampled row of column i, noDay
// where there is no date deid can read.
func (st *tableState) dayColumn(i int) []int32 {
	c := st.s.cols[i]
	if c.days != nil {
		return c.days
	}
	days := make([]int32, len(c.values))
	for r, v := range c.values {
		days[r] = noDay
		if c.valid[r] {
			if t, ok := safeharbor.ParseDate(v); ok {
				days[r] = dayNumber(t)
			}
		}
	}
	return days
}

// refineDates gives a specific kind to date columns whose names did not:
// two columns where one always follows the other within weeks are an
// admission and a discharge; dates spread over decades and long before the
// table's other dates are births; sparse dates decades after a birth date
// are deaths. Each such reading is marked for review.
func refineDates(st *tableState) {
	var dates []int
	for i, v := range st.verdicts {
		if safeharbor.IsDate(v.kind) {
			dates = append(dates, i)
		}
	}
	if len(dates) == 0 {
		return
	}
	days := map[int][]int32{}
	for _, i := range dates {
		days[i] = st.dayColumn(i)
	}
	pairStays(st, dates, days)

	latest := 0
	for _, i := range dates {
		ys := slices.Clone(st.profiles[i].years)
		slices.Sort(ys)
		latest = max(latest, percentile(ys, 0.9))
	}
	var birth int = -1
	for _, i := range dates {
		v := &st.verdicts[i]
		if v.kind == safeharbor.BirthDate {
			birth = i
		}
		if v.dateFromName || v.kind != safeharbor.Date {
			continue
		}
		ys := slices.Clone(st.profiles[i].years)
		slices.Sort(ys)
		spread := percentile(ys, 0.9) - percentile(ys, 0.1)
		if spread >= 25 && latest-median(ys) >= 18 {
			v.set(safeharbor.BirthDate)
			v.review = true
			v.say("dates spread over %d years and long before the table's other dates, "+
				"as births are", spread)
			birth = i
		}
	}
	if birth < 0 {
		return
	}
	by := median(slices.Clone(st.profiles[birth].years))
	for _, i := range dates {
		v, p := &st.verdicts[i], st.profiles[i]
		if v.dateFromName || v.kind != safeharbor.Date || p.rows == 0 {
			continue
		}
		empty := 1 - float64(p.nonNull)/float64(p.rows)
		if empty >= 0.5 && median(slices.Clone(p.years))-by >= 30 {
			v.set(safeharbor.DeathDate)
			v.review = true
			v.say("%s empty, and dates decades after the birth dates, as deaths are", pct(empty))
		}
	}
}

// pairStays finds admission and discharge pairs among date columns.
func pairStays(st *tableState, dates []int, days map[int][]int32) {
	used := map[int]bool{}
	for _, a := range dates {
		for _, b := range dates {
			if a == b || used[a] || used[b] {
				continue
			}
			va, vb := &st.verdicts[a], &st.verdicts[b]
			generic := func(v *verdict) bool { return !v.dateFromName }
			if !generic(va) && !generic(vb) {
				continue
			}
			if va.dateFromName && va.kind != safeharbor.AdmissionDate ||
				vb.dateFromName && vb.kind != safeharbor.DischargeDate {
				continue
			}
			if !isStay(days[a], days[b]) {
				continue
			}
			used[a], used[b] = true, true
			for _, x := range []struct {
				v *verdict
				k safeharbor.Kind
			}{{va, safeharbor.AdmissionDate}, {vb, safeharbor.DischargeDate}} {
				if x.v.dateFromName {
					continue
				}
				x.v.set(x.k)
				x.v.review = true
				x.v.say("paired with another date column that follows it within weeks in "+
					"every row, as %s", x.k)
			}
		}
	}
}

// isStay reports whether b follows a by 0 to 60 days in nearly every row
// that has both, and strictly in many.
func isStay(a, b []int32) bool {
	both, ordered, near, later := 0, 0, 0, 0
	for r := range a {
		if a[r] == noDay || b[r] == noDay {
			continue
		}
		both++
		d := b[r] - a[r]
		if d >= 0 {
			ordered++
		}
		if d >= 0 && d <= 60 {
			near++
		}
		if d > 0 {
			later++
		}
	}
	return both >= 10 && float64(ordered) >= 0.99*float64(both) &&
		float64(near) >= 0.95*float64(both) && float64(later) >= 0.3*float64(both)
}

// personKinds are the kinds that make a table about people.
var personKinds = map[safeharbor.Kind]bool{
	safeharbor.Name: true, safeharbor.Address: true, safeharbor.SSN: true,
	safeharbor.BirthDate: true, safeharbor.DeathDate: true, safeharbor.Phone: true,
	safeharbor.Fax: true, safeharbor.Email: true, safeharbor.MRN: true,
	safeharbor.HealthPlanID: true, safeharbor.Zip: true, safeharbor.City: true,
	safeharbor.License: true, safeharbor.AccountNumber: true, safeharbor.Age: true,
	safeharbor.AdmissionDate: true, safeharbor.DischargeDate: true,
}

// linkPersons marks the tables about people: those holding a person's
// identifiers and, transitively, those referencing such a table.
func linkPersons(ts []*tableState, edges []joinEdge) {
	for _, st := range ts {
		for _, v := range st.verdicts {
			if personKinds[v.kind] && !v.review {
				st.person = true
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, e := range edges {
			if !e.child.t.person && e.parent.t.person {
				e.child.t.person = true
				changed = true
			}
		}
	}
}

// refineNonPerson revisits dates and record ids of tables that hold no
// person's identifiers: a drug's approval date is not a date about a person
// (Safe Harbor §3.2), nor is a drug code an identifier of one.
func refineNonPerson(ts []*tableState) {
	for _, st := range ts {
		for i := range st.verdicts {
			v := &st.verdicts[i]
			h := readName(st.s.cols[i].name)
			switch {
			case safeharbor.IsDate(v.kind) && !st.person && h.nonPerson:
				v.keepAs("a date about something other than a person, " +
					"in a table with no person identifiers")
				v.say("the table holds no person identifiers and the name ties the date " +
					"to something else")
			case safeharbor.IsDate(v.kind) && !st.person:
				v.review = true
				v.say("the table holds no person identifiers: this date may not be about " +
					"a person")
			case safeharbor.IsDate(v.kind) && h.nonPerson:
				v.review = true
				v.say("the name suggests the date is not about a person")
			case v.kind == safeharbor.RecordID && !st.person && st.groups[i] < 0 &&
				!h.strong && len(h.kinds) == 0:
				v.keepAs("a unique code of a table with no person identifiers")
				v.review = true
			}
		}
	}
}

// finish turns a table's verdicts into policy rules that fit the source's
// types, so that the policy plans as it is.
func finish(st *tableState) *Table {
	t := &Table{Name: st.s.table.Name, Location: st.s.table.Location, Rows: st.s.rows,
		Complete: st.s.complete, Person: st.person}
	for i, v := range st.verdicts {
		c := &Column{Name: st.s.cols[i].name, Kind: v.kind, Keep: v.keep, Action: v.action,
			Fake: v.fake, Review: v.review, Evidence: v.why}
		ev := []string{nameEvidence(c.Name, readName(c.Name), c)}
		if p := st.profiles[i]; p.nonNull > 0 && !mentions(c.Evidence, "distinct ratio") {
			ev = append(ev, fmt.Sprintf("distinct ratio %.2f", p.distinctRatio()))
		}
		c.Evidence = append(ev, c.Evidence...)
		fitType(c, st.s.cols[i].typ, st.profiles[i], &v)
		t.Columns = append(t.Columns, c)
	}
	joinRules(st, t)
	birthReferences(t)
	keepOneColumn(t)
	return t
}

func mentions(ev []string, s string) bool {
	for _, e := range ev {
		if strings.Contains(e, s) {
			return true
		}
	}
	return false
}

// fitType chooses the action and declared type the column's type allows.
func fitType(c *Column, typ arrow.DataType, p *profile, v *verdict) {
	if c.Kind == "" {
		return
	}
	action := c.Action
	if action == "" {
		action, _ = safeharbor.Default(safeharbor.SafeHarborProfile, c.Kind)
	}
	str := typ.ID() == arrow.STRING || typ.ID() == arrow.LARGE_STRING
	ints := typ.ID() == arrow.INT64 || typ.ID() == arrow.INT32
	nullIt := func(why string) {
		c.Action = safeharbor.Null
		c.Fake = ""
		c.Review = true
		c.Evidence = append(c.Evidence, why)
	}

	switch action {
	case safeharbor.Surrogate:
		switch {
		case str:
		case ints:
			c.Action, c.Fake = safeharbor.Token, ""
		default:
			nullIt("a surrogate needs text; the column is nulled")
		}
	case safeharbor.Token:
		if !str && !ints {
			nullIt("a token needs text or integers; the column is nulled")
		}
	case safeharbor.Year:
		switch {
		case typ.ID() == arrow.DATE32 || typ.ID() == arrow.DATE64 ||
			typ.ID() == arrow.TIMESTAMP:
		case !str:
			nullIt("the year rule needs dates or text; the column is nulled")
		case v.unreadable || p.counts[pDate] < p.nonNull:
			nullIt("some values are not dates deid's year rule reads; the column is nulled")
		}
	case safeharbor.Zip3:
		if !str && !ints {
			nullIt("the ZIP3 rule needs text or integers; the column is nulled")
		}
	case safeharbor.TopCode:
		switch {
		case p.numeric():
		case !str:
			nullIt("top-coding needs numbers or text; the column is nulled")
		case p.counts[pAge] < p.nonNull:
			nullIt("some values are not ages deid can top-code; the column is nulled")
		case p.counts[pInt] == p.nonNull:
			c.Type = "int64"
		}
	}
	if c.Fake != "" && (c.Action != "" && c.Action != safeharbor.Surrogate ||
		!validFake(c.Fake)) {
		c.Fake = ""
	}
}

func validFake(f string) bool {
	switch f {
	case "full-name", "first-name", "last-name", "street", "city", "email", "phone", "fax":
		return true
	}
	return false
}

// birthReferences names, for each birth date, the table's death dates as
// its references: a death date is the person's latest date. Its other
// dates are not named, so that in rows without a death date deid judges the
// birth year at the as-of date too, which stays strict when the person's
// latest date is in another table.
func birthReferences(t *Table) {
	for _, c := range t.Columns {
		if c.Kind != safeharbor.BirthDate || c.Action == safeharbor.Null {
			continue
		}
		for _, r := range t.Columns {
			if r.Kind == safeharbor.DeathDate {
				c.Reference = append(c.Reference, r.Name)
			}
		}
		e := "90 or older is judged at the table's other dates"
		if len(c.Reference) == 0 {
			e += " and at the as-of date"
		} else {
			e += ", and at the as-of date where " + strings.Join(c.Reference, ", ") + " is empty"
		}
		c.Evidence = append(c.Evidence, e)
	}
}

// keepOneColumn makes sure a table keeps a column, since deid refuses a
// table whose every column is dropped: the first dropped column is nulled.
func keepOneColumn(t *Table) {
	for _, c := range t.Columns {
		a := c.Action
		if a == "" && c.Kind != "" {
			a, _ = safeharbor.Default(safeharbor.SafeHarborProfile, c.Kind)
		}
		if c.Kind == "" || a != safeharbor.Drop {
			return
		}
	}
	if len(t.Columns) > 0 {
		c := t.Columns[0]
		if ok := safeharbor.Allowed(safeharbor.SafeHarborProfile, c.Kind, safeharbor.Null); ok {
			c.Action = safeharbor.Null
			c.Evidence = append(c.Evidence, "nulled rather than dropped: "+
				"a table needs one column left")
		}
	}
}

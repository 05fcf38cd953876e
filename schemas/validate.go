package schemas

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/deid/deid/safeharbor"
)

// Profiles lists the profiles a policy may name, the default first.
var Profiles = []safeharbor.Profile{safeharbor.SafeHarborProfile, safeharbor.LimitedDataSet}

// The restricted ZIP3 lists a policy may choose with zip3.
const (
	// Zip3Union zeroes a ZIP3 that the 2020 Census or the HHS 2000 list
	// restricts; the default, since over-suppression is always compliant.
	Zip3Union = "union"
	// Zip3Census2020 zeroes a ZIP3 that the 2020 Census restricts.
	Zip3Census2020 = "census2020"
)

// Zip3Lists lists the values of zip3, the default first.
var Zip3Lists = []string{Zip3Union, Zip3Census2020}

// ColumnTypes lists the column types a policy may declare with type.
var ColumnTypes = []string{"string", "int32", "int64", "float64", "bool", "date", "timestamp"}

// FakeFormats lists the surrogate formats a policy may choose with fake. The
// tokenize package must generate every one of them.
var FakeFormats = []string{
	"full-name", "first-name", "last-name", "street", "city", "email", "phone", "fax",
}

// allActions caches Actions for the checks.
var allActions = Actions()

// Actions returns every action some kind allows under some profile, sorted.
func Actions() []safeharbor.Action {
	seen := map[safeharbor.Action]bool{}
	var out []safeharbor.Action
	for _, k := range safeharbor.Kinds() {
		for _, as := range k.Allowed {
			for _, a := range as {
				if !seen[a] {
					seen[a] = true
					out = append(out, a)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// Validate checks the policy on its own, before any source is opened: the
// profile and its requirements, and for every column that its rule is
// complete and allowed under the profile (see README.md for each check). It
// returns every problem together as a *Problems, sorted by line. Lines come
// from TablePolicy.Line and ColumnPolicy.Line; problems with top-level keys
// have no line, since Policy does not record them (Check has them).
//
// A zero Version, Profile or Zip3 stands for its default, as after Decode.
func (p *Policy) Validate() error {
	ps := &Problems{}
	validate(p, nil, ps)
	return ps.err()
}

// Effective returns the action the column gets under profile p: Keep for a
// kept column, else the policy's action, else the profile's default for the
// kind ("" for an unknown kind). An empty p means safe-harbor.
func (c *ColumnPolicy) Effective(p safeharbor.Profile) safeharbor.Action {
	switch {
	case c.Keep != "":
		return safeharbor.Keep
	case c.Action != "":
		return c.Action
	}
	if p == "" {
		p = safeharbor.SafeHarborProfile
	}
	a, _ := safeharbor.Default(p, c.PHI)
	return a
}

// Domain returns the column's token domain: Token if set, else the kind's
// name, so that columns of one kind join by default.
func (c *ColumnPolicy) Domain() string {
	if c.Token != "" {
		return c.Token
	}
	return string(c.PHI)
}

// validate checks p into ps; top holds the lines of top-level keys, or nil.
func validate(p *Policy, top map[string]int, ps *Problems) {
	profile, profileOK := validateTop(p, top, ps)

	for _, name := range sortedKeys(p.Tables) {
		t := p.Tables[name]
		if t == nil {
			t = &TablePolicy{}
		}
		if name == "" {
			ps.add(t.Line, "", "", "a table name is empty")
		}
		if len(t.Columns) == 0 {
			ps.add(t.Line, name, "", "no columns; every column of the table needs a rule")
			continue
		}
		for _, col := range sortedKeys(t.Columns) {
			cv := columnCheck{ps: ps, profile: profile, profileOK: profileOK, table: name,
				name: col, cols: t.Columns}
			cv.check(t.Columns[col])
		}
	}
	validateSubsets(p, profile, ps)
}

// validateSubsets checks the subject and link of every table: that they
// name columns that exist, that a domain lists its subjects in one table,
// and that links form no cycle.
func validateSubsets(p *Policy, profile safeharbor.Profile, ps *Problems) {
	subjects := map[string]string{} // token domain -> table
	for _, name := range sortedKeys(p.Tables) {
		t := p.Tables[name]
		if t == nil {
			continue
		}
		if t.Subject != "" {
			validateSubject(name, t, profile, subjects, ps)
		}
		if t.Link != nil {
			validateLink(p, name, t, ps)
		}
	}

	for _, name := range sortedKeys(p.Tables) {
		path := []string{name}
		for t := p.Tables[name]; t != nil && t.Link != nil; {
			next, _ := t.Link.Target()
			if next == name && len(path) > 1 && name == slices.Min(path) { // once per cycle
				ps.add(p.Tables[name].Link.Line, name, "", "link: the tables %s form a "+
					"cycle, so no table of it could be cut down first",
					strings.Join(append(path, name), " -> "))
				break
			}
			if slices.Contains(path, next) {
				break // a cycle, reported from its first table by name
			}
			path = append(path, next)
			t = p.Tables[next]
		}
	}
}

func validateSubject(name string, t *TablePolicy, profile safeharbor.Profile,
	subjects map[string]string, ps *Problems) {
	c, ok := t.Columns[t.Subject]
	switch {
	case !ok:
		ps.add(t.Line, name, "", "subject %q is not a column of the table%s",
			t.Subject, didYouMean(t.Subject, sortedKeys(t.Columns)))
		return
	case c == nil || c.Keep != "" || c.Effective(profile) != safeharbor.Token:
		ps.add(t.Line, name, "", "subject %q must be a tokenised column (action token): "+
			"its token domain names the subjects", t.Subject)
		return
	}
	domain := c.Domain()
	if other, dup := subjects[domain]; dup {
		ps.add(t.Line, name, "", "subject: table %q already lists the subjects of token "+
			"domain %q; a domain has one subject table", other, domain)
		return
	}
	subjects[domain] = name
}

func validateLink(p *Policy, name string, t *TablePolicy, ps *Problems) {
	l := t.Link
	if l.Column == "" {
		ps.add(l.Line, name, "", "link: column is missing; name the column of this table "+
			"that links it")
	} else if _, ok := t.Columns[l.Column]; !ok {
		ps.add(l.Line, name, "", "link: column %q is not a column of the table%s",
			l.Column, didYouMean(l.Column, sortedKeys(t.Columns)))
	}

	table, column := l.Target()
	other := p.Tables[table]
	switch {
	case l.To == "":
		ps.add(l.Line, name, "", "link: to is missing; write it as table.column")
	case table == "":
		ps.add(l.Line, name, "", "link: to %q is not of the form table.column", l.To)
	case table == name:
		ps.add(l.Line, name, "", "link: to %q names the table itself", l.To)
	case other == nil:
		ps.add(l.Line, name, "", "link: to %q names table %q, which is not in the policy%s",
			l.To, table, didYouMean(table, sortedKeys(p.Tables)))
	default:
		if _, ok := other.Columns[column]; !ok {
			ps.add(l.Line, name, "", "link: to %q names column %q, which is not a column "+
				"of table %q%s", l.To, column, table, didYouMean(column, sortedKeys(other.Columns)))
		}
	}
}

// validateTop checks the top-level keys and returns the effective profile
// and whether it is known.
func validateTop(p *Policy, top map[string]int, ps *Problems) (safeharbor.Profile, bool) {
	if p.Version != 0 && p.Version != 1 {
		ps.add(top["version"], "", "", "version %d is not supported; the only version is 1",
			p.Version)
	}

	profile := p.Profile
	if profile == "" {
		profile = safeharbor.SafeHarborProfile
	}
	profileOK := slices.Contains(Profiles, profile)
	if !profileOK {
		ps.add(top["profile"], "", "", "profile %q is unknown; profiles: %s",
			profile, plainList(Profiles))
	}
	if profile == safeharbor.LimitedDataSet && strings.TrimSpace(p.DataUseAgreement) == "" {
		ps.add(top["profile"], "", "", "profile %s requires data_use_agreement: a limited "+
			"data set is still PHI and is released only under a data use agreement", profile)
	}

	if p.AsOf != "" {
		if _, err := time.Parse(time.DateOnly, p.AsOf); err != nil {
			// err quotes the value; the policy holds no PHI, but the rule
			// is never to wrap time's errors, so say it ourselves.
			ps.add(top["as_of"], "", "", "as_of %q is not a date in the form YYYY-MM-DD", p.AsOf)
		}
	}
	if p.Zip3 != "" && !slices.Contains(Zip3Lists, p.Zip3) {
		ps.add(top["zip3"], "", "", "zip3 %q is unknown; choose %s", p.Zip3, plainList(Zip3Lists))
	}
	if len(p.Tables) == 0 {
		ps.add(top["tables"], "", "", "no tables; list every table of the source under tables")
	}
	return profile, profileOK
}

// columnCheck validates the rule of one column.
type columnCheck struct {
	ps        *Problems
	profile   safeharbor.Profile
	profileOK bool
	table     string
	name      string
	cols      map[string]*ColumnPolicy // the columns of the table, for references
	line      int
}

func (v *columnCheck) add(format string, args ...any) {
	v.ps.add(v.line, v.table, v.name, format, args...)
}

func (v *columnCheck) check(c *ColumnPolicy) {
	if c == nil {
		c = &ColumnPolicy{}
	}
	v.line = c.Line
	if v.name == "" {
		v.add("a column name is empty")
	}
	if c.Type != "" && !slices.Contains(ColumnTypes, c.Type) {
		v.add("type %q is unknown; types: %s", c.Type, plainList(ColumnTypes))
	}

	switch {
	case c.PHI != "" && c.Keep != "":
		v.add("has both phi and keep; a column is either an identifier or kept, not both")
	case c.Keep != "":
		v.checkKeep(c)
	case c.PHI != "":
		v.checkPHI(c)
	default:
		v.add(`has neither phi nor keep; give phi: <kind>, or keep: "<reason>" ` +
			"with a non-empty reason")
	}
}

// checkKeep checks a kept column: it needs a reason and nothing else of a
// PHI rule.
func (v *columnCheck) checkKeep(c *ColumnPolicy) {
	if strings.TrimSpace(c.Keep) == "" {
		v.add("keep needs a non-empty reason; it is recorded in the manifest")
	}
	for _, f := range []struct{ key, val string }{
		{"action", string(c.Action)}, {"token", c.Token}, {"fake", c.Fake},
	} {
		if f.val != "" {
			v.add("%s applies only to phi columns; this column is kept", f.key)
		}
	}
	if len(c.Reference) > 0 {
		v.add("reference applies only to phi columns; this column is kept")
	}
}

func (v *columnCheck) checkPHI(c *ColumnPolicy) {
	if _, ok := safeharbor.Lookup(c.PHI); !ok {
		v.add("phi %q is not a known kind%s; kinds: %s",
			c.PHI, didYouMean(string(c.PHI), safeharbor.KindNames()), plainList(safeharbor.KindNames()))
		return
	}

	if c.Action != "" {
		v.checkAction(c)
	}
	action := c.Effective(v.profile)
	known := v.profileOK && (c.Action == "" || slices.Contains(allActions, c.Action))

	if c.Token != "" {
		if known && action != safeharbor.Token && action != safeharbor.Surrogate {
			v.add("token applies only to the actions token and surrogate; "+
				"this column's action is %s", action)
		}
		if !validDomain(c.Token) {
			v.add("token %q is not a domain name: use lowercase letters, digits, - and _, "+
				"starting with a letter or digit", c.Token)
		}
	}
	if c.Fake != "" {
		if !slices.Contains(FakeFormats, c.Fake) {
			v.add("fake %q is unknown%s; formats: %s",
				c.Fake, didYouMean(c.Fake, FakeFormats), plainList(FakeFormats))
		}
		if known && action != safeharbor.Surrogate {
			v.add("fake applies only to the action surrogate; this column's action is %s", action)
		}
	}
	if c.Reference != nil {
		v.checkReference(c)
	}
}

func (v *columnCheck) checkAction(c *ColumnPolicy) {
	if !slices.Contains(allActions, c.Action) {
		v.add("action %q is unknown%s; actions: %s",
			c.Action, didYouMean(string(c.Action), toStrings(allActions)), plainList(allActions))
		return
	}
	if !v.profileOK || safeharbor.Allowed(v.profile, c.PHI, c.Action) {
		return
	}
	info, _ := safeharbor.Lookup(c.PHI)
	v.add("action %s is not allowed for %s under %s; allowed: %s",
		c.Action, c.PHI, v.profile, plainList(info.Allowed[v.profile]))
}

// checkReference checks that a date column references other date columns of
// its table.
func (v *columnCheck) checkReference(c *ColumnPolicy) {
	if !safeharbor.IsDate(c.PHI) {
		v.add("reference applies only to date kinds; %s is not one", c.PHI)
		return
	}
	if len(c.Reference) == 0 {
		v.add("reference is empty; name at least one date column or leave it out")
	}

	seen := map[string]bool{}
	for _, ref := range c.Reference {
		switch r, ok := v.cols[ref]; {
		case seen[ref]:
			v.add("reference %q is listed twice", ref)
		case ref == v.name:
			v.add("reference %q names the column itself", ref)
		case !ok:
			v.add("reference %q is not a column of table %q%s",
				ref, v.table, didYouMean(ref, sortedKeys(v.cols)))
		case r == nil || r.Keep != "" || !safeharbor.IsDate(r.PHI):
			v.add("reference %q is not a date column; a reference must have a date kind "+
				"(%s)", ref, plainList(dateKinds()))
		}
		seen[ref] = true
	}
}

// validDomain reports whether s is a token domain name: lowercase ASCII
// letters, digits, '-' and '_', starting with a letter or digit.
func validDomain(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case (r == '-' || r == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// dateKinds returns the date kinds in the order of the regulation.
func dateKinds() []safeharbor.Kind {
	var out []safeharbor.Kind
	for _, k := range safeharbor.Kinds() {
		if safeharbor.IsDate(k.Kind) {
			out = append(out, k.Kind)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func toStrings[S ~string](xs []S) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

package deid

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/safeharbor"
	"github.com/deid/deid/schemas"
	"github.com/deid/deid/sources"
	"github.com/deid/deid/tokenize"
)

// Plan is a run worked out completely before any row is read: for every
// table of the source, the rule and the transform of every column and the
// schema of the output.
type Plan struct {
	Profile safeharbor.Profile
	AsOf    time.Time
	Tables  []*TablePlan
}

// TablePlan is the plan for one table.
type TablePlan struct {
	Name     string
	Source   sources.Table             // as the source describes it
	Types    map[string]arrow.DataType // declared types for untyped sources
	In       *arrow.Schema             // the schema batches arrive in
	Out      sources.Table             // the output table, with its schema and surviving keys
	Columns  []*ColumnPlan             // one per input column, in input order
	Notes    []string                  // what the plan left out, e.g. a dropped foreign key
	Subset   string                    // how a subset run chooses the rows; empty otherwise
	refs     map[string]int            // input column index by name
	inferred map[string]bool           // columns whose type was guessed from the data
}

// ColumnPlan is the rule for one column and the transform that applies it.
type ColumnPlan struct {
	Name    string
	Index   int // position in the input batch
	Kind    safeharbor.Kind
	Action  safeharbor.Action
	Reason  string // the keep reason
	Domain  string // token or surrogate domain
	Fake    tokenize.Fake
	InType  arrow.DataType
	OutType arrow.DataType // nil when the column is dropped
	Note    string         // how to read the output, when it is not obvious
	Refs    []int          // reference date columns, for birth dates
	// ListedRefs counts the references at the front of Refs that the
	// policy names; when none of them has a date in a row, the as-of date
	// counts as well (safeharbor.ReferenceYear).
	ListedRefs int
	// Inferred is set when the input type was guessed from the data.
	Inferred bool

	apply columnFunc
}

// Dropped reports whether the column is absent from the output.
func (c *ColumnPlan) Dropped() bool { return c.Action == safeharbor.Drop }

// PlanError lists every problem found while matching a policy to a source.
// It is a usage error: the run stops before reading any row.
type PlanError struct {
	Problems []string
}

func (e *PlanError) Error() string {
	if len(e.Problems) == 1 {
		return "policy does not fit the source: " + e.Problems[0]
	}
	return fmt.Sprintf("policy does not fit the source (%d problems):\n  %s",
		len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// declaredTypes maps the policy's type names to Arrow types.
var declaredTypes = map[string]arrow.DataType{
	"string":    arrow.BinaryTypes.String,
	"int32":     arrow.PrimitiveTypes.Int32,
	"int64":     arrow.PrimitiveTypes.Int64,
	"float64":   arrow.PrimitiveTypes.Float64,
	"bool":      arrow.FixedWidthTypes.Boolean,
	"date":      arrow.FixedWidthTypes.Date32,
	"timestamp": arrow.FixedWidthTypes.Timestamp_us,
}

// NewPlan matches policy p against the tables of a source and works out
// every column's transform. All problems are reported together in a
// *PlanError: tables or columns present on one side only, and rules that
// cannot apply to a column's type.
func NewPlan(p *schemas.Policy, tables []sources.Table, env Env) (*Plan, error) {
	plan := &Plan{Profile: p.Profile, AsOf: env.AsOf}
	var problems []string
	seen := map[string]bool{}

	for _, t := range tables {
		seen[t.Name] = true
		tp, ok := p.Tables[t.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf(
				"table %q (%s) has no rules in the policy", t.Name, t.Location))
			continue
		}
		tplan, errs := planTable(p, tp, t, env)
		problems = append(problems, errs...)
		if tplan != nil {
			plan.Tables = append(plan.Tables, tplan)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Tables)) {
		if !seen[name] {
			problems = append(problems, fmt.Sprintf(
				"table %q is in the policy (line %d) but not in the source",
				name, p.Tables[name].Line))
		}
	}
	problems = append(problems, domainTypeProblems(plan)...)
	if len(problems) > 0 {
		return nil, &PlanError{Problems: problems}
	}

	linkForeignKeys(plan)
	return plan, nil
}

func planTable(p *schemas.Policy, tp *schemas.TablePolicy, t sources.Table, env Env) (
	*TablePlan, []string) {
	if !anyColumnKnown(tp, t.Schema) {
		return nil, []string{fmt.Sprintf("table %q (%s): none of its %d columns is in the policy; "+
			"if its first row is data rather than a header, add a header (the names are not "+
			"shown, as they may be values)", t.Name, t.Location, t.Schema.NumFields())}
	}
	var problems []string
	plan := &TablePlan{Name: t.Name, Source: t, Types: map[string]arrow.DataType{},
		refs: map[string]int{}, inferred: map[string]bool{}}

	// Declared types first: they decide the schema the batches arrive in.
	fields := make([]arrow.Field, len(t.Schema.Fields()))
	for i, f := range t.Schema.Fields() {
		plan.refs[f.Name] = i
		fields[i] = f
		cp, ok := tp.Columns[f.Name]
		if !ok {
			continue
		}
		if cp.Type == "" {
			if dt := env.Inferred[t.Name][f.Name]; dt != nil && f.Type.ID() == arrow.STRING {
				plan.Types[f.Name] = dt
				plan.inferred[f.Name] = true
				fields[i].Type = dt
			}
			continue
		}
		dt := declaredTypes[cp.Type]
		if dt == nil {
			problems = append(problems, fmt.Sprintf("table %q column %q (line %d): unknown type %q",
				t.Name, f.Name, cp.Line, cp.Type))
			continue
		}
		if f.Type.ID() == arrow.STRING {
			plan.Types[f.Name] = dt
			fields[i].Type = dt
		}
	}
	meta := t.Schema.Metadata()
	plan.In = arrow.NewSchema(fields, &meta)

	var outFields []arrow.Field
	for i, f := range fields {
		cp, ok := tp.Columns[f.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf(
				"table %q %s has no rule in the policy (a column with no rule is never passed through)",
				t.Name, shownColumn(f.Name, i)))
			continue
		}
		col, err := planColumn(p, t.Name, cp, f, i, birthRefs(p, tp, cp, plan.refs), env)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		col.Inferred = plan.inferred[f.Name]
		plan.Columns = append(plan.Columns, col)
		if !col.Dropped() {
			of := arrow.Field{Name: f.Name, Type: col.OutType, Nullable: f.Nullable}
			if col.Action == safeharbor.Null {
				of.Nullable = true
			}
			if arrow.TypeEqual(col.OutType, f.Type) {
				of.Metadata = keptMetadata(f.Metadata, col)
			}
			outFields = append(outFields, of)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(tp.Columns)) {
		if _, ok := plan.refs[name]; !ok {
			problems = append(problems, fmt.Sprintf(
				"table %q column %q is in the policy (line %d) but not in the source",
				t.Name, name, tp.Columns[name].Line))
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	if len(outFields) == 0 {
		return nil, []string{fmt.Sprintf("table %q: every column is dropped", t.Name)}
	}

	plan.Out = sources.Table{Name: t.Name, Location: t.Location,
		Schema: arrow.NewSchema(outFields, nil)}
	return plan, nil
}

// anyColumnKnown reports whether the policy names a column of schema. When
// it names none, the "header" is most likely a row of data, whose cells must
// not be quoted as column names.
func anyColumnKnown(tp *schemas.TablePolicy, schema *arrow.Schema) bool {
	for _, f := range schema.Fields() {
		if _, ok := tp.Columns[f.Name]; ok {
			return true
		}
	}
	return schema.NumFields() == 0
}

// shownColumn names a source column for a plan error. A name that does not
// read as a column name (a date, a number, an e-mail address: what a header
// that is really a row of data holds) is withheld, and the column is named
// by its position instead.
func shownColumn(name string, i int) string {
	if PlausibleColumnName(name) {
		return fmt.Sprintf("column %q", name)
	}
	return fmt.Sprintf("column %d (its name is not shown: it does not read as a column name)", i+1)
}

// PlausibleColumnName reports whether s reads as a column name: up to 63
// characters, a letter or underscore first, then letters, digits, spaces
// and _ - . $ #. A header that is really a row of data (dates, numbers,
// e-mail addresses) fails it, so its names are not repeated anywhere.
func PlausibleColumnName(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (unicode.IsDigit(r) || strings.ContainsRune(" -.$#", r)):
		default:
			return false
		}
	}
	return true
}

// birthRefs names the reference dates of a birth-date column: those the
// policy lists, and every other date of the same table released as a year
// or kept. Each of them is a released year for the person, so a birth year
// judged against an earlier one could still show an age of 90 or more (born
// 1935, last visit 2020, death 2026) once the released years are compared.
// Those the policy lists come first (ColumnPlan.ListedRefs).
func birthRefs(p *schemas.Policy, tp *schemas.TablePolicy, cp *schemas.ColumnPolicy,
	index map[string]int) []int {
	var refs []int
	for _, r := range cp.Reference {
		refs = append(refs, index[r])
	}
	if cp.PHI != safeharbor.BirthDate {
		return refs
	}
	for _, name := range slices.Sorted(maps.Keys(tp.Columns)) {
		other := tp.Columns[name]
		i, inSource := index[name]
		if other == cp || !inSource || !safeharbor.IsDate(other.PHI) || slices.Contains(refs, i) {
			continue
		}
		if a := other.Effective(p.Profile); a == safeharbor.Year || a == safeharbor.Keep {
			refs = append(refs, i)
		}
	}
	return refs
}

func planColumn(p *schemas.Policy, table string, cp *schemas.ColumnPolicy, f arrow.Field,
	idx int, refs []int, env Env) (*ColumnPlan, error) {
	col := &ColumnPlan{Name: f.Name, Index: idx, Kind: cp.PHI, InType: f.Type,
		Action: cp.Effective(p.Profile), Reason: cp.Keep}
	if col.Action == safeharbor.Token || col.Action == safeharbor.Surrogate {
		col.Domain = cp.Domain()
	}
	if col.Action == safeharbor.Surrogate {
		col.Fake = tokenize.Fake(cp.Fake)
		if col.Fake == "" {
			col.Fake = defaultFake[cp.PHI]
		}
	}
	col.Refs = refs
	col.ListedRefs = len(cp.Reference)

	if err := bindColumn(col, env); err != nil {
		return nil, fmt.Errorf("table %q column %q (line %d): %s", table, f.Name, cp.Line, err)
	}
	return col, nil
}

// domainTypeProblems finds token domains whose columns have different
// types. A text token, an int32 token and an int64 token of the same value
// differ, so such columns would silently stop joining.
func domainTypeProblems(plan *Plan) []string {
	type use struct{ table, column, typ string }
	first := map[string]use{}
	var problems []string
	for _, t := range plan.Tables {
		for _, c := range t.Columns {
			if c.Action != safeharbor.Token {
				continue
			}
			u := use{t.Name, c.Name, c.InType.String()}
			f, seen := first[c.Domain]
			switch {
			case !seen:
				first[c.Domain] = u
			case f.typ != u.typ:
				problems = append(problems, fmt.Sprintf(
					"token domain %q is %s in table %q column %q but %s in table %q column %q: "+
						"their tokens would not match; give both the same type (e.g. `type: int64`)",
					c.Domain, f.typ, f.table, f.column, u.typ, u.table, u.column))
			}
		}
	}
	return problems
}

// keptMetadata passes a column's field metadata to the output, except the
// source's own type name when the values no longer fit it: a varchar(11) or
// uuid column holding text tokens or fakes, or a varchar(2) age holding
// "90+", must be recreated as text. Kept and nulled values, and year-only,
// top-coded or tokenized values of typed columns, keep their type.
func keptMetadata(md arrow.Metadata, c *ColumnPlan) arrow.Metadata {
	if md.FindKey(sources.MetaSourceType) < 0 {
		return md
	}
	text := c.InType.ID() == arrow.STRING || c.InType.ID() == arrow.BINARY
	switch c.Action {
	case safeharbor.Keep, safeharbor.Null:
		return md
	case safeharbor.Year, safeharbor.TopCode, safeharbor.Token:
		if !text {
			return md // dates stay dates, numbers stay numbers
		}
	}
	var keys, values []string
	for i, k := range md.Keys() {
		if k != sources.MetaSourceType {
			keys, values = append(keys, k), append(values, md.Values()[i])
		}
	}
	return arrow.NewMetadata(keys, values)
}

// defaultFake is the surrogate generator for each kind that has one.
var defaultFake = map[safeharbor.Kind]tokenize.Fake{
	safeharbor.Name:    tokenize.FullName,
	safeharbor.Address: tokenize.Street,
	safeharbor.City:    tokenize.City,
	safeharbor.Email:   tokenize.Email,
	safeharbor.Phone:   tokenize.Phone,
	safeharbor.Fax:     tokenize.Fax,
}

// linkForeignKeys keeps in each output table only the keys whose columns all
// survive unchanged in meaning: kept as they are, or tokenized in one domain
// on both sides of a foreign key. Everything else is noted and left out.
func linkForeignKeys(plan *Plan) {
	byName := map[string]*TablePlan{}
	for _, t := range plan.Tables {
		byName[t.Name] = t
	}
	for _, t := range plan.Tables {
		c := t.Source.Constraints
		out := &t.Out.Constraints
		if keyUsable(t, c.PrimaryKey) && keepsDistinct(t, c.PrimaryKey) {
			out.PrimaryKey = c.PrimaryKey
		} else if len(c.PrimaryKey) > 0 {
			t.Notes = append(t.Notes, "primary key left out: "+notDistinct)
		}
		for _, u := range c.Unique {
			if keyUsable(t, u) && keepsDistinct(t, u) {
				out.Unique = append(out.Unique, u)
			} else {
				t.Notes = append(t.Notes, fmt.Sprintf(
					"unique constraint on (%s) left out: %s", strings.Join(u, ", "), notDistinct))
			}
		}
		for _, ix := range c.Indexes {
			switch {
			case !keyUsable(t, ix.Columns):
				t.Notes = append(t.Notes, fmt.Sprintf(
					"index %q left out: a column is dropped or nulled", ix.Name))
			case ix.Unique && !keepsDistinct(t, ix.Columns):
				t.Notes = append(t.Notes, fmt.Sprintf(
					"unique index %q left out: %s", ix.Name, notDistinct))
			default:
				out.Indexes = append(out.Indexes, ix)
			}
		}
		for _, fk := range c.ForeignKeys {
			parent := byName[fk.RefTable]
			if parent != nil && keyUsable(t, fk.Columns) && keyUsable(parent, fk.RefColumns) &&
				sameMeaning(t, fk.Columns, parent, fk.RefColumns) {
				out.ForeignKeys = append(out.ForeignKeys, fk)
				continue
			}
			t.Notes = append(t.Notes, fmt.Sprintf(
				"foreign key %q left out: its parent is not in the output, or the two sides are not kept or tokenized in one domain",
				fk.Name))
		}
	}
}

func (t *TablePlan) column(name string) *ColumnPlan {
	i, ok := t.refs[name]
	if !ok {
		return nil
	}
	for _, c := range t.Columns {
		if c.Index == i {
			return c
		}
	}
	return nil
}

func keyUsable(t *TablePlan, cols []string) bool {
	if len(cols) == 0 {
		return false
	}
	for _, name := range cols {
		c := t.column(name)
		if c == nil || c.Action == safeharbor.Drop || c.Action == safeharbor.Null {
			return false
		}
	}
	return true
}

// notDistinct says why a key was left out of the output.
const notDistinct = "a key column is dropped, nulled or generalised (year, ZIP3, " +
	"top-coded, surrogate), so its values may repeat"

// keepsDistinct reports whether distinct values of cols stay distinct in
// the output: every column is kept or tokenized, and tokens are one to one.
// Years, ZIP3 prefixes, top-coded ages and surrogates are not, so a unique
// key over one of them would fail on the de-identified data.
func keepsDistinct(t *TablePlan, cols []string) bool {
	for _, name := range cols {
		c := t.column(name)
		if c == nil || (c.Action != safeharbor.Keep && c.Action != safeharbor.Token) {
			return false
		}
	}
	return true
}

func sameMeaning(child *TablePlan, cc []string, parent *TablePlan, pc []string) bool {
	if len(cc) != len(pc) {
		return false
	}
	for i := range cc {
		a, b := child.column(cc[i]), parent.column(pc[i])
		if a.Action != b.Action || a.Domain != b.Domain {
			return false
		}
		if a.Action != safeharbor.Keep && a.Action != safeharbor.Token {
			return false
		}
	}
	return true
}

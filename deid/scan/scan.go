// Package scan drafts a policy from the data itself: it reads a sample of
// every table of a source, classifies every column into a Safe Harbor
// identifier kind or keep, and writes a policy that deid run accepts as it
// is, with the evidence for each column as a comment.
//
// The evidence is the column's name (with the usual abbreviations: dob,
// pat_fname, zip_cd, tel, addr1), the patterns its values match (SSN,
// phone, email, dates, ZIP, IP, URL, UUID, state codes, latitude and
// longitude, names from gofakeit's dictionaries), how distinct its values
// are, and which columns hold a subset of another table's key, which then
// share a token domain so the join survives. Where the evidence is weak or
// conflicting, the stricter action is chosen and the column is marked
// REVIEW.
//
// No value from the data ever reaches the policy, an error or a log:
// evidence is counts and shares only.
package scan

import (
	"context"
	"fmt"

	"github.com/deid/deid/deid"
	"github.com/deid/deid/internal/dataerr"
	"github.com/deid/deid/safeharbor"
	"github.com/deid/deid/sources"
)

// DefaultSampleRows is how many rows of each table a scan reads by default.
const DefaultSampleRows = 10000

// DefaultJoinRows bounds how many rows of a table larger than its sample are
// read again to confirm that another table's column is a subset of its key.
const DefaultJoinRows = 1_000_000

// Options configures a scan.
type Options struct {
	// SampleRows is the number of rows read from the start of each table;
	// a smaller table is read whole. 0 means DefaultSampleRows.
	SampleRows int
	// JoinRows bounds the rows of a parent table read to confirm a join
	// when its sample does not hold the whole table. 0 means
	// DefaultJoinRows; a negative value confirms joins on samples only.
	JoinRows int
	// Source describes the source in the policy's header comment; it
	// must not hold a password.
	Source string
}

// Result is a scan's classification of every column of every table.
type Result struct {
	Source string
	Tables []*Table
}

// Table is the classification of one table.
type Table struct {
	Name     string
	Location string
	// Rows is the number of rows sampled; Complete is set when that is
	// the whole table.
	Rows     int
	Complete bool
	// Person is set when the table holds identifiers of a person or
	// references a table that does.
	Person  bool
	Columns []*Column
}

// Column is the rule the scan proposes for one column, with the evidence.
// Exactly one of Kind and Keep is set.
type Column struct {
	Name      string
	Kind      safeharbor.Kind
	Keep      string
	Action    safeharbor.Action // "" for the profile's default
	Token     string
	Fake      string
	Type      string
	Reference []string
	// Review is set when the evidence is weak or conflicting.
	Review bool
	// Evidence says why, in words that never quote a value.
	Evidence []string
}

// Reviews counts the columns marked for review.
func (r *Result) Reviews() int {
	n := 0
	for _, t := range r.Tables {
		for _, c := range t.Columns {
			if c.Review {
				n++
			}
		}
	}
	return n
}

// tableState is one table while it is being classified.
type tableState struct {
	s        *sample
	profiles []*profile
	verdicts []verdict
	person   bool
	// groups maps a column to its join group, -1 for none.
	groups []int
	// domain is the token domain of each column that has one, and intKey
	// says whether that column's tokens are integers.
	domain []string
	intKey []bool
}

// Scan samples every table of src and classifies every column.
func Scan(ctx context.Context, src sources.Source, o Options) (*Result, error) {
	if o.SampleRows <= 0 {
		o.SampleRows = DefaultSampleRows
	}
	if o.JoinRows == 0 {
		o.JoinRows = DefaultJoinRows
	}
	tables, err := src.Tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("scan: listing tables: %w", err)
	}
	// The draft repeats every column name; a header that reads as data (a
	// file without a header row) would put a row of values into it.
	for _, t := range tables {
		for i, f := range t.Schema.Fields() {
			if !deid.PlausibleColumnName(f.Name) {
				return nil, &dataerr.Error{Table: t.Name, Rule: "header", Reason: fmt.Sprintf(
					"the name of column %d does not read as a column name (is the first row "+
						"a header?); it is not shown", i+1)}
			}
		}
	}

	var ts []*tableState
	for _, t := range tables {
		s, err := readSample(ctx, src, t, o.SampleRows)
		if err != nil {
			return nil, err
		}
		st := &tableState{s: s}
		for _, c := range s.cols {
			p := profileColumn(c)
			st.profiles = append(st.profiles, p)
			st.verdicts = append(st.verdicts, classify(c.name, p))
		}
		refineDates(st)
		ts = append(ts, st)
	}

	edges, err := findJoins(ctx, src, ts, o.JoinRows)
	if err != nil {
		return nil, err
	}
	linkPersons(ts, edges)
	applyJoins(ts, edges)
	refineNonPerson(ts)
	assignDomains(ts, edges)

	res := &Result{Source: o.Source}
	for _, st := range ts {
		res.Tables = append(res.Tables, finish(st))
	}
	return res, nil
}

// Package schemas defines the policy format: the YAML file that names a
// profile and classifies every column of every table. Decode reads it
// strictly (unknown keys and type errors are reported with their line),
// Validate checks it on its own, and the engine then matches it against the
// source before any row is read.
package schemas

import (
	"strings"

	"github.com/deid/deid/safeharbor"
)

// Policy is a decoded policy file.
type Policy struct {
	// Version of the policy format; 1 is the only one.
	Version int `yaml:"version" json:"version"`
	// Profile is the de-identification standard; safe-harbor by default.
	Profile safeharbor.Profile `yaml:"profile" json:"profile"`
	// DataUseAgreement references the DUA a limited data set is released
	// under; required for the limited-data-set profile.
	DataUseAgreement string `yaml:"data_use_agreement,omitempty" json:"data_use_agreement,omitempty"`
	// AsOf is the reference date (YYYY-MM-DD) against which ages of 90 or
	// more are judged when a row names no later related date; default the
	// run date.
	AsOf string `yaml:"as_of,omitempty" json:"as_of,omitempty"`
	// Zip3 chooses the restricted ZIP3 list: "union" (default: the 2020
	// Census table and the HHS 2000 list) or "census2020".
	Zip3 string `yaml:"zip3,omitempty" json:"zip3,omitempty"`
	// Tables maps a table name to its columns.
	Tables map[string]*TablePolicy `yaml:"tables" json:"tables"`
}

// TablePolicy classifies the columns of one table, and says how a subset
// (deid run --sample or --limit) reaches its rows.
type TablePolicy struct {
	// Columns maps a column name to its rule.
	Columns map[string]*ColumnPolicy `yaml:"columns" json:"columns"`
	// Subject names a tokenised column whose values are the table's rows:
	// the table lists the subjects of that column's token domain, one per
	// row (patients for the domain patient). --limit counts subjects here,
	// and in a subset this column alone decides which rows are kept.
	Subject string `yaml:"subject,omitempty" json:"subject,omitempty"`
	// Link ties the table to another one for subsets: a row is kept when
	// its Link.Column value is among the values of Link.To in the kept rows
	// of that table. Without it, a table with no column in a sampled token
	// domain is kept whole.
	Link *Link `yaml:"link,omitempty" json:"link,omitempty"`
	// Line is where the table starts in the policy file.
	Line int `yaml:"-" json:"-"`
}

// Link is how a subset reaches a table through another table: a child
// through its parent (diagnoses.encounter_id to encounters.encounter_id),
// or a reference table through the rows that use it (providers.provider_id
// to encounters.provider_id).
type Link struct {
	// Column is the column of the linked table.
	Column string `yaml:"column" json:"column"`
	// To is "table.column", the other side; the last dot separates the
	// table from the column, so a table may be schema-qualified.
	To string `yaml:"to" json:"to"`
	// Line is where the link is in the policy file.
	Line int `yaml:"-" json:"-"`
}

// Target splits To into the other table and its column. Both are empty
// when To has no dot with text on each side.
func (l *Link) Target() (table, column string) {
	i := strings.LastIndexByte(l.To, '.')
	if i <= 0 || i == len(l.To)-1 {
		return "", ""
	}
	return l.To[:i], l.To[i+1:]
}

// ColumnPolicy is the rule for one column: exactly one of PHI and Keep is set.
type ColumnPolicy struct {
	// PHI is the identifier kind of the column.
	PHI safeharbor.Kind `yaml:"phi,omitempty" json:"phi,omitempty"`
	// Keep passes the column through unchanged; its value is the reason,
	// which is recorded in the manifest. A column with Keep is not PHI.
	Keep string `yaml:"keep,omitempty" json:"keep,omitempty"`
	// Action overrides the profile's default action for the kind.
	Action safeharbor.Action `yaml:"action,omitempty" json:"action,omitempty"`
	// Token names the token domain; values equal in one domain get equal
	// tokens in every table, so joins survive. Default: the kind's name.
	Token string `yaml:"token,omitempty" json:"token,omitempty"`
	// Fake chooses the surrogate generator (e.g. first-name, last-name,
	// full-name, street, email, phone); default by kind.
	Fake string `yaml:"fake,omitempty" json:"fake,omitempty"`
	// Type declares the column's type for untyped sources (CSV): string,
	// int32, int64, float64, bool, date, timestamp.
	Type string `yaml:"type,omitempty" json:"type,omitempty"`
	// Reference names date columns of the same table that hold the
	// person's latest date. A birth date is judged against the latest of
	// the row's other released dates, and against the as-of date too in
	// rows where none of these has a date.
	Reference []string `yaml:"reference,omitempty" json:"reference,omitempty"`
	// Line is where the column's rule is in the policy file.
	Line int `yaml:"-" json:"-"`
}

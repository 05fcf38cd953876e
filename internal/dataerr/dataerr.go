// Package dataerr defines the one error type that points at a place in the
// data. Row values are PHI, so an Error says where a problem is (table, file,
// row, column, rule) and what kind of problem it is, never what the value was.
//
// Never wrap an error from strconv, time or encoding/* in an Error: those
// quote their input ("parsing \"123-45-6789\": invalid syntax"). Use a fixed
// Reason instead.
package dataerr

import (
	"fmt"
	"strings"
)

// Error locates a fault in a data set without quoting any value from it.
type Error struct {
	Table  string // logical table name; empty if not known yet
	File   string // file path, for file sources and sinks
	Row    int64  // 1-based data row ordinal (header excluded); 0 if unknown
	Line   int64  // 1-based line in a text file; 0 if unknown
	Column string // column name; empty if the fault is not in one column
	Rule   string // the rule or stage that found it, e.g. "birth-date" or "csv"
	Reason string // fixed text that never contains a row value
}

// Error formats the location first and the reason last, e.g.
// `table "patients" row 1042 column "dob" (rule birth-date): invalid date`.
func (e *Error) Error() string {
	var b strings.Builder
	sep := func() {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
	}
	if e.Table != "" {
		fmt.Fprintf(&b, "table %q", e.Table)
	}
	if e.File != "" {
		sep()
		fmt.Fprintf(&b, "file %q", e.File)
	}
	if e.Row > 0 {
		sep()
		fmt.Fprintf(&b, "row %d", e.Row)
	}
	if e.Line > 0 {
		sep()
		fmt.Fprintf(&b, "line %d", e.Line)
	}
	if e.Column != "" {
		sep()
		fmt.Fprintf(&b, "column %q", e.Column)
	}
	if e.Rule != "" {
		sep()
		fmt.Fprintf(&b, "(rule %s)", e.Rule)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Reason == "" {
		b.WriteString("invalid value")
	} else {
		b.WriteString(e.Reason)
	}
	return b.String()
}

package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Report is what a verification found. It locates every finding by table,
// column, row and check and never holds a value from the data, so it can
// travel with the output and go into the run's manifest.
type Report struct {
	Profile string `json:"profile"`
	// Clean is true when nothing was found.
	Clean bool `json:"clean"`
	// Findings lists what was found, one entry per table, column and check.
	Findings []*Finding `json:"findings"`
	// Tables counts the rows on each side.
	Tables []TableCount `json:"tables"`
	// KAnonymity reports the equivalence classes over the quasi-identifiers
	// of every table that has some.
	KAnonymity []KAnonymity `json:"k_anonymity,omitempty"`
	// Notes say what was looked at but is not a finding, and what could
	// not be checked.
	Notes []string `json:"notes,omitempty"`
	// Fingerprints is the number of distinct source identifier values
	// looked for in the output, and FingerprintBytes the memory they took.
	Fingerprints     int   `json:"fingerprints"`
	FingerprintBytes int64 `json:"fingerprint_bytes"`
	// Checks names every check run.
	Checks []string `json:"checks"`
}

// Finding is one problem: how many cells of one column failed one check,
// and the first rows where it did.
type Finding struct {
	Check  string `json:"check"`
	Table  string `json:"table"`
	Column string `json:"column,omitempty"`
	// Count is the number of cells (or values, for structure checks).
	Count int64 `json:"count"`
	// Rows are the 1-based data row ordinals of the first cells, in the
	// output table unless the check says otherwise.
	Rows []int64 `json:"rows,omitempty"`
	// Reason is a fixed text; it never quotes a value.
	Reason string `json:"reason"`
}

// TableCount compares the row counts of a table.
type TableCount struct {
	Name       string `json:"name"`
	SourceRows int64  `json:"source_rows"`
	OutputRows int64  `json:"output_rows"`
	// ManifestRowsIn and ManifestRowsOut are the counts the run's
	// manifest recorded, when there is one.
	ManifestRowsIn  *int64 `json:"manifest_rows_in,omitempty"`
	ManifestRowsOut *int64 `json:"manifest_rows_out,omitempty"`
}

// KAnonymity describes the equivalence classes of one table over its
// quasi-identifiers.
type KAnonymity struct {
	Table   string   `json:"table"`
	Quasi   []string `json:"quasi_identifiers"`
	K       int      `json:"k"`
	Records int64    `json:"records"`
	Classes int64    `json:"classes"`
	// Smallest is the size of the smallest class.
	Smallest int64 `json:"smallest_class"`
	// ClassesBelowK and RecordsBelowK count the classes smaller than K
	// and the records in them.
	ClassesBelowK int64 `json:"classes_below_k"`
	RecordsBelowK int64 `json:"records_below_k"`
}

// Summary is the part of a report a run's manifest records.
type Summary struct {
	Clean      bool             `json:"clean"`
	Findings   int              `json:"findings"`
	Cells      int64            `json:"cells_with_findings"`
	ByCheck    map[string]int64 `json:"by_check,omitempty"`
	KAnonymity []KAnonymity     `json:"k_anonymity,omitempty"`
	Checks     []string         `json:"checks"`
}

// Summary condenses the report for the manifest: counts per check, no rows.
func (r *Report) Summary() *Summary {
	s := &Summary{Clean: r.Clean, Findings: len(r.Findings), KAnonymity: r.KAnonymity,
		Checks: r.Checks}
	for _, f := range r.Findings {
		if s.ByCheck == nil {
			s.ByCheck = map[string]int64{}
		}
		s.ByCheck[f.Check] += f.Count
		s.Cells += f.Count
	}
	return s
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding verification report: %w", err)
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// WriteText writes the report for a person to read.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.Clean {
		b.WriteString("verify: clean: no finding\n")
	} else {
		fmt.Fprintf(&b, "verify: %d finding(s)\n", len(r.Findings))
	}
	fmt.Fprintf(&b, "\nchecks: %s\n", strings.Join(r.Checks, ", "))
	fmt.Fprintf(&b, "source identifier values looked for: %d (%d KiB of fingerprints)\n",
		r.Fingerprints, r.FingerprintBytes/1024)

	b.WriteString("\nrows:\n")
	for _, t := range r.Tables {
		fmt.Fprintf(&b, "  %-24s source %d, output %d", t.Name, t.SourceRows, t.OutputRows)
		if t.ManifestRowsOut != nil {
			fmt.Fprintf(&b, ", manifest %d in / %d out", *t.ManifestRowsIn, *t.ManifestRowsOut)
		}
		b.WriteByte('\n')
	}

	if len(r.Findings) > 0 {
		b.WriteString("\nfindings:\n")
		for _, f := range r.Findings {
			loc := f.Table
			if f.Column != "" {
				loc += "." + f.Column
			}
			fmt.Fprintf(&b, "  %-18s %s: %s (%d)", f.Check, loc, f.Reason, f.Count)
			if len(f.Rows) > 0 {
				fmt.Fprintf(&b, "; rows %s", joinRows(f.Rows, f.Count))
			}
			b.WriteByte('\n')
		}
	}

	if len(r.KAnonymity) > 0 {
		b.WriteString("\nk-anonymity:\n")
		for _, k := range r.KAnonymity {
			fmt.Fprintf(&b, "  %-24s over (%s): %d records in %d classes; smallest class %d; "+
				"%d records in %d classes smaller than k=%d\n", k.Table,
				strings.Join(k.Quasi, ", "), k.Records, k.Classes, k.Smallest,
				k.RecordsBelowK, k.ClassesBelowK, k.K)
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\nnotes:\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func joinRows(rows []int64, count int64) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = fmt.Sprint(r)
	}
	s := strings.Join(parts, ", ")
	if count > int64(len(rows)) {
		s += ", ..."
	}
	return s
}

// maxRows is how many row ordinals a finding lists.
const maxRows = 10

// findings collects findings, one per table, column and check.
type findings struct {
	byKey map[string]*Finding
}

func newFindings() *findings { return &findings{byKey: map[string]*Finding{}} }

// add records one failed cell; row 0 means the finding has no row.
func (fs *findings) add(check, table, column string, row int64, reason string) {
	fs.addN(check, table, column, row, 1, reason)
}

func (fs *findings) addN(check, table, column string, row, n int64, reason string) {
	k := check + "\x00" + table + "\x00" + column
	f := fs.byKey[k]
	if f == nil {
		f = &Finding{Check: check, Table: table, Column: column, Reason: reason}
		fs.byKey[k] = f
	}
	f.Count += n
	if row > 0 && len(f.Rows) < maxRows {
		f.Rows = append(f.Rows, row)
	}
}

// list returns the findings sorted by table, column and check.
func (fs *findings) list() []*Finding {
	out := make([]*Finding, 0, len(fs.byKey))
	for _, f := range fs.byKey {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Table != b.Table {
			return a.Table < b.Table
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Check < b.Check
	})
	return out
}

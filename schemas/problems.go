package schemas

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one fault in a policy file. It quotes policy keys, table and
// column names and policy values, which describe the data but hold none of
// it; a policy never contains a row value.
type Problem struct {
	// Line is the 1-based line in the policy file; 0 when unknown, as for a
	// policy built in code.
	Line int
	// Table and Column locate the problem; empty when it is not in one.
	Table, Column string
	// Msg says what is wrong and, where it helps, what is allowed.
	Msg string
}

// String formats the problem with its location first, e.g.
// `line 12: table "patients" column "mrn": unknown key "tokn"`.
func (p Problem) String() string {
	return p.format("")
}

func (p Problem) format(file string) string {
	var b strings.Builder
	switch {
	case file != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", file, p.Line)
	case file != "":
		fmt.Fprintf(&b, "%s: ", file)
	case p.Line > 0:
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}

	switch {
	case p.Table != "" && p.Column != "":
		fmt.Fprintf(&b, "table %q column %q: ", p.Table, p.Column)
	case p.Table != "":
		fmt.Fprintf(&b, "table %q: ", p.Table)
	case p.Column != "":
		fmt.Fprintf(&b, "column %q: ", p.Column)
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every fault found in one policy. Decode, Validate and Check
// return it as their error so that a user fixes a policy in one pass
// instead of one error at a time.
type Problems struct {
	// File names the policy in messages; empty when unknown. Validate leaves
	// it empty; Decode, Check and Load set it.
	File string
	// List holds the problems sorted by line.
	List []Problem
}

// Error prints one problem per line, sorted by line, e.g.
//
//	policy.yaml:12: table "patients" column "mrn": unknown key "tokn"
func (ps *Problems) Error() string {
	lines := make([]string, len(ps.List))
	for i, p := range ps.List {
		lines[i] = p.format(ps.File)
	}
	return strings.Join(lines, "\n")
}

// add records a problem.
func (ps *Problems) add(line int, table, column, format string, args ...any) {
	ps.List = append(ps.List, Problem{
		Line: line, Table: table, Column: column, Msg: fmt.Sprintf(format, args...),
	})
}

// err sorts the problems by line and returns ps, or nil when there are none.
func (ps *Problems) err() error {
	if len(ps.List) == 0 {
		return nil
	}
	sort.SliceStable(ps.List, func(i, j int) bool { return ps.List[i].Line < ps.List[j].Line })
	return ps
}

// plainList formats names as `a, b, c` for messages.
func plainList[S ~string](names []S) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = string(n)
	}
	return strings.Join(q, ", ")
}

// suggest returns the candidate s is a likely typo or longer form of, or "":
// the closest candidate within two edits (and fewer than half its length),
// else a candidate of 4 or more letters that s starts with ("tokenize").
func suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD && 2*d < len(c) {
			best, bestD = c, d
		}
	}
	if best != "" {
		return best
	}
	for _, c := range candidates {
		if len(c) >= 4 && strings.HasPrefix(s, c) {
			return c
		}
	}
	return ""
}

// didYouMean returns ` (did you mean "x"?)` for the likely intended
// candidate, or "".
func didYouMean(s string, candidates []string) string {
	if c := suggest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return len(a) + len(b) // not a typo; skip the quadratic work
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

package scan

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/deid/deid/safeharbor"
	"github.com/deid/deid/schemas"
)

// Policy returns the drafted policy: profile safe-harbor, every table and
// column of the scan with its rule.
func (r *Result) Policy() *schemas.Policy {
	p := &schemas.Policy{Version: 1, Profile: safeharbor.SafeHarborProfile,
		Zip3: schemas.Zip3Union, Tables: map[string]*schemas.TablePolicy{}}
	for _, t := range r.Tables {
		tp := &schemas.TablePolicy{Columns: map[string]*schemas.ColumnPolicy{}}
		for _, c := range t.Columns {
			tp.Columns[c.Name] = c.rule()
		}
		p.Tables[t.Name] = tp
	}
	return p
}

func (c *Column) rule() *schemas.ColumnPolicy {
	return &schemas.ColumnPolicy{PHI: c.Kind, Keep: c.Keep, Action: c.Action, Token: c.Token,
		Fake: c.Fake, Type: c.Type, Reference: c.Reference}
}

// WriteYAML writes the drafted policy as YAML, with a comment above every
// column giving the evidence for its rule, and REVIEW where the evidence
// is weak. The comments hold names, counts and shares, never a value.
func (r *Result) WriteYAML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	cols := 0
	for _, t := range r.Tables {
		cols += len(t.Columns)
	}
	src := r.Source
	if src == "" {
		src = "the source"
	}
	fmt.Fprintf(bw, "# A deid policy drafted by `deid scan` from %s.\n", comment(src))
	fmt.Fprintf(bw, "# %d tables, %d columns; %d marked REVIEW.\n", len(r.Tables), cols, r.Reviews())
	bw.WriteString(header)
	bw.WriteString("version: 1\nprofile: safe-harbor\nzip3: union\ntables:\n")

	for _, t := range r.Tables {
		bw.WriteString(entry("  ", key(t.Name), ""))
		how := "the first rows"
		if t.Complete {
			how = "the whole table"
		}
		fmt.Fprintf(bw, "    # %d rows sampled (%s)", t.Rows, how)
		if t.Person {
			bw.WriteString("; holds or references identifiers of people")
		}
		bw.WriteString("\n    columns:\n")
		for _, c := range t.Columns {
			writeComment(bw, c)
			bw.WriteString(entry("      ", key(c.Name), flow(c)))
		}
	}
	return bw.Flush()
}

const header = `#
# Every column was classified from its name and a sample of its values; the
# comment above each rule gives the evidence. Where the evidence was weak or
# conflicting, the stricter action was chosen and the column is marked
# REVIEW. The policy runs as it is; read every comment before a release.
#
`

// writeComment writes a column's evidence, wrapped near 90 columns.
func writeComment(w *bufio.Writer, c *Column) {
	text := strings.Join(c.Evidence, "; ")
	if c.Review {
		text = "REVIEW: " + text
	}
	if text == "" {
		return
	}
	const indent, width = "      # ", 92
	line := indent
	for _, word := range strings.Fields(comment(text)) {
		if len(line)+len(word)+1 > width && len(line) > len(indent) {
			w.WriteString(strings.TrimRight(line, " ") + "\n")
			line = indent + "  "
		}
		line += word + " "
	}
	w.WriteString(strings.TrimRight(line, " ") + "\n")
}

// flow writes a column's rule as a YAML flow mapping.
func flow(c *Column) string {
	var parts []string
	if c.Kind != "" {
		parts = append(parts, "phi: "+key(string(c.Kind)))
	} else {
		parts = append(parts, "keep: "+quote(c.Keep))
	}
	if c.Action != "" {
		parts = append(parts, "action: "+key(string(c.Action))) // null is a YAML word
	}
	if c.Token != "" {
		parts = append(parts, "token: "+key(c.Token))
	}
	if c.Fake != "" {
		parts = append(parts, "fake: "+c.Fake)
	}
	if c.Type != "" {
		parts = append(parts, "type: "+c.Type)
	}
	if len(c.Reference) > 0 {
		refs := make([]string, len(c.Reference))
		for i, r := range c.Reference {
			refs[i] = key(r)
		}
		parts = append(parts, "reference: ["+strings.Join(refs, ", ")+"]")
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// yamlWords are plain scalars YAML would read as something else.
var yamlWords = map[string]bool{
	"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true, "true": true,
	"false": true, "null": true,
}

// key writes a table or column name as a YAML key, quoted unless it is a
// plain identifier YAML reads as a string.
func key(s string) string {
	if plainKey.MatchString(s) && !yamlWords[strings.ToLower(s)] {
		return s
	}
	return quote(s)
}

// entry is one line of a mapping, "k: v", or "k:" when v is empty. A key
// longer than YAML allows a plain one (1024 characters) is written in the
// explicit form, "? k" then ": v".
func entry(indent, k, v string) string {
	sep := ": "
	if v == "" {
		sep = ":"
	}
	if len(k) > 1000 {
		return indent + "? " + k + "\n" + indent + sep + v + "\n"
	}
	return indent + k + sep + v + "\n"
}

// quote writes s as a double-quoted YAML scalar; JSON's escapes are YAML's.
// JSON leaves DEL, the C1 controls and U+2028, U+2029 as they are (unless
// it escapes HTML), which YAML refuses or reads as line breaks, so they are
// escaped too.
func quote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	q := strings.TrimSuffix(b.String(), "\n")
	if !strings.ContainsFunc(q, yamlUnprintable) {
		return q
	}
	var out strings.Builder
	for _, r := range q {
		if yamlUnprintable(r) {
			fmt.Fprintf(&out, "\\u%04x", r)
			continue
		}
		out.WriteRune(r)
	}
	return out.String()
}

// yamlUnprintable reports whether r may not appear as it is in a quoted
// YAML scalar: YAML's printable set excludes DEL, the C1 controls, the
// surrogates and U+FFFE, U+FFFF, and YAML reads NEL, U+2028 and U+2029 as
// line breaks.
func yamlUnprintable(r rune) bool {
	return r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 ||
		(r >= 0xd800 && r <= 0xdfff) || r == 0xfffe || r == 0xffff
}

// comment makes text safe inside a YAML comment: one line, printable.
func comment(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
}

package schemas

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/deid/deid/safeharbor"
	"gopkg.in/yaml.v3"
)

// The keys a policy may hold at each level. They must equal the yaml tags of
// Policy, TablePolicy and ColumnPolicy; a test checks this.
var (
	policyKeys = []string{"version", "profile", "data_use_agreement", "as_of", "zip3", "tables"}
	tableKeys  = []string{"columns", "subject", "link"}
	linkKeys   = []string{"column", "to"}
	columnKeys = []string{"phi", "keep", "action", "token", "fake", "type", "reference"}
)

// Decode reads a policy from YAML. It is strict: an unknown key at any
// level, a value of the wrong type, a duplicate key, an alias, a second YAML
// document and an empty file are all errors. Every problem is reported, not
// only the first, as a *Problems whose lines read
// `policy.yaml:12: table "patients" column "mrn": unknown key "tokn"`, where
// name (usually the file's path) prefixes each line.
//
// Decode sets TablePolicy.Line and ColumnPolicy.Line, and fills defaults:
// version 1, profile safe-harbor, zip3 union. It does not validate the
// policy's meaning; Validate and Check do.
func Decode(data []byte, name string) (*Policy, error) {
	p, _, err := decode(data, name)
	return p, err
}

// Check decodes a policy like Decode and validates it like Validate. Unlike
// Validate on a decoded policy, it also knows the lines of the top-level keys
// (profile, as_of, ...), so every problem it reports has a line.
func Check(data []byte, name string) (*Policy, error) {
	p, top, err := decode(data, name)
	if err != nil {
		return nil, err
	}
	ps := &Problems{File: name}
	validate(p, top, ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// Load reads the policy file at path, decodes and validates it with Check,
// and returns it with the file's bytes, from which Hash computes the policy
// hash recorded in the manifest.
func Load(path string) (*Policy, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading policy: %w", err)
	}
	p, err := Check(data, path)
	if err != nil {
		return nil, nil, err
	}
	return p, data, nil
}

// Hash returns the SHA-256 of a policy file's bytes as "sha256:" and 64 hex
// digits, so a manifest names exactly the policy a run followed.
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// decoder collects the problems of one Decode and the lines of the
// top-level keys, which the Policy struct has no place for.
type decoder struct {
	ps  *Problems
	top map[string]int
}

// entry is one key of a mapping with its value.
type entry struct {
	key  string
	line int
	val  *yaml.Node
}

func decode(data []byte, name string) (*Policy, map[string]int, error) {
	d := &decoder{ps: &Problems{File: name}, top: map[string]int{}}
	root := d.parse(data)
	if root == nil {
		return nil, nil, d.ps.err()
	}

	p := &Policy{}
	for _, e := range d.entries(root, "", "") {
		d.top[e.key] = e.line
		switch e.key {
		case "version":
			p.Version = d.version(e)
		case "profile":
			p.Profile = safeharbor.Profile(d.str(e, "", ""))
		case "data_use_agreement":
			p.DataUseAgreement = d.str(e, "", "")
		case "as_of":
			p.AsOf = d.str(e, "", "")
		case "zip3":
			p.Zip3 = d.str(e, "", "")
		case "tables":
			p.Tables = d.tables(e)
		default:
			d.unknown(e, "", "", policyKeys)
		}
	}
	if err := d.ps.err(); err != nil {
		return nil, nil, err
	}

	if p.Version == 0 {
		p.Version = 1
	}
	if p.Profile == "" {
		p.Profile = safeharbor.SafeHarborProfile
	}
	if p.Zip3 == "" {
		p.Zip3 = Zip3Union
	}
	return p, d.top, nil
}

// parse returns the root mapping of the single YAML document in data, or nil
// after recording why there is none.
func (d *decoder) parse(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.ps.add(0, "", "", "policy is empty")
		} else {
			d.syntax(err, data)
		}
		return nil
	}

	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntax(err, data)
		return nil
	default:
		d.ps.add(extra.Line, "", "", "a policy is one YAML document; remove the second")
		return nil
	}

	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		d.ps.add(0, "", "", "policy is empty")
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		d.ps.add(root.Line, "", "", "a policy is a mapping with the keys %s; found %s",
			plainList(policyKeys), describe(root))
		return nil
	}
	return root
}

// entries returns the keys of mapping n in order. It records non-string keys,
// duplicate keys and aliases, and leaves them out.
func (d *decoder) entries(n *yaml.Node, table, column string) []entry {
	var out []entry
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.ps.add(k.Line, table, column, "a key must be a name; found %s", describe(k))
			continue
		}
		if first, ok := seen[k.Value]; ok {
			d.ps.add(k.Line, table, column, "duplicate key %q (first at line %d)", k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		if v.Kind == yaml.AliasNode {
			d.ps.add(v.Line, table, column,
				"%s: aliases (*%s) are not supported; write the value out", k.Value, v.Value)
			continue
		}
		out = append(out, entry{key: k.Value, line: k.Line, val: v})
	}
	return out
}

// unknown records an unknown key, suggesting the known key it is a typo of.
func (d *decoder) unknown(e entry, table, column string, known []string) {
	d.ps.add(e.line, table, column, "unknown key %q%s; known keys: %s",
		e.key, didYouMean(e.key, known), plainList(known))
}

// str returns the text of a scalar value; any non-null scalar is accepted, so
// that `as_of: 2024-06-30` (a YAML timestamp) reads as a string.
func (d *decoder) str(e entry, table, column string) string {
	if e.val.Kind != yaml.ScalarNode || isNull(e.val) {
		d.ps.add(e.line, table, column, "%s: expected a string; found %s", e.key, describe(e.val))
		return ""
	}
	return e.val.Value
}

func (d *decoder) version(e entry) int {
	var v int
	if e.val.Kind != yaml.ScalarNode || e.val.Tag != "!!int" || e.val.Decode(&v) != nil {
		d.ps.add(e.line, "", "", "version: expected an integer; found %s", describe(e.val))
		return 0
	}
	if v != 1 {
		d.ps.add(e.line, "", "", "version %d is not supported; the only version is 1", v)
		return 0
	}
	return v
}

func (d *decoder) tables(e entry) map[string]*TablePolicy {
	if isNull(e.val) {
		return nil
	}
	if e.val.Kind != yaml.MappingNode {
		d.ps.add(e.line, "", "", "tables: expected a mapping of table names to tables; found %s",
			describe(e.val))
		return nil
	}

	tables := map[string]*TablePolicy{}
	for _, te := range d.entries(e.val, "", "") {
		t := &TablePolicy{Line: te.line}
		tables[te.key] = t
		if isNull(te.val) {
			continue
		}
		if te.val.Kind != yaml.MappingNode {
			d.ps.add(te.line, te.key, "", "expected a mapping with the key columns; found %s",
				describe(te.val))
			continue
		}
		for _, ce := range d.entries(te.val, te.key, "") {
			switch ce.key {
			case "columns":
				t.Columns = d.columns(ce, te.key)
			case "subject":
				t.Subject = d.str(ce, te.key, "")
			case "link":
				t.Link = d.link(ce, te.key)
			default:
				d.unknown(ce, te.key, "", tableKeys)
			}
		}
	}
	return tables
}

// link decodes a table's link, a mapping such as
// {column: encounter_id, to: encounters.encounter_id}.
func (d *decoder) link(e entry, table string) *Link {
	if e.val.Kind != yaml.MappingNode {
		d.ps.add(e.line, table, "", "link: expected a mapping such as "+
			"{column: encounter_id, to: encounters.encounter_id}; found %s", describe(e.val))
		return nil
	}
	l := &Link{Line: e.line}
	for _, f := range d.entries(e.val, table, "") {
		switch f.key {
		case "column":
			l.Column = d.str(f, table, "")
		case "to":
			l.To = d.str(f, table, "")
		default:
			d.ps.add(f.line, table, "", "link: unknown key %q%s; known keys: %s",
				f.key, didYouMean(f.key, linkKeys), plainList(linkKeys))
		}
	}
	return l
}

func (d *decoder) columns(e entry, table string) map[string]*ColumnPolicy {
	if isNull(e.val) {
		return nil
	}
	if e.val.Kind != yaml.MappingNode {
		d.ps.add(e.line, table, "", "columns: expected a mapping of column names to rules; found %s",
			describe(e.val))
		return nil
	}

	cols := map[string]*ColumnPolicy{}
	for _, ce := range d.entries(e.val, table, "") {
		cols[ce.key] = d.column(ce, table)
	}
	return cols
}

func (d *decoder) column(e entry, table string) *ColumnPolicy {
	c := &ColumnPolicy{Line: e.line}
	name := e.key
	if isNull(e.val) {
		return c
	}
	if e.val.Kind != yaml.MappingNode {
		d.ps.add(e.line, table, name,
			`expected a rule such as {phi: mrn} or {keep: "reason"}; found %s`, describe(e.val))
		return c
	}

	for _, f := range d.entries(e.val, table, name) {
		switch f.key {
		case "phi":
			c.PHI = safeharbor.Kind(d.str(f, table, name))
		case "keep":
			c.Keep = d.str(f, table, name)
		case "action":
			c.Action = safeharbor.Action(d.str(f, table, name))
		case "token":
			c.Token = d.str(f, table, name)
		case "fake":
			c.Fake = d.str(f, table, name)
		case "type":
			c.Type = d.str(f, table, name)
		case "reference":
			c.Reference = d.names(f, table, name)
		default:
			d.unknown(f, table, name, columnKeys)
		}
	}
	return c
}

// names decodes a sequence of column names.
func (d *decoder) names(e entry, table, column string) []string {
	if e.val.Kind != yaml.SequenceNode {
		d.ps.add(e.line, table, column,
			"%s: expected a list of column names such as [last_visit]; found %s",
			e.key, describe(e.val))
		return nil
	}
	out := make([]string, 0, len(e.val.Content))
	for _, n := range e.val.Content {
		if n.Kind != yaml.ScalarNode || isNull(n) {
			d.ps.add(n.Line, table, column, "%s: expected a column name; found %s",
				e.key, describe(n))
			continue
		}
		out = append(out, n.Value)
	}
	return out
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names the YAML type of n for messages, without its value.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.Tag {
	case "!!null":
		return "null"
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!timestamp":
		return "a date"
	}
	return "a string"
}

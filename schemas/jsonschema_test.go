package schemas

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/deid/deid/safeharbor"
)

var update = flag.Bool("update", false, "rewrite generated files (policy.schema.json, README.md)")

// buildJSONSchema generates policy.schema.json from the safeharbor tables
// and this package's lists, so the enums cannot drift from the code.
func buildJSONSchema() []byte {
	kinds := safeharbor.KindNames()
	var kindHelp []string
	for _, k := range safeharbor.Kinds() {
		kindHelp = append(kindHelp, string(k.Kind)+": "+k.Summary)
	}

	str := func(desc string) map[string]any {
		return map[string]any{"type": "string", "minLength": 1, "description": desc}
	}
	enum := func(desc string, values any) map[string]any {
		return map[string]any{"enum": values, "description": desc}
	}

	column := map[string]any{
		"type":                 "object",
		"additionalProperties": false,
		"description": "The rule for one column: exactly one of phi (an identifier kind) " +
			"and keep (a reason to pass the column through).",
		"properties": map[string]any{
			"phi": map[string]any{"$ref": "#/$defs/kind"},
			"keep": str("Pass the column through unchanged; the reason is recorded in " +
				"the manifest."),
			"action": map[string]any{"$ref": "#/$defs/action"},
			"token": map[string]any{
				"type":    "string",
				"pattern": "^[a-z0-9][a-z0-9_-]*$",
				"description": "Token domain: equal values in one domain get equal tokens " +
					"in every table. Default: the kind's name.",
			},
			"fake": enum("Surrogate format, for the action surrogate.", FakeFormats),
			"type": enum("Column type for untyped sources such as CSV.", ColumnTypes),
			"reference": map[string]any{
				"type":        "array",
				"minItems":    1,
				"uniqueItems": true,
				"items":       map[string]any{"type": "string", "minLength": 1},
				"description": "Date columns of the same table that hold the person's " +
					"latest date; where none has a date, a birth date is also judged at " +
					"the as-of date by the 90-or-older rule.",
			},
		},
		"oneOf": []any{
			map[string]any{"required": []string{"phi"}},
			map[string]any{"required": []string{"keep"}},
		},
	}
	table := map[string]any{
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"columns"},
		"properties": map[string]any{
			"columns": map[string]any{
				"type":                 "object",
				"minProperties":        1,
				"additionalProperties": map[string]any{"$ref": "#/$defs/column"},
				"description":          "Every column of the table, by name, with its rule.",
			},
			"subject": str("A tokenised column whose values are the table's rows: the " +
				"table lists the subjects of that column's token domain, and --limit " +
				"counts subjects here."),
			"link": map[string]any{"$ref": "#/$defs/link"},
		},
	}
	link := map[string]any{
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"column", "to"},
		"description": "How a subset reaches the table through another one: a row is " +
			"kept when its column's value is among the values of to in the kept rows " +
			"of that table.",
		"properties": map[string]any{
			"column": str("The column of this table."),
			"to": map[string]any{
				"type":        "string",
				"pattern":     "^.+\\.[^.]+$",
				"description": "The other side, as table.column.",
			},
		},
	}

	schema := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  "https://github.com/deid/deid/schemas/policy.schema.json",
		"title":                "deid policy",
		"description":          "A deid policy: a profile and a rule for every column of every table.",
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"tables"},
		"properties": map[string]any{
			"version": map[string]any{"type": "integer", "enum": []int{1},
				"description": "Version of the policy format; 1, the default."},
			"profile": enum("De-identification standard; safe-harbor by default.", Profiles),
			"data_use_agreement": str("Reference of the data use agreement a limited data " +
				"set is released under; required for limited-data-set."),
			"as_of": map[string]any{
				"type":    "string",
				"pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
				"description": "Reference date (YYYY-MM-DD) for the 90-or-older rule when " +
					"a row names no later date; default the run date.",
			},
			"zip3": enum("Restricted ZIP3 list; union by default.", Zip3Lists),
			"tables": map[string]any{
				"type":                 "object",
				"minProperties":        1,
				"additionalProperties": map[string]any{"$ref": "#/$defs/table"},
				"description":          "Every table of the source, by name.",
			},
		},
		"if": map[string]any{
			"required":   []string{"profile"},
			"properties": map[string]any{"profile": map[string]any{"const": "limited-data-set"}},
		},
		"then": map[string]any{"required": []string{"data_use_agreement"}},
		"$defs": map[string]any{
			"table":  table,
			"column": column,
			"link":   link,
			"kind": enum("Identifier kind of 45 CFR 164.514(b)(2)(i). "+
				strings.Join(kindHelp, "; ")+".", kinds),
			"action": enum("Action overriding the profile's default for the kind; each "+
				"kind allows only some (see schemas/README.md).", Actions()),
		},
	}

	data, err := json.MarshalIndent(schema, "", "  ")
	if err != nil {
		panic(err) // maps of strings and slices always marshal
	}
	return append(data, '\n')
}

func TestGeneratedJSONSchema(t *testing.T) {
	want := buildJSONSchema()
	if *update {
		if err := os.WriteFile("policy.schema.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(JSONSchema, want) {
		t.Errorf("policy.schema.json is stale; run go generate ./schemas/")
	}
}

// schemaDoc is the part of the JSON Schema the tests inspect.
type schemaDoc struct {
	Schema     string                     `json:"$schema"`
	Properties map[string]json.RawMessage `json:"properties"`
	Defs       map[string]struct {
		Enum       []string                   `json:"enum"`
		Properties map[string]json.RawMessage `json:"properties"`
	} `json:"$defs"`
}

func TestJSONSchemaEnums(t *testing.T) {
	var doc schemaDoc
	if err := json.Unmarshal(JSONSchema, &doc); err != nil {
		t.Fatalf("policy.schema.json is not valid JSON: %v", err)
	}
	if got, want := doc.Schema, "https://json-schema.org/draft/2020-12/schema"; got != want {
		t.Errorf("$schema = %q, want %q", got, want)
	}

	var wantActions []string
	for _, a := range []safeharbor.Action{safeharbor.Drop, safeharbor.Null, safeharbor.Token,
		safeharbor.Surrogate, safeharbor.Year, safeharbor.Zip3, safeharbor.TopCode,
		safeharbor.Keep} {
		wantActions = append(wantActions, string(a))
	}
	sort.Strings(wantActions)

	tests := []struct {
		def  string
		want []string
	}{
		{"kind", safeharbor.KindNames()},
		{"action", wantActions},
	}
	for _, tt := range tests {
		got := doc.Defs[tt.def].Enum
		if !slices.Equal(got, tt.want) {
			t.Errorf("$defs.%s.enum = %v, want %v", tt.def, got, tt.want)
		}
	}
}

// TestJSONSchemaKeys checks that the schema, the decoder and the yaml tags of
// the policy structs name the same keys.
func TestJSONSchemaKeys(t *testing.T) {
	var doc schemaDoc
	if err := json.Unmarshal(JSONSchema, &doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		typ    any
		schema map[string]json.RawMessage
		known  []string
	}{
		{"policy", Policy{}, doc.Properties, policyKeys},
		{"table", TablePolicy{}, doc.Defs["table"].Properties, tableKeys},
		{"column", ColumnPolicy{}, doc.Defs["column"].Properties, columnKeys},
		{"link", Link{}, doc.Defs["link"].Properties, linkKeys},
	}
	for _, tt := range tests {
		tags := yamlTags(t, tt.typ)
		var inSchema []string
		for k := range tt.schema {
			inSchema = append(inSchema, k)
		}
		sort.Strings(inSchema)
		known := slices.Sorted(slices.Values(tt.known))
		if !slices.Equal(inSchema, tags) {
			t.Errorf("%s: schema keys %v, struct tags %v", tt.name, inSchema, tags)
		}
		if !slices.Equal(known, tags) {
			t.Errorf("%s: decoder keys %v, struct tags %v", tt.name, known, tags)
		}
	}
}

func yamlTags(t *testing.T, v any) []string {
	t.Helper()
	var tags []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" {
			tags = append(tags, tag)
		}
	}
	sort.Strings(tags)
	return tags
}

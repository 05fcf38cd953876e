package deid

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/deid/deid/safeharbor"
	"github.com/deid/deid/schemas"
	"github.com/deid/deid/sources"
	"github.com/deid/deid/tokenize"
)

// fuzzPolicy gives every rule that takes text a column of its own.
const fuzzPolicy = `
as_of: 2026-01-01
tables:
  t:
    columns:
      dob:    {phi: birth-date, reference: [visit]}
      visit:  {phi: service-date}
      zip:    {phi: zip}
      age:    {phi: age}
      mrn:    {phi: mrn}
      name:   {phi: name}
      first:  {phi: name, fake: first-name}
      email:  {phi: email}
      phone:  {phi: phone}
      street: {phi: address}
`

var (
	yearText = regexp.MustCompile(`^(<=)?[0-9]{1,4}$`)
	zipText  = regexp.MustCompile(`^[0-9]{3}$`)
)

// FuzzTextTransforms runs each of the engine's transforms of text columns
// (year and the 90-or-older bucket, ZIP3, top-coded age, keyed token,
// surrogates) on a batch of three rows: the fuzzed values twice, then
// nulls. A transform must not panic; it succeeds exactly when its rule
// accepts the value, with output of the rule's form, the same for both
// rows, never the input itself, and null for null; and it fails with the
// rule's fixed message for the first row, which quotes nothing.
func FuzzTextTransforms(f *testing.F) {
	for _, s := range [][5]string{
		{"1931-07-04", "2020-01-01", "82190", "95", "CANARY-MRN-7731"},
		{"0000-00-00", "2023-02-30", "1", "9.5e1", ""},
		{"99999-01-01", "2999-12-31", "ABCDE", "-3", "Zyxwquux"},
		{"07/04/1931", "20200101T", "12345-", "89.9", "\x00\xff"},
		{" 1936-01-01 ", "2026-01-01T10:00:00+05:30", "02134-1234", "90+", "a@b.invalid"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	p, err := schemas.Check([]byte(fuzzPolicy), "fuzz.yaml")
	if err != nil {
		f.Fatal(err)
	}
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i)
	}
	key, err := tokenize.ParseKey(raw)
	if err != nil {
		f.Fatal(err)
	}
	env, err := newEnv(Options{Policy: p, Tokenizer: tokenize.New(key)})
	if err != nil {
		f.Fatal(err)
	}
	src := &memSource{tables: map[string][][]string{"t": {{"dob", "visit", "zip", "age", "mrn",
		"name", "first", "email", "phone", "street"}}}}
	tables, _ := src.Tables(context.Background())
	plan, err := NewPlan(p, tables, env)
	if err != nil {
		f.Fatal(err)
	}
	tp := plan.Tables[0]

	f.Fuzz(func(t *testing.T, dob, visit, zip, age, text string) {
		values := []string{dob, visit, zip, age, text, text, text, text, text, text}
		rec := textBatch(tp.In, values)
		defer rec.Release()
		b := &batchCtx{mem: memory.DefaultAllocator, rec: rec}

		for _, c := range tp.Columns {
			in := values[c.Index]
			out, err := c.apply(b, rec.Column(c.Index))
			if err != nil {
				checkTransformError(t, c, in, err)
				continue
			}
			checkTransformOutput(t, c, in, out.(*array.String))
			out.Release()
		}
	})
}

// checkTransformError checks that only a rule that refuses the value
// failed, with exactly its fixed message.
func checkTransformError(t *testing.T, c *ColumnPlan, in string, err error) {
	t.Helper()
	want := map[string]string{
		"dob":   "row 1 (rule birth-date): value is not a valid date",
		"visit": "row 1 (rule service-date): value is not a valid date",
		"age":   "row 1 (rule age): value is not an age in years",
	}[c.Name]
	if want == "" || err.Error() != want {
		t.Fatalf("column %s, input %q: error %q, want %q", c.Name, in, err, want)
	}
	var ok bool
	switch c.Name {
	case "dob", "visit":
		_, ok = safeharbor.ParseDate(in)
	case "age":
		_, ok = safeharbor.TopCodeAgeText(in)
	}
	if ok {
		t.Fatalf("column %s refused %q, which its rule accepts", c.Name, in)
	}
}

// checkTransformOutput checks the form of a transform's output.
func checkTransformOutput(t *testing.T, c *ColumnPlan, in string, out *array.String) {
	t.Helper()
	if out.Len() != 3 || out.IsNull(0) || out.IsNull(1) || !out.IsNull(2) {
		t.Fatalf("column %s: %d rows, nulls %v %v %v, want 3 rows and a null last", c.Name,
			out.Len(), out.IsNull(0), out.IsNull(1), out.IsNull(2))
	}
	got := out.Value(0)
	if got != out.Value(1) {
		t.Fatalf("column %s: %q gave %q then %q", c.Name, in, got, out.Value(1))
	}
	if !utf8.ValidString(got) {
		t.Fatalf("column %s: %q gave invalid UTF-8 %q", c.Name, in, got)
	}

	switch c.Name {
	case "dob", "visit":
		if !yearText.MatchString(got) {
			t.Fatalf("column %s: %q gave %q, want a year", c.Name, in, got)
		}
		if _, ok := safeharbor.ParseDate(in); !ok {
			t.Fatalf("column %s accepted %q, which ParseDate refuses", c.Name, in)
		}
	case "zip":
		if !zipText.MatchString(got) {
			t.Fatalf("zip: %q gave %q, want three digits", in, got)
		}
	case "age":
		want, ok := safeharbor.TopCodeAgeText(in)
		if !ok || got != want {
			t.Fatalf("age: %q gave %q, want %q (%v)", in, got, want, ok)
		}
	case "mrn":
		if len(got) < 22 || got == in {
			t.Fatalf("mrn: %q gave %q, want a token of 128 bits or more", in, got)
		}
	default: // surrogates
		if got == "" || (got == in && in != "") {
			t.Fatalf("%s: %q gave the surrogate %q", c.Name, in, got)
		}
	}
}

// textBatch is a batch of text columns holding values twice, then nulls.
func textBatch(schema *arrow.Schema, values []string) arrow.RecordBatch {
	bld := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer bld.Release()
	for i, v := range values {
		sb := bld.Field(i).(*array.StringBuilder)
		sb.Append(v)
		sb.Append(v)
		sb.AppendNull()
	}
	return bld.NewRecordBatch()
}

// TestTextTransformsOnEmptyStrings runs the fuzz checks on empty values,
// which a CSV source never produces (it reads them as nulls) but Parquet
// and PostgreSQL sources do.
func TestTextTransformsOnEmptyStrings(t *testing.T) {
	p := testPolicy(t, fuzzPolicy)
	env, err := newEnv(Options{Policy: p, Tokenizer: testTokenizer(t)})
	if err != nil {
		t.Fatal(err)
	}
	src := &memSource{tables: map[string][][]string{"t": {{"dob", "visit", "zip", "age", "mrn",
		"name", "first", "email", "phone", "street"}}}}
	tables, _ := src.Tables(context.Background())
	plan, err := NewPlan(p, tables, env)
	if err != nil {
		t.Fatal(err)
	}
	tp := plan.Tables[0]
	values := make([]string, 10)
	rec := textBatch(tp.In, values)
	defer rec.Release()
	b := &batchCtx{mem: memory.DefaultAllocator, rec: rec}
	var failed []string
	for _, c := range tp.Columns {
		out, err := c.apply(b, rec.Column(c.Index))
		if err != nil {
			checkTransformError(t, c, "", err)
			failed = append(failed, c.Name)
			continue
		}
		checkTransformOutput(t, c, "", out.(*array.String))
		out.Release()
	}
	if got := strings.Join(failed, ","); got != "dob,visit,age" {
		t.Errorf("rules that refused an empty string: %s, want dob,visit,age", got)
	}
}

var _ sources.Source = (*memSource)(nil)

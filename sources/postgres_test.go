package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/internal/pgtest"
)

// pgOpenSource opens a source on url and closes it when the test ends.
func pgOpenSource(t *testing.T, url string, o PostgresOptions) *Postgres {
	t.Helper()
	src, err := NewPostgres(context.Background(), url, o)
	if err != nil {
		t.Fatalf("NewPostgres: %v", err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// pgReadAll reads a table (or shard) and returns its rows as text, one
// "a|b|c" string per row, in the order the reader gave them.
func pgReadAll(t *testing.T, src Source, table string, opts ReadOptions) []string {
	t.Helper()
	ctx := context.Background()
	r, err := src.Open(ctx, table, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", table, err)
	}
	defer r.Close()
	var rows []string
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("Next(%s): %v", table, err)
		}
		if rec.NumRows() == 0 {
			t.Fatalf("Next(%s) returned an empty batch", table)
		}
		if !rec.Schema().Equal(r.Schema()) {
			t.Fatalf("batch schema %s differs from reader schema %s", rec.Schema(), r.Schema())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			vals := make([]string, rec.NumCols())
			for c := range vals {
				vals[c] = rec.Column(c).ValueStr(i)
			}
			rows = append(rows, strings.Join(vals, "|"))
		}
		rec.Release()
	}
}

func TestIntegrationPostgresTypes(t *testing.T) {
	url := pgtest.New(t)
	pgtest.Exec(t, url,
		`CREATE DOMAIN short_code AS varchar(8) NOT NULL`,
		`CREATE TABLE typed (
			id bigint PRIMARY KEY, i2 smallint, i4 integer NOT NULL, f4 real, f8 double precision,
			money numeric(10,2), big numeric(38,0), loose numeric, name text, code varchar(12),
			flag char(3), nm name, born date, seen timestamp(3), at timestamptz, ok boolean,
			uid uuid, raw bytea, doc json, docb jsonb, sc short_code)`,
		`INSERT INTO typed VALUES
			(1, -32768, 2147483647, 1.5, -2.25, -12345678.90, 99999999999999999999999999999999999999,
			 '123.4500', 'Testy McTest', 'FAKE-01', 'ab', 'nm1', '1999-12-31',
			 '2001-02-03 04:05:06.789', '2001-02-03 04:05:06.000007+02', true,
			 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\x00ff10', '{"a": 1}', '{"b": [1, 2]}', 'SC1'),
			(2, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'infinity', NULL,
			 '-infinity', NULL, NULL, NULL, NULL, NULL, 'SC2'),
			(3, 7, -1, 'NaN', 'Infinity', 0.05, -1, 'NaN', '', '', '', '', '1970-01-01',
			 '1970-01-01 00:00:00', '1970-01-01 00:00:00+00', false,
			 '00000000-0000-0000-0000-000000000000', '', 'null', 'null', 'SC3')`)
	src := pgOpenSource(t, url, PostgresOptions{Tables: []string{"typed"}})

	tables, err := src.Tables(context.Background())
	if err != nil {
		t.Fatalf("Tables: %v", err)
	}
	if len(tables) != 1 || tables[0].Name != "typed" {
		t.Fatalf("Tables = %v, want one table typed", tables)
	}
	wantFields := []struct{ name, arrow, sql string }{
		{"id", "int64", "bigint"}, {"i2", "int16", "smallint"}, {"i4", "int32", "integer"},
		{"f4", "float32", "real"}, {"f8", "float64", "double precision"},
		{"money", "decimal(10, 2)", "numeric(10,2)"}, {"big", "decimal(38, 0)", "numeric(38,0)"},
		{"loose", "utf8", "numeric"}, {"name", "utf8", "text"},
		{"code", "utf8", "character varying(12)"}, {"flag", "utf8", "character(3)"},
		{"nm", "utf8", "name"}, {"born", "date32", "date"},
		{"seen", "timestamp[us]", "timestamp(3) without time zone"},
		{"at", "timestamp[us, tz=UTC]", "timestamp with time zone"}, {"ok", "bool", "boolean"},
		{"uid", "utf8", "uuid"}, {"raw", "binary", "bytea"}, {"doc", "utf8", "json"},
		{"docb", "utf8", "jsonb"}, {"sc", "utf8", "character varying(8)"},
	}
	fields := tables[0].Schema.Fields()
	if len(fields) != len(wantFields) {
		t.Fatalf("got %d fields, want %d", len(fields), len(wantFields))
	}
	for i, w := range wantFields {
		f := fields[i]
		sql, _ := f.Metadata.GetValue(MetaSourceType)
		if f.Name != w.name || f.Type.String() != w.arrow || sql != w.sql {
			t.Errorf("field %d = %s %s (%s), want %s %s (%s)", i, f.Name, f.Type, sql,
				w.name, w.arrow, w.sql)
		}
	}
	for _, name := range []string{"id", "i4", "sc"} {
		if f, _ := tables[0].Schema.FieldsByName(name); f[0].Nullable {
			t.Errorf("field %s is nullable, want NOT NULL kept", name)
		}
	}

	got := pgReadAll(t, src, "typed", ReadOptions{})
	want := []string{
		"1|-32768|2147483647|1.5|-2.25|-12345678.9|99999999999999999999999999999999999999|" +
			"123.4500|Testy McTest|FAKE-01|ab |nm1|1999-12-31|2001-02-03T04:05:06.789|" +
			"2001-02-03T02:05:06.000007Z|true|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|AP8Q|" +
			`{"a": 1}|{"b": [1, 2]}|SC1`,
		"2|(null)|0|(null)|(null)|(null)|(null)|(null)|(null)|(null)|(null)|(null)|" +
			"infinity-date|(null)|-infinity-ts|(null)|(null)|(null)|(null)|(null)|SC2",
		"3|7|-1|NaN|+Inf|0.05|-1|NaN|||   ||1970-01-01|1970-01-01T00:00:00|" +
			"1970-01-01T00:00:00Z|false|00000000-0000-0000-0000-000000000000||null|null|SC3",
	}
	// Infinity has no text in Arrow; compare the sentinel columns apart.
	got[1] = pgReplaceField(got[1], 12, "infinity-date")
	got[1] = pgReplaceField(got[1], 14, "-infinity-ts")
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("row %d:\n got  %q\n want %q", i+1, pgAt(got, i), want[i])
		}
	}
}

func pgReplaceField(row string, i int, v string) string {
	f := strings.Split(row, "|")
	f[i] = v
	return strings.Join(f, "|")
}

func pgAt(rows []string, i int) string {
	if i < len(rows) {
		return rows[i]
	}
	return "<missing>"
}

func TestIntegrationPostgresInfinity(t *testing.T) {
	url := pgtest.New(t)
	pgtest.Exec(t, url, `CREATE TABLE inf (d date, ts timestamp)`,
		`INSERT INTO inf VALUES ('infinity', '-infinity')`)
	src := pgOpenSource(t, url, PostgresOptions{})
	r, err := src.Open(context.Background(), "inf", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, err := r.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	d := rec.Column(0).(interface{ Value(int) arrow.Date32 }).Value(0)
	ts := rec.Column(1).(interface{ Value(int) arrow.Timestamp }).Value(0)
	if d != arrow.Date32(1<<31-1) || ts != arrow.Timestamp(-1<<63) {
		t.Errorf("infinity read as %d and %d, want the largest date32 and the smallest timestamp", d, ts)
	}
}

func TestIntegrationPostgresRefusals(t *testing.T) {
	url := pgtest.New(t)
	pgtest.Exec(t, url,
		`CREATE TABLE odd (id int, span interval, tags text[])`,
		`CREATE TABLE fine (id int)`)

	src := pgOpenSource(t, url, PostgresOptions{Tables: []string{"odd", "fine"}})
	_, err := src.Tables(context.Background())
	if err == nil {
		t.Fatal("Tables accepted interval and array columns")
	}
	for _, want := range []string{`table "odd" column "span": type interval`,
		`table "odd" column "tags": type text[]`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	src = pgOpenSource(t, url, PostgresOptions{Tables: []string{"nope", "fine", "other.none"}})
	_, err = src.Tables(context.Background())
	if err == nil || !strings.Contains(err.Error(), `"nope", "other.none"`) {
		t.Errorf("Tables error = %v, want both missing tables listed", err)
	}
}

func TestIntegrationPostgresNames(t *testing.T) {
	url := pgtest.New(t)
	pgtest.Exec(t, url,
		`CREATE SCHEMA clinic`,
		`CREATE TABLE clinic.visits (id int)`,
		`CREATE TABLE "Mixed Case" (id int)`,
		`CREATE TABLE plain (id int)`)

	src := pgOpenSource(t, url, PostgresOptions{})
	tables, err := src.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range tables {
		names = append(names, tb.Name)
		if strings.Contains(tb.Location, "password") {
			t.Errorf("location %q", tb.Location)
		}
	}
	if want := []string{`"Mixed Case"`, "plain"}; !slices.Equal(names, want) {
		t.Errorf("search-path tables = %q, want %q", names, want)
	}

	src = pgOpenSource(t, url, PostgresOptions{Tables: []string{"clinic.visits", `"Mixed Case"`}})
	tables, err = src.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 2 || tables[0].Name != `"Mixed Case"` || tables[1].Name != "clinic.visits" {
		t.Errorf("named tables = %v", tables)
	}
}

func TestIntegrationPostgresSnapshot(t *testing.T) {
	url := pgtest.New(t)
	pgtest.Exec(t, url,
		`CREATE TABLE a (id int PRIMARY KEY)`, `CREATE TABLE b (id int PRIMARY KEY)`,
		`INSERT INTO a SELECT generate_series(1, 10)`, `INSERT INTO b SELECT generate_series(1, 10)`)
	src := pgOpenSource(t, url, PostgresOptions{Tables: []string{"a", "b"}})

	// A first table read, then changes, then the second table opened.
	if got := len(pgReadAll(t, src, "a", ReadOptions{})); got != 10 {
		t.Fatalf("a has %d rows, want 10", got)
	}
	pgtest.Exec(t, url, `INSERT INTO b SELECT generate_series(11, 20)`,
		`DELETE FROM a WHERE id <= 5`, `UPDATE b SET id = id + 100 WHERE id = 1`)
	if _, err := src.Tables(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := pgReadAll(t, src, "b", ReadOptions{})
	if len(b) != 10 || b[0] != "1" {
		t.Errorf("b read after the changes = %v, want the 10 rows of the snapshot", b)
	}
	if got := len(pgReadAll(t, src, "a", ReadOptions{})); got != 10 {
		t.Errorf("a read again has %d rows, want the 10 of the snapshot", got)
	}
}

func TestIntegrationPostgresConstraints(t *testing.T) {
	url := pgtest.New(t)
	pgtest.Exec(t, url,
		`CREATE TABLE patients (id int PRIMARY KEY, mrn text UNIQUE, last text, first text,
			UNIQUE (last, first))`,
		`CREATE TABLE encounters (id bigint PRIMARY KEY, patient_id int REFERENCES patients,
			ward text, note text)`,
		`CREATE INDEX enc_patient ON encounters (patient_id)`,
		`CREATE INDEX enc_ward_lower ON encounters (lower(ward)) WHERE note IS NOT NULL`)
	src := pgOpenSource(t, url, PostgresOptions{Tables: []string{"patients", "encounters"}})
	tables, err := src.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	enc, pat := tables[0].Constraints, tables[1].Constraints
	if !slices.Equal(pat.PrimaryKey, []string{"id"}) || len(pat.Unique) != 2 {
		t.Errorf("patients constraints = %+v", pat)
	}
	if got := fmt.Sprint(pat.Unique); got != "[[last first] [mrn]]" {
		t.Errorf("patients unique = %s, want [[last first] [mrn]]", got)
	}
	if len(enc.ForeignKeys) != 1 || enc.ForeignKeys[0].RefTable != "patients" ||
		!slices.Equal(enc.ForeignKeys[0].Columns, []string{"patient_id"}) ||
		!slices.Equal(enc.ForeignKeys[0].RefColumns, []string{"id"}) {
		t.Errorf("encounters foreign keys = %+v", enc.ForeignKeys)
	}
	if len(enc.Indexes) != 2 {
		t.Fatalf("encounters indexes = %+v, want 2", enc.Indexes)
	}
	if ix := enc.Indexes[0]; ix.Name != "enc_patient" ||
		!slices.Equal(ix.Columns, []string{"patient_id"}) ||
		ix.Definition != "CREATE INDEX enc_patient ON public.encounters USING btree (patient_id)" {
		t.Errorf("index 0 = %+v", ix)
	}
	if ix := enc.Indexes[1]; ix.Name != "enc_ward_lower" ||
		!slices.Equal(ix.Columns, []string{"ward", "note"}) {
		t.Errorf("index 1 = %+v, want columns ward and note", ix)
	}
}

// TestIntegrationPostgresPasswordHidden connects with a password in the URL
// (the test server trusts every connection): no location or error shows it.
func TestIntegrationPostgresPasswordHidden(t *testing.T) {
	const password = "Canary-Pw-9051"
	url := strings.Replace(pgtest.New(t), "://deid@", "://deid:"+password+"@", 1)
	if !strings.Contains(url, password) {
		t.Skip("the test server URL is not postgres://deid@...; no password to add")
	}
	pgtest.Exec(t, url, `CREATE TABLE t (id int)`)
	src := pgOpenSource(t, url, PostgresOptions{Tables: []string{"t"}})
	tables, err := src.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if loc := tables[0].Location; strings.Contains(loc, password) || !strings.Contains(loc, "xxxxx") {
		t.Errorf("Location = %q, want the URL with its password masked", loc)
	}
	_, err = NewPostgres(context.Background(), url+"&port=1", PostgresOptions{})
	if err == nil || strings.Contains(err.Error(), password) {
		t.Errorf("connection error = %v, want one without the password", err)
	}
}

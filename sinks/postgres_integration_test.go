package sinks

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5"

	"github.com/deid/deid/internal/pgconn"
	"github.com/deid/deid/internal/pgtest"
	"github.com/deid/deid/sources"
)

const pgCanary = "CANARY-000-00-0000"

// TestIntegrationPostgresRoundTrip moves a table with every supported type
// from a source database to a target one and compares types and values.
func TestIntegrationPostgresRoundTrip(t *testing.T) {
	from, to := pgtest.New(t), pgtest.New(t)
	pgtest.Exec(t, from,
		`CREATE TABLE typed (
			id bigint PRIMARY KEY, i2 smallint, i4 integer NOT NULL, f4 real, f8 double precision,
			money numeric(10,2), big numeric(38,0), loose numeric, name text, code varchar(12),
			flag char(3), nm name, born date, seen timestamp(3), at timestamptz, ok boolean,
			uid uuid, raw bytea, doc json, docb jsonb)`,
		`INSERT INTO typed VALUES
			(1, -32768, 2147483647, 1.5, -2.25, -12345678.90, 99999999999999999999999999999999999999,
			 '123.4500', 'Testy McTest', 'FAKE-01', 'ab', 'nm1', '1999-12-31',
			 '2001-02-03 04:05:06.789', '2001-02-03 04:05:06.000007+02', true,
			 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\x00ff10', '{"a": 1}', '{"b": [1, 2]}'),
			(2, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'infinity', NULL,
			 '-infinity', NULL, NULL, NULL, NULL, NULL),
			(3, 7, -1, 'NaN', 'Infinity', 0.05, -1, 'NaN', '', '', '', '', '0001-01-01 BC',
			 '1970-01-01 00:00:00', '200000-12-31 23:59:59.999999+00', false,
			 '00000000-0000-0000-0000-000000000000', '', 'null', 'null'),
			(4, 1, 2, -0.0, 1e300, -0.01, 0, '-1e-20', 'ünïcødé ✓', 'x', 'abc', 'n',
			 '2262-04-11', '1900-01-01 00:00:00.000001', '1969-12-31 23:59:59.999999+00', true,
			 'ffffffff-ffff-ffff-ffff-ffffffffffff', '\x00', '[]', '{}')`)
	pgCopy(t, from, to, []string{"typed"}, PostgresSinkOptions{})

	const types = `SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute
		WHERE attrelid = 'public.typed'::regclass AND attnum > 0 ORDER BY attnum`
	if got, want := pgQuery(t, to, types), pgQuery(t, from, types); !slices.Equal(got, want) {
		t.Errorf("target columns:\n got  %q\n want %q", got, want)
	}
	const rows = `SELECT * FROM typed ORDER BY id`
	if got, want := pgQuery(t, to, rows), pgQuery(t, from, rows); !slices.Equal(got, want) {
		t.Errorf("target rows:\n got  %q\n want %q", got, want)
	}
}

// pgBatch builds a one-table batch from columns.
func pgBatch(fields []arrow.Field, cols ...arrow.Array) arrow.RecordBatch {
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(cols[0].Len()))
}

// TestIntegrationPostgresFromArrow loads columns no source described,
// as a transform or a file source may produce them.
func TestIntegrationPostgresFromArrow(t *testing.T) {
	to := pgtest.New(t)
	mem := memory.DefaultAllocator
	i8 := array.NewInt8Builder(mem)
	i8.AppendValues([]int8{-128, 127}, nil)
	u64 := array.NewUint64Builder(mem)
	u64.AppendValues([]uint64{18446744073709551615, 0}, nil)
	dec := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 20, Scale: 4})
	dec.Append(decimal128.FromI64(-123456))
	dec.AppendNull()
	ls := array.NewLargeStringBuilder(mem)
	ls.AppendValues([]string{"token-1", ""}, nil)
	d64 := array.NewDate64Builder(mem)
	d64.AppendValues([]arrow.Date64{-86400000, 946684800000}, nil)
	tsType := &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "America/New_York"}
	ts := array.NewTimestampBuilder(mem, tsType)
	ts.AppendValues([]arrow.Timestamp{-1, 1_000_000_000_123_456_789}, nil)
	null := array.NewNull(2)

	fields := []arrow.Field{
		{Name: "i8", Type: arrow.PrimitiveTypes.Int8},
		{Name: "u64", Type: arrow.PrimitiveTypes.Uint64},
		{Name: "dec", Type: dec.Type(), Nullable: true},
		{Name: "ls", Type: arrow.BinaryTypes.LargeString},
		{Name: "d64", Type: arrow.FixedWidthTypes.Date64},
		{Name: "ts", Type: tsType},
		{Name: "nothing", Type: arrow.Null, Nullable: true},
	}
	rec := pgBatch(fields, i8.NewArray(), u64.NewArray(), dec.NewArray(), ls.NewArray(),
		d64.NewArray(), ts.NewArray(), null)
	defer rec.Release()

	ctx := context.Background()
	sink, err := NewPostgresSink(ctx, to, PostgresSinkOptions{TargetSchema: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	w, err := sink.Create(ctx, sources.Table{Name: "clinic.made", Schema: rec.Schema()})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sink.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	got := pgQuery(t, to, `SELECT string_agg(format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
		FROM pg_attribute WHERE attrelid = 'dev.made'::regclass AND attnum > 0`)
	want := `("smallint, numeric(20,0), numeric(20,4), text, date, timestamp with time zone, text")`
	if len(got) != 1 || got[0] != want {
		t.Errorf("column types = %q, want %q", got, want)
	}
	got = pgQuery(t, to, `SELECT i8, u64, dec, ls, d64, ts AT TIME ZONE 'UTC', nothing FROM dev.made`)
	want2 := []string{
		`(-128,18446744073709551615,-12.3456,token-1,1969-12-31,"1969-12-31 23:59:59.999999",)`,
		`(127,0,,"",2000-01-01,"2001-09-09 01:46:40.123456",)`,
	}
	if !slices.Equal(got, want2) {
		t.Errorf("rows:\n got  %q\n want %q", got, want2)
	}
}

// pgFixture makes a source with two related tables and a target that holds
// yesterday's copy of them.
func pgFixture(t *testing.T) (from, to string) {
	t.Helper()
	from, to = pgtest.New(t), pgtest.New(t)
	schema := []string{
		`CREATE TABLE patients (id int PRIMARY KEY, mrn text UNIQUE NOT NULL, last text,
			first text, UNIQUE (last, first))`,
		`CREATE TABLE encounters (id bigint PRIMARY KEY, patient_id int NOT NULL REFERENCES patients,
			ward varchar(20), note text)`,
		`CREATE INDEX enc_patient ON encounters (patient_id)`,
		`CREATE INDEX enc_note ON encounters (md5(note))`,
	}
	pgtest.Exec(t, from, schema...)
	pgtest.Exec(t, from,
		`INSERT INTO patients SELECT g, 'MRN-' || g, 'Last' || g, 'First' || g
			FROM generate_series(1, 500) g`,
		`INSERT INTO encounters SELECT g, 1 + g % 500, 'W' || g % 7, 'note ' || g
			FROM generate_series(1, 3000) g`)
	pgtest.Exec(t, to, schema...)
	pgtest.Exec(t, to, `INSERT INTO patients VALUES (1, 'OLD-1', 'Old', 'Row')`,
		`INSERT INTO encounters VALUES (1, 1, 'OLD', 'yesterday')`)
	return from, to
}

var pgFixtureTables = []string{"patients", "encounters"}

// pgState summarises the target: row counts, the patients' first MRN, and
// staging schemas left over.
func pgState(t *testing.T, url string) string {
	t.Helper()
	return strings.Join(pgQuery(t, url, `SELECT
		(SELECT count(*) FROM patients), (SELECT count(*) FROM encounters),
		(SELECT min(mrn) FROM patients),
		(SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'deid\_staging\_%')`), "")
}

const pgOldState = "(1,1,OLD-1,0)"

func TestIntegrationPostgresConstraints(t *testing.T) {
	from, to := pgFixture(t)
	sink := pgCopy(t, from, to, pgFixtureTables, PostgresSinkOptions{})
	if got, want := pgState(t, to), "(500,3000,MRN-1,0)"; got != want {
		t.Errorf("target state = %s, want %s", got, want)
	}
	if notes := sink.Notes(); len(notes) != 0 {
		t.Errorf("notes = %q, want none", notes)
	}

	got := pgQuery(t, to, `SELECT conrelid::regclass::text, contype, convalidated,
		pg_get_constraintdef(oid) FROM pg_constraint
		WHERE connamespace = 'public'::regnamespace AND contype IN ('p', 'u', 'f') ORDER BY 1, 2, 4`)
	want := []string{
		`(encounters,f,t,"FOREIGN KEY (patient_id) REFERENCES patients(id)")`,
		`(encounters,p,t,"PRIMARY KEY (id)")`,
		`(patients,p,t,"PRIMARY KEY (id)")`,
		`(patients,u,t,"UNIQUE (last, first)")`,
		`(patients,u,t,"UNIQUE (mrn)")`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("constraints:\n got  %q\n want %q", got, want)
	}
	got = pgQuery(t, to, `SELECT indexname, indexdef FROM pg_indexes
		WHERE tablename = 'encounters' AND indexname LIKE 'enc\_%' ORDER BY 1`)
	want = []string{
		`(enc_note,"CREATE INDEX enc_note ON public.encounters USING btree (md5(note))")`,
		`(enc_patient,"CREATE INDEX enc_patient ON public.encounters USING btree (patient_id)")`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("indexes:\n got  %q\n want %q", got, want)
	}

	// The foreign key is enforced in the target.
	conn := pgtest.Connect(t, to)
	_, err := conn.Exec(context.Background(), `INSERT INTO encounters VALUES (9999, 9999, 'x', 'y')`)
	if se := (*pgconn.ServerError)(nil); !errors.As(pgconn.Reduce(err), &se) || se.Code != "23503" {
		t.Errorf("inserting an orphan encounter: %v, want a foreign key violation", err)
	}
}

// TestIntegrationPostgresDroppedColumns drops columns that keys and indexes
// use: what cannot be recreated is noted by table and name.
func TestIntegrationPostgresDroppedColumns(t *testing.T) {
	from, to := pgFixture(t)
	sink, err := pgTryCopy(t, from, to, pgFixtureTables, PostgresSinkOptions{},
		pgDropColumn("note", "mrn"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`table "encounters": index "enc_note" not recreated: column "note" is not in the output`,
		`table "patients": unique constraint on (mrn) not recreated: column "mrn" is not in the output`,
	}
	if notes := sink.Notes(); !slices.Equal(notes, want) {
		t.Errorf("notes:\n got  %q\n want %q", notes, want)
	}
}

// pgDropColumn removes the named columns from the output, as a policy that
// drops them would.
func pgDropColumn(names ...string) func(*sources.Table, arrow.RecordBatch) arrow.RecordBatch {
	return func(tb *sources.Table, rec arrow.RecordBatch) arrow.RecordBatch {
		if rec == nil {
			var fields []arrow.Field
			for _, f := range tb.Schema.Fields() {
				if !slices.Contains(names, f.Name) {
					fields = append(fields, f)
				}
			}
			tb.Schema = arrow.NewSchema(fields, nil)
			return nil
		}
		var cols []arrow.Array
		for i, f := range rec.Schema().Fields() {
			if !slices.Contains(names, f.Name) {
				cols = append(cols, rec.Column(i))
			}
		}
		return array.NewRecordBatch(tb.Schema, cols, rec.NumRows())
	}
}

// pgSetColumn replaces every value of a text column with v, as a
// transform that maps many values to one would.
func pgSetColumn(name, v string) func(*sources.Table, arrow.RecordBatch) arrow.RecordBatch {
	return func(tb *sources.Table, rec arrow.RecordBatch) arrow.RecordBatch {
		if rec == nil {
			return nil
		}
		cols := slices.Clone(rec.Columns())
		for i, f := range rec.Schema().Fields() {
			if f.Name == name {
				b := array.NewStringBuilder(memory.DefaultAllocator)
				for range rec.NumRows() {
					b.Append(v)
				}
				cols[i] = b.NewArray()
			}
		}
		return array.NewRecordBatch(rec.Schema(), cols, rec.NumRows())
	}
}

// TestIntegrationPostgresUniqueViolation maps every MRN to one canary: the
// unique constraint fails in Commit, the error names the constraint and not
// the value, and the target keeps yesterday's data.
func TestIntegrationPostgresUniqueViolation(t *testing.T) {
	from, to := pgFixture(t)
	_, err := pgTryCopy(t, from, to, pgFixtureTables, PostgresSinkOptions{},
		pgSetColumn("mrn", pgCanary))
	if err == nil {
		t.Fatal("copy succeeded with duplicate keys")
	}
	if strings.Contains(err.Error(), pgCanary) {
		t.Errorf("error quotes the value: %v", err)
	}
	var se *pgconn.ServerError
	if !errors.As(err, &se) || se.Code != "23505" || se.Constraint != "patients_mrn_key" {
		t.Errorf("error = %v, want a unique violation of patients_mrn_key", err)
	}
	if got := pgState(t, to); got != pgOldState {
		t.Errorf("target state = %s, want yesterday's %s", got, pgOldState)
	}
}

// TestIntegrationPostgresCopyError loads a value too long for its column:
// the error gives row and column, not the value.
func TestIntegrationPostgresCopyError(t *testing.T) {
	from, to := pgFixture(t)
	_, err := pgTryCopy(t, from, to, pgFixtureTables, PostgresSinkOptions{},
		pgSetColumn("ward", pgCanary+" longer than twenty"))
	if err == nil {
		t.Fatal("copy succeeded with values too long")
	}
	if strings.Contains(err.Error(), pgCanary) {
		t.Errorf("error quotes the value: %v", err)
	}
	if !strings.Contains(err.Error(), `loading table "encounters" row 1 column "ward"`) ||
		!strings.Contains(err.Error(), "22001") {
		t.Errorf("error = %v, want row 1 column ward and SQLSTATE 22001", err)
	}
	if got := pgState(t, to); got != pgOldState {
		t.Errorf("target state = %s, want yesterday's %s", got, pgOldState)
	}
}

// TestIntegrationPostgresAtomicSwap fails a run in Write, then runs again.
func TestIntegrationPostgresAtomicSwap(t *testing.T) {
	from, to := pgFixture(t)
	pgtest.Exec(t, from, `ALTER TABLE patients ADD COLUMN ref uuid`)
	_, err := pgTryCopy(t, from, to, pgFixtureTables, PostgresSinkOptions{},
		pgSetColumn("ref", pgCanary))
	if err == nil || !strings.Contains(err.Error(), `table "patients" row 1 column "ref"`) {
		t.Fatalf("error = %v, want one locating row 1 column ref", err)
	}
	if strings.Contains(err.Error(), pgCanary) {
		t.Errorf("error quotes the value: %v", err)
	}
	if got := pgState(t, to); got != pgOldState {
		t.Errorf("after the failed run the target is %s, want yesterday's %s", got, pgOldState)
	}

	pgCopy(t, from, to, pgFixtureTables, PostgresSinkOptions{})
	if got, want := pgState(t, to), "(500,3000,MRN-1,0)"; got != want {
		t.Errorf("after the good run the target is %s, want %s", got, want)
	}
}

// TestIntegrationPostgresDependents refuses to drop a view that is not part
// of the run, and keeps the privileges granted on replaced tables.
func TestIntegrationPostgresDependents(t *testing.T) {
	from, to := pgFixture(t)
	pgtest.Exec(t, to, `CREATE VIEW recent AS SELECT id FROM encounters`)
	_, err := pgTryCopy(t, from, to, pgFixtureTables, PostgresSinkOptions{}, nil)
	if err == nil || !strings.Contains(err.Error(), "view recent") {
		t.Fatalf("error = %v, want one naming view recent", err)
	}
	if got := pgState(t, to); got != pgOldState {
		t.Errorf("target state = %s, want yesterday's %s", got, pgOldState)
	}

	pgtest.Exec(t, to, `DROP VIEW recent`, `DROP ROLE IF EXISTS deid_test_reader`,
		`CREATE ROLE deid_test_reader`, `GRANT SELECT, UPDATE ON patients TO deid_test_reader`)
	t.Cleanup(func() {
		ctx := context.Background()
		for _, step := range []struct{ url, sql string }{
			{to, "DROP OWNED BY deid_test_reader"},
			{pgtest.ServerURL(t), "DROP ROLE deid_test_reader"},
		} {
			conn, err := pgx.Connect(ctx, step.url)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, step.sql); err != nil {
				t.Error(err)
			}
			conn.Close(ctx)
		}
	})
	pgCopy(t, from, to, pgFixtureTables, PostgresSinkOptions{})
	got := pgQuery(t, to, `SELECT privilege_type FROM information_schema.role_table_grants
		WHERE grantee = 'deid_test_reader' AND table_name = 'patients' ORDER BY 1`)
	if !slices.Equal(got, []string{"(SELECT)", "(UPDATE)"}) {
		t.Errorf("grants after the swap = %q, want SELECT and UPDATE", got)
	}
}

// TestIntegrationPostgresStaleStaging drops the staging schema of a dead
// run and keeps that of a live one.
func TestIntegrationPostgresStaleStaging(t *testing.T) {
	to := pgtest.New(t)
	pgtest.Exec(t, to, `CREATE SCHEMA deid_staging_dead`, `CREATE TABLE deid_staging_dead.t (x int)`,
		`CREATE SCHEMA deid_staging_live`)
	live := pgtest.Connect(t, to)
	if _, err := live.Exec(context.Background(), "SELECT pg_advisory_lock($1, hashtext($2))",
		pgLockSpace, "deid_staging_live"); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	sink, err := NewPostgresSink(ctx, to, PostgresSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := pgQuery(t, to, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'deid\_staging\_%'
		ORDER BY nspname <> 'deid_staging_live', 1`)
	if want := []string{"(deid_staging_live)", "(" + sink.Staging() + ")"}; !slices.Equal(got, want) {
		t.Errorf("staging schemas = %q, want %q", got, want)
	}
	if err := sink.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := sink.Abort(); err != nil {
		t.Errorf("second Abort: %v", err)
	}
	got = pgQuery(t, to, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'deid\_staging\_%'`)
	if !slices.Equal(got, []string{"(deid_staging_live)"}) {
		t.Errorf("after Abort the staging schemas are %q, want only the live one", got)
	}
}

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deid/deid/internal/pgtest"
)

const pgPolicy = `
as_of: 2026-01-01
tables:
  patients:
    columns:
      id:         {phi: record-id, token: patient}
      mrn:        {phi: mrn}
      first_name: {phi: name, fake: first-name}
      dob:        {phi: birth-date}
      zip:        {phi: zip}
      ssn:        {phi: ssn}
      ext_ref:    {keep: "a random id the application assigns, not derived from the person"}
  encounters:
    columns:
      id:         {phi: record-id, token: encounter}
      patient_id: {phi: record-id, token: patient}
      admitted:   {phi: admission-date}
      note:       {phi: free-text}
`

// withPassword puts a password into a test URL; the test server trusts
// every local connection, so it is ignored there but must never be shown.
func withPassword(url, pw string) string {
	return strings.Replace(url, "postgres://deid@", "postgres://deid:"+pw+"@", 1)
}

func TestIntegrationRunPostgresToPostgres(t *testing.T) {
	const password = "PW-CANARY-5581"
	src, dst := pgtest.New(t), pgtest.New(t)
	pgtest.Exec(t, src,
		`CREATE TABLE patients (id bigint PRIMARY KEY, mrn varchar(20) UNIQUE NOT NULL,
			first_name text, dob date, zip varchar(10), ssn char(11), ext_ref uuid)`,
		`CREATE TABLE encounters (id bigint PRIMARY KEY,
			patient_id bigint NOT NULL REFERENCES patients(id),
			admitted timestamptz, note text)`,
		`CREATE INDEX encounters_patient ON encounters (patient_id)`,
		`INSERT INTO patients SELECT i, 'CANARY-MRN-' || i, 'Zyxwquux', DATE '1930-01-01' + i,
			lpad((i % 99999)::text, 5, '0'), '900-00-' || lpad(i::text, 4, '0'),
			md5(i::text)::uuid FROM generate_series(1, 3000) i`,
		`INSERT INTO encounters SELECT i, 1 + i % 3000, TIMESTAMPTZ '2020-01-01 10:00Z' + i * interval '1 hour',
			'CANARY-NOTE seen by Zyxwquux' FROM generate_series(1, 12000) i`,
	)
	// Yesterday's copy in the target, which a good run replaces.
	pgtest.Exec(t, dst, `CREATE TABLE patients (id bigint PRIMARY KEY, old text)`,
		`INSERT INTO patients VALUES (1, 'yesterday')`)

	dir := t.TempDir()
	policy := filepath.Join(dir, "refresh.yaml")
	os.WriteFile(policy, []byte(pgPolicy), 0o644)
	audit := filepath.Join(dir, "audit.jsonl")
	var b buffers
	err := runRun(context.Background(), runOptions{policy: policy,
		from: withPassword(src, password), to: withPassword(dst, password),
		keyFile: testKeyFile(t), delimiter: ",", audit: audit,
		manifest: filepath.Join(dir, "manifest.json")}, b.stdio())
	if err != nil {
		t.Fatalf("run: %v\n%s", err, b.err.String())
	}

	conn := pgtest.Connect(t, dst)
	ctx := context.Background()
	var n, orphans, constraints, indexes int
	q := func(sql string, dest *int) {
		t.Helper()
		if err := conn.QueryRow(ctx, sql).Scan(dest); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	q(`SELECT count(*) FROM patients`, &n)
	if n != 3000 {
		t.Errorf("patients rows = %d, want 3000", n)
	}
	q(`SELECT count(*) FROM encounters e LEFT JOIN patients p ON p.id = e.patient_id WHERE p.id IS NULL`, &orphans)
	if orphans != 0 {
		t.Errorf("%d encounters lost their patient", orphans)
	}
	q(`SELECT count(*) FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
		WHERE r.relname IN ('patients', 'encounters') AND c.contype IN ('p', 'u', 'f') AND c.convalidated`, &constraints)
	if constraints != 4 {
		t.Errorf("validated keys = %d, want 4 (two primary keys, the MRN unique key, the foreign key)", constraints)
	}
	q(`SELECT count(*) FROM pg_indexes WHERE indexname = 'encounters_patient'`, &indexes)
	if indexes != 1 {
		t.Errorf("index encounters_patient not recreated")
	}
	var staging int
	q(`SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'deid_staging_%'`, &staging)
	if staging != 0 {
		t.Errorf("%d staging schemas left behind", staging)
	}

	// No canary anywhere in the target, the streams or the files; no password.
	var dump string
	if err := conn.QueryRow(ctx, `SELECT (SELECT string_agg(p::text, '|') FROM patients p) ||
		coalesce((SELECT string_agg(e::text, '|') FROM encounters e), '')`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	auditData, _ := os.ReadFile(audit)
	manifestData, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	for where, text := range map[string]string{"target": dump, "stderr": b.err.String(),
		"stdout": b.out.String(), "audit": string(auditData), "manifest": string(manifestData)} {
		for _, c := range []string{"CANARY", "Zyxwquux", "900-00-", password} {
			if strings.Contains(text, c) {
				t.Errorf("%q found in %s", c, where)
			}
		}
	}
	if !strings.Contains(string(auditData), `"outcome":"ok"`) {
		t.Errorf("audit record: %s", auditData)
	}
}

func TestIntegrationFailedRefreshKeepsYesterday(t *testing.T) {
	src, dst := pgtest.New(t), pgtest.New(t)
	pgtest.Exec(t, src,
		`CREATE TABLE patients (id bigint PRIMARY KEY, mrn text, first_name text, dob text,
			zip text, ssn text, ext_ref text)`,
		`CREATE TABLE encounters (id bigint PRIMARY KEY, patient_id bigint, admitted text, note text)`,
		`INSERT INTO patients SELECT i, 'M' || i, 'A', '1950-01-01', '12345', NULL, NULL
			FROM generate_series(1, 500) i`,
		// Row 300 holds a date that is no date: the run must fail and change nothing.
		`INSERT INTO encounters SELECT i, i, CASE WHEN i = 300 THEN 'CANARY-2023-02-30' ELSE '2020-01-01' END, ''
			FROM generate_series(1, 500) i`,
	)
	pgtest.Exec(t, dst, `CREATE TABLE patients (id bigint PRIMARY KEY, old text)`,
		`INSERT INTO patients VALUES (1, 'yesterday')`)

	dir := t.TempDir()
	policy := filepath.Join(dir, "refresh.yaml")
	os.WriteFile(policy, []byte(pgPolicy), 0o644)
	var b buffers
	err := runRun(context.Background(), runOptions{policy: policy, from: src, to: dst,
		keyFile: testKeyFile(t), delimiter: ","}, b.stdio())
	var msg strings.Builder
	if code := exitCode(err, &msg); code != exitRuntime {
		t.Fatalf("exit code = %d, want %d: %s", code, exitRuntime, msg.String())
	}
	if strings.Contains(msg.String(), "CANARY") || !strings.Contains(msg.String(), "row 300") {
		t.Errorf("error should locate row 300 without quoting it: %s", msg.String())
	}

	conn := pgtest.Connect(t, dst)
	var old string
	if err := conn.QueryRow(context.Background(), `SELECT old FROM patients WHERE id = 1`).Scan(&old); err != nil || old != "yesterday" {
		t.Errorf("target changed: %q, %v", old, err)
	}
	var staging int
	conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'deid_staging_%'`).Scan(&staging)
	if staging != 0 {
		t.Errorf("%d staging schemas left behind", staging)
	}
}

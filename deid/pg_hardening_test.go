package deid

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/internal/pgtest"
	"github.com/deid/deid/sinks"
	"github.com/deid/deid/sources"
)

const pgCanary = "CANARY-PG-8086"

// constrainedSource is a memSource whose tables declare keys, as a
// PostgreSQL source's do.
type constrainedSource struct {
	*memSource
	constraints map[string]sources.Constraints
}

func (s *constrainedSource) Tables(ctx context.Context) ([]sources.Table, error) {
	tables, err := s.memSource.Tables(ctx)
	for i := range tables {
		tables[i].Constraints = s.constraints[tables[i].Name]
	}
	return tables, err
}

// pgQueryOne returns the one text value a query gives.
func pgQueryOne(t *testing.T, url, sql string) string {
	t.Helper()
	conn := pgtest.Connect(t, url)
	var s string
	if err := conn.QueryRow(context.Background(), sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// pgTargetState counts the tables in public and the staging schemas left.
const pgTargetState = `SELECT
	(SELECT count(*) FROM pg_tables WHERE schemaname = 'public') || ' tables, ' ||
	(SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'deid\_staging\_%') || ' staging'`

// TestIntegrationPostgresCanaries runs the engine into a PostgreSQL target
// on data that makes the server fail with a message or detail quoting a
// value: a duplicate in a unique kept column, a foreign key to a missing
// parent, a NUL byte that text cannot hold. The run fails, the target is
// left as it was with no staging schema, and no canary reaches the error
// or the log.
func TestIntegrationPostgresCanaries(t *testing.T) {
	const policy = `
tables:
  parents:
    columns:
      id:   {keep: "a test key"}
      mrn:  {keep: "a test value"}
  children:
    columns:
      id:        {keep: "a test key"}
      parent_id: {keep: "a test key"}
      note:      {keep: "a test value"}
`
	parents := [][]string{{"id", "mrn"}, {"p1", "M1"}, {"p2", "M2"}}
	children := [][]string{{"id", "parent_id", "note"}, {"c1", "p1", "fine"}, {"c2", "p2", "fine"}}
	keys := map[string]sources.Constraints{
		"parents": {PrimaryKey: []string{"id"}, Unique: [][]string{{"mrn"}}},
		"children": {PrimaryKey: []string{"id"}, ForeignKeys: []sources.ForeignKey{{
			Name: "children_parent_fk", Columns: []string{"parent_id"},
			RefTable: "parents", RefColumns: []string{"id"}}}},
	}
	clone := func(rows [][]string) [][]string {
		out := make([][]string, len(rows))
		for i := range rows {
			out[i] = append([]string(nil), rows[i]...)
		}
		return out
	}

	tests := []struct {
		name  string
		edit  func(p, c [][]string)
		state string // SQLSTATE expected in the error
	}{
		{"unique violation", func(p, c [][]string) { p[1][1], p[2][1] = pgCanary, pgCanary }, "23505"},
		{"foreign key violation", func(p, c [][]string) { c[2][1] = pgCanary }, "23503"},
		{"NUL byte in text", func(p, c [][]string) { c[1][2] = pgCanary + "\x00" + pgCanary }, "22021"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			to := pgtest.New(t)
			p, c := clone(parents), clone(children)
			tc.edit(p, c)
			src := &constrainedSource{memSource: &memSource{
				tables: map[string][][]string{"parents": p, "children": c}}, constraints: keys}

			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			ctx := context.Background()
			sink, err := sinks.NewPostgresSink(ctx, to, sinks.PostgresSinkOptions{Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			_, err = Run(ctx, src, sink, Options{Policy: testPolicy(t, policy),
				Tokenizer: testTokenizer(t), Log: log})
			if err == nil {
				t.Fatal("the run succeeded")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.state) {
				t.Errorf("error %v does not give SQLSTATE %s", err, tc.state)
			}
			if strings.Contains(err.Error()+logs.String(), pgCanary) {
				t.Errorf("a canary reached the error or the log:\n%v\n%s", err, logs.String())
			}
			if got := pgQueryOne(t, to, pgTargetState); got != "0 tables, 0 staging" {
				t.Errorf("target holds %s after a failed run", got)
			}
		})
	}
}

// stallingSource serves its first batch, then cancels the run and waits
// for the context to end, like a run interrupted mid-table.
type stallingSource struct {
	*memSource
	cancel context.CancelFunc
}

func (s *stallingSource) Open(ctx context.Context, table string, o sources.ReadOptions) (
	sources.Reader, error) {
	r, err := s.memSource.Open(ctx, table, o)
	return &stallingReader{Reader: r, cancel: s.cancel}, err
}

type stallingReader struct {
	sources.Reader
	cancel context.CancelFunc
	served bool
}

func (r *stallingReader) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !r.served {
		r.served = true
		return r.Reader.Next(ctx)
	}
	time.Sleep(100 * time.Millisecond) // let the first batch reach the database
	r.cancel()
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestIntegrationPostgresInterrupted cancels a run into PostgreSQL while a
// table loads: the staging schema is dropped and the target keeps its old
// table.
func TestIntegrationPostgresInterrupted(t *testing.T) {
	to := pgtest.New(t)
	pgtest.Exec(t, to, `CREATE TABLE patients (id text)`, `INSERT INTO patients VALUES ('old')`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &stallingSource{memSource: &memSource{
		tables: map[string][][]string{"patients": patientRows(500)}, batchRows: 100}, cancel: cancel}
	sink, err := sinks.NewPostgresSink(ctx, to, sinks.PostgresSinkOptions{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(ctx, src, sink, Options{Policy: testPolicy(t, patientsPolicy),
		Tokenizer: testTokenizer(t), BatchRows: 100})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if got := pgQueryOne(t, to, pgTargetState); got != "1 tables, 0 staging" {
		t.Errorf("target holds %s after an interrupted run", got)
	}
	if got := pgQueryOne(t, to, `SELECT string_agg(id, ',') FROM patients`); got != "old" {
		t.Errorf("target table holds %q, want the old row", got)
	}
}

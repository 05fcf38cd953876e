package sources

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/deid/deid/internal/pgtest"
)

// pgShardFixture makes tables of every split kind: an integer key with
// gaps and negatives, no key, a text key, and a view.
func pgShardFixture(t *testing.T) string {
	t.Helper()
	url := pgtest.New(t)
	pgtest.Exec(t, url,
		`CREATE TABLE keyed (id bigint PRIMARY KEY, val text)`,
		`INSERT INTO keyed SELECT g * 7 - 50000, 'v' || g FROM generate_series(1, 20000) g
			ORDER BY random()`,
		`CREATE TABLE heap (n int, val text)`,
		`INSERT INTO heap SELECT g, 'h' || g FROM generate_series(1, 20000) g`,
		`CREATE TABLE textkey (code text PRIMARY KEY)`,
		`INSERT INTO textkey SELECT 'c' || g FROM generate_series(1, 5000) g`,
		`CREATE VIEW vw AS SELECT id FROM keyed WHERE id < 0`,
		`ANALYZE`)
	return url
}

var pgShardTables = []string{"keyed", "heap", "textkey", "vw"}

func TestIntegrationPostgresShards(t *testing.T) {
	url := pgShardFixture(t)
	src := pgOpenSource(t, url, PostgresOptions{Tables: pgShardTables})
	for _, table := range pgShardTables {
		whole := pgReadAll(t, src, table, ReadOptions{})
		if len(whole) == 0 {
			t.Fatalf("%s is empty", table)
		}
		for _, count := range []int{2, 3, 7} {
			var union []string
			for i := range count {
				part := pgReadAll(t, src, table, ReadOptions{Shard: Shard{Index: i, Count: count}})
				if table == "vw" && i > 0 && len(part) > 0 {
					t.Errorf("view shard %d/%d has %d rows, want none", i, count, len(part))
				}
				union = append(union, part...)
			}
			if table == "textkey" {
				// Sorted by key within each shard only.
				slices.Sort(union)
				slices.Sort(whole)
			}
			if !slices.Equal(union, whole) {
				t.Errorf("%s: the %d shards give %d rows, not the %d of the whole table in order",
					table, count, len(union), len(whole))
			}
		}
	}

	keyed := pgReadAll(t, src, "keyed", ReadOptions{})
	if !slices.IsSortedFunc(keyed, pgCompareLeadingInt) {
		t.Error("keyed rows are not in primary key order")
	}
}

// TestIntegrationPostgresSplit reads large tables over several connections
// and checks that rows come in the same order as over one.
func TestIntegrationPostgresSplit(t *testing.T) {
	url := pgShardFixture(t)
	one := pgOpenSource(t, url, PostgresOptions{Tables: pgShardTables, SplitRows: -1})
	split := pgOpenSource(t, url, PostgresOptions{Tables: pgShardTables, SplitRows: 1000, MaxConns: 4})
	opts := ReadOptions{BatchRows: 300}

	for _, table := range []string{"keyed", "heap"} {
		r, err := split.Open(context.Background(), table, opts)
		if err != nil {
			t.Fatal(err)
		}
		pr := r.(*pgReader)
		if len(pr.lanes) != 3 || len(pr.chunks) < 5 {
			t.Errorf("%s: %d lanes and %d chunks, want 3 lanes and many chunks",
				table, len(pr.lanes), len(pr.chunks))
		}
		r.Close()

		want := pgReadAll(t, one, table, opts)
		if got := pgReadAll(t, split, table, opts); !slices.Equal(got, want) {
			t.Errorf("%s read split gives %d rows, not the %d of one reader in order",
				table, len(got), len(want))
		}
		var union []string
		for i := range 2 {
			union = append(union, pgReadAll(t, split, table,
				ReadOptions{BatchRows: 300, Shard: Shard{Index: i, Count: 2}})...)
		}
		if !slices.Equal(union, want) {
			t.Errorf("%s: split shards give %d rows, not the %d of the table in order",
				table, len(union), len(want))
		}
	}
}

func pgCompareLeadingInt(a, b string) int {
	n := func(s string) int64 {
		var v int64
		neg := strings.HasPrefix(s, "-")
		for _, c := range strings.TrimPrefix(s, "-") {
			if c < '0' || c > '9' {
				break
			}
			v = v*10 + int64(c-'0')
		}
		if neg {
			return -v
		}
		return v
	}
	return int(n(a) - n(b))
}

const pgCanary = "CANARY-SSN-000-00-0000"

// TestIntegrationPostgresKilledReader ends the reading connection from the
// server side in the middle of a table: Next must fail with an error that
// holds no value, and a new source must read the table whole.
func TestIntegrationPostgresKilledReader(t *testing.T) {
	url := pgtest.New(t)
	pgtest.Exec(t, url,
		`CREATE TABLE big (id int PRIMARY KEY, ssn text)`,
		`INSERT INTO big SELECT g, '`+pgCanary+`' FROM generate_series(1, 300000) g`)
	src := pgOpenSource(t, url, PostgresOptions{})
	ctx := context.Background()
	r, err := src.Open(ctx, "big", ReadOptions{BatchRows: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, err := r.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec.Release()

	pgtest.Terminate(t, url, r.(*pgReader).lanes[0].conn.PgConn().PID())
	rows := int64(1000)
	for {
		rec, err = r.Next(ctx)
		if err != nil {
			break
		}
		rows += rec.NumRows()
		rec.Release()
	}
	if errors.Is(err, io.EOF) {
		t.Fatalf("Next reached the end (%d rows) after the connection was killed", rows)
	}
	if strings.Contains(err.Error(), pgCanary) || !strings.Contains(err.Error(), `table "big"`) {
		t.Errorf("error = %q, want one naming the table and no value", err)
	}
	if !strings.Contains(err.Error(), "connection") {
		t.Errorf("error = %q, want it to say the connection was lost", err)
	}
	t.Logf("after %d rows: %v", rows, err)

	again := pgOpenSource(t, url, PostgresOptions{})
	if got := len(pgReadAll(t, again, "big", ReadOptions{})); got != 300000 {
		t.Errorf("the next run read %d rows, want 300000", got)
	}
}

// TestIntegrationPostgresKilledSnapshot ends the connection that exported
// the snapshot: opening a table afterwards fails and says why.
func TestIntegrationPostgresKilledSnapshot(t *testing.T) {
	url := pgtest.New(t)
	pgtest.Exec(t, url, `CREATE TABLE t (id int PRIMARY KEY)`)
	src := pgOpenSource(t, url, PostgresOptions{Tables: []string{"t"}})
	if _, err := src.Tables(context.Background()); err != nil {
		t.Fatal(err)
	}
	pgtest.Terminate(t, url, src.coord.PgConn().PID())
	_, err := src.Open(context.Background(), "t", ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "snapshot is gone") {
		t.Errorf("Open after the snapshot's connection ended: %v, want it to say so", err)
	}
}

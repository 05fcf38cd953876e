package sources

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/deid/deid/internal/pgtest"
)

// BenchmarkPostgresRead reads DEID_PG_BENCH_ROWS rows (default 500000) of an
// encounters-like table three ways: the bytes of COPY TO STDOUT in binary,
// thrown away (the floor); the same query's binary result rows, thrown
// away (the protocol the reader uses); and the reader itself, decoding into
// Arrow, on one connection and split (MaxConns 4: three lanes). Run it with -benchtime=1x.
func BenchmarkPostgresRead(b *testing.B) {
	rows := 500000
	if s := os.Getenv("DEID_PG_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		rows = n
	}
	url := pgtest.New(b)
	pgtest.Exec(b, url, `CREATE TABLE encounters (encounter_id bigint PRIMARY KEY,
		patient_id int NOT NULL, provider_id int, admitted timestamptz, discharged timestamptz,
		age_at_admit smallint, diagnosis_code varchar(10), note text)`,
		`INSERT INTO encounters SELECT g, 1 + g % 100000, g % 300,
			timestamptz '2015-01-01' + g * interval '1 minute',
			timestamptz '2015-01-02' + g * interval '1 minute', (g % 90)::smallint,
			'F' || g % 99 || '.' || g % 9, 'Synthetic note ' || md5(g::text)
			FROM generate_series(1, `+strconv.Itoa(rows)+`) g`,
		`VACUUM ANALYZE encounters`)
	const query = "SELECT * FROM encounters ORDER BY encounter_id"
	ctx := context.Background()

	for b.Loop() {
		conn := pgtest.Connect(b, url).PgConn()
		start := time.Now()
		_, err := conn.CopyTo(ctx, io.Discard, "COPY ("+query+") TO STDOUT (FORMAT binary)")
		if err != nil {
			b.Fatal(err)
		}
		copyTime := time.Since(start)

		start = time.Now()
		formats := []int16{1, 1, 1, 1, 1, 1, 1, 1}
		rr := conn.ExecParams(ctx, query, nil, nil, nil, formats)
		for rr.NextRow() {
			_ = rr.Values()
		}
		if _, err := rr.Close(); err != nil {
			b.Fatal(err)
		}
		rawTime := time.Since(start)

		one := pgBenchReader(b, url, -1)
		split := pgBenchReader(b, url, int64(rows/8))
		b.ReportMetric(copyTime.Seconds(), "copy-s")
		b.ReportMetric(rawTime.Seconds(), "rows-s")
		b.ReportMetric(one.Seconds(), "reader-s")
		b.ReportMetric(split.Seconds(), "split-s")
		b.Logf("%d rows: COPY binary %s, binary rows %s, reader %s, reader split in 3 %s",
			rows, copyTime.Round(time.Millisecond), rawTime.Round(time.Millisecond),
			one.Round(time.Millisecond), split.Round(time.Millisecond))
	}
}

func pgBenchReader(b *testing.B, url string, split int64) time.Duration {
	ctx := context.Background()
	src, err := NewPostgres(ctx, url, PostgresOptions{Tables: []string{"encounters"},
		SplitRows: split, MaxConns: 4})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	start := time.Now()
	r, err := src.Open(ctx, "encounters", ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return time.Since(start)
		}
		if err != nil {
			b.Fatal(err)
		}
		rec.Release()
	}
}

package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deid/deid/internal/pgtest"
	"github.com/deid/deid/internal/synth"
)

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		conn, want string
	}{
		{"postgres://deid@/postgres?host=/tmp/pg", "postgres://deid@/db1?host=/tmp/pg"},
		{"postgresql://u:secret@h:5433/x", "postgresql://u:secret@h:5433/db1"},
		{"postgres://u@h/x?dbname=x&sslmode=disable", "postgres://u@h/db1?dbname=db1&sslmode=disable"},
		{"host=/tmp/pg user=deid", "host=/tmp/pg user=deid dbname=db1"},
	}
	for _, tt := range tests {
		got, err := withDatabase(tt.conn, "db1")
		if err != nil {
			t.Errorf("withDatabase(%q) = %v", tt.conn, err)
			continue
		}
		if got != tt.want {
			t.Errorf("withDatabase(%q) = %q, want %q", tt.conn, got, tt.want)
		}
	}

	_, err := withDatabase("postgres://u:sec ret@h:bad port/x", "db1")
	if err == nil || strings.Contains(err.Error(), "sec") {
		t.Errorf("withDatabase of a bad URL = %v, want an error without the URL", err)
	}
}

func TestSourceDBName(t *testing.T) {
	tests := []struct {
		dir, want string
	}{
		{"/tmp/deid-bench/csv-v1-p1000000-e5-s1", "deid_bench_src_csv_v1_p1000000_e5_s1"},
		{"/tmp/x/CSV-v1-p10-e2.5-s7", "deid_bench_src_csv_v1_p10_e2_5_s7"},
		{"/x/" + strings.Repeat("a", 80), "deid_bench_src_" + strings.Repeat("a", 48)},
	}
	for _, tt := range tests {
		if got := sourceDBName(tt.dir); got != tt.want {
			t.Errorf("sourceDBName(%q) = %q, want %q", tt.dir, got, tt.want)
		}
	}
}

// TestIntegrationFloorPG loads the demo extract into a source database and
// checks that the floor copies every row of it into an empty one.
func TestIntegrationFloorPG(t *testing.T) {
	server := pgtest.ServerURL(t)
	ctx := context.Background()
	// The source database is named after the folder: make it unique.
	dir := filepath.Join(t.TempDir(), "demo-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := synth.Demo(dir); err != nil {
		t.Fatal(err)
	}
	b := &bench{cfg: config{pg: server}, csvDir: dir, self: os.Args[0], stderr: io.Discard}
	in, err := preparePG(ctx, b)
	if err != nil {
		t.Fatalf("preparePG: %v", err)
	}
	t.Cleanup(func() { in.remove(context.Background()) })
	if again, err := preparePG(ctx, b); err != nil || again.spec() != in.spec() {
		t.Fatalf("preparePG again = %v, %v; want the same database", again, err)
	}
	size, err := in.size(ctx)
	if err != nil || size == 0 {
		t.Fatalf("source size = %d, %v", size, err)
	}

	out := outDatabase(b, "floor_"+filepath.Base(dir)[5:])
	if err := out.reset(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.remove(context.Background()) })
	rows, err := floorPG(ctx, "", in.spec(), out.spec())
	if err != nil {
		t.Fatalf("floorPG: %v", err)
	}

	conn := pgtest.Connect(t, out.spec())
	var want int64
	for _, name := range []string{"patients", "encounters", "providers"} {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		want += n
	}
	if rows != want || rows < 1000 {
		t.Errorf("floorPG copied %d rows, the target holds %d", rows, want)
	}
}

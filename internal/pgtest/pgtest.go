// Package pgtest gives integration tests a fresh PostgreSQL database each.
// The server comes from DEID_TEST_PG_URL, which scripts/test sets after
// starting a throwaway cluster on a Unix socket. Without it a test skips,
// except under CI=true, where it fails: CI must not pass by skipping.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable that holds the server's URL.
const EnvURL = "DEID_TEST_PG_URL"

// ServerURL returns the URL of the test server, skipping the test when
// there is none (failing it under CI=true).
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set; CI runs integration tests through scripts/test", EnvURL)
		}
		t.Skipf("%s is not set; run scripts/test for integration tests", EnvURL)
	}
	return u
}

// New creates an empty database named deid_test_<random> on the test
// server, drops it when the test ends, and returns a URL that connects to
// it.
func New(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	name := "deid_test_" + randomHex(6)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connecting to the test server: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("connecting to drop database %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping database %s: %v", name, err)
		}
	})
	return WithDatabase(t, server, name)
}

// WithDatabase returns conn (a URL or key=value string) with its database
// replaced by name.
func WithDatabase(t testing.TB, conn, name string) string {
	t.Helper()
	if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
		u, err := url.Parse(conn)
		if err != nil {
			t.Fatalf("parsing %s: %v", EnvURL, err)
		}
		u.Path = "/" + name
		q := u.Query()
		if q.Has("dbname") {
			q.Set("dbname", name)
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return conn + " dbname=" + name
}

// Connect opens a connection to url that is closed when the test ends.
func Connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connecting to the test database: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Exec runs each statement on url, failing the test on the first error.
func Exec(t testing.TB, url string, statements ...string) {
	t.Helper()
	conn := Connect(t, url)
	for _, s := range statements {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			t.Fatalf("executing %.60q: %v", s, err)
		}
	}
}

// Terminate ends the server session whose backend process id is pid, as an
// administrator would with pg_terminate_backend, and waits until it is gone.
func Terminate(t testing.TB, url string, pid uint32) {
	t.Helper()
	conn := Connect(t, url)
	ctx := context.Background()
	var ok bool
	err := conn.QueryRow(ctx, "SELECT pg_terminate_backend($1, 10000)", int32(pid)).Scan(&ok)
	if err != nil {
		t.Fatalf("terminating backend %d: %v", pid, err)
	}
	if !ok {
		t.Fatalf("backend %d did not end", pid)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgTable is a table of the generated extract as the pg modes create it:
// the types the demo policy declares or deid infers (bigint keys and ages,
// date and timestamptz dates, text for the rest, ZIP codes included).
type pgTable struct {
	name    string
	columns string // the column list of CREATE TABLE
	keys    string // the ALTER TABLE clauses that add its keys, after loading
}

// pgTables are the tables in load order, parents first.
var pgTables = []pgTable{
	{
		name:    "providers",
		columns: "provider_id bigint NOT NULL, provider_name text, specialty text, npi text",
		keys:    "ADD PRIMARY KEY (provider_id)",
	},
	{
		name: "patients",
		columns: "patient_id bigint NOT NULL, mrn text, first_name text, last_name text, " +
			"dob date, sex text, street text, city text, state text, zip text, phone text, " +
			"email text, ssn text, deceased_date date, last_visit date",
		keys: "ADD PRIMARY KEY (patient_id)",
	},
	{
		name: "encounters",
		columns: "encounter_id bigint NOT NULL, patient_id bigint, provider_id bigint, " +
			"admitted timestamptz, discharged timestamptz, age_at_admit bigint, " +
			"diagnosis_code text, note text",
		keys: "ADD PRIMARY KEY (encounter_id), " +
			"ADD FOREIGN KEY (patient_id) REFERENCES patients, " +
			"ADD FOREIGN KEY (provider_id) REFERENCES providers",
	},
}

// pgComplete is the table the loader creates last in a source database, so
// that a database without it is known to be partly loaded.
const pgComplete = "deid_bench_complete"

// pgDBPrefix starts the name of every database the benchmark creates.
const pgDBPrefix = "deid_bench_"

// database is a place on a PostgreSQL server.
type database struct {
	server string // a URL of the server, whatever database it names
	name   string
	url    string // server with its database replaced by name
}

func newDatabase(server, name string) (database, error) {
	u, err := withDatabase(server, name)
	if err != nil {
		return database{}, err
	}
	return database{server: server, name: name, url: u}, nil
}

func (d database) spec() string { return d.url }

// reset drops the database and creates it empty.
func (d database) reset(ctx context.Context) error {
	return d.admin(ctx,
		"DROP DATABASE IF EXISTS "+quoteIdent(d.name)+" WITH (FORCE)",
		"CREATE DATABASE "+quoteIdent(d.name))
}

func (d database) remove(ctx context.Context) error {
	return d.admin(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(d.name)+" WITH (FORCE)")
}

// size returns the bytes of the tables of the public schema, indexes left
// out.
func (d database) size(ctx context.Context) (int64, error) {
	conn, err := pgx.Connect(ctx, d.url)
	if err != nil {
		return 0, fmt.Errorf("connecting to database %s: %w", d.name, err)
	}
	defer conn.Close(ctx)
	var n int64
	err = conn.QueryRow(ctx, `SELECT coalesce(sum(pg_table_size(c.oid)), 0)::bigint
		FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
		WHERE s.nspname = 'public' AND c.relkind = 'r'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sizing database %s: %w", d.name, err)
	}
	return n, nil
}

// admin runs statements on the server outside the database.
func (d database) admin(ctx context.Context, statements ...string) error {
	conn, err := pgx.Connect(ctx, d.server)
	if err != nil {
		return fmt.Errorf("connecting to the server: %w", err)
	}
	defer conn.Close(ctx)
	for _, s := range statements {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("database %s: %w", d.name, err)
		}
	}
	return nil
}

// loaded reports whether the database exists and the loader finished it.
func (d database) loaded(ctx context.Context) (bool, error) {
	conn, err := pgx.Connect(ctx, d.server)
	if err != nil {
		return false, fmt.Errorf("connecting to the server: %w", err)
	}
	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)",
		d.name).Scan(&exists)
	conn.Close(ctx)
	if err != nil || !exists {
		return false, err
	}
	if conn, err = pgx.Connect(ctx, d.url); err != nil {
		return false, fmt.Errorf("connecting to database %s: %w", d.name, err)
	}
	defer conn.Close(ctx)
	var done bool
	err = conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", pgComplete).Scan(&done)
	return done, err
}

// preparePG returns the input of pg-pg: a database of the server holding the
// extract, with primary and foreign keys, loaded once and kept.
func preparePG(ctx context.Context, b *bench) (place, error) {
	d, err := newDatabase(b.cfg.pg, sourceDBName(b.csvDir))
	if err != nil {
		return nil, err
	}
	ok, err := d.loaded(ctx)
	if err != nil {
		return nil, err
	}
	if ok {
		fmt.Fprintf(b.stderr, "using the extract in database %s\n", d.name)
		return d, nil
	}

	fmt.Fprintf(b.stderr, "loading the extract into database %s\n", d.name)
	start := time.Now()
	if err := d.reset(ctx); err != nil {
		return nil, err
	}
	if err := b.child(ctx, "load-pg", b.csvDir, d.url); err != nil {
		return nil, fmt.Errorf("loading database %s: %w", d.name, err)
	}
	fmt.Fprintf(b.stderr, "loaded in %.1f s\n", time.Since(start).Seconds())
	return d, nil
}

// loadPGMain is `deid-bench load-pg DIR URL`: it loads the extract in DIR
// into the empty database at URL, in a process of its own.
func loadPGMain(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "usage: deid-bench load-pg DIR URL")
		return 2
	}
	if err := loadSource(ctx, args[0], args[1]); err != nil {
		fmt.Fprintln(stderr, "deid-bench load-pg:", err)
		return 1
	}
	return 0
}

// loadSource copies the CSV files of dir into the empty database at url
// with COPY, then adds the keys, analyzes, and marks the database complete.
func loadSource(ctx context.Context, dir, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connecting to the database: %w", err)
	}
	defer conn.Close(ctx)

	for _, t := range pgTables {
		if _, err := conn.Exec(ctx, createTable(t)); err != nil {
			return fmt.Errorf("creating table %s: %w", t.name, err)
		}
		f, err := os.Open(filepath.Join(dir, t.name+".csv"))
		if err != nil {
			return err
		}
		_, err = conn.PgConn().CopyFrom(ctx, f,
			"COPY "+quoteIdent(t.name)+" FROM STDIN WITH (FORMAT csv, HEADER true)")
		f.Close()
		if err != nil {
			return fmt.Errorf("loading table %s: %w", t.name, err)
		}
	}
	for _, t := range pgTables {
		if _, err := conn.Exec(ctx, "ALTER TABLE "+quoteIdent(t.name)+" "+t.keys); err != nil {
			return fmt.Errorf("adding the keys of table %s: %w", t.name, err)
		}
	}
	for _, s := range []string{"ANALYZE", "CREATE TABLE " + pgComplete + " ()"} {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("finishing the database: %w", err)
		}
	}
	return nil
}

// outDatabase returns the target database of a program in pg-pg.
func outDatabase(b *bench, program string) place {
	// The server URL was checked by prepare, which runs first.
	d, _ := newDatabase(b.cfg.pg, pgDBPrefix+"out_"+program)
	return d
}

// floorPG is the floor of pg-pg: every table of the extract moved from the
// database in to the empty database out with COPY (SELECT * FROM t) TO
// STDOUT piped into COPY t FROM STDIN, one table at a time, into tables
// of the same columns and types without keys.
func floorPG(ctx context.Context, _, in, out string) (int64, error) {
	src, err := pgx.Connect(ctx, in)
	if err != nil {
		return 0, fmt.Errorf("connecting to the source: %w", err)
	}
	defer src.Close(ctx)
	dst, err := pgx.Connect(ctx, out)
	if err != nil {
		return 0, fmt.Errorf("connecting to the target: %w", err)
	}
	defer dst.Close(ctx)

	var rows int64
	for _, t := range pgTables {
		if _, err := dst.Exec(ctx, createTable(t)); err != nil {
			return rows, fmt.Errorf("creating table %s: %w", t.name, err)
		}
		n, err := pipeTable(ctx, src, dst, t.name)
		rows += n
		if err != nil {
			return rows, fmt.Errorf("copying table %s: %w", t.name, err)
		}
	}
	return rows, nil
}

// pipeTable streams one table from src to dst through a pipe: COPY TO on
// one goroutine, COPY FROM on this one. Both ends use COPY's binary format,
// which skips formatting and parsing every value as text.
func pipeTable(ctx context.Context, src, dst *pgx.Conn, table string) (int64, error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := src.PgConn().CopyTo(ctx, pw,
			"COPY (SELECT * FROM "+quoteIdent(table)+") TO STDOUT WITH (FORMAT "+pgCopyFormat+")")
		pw.CloseWithError(err) // nil closes it with io.EOF
		done <- err
	}()
	tag, err := dst.PgConn().CopyFrom(ctx, pr,
		"COPY "+quoteIdent(table)+" FROM STDIN WITH (FORMAT "+pgCopyFormat+")")
	pr.CloseWithError(errors.New("the target stopped reading")) // unblocks the writer
	return tag.RowsAffected(), errors.Join(err, <-done)
}

// pgCopyFormat is the COPY format of the floor.
const pgCopyFormat = "binary"

func createTable(t pgTable) string {
	return "CREATE TABLE " + quoteIdent(t.name) + " (" + t.columns + ")"
}

// sourceDBName names the source database of the extract in folder dir
// after the folder, so that each extract has its own.
func sourceDBName(dir string) string {
	base := strings.ToLower(filepath.Base(dir))
	var b strings.Builder
	b.WriteString(pgDBPrefix + "src_")
	for _, r := range base {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	return s[:min(len(s), 63)] // PostgreSQL's limit on names
}

// withDatabase returns conn, a URL or a key=value connection string, with
// its database replaced by name.
func withDatabase(conn, name string) (string, error) {
	if !strings.HasPrefix(conn, "postgres://") && !strings.HasPrefix(conn, "postgresql://") {
		return conn + " dbname=" + name, nil
	}
	u, err := url.Parse(conn)
	if err != nil {
		// url's errors quote the URL, which may hold a password.
		return "", errors.New("-pg: not a valid URL")
	}
	u.Path = "/" + name
	u.RawPath = ""
	q := u.Query()
	if q.Has("dbname") {
		q.Set("dbname", name)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

func quoteIdent(name string) string { return pgx.Identifier{name}.Sanitize() }

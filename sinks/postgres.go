package sinks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5"

	"github.com/deid/deid/internal/pgconn"
	"github.com/deid/deid/sources"
)

// PostgresSinkOptions configures a PostgreSQL sink.
type PostgresSinkOptions struct {
	// TargetSchema is the schema the tables are published into; "public"
	// when empty. It is created if it does not exist.
	TargetSchema string
	// MaxConns caps the connections that build keys and indexes in Commit;
	// 0 means DefaultPostgresSinkConns. Each Writer uses one more while it
	// loads.
	MaxConns int
	// Logger receives the notes of Commit and warnings; nil means
	// slog.Default().
	Logger *slog.Logger
}

// DefaultPostgresSinkConns is the default of PostgresSinkOptions.MaxConns.
const DefaultPostgresSinkConns = 4

// pgStagingPrefix starts the name of every staging schema.
const pgStagingPrefix = "deid_staging_"

// pgLockSpace is the first key of the advisory locks the sink takes: the
// session lock that marks a staging schema as in use (second key: the hash
// of its name), and pgLockSpace+1 for the lock that serialises swaps.
const pgLockSpace = 0x64656964 // "deid"

// PostgresSink publishes tables into a PostgreSQL schema all at once.
//
// NewPostgresSink creates a private staging schema, deid_staging_<random>;
// Create makes each table there and loads it with binary COPY as batches
// arrive. Once a table's Writer is closed, its primary key, unique
// constraints and indexes are built and it is analyzed, in the background
// while other tables load. Commit waits for those, adds the foreign keys,
// and in one transaction drops the target's tables of the same names,
// moves the staging tables into the target schema and drops the staging
// schema. A failure at any step, or Abort, drops the staging schema and
// leaves the target as it was.
//
// While it runs, a sink holds a session-level advisory lock named after its
// staging schema. A staging schema whose lock nobody holds was left by a
// run that crashed or lost its connection; NewPostgresSink drops such
// schemas before creating its own, so re-running after a failure is safe,
// while the staging schema of a run still in progress is left alone.
//
// The old target tables are dropped without CASCADE: tables of the run may
// reference each other, but if a view, a foreign key or a function outside
// the run depends on one of them, Commit stops with an error naming those
// objects rather than drop them. Privileges granted on an old table are
// granted again on its replacement; its owner, column defaults, sequences,
// triggers, check constraints and policies are not recreated.
type PostgresSink struct {
	cfg     *pgconn.Config
	opts    PostgresSinkOptions
	log     *slog.Logger
	staging string

	// Key builds run in the background, MaxConns at a time, until
	// stopBuilds; each records its result in its table.
	builds     sync.WaitGroup
	buildCtx   context.Context
	stopBuilds context.CancelFunc
	buildSlots chan struct{}

	mu      sync.Mutex // guards everything below
	control *pgx.Conn  // holds the staging lock; runs DDL and the swap
	tables  []*pgSinkTable
	done    bool // committed or aborted
}

// pgSinkTable is a table being written.
type pgSinkTable struct {
	info   sources.Table
	rel    string // relation name, the same in the staging and target schemas
	cols   []pgSinkColumn
	writer *pgWriter
	closed bool

	built    error    // the key build's result, once builds are done
	keyNotes []string // what the key build left out
	fkNotes  []string // what Commit left out of the foreign keys
}

// pgSinkColumn is an output column and the type it is created with.
type pgSinkColumn struct {
	name string
	typ  pgconn.Type
}

// NewPostgresSink connects to the database at url (a URL or key=value
// string; libpq environment variables fill in the rest), removes staging
// schemas that earlier runs left behind, and creates this run's.
func NewPostgresSink(ctx context.Context, url string, o PostgresSinkOptions) (
	*PostgresSink, error) {
	if o.TargetSchema == "" {
		o.TargetSchema = "public"
	}
	if o.MaxConns < 0 {
		return nil, fmt.Errorf("postgres sink: MaxConns %d is negative", o.MaxConns)
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultPostgresSinkConns
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	cfg, err := pgconn.Parse(url, o.Logger)
	if err != nil {
		return nil, err
	}
	control, err := cfg.Connect(ctx)
	if err != nil {
		return nil, err
	}

	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	s := &PostgresSink{cfg: cfg, opts: o, log: o.Logger, control: control,
		staging:    pgStagingPrefix + hex.EncodeToString(rnd[:]),
		buildSlots: make(chan struct{}, o.MaxConns)}
	s.buildCtx, s.stopBuilds = context.WithCancel(context.Background())
	if err := s.start(ctx); err != nil {
		s.stopBuilds()
		closePg(control)
		return nil, fmt.Errorf("preparing staging schema on %s: %w", cfg, err)
	}
	return s, nil
}

// start takes this run's lock, then removes stale staging schemas and
// creates its own.
func (s *PostgresSink) start(ctx context.Context) error {
	c := s.control
	_, err := c.Exec(ctx, "SELECT pg_advisory_lock($1, hashtext($2))", pgLockSpace, s.staging)
	if err != nil {
		return pgconn.Reduce(err)
	}
	rows, err := c.Query(ctx, `SELECT nspname::text FROM pg_namespace
		WHERE nspname LIKE 'deid\_staging\_%' AND nspname <> $1 ORDER BY 1`, s.staging)
	if err != nil {
		return pgconn.Reduce(err)
	}
	stale, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return pgconn.Reduce(err)
	}
	for _, name := range stale {
		if err := s.dropStale(ctx, name); err != nil {
			return err
		}
	}
	_, err = c.Exec(ctx, "CREATE SCHEMA "+pgconn.Quote(s.staging))
	return pgconn.Reduce(err)
}

// dropStale drops a staging schema whose run is gone: nobody holds its lock.
func (s *PostgresSink) dropStale(ctx context.Context, name string) error {
	c := s.control
	var free bool
	err := c.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, hashtext($2))", pgLockSpace, name).
		Scan(&free)
	if err != nil {
		return pgconn.Reduce(err)
	}
	if !free {
		return nil // another run is using it
	}
	_, err = c.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgconn.Quote(name)+" CASCADE")
	_, uerr := c.Exec(ctx, "SELECT pg_advisory_unlock($1, hashtext($2))", pgLockSpace, name)
	if err == nil {
		err = uerr
	}
	if err != nil {
		return fmt.Errorf("dropping stale staging schema %s: %w", name, pgconn.Reduce(err))
	}
	s.log.Info("dropped a staging schema left by an earlier run", "schema", name)
	return nil
}

// Staging is the name of this run's staging schema.
func (s *PostgresSink) Staging() string { return s.staging }

// Notes lists, after Commit, what it left out and why, table by table:
// keys and indexes on columns that are not in the output, foreign keys to
// tables that are not. Each is also logged as a warning.
func (s *PostgresSink) Notes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var notes []string
	for _, t := range s.tables {
		notes = append(append(notes, t.keyNotes...), t.fkNotes...)
	}
	return notes
}

// note logs something Commit leaves out and appends it to notes.
func (s *PostgresSink) note(notes *[]string, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	*notes = append(*notes, msg)
	s.log.Warn(msg, "stage", "postgres-commit")
}

// Create makes table t in the staging schema and starts loading it. The
// table's name in the target is its base name (the last part of t.Name).
// A column keeps the type the source recorded (sources.MetaSourceType)
// when its Arrow type is the one that type is read as; otherwise it gets
// the PostgreSQL type that holds its Arrow type.
func (s *PostgresSink) Create(ctx context.Context, t sources.Table) (Writer, error) {
	st := &pgSinkTable{info: t, rel: pgconn.BaseName(t.Name)}
	var problems []error
	for _, f := range t.Schema.Fields() {
		typ, err := pgColumnType(f)
		if err != nil {
			problems = append(problems, fmt.Errorf("table %q column %q: %w", t.Name, f.Name, err))
			continue
		}
		st.cols = append(st.cols, pgSinkColumn{name: f.Name, typ: typ})
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return nil, errors.New("postgres sink: already committed or aborted")
	}
	for _, other := range s.tables {
		if other.rel == st.rel {
			return nil, fmt.Errorf("postgres sink: tables %q and %q would both be %s.%s",
				other.info.Name, t.Name, s.opts.TargetSchema, st.rel)
		}
	}
	var cols []string
	for i, c := range st.cols {
		def := pgconn.Quote(c.name) + " " + c.typ.String()
		if !t.Schema.Field(i).Nullable {
			def += " NOT NULL"
		}
		cols = append(cols, def)
	}
	ddl := fmt.Sprintf("CREATE TABLE %s (%s)", s.stagingRel(st.rel), strings.Join(cols, ", "))
	if _, err := s.control.Exec(ctx, ddl); err != nil {
		return nil, fmt.Errorf("creating table %q in the staging schema: %w", t.Name,
			pgconn.Explain(err, s.control.PgConn()))
	}

	w, err := pgStartWriter(ctx, s.cfg, st, s.stagingRel(st.rel), s.startKeys)
	if err != nil {
		return nil, err
	}
	st.writer = w
	s.tables = append(s.tables, st)
	return w, nil
}

// pgColumnType chooses the type of an output column.
func pgColumnType(f arrow.Field) (pgconn.Type, error) {
	if src, ok := f.Metadata.GetValue(sources.MetaSourceType); ok {
		if typ, ok := pgconn.ParseType(src); ok && arrow.TypeEqual(typ.Arrow(), f.Type) {
			return typ, nil
		}
	}
	if typ, ok := pgconn.FromArrow(f.Type); ok {
		return typ, nil
	}
	return pgconn.Type{}, fmt.Errorf("Arrow type %s has no PostgreSQL column type", f.Type)
}

func (s *PostgresSink) stagingRel(rel string) string {
	return pgconn.Quote(s.staging) + "." + pgconn.Quote(rel)
}

func (s *PostgresSink) targetRel(rel string) string {
	return pgconn.Quote(s.opts.TargetSchema) + "." + pgconn.Quote(rel)
}

// Abort stops every load, drops the staging schema and disconnects. It
// does nothing after Commit or a previous Abort.
func (s *PostgresSink) Abort() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return nil
	}
	s.done = true
	s.stopAll()
	return s.dropStaging()
}

// stopAll stops the loads and the key builds and waits for them.
func (s *PostgresSink) stopAll() {
	s.stopBuilds()
	for _, t := range s.tables {
		t.writer.abort()
	}
	s.builds.Wait()
}

// dropStaging drops the staging schema and disconnects, on the control
// connection or, when that one is gone, on a new one. The caller holds mu.
func (s *PostgresSink) dropStaging() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	drop := "DROP SCHEMA IF EXISTS " + pgconn.Quote(s.staging) + " CASCADE"

	c := s.control
	s.control = nil
	var err error
	if c != nil && !c.PgConn().IsClosed() {
		_, err = c.Exec(ctx, drop)
	}
	if c == nil || c.PgConn().IsClosed() || err != nil {
		closePg(c)
		if c, err = s.cfg.Connect(ctx); err != nil {
			return fmt.Errorf("dropping staging schema %s: %w (the next run drops it)", s.staging, err)
		}
		_, err = c.Exec(ctx, drop)
	}
	closePg(c)
	if err != nil {
		return fmt.Errorf("dropping staging schema %s: %w (the next run drops it)", s.staging,
			pgconn.Reduce(err))
	}
	return nil
}

// closePg closes a connection without waiting long for a server that may
// be gone.
func closePg(c *pgx.Conn) {
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.PgConn().Close(ctx)
}

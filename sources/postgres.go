package sources

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/semaphore"

	"github.com/deid/deid/internal/pgconn"
)

// PostgresOptions configures a PostgreSQL source.
type PostgresOptions struct {
	// Tables names the tables to read as the policy does: "patients",
	// found through the search path, or "clinic.patients". Empty means
	// every table of the schemas in the search path.
	Tables []string
	// MaxConns caps the reading connections open at once, besides the one
	// that holds the snapshot; 0 means DefaultPostgresMaxConns. Open waits
	// for a free one; a table read over several takes more only while one
	// stays free for the next Open.
	MaxConns int
	// SplitRows is the estimated row count (pg_class.reltuples) above
	// which a table, or a shard of one, is read over several connections
	// at once; 0 means DefaultSplitRows and a negative value never splits.
	SplitRows int64
	// Logger receives warnings, such as a connection that may go
	// unencrypted to a remote host; nil means slog.Default().
	Logger *slog.Logger
}

// Defaults of PostgresOptions.
const (
	DefaultPostgresMaxConns       = 4
	DefaultSplitRows        int64 = 1_000_000
)

// Validate checks the options on their own.
func (o PostgresOptions) Validate() error {
	if o.MaxConns < 0 {
		return fmt.Errorf("postgres source: MaxConns %d is negative", o.MaxConns)
	}
	for _, name := range o.Tables {
		if parts, ok := pgconn.SplitName(name); !ok || len(parts) > 2 {
			return fmt.Errorf("postgres source: table name %q is not [schema.]table", name)
		}
	}
	return nil
}

// Postgres reads tables of a PostgreSQL database, all from one snapshot.
//
// NewPostgres opens a read-only repeatable-read transaction and exports its
// snapshot; every reading connection imports it before reading, so all
// tables, however many connections read them and whenever they are opened,
// show the database as it was when NewPostgres returned.
//
// Rows come in primary key order; a table without a primary key comes in
// physical order (ctid), which is stable for a given snapshot of the same
// table files but changes after VACUUM FULL, CLUSTER or updates. A shard
// (ReadOptions.Shard) is a range of an integer primary key, or a range of
// table blocks when there is none; a table with a primary key of another
// type is sharded by blocks and each shard sorted by its key, so its order
// depends on the shard count. A table that cannot be split (a view, a
// partitioned table without an integer primary key) is read whole by shard
// 0 and the other shards get no rows.
//
// Ranges of an integer primary key or of blocks are computed from the data
// in the snapshot: shards opened by separate processes agree only if the
// table does not change between their starts.
//
// Columns map to Arrow as pgconn.Type.Arrow says: integers to int16, int32
// and int64; real and double precision to float32 and float64; numeric(p,s)
// with p <= 38 to decimal128(p,s), and numeric without a precision (or a
// larger one) to its text, since its values may not fit a decimal; text,
// varchar, char, name, uuid (canonical text), json and jsonb to utf8; date
// to date32; timestamp to timestamp[us] and timestamptz to timestamp[us,
// UTC], infinity becoming the largest or smallest value; boolean; bytea to
// binary. A domain reads as its base type. Any other type (arrays,
// composites, ranges, intervals, enums) makes Tables fail, naming the table
// and column. Each field records the column's SQL type under
// MetaSourceType.
//
// On a hot standby, a long read can be cancelled by a recovery conflict
// (SQLSTATE 40001); a replica used for nightly runs needs
// hot_standby_feedback or a generous max_standby_streaming_delay.
type Postgres struct {
	cfg      *pgconn.Config
	opts     PostgresOptions
	slots    *semaphore.Weighted
	snapshot string
	version  int // server_version_num

	mu     sync.Mutex // guards coord, tables and closed
	coord  *pgx.Conn  // holds the exported snapshot's transaction
	tables map[string]*pgTable
	closed bool
}

// NewPostgres connects to the database at url (a URL or key=value string;
// libpq environment variables fill in the rest) and exports the snapshot
// that every table is read from.
func NewPostgres(ctx context.Context, url string, o PostgresOptions) (*Postgres, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultPostgresMaxConns
	}
	if o.SplitRows == 0 {
		o.SplitRows = DefaultSplitRows
	}
	cfg, err := pgconn.Parse(url, o.Logger)
	if err != nil {
		return nil, err
	}
	coord, err := cfg.Connect(ctx)
	if err != nil {
		return nil, err
	}

	p := &Postgres{cfg: cfg, opts: o, slots: semaphore.NewWeighted(int64(o.MaxConns)), coord: coord}
	_, err = coord.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
	if err == nil {
		err = coord.QueryRow(ctx,
			"SELECT pg_export_snapshot(), current_setting('server_version_num')::int").
			Scan(&p.snapshot, &p.version)
	}
	if err != nil {
		closeConn(coord)
		return nil, fmt.Errorf("exporting a snapshot of %s: %w", cfg, pgconn.Reduce(err))
	}
	return p, nil
}

// Tables describes the tables named in the options (or every table of the
// search path), sorted by name. A name that matches no table, and a column
// of a type deid does not read, is an error; all of them are reported
// together.
func (p *Postgres) Tables(ctx context.Context) ([]Table, error) {
	tables, err := p.load(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Table, 0, len(tables))
	for _, t := range tables {
		out = append(out, t.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (p *Postgres) load(ctx context.Context) (map[string]*pgTable, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errPostgresClosed
	}
	if p.tables != nil {
		return p.tables, nil
	}
	tables, err := pgLoadCatalog(ctx, p.coord, p.opts.Tables, p.cfg.String())
	if err != nil {
		return nil, err
	}
	p.tables = tables
	return tables, nil
}

var errPostgresClosed = fmt.Errorf("postgres source: already closed")

// Open starts reading a table on a connection of its own, which it takes
// from the MaxConns available (waiting for one) and gives back at io.EOF or
// Close. A table estimated at more than SplitRows rows is read in ranges
// over more connections when some are free; the rows come in the same
// order either way.
func (p *Postgres) Open(ctx context.Context, table string, opts ReadOptions) (Reader, error) {
	tables, err := p.load(ctx)
	if err != nil {
		return nil, err
	}
	t, ok := tables[table]
	if !ok {
		return nil, fmt.Errorf("postgres source: no table %q", table)
	}
	if opts.Shard.Count > 1 && (opts.Shard.Index < 0 || opts.Shard.Index >= opts.Shard.Count) {
		return nil, fmt.Errorf("postgres source: shard %d of %d does not exist",
			opts.Shard.Index, opts.Shard.Count)
	}
	return pgOpen(ctx, p, t, opts)
}

// Close ends the snapshot's transaction and disconnects. Readers that are
// still open keep their own snapshot copy.
func (p *Postgres) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	closeConn(p.coord)
	return nil
}

// connect opens a reading connection inside the exported snapshot.
func (p *Postgres) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := p.cfg.Connect(ctx)
	if err != nil {
		return nil, err
	}
	_, err = conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; "+
		"SET TRANSACTION SNAPSHOT '"+strings.ReplaceAll(p.snapshot, "'", "''")+"'; "+
		// Physical order must not depend on other scans or on workers.
		"SET LOCAL synchronize_seqscans = off; SET LOCAL max_parallel_workers_per_gather = 0")
	if err != nil {
		why := pgconn.Explain(err, conn.PgConn())
		var se *pgconn.ServerError
		if errors.As(why, &se) && se.Code == "22023" {
			why = fmt.Errorf("the snapshot is gone; the connection that exported it ended: %w", why)
		}
		closeConn(conn)
		return nil, fmt.Errorf("joining the source snapshot on %s: %w", p.cfg, why)
	}
	return conn, nil
}

// closeConn closes a connection without waiting long for a server that may
// be gone; the connection may be in the middle of a result.
func closeConn(conn *pgx.Conn) {
	if conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.PgConn().Close(ctx)
}

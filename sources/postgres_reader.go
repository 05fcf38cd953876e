package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5"

	"github.com/deid/deid/internal/dataerr"
	"github.com/deid/deid/internal/guard"
	"github.com/deid/deid/internal/pgconn"
)

// pgChunkBatches is how many batches a chunk of a split table holds, about.
const pgChunkBatches = 8

// pgReader reads one table (or shard) as a sequence of chunks: ranges of
// the primary key or of blocks, in order. Lanes, each on a connection of
// its own, read chunks lane, lane+lanes, lane+2*lanes... ahead of Next,
// which takes them back in chunk order; so the rows come in the same order
// whatever the number of lanes, and memory holds a few chunks at most.
type pgReader struct {
	table   string
	schema  *arrow.Schema
	chunks  []string // one SELECT per chunk
	lanes   []*pgLane
	cancel  context.CancelFunc
	chunk   int   // the chunk Next is reading
	rows    int64 // rows returned so far
	atChunk int64 // rows returned before the current chunk
	err     error // sticky
}

// pgLane reads its share of the chunks on one connection.
type pgLane struct {
	conn    *pgx.Conn
	release func() // gives the connection slot back
	out     chan pgMsg
}

// pgMsg is a batch, the end of a chunk, or a lane's error.
type pgMsg struct {
	rec arrow.RecordBatch
	end bool
	err error
}

func pgOpen(ctx context.Context, p *Postgres, t *pgTable, opts ReadOptions) (Reader, error) {
	batchRows := opts.BatchRows
	if batchRows <= 0 {
		batchRows = DefaultBatchRows
	}
	if err := p.slots.Acquire(ctx, 1); err != nil {
		return nil, err
	}
	conn, err := p.connect(ctx)
	if err != nil {
		p.slots.Release(1)
		return nil, fmt.Errorf("opening table %q: %w", t.info.Name, err)
	}
	first := &pgLane{conn: conn, release: func() { p.slots.Release(1) }}

	plan, err := pgPlanChunks(ctx, conn, p, t, opts.Shard, batchRows)
	if err != nil {
		first.close()
		return nil, fmt.Errorf("opening table %q: %w", t.info.Name, err)
	}
	r := &pgReader{table: t.info.Name, schema: t.info.Schema}
	for _, c := range plan.chunks {
		r.chunks = append(r.chunks, pgChunkSQL(t, plan.byKey, c))
	}

	// More lanes only when connections are free right now, and never the
	// last one, which another table's Open may be waiting for. The order of
	// the rows does not depend on the lane count.
	r.lanes = []*pgLane{first}
	for len(r.lanes) < plan.lanes && p.slots.TryAcquire(2) {
		p.slots.Release(1)
		conn, err := p.connect(ctx)
		if err != nil {
			p.slots.Release(1)
			break
		}
		r.lanes = append(r.lanes, &pgLane{conn: conn, release: func() { p.slots.Release(1) }})
	}

	lctx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	depth := 4
	if len(r.lanes) > 1 {
		depth = pgChunkBatches + 2
	}
	formats := make([]int16, len(t.cols))
	for i, c := range t.cols {
		if !c.text {
			formats[i] = 1
		}
	}
	for i, l := range r.lanes {
		l.out = make(chan pgMsg, depth)
		go l.run(lctx, r, t, formats, i, batchRows)
	}
	return r, nil
}

func (r *pgReader) Schema() *arrow.Schema { return r.schema }

// Next returns the next batch in chunk order.
func (r *pgReader) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for r.err == nil {
		if r.chunk >= len(r.chunks) {
			r.err = io.EOF
			break
		}
		lane := r.lanes[r.chunk%len(r.lanes)]
		var m pgMsg
		var ok bool
		select {
		case m, ok = <-lane.out:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		switch {
		case !ok:
			r.err = fmt.Errorf("reading table %q: reader closed", r.table)
		case m.err != nil:
			r.err = r.locate(m.err)
		case m.end:
			r.chunk++
			r.atChunk = r.rows
		default:
			r.rows += m.rec.NumRows()
			return m.rec, nil
		}
	}
	return nil, r.err
}

// locate turns a lane's error into one about the table, counting rows from
// the start of the reader rather than of the chunk.
func (r *pgReader) locate(err error) error {
	var de *dataerr.Error
	if errors.As(err, &de) {
		de.Table = r.table
		if de.Row > 0 {
			de.Row += r.atChunk
		}
		return de
	}
	return fmt.Errorf("reading table %q: %w", r.table, err)
}

// Close stops the lanes and releases their connections.
func (r *pgReader) Close() error {
	if r.cancel == nil {
		return nil
	}
	r.cancel()
	r.cancel = nil
	for _, l := range r.lanes {
		for m := range l.out {
			if m.rec != nil {
				m.rec.Release()
			}
		}
	}
	if r.err == nil {
		r.err = errors.New("reader closed")
	}
	return nil
}

// run reads chunks first, first+lanes, ... and sends their batches, each
// chunk followed by an end mark. It closes out when done.
func (l *pgLane) run(ctx context.Context, r *pgReader, t *pgTable, formats []int16,
	first, batchRows int) {
	defer close(l.out)
	defer l.close()
	// A panic while decoding rows would end the process with a trace that
	// may hold values; it becomes an error of this table that quotes none.
	defer func() {
		if v := recover(); v != nil {
			err := guard.Error(fmt.Sprintf("the reader of table %q", t.info.Name), v)
			select {
			case l.out <- pgMsg{err: err}:
			case <-ctx.Done():
			}
		}
	}()

	b := array.NewRecordBuilder(memory.DefaultAllocator, t.info.Schema)
	defer b.Release()
	decs := pgDecoders(t.cols, b)
	send := func(m pgMsg) bool {
		select {
		case l.out <- m:
			return true
		case <-ctx.Done():
			if m.rec != nil {
				m.rec.Release()
			}
			return false
		}
	}
	for c := first; c < len(r.chunks); c += len(r.lanes) {
		err := l.readChunk(ctx, r.chunks[c], formats, b, decs, t, batchRows, send)
		if err != nil {
			send(pgMsg{err: err})
			return
		}
		if !send(pgMsg{end: true}) {
			return
		}
	}
}

// readChunk runs one chunk's query and sends its rows in batches.
func (l *pgLane) readChunk(ctx context.Context, sql string, formats []int16,
	b *array.RecordBuilder, decs []pgDecode, t *pgTable, batchRows int,
	send func(pgMsg) bool) error {
	rr := l.conn.PgConn().ExecParams(ctx, sql, nil, nil, nil, formats)
	n, row := 0, int64(0)
	for rr.NextRow() {
		if n == 0 {
			b.Reserve(batchRows)
		}
		row++
		for i, v := range rr.Values() {
			if reason := decs[i](v); reason != "" {
				// Leave the rest of the result unread: the lane ends and
				// its connection is closed.
				return &dataerr.Error{Row: row, Column: t.cols[i].name, Rule: "postgres",
					Reason: reason}
			}
		}
		if n++; n == batchRows {
			if !send(pgMsg{rec: b.NewRecordBatch()}) {
				return ctx.Err()
			}
			n = 0
		}
	}
	if _, err := rr.Close(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return pgconn.Explain(err, l.conn.PgConn())
	}
	if n > 0 && !send(pgMsg{rec: b.NewRecordBatch()}) {
		return ctx.Err()
	}
	return nil
}

func (l *pgLane) close() {
	if l.conn != nil {
		closeConn(l.conn)
		l.conn = nil
		l.release()
	}
}

// pgPlan is how a reader splits its table.
type pgPlan struct {
	byKey  bool      // chunks are ranges of the integer primary key, else of blocks
	chunks []pgRange // in read order; none when the shard gets no rows
	lanes  int       // connections worth using
}

// pgRange selects rows whose key (or block) is in [lo, hi); a nil bound is
// open. The zero value is the whole table.
type pgRange struct{ lo, hi *big.Int }

// pgPlanChunks finds the range of the shard and cuts it into chunks when
// the shard is large enough to be read over several connections.
func pgPlanChunks(ctx context.Context, conn *pgx.Conn, p *Postgres, t *pgTable, shard Shard,
	batchRows int) (pgPlan, error) {
	est := max(t.reltuples, 0)
	if !shard.All() {
		est /= float64(shard.Count)
	}
	heap := t.relkind == "r" || t.relkind == "m"
	// Block ranges read fast only with TID range scans (PostgreSQL 14).
	blockChunks := heap && len(t.pk) == 0 && p.version >= 140000

	var lo, hi *big.Int // the smallest and the largest key or block, inclusive
	plan := pgPlan{byKey: t.intPK, lanes: 1}
	switch {
	case t.intPK:
		var mn, mx *int64
		q := fmt.Sprintf("SELECT min(%[1]s)::int8, max(%[1]s)::int8 FROM %[2]s",
			pgconn.Quote(t.pk[0]), t.rel)
		if err := conn.QueryRow(ctx, q).Scan(&mn, &mx); err != nil {
			return plan, pgconn.Reduce(err)
		}
		if mn != nil {
			lo, hi = big.NewInt(*mn), big.NewInt(*mx)
		}
	case heap:
		var blocks int64
		q := "SELECT pg_relation_size($1::regclass) / current_setting('block_size')::int8"
		if err := conn.QueryRow(ctx, q, t.oid).Scan(&blocks); err != nil {
			return plan, pgconn.Reduce(err)
		}
		if blocks > 0 {
			lo, hi = big.NewInt(0), big.NewInt(blocks-1)
		}
	}

	// An empty table, or one that cannot be split: shard 0 reads it all.
	if lo == nil {
		if shard.All() || shard.Index == 0 {
			plan.chunks = []pgRange{{}}
		}
		return plan, nil
	}
	whole := pgRange{}
	if !shard.All() {
		cuts := pgCut(lo, new(big.Int).Add(hi, big.NewInt(1)), shard.Count)
		whole = pgRange{lo: cuts[shard.Index], hi: cuts[shard.Index+1]}
		if shard.Index == 0 {
			whole.lo = nil
		}
		if shard.Index == shard.Count-1 {
			whole.hi = nil
		}
	}

	n := 1
	if (t.intPK || blockChunks) && p.opts.SplitRows > 0 && est > float64(p.opts.SplitRows) {
		n = int(min(est/float64(pgChunkBatches*batchRows)+1, 100000))
		plan.lanes = int(min(float64(p.opts.MaxConns), est/float64(p.opts.SplitRows)+1))
	}
	if n <= 1 {
		plan.chunks = []pgRange{whole}
		return plan, nil
	}

	// Cut the part of the shard where rows are into n chunks; the first
	// and last keep the shard's own bounds.
	from, to := lo, new(big.Int).Add(hi, big.NewInt(1))
	if whole.lo != nil {
		from = whole.lo
	}
	if whole.hi != nil {
		to = whole.hi
	}
	cuts := pgCut(from, to, n)
	cuts[0], cuts[n] = whole.lo, whole.hi
	for i := range n {
		c := pgRange{lo: cuts[i], hi: cuts[i+1]}
		if c.lo != nil && c.hi != nil && c.lo.Cmp(c.hi) >= 0 {
			continue // narrower than n keys: nothing in it
		}
		plan.chunks = append(plan.chunks, c)
	}
	plan.lanes = min(plan.lanes, len(plan.chunks))
	return plan, nil
}

// pgCut returns n+1 bounds that cut [lo, hi) into n nearly equal parts.
func pgCut(lo, hi *big.Int, n int) []*big.Int {
	span := new(big.Int).Sub(hi, lo)
	cuts := make([]*big.Int, n+1)
	for i := 0; i <= n; i++ {
		c := new(big.Int).Mul(span, big.NewInt(int64(i)))
		c.Quo(c, big.NewInt(int64(n)))
		cuts[i] = c.Add(c, lo)
	}
	return cuts
}

// pgChunkSQL is the query for one chunk. Its bounds are the reader's own
// arithmetic on key values; the query is never logged or shown.
func pgChunkSQL(t *pgTable, byKey bool, c pgRange) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, col := range t.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pgconn.Quote(col.name))
	}
	b.WriteString(" FROM ")
	b.WriteString(t.rel)

	var conds []string
	bound := func(op string, v *big.Int) {
		if byKey {
			conds = append(conds, pgconn.Quote(t.pk[0])+" "+op+" "+v.String())
		} else {
			conds = append(conds, "ctid "+op+" '("+strconv.FormatUint(v.Uint64(), 10)+",0)'::tid")
		}
	}
	if c.lo != nil {
		bound(">=", c.lo)
	}
	if c.hi != nil {
		bound("<", c.hi)
	}
	if len(conds) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(conds, " AND "))
	}
	if len(t.pk) > 0 {
		b.WriteString(" ORDER BY ")
		b.WriteString(pgconn.QuoteList(t.pk))
	}
	return b.String()
}

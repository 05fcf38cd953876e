package deid

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"

	"github.com/deid/deid/internal/dataerr"
	"github.com/deid/deid/internal/guard"
	"github.com/deid/deid/safeharbor"
	"github.com/deid/deid/schemas"
	"github.com/deid/deid/sinks"
	"github.com/deid/deid/sources"
	"github.com/deid/deid/tokenize"
)

// Env is what transforms need besides the policy: the keys, the ZIP rule and
// the reference date.
type Env struct {
	Tokenizer *tokenize.Tokenizer
	Zip       safeharbor.ZipRule
	AsOf      time.Time
	// Inferred holds column types guessed from the data, by table and
	// column, for columns the policy gives no type.
	Inferred map[string]map[string]arrow.DataType
}

// Options configures a run.
type Options struct {
	Policy     *schemas.Policy
	PolicyHash string
	Tokenizer  *tokenize.Tokenizer
	// Workers transform batches of one table in parallel; 0 means one per CPU.
	Workers int
	// Tables is how many tables are processed at once; 0 means 2.
	Tables int
	// BatchRows is the batch size asked of the source; 0 is the source default.
	BatchRows int
	// InferTypes guesses the types of text columns that are kept, reduced to
	// a year or top-coded, from their first InferRows rows (default
	// DefaultInferRows), for sinks that keep types. Sources must allow a
	// table to be opened twice.
	InferTypes bool
	InferRows  int
	// Shard selects part of every table; the zero value is all of it.
	Shard sources.Shard
	// Subset keeps the rows of some subjects only; the zero value keeps all.
	// Limits and policy links need first passes over whole tables, so the
	// source must allow a table to be opened more than once.
	Subset Subset
	// AsOf overrides the policy's as_of date; zero means the policy's, else today.
	AsOf time.Time
	// Log receives progress at info level; rows are never logged. Nil is silent.
	Log *slog.Logger
	// BeforeCommit, when set, runs after every table was written and before
	// the sink publishes them; an error aborts the run.
	BeforeCommit func() error
	// Progress, when set, is called from one goroutine per table with the
	// running row count, at most a few times a second.
	Progress func(table string, rows int64)
}

// Result says what a run did, for the manifest.
type Result struct {
	Plan     *Plan
	Subset   Subset // as in Options
	Tables   []TableResult
	Started  time.Time
	Finished time.Time
}

// TableResult counts one table's rows.
type TableResult struct {
	Name    string
	RowsIn  int64
	RowsOut int64
	Seconds float64
}

// Run de-identifies every table of src into dst. It plans the whole run
// before reading a row; any planning problem is a *PlanError. On any error
// the sink is aborted, so nothing partial is published; otherwise the sink
// is committed and the result describes the run.
func Run(ctx context.Context, src sources.Source, dst sinks.Sink, o Options) (res *Result, err error) {
	started := time.Now()
	defer func() {
		if err != nil {
			if aerr := dst.Abort(); aerr != nil {
				err = errors.Join(err, fmt.Errorf("discarding partial output: %w", aerr))
			}
		}
	}()
	// A panic becomes an error first, so that the sink is aborted too.
	defer guard.Recover(&err, "the run")

	env, err := newEnv(o)
	if err != nil {
		return nil, err
	}
	tables, err := src.Tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing source tables: %w", err)
	}
	if o.InferTypes {
		rows := o.InferRows
		if rows <= 0 {
			rows = DefaultInferRows
		}
		if env.Inferred, err = inferTypes(ctx, src, o.Policy, tables, env, rows); err != nil {
			return nil, err
		}
	}
	plan, err := NewPlan(o.Policy, tables, env)
	if err != nil {
		return nil, err
	}
	filters, err := prepareSubset(ctx, src, plan, o)
	if err != nil {
		return nil, err
	}

	res = &Result{Plan: plan, Subset: o.Subset, Started: started,
		Tables: make([]TableResult, len(plan.Tables))}
	g, gctx := errgroup.WithContext(ctx)
	limit := o.Tables
	if limit <= 0 {
		limit = 2
	}
	g.SetLimit(limit)
	for i, tp := range plan.Tables {
		g.Go(func() (err error) {
			defer guard.Recover(&err, fmt.Sprintf("table %q", tp.Name))
			tr, err := runTable(gctx, src, dst, tp, filters[tp.Name], o)
			res.Tables[i] = tr
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.BeforeCommit != nil {
		if err := o.BeforeCommit(); err != nil {
			return nil, err
		}
	}
	if err := dst.Commit(ctx); err != nil {
		return nil, fmt.Errorf("publishing output: %w", err)
	}
	res.Finished = time.Now()
	return res, nil
}

func newEnv(o Options) (Env, error) {
	env := Env{Tokenizer: o.Tokenizer, AsOf: o.AsOf}
	list, err := safeharbor.ParseZipList(o.Policy.Zip3)
	if err != nil {
		return env, err
	}
	env.Zip = safeharbor.NewZipRule(list)
	if env.AsOf.IsZero() && o.Policy.AsOf != "" {
		t, err := time.Parse(time.DateOnly, o.Policy.AsOf)
		if err != nil {
			return env, fmt.Errorf("policy as_of: not a YYYY-MM-DD date")
		}
		env.AsOf = t
	}
	if env.AsOf.IsZero() {
		env.AsOf = time.Now().UTC()
	}
	return env, nil
}

// job is one batch on its way through the workers; done receives its result.
type job struct {
	rec      arrow.RecordBatch
	firstRow int64
	done     chan jobResult
}

type jobResult struct {
	rec arrow.RecordBatch
	err error
}

// runTable streams one table: a reader goroutine, a pool of transform
// workers, and a writer that takes results in input order. Channels are
// bounded, so at most about 3×workers batches are in memory. A non-nil
// filter drops the rows a subset does not keep before they are transformed.
func runTable(ctx context.Context, src sources.Source, dst sinks.Sink, tp *TablePlan,
	filter *rowFilter, o Options) (TableResult, error) {
	start := time.Now()
	tr := TableResult{Name: tp.Name}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	r, err := src.Open(ctx, tp.Name, sources.ReadOptions{
		BatchRows: o.BatchRows, Types: tp.Types, Shard: o.Shard})
	if err != nil {
		return tr, withTable(err, tp.Name)
	}
	defer r.Close()
	if !r.Schema().Equal(tp.In) && !sameFields(r.Schema(), tp.In) {
		return tr, fmt.Errorf("table %q: the source's schema changed after planning", tp.Name)
	}
	w, err := dst.Create(ctx, tp.Out)
	if err != nil {
		return tr, fmt.Errorf("table %q: creating output: %w", tp.Name, err)
	}

	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan job, workers)
	order := make(chan chan jobResult, 2*workers)
	var rowsIn, rowsOut atomic.Int64

	g.Go(func() (err error) { // reader
		defer guard.Recover(&err, fmt.Sprintf("the reader of table %q", tp.Name))
		defer close(jobs)
		defer close(order)
		next := int64(1)
		for {
			rec, err := r.Next(gctx)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return inferenceHint(withTable(err, tp.Name), tp)
			}
			j := job{rec: rec, firstRow: next, done: make(chan jobResult, 1)}
			next += rec.NumRows()
			rowsIn.Add(rec.NumRows())
			if !send(gctx, jobs, j) {
				rec.Release()
				return gctx.Err()
			}
			if !send(gctx, order, j.done) {
				return gctx.Err()
			}
		}
	})
	for range workers {
		g.Go(func() error {
			b := &batchCtx{mem: memory.DefaultAllocator}
			var st *filterState
			if filter != nil {
				st = filter.newState()
			}
			for j := range jobs {
				out, err := tp.guardedTransform(b, filter, st, j.rec, j.firstRow)
				j.rec.Release()
				j.done <- jobResult{rec: out, err: err}
			}
			return nil
		})
	}
	g.Go(func() (err error) { // writer, in input order
		defer guard.Recover(&err, fmt.Sprintf("the writer of table %q", tp.Name))
		for done := range order {
			var jr jobResult
			select {
			case jr = <-done:
			case <-gctx.Done():
				return gctx.Err()
			}
			if jr.err != nil {
				return jr.err
			}
			if jr.rec == nil {
				continue // a subset kept no row of the batch
			}
			err := w.Write(gctx, jr.rec)
			rowsOut.Add(jr.rec.NumRows())
			jr.rec.Release()
			if err != nil {
				return fmt.Errorf("table %q: writing: %w", tp.Name, err)
			}
			if o.Progress != nil {
				o.Progress(tp.Name, rowsOut.Load())
			}
		}
		return nil
	})
	err = g.Wait()
	drain(jobs, order)
	if err != nil {
		return tr, err
	}
	if err := w.Close(ctx); err != nil {
		return tr, fmt.Errorf("table %q: finishing output: %w", tp.Name, err)
	}

	tr.RowsIn, tr.RowsOut = rowsIn.Load(), rowsOut.Load()
	tr.Seconds = time.Since(start).Seconds()
	if o.Log != nil {
		o.Log.Info("table done", "table", tp.Name, "rows", tr.RowsOut, "seconds", tr.Seconds)
	}
	return tr, nil
}

// guardedTransform is filterTransform with a panic turned into an error
// that names the table and the rows of the batch and quotes nothing, so
// that a bug in a transform neither crashes the run with a stack trace
// nor leaks the value that set it off.
func (tp *TablePlan) guardedTransform(b *batchCtx, f *rowFilter, st *filterState,
	rec arrow.RecordBatch, firstRow int64) (out arrow.RecordBatch, err error) {
	defer guard.Recover(&err, fmt.Sprintf("table %q rows %d-%d",
		tp.Name, firstRow, firstRow+rec.NumRows()-1))
	return tp.filterTransform(b, f, st, rec, firstRow)
}

// drain releases batches left in the pipeline after a failure.
func drain(jobs chan job, order chan chan jobResult) {
	for j := range jobs {
		j.rec.Release()
	}
	for done := range order {
		select {
		case jr := <-done:
			if jr.rec != nil {
				jr.rec.Release()
			}
		default:
		}
	}
}

func send[T any](ctx context.Context, ch chan<- T, v T) bool {
	select {
	case ch <- v:
		return true
	case <-ctx.Done():
		return false
	}
}

func sameFields(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.Fields() {
		if a.Field(i).Name != b.Field(i).Name || !arrow.TypeEqual(a.Field(i).Type, b.Field(i).Type) {
			return false
		}
	}
	return true
}

// withTable fills in the table of a data error that lacks one.
func withTable(err error, table string) error {
	var de *dataerr.Error
	if errors.As(err, &de) && de.Table == "" {
		de.Table = table
	}
	return err
}

// transform applies the plan to one batch whose first row is row firstRow
// of the table.
func (tp *TablePlan) transform(b *batchCtx, rec arrow.RecordBatch, firstRow int64) (
	arrow.RecordBatch, error) {
	b.rec = rec
	defer func() { b.rec = nil }()
	cols := make([]arrow.Array, 0, len(tp.Columns))
	release := func() {
		for _, c := range cols {
			c.Release()
		}
	}
	for _, c := range tp.Columns {
		if c.Dropped() {
			continue
		}
		out, err := c.apply(b, rec.Column(c.Index))
		if err != nil {
			release()
			return nil, locate(err, tp.Name, c, firstRow)
		}
		cols = append(cols, out)
	}
	out := array.NewRecordBatch(tp.Out.Schema, cols, rec.NumRows())
	release()
	return out, nil
}

// locate turns a transform's batch-relative error into one that names the
// table, the column and the row of the table.
func locate(err error, table string, c *ColumnPlan, firstRow int64) error {
	var de *dataerr.Error
	if !errors.As(err, &de) {
		return fmt.Errorf("table %q column %q: %w", table, c.Name, err)
	}
	out := *de
	out.Table, out.Column = table, c.Name
	if out.Row > 0 {
		out.Row += firstRow - 1
	}
	if out.Rule == "" {
		out.Rule = string(c.Kind)
	}
	return &out
}

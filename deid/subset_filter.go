package deid

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/deid/deid/internal/dataerr"
	"github.com/deid/deid/sources"
	"github.com/deid/deid/tokenize"
)

// rowFilter decides which rows of one table a subset keeps: a row is kept
// when every non-null value of its subject columns is a kept subject (and
// at least one is not null), and when its link value is in the link set.
type rowFilter struct {
	subjects []subjectColumn
	link     *linkColumn
}

type subjectColumn struct {
	index  int
	name   string
	domain string
	kind   keyKind
	dom    *tokenize.Domain
	cut    *cut
}

type linkColumn struct {
	index int
	name  string
	kind  keyKind
	to    string
	set   *keySet
}

func (f *rowFilter) describe() string {
	var parts []string
	if len(f.subjects) > 0 {
		var names []string
		for _, s := range f.subjects {
			names = append(names, fmt.Sprintf("%s (%s)", s.name, s.domain))
		}
		verb := " holds a kept subject"
		if len(names) > 1 {
			verb = " hold kept subjects"
		}
		parts = append(parts, "rows whose "+strings.Join(names, " and ")+verb)
	}
	if f.link != nil {
		parts = append(parts, fmt.Sprintf("rows whose %s is among %s of the kept rows",
			f.link.name, f.link.to))
	}
	return strings.Join(parts, ", and ")
}

// filterState is one goroutine's memo of the last decision per subject
// column: keys repeat in runs (a patient's encounters), and a seed costs an
// HMAC. It lives in that goroutine's memory only.
type filterState struct {
	lastInt []int64
	lastStr []string
	lastOK  []bool
	valid   []bool
	sel     []int
}

func (f *rowFilter) newState() *filterState {
	n := len(f.subjects)
	return &filterState{lastInt: make([]int64, n), lastStr: make([]string, n),
		lastOK: make([]bool, n), valid: make([]bool, n)}
}

// keep returns the indexes of the rows of rec the filter keeps, and
// whether that is every row. The slice is reused by the next call.
func (f *rowFilter) keep(rec arrow.RecordBatch, st *filterState) (sel []int, all bool) {
	n := int(rec.NumRows())
	sel = st.sel[:0]
	for row := range n {
		if f.keepRow(rec, row, st) {
			sel = append(sel, row)
		}
	}
	st.sel = sel
	return sel, len(sel) == n
}

func (f *rowFilter) keepRow(rec arrow.RecordBatch, row int, st *filterState) bool {
	if len(f.subjects) > 0 {
		seen := false
		for i, s := range f.subjects {
			col := rec.Column(s.index)
			if col.IsNull(row) {
				continue
			}
			seen = true
			if !s.keeps(col, row, st, i) {
				return false
			}
		}
		if !seen {
			return false
		}
	}
	if l := f.link; l != nil {
		col := rec.Column(l.index)
		return col.IsValid(row) && l.set.has(col, row)
	}
	return true
}

// keeps decides the subject at row of col, remembering the last one.
func (s *subjectColumn) keeps(col arrow.Array, row int, st *filterState, i int) bool {
	if s.kind == intKey {
		v := intAt(col, row)
		if st.valid[i] && st.lastInt[i] == v {
			return st.lastOK[i]
		}
		ok := s.cut.keeps(s.dom.SeedInt64(v))
		st.lastInt[i], st.lastOK[i], st.valid[i] = v, ok, true
		return ok
	}
	v := col.(*array.String).Value(row)
	if st.valid[i] && st.lastStr[i] == v {
		return st.lastOK[i]
	}
	ok := s.cut.keeps(s.dom.Seed([]byte(v)))
	st.lastStr[i], st.lastOK[i], st.valid[i] = strings.Clone(v), ok, true
	return ok
}

// keySet is the set of kept values of one column. It holds every distinct
// kept value, so its memory grows with the subset (a few bytes a key plus
// the map's overhead): fine for fixtures and samples of millions of keys.
type keySet struct {
	ints map[int64]struct{}
	strs map[string]struct{}
}

func newKeySet(k keyKind) *keySet {
	if k == intKey {
		return &keySet{ints: map[int64]struct{}{}}
	}
	return &keySet{strs: map[string]struct{}{}}
}

func (s *keySet) add(col arrow.Array, row int) {
	if s.ints != nil {
		s.ints[intAt(col, row)] = struct{}{}
		return
	}
	v := col.(*array.String).Value(row)
	if _, ok := s.strs[v]; !ok {
		s.strs[strings.Clone(v)] = struct{}{}
	}
}

func (s *keySet) has(col arrow.Array, row int) bool {
	if s.ints != nil {
		_, ok := s.ints[intAt(col, row)]
		return ok
	}
	_, ok := s.strs[col.(*array.String).Value(row)]
	return ok
}

// smallest keeps the n smallest distinct seeds seen, in a max-heap, so its
// memory is bounded by n whatever the input.
type smallest struct {
	n    int
	h    seedHeap
	seen map[uint64]struct{}
}

func (s *smallest) push(seed uint64) {
	if _, dup := s.seen[seed]; dup {
		return
	}
	if len(s.h) < s.n {
		s.seen[seed] = struct{}{}
		heap.Push(&s.h, seed)
		return
	}
	if seed < s.h[0] {
		delete(s.seen, s.h[0])
		s.seen[seed] = struct{}{}
		s.h[0] = seed
		heap.Fix(&s.h, 0)
	}
}

// cut keeps the seeds found: all of them when there were fewer than n.
func (s *smallest) cut() cut {
	if len(s.h) < s.n || s.h[0] == maxSeed {
		return cut{all: true}
	}
	return cut{below: s.h[0] + 1}
}

type seedHeap []uint64

func (h seedHeap) Len() int           { return len(h) }
func (h seedHeap) Less(i, j int) bool { return h[i] > h[j] }
func (h seedHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *seedHeap) Push(x any)        { *h = append(*h, x.(uint64)) }
func (h *seedHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// prepare runs the first passes: the cut of every limited domain, then
// the link sets in dependency order. Each pass reads a whole table, not a
// shard of it, since a shard's rows may link to rows of any other shard.
//
// TODO: first passes read one table at a time in one goroutine.
func (sp *subsetPlan) prepare(ctx context.Context, src sources.Source, batchRows int) error {
	for _, lp := range sp.limits {
		top := &smallest{n: int(min(lp.limit.N, 1<<30)), seen: map[uint64]struct{}{}}
		for _, tc := range lp.cols {
			dom := sp.tok.Domain(lp.limit.Domain)
			err := scanTable(ctx, src, tc.table, batchRows, func(rec arrow.RecordBatch) {
				col := rec.Column(tc.col.Index)
				for row := range col.Len() {
					if col.IsNull(row) {
						continue
					}
					if keyKindOf(col.DataType()) == intKey {
						top.push(dom.SeedInt64(intAt(col, row)))
					} else {
						top.push(dom.Seed([]byte(col.(*array.String).Value(row))))
					}
				}
			})
			if err != nil {
				return err
			}
		}
		*sp.cuts[lp.limit.Domain] = top.cut()
	}

	for _, lp := range sp.links {
		f := sp.filters[lp.from.table.Name]
		var st *filterState
		if f != nil {
			st = f.newState()
		}
		err := scanTable(ctx, src, lp.from.table, batchRows, func(rec arrow.RecordBatch) {
			col := rec.Column(lp.from.col.Index)
			for row := range int(rec.NumRows()) {
				if col.IsValid(row) && (f == nil || f.keepRow(rec, row, st)) {
					lp.set.add(col, row)
				}
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// scanTable reads every row of table t in order and passes each batch to fn.
func scanTable(ctx context.Context, src sources.Source, t *TablePlan, batchRows int,
	fn func(arrow.RecordBatch)) error {
	r, err := src.Open(ctx, t.Name, sources.ReadOptions{BatchRows: batchRows, Types: t.Types})
	if err != nil {
		return fmt.Errorf("subset: first pass: %w", withTable(err, t.Name))
	}
	defer r.Close()
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return withTable(err, t.Name)
		}
		fn(rec)
		rec.Release()
	}
}

// take returns the rows sel of rec, in order, as a new batch.
func take(mem memory.Allocator, rec arrow.RecordBatch, sel []int) (arrow.RecordBatch, error) {
	ib := array.NewInt32Builder(mem)
	defer ib.Release()
	ib.Reserve(len(sel))
	for _, i := range sel {
		ib.UnsafeAppend(int32(i))
	}
	idx := ib.NewArray()
	defer idx.Release()

	ctx := compute.WithAllocator(context.Background(), mem)
	cols := make([]arrow.Array, 0, rec.NumCols())
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for _, c := range rec.Columns() {
		out, err := compute.TakeArray(ctx, c, idx)
		if err != nil {
			return nil, fmt.Errorf("subset: selecting rows: %w", err)
		}
		cols = append(cols, out)
	}
	return array.NewRecordBatch(rec.Schema(), cols, int64(len(sel))), nil
}

// relocate turns the row of a transform error located in a filtered batch
// back into the row of the table: the batch held rows sel of the batch
// that started at firstRow.
func relocate(err error, firstRow int64, sel []int) error {
	var de *dataerr.Error
	if !errors.As(err, &de) || de.Row < firstRow {
		return err
	}
	if i := de.Row - firstRow; i < int64(len(sel)) {
		de.Row = firstRow + int64(sel[i])
	}
	return err
}

// prepareSubset plans the subset of o and runs its first passes. It returns
// the filter of every table a subset cuts down, or nil for a full run.
func prepareSubset(ctx context.Context, src sources.Source, plan *Plan, o Options) (
	map[string]*rowFilter, error) {
	if o.Subset.IsZero() {
		return nil, nil
	}
	sp, err := newSubsetPlan(o.Policy, plan, o.Subset, o.Tokenizer)
	if err != nil {
		return nil, err
	}
	if err := sp.prepare(ctx, src, o.BatchRows); err != nil {
		return nil, err
	}
	return sp.filters, nil
}

// filterTransform drops the rows of rec that filter f does not keep, then
// transforms the rest. It returns a nil batch when no row is kept.
func (tp *TablePlan) filterTransform(b *batchCtx, f *rowFilter, st *filterState,
	rec arrow.RecordBatch, firstRow int64) (arrow.RecordBatch, error) {
	if f == nil {
		return tp.transform(b, rec, firstRow)
	}
	sel, all := f.keep(rec, st)
	switch {
	case all:
		return tp.transform(b, rec, firstRow)
	case len(sel) == 0:
		return nil, nil
	}

	kept, err := take(b.mem, rec, sel)
	if err != nil {
		return nil, err
	}
	defer kept.Release()
	out, err := tp.transform(b, kept, firstRow)
	if err != nil {
		return nil, relocate(err, firstRow, sel)
	}
	return out, nil
}

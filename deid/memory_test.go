package deid

import (
	"context"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/deid/deid/sinks"
	"github.com/deid/deid/sources"
)

// memSource serves string tables held in memory, in batches of batchRows.
type memSource struct {
	tables    map[string][][]string // first row is the header; "" is null
	batchRows int
}

func (m *memSource) Tables(context.Context) ([]sources.Table, error) {
	var out []sources.Table
	for _, name := range slices.Sorted(maps.Keys(m.tables)) {
		var fields []arrow.Field
		for _, h := range m.tables[name][0] {
			fields = append(fields, arrow.Field{Name: h, Type: arrow.BinaryTypes.String, Nullable: true})
		}
		out = append(out, sources.Table{Name: name, Schema: arrow.NewSchema(fields, nil),
			Location: "memory"})
	}
	return out, nil
}

func (m *memSource) Open(_ context.Context, table string, o sources.ReadOptions) (sources.Reader, error) {
	rows := m.tables[table]
	var fields []arrow.Field
	for _, h := range rows[0] {
		dt := arrow.DataType(arrow.BinaryTypes.String)
		if t, ok := o.Types[h]; ok {
			dt = t
		}
		fields = append(fields, arrow.Field{Name: h, Type: dt, Nullable: true})
	}
	return &memReader{schema: arrow.NewSchema(fields, nil), rows: rows[1:], n: m.batchRows}, nil
}

func (m *memSource) Close() error { return nil }

type memReader struct {
	schema *arrow.Schema
	rows   [][]string
	n      int
}

func (r *memReader) Schema() *arrow.Schema { return r.schema }

func (r *memReader) Next(context.Context) (arrow.RecordBatch, error) {
	if len(r.rows) == 0 {
		return nil, io.EOF
	}
	n := min(r.n, len(r.rows))
	if n <= 0 {
		n = len(r.rows)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, r.schema)
	defer b.Release()
	for _, row := range r.rows[:n] {
		for i, v := range row {
			if v == "" {
				b.Field(i).AppendNull()
				continue
			}
			if err := b.Field(i).AppendValueFromString(v); err != nil {
				return nil, err
			}
		}
	}
	r.rows = r.rows[n:]
	return b.NewRecordBatch(), nil
}

func (r *memReader) Close() error { return nil }

// memSink keeps every table's output as text rows.
type memSink struct {
	mu        sync.Mutex
	tables    map[string][][]string
	schemas   map[string]*arrow.Schema
	committed bool
	aborted   bool
	failAfter int // fail the Nth Write when > 0
	writes    int
}

func newMemSink() *memSink {
	return &memSink{tables: map[string][][]string{}, schemas: map[string]*arrow.Schema{}}
}

func (s *memSink) Create(_ context.Context, t sources.Table) (sinks.Writer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schemas[t.Name] = t.Schema
	return &memWriter{s: s, name: t.Name}, nil
}

func (s *memSink) Commit(context.Context) error { s.committed = true; return nil }
func (s *memSink) Abort() error                 { s.aborted = true; return nil }

type memWriter struct {
	s    *memSink
	name string
}

func (w *memWriter) Write(_ context.Context, rec arrow.RecordBatch) error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	w.s.writes++
	if w.s.failAfter > 0 && w.s.writes >= w.s.failAfter {
		return io.ErrShortWrite
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		row := make([]string, rec.NumCols())
		for j, c := range rec.Columns() {
			if c.IsValid(i) {
				row[j] = c.ValueStr(i)
			} else {
				row[j] = "<null>"
			}
		}
		w.s.tables[w.name] = append(w.s.tables[w.name], row)
	}
	return nil
}

func (w *memWriter) Close(context.Context) error { return nil }

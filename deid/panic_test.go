package deid

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/deid/deid/internal/guard"
	"github.com/deid/deid/sinks"
	"github.com/deid/deid/sources"
)

const panicCanary = "CANARY-PANIC-6120"

// panicSource wraps a memSource; its readers panic, or return a batch of the
// wrong types, after `after` batches.
type panicSource struct {
	*memSource
	after     int
	wrongType bool
}

func (s *panicSource) Open(ctx context.Context, table string, o sources.ReadOptions) (
	sources.Reader, error) {
	r, err := s.memSource.Open(ctx, table, o)
	if err != nil {
		return nil, err
	}
	return &panicReader{Reader: r, left: s.after, wrongType: s.wrongType}, nil
}

type panicReader struct {
	sources.Reader
	left      int
	wrongType bool
}

func (r *panicReader) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if r.left > 0 {
		r.left--
		return r.Reader.Next(ctx)
	}
	if !r.wrongType {
		panic("reading " + panicCanary)
	}
	// Every column an int64 where the plan expects text: the transforms'
	// type assertions panic.
	s := r.Schema()
	fields := make([]arrow.Field, s.NumFields())
	cols := make([]arrow.Array, s.NumFields())
	for i := range fields {
		fields[i] = arrow.Field{Name: s.Field(i).Name, Type: arrow.PrimitiveTypes.Int64}
		b := array.NewInt64Builder(memory.DefaultAllocator)
		b.Append(6120)
		cols[i] = b.NewArray()
		b.Release()
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, 1), nil
}

// panicSink wraps a memSink; Create, Write or Commit panic with a canary.
type panicSink struct {
	*memSink
	in string // "create", "write" or "commit"
}

func (s *panicSink) Create(ctx context.Context, t sources.Table) (sinks.Writer, error) {
	if s.in == "create" {
		panic("creating " + panicCanary)
	}
	w, err := s.memSink.Create(ctx, t)
	return &panicWriter{Writer: w, s: s}, err
}

func (s *panicSink) Commit(ctx context.Context) error {
	if s.in == "commit" {
		panic("committing " + panicCanary)
	}
	return s.memSink.Commit(ctx)
}

type panicWriter struct {
	sinks.Writer
	s *panicSink
}

func (w *panicWriter) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if w.s.in == "write" {
		panic("writing " + panicCanary)
	}
	return w.Writer.Write(ctx, rec)
}

// TestRunRecoversPanics checks that a panic in any goroutine of a run (the
// reader, a transform worker, the writer, the table's own) ends the run
// with an error that quotes nothing, aborts the sink, and neither crashes
// nor hangs the process.
func TestRunRecoversPanics(t *testing.T) {
	tests := []struct {
		name      string
		after     int
		wrongType bool
		sinkIn    string
		wantWhere string
	}{
		{"reader, first batch", 0, false, "", `the reader of table "patients"`},
		{"reader, later batch", 3, false, "", `the reader of table "patients"`},
		{"transform", 2, true, "", `table "patients" rows 21-21`},
		{"sink write", 100, false, "write", `the writer of table "patients"`},
		{"sink create", 100, false, "create", `table "patients"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testPolicy(t, patientsPolicy)
			mem := &memSource{tables: map[string][][]string{"patients": patientRows(100)},
				batchRows: 10}
			src := &panicSource{memSource: mem, after: tc.after, wrongType: tc.wrongType}
			sink := &panicSink{memSink: newMemSink(), in: tc.sinkIn}

			done := make(chan error, 1)
			go func() {
				_, err := Run(context.Background(), src, sink,
					Options{Policy: p, Tokenizer: testTokenizer(t), Workers: 3})
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("the run did not end after a panic")
			}
			t.Log(err)

			var pe *guard.PanicError
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v, want a *guard.PanicError", err)
			}
			if pe.Where != tc.wantWhere {
				t.Errorf("panic located in %q, want %q", pe.Where, tc.wantWhere)
			}
			if strings.Contains(err.Error(), panicCanary) || strings.Contains(err.Error(), "6120") {
				t.Errorf("error quotes the panic: %v", err)
			}
			if sink.committed || !sink.aborted {
				t.Errorf("committed=%v aborted=%v, want aborted only", sink.committed, sink.aborted)
			}
		})
	}
}

// TestRunPanicInCommitAborts checks that a panic in the run's own goroutine
// becomes an error and still aborts the sink.
func TestRunPanicInCommitAborts(t *testing.T) {
	p := testPolicy(t, patientsPolicy)
	sink := &panicSink{memSink: newMemSink(), in: "commit"}
	src := &memSource{tables: map[string][][]string{"patients": patientRows(10)}}
	_, err := Run(context.Background(), src, sink, Options{Policy: p, Tokenizer: testTokenizer(t)})
	var pe *guard.PanicError
	if !errors.As(err, &pe) || strings.Contains(err.Error(), panicCanary) {
		t.Errorf("error = %v, want a panic error that quotes nothing", err)
	}
	if !sink.aborted {
		t.Error("a panic in Commit left the sink not aborted")
	}
}

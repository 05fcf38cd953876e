package sinks

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/deid/deid/internal/pgtest"
	"github.com/deid/deid/sources"
)

// pgPatients is a patients table as the fixture declares it, with batches
// of n rows whose text columns all hold the canary.
func pgPatients(n int, first int32) (sources.Table, arrow.RecordBatch) {
	fields := []arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int32},
		{Name: "mrn", Type: arrow.BinaryTypes.String},
		{Name: "last", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "first", Type: arrow.BinaryTypes.String, Nullable: true},
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.Int32Builder).Append(first + int32(i))
		for c := 1; c < 4; c++ {
			b.Field(c).(*array.StringBuilder).Append(pgCanary)
		}
	}
	return sources.Table{Name: "patients", Schema: schema}, b.NewRecordBatch()
}

// TestIntegrationPostgresKilledWriter ends the loading connection from the
// server side in the middle of a table.
func TestIntegrationPostgresKilledWriter(t *testing.T) {
	from, to := pgFixture(t)
	ctx := context.Background()
	sink, err := NewPostgresSink(ctx, to, PostgresSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	info, _ := pgPatients(0, 0)
	w, err := sink.Create(ctx, info)
	if err != nil {
		t.Fatal(err)
	}

	var werr error
	for i := 0; i < 50 && werr == nil; i++ {
		_, rec := pgPatients(10000, int32(i*10000))
		werr = w.Write(ctx, rec)
		rec.Release()
		if i == 3 {
			pgtest.Terminate(t, to, sink.tables[0].writer.conn.PgConn().PID())
		}
	}
	if werr == nil {
		werr = w.Close(ctx)
	}
	if werr == nil {
		t.Fatal("Write and Close succeeded after the connection was killed")
	}
	msg := werr.Error()
	if strings.Contains(msg, pgCanary) || !strings.Contains(msg, `loading table "patients"`) ||
		!strings.Contains(msg, "connection to the server lost") {
		t.Errorf("error = %q, want one that names the table, says the connection was lost, "+
			"and holds no value", msg)
	}
	t.Logf("error: %v", werr)
	if err := sink.Abort(); err != nil {
		t.Errorf("Abort: %v", err)
	}
	if got := pgState(t, to); got != pgOldState {
		t.Errorf("target state = %s, want yesterday's %s", got, pgOldState)
	}

	pgCopy(t, from, to, pgFixtureTables, PostgresSinkOptions{})
	if got, want := pgState(t, to), "(500,3000,MRN-1,0)"; got != want {
		t.Errorf("after the next run the target is %s, want %s", got, want)
	}
}

// TestIntegrationPostgresKilledCommit ends the connection that holds the
// staging lock before Commit: Commit fails, the staging schema goes, the
// target stays, and the next run succeeds.
func TestIntegrationPostgresKilledCommit(t *testing.T) {
	from, to := pgFixture(t)
	ctx := context.Background()
	sink, err := NewPostgresSink(ctx, to, PostgresSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	info, rec := pgPatients(100, 1)
	defer rec.Release()
	w, err := sink.Create(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}

	pgtest.Terminate(t, to, sink.control.PgConn().PID())
	err = sink.Commit(ctx)
	if err == nil {
		t.Fatal("Commit succeeded after its connection was killed")
	}
	if strings.Contains(err.Error(), pgCanary) || !strings.Contains(err.Error(), "connection") {
		t.Errorf("Commit error = %q, want a lost connection and no value", err)
	}
	t.Logf("error: %v", err)
	if err := sink.Abort(); err != nil {
		t.Errorf("Abort after a failed Commit: %v", err)
	}
	if got := pgState(t, to); got != pgOldState {
		t.Errorf("target state = %s, want yesterday's %s", got, pgOldState)
	}

	pgCopy(t, from, to, pgFixtureTables, PostgresSinkOptions{})
	if got, want := pgState(t, to), "(500,3000,MRN-1,0)"; got != want {
		t.Errorf("after the next run the target is %s, want %s", got, want)
	}
}

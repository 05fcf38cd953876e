package sources

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/internal/guard"
	"github.com/deid/deid/internal/pgconn"
)

// TestPostgresLaneRecoversPanics makes a reading lane panic (a column
// described as smallint but built as text) and checks that the reader gets
// an error that quotes nothing instead of the process crashing.
func TestPostgresLaneRecoversPanics(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.BinaryTypes.String}}, nil)
	tbl := &pgTable{info: Table{Name: "t", Schema: schema},
		cols: []pgColumn{{name: "a", typ: pgconn.Type{Kind: pgconn.KindInt2}}}}
	lane := &pgLane{out: make(chan pgMsg, 1)}
	r := &pgReader{table: "t", chunks: []string{"SELECT 1"}, lanes: []*pgLane{lane}}

	go lane.run(context.Background(), r, tbl, []int16{1}, 0, 10)
	m, ok := <-lane.out
	var pe *guard.PanicError
	if !ok || !errors.As(m.err, &pe) || pe.Where != `the reader of table "t"` {
		t.Fatalf("lane sent %+v, %v; want a panic error of table t", m, ok)
	}
	if _, open := <-lane.out; open {
		t.Error("the lane's channel stayed open after its panic")
	}
}

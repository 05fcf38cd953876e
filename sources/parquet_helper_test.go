package sources

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/deid/deid/internal/dataerr"
)

// pqRecord builds a batch of sc from JSON rows; every value is synthetic.
func pqRecord(t testing.TB, sc *arrow.Schema, rows string) arrow.RecordBatch {
	t.Helper()
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, sc, strings.NewReader(rows))
	if err != nil {
		t.Fatalf("building test batch: %v", err)
	}
	return rec
}

// writePQFile writes recs to path with pqarrow, one row group per batch,
// zstd, dictionary encoding and the Arrow schema stored.
func writePQFile(t testing.TB, path string, sc *arrow.Schema, recs ...arrow.RecordBatch) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCreatedBy("deid-test"), parquet.WithStats(true))
	fw, err := pqarrow.NewFileWriter(sc, f, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
	for _, rec := range recs {
		if err := fw.Write(rec); err != nil {
			t.Fatalf("writing %s: %v", path, err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
}

// readPQAll reads a whole table (or one shard of it) and returns its
// batches, checking that none is empty or larger than batch rows.
func readPQAll(t testing.TB, src Source, table string, opts ReadOptions) []arrow.RecordBatch {
	t.Helper()
	recs, err := readPQ(src, table, opts)
	if err != nil {
		t.Fatalf("reading table %q: %v", table, err)
	}
	limit := opts.BatchRows
	if limit <= 0 {
		limit = DefaultBatchRows
	}
	for _, rec := range recs {
		if rec.NumRows() == 0 || rec.NumRows() > int64(limit) {
			t.Fatalf("batch of %d rows, want 1..%d", rec.NumRows(), limit)
		}
	}
	return recs
}

// readPQ reads a whole table and returns its batches or the first error.
func readPQ(src Source, table string, opts ReadOptions) ([]arrow.RecordBatch, error) {
	ctx := context.Background()
	r, err := src.Open(ctx, table, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var recs []arrow.RecordBatch
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return recs, nil
		}
		if err != nil {
			return recs, err
		}
		if !rec.Schema().Equal(r.Schema()) {
			return recs, errors.New("batch schema differs from the reader's")
		}
		recs = append(recs, rec)
	}
}

// pqConcat joins batches into one for comparison.
func pqConcat(t testing.TB, sc *arrow.Schema, recs []arrow.RecordBatch) arrow.RecordBatch {
	t.Helper()
	if len(recs) == 0 {
		return array.NewRecordBatch(sc, pqEmptyColumns(sc), 0)
	}
	tbl := array.NewTableFromRecords(sc, recs)
	defer tbl.Release()
	cols := make([]arrow.Array, sc.NumFields())
	for i := range cols {
		a, err := array.Concatenate(tbl.Column(i).Data().Chunks(), memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		cols[i] = a
	}
	return array.NewRecordBatch(sc, cols, tbl.NumRows())
}

func pqEmptyColumns(sc *arrow.Schema) []arrow.Array {
	cols := make([]arrow.Array, sc.NumFields())
	for i, f := range sc.Fields() {
		cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, 0)
	}
	return cols
}

// checkPQError checks that err is a *dataerr.Error naming file and, if col
// is not empty, column, and that its text holds no canary.
func checkPQError(t testing.TB, err error, file, col string, canaries ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one naming %s", file)
	}
	var de *dataerr.Error
	if !errors.As(err, &de) {
		t.Fatalf("got %T %q, want a *dataerr.Error", err, err)
	}
	if de.File != file {
		t.Errorf("error names file %q, want %q (%v)", de.File, file, err)
	}
	if col != "" && de.Column != col {
		t.Errorf("error names column %q, want %q (%v)", de.Column, col, err)
	}
	for _, c := range canaries {
		if strings.Contains(err.Error(), c) {
			t.Errorf("error %q quotes the value %q", err, c)
		}
	}
}

package sources

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// pqTypesSchema has a column of every type the source reads.
var pqTypesSchema = arrow.NewSchema([]arrow.Field{
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	{Name: "i16", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
	{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "i64", Type: arrow.PrimitiveTypes.Int64},
	{Name: "u8", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
	{Name: "u16", Type: arrow.PrimitiveTypes.Uint16, Nullable: true},
	{Name: "u32", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
	{Name: "u64", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
	{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "dec", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
	{Name: "dec38", Type: &arrow.Decimal128Type{Precision: 38, Scale: 6}, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "fixed", Type: &arrow.FixedSizeBinaryType{ByteWidth: 3}, Nullable: true},
	{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ts_ms", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
	{Name: "ts_us_utc", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "ts_ns_ny", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "America/New_York"}, Nullable: true},
	{Name: "t32", Type: arrow.FixedWidthTypes.Time32ms, Nullable: true},
	{Name: "t64", Type: arrow.FixedWidthTypes.Time64us, Nullable: true},
}, nil)

// pqTypesRows are synthetic values for pqTypesSchema, with a null in every
// nullable column.
const pqTypesRows = `[
{"b": true, "i8": -8, "i16": -1600, "i32": -320000, "i64": -6400000000,
 "u8": 250, "u16": 65000, "u32": 4000000000, "u64": 18000000000000000000,
 "f32": 1.5, "f64": -2.25, "dec": "12345.67", "dec38": "1234567890.123456",
 "s": "Fake Name One", "bin": "AAEC", "fixed": "AQID", "d": "1970-01-02",
 "ts_ms": "2001-02-03T04:05:06.007", "ts_us_utc": "2001-02-03T04:05:06.000007Z",
 "ts_ns_ny": "2001-02-03T04:05:06.000000007Z", "t32": "04:05:06.007", "t64": "04:05:06.000007"},
{"b": null, "i8": null, "i16": null, "i32": null, "i64": 0, "u8": null, "u16": null,
 "u32": null, "u64": null, "f32": null, "f64": null, "dec": null, "dec38": null, "s": null,
 "bin": null, "fixed": null, "d": null, "ts_ms": null, "ts_us_utc": null, "ts_ns_ny": null,
 "t32": null, "t64": null},
{"b": false, "i8": 127, "i16": 32767, "i32": 2147483647, "i64": 9223372036854775807,
 "u8": 0, "u16": 0, "u32": 0, "u64": 0, "f32": 0, "f64": 1e300, "dec": "-0.01",
 "dec38": "-1", "s": "", "bin": "", "fixed": "AAAA", "d": "2099-12-31",
 "ts_ms": "1900-01-01T00:00:00", "ts_us_utc": "1969-12-31T23:59:59.999999Z",
 "ts_ns_ny": "2262-04-11T00:00:00Z", "t32": "23:59:59.999", "t64": "00:00:00"}
]`

func TestParquetTypes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "types.parquet")
	want := pqRecord(t, pqTypesSchema, pqTypesRows)
	defer want.Release()
	writePQFile(t, path, pqTypesSchema, want)

	src, err := NewParquetFile(path, ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tables, err := src.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 1 || tables[0].Name != "types" || tables[0].Location != path {
		t.Fatalf("got tables %+v, want one named types at %s", tables, path)
	}
	got := tables[0].Schema
	for i, wf := range pqTypesSchema.Fields() {
		gf := got.Field(i)
		if ts, ok := wf.Type.(*arrow.TimestampType); ok && ts.TimeZone != "" {
			// Parquet keeps instants, not zone names.
			wf.Type = &arrow.TimestampType{Unit: ts.Unit, TimeZone: "UTC"}
		}
		if gf.Name != wf.Name || !arrow.TypeEqual(gf.Type, wf.Type) || gf.Nullable != wf.Nullable {
			t.Errorf("column %d: got %s %s nullable=%t, want %s %s nullable=%t",
				i, gf.Name, gf.Type, gf.Nullable, wf.Name, wf.Type, wf.Nullable)
		}
		if st, ok := gf.Metadata.GetValue(MetaSourceType); !ok || st == "" {
			t.Errorf("column %s: no %s metadata", gf.Name, MetaSourceType)
		}
	}

	recs := readPQAll(t, src, "types", ReadOptions{})
	rec := pqConcat(t, got, recs)
	defer rec.Release()
	for i := range pqTypesSchema.Fields() {
		if ts, ok := rec.Column(i).(*array.Timestamp); ok {
			w := want.Column(i).(*array.Timestamp)
			if ts.NullN() != w.NullN() || !slices.Equal(ts.TimestampValues(), w.TimestampValues()) {
				t.Errorf("column %s: got %v, want %v", got.Field(i).Name, ts, w)
			}
			continue
		}
		if !array.Equal(rec.Column(i), want.Column(i)) {
			t.Errorf("column %s: got %v, want %v", got.Field(i).Name, rec.Column(i), want.Column(i))
		}
	}
}

func TestParquetSourceType(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.parquet")
	rec := pqRecord(t, pqTypesSchema, pqTypesRows)
	defer rec.Release()
	writePQFile(t, path, pqTypesSchema, rec)
	src, err := NewParquetFile(path, ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tables, err := src.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"i64":       "INT64 Int(bitWidth=64, isSigned=true)",
		"d":         "INT32 Date",
		"s":         "BYTE_ARRAY String",
		"dec":       "FIXED_LEN_BYTE_ARRAY(5) Decimal(precision=10, scale=2)",
		"fixed":     "FIXED_LEN_BYTE_ARRAY(3)",
		"ts_us_utc": "INT64 Timestamp(isAdjustedToUTC=true, unit=us)",
	}
	sc := tables[0].Schema
	for col, want := range tests {
		f, _ := sc.FieldsByName(col)
		got, _ := f[0].Metadata.GetValue(MetaSourceType)
		if got != want {
			t.Errorf("column %s: got source type %q, want %q", col, got, want)
		}
	}
}

func TestParquetDictionary(t *testing.T) {
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "code", Type: dict, Nullable: true},
		{Name: "big", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	}, nil)
	var rows []string
	for i := range 300 {
		code := fmt.Sprintf(`"C%02d"`, i%7)
		if i%11 == 0 {
			code = "null"
		}
		rows = append(rows, fmt.Sprintf(`{"code": %s, "big": "value %d"}`, code, i%5))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "dict.parquet")
	// Two row groups, so a batch spans two dictionaries.
	all := pqRecord(t, sc, "["+strings.Join(rows, ",")+"]")
	defer all.Release()
	writePQFile(t, path, sc, all.NewSlice(0, 150), all.NewSlice(150, 300))

	src, err := NewParquetFile(path, ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tables, err := src.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	gotSchema := tables[0].Schema
	for i, want := range []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.String} {
		if got := gotSchema.Field(i).Type; !arrow.TypeEqual(got, want) {
			t.Errorf("column %d read as %s, want %s", i, got, want)
		}
	}

	recs := readPQAll(t, src, "dict", ReadOptions{BatchRows: 200})
	got := pqConcat(t, gotSchema, recs)
	defer got.Release()
	codes := got.Column(0).(*array.String)
	big := got.Column(1).(*array.String)
	for i := range 300 {
		wantCode := fmt.Sprintf("C%02d", i%7)
		if i%11 == 0 {
			if !codes.IsNull(i) {
				t.Fatalf("row %d: got %q, want null", i, codes.Value(i))
			}
		} else if codes.Value(i) != wantCode {
			t.Fatalf("row %d: got %q, want %q", i, codes.Value(i), wantCode)
		}
		if wantBig := fmt.Sprintf("value %d", i%5); big.Value(i) != wantBig {
			t.Fatalf("row %d: got %q, want %q", i, big.Value(i), wantBig)
		}
	}
}

// pqIntRecords returns n batches of rows int64 ids counting from start.
func pqIntRecords(t testing.TB, sc *arrow.Schema, start, n, rows int) []arrow.RecordBatch {
	t.Helper()
	var recs []arrow.RecordBatch
	id := start
	for range n {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		for range rows {
			b.Append(int64(id))
			id++
		}
		a := b.NewArray()
		recs = append(recs, array.NewRecordBatch(sc, []arrow.Array{a}, int64(rows)))
		a.Release()
		b.Release()
	}
	return recs
}

func pqIDs(recs []arrow.RecordBatch) []int64 {
	var ids []int64
	for _, rec := range recs {
		ids = append(ids, rec.Column(0).(*array.Int64).Int64Values()...)
	}
	return ids
}

var pqIDSchema = arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)

// pqPartsDir makes a folder with table "visits" in 3 parts holding 2, 3
// and 2 row groups of 10 rows (ids 0..69), table "people" as one file, and
// files the source must skip.
func pqPartsDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	parts := filepath.Join(dir, "visits")
	if err := os.Mkdir(parts, 0o755); err != nil {
		t.Fatal(err)
	}
	id := 0
	for i, groups := range []int{2, 3, 2} {
		recs := pqIntRecords(t, pqIDSchema, id, groups, 10)
		id += groups * 10
		writePQFile(t, filepath.Join(parts, fmt.Sprintf("part-%05d.parquet", i)), pqIDSchema, recs...)
	}
	writePQFile(t, filepath.Join(dir, "people.parquet"), pqIDSchema, pqIntRecords(t, pqIDSchema, 100, 1, 5)...)
	for _, skip := range []string{"_SUCCESS", ".deid-0011.tmp", "notes.txt", "visits/_SUCCESS",
		"visits/.part-9.parquet.crc"} {
		if err := os.WriteFile(filepath.Join(dir, skip), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestParquetParts(t *testing.T) {
	dir := pqPartsDir(t)
	src, err := NewParquetDir(dir, ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tables, err := src.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range tables {
		names = append(names, tb.Name)
	}
	if got, want := strings.Join(names, ","), "people,visits"; got != want {
		t.Fatalf("got tables %s, want %s", got, want)
	}
	if got, want := tables[1].Location, filepath.Join(dir, "visits"); got != want {
		t.Errorf("got location %s, want %s", got, want)
	}

	ids := pqIDs(readPQAll(t, src, "visits", ReadOptions{BatchRows: 15}))
	if len(ids) != 70 {
		t.Fatalf("got %d rows, want 70", len(ids))
	}
	for i, id := range ids {
		if id != int64(i) {
			t.Fatalf("row %d: got id %d, want %d (input order)", i, id, i)
		}
	}
}

func TestParquetShards(t *testing.T) {
	src, err := NewParquetDir(pqPartsDir(t), ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, count := range []int{1, 2, 3, 7, 10} {
		seen := map[int64]int{}
		for index := range count {
			ids := pqIDs(readPQAll(t, src, "visits", ReadOptions{Shard: Shard{Index: index, Count: count}}))
			for i, id := range ids {
				seen[id]++
				// Row group k (ids 10k..10k+9) belongs to shard k mod count.
				if got := int(id/10) % count; got != index {
					t.Errorf("count %d: shard %d holds id %d of shard %d", count, index, id, got)
				}
				if i > 0 && ids[i-1] >= id {
					t.Errorf("count %d shard %d: ids out of order", count, index)
				}
			}
		}
		for id := range int64(70) {
			if seen[id] != 1 {
				t.Errorf("count %d: id %d read %d times, want once", count, id, seen[id])
			}
		}
	}
	if _, err := src.Open(context.Background(), "visits", ReadOptions{Shard: Shard{Index: 3, Count: 3}}); err == nil {
		t.Error("shard 3 of 3 opened, want an error")
	}
}

func TestParquetPartsMismatch(t *testing.T) {
	other := func(name string, typ arrow.DataType) *arrow.Schema {
		return arrow.NewSchema([]arrow.Field{{Name: name, Type: typ}}, nil)
	}
	two := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "extra", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	tests := []struct {
		name   string
		schema *arrow.Schema
		rows   string
		col    string
	}{
		{"type", other("id", arrow.BinaryTypes.String), `[{"id": "CANARY-999-00-1111"}]`, "id"},
		{"name", other("key", arrow.PrimitiveTypes.Int64), `[{"key": 1}]`, "id"},
		{"extra column", two, `[{"id": 1, "extra": 2}]`, "extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			parts := filepath.Join(dir, "t")
			os.Mkdir(parts, 0o755)
			writePQFile(t, filepath.Join(parts, "part-0.parquet"), pqIDSchema, pqIntRecords(t, pqIDSchema, 0, 1, 3)...)
			bad := filepath.Join(parts, "part-1.parquet")
			writePQFile(t, bad, tt.schema, pqRecord(t, tt.schema, tt.rows))
			src, err := NewParquetDir(dir, ParquetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Tables(context.Background())
			checkPQError(t, err, bad, tt.col, "CANARY")
			if err != nil && !strings.Contains(err.Error(), "part-0.parquet") {
				t.Errorf("error %q does not name the first part", err)
			}
		})
	}
}

func TestParquetPartsNullability(t *testing.T) {
	dir := t.TempDir()
	parts := filepath.Join(dir, "t")
	os.Mkdir(parts, 0o755)
	optional := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	writePQFile(t, filepath.Join(parts, "part-0.parquet"), pqIDSchema, pqIntRecords(t, pqIDSchema, 0, 1, 3)...)
	writePQFile(t, filepath.Join(parts, "part-1.parquet"), optional, pqRecord(t, optional, `[{"id": null}]`))
	src, err := NewParquetDir(dir, ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tables, err := src.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !tables[0].Schema.Field(0).Nullable {
		t.Error("column id is not nullable, want nullable (one part allows nulls)")
	}
	recs := readPQAll(t, src, "t", ReadOptions{})
	if got := pqConcat(t, tables[0].Schema, recs); got.NumRows() != 4 || got.Column(0).NullN() != 1 {
		t.Errorf("got %d rows with %d nulls, want 4 with 1", got.NumRows(), got.Column(0).NullN())
	}
}

func TestParquetNested(t *testing.T) {
	tests := []struct {
		name string
		typ  arrow.DataType
		rows string
	}{
		{"list", arrow.ListOf(arrow.BinaryTypes.String), `[{"id": 1, "n": ["CANARY-123-45-6789"]}]`},
		{"struct", arrow.StructOf(arrow.Field{Name: "a", Type: arrow.BinaryTypes.String, Nullable: true}),
			`[{"id": 1, "n": {"a": "CANARY-123-45-6789"}}]`},
		{"map", arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String),
			`[{"id": 1, "n": [{"key": "k", "value": "CANARY-123-45-6789"}]}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := arrow.NewSchema([]arrow.Field{
				{Name: "id", Type: arrow.PrimitiveTypes.Int64},
				{Name: "n", Type: tt.typ, Nullable: true},
			}, nil)
			path := filepath.Join(t.TempDir(), "nested.parquet")
			writePQFile(t, path, sc, pqRecord(t, sc, tt.rows))
			src, err := NewParquetFile(path, ParquetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Tables(context.Background())
			checkPQError(t, err, path, "n", "CANARY")
			if err != nil && !strings.Contains(err.Error(), tt.name) {
				t.Errorf("error %q does not say %s", err, tt.name)
			}
		})
	}
}

func TestParquetEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.parquet")
	writePQFile(t, path, pqIDSchema)
	src, err := NewParquetFile(path, ParquetOptions{Table: "nothing"})
	if err != nil {
		t.Fatal(err)
	}
	tables, err := src.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tables[0].Name != "nothing" {
		t.Errorf("got table %q, want nothing", tables[0].Name)
	}
	if recs := readPQAll(t, src, "nothing", ReadOptions{}); len(recs) != 0 {
		t.Errorf("got %d batches, want none", len(recs))
	}
}

func TestParquetDirErrors(t *testing.T) {
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "a.csv"), []byte("x"), 0o644)
	if _, err := NewParquetDir(empty, ParquetOptions{}); err == nil {
		t.Error("folder without parquet files accepted")
	}

	twice := t.TempDir()
	writePQFile(t, filepath.Join(twice, "t.parquet"), pqIDSchema)
	os.Mkdir(filepath.Join(twice, "t"), 0o755)
	writePQFile(t, filepath.Join(twice, "t", "part-0.parquet"), pqIDSchema)
	if _, err := NewParquetDir(twice, ParquetOptions{}); err == nil {
		t.Error("table both a file and a folder accepted")
	}
	if _, err := NewParquetDir(twice, ParquetOptions{Table: "x"}); err == nil {
		t.Error("folder with a table name accepted")
	}
}

package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/deid/deid/internal/dataerr"
)

// canary is planted in every malformed input; no error may quote it.
const canary = "CANARY-7f3e"

// null stands for a null cell in expected rows.
const null = "\x00null"

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// openCSV lists the one table of a CSV file and opens it.
func openCSV(t *testing.T, content string, opts ReadOptions) (Reader, error) {
	t.Helper()
	path := writeFile(t, t.TempDir(), "patients.csv", content)
	src, err := NewCSVFile(path, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	if _, err := src.Tables(context.Background()); err != nil {
		return nil, err
	}
	r, err := src.Open(context.Background(), "patients", opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r, nil
}

// readRows reads every batch of r as text, null as the null marker. It
// returns the rows read before an error, and the error.
func readRows(t *testing.T, r Reader) ([][]string, error) {
	t.Helper()
	var rows [][]string
	for {
		rec, err := r.Next(context.Background())
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		if !rec.Schema().Equal(r.Schema()) {
			t.Fatalf("batch schema %v, reader schema %v", rec.Schema(), r.Schema())
		}
		for i := range int(rec.NumRows()) {
			row := make([]string, rec.NumCols())
			for j, col := range rec.Columns() {
				row[j] = null
				if col.IsValid(i) {
					row[j] = col.ValueStr(i)
				}
			}
			rows = append(rows, row)
		}
		rec.Release()
	}
}

func TestCSVReadsRFC4180(t *testing.T) {
	in := "\uFEFFid,name,note,city\r\n" +
		"1,\"Doe, Jane\",\"says \"\"hi\"\"\",Zürich\r\n" +
		"2,,\"two\r\nlines\",\r\n" +
		"\r\n" +
		"3,\"\",\"\",東京\r\n" +
		"4, padded ,x\ry,\"a\nb\"" // no final newline
	r, err := openCSV(t, in, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantFields := []string{"id", "name", "note", "city"}
	for i, f := range r.Schema().Fields() {
		if f.Name != wantFields[i] || !arrow.TypeEqual(f.Type, arrow.BinaryTypes.String) || !f.Nullable {
			t.Errorf("field %d = %v, want nullable utf8 %q", i, f, wantFields[i])
		}
	}
	got, err := readRows(t, r)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"1", "Doe, Jane", `says "hi"`, "Zürich"},
		{"2", null, "two\r\nlines", null},
		{"3", null, null, "東京"},
		{"4", " padded ", "x\ry", "a\nb"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("rows:\n got %q\nwant %q", got, want)
	}
}

func TestCSVBatches(t *testing.T) {
	var b strings.Builder
	b.WriteString("n\n")
	for i := range 10 {
		b.WriteString(strings.Repeat("x", i+1) + "\n")
	}
	r, err := openCSV(t, b.String(), ReadOptions{BatchRows: 3})
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for {
		rec, err := r.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, rec.NumRows())
		rec.Release()
	}
	if want := []int64{3, 3, 3, 1}; !slices.Equal(sizes, want) {
		t.Errorf("batch sizes = %v, want %v", sizes, want)
	}
	if _, err := r.Next(context.Background()); err != io.EOF {
		t.Errorf("Next after the end = %v, want io.EOF", err)
	}
}

func TestCSVDataErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts ReadOptions
		want dataerr.Error
		rows int // rows returned before the error
	}{
		{
			name: "invalid utf8",
			in:   "id,name\n1,a\n2," + canary + "\xff\n",
			want: dataerr.Error{Row: 2, Line: 3, Column: "name", Rule: "csv", Reason: reasonUTF8},
		},
		{
			name: "nul byte",
			in:   "id,name\n" + canary + "\x00,1\n",
			want: dataerr.Error{Row: 1, Line: 2, Column: "id", Rule: "csv", Reason: reasonNUL},
		},
		{
			name: "too many fields",
			in:   "id,name\n1,a\n2,b\n3," + canary + ",x\n",
			want: dataerr.Error{Row: 3, Line: 4, Rule: "csv",
				Reason: "wrong number of fields: 3, header has 2"},
		},
		{
			name: "too few fields",
			in:   "id,name\n" + canary + "\n",
			want: dataerr.Error{Row: 1, Line: 2, Rule: "csv",
				Reason: "wrong number of fields: 1, header has 2"},
		},
		{
			name: "bare quote",
			in:   "id,name\n1,\"a\nb\"\n2,x" + canary + "\"y\n",
			want: dataerr.Error{Row: 2, Line: 4, Column: "name", Rule: "csv", Reason: reasonBareQuote},
		},
		{
			name: "extraneous quote",
			in:   "id,name\n\"" + canary + "\"x,1\n",
			want: dataerr.Error{Row: 1, Line: 2, Column: "id", Rule: "csv", Reason: reasonExtraQuote},
		},
		{
			name: "unterminated quote",
			in:   "id,name\n1,a\n\n2,\"" + canary + "\n3,c\n",
			want: dataerr.Error{Row: 2, Line: 4, Column: "name", Rule: "csv", Reason: reasonUnterm},
		},
		{
			name: "bad int64 in a later batch",
			in:   "id,name\n1,a\n2,b\n3,c\n" + canary + ",d\n",
			opts: ReadOptions{BatchRows: 2, Types: DataTypes{"id": int64T}},
			want: dataerr.Error{Row: 4, Line: 5, Column: "id", Rule: "type",
				Reason: "value is not a valid int64"},
			rows: 2, // the first batch; the batch holding the fault is not returned
		},
		{
			name: "bad date",
			in:   "id,dob\n1,2023-02-30\n",
			opts: ReadOptions{Types: DataTypes{"dob": date32}},
			want: dataerr.Error{Row: 1, Line: 2, Column: "dob", Rule: "type",
				Reason: "value is not a valid date"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := openCSV(t, tt.in, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := readRows(t, r)
			var got *dataerr.Error
			if !errors.As(err, &got) {
				t.Fatalf("error = %v, want a *dataerr.Error", err)
			}
			want := tt.want
			want.Table, want.File = "patients", got.File
			if *got != want {
				t.Errorf("error = %+v\nwant %+v", *got, want)
			}
			if !strings.HasSuffix(got.File, "patients.csv") {
				t.Errorf("error file = %q, want the input path", got.File)
			}
			if len(rows) != tt.rows {
				t.Errorf("read %d rows before the error, want %d", len(rows), tt.rows)
			}
			if strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), "2023-02-30") {
				t.Errorf("error %q quotes a value", err)
			}
			if _, again := r.Next(context.Background()); again != err {
				t.Errorf("Next after an error = %v, want the same error", again)
			}
		})
	}
}

func TestCSVHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want dataerr.Error
	}{
		{"empty file", "", dataerr.Error{Rule: "csv", Reason: "file is empty: no header row"}},
		{"only a BOM and blank lines", "\uFEFF\n\r\n", dataerr.Error{Rule: "csv",
			Reason: "file is empty: no header row"}},
		{"empty name", "id,," + canary + "\n", dataerr.Error{Line: 1, Rule: "csv",
			Reason: "header field 2 is empty"}},
		{"duplicate name", "\n" + canary + ",b," + canary + "\n", dataerr.Error{Line: 2, Rule: "csv",
			Reason: "header field 3 repeats field 1"}},
		{"invalid utf8", "id," + canary + "\xc3\n", dataerr.Error{Line: 1, Rule: "csv",
			Reason: "header field 2: " + reasonUTF8}},
		{"bare quote", "id," + canary + "\"\n", dataerr.Error{Line: 1, Rule: "csv",
			Reason: "header field 2: " + reasonBareQuote}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openCSV(t, tt.in, ReadOptions{})
			var got *dataerr.Error
			if !errors.As(err, &got) {
				t.Fatalf("error = %v, want a *dataerr.Error", err)
			}
			want := tt.want
			want.Table, want.File = "patients", got.File
			if *got != want {
				t.Errorf("error = %+v\nwant %+v", *got, want)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("error %q quotes a value", err)
			}
		})
	}
}

func TestCSVDeclaredTypes(t *testing.T) {
	in := "i32,i64,f,b,d,ts\n" +
		"-2147483648,9223372036854775807,1.5,true,2024-02-29,2024-01-02T03:04:05Z\n" +
		"+7,-9223372036854775808,-1e3,F,1970-01-01,2024-01-02 03:04:05.123456\n" +
		",,,,,\n" +
		"0,0,0,0,1969-12-31,2024-01-02T03:04:05.5-02:30\n"
	types := DataTypes{"i32": int32T, "i64": int64T, "f": float64T, "b": boolT,
		"d": date32, "ts": timestampUS}
	r, err := openCSV(t, in, ReadOptions{Types: types})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Schema().Fields() {
		if !arrow.TypeEqual(f.Type, types[f.Name]) {
			t.Errorf("column %q type %s, want %s", f.Name, f.Type, types[f.Name])
		}
	}
	rec, err := r.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()

	ts := func(s string) any {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return arrow.Timestamp(tm.UnixMicro())
	}
	want := [][]any{
		{int32(-2147483648), int32(7), nil, int32(0)},
		{int64(9223372036854775807), int64(-9223372036854775808), nil, int64(0)},
		{1.5, -1000.0, nil, 0.0},
		{true, false, nil, false},
		{arrow.Date32(19782), arrow.Date32(0), nil, arrow.Date32(-1)},
		{ts("2024-01-02T03:04:05Z"), ts("2024-01-02T03:04:05.123456Z"), nil,
			ts("2024-01-02T05:34:05.5Z")},
	}
	for c, col := range rec.Columns() {
		for i := range int(rec.NumRows()) {
			var got any
			if col.IsValid(i) {
				got = rawValue(col, i)
			}
			if got != want[c][i] {
				t.Errorf("column %q row %d = %v (%T), want %v (%T)",
					rec.ColumnName(c), i, got, got, want[c][i], want[c][i])
			}
		}
	}
}

// rawValue is the Go value of a non-null cell of a typed column.
func rawValue(col arrow.Array, i int) any {
	switch a := col.(type) {
	case *array.Int32:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Date32:
		return a.Value(i)
	case *array.Timestamp:
		return a.Value(i)
	}
	return col.ValueStr(i)
}

func TestCSVTypeErrors(t *testing.T) {
	tests := []struct {
		typ    arrow.DataType
		value  string
		reason string
	}{
		{int32T, "2147483648", "int32"},
		{int32T, "1.0", "int32"},
		{int64T, "9223372036854775808", "int64"},
		{int64T, " 1", "int64"},
		{int64T, "-", "int64"},
		{float64T, "1,5", "float64"},
		{float64T, "one", "float64"},
		{boolT, "yes", "bool"},
		{date32, "2023-02-29", "date"},
		{date32, "2024-13-01", "date"},
		{date32, "2024-1-01", "date"},
		{date32, "01/02/2024", "date"},
		{timestampUS, "2024-01-02T24:00:00Z", "timestamp"},
		{timestampUS, "2024-01-02T03:04:60Z", "timestamp"},
		{timestampUS, "2024-01-02T03:04:05+0100", "timestamp"},
		{timestampUS, "2024-01-02T03:04:05.Z", "timestamp"},
		{timestampUS, "2024-01-02T03:04:05.1234567890Z", "timestamp"},
		{timestampUS, "2024-01-02T03:04", "timestamp"},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.reason, i), func(t *testing.T) {
			r, err := openCSV(t, "x\n\""+tt.value+"\"\n", ReadOptions{Types: DataTypes{"x": tt.typ}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = readRows(t, r)
			var got *dataerr.Error
			if !errors.As(err, &got) {
				t.Fatalf("error = %v, want a *dataerr.Error", err)
			}
			// Every field of the error is checked, so none can hold the value.
			want := dataerr.Error{Table: "patients", File: got.File, Row: 1, Line: 2, Column: "x",
				Rule: "type", Reason: "value is not a valid " + tt.reason}
			if *got != want {
				t.Errorf("error = %+v\nwant %+v", *got, want)
			}
		})
	}
}

func TestParseTimestampAgreesWithTime(t *testing.T) {
	valid := []string{
		"2024-02-29T23:59:59Z", "1900-01-01T00:00:00.000001+14:00", "0001-01-01T00:00:00Z",
		"9999-12-31T23:59:59.999999999+23:59", "2000-03-01T12:00:00.5+05:45",
	}
	for _, s := range valid {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("time.Parse(%q): %v", s, err)
		}
		sec, nsec, ok := parseTimestamp([]byte(s))
		if !ok || sec != want.Unix() || nsec != int64(want.Nanosecond()) {
			t.Errorf("parseTimestamp(%q) = %d, %d, %v, want %d, %d", s, sec, nsec, ok,
				want.Unix(), want.Nanosecond())
		}
	}
}

// TestParseTimestampStaysInFourDigitYears refuses instants that an offset
// carries out of the years 0000-9999: the sink could not write them back in
// a form the reader accepts.
func TestParseTimestampStaysInFourDigitYears(t *testing.T) {
	for _, s := range []string{"9999-12-31T23:59:59-00:01", "0000-01-01 00:00:00+00:10"} {
		if _, _, ok := parseTimestamp([]byte(s)); ok {
			t.Errorf("parseTimestamp(%q) accepted an instant outside the years 0000-9999", s)
		}
	}
	for _, s := range []string{"9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z"} {
		if _, _, ok := parseTimestamp([]byte(s)); !ok {
			t.Errorf("parseTimestamp(%q) refused", s)
		}
	}
}

func TestCSVFolderAndShards(t *testing.T) {
	dir := t.TempDir()
	var names []string
	for _, name := range []string{"allergies", "claims", "encounters", "labs", "notes", "patients"} {
		writeFile(t, dir, name+".csv", "id\n"+name+"-1\n"+name+"-2\n")
		names = append(names, name)
	}
	writeFile(t, dir, "readme.txt", "not a table\n")
	writeFile(t, dir, "UPPER.CSV", "id\nUPPER-1\n")
	names = append([]string{"UPPER"}, names...)
	if err := os.Mkdir(filepath.Join(dir, "nested.csv"), 0o755); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	src, err := NewCSVDir(dir, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tables, err := src.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tb := range tables {
		got = append(got, tb.Name)
		if tb.Location != filepath.Join(dir, tb.Name+filepath.Ext(tb.Location)) {
			t.Errorf("table %q location %q", tb.Name, tb.Location)
		}
	}
	if !slices.Equal(got, names) {
		t.Fatalf("tables = %q, want %q", got, names)
	}

	const count = 3
	seen := map[string]int{}
	for i := range count {
		for _, name := range names {
			r, err := src.Open(ctx, name, ReadOptions{Shard: Shard{Index: i, Count: count}})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := readRows(t, r)
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
			if r.Schema().NumFields() != 1 {
				t.Errorf("shard %d table %q: schema %v", i, name, r.Schema())
			}
			for _, row := range rows {
				seen[row[0]]++
			}
		}
	}
	if len(seen) != 13 {
		t.Errorf("shards read %d distinct rows, want 13", len(seen))
	}
	for v, n := range seen {
		if n != 1 {
			t.Errorf("row %q read by %d shards, want 1", v, n)
		}
	}
}

func TestCSVStream(t *testing.T) {
	ctx := context.Background()
	if _, err := NewCSVReader(strings.NewReader("a\n1\n"), CSVOptions{}); err == nil {
		t.Error("a stream without a table name: no error")
	}
	src, err := NewCSVReader(strings.NewReader("a;b\n1;x\n2;\n"), CSVOptions{Comma: ';', Table: "in"})
	if err != nil {
		t.Fatal(err)
	}
	tables, err := src.Tables(ctx)
	if err != nil || len(tables) != 1 || tables[0].Name != "in" || tables[0].Schema.NumFields() != 2 {
		t.Fatalf("tables = %v, %v", tables, err)
	}
	r, err := src.Open(ctx, "in", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readRows(t, r)
	want := [][]string{{"1", "x"}, {"2", null}}
	if err != nil || !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("rows = %q, %v; want %q", rows, err, want)
	}
	if _, err := src.Open(ctx, "in", ReadOptions{}); err == nil {
		t.Error("second Open of a stream: no error")
	}
}

func TestCSVOptionErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := writeFile(t, dir, "t.csv", "a,b\n1,2\n")
	if _, err := NewCSVDir(t.TempDir(), CSVOptions{}); err == nil {
		t.Error("folder without CSV files: no error")
	}
	if _, err := NewCSVFile(path, CSVOptions{Comma: '"'}); err == nil {
		t.Error("quote as delimiter: no error")
	}
	if _, err := NewCSVFile(path, CSVOptions{Comma: '§'}); err == nil {
		t.Error("non-ASCII delimiter: no error")
	}
	src, err := NewCSVFile(path, CSVOptions{Table: "renamed"})
	if err != nil {
		t.Fatal(err)
	}
	bad := []ReadOptions{
		{Types: DataTypes{"missing": int64T}},
		{Types: DataTypes{"a": arrow.PrimitiveTypes.Uint8}},
		{Shard: Shard{Index: 3, Count: 2}},
	}
	for _, opts := range bad {
		if _, err := src.Open(ctx, "renamed", opts); err == nil {
			t.Errorf("Open with %+v: no error", opts)
		}
	}
	if _, err := src.Open(ctx, "t", ReadOptions{}); err == nil {
		t.Error("Open of an unknown table: no error")
	}
}

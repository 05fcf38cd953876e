package scan

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/deid/deid/internal/synth"
	"github.com/deid/deid/safeharbor"
	"github.com/deid/deid/sources"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestDemoPolicyGolden scans the bundled demo extract and compares the
// drafted policy with testdata/demo.policy.yaml; -update rewrites it.
func TestDemoPolicyGolden(t *testing.T) {
	dir := t.TempDir()
	if err := synth.Demo(dir); err != nil {
		t.Fatal(err)
	}
	src, err := sources.NewCSVDir(dir, sources.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := Scan(context.Background(), src, Options{Source: "testdata/demo"})
	if err != nil {
		t.Fatal(err)
	}
	checkRunnable(t, res, src)
	var got bytes.Buffer
	if err := res.WriteYAML(&got); err != nil {
		t.Fatal(err)
	}

	golden := filepath.Join("testdata", "demo.policy.yaml")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("drafted policy differs from %s (run with -update to accept):\n%s",
			golden, got.String())
	}
}

// TestNoValueInPolicy plants distinctive values in every kind of column and
// checks that none reaches the drafted policy.
func TestNoValueInPolicy(t *testing.T) {
	dir := t.TempDir()
	canaries := []string{"Zyxwvut", "Qqqcanary", "900-77-1234", "canary@mailhost.zz",
		"https://canary.zz/", "(555) 555-7777", "77777-1234", "1901-02-03", "CANARY123456"}
	header := []string{"c1", "first name", "ssn", "email", "url", "tel", "zip", "dob",
		"code"}
	var rows [][]string
	for i := 0; i < 40; i++ {
		rows = append(rows, []string{itoa(i + 1), canaries[0], canaries[2], canaries[3],
			canaries[4], canaries[5], canaries[6], canaries[7], canaries[8]})
	}
	rows[7][1] = canaries[1]
	writeCSV(t, filepath.Join(dir, "t.csv"), header, rows)

	src, err := sources.NewCSVDir(dir, sources.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := Scan(context.Background(), src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := res.WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	for _, c := range canaries {
		if strings.Contains(buf.String(), c) {
			t.Errorf("the policy quotes the value %q:\n%s", c, buf.String())
		}
	}
	checkRunnable(t, res, src)
	if !strings.Contains(buf.String(), `"first name": {phi: name`) {
		t.Errorf("a column name with a space is not quoted as a key:\n%s", buf.String())
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestSampleRows(t *testing.T) {
	named, _ := writeCorpus(t)
	src, err := sources.NewCSVDir(named, sources.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := Scan(context.Background(), src, Options{SampleRows: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range res.Tables {
		if tb.Rows > 500 {
			t.Errorf("%s: %d rows sampled, want at most 500", tb.Name, tb.Rows)
		}
		if tb.Name == "staff" && !tb.Complete {
			t.Errorf("staff (80 rows) not read whole")
		}
		if tb.Name == "visits" && tb.Complete {
			t.Errorf("visits read whole from a sample of 500")
		}
	}
	// The join holds although the parent was only sampled: the scan reads
	// further into it.
	c := findColumn(t, findTable(t, res, "prescriptions"), "visit_id")
	p := findColumn(t, findTable(t, res, "visits"), "visit_id")
	if c.Token == "" || c.Token != p.Token {
		t.Errorf("prescriptions.visit_id token %q, visits.visit_id token %q: want one domain",
			c.Token, p.Token)
	}
	checkRunnable(t, res, src)
}

// memSource serves typed tables from memory, with declared constraints.
type memSource struct {
	tables []sources.Table
	data   map[string]arrow.RecordBatch
}

func (m *memSource) Tables(context.Context) ([]sources.Table, error) { return m.tables, nil }
func (m *memSource) Close() error                                    { return nil }
func (m *memSource) Open(_ context.Context, name string, _ sources.ReadOptions) (
	sources.Reader, error) {
	rec := m.data[name]
	rec.Retain()
	return &memReader{rec: rec}, nil
}

type memReader struct{ rec arrow.RecordBatch }

func (r *memReader) Schema() *arrow.Schema { return r.rec.Schema() }
func (r *memReader) Close() error          { return nil }
func (r *memReader) Next(context.Context) (arrow.RecordBatch, error) {
	if r.rec == nil {
		return nil, io.EOF
	}
	rec := r.rec
	r.rec = nil
	return rec, nil
}

// TestTypedSourceAndDeclaredKeys scans typed columns (as Parquet or
// PostgreSQL give them) with a declared foreign key whose values could not
// be told apart from small numbers.
func TestTypedSourceAndDeclaredKeys(t *testing.T) {
	mem := memory.DefaultAllocator
	ps := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "born", Type: arrow.FixedWidthTypes.Date32},
		{Name: "weight_kg", Type: arrow.PrimitiveTypes.Float64},
		{Name: "lat", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	vs := arrow.NewSchema([]arrow.Field{
		{Name: "owner", Type: arrow.PrimitiveTypes.Int64},
		{Name: "seen_at", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
	}, nil)
	pb := array.NewRecordBuilder(mem, ps)
	vb := array.NewRecordBuilder(mem, vs)
	defer pb.Release()
	defer vb.Release()
	base := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 50; i++ {
		pb.Field(0).(*array.Int64Builder).Append(int64(i + 1))
		pb.Field(1).(*array.Date32Builder).Append(arrow.Date32FromTime(base.AddDate(i, i%12, i)))
		pb.Field(2).(*array.Float64Builder).Append(50 + float64(i)/3)
		pb.Field(3).(*array.Float64Builder).Append(40.12345 + float64(i)/1000)
		vb.Field(0).(*array.Int64Builder).Append(int64(i%7 + 1))
		ts, _ := arrow.TimestampFromTime(time.Date(2024, 1, 1+i%28, 9, 0, 0, 0, time.UTC),
			arrow.Microsecond)
		vb.Field(1).(*array.TimestampBuilder).Append(ts)
	}
	people, visits := pb.NewRecordBatch(), vb.NewRecordBatch()
	defer people.Release()
	defer visits.Release()
	src := &memSource{
		tables: []sources.Table{
			{Name: "people", Schema: ps, Constraints: sources.Constraints{PrimaryKey: []string{"id"}}},
			{Name: "visits", Schema: vs, Constraints: sources.Constraints{
				ForeignKeys: []sources.ForeignKey{{Name: "fk", Columns: []string{"owner"},
					RefTable: "people", RefColumns: []string{"id"}}}}},
		},
		data: map[string]arrow.RecordBatch{"people": people, "visits": visits},
	}
	res, err := Scan(context.Background(), src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkRunnable(t, res, src)

	want := map[string]safeharbor.Kind{"people.id": safeharbor.RecordID,
		"people.born": safeharbor.BirthDate, "people.weight_kg": "",
		"people.lat": safeharbor.Geocode, "visits.owner": safeharbor.RecordID,
		"visits.seen_at": safeharbor.ServiceDate}
	for _, tb := range res.Tables {
		for _, c := range tb.Columns {
			if w, ok := want[tb.Name+"."+c.Name]; ok && c.Kind != w {
				t.Errorf("%s.%s: kind %q, want %q (%v)", tb.Name, c.Name, c.Kind, w, c.Evidence)
			}
			if c.Type != "" {
				t.Errorf("%s.%s: type %q declared for a typed column", tb.Name, c.Name, c.Type)
			}
		}
	}
	owner := findColumn(t, findTable(t, res, "visits"), "owner")
	id := findColumn(t, findTable(t, res, "people"), "id")
	if owner.Token == "" || owner.Token != id.Token {
		t.Errorf("declared foreign key: owner token %q, id token %q", owner.Token, id.Token)
	}
}

func TestEmptyColumnAndAllDroppedTable(t *testing.T) {
	dir := t.TempDir()
	writeCSV(t, filepath.Join(dir, "notes.csv"), []string{"note", "c2"}, [][]string{
		{"patient called about the refill and asked for a call back", ""},
		{"follow up in two weeks with labs and a review of the diet", ""},
	})
	src, err := sources.NewCSVDir(dir, sources.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := Scan(context.Background(), src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tb := findTable(t, res, "notes")
	if c := findColumn(t, tb, "c2"); !c.Review {
		t.Errorf("an empty column is not marked for review: %+v", c)
	}
	checkRunnable(t, res, src)
}

func TestKeyQuoting(t *testing.T) {
	tests := []struct{ in, want string }{
		{"dob", "dob"}, {"first name", `"first name"`}, {"yes", `"yes"`}, {"a:b", `"a:b"`},
		{"1col", `"1col"`}, {`we"ird`, `"we\"ird"`},
	}
	for _, tt := range tests {
		if got := key(tt.in); got != tt.want {
			t.Errorf("key(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestSequentialKeysDoNotJoin samples tables whose keys are both 1..n: the
// values of one key lie within the other's, but only the names say which
// columns reference which.
func TestSequentialKeysDoNotJoin(t *testing.T) {
	dir := t.TempDir()
	if err := synth.Generate(dir, synth.Options{Patients: 2000, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	src, err := sources.NewCSVDir(dir, sources.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := Scan(context.Background(), src, Options{SampleRows: 1000})
	if err != nil {
		t.Fatal(err)
	}
	enc := findColumn(t, findTable(t, res, "encounters"), "encounter_id")
	pat := findColumn(t, findTable(t, res, "patients"), "patient_id")
	ref := findColumn(t, findTable(t, res, "encounters"), "patient_id")
	if enc.Kind != safeharbor.RecordID || pat.Kind != safeharbor.RecordID {
		t.Fatalf("keys: encounter_id %q, patient_id %q; want record-id for both",
			kindLabel(enc.Kind), kindLabel(pat.Kind))
	}
	if enc.Token == pat.Token {
		t.Errorf("encounter_id and patient_id share the domain %q", enc.Token)
	}
	if ref.Token != pat.Token || ref.Type != pat.Type {
		t.Errorf("encounters.patient_id {%q %s}, patients.patient_id {%q %s}: want one domain",
			ref.Token, ref.Type, pat.Token, pat.Type)
	}
	checkRunnable(t, res, src)
}

func TestScanRefusesAHeaderThatReadsAsData(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "people.csv")
	os.WriteFile(path, []byte("1931-07-04,canary@leak.invalid,42\n1950-01-01,a@example.com,7\n"), 0o644)
	src, err := sources.NewCSVFile(path, sources.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, err = Scan(context.Background(), src, Options{})
	if err == nil {
		t.Fatal("a headerless file was scanned")
	}
	for _, v := range []string{"1931-07-04", "canary@leak.invalid"} {
		if strings.Contains(err.Error(), v) {
			t.Errorf("the error quotes %q: %v", v, err)
		}
	}
}

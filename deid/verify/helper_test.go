package verify

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deid/deid/deid"
	"github.com/deid/deid/internal/synth"
	"github.com/deid/deid/schemas"
	"github.com/deid/deid/sinks"
	"github.com/deid/deid/sources"
	"github.com/deid/deid/tokenize"
)

// asOf is the reference date of the test runs.
var asOf = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fixture is a synthetic extract and its de-identified output, made once
// by the engine and copied for each test that plants something in it.
type fixture struct {
	src, out string
	policy   *schemas.Policy
	manifest *deid.Manifest
	key      *tokenize.Key
}

var (
	fixtureOnce sync.Once
	shared      fixture
	fixtureErr  error
)

// clean returns the shared fixture: 300 synthetic patients with their
// encounters and providers, de-identified under the demo policy.
func clean(t *testing.T) fixture {
	t.Helper()
	fixtureOnce.Do(func() {
		dir, err := os.MkdirTemp("", "deid-verify-*")
		if err != nil {
			fixtureErr = err
			return
		}
		shared, fixtureErr = makeFixture(dir)
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return shared
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.src != "" {
		os.RemoveAll(filepath.Dir(shared.src))
	}
	os.Exit(code)
}

func makeFixture(dir string) (fixture, error) {
	f := fixture{src: filepath.Join(dir, "src"), out: filepath.Join(dir, "out")}
	if err := synth.Generate(f.src, synth.Options{Patients: 300, Seed: 11, Today: asOf}); err != nil {
		return f, err
	}
	data, err := schemas.Bundled("demo")
	if err != nil {
		return f, err
	}
	if f.policy, err = schemas.Check(data, "demo.yaml"); err != nil {
		return f, err
	}
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(3 * i)
	}
	if f.key, err = tokenize.ParseKey(raw); err != nil {
		return f, err
	}
	src, err := sources.NewCSVDir(f.src, sources.CSVOptions{})
	if err != nil {
		return f, err
	}
	defer src.Close()
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return f, err
	}
	dst, err := sinks.NewCSVDirSink(f.out, sinks.CSVSinkOptions{})
	if err != nil {
		return f, err
	}
	res, err := deid.Run(context.Background(), src, dst, deid.Options{Policy: f.policy,
		Tokenizer: tokenize.New(f.key), AsOf: asOf})
	if err != nil {
		return f, err
	}
	f.manifest = deid.NewManifest(res, deid.ManifestInfo{KeyID: f.key.ID(), Deterministic: true})
	return f, f.manifest.WriteFile(filepath.Join(f.out, "manifest.json"))
}

// copyOut copies the fixture's output to a new folder the test may change.
func copyOut(t *testing.T, f fixture) string {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir(f.out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".csv") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(f.out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// table is a CSV file read whole.
type table struct {
	path   string
	header []string
	rows   [][]string
}

func readTable(t *testing.T, path string) *table {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return &table{path: path, header: recs[0], rows: recs[1:]}
}

func (tb *table) col(t *testing.T, name string) int {
	t.Helper()
	for i, h := range tb.header {
		if h == name {
			return i
		}
	}
	t.Fatalf("%s: no column %q", tb.path, name)
	return -1
}

func (tb *table) write(t *testing.T) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(tb.header)
	w.WriteAll(tb.rows)
	if err := os.WriteFile(tb.path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// openPair opens a source folder and an output folder of CSV files.
func openPair(t *testing.T, srcDir, outDir string) (sources.Source, sources.Source) {
	t.Helper()
	src, err := sources.NewCSVDir(srcDir, sources.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	dst, err := sources.NewCSVDir(outDir, sources.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	return src, dst
}

// verifyDir verifies an output folder against the fixture's source.
func verifyDir(t *testing.T, f fixture, out string, o Options) *Report {
	t.Helper()
	src, dst := openPair(t, f.src, out)
	if o.Policy == nil {
		o.Policy = f.policy
	}
	if o.Manifest == nil {
		o.Manifest = f.manifest
	}
	rep, err := Verify(context.Background(), src, dst, o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// rendered returns the report as text and as JSON.
func rendered(t *testing.T, r *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// parquetOutput de-identifies the fixture's source again into Parquet.
func parquetOutput(t *testing.T, f fixture) string {
	t.Helper()
	out := t.TempDir()
	src, err := sources.NewCSVDir(f.src, sources.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := sinks.NewParquetDirSink(out, sinks.ParquetSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = deid.Run(context.Background(), src, dst, deid.Options{Policy: f.policy,
		Tokenizer: tokenize.New(f.key), AsOf: asOf, InferTypes: true})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

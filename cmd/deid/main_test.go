package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// testKeyFile writes a fixed key (bytes 0x00..0x1f) with mode 0600.
func testKeyFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.key")
	if err := os.WriteFile(path, []byte("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// buffers captures a command's output streams.
type buffers struct{ in, out, err bytes.Buffer }

func (b *buffers) stdio() stdio { return stdio{in: &b.in, out: &b.out, err: &b.err} }

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return rows
}

func column(rows [][]string, name string) []string {
	idx := -1
	for i, h := range rows[0] {
		if h == name {
			idx = i
		}
	}
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[idx])
	}
	return out
}

func TestDemoMatchesGolden(t *testing.T) {
	dir := t.TempDir()
	var b buffers
	if err := runDemo(context.Background(), demoOptions{dir: dir, keyFile: testKeyFile(t)}, b.stdio()); err != nil {
		t.Fatalf("demo: %v\nstderr: %s", err, b.err.String())
	}
	golden := filepath.Join("..", "..", "testdata", "golden", "demo")
	for _, name := range []string{"patients.csv", "encounters.csv", "providers.csv", "manifest.json"} {
		got, err := os.ReadFile(filepath.Join(dir, "output", name))
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.MkdirAll(golden, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(golden, name), got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(filepath.Join(golden, name))
		if err != nil {
			t.Fatalf("%v (run go test ./cmd/deid -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from testdata/golden/demo/%s (rerun with -update if the change is intended)", name, name)
		}
	}
	if !strings.Contains(b.out.String(), "patients") {
		t.Errorf("summary does not mention the tables:\n%s", b.out.String())
	}
}

func TestDemoKeepsJoins(t *testing.T) {
	dir := t.TempDir()
	var b buffers
	if err := runDemo(context.Background(), demoOptions{dir: dir, keyFile: testKeyFile(t)}, b.stdio()); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "output")
	parents := map[string]map[string]bool{}
	for table, col := range map[string]string{"patients": "patient_id", "providers": "provider_id"} {
		parents[table] = map[string]bool{}
		for _, v := range column(readCSV(t, filepath.Join(out, table+".csv")), col) {
			parents[table][v] = true
		}
	}
	enc := readCSV(t, filepath.Join(out, "encounters.csv"))
	for fk, parent := range map[string]string{"patient_id": "patients", "provider_id": "providers"} {
		for i, v := range column(enc, fk) {
			if !parents[parent][v] {
				t.Errorf("encounters row %d: %s token has no parent in %s", i+1, fk, parent)
			}
		}
	}

	// The identifiers themselves are gone.
	in := readCSV(t, filepath.Join(dir, "input", "patients.csv"))
	outIDs := map[string]bool{}
	for _, v := range column(readCSV(t, filepath.Join(out, "patients.csv")), "mrn") {
		outIDs[v] = true
	}
	for _, v := range column(in, "mrn") {
		if outIDs[v] {
			t.Fatal("an input MRN appears unchanged in the output")
		}
	}
}

func TestRunStdinToStdout(t *testing.T) {
	policy := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(policy, []byte(`
tables:
  people:
    columns:
      mrn: {phi: mrn}
      zip: {phi: zip}
      sex: {keep: "not an identifier"}
`), 0o644)
	var b buffers
	b.in.WriteString("mrn,zip,sex\nMRN1,02134,F\nMRN2,82101,M\n")
	err := runRun(context.Background(), runOptions{policy: policy, from: "-", to: "-",
		keyFile: testKeyFile(t), delimiter: ","}, b.stdio())
	if err != nil {
		t.Fatalf("run: %v\n%s", err, b.err.String())
	}
	rows, err := csv.NewReader(&b.out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][1] != "021" || rows[2][1] != "000" || rows[1][2] != "F" {
		t.Errorf("output = %q", rows)
	}
	if strings.Contains(b.out.String(), "MRN1") {
		t.Error("an MRN passed through")
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	key := testKeyFile(t)
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("tables:\n  people:\n    columns:\n      dob: {phi: birth-date}\n"), 0o644)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("tables:\n  people:\n    columns:\n      dob: {phi: birthday}\n"), 0o644)
	input := filepath.Join(dir, "people.csv")
	os.WriteFile(input, []byte("dob\n2001-02-30\n"), 0o644)
	loose := filepath.Join(dir, "loose.key")
	os.WriteFile(loose, []byte(strings.Repeat("ab", 32)), 0o644)

	tests := []struct {
		name string
		o    runOptions
		want int
	}{
		{"no policy", runOptions{from: input, to: filepath.Join(dir, "o1"), keyFile: key}, exitUsage},
		{"unknown kind", runOptions{policy: bad, from: input, to: filepath.Join(dir, "o2"), keyFile: key}, exitUsage},
		{"no key", runOptions{policy: good, from: input, to: filepath.Join(dir, "o3")}, exitUsage},
		{"key readable by others", runOptions{policy: good, from: input, to: filepath.Join(dir, "o4"), keyFile: loose}, exitUsage},
		{"invalid date", runOptions{policy: good, from: input, to: filepath.Join(dir, "o5"), keyFile: key}, exitRuntime},
	}
	t.Setenv("DEID_KEY_FILE", "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.delimiter = ","
			var b buffers
			err := runRun(context.Background(), tt.o, b.stdio())
			var msg bytes.Buffer
			if got := exitCode(err, &msg); got != tt.want {
				t.Errorf("exit code = %d, want %d (%s)", got, tt.want, msg.String())
			}
			if _, err := os.Stat(tt.o.to); err == nil {
				entries, _ := os.ReadDir(tt.o.to)
				if len(entries) > 0 {
					t.Errorf("a failed run left %d entries in its target", len(entries))
				}
			}
		})
	}
}

func TestKeyFlagIsRefused(t *testing.T) {
	var b buffers
	cmd := newRootCmd(b.stdio())
	cmd.SetArgs([]string{"run", "--policy", "demo", "--key", "000102030405060708090a0b0c0d0e0f"})
	err := cmd.ExecuteContext(context.Background())
	var msg bytes.Buffer
	if code := exitCode(err, &msg); code != exitUsage {
		t.Fatalf("exit code = %d, want %d", code, exitUsage)
	}
	if strings.Contains(msg.String()+b.err.String()+b.out.String(), "0001020304") {
		t.Error("the refused key value was echoed")
	}
}

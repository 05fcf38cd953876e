package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deid/deid/deid"
	"github.com/deid/deid/internal/synth"
)

// TestScanRunVerify drafts a policy for the demo extract, runs it as it is
// with --verify, and verifies the output again on its own: the draft must
// plan, run and leave nothing behind that verify finds.
func TestScanRunVerify(t *testing.T) {
	dir := t.TempDir()
	src, out := filepath.Join(dir, "src"), filepath.Join(dir, "out")
	if err := synth.Demo(src); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(dir, "drafted.yaml")
	var b buffers
	if err := runScan(context.Background(), scanOptions{from: src, out: policy,
		delimiter: ",", sampleRows: 10000, joinRows: 1000}, b.stdio()); err != nil {
		t.Fatalf("scan: %v\n%s", err, b.err.String())
	}

	key := testKeyFile(t)
	b = buffers{}
	err := runRun(context.Background(), runOptions{policy: policy, from: src, to: out,
		keyFile: key, delimiter: ",", asOf: "2026-01-01", verify: true, quiet: true}, b.stdio())
	if err != nil {
		t.Fatalf("run --verify: %v\n%s", err, b.err.String())
	}
	if !strings.Contains(b.err.String(), "verify: clean") {
		t.Errorf("run --verify printed no clean report on stderr:\n%s", b.err.String())
	}
	m := readManifestFile(t, filepath.Join(out, "manifest.json"))
	v, ok := m.Verification.(map[string]any)
	if !ok || v["clean"] != true {
		t.Errorf("manifest verification = %#v, want a clean summary", m.Verification)
	}

	b = buffers{}
	err = runVerify(context.Background(), verifyOptions{policy: policy, from: src, to: out,
		keyFile: key, delimiter: ",", k: 5, quasi: []string{"zip", "dob", "sex"},
		jsonOut: filepath.Join(dir, "report.json")}, b.stdio())
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, b.out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "report.json")); err != nil {
		t.Errorf("no JSON report: %v", err)
	}
}

// TestVerifyFindsAndExits3 plants a canary SSN in a kept column of a run's
// output: verify exits 3, and neither stdout, stderr nor the JSON report
// quote it.
func TestVerifyFindsAndExits3(t *testing.T) {
	dir := t.TempDir()
	src, out := filepath.Join(dir, "src"), filepath.Join(dir, "out")
	if err := synth.Demo(src); err != nil {
		t.Fatal(err)
	}
	key := testKeyFile(t)
	var b buffers
	if err := runRun(context.Background(), runOptions{policy: "demo", from: src, to: out,
		keyFile: key, delimiter: ",", quiet: true}, b.stdio()); err != nil {
		t.Fatalf("run: %v\n%s", err, b.err.String())
	}

	const canary = "900-13-5791"
	path := filepath.Join(out, "providers.csv")
	rows := readCSV(t, path)
	spec := -1
	for i, h := range rows[0] {
		if h == "specialty" {
			spec = i
		}
	}
	rows[2][spec] = "Cardiology " + canary
	var csvText strings.Builder
	for _, r := range rows {
		csvText.WriteString(strings.Join(quoteAll(r), ",") + "\n")
	}
	if err := os.WriteFile(path, []byte(csvText.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	jsonPath := filepath.Join(dir, "report.json")
	b = buffers{}
	err := runVerify(context.Background(), verifyOptions{policy: "demo", from: src, to: out,
		delimiter: ",", k: 5, jsonOut: jsonPath}, b.stdio())
	var msg bytes.Buffer
	if code := exitCode(err, &msg); code != exitFindings {
		t.Fatalf("exit code = %d, want %d (%s)", code, exitFindings, msg.String())
	}
	report, _ := os.ReadFile(jsonPath)
	if !strings.Contains(b.out.String(), "providers.specialty") {
		t.Errorf("the report does not locate the finding:\n%s", b.out.String())
	}
	for name, s := range map[string]string{"stdout": b.out.String(), "stderr": b.err.String(),
		"error": msg.String(), "json": string(report)} {
		if strings.Contains(s, canary) {
			t.Errorf("%s quotes the planted value", name)
		}
	}
}

func TestVerifyUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		run  func() error
	}{
		{"verify without a policy", func() error {
			return runVerify(context.Background(), verifyOptions{from: dir, to: dir, k: 5,
				delimiter: ","}, stdio{})
		}},
		{"verify without an output", func() error {
			return runVerify(context.Background(), verifyOptions{policy: "demo", from: dir,
				k: 5, delimiter: ","}, stdio{})
		}},
		{"verify with k 0", func() error {
			return runVerify(context.Background(), verifyOptions{policy: "demo", from: dir,
				to: dir, delimiter: ","}, stdio{})
		}},
		{"scan with no sample", func() error {
			return runScan(context.Background(), scanOptions{from: dir, delimiter: ","}, stdio{})
		}},
		{"run --verify to standard output", func() error {
			return runRun(context.Background(), runOptions{policy: "demo", from: dir, to: "-",
				keyFile: testKeyFile(t), delimiter: ",", verify: true}, stdio{})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var msg bytes.Buffer
			if code := exitCode(tt.run(), &msg); code != exitUsage {
				t.Errorf("exit code = %d, want %d (%s)", code, exitUsage, msg.String())
			}
		})
	}
}

func TestScanToStdout(t *testing.T) {
	dir := t.TempDir()
	if err := synth.Demo(dir); err != nil {
		t.Fatal(err)
	}
	var b buffers
	if err := runScan(context.Background(), scanOptions{from: filepath.Join(dir, "providers.csv"),
		out: "-", delimiter: ",", sampleRows: 100}, b.stdio()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.out.String(), "  providers:\n") ||
		!strings.Contains(b.out.String(), "provider_name: {phi: name") {
		t.Errorf("policy on stdout:\n%s", b.out.String())
	}
}

func readManifestFile(t *testing.T, path string) *deid.Manifest {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m deid.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func quoteAll(r []string) []string {
	out := make([]string, len(r))
	for i, s := range r {
		out[i] = `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return out
}

// TestVerifySingleFiles verifies a run from one CSV file to another: the
// output file's table is the source's.
func TestVerifySingleFiles(t *testing.T) {
	dir := t.TempDir()
	if err := synth.Demo(dir); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(dir, "providers.yaml")
	var b buffers
	if err := runScan(context.Background(), scanOptions{from: filepath.Join(dir, "providers.csv"),
		out: policy, delimiter: ",", sampleRows: 100}, b.stdio()); err != nil {
		t.Fatal(err)
	}
	b = buffers{}
	err := runRun(context.Background(), runOptions{policy: policy,
		from: filepath.Join(dir, "providers.csv"), to: filepath.Join(dir, "clean.csv"),
		keyFile: testKeyFile(t), delimiter: ",", verify: true, quiet: true}, b.stdio())
	if err != nil {
		t.Fatalf("run --verify: %v\n%s", err, b.err.String())
	}
	b = buffers{}
	err = runVerify(context.Background(), verifyOptions{policy: policy,
		from: filepath.Join(dir, "providers.csv"), to: filepath.Join(dir, "clean.csv"),
		delimiter: ",", k: 5}, b.stdio())
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, b.out.String())
	}
}

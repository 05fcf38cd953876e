package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deid/deid/internal/synth"
)

// TestMain lets the test binary stand in for deid-bench when the benchmark
// re-invokes itself to run a floor, generate an extract or load a database.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && slices.Contains([]string{"floor", "load-pg", "generate"}, os.Args[1]) {
		os.Exit(dispatch(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"defaults", nil, ""},
		{"all", []string{"-patients", "10", "-dir", "x", "-modes", "csv", "-runs", "2"}, ""},
		{"every mode", []string{"-modes", "all"}, ""},
		{"two sizes", []string{"-patients", "100, 500", "-modes", "csv,csv-parquet"}, ""},
		{"zero patients", []string{"-patients", "0"}, "-patients"},
		{"a size twice", []string{"-patients", "5,5"}, "given twice"},
		{"not a size", []string{"-patients", "5,x"}, `"x" is not`},
		{"zero encounters", []string{"-encounters-per-patient", "0"}, "-encounters-per-patient"},
		{"unknown mode", []string{"-modes", "csv,tape"}, `unknown mode "tape"`},
		{"no runs", []string{"-runs", "0"}, "-runs"},
		{"stray argument", []string{"extra"}, "unexpected argument"},
		{"bad flag", []string{"-nope"}, "not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args, &bytes.Buffer{})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("parseFlags(%q) = %v", tt.args, err)
				}
				if !filepath.IsAbs(c.dir) || len(c.modes) == 0 {
					t.Errorf("parseFlags(%q): dir %q, %d modes", tt.args, c.dir, len(c.modes))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseFlags(%q) = %v, want an error with %q", tt.args, err, tt.wantErr)
			}
		})
	}
}

func TestModesAreComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range modes {
		if m.name == "" || seen[m.name] || m.prepare == nil || m.output == nil || m.floor == nil ||
			m.deidArgs == nil {
			t.Errorf("mode %q is incomplete or repeated", m.name)
		}
		seen[m.name] = true
	}
	for _, name := range []string{"csv", "csv-parquet", "parquet-parquet", "pg-pg"} {
		if !seen[name] {
			t.Errorf("no %s mode", name)
		}
	}
}

func TestFloorMain(t *testing.T) {
	in := t.TempDir()
	if err := synth.Demo(in); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, args := range [][]string{
		{"-mode", "csv", in, t.TempDir()},
		{"-mode", "csv-parquet", "-policy", "demo", in, t.TempDir()},
	} {
		var stdout, stderr bytes.Buffer
		if code := floorMain(ctx, args, &stdout, &stderr); code != 0 {
			t.Fatalf("floorMain(%q) = %d, stderr %s", args, code, stderr.String())
		}
		if rows, err := parseRows(stdout.Bytes()); err != nil || rows < 1000 {
			t.Errorf("floorMain(%q) printed %q (%v), want over 1000 rows", args, stdout.String(), err)
		}
	}

	for _, args := range [][]string{
		{"-mode", "tape", in, "out"},
		{"-mode", "csv", in},
		{"-nope", "-mode", "csv", in, "out"},
	} {
		var stdout, stderr bytes.Buffer
		if code := floorMain(ctx, args, &stdout, &stderr); code != 2 {
			t.Errorf("floorMain(%q) = %d, want 2", args, code)
		}
	}
	var stdout, stderr bytes.Buffer
	empty := []string{"-mode", "csv", t.TempDir(), "out"}
	if code := floorMain(ctx, empty, &stdout, &stderr); code != 1 {
		t.Errorf("floorMain of an empty folder = %d, want 1", code)
	}
}

func TestGenerateMain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "x")
	var stderr bytes.Buffer
	args := []string{"-patients", "30", "-encounters-per-patient", "2", "-seed", "3", dir}
	if code := generateMain(args, &stderr); code != 0 || !complete(dir) {
		t.Fatalf("generateMain = %d, complete %v, stderr %s", code, complete(dir), stderr.String())
	}
	for _, args := range [][]string{nil, {"-patients", "x", dir}, {dir, dir}} {
		if code := generateMain(args, &stderr); code != 2 {
			t.Errorf("generateMain(%q) = %d, want 2", args, code)
		}
	}
	if code := generateMain([]string{"-patients", "0", dir}, &stderr); code != 1 {
		t.Errorf("generateMain of no patients = %d, want 1", code)
	}
}

func TestMeasureReportsTimeAndMemory(t *testing.T) {
	m, err := measure(context.Background(), os.Args[0], []string{"-test.run=^$"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.wall <= 0 {
		t.Errorf("wall = %v, want > 0", m.wall)
	}
	if runtime.GOOS == "linux" && m.peakRSS < 1<<20 {
		t.Errorf("peak RSS = %d bytes, want at least 1 MiB", m.peakRSS)
	}

	_, err = measure(context.Background(), os.Args[0], []string{"-test.run=^$", "-nope"}, nil, nil)
	if err == nil {
		t.Error("measure of a failing program succeeded")
	}
}

func TestPrintTable(t *testing.T) {
	results := []result{
		{mode: "csv", program: "floor", rows: 6000, bytes: 2e6, outBytes: 2e6,
			wall: 2 * time.Second, slowest: 2 * time.Second, peakRSS: 8 << 20},
		{mode: "csv", program: "deid", rows: 6000, bytes: 2e6, outBytes: 5e5,
			wall: 3 * time.Second, slowest: 4 * time.Second, peakRSS: 100 << 20, ratio: 1.5},
		{mode: "csv", program: "deid", rows: 6000, bytes: 2e6, err: errors.New("exit status 1")},
	}
	var b bytes.Buffer
	if err := printTable(&b, results); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		`mode\s+rows\s+MB in\s+MB out\s+seconds\s+slowest\s+rows/s\s+MB/s\s+peak RSS MiB\s+` +
			`ratio to floor`,
		`csv floor\s+6000\s+2\.0\s+2\.0\s+2\.00\s+2\.00\s+3000\s+1\.0\s+8\s+1\.00`,
		`csv deid\s+6000\s+2\.0\s+0\.5\s+3\.00\s+4\.00\s+2000\s+0\.7\s+100\s+1\.50`,
		`csv deid\s+6000\s+2\.0\s+failed`,
	}
	if len(lines) != len(want) {
		t.Fatalf("table has %d lines, want %d:\n%s", len(lines), len(want), b.String())
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("line %d = %q, want to match %q", i, lines[i], re)
		}
	}
}

func TestPrintMemory(t *testing.T) {
	results := []result{
		{mode: "csv", program: "floor", patients: 100, wall: 1, peakRSS: 8 << 20},
		{mode: "csv", program: "deid", patients: 100, wall: 1, peakRSS: 100 << 20},
		{mode: "csv", program: "floor", patients: 500, wall: 1, peakRSS: 8 << 20},
		{mode: "csv", program: "deid", patients: 500, wall: 1, peakRSS: 110 << 20},
		{mode: "pg-pg", program: "floor", patients: 100, wall: 1, peakRSS: 10 << 20},
		{mode: "pg-pg", program: "floor", patients: 500, err: errors.New("exit status 1")},
	}
	var b bytes.Buffer
	if err := printMemory(&b, []int{100, 500}, results); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		`^\s*mode\s+100\s+500\s+500/100$`,
		`^\s*csv floor\s+8\s+8\s+1\.00$`,
		`^\s*csv deid\s+100\s+110\s+1\.10$`,
		`^\s*pg-pg floor\s+10\s+-\s+-$`,
	}
	if len(lines) != len(want) {
		t.Fatalf("table has %d lines, want %d:\n%s", len(lines), len(want), b.String())
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(strings.TrimRight(lines[i], " ")) {
			t.Errorf("line %d = %q, want to match %q", i, lines[i], re)
		}
	}
}

// fakeDeid is a stand-in for deid: keygen writes a file, run copies the
// input files.
const fakeDeid = `#!/bin/sh
case "$1" in
keygen) umask 077; echo key > "$3" ;;
run)
	shift
	while [ $# -gt 0 ]; do
		case "$1" in
		--from) from=$2; shift ;;
		--to) to=$2; shift ;;
		esac
		shift
	done
	[ -n "$FAKE_DEID_FAIL" ] && exit 1
	mkdir -p "$to" && cp "$from"/* "$to"/ ;;
*) exit 2 ;;
esac
`

func TestBenchEndToEnd(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake deid is a shell script")
	}
	dir := t.TempDir()
	fake := filepath.Join(dir, "fake-deid")
	if err := os.WriteFile(fake, []byte(fakeDeid), 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"-patients", "40,80", "-dir", filepath.Join(dir, "bench"), "-deid", fake,
		"-modes", "all", "-pg", ""}

	var stdout, stderr bytes.Buffer
	if code := dispatch(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("dispatch = %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	for _, re := range []string{
		`^\s*csv floor\s+\d{3}\s`, `^\s*csv deid\s+\d{3}\s.*\d\.\d\d\s*$`,
		`^\s*csv-parquet floor\s+\d{3}\s`, `^\s*parquet-parquet deid\s+\d{3}\s.*\d\.\d\d\s*$`,
		`^pg-pg: skipped`, `^40 patients`, `^80 patients`, `^\s*mode\s+40\s+80\s+80/40\s*$`,
		`^\s*csv-parquet deid(\s+\d+){2}\s+\d\.\d\d\s*$`,
	} {
		if !regexp.MustCompile(`(?m)` + re).MatchString(stdout.String()) {
			t.Errorf("output does not match %q:\n%s", re, stdout.String())
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "bench", "parquet-csv-*")); len(entries) != 2 {
		t.Errorf("Parquet extracts: %v, want one per size", entries)
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "bench", "out-*")); len(entries) > 0 {
		t.Errorf("outputs left behind: %v", entries)
	}

	// A second run reuses the extract; a failing deid is reported.
	stdout.Reset()
	stderr.Reset()
	t.Setenv("FAKE_DEID_FAIL", "1")
	if code := dispatch(context.Background(), args, &stdout, &stderr); code != 1 {
		t.Errorf("dispatch with a failing deid = %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "using the Parquet extract") {
		t.Errorf("second run did not reuse the extract:\n%s", stderr.String())
	}
	if !regexp.MustCompile(`csv deid\s+\d+\s+[\d.]+\s+failed`).MatchString(stdout.String()) {
		t.Errorf("failed deid not shown as failed:\n%s", stdout.String())
	}
}

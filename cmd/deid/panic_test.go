package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/deid/deid/internal/guard"
)

const panicCanary = "CANARY-PANIC-3301"

// panicReader is a standard input whose reads panic after the first.
type panicReader struct{ data []byte }

func (r *panicReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		panic("stdin holds " + panicCanary)
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// panicWriter is a standard output whose writes panic.
type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("stdout got " + panicCanary) }

func TestExecuteRecoversPanics(t *testing.T) {
	root := &cobra.Command{Use: "deid", SilenceErrors: true, SilenceUsage: true}
	root.AddCommand(&cobra.Command{Use: "boom", RunE: func(*cobra.Command, []string) error {
		panic("value " + panicCanary)
	}})
	root.SetArgs([]string{"boom"})
	err := execute(context.Background(), root)

	var pe *guard.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("execute: %v, want a *guard.PanicError", err)
	}
	var msg bytes.Buffer
	if code := exitCode(err, &msg); code != exitRuntime {
		t.Errorf("exit code %d, want %d", code, exitRuntime)
	}
	if strings.Contains(msg.String(), panicCanary) {
		t.Errorf("exit message quotes the panic: %s", msg.String())
	}
}

// TestRunRecordsPanicsAsFailures runs the real command line on a standard
// input or output that panics: the run fails with exit 1, the audit record
// says it failed, and the panic's message appears nowhere.
func TestRunRecordsPanicsAsFailures(t *testing.T) {
	tests := []struct {
		name string
		in   *panicReader
		out  bool // stdout panics
	}{
		{"reader goroutine", &panicReader{data: []byte(canaryHeader + canaryRow())}, false},
		{"commit to stdout", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("TMPDIR", dir)
			policy := filepath.Join(dir, "policy.yaml")
			os.WriteFile(policy, []byte(canaryPolicy), 0o644)
			audit := filepath.Join(dir, "audit.jsonl")

			var out, errb bytes.Buffer
			io := stdio{out: &out, err: &errb}
			io.in = strings.NewReader(canaryHeader + canaryRow())
			if tc.in != nil {
				io.in = tc.in
			}
			if tc.out {
				io.out = panicWriter{}
			}
			root := newRootCmd(io)
			root.SetArgs([]string{"run", "--policy", policy, "--key-file", testKeyFile(t),
				"--audit", audit, "--table", "people"})
			err := execute(context.Background(), root)
			var msg bytes.Buffer
			if code := exitCode(err, &msg); code != exitRuntime {
				t.Fatalf("exit code %d (%s), want %d", code, msg.String(), exitRuntime)
			}
			if !strings.Contains(msg.String(), "internal error") {
				t.Errorf("exit message %q does not say it is an internal error", msg.String())
			}

			record, _ := os.ReadFile(audit)
			if !bytes.Contains(record, []byte(`"outcome":"failed"`)) {
				t.Errorf("audit record %s does not say the run failed", record)
			}
			left := leftovers(t, dir, policy, audit)
			for where, text := range map[string]string{"stdout": out.String(),
				"stderr": errb.String(), "exit message": msg.String(), "audit": string(record),
				"files left": strings.Join(left, " ")} {
				if strings.Contains(text, panicCanary) {
					t.Errorf("%s quotes the panic: %s", where, text)
				}
			}
			if len(left) > 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
	}
}

// leftovers lists the files under dir other than keep, such as temporary
// output that a failed run did not remove.
func leftovers(t *testing.T, dir string, keep ...string) []string {
	t.Helper()
	var left []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, k := range keep {
			if path == k {
				return nil
			}
		}
		if strings.HasSuffix(path, ".key") {
			return nil
		}
		left = append(left, path)
		return nil
	})
	return left
}

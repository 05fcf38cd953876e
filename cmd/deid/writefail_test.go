package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// limitedWriter accepts n bytes, then fails as a full disk or a closed
// pipe would.
type limitedWriter struct {
	n   int
	got bytes.Buffer
	err error
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > w.n-w.got.Len() {
		k := w.n - w.got.Len()
		w.got.Write(p[:k])
		return k, w.err
	}
	return w.got.Write(p)
}

// TestStreamWriteFails runs deid to a standard output that fails part way.
// The run exits 1 with a message naming the table and the stream, removes
// its temporary file, and the stream received no more than it accepted.
// What the stream accepted before failing cannot be taken back: the
// consumer must go by the exit code.
func TestStreamWriteFails(t *testing.T) {
	var input strings.Builder
	input.WriteString(canaryHeader)
	for range 2000 {
		input.WriteString(canaryRow())
	}
	tests := []struct {
		name  string
		limit int
		err   error
	}{
		{"full at once", 0, syscall.ENOSPC},
		{"full after 64 KiB", 64 << 10, syscall.ENOSPC},
		{"reader gone", 1000, syscall.EPIPE},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("TMPDIR", dir)
			policy := filepath.Join(dir, "policy.yaml")
			os.WriteFile(policy, []byte(canaryPolicy), 0o644)
			w := &limitedWriter{n: tc.limit, err: tc.err}
			io := stdio{in: strings.NewReader(input.String()), out: w, err: &bytes.Buffer{}}

			err := runRun(context.Background(), runOptions{policy: policy, from: "-", to: "-",
				keyFile: testKeyFile(t), delimiter: ",", quiet: true}, io)
			var msg bytes.Buffer
			if code := exitCode(err, &msg); code != exitRuntime {
				t.Fatalf("exit code %d (%s), want %d", code, msg.String(), exitRuntime)
			}
			if !errors.Is(err, tc.err) || !strings.Contains(msg.String(),
				`writing table "people" to the output stream`) {
				t.Errorf("message %q does not name the table, the stream and %v", msg.String(), tc.err)
			}
			if w.got.Len() > tc.limit {
				t.Errorf("stream got %d bytes, limit %d", w.got.Len(), tc.limit)
			}
			if left := leftovers(t, dir, policy); len(left) > 0 {
				t.Errorf("a failed run left %v", left)
			}
			for _, c := range canaries {
				if strings.Contains(msg.String()+w.got.String(), c) {
					t.Errorf("canary %q in the message or the stream", c)
				}
			}
		})
	}
}

//go:build linux

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/deid/deid/internal/synth"
)

// mountTmpfs mounts a tmpfs of the given size and options on a new folder,
// or skips the test when mounting is not allowed (it needs root and
// CAP_SYS_ADMIN).
func mountTmpfs(t *testing.T, size, opts string) string {
	t.Helper()
	dir := t.TempDir()
	o := "size=" + size
	if opts != "" {
		o += "," + opts
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", o, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// TestFullFileSystem runs deid into a 2 MiB tmpfs that the output does not
// fit: each run fails with a message that names the table and says the
// device is full, and leaves nothing on the file system, not even a
// temporary file or a manifest.
func TestFullFileSystem(t *testing.T) {
	extract := filepath.Join(t.TempDir(), "extract")
	if err := synth.Generate(extract, synth.Options{Patients: 30000}); err != nil {
		t.Fatal(err)
	}
	key := testKeyFile(t)

	tests := []struct {
		name   string
		format string
		stream bool // to stdout, with TMPDIR on the full file system
	}{
		{"CSV folder", "csv", false},
		{"Parquet folder", "parquet", false},
		{"CSV to stdout", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			full := mountTmpfs(t, "2m", "")
			o := runOptions{policy: "demo", from: extract, to: filepath.Join(full, "out"),
				format: tc.format, keyFile: key, delimiter: ",", asOf: "2026-01-01", quiet: true}
			if tc.stream {
				t.Setenv("TMPDIR", full)
				o.from, o.to = filepath.Join(extract, "encounters.csv"), "-"
				o.policy = writeEncountersPolicy(t)
			}
			var b buffers
			err := runRun(context.Background(), o, b.stdio())
			var msg bytes.Buffer
			if code := exitCode(err, &msg); code != exitRuntime {
				t.Fatalf("exit code %d (%s), want %d", code, msg.String(), exitRuntime)
			}
			t.Log(strings.TrimSpace(msg.String()))
			if !strings.Contains(msg.String(), "no space left on device") ||
				!strings.Contains(msg.String(), "table \"") {
				t.Errorf("message %q does not name the table and the full device", msg.String())
			}
			if b.out.Len() > 0 {
				t.Errorf("%d bytes written to stdout", b.out.Len())
			}
			if left := leftovers(t, full); len(left) > 0 {
				t.Errorf("a failed run left %v", left)
			}
		})
	}
}

// writeEncountersPolicy writes the demo policy's encounters table alone,
// for a run of that one file.
func writeEncountersPolicy(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "encounters.yaml")
	policy := `
as_of: 2026-01-01
tables:
  encounters:
    columns:
      encounter_id:   {phi: record-id, token: encounter, type: int64}
      patient_id:     {phi: record-id, token: patient, type: int64}
      provider_id:    {phi: record-id, token: provider, type: int64}
      admitted:       {phi: service-date}
      discharged:     {phi: service-date}
      age_at_admit:   {phi: age}
      diagnosis_code: {keep: "not an identifier"}
      note:           {phi: free-text}
`
	if err := os.WriteFile(path, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReadOnlyTarget runs deid into a read-only file system: it fails
// before writing a row and says why.
func TestReadOnlyTarget(t *testing.T) {
	ro := mountTmpfs(t, "1m", "ro")
	for _, to := range []string{filepath.Join(ro, "out"), filepath.Join(ro, "out.csv"),
		filepath.Join(ro, "out.parquet")} {
		t.Run(filepath.Base(to), func(t *testing.T) {
			in := filepath.Join(t.TempDir(), "people.csv")
			os.WriteFile(in, []byte(canaryHeader+canaryRow()), 0o644)
			policy := filepath.Join(t.TempDir(), "policy.yaml")
			os.WriteFile(policy, []byte(canaryPolicy), 0o644)
			var b buffers
			err := runRun(context.Background(), runOptions{policy: policy, from: in, to: to,
				keyFile: testKeyFile(t), delimiter: ","}, b.stdio())
			var msg bytes.Buffer
			if code := exitCode(err, &msg); code != exitRuntime {
				t.Fatalf("exit code %d (%s), want %d", code, msg.String(), exitRuntime)
			}
			if !strings.Contains(msg.String(), syscall.EROFS.Error()) {
				t.Errorf("message %q does not say the file system is read-only", msg.String())
			}
			for _, c := range canaries {
				if strings.Contains(msg.String()+b.err.String(), c) {
					t.Errorf("output quotes %q", c)
				}
			}
		})
	}
}

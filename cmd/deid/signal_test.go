//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deid/deid/internal/pgtest"
	"github.com/deid/deid/internal/synth"
)

// buildDeid builds the deid command into a temporary folder.
func buildDeid(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the command and runs it on large inputs")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build deid with")
	}
	bin := filepath.Join(t.TempDir(), "deid")
	out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("building deid: %v\n%s", err, out)
	}
	return bin
}

// proc is a deid process started by a test.
type proc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

// syncBuffer is a bytes.Buffer safe to read while the process writes it.
type syncBuffer struct {
	mu chan struct{}
	b  bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.String()
}

func start(t *testing.T, bin string, env []string, stdin io.Reader, stdout io.Writer,
	args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), stderr: newSyncBuffer(), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = stdin, stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits up to d for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("deid still running %v later; stderr:\n%s", d, p.stderr.String())
	}
	var ee *exec.ExitError
	if p.err != nil && !errors.As(p.err, &ee) {
		t.Fatal(p.err)
	}
	return p.cmd.ProcessState.ExitCode()
}

// running reports whether the process has not exited yet.
func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// waitFor polls until cond holds, failing after d or when the process ends.
func waitFor(t *testing.T, p *proc, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if !p.running() {
			if cond() { // the process's last output came in meanwhile
				return
			}
			t.Fatalf("deid exited before %s; stderr:\n%s", what, p.stderr.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %v; stderr:\n%s", what, d, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tempFiles lists deid's temporary files in dir; with some, a positive size.
func tempFiles(dir string) (names []string, written bool) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".deid-") {
			names = append(names, e.Name())
			if fi, err := e.Info(); err == nil && fi.Size() > 0 {
				written = true
			}
		}
	}
	return names, written
}

// TestBinaryUnderSignals runs a real deid process on a large generated
// extract and signals it mid-run: it must stop within seconds, remove its
// temporary files, publish no output and no manifest, record the
// interruption in the audit log, and exit 128 + the signal.
func TestBinaryUnderSignals(t *testing.T) {
	bin := buildDeid(t)
	data := t.TempDir()
	extract := filepath.Join(data, "extract")
	if err := synth.Generate(extract, synth.Options{Patients: 60000}); err != nil {
		t.Fatal(err)
	}
	key := testKeyFile(t)

	tests := []struct {
		name   string
		sig    syscall.Signal
		format string
		want   int
	}{
		{"SIGINT to CSV", syscall.SIGINT, "csv", 130},
		{"SIGTERM to CSV", syscall.SIGTERM, "csv", 143},
		{"SIGINT to Parquet", syscall.SIGINT, "parquet", 130},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			audit := filepath.Join(dir, "audit.jsonl")
			p := start(t, bin, []string{"TMPDIR=" + dir}, nil, io.Discard,
				"run", "--policy", "demo", "--from", extract, "--to", out, "--format", tc.format,
				"--key-file", key, "--audit", audit, "--as-of", "2026-01-01", "--workers", "2")
			waitFor(t, p, 60*time.Second, "temporary output", func() bool {
				_, written := tempFiles(out)
				return written
			})

			sent := time.Now()
			p.cmd.Process.Signal(tc.sig)
			code := p.wait(t, 10*time.Second)
			took := time.Since(sent)
			t.Logf("exit %d %v after %v", code, tc.sig, took.Round(time.Millisecond))
			if code != tc.want {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.want, p.stderr.String())
			}
			if took > 5*time.Second {
				t.Errorf("took %v to stop", took)
			}
			if entries, _ := os.ReadDir(out); len(entries) > 0 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("an interrupted run left %v in its target", names)
			}
			if names, _ := tempFiles(dir); len(names) > 0 {
				t.Errorf("temporary files left in TMPDIR: %v", names)
			}
			record, _ := os.ReadFile(audit)
			if !bytes.Contains(record, []byte(`"outcome":"interrupted"`)) {
				t.Errorf("audit record %s does not say interrupted", record)
			}
		})
	}
}

// TestBinaryUnderSignalsToPostgres signals a real deid process that loads
// a PostgreSQL target: it must drop its staging schema, leave the target's
// tables as they were, and exit 130. It skips without a test server or
// while the run command cannot write PostgreSQL.
func TestBinaryUnderSignalsToPostgres(t *testing.T) {
	to := pgtest.New(t)
	bin := buildDeid(t)
	extract := filepath.Join(t.TempDir(), "extract")
	if err := synth.Generate(extract, synth.Options{Patients: 60000}); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, to, `CREATE TABLE patients (patient_id bigint)`,
		`INSERT INTO patients VALUES (1)`)
	const state = `SELECT
		(SELECT count(*) FROM pg_tables WHERE schemaname = 'public') || ' tables, ' ||
		(SELECT count(*) FROM patients) || ' patients, ' ||
		(SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'deid\_staging\_%') || ' staging'`
	query := func() string {
		var s string
		conn := pgtest.Connect(t, to)
		if err := conn.QueryRow(context.Background(), state).Scan(&s); err != nil {
			t.Fatal(err)
		}
		conn.Close(context.Background())
		return s
	}

	p := start(t, bin, nil, nil, io.Discard, "run", "--policy", "demo", "--from", extract,
		"--to", to, "--key-file", testKeyFile(t), "--as-of", "2026-01-01")
	waitFor(t, p, 60*time.Second, "a staging schema", func() bool {
		if strings.Contains(p.stderr.String(), "not built yet") {
			t.Skip("the run command does not write PostgreSQL yet")
		}
		return strings.HasSuffix(query(), " 1 staging")
	})
	time.Sleep(500 * time.Millisecond)

	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t, 10*time.Second); code != 130 {
		t.Errorf("exit code %d, want 130; stderr:\n%s", code, p.stderr.String())
	}
	if got, want := query(), "1 tables, 1 patients, 0 staging"; got != want {
		t.Errorf("target holds %s, want %s", got, want)
	}
}

// TestBinaryInterruptsStalledStreams checks that a signal stops a run whose
// standard input stalls mid-table, or whose standard output is not read.
func TestBinaryInterruptsStalledStreams(t *testing.T) {
	bin := buildDeid(t)
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	os.WriteFile(policy, []byte(hostilePolicy), 0o644)
	key := testKeyFile(t)
	row := "1,1980-05-17,2020-03-01,02134,45\n"

	t.Run("stdin stalls", func(t *testing.T) {
		tmp := t.TempDir()
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pw.Close()
		var stdout bytes.Buffer
		p := start(t, bin, []string{"TMPDIR=" + tmp}, pr, &stdout,
			"run", "--policy", policy, "--key-file", key)
		pr.Close()
		io.WriteString(pw, hostileHeader+"\n"+strings.Repeat(row, 20000))
		waitFor(t, p, 30*time.Second, "a temporary file", func() bool {
			names, _ := tempFiles(tmp)
			return len(names) > 0
		})
		time.Sleep(200 * time.Millisecond)

		p.cmd.Process.Signal(syscall.SIGINT)
		if code := p.wait(t, 5*time.Second); code != 130 {
			t.Errorf("exit code %d, want 130", code)
		}
		if stdout.Len() > 0 {
			t.Errorf("an interrupted run wrote %d bytes to stdout", stdout.Len())
		}
		if names, _ := tempFiles(tmp); len(names) > 0 {
			t.Errorf("temporary files left: %v", names)
		}
	})

	t.Run("stdout not read", func(t *testing.T) {
		tmp := t.TempDir()
		in := filepath.Join(tmp, "t.csv")
		os.WriteFile(in, []byte(hostileHeader+"\n"+strings.Repeat(row, 200000)), 0o644)
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		p := start(t, bin, []string{"TMPDIR=" + tmp}, nil, pw,
			"run", "--policy", policy, "--key-file", key, "--from", in, "--table", "t")
		pw.Close()
		// The pipe fills and the copy to stdout blocks in Commit.
		waitFor(t, p, 30*time.Second, "the table done", func() bool {
			return strings.Contains(p.stderr.String(), "table done")
		})
		time.Sleep(200 * time.Millisecond)

		p.cmd.Process.Signal(syscall.SIGTERM)
		if code := p.wait(t, 5*time.Second); code != 143 {
			t.Errorf("exit code %d, want 143", code)
		}
		if names, _ := tempFiles(tmp); len(names) > 0 {
			t.Errorf("temporary files left: %v", names)
		}
	})
}

// TestBinarySecondSignalForcesExit blocks a run's cleanup on an audit log
// that is a FIFO nobody reads: the first signal starts the cleanup, which
// cannot finish; the second ends the process at once with its own code.
func TestBinarySecondSignalForcesExit(t *testing.T) {
	bin := buildDeid(t)
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	os.WriteFile(policy, []byte(hostilePolicy), 0o644)
	audit := filepath.Join(dir, "audit.fifo")
	if err := syscall.Mkfifo(audit, 0o600); err != nil {
		t.Skipf("no FIFO: %v", err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	p := start(t, bin, []string{"TMPDIR=" + dir}, pr, io.Discard,
		"run", "--policy", policy, "--key-file", testKeyFile(t), "--audit", audit)
	pr.Close()
	fmt.Fprintf(pw, "%s\n1,1980-05-17,2020-03-01,02134,45\n", hostileHeader)
	time.Sleep(300 * time.Millisecond)

	p.cmd.Process.Signal(syscall.SIGINT)
	waitFor(t, p, 5*time.Second, "the stopping notice", func() bool {
		return strings.Contains(p.stderr.String(), "again to force")
	})
	time.Sleep(300 * time.Millisecond)
	if !p.running() {
		t.Fatalf("deid exited before the second signal; stderr:\n%s", p.stderr.String())
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 3*time.Second); code != 143 {
		t.Errorf("exit code %d, want 143 from the second signal", code)
	}
	if names, _ := tempFiles(dir); len(names) > 0 {
		t.Errorf("temporary files left: %v", names)
	}
}

// TestBinaryHugeCells reads files with cells of 50 MB, which deid reads,
// and of 100 MB, more than the 64 MiB a record may hold, which it refuses
// with the row located. Either way the process's peak memory stays bounded.
func TestBinaryHugeCells(t *testing.T) {
	bin := buildDeid(t)
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	os.WriteFile(policy, []byte(`
tables:
  notes:
    columns:
      mrn:  {phi: mrn}
      note: {phi: free-text}
`), 0o644)
	chunk := strings.Repeat("abcdefghij", 1<<16)
	write := func(name string, size int) string {
		path := filepath.Join(t.TempDir(), name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		big := func() {
			for n := 0; n < size; n += len(chunk) {
				w.WriteString(chunk)
			}
		}
		w.WriteString("mrn,note\nM1,\"")
		big() // a quoted cell in a dropped column
		w.WriteString("\"\n")
		big() // a bare cell in a tokenized column
		w.WriteString(",short note\nM3,\"quoted \"\" \n")
		big()
		w.WriteString("\"\n")
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return path
	}

	tests := []struct {
		name string
		size int
		code int
		msg  string
	}{
		{"50 MB cells", 50 << 20, 0, ""},
		{"100 MB cells", 100 << 20, 1, `row 1 line 2 (rule csv): record is longer than 64 MiB`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := write("notes.csv", tc.size)
			out := filepath.Join(t.TempDir(), "out.csv")
			p := start(t, bin, []string{"TMPDIR=" + dir}, nil, io.Discard, "run", "--policy",
				policy, "--from", in, "--to", out, "--key-file", testKeyFile(t), "-q")
			code := p.wait(t, 120*time.Second)
			if code != tc.code || !strings.Contains(p.stderr.String(), tc.msg) {
				t.Fatalf("exit code %d (%s), want %d and %q", code, p.stderr.String(), tc.code, tc.msg)
			}
			if code == 0 {
				rows := readCSV(t, out)
				if len(rows) != 4 || len(rows[1]) != 1 || len(rows[2][0]) > 64 {
					t.Errorf("output has %d rows, row 2 %d bytes", len(rows), len(rows[2][0]))
				}
			} else if _, err := os.Stat(out); err == nil {
				t.Error("a failed run published its output")
			}

			ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
			if !ok {
				return
			}
			peak := ru.Maxrss << 10 // KiB on Linux
			t.Logf("peak RSS %d MiB for cells of %d MiB", peak>>20, tc.size>>20)
			if peak > 1<<30 {
				t.Errorf("peak RSS %d MiB, want under 1024 MiB", peak>>20)
			}
		})
	}
}

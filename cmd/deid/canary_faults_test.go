package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/deid/deid/internal/pgtest"
	"github.com/deid/deid/sinks"
	"github.com/deid/deid/sources"
)

// faultRun is one run of the command line in its own folder.
type faultRun struct {
	dir, in, policy, audit, tmp string
	args                        []string
	stdin                       io.Reader
	stdout                      io.Writer
	ctx                         context.Context
}

// faultCase drives one path of deid, failing or not, with canaries in the
// rows.
type faultCase struct {
	name string
	// setup writes the inputs and sets the arguments; the defaults are a
	// CSV folder holding people.csv, the canary policy, and a folder target.
	setup func(t *testing.T, r *faultRun)
	code  int
	// keeps is set when the policy keeps a column holding canaries, so the
	// output data may hold them; every other output still may not.
	keeps bool
	// says is in the exit message, when set.
	says string
}

// rowsWith is the canary header and rows, with the first canary row changed
// by edit.
func rowsWith(edit func(row string) string) string {
	return canaryHeader + canaryRow() + edit(canaryRow()) + canaryRow()
}

// policyWith is the canary policy with one replacement.
func policyWith(old, new string) string { return strings.Replace(canaryPolicy, old, new, 1) }

func faultCases() []faultCase {
	input := func(data string) func(*testing.T, *faultRun) {
		return func(t *testing.T, r *faultRun) { os.WriteFile(r.in, []byte(data), 0o644) }
	}
	withPolicy := func(policy, data string) func(*testing.T, *faultRun) {
		return func(t *testing.T, r *faultRun) {
			os.WriteFile(r.policy, []byte(policy), 0o644)
			os.WriteFile(r.in, []byte(data), 0o644)
		}
	}
	toFormat := func(data, to string) func(*testing.T, *faultRun) {
		return func(t *testing.T, r *faultRun) {
			os.WriteFile(r.in, []byte(data), 0o644)
			r.args = append(r.args, "--to", filepath.Join(r.dir, to))
		}
	}
	stream := func(data string, out io.Writer) func(*testing.T, *faultRun) {
		return func(t *testing.T, r *faultRun) {
			r.args = []string{"--to", "-", "--from", "-", "--table", "people"}
			r.stdin, r.stdout = strings.NewReader(data), out
		}
	}
	clean := rowsWith(func(s string) string { return s })
	swap := func(old, new string) string {
		return rowsWith(func(s string) string { return strings.Replace(s, old, new, 1) })
	}

	return []faultCase{
		{name: "clean run to CSV", setup: input(clean)},
		{name: "clean run to Parquet", setup: toFormat(clean, "out.parquet")},
		{name: "clean run stdin to stdout", setup: stream(clean, nil)},

		// Values that do not parse.
		{name: "bad date", setup: input(swap("2020-01-01", "CANARY-MRN-7731")), code: 1},
		{name: "bad typed date", code: 1, setup: withPolicy(
			policyWith("{phi: service-date}", "{phi: service-date, type: date}"),
			swap("2020-01-01", "Zyxwquux"))},
		{name: "bad integer", setup: input(swap("4242", "999-31-4159")), code: 1},
		{name: "bad age", setup: input(swap(",95,", ",(900) 555-9999,")), code: 1},
		{name: "ragged row", setup: input(clean + "CANARY-MRN-7731,Zyxwquux\n"), code: 1},
		{name: "invalid UTF-8", setup: input(swap("Zyxwquux", "Zyxw\xffquux")), code: 1},
		{name: "NUL byte", setup: input(swap("CANARY-NOTE-9920", "CANARY-NOTE-9920\x00")), code: 1},
		{name: "open quote", setup: input(clean + "1,\"CANARY-MRN-7731,Zyxwquux\n"), code: 1},
		{name: "bad value to Parquet", code: 1,
			setup: toFormat(swap("2020-01-01", "CANARY-MRN-7731"), "out.parquet")},
		{name: "bad value stdin to stdout", code: 1,
			setup: stream(swap("2020-01-01", "CANARY-MRN-7731"), nil)},
		{name: "bad value from Parquet", code: 1, setup: parquetInput(
			swap("2020-01-01", "CANARY-MRN-7731"))},

		// The policy does not fit the data.
		{name: "no header row", setup: input(canaryRow() + canaryRow()), code: 2},
		{name: "lone CR line ends", code: 1,
			setup: input(strings.ReplaceAll(clean, "\n", "\r"))},
		{name: "policy column missing", code: 2, setup: withPolicy(
			policyWith("      ip:    {phi: ip}\n", "      ip:    {phi: ip}\n      fax: {phi: fax}\n"),
			clean)},
		{name: "source column without a rule", code: 2, setup: input(
			strings.Replace(canaryHeader, "\n", ",extra\n", 1) +
				strings.ReplaceAll(canaryRow(), "\n", ",CANARY-MRN-7731\n"))},
		{name: "rule does not fit the type", code: 2,
			setup: withPolicy(policyWith("{phi: age, type: int64}", "{phi: age, type: bool}"), clean)},

		// Faults of the run.
		{name: "verify findings", code: 3, keeps: true, setup: func(t *testing.T, r *faultRun) {
			os.WriteFile(r.policy, []byte(policyWith("{phi: ssn}", `{keep: "a test of verify"}`)), 0o644)
			os.WriteFile(r.in, []byte(clean), 0o644)
			r.args = append(r.args, "--verify")
		}},
		{name: "interrupted", code: 1, setup: func(t *testing.T, r *faultRun) {
			os.WriteFile(r.in, []byte(clean), 0o644)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			r.ctx = ctx
		}},
		{name: "stdout full", code: 1,
			setup: stream(clean, &limitedWriter{n: 100, err: syscall.ENOSPC})},
		{name: "panic reading stdin", code: 1, setup: func(t *testing.T, r *faultRun) {
			stream("", nil)(t, r)
			r.stdin = &panicReader{data: []byte(clean)}
		}},
		{name: "panic writing stdout", code: 1, setup: stream(clean, panicWriter{})},
		{name: "key readable by others", code: 2, setup: func(t *testing.T, r *faultRun) {
			os.WriteFile(r.in, []byte(clean), 0o644)
			key := filepath.Join(r.dir, "open.key")
			os.WriteFile(key, []byte(strings.Repeat("ab", 32)), 0o644)
			r.args = append(r.args, "--key-file", key)
		}},
		{name: "bad value from PostgreSQL", code: 1, setup: postgresInput},
		{name: "clean run to PostgreSQL", setup: func(t *testing.T, r *faultRun) {
			os.WriteFile(r.in, []byte(clean), 0o644)
			postgresTarget(t, r, "1 tables, 0 staging")
		}},
		{name: "server refuses a value (NUL) in PostgreSQL", code: 1, keeps: true,
			says: `row 2 column "note": character_not_in_repertoire (SQLSTATE 22021)`,
			setup: func(t *testing.T, r *faultRun) {
				nulParquet(t, r)
				postgresTarget(t, r, "0 tables, 0 staging")
			}},
	}
}

// parquetInput writes the rows as a Parquet file of text columns, then
// reads it with a policy that declares no types.
func parquetInput(data string) func(*testing.T, *faultRun) {
	return func(t *testing.T, r *faultRun) {
		keepAll := "tables:\n  people:\n    columns:\n"
		for _, c := range strings.Split(strings.TrimSpace(canaryHeader), ",") {
			keepAll += fmt.Sprintf("      %s: {keep: \"a test input\"}\n", c)
		}
		src := filepath.Join(t.TempDir(), "people.csv")
		os.WriteFile(src, []byte(data), 0o644)
		keepPolicy := filepath.Join(t.TempDir(), "keep.yaml")
		os.WriteFile(keepPolicy, []byte(keepAll), 0o644)
		pq := filepath.Join(r.dir, "input", "people.parquet")
		os.Remove(r.in)
		var b buffers
		if err := runRun(context.Background(), runOptions{policy: keepPolicy, from: src, to: pq,
			keyFile: testKeyFile(t), delimiter: ",", noInfer: true, quiet: true,
			manifest: filepath.Join(t.TempDir(), "m.json")}, b.stdio()); err != nil {
			t.Fatalf("writing the Parquet input: %v", err)
		}
		os.WriteFile(r.policy, []byte(strings.ReplaceAll(canaryPolicy, ", type: int64", "")), 0o644)
		r.in = pq
	}
}

// postgresInput loads the rows into a PostgreSQL table and reads them from
// there. It skips when there is no test server or deid cannot read one yet.
func postgresInput(t *testing.T, r *faultRun) {
	url := pgtest.New(t)
	cols := strings.Split(strings.TrimSpace(canaryHeader), ",")
	pgtest.Exec(t, url, "CREATE TABLE people ("+strings.Join(cols, " text, ")+" text)")
	conn := pgtest.Connect(t, url)
	for i, row := range [][]string{canaryCells(), canaryCells()} {
		if i == 1 {
			row[4] = "CANARY-MRN-7731" // visit
		}
		args := make([]any, len(row))
		marks := make([]string, len(row))
		for j := range row {
			args[j], marks[j] = row[j], fmt.Sprintf("$%d", j+1)
		}
		if _, err := conn.Exec(context.Background(),
			"INSERT INTO people VALUES ("+strings.Join(marks, ",")+")", args...); err != nil {
			t.Fatal(err)
		}
	}

	src, err := sources.Open(context.Background(), url, sources.OpenOptions{Tables: []string{"people"}})
	if err != nil && strings.Contains(err.Error(), "not built yet") {
		t.Skip("the run command does not read PostgreSQL yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	src.Close()
	os.WriteFile(r.policy, []byte(strings.ReplaceAll(canaryPolicy, ", type: int64", "")), 0o644)
	r.in = url
}

// postgresTarget makes the run write a new PostgreSQL database and checks,
// once the run is over, that it holds the tables and staging schemas said.
func postgresTarget(t *testing.T, r *faultRun, want string) {
	url := pgtest.New(t)
	r.args = append(r.args, "--to", url)
	t.Cleanup(func() {
		var got string
		conn := pgtest.Connect(t, url)
		err := conn.QueryRow(context.Background(), `SELECT
			(SELECT count(*) FROM pg_tables WHERE schemaname = 'public') || ' tables, ' ||
			(SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'deid\_staging\_%') || ' staging'`).
			Scan(&got)
		if err != nil || got != want {
			t.Errorf("target database holds %s (%v), want %s", got, err, want)
		}
	})
}

// nulParquet writes the canary rows as a Parquet file of text, with a NUL
// byte in a note, which a CSV file cannot hold and PostgreSQL text refuses,
// and a policy that keeps the note.
func nulParquet(t *testing.T, r *faultRun) {
	cells := canaryCells()
	cols := strings.Split(strings.TrimSpace(canaryHeader), ",")
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c, Type: arrow.BinaryTypes.String, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for row := range 2 {
		for i, v := range cells {
			if cols[i] == "note" && row == 1 {
				v = "CANARY-NOTE-9920\x00Zyxwquux"
			}
			b.Field(i).(*array.StringBuilder).Append(v)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()

	pq := filepath.Join(r.dir, "input", "people.parquet")
	sink, err := sinks.NewParquetFileSink(pq, sinks.ParquetSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := sink.Create(ctx, sources.Table{Name: "people", Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sink.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	os.Remove(r.in)
	r.in = pq
	policy := strings.ReplaceAll(canaryPolicy, ", type: int64", "")
	policy = strings.Replace(policy, "{phi: free-text}", `{keep: "a test of server errors"}`, 1)
	os.WriteFile(r.policy, []byte(policy), 0o644)
}

// canaryCells are the cells of canaryRow.
func canaryCells() []string {
	return []string{"4242", "CANARY-MRN-7731", "Zyxwquux", "1931-07-04", "2020-01-01", "82190",
		"95", "(900) 555-9999", "canary@leak.invalid", "999-31-4159", "CANARY-NOTE-9920, Zyxwquux",
		"203.0.113.77"}
}

// TestCanariesNeverLeakOnAnyPath drives every path of the run command that
// a user can reach, failing or not, with canaries planted in the rows. No
// canary may appear in stderr, in stdout unless it carries the data, in the
// exit message, the audit record, the manifest, the name of any file left
// behind or, unless the policy keeps a column, any output file.
func TestCanariesNeverLeakOnAnyPath(t *testing.T) {
	cases := faultCases()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			r := &faultRun{dir: dir, in: filepath.Join(dir, "input", "people.csv"),
				policy: filepath.Join(dir, "policy.yaml"), audit: filepath.Join(dir, "audit.jsonl"),
				tmp: filepath.Join(dir, "tmp"), ctx: context.Background()}
			os.MkdirAll(filepath.Join(dir, "input"), 0o755)
			os.Mkdir(r.tmp, 0o755)
			t.Setenv("TMPDIR", r.tmp)
			os.WriteFile(r.policy, []byte(canaryPolicy), 0o644)
			tc.setup(t, r)
			args := []string{"run", "--policy", r.policy, "--audit", r.audit}
			if !hasFlag(r.args, "--from") {
				args = append(args, "--from", r.in)
			}
			if !hasFlag(r.args, "--to") {
				args = append(args, "--to", filepath.Join(dir, "out"))
			}
			if !hasFlag(r.args, "--key-file") {
				args = append(args, "--key-file", testKeyFile(t))
			}

			var stdout, stderr bytes.Buffer
			io := stdio{in: r.stdin, out: &stdout, err: &stderr}
			if r.stdin == nil {
				io.in = strings.NewReader("")
			}
			if r.stdout != nil {
				io.out = r.stdout
			}
			root := newRootCmd(io)
			root.SetArgs(append(args, r.args...))
			var msg bytes.Buffer
			code := exitCode(execute(r.ctx, root), &msg)
			if code != tc.code {
				t.Fatalf("exit code %d (%s), want %d", code, msg.String(), tc.code)
			}
			if !strings.Contains(msg.String(), tc.says) {
				t.Errorf("exit message %q does not say %q", msg.String(), tc.says)
			}

			streams := map[string]string{"stderr": stderr.String(), "exit message": msg.String()}
			if !hasFlag(r.args, "--to") || tc.code != 0 {
				streams["stdout"] = stdout.String()
			}
			if lw, ok := r.stdout.(*limitedWriter); ok {
				streams["stdout"] = lw.got.String()
			}
			record, err := os.ReadFile(r.audit)
			if err != nil {
				t.Errorf("no audit record: %v", err)
			}
			streams["audit"] = string(record)
			filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
				if err != nil || strings.HasPrefix(path, filepath.Join(dir, "input")) {
					return err
				}
				rel, _ := filepath.Rel(dir, path)
				streams["file name "+rel] = rel
				isData := !strings.HasSuffix(path, ".json") && !strings.HasSuffix(path, ".jsonl")
				if !d.IsDir() && path != r.policy && !(tc.keeps && isData) {
					data, _ := os.ReadFile(path)
					streams[rel] = string(data)
				}
				return nil
			})
			for where, text := range streams {
				for _, c := range canaries {
					if strings.Contains(text, c) {
						t.Errorf("canary %q found in %s", c, where)
					}
				}
			}
			if tc.code != 0 && tc.code != exitFindings {
				for _, path := range leftovers(t, dir, r.policy, r.audit) {
					if !strings.HasPrefix(path, filepath.Join(dir, "input")) {
						t.Errorf("a failed run left %s", path)
					}
				}
			}
		})
	}
	t.Logf("%d paths", len(cases))
}

func hasFlag(args []string, flag string) bool {
	for _, a := range args {
		if a == flag || strings.HasPrefix(a, flag+"=") {
			return true
		}
	}
	return false
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// hostilePolicy covers a token, a year on text and on a typed date, a ZIP
// and an age on text.
const hostilePolicy = `
as_of: 2026-01-01
tables:
  t:
    columns:
      id:    {phi: record-id, token: person, type: int64}
      dob:   {phi: birth-date}
      visit: {phi: service-date, type: date}
      zip:   {phi: zip}
      age:   {phi: age}
`

const hostileHeader = "id,dob,visit,zip,age"

// hostileCase is one odd input and what deid must do with it: succeed with
// the given cells of dob, visit, zip and age (the id is a token), or fail
// with the exit code and a message that locates the fault and quotes none
// of the planted values.
type hostileCase struct {
	name  string
	input string
	// On success: the rows of dob, visit, zip, age; nil rows means a
	// header-only output.
	rows [][]string
	// On failure.
	code   int
	locate []string // substrings of the message, e.g. `row 2`, `column "dob"`
	secret []string // must not appear in any output
	// typedOK is set when a typed target (Parquet) accepts the input: deid
	// then infers a number type for the column, and reads it as one.
	typedOK bool
}

// line joins cells into a CSV line ending in LF.
func line(cells ...string) string { return strings.Join(cells, ",") + "\n" }

func hostileCases() []hostileCase {
	row := func(id, dob, visit, zip, age string) string { return line(id, dob, visit, zip, age) }
	ok := row("1", "1980-05-17", "2020-03-01", "02134", "45")
	okCells := []string{"1980", "2020-01-01", "021", "45"}
	bad := func(name, input string, locate []string, secret ...string) hostileCase {
		return hostileCase{name: name, input: input, code: exitRuntime, locate: locate, secret: secret}
	}
	good := func(name, input string, rows ...[]string) hostileCase {
		return hostileCase{name: name, input: input, rows: rows}
	}
	h := hostileHeader + "\n"

	return []hostileCase{
		// Structure of the file.
		bad("empty file", "", []string{`file "`, "file is empty: no header row"}),
		bad("only a byte order mark", "\uFEFF", []string{"file is empty: no header row"}),
		good("header only", h),
		good("header only, no final line end", hostileHeader),
		bad("duplicate column names", "id,dob,visit,dob,zip,age\n",
			[]string{"line 1", "header field 4 repeats field 2"}),
		bad("empty column name", "id,dob,,visit,zip,age\n", []string{"header field 3 is empty"}),
		{name: "no header row", input: row("4242", "1931-07-04", "2020-03-01", "82190", "95"),
			code: exitUsage, locate: []string{"none of its 5 columns is in the policy"},
			secret: []string{"4242", "1931-07-04", "82190"}},
		bad("lone CR line ends", strings.ReplaceAll(h+row("4242", "1931-07-04", "2020-03-01",
			"82190", "95"), "\n", "\r"), []string{"header field 5 holds a line break"},
			"4242", "1931-07-04", "82190"),
		good("CRLF line ends", strings.ReplaceAll(h+ok+ok, "\n", "\r\n"), okCells, okCells),
		good("mixed line ends", hostileHeader+"\r\n"+ok+strings.TrimSuffix(ok, "\n")+"\r\n"+ok,
			okCells, okCells, okCells),
		good("byte order mark", "\uFEFF"+h+ok, okCells),
		good("byte order mark and CRLF", "\uFEFF"+hostileHeader+"\r\n"+strings.TrimSuffix(ok, "\n")+"\r\n",
			okCells),
		good("blank lines between rows", h+"\n"+ok+"\n\n"+ok+"\n", okCells, okCells),
		good("no final line end", h+strings.TrimSuffix(ok, "\n"), okCells),
		good("quoted fields and a line break inside one", h+
			`"1","1980-05-17","2020-03-01","021`+"\n"+`34","45"`+"\n"+ok,
			[]string{"1980", "2020-01-01", "000", "45"}, okCells),
		good("empty fields are nulls", h+row("1", "", "", "", "")+row("", "", "", "", ""),
			[]string{"", "", "", ""}, []string{"", "", "", ""}),

		// Bytes a CSV file must not hold.
		bad("NUL byte", h+ok+row("2", "1931-07\x00-04", "2020-03-01", "82190", "95"),
			[]string{"row 2", `column "dob"`, "NUL"}, "1931-07"),
		bad("invalid UTF-8", h+ok+row("2", "1980-05-17", "2020-03-01", "Zyx\xffw", "95"),
			[]string{"row 2", `column "zip"`, "UTF-8"}, "Zyx"),
		bad("invalid UTF-8 in the header", "id,dob,visit,zi\xffp,age\n"+ok,
			[]string{"line 1", "UTF-8"}),
		bad("quote open at end of file", h+ok+`2,1980-05-17,2020-03-01,"82190,95`+"\n",
			[]string{"row 2", `column "zip"`, "not terminated"}, "82190"),
		bad("bare quote in a field", h+row("2", `19"31-07-04`, "2020-03-01", "82190", "95"),
			[]string{"row 1", `column "dob"`, "quote"}, "19\"31"),
		bad("text after a closing quote", h+row("2", `"1931"-07-04`, "2020-03-01", "82190", "95"),
			[]string{"row 1", `column "dob"`}, "-07-04"),
		bad("too few fields", h+ok+line("2", "1931-07-04", "2020-03-01"),
			[]string{"row 2", "wrong number of fields: 3, header has 5"}, "1931-07-04"),
		bad("too many fields", h+line("2", "1931-07-04", "2020-03-01", "82190", "95", "x"),
			[]string{"row 1", "wrong number of fields: 6, header has 5"}, "1931-07-04"),

		// Dates.
		bad("date 0000-00-00", h+ok+row("2", "0000-00-00", "2020-03-01", "82190", "95"),
			[]string{"row 2", `column "dob"`, "not a valid date"}),
		bad("date 2023-02-30", h+row("2", "2023-02-30", "2020-03-01", "82190", "95"),
			[]string{"row 1", `column "dob"`, "not a valid date"}, "2023-02-30"),
		bad("date 2023-02-29, not a leap year", h+row("2", "2023-02-29", "2020-03-01", "82190", "95"),
			[]string{"row 1", `column "dob"`}, "2023-02-29"),
		bad("five-digit year", h+row("2", "99999-01-01", "2020-03-01", "82190", "95"),
			[]string{"row 1", `column "dob"`, "not a valid date"}, "99999"),
		bad("typed date 0000-00-00", h+row("2", "1980-05-17", "0000-00-00", "82190", "95"),
			[]string{"row 1", `column "visit"`, "not a valid date"}),
		bad("typed date 2023-02-30", h+row("2", "1980-05-17", "2023-02-30", "82190", "95"),
			[]string{"row 1", `column "visit"`, "not a valid date"}, "2023-02-30"),
		bad("typed date with a five-digit year", h+row("2", "1980-05-17", "99999-01-01", "82190", "95"),
			[]string{"row 1", `column "visit"`}, "99999"),
		bad("hour 25", h+row("2", "1980-05-17T25:00:00", "2020-03-01", "82190", "95"),
			[]string{"row 1", `column "dob"`}, "25:00"),
		good("far-future years are kept as years", h+row("1", "2999-01-01", "2999-12-31", "02134", "45")+
			row("2", "9999-12-31", "9999-12-31", "02134", "45"),
			[]string{"2999", "2999-01-01", "021", "45"}, []string{"9999", "9999-01-01", "021", "45"}),
		good("birth years of 90 or more are bucketed", h+row("1", "0001-01-01", "2020-03-01", "02134", "45")+
			row("2", "1936-01-01", "", "02134", "90"),
			[]string{"<=1936", "2020-01-01", "021", "45"}, []string{"<=1936", "", "021", "90+"}),
		good("other date forms", h+row("1", "05/17/1980", "2020-03-01", "02134", "45")+
			row("2", "19800517", "2020-03-01", "02134", "45")+
			row("3", "1980-05-17T10:00:00+05:30", "2020-03-01", "02134", "45")+
			row("4", " 1980-05-17 ", "2020-03-01", "02134", "45"),
			okCells, okCells, okCells, okCells),

		// Numbers.
		bad("scientific notation in an int64 column", h+ok+row("1e3", "1980-05-17", "2020-03-01", "02134", "45"),
			[]string{"row 2", `column "id"`, "not a valid int64"}, "1e3"),
		bad("int64 out of range", h+row("9223372036854775808", "1980-05-17", "2020-03-01", "02134", "45"),
			[]string{"row 1", `column "id"`, "not a valid int64"}, "9223372036854775808"),
		bad("spaces around an int64", h+row(" 42", "1980-05-17", "2020-03-01", "02134", "45"),
			[]string{"row 1", `column "id"`}),
		{name: "scientific notation in an age", code: exitRuntime, typedOK: true,
			input:  h + row("1", "1980-05-17", "2020-03-01", "02134", "9.5e1"),
			locate: []string{"row 1", `column "age"`, "not an age"}, secret: []string{"9.5e1"}},
		bad("negative age", h+row("1", "1980-05-17", "2020-03-01", "02134", "-3"),
			[]string{"row 1", `column "age"`}),
		good("negative and signed int64 keys", h+row("-5", "1980-05-17", "2020-03-01", "02134", "45")+
			row("+5", "1980-05-17", "2020-03-01", "02134", "45"), okCells, okCells),

		// ZIP codes: handled as text, anything not a ZIP becomes 000.
		good("odd ZIPs", h+row("1", "1980-05-17", "2020-03-01", "1", "45")+
			row("2", "1980-05-17", "2020-03-01", "ABCDE", "45")+
			row("3", "1980-05-17", "2020-03-01", "12345-", "45")+
			row("4", "1980-05-17", "2020-03-01", "12345-6789", "45")+
			row("5", "1980-05-17", "2020-03-01", "2134", "45")+
			row("6", "1980-05-17", "2020-03-01", "00000", "45")+
			row("7", "1980-05-17", "2020-03-01", "123456", "45")+
			row("8", "1980-05-17", "2020-03-01", "036 01", "45"),
			[]string{"1980", "2020-01-01", "000", "45"},
			[]string{"1980", "2020-01-01", "000", "45"},
			[]string{"1980", "2020-01-01", "123", "45"},
			[]string{"1980", "2020-01-01", "123", "45"},
			[]string{"1980", "2020-01-01", "021", "45"},
			[]string{"1980", "2020-01-01", "000", "45"},
			[]string{"1980", "2020-01-01", "000", "45"},
			[]string{"1980", "2020-01-01", "000", "45"}),
	}
}

// TestHostileInput runs every hostile case through the real run command,
// CSV file to CSV file.
func TestHostileInput(t *testing.T) {
	cases := hostileCases()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runHostile(t, tc)
		})
	}
	t.Logf("%d hostile inputs", len(cases))
}

func runHostile(t *testing.T, tc hostileCase) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	policy := filepath.Join(dir, "policy.yaml")
	os.WriteFile(policy, []byte(hostilePolicy), 0o644)
	in := filepath.Join(dir, "t.csv")
	os.WriteFile(in, []byte(tc.input), 0o644)
	out := filepath.Join(dir, "out.csv")
	audit := filepath.Join(dir, "audit.jsonl")

	var b buffers
	root := newRootCmd(b.stdio())
	root.SetArgs([]string{"run", "--policy", policy, "--from", in, "--to", out,
		"--key-file", testKeyFile(t), "--audit", audit})
	err := execute(context.Background(), root)
	var msg bytes.Buffer
	code := exitCode(err, &msg)

	record, _ := os.ReadFile(audit)
	streams := map[string]string{"stdout": b.out.String(), "stderr": b.err.String(),
		"exit message": msg.String(), "audit": string(record)}
	for where, text := range streams {
		// The folder's name holds the test's, which may hold a planted value.
		text = strings.ReplaceAll(text, dir, "<dir>")
		for _, s := range tc.secret {
			if strings.Contains(text, s) {
				t.Errorf("%s quotes %q: %s", where, s, text)
			}
		}
	}

	if tc.code != 0 {
		if code != tc.code {
			t.Fatalf("exit code %d (%s), want %d", code, msg.String(), tc.code)
		}
		for _, l := range tc.locate {
			if !strings.Contains(msg.String(), l) {
				t.Errorf("message %q does not say %q", msg.String(), l)
			}
		}
		if left := leftovers(t, dir, policy, in, audit); len(left) > 0 {
			t.Errorf("a failed run left %v", left)
		}
		return
	}

	if code != 0 {
		t.Fatalf("exit code %d: %s", code, msg.String())
	}
	rows := readCSV(t, out)
	if !slices.Equal(rows[0], strings.Split(hostileHeader, ",")) {
		t.Fatalf("header %q", rows[0])
	}
	var got [][]string
	for _, r := range rows[1:] {
		got = append(got, r[1:])
	}
	if fmt.Sprint(got) != fmt.Sprint(tc.rows) {
		t.Errorf("output cells\n got %q\nwant %q", got, tc.rows)
	}
}

// TestHostileInputOtherPaths runs every hostile case from standard input to
// standard output and from a CSV file to a Parquet file: each must end as it
// does from file to file, a failure must write nothing to standard output,
// and no run may leave a temporary file.
func TestHostileInputOtherPaths(t *testing.T) {
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("TMPDIR", dir)
			policy := filepath.Join(dir, "policy.yaml")
			os.WriteFile(policy, []byte(hostilePolicy), 0o644)
			in := filepath.Join(dir, "t.csv")
			os.WriteFile(in, []byte(tc.input), 0o644)
			key := testKeyFile(t)

			var b buffers
			b.in.WriteString(tc.input)
			root := newRootCmd(b.stdio())
			root.SetArgs([]string{"run", "--policy", policy, "--key-file", key, "-q"})
			var msg bytes.Buffer
			code := exitCode(execute(context.Background(), root), &msg)
			if code != tc.code {
				t.Errorf("stdin: exit code %d (%s), want %d", code, msg.String(), tc.code)
			}
			if code != 0 && b.out.Len() > 0 {
				t.Errorf("stdin: a failed run wrote %d bytes to stdout", b.out.Len())
			}
			if code == 0 && tc.rows != nil && strings.Count(b.out.String(), "\n") < len(tc.rows)+1 {
				t.Errorf("stdin: output %q is short", b.out.String())
			}

			out := filepath.Join(dir, "out.parquet")
			var p buffers
			root = newRootCmd(p.stdio())
			root.SetArgs([]string{"run", "--policy", policy, "--from", in, "--to", out,
				"--key-file", key, "-q"})
			msg.Reset()
			code = exitCode(execute(context.Background(), root), &msg)
			if tc.typedOK {
				tc.code = 0
			}
			if code != tc.code {
				t.Errorf("parquet: exit code %d (%s), want %d", code, msg.String(), tc.code)
			}
			_, err := os.Stat(out)
			if published := err == nil; published != (code == 0) {
				t.Errorf("parquet: exit code %d, output published: %v", code, published)
			}
			if left := leftovers(t, dir, policy, in, out, out+".manifest.json"); len(left) > 0 {
				t.Errorf("runs left %v", left)
			}
			for _, s := range tc.secret {
				if strings.Contains(strings.ReplaceAll(msg.String()+b.err.String()+p.err.String(),
					dir, ""), s) {
					t.Errorf("output quotes %q", s)
				}
			}
		})
	}
}

// TestWideTable reads and writes a table of 5,000 columns.
func TestWideTable(t *testing.T) {
	const cols, rows = 5000, 50
	var policy, header, data strings.Builder
	policy.WriteString("tables:\n  wide:\n    columns:\n")
	names := make([]string, cols)
	for i := range names {
		names[i] = fmt.Sprintf("c%04d", i)
		action := "{phi: mrn}"
		if i%2 == 1 {
			action = `{keep: "a measurement"}`
		}
		fmt.Fprintf(&policy, "      %s: %s\n", names[i], action)
	}
	header.WriteString(strings.Join(names, ",") + "\n")
	for r := range rows {
		cells := make([]string, cols)
		for i := range cells {
			cells[i] = fmt.Sprintf("v%d-%d", r, i)
		}
		data.WriteString(strings.Join(cells, ",") + "\n")
	}

	dir := t.TempDir()
	policyPath := filepath.Join(dir, "policy.yaml")
	os.WriteFile(policyPath, []byte(policy.String()), 0o644)
	in := filepath.Join(dir, "wide.csv")
	os.WriteFile(in, []byte(header.String()+data.String()), 0o644)
	out := filepath.Join(dir, "out")
	var b buffers
	err := runRun(context.Background(), runOptions{policy: policyPath, from: in, to: out,
		keyFile: testKeyFile(t), delimiter: ",", quiet: true}, b.stdio())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	got := readCSV(t, filepath.Join(out, "wide.csv"))
	if len(got) != rows+1 || len(got[0]) != cols {
		t.Fatalf("output is %d rows of %d columns, want %d of %d", len(got), len(got[0]), rows+1, cols)
	}
	if got[1][1] != "v0-1" || got[1][0] == "v0-0" || len(got[1][0]) < 22 {
		t.Errorf("row 1 starts %q, %q: want a token, then the kept value", got[1][0], got[1][1])
	}
}

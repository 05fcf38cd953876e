package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// canaryPolicy covers every kind of rule; no column is kept, so no canary
// may survive into any output.
const canaryPolicy = `
as_of: 2026-01-01
tables:
  people:
    columns:
      id:    {phi: record-id, token: person, type: int64}
      mrn:   {phi: mrn}
      name:  {phi: name}
      dob:   {phi: birth-date, reference: [visit]}
      visit: {phi: service-date}
      zip:   {phi: zip}
      age:   {phi: age, type: int64}
      phone: {phi: phone}
      email: {phi: email}
      ssn:   {phi: ssn}
      note:  {phi: free-text}
      ip:    {phi: ip}
`

const canaryHeader = "id,mrn,name,dob,visit,zip,age,phone,email,ssn,note,ip\n"

// canaries are planted in the rows; none may reach any stream or file
// other than the input.
var canaries = []string{"CANARY-MRN-7731", "Zyxwquux", "canary@leak.invalid",
	"CANARY-NOTE-9920", "999-31-4159", "(900) 555-9999", "203.0.113.77", "1931-07-04", "82190"}

func canaryRow() string {
	return "4242,CANARY-MRN-7731,Zyxwquux,1931-07-04,2020-01-01,82190,95,(900) 555-9999," +
		"canary@leak.invalid,999-31-4159,\"CANARY-NOTE-9920, Zyxwquux\",203.0.113.77\n"
}

func TestCanariesNeverLeak(t *testing.T) {
	cases := []struct {
		name  string
		input string
		fail  bool
	}{
		{"clean run", canaryHeader + canaryRow() + canaryRow(), false},
		{"bad date", canaryHeader + canaryRow() + strings.Replace(canaryRow(), "2020-01-01", "CANARY-MRN-7731", 1), true},
		{"bad integer", canaryHeader + strings.Replace(canaryRow(), "4242", "Zyxwquux", 1), true},
		{"bad age", canaryHeader + strings.Replace(canaryRow(), ",95,", ",999-31-4159,", 1), true},
		{"ragged row", canaryHeader + canaryRow() + "CANARY-MRN-7731,Zyxwquux\n", true},
		{"invalid UTF-8", canaryHeader + strings.Replace(canaryRow(), "Zyxwquux", "Zyxw\xffquux", 1), true},
		{"open quote", canaryHeader + canaryRow() + "1,\"CANARY-MRN-7731,Zyxwquux\n", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			policy := filepath.Join(dir, "policy.yaml")
			os.WriteFile(policy, []byte(canaryPolicy), 0o644)
			in := filepath.Join(dir, "in")
			os.Mkdir(in, 0o755)
			os.WriteFile(filepath.Join(in, "people.csv"), []byte(tc.input), 0o644)
			out := filepath.Join(dir, "out")
			audit := filepath.Join(dir, "audit.jsonl")

			var b buffers
			err := runRun(context.Background(), runOptions{policy: policy, from: in, to: out,
				keyFile: testKeyFile(t), delimiter: ",", audit: audit}, b.stdio())
			var exitMsg bytes.Buffer
			code := exitCode(err, &exitMsg)
			if tc.fail != (code != 0) {
				t.Fatalf("exit code %d (%s), want failure=%v", code, exitMsg.String(), tc.fail)
			}

			streams := map[string]string{"stdout": b.out.String(), "stderr": b.err.String(),
				"exit message": exitMsg.String()}
			if data, err := os.ReadFile(audit); err != nil {
				t.Errorf("no audit record: %v", err)
			} else {
				streams["audit"] = string(data)
			}
			filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
				if err != nil || path == filepath.Join(in, "people.csv") {
					return err
				}
				streams["file name "+path] = path
				if !d.IsDir() && !strings.HasSuffix(path, ".yaml") {
					data, _ := os.ReadFile(path)
					streams[path] = string(data)
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
			if tc.fail {
				if entries, _ := os.ReadDir(out); len(entries) > 0 {
					t.Errorf("a failed run left %d entries in its target", len(entries))
				}
			}
		})
	}
}

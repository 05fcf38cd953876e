package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deid/deid/deid"
)

// misusedKey is a well-formed key that every misuse below passes somewhere
// it does not belong; it must never be printed.
const misusedKey = "8f14e45fceea167a5a36dedd4bea2543c5e2a3f1b0d9e8c7b6a5f4e3d2c1b0a9"

// TestKeyMisuseIsRefused runs run and verify through the real command line
// with every wrong way to give a key. Each is refused with exit 2 and a
// message that says what is wrong, writes nothing to the target, and never
// shows the key.
func TestKeyMisuseIsRefused(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	os.WriteFile(policy, []byte(canaryPolicy), 0o644)
	input := filepath.Join(dir, "people.csv")
	os.WriteFile(input, []byte(canaryHeader+canaryRow()), 0o644)

	// verify needs an output to check.
	verified := filepath.Join(dir, "verified")
	var setup buffers
	if err := runRun(context.Background(), runOptions{policy: policy, from: input, to: verified,
		keyFile: testKeyFile(t), delimiter: ","}, setup.stdio()); err != nil {
		t.Fatalf("making an output to verify: %v", err)
	}

	file := func(name, content string, mode os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, mode)
		return path
	}
	tests := []struct {
		name string
		args []string // after the command's own
		env  string   // DEID_KEY_FILE
		want string   // in the message
	}{
		{"no key at all", nil, "", "no key"},
		{"missing file", []string{"--key-file", filepath.Join(dir, "absent.key")}, "",
			"no such file"},
		{"empty file", []string{"--key-file", file("empty.key", "", 0o600)}, "", "empty"},
		{"blank file", []string{"--key-file", file("blank.key", " \n\n", 0o600)}, "", "empty"},
		{"short key", []string{"--key-file", file("short.key", misusedKey[:62]+"\n", 0o600)},
			"", "256 bits"},
		{"long key", []string{"--key-file", file("long.key", misusedKey+"00\n", 0o600)},
			"", "256 bits"},
		{"128-bit key", []string{"--key-file", file("k128.key", misusedKey[:32]+"\n", 0o600)},
			"", "only 128 bits"},
		{"not hex", []string{"--key-file", file("nothex.key", "zz"+misusedKey[2:]+"\n", 0o600)},
			"", "not a hex digit"},
		{"all zeros", []string{"--key-file", file("zero.key", strings.Repeat("0", 64), 0o600)},
			"", "all zeros"},
		{"readable by group", []string{"--key-file", file("group.key", misusedKey, 0o640)},
			"", "too open"},
		{"readable by others", []string{"--key-file", file("other.key", misusedKey, 0o604)},
			"", "too open"},
		{"a folder", []string{"--key-file", dir}, "", "not a regular file"},
		{"--key value", []string{"--key", misusedKey}, "", "never taken from the command line"},
		{"--key=value", []string{"--key=" + misusedKey}, "", "never taken from the command line"},
		{"key as --key-file", []string{"--key-file", misusedKey}, "", "is a key itself"},
		{"key as DEID_KEY_FILE", nil, misusedKey, "is a key itself"},
		{"key as an argument", []string{misusedKey}, "", "takes no arguments"},
	}
	for _, cmdName := range []string{"run", "verify"} {
		for _, tc := range tests {
			t.Run(cmdName+"/"+tc.name, func(t *testing.T) {
				if cmdName == "verify" && tc.name == "no key at all" {
					t.Skip("verify works without a key, with a random fingerprint key")
				}
				t.Setenv("DEID_KEY_FILE", tc.env)
				out := filepath.Join(t.TempDir(), "out")
				audit := filepath.Join(t.TempDir(), "audit.jsonl")
				args := []string{cmdName, "--policy", policy, "--from", input, "--to", out}
				want := tc.want
				if cmdName == "run" {
					args = append(args, "--audit", audit)
				} else {
					args[len(args)-1] = verified
					if strings.HasPrefix(tc.name, "--key") {
						want = "unknown flag: --key" // verify has no --key flag to refuse
					}
				}
				var b buffers
				root := newRootCmd(b.stdio())
				root.SetArgs(append(args, tc.args...))
				err := execute(context.Background(), root)

				var msg bytes.Buffer
				if code := exitCode(err, &msg); code != exitUsage {
					t.Fatalf("exit code %d (%s), want %d", code, msg.String(), exitUsage)
				}
				if !strings.Contains(msg.String(), want) {
					t.Errorf("message %q does not say %q", msg.String(), want)
				}
				record, _ := os.ReadFile(audit)
				all := strings.ToLower(msg.String() + b.out.String() + b.err.String() + string(record))
				if strings.Contains(all, misusedKey[:16]) || strings.Contains(all, misusedKey[40:]) {
					t.Errorf("the key was shown: %s", all)
				}
				if entries, _ := os.ReadDir(out); len(entries) > 0 {
					t.Errorf("a refused run wrote %d entries to its target", len(entries))
				}
			})
		}
	}
}

// TestKeyNeverInOutput runs the demo and checks that the key's hex, in
// either case, and its raw bytes appear in no output file, the manifest,
// the audit record or the streams.
func TestKeyNeverInOutput(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "k.key")
	os.WriteFile(keyFile, []byte(misusedKey+"\n"), 0o600)
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	t.Setenv("DEID_AUDIT_LOG", audit)

	var b buffers
	if err := runDemo(context.Background(), demoOptions{dir: dir, keyFile: keyFile}, b.stdio()); err != nil {
		t.Fatalf("demo: %v", err)
	}
	raw, _ := hex.DecodeString(misusedKey)
	texts := map[string][]byte{"stdout": b.out.Bytes(), "stderr": b.err.Bytes()}
	texts["audit"], _ = os.ReadFile(audit)
	filepath.WalkDir(filepath.Join(dir, "output"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			texts[path], _ = os.ReadFile(path)
		}
		return err
	})
	if len(texts) < 6 {
		t.Fatalf("only %d outputs to search", len(texts))
	}
	for where, data := range texts {
		lower := bytes.ToLower(data)
		for _, needle := range [][]byte{[]byte(misusedKey[:16]), []byte(misusedKey[48:]), raw[:8]} {
			if bytes.Contains(lower, needle) || bytes.Contains(data, needle) {
				t.Errorf("part of the key found in %s", where)
			}
		}
	}
}

// TestDifferentKeysAreUnlinkable runs the demo with two keys. No token of
// one run appears anywhere in the same column of the other, and the
// surrogates of a row agree no more often than chance.
func TestDifferentKeysAreUnlinkable(t *testing.T) {
	runWith := func(key string) string {
		dir := t.TempDir()
		keyFile := filepath.Join(dir, "k.key")
		os.WriteFile(keyFile, []byte(key+"\n"), 0o600)
		var b buffers
		if err := runDemo(context.Background(), demoOptions{dir: dir, keyFile: keyFile}, b.stdio()); err != nil {
			t.Fatalf("demo: %v", err)
		}
		return filepath.Join(dir, "output")
	}
	a := runWith(misusedKey)
	other := []byte(misusedKey)
	for i, j := 0, len(other)-1; i < j; i, j = i+1, j-1 {
		other[i], other[j] = other[j], other[i]
	}
	b := runWith(string(other))

	data, err := os.ReadFile(filepath.Join(a, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m deid.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	tokens, surrogates := 0, 0
	for _, tm := range m.Tables {
		rowsA := readCSV(t, filepath.Join(a, tm.Name+".csv"))
		rowsB := readCSV(t, filepath.Join(b, tm.Name+".csv"))
		for _, c := range tm.Columns {
			if c.Action != "token" && c.Action != "surrogate" {
				continue
			}
			colA, colB := column(rowsA, c.Name), column(rowsB, c.Name)
			switch c.Action {
			case "token":
				tokens += len(colA)
				seen := map[string]bool{}
				for _, v := range colA {
					seen[v] = v != ""
				}
				for i, v := range colB {
					if seen[v] {
						t.Errorf("%s.%s: token of row %d of key B is a token of key A", tm.Name, c.Name, i+1)
					}
				}
			case "surrogate":
				surrogates += len(colA)
				same := 0
				for i := range colA {
					if colA[i] != "" && colA[i] == colB[i] {
						same++
					}
				}
				if share := float64(same) / float64(len(colA)); share > 0.05 {
					t.Errorf("%s.%s: %d of %d rows have the same surrogate under both keys",
						tm.Name, c.Name, same, len(colA))
				}
			}
		}
	}
	if tokens < 1000 || surrogates < 1000 {
		t.Errorf("compared only %d token and %d surrogate cells", tokens, surrogates)
	}
	t.Logf("compared %d token cells and %d surrogate cells", tokens, surrogates)
}

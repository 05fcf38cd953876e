package tokenize

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// canaryHex is a syntactically odd key-like string whose fragments must
// never appear in an error message.
const canaryHex = "c0ffee5ec7e7c0ffee5ec7e7c0ffee5ec7e7c0ffee5ec7e7c0ffee5ec7e7zzzz"

func TestParseKey(t *testing.T) {
	raw := testKeyBytes()
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"hex", []byte(testKeyHex), true},
		{"hex uppercase", []byte(strings.ToUpper(testKeyHex)), true},
		{"hex with newline", []byte(testKeyHex + "\n"), true},
		{"hex with spaces and CRLF", []byte("  " + testKeyHex + " \r\n"), true},
		{"raw 32 bytes", raw, true},
		{"empty", nil, false},
		{"whitespace only", []byte(" \n\t"), false},
		{"63 hex digits", []byte(testKeyHex[:63]), false},
		{"65 hex digits", []byte(testKeyHex + "0"), false},
		{"32 hex digits is 128 bits", []byte(testKeyHex[:32]), false},
		{"non-hex", []byte(canaryHex), false},
		{"31 raw bytes", raw[:31], false},
		{"33 raw bytes", append(raw[:32:32], 0x20), false},
		{"all zero hex", bytes.Repeat([]byte("0"), 64), false},
		{"all zero raw", make([]byte, 32), false},
		{"hex with inner space", []byte(testKeyHex[:32] + " " + testKeyHex[32:]), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKey(tt.in)
			if got := err == nil; got != tt.ok {
				t.Fatalf("ParseKey err = %v, want ok %v", err, tt.ok)
			}
			if err != nil {
				assertNoLeak(t, err.Error(), tt.in)
				if !strings.Contains(err.Error(), "key must be 256") {
					t.Errorf("error %q does not say a key must be 256 bits", err)
				}
				return
			}
			if got := string(k.AppendHex(nil)); got != testKeyHex {
				t.Errorf("AppendHex = %s, want %s", got, testKeyHex)
			}
		})
	}
}

// assertNoLeak fails if msg contains any 8-byte run of secret that is made
// of printable characters.
func assertNoLeak(t *testing.T, msg string, secret []byte) {
	t.Helper()
	s := string(bytes.TrimSpace(secret))
	for i := 0; i+8 <= len(s); i++ {
		if frag := s[i : i+8]; strings.Contains(msg, frag) {
			t.Errorf("message %q contains secret fragment %q", msg, frag)
			return
		}
	}
}

func writeFile(t *testing.T, name string, content []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is masked by umask
		t.Fatal(err)
	}
	return path
}

func TestLoadKeyFile(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
		mode    os.FileMode
		wantErr string // a fragment of the error, "" for success
	}{
		{"hex 0600", []byte(testKeyHex + "\n"), 0o600, ""},
		{"hex 0400", []byte(testKeyHex + "\n"), 0o400, ""},
		{"raw 0600", testKeyBytes(), 0o600, ""},
		{"hex 0644", []byte(testKeyHex + "\n"), 0o644, "chmod 600"},
		{"hex 0640", []byte(testKeyHex + "\n"), 0o640, "chmod 600"},
		{"hex 0602", []byte(testKeyHex + "\n"), 0o602, "chmod 600"},
		{"empty", nil, 0o600, "empty"},
		{"wrong length", []byte(testKeyHex[:40] + "\n"), 0o600, "256 bits"},
		{"non-hex", []byte(canaryHex + "\n"), 0o600, "not a hex digit"},
		{"oversized", bytes.Repeat([]byte("a"), maxKeyFile+10), 0o600, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "deid.key", tt.content, tt.mode)
			k, err := LoadKeyFile(path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("LoadKeyFile: %v", err)
				}
				if got := k.ID(); got != testKey(t).ID() {
					t.Errorf("ID = %s, want the test key's %s", got, testKey(t).ID())
				}
				return
			}

			if err == nil {
				t.Fatalf("LoadKeyFile accepted %s", tt.name)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the path", err)
			}
			assertNoLeak(t, err.Error(), tt.content)
		})
	}
}

func TestLoadKeyFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.key")
	_, err := LoadKeyFile(path)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadKeyFile(missing) = %v, want os.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the path", err)
	}
}

func TestLoadKeyFileDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyFile(dir); err == nil {
		t.Error("LoadKeyFile accepted a directory")
	}
}

func TestWriteKeyFile(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "new.key")
	if err := WriteKeyFile(path, k); err != nil {
		t.Fatal(err)
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("mode = %#o, want 0600", got)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).Match(b) {
		t.Errorf("file is not 64 lowercase hex digits and a newline (%d bytes)", len(b))
	}

	back, err := LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID() != k.ID() {
		t.Errorf("loaded key ID %s, want %s", back.ID(), k.ID())
	}

	if err := WriteKeyFile(path, k); !errors.Is(err, os.ErrExist) {
		t.Errorf("second WriteKeyFile = %v, want os.ErrExist", err)
	}
	if err := WriteKeyFile("-", k); err == nil {
		t.Error(`WriteKeyFile("-") succeeded`)
	}
	if err := WriteKeyFile(filepath.Join(t.TempDir(), "nil.key"), nil); err == nil {
		t.Error("WriteKeyFile(nil key) succeeded")
	}
}

func TestGenerateKeyDiffers(t *testing.T) {
	a, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if a.ID() == b.ID() {
		t.Error("two generated keys have the same ID")
	}
}

func TestKeyNeverPrints(t *testing.T) {
	k := testKey(t)
	secretHex := testKeyHex
	secretRaw := string(testKeyBytes())

	type holder struct {
		Exported Key
		hidden   Key
		ptr      *Key
	}
	h := holder{Exported: *k, hidden: *k, ptr: k}
	tok := New(k)
	tok.Domain("patient")

	outputs := map[string]string{
		"key pointer": fmt.Sprintf("%v %+v %#v %s %x %X %q %d", k, k, k, k, k, k, k, k),
		"key value":   fmt.Sprintf("%v %+v %#v %s %x %X %q", *k, *k, *k, *k, *k, *k, *k),
		"holder":      fmt.Sprintf("%v %+v %#v", h, h, h),
		"tokenizer":   fmt.Sprintf("%v %+v %#v", tok, tok, tok),
		"domain":      fmt.Sprintf("%v %+v %#v", tok.Domain("patient"), *tok.Domain("patient"), tok),
		"print":       fmt.Sprint(k, *k) + fmt.Sprintln(k, *k),
	}

	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("k", "key", k, "value", *k)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("k", "key", k, "value", *k)
	outputs["slog"] = logged.String()

	for name, out := range outputs {
		if strings.Contains(out, secretHex[:16]) || strings.Contains(out, secretRaw[8:24]) ||
			strings.Contains(out, "[0 1 2 3") || strings.Contains(out, "0x0, 0x1, 0x2") {
			t.Errorf("%s output shows key bytes: %s", name, out)
		}
	}
	if !strings.Contains(outputs["key pointer"], redacted) {
		t.Errorf("key prints as %q, want %s", outputs["key pointer"], redacted)
	}
}

func TestKeyNeverMarshals(t *testing.T) {
	k := testKey(t)
	type config struct {
		Key *Key `json:"key" yaml:"key"`
	}
	if b, err := json.Marshal(config{Key: k}); err == nil {
		t.Errorf("json.Marshal succeeded: %s", b)
	}
	if b, err := json.Marshal(*k); err == nil {
		t.Errorf("json.Marshal(value) succeeded: %s", b)
	}
	if b, err := yaml.Marshal(config{Key: k}); err == nil {
		t.Errorf("yaml.Marshal succeeded: %s", b)
	}
	if _, err := k.MarshalText(); !errors.Is(err, ErrKeyMarshal) {
		t.Errorf("MarshalText err = %v, want ErrKeyMarshal", err)
	}
	if _, err := k.GobEncode(); !errors.Is(err, ErrKeyMarshal) {
		t.Errorf("GobEncode err = %v, want ErrKeyMarshal", err)
	}
}

func TestKeyID(t *testing.T) {
	// Golden: changing how the key ID is derived breaks every manifest's
	// link to its key.
	const want = "6b089339e6cb1b87"
	k := testKey(t)
	if got := k.ID(); got != want {
		t.Errorf("ID = %s, want %s", got, want)
	}
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(k.ID()) {
		t.Errorf("ID %q is not 16 lowercase hex digits", k.ID())
	}
	if strings.Contains(testKeyHex, k.ID()) {
		t.Errorf("ID %s is part of the key", k.ID())
	}
	if k.ID() == otherKey(t).ID() {
		t.Error("two keys share an ID")
	}
	if got := New(k).KeyID(); got != k.ID() {
		t.Errorf("Tokenizer.KeyID = %s, want %s", got, k.ID())
	}
}

func TestNewPanicsOnNilKey(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New(nil) did not panic")
		}
	}()
	New(nil)
}

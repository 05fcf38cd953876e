package tokenize

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
)

// KeySize is the length of a key in bytes: 256 bits.
const KeySize = 32

// maxKeyFile bounds how much of a key file is read: a hex key with a
// generous amount of surrounding whitespace fits; anything larger is not a
// key file.
const maxKeyFile = 4096

const redacted = "[redacted]"

// ErrKeyMarshal is returned by every attempt to marshal a Key.
var ErrKeyMarshal = errors.New("a key is never marshalled; write it with WriteKeyFile")

// Key is a 256-bit secret from which every token, surrogate and sub-key is
// derived.
//
// A Key never shows its bytes: String, GoString and Format print
// "[redacted]" whatever the verb, LogValue gives slog the same, and
// MarshalJSON, MarshalText and GobEncode fail. The bytes sit behind a
// pointer so that fmt, printing a struct that holds a Key, shows an address
// rather than the key. The only ways out are AppendHex and WriteKeyFile.
type Key struct {
	b *[KeySize]byte
}

// GenerateKey returns a new random key from crypto/rand.
func GenerateKey() (*Key, error) {
	var b [KeySize]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	return newKey(b[:])
}

// ParseKey decodes a key: 64 hexadecimal digits, surrounding whitespace
// allowed, or exactly 32 raw bytes. Errors describe the shape of the input
// (its length, a non-hex digit) and never quote it.
//
// Thirty-two bytes that are all hex digits are refused: that is a 128-bit key
// written in hex, not a 256-bit raw key. A key of all zero bytes is refused
// as an obvious placeholder.
func ParseKey(b []byte) (*Key, error) {
	if len(b) == KeySize && !allHex(b) {
		return newKey(b)
	}

	s := bytes.TrimSpace(b)
	switch {
	case len(s) == 0:
		return nil, errors.New("key must be 256 bits: the input is empty")
	case len(s) == KeySize && allHex(s):
		return nil, errors.New("key must be 256 bits: 32 hex digits are only 128 bits; " +
			"use 64 hex digits")
	case len(s) != 2*KeySize:
		return nil, fmt.Errorf("key must be 256 bits, as 64 hex digits or 32 raw bytes: "+
			"got %d bytes", len(s))
	case !allHex(s):
		return nil, errors.New("key must be 256 bits, as 64 hex digits: " +
			"the input has a character that is not a hex digit")
	}

	var raw [KeySize]byte
	if _, err := hex.Decode(raw[:], s); err != nil {
		// Unreachable after allHex; the hex error quotes its input, so it is
		// not wrapped.
		return nil, errors.New("key must be 256 bits, as 64 hex digits")
	}
	k, err := newKey(raw[:])
	clear(raw[:])
	return k, err
}

func newKey(b []byte) (*Key, error) {
	var zero [KeySize]byte
	if bytes.Equal(b, zero[:]) {
		return nil, errors.New("key must be 256 random bits: it is all zeros")
	}
	k := &Key{b: new([KeySize]byte)}
	copy(k.b[:], b)
	return k, nil
}

func allHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// LoadKeyFile reads a key written by WriteKeyFile (or any file holding 64 hex
// digits or 32 raw bytes).
//
// Like ssh with a private key, it refuses a file that group or others may
// read or write (mode&0o077 != 0) and says to chmod 600 it. It refuses a
// missing, empty or oversized file and one that does not hold a key. Errors
// name the path and never the content.
//
// A path that is itself a key in hex (32 or more hex digits) is refused
// without being named, since an error would print the key: it was most
// likely passed by mistake where the name of its file should be.
func LoadKeyFile(path string) (*Key, error) {
	if s := strings.TrimSpace(path); len(s) >= KeySize && allHex([]byte(s)) {
		return nil, errors.New("key file: the path given is a key itself, not the name of a " +
			"file holding one; a key on a command line shows in ps and shell history, so write " +
			"it to a file with mode 0600 and name that file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	defer f.Close()

	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("key file %s: permissions %#o are too open, group or others "+
			"may access it; run chmod 600 %s", path, perm, path)
	}

	buf := make([]byte, maxKeyFile+1)
	defer clear(buf)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	switch {
	case n == 0:
		return nil, fmt.Errorf("key file %s: the file is empty", path)
	case n > maxKeyFile:
		return nil, fmt.Errorf("key file %s: larger than %d bytes, not a key", path, maxKeyFile)
	}

	k, err := ParseKey(buf[:n])
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// WriteKeyFile writes k as 64 lowercase hex digits and a newline to a new
// file with mode 0600. It never overwrites: an existing path is an error.
// The path "-" (standard output) is refused; a caller that means to print a
// key uses AppendHex.
func WriteKeyFile(path string, k *Key) error {
	if path == "-" {
		return errors.New("key file: refusing to write a key to \"-\"; name a file")
	}
	if !k.valid() {
		return errors.New("key file: no key to write")
	}

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	buf := append(k.AppendHex(make([]byte, 0, 2*KeySize+1)), '\n')
	defer clear(buf)

	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("key file %s: %w", path, err)
	}
	return nil
}

func (k *Key) valid() bool { return k != nil && k.b != nil }

// mustBytes returns the key's bytes; a nil or zero Key is a programming
// error.
func (k *Key) mustBytes() []byte {
	if !k.valid() {
		panic("tokenize: use of a nil or zero Key")
	}
	return k.b[:]
}

// derive returns HMAC-SHA-256(k, label || 0x00 || name). Labels are fixed
// strings without a zero byte, so no (label, name) pair collides with
// another.
func (k *Key) derive(label, name string) [sha256.Size]byte {
	m := hmac.New(sha256.New, k.mustBytes())
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write([]byte(name))
	var out [sha256.Size]byte
	m.Sum(out[:0])
	return out
}

// ID returns the key's fingerprint: 16 lowercase hex digits, the first 64
// bits of HMAC-SHA-256(key, "deid/v1/key-id\x00"). It identifies the key in
// manifests and reveals nothing about it.
func (k *Key) ID() string {
	sum := k.derive(labelKeyID, "")
	return hex.EncodeToString(sum[:8])
}

// AppendHex appends the key as 64 lowercase hex digits to dst. It is the one
// way to export a key, for keygen.
func (k *Key) AppendHex(dst []byte) []byte {
	return hex.AppendEncode(dst, k.mustBytes())
}

// String returns "[redacted]".
func (k Key) String() string { return redacted }

// GoString returns "[redacted]".
func (k Key) GoString() string { return redacted }

// Format prints "[redacted]" for every verb and flag.
func (k Key) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// LogValue gives log/slog "[redacted]".
func (k Key) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON fails with ErrKeyMarshal.
func (k Key) MarshalJSON() ([]byte, error) { return nil, ErrKeyMarshal }

// MarshalText fails with ErrKeyMarshal.
func (k Key) MarshalText() ([]byte, error) { return nil, ErrKeyMarshal }

// MarshalYAML fails with ErrKeyMarshal.
func (k Key) MarshalYAML() (any, error) { return nil, ErrKeyMarshal }

// GobEncode fails with ErrKeyMarshal.
func (k Key) GobEncode() ([]byte, error) { return nil, ErrKeyMarshal }

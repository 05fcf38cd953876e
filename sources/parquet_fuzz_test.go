package sources

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deid/deid/internal/dataerr"
)

// FuzzParquetReader feeds damaged Parquet files to the source: it must
// never panic, and every error must be a *dataerr.Error or an operating
// system error that quotes no value of the file.
func FuzzParquetReader(f *testing.F) {
	dir := f.TempDir()
	good := pqCanaryFile(f, filepath.Join(dir, "seed.parquet"))
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(good[:len(good)/2])
	f.Add(append(append([]byte(nil), good[:len(good)/2]...), good[len(good)-8:]...))

	types := filepath.Join(dir, "types.parquet")
	writePQFile(f, types, pqTypesSchema, pqRecord(f, pqTypesSchema, pqTypesRows))
	if b, err := os.ReadFile(types); err == nil {
		f.Add(b)
	}
	f.Add([]byte("PAR1PAR1"))
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))

	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.parquet")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		err := readPQFileAll(path)
		if err == nil {
			return
		}
		var de *dataerr.Error
		var pe *fs.PathError
		if !errors.As(err, &de) && !errors.As(err, &pe) {
			t.Fatalf("got %T %q, want a *dataerr.Error", err, err)
		}
		if strings.Contains(err.Error(), "CANARY") {
			t.Fatalf("error %q quotes a value", err)
		}
	})
}

// TestParquetNoPanicOnPages damages every byte of a small file in turn and
// reads it; run with -short it checks every 7th byte.
func TestParquetNoPanicOnPages(t *testing.T) {
	dir := t.TempDir()
	good := pqCanaryFile(t, filepath.Join(dir, "seed.parquet"))
	path := filepath.Join(dir, "f.parquet")
	step := 1
	if testing.Short() {
		step = 7
	}
	for i := 0; i < len(good); i += step {
		b := append([]byte(nil), good...)
		b[i] ^= 0xFF
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := readPQFileAll(path); err != nil {
			var de *dataerr.Error
			if !errors.As(err, &de) {
				t.Fatalf("byte %d: got %T %q, want a *dataerr.Error", i, err, err)
			}
			if strings.Contains(err.Error(), "CANARY") {
				t.Fatalf("byte %d: error %q quotes a value", i, err)
			}
		}
	}
}

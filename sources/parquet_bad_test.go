package sources

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// pqCanary is a synthetic value that looks like an SSN; no error may
// quote it.
const pqCanary = "CANARY-123-45-6789"

var pqCanarySchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "ssn", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// pqCanaryFile writes a valid file whose ssn column holds the canary, in
// its pages and in its statistics, and returns its bytes.
func pqCanaryFile(t testing.TB, path string) []byte {
	t.Helper()
	var rows []string
	for i := range 50 {
		rows = append(rows, fmt.Sprintf(`{"id": %d, "ssn": "%s-%d"}`, i, pqCanary, i%3))
	}
	writePQFile(t, path, pqCanarySchema, pqRecord(t, pqCanarySchema, "["+strings.Join(rows, ",")+"]"))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readPQFileAll lists and reads every table of the file at path and
// returns the first error.
func readPQFileAll(path string) error {
	src, err := NewParquetFile(path, ParquetOptions{})
	if err != nil {
		return err
	}
	defer src.Close()
	tables, err := src.Tables(context.Background())
	if err != nil {
		return err
	}
	for _, tb := range tables {
		if _, err := readPQ(src, tb.Name, ReadOptions{BatchRows: 16}); err != nil {
			return err
		}
	}
	return nil
}

// pqChunkOffset is where the first page of column col starts.
func pqChunkOffset(t testing.TB, path string, col int) int64 {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	cc, err := rdr.MetaData().RowGroup(0).ColumnChunk(col)
	if err != nil {
		t.Fatal(err)
	}
	if cc.HasDictionaryPage() {
		return cc.DictionaryPageOffset()
	}
	return cc.DataPageOffset()
}

func TestParquetBadInput(t *testing.T) {
	tests := []struct {
		name   string
		mangle func(t *testing.T, path string, b []byte) []byte
		col    string
		reason string
	}{
		{"not parquet", func(_ *testing.T, _ string, _ []byte) []byte {
			return []byte("id,ssn\n1," + pqCanary + "\n")
		}, "", "not a Parquet file"},
		{"empty", func(_ *testing.T, _ string, _ []byte) []byte { return nil }, "", "not a Parquet file"},
		{"magic only", func(_ *testing.T, _ string, _ []byte) []byte { return []byte("PAR1") }, "", "truncated"},
		{"truncated", func(_ *testing.T, _ string, b []byte) []byte { return b[:len(b)/2] }, "", "truncated"},
		{"encrypted", func(_ *testing.T, _ string, b []byte) []byte {
			return append([]byte("PARE"), b[4:]...)
		}, "", "encrypted"},
		{"corrupt footer", func(_ *testing.T, _ string, b []byte) []byte {
			n := binary.LittleEndian.Uint32(b[len(b)-8:])
			out := append([]byte(nil), b...)
			footer := out[len(out)-8-int(n) : len(out)-8]
			for i := range footer {
				footer[i] = byte(0xA5 ^ i)
			}
			return out
		}, "", "corrupt Parquet footer"},
		{"footer length past start", func(_ *testing.T, _ string, b []byte) []byte {
			out := append([]byte(nil), b...)
			binary.LittleEndian.PutUint32(out[len(out)-8:], uint32(len(b)*2))
			return out
		}, "", "corrupt Parquet footer"},
		{"corrupt page header", func(t *testing.T, path string, b []byte) []byte {
			off := pqChunkOffset(t, path, 1)
			out := append([]byte(nil), b...)
			for i := off; i < off+24; i++ {
				out[i] = 0xFF
			}
			return out
		}, "ssn", "corrupt or truncated Parquet column data"},
		{"corrupt page body", func(t *testing.T, path string, b []byte) []byte {
			off := pqChunkOffset(t, path, 1)
			out := append([]byte(nil), b...)
			for i := off + 12; i < off+60 && i < int64(len(out))-8; i++ {
				out[i] ^= 0x5A
			}
			return out
		}, "ssn", "corrupt or truncated Parquet column data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.parquet")
			good := pqCanaryFile(t, path)
			if err := os.WriteFile(path, tt.mangle(t, path, good), 0o644); err != nil {
				t.Fatal(err)
			}
			err := readPQFileAll(path)
			checkPQError(t, err, path, tt.col, pqCanary, "CANARY")
			if err != nil && !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("got %q, want the reason %q", err, tt.reason)
			}
		})
	}
}

func TestParquetFileChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.parquet")
	writePQFile(t, path, pqIDSchema, pqIntRecords(t, pqIDSchema, 0, 2, 5)...)
	src, err := NewParquetFile(path, ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Tables(context.Background()); err != nil {
		t.Fatal(err)
	}
	writePQFile(t, path, pqIDSchema, pqIntRecords(t, pqIDSchema, 0, 3, 5)...)
	_, err = readPQ(src, "t", ReadOptions{})
	checkPQError(t, err, path, "")
	if err != nil && !strings.Contains(err.Error(), "changed") {
		t.Errorf("got %q, want it to say the file changed", err)
	}
}

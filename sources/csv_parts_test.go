package sources

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeParts(t *testing.T, parts map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "visits"), 0o755)
	for name, body := range parts {
		if err := os.WriteFile(filepath.Join(dir, "visits", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readAllRows(t *testing.T, src Source, table string, o ReadOptions) ([]string, error) {
	t.Helper()
	ctx := context.Background()
	if _, err := src.Tables(ctx); err != nil {
		return nil, err
	}
	r, err := src.Open(ctx, table, o)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var rows []string
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			rows = append(rows, rec.Column(0).ValueStr(i))
		}
		rec.Release()
	}
}

func TestCSVPartFolder(t *testing.T) {
	dir := writeParts(t, map[string]string{
		"part-00000-of-00003.csv": "id,n\na,1\nb,2\n",
		"part-00001-of-00003.csv": "id,n\n",
		"part-00002-of-00003.csv": "id,n\nc,3\n",
	})
	src, err := NewCSVDir(dir, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rows, err := readAllRows(t, src, "visits", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows, ","); got != "a,b,c" {
		t.Errorf("rows = %s, want a,b,c", got)
	}

	var union []string
	for i := 0; i < 2; i++ {
		part, err := readAllRows(t, src, "visits", ReadOptions{Shard: Shard{Index: i, Count: 2}})
		if err != nil {
			t.Fatal(err)
		}
		union = append(union, part...)
	}
	if got := strings.Join(union, ","); got != "a,b,c" {
		t.Errorf("union of shards = %s, want a,b,c (parts 0 and 2 to shard 0)", got)
	}
}

func TestCSVPartFolderHeadersMustAgree(t *testing.T) {
	dir := writeParts(t, map[string]string{
		"part-0.csv": "id,n\na,1\n",
		"part-1.csv": "id,m\nCANARY-31,2\n",
	})
	src, err := NewCSVDir(dir, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, err = readAllRows(t, src, "visits", ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "differs") || strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("error = %v, want a header mismatch that quotes nothing", err)
	}
}

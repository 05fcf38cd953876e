package synth

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/deid/deid/internal/dataerr"
)

func TestFloorCopiesFaithfully(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	if err := Demo(in); err != nil {
		t.Fatal(err)
	}
	rows, err := FloorRows(in, out)
	if err != nil {
		t.Fatalf("FloorRows: %v", err)
	}

	var want int64
	for _, name := range demoFiles {
		a, _ := os.ReadFile(filepath.Join(in, name))
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		ra, _ := csv.NewReader(bytes.NewReader(a)).ReadAll()
		rb, _ := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if !reflect.DeepEqual(ra, rb) {
			t.Errorf("%s: records differ after the floor", name)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: bytes differ after the floor", name)
		}
		want += int64(len(ra) - 1)
	}
	if rows != want {
		t.Errorf("FloorRows = %d rows, want %d", rows, want)
	}
}

func TestFloorErrorsDoNotQuoteValues(t *testing.T) {
	const canary = "CANARY-918-27-3645"
	tests := []struct {
		name, data, reason string
		line               int64
	}{
		{"ragged", "a,b\n1,2\n" + canary + "\n", "wrong number of fields", 3},
		{"bare quote", "a,b\n1,x\"" + canary + "\n", `bare " in non-quoted field`, 2},
		{"open quote", "a,b\n1,\"" + canary + "\n", `extraneous or missing " in quoted field`, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := t.TempDir()
			if err := os.WriteFile(filepath.Join(in, "t.csv"), []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			err := Floor(in, t.TempDir())
			var de *dataerr.Error
			if !errors.As(err, &de) {
				t.Fatalf("Floor() = %v, want a *dataerr.Error", err)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("error quotes a value: %v", err)
			}
			if de.Line != tt.line || de.Reason != tt.reason {
				t.Errorf("error at line %d reason %q, want line %d reason %q",
					de.Line, de.Reason, tt.line, tt.reason)
			}
		})
	}
}

func TestFloorNeedsCSVFiles(t *testing.T) {
	if err := Floor(t.TempDir(), t.TempDir()); err == nil {
		t.Error("Floor of an empty folder succeeded")
	}
}

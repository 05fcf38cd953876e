package sources

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deid/deid/internal/dataerr"
)

// TestCSVHeaderRefusesLineBreaks checks that a file whose lines end in a
// lone CR, which reads as one long header, is refused without quoting the
// data that the header's names would hold.
func TestCSVHeaderRefusesLineBreaks(t *testing.T) {
	tests := []struct {
		name, in string
	}{
		{"lone CR line ends", "id,dob\r4242,1931-07-04\r4243,1931-07-05\r"},
		{"quoted LF in a name", "id,\"d\nob\"\n4242,1931-07-04\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "people.csv")
			if err := os.WriteFile(path, []byte(tc.in), 0o644); err != nil {
				t.Fatal(err)
			}
			src, err := NewCSVFile(path, CSVOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Tables(context.Background())
			var de *dataerr.Error
			if !errors.As(err, &de) || !strings.Contains(de.Reason, "line break") {
				t.Fatalf("got %v, want a data error about a line break", err)
			}
			for _, v := range []string{"4242", "1931"} {
				if strings.Contains(err.Error(), v) {
					t.Errorf("error quotes %q: %v", v, err)
				}
			}
		})
	}
}

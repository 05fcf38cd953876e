package sources

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// scanAll reads every record of in with a scanner whose buffer starts at size
// bytes, copying the fields.
func scanAll(t testing.TB, in []byte, size int, oneByte bool) ([][]string, error) {
	t.Helper()
	var r io.Reader = bytes.NewReader(in)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	sc := newCSVScanner(r, ',', size)
	var out [][]string
	for {
		base, fields, _, err := sc.record()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		rec := make([]string, len(fields))
		for i, sp := range fields {
			rec[i] = string(base[sp.start:sp.end])
		}
		out = append(out, rec)
	}
}

// stdAll reads every record of in with encoding/csv, allowing any number of
// fields per record.
func stdAll(in []byte) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(in))
	r.FieldsPerRecord = -1
	return r.ReadAll()
}

var scanSeeds = []string{
	"a,b,c\n1,2,3\n",
	"a,b\r\n1,2\r\n",
	"a,b\n\"x,y\",\"he said \"\"hi\"\"\"\n",
	"a\n\"line1\r\nline2\"\n",
	"a,b\n\n\n1,2",
	"a,b\n1,2\r",
	"a,\"b\"\r",
	"a\n\r\n\r\nx\n",
	"\"unterminated\n",
	"a\"b,c\n",
	"\"a\"b,c\n",
	"\"a\"\rb\n",
	"a,b\n1,\n,\n",
	"x\ry,z\n",
	"\"\"\n\"\",\"\"\n",
	"a\r\r\n",
	"\"a\r\r\nb\"\n",
	" \"a\",b\n",
	"\n",
	"",
	"\r",
}

func TestScannerAgreesWithEncodingCSV(t *testing.T) {
	for _, seed := range scanSeeds {
		for _, size := range []int{1, 4, 64} {
			checkAgreement(t, []byte(seed), size, size == 4)
		}
	}
}

func FuzzScannerAgreement(f *testing.F) {
	for _, seed := range scanSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkAgreement(t, in, 8, true)
		checkAgreement(t, in, 4096, false)
	})
}

// checkAgreement checks that the scanner reads in as encoding/csv does:
// the same records when encoding/csv accepts valid UTF-8 without NUL bytes
// (up to CRLF inside quoted fields, which the scanner keeps), and an error
// exactly when encoding/csv reports one.
func checkAgreement(t *testing.T, in []byte, size int, oneByte bool) {
	t.Helper()
	got, gotErr := scanAll(t, in, size, oneByte)
	want, wantErr := stdAll(in)
	clean := utf8.Valid(in) && bytes.IndexByte(in, 0) < 0
	if gotErr != nil {
		var fault *scanFault
		if !errors.As(gotErr, &fault) {
			t.Fatalf("scan %q: error %v is not a scan fault", in, gotErr)
		}
	}
	if !clean {
		if gotErr == nil {
			t.Fatalf("scan %q: no error for invalid UTF-8 or NUL", in)
		}
		return
	}
	if (gotErr != nil) != (wantErr != nil) {
		t.Fatalf("scan %q: error %v, encoding/csv error %v", in, gotErr, wantErr)
	}
	// encoding/csv turns CRLF into LF inside quoted fields; the scanner
	// keeps them.
	for _, rec := range got {
		for i := range rec {
			rec[i] = strings.ReplaceAll(rec[i], "\r\n", "\n")
		}
	}
	if gotErr == nil && !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("scan %q:\n got %q\nwant %q", in, got, want)
	}
}

func TestScannerFaults(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		line  int64
		field int
		want  string
	}{
		{"bare quote", "a,b\n1,x\"y\n", 2, 1, reasonBareQuote},
		{"extraneous quote", "a,b\n\"1\"x,2\n", 2, 0, reasonExtraQuote},
		{"unterminated", "a,b\n1,\"open\n\n\n", 2, 1, reasonUnterm},
		{"invalid utf8", "a,b\n1,\xff\n", 2, 1, reasonUTF8},
		{"nul", "a,b\nx\x00,2\n", 2, 0, reasonNUL},
		{"invalid utf8 quoted", "a,b\n\"1\",\"\xc3\"\n", 2, 1, reasonUTF8},
		{"quote after multiline", "a\n\"x\ny\"z\n", 3, 0, reasonExtraQuote},
		{"after blank lines", "a\n\n\nq\"\n", 4, 0, reasonBareQuote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scanAll(t, []byte(tt.in), 64, false)
			var fault *scanFault
			if !errors.As(err, &fault) {
				t.Fatalf("error %v, want a scan fault", err)
			}
			if fault.line != tt.line || fault.field != tt.field || fault.reason != tt.want {
				t.Errorf("fault = line %d field %d %q, want line %d field %d %q",
					fault.line, fault.field, fault.reason, tt.line, tt.field, tt.want)
			}
		})
	}
}

func TestScannerRecordLimit(t *testing.T) {
	sc := newCSVScanner(strings.NewReader("a\n\"open"+strings.Repeat("x", 300)), ',', 16)
	sc.max = 64
	if _, _, _, err := sc.record(); err != nil {
		t.Fatalf("header: %v", err)
	}
	_, _, _, err := sc.record()
	var fault *scanFault
	if !errors.As(err, &fault) || fault.reason != reasonRecordLimit {
		t.Fatalf("error %v, want %q", err, reasonRecordLimit)
	}
}

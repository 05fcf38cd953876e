package scan

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/deid/deid/internal/dataerr"
	"github.com/deid/deid/sources"
)

// FuzzScan scans one CSV table of any content. Scanning never panics and
// fails only with a *dataerr.Error (the CSV could not be read); when it
// succeeds, the drafted policy validates and plans against the table,
// whatever its column names: quotes, colons, YAML words, line breaks.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"id,dob,zip,email\n1,1931-07-04,82190,a@example.com\n2,1980-05-17,02134,b@example.org\n",
		"\"a: b\",#c,yes,null,\"q\"\"uote\",- x\n1,2,3,4,5,6\n",
		"patient_id,ssn,phone\n1,900-00-0001,(555) 010-0100\n1,900-00-0002,555.010.0101\n",
		"Name,Ålder,日付\nJane,95,2020-01-01\n",
		"x\n\n\n",
		"a,b\n1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		src, err := sources.NewCSVReader(bytes.NewReader(in), sources.CSVOptions{Table: "t"})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		res, err := Scan(context.Background(), src, Options{Source: "fuzz", SampleRows: 50})
		if err != nil {
			var de *dataerr.Error
			if !errors.As(err, &de) {
				t.Fatalf("scan error %v (%T) is not a *dataerr.Error", err, err)
			}
			return
		}
		checkRunnable(t, res, src)
	})
}

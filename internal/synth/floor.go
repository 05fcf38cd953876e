package synth

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/deid/deid/internal/dataerr"
)

// Floor is the cost floor of a CSV de-identification: it copies every *.csv
// file of inDir to outDir (created if needed) through encoding/csv in one
// goroutine, with no transform. Whatever deid does on top of parsing and
// writing the same bytes is measured against it.
func Floor(inDir, outDir string) error {
	_, err := FloorRows(inDir, outDir)
	return err
}

// FloorRows is Floor, and returns the number of data rows copied (header
// rows excluded) over all files.
func FloorRows(inDir, outDir string) (int64, error) {
	files, err := filepath.Glob(filepath.Join(inDir, "*.csv"))
	if err != nil {
		return 0, fmt.Errorf("floor: listing %s: %w", inDir, err)
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("floor: no .csv file in %s", inDir)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return 0, fmt.Errorf("floor: %w", err)
	}

	var rows int64
	for _, in := range files {
		n, err := floorFile(in, filepath.Join(outDir, filepath.Base(in)))
		if err != nil {
			return rows, err
		}
		rows += n
	}
	return rows, nil
}

// floorFile copies one CSV file record by record and returns its data rows.
func floorFile(inPath, outPath string) (rows int64, err error) {
	in, err := os.Open(inPath)
	if err != nil {
		return 0, fmt.Errorf("floor: %w", err)
	}
	defer in.Close()
	out, err := os.Create(outPath)
	if err != nil {
		return 0, fmt.Errorf("floor: %w", err)
	}
	defer func() {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("floor: %w", cerr)
		}
	}()

	// encoding/csv keeps a buffered reader or writer it is given when it is
	// at least as large as its own default.
	r := csv.NewReader(bufio.NewReaderSize(in, bufSize))
	r.ReuseRecord = true
	bw := bufio.NewWriterSize(out, bufSize)
	w := csv.NewWriter(bw)

	for line := int64(0); ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rows, csvError(inPath, err)
		}
		if err := w.Write(rec); err != nil {
			return rows, fmt.Errorf("floor: writing %s: %w", outPath, err)
		}
		if line > 0 {
			rows++
		}
	}

	w.Flush()
	if err := w.Error(); err != nil {
		return rows, fmt.Errorf("floor: writing %s: %w", outPath, err)
	}
	return rows, nil
}

// csvError locates a parse error without quoting the input: of a
// *csv.ParseError only the line and the kind of fault are kept.
func csvError(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		reason := "malformed record"
		switch {
		case errors.Is(pe.Err, csv.ErrFieldCount):
			reason = "wrong number of fields"
		case errors.Is(pe.Err, csv.ErrQuote):
			reason = "extraneous or missing \" in quoted field"
		case errors.Is(pe.Err, csv.ErrBareQuote):
			reason = "bare \" in non-quoted field"
		}
		return &dataerr.Error{File: path, Line: int64(pe.StartLine), Rule: "csv", Reason: reason}
	}
	// Anything else is an I/O error of the file, which quotes no data.
	return fmt.Errorf("floor: reading %s: %w", path, err)
}

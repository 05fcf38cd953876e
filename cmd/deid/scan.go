package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/deid/deid/deid/scan"
	"github.com/deid/deid/internal/atomicfile"
	"github.com/deid/deid/sources"
)

type scanOptions struct {
	from       string
	out        string
	table      string
	delimiter  string
	sampleRows int
	joinRows   int
	quiet      bool
}

func newScanCmd(io stdio) *cobra.Command {
	var o scanOptions
	cmd := &cobra.Command{
		Use:   "scan --from SRC [-o policy.yaml]",
		Short: "Draft a policy: classify every column of a source from a sample",
		Long: "scan reads a sample of every table of SRC (the whole table when it is small),\n" +
			"classifies every column into a Safe Harbor identifier kind or keep, and writes\n" +
			"a complete policy that deid run accepts as it is. A comment above each column\n" +
			"gives the evidence: the name, the value patterns matched and their share, how\n" +
			"distinct the values are, and the joins found. Columns whose evidence is weak get\n" +
			"the stricter action and are marked REVIEW. No value from the data is written.",
		Example: "  deid scan --from extracts/ -o policy.yaml\n" +
			"  deid scan --from patients.csv --sample-rows 50000",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScan(cmd.Context(), o, io)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "-", "source: file, folder, - (CSV on stdin) or postgres:// URL")
	f.StringVarP(&o.out, "out", "o", "-", "where to write the policy (default: standard output)")
	f.StringVar(&o.table, "table", "", "table name for a single CSV file or stdin (default: the file name, or \"data\" for stdin)")
	f.StringVar(&o.delimiter, "delimiter", ",", "CSV field delimiter, one character (\\t for tab)")
	f.IntVar(&o.sampleRows, "sample-rows", scan.DefaultSampleRows, "rows read from the start of each table")
	f.IntVar(&o.joinRows, "join-rows", scan.DefaultJoinRows, "rows of a larger table read to confirm a join (0: the sample only)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "log warnings and errors only")
	return cmd
}

// runScan is the scan command without cobra, so tests can call it.
func runScan(ctx context.Context, o scanOptions, io stdio) error {
	comma, err := parseDelimiter(o.delimiter)
	if err != nil {
		return err
	}
	if o.sampleRows <= 0 {
		return usagef("--sample-rows: a positive number of rows")
	}
	if o.joinRows < 0 {
		return usagef("--join-rows: zero or a positive number of rows")
	}
	joinRows := o.joinRows
	if joinRows == 0 {
		joinRows = -1 // the sample only
	}
	table := o.table
	if table == "" && o.from == "-" {
		table = "data"
	}

	src, err := sources.Open(ctx, o.from, sources.OpenOptions{Comma: comma, Table: table,
		Stdin: io.in})
	if err != nil {
		return err
	}
	defer src.Close()
	res, err := scan.Scan(ctx, src, scan.Options{SampleRows: o.sampleRows, JoinRows: joinRows,
		Source: showSpec(o.from)})
	if err != nil {
		return err
	}

	if o.out == "-" {
		if err := res.WriteYAML(io.out); err != nil {
			return fmt.Errorf("writing the policy: %w", err)
		}
	} else if err := writePolicyFile(o.out, res); err != nil {
		return err
	}
	cols := 0
	for _, t := range res.Tables {
		cols += len(t.Columns)
	}
	newLogger(io, o.quiet).Info("scan done", "tables", len(res.Tables), "columns", cols,
		"review", res.Reviews(), "policy", o.out)
	return nil
}

// writePolicyFile writes the policy under a temporary name beside path and
// renames it when complete.
func writePolicyFile(path string, res *scan.Result) error {
	return atomicfile.Write(path, 0o644, res.WriteYAML)
}

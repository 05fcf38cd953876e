package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/deid/deid/deid"
	"github.com/deid/deid/deid/verify"
	"github.com/deid/deid/internal/atomicfile"
	"github.com/deid/deid/schemas"
	"github.com/deid/deid/sources"
	"github.com/deid/deid/tokenize"
)

type verifyOptions struct {
	policy    string
	from, to  string
	keyFile   string
	jsonOut   string
	manifest  string
	table     string
	delimiter string
	asOf      string
	k         int
	quasi     []string
	enforceK  bool
}

func newVerifyCmd(io stdio) *cobra.Command {
	var o verifyOptions
	cmd := &cobra.Command{
		Use:   "verify --policy P --from SRC --to DST",
		Short: "Check a de-identified output before it is released",
		Long: "verify reads the output DST of a run over SRC and reports what should not be\n" +
			"there: SSNs, phone numbers, emails, URLs, IPs, dates with a month or day, full\n" +
			"ZIP codes, restricted ZIP3s, ages of 90 or more, MRN-like codes, and any\n" +
			"identifier value of the source, whole or inside text (looked up by keyed\n" +
			"fingerprint; the values are never kept). It checks that keys stay unique,\n" +
			"foreign-key tokens exist in their parent and row counts match the manifest,\n" +
			"and reports k-anonymity over the quasi-identifiers. Findings name the table,\n" +
			"column, row and check, never the value. Exit status 3 when anything is found.",
		Example: "  deid verify --policy policy.yaml --from extracts/ --to out/ --json report.json\n" +
			"  deid verify --policy policy.yaml --from extracts/ --to out/ --quasi zip,dob,sex --k 10",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVerify(cmd.Context(), o, io)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.policy, "policy", "p", "", "the policy the output was made with (required)")
	f.StringVar(&o.from, "from", "", "the source of the run: file, folder or postgres:// URL (required)")
	f.StringVar(&o.to, "to", "", "the output of the run: file, folder or postgres:// URL (required)")
	f.StringVar(&o.keyFile, "key-file", "", "derive the fingerprint key from this key (default $DEID_KEY_FILE, else a random key)")
	f.StringVar(&o.jsonOut, "json", "", "also write the report as JSON to this file")
	f.StringVar(&o.manifest, "manifest", "", "the run's manifest.json (default: beside the output, if there)")
	f.StringVar(&o.table, "table", "", "table name for single CSV files (default: the file name)")
	f.StringVar(&o.delimiter, "delimiter", ",", "CSV field delimiter, one character (\\t for tab)")
	f.StringVar(&o.asOf, "as-of", "", "reference date YYYY-MM-DD of the 90-or-older rule (default: the manifest's)")
	f.IntVar(&o.k, "k", verify.DefaultK, "k of the k-anonymity report")
	f.StringSliceVar(&o.quasi, "quasi", verify.DefaultQuasi, "quasi-identifiers: column names, policy kinds, or sex, dob, zip")
	f.BoolVar(&o.enforceK, "enforce-k", false, "count records in classes smaller than k as findings")
	return cmd
}

// runVerify is the verify command without cobra, so tests can call it.
func runVerify(ctx context.Context, o verifyOptions, io stdio) error {
	switch {
	case o.policy == "":
		return usagef("verify: name the policy of the run with --policy FILE")
	case o.from == "" || o.to == "":
		return usagef("verify: name the run's source and output with --from and --to")
	case o.from == "-" && o.to == "-":
		return usagef("verify: the source and the output cannot both be standard input")
	case o.k < 1:
		return usagef("--k: a positive number")
	}
	p, _, err := loadPolicy(o.policy)
	if err != nil {
		return err
	}
	comma, err := parseDelimiter(o.delimiter)
	if err != nil {
		return err
	}
	vo := verify.Options{Policy: p, K: o.k, Quasi: o.quasi, EnforceK: o.enforceK}
	if o.asOf != "" {
		if vo.AsOf, err = time.Parse(time.DateOnly, o.asOf); err != nil {
			return usagef("--as-of: not a YYYY-MM-DD date")
		}
	}
	if vo.Key, err = optionalKey(o.keyFile); err != nil {
		return err
	}
	if vo.Manifest, err = readManifest(o); err != nil {
		return err
	}

	opts := sources.OpenOptions{Comma: comma, Table: singleTable(o.table, o.from, p),
		Tables: sortedTables(p), Stdin: io.in}
	src, out, err := openPair(ctx, o.from, o.to, opts)
	if err != nil {
		return err
	}
	defer src.Close()
	defer out.Close()

	rep, err := verify.Verify(ctx, src, out, vo)
	if err != nil {
		return err
	}
	return reportVerification(rep, o.jsonOut, io)
}

// reportVerification prints the report, writes its JSON when asked, and
// turns findings into the findings exit status.
func reportVerification(rep *verify.Report, jsonPath string, io stdio) error {
	if err := rep.WriteText(io.out); err != nil {
		return err
	}
	if jsonPath != "" {
		if err := writeReportFile(jsonPath, rep); err != nil {
			return err
		}
	}
	if !rep.Clean {
		return findingsError{len(rep.Findings)}
	}
	return nil
}

// openPair opens a run's source and output. A single output file takes
// the name of the source's only table, as the run wrote it: clean.csv made
// from patients.csv holds the table patients.
func openPair(ctx context.Context, from, to string, o sources.OpenOptions) (
	src, out sources.Source, err error) {
	if src, err = sources.Open(ctx, from, o); err != nil {
		return nil, nil, err
	}
	if o.Table == "" && singleFile(to) {
		if ts, err := src.Tables(ctx); err == nil && len(ts) == 1 {
			o.Table = ts[0].Name
		}
	}
	if out, err = sources.Open(ctx, to, o); err != nil {
		src.Close()
		return nil, nil, err
	}
	return src, out, nil
}

// singleFile reports whether spec names standard input or one file.
func singleFile(spec string) bool {
	if spec == "-" {
		return true
	}
	if sources.IsPostgres(spec) {
		return false
	}
	st, err := os.Stat(spec)
	return err == nil && !st.IsDir()
}

// singleTable names the table of a single CSV file or of stdin: the flag,
// else for stdin the policy's only table.
func singleTable(flag, spec string, p *schemas.Policy) string {
	if flag != "" || spec != "-" {
		return flag
	}
	if len(p.Tables) == 1 {
		for name := range p.Tables {
			return name
		}
	}
	return ""
}

// optionalKey loads the key when one is named; verification works without
// one, with a random fingerprint key.
func optionalKey(path string) (*tokenize.Key, error) {
	if path == "" {
		path = os.Getenv("DEID_KEY_FILE")
	}
	if path == "" {
		return nil, nil
	}
	k, err := tokenize.LoadKeyFile(path)
	if err != nil {
		return nil, usageError{err}
	}
	return k, nil
}

// readManifest reads the run's manifest: the one named, else the one
// beside the output if there is one.
func readManifest(o verifyOptions) (*deid.Manifest, error) {
	path := o.manifest
	if path == "" {
		path = manifestPath(runOptions{to: o.to})
	}
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && o.manifest == "" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the manifest: %w", err)
	}
	var m deid.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, usagef("reading the manifest %s: not a deid manifest", path)
	}
	return &m, nil
}

// writeReportFile writes the JSON report under a temporary name and
// renames it when complete.
func writeReportFile(path string, rep *verify.Report) error {
	return atomicfile.Write(path, 0o644, rep.WriteJSON)
}

// verifyRun checks a run's output as deid run --verify does, before the
// manifest is written: it reads the source and the output again, records
// the summary in the manifest, and prints the report on stderr.
func verifyRun(ctx context.Context, o runOptions, cfg *runConfig, m *deid.Manifest,
	io stdio) (*verify.Report, error) {
	src, out, err := openPair(ctx, o.from, o.to, sources.OpenOptions{Comma: cfg.comma,
		Table: cfg.table(o), Tables: sortedTables(cfg.policy)})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	defer out.Close()

	key, err := loadKey(o.keyFile)
	if err != nil {
		return nil, err
	}
	rep, err := verify.Verify(ctx, src, out, verify.Options{Policy: cfg.policy, Key: key,
		Manifest: m, AsOf: cfg.asOf})
	if err != nil {
		return nil, err
	}
	m.Verification = rep.Summary()
	if err := rep.WriteText(io.err); err != nil {
		return nil, err
	}
	return rep, nil
}

// verifiable reports why a run cannot be verified, or nil: the source and
// the output must both be readable again.
func verifiable(o runOptions) error {
	if o.from == "-" || o.to == "-" {
		return usagef("--verify reads the source and the output again: " +
			"name files, folders or databases, not standard input or output")
	}
	return nil
}

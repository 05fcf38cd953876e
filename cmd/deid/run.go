package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deid/deid/deid"
	"github.com/deid/deid/internal/guard"
	"github.com/deid/deid/internal/pgconn"
	"github.com/deid/deid/schemas"
	"github.com/deid/deid/sinks"
	"github.com/deid/deid/sources"
	"github.com/deid/deid/tokenize"
)

type runOptions struct {
	policy        string
	from, to      string
	keyFile       string
	keyValue      string // only to refuse it
	format        string
	delimiter     string
	table         string
	workers       int
	batchRows     int
	manifest      string
	audit         string
	asOf          string
	deterministic bool
	quiet         bool
	cpuProfile    string
	noInfer       bool
	parquetCodec  string
	rowGroupRows  int64
	verify        bool
	samples       []string
	limits        []string
	shard         string
}

func newRunCmd(io stdio) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run --policy P [--from SRC] [--to DST] [--key-file K]",
		Short: "De-identify a data set as a policy says",
		Long: "run reads SRC, applies the policy to every column of every table, and writes\n" +
			"DST. SRC and DST are a CSV or Parquet file, a folder of them, - for CSV on\n" +
			"standard input or output (the default), or a postgres:// URL. Output is\n" +
			"published only when complete.",
		Example: "  deid run --policy policy.yaml --from extracts/ --to out/ --key-file deid.key\n" +
			"  deid run --policy policy.yaml --key-file deid.key < patients.csv > clean.csv\n" +
			"  deid run --policy policy.yaml --from extracts/ --to fixtures/ --sample patient=1%\n" +
			"  deid run --policy policy.yaml --from extracts/ --to out/ --shard 3/16",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("key") {
				return usagef("keys are never taken from the command line, where ps and shell " +
					"history would show them; use --key-file or DEID_KEY_FILE")
			}
			return runRun(cmd.Context(), o, io)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.policy, "policy", "p", "", "policy file, or the name of a bundled policy (required)")
	f.StringVar(&o.from, "from", "-", "source: file, folder, - (CSV on stdin) or postgres:// URL")
	f.StringVar(&o.to, "to", "-", "target: file, folder, - (CSV on stdout) or postgres:// URL")
	f.StringVar(&o.keyFile, "key-file", "", "key file (default $DEID_KEY_FILE)")
	f.StringVar(&o.keyValue, "key", "", "refused: keys are read from files only")
	_ = f.MarkHidden("key")
	f.StringVar(&o.format, "format", "", "format of a folder target: csv or parquet (default: the source's)")
	f.StringVar(&o.delimiter, "delimiter", ",", "CSV field delimiter, one character (\\t for tab)")
	f.StringVar(&o.table, "table", "", "table name for a single CSV file or stdin (default: the file name, or the policy's only table)")
	f.IntVar(&o.workers, "workers", 0, "batches transformed in parallel per table (default: one per CPU)")
	f.IntVar(&o.batchRows, "batch-rows", 0, "rows per batch (default 8192)")
	f.StringVar(&o.manifest, "manifest", "", "where to write manifest.json (default: beside the output)")
	f.StringVar(&o.audit, "audit", "", "append an audit record to this file (default $DEID_AUDIT_LOG)")
	f.StringVar(&o.asOf, "as-of", "", "reference date YYYY-MM-DD for ages of 90 or more (default: the policy's, else today)")
	f.BoolVar(&o.deterministic, "deterministic", false, "leave wall-clock times out of the manifest, so reruns give equal bytes")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "log warnings and errors only")
	f.StringVar(&o.parquetCodec, "parquet-codec", "zstd", "Parquet compression: zstd, snappy, gzip, brotli, lz4 or none")
	f.Int64Var(&o.rowGroupRows, "parquet-row-group-rows", 0, "rows per Parquet row group (default 1048576)")
	f.BoolVar(&o.verify, "verify", false, "verify the output when done and record the result in the manifest (exit 3 on findings)")
	f.BoolVar(&o.noInfer, "no-infer-types", false, "keep undeclared CSV columns as text when writing Parquet or PostgreSQL")
	f.StringArrayVar(&o.samples, "sample", nil,
		"keep a share of a token domain's subjects and their rows, e.g. patient=1% (repeatable)")
	f.StringArrayVar(&o.limits, "limit", nil,
		"keep the N subjects of a token domain with the smallest seeds, e.g. patient=500")
	f.StringVar(&o.shard, "shard", "",
		"write part i (0-based) of n of every table, e.g. 3/16 or JOB_COMPLETION_INDEX/16")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a Go CPU profile to this file")
	_ = f.MarkHidden("cpuprofile")
	return cmd
}

// runRun is the run command without cobra, so tests can call it.
func runRun(ctx context.Context, o runOptions, io stdio) (err error) {
	started := time.Now()
	audit := deid.NewAuditRecord("run")
	audit.Version = toolVersion()
	audit.Source, audit.Target = showSpec(o.from), showSpec(o.to)
	auditPath := o.audit
	if auditPath == "" {
		auditPath = os.Getenv("DEID_AUDIT_LOG")
	}
	defer func() {
		if auditPath == "" {
			return
		}
		audit.Seconds = time.Since(started).Seconds()
		switch {
		case err == nil:
			audit.Outcome = "ok"
		case errors.Is(err, context.Canceled):
			audit.Outcome, audit.Error = "interrupted", err.Error()
		default:
			audit.Outcome, audit.Error = "failed", err.Error()
		}
		if aerr := audit.Append(auditPath); aerr != nil {
			err = errors.Join(err, aerr)
		}
	}()
	// A panic becomes an error before the audit record is written, so that
	// the record says the run failed.
	defer guard.Recover(&err, "the run command")

	cfg, err := loadRunConfig(o)
	if err != nil {
		return err
	}
	if o.verify {
		if err := verifiable(o); err != nil {
			return err
		}
	}
	audit.PolicyHash, audit.Profile = cfg.policyHash, string(cfg.policy.Profile)
	audit.KeyID = cfg.tok.KeyID()

	log := newLogger(io, o.quiet)
	src, err := sources.Open(ctx, o.from, sources.OpenOptions{
		Comma: cfg.comma, Table: cfg.table(o), Tables: sortedTables(cfg.policy), Stdin: io.in,
		Logger: log})
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := sinks.OpenPart(ctx, o.to, sinks.OpenOptions{
		Format: sinks.Format(cfg.format(o)), Comma: cfg.comma, Stdout: io.out, Logger: log,
		Parquet: sinks.ParquetSinkOptions{Codec: o.parquetCodec, RowGroupRows: o.rowGroupRows}},
		cfg.shard)
	if err != nil {
		return err
	}

	if o.cpuProfile != "" {
		stop, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	prog := newProgress(io.err)
	defer prog.finish()
	res, err := deid.Run(ctx, src, dst, deid.Options{
		Policy: cfg.policy, PolicyHash: cfg.policyHash, Tokenizer: cfg.tok,
		Workers: o.workers, BatchRows: o.batchRows, AsOf: cfg.asOf,
		Shard: cfg.shard, Subset: cfg.subset,
		InferTypes: !o.noInfer && inferTypes(o, cfg),
		Log:        log, Progress: prog.update,
		BeforeCommit: func() error { return removeStaleManifest(shardManifestPath(o, cfg.shard)) },
	})
	if err != nil {
		return err
	}
	audit.Tables = res.Tables

	m := deid.NewManifest(res, deid.ManifestInfo{
		Version: toolVersion(), PolicyHash: cfg.policyHash, KeyID: cfg.tok.KeyID(),
		Zip3List: cfg.policy.Zip3, DataUseAgreement: cfg.policy.DataUseAgreement,
		Shard: deid.ShardString(cfg.shard), Deterministic: o.deterministic,
	})
	var found error
	if o.verify {
		rep, err := verifyRun(ctx, o, cfg, m, io)
		if err != nil {
			return err
		}
		if !rep.Clean {
			found = findingsError{len(rep.Findings)}
		}
	}
	if path := shardManifestPath(o, cfg.shard); path != "" {
		if err := m.WriteFile(path); err != nil {
			return err
		}
		log.Info("manifest written", "path", path)
	}
	return found
}

// runConfig is everything run needs that comes from flags and files.
type runConfig struct {
	policy     *schemas.Policy
	policyHash string
	tok        *tokenize.Tokenizer
	comma      rune
	asOf       time.Time
	subset     deid.Subset
	shard      sources.Shard
}

func loadRunConfig(o runOptions) (*runConfig, error) {
	if o.policy == "" {
		return nil, usagef("run: name a policy with --policy FILE (deid scan writes a draft)")
	}
	p, hash, err := loadPolicy(o.policy)
	if err != nil {
		return nil, err
	}
	cfg := &runConfig{policy: p, policyHash: hash}
	if cfg.subset, err = parseSubset(o.samples, o.limits); err != nil {
		return nil, err
	}
	if cfg.shard, err = parseShardFlag(o.shard); err != nil {
		return nil, err
	}
	if err := checkShardable(o, cfg.shard); err != nil {
		return nil, err
	}

	if cfg.comma, err = parseDelimiter(o.delimiter); err != nil {
		return nil, err
	}
	if o.asOf != "" {
		if cfg.asOf, err = time.Parse(time.DateOnly, o.asOf); err != nil {
			return nil, usagef("--as-of: not a YYYY-MM-DD date")
		}
	}
	key, err := loadKey(o.keyFile)
	if err != nil {
		return nil, err
	}
	cfg.tok = tokenize.New(key)
	return cfg, nil
}

// loadPolicy reads a policy file, or a bundled policy by name, and checks it.
func loadPolicy(name string) (*schemas.Policy, string, error) {
	data, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) && !strings.ContainsAny(name, `/\.`) {
		data, err = schemas.Bundled(name)
	}
	if err != nil {
		return nil, "", usageError{fmt.Errorf("reading policy: %w", err)}
	}
	p, err := schemas.Check(data, name)
	if err != nil {
		return nil, "", usageError{err}
	}
	return p, schemas.Hash(data), nil
}

func loadKey(path string) (*tokenize.Key, error) {
	if path == "" {
		path = os.Getenv("DEID_KEY_FILE")
	}
	if path == "" {
		return nil, usagef("no key: name a key file with --key-file or DEID_KEY_FILE " +
			"(deid keygen -o FILE makes one)")
	}
	k, err := tokenize.LoadKeyFile(path)
	if err != nil {
		return nil, usageError{err}
	}
	return k, nil
}

func parseDelimiter(s string) (rune, error) {
	switch s {
	case `\t`, "tab":
		return '\t', nil
	}
	r := []rune(s)
	if len(r) != 1 || r[0] == '"' || r[0] == '\n' || r[0] == '\r' {
		return 0, usagef("--delimiter: one character other than a quote or a line break")
	}
	return r[0], nil
}

// table names the table of a single CSV file or of stdin: the flag, else
// for stdin the policy's only table.
func (c *runConfig) table(o runOptions) string {
	if o.table != "" || o.from != "-" {
		return o.table
	}
	if len(c.policy.Tables) == 1 {
		for name := range c.policy.Tables {
			return name
		}
	}
	return ""
}

// format picks a folder target's format: the flag, else Parquet for
// Parquet and database sources and CSV otherwise.
func (c *runConfig) format(o runOptions) string {
	if o.format != "" {
		return o.format
	}
	if sources.IsPostgres(o.from) {
		return string(sinks.FormatParquet)
	}
	if st, err := os.Stat(o.from); err == nil {
		if strings.HasSuffix(strings.ToLower(o.from), ".parquet") ||
			(st.IsDir() && hasParquet(o.from)) {
			return string(sinks.FormatParquet)
		}
	}
	return string(sinks.FormatCSV)
}

func hasParquet(dir string) bool {
	for _, pattern := range []string{"*.parquet", "*/*.parquet"} {
		if m, _ := filepath.Glob(filepath.Join(dir, pattern)); len(m) > 0 {
			return true
		}
	}
	return false
}

func sortedTables(p *schemas.Policy) []string {
	names := make([]string, 0, len(p.Tables))
	for n := range p.Tables {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// manifestPath puts the manifest beside the output: in a target folder, or
// next to a target file. Streams and databases get one only when asked.
func manifestPath(o runOptions) string {
	if o.manifest != "" {
		return o.manifest
	}
	if o.to == "-" || sources.IsPostgres(o.to) {
		return ""
	}
	switch strings.ToLower(filepath.Ext(o.to)) {
	case ".csv", ".tsv", ".txt", ".parquet", ".parq", ".pq":
		return o.to + ".manifest.json"
	}
	return filepath.Join(o.to, "manifest.json")
}

// showSpec is a source or target as logs and audit records may show it:
// database connection strings with their passwords masked, paths as they are.
func showSpec(spec string) string {
	if sources.IsPostgres(spec) || strings.Contains(spec, "=") {
		return pgconn.Redact(spec)
	}
	return spec
}

func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// inferTypes reports whether a run should guess column types: when text
// columns from CSV files go to a sink that keeps types. Standard input can
// be read only once, so it is never sampled.
func inferTypes(o runOptions, c *runConfig) bool {
	typedSink := sources.IsPostgres(o.to) || c.format(o) == string(sinks.FormatParquet) ||
		strings.HasSuffix(strings.ToLower(o.to), ".parquet")
	csvSource := o.from != "-" && !sources.IsPostgres(o.from) &&
		!strings.HasSuffix(strings.ToLower(o.from), ".parquet") && !hasParquet(o.from)
	return typedSink && csvSource
}

// removeStaleManifest deletes the previous run's manifest just before new
// output is published, so that a folder whose publication failed half-way
// has no manifest describing it: a manifest means a complete run.
func removeStaleManifest(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the previous manifest: %w", err)
	}
	return nil
}

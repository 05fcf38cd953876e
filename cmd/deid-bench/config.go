package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// config is what the command line asks for.
type config struct {
	patients   []int // one benchmark per size, in this order
	perPatient float64
	seed       uint64
	dir        string
	modes      []mode
	policy     string
	deid       string // a deid binary to use; empty builds ./cmd/deid
	pg         string // a PostgreSQL server URL for the pg modes; empty skips them
	runs       int
	keep       bool
}

// envPG names the environment variable that -pg defaults to, the one the
// integration tests use.
const envPG = "DEID_TEST_PG_URL"

// errHelp reports that -h was asked for and usage already printed.
var errHelp = errors.New("help requested")

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var (
		c        config
		modes    string
		patients string
	)
	fs := flag.NewFlagSet("deid-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&patients, "patients", "1000000",
		"patients in the generated extract; a comma-separated list runs the benchmark at each "+
			"size and compares peak memory")
	fs.Float64Var(&c.perPatient, "encounters-per-patient", 5, "mean encounters per patient")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the generated extract")
	fs.StringVar(&c.dir, "dir", filepath.Join(os.TempDir(), "deid-bench"),
		"folder for the extract (kept between runs), the deid binary, the key and outputs")
	fs.StringVar(&modes, "modes", "csv",
		"comma-separated modes, or all: "+strings.Join(modeNames(), ", "))
	fs.StringVar(&c.policy, "policy", "demo", "policy file or bundled policy name passed to deid run")
	fs.StringVar(&c.deid, "deid", "", "deid binary to measure (default: build ./cmd/deid into -dir)")
	fs.StringVar(&c.pg, "pg", os.Getenv(envPG),
		"PostgreSQL server URL for the pg modes, which create databases deid_bench_* on it "+
			"(default $"+envPG+"; without it they are skipped)")
	fs.IntVar(&c.runs, "runs", 1, "runs of each program; the fastest is reported with the slowest")
	fs.BoolVar(&c.keep, "keep", false, "keep the outputs of the last runs")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: deid-bench [flags]\n"+
			"       deid-bench floor -mode M [-policy P] IN OUT")
		fs.PrintDefaults()
	}

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, errHelp
		}
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if c.patients, err = parseSizes(patients); err != nil {
		return c, err
	}
	switch {
	case c.perPatient <= 0:
		return c, errors.New("-encounters-per-patient must be positive")
	case c.runs < 1:
		return c, errors.New("-runs must be at least 1")
	case c.policy == "":
		return c, errors.New("-policy must not be empty")
	}
	if c.modes, err = parseModes(modes); err != nil {
		return c, err
	}

	if c.dir, err = filepath.Abs(c.dir); err != nil {
		return c, fmt.Errorf("-dir: %w", err)
	}
	if c.deid != "" {
		if c.deid, err = filepath.Abs(c.deid); err != nil {
			return c, fmt.Errorf("-deid: %w", err)
		}
	}
	return c, nil
}

// parseSizes reads -patients: one positive count or several, separated by
// commas, each at most once.
func parseSizes(s string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-patients: %q is not a positive count", f)
		}
		if slices.Contains(sizes, n) {
			return nil, fmt.Errorf("-patients: %d is given twice", n)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// parseModes reads -modes: names of modes separated by commas, or "all".
func parseModes(s string) ([]mode, error) {
	if strings.TrimSpace(s) == "all" {
		return modes, nil
	}
	var ms []mode
	for _, name := range strings.Split(s, ",") {
		m, ok := findMode(strings.TrimSpace(name))
		if !ok {
			return nil, fmt.Errorf("unknown mode %q (known: %s, or all)",
				name, strings.Join(modeNames(), ", "))
		}
		ms = append(ms, m)
	}
	return ms, nil
}

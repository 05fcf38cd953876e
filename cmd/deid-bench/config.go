package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// config is what the command line asks for.
type config struct {
	patients   int
	perPatient float64
	seed       uint64
	dir        string
	modes      []mode
	policy     string
	deid       string // a deid binary to use; empty builds ./cmd/deid
	runs       int
	keep       bool
}

// errHelp reports that -h was asked for and usage already printed.
var errHelp = errors.New("help requested")

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var (
		c     config
		modes string
	)
	fs := flag.NewFlagSet("deid-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.patients, "patients", 1_000_000, "patients in the generated extract")
	fs.Float64Var(&c.perPatient, "encounters-per-patient", 5, "mean encounters per patient")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the generated extract")
	fs.StringVar(&c.dir, "dir", filepath.Join(os.TempDir(), "deid-bench"),
		"folder for the extract (kept between runs), the deid binary, the key and outputs")
	fs.StringVar(&modes, "modes", "csv", "comma-separated modes: "+strings.Join(modeNames(), ", "))
	fs.StringVar(&c.policy, "policy", "demo", "policy file or bundled policy name passed to deid run")
	fs.StringVar(&c.deid, "deid", "", "deid binary to measure (default: build ./cmd/deid into -dir)")
	fs.IntVar(&c.runs, "runs", 1, "runs of each program; the fastest is reported")
	fs.BoolVar(&c.keep, "keep", false, "keep the outputs of the last runs in -dir")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: deid-bench [flags]\n       deid-bench floor -mode M IN OUT")
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
	switch {
	case c.patients <= 0:
		return c, errors.New("-patients must be positive")
	case c.perPatient <= 0:
		return c, errors.New("-encounters-per-patient must be positive")
	case c.runs < 1:
		return c, errors.New("-runs must be at least 1")
	case c.policy == "":
		return c, errors.New("-policy must not be empty")
	}

	for _, name := range strings.Split(modes, ",") {
		m, ok := findMode(strings.TrimSpace(name))
		if !ok {
			return c, fmt.Errorf("unknown mode %q (known: %s)", name, strings.Join(modeNames(), ", "))
		}
		c.modes = append(c.modes, m)
	}

	abs, err := filepath.Abs(c.dir)
	if err != nil {
		return c, fmt.Errorf("-dir: %w", err)
	}
	c.dir = abs
	if c.deid != "" {
		if c.deid, err = filepath.Abs(c.deid); err != nil {
			return c, fmt.Errorf("-deid: %w", err)
		}
	}
	return c, nil
}

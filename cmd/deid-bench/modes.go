package main

import (
	"github.com/deid/deid/internal/synth"
)

// A mode is one pair of input and output formats that the benchmark
// measures. Adding a mode (csv->parquet, parquet->parquet, pg->pg) is adding
// an entry to modes.
type mode struct {
	// name selects the mode with -modes.
	name string

	// prepare returns the mode's input, derived from the generated CSV folder
	// b.csvDir (the CSV modes use it as is). It should cache what it makes
	// under b.cfg.dir, as the generator's output is cached.
	prepare func(b *bench) (string, error)

	// floor copies in to out with no transform in one goroutine and returns
	// the data rows copied. It runs in a child process (`deid-bench floor
	// -mode NAME IN OUT`) so that its time and memory are its own.
	floor func(in, out string) (rows int64, err error)

	// deidArgs are the arguments of the deid command measured: the same
	// input to out.
	deidArgs func(b *bench, in, out string) []string
}

var modes = []mode{
	{
		name:    "csv",
		prepare: func(b *bench) (string, error) { return b.csvDir, nil },
		floor:   synth.FloorRows,
		deidArgs: func(b *bench, in, out string) []string {
			return []string{"run", "--policy", b.cfg.policy, "--from", in, "--to", out,
				"--key-file", b.key, "--quiet"}
		},
	},
}

func findMode(name string) (mode, bool) {
	for _, m := range modes {
		if m.name == name {
			return m, true
		}
	}
	return mode{}, false
}

func modeNames() []string {
	names := make([]string, len(modes))
	for i, m := range modes {
		names[i] = m.name
	}
	return names
}

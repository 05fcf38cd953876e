package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/deid/deid/internal/synth"
)

// A mode is one pair of input and output formats that the benchmark
// measures. Adding a mode is adding an entry to modes.
type mode struct {
	// name selects the mode with -modes.
	name string

	// needsPG marks a mode that runs only when -pg names a server.
	needsPG bool

	// prepare returns the mode's input, derived from the generated CSV folder
	// b.csvDir (the CSV modes use it as is). It caches what it makes, under
	// b.cfg.dir or on the server, as the generator's output is cached.
	prepare func(ctx context.Context, b *bench) (place, error)

	// output returns where program ("floor" or "deid") writes.
	output func(b *bench, program string) place

	// floor copies in to out with no transform and returns the data rows
	// copied. It runs in a child process (`deid-bench floor -mode NAME
	// -policy P IN OUT`) so that its time and memory are its own; in and
	// out are the specs of the mode's places.
	floor func(ctx context.Context, policy, in, out string) (rows int64, err error)

	// deidArgs are the arguments of the deid command measured: the same
	// input to out.
	deidArgs func(b *bench, in, out string) []string

	// note says what the table does not: how deid's work differs from the
	// floor's beyond the transforms.
	note string
}

var modes = []mode{
	{
		name:    "csv",
		prepare: func(_ context.Context, b *bench) (place, error) { return folder(b.csvDir), nil },
		output:  outFolder("csv"),
		floor: func(_ context.Context, _, in, out string) (int64, error) {
			return synth.FloorRows(in, out)
		},
		deidArgs: runArgs(),
	},
	{
		name:     "csv-parquet",
		prepare:  func(_ context.Context, b *bench) (place, error) { return folder(b.csvDir), nil },
		output:   outFolder("csv-parquet"),
		floor:    floorCSVParquet,
		deidArgs: runArgs("--format", "parquet"),
		note: "csv-parquet: both read the CSV with the types deid infers for it " +
			"(declared in the policy, guessed from the first 10000 rows for kept and date columns).",
	},
	{
		name:     "parquet-parquet",
		prepare:  prepareParquet,
		output:   outFolder("parquet-parquet"),
		floor:    floorParquet,
		deidArgs: runArgs("--format", "parquet"),
		note: "parquet-parquet: the input is the csv-parquet floor's copy of the extract, " +
			"cached in -dir.",
	},
	{
		name:     "pg-pg",
		needsPG:  true,
		prepare:  preparePG,
		output:   outDatabase,
		floor:    floorPG,
		deidArgs: runArgs(),
		note: "pg-pg: MB in and out are the tables' sizes in PostgreSQL, indexes left out. " +
			"The floor copies rows into tables without keys; deid also builds primary keys, " +
			"foreign keys and indexes, analyzes, and swaps the target in atomically.",
	},
}

// runArgs returns the deidArgs of `deid run` from in to out with the
// benchmark's policy and key, and extra flags.
func runArgs(extra ...string) func(b *bench, in, out string) []string {
	return func(b *bench, in, out string) []string {
		args := []string{"run", "--policy", b.cfg.policy, "--from", in, "--to", out,
			"--key-file", b.key, "--quiet"}
		return append(args, extra...)
	}
}

// outFolder returns the output of a mode that writes files: a folder of
// -dir per mode and program.
func outFolder(mode string) func(b *bench, program string) place {
	return func(b *bench, program string) place {
		return folder(filepath.Join(b.cfg.dir, "out-"+mode+"-"+program))
	}
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

// place is where a mode reads or writes: a folder, or a PostgreSQL
// database.
type place interface {
	// spec is what the programs are given on their command lines.
	spec() string
	// reset empties the place before a run writes to it.
	reset(ctx context.Context) error
	// size returns the bytes the place holds.
	size(ctx context.Context) (int64, error)
	// remove deletes the place.
	remove(ctx context.Context) error
}

// folder is a place on disk.
type folder string

func (f folder) spec() string                        { return string(f) }
func (f folder) reset(context.Context) error         { return os.RemoveAll(string(f)) }
func (f folder) size(context.Context) (int64, error) { return inputBytes(string(f)) }
func (f folder) remove(ctx context.Context) error    { return f.reset(ctx) }

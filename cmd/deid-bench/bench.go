package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/deid/deid/internal/synth"
)

// bench is the state of one benchmark run, shared by the modes.
type bench struct {
	cfg      config
	patients int    // the size being measured, one of cfg.patients
	csvDir   string // the generated extract of that size
	self     string // this program, for the floor's child process
	deid     string // the deid binary; empty if it could not be built
	key      string // the key file for deid run
	stderr   io.Writer
}

// runBench prepares deid, then for each size generates or reuses the
// extract, measures every mode and prints the table to stdout; with more
// than one size it ends with the peak memory of each program at each size.
// A mode whose floor or deid fails is reported in the table and makes the
// result an error; a mode that needs a server no one named is skipped.
func runBench(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	b := &bench{cfg: cfg, stderr: stderr}
	if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this program for the floor: %w", err)
	}
	b.self = self

	deidErr := b.prepareDeid(ctx)
	if deidErr != nil {
		fmt.Fprintf(stderr, "deid-bench: deid is not measured: %v\n", deidErr)
	}
	failed := deidErr != nil
	var all []result
	for _, n := range cfg.patients {
		b.patients = n
		if err := b.generate(ctx); err != nil {
			return err
		}
		var results []result
		var notes []string
		for _, m := range cfg.modes {
			if m.needsPG && cfg.pg == "" {
				notes = append(notes, m.name+": skipped; give a server with -pg or $"+envPG+".")
				continue
			}
			rs := b.measureMode(ctx, m)
			for _, r := range rs {
				if r.err != nil {
					failed = true
					fmt.Fprintf(stderr, "deid-bench: %s %s: %v\n", r.mode, r.program, r.err)
				}
			}
			results = append(results, rs...)
			if m.note != "" {
				notes = append(notes, m.note)
			}
			if ctx.Err() != nil {
				break
			}
		}

		fmt.Fprintf(stdout, "\n%d patients, %d CPUs, %s %s/%s\n",
			n, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		if err := printTable(stdout, results); err != nil {
			return err
		}
		for _, note := range notes {
			fmt.Fprintln(stdout, note)
		}
		all = append(all, results...)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if self := selfPeakRSS(); self > 0 {
		fmt.Fprintf(stdout, "\nA peak RSS under %.0f MiB, deid-bench's own, reads as that much: "+
			"on Linux a child's peak counts the memory it shared with its parent before exec.\n",
			float64(self)/(1<<20))
	}
	if len(cfg.patients) > 1 {
		fmt.Fprintln(stdout, "\npeak RSS in MiB by patients")
		if err := printMemory(stdout, cfg.patients, all); err != nil {
			return err
		}
	}
	if failed {
		return errors.New("some runs failed; see above")
	}
	return nil
}

// generate writes the extract of b.patients into a folder named by its
// options, unless a complete one is already there. The generator runs in a
// child process, like every step that takes memory.
func (b *bench) generate(ctx context.Context) error {
	c := b.cfg
	per := strconv.FormatFloat(c.perPatient, 'f', -1, 64)
	b.csvDir = filepath.Join(c.dir, fmt.Sprintf("csv-v%d-p%d-e%s-s%d", synth.FormatVersion,
		b.patients, per, c.seed))

	if !complete(b.csvDir) {
		fmt.Fprintf(b.stderr, "generating %d patients into %s\n", b.patients, b.csvDir)
		start := time.Now()
		err := b.child(ctx, "generate", "-patients", strconv.Itoa(b.patients),
			"-encounters-per-patient", per, "-seed", strconv.FormatUint(c.seed, 10), b.csvDir)
		if err != nil {
			return err
		}
		fmt.Fprintf(b.stderr, "generated in %.1f s\n", time.Since(start).Seconds())
	} else {
		fmt.Fprintf(b.stderr, "using the extract in %s\n", b.csvDir)
	}

	size, err := inputBytes(b.csvDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.stderr, "extract: %.1f MB\n", float64(size)/1e6)
	return nil
}

// complete reports whether dir holds all three tables; Generate renames
// them into place only when all are written.
func complete(dir string) bool {
	for _, name := range []string{synth.PatientsFile, synth.EncountersFile, synth.ProvidersFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	return true
}

// prepareDeid builds deid (unless -deid names a binary) and makes its key.
func (b *bench) prepareDeid(ctx context.Context) error {
	bin := b.cfg.deid
	if bin == "" {
		bin = filepath.Join(b.cfg.dir, "deid")
		root, err := moduleRoot(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(b.stderr, "building %s\n", bin)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/deid")
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, b.stderr, b.stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building ./cmd/deid: %w", err)
		}
	}

	key := filepath.Join(b.cfg.dir, "bench.key")
	if _, err := os.Stat(key); errors.Is(err, os.ErrNotExist) {
		cmd := exec.CommandContext(ctx, bin, "keygen", "-o", key)
		cmd.Stdout, cmd.Stderr = b.stderr, b.stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("deid keygen: %w", err)
		}
	}
	b.deid, b.key = bin, key
	return nil
}

// moduleRoot returns the folder of the go.mod that holds ./cmd/deid.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the deid module; run from its folder or pass -deid")
	}
	return filepath.Dir(gomod), nil
}

// measureMode runs the floor and then deid on the mode's input, each
// b.cfg.runs times, and returns the fastest run of each with the slowest.
func (b *bench) measureMode(ctx context.Context, m mode) []result {
	floor := result{mode: m.name, program: "floor", patients: b.patients}
	in, err := m.prepare(ctx, b)
	if err != nil {
		floor.err = fmt.Errorf("preparing the input: %w", err)
		return []result{floor}
	}
	if floor.bytes, err = in.size(ctx); err != nil {
		floor.err = err
		return []result{floor}
	}

	out := m.output(b, "floor")
	floor = b.best(ctx, floor, out, b.self,
		"floor", "-mode", m.name, "-policy", b.cfg.policy, in.spec(), out.spec())
	results := []result{floor}
	if b.deid == "" {
		return results
	}

	d := result{mode: m.name, program: "deid", patients: b.patients, bytes: floor.bytes,
		rows: floor.rows}
	out = m.output(b, "deid")
	d = b.best(ctx, d, out, b.deid, m.deidArgs(b, in.spec(), out.spec())...)
	if floor.err == nil && d.err == nil && floor.wall > 0 {
		d.ratio = d.wall.Seconds() / floor.wall.Seconds()
	}
	return append(results, d)
}

// best runs the program b.cfg.runs times into a freshly emptied out, each
// once the disks have written back what came before (the extract just
// generated, the last run's output), keeps the fastest and the slowest
// run's time and the largest peak memory, and removes out unless -keep is
// set.
func (b *bench) best(ctx context.Context, r result, out place, prog string, args ...string) result {
	var err error
	for i := range b.cfg.runs {
		if err := out.reset(ctx); err != nil {
			r.err = err
			return r
		}
		flushDisks()
		fmt.Fprintf(b.stderr, "%s %s: run %d of %d\n", r.mode, r.program, i+1, b.cfg.runs)
		var stdout bytes.Buffer
		var m measurement
		m, err = measure(ctx, prog, args, &stdout, b.stderr)
		if err != nil {
			r.err = err
			return r
		}
		if r.program == "floor" {
			if r.rows, err = parseRows(stdout.Bytes()); err != nil {
				r.err = err
				return r
			}
		} else {
			b.stderr.Write(stdout.Bytes())
		}
		fmt.Fprintf(b.stderr, "%s %s: %.2f s, peak RSS %.0f MiB\n", r.mode, r.program,
			m.wall.Seconds(), float64(m.peakRSS)/(1<<20))
		if r.wall == 0 || m.wall < r.wall {
			r.wall = m.wall
		}
		r.slowest = max(r.slowest, m.wall)
		r.peakRSS = max(r.peakRSS, m.peakRSS)
	}
	// The output's size shows how much less a policy that drops columns
	// writes than the floor, which copies everything.
	if r.outBytes, err = out.size(ctx); err != nil {
		r.err = err
	}
	if !b.cfg.keep {
		r.err = errors.Join(r.err, out.remove(ctx))
	}
	return r
}

// child runs this program with args and waits for it. Work that would grow
// this process's memory runs so: on Linux a child's peak memory counts the
// memory it shared with this process until exec.
func (b *bench) child(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, b.self, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, b.stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("deid-bench %s: %w", args[0], err)
	}
	return nil
}

// inputBytes returns the size of a file, or of the regular files under a
// folder.
func inputBytes(path string) (int64, error) {
	var n int64
	err := filepath.WalkDir(path, func(_ string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sizing the input: %w", err)
	}
	return n, nil
}

// floorMain is `deid-bench floor -mode M [-policy P] IN OUT`: the floor of
// mode M alone. It prints "rows N" on stdout for the parent to read.
func floorMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deid-bench floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("mode", "", "the mode: "+strings.Join(modeNames(), ", "))
	policy := fs.String("policy", "demo", "policy file or bundled policy name")
	usage := func() int {
		fmt.Fprintf(stderr, "usage: deid-bench floor -mode {%s} [-policy P] IN OUT\n",
			strings.Join(modeNames(), "|"))
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return usage()
	}
	m, ok := findMode(*name)
	if !ok || fs.NArg() != 2 {
		return usage()
	}
	rows, err := m.floor(ctx, *policy, fs.Arg(0), fs.Arg(1))
	if err != nil {
		fmt.Fprintln(stderr, "deid-bench floor:", err)
		return 1
	}
	fmt.Fprintf(stdout, "rows %d\n", rows)
	return 0
}

// generateMain is `deid-bench generate -patients N
// -encounters-per-patient E -seed S DIR`: it writes the extract into DIR.
func generateMain(args []string, stderr io.Writer) int {
	var o synth.Options
	fs := flag.NewFlagSet("deid-bench generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.Patients, "patients", 1000, "patients")
	fs.Float64Var(&o.EncountersPerPatient, "encounters-per-patient", 5, "mean encounters per patient")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: deid-bench generate [-patients N] "+
			"[-encounters-per-patient E] [-seed S] DIR")
		return 2
	}
	if err := synth.Generate(fs.Arg(0), o); err != nil {
		fmt.Fprintln(stderr, "deid-bench generate:", err)
		return 1
	}
	return 0
}

func parseRows(out []byte) (int64, error) {
	s, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "rows ")
	if n, err := strconv.ParseInt(s, 10, 64); ok && err == nil {
		return n, nil
	}
	return 0, errors.New(`the floor did not print "rows N"`)
}

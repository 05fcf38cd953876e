// Command deid-bench measures deid against the cost floor: the same input read
// and written with no transform by a plain single-goroutine Go program.
//
//	go run ./cmd/deid-bench -patients 1000000 [-dir /tmp/deid-bench] [-modes csv] [-runs 3]
//
// It generates a synthetic extract of that many patients (about five
// encounters each) into -dir, or reuses the one already there; builds
// ./cmd/deid; makes a key with `deid keygen`; then, for each mode, runs the
// floor and `deid run` each as a child process and prints rows/s, MB/s, peak
// memory and deid's time as a multiple of the floor's.
//
// The modes are csv (CSV to CSV), csv-parquet, parquet-parquet (from a
// Parquet copy of the extract made once) and pg-pg (from a database loaded
// once on the server -pg names, to a fresh database). -patients with several
// sizes, e.g. 100000,500000, runs everything at each size and ends with a
// table of each program's peak memory at each size.
//
// `deid-bench floor -mode M [-policy P] IN OUT` runs the floor of mode M
// alone; the benchmark invokes itself that way so that the floor's time and
// memory are measured like deid's. `deid-bench generate` writes an extract
// and `deid-bench load-pg DIR URL` loads one into an empty database. They
// keep work that takes memory out of the benchmark's own process, whose peak
// memory Linux counts in every child's.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// dispatch runs a subcommand (floor, load-pg, generate) or the benchmark and returns the exit
// code: 0 success, 1 a failed step, 2 a usage error.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "floor":
			return floorMain(ctx, args[1:], stdout, stderr)
		case "load-pg":
			return loadPGMain(ctx, args[1:], stderr)
		case "generate":
			return generateMain(args[1:], stderr)
		}
	}
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if err != errHelp {
			fmt.Fprintln(stderr, "deid-bench:", err)
		}
		return 2
	}
	if err := runBench(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "deid-bench:", err)
		return 1
	}
	return 0
}

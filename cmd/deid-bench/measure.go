package main

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"text/tabwriter"
	"time"
)

// measurement is what one child process cost.
type measurement struct {
	wall    time.Duration
	peakRSS int64 // bytes; 0 where the system does not report it
}

// measure runs prog with args to completion and returns its wall time and
// peak resident memory.
func measure(ctx context.Context, prog string, args []string, stdout, stderr io.Writer) (
	measurement, error) {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr

	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return measurement{}, fmt.Errorf("%s: %w", filepath.Base(prog), err)
	}
	return measurement{wall: wall, peakRSS: peakRSS(cmd.ProcessState)}, nil
}

// result is one row of the table.
type result struct {
	mode     string
	program  string // "floor" or "deid"
	rows     int64
	bytes    int64 // input
	outBytes int64
	wall     time.Duration
	peakRSS  int64
	ratio    float64 // deid's wall time over the floor's; 0 for the floor
	err      error
}

// printTable prints one line per result; failed runs show "failed".
func printTable(w io.Writer, results []result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\trows\tMB in\tMB out\tseconds\trows/s\tMB/s\tpeak RSS MiB\t"+
		"ratio to floor\t")
	for _, r := range results {
		name := r.mode + " " + r.program
		mb := float64(r.bytes) / 1e6
		if r.err != nil || r.wall == 0 {
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t\tfailed\t\t\t\t\t\n", name, r.rows, mb)
			continue
		}
		secs := r.wall.Seconds()
		ratio := "1.00"
		if r.program != "floor" {
			ratio = "-"
			if r.ratio > 0 {
				ratio = fmt.Sprintf("%.2f", r.ratio)
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.2f\t%.0f\t%.1f\t%.0f\t%s\t\n",
			name, r.rows, mb, float64(r.outBytes)/1e6, secs, float64(r.rows)/secs, mb/secs,
			float64(r.peakRSS)/(1<<20), ratio)
	}
	return tw.Flush()
}

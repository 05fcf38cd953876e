package main

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
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
	patients int
	rows     int64
	bytes    int64 // input
	outBytes int64
	wall     time.Duration // the fastest run
	slowest  time.Duration
	peakRSS  int64   // the largest of the runs
	ratio    float64 // deid's wall time over the floor's; 0 for the floor
	err      error
}

// printTable prints one line per result; failed runs show "failed". Rates
// are those of the fastest run.
func printTable(w io.Writer, results []result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\trows\tMB in\tMB out\tseconds\tslowest\trows/s\tMB/s\t"+
		"peak RSS MiB\tratio to floor\t")
	for _, r := range results {
		name := r.mode + " " + r.program
		mb := float64(r.bytes) / 1e6
		if r.err != nil || r.wall == 0 {
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t\tfailed\t\t\t\t\t\t\n", name, r.rows, mb)
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
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.2f\t%.2f\t%.0f\t%.1f\t%.0f\t%s\t\n",
			name, r.rows, mb, float64(r.outBytes)/1e6, secs, r.slowest.Seconds(),
			float64(r.rows)/secs, mb/secs, float64(r.peakRSS)/(1<<20), ratio)
	}
	return tw.Flush()
}

// printMemory prints the peak memory of each mode's programs at each size,
// and the ratio of the largest size's to the smallest's; a failed run
// shows "-".
func printMemory(w io.Writer, sizes []int, results []result) error {
	type key struct{ mode, program string }
	peak := map[key]map[int]int64{}
	var order []key
	for _, r := range results {
		k := key{r.mode, r.program}
		if peak[k] == nil {
			peak[k] = map[int]int64{}
			order = append(order, k)
		}
		if r.err == nil && r.peakRSS > 0 {
			peak[k][r.patients] = r.peakRSS
		}
	}
	small, large := slices.Min(sizes), slices.Max(sizes)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "mode\t")
	for _, n := range sizes {
		fmt.Fprintf(tw, "%d\t", n)
	}
	fmt.Fprintf(tw, "%d/%d\t\n", large, small)
	for _, k := range order {
		fmt.Fprintf(tw, "%s %s\t", k.mode, k.program)
		for _, n := range sizes {
			if v, ok := peak[k][n]; ok {
				fmt.Fprintf(tw, "%.0f\t", float64(v)/(1<<20))
			} else {
				fmt.Fprint(tw, "-\t")
			}
		}
		growth := "-"
		if s, l := peak[k][small], peak[k][large]; s > 0 && l > 0 {
			growth = fmt.Sprintf("%.2f", float64(l)/float64(s))
		}
		fmt.Fprintf(tw, "%s\t\n", growth)
	}
	return tw.Flush()
}

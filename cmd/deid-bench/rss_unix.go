//go:build unix

package main

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"syscall"
)

// peakRSS returns the peak resident memory of an exited process in bytes.
func peakRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss) // bytes on Darwin
	}
	return int64(ru.Maxrss) * 1024 // KiB on Linux and the BSDs
}

// selfPeakRSS returns the peak resident memory of this process's address
// space in bytes (VmHWM), 0 where /proc does not tell it. A child started
// on Linux reports at least this much: when it calls exec, the kernel
// counts the peak of the address space it leaves, which is this process's.
// getrusage would not do here: it also counts what the program that started
// this one (go run, a shell) held before exec.
func selfPeakRSS() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	return vmHWM(status)
}

// vmHWM returns the VmHWM line of a /proc/PID/status file in bytes, or 0.
func vmHWM(status []byte) int64 {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmHWM:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0
		}
		n, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0
		}
		return n * 1024
	}
	return 0
}

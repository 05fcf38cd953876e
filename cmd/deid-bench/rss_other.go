//go:build !unix

package main

import "os"

// peakRSS returns 0: this system's process accounting is not read.
func peakRSS(*os.ProcessState) int64 { return 0 }

// selfPeakRSS returns 0: this system's process accounting is not read.
func selfPeakRSS() int64 { return 0 }

//go:build unix

package main

import "syscall"

// flushDisks writes every dirty page of the system to disk, so that a run
// does not pay for writing back what the run before it wrote.
func flushDisks() { syscall.Sync() }

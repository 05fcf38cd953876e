//go:build !unix

package main

// flushDisks does nothing: this system has no sync(2) to call.
func flushDisks() {}

// Command deid de-identifies healthcare data sets under the HIPAA Safe Harbor
// rules. See the README for the commands; each lives in its own file here and
// delegates to the packages at the top of the module.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	var caught atomic.Value // os.Signal
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		caught.Store(s)
		fmt.Fprintf(os.Stderr, "deid: %v: stopping; nothing partial is published (again to force)\n", s)
		cancel()
		s = <-sigs
		os.Exit(signalCode(s))
	}()

	err := newRootCmd(stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}).ExecuteContext(ctx)
	cancel()
	if s, ok := caught.Load().(os.Signal); ok {
		os.Exit(signalCode(s))
	}
	os.Exit(exitCode(err, os.Stderr))
}

// stdio is where a command reads and writes; tests substitute buffers.
type stdio struct {
	in  io.Reader
	out io.Writer
	err io.Writer
}

func signalCode(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 1
}

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
	"runtime/debug"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/deid/deid/internal/guard"
)

// defaultMemoryLimit is the Go runtime's soft memory limit when GOMEMLIMIT
// is not set. Without one the heap may grow to twice what is live before a
// collection, which took Parquet to Parquet to 602 MiB at peak on 1M
// patients; at this limit it peaked at 400 MiB and ran 1.1x as long. It is
// soft: a run that needs more (a 50 MB cell) gets it, with more frequent
// collections.
const defaultMemoryLimit = 384 << 20

// setMemoryLimit applies defaultMemoryLimit unless the environment's
// GOMEMLIMIT, which the runtime has read already, says otherwise.
func setMemoryLimit(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

func main() {
	setMemoryLimit(os.Getenv)
	ctx, cancel := context.WithCancel(context.Background())
	in, out, restore := interruptibleStdio(ctx)
	var caught atomic.Value // os.Signal
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		caught.Store(s)
		fmt.Fprintf(os.Stderr, "deid: %v: stopping; nothing partial is published (again to force)\n", s)
		cancel()
		s = <-sigs
		restore()
		os.Exit(signalCode(s))
	}()

	err := execute(ctx, newRootCmd(stdio{in: in, out: out, err: os.Stderr}))
	cancel()
	restore()
	if s, ok := caught.Load().(os.Signal); ok {
		os.Exit(signalCode(s))
	}
	os.Exit(exitCode(err, os.Stderr))
}

// execute runs the command line. A panic that reaches it becomes an error
// that names where it happened and withholds its message, which may quote
// a row value.
func execute(ctx context.Context, root *cobra.Command) (err error) {
	defer guard.Recover(&err, "deid")
	return root.ExecuteContext(ctx)
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

package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/deid/deid/deid"
	"github.com/deid/deid/schemas"
)

// Exit codes.
const (
	exitOK       = 0
	exitRuntime  = 1
	exitUsage    = 2
	exitFindings = 3
)

// usageError marks a mistake in how deid was called or configured.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// findingsError reports that verification found something.
type findingsError struct{ n int }

func (e findingsError) Error() string {
	return fmt.Sprintf("verification found %d problem(s)", e.n)
}

// exitCode prints err once and maps it to the process exit code. This is
// the only place errors become exit codes.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "deid: %v\n", err)

	var ue usageError
	var pe *deid.PlanError
	var probs *schemas.Problems
	var fe findingsError
	switch {
	case errors.As(err, &fe):
		return exitFindings
	case errors.As(err, &ue), errors.As(err, &pe), errors.As(err, &probs):
		return exitUsage
	}
	return exitRuntime
}

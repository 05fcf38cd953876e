// Package guard turns a panic into an error that quotes nothing.
//
// A panic's value can hold a row value (a bug that formats a cell into a
// panic message), and Go's own crash report prints the arguments of every
// call on the stack, integers included. So deid recovers every panic on its
// data path — in each goroutine it starts and at the top of the command —
// and reports only where in the code it happened: the function and file
// line, never the panic's value or the stack's arguments.
package guard

import (
	"fmt"
	"path"
	"runtime"
	"strings"
)

// PanicError is a recovered panic. It says where the code panicked and
// withholds the panic's value.
type PanicError struct {
	Where string // what deid was doing, e.g. `table "patients" rows 1-8192`
	At    string // the function and file line that panicked, e.g. "deid.mapStrings (transform.go:212)"
}

// Error formats the error as `internal error in table "t": panic at
// deid.mapStrings (transform.go:212); its message is withheld, as it may
// quote a value`.
func (e *PanicError) Error() string {
	at := e.At
	if at == "" {
		at = "an unknown place"
	}
	return fmt.Sprintf("internal error in %s: panic at %s; its message is withheld, "+
		"as it may quote a value", e.Where, at)
}

// Recover, deferred, turns a panic of the calling goroutine into a
// *PanicError stored in *errp, replacing any error there. It must be called
// directly by defer:
//
//	func work() (err error) {
//		defer guard.Recover(&err, "reading table")
//		...
//	}
func Recover(errp *error, where string) {
	if r := recover(); r != nil {
		*errp = newError(where)
	}
}

// Error returns the *PanicError for a panic being recovered now: it must be
// called from the deferred function that called recover, so that the
// panicking frames are still on the stack. The value recovered is ignored.
func Error(where string, _ any) error {
	return newError(where)
}

// newError finds the frame that panicked: the first one past the runtime's
// panic machinery.
func newError(where string) *PanicError {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	panicking := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			panicking = true
		case panicking && !strings.HasPrefix(f.Function, "runtime."):
			return &PanicError{Where: where, At: frameName(f)}
		}
		if !more {
			return &PanicError{Where: where}
		}
	}
}

// frameName is a frame as package.Function (file.go:line), without the
// module path.
func frameName(f runtime.Frame) string {
	fn := f.Function
	if i := strings.LastIndexByte(fn, '/'); i >= 0 {
		fn = fn[i+1:]
	}
	return fmt.Sprintf("%s (%s:%d)", fn, path.Base(f.File), f.Line)
}

package guard

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const canary = "CANARY-PANIC-4417"

//go:noinline
func explicitPanic() { panic("cell " + canary + " is odd") }

//go:noinline
func indexPanic(i int) int {
	s := []int{1, 2, 3}
	return s[i]
}

//go:noinline
func nilPanic(p *[2]int) int { return p[1] }

//go:noinline
func errorPanic() { panic(fmt.Errorf("parsing %q: invalid", canary)) }

func TestRecover(t *testing.T) {
	tests := []struct {
		name   string
		f      func()
		wantAt string
	}{
		{"explicit", explicitPanic, "guard.explicitPanic (guard_test.go:13)"},
		{"index", func() { indexPanic(4417) }, "guard.indexPanic (guard_test.go:18)"},
		{"nil", func() { nilPanic(nil) }, "guard.nilPanic (guard_test.go:22)"},
		{"error value", errorPanic, "guard.errorPanic (guard_test.go:25)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := func() (err error) {
				defer Recover(&err, `table "t"`)
				tc.f()
				return nil
			}()
			var pe *PanicError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *PanicError", err)
			}
			if pe.At != tc.wantAt {
				t.Errorf("At = %q, want %q", pe.At, tc.wantAt)
			}
			msg := err.Error()
			if strings.Contains(msg, canary) || strings.Contains(msg, "4417") {
				t.Errorf("message %q quotes the panic", msg)
			}
			if !strings.HasPrefix(msg, `internal error in table "t": panic at guard.`) {
				t.Errorf("message %q", msg)
			}
		})
	}
}

func TestRecoverNoPanic(t *testing.T) {
	want := errors.New("plain")
	err := func() (err error) {
		defer Recover(&err, "x")
		return want
	}()
	if err != want {
		t.Errorf("got %v, want the function's own error", err)
	}
}

func TestErrorInDeferredFunc(t *testing.T) {
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = Error("worker", r)
			}
		}()
		explicitPanic()
	}()
	var pe *PanicError
	if !errors.As(err, &pe) || pe.At != "guard.explicitPanic (guard_test.go:13)" {
		t.Errorf("got %#v", err)
	}
}

//go:build unix

package main

import (
	"context"
	"io"
	"os"
	"syscall"
	"time"
)

// interruptibleStdio returns standard input and output such that the end of
// ctx interrupts a read or a write that waits on a pipe or a socket: a
// producer that stalls, or a consumer that stops reading, must not keep an
// interrupted run from cleaning up and exiting. Files and terminals never
// stall and are returned as they are. restore puts the descriptors back in
// blocking mode, for whatever shares them after deid exits.
func interruptibleStdio(ctx context.Context) (in io.Reader, out io.Writer, restore func()) {
	var undo []func()
	in, undo = pollable(ctx, os.Stdin, undo)
	w, undo := pollable(ctx, os.Stdout, undo)
	return in, w, func() {
		for _, f := range undo {
			f()
		}
	}
}

// keep holds the second *os.File of each descriptor, whose collection would
// close it.
var keep []*os.File

func pollable(ctx context.Context, f *os.File, undo []func()) (*os.File, []func()) {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return f, undo
	}
	fd := int(f.Fd())
	if err := syscall.SetNonblock(fd, true); err != nil {
		return f, undo
	}
	// A descriptor already in non-blocking mode joins the runtime's poller,
	// which is what makes deadlines work.
	p := os.NewFile(uintptr(fd), f.Name())
	keep = append(keep, p)
	context.AfterFunc(ctx, func() {
		p.SetReadDeadline(time.Now())
		p.SetWriteDeadline(time.Now())
	})
	return p, append(undo, func() { syscall.SetNonblock(fd, false) })
}

//go:build !unix

package main

import (
	"context"
	"io"
	"os"
)

// interruptibleStdio returns standard input and output as they are.
func interruptibleStdio(context.Context) (in io.Reader, out io.Writer, restore func()) {
	return os.Stdin, os.Stdout, func() {}
}

package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/deid/deid/tokenize"
)

type keygenOptions struct {
	output string
}

func newKeygenCmd(io stdio) *cobra.Command {
	var o keygenOptions
	cmd := &cobra.Command{
		Use:   "keygen -o FILE",
		Short: "Write a new random 256-bit key to a file readable only by you",
		Long: "keygen writes a new random 256-bit key as hex to FILE with mode 0600.\n" +
			"It never overwrites a file. Keep one key per recipient or project: outputs\n" +
			"made with different keys cannot be linked.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runKeygen(o, io) },
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "file to write the key to (required)")
	return cmd
}

func runKeygen(o keygenOptions, io stdio) error {
	if o.output == "" {
		return usagef("keygen: name the key file with -o FILE (keys are never printed)")
	}
	k, err := tokenize.GenerateKey()
	if err != nil {
		return err
	}
	if err := tokenize.WriteKeyFile(o.output, k); err != nil {
		return err
	}
	_, err = fmt.Fprintf(io.err, "wrote key %s to %s (mode 0600)\n", k.ID(), o.output)
	return err
}

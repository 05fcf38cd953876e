package main

import (
	"log/slog"

	"github.com/spf13/cobra"
)

func newRootCmd(io stdio) *cobra.Command {
	root := &cobra.Command{
		Use:   "deid",
		Short: "De-identify healthcare data under the HIPAA Safe Harbor rules",
		Long: "deid reads PostgreSQL, CSV or Parquet extracts, applies the HIPAA Safe Harbor\n" +
			"rules column by column as a policy says, replaces identifiers with keyed\n" +
			"deterministic tokens so foreign keys still join, and writes the result.",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Cobra's own check quotes an unknown command, which may be a key
		// or a value pasted in the wrong place.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command (not shown, as it may be a key or a value); " +
					"see deid --help for the commands")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetIn(io.in)
	root.SetOut(io.out)
	root.SetErr(io.err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	root.AddCommand(newRunCmd(io), newKeygenCmd(io), newDemoCmd(io), newVersionCmd(io),
		newScanCmd(io), newVerifyCmd(io))
	root.AddCommand(newMergeCmd(io))
	return root
}

// newLogger logs to stderr; row values never reach it.
func newLogger(io stdio, quiet bool) *slog.Logger {
	level := slog.LevelInfo
	if quiet {
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(io.err, &slog.HandlerOptions{Level: level}))
}

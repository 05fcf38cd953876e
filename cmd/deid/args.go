package main

import "github.com/spf13/cobra"

// noArgs refuses positional arguments without quoting them, unlike
// cobra.NoArgs: a stray argument is as likely a key or a value pasted in
// the wrong place as a mistyped command.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, and got %d (not shown, as one may be a key "+
			"or a value); see deid %s --help", cmd.Name(), len(args), cmd.Name())
	}
	return nil
}

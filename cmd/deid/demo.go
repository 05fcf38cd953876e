package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deid/deid/deid"
	"github.com/deid/deid/internal/synth"
	"github.com/deid/deid/tokenize"
)

// demoAsOf fixes the reference date so the demo's output never changes.
const demoAsOf = "2026-01-01"

type demoOptions struct {
	dir     string
	keyFile string // a fixed key for tests; default: a new key in dir
}

func newDemoCmd(io stdio) *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo [--dir DIR]",
		Short: "De-identify a bundled synthetic extract, with no setup",
		Long: "demo writes a small synthetic extract (patients, encounters with free-text\n" +
			"notes, providers) to DIR/input, a new key to DIR/demo.key, and de-identifies\n" +
			"the extract with the bundled demo policy into DIR/output.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd.Context(), o, io) },
	}
	cmd.Flags().StringVar(&o.dir, "dir", "deid-demo", "folder for the demo's input, key and output")
	return cmd
}

func runDemo(ctx context.Context, o demoOptions, io stdio) error {
	in, out := filepath.Join(o.dir, "input"), filepath.Join(o.dir, "output")
	if err := synth.Demo(in); err != nil {
		return fmt.Errorf("writing the demo extract: %w", err)
	}
	keyFile := o.keyFile
	if keyFile == "" {
		keyFile = filepath.Join(o.dir, "demo.key")
		if _, err := os.Stat(keyFile); errors.Is(err, os.ErrNotExist) {
			k, err := tokenize.GenerateKey()
			if err != nil {
				return err
			}
			if err := tokenize.WriteKeyFile(keyFile, k); err != nil {
				return err
			}
		}
	}

	err := runRun(ctx, runOptions{policy: "demo", from: in, to: out, keyFile: keyFile,
		delimiter: ",", asOf: demoAsOf, deterministic: true, quiet: true}, io)
	if err != nil {
		return err
	}
	return printDemoSummary(io, o.dir, filepath.Join(out, "manifest.json"))
}

func printDemoSummary(io stdio, dir, manifest string) error {
	data, err := os.ReadFile(manifest)
	if err != nil {
		return err
	}
	var m deid.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("reading %s: %w", manifest, err)
	}

	w := io.out
	fmt.Fprintf(w, "deid demo: de-identified %s/input into %s/output (key %s, profile %s)\n\n",
		dir, dir, m.KeyID, m.Profile)
	for _, t := range m.Tables {
		byAction := map[string][]string{}
		for _, c := range t.Columns {
			byAction[c.Action] = append(byAction[c.Action], c.Name)
		}
		actions := make([]string, 0, len(byAction))
		for a := range byAction {
			actions = append(actions, a)
		}
		sort.Strings(actions)
		fmt.Fprintf(w, "  %-11s %6d rows\n", t.Name, t.RowsOut)
		for _, a := range actions {
			fmt.Fprintf(w, "    %-10s %s\n", a, strings.Join(byAction[a], ", "))
		}
	}
	fmt.Fprintf(w, "\nmanifest: %s\n", manifest)
	return nil
}

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deid/deid/deid"
	"github.com/deid/deid/sinks"
	"github.com/deid/deid/sources"
)

type mergeOptions struct {
	dir string
	out string
}

func newMergeCmd(io stdio) *cobra.Command {
	var o mergeOptions
	cmd := &cobra.Command{
		Use:   "merge-manifests DIR [-o FILE]",
		Short: "Combine the manifests of the shards of a run into one",
		Long: "merge-manifests reads the manifest.part-<i>-of-<n>.json files that the n shards\n" +
			"of a run (deid run --shard i/n) wrote into the output folder DIR, checks that\n" +
			"every shard is there once, that all ran with the same policy, key, profile and\n" +
			"subset, and that every table has its n part files, then writes DIR/manifest.json\n" +
			"with the rows of every table summed.",
		Example: "  deid merge-manifests out/",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.dir = args[0]
			return runMerge(cmd.Context(), o, io)
		},
	}
	cmd.Flags().StringVarP(&o.out, "output", "o", "",
		"where to write the merged manifest (default DIR/manifest.json)")
	return cmd
}

// runMerge is merge-manifests without cobra, so tests can call it.
func runMerge(_ context.Context, o mergeOptions, io stdio) error {
	paths, err := deid.PartManifests(o.dir)
	if err != nil {
		return usageError{err}
	}
	if len(paths) == 0 {
		return fmt.Errorf("merge-manifests: no shard manifest (manifest.part-*-of-*.json) in %s",
			o.dir)
	}
	parts := make([]*deid.Manifest, 0, len(paths))
	for _, p := range paths {
		m, err := deid.ReadManifest(p)
		if err != nil {
			return err
		}
		parts = append(parts, m)
	}
	m, err := deid.MergeManifests(parts)
	if err != nil {
		return err
	}
	if err := checkPartFiles(o.dir, m); err != nil {
		return err
	}

	out := o.out
	if out == "" {
		out = filepath.Join(o.dir, "manifest.json")
	}
	if err := m.WriteFile(out); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "merged %d shard manifests into %s\n", m.Parts, out)
	for _, t := range m.Tables {
		fmt.Fprintf(io.out, "  %-20s %10d rows in %10d rows out\n", t.Name, t.RowsIn, t.RowsOut)
	}
	return nil
}

// checkPartFiles checks that every table of m has its m.Parts part files
// in dir/<table>/.
func checkPartFiles(dir string, m *deid.Manifest) error {
	var missing []string
	for _, t := range m.Tables {
		for i := range m.Parts {
			stem := sinks.PartStem(sources.Shard{Index: i, Count: m.Parts})
			found, _ := filepath.Glob(filepath.Join(dir, t.Name, stem+".*"))
			if len(found) == 0 {
				missing = append(missing, filepath.Join(t.Name, stem))
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("merge-manifests: %d part files are missing from %s: %s",
			len(missing), dir, strings.Join(missing, ", "))
	}
	return nil
}

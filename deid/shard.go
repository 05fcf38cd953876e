package deid

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/deid/deid/sinks"
	"github.com/deid/deid/sources"
)

// A sharded run splits every table into n disjoint parts (CSV files,
// Parquet row groups, PostgreSQL key or block ranges), and runs each part
// in its own process with --shard i/n. Tokens need no shared state, so the
// union of the n outputs equals a single-process run, row for row. Each
// shard writes table/part-<i>-of-<n> files and its own manifest, and
// MergeManifests combines the n manifests once every shard is done.

// ParseShard reads "i/n": part i (0-based) of n. "0/1" is the whole input.
func ParseShard(s string) (sources.Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	idx, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || count < 1 || idx < 0 || idx >= count {
		return sources.Shard{}, fmt.Errorf("shard %q: write it as i/n with 0 <= i < n, "+
			"such as 3/16 for the fourth of sixteen parts", s)
	}
	return sources.Shard{Index: idx, Count: count}, nil
}

// ShardString formats s as ParseShard reads it, "3/16"; "" for the whole
// input.
func ShardString(s sources.Shard) string {
	if s.All() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// PartManifestName is the file name of shard s's manifest in the shared
// output folder: "manifest.part-00003-of-00016.json".
func PartManifestName(s sources.Shard) string {
	return "manifest." + sinks.PartStem(s) + ".json"
}

// PartManifests lists the shard manifests in dir, sorted by name.
func PartManifests(dir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "manifest.part-*-of-*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	return paths, nil
}

// ReadManifest reads a manifest file.
func ReadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("reading manifest %s: not a deid manifest", path)
	}
	return &m, nil
}

// MergeManifests combines the manifests of the n shards of one run into
// the manifest of the whole output. It checks that every part 0..n-1 is
// there exactly once and that all were made alike: same tool version,
// policy hash, key ID, profile, reference date, ZIP3 list and subset, and
// the same tables and columns. Rows in and out are summed per table. The
// merged manifest has no shard and records the number of parts; its start
// is the earliest part's and its seconds the longest part's. Verification
// results of single parts are left out: verify the merged output instead.
func MergeManifests(parts []*Manifest) (*Manifest, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("merging manifests: no shard manifest found")
	}
	count, err := checkPartSet(parts)
	if err != nil {
		return nil, err
	}

	first := parts[0]
	for _, m := range parts[1:] {
		if err := sameRun(first, m); err != nil {
			return nil, err
		}
	}

	out := *first
	out.Shard, out.Parts, out.Verification = "", count, nil
	out.Tables = make([]TableManifest, len(first.Tables))
	copy(out.Tables, first.Tables)
	for i := range out.Tables {
		out.Tables[i].RowsIn, out.Tables[i].RowsOut, out.Tables[i].Seconds = 0, 0, 0
	}
	for _, m := range parts {
		if m.Started != "" && (out.Started == "" || m.Started < out.Started) {
			out.Started = m.Started
		}
		out.Seconds = max(out.Seconds, m.Seconds)
		for i, t := range m.Tables {
			out.Tables[i].RowsIn += t.RowsIn
			out.Tables[i].RowsOut += t.RowsOut
			out.Tables[i].Seconds = max(out.Tables[i].Seconds, t.Seconds)
		}
	}
	return &out, nil
}

// checkPartSet checks that parts hold shards 0..n-1 of one n, once each,
// and returns n.
func checkPartSet(parts []*Manifest) (int, error) {
	seen := map[int]bool{}
	count := 0
	for _, m := range parts {
		if m.Shard == "" {
			return 0, fmt.Errorf("merging manifests: a manifest names no shard; " +
				"merge only the manifests of deid run --shard")
		}
		s, err := ParseShard(m.Shard)
		if err != nil {
			return 0, fmt.Errorf("merging manifests: %w", err)
		}
		if count != 0 && s.Count != count {
			return 0, fmt.Errorf("merging manifests: shards of %d and of %d parts are mixed",
				count, s.Count)
		}
		count = s.Count
		if seen[s.Index] {
			return 0, fmt.Errorf("merging manifests: shard %s is there twice", m.Shard)
		}
		seen[s.Index] = true
	}

	var missing []string
	for i := range count {
		if !seen[i] {
			missing = append(missing, fmt.Sprintf("%d/%d", i, count))
		}
	}
	if len(missing) > 0 {
		return 0, fmt.Errorf("merging manifests: %d of %d shards are missing: %s",
			len(missing), count, strings.Join(missing, ", "))
	}
	return count, nil
}

// sameRun reports how manifest b differs from a in what every shard of one
// run shares.
func sameRun(a, b *Manifest) error {
	fields := []struct {
		name string
		a, b string
	}{
		{"tool version", a.Version, b.Version},
		{"policy hash", a.PolicyHash, b.PolicyHash},
		{"key ID", a.KeyID, b.KeyID},
		{"profile", a.Profile, b.Profile},
		{"data use agreement", a.DataUseAgreement, b.DataUseAgreement},
		{"as_of date", a.AsOf, b.AsOf},
		{"Census vintage", a.CensusVintage, b.CensusVintage},
		{"ZIP3 list", a.Zip3List, b.Zip3List},
	}
	for _, f := range fields {
		if f.a != f.b {
			return fmt.Errorf("merging manifests: shards %s and %s differ in %s (%q, %q); "+
				"they are not parts of one run", a.Shard, b.Shard, f.name, f.a, f.b)
		}
	}
	if !reflect.DeepEqual(a.Subset, b.Subset) {
		return fmt.Errorf("merging manifests: shards %s and %s took different subsets",
			a.Shard, b.Shard)
	}
	if len(a.Tables) != len(b.Tables) {
		return fmt.Errorf("merging manifests: shards %s and %s have %d and %d tables",
			a.Shard, b.Shard, len(a.Tables), len(b.Tables))
	}
	for i := range a.Tables {
		ta, tb := a.Tables[i], b.Tables[i]
		if ta.Name != tb.Name || ta.Subset != tb.Subset ||
			!reflect.DeepEqual(ta.Columns, tb.Columns) || !reflect.DeepEqual(ta.Notes, tb.Notes) {
			return fmt.Errorf("merging manifests: shards %s and %s differ in table %q",
				a.Shard, b.Shard, ta.Name)
		}
	}
	return nil
}

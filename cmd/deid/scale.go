package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/deid/deid/deid"
	"github.com/deid/deid/sinks"
	"github.com/deid/deid/sources"
)

// parseSubset reads the --sample and --limit flags.
func parseSubset(samples, limits []string) (deid.Subset, error) {
	var s deid.Subset
	for _, spec := range samples {
		smp, err := deid.ParseSample(spec)
		if err != nil {
			return s, usagef("--sample: %v", err)
		}
		s.Samples = append(s.Samples, smp)
	}
	for _, spec := range limits {
		l, err := deid.ParseLimit(spec)
		if err != nil {
			return s, usagef("--limit: %v", err)
		}
		s.Limits = append(s.Limits, l)
	}
	return s, nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parseShardFlag reads --shard i/n. The index may name an environment
// variable that holds it, as schedulers pass it: JOB_COMPLETION_INDEX/16
// on a Kubernetes Indexed Job, AWS_BATCH_JOB_ARRAY_INDEX/16 on AWS Batch.
func parseShardFlag(spec string) (sources.Shard, error) {
	if spec == "" {
		return sources.Shard{}, nil
	}
	i, n, _ := strings.Cut(spec, "/")
	if envName.MatchString(i) {
		v, ok := os.LookupEnv(i)
		if !ok || v == "" {
			return sources.Shard{}, usagef("--shard %s: the environment variable %s is not set",
				spec, i)
		}
		spec = v + "/" + n
	}
	s, err := deid.ParseShard(spec)
	if err != nil {
		return s, usagef("--shard: %v", err)
	}
	return s, nil
}

// checkShardable refuses the flags a shard cannot honour.
func checkShardable(o runOptions, s sources.Shard) error {
	if s.All() {
		return nil
	}
	if err := sinks.CheckPartTarget(o.to); err != nil {
		return usagef("--shard: %v", err)
	}
	if o.from == "-" {
		return usagef("--shard splits files, row groups or key ranges; " +
			"standard input cannot be split")
	}
	if o.verify {
		return usagef("--verify checks a whole output: verify the folder once every " +
			"shard is done and deid merge-manifests has run")
	}
	return nil
}

// shardManifestPath is where a shard writes its manifest: the flag's path,
// else manifest.part-<i>-of-<n>.json in the target folder, beside the parts
// of the other shards.
func shardManifestPath(o runOptions, s sources.Shard) string {
	if s.All() || o.manifest != "" {
		return manifestPath(o)
	}
	return filepath.Join(o.to, deid.PartManifestName(s))
}

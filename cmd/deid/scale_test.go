package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/deid/deid/deid"
	"github.com/deid/deid/internal/synth"
	"github.com/deid/deid/schemas"
)

// subsetFixture writes the demo extract plus a diagnoses table (one or two
// rows per encounter, reaching the patient only through encounter_id), and
// the demo policy with a subject table and links. It returns the input
// folder and the policy file.
func subsetFixture(t *testing.T) (in, policy string) {
	t.Helper()
	dir := t.TempDir()
	in = filepath.Join(dir, "input")
	if err := synth.Demo(in); err != nil {
		t.Fatal(err)
	}

	encounters := readCSV(t, filepath.Join(in, "encounters.csv"))
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"encounter_id", "code"})
	for i, id := range column(encounters, "encounter_id") {
		w.Write([]string{id, "F41.1"})
		if i%3 == 0 {
			w.Write([]string{id, "Z00.0"})
		}
	}
	w.Flush()
	if err := os.WriteFile(filepath.Join(in, "diagnoses.csv"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	demo, err := schemas.Bundled("demo")
	if err != nil {
		t.Fatal(err)
	}
	p := strings.Replace(string(demo), "  patients:\n    columns:",
		"  patients:\n    subject: patient_id\n    columns:", 1)
	p = strings.Replace(p, "  providers:\n    columns:",
		"  providers:\n    link: {column: provider_id, to: encounters.provider_id}\n"+
			"    columns:", 1)
	p += "\n  diagnoses:\n    link: {column: encounter_id, to: encounters.encounter_id}\n" +
		"    columns:\n      encounter_id: {phi: record-id, token: encounter, type: int64}\n" +
		"      code: {keep: \"ICD-10 code, not an identifier\"}\n"
	policy = filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte(p), 0o644); err != nil {
		t.Fatal(err)
	}
	return in, policy
}

// subsetTables are the tables of subsetFixture.
var subsetTables = []string{"diagnoses", "encounters", "patients", "providers"}

func runSubsetCmd(t *testing.T, o runOptions) {
	t.Helper()
	o.delimiter, o.asOf, o.deterministic, o.quiet = ",", demoAsOf, true, true
	var b buffers
	if err := runRun(context.Background(), o, b.stdio()); err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, b.err.String())
	}
}

// checkJoins checks that every foreign key of a subset output resolves.
func checkJoins(t *testing.T, out string) {
	t.Helper()
	read := func(table string) [][]string { return readCSV(t, filepath.Join(out, table+".csv")) }
	fks := []struct{ child, col, parent, pcol string }{
		{"encounters", "patient_id", "patients", "patient_id"},
		{"encounters", "provider_id", "providers", "provider_id"},
		{"diagnoses", "encounter_id", "encounters", "encounter_id"},
	}
	for _, fk := range fks {
		keys := map[string]bool{}
		for _, v := range column(read(fk.parent), fk.pcol) {
			keys[v] = true
		}
		refs := column(read(fk.child), fk.col)
		if len(refs) == 0 {
			t.Errorf("%s is empty in the subset", fk.child)
		}
		for i, v := range refs {
			if !keys[v] {
				t.Errorf("%s row %d: %s does not resolve in %s", fk.child, i+1, fk.col, fk.parent)
			}
		}
	}
}

func TestSubsetRerunsAreIdenticalAndJoin(t *testing.T) {
	in, policy := subsetFixture(t)
	key := testKeyFile(t)
	tests := []struct {
		name   string
		o      runOptions
		wantPt int // patients kept; 0: some, not all
	}{
		{"sample", runOptions{samples: []string{"patient=10%"}}, 0},
		{"limit", runOptions{limits: []string{"patient=25"}}, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
			for _, out := range outs {
				o := tt.o
				o.policy, o.from, o.to, o.keyFile = policy, in, out, key
				runSubsetCmd(t, o)
			}
			for _, name := range append(slices.Clone(subsetTables), "manifest") {
				file := name + ".csv"
				if name == "manifest" {
					file = "manifest.json"
				}
				a, err := os.ReadFile(filepath.Join(outs[0], file))
				if err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(filepath.Join(outs[1], file))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(a, b) {
					t.Errorf("%s differs between two runs", file)
				}
			}
			checkJoins(t, outs[0])

			patients := len(readCSV(t, filepath.Join(outs[0], "patients.csv"))) - 1
			if tt.wantPt != 0 && patients != tt.wantPt || patients == 0 || patients == 200 {
				t.Errorf("patients kept = %d, want %d (some, not all)", patients, tt.wantPt)
			}
			m, err := deid.ReadManifest(filepath.Join(outs[0], "manifest.json"))
			if err != nil {
				t.Fatal(err)
			}
			if m.Subset == nil {
				t.Fatal("the manifest does not record the subset")
			}
			for _, tm := range m.Tables {
				if tm.Name == "patients" && tm.RowsOut != int64(patients) {
					t.Errorf("manifest patients rows out = %d, want %d", tm.RowsOut, patients)
				}
			}
		})
	}
}

// TestShardHelperProcess is not a test: TestShardsUnionEqualsSingleRun runs
// the test binary with it to run deid as a separate process.
func TestShardHelperProcess(t *testing.T) {
	raw := os.Getenv("DEID_TEST_HELPER_ARGS")
	if raw == "" {
		t.Skip("runs only as a child of TestShardsUnionEqualsSingleRun")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	root := newRootCmd(stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	root.SetArgs(args)
	os.Exit(exitCode(root.ExecuteContext(context.Background()), os.Stderr))
}

// deidProcess is deid with args, run as a child process.
func deidProcess(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestShardHelperProcess$")
	cmd.Env = append(os.Environ(), "DEID_TEST_HELPER_ARGS="+string(raw))
	return cmd
}

// dataRows returns the data rows of a table in a plain output, or of all
// its part files in a sharded one, sorted.
func dataRows(t *testing.T, out, table string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(out, table, "part-*.csv"))
	if len(files) == 0 {
		files = []string{filepath.Join(out, table+".csv")}
	}
	var rows []string
	for _, f := range files {
		for _, r := range readCSV(t, f)[1:] {
			rows = append(rows, strings.Join(r, "\x1f"))
		}
	}
	slices.Sort(rows)
	return rows
}

func TestShardsUnionEqualsSingleRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs several processes")
	}
	in, policy := subsetFixture(t)
	key := testKeyFile(t)
	const n = 3
	for _, subset := range [][]string{nil, {"--limit", "patient=25"}} {
		t.Run(fmt.Sprint("subset", subset), func(t *testing.T) {
			common := append([]string{"run", "--policy", policy, "--from", in, "--key-file", key,
				"--as-of", demoAsOf, "--deterministic", "--quiet"}, subset...)
			single := filepath.Join(t.TempDir(), "single")
			sharded := filepath.Join(t.TempDir(), "parts")

			var procs []*exec.Cmd
			var outs []*bytes.Buffer
			for i := range n {
				cmd := deidProcess(t, append(common, "--to", sharded,
					"--shard", fmt.Sprintf("%d/%d", i, n))...)
				var b bytes.Buffer
				cmd.Stdout, cmd.Stderr = &b, &b
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				procs, outs = append(procs, cmd), append(outs, &b)
			}
			for i, cmd := range procs {
				if err := cmd.Wait(); err != nil {
					t.Fatalf("shard %d/%d: %v\n%s", i, n, err, outs[i])
				}
			}
			if out, err := deidProcess(t, "merge-manifests", sharded).CombinedOutput(); err != nil {
				t.Fatalf("merge-manifests: %v\n%s", err, out)
			}
			runSubsetCmd(t, runOptions{policy: policy, from: in, to: single, keyFile: key,
				limits: limitsOf(subset)})

			for _, table := range subsetTables {
				got, want := dataRows(t, sharded, table), dataRows(t, single, table)
				if !slices.Equal(got, want) {
					t.Errorf("%s: the union of %d shards has %d rows, a single run %d, "+
						"or they differ", table, n, len(got), len(want))
				}
			}
			merged, err := deid.ReadManifest(filepath.Join(sharded, "manifest.json"))
			if err != nil {
				t.Fatal(err)
			}
			whole, err := deid.ReadManifest(filepath.Join(single, "manifest.json"))
			if err != nil {
				t.Fatal(err)
			}
			if merged.Parts != n {
				t.Errorf("merged manifest parts = %d, want %d", merged.Parts, n)
			}
			merged.Parts = 0
			if a, b := mustJSON(t, merged), mustJSON(t, whole); a != b {
				t.Errorf("merged manifest differs from a single run's:\n%s\n---\n%s", a, b)
			}
		})
	}
}

func limitsOf(args []string) []string {
	var out []string
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] == "--limit" {
			out = append(out, args[i+1])
		}
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestShardFlags(t *testing.T) {
	t.Setenv("DEID_TEST_SHARD_INDEX", "2")
	tests := []struct {
		spec    string
		want    string
		wantErr string
	}{
		{spec: "1/4", want: "1/4"},
		{spec: "DEID_TEST_SHARD_INDEX/4", want: "2/4"},
		{spec: "DEID_TEST_UNSET_INDEX/4", wantErr: "is not set"},
		{spec: "4/4", wantErr: "0 <= i < n"},
	}
	for _, tt := range tests {
		s, err := parseShardFlag(tt.spec)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseShardFlag(%q) error = %v, want %q", tt.spec, err, tt.wantErr)
			}
			continue
		}
		if err != nil || deid.ShardString(s) != tt.want {
			t.Errorf("parseShardFlag(%q) = %v, %v; want %s", tt.spec, s, err, tt.want)
		}
	}

	var b buffers
	err := runRun(context.Background(), runOptions{policy: "demo", from: t.TempDir(),
		to: "-", keyFile: testKeyFile(t), delimiter: ",", shard: "0/2"}, b.stdio())
	if exitCode(err, &b.err) != exitUsage || !strings.Contains(err.Error(), "standard output") {
		t.Errorf("a shard to standard output: error %v, want a refusal", err)
	}
}

func TestMergeManifestsCommand(t *testing.T) {
	in, policy := subsetFixture(t)
	key := testKeyFile(t)
	out := t.TempDir()
	for _, i := range []int{0, 1} {
		runSubsetCmd(t, runOptions{policy: policy, from: in, to: out, keyFile: key,
			shard: fmt.Sprintf("%d/3", i)})
	}
	var b buffers
	err := runMerge(context.Background(), mergeOptions{dir: out}, b.stdio())
	if err == nil || !strings.Contains(err.Error(), "1 of 3 shards are missing: 2/3") {
		t.Fatalf("merge with a shard missing: error %v, want it named", err)
	}

	runSubsetCmd(t, runOptions{policy: policy, from: in, to: out, keyFile: key, shard: "2/3"})
	os.Remove(filepath.Join(out, "patients", "part-00001-of-00003.csv"))
	err = runMerge(context.Background(), mergeOptions{dir: out}, b.stdio())
	if err == nil || !strings.Contains(err.Error(), "patients/part-00001-of-00003") {
		t.Fatalf("merge with a part file missing: error %v, want it named", err)
	}
}

package deid

import (
	"strings"
	"testing"

	"github.com/deid/deid/sources"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		in      string
		want    sources.Shard
		wantErr bool
	}{
		{in: "0/1", want: sources.Shard{Index: 0, Count: 1}},
		{in: "3/16", want: sources.Shard{Index: 3, Count: 16}},
		{in: "15/16", want: sources.Shard{Index: 15, Count: 16}},
		{in: "16/16", wantErr: true},
		{in: "-1/4", wantErr: true},
		{in: "1/0", wantErr: true},
		{in: "1", wantErr: true},
		{in: "a/b", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v, error %v",
				tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	if got := ShardString(sources.Shard{Index: 3, Count: 16}); got != "3/16" {
		t.Errorf("ShardString = %q, want 3/16", got)
	}
	if got := PartManifestName(sources.Shard{Index: 3, Count: 16}); got !=
		"manifest.part-00003-of-00016.json" {
		t.Errorf("PartManifestName = %q", got)
	}
}

// partManifest is shard i of n with rows in and out of one table.
func partManifest(shard string, in, out int64) *Manifest {
	return &Manifest{Tool: "deid", Version: "v1", Profile: "safe-harbor", PolicyHash: "sha256:ab",
		KeyID: "k1", AsOf: "2026-01-01", Shard: shard,
		Started: "2026-01-02T10:00:0" + shard[:1] + "Z",
		Seconds: float64(in), Subset: &SubsetManifest{Sample: []string{"patient=1%"}},
		Tables: []TableManifest{{Name: "patients", RowsIn: in, RowsOut: out,
			Columns: []ColumnManifest{{Name: "id", Action: "token"}}}}}
}

func TestMergeManifests(t *testing.T) {
	got, err := MergeManifests([]*Manifest{partManifest("2/3", 30, 3), partManifest("0/3", 10, 1),
		partManifest("1/3", 20, 2)})
	if err != nil {
		t.Fatal(err)
	}
	tb := got.Tables[0]
	if tb.RowsIn != 60 || tb.RowsOut != 6 {
		t.Errorf("rows in/out = %d/%d, want 60/6", tb.RowsIn, tb.RowsOut)
	}
	if got.Shard != "" || got.Parts != 3 {
		t.Errorf("shard %q parts %d, want none and 3", got.Shard, got.Parts)
	}
	if got.Started != "2026-01-02T10:00:00Z" || got.Seconds != 30 {
		t.Errorf("started %s seconds %v, want the earliest start and the longest part",
			got.Started, got.Seconds)
	}
}

func TestMergeManifestsRefuses(t *testing.T) {
	otherKey := partManifest("1/2", 1, 1)
	otherKey.KeyID = "k2"
	otherCols := partManifest("1/2", 1, 1)
	otherCols.Tables[0].Columns[0].Action = "drop"
	otherSubset := partManifest("1/2", 1, 1)
	otherSubset.Subset = nil

	tests := []struct {
		name  string
		parts []*Manifest
		want  string
	}{
		{"none", nil, "no shard manifest"},
		{"missing", []*Manifest{partManifest("0/3", 1, 1), partManifest("2/3", 1, 1)},
			"1 of 3 shards are missing: 1/3"},
		{"twice", []*Manifest{partManifest("0/2", 1, 1), partManifest("0/2", 1, 1)},
			"shard 0/2 is there twice"},
		{"mixed counts", []*Manifest{partManifest("0/2", 1, 1), partManifest("1/3", 1, 1)},
			"shards of 2 and of 3 parts are mixed"},
		{"unsharded", []*Manifest{partManifest("0/2", 1, 1), {Tool: "deid"}},
			"names no shard"},
		{"other key", []*Manifest{partManifest("0/2", 1, 1), otherKey}, "differ in key ID"},
		{"other columns", []*Manifest{partManifest("0/2", 1, 1), otherCols},
			`differ in table "patients"`},
		{"other subset", []*Manifest{partManifest("0/2", 1, 1), otherSubset},
			"took different subsets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := MergeManifests(tt.parts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

package deid

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/deid/deid/internal/atomicfile"
	"github.com/deid/deid/safeharbor"
)

// Manifest describes a finished run: what was read, what every column
// became and under which key. It never holds a row value, a key or a
// password, so it can travel with the data.
type Manifest struct {
	Tool             string          `json:"tool"`
	Version          string          `json:"version"`
	Profile          string          `json:"profile"`
	Status           string          `json:"status"`
	DataUseAgreement string          `json:"data_use_agreement,omitempty"`
	PolicyHash       string          `json:"policy_hash"`
	KeyID            string          `json:"key_id"`
	CensusVintage    string          `json:"census_vintage"`
	Zip3List         string          `json:"zip3_list"`
	AsOf             string          `json:"as_of"`
	Shard            string          `json:"shard,omitempty"`
	Parts            int             `json:"parts,omitempty"`
	Subset           *SubsetManifest `json:"subset,omitempty"`
	Started          string          `json:"started,omitempty"`
	Seconds          float64         `json:"seconds,omitempty"`
	Tables           []TableManifest `json:"tables"`
	Verification     any             `json:"verification,omitempty"`
}

// TableManifest describes one output table.
type TableManifest struct {
	Name    string           `json:"name"`
	RowsIn  int64            `json:"rows_in"`
	RowsOut int64            `json:"rows_out"`
	Subset  string           `json:"subset,omitempty"`
	Seconds float64          `json:"seconds,omitempty"`
	Columns []ColumnManifest `json:"columns"`
	Notes   []string         `json:"notes,omitempty"`
}

// ColumnManifest describes what happened to one source column.
type ColumnManifest struct {
	Name   string `json:"name"`
	Kind   string `json:"kind,omitempty"`
	Letter string `json:"identifier,omitempty"` // the 164.514(b)(2)(i) letter
	Action string `json:"action"`
	Reason string `json:"keep_reason,omitempty"`
	Domain string `json:"token_domain,omitempty"`
	// DerivedFromIdentifier is true for keyed tokens and surrogates: they
	// are codes derived from an identifier under a secret key, which
	// 164.514(c) does not exempt; see SAFE_HARBOR.md §5.
	DerivedFromIdentifier bool   `json:"derived_from_identifier,omitempty"`
	InType                string `json:"type_in"`
	OutType               string `json:"type_out,omitempty"`
	TypeChanged           bool   `json:"type_changed,omitempty"`
	TypeInferred          bool   `json:"type_inferred,omitempty"`
	Note                  string `json:"note,omitempty"`
}

// ManifestInfo is what the manifest needs beyond the run result.
type ManifestInfo struct {
	Version          string
	PolicyHash       string
	KeyID            string
	Zip3List         string
	DataUseAgreement string
	Shard            string
	// Deterministic leaves out wall-clock times, so reruns give equal bytes.
	Deterministic bool
}

// NewManifest describes result r.
func NewManifest(r *Result, info ManifestInfo) *Manifest {
	m := &Manifest{
		Tool: "deid", Version: info.Version, Profile: string(r.Plan.Profile),
		PolicyHash: info.PolicyHash, KeyID: info.KeyID,
		CensusVintage: safeharbor.CensusVintage, Zip3List: info.Zip3List,
		AsOf: r.Plan.AsOf.Format(time.DateOnly), Shard: info.Shard,
		DataUseAgreement: info.DataUseAgreement, Subset: r.Subset.manifest(),
	}
	switch r.Plan.Profile {
	case safeharbor.LimitedDataSet:
		m.Status = "PHI - limited data set; release only under the data use agreement named here"
	default:
		m.Status = "Safe Harbor transforms applied; de-identified only if the releasing " +
			"entity has no actual knowledge that the remaining data could identify anyone"
	}
	if !info.Deterministic {
		m.Started = r.Started.UTC().Format(time.RFC3339)
		m.Seconds = r.Finished.Sub(r.Started).Seconds()
	}

	for i, tp := range r.Plan.Tables {
		tr := r.Tables[i]
		tm := TableManifest{Name: tp.Name, RowsIn: tr.RowsIn, RowsOut: tr.RowsOut, Notes: tp.Notes,
			Subset: tp.Subset}
		if !info.Deterministic {
			tm.Seconds = tr.Seconds
		}
		for _, c := range tp.Columns {
			tm.Columns = append(tm.Columns, columnManifest(c))
		}
		m.Tables = append(m.Tables, tm)
	}
	return m
}

func columnManifest(c *ColumnPlan) ColumnManifest {
	cm := ColumnManifest{Name: c.Name, Kind: string(c.Kind), Action: string(c.Action),
		Reason: c.Reason, Domain: c.Domain, InType: c.InType.String(), Note: c.Note,
		TypeInferred: c.Inferred}
	if k, ok := safeharbor.Lookup(c.Kind); ok {
		cm.Letter = k.Letter
	}
	if c.OutType != nil {
		cm.OutType = c.OutType.String()
		cm.TypeChanged = cm.OutType != cm.InType
	}
	cm.DerivedFromIdentifier = c.Action == safeharbor.Token || c.Action == safeharbor.Surrogate
	return cm
}

// WriteFile writes the manifest to path atomically: a temporary file in
// the same folder, renamed when complete.
func (m *Manifest) WriteFile(path string) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding manifest: %w", err)
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}

package schemas

import (
	"slices"
	"strings"
	"testing"

	"github.com/deid/deid/safeharbor"
)

func TestBundledValidate(t *testing.T) {
	names := BundledNames()
	if !slices.Contains(names, "demo") {
		t.Fatalf("BundledNames() = %v, want demo among them", names)
	}
	for _, name := range names {
		data, err := Bundled(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Check(data, name+".yaml"); err != nil {
			t.Errorf("bundled policy %s:\n%v", name, err)
		}
	}
}

func TestBundledUnknown(t *testing.T) {
	for _, name := range []string{"", "nope", "../policy", "policies/demo", "demo.yaml"} {
		_, err := Bundled(name)
		if err == nil || !strings.Contains(err.Error(), "bundled: demo") {
			t.Errorf("Bundled(%q) error = %v, want one listing the bundled policies", name, err)
		}
	}
}

// TestBundledDemo pins the demo policy to the columns of the demo extract.
func TestBundledDemo(t *testing.T) {
	data, err := Bundled("demo")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Check(data, "demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Profile != safeharbor.SafeHarborProfile {
		t.Errorf("profile = %s, want safe-harbor", p.Profile)
	}

	type rule struct {
		kind   safeharbor.Kind // "" for a kept column
		domain string          // Domain(), for tokenised and surrogate columns
		typ    string
	}
	want := map[string]map[string]rule{
		"patients": {
			"patient_id":    {safeharbor.RecordID, "patient", "int64"},
			"mrn":           {safeharbor.MRN, "mrn", ""},
			"first_name":    {safeharbor.Name, "name", ""},
			"last_name":     {safeharbor.Name, "name", ""},
			"dob":           {safeharbor.BirthDate, "", ""},
			"sex":           {"", "", ""},
			"street":        {safeharbor.Address, "address", ""},
			"city":          {safeharbor.City, "", ""},
			"state":         {"", "", ""},
			"zip":           {safeharbor.Zip, "", ""},
			"phone":         {safeharbor.Phone, "phone", ""},
			"email":         {safeharbor.Email, "email", ""},
			"ssn":           {safeharbor.SSN, "", ""},
			"deceased_date": {safeharbor.DeathDate, "", ""},
			"last_visit":    {safeharbor.ServiceDate, "", ""},
		},
		"encounters": {
			"encounter_id":   {safeharbor.RecordID, "encounter", "int64"},
			"patient_id":     {safeharbor.RecordID, "patient", "int64"},
			"provider_id":    {safeharbor.RecordID, "provider", "int64"},
			"admitted":       {safeharbor.AdmissionDate, "", ""},
			"discharged":     {safeharbor.DischargeDate, "", ""},
			"age_at_admit":   {safeharbor.Age, "", "int64"},
			"diagnosis_code": {"", "", ""},
			"note":           {safeharbor.FreeText, "", ""},
		},
		"providers": {
			"provider_id":   {safeharbor.RecordID, "provider", "int64"},
			"provider_name": {safeharbor.Name, "name", ""},
			"specialty":     {"", "", ""},
			"npi":           {safeharbor.RecordID, "npi", ""},
		},
	}

	if got, wantN := len(p.Tables), len(want); got != wantN {
		t.Errorf("demo has %d tables, want %d", got, wantN)
	}
	for table, cols := range want {
		tp := p.Tables[table]
		if tp == nil {
			t.Errorf("table %s is missing", table)
			continue
		}
		if len(tp.Columns) != len(cols) {
			t.Errorf("table %s has %d columns, want %d", table, len(tp.Columns), len(cols))
		}
		for name, w := range cols {
			c := tp.Columns[name]
			if c == nil {
				t.Errorf("%s.%s is missing", table, name)
				continue
			}
			a := c.Effective(p.Profile)
			var domain string
			if a == safeharbor.Token || a == safeharbor.Surrogate {
				domain = c.Domain()
			}
			got := rule{c.PHI, domain, c.Type}
			if got != w {
				t.Errorf("%s.%s = %+v, want %+v", table, name, got, w)
			}
			if w.kind == "" && c.Keep == "" {
				t.Errorf("%s.%s is not kept", table, name)
			}
		}
	}

	pc := p.Tables["patients"].Columns
	fakes := map[string]string{"first_name": "first-name", "last_name": "last-name"}
	for col, f := range fakes {
		if pc[col].Fake != f {
			t.Errorf("patients.%s fake = %q, want %q", col, pc[col].Fake, f)
		}
	}
	if got := p.Tables["providers"].Columns["provider_name"].Fake; got != "full-name" {
		t.Errorf("providers.provider_name fake = %q, want full-name", got)
	}
	if got := pc["dob"].Reference; !slices.Equal(got, []string{"deceased_date"}) {
		t.Errorf("patients.dob reference = %q", got)
	}
	if got := pc["state"].Keep; got != "state is allowed under Safe Harbor" {
		t.Errorf("patients.state keep = %q", got)
	}
	dx := p.Tables["encounters"].Columns["diagnosis_code"]
	if got := dx.Keep; got != "ICD-10 code, not an identifier" {
		t.Errorf("encounters.diagnosis_code keep = %q", got)
	}
}

package scan

import (
	"reflect"
	"testing"

	"github.com/deid/deid/safeharbor"
)

func TestSplitName(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"dob", []string{"dob"}},
		{"pat_fname", []string{"pat", "fname"}},
		{"PatFName", []string{"pat", "f", "name"}},
		{"zip_cd", []string{"zip", "cd"}},
		{"addr1", []string{"addr", "1"}},
		{"SSNLast4", []string{"ssn", "last", "4"}},
		{"patientID", []string{"patient", "id"}},
		{"Date of Birth", []string{"date", "of", "birth"}},
		{"c17", []string{"c", "17"}},
		{"field_4", []string{"field", "4"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := splitName(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReadName(t *testing.T) {
	tests := []struct {
		name string
		kind safeharbor.Kind // first kind suggested; "" for none
		keep bool
		meta bool
		fake string
	}{
		{"dob", safeharbor.BirthDate, false, false, ""},
		{"date_of_birth", safeharbor.BirthDate, false, false, ""},
		{"pat_fname", safeharbor.Name, false, false, "first-name"},
		{"PatLName", safeharbor.Name, false, false, "last-name"},
		{"zip_cd", safeharbor.Zip, false, false, ""},
		{"tel", safeharbor.Phone, false, false, "phone"},
		{"home_phone", safeharbor.Phone, false, false, "phone"},
		{"addr1", safeharbor.Address, false, false, ""},
		{"email", safeharbor.Email, false, false, "email"},
		{"ssn_last4", safeharbor.SSN, false, false, ""},
		{"mrn", safeharbor.MRN, false, false, ""},
		{"admit_dt", safeharbor.AdmissionDate, false, false, ""},
		{"encounter_id", safeharbor.ServiceDate, false, false, ""},
		{"age_at_admit", safeharbor.Age, false, false, ""},
		{"lat", safeharbor.Geocode, false, false, ""},
		{"fax_no", safeharbor.Fax, false, false, "fax"},
		{"vin", safeharbor.VehicleID, false, false, ""},
		{"note_txt", safeharbor.FreeText, false, false, ""},
		{"patient_id", safeharbor.RecordID, false, false, ""},
		{"sex", "", true, false, ""},
		{"state", "", true, false, ""},
		{"diagnosis_code", safeharbor.RecordID, true, false, ""},
		{"phone_type", safeharbor.Phone, false, true, "phone"},
		{"c17", "", false, false, ""},
		{"field_4", "", false, false, ""},
	}
	for _, tt := range tests {
		h := readName(tt.name)
		var got safeharbor.Kind
		if len(h.kinds) > 0 {
			got = h.kinds[0]
		}
		if got != tt.kind || h.keep != tt.keep || h.meta != tt.meta || h.fake != tt.fake {
			t.Errorf("readName(%q) = kind %q keep %v meta %v fake %q; want %q %v %v %q",
				tt.name, got, h.keep, h.meta, h.fake, tt.kind, tt.keep, tt.meta, tt.fake)
		}
	}
}

func TestDomainName(t *testing.T) {
	tests := []struct {
		table, column string
		kind          safeharbor.Kind
		want          string
	}{
		{"patients", "patient_id", safeharbor.RecordID, "patient"},
		{"encounters", "id", safeharbor.RecordID, "encounter"},
		{"people", "c1", safeharbor.RecordID, "person"},
		{"ds1", "c2", safeharbor.MRN, "mrn"},
		{"claims", "Claim_No", safeharbor.RecordID, "claim"},
		{"x", "Member ID", safeharbor.HealthPlanID, "member"},
	}
	for _, tt := range tests {
		if got := domainName(tt.table, tt.column, tt.kind); got != tt.want {
			t.Errorf("domainName(%q, %q, %s) = %q, want %q", tt.table, tt.column, tt.kind,
				got, tt.want)
		}
	}
}

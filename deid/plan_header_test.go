package deid

import (
	"errors"
	"strings"
	"testing"
)

// TestPlanDoesNotQuoteADataRowAsHeader checks that when none of a table's
// columns is in the policy, most likely because its first row is data, the
// plan error counts the columns and quotes none of them.
func TestPlanDoesNotQuoteADataRowAsHeader(t *testing.T) {
	p := testPolicy(t, patientsPolicy)
	row := []string{"4242", "CANARY-MRN-5150", "Zyxwquux", "1931-07-04", "2020-01-01", "82190",
		"95", "999-31-4159", "a note", "Faketown", "F"}
	src := &memSource{tables: map[string][][]string{"patients": {row, row}}}
	_, _, err := runMem(t, p, src, 1)

	var pe *PlanError
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v, want a *PlanError", err)
	}
	if len(pe.Problems) != 1 || !strings.Contains(pe.Problems[0], "none of its 11 columns") {
		t.Errorf("problems = %q, want one that counts 11 columns", pe.Problems)
	}
	for _, v := range row {
		if strings.Contains(err.Error(), v) {
			t.Errorf("plan error quotes %q: %v", v, err)
		}
	}
}

// TestPlanWithholdsNamesThatReadAsValues checks that an unknown column is
// named only when its name reads as a column name.
func TestPlanWithholdsNamesThatReadAsValues(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"middle_name", `column "middle_name"`},
		{"Visit Date", `column "Visit Date"`},
		{"1931-07-04", "column 12 (its name is not shown"},
		{"canary@leak.invalid", "column 12 (its name is not shown"},
		{"999-31-4159", "column 12 (its name is not shown"},
		{"(900) 555-9999", "column 12 (its name is not shown"},
		{"4242", "column 12 (its name is not shown"},
		{strings.Repeat("x", 64), "column 12 (its name is not shown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows := patientRows(1)
			rows[0] = append(rows[0], tc.name)
			rows[1] = append(rows[1], "v")
			src := &memSource{tables: map[string][][]string{"patients": rows}}
			_, _, err := runMem(t, testPolicy(t, patientsPolicy), src, 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to say %s", err, tc.want)
			}
			if !strings.Contains(tc.want, tc.name) && strings.Contains(err.Error(), tc.name) {
				t.Errorf("error quotes the name: %v", err)
			}
		})
	}
}

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

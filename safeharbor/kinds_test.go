package safeharbor

import (
	"slices"
	"sort"
	"testing"
)

var bothProfiles = []Profile{SafeHarborProfile, LimitedDataSet}

func TestKindDefaults(t *testing.T) {
	for _, k := range Kinds() {
		for _, p := range bothProfiles {
			a, ok := Default(p, k.Kind)
			if !ok || a == "" {
				t.Errorf("Default(%s, %s) = %q, %v; want an action", p, k.Kind, a, ok)
				continue
			}
			if !Allowed(p, k.Kind, a) {
				t.Errorf("Default(%s, %s) = %q, which Allowed rejects", p, k.Kind, a)
			}
		}
	}
}

func TestSafeHarborNeverKeeps(t *testing.T) {
	for _, k := range Kinds() {
		if Allowed(SafeHarborProfile, k.Kind, Keep) {
			t.Errorf("Allowed(%s, %s, keep) = true, want false", SafeHarborProfile, k.Kind)
		}
	}
}

func TestLimitedDataSetKeeps(t *testing.T) {
	tests := []struct {
		kind Kind
		want bool
	}{
		{BirthDate, true},
		{DeathDate, true},
		{AdmissionDate, true},
		{DischargeDate, true},
		{ServiceDate, true},
		{Date, true},
		{City, true},
		{Zip, true},
		{Age, true},
		{Name, false},
		{Address, false},
		{Phone, false},
		{SSN, false},
		{MRN, false},
		{Photo, false},
		{FreeText, false},
	}
	for _, tt := range tests {
		if got := Allowed(LimitedDataSet, tt.kind, Keep); got != tt.want {
			t.Errorf("Allowed(%s, %s, keep) = %v, want %v", LimitedDataSet, tt.kind, got, tt.want)
		}
	}
}

func TestKindsTable(t *testing.T) {
	all := Kinds()
	if len(all) != 29 {
		t.Errorf("len(Kinds()) = %d, want 29", len(all))
	}

	letters := map[string]bool{}
	for _, k := range all {
		got, ok := Lookup(k.Kind)
		if !ok || got.Kind != k.Kind {
			t.Errorf("Lookup(%s) = %v, %v; want the kind", k.Kind, got.Kind, ok)
		}
		if k.Summary == "" {
			t.Errorf("kind %s has no summary", k.Kind)
		}
		letters[k.Letter] = true
	}
	for l := 'A'; l <= 'R'; l++ {
		if !letters[string(l)] {
			t.Errorf("no kind covers identifier (%c)", l)
		}
	}

	all[0].Kind = "changed"
	if Kinds()[0].Kind != Name {
		t.Errorf("Kinds()[0] changed after the caller edited its copy")
	}
}

func TestUnknownKind(t *testing.T) {
	const k Kind = "shoe-size"
	if _, ok := Lookup(k); ok {
		t.Errorf("Lookup(%s) found a kind", k)
	}
	if a, ok := Default(SafeHarborProfile, k); ok {
		t.Errorf("Default(%s) = %q, true; want false", k, a)
	}
	if Allowed(SafeHarborProfile, k, Drop) {
		t.Errorf("Allowed(%s, drop) = true, want false", k)
	}
	if a, ok := Default("expert", Name); ok {
		t.Errorf("Default(expert, name) = %q, true; want false", a)
	}
}

func TestKindNames(t *testing.T) {
	names := KindNames()
	if !sort.StringsAreSorted(names) {
		t.Errorf("KindNames() = %v, want sorted", names)
	}
	if len(names) != len(Kinds()) || !slices.Contains(names, string(Zip)) {
		t.Errorf("KindNames() = %v, want every kind", names)
	}
}

func TestIsDate(t *testing.T) {
	dates := []Kind{BirthDate, DeathDate, AdmissionDate, DischargeDate, ServiceDate, Date}
	for _, k := range Kinds() {
		want := slices.Contains(dates, k.Kind)
		if got := IsDate(k.Kind); got != want {
			t.Errorf("IsDate(%s) = %v, want %v", k.Kind, got, want)
		}
		if want && !Allowed(SafeHarborProfile, k.Kind, Year) {
			t.Errorf("Allowed(%s, %s, year) = false, want true", SafeHarborProfile, k.Kind)
		}
	}
}

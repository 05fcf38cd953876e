package safeharbor

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTopCodeAge(t *testing.T) {
	tests := []struct {
		name string
		in   int64
		want int64
	}{
		{name: "newborn", in: 0, want: 0},
		{name: "adult", in: 45, want: 45},
		{name: "89 stays", in: 89, want: 89},
		{name: "90 is the cap", in: 90, want: 90},
		{name: "91", in: 91, want: 90},
		{name: "implausible", in: 150, want: 90},
		{name: "max", in: math.MaxInt64, want: 90},
		{name: "negative passes", in: -1, want: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TopCodeAge(tt.in); got != tt.want {
				t.Errorf("TopCodeAge(%d) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestTopCodeAgeFloat(t *testing.T) {
	tests := []struct {
		name string
		in   float64
		want float64
	}{
		{name: "infant", in: 0.25, want: 0.25},
		{name: "89", in: 89, want: 89},
		{name: "89.99 is 89 completed years", in: 89.99, want: 89.99},
		{name: "90", in: 90, want: 90},
		{name: "90.5", in: 90.5, want: 90},
		{name: "infinity", in: math.Inf(1), want: 90},
		{name: "negative infinity", in: math.Inf(-1), want: math.Inf(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TopCodeAgeFloat(tt.in); got != tt.want {
				t.Errorf("TopCodeAgeFloat(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	if got := TopCodeAgeFloat(math.NaN()); !math.IsNaN(got) {
		t.Errorf("TopCodeAgeFloat(NaN) = %v, want NaN", got)
	}
}

func TestTopCodeAgeText(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string
		wantOK bool
	}{
		{name: "93", in: "93", want: "90+", wantOK: true},
		{name: "45", in: "45", want: "45", wantOK: true},
		{name: "zero", in: "0", want: "0", wantOK: true},
		{name: "89", in: "89", want: "89", wantOK: true},
		{name: "90", in: "90", want: "90+", wantOK: true},
		{name: "fraction over", in: "93.5", want: "90+", wantOK: true},
		{name: "fraction under", in: "89.9", want: "89.9", wantOK: true},
		{name: "90+ stays", in: "90+", want: "90+", wantOK: true},
		{name: "95+", in: "95+", want: "90+", wantOK: true},
		{name: "85+ is coarser", in: "85+", want: "85+", wantOK: true},
		{name: "spaces", in: " 93 ", want: "90+", wantOK: true},
		{name: "trimmed young", in: " 7\t", want: "7", wantOK: true},
		{name: "leading zeros young", in: "045", want: "045", wantOK: true},
		{name: "leading zeros old", in: "00093", want: "90+", wantOK: true},
		{name: "three digits", in: "100", want: "90+", wantOK: true},
		{name: "huge", in: strings.Repeat("9", 40), want: "90+", wantOK: true},
		{name: "empty", in: ""},
		{name: "blank", in: "  "},
		{name: "negative", in: "-5"},
		{name: "negative old", in: "-93"},
		{name: "plus sign", in: "+93"},
		{name: "units", in: "93 years"},
		{name: "letters", in: "old"},
		{name: "bare plus", in: "+"},
		{name: "double plus", in: "90++"},
		{name: "trailing dot", in: "93."},
		{name: "leading dot", in: ".5"},
		{name: "two dots", in: "9.3.1"},
		{name: "exponent", in: "9e1"},
		{name: "comma decimal", in: "93,5"},
		{name: "range", in: "90-94"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := TopCodeAgeText(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("TopCodeAgeText(%q) = %q, %v; want %q, %v",
					tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestCompletedYears(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time {
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	tests := []struct {
		name  string
		birth time.Time
		at    time.Time
		want  int
	}{
		{name: "day before 90th birthday", birth: day(1930, 6, 15), at: day(2020, 6, 14),
			want: 89},
		{name: "90th birthday", birth: day(1930, 6, 15), at: day(2020, 6, 15), want: 90},
		{name: "year subtraction says 90", birth: day(1930, 12, 31), at: day(2020, 1, 1),
			want: 89},
		{name: "new year's eve", birth: day(1930, 12, 31), at: day(2020, 12, 31), want: 90},
		{name: "earlier month", birth: day(1930, 6, 15), at: day(2020, 5, 30), want: 89},
		{name: "later month", birth: day(1930, 6, 15), at: day(2020, 7, 1), want: 90},
		{name: "newborn", birth: day(2020, 3, 1), at: day(2020, 3, 1), want: 0},
		{name: "infant", birth: day(2020, 3, 1), at: day(2021, 2, 28), want: 0},
		{name: "leapling in a leap year, day before",
			birth: day(1932, 2, 29), at: day(2020, 2, 28), want: 87},
		{name: "leapling in a leap year, birthday",
			birth: day(1932, 2, 29), at: day(2020, 2, 29), want: 88},
		{name: "leapling turns 90 on feb 28",
			birth: day(1932, 2, 29), at: day(2022, 2, 28), want: 90},
		{name: "leapling day before feb 28",
			birth: day(1932, 2, 29), at: day(2022, 2, 27), want: 89},
		{name: "feb 28 birth on feb 29",
			birth: day(1931, 2, 28), at: day(2020, 2, 29), want: 89},
		{name: "mar 1 birth on feb 29",
			birth: day(1931, 3, 1), at: day(2020, 2, 29), want: 88},
		{name: "time of day ignored",
			birth: time.Date(1930, 6, 15, 23, 59, 0, 0, time.UTC),
			at:    time.Date(2020, 6, 15, 0, 1, 0, 0, time.UTC), want: 90},
		{name: "each date in its own zone",
			birth: time.Date(1930, 6, 15, 1, 0, 0, 0, time.FixedZone("", 10*3600)),
			at:    time.Date(2020, 6, 15, 8, 0, 0, 0, time.UTC), want: 90},
		{name: "at before birth", birth: day(2020, 6, 15), at: day(2019, 6, 16), want: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CompletedYears(tt.birth, tt.at)
			if got != tt.want {
				t.Errorf("CompletedYears(%s, %s) = %d, want %d",
					tt.birth.Format(time.DateOnly), tt.at.Format(time.DateOnly), got, tt.want)
			}
		})
	}
}

// TestCompletedYearsEveryDay walks two years of reference dates and checks
// the age against counting birthdays with AddDate.
func TestCompletedYearsEveryDay(t *testing.T) {
	for _, birth := range []time.Time{
		time.Date(1930, 6, 15, 0, 0, 0, 0, time.UTC),
		time.Date(1931, 2, 28, 0, 0, 0, 0, time.UTC),
		time.Date(1931, 3, 1, 0, 0, 0, 0, time.UTC),
	} {
		end := birth.AddDate(91, 0, 0)
		for at := birth.AddDate(89, -3, 0); at.Before(end); at = at.AddDate(0, 0, 1) {
			want := 0
			for birth.AddDate(want+1, 0, 0).Compare(at) <= 0 {
				want++
			}
			if got := CompletedYears(birth, at); got != want {
				t.Fatalf("CompletedYears(%s, %s) = %d, want %d", birth.Format(time.DateOnly),
					at.Format(time.DateOnly), got, want)
			}
		}
	}
}

func TestBirthYear(t *testing.T) {
	tests := []struct {
		name         string
		birth, ref   int
		want         int
		wantBucketed bool
		wantLabel    string
	}{
		{name: "HHS example", birth: 1910, ref: 2010, want: 1920, wantBucketed: true,
			wantLabel: "<=1920"},
		{name: "edge year is in the bucket", birth: 1920, ref: 2010, want: 1920,
			wantBucketed: true, wantLabel: "<=1920"},
		{name: "year after the edge", birth: 1921, ref: 2010, want: 1921, wantLabel: "1921"},
		{name: "young", birth: 1987, ref: 2024, want: 1987, wantLabel: "1987"},
		{name: "very old", birth: 1850, ref: 2024, want: 1934, wantBucketed: true,
			wantLabel: "<=1934"},
		{name: "born in the reference year", birth: 2024, ref: 2024, want: 2024,
			wantLabel: "2024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bucketed := BirthYear(tt.birth, tt.ref)
			if got != tt.want || bucketed != tt.wantBucketed {
				t.Errorf("BirthYear(%d, %d) = %d, %v; want %d, %v",
					tt.birth, tt.ref, got, bucketed, tt.want, tt.wantBucketed)
			}
			if label := BirthYearLabel(got, bucketed); label != tt.wantLabel {
				t.Errorf("BirthYearLabel(%d, %v) = %q, want %q", got, bucketed, label, tt.wantLabel)
			}
		})
	}
}

func FuzzTopCodeAgeText(f *testing.F) {
	f.Add("93")
	f.Add("89.999")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := TopCodeAgeText(s)
		if !ok {
			if got != "" {
				t.Fatalf("TopCodeAgeText(%q) = %q, false; want empty", s, got)
			}
			return
		}
		if got == "90+" {
			return
		}
		if got != strings.TrimSpace(s) {
			t.Fatalf("TopCodeAgeText(%q) = %q, want the input or 90+", s, got)
		}

		// A released age must read as under 90 whole years.
		whole, _, _ := strings.Cut(strings.TrimSuffix(got, "+"), ".")
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || n < 0 || n >= AgeCap {
			t.Fatalf("TopCodeAgeText(%q) = %q, an age of 90 or more", s, got)
		}
		if again, ok := TopCodeAgeText(got); !ok || again != got {
			t.Fatalf("TopCodeAgeText(%q) = %q, %v; want it unchanged", got, again, ok)
		}
	})
}

func TestReferenceYear(t *testing.T) {
	const asOf = 2026
	tests := []struct {
		name   string
		years  []int // 0 is a missing date
		listed int
		want   int
	}{
		{"no dates at all", nil, 0, asOf},
		{"only unlisted dates: the as-of year counts", []int{2010, 2015}, 0, asOf},
		{"an unlisted date after the as-of year", []int{2010, 2030}, 0, 2030},
		{"a listed date is trusted", []int{2010, 2015}, 1, 2015},
		{"a later unlisted date still counts", []int{2010, 2020}, 1, 2020},
		{"the listed date is missing", []int{0, 2015}, 1, asOf},
		{"one of two listed dates is there", []int{0, 2012, 2011}, 2, 2012},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ReferenceYear(len(tt.years), tt.listed, func(k int) (int, bool) {
				return tt.years[k], tt.years[k] != 0
			}, asOf)
			if got != tt.want {
				t.Errorf("ReferenceYear(%v, listed %d) = %d, want %d", tt.years, tt.listed, got, tt.want)
			}
		})
	}
}

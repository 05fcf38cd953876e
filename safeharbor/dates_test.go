package safeharbor

import (
	"strings"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	utc := func(y int, m time.Month, d, hh, mm, ss, ns int) time.Time {
		return time.Date(y, m, d, hh, mm, ss, ns, time.UTC)
	}
	tests := []struct {
		name string
		in   string
		want time.Time
	}{
		{name: "iso date", in: "2006-01-02", want: utc(2006, 1, 2, 0, 0, 0, 0)},
		{name: "spaces", in: " 2006-01-02\n", want: utc(2006, 1, 2, 0, 0, 0, 0)},
		{name: "T no zone", in: "2006-01-02T15:04:05", want: utc(2006, 1, 2, 15, 4, 5, 0)},
		{name: "T Z", in: "2006-01-02T15:04:05Z", want: utc(2006, 1, 2, 15, 4, 5, 0)},
		{name: "T millis", in: "2006-01-02T15:04:05.123Z",
			want: utc(2006, 1, 2, 15, 4, 5, 123_000_000)},
		{name: "T nanos", in: "2006-01-02T15:04:05.123456789",
			want: utc(2006, 1, 2, 15, 4, 5, 123_456_789)},
		{name: "T offset", in: "2006-01-02T15:04:05-07:00",
			want: time.Date(2006, 1, 2, 15, 4, 5, 0, time.FixedZone("", -7*3600))},
		{name: "T half-hour offset", in: "2006-01-02T15:04:05.5+05:30",
			want: time.Date(2006, 1, 2, 15, 4, 5, 5e8, time.FixedZone("", 19800))},
		{name: "space form", in: "2006-01-02 15:04:05", want: utc(2006, 1, 2, 15, 4, 5, 0)},
		{name: "space form frac", in: "2006-01-02 15:04:05.000001",
			want: utc(2006, 1, 2, 15, 4, 5, 1000)},
		{name: "space form offset", in: "2006-01-02 15:04:05+01:00",
			want: time.Date(2006, 1, 2, 15, 4, 5, 0, time.FixedZone("", 3600))},
		{name: "us", in: "01/02/2006", want: utc(2006, 1, 2, 0, 0, 0, 0)},
		{name: "us short", in: "1/2/2006", want: utc(2006, 1, 2, 0, 0, 0, 0)},
		{name: "us mixed", in: "1/02/2006", want: utc(2006, 1, 2, 0, 0, 0, 0)},
		{name: "us december", in: "12/31/1999", want: utc(1999, 12, 31, 0, 0, 0, 0)},
		{name: "compact", in: "20060102", want: utc(2006, 1, 2, 0, 0, 0, 0)},
		{name: "leap day", in: "2024-02-29", want: utc(2024, 2, 29, 0, 0, 0, 0)},
		{name: "leap day 2000", in: "20000229", want: utc(2000, 2, 29, 0, 0, 0, 0)},
		{name: "leap day us", in: "2/29/1932", want: utc(1932, 2, 29, 0, 0, 0, 0)},
		{name: "year 1", in: "0001-01-01", want: utc(1, 1, 1, 0, 0, 0, 0)},
		{name: "year 9999", in: "9999-12-31T23:59:59.999999999Z",
			want: utc(9999, 12, 31, 23, 59, 59, 999_999_999)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseDate(tt.in)
			if !ok {
				t.Fatalf("ParseDate(%q) = false, want %v", tt.in, tt.want)
			}
			_, gotOff := got.Zone()
			_, wantOff := tt.want.Zone()
			if !got.Equal(tt.want) || gotOff != wantOff {
				t.Errorf("ParseDate(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDateRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"blank", "  "},
		{"february 30", "2023-02-30"},
		{"not a leap year", "2023-02-29"},
		{"century not leap", "1900-02-29"},
		{"april 31", "2023-04-31"},
		{"zero date", "0000-00-00"},
		{"year zero", "0000-01-01"},
		{"month 13", "2023-13-01"},
		{"month zero", "2023-00-10"},
		{"day zero", "2023-01-00"},
		{"day 32", "2023-01-32"},
		{"us month 13", "13/01/2023"},
		{"us day first", "31/12/2023"},
		{"us two-digit year", "01/02/06"},
		{"us five-digit year", "01/02/20060"},
		{"us three-digit month", "001/02/2006"},
		{"us extra part", "01/02/2006/1"},
		{"us dashes", "01-02-2006"},
		{"compact month 13", "20231301"},
		{"compact with letter", "2023010a"},
		{"seven digits", "2023011"},
		{"five-digit year", "20230-01-01"},
		{"slashes iso", "2006/01/02"},
		{"single-digit month", "2006-1-02"},
		{"hour 24", "2006-01-02T24:00:00"},
		{"minute 60", "2006-01-02T23:60:00"},
		{"second 60", "2006-01-02T23:59:60Z"},
		{"no seconds", "2006-01-02T15:04"},
		{"lowercase t", "2006-01-02t15:04:05"},
		{"lowercase z", "2006-01-02T15:04:05z"},
		{"empty fraction", "2006-01-02T15:04:05.Z"},
		{"ten-digit fraction", "2006-01-02T15:04:05.1234567890"},
		{"comma fraction", "2006-01-02T15:04:05,5"},
		{"offset without colon", "2006-01-02T15:04:05+0700"},
		{"offset hour only", "2006-01-02T15:04:05+07"},
		{"offset hour 24", "2006-01-02T15:04:05+24:00"},
		{"zone name", "2006-01-02T15:04:05 UTC"},
		{"trailing text", "2006-01-02x"},
		{"date then T", "2006-01-02T"},
		{"date then space and hour", "2006-01-02 15"},
		{"month name", "Jan 2, 2006"},
		{"year only", "2006"},
		{"negative year", "-2006-01-02"},
		{"plus year", "+2006-01-02"},
		{"fullwidth digits", "２００６-０１-０２"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := ParseDate(tt.in); ok {
				t.Errorf("ParseDate(%q) = %v, true; want false", tt.in, got)
			}
		})
	}
}

// TestParseDateAgreesWithTime checks accepted inputs against time.Parse
// with the layout of their form.
func TestParseDateAgreesWithTime(t *testing.T) {
	for _, in := range []string{
		"2006-01-02", "20240229", "2006-01-02T15:04:05Z", "1999-12-31T23:59:59.5-05:00",
		"2010-06-15T08:00:00+14:00", "1/2/2006",
	} {
		checkAgainstTime(t, in)
	}
}

// checkAgainstTime fails t if ParseDate accepts s in a form time.Parse
// reads and the two disagree.
func checkAgainstTime(t *testing.T, s string) {
	t.Helper()
	got, ok := ParseDate(s)
	if !ok {
		return
	}
	s = strings.TrimSpace(s)
	var layout string
	switch {
	case len(s) == 10 && s[4] == '-':
		layout = "2006-01-02"
	case strings.Contains(s, "/"):
		layout = "1/2/2006"
	case len(s) == 8:
		layout = "20060102"
	case s[10] == 'T' && (strings.HasSuffix(s, "Z") || strings.LastIndexAny(s, "+-") > 10):
		layout = time.RFC3339Nano
	default:
		return
	}
	want, err := time.Parse(layout, s)
	if err != nil {
		t.Fatalf("ParseDate(%q) accepted a value time.Parse rejects", s)
	}
	if !got.Equal(want) || got.Year() != want.Year() {
		t.Fatalf("ParseDate(%q) = %v, time.Parse gives %v", s, got, want)
	}
}

func TestParseDateDoesNotAllocate(t *testing.T) {
	for _, in := range []string{
		"2006-01-02", "2006-01-02T15:04:05.123-07:00", "2006-01-02 15:04:05", "1/2/2006",
		"20060102", "2023-02-30",
	} {
		if got := testing.AllocsPerRun(100, func() { ParseDate(in) }); got != 0 {
			t.Errorf("ParseDate(%q) allocates %v times, want 0", in, got)
		}
	}
}

func TestYearOnly(t *testing.T) {
	est := time.FixedZone("", -5*3600)
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{name: "mid year", in: time.Date(2009, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 6, 3),
			want: time.Date(2009, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "already january 1", in: time.Date(2009, 1, 1, 0, 0, 0, 0, time.UTC),
			want: time.Date(2009, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "new year's eve, local year", in: time.Date(2010, 12, 31, 23, 0, 0, 0, est),
			want: time.Date(2010, 1, 1, 0, 0, 0, 0, est)},
		{name: "nanoseconds dropped", in: time.Date(1987, 3, 4, 5, 6, 7, 8, time.UTC),
			want: time.Date(1987, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := YearOnly(tt.in)
			if !got.Equal(tt.want) || got.Location() != tt.want.Location() {
				t.Errorf("YearOnly(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzParseDate(f *testing.F) {
	f.Add("2006-01-02T15:04:05.999999999+05:30")
	f.Add("2/29/2024")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseDate(s)
		if !ok {
			if !got.IsZero() {
				t.Fatalf("ParseDate(%q) = %v, false; want the zero time", s, got)
			}
			return
		}
		if y := got.Year(); y < 1 || y > 9999 {
			t.Fatalf("ParseDate(%q) year = %d, want 1..9999", s, y)
		}
		again, ok := ParseDate(got.Format("2006-01-02"))
		if !ok || again.Year() != got.Year() || again.YearDay() != got.YearDay() {
			t.Fatalf("ParseDate(%q) = %v does not re-parse to the same day", s, got)
		}
		if y := YearOnly(got); y.Year() != got.Year() || y.YearDay() != 1 {
			t.Fatalf("YearOnly(%v) = %v", got, y)
		}
		checkAgainstTime(t, s)
	})
}

func BenchmarkParseDate(b *testing.B) {
	for _, in := range []string{
		"2006-01-02", "2006-01-02T15:04:05Z", "2006-01-02 15:04:05.123456",
		"2006-01-02T15:04:05-07:00", "01/02/2006", "20060102", "not a date",
	} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ParseDate(in)
			}
		})
	}
}

// BenchmarkTimeParse is the standard library's cost for the same ISO forms,
// for comparison with BenchmarkParseDate.
func BenchmarkTimeParse(b *testing.B) {
	for _, c := range []struct{ layout, in string }{
		{"2006-01-02", "2006-01-02"},
		{time.RFC3339Nano, "2006-01-02T15:04:05Z"},
		{time.RFC3339Nano, "2006-01-02T15:04:05-07:00"},
	} {
		b.Run(c.in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = time.Parse(c.layout, c.in)
			}
		})
	}
}

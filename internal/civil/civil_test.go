package civil

import (
	"testing"
	"time"
)

// TestAgainstTime compares both directions with the time package on every
// day from year -1000 to 3000, which crosses leap centuries, the year 0
// and negative day numbers.
func TestAgainstTime(t *testing.T) {
	start := time.Date(-1000, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(3000, 12, 31, 0, 0, 0, 0, time.UTC)
	for tm := start; !tm.After(end); tm = tm.AddDate(0, 0, 1) {
		z := tm.Unix() / 86400
		if tm.Unix()%86400 != 0 {
			t.Fatalf("%s is not a whole day", tm)
		}
		y, m, d := Date(z)
		if y != int64(tm.Year()) || m != int64(tm.Month()) || d != int64(tm.Day()) {
			t.Fatalf("Date(%d) = %d-%d-%d, want %s", z, y, m, d, tm.Format(time.DateOnly))
		}
		if got := Days(y, m, d); got != z {
			t.Fatalf("Days(%d, %d, %d) = %d, want %d", y, m, d, got, z)
		}
		if got := Year(z); got != y {
			t.Fatalf("Year(%d) = %d, want %d", z, got, y)
		}
	}
}

func TestDaysRollsOver(t *testing.T) {
	tests := []struct {
		y, m, d int64
		want    string
	}{
		{2023, 2, 29, "2023-03-01"},
		{2024, 2, 30, "2024-03-01"},
		{2023, 12, 32, "2024-01-01"},
		{2023, 4, 31, "2023-05-01"},
	}
	for _, tt := range tests {
		y, m, d := Date(Days(tt.y, tt.m, tt.d))
		got := time.Date(int(y), time.Month(m), int(d), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		if got != tt.want {
			t.Errorf("Date(Days(%d, %d, %d)) = %s, want %s", tt.y, tt.m, tt.d, got, tt.want)
		}
	}
}

func TestExtremes(t *testing.T) {
	for _, z := range []int64{0, -1, 2932896, -719528, 1 << 40, -(1 << 40)} {
		y, m, d := Date(z)
		if m < 1 || m > 12 || d < 1 || d > 31 {
			t.Fatalf("Date(%d) = %d-%d-%d, out of range", z, y, m, d)
		}
		if got := Days(y, m, d); got != z {
			t.Errorf("Days(Date(%d)) = %d", z, got)
		}
	}
}

//go:build unix

package main

import "testing"

func TestVmHWM(t *testing.T) {
	tests := []struct {
		status string
		want   int64
	}{
		{"Name:\tdeid\nVmPeak:\t  900 kB\nVmHWM:\t   26068 kB\nVmRSS:\t 100 kB\n", 26068 << 10},
		{"VmHWM: 1 kB", 1 << 10},
		{"Name:\tdeid\n", 0},
		{"VmHWM:\t12 MB\n", 0},
		{"VmHWM:\tx kB\n", 0},
	}
	for _, tt := range tests {
		if got := vmHWM([]byte(tt.status)); got != tt.want {
			t.Errorf("vmHWM(%q) = %d, want %d", tt.status, got, tt.want)
		}
	}
}

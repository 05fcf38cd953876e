package pgconn

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"url with password", "postgres://deid:s3cret@db.example:5432/app",
			"postgres://deid:xxxxx@db.example:5432/app"},
		{"postgresql scheme", "postgresql://u:p@h/d", "postgresql://u:xxxxx@h/d"},
		{"url without password", "postgres://deid@/postgres?host=/tmp/pg",
			"postgres://deid@/postgres?host=/tmp/pg"},
		{"url password with at sign", "postgres://u:p@ss@h/d", "postgres://u:xxxxx@h/d"},
		{"url escaped password", "postgres://u:p%40ss@h/d?sslmode=require",
			"postgres://u:xxxxx@h/d?sslmode=require"},
		{"multi-host url", "postgres://u:pw@h1:5432,h2:5433/d", "postgres://u:xxxxx@h1:5432,h2:5433/d"},
		{"query password", "postgres://h/d?user=u&password=pw&sslmode=disable",
			"postgres://h/d?user=u&password=xxxxx&sslmode=disable"},
		{"query sslpassword", "postgres://h/d?sslpassword=kp", "postgres://h/d?sslpassword=xxxxx"},
		{"dsn", "host=h user=u password=pw dbname=d", "host=h user=u password=xxxxx dbname=d"},
		{"dsn quoted", "host=h password='p w\\' x' dbname=d", "host=h password=xxxxx dbname=d"},
		{"dsn spaces around equals", "password = pw host=h", "password = xxxxx host=h"},
		{"dsn sslpassword", "sslpassword=kp host=h", "sslpassword=xxxxx host=h"},
		{"dsn unterminated quote", "host=h password='pw", "host=h password=xxxxx"},
		{"dsn without password", "host=/tmp dbname=d", "host=/tmp dbname=d"},
		{"not a dsn", "garbage password", "xxxxx"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactNeverKeepsPassword(t *testing.T) {
	const secret = "Canary-Pw-7731"
	for _, s := range []string{
		"postgres://u:" + secret + "@h/d",
		"postgres://h/d?password=" + secret,
		"host=h password=" + secret,
		"host=h password='" + secret + " more'",
		"host=h password=" + secret + "\\ more",
	} {
		if got := Redact(s); strings.Contains(got, secret) {
			t.Errorf("Redact(%q) = %q keeps the password", s, got)
		}
	}
}

func TestIsLocal(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"/tmp/pg", true}, {"localhost", true}, {"127.0.0.1", true}, {"127.8.9.1", true},
		{"::1", true}, {"[::1]", true}, {"db.example", false}, {"10.0.0.5", false}, {"", false},
	}
	for _, tt := range tests {
		if got := IsLocal(tt.host); got != tt.want {
			t.Errorf("IsLocal(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestSplitName(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"patients", []string{"patients"}},
		{"Public.Patients", []string{"public", "patients"}},
		{`"My Schema"."Odd.Name"`, []string{"My Schema", "Odd.Name"}},
		{`"a""b"`, []string{`a"b`}},
		{"a..b", nil}, {`"open`, nil}, {"", nil}, {"a.", nil}, {"a b", nil},
	}
	for _, tt := range tests {
		got, ok := SplitName(tt.in)
		if ok != (tt.want != nil) || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("SplitName(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

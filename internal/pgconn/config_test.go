package pgconn

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/deid/deid/internal/pgtest"
)

const canaryPassword = "Canary-Pw-4417"

func TestParseWarnsWithoutTLS(t *testing.T) {
	tests := []struct {
		url  string
		warn bool
	}{
		{"postgres://u:" + canaryPassword + "@db.example/d?sslmode=disable", true},
		{"postgres://u:" + canaryPassword + "@db.example/d?sslmode=prefer", true},
		{"postgres://u:" + canaryPassword + "@db.example/d?sslmode=allow", true},
		{"postgres://u:" + canaryPassword + "@db.example/d?sslmode=require", false},
		{"postgres://u@localhost/d?sslmode=disable", false},
		{"postgres://u@127.0.0.2/d?sslmode=disable", false},
		{"postgres://u@[::1]/d?sslmode=disable", false},
		{"postgres://u@/d?host=/tmp&sslmode=disable", false},
		{"host=10.1.2.3 user=u password=" + canaryPassword + " sslmode=disable", true},
	}
	for _, tt := range tests {
		var logs bytes.Buffer
		cfg, err := Parse(tt.url, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatalf("Parse(%s): %v", Redact(tt.url), err)
		}
		if got := strings.Contains(logs.String(), "unencrypted"); got != tt.warn {
			t.Errorf("Parse(%s) warned %v, want %v: %s", Redact(tt.url), got, tt.warn, logs.String())
		}
		shown := logs.String() + cfg.String()
		if strings.Contains(shown, canaryPassword) {
			t.Errorf("Parse(%s) shows the password", Redact(tt.url))
		}
	}
}

func TestParseErrorHidesPassword(t *testing.T) {
	for _, bad := range []string{
		"postgres://u:" + canaryPassword + "@h:notaport/d",
		"host=h password=" + canaryPassword + " port=x",
		"postgres://u:" + canaryPassword + "@h/d?sslmode=bogus",
	} {
		_, err := Parse(bad, slog.New(slog.DiscardHandler))
		if err == nil {
			t.Errorf("Parse(%s) accepted it", Redact(bad))
			continue
		}
		if strings.Contains(err.Error(), canaryPassword) {
			t.Errorf("Parse error shows the password: %v", err)
		}
	}
}

// TestIntegrationConnectErrorHidesPassword connects with a password to a
// database that does not exist: the error names it, masked.
func TestIntegrationConnectErrorHidesPassword(t *testing.T) {
	url := pgtest.WithDatabase(t, pgtest.ServerURL(t), "deid_no_such_db")
	url = strings.Replace(url, "://deid@", "://deid:"+canaryPassword+"@", 1)
	if !strings.Contains(url, canaryPassword) {
		t.Skip("the test server URL is not postgres://deid@...; no password to add")
	}
	cfg, err := Parse(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = cfg.Connect(ctx)
	if err == nil {
		t.Fatal("connected to a database that does not exist")
	}
	if strings.Contains(err.Error(), canaryPassword) || !strings.Contains(err.Error(), Mask) ||
		!strings.Contains(err.Error(), "3D000") {
		t.Errorf("error = %q, want the masked URL and SQLSTATE 3D000", err)
	}
}

package pgconn

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/jackc/pgx/v5"
)

// FuzzRedact checks Redact against pgx's own parser: whatever password pgx
// reads from a connection string must not survive Redact.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"postgres://deid:s3cret-pw@db.example:5432/app",
		"postgres://u:p%40ss-word@h/d?sslmode=require",
		"postgres://h/d?user=u&password=pw-123456",
		"host=h user=u password='se cret\\' pw' dbname=d",
		"host=h password = plain-pw-77 dbname=d",
		"postgresql://u:pw-with@at@h1:1,h2:2/d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Redact(s)
		cfg, err := pgx.ParseConfig(s)
		if err != nil || len(cfg.Password) < 6 || strings.Count(s, cfg.Password) != 1 {
			return
		}
		if strings.Contains(got, cfg.Password) {
			t.Errorf("Redact(%q) = %q keeps the password %q", s, got, cfg.Password)
		}
	})
}

// FuzzParseType checks that every type ParseType accepts prints as a type
// it reads back the same.
func FuzzParseType(f *testing.F) {
	for _, s := range []string{"numeric(10,2)", "character varying(40)",
		"timestamp(3) with time zone", "varchar(5", "integer[]", "numeric(1,-5)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, ok := ParseType(s)
		if !ok {
			return
		}
		back, ok := ParseType(typ.String())
		if !ok || back != typ {
			t.Errorf("ParseType(%q) = %q, which reads back as %q, %v", s, typ, back, ok)
		}
		if strings.ContainsAny(typ.String(), ";'\"") {
			t.Errorf("ParseType(%q) prints %q", s, typ)
		}
	})
}

// FuzzNumericText checks that a decimal AppendNumericText accepts decodes
// to the value decimal128 reads from the same text.
func FuzzNumericText(f *testing.F) {
	for _, s := range []string{"0", "-12.50", "0.0001", "1e3", "-1.5E-2", "NaN",
		"99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc, ok := AppendNumericText(nil, s)
		if !ok || len(s) > 30 || strings.ContainsAny(s, "eE") {
			return
		}
		want, err := decimal128.FromString(s, 38, 6)
		if err != nil {
			return
		}
		got, err := DecodeNumeric(enc, 6)
		if err == ErrNumericSpecial {
			return
		}
		if err != nil {
			t.Fatalf("DecodeNumeric(AppendNumericText(%q)): %v", s, err)
		}
		if got != want && strings.Count(s, ".") <= 1 && fractionDigits(s) <= 6 {
			t.Errorf("%q decoded to %s, want %s", s, got.ToString(6), want.ToString(6))
		}
	})
}

func fractionDigits(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// FuzzParseUUID checks that an accepted UUID prints back to its text.
func FuzzParseUUID(f *testing.F) {
	f.Add("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
	f.Add("{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}")
	f.Fuzz(func(t *testing.T, s string) {
		raw, ok := ParseUUID(nil, s)
		if !ok {
			return
		}
		if len(raw) != 16 {
			t.Fatalf("ParseUUID(%q) gave %d bytes", s, len(raw))
		}
		want := strings.ToLower(strings.Trim(strings.ReplaceAll(s, "-", ""), "{}"))
		if got := strings.ReplaceAll(string(AppendUUID(nil, raw)), "-", ""); got != want {
			t.Errorf("ParseUUID(%q) prints back as %s", s, got)
		}
	})
}

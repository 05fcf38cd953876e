package pgconn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	pgxconn "github.com/jackc/pgx/v5/pgconn"

	"github.com/deid/deid/internal/pgtest"
)

// canary is an obviously fake value that must never appear in a reduced error.
const canary = "CANARY-000-00-0000"

func TestReduceDropsMessage(t *testing.T) {
	pe := &pgxconn.PgError{
		Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "23505",
		Message:        `duplicate key value violates unique constraint "p_ssn_key"`,
		Detail:         "Key (ssn)=(" + canary + ") already exists.",
		Where:          "COPY p, line 2, column ssn: \"" + canary + "\"",
		Hint:           canary,
		TableName:      "p",
		ConstraintName: "p_ssn_key",
	}
	err := Reduce(fmt.Errorf("copying: %w", pe))
	got := err.Error()
	if strings.Contains(got, canary) {
		t.Fatalf("Reduce kept the value: %s", got)
	}
	want := `unique_violation (SQLSTATE 23505) on table "p" constraint "p_ssn_key"`
	if got != want {
		t.Errorf("Reduce = %q, want %q", got, want)
	}
	var se *ServerError
	if !errors.As(err, &se) || se.Code != "23505" {
		t.Errorf("Reduce = %#v, want a *ServerError with code 23505", err)
	}
	if Reduce(nil) != nil {
		t.Error("Reduce(nil) is not nil")
	}
	plain := errors.New("plain")
	if Reduce(plain) != plain {
		t.Error("Reduce changed an error that holds no server error")
	}
}

// TestIntegrationReduceUniqueViolation provokes the errors whose messages
// quote a row value and checks that the canary does not survive Reduce.
func TestIntegrationReduceUniqueViolation(t *testing.T) {
	url := pgtest.New(t)
	pgtest.Exec(t, url,
		"CREATE TABLE p (id int PRIMARY KEY, ssn text UNIQUE, age int CHECK (age < 200))",
		"INSERT INTO p VALUES (1, '"+canary+"', 1)")
	conn := pgtest.Connect(t, url)
	ctx := context.Background()

	tests := []struct {
		name, sql, code, constraint string
	}{
		{"unique", "INSERT INTO p VALUES (2, '" + canary + "', 1)", "23505", "p_ssn_key"},
		{"check", "INSERT INTO p VALUES (3, 'x', 200)", "23514", "p_age_check"},
		{"cast", "SELECT '" + canary + "'::int", "22P02", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, raw := conn.Exec(ctx, tt.sql)
			if raw == nil {
				t.Fatal("statement succeeded, want an error")
			}
			err := Reduce(raw)
			var se *ServerError
			if !errors.As(err, &se) || se.Code != tt.code || se.Constraint != tt.constraint {
				t.Fatalf("Reduce = %v, want code %s constraint %q", err, tt.code, tt.constraint)
			}
			if strings.Contains(err.Error(), canary) || strings.Contains(fmt.Sprintf("%+v", err), canary) {
				t.Errorf("reduced error quotes the canary: %v", err)
			}
		})
	}
}

// TestIntegrationCopyLine checks that a COPY error is located by line and
// column, and that the value after them is left out.
func TestIntegrationCopyLine(t *testing.T) {
	url := pgtest.New(t)
	pgtest.Exec(t, url, "CREATE TABLE c (id int, ssn varchar(5))")
	conn := pgtest.Connect(t, url).PgConn()
	data := "1\tab\n2\t" + canary + "\n"
	_, err := conn.CopyFrom(context.Background(), strings.NewReader(data), "COPY c FROM STDIN")
	if err == nil {
		t.Fatal("COPY succeeded, want a length error")
	}
	line, col := CopyLine(err, "c", []string{"id", "ssn"})
	if line != 2 || col != "ssn" {
		t.Errorf("CopyLine = %d, %q; want 2, \"ssn\"", line, col)
	}
	if line, col := CopyLine(err, "other", []string{"ssn"}); line != 0 || col != "" {
		t.Errorf("CopyLine for another table = %d, %q; want nothing", line, col)
	}
}

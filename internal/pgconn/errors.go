package pgconn

import (
	"errors"
	"fmt"
	"strings"

	pgxconn "github.com/jackc/pgx/v5/pgconn"
)

// ServerError is an error the PostgreSQL server reported, reduced to fields
// that never carry a row value. The server's message, detail, hint and
// context can quote one ("Key (ssn)=(...) already exists", "COPY patients,
// line 3, column dob: ..."), so they are dropped, except the message of the
// few classes listed in safeMessage, which name only objects.
type ServerError struct {
	Code       string // SQLSTATE, e.g. "23505"
	Severity   string // ERROR, FATAL or PANIC
	Schema     string
	Table      string
	Column     string
	DataType   string
	Constraint string
	Message    string // set only when safeMessage allows it
}

// Error formats the error as `unique_violation (SQLSTATE 23505) on table
// "patients" constraint "patients_ssn_key"`.
func (e *ServerError) Error() string {
	var b strings.Builder
	if name := codeNames[e.Code]; name != "" {
		fmt.Fprintf(&b, "%s (SQLSTATE %s)", name, e.Code)
	} else {
		fmt.Fprintf(&b, "server error SQLSTATE %s", e.Code)
	}
	if e.Table != "" {
		if e.Schema != "" {
			fmt.Fprintf(&b, " on table %q", e.Schema+"."+e.Table)
		} else {
			fmt.Fprintf(&b, " on table %q", e.Table)
		}
	}
	if e.Column != "" {
		fmt.Fprintf(&b, " column %q", e.Column)
	}
	if e.Constraint != "" {
		fmt.Fprintf(&b, " constraint %q", e.Constraint)
	}
	if e.DataType != "" {
		fmt.Fprintf(&b, " type %q", e.DataType)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Lost reports whether the error ended the server session (an administrator
// terminated it, or the server shut down or crashed).
func (e *ServerError) Lost() bool {
	return e.Severity == "FATAL" || e.Severity == "PANIC" || strings.HasPrefix(e.Code, "57P") ||
		strings.HasPrefix(e.Code, "08")
}

// Reduce returns err with every server error in it reduced to a
// *ServerError. An error that wraps a *pgconn.PgError is replaced as a
// whole, context included, because the wrapping text may repeat the
// server's message; the caller adds its own context. Other errors are
// returned unchanged. Reduce(nil) is nil.
//
// Every error that comes back from a PostgreSQL connection must go through
// Reduce before it is returned, logged or shown.
func Reduce(err error) error {
	var pe *pgxconn.PgError
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	r := &ServerError{
		Code:       pe.Code,
		Severity:   pe.SeverityUnlocalized,
		Schema:     pe.SchemaName,
		Table:      pe.TableName,
		Column:     pe.ColumnName,
		DataType:   pe.DataTypeName,
		Constraint: pe.ConstraintName,
	}
	if r.Severity == "" {
		r.Severity = pe.Severity
	}
	if safeMessage(pe.Code) {
		r.Message = pe.Message
	}
	return r
}

// safeMessage reports whether the server's message for code names only
// objects, users and settings, never data: connection, authentication,
// catalog, resource and operator-intervention errors, and a few access
// errors. Data exceptions (class 22), integrity violations (class 23) and
// syntax errors (which quote the statement) are not.
func safeMessage(code string) bool {
	switch code {
	case "42501", "42P01", "42703", "42P07", "42704", "42883", "3F000", "2BP01", "55P03":
		return true
	}
	switch code[:min(2, len(code))] {
	case "08", "28", "3D", "53", "57", "58":
		return true
	}
	return false
}

// codeNames gives the condition name of the SQLSTATEs deid is likely to meet.
var codeNames = map[string]string{
	"08000": "connection_exception",
	"08003": "connection_does_not_exist",
	"08006": "connection_failure",
	"0A000": "feature_not_supported",
	"22001": "string_data_right_truncation",
	"22003": "numeric_value_out_of_range",
	"22007": "invalid_datetime_format",
	"22008": "datetime_field_overflow",
	"22021": "character_not_in_repertoire",
	"22023": "invalid_parameter_value",
	"22P02": "invalid_text_representation",
	"22P03": "invalid_binary_representation",
	"22P05": "untranslatable_character",
	"23502": "not_null_violation",
	"23503": "foreign_key_violation",
	"23505": "unique_violation",
	"23514": "check_violation",
	"23P01": "exclusion_violation",
	"25001": "active_sql_transaction",
	"25006": "read_only_sql_transaction",
	"25P02": "in_failed_sql_transaction",
	"28000": "invalid_authorization_specification",
	"28P01": "invalid_password",
	"2BP01": "dependent_objects_still_exist",
	"3D000": "invalid_catalog_name",
	"3F000": "invalid_schema_name",
	"40001": "serialization_failure",
	"40P01": "deadlock_detected",
	"42501": "insufficient_privilege",
	"42601": "syntax_error",
	"42703": "undefined_column",
	"42704": "undefined_object",
	"42804": "datatype_mismatch",
	"42830": "invalid_foreign_key",
	"42883": "undefined_function",
	"42P01": "undefined_table",
	"42P07": "duplicate_table",
	"42P16": "invalid_table_definition",
	"53100": "disk_full",
	"53200": "out_of_memory",
	"53300": "too_many_connections",
	"55P03": "lock_not_available",
	"57014": "query_canceled",
	"57P01": "admin_shutdown",
	"57P02": "crash_shutdown",
	"57P03": "cannot_connect_now",
}

// CopyLine reads the row a COPY error is about from the error context
// ("COPY patients, line 3, column dob: ..."), without ever returning the
// value that follows it: it gives the line number and, when it is one of
// columns, the column. table is the name COPY was given, unqualified.
func CopyLine(err error, table string, columns []string) (line int64, column string) {
	var pe *pgxconn.PgError
	if !errors.As(err, &pe) {
		return 0, ""
	}
	rest, ok := strings.CutPrefix(pe.Where, "COPY "+table+", line ")
	if !ok {
		return 0, ""
	}
	n := 0
	for n < len(rest) && n < 19 && rest[n] >= '0' && rest[n] <= '9' {
		line = line*10 + int64(rest[n]-'0')
		n++
	}
	rest = rest[n:]
	if n == 0 {
		return 0, ""
	}

	rest, ok = strings.CutPrefix(rest, ", column ")
	if !ok {
		return line, ""
	}
	for _, c := range columns {
		if strings.HasPrefix(rest, c+":") || rest == c {
			if len(c) > len(column) {
				column = c
			}
		}
	}
	return line, column
}

// Explain is Reduce for an error from an operation on pc, saying first when
// the operation ended the connection: an administrator terminated the
// session, the server went away or the network failed.
func Explain(err error, pc *pgxconn.PgConn) error {
	err = Reduce(err)
	if err == nil {
		return nil
	}
	var se *ServerError
	if (pc != nil && pc.IsClosed()) || (errors.As(err, &se) && se.Lost()) {
		return fmt.Errorf("connection to the server lost: %w", err)
	}
	return err
}

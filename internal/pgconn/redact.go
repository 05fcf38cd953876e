// Package pgconn holds what deid's PostgreSQL source and sink share:
// connecting with a password that is never shown, reducing server errors to
// fields that cannot carry row values, and the mapping between PostgreSQL
// types, their binary wire format and Arrow types.
//
// The name echoes pgx's own pgconn package; files that need both import
// pgx's under another name.
package pgconn

import (
	"regexp"
	"strings"
)

// Mask replaces a password wherever Redact finds one.
const Mask = "xxxxx"

// Redact returns a connection string with its passwords masked, so that it
// can be shown in logs, errors, manifests and audit records. It accepts the
// two forms libpq does:
//
//	postgres://deid:secret@db.example/app?sslpassword=k
//	    -> postgres://deid:xxxxx@db.example/app?sslpassword=xxxxx
//	host=db.example user=deid password='se cret'
//	    -> host=db.example user=deid password=xxxxx
//
// Redact errs on the side of masking: a string it cannot make sense of loses
// everything after the point where it stopped understanding it.
func Redact(conn string) string {
	if isURL(conn) {
		return redactURL(conn)
	}
	return redactDSN(conn)
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

var urlQueryPassword = regexp.MustCompile(`(?i)([?&](?:ssl)?password=)[^&#]*`)

// redactURL masks the password of the user information and of the query
// parameters. It works on the raw text rather than net/url, which rejects
// multi-host URLs and re-encodes what it parses.
func redactURL(s string) string {
	scheme := strings.Index(s, "://") + 3
	rest := s[scheme:]

	// The user information ends at the last '@' of the URL: a password may
	// hold an unescaped '@', and masking a host by mistake is harmless.
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		user := rest[:at]
		if colon := strings.Index(user, ":"); colon >= 0 {
			rest = user[:colon+1] + Mask + rest[at:]
		}
	}
	return s[:scheme] + urlQueryPassword.ReplaceAllString(rest, "${1}"+Mask)
}

// redactDSN masks the values of the password keys of a key=value string.
func redactDSN(s string) string {
	var b strings.Builder
	i := 0
	for i < len(s) {
		// Copy the white space and the key with its '='.
		start := i
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		keyStart := i
		for i < len(s) && s[i] != '=' && !isSpace(s[i]) {
			i++
		}
		key := s[keyStart:i]
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) || s[i] != '=' {
			if strings.TrimSpace(s[start:]) == "" {
				b.WriteString(s[start:])
				return b.String()
			}
			// Not a key=value string: keep nothing that could be secret.
			b.WriteString(s[start:keyStart])
			b.WriteString(Mask)
			return b.String()
		}
		i++
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		b.WriteString(s[start:i])

		end, ok := dsnValueEnd(s, i)
		if !ok || isPasswordKey(key) {
			b.WriteString(Mask)
		} else {
			b.WriteString(s[i:end])
		}
		if !ok {
			return b.String()
		}
		i = end
	}
	return b.String()
}

// dsnValueEnd returns where the value starting at i ends: a single-quoted
// value at its closing quote, a bare one at the next white space. Both may
// escape a character with a backslash.
func dsnValueEnd(s string, i int) (int, bool) {
	if i < len(s) && s[i] == '\'' {
		for j := i + 1; j < len(s); j++ {
			switch s[j] {
			case '\\':
				j++
			case '\'':
				return j + 1, true
			}
		}
		return len(s), false
	}
	j := i
	for j < len(s) && !isSpace(s[j]) {
		if s[j] == '\\' {
			j++
		}
		j++
	}
	return min(j, len(s)), true
}

func isPasswordKey(k string) bool {
	k = strings.ToLower(k)
	return k == "password" || k == "sslpassword"
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

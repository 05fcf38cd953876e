package pgconn

import (
	"strings"

	"github.com/jackc/pgx/v5"
)

// Quote returns name as a quoted SQL identifier.
func Quote(name string) string { return pgx.Identifier{name}.Sanitize() }

// QuoteList quotes each name and joins them with commas.
func QuoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = Quote(n)
	}
	return strings.Join(q, ", ")
}

// SplitName splits a possibly schema-qualified relation name as SQL reads
// it: `public.patients` gives ["public", "patients"], `"My Table"` gives
// ["My Table"], and unquoted parts fold to lower case. It reports false for
// an empty part or an unclosed quote.
func SplitName(name string) ([]string, bool) {
	var parts []string
	i := 0
	for {
		var part string
		if i < len(name) && name[i] == '"' {
			var b strings.Builder
			j := i + 1
			for ; j < len(name); j++ {
				if name[j] != '"' {
					b.WriteByte(name[j])
					continue
				}
				if j+1 < len(name) && name[j+1] == '"' {
					b.WriteByte('"')
					j++
					continue
				}
				break
			}
			if j >= len(name) {
				return nil, false
			}
			part, i = b.String(), j+1
		} else {
			j := strings.IndexByte(name[i:], '.')
			if j < 0 {
				j = len(name) - i
			}
			part, i = strings.ToLower(name[i:i+j]), i+j
			if strings.ContainsAny(part, `" `) {
				return nil, false
			}
		}
		if part == "" {
			return nil, false
		}
		parts = append(parts, part)
		if i == len(name) {
			return parts, true
		}
		if name[i] != '.' {
			return nil, false
		}
		i++
	}
}

// BaseName is the last part of a possibly schema-qualified relation name,
// unquoted; for a name SplitName rejects it is the name itself.
func BaseName(name string) string {
	parts, ok := SplitName(name)
	if !ok {
		return name
	}
	return parts[len(parts)-1]
}

// QuoteIfNeeded returns name as SQL must write it: bare when it is a lower
// case identifier that needs no quotes, quoted otherwise. SplitName reads
// the result back as name.
func QuoteIfNeeded(name string) string {
	if name == "" {
		return Quote(name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' || c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '$') {
			continue
		}
		return Quote(name)
	}
	return name
}

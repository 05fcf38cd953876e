package sources

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// Multi is a Source made of several sources, such as the CSV and the
// Parquet files of one folder. Every table belongs to exactly one of them.
type Multi struct {
	parts []Source
	owner map[string]Source
}

// NewMulti combines sources; a table name found in two of them is an error
// reported by Tables.
func NewMulti(parts ...Source) *Multi {
	return &Multi{parts: parts, owner: map[string]Source{}}
}

// Tables lists the tables of every part, sorted by name.
func (m *Multi) Tables(ctx context.Context) ([]Table, error) {
	var all []Table
	for _, p := range m.parts {
		ts, err := p.Tables(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if prev, dup := m.owner[t.Name]; dup && prev != p {
				return nil, fmt.Errorf("table %q is in two places of the source (%s and another)",
					t.Name, t.Location)
			}
			m.owner[t.Name] = p
			all = append(all, t)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all, nil
}

// Open opens a table in the part that holds it.
func (m *Multi) Open(ctx context.Context, table string, o ReadOptions) (Reader, error) {
	p := m.owner[table]
	if p == nil {
		return nil, fmt.Errorf("table %q is not in the source", table)
	}
	return p.Open(ctx, table, o)
}

// Close closes every part.
func (m *Multi) Close() error {
	var errs []error
	for _, p := range m.parts {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}

package sinks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/deid/deid/internal/pgconn"
)

// Commit builds keys and indexes in the staging schema, then swaps the
// staging tables into the target schema in one transaction. On failure it
// drops the staging schema and the target is left as it was.
func (s *PostgresSink) Commit(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return errors.New("postgres sink: already committed or aborted")
	}
	s.done = true
	err := s.commit(ctx)
	if err != nil {
		s.stopAll()
		if derr := s.dropStaging(); derr != nil {
			err = errors.Join(err, derr)
		}
		return err
	}
	s.stopBuilds()
	closePg(s.control)
	s.control = nil
	return nil
}

func (s *PostgresSink) commit(ctx context.Context) error {
	for _, t := range s.tables {
		if !t.closed {
			return fmt.Errorf("postgres sink: table %q was not closed", t.info.Name)
		}
	}
	if err := s.waitKeys(ctx); err != nil {
		return err
	}
	for _, t := range s.tables {
		if err := s.addForeignKeys(ctx, t); err != nil {
			return err
		}
	}
	return s.swap(ctx)
}

// startKeys builds a loaded table's primary key, unique constraints and
// indexes and analyzes it, in the background on a connection of its own.
func (s *PostgresSink) startKeys(t *pgSinkTable) {
	s.builds.Add(1)
	go func() {
		defer s.builds.Done()
		select {
		case s.buildSlots <- struct{}{}:
			defer func() { <-s.buildSlots }()
		case <-s.buildCtx.Done():
			t.built = s.buildCtx.Err()
			return
		}
		t.built = s.buildKeys(s.buildCtx, t)
	}()
}

func (s *PostgresSink) buildKeys(ctx context.Context, t *pgSinkTable) error {
	stmts := s.keyStatements(t)
	conn, err := s.cfg.Connect(ctx)
	if err != nil {
		return fmt.Errorf("building keys of table %q: %w", t.info.Name, err)
	}
	defer closePg(conn)
	for _, st := range stmts {
		start := time.Now()
		if _, err := conn.Exec(ctx, st.sql); err != nil {
			return fmt.Errorf("building %s of table %q: %w", st.what, t.info.Name,
				pgconn.Explain(err, conn.PgConn()))
		}
		s.log.Debug("built", "table", t.info.Name, "stage", st.what,
			"seconds", time.Since(start).Seconds())
	}
	return nil
}

// waitKeys waits for the key builds and returns their errors.
func (s *PostgresSink) waitKeys(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.builds.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.stopBuilds()
		<-done
		return ctx.Err()
	}
	var errs []error
	for _, t := range s.tables {
		if t.built != nil {
			errs = append(errs, t.built)
		}
	}
	return errors.Join(errs...)
}

type pgStatement struct{ what, sql string }

// keyStatements lists the DDL that recreates t's keys and indexes on the
// columns that survived, noting what it leaves out.
func (s *PostgresSink) keyStatements(t *pgSinkTable) []pgStatement {
	rel := s.stagingRel(t.rel)
	c := t.info.Constraints
	var out []pgStatement
	if len(c.PrimaryKey) > 0 {
		if miss := t.missing(c.PrimaryKey); miss != "" {
			s.note(&t.keyNotes, "table %q: primary key not recreated: column %q is not in the output",
				t.info.Name, miss)
		} else {
			out = append(out, pgStatement{"the primary key",
				"ALTER TABLE " + rel + " ADD PRIMARY KEY (" + pgconn.QuoteList(c.PrimaryKey) + ")"})
		}
	}
	for _, u := range c.Unique {
		if miss := t.missing(u); miss != "" {
			s.note(&t.keyNotes, "table %q: unique constraint on (%s) not recreated: "+
				"column %q is not in the output", t.info.Name, strings.Join(u, ", "), miss)
			continue
		}
		out = append(out, pgStatement{"a unique constraint",
			"ALTER TABLE " + rel + " ADD UNIQUE (" + pgconn.QuoteList(u) + ")"})
	}
	for _, ix := range c.Indexes {
		if miss := t.missing(ix.Columns); miss != "" {
			s.note(&t.keyNotes, "table %q: index %q not recreated: column %q is not in the output",
				t.info.Name, ix.Name, miss)
			continue
		}
		def, ok := pgRewriteIndex(ix.Definition, rel)
		if !ok {
			s.note(&t.keyNotes, "table %q: index %q not recreated: "+
				"its definition is not a CREATE INDEX statement", t.info.Name, ix.Name)
			continue
		}
		out = append(out, pgStatement{fmt.Sprintf("index %q", ix.Name), def})
	}
	return append(out, pgStatement{"statistics", "ANALYZE " + rel})
}

// missing returns the first of cols that is not an output column of t.
func (t *pgSinkTable) missing(cols []string) string {
	for _, c := range cols {
		if !slices.ContainsFunc(t.cols, func(o pgSinkColumn) bool { return o.name == c }) {
			return c
		}
	}
	return ""
}

// addForeignKeys adds t's foreign keys whose referenced table is in the
// output with all the columns involved; adding one validates every row.
func (s *PostgresSink) addForeignKeys(ctx context.Context, t *pgSinkTable) error {
	for _, fk := range t.info.Constraints.ForeignKeys {
		ref := s.findTable(fk.RefTable)
		if ref == nil {
			s.note(&t.fkNotes, "table %q: foreign key %q not recreated: table %q is not in the output",
				t.info.Name, fk.Name, fk.RefTable)
			continue
		}
		miss := t.missing(fk.Columns)
		if miss == "" {
			miss = ref.missing(fk.RefColumns)
		}
		if miss != "" {
			s.note(&t.fkNotes, "table %q: foreign key %q not recreated: column %q is not in the output",
				t.info.Name, fk.Name, miss)
			continue
		}
		sql := fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s (%s)",
			s.stagingRel(t.rel), pgconn.Quote(fk.Name), pgconn.QuoteList(fk.Columns),
			s.stagingRel(ref.rel), pgconn.QuoteList(fk.RefColumns))
		if _, err := s.control.Exec(ctx, sql); err != nil {
			return fmt.Errorf("building foreign key %q of table %q: %w", fk.Name, t.info.Name,
				pgconn.Explain(err, s.control.PgConn()))
		}
	}
	return nil
}

// findTable finds an output table by the name a foreign key gives it: the
// same name, or else the same base name when only one table has it.
func (s *PostgresSink) findTable(name string) *pgSinkTable {
	var found *pgSinkTable
	n := 0
	for _, t := range s.tables {
		if t.info.Name == name {
			return t
		}
		if t.rel == pgconn.BaseName(name) {
			found, n = t, n+1
		}
	}
	if n == 1 {
		return found
	}
	return nil
}

// pgRewriteIndex points a pg_get_indexdef statement at rel:
// "CREATE INDEX ix ON public.t USING btree (a)" becomes
// "CREATE INDEX ix ON <rel> USING btree (a)".
func pgRewriteIndex(def, rel string) (string, bool) {
	rest, ok := strings.CutPrefix(def, "CREATE ")
	if !ok {
		return "", false
	}
	head := "CREATE "
	if r, ok := strings.CutPrefix(rest, "UNIQUE "); ok {
		head, rest = head+"UNIQUE ", r
	}
	if rest, ok = strings.CutPrefix(rest, "INDEX "); !ok {
		return "", false
	}
	name, rest := pgIdentPrefix(rest)
	if rest, ok = strings.CutPrefix(rest, " ON "); !ok || name == "" {
		return "", false
	}
	only := ""
	if r, ok := strings.CutPrefix(rest, "ONLY "); ok {
		only, rest = "ONLY ", r
	}
	for {
		var part string
		if part, rest = pgIdentPrefix(rest); part == "" {
			return "", false
		}
		if r, ok := strings.CutPrefix(rest, "."); ok {
			rest = r
			continue
		}
		break
	}
	if !strings.HasPrefix(rest, " USING ") {
		return "", false
	}
	return head + "INDEX " + name + " ON " + only + rel + rest, true
}

// pgIdentPrefix splits a leading SQL identifier, quoted or not, from s.
func pgIdentPrefix(s string) (ident, rest string) {
	if strings.HasPrefix(s, `"`) {
		for i := 1; i < len(s); i++ {
			if s[i] != '"' {
				continue
			}
			if i+1 < len(s) && s[i+1] == '"' {
				i++
				continue
			}
			return s[:i+1], s[i+1:]
		}
		return "", s
	}
	i := strings.IndexAny(s, " .")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

package sinks

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/deid/deid/internal/pgconn"
)

// swap replaces the target's tables with the staging ones in one
// transaction: check that nothing outside the run depends on the old
// tables, drop them (without CASCADE), move the new ones in, grant them
// the old ones' privileges, drop the staging schema.
func (s *PostgresSink) swap(ctx context.Context) error {
	c := s.control
	err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, 0)", pgLockSpace+1); err != nil {
			return err
		}
		if err := s.ensureTarget(ctx, tx); err != nil {
			return err
		}
		old, err := s.oldTables(ctx, tx)
		if err != nil {
			return err
		}
		grants, err := s.checkAndGrants(ctx, tx, old)
		if err != nil {
			return err
		}
		if len(old) > 0 {
			var rels []string
			for _, o := range old {
				rels = append(rels, s.targetRel(o.rel))
			}
			if _, err := tx.Exec(ctx, "DROP TABLE "+strings.Join(rels, ", ")); err != nil {
				return err
			}
		}
		for _, t := range s.tables {
			_, err := tx.Exec(ctx, "ALTER TABLE "+s.stagingRel(t.rel)+" SET SCHEMA "+
				pgconn.Quote(s.opts.TargetSchema))
			if err != nil {
				return err
			}
		}
		for _, g := range grants {
			if _, err := tx.Exec(ctx, g); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, "DROP SCHEMA "+pgconn.Quote(s.staging)+" CASCADE")
		return err
	})
	if err != nil {
		var de *pgDependents
		if errors.As(err, &de) {
			return de
		}
		return fmt.Errorf("replacing tables in schema %q: %w", s.opts.TargetSchema,
			pgconn.Explain(err, c.PgConn()))
	}
	return nil
}

func (s *PostgresSink) ensureTarget(ctx context.Context, tx pgx.Tx) error {
	var exists bool
	err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
		s.opts.TargetSchema).Scan(&exists)
	if err == nil && !exists {
		_, err = tx.Exec(ctx, "CREATE SCHEMA "+pgconn.Quote(s.opts.TargetSchema))
	}
	return err
}

// pgOldTable is a target table about to be replaced.
type pgOldTable struct {
	oid, typ uint32
	rel      string
}

func (s *PostgresSink) oldTables(ctx context.Context, tx pgx.Tx) ([]pgOldTable, error) {
	var rels []string
	for _, t := range s.tables {
		rels = append(rels, t.rel)
	}
	rows, err := tx.Query(ctx, `SELECT c.oid, c.reltype, c.relname::text FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = ANY ($2::text[])`, s.opts.TargetSchema, rels)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (pgOldTable, error) {
		var o pgOldTable
		err := r.Scan(&o.oid, &o.typ, &o.rel)
		return o, err
	})
}

// pgDependents is the error of a swap that would drop objects outside the run.
type pgDependents struct {
	schema  string
	objects []string
}

func (e *pgDependents) Error() string {
	return fmt.Sprintf("replacing tables in schema %q: objects outside this run depend on them "+
		"and would be lost: %s; drop them first, or add their tables to the policy",
		e.schema, strings.Join(e.objects, "; "))
}

// checkAndGrants fails when an object other than the old tables' own
// (indexes, constraints, triggers, rules, and foreign keys between them)
// depends on them, and returns the GRANT statements that give the new
// tables the old ones' privileges.
func (s *PostgresSink) checkAndGrants(ctx context.Context, tx pgx.Tx, old []pgOldTable) (
	[]string, error) {
	if len(old) == 0 {
		return nil, nil
	}
	var oids, types []uint32
	for _, o := range old {
		oids, types = append(oids, o.oid), append(types, o.typ)
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid)
		FROM pg_depend d
		WHERE d.deptype = 'n'
		AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY ($1::oid[]))
			OR (d.refclassid = 'pg_type'::regclass AND d.refobjid = ANY ($2::oid[])))
		AND NOT (d.classid = 'pg_class'::regclass AND d.objid = ANY ($1::oid[]))
		AND NOT (d.classid = 'pg_constraint'::regclass AND EXISTS (SELECT 1 FROM pg_constraint o
			WHERE o.oid = d.objid AND o.conrelid = ANY ($1::oid[])))
		AND NOT (d.classid = 'pg_rewrite'::regclass AND EXISTS (SELECT 1 FROM pg_rewrite o
			WHERE o.oid = d.objid AND o.ev_class = ANY ($1::oid[])))
		AND NOT (d.classid = 'pg_trigger'::regclass AND EXISTS (SELECT 1 FROM pg_trigger o
			WHERE o.oid = d.objid AND o.tgrelid = ANY ($1::oid[])))
		AND NOT (d.classid = 'pg_attrdef'::regclass AND EXISTS (SELECT 1 FROM pg_attrdef o
			WHERE o.oid = d.objid AND o.adrelid = ANY ($1::oid[])))
		AND NOT (d.classid = 'pg_policy'::regclass AND EXISTS (SELECT 1 FROM pg_policy o
			WHERE o.oid = d.objid AND o.polrelid = ANY ($1::oid[])))
		ORDER BY 1`, oids, types)
	if err != nil {
		return nil, err
	}
	deps, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	if len(deps) > 0 {
		return nil, &pgDependents{schema: s.opts.TargetSchema, objects: deps}
	}

	rows, err = tx.Query(ctx, `SELECT c.relname::text, a.privilege_type,
		coalesce(quote_ident(r.rolname), 'PUBLIC'), a.is_grantable
		FROM pg_class c, aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
		WHERE c.oid = ANY ($1::oid[]) AND a.grantee <> c.relowner
		ORDER BY 1, 3, 2`, oids)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var rel, priv, grantee string
		var grantable bool
		if err := r.Scan(&rel, &priv, &grantee, &grantable); err != nil {
			return "", err
		}
		g := "GRANT " + priv + " ON " + s.targetRel(rel) + " TO " + grantee
		if grantable {
			g += " WITH GRANT OPTION"
		}
		return g, nil
	})
}

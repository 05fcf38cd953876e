package sources

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5"

	"github.com/deid/deid/internal/pgconn"
)

// pgTable is a table as the catalog describes it.
type pgTable struct {
	info      Table
	oid       uint32
	rel       string // quoted, schema-qualified
	relkind   string // pg_class.relkind: r, p, v, m or f
	reltuples float64
	cols      []pgColumn
	pk        []string
	intPK     bool // a primary key of one smallint, integer or bigint column
}

// pgColumn is one column and how it comes over the wire.
type pgColumn struct {
	name string
	typ  pgconn.Type
	text bool // read in text format (numeric kept as text)
}

// pgLoadCatalog describes the named tables (or every table of the search
// path) inside the snapshot's transaction.
func pgLoadCatalog(ctx context.Context, conn *pgx.Conn, names []string, where string) (
	map[string]*pgTable, error) {
	var (
		tables []*pgTable
		err    error
	)
	if len(names) == 0 {
		tables, err = pgListTables(ctx, conn)
	} else {
		tables, err = pgFindTables(ctx, conn, names)
	}
	if err != nil {
		return nil, err
	}

	byOID := make(map[uint32]string, len(tables))
	for _, t := range tables {
		byOID[t.oid] = t.info.Name
	}
	var problems []error
	out := make(map[string]*pgTable, len(tables))
	for _, t := range tables {
		t.info.Location = fmt.Sprintf("%s in %s", t.rel, where)
		if err := pgLoadColumns(ctx, conn, t); err != nil {
			problems = append(problems, err)
			continue
		}
		if err := pgLoadConstraints(ctx, conn, t, byOID); err != nil {
			return nil, err
		}
		out[t.info.Name] = t
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return out, nil
}

const pgRelQuery = `SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text,
	c.reltuples::float8, pg_table_is_visible(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace `

// pgFindTables resolves names as SQL would: a qualified name in its schema,
// a bare one through the search path.
func pgFindTables(ctx context.Context, conn *pgx.Conn, names []string) ([]*pgTable, error) {
	var tables []*pgTable
	var missing []string
	for _, name := range names {
		parts, _ := pgconn.SplitName(name)
		schema, rel := "", parts[len(parts)-1]
		if len(parts) == 2 {
			schema = parts[0]
		}
		rows, err := conn.Query(ctx, pgRelQuery+`WHERE c.relname = $2::text
			AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
			AND CASE WHEN $1::text = '' THEN pg_table_is_visible(c.oid) ELSE n.nspname = $1::text END`,
			schema, rel)
		if err != nil {
			return nil, pgCatalogErr(conn, "catalog", err)
		}
		found, err := pgScanTables(rows, name)
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			missing = append(missing, fmt.Sprintf("%q", name))
			continue
		}
		tables = append(tables, found[0])
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("postgres source: tables not found: %s", strings.Join(missing, ", "))
	}
	return tables, nil
}

// pgListTables lists the tables of the schemas in the search path.
func pgListTables(ctx context.Context, conn *pgx.Conn) ([]*pgTable, error) {
	rows, err := conn.Query(ctx, pgRelQuery+`WHERE c.relkind IN ('r', 'p')
		AND NOT c.relispartition AND n.nspname = ANY (current_schemas(false))
		ORDER BY n.nspname, c.relname`)
	if err != nil {
		return nil, pgCatalogErr(conn, "catalog", err)
	}
	return pgScanTables(rows, "")
}

// pgScanTables reads pgRelQuery rows; name, when set, is what the policy
// calls the table, else it is the relation's name, qualified when it is
// not visible through the search path.
func pgScanTables(rows pgx.Rows, name string) ([]*pgTable, error) {
	defer rows.Close()
	var out []*pgTable
	for rows.Next() {
		t := &pgTable{}
		var schema, rel string
		var visible bool
		if err := rows.Scan(&t.oid, &schema, &rel, &t.relkind, &t.reltuples, &visible); err != nil {
			return nil, fmt.Errorf("reading the catalog: %w", pgconn.Reduce(err))
		}
		t.rel = pgconn.Quote(schema) + "." + pgconn.Quote(rel)
		t.info.Name = name
		if name == "" {
			t.info.Name = pgconn.QuoteIfNeeded(rel)
			if !visible {
				t.info.Name = pgconn.QuoteIfNeeded(schema) + "." + t.info.Name
			}
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", pgconn.Reduce(err))
	}
	return out, nil
}

// pgLoadColumns reads the columns in ordinal order. A domain is read as
// its base type, which is also the type recorded for a sink to create.
func pgLoadColumns(ctx context.Context, conn *pgx.Conn, t *pgTable) error {
	rows, err := conn.Query(ctx, `SELECT a.attname::text, a.attnotnull OR t.typnotnull,
		CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod)
			ELSE format_type(a.atttypid, a.atttypmod) END
		FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
		WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, t.oid)
	if err != nil {
		return pgCatalogErr(conn, "columns of "+strconv.Quote(t.info.Name), err)
	}
	defer rows.Close()

	var fields []arrow.Field
	var problems []error
	for rows.Next() {
		var name, sqlType string
		var notNull bool
		if err := rows.Scan(&name, &notNull, &sqlType); err != nil {
			return pgCatalogErr(conn, "columns of "+strconv.Quote(t.info.Name), err)
		}
		typ, ok := pgconn.ParseType(sqlType)
		if !ok {
			problems = append(problems, fmt.Errorf("table %q column %q: type %s is not supported "+
				"(deid reads integers, numeric, real, double precision, text types, date, "+
				"timestamps, boolean, uuid, bytea, json and jsonb)", t.info.Name, name, sqlType))
			continue
		}
		t.cols = append(t.cols, pgColumn{name: name, typ: typ,
			text: typ.Kind == pgconn.KindNumeric && !typ.Decimal()})
		fields = append(fields, arrow.Field{
			Name: name, Type: typ.Arrow(), Nullable: !notNull,
			Metadata: arrow.NewMetadata([]string{MetaSourceType}, []string{sqlType}),
		})
	}
	if err := rows.Err(); err != nil {
		return pgCatalogErr(conn, "columns of "+strconv.Quote(t.info.Name), err)
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	t.info.Schema = arrow.NewSchema(fields, nil)
	return nil
}

// pgLoadConstraints fills in keys and secondary indexes. byOID names the
// tables of this source, so that a foreign key names its target the way the
// policy does.
func pgLoadConstraints(ctx context.Context, conn *pgx.Conn, t *pgTable,
	byOID map[uint32]string) error {
	rows, err := conn.Query(ctx, `SELECT con.conname::text, con.contype::text,
		con.confrelid, coalesce(con.confrelid::regclass::text, ''),
		ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
			JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
		ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
			JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)
		FROM pg_constraint con
		WHERE con.conrelid = $1 AND con.contype IN ('p', 'u', 'f')
		ORDER BY con.contype, con.conname`, t.oid)
	if err != nil {
		return pgCatalogErr(conn, "constraints of "+strconv.Quote(t.info.Name), err)
	}
	c := &t.info.Constraints
	for rows.Next() {
		var name, kind, refName string
		var refOID uint32
		var cols, refCols []string
		if err := rows.Scan(&name, &kind, &refOID, &refName, &cols, &refCols); err != nil {
			rows.Close()
			return pgCatalogErr(conn, "constraints of "+strconv.Quote(t.info.Name), err)
		}
		switch kind {
		case "p":
			c.PrimaryKey = cols
		case "u":
			c.Unique = append(c.Unique, cols)
		case "f":
			if n, ok := byOID[refOID]; ok {
				refName = n
			}
			c.ForeignKeys = append(c.ForeignKeys, ForeignKey{
				Name: name, Columns: cols, RefTable: refName, RefColumns: refCols})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return pgCatalogErr(conn, "constraints of "+strconv.Quote(t.info.Name), err)
	}
	t.pk = c.PrimaryKey
	if len(t.pk) == 1 {
		for _, col := range t.cols {
			if col.name == t.pk[0] {
				k := col.typ.Kind
				t.intPK = k == pgconn.KindInt2 || k == pgconn.KindInt4 || k == pgconn.KindInt8
			}
		}
	}
	return pgLoadIndexes(ctx, conn, t)
}

// pgLoadIndexes reads the valid secondary indexes: those that no primary
// key, unique or exclusion constraint owns. Columns lists every column an
// index uses: its key columns in order, then those only in expressions, the
// predicate or INCLUDE.
func pgLoadIndexes(ctx context.Context, conn *pgx.Conn, t *pgTable) error {
	rows, err := conn.Query(ctx, `SELECT ic.relname::text, i.indisunique,
		pg_get_indexdef(i.indexrelid),
		ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o),
		ARRAY(SELECT a.attname::text FROM pg_depend d
			JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
			WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
			AND d.refclassid = 'pg_class'::regclass AND d.refobjid = i.indrelid
			AND d.refobjsubid > 0 ORDER BY a.attnum)
		FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
		WHERE i.indrelid = $1 AND i.indisvalid AND NOT EXISTS (
			SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
			AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))
		ORDER BY ic.relname`, t.oid)
	if err != nil {
		return pgCatalogErr(conn, "indexes of "+strconv.Quote(t.info.Name), err)
	}
	defer rows.Close()
	for rows.Next() {
		var ix Index
		var more []string
		if err := rows.Scan(&ix.Name, &ix.Unique, &ix.Definition, &ix.Columns, &more); err != nil {
			return pgCatalogErr(conn, "indexes of "+strconv.Quote(t.info.Name), err)
		}
		for _, m := range more {
			if !slices.Contains(ix.Columns, m) {
				ix.Columns = append(ix.Columns, m)
			}
		}
		t.info.Constraints.Indexes = append(t.info.Constraints.Indexes, ix)
	}
	if err := rows.Err(); err != nil {
		return pgCatalogErr(conn, "indexes of "+strconv.Quote(t.info.Name), err)
	}
	return nil
}

// pgCatalogErr describes an error reading the catalog about what.
func pgCatalogErr(conn *pgx.Conn, what string, err error) error {
	return fmt.Errorf("reading the %s: %w", what, pgconn.Explain(err, conn.PgConn()))
}

package sinks

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5"

	"github.com/deid/deid/internal/pgtest"
	"github.com/deid/deid/sources"
)

func TestPgRewriteIndex(t *testing.T) {
	const rel = `"deid_staging_1"."t"`
	tests := []struct{ in, want string }{
		{"CREATE INDEX ix ON public.t USING btree (a)",
			`CREATE INDEX ix ON "deid_staging_1"."t" USING btree (a)`},
		{"CREATE UNIQUE INDEX ix ON s.t USING btree (lower(a)) WHERE (b IS NOT NULL)",
			`CREATE UNIQUE INDEX ix ON "deid_staging_1"."t" USING btree (lower(a)) WHERE (b IS NOT NULL)`},
		{`CREATE INDEX "odd ON name" ON "My Schema"."T.x" USING gin (doc)`,
			`CREATE INDEX "odd ON name" ON "deid_staging_1"."t" USING gin (doc)`},
		{"CREATE INDEX ix ON ONLY public.p USING btree (a)",
			`CREATE INDEX ix ON ONLY "deid_staging_1"."t" USING btree (a)`},
		{"DROP TABLE x", ""},
		{"CREATE INDEX ix ON public.t", ""},
	}
	for _, tt := range tests {
		got, ok := pgRewriteIndex(tt.in, rel)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("pgRewriteIndex(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestPgColumnType(t *testing.T) {
	meta := func(s string) arrow.Metadata {
		return arrow.NewMetadata([]string{sources.MetaSourceType}, []string{s})
	}
	tests := []struct {
		name string
		f    arrow.Field
		want string
	}{
		{"source type kept", arrow.Field{Type: arrow.BinaryTypes.String,
			Metadata: meta("character varying(40)")}, "character varying(40)"},
		{"uuid kept for text", arrow.Field{Type: arrow.BinaryTypes.String,
			Metadata: meta("uuid")}, "uuid"},
		{"type changed", arrow.Field{Type: arrow.PrimitiveTypes.Int64, Metadata: meta("date")}, "bigint"},
		{"no metadata", arrow.Field{Type: arrow.FixedWidthTypes.Date32}, "date"},
		{"unsafe metadata", arrow.Field{Type: arrow.BinaryTypes.String,
			Metadata: meta("text; DROP TABLE x")}, "text"},
		{"numeric kept", arrow.Field{Type: &arrow.Decimal128Type{Precision: 10, Scale: 2},
			Metadata: meta("numeric(10,2)")}, "numeric(10,2)"},
		{"numeric widened", arrow.Field{Type: &arrow.Decimal128Type{Precision: 12, Scale: 2},
			Metadata: meta("numeric(10,2)")}, "numeric(12,2)"},
	}
	for _, tt := range tests {
		got, err := pgColumnType(tt.f)
		if err != nil || got.String() != tt.want {
			t.Errorf("%s: pgColumnType = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := pgColumnType(arrow.Field{Type: arrow.ListOf(arrow.BinaryTypes.String)}); err == nil {
		t.Error("pgColumnType accepted a list")
	}
}

// pgCopy moves tables from the database at from into a new sink on to,
// the way the engine does, and returns the sink, committed.
func pgCopy(t *testing.T, from, to string, tables []string, o PostgresSinkOptions) *PostgresSink {
	t.Helper()
	sink, err := pgTryCopy(t, from, to, tables, o, nil)
	if err != nil {
		t.Fatalf("copying %v: %v", tables, err)
	}
	return sink
}

// pgTryCopy is pgCopy returning the error; edit, when set, may change the
// output table before Create and each batch before Write.
func pgTryCopy(t *testing.T, from, to string, tables []string, o PostgresSinkOptions,
	edit func(tb *sources.Table, rec arrow.RecordBatch) arrow.RecordBatch) (*PostgresSink, error) {
	t.Helper()
	ctx := context.Background()
	src, err := sources.NewPostgres(ctx, from, sources.PostgresOptions{Tables: tables})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	infos, err := src.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := NewPostgresSink(ctx, to, o)
	if err != nil {
		t.Fatal(err)
	}
	err = func() error {
		for _, info := range infos {
			if edit != nil {
				edit(&info, nil)
			}
			w, err := sink.Create(ctx, info)
			if err != nil {
				return err
			}
			r, err := src.Open(ctx, info.Name, sources.ReadOptions{BatchRows: 1000})
			if err != nil {
				return err
			}
			for {
				rec, err := r.Next(ctx)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					r.Close()
					return err
				}
				if edit != nil {
					rec = edit(&info, rec)
				}
				err = w.Write(ctx, rec)
				rec.Release()
				if err != nil {
					r.Close()
					return err
				}
			}
			r.Close()
			if err := w.Close(ctx); err != nil {
				return err
			}
		}
		return sink.Commit(ctx)
	}()
	if err != nil {
		if aerr := sink.Abort(); aerr != nil {
			t.Errorf("Abort: %v", aerr)
		}
		return sink, err
	}
	return sink, nil
}

// pgQuery returns the rows of a query, each as PostgreSQL prints a row:
// "(1,abc,)" (a NULL is empty).
func pgQuery(t *testing.T, url, sql string) []string {
	t.Helper()
	conn := pgtest.Connect(t, url)
	rows, err := conn.Query(context.Background(), "SELECT q::text FROM ("+sql+") q")
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	return out
}

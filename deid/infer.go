package deid

import (
	"context"
	"errors"
	"io"
	"maps"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/deid/deid/internal/dataerr"
	"github.com/deid/deid/safeharbor"
	"github.com/deid/deid/schemas"
	"github.com/deid/deid/sources"
)

// DefaultInferRows is how many rows of each table type inference reads.
const DefaultInferRows = 10000

// inferTypes reads the first rows of every table with text columns whose
// rule keeps their meaning (keep, year, top-code) and no declared type, and
// guesses a type for each with sources.InferType. Token, surrogate and ZIP
// columns are never inferred, so their output does not depend on the sink.
// The result maps table and column to the inferred type.
func inferTypes(ctx context.Context, src sources.Source, p *schemas.Policy,
	tables []sources.Table, env Env, rows int) (map[string]map[string]arrow.DataType, error) {
	plan, err := NewPlan(p, tables, env)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]arrow.DataType{}
	for _, tp := range plan.Tables {
		var cands []*ColumnPlan
		for _, c := range tp.Columns {
			if c.InType.ID() == arrow.STRING && tp.Types[c.Name] == nil && inferable(c.Action) {
				cands = append(cands, c)
			}
		}
		if len(cands) == 0 {
			continue
		}
		types, err := sampleTypes(ctx, src, tp, cands, rows)
		if err != nil {
			return nil, err
		}
		out[tp.Name] = types
	}
	return out, nil
}

func inferable(a safeharbor.Action) bool {
	return a == safeharbor.Keep || a == safeharbor.Year || a == safeharbor.TopCode
}

func sampleTypes(ctx context.Context, src sources.Source, tp *TablePlan, cands []*ColumnPlan,
	rows int) (map[string]arrow.DataType, error) {
	r, err := src.Open(ctx, tp.Name, sources.ReadOptions{BatchRows: rows, Types: tp.Types})
	if err != nil {
		return nil, withTable(err, tp.Name)
	}
	defer r.Close()
	rec, err := r.Next(ctx)
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, withTable(err, tp.Name)
	}
	defer rec.Release()

	types := map[string]arrow.DataType{}
	for _, c := range cands {
		dt := sources.InferType(rec.Column(c.Index).(*array.String))
		if fits(c.Action, dt) {
			types[c.Name] = dt
		}
	}
	return types, nil
}

// fits reports whether an inferred type suits the action: dates for the
// year rule, numbers for top-coding, anything for keep.
func fits(a safeharbor.Action, dt arrow.DataType) bool {
	switch a {
	case safeharbor.Year:
		return dt.ID() == arrow.DATE32 || dt.ID() == arrow.TIMESTAMP
	case safeharbor.TopCode:
		return dt.ID() == arrow.INT64 || dt.ID() == arrow.FLOAT64
	}
	return dt.ID() != arrow.STRING
}

// inferenceHint adds to a type error in an inferred column what to do
// about it.
func inferenceHint(err error, tp *TablePlan) error {
	var de *dataerr.Error
	if errors.As(err, &de) && de.Rule == "type" && tp.inferred[de.Column] {
		de.Reason += " (the type was inferred from the first rows; declare `type: string`" +
			" or the right type for this column in the policy)"
	}
	return err
}

// ReadTypes returns, by table and column, the types Run reads the tables of
// src with when Options.InferTypes is set: the types the policy declares and
// those inferred from the first rows rows. Programs that must read a source
// exactly as a run would, such as a benchmark's floor, use it.
func ReadTypes(ctx context.Context, src sources.Source, p *schemas.Policy, env Env,
	rows int) (map[string]map[string]arrow.DataType, error) {
	tables, err := src.Tables(ctx)
	if err != nil {
		return nil, err
	}
	if env.Inferred, err = inferTypes(ctx, src, p, tables, env, rows); err != nil {
		return nil, err
	}
	plan, err := NewPlan(p, tables, env)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]arrow.DataType{}
	for _, tp := range plan.Tables {
		out[tp.Name] = maps.Clone(tp.Types)
	}
	return out, nil
}

package verify

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/deid/deid/safeharbor"
	"github.com/deid/deid/sources"
)

// outCol is one column of an output table as the cell checks see it.
type outCol struct {
	c       *colRun
	numeric bool // the output column holds numbers
	// For a birth date: the other date columns of the output, those the
	// policy lists as references first, and how many of them it lists.
	refs   []int
	listed int
}

// readOutput checks every cell of one output table.
func (v *verifier) readOutput(ctx context.Context, out sources.Source, t sources.Table) error {
	tr := v.tables[t.Name]
	if tr == nil {
		v.fs.add(checkSchema, t.Name, "", 0, "output table that the policy does not name")
		tr = &tableRun{name: t.Name, cols: map[string]*colRun{}}
		v.tables[t.Name] = tr
		v.order = append(v.order, t.Name)
	}
	tr.outSeen = true
	cols := v.outColumns(tr, t.Schema)
	kq := v.newKAnon(tr, t.Schema)

	err := eachBatch(ctx, out, t.Name, "output", func(rec arrow.RecordBatch, first int64) {
		for j, oc := range cols {
			a := rec.Column(j)
			for i := 0; i < a.Len(); i++ {
				if a.IsNull(i) {
					continue
				}
				v.outputCell(oc, rec, i, first+int64(i), cellText(a, i))
			}
		}
		if kq != nil {
			kq.add(rec)
		}
		tr.outRows += rec.NumRows()
	})
	if err != nil {
		return err
	}
	v.finishTable(tr)
	if kq != nil {
		v.kanon = append(v.kanon, kq.result())
		if v.o.EnforceK && kq.recordsBelow > 0 {
			v.fs.addN(checkKAnon, tr.name, "", 0, kq.recordsBelow, fmt.Sprintf(
				"records in equivalence classes smaller than k=%d", v.o.K))
		}
	}
	return nil
}

// outColumns matches the output schema to the policy, reporting columns the
// policy drops or does not know.
func (v *verifier) outColumns(tr *tableRun, s *arrow.Schema) []*outCol {
	index := map[string]int{}
	for i, f := range s.Fields() {
		index[f.Name] = i
	}
	cols := make([]*outCol, len(s.Fields()))
	for i, f := range s.Fields() {
		c := tr.cols[f.Name]
		switch {
		case c == nil:
			v.fs.add(checkSchema, tr.name, f.Name, 0, "output column that the policy does not name")
			c = &colRun{table: tr.name, name: f.Name, action: safeharbor.Keep}
			tr.cols[f.Name] = c
		case c.action == safeharbor.Drop:
			v.fs.add(checkSchema, tr.name, f.Name, 0, "column the policy drops is in the output")
		}
		c.present = true
		oc := &outCol{c: c, numeric: numericType(f.Type) || c.intKey ||
			c.rule != nil && c.rule.Type == "float64"}
		if c.kind == safeharbor.BirthDate {
			oc.refs, oc.listed = birthRefColumns(tr, s, i)
		}
		cols[i] = oc
	}
	return cols
}

// birthRefColumns finds the output columns a birth year in column bi is
// judged against, as the run does: every other date column of the output,
// whether the policy lists it as a reference or not, since each is a
// released year for the person; those it lists come first.
func birthRefColumns(tr *tableRun, s *arrow.Schema, bi int) (refs []int, listed int) {
	birth := tr.cols[s.Field(bi).Name]
	isListed := func(name string) bool {
		return birth.rule != nil && slices.Contains(birth.rule.Reference, name)
	}
	var others []int
	for j, f := range s.Fields() {
		c := tr.cols[f.Name]
		switch {
		case j == bi || c == nil || !safeharbor.IsDate(c.kind):
		case isListed(f.Name):
			refs = append(refs, j)
		default:
			others = append(others, j)
		}
	}
	return append(refs, others...), len(refs)
}

func numericType(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16,
		arrow.UINT32, arrow.UINT64, arrow.FLOAT32, arrow.FLOAT64:
		return true
	}
	return false
}

// outputCell runs the checks that apply to one non-null output cell.
func (v *verifier) outputCell(oc *outCol, rec arrow.RecordBatch, i int, row int64, s string) {
	c := oc.c
	add := func(h hit) { v.fs.add(h.check, c.table, c.name, row, h.reason) }

	switch c.action {
	case safeharbor.Null:
		add(hit{checkNull, "value in a column the policy nulls"})
		return
	case safeharbor.Drop:
		v.residual(c, row, s, true)
		return
	case safeharbor.Token:
		v.tokenCell(c, row, s, oc.numeric)
		return
	case safeharbor.Surrogate:
		if isSurrogate(c.fake, s) {
			v.sameAsSource(c, row, s)
			return
		}
		add(hit{checkSurrogate, "not a surrogate of the column's format"})
	case safeharbor.Year:
		if year, bucket, text, ok := yearCell(s); ok {
			if c.kind == safeharbor.BirthDate && !bucket {
				v.birthYear(oc, rec, i, row, year, text)
			}
			return
		}
		if _, ok := safeharbor.ParseDate(s); ok {
			add(hit{checkDate, "date with a month or day in a year-only column"})
			return
		}
		add(hit{checkYear, "not a year"})
	case safeharbor.Zip3:
		if h, ok := zipCell(s, v.zip); ok {
			add(h)
		}
		return
	case safeharbor.TopCode:
		if h, ok := ageCell(s, oc.numeric); ok {
			add(h)
		}
		return
	case safeharbor.Keep:
		if c.outVals != nil {
			c.outVals.add(v.oh.of(s))
		}
		if oc.numeric {
			return // kept numbers: nothing to look for in a measurement
		}
	}
	v.residual(c, row, s, c.action == safeharbor.Keep)
}

// residual looks for identifiers in a cell and for source values in it.
// kept is set for columns the policy keeps: a whole-cell date there is a
// date the policy says is not about a person, which is noted, not found.
func (v *verifier) residual(c *colRun, row int64, s string, kept bool) {
	dates := !v.lds
	if kept && dates {
		if t, ok := safeharbor.ParseDate(s); ok {
			if !janFirst(t) || c.kind == "" {
				c.keptDates++
			}
			dates = false
		}
	}
	if h, ok := residue(s, dates, !v.lds); ok {
		v.fs.add(h.check, c.table, c.name, row, h.reason)
		return
	}
	if v.leaked(s) {
		v.fs.add(checkSource, c.table, c.name, row,
			"holds an identifier value of the source, whole or in its text")
	}
}

// leaked reports whether a cell, or a run of up to maxNGram of its words,
// is the fingerprint of a source identifier value.
func (v *verifier) leaked(s string) bool {
	if v.leaks.len() == 0 {
		return false
	}
	ws := words(s)
	if h, ok := v.fp.ofNormal(ws); ok && v.leaks.has(h) {
		return true
	}
	if len(ws) < 2 {
		return false
	}
	for n := 1; n <= maxNGram && n < len(ws); n++ {
		for i := 0; i+n <= len(ws); i++ {
			if h, ok := v.fp.ofNormal(ws[i : i+n]); ok && v.leaks.has(h) {
				return true
			}
		}
	}
	return false
}

// tokenCell checks a token: its form, that it is not its own source value,
// and collects it for the uniqueness and join checks.
func (v *verifier) tokenCell(c *colRun, row int64, s string, numeric bool) {
	if !numeric && !isToken(s) {
		v.fs.add(checkToken, c.table, c.name, row, "not a token")
		v.residual(c, row, s, false)
	}
	v.sameAsSource(c, row, s)
	if c.outVals != nil && !c.outVals.add(v.oh.of(c.canon(s))) && !c.outDup {
		c.outDup, c.outDupRow = true, row
	}
}

// sameAsSource counts cells equal to the source cell of the same row.
func (v *verifier) sameAsSource(c *colRun, row int64, s string) {
	if c.sameRow != nil && c.sameRow.has(v.fp.ofRow(row, c.canon(s))) {
		c.sameHits++
		if len(c.sameRows) < maxRows {
			c.sameRows = append(c.sameRows, row)
		}
	}
}

// birthYear checks that a birth year implying an age of 90 or more at the
// row's latest other date (and the as-of date, unless a listed reference
// has a date in the row) was bucketed, as the run must have done.
// Text marks the bucket "<=YEAR"; a typed column writes it as January 1 of
// the edge year itself, so there only earlier years are findings.
func (v *verifier) birthYear(oc *outCol, rec arrow.RecordBatch, i int, row int64, year int,
	text bool) {
	ref := safeharbor.ReferenceYear(len(oc.refs), oc.listed, func(k int) (int, bool) {
		a := rec.Column(oc.refs[k])
		if a.IsNull(i) {
			return 0, false
		}
		y, _, _, ok := yearCell(cellText(a, i))
		return y, ok
	}, v.asOf)
	edge := ref - safeharbor.AgeCap
	if year < edge || year == edge && text {
		v.fs.add(checkBirthYear, oc.c.table, oc.c.name, row,
			"birth year implies an age of 90 or more and is not bucketed")
	}
}

// finishTable settles the per-column checks that need the whole table.
func (v *verifier) finishTable(tr *tableRun) {
	aligned := !v.sharded && tr.srcSeen && tr.srcRows == tr.outRows
	for _, name := range slices.Sorted(maps.Keys(tr.cols)) {
		c := tr.cols[name]
		if c.sameHits > 0 {
			switch size := listSize(c.fake); {
			case !aligned:
				v.notes = append(v.notes, fmt.Sprintf("%s.%s: rows of the source and the "+
					"output do not align, so cells were not compared row by row", tr.name, name))
			case size > 0 && float64(c.sameHits) <= 3+5*float64(tr.outRows)/float64(size):
				v.notes = append(v.notes, fmt.Sprintf("%s.%s: %d surrogates equal the "+
					"original value by chance (a list of %d); no more than chance explains",
					tr.name, name, c.sameHits, size))
			default:
				f := &Finding{Check: checkSameRow, Table: tr.name, Column: name,
					Count: c.sameHits, Rows: c.sameRows,
					Reason: "equal to the source value of the same row: not replaced"}
				v.fs.byKey[checkSameRow+"\x00"+tr.name+"\x00"+name] = f
			}
		}
		if c.outDup && c.srcVals != nil && !c.srcDup {
			v.fs.add(checkUnique, tr.name, name, c.outDupRow,
				"values unique in the source repeat in the output")
		}
		if c.keptDates > 0 {
			v.notes = append(v.notes, fmt.Sprintf("%s.%s is kept and holds %d full dates; "+
				"the policy says it is not about a person", tr.name, name, c.keptDates))
		}
	}
}

// cellText formats row i of a as text.
func cellText(a arrow.Array, i int) string {
	switch a := a.(type) {
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int16:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'f', -1, 64)
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(i)), 'f', -1, 32)
	case *array.Boolean:
		return strconv.FormatBool(a.Value(i))
	case *array.Date32:
		return a.Value(i).ToTime().Format(time.DateOnly)
	case *array.Date64:
		return a.Value(i).ToTime().Format(time.DateOnly)
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).Format("2006-01-02T15:04:05.999999999")
	}
	return strings.TrimSpace(a.ValueStr(i))
}

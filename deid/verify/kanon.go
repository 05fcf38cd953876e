package verify

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/safeharbor"
)

// kanonTable counts the equivalence classes of one output table: the rows
// that agree on every quasi-identifier. Classes are kept as hashes of the
// released values with their sizes, so memory grows with the number of
// classes, not of rows.
type kanonTable struct {
	table        string
	names        []string
	cols         []int
	k            int
	oh           outHash
	counts       map[uint64]int64
	records      int64
	recordsBelow int64
	buf          strings.Builder
}

// quasiAliases maps the names a user may give a quasi-identifier to the
// policy kind that finds it.
var quasiAliases = map[string]safeharbor.Kind{
	"zip": safeharbor.Zip, "zip3": safeharbor.Zip, "zipcode": safeharbor.Zip,
	"dob": safeharbor.BirthDate, "birth-year": safeharbor.BirthDate,
	"birth-date": safeharbor.BirthDate, "birthdate": safeharbor.BirthDate,
	"yob": safeharbor.BirthDate,
}

// sexNames are the column names the quasi-identifier "sex" finds.
var sexNames = map[string]bool{"sex": true, "gender": true, "sex_at_birth": true}

// newKAnon resolves the quasi-identifiers for one output table: each entry
// is a column of that name, else the columns of that policy kind (or
// alias), else for "sex" a column named sex or gender. It returns nil when
// the table has none.
func (v *verifier) newKAnon(tr *tableRun, s *arrow.Schema) *kanonTable {
	kq := &kanonTable{table: tr.name, k: v.o.K, oh: v.oh, counts: map[uint64]int64{}}
	taken := map[int]bool{}
	take := func(i int) {
		if !taken[i] {
			taken[i] = true
			kq.cols = append(kq.cols, i)
			kq.names = append(kq.names, s.Field(i).Name)
		}
	}
	for _, q := range v.o.Quasi {
		q = strings.TrimSpace(q)
		lq := strings.ToLower(q)
		found := false
		for i, f := range s.Fields() {
			if strings.EqualFold(f.Name, q) {
				take(i)
				found = true
			}
		}
		if found {
			continue
		}
		kind, ok := quasiAliases[lq]
		if !ok {
			kind = safeharbor.Kind(lq)
		}
		for i, f := range s.Fields() {
			c := tr.cols[f.Name]
			switch {
			case c != nil && c.kind == kind && c.kind != "":
				take(i)
			case lq == "sex" && sexNames[strings.ToLower(f.Name)]:
				take(i)
			}
		}
	}
	if len(kq.cols) == 0 {
		return nil
	}
	return kq
}

// add counts the rows of one batch.
func (kq *kanonTable) add(rec arrow.RecordBatch) {
	for i := 0; i < int(rec.NumRows()); i++ {
		kq.buf.Reset()
		for _, j := range kq.cols {
			a := rec.Column(j)
			if a.IsNull(i) {
				kq.buf.WriteString("\x01")
			} else {
				kq.buf.WriteString(cellText(a, i))
			}
			kq.buf.WriteByte(0)
		}
		kq.counts[kq.oh.of(kq.buf.String())]++
		kq.records++
	}
}

// result summarises the classes.
func (kq *kanonTable) result() KAnonymity {
	r := KAnonymity{Table: kq.table, Quasi: kq.names, K: kq.k, Records: kq.records,
		Classes: int64(len(kq.counts))}
	for _, n := range kq.counts {
		if r.Smallest == 0 || n < r.Smallest {
			r.Smallest = n
		}
		if n < int64(kq.k) {
			r.ClassesBelowK++
			r.RecordsBelowK += n
		}
	}
	kq.recordsBelow = r.RecordsBelowK
	return r
}

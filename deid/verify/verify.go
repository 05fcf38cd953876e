// Package verify checks a de-identified output before it leaves: it scans
// every output cell for identifiers that should not be there, looks for
// every identifier value of the source in the output (by keyed
// fingerprint, never by keeping the values), checks that keys stay unique,
// foreign-key tokens still join and row counts match the run's manifest,
// and reports k-anonymity over quasi-identifiers.
//
// A Report locates each finding by table, column, row and check; it never
// quotes a value, so it can be printed, written as JSON and recorded in
// the manifest.
package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/deid"
	"github.com/deid/deid/safeharbor"
	"github.com/deid/deid/schemas"
	"github.com/deid/deid/sources"
	"github.com/deid/deid/tokenize"
)

// DefaultK is the k of the k-anonymity report.
const DefaultK = 5

// DefaultQuasi are the quasi-identifiers of the k-anonymity report: the
// ZIP3 and birth year columns (found by their policy kinds) and the sex.
var DefaultQuasi = []string{"zip", "birth-date", "sex"}

// Options configures a verification.
type Options struct {
	// Policy is the policy the output was made with. Required.
	Policy *schemas.Policy
	// Key derives the key of the fingerprints; nil means a random key.
	// The fingerprints never leave the process either way.
	Key *tokenize.Key
	// Manifest is the run's manifest, for its row counts, reference date
	// and shard; nil when there is none.
	Manifest *deid.Manifest
	// K is the k of the k-anonymity report; 0 means DefaultK.
	K int
	// Quasi names the quasi-identifiers: a column name, a policy kind, or
	// sex, dob, birth-year, zip3 as aliases. Nil means DefaultQuasi.
	Quasi []string
	// EnforceK makes classes smaller than K a finding.
	EnforceK bool
	// AsOf is the reference date of the 90-or-older rule for rows without
	// a reference date; zero means the manifest's, else the policy's, else
	// today.
	AsOf time.Time
}

// Verify checks the output out of a run over src under o.Policy. Data
// errors and I/O errors are returned; findings are in the report.
//
// It reads the source once, keeping 64-bit keyed fingerprints of its
// identifier values (about 16 bytes per distinct value, so some 16 MiB per
// million), then the output once.
//
// TODO: tables are read one at a time by one goroutine, and every source
// identifier cell costs an HMAC, so verifying takes several times as long
// as the run that made the output.
func Verify(ctx context.Context, src, out sources.Source, o Options) (*Report, error) {
	v, err := newVerifier(o)
	if err != nil {
		return nil, err
	}
	srcTables, err := src.Tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify: listing source tables: %w", err)
	}
	for _, t := range srcTables {
		if err := v.readSource(ctx, src, t); err != nil {
			return nil, err
		}
	}
	v.prepareJoins()
	outTables, err := out.Tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify: listing output tables: %w", err)
	}
	for _, t := range outTables {
		if err := v.readOutput(ctx, out, t); err != nil {
			return nil, err
		}
	}
	return v.report(), nil
}

// verifier holds the state of one verification.
type verifier struct {
	o       Options
	fp      *fingerprinter
	oh      outHash
	leaks   *fpSet // fingerprints of source identifier values
	tables  map[string]*tableRun
	order   []string
	fs      *findings
	notes   []string
	zip     safeharbor.ZipRule
	asOf    int // year
	lds     bool
	sharded bool
	kanon   []KAnonymity
}

// tableRun is what the verifier knows of one table.
type tableRun struct {
	name             string
	policy           *schemas.TablePolicy
	cols             map[string]*colRun
	srcRows, outRows int64
	srcSeen, outSeen bool
	constraints      sources.Constraints
}

// colRun is what the verifier knows of one column.
type colRun struct {
	table, name string
	rule        *schemas.ColumnPolicy
	kind        safeharbor.Kind
	action      safeharbor.Action
	fake        string
	domain      string
	intKey      bool
	// fingerprint: the column's source values are looked for in the output.
	fingerprint bool
	// sameRow holds fingerprints of (row, value) of the source, for
	// surrogate and integer token columns: an output cell equal to its own
	// source cell was not replaced. (A text token that is its own source
	// value fails the token form check instead.)
	sameRow   *fpSet
	sameHits  int64
	sameRows  []int64
	srcVals   *fpSet // distinct source values, for uniqueness and joins
	srcDup    bool
	outVals   *fpSet // distinct output values, likewise
	outDup    bool
	outDupRow int64
	keptDates int64
	present   bool
}

func newVerifier(o Options) (*verifier, error) {
	if o.Policy == nil {
		return nil, errors.New("verify: no policy")
	}
	if o.K <= 0 {
		o.K = DefaultK
	}
	if o.Quasi == nil {
		o.Quasi = DefaultQuasi
	}
	key := o.Key
	if key == nil {
		k, err := tokenize.GenerateKey()
		if err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		key = k
	}
	list, err := safeharbor.ParseZipList(o.Policy.Zip3)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	v := &verifier{o: o, fp: newFingerprinter(key), oh: newOutHash(), leaks: newFPSet(),
		tables: map[string]*tableRun{}, fs: newFindings(), zip: safeharbor.NewZipRule(list),
		lds: o.Policy.Profile == safeharbor.LimitedDataSet}
	v.asOf = v.referenceYear()
	if o.Manifest != nil && o.Manifest.Shard != "" {
		v.sharded = true
	}

	for _, name := range slices.Sorted(maps.Keys(o.Policy.Tables)) {
		tp := o.Policy.Tables[name]
		tr := &tableRun{name: name, policy: tp, cols: map[string]*colRun{}}
		for cname, cp := range tp.Columns {
			tr.cols[cname] = newColRun(name, cname, cp, o.Policy.Profile)
		}
		v.tables[name] = tr
		v.order = append(v.order, name)
	}
	return v, nil
}

func newColRun(table, name string, cp *schemas.ColumnPolicy, p safeharbor.Profile) *colRun {
	c := &colRun{table: table, name: name, rule: cp, kind: cp.PHI, action: cp.Effective(p)}
	if c.action == safeharbor.Token || c.action == safeharbor.Surrogate {
		c.domain = cp.Domain()
	}
	if c.action == safeharbor.Surrogate {
		c.fake = cp.Fake
		if c.fake == "" {
			c.fake = defaultFakes[c.kind]
		}
	}
	c.intKey = cp.Type == "int64" || cp.Type == "int32"
	// Ages stay by design; a date with its month or day is found by its
	// pattern wherever it is, so neither is worth a fingerprint.
	c.fingerprint = c.kind != "" && c.action != safeharbor.Keep && c.kind != safeharbor.Age &&
		!safeharbor.IsDate(c.kind)
	if c.action == safeharbor.Surrogate || c.action == safeharbor.Token && c.intKey {
		c.sameRow = newFPSet()
	}
	if c.action == safeharbor.Token {
		c.srcVals, c.outVals = newFPSet(), newFPSet()
	}
	return c
}

// referenceYear is the year against which birth years without a row
// reference are judged, as the run judged them.
func (v *verifier) referenceYear() int {
	switch {
	case !v.o.AsOf.IsZero():
		return v.o.AsOf.Year()
	case v.o.Manifest != nil && v.o.Manifest.AsOf != "":
		if t, err := time.Parse(time.DateOnly, v.o.Manifest.AsOf); err == nil {
			return t.Year()
		}
	case v.o.Policy.AsOf != "":
		if t, err := time.Parse(time.DateOnly, v.o.Policy.AsOf); err == nil {
			return t.Year()
		}
	}
	return time.Now().UTC().Year()
}

// readSource fingerprints the identifier values of one source table.
func (v *verifier) readSource(ctx context.Context, src sources.Source, t sources.Table) error {
	tr := v.tables[t.Name]
	if tr == nil {
		return nil // the run refused such a source; the output check reports the table
	}
	tr.srcSeen, tr.constraints = true, t.Constraints
	cols := make([]*colRun, len(t.Schema.Fields()))
	for i, f := range t.Schema.Fields() {
		c := tr.cols[f.Name]
		if c != nil && c.sameRow == nil && c.action == safeharbor.Token && numericType(f.Type) {
			c.sameRow = newFPSet()
		}
		cols[i] = c
	}

	return eachBatch(ctx, src, t.Name, "source", func(rec arrow.RecordBatch, first int64) {
		for j, c := range cols {
			if c == nil {
				continue
			}
			a := rec.Column(j)
			for i := 0; i < a.Len(); i++ {
				if a.IsNull(i) {
					continue
				}
				v.sourceCell(c, first+int64(i), cellText(a, i))
			}
		}
		tr.srcRows += rec.NumRows()
	})
}

// sourceCell records what the output checks need of one source cell.
func (v *verifier) sourceCell(c *colRun, row int64, s string) {
	if c.fingerprint {
		ws := words(s)
		if h, ok := v.fp.ofNormal(ws); ok {
			v.leaks.add(h)
		}
		if c.kind == safeharbor.Name && len(ws) > 1 {
			for i := range ws {
				if n := normalize(ws[i : i+1]); eligible(n) && !commonWords[n] &&
					!isNumber(n) {
					v.leaks.add(v.fp.of(n))
				}
			}
		}
	}
	canon := c.canon(s)
	if c.sameRow != nil {
		c.sameRow.add(v.fp.ofRow(row, canon))
	}
	if c.srcVals != nil && !c.srcVals.add(v.fp.of(canon)) {
		c.srcDup = true
	}
}

// canon is the form in which a key's value is compared: integers without
// leading zeros when the column is declared an integer, else the text.
func (c *colRun) canon(s string) string {
	s = strings.TrimSpace(s)
	if c.intKey {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return strconv.FormatInt(n, 10)
		}
	}
	return s
}

func isNumber(s string) bool { return allDigits(s) }

// eachBatch reads every batch of a table and calls fn with it and the
// 1-based ordinal of its first row.
func eachBatch(ctx context.Context, src sources.Source, table, side string,
	fn func(arrow.RecordBatch, int64)) error {
	r, err := src.Open(ctx, table, sources.ReadOptions{})
	if err != nil {
		return fmt.Errorf("verify: opening %s table %q: %w", side, table, err)
	}
	defer r.Close()
	first := int64(1)
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("verify: reading %s table %q: %w", side, table, err)
		}
		fn(rec, first)
		first += rec.NumRows()
		rec.Release()
	}
}

// report finishes the checks that need every table and builds the report.
func (v *verifier) report() *Report {
	v.checkTables()
	v.checkJoins()
	r := &Report{Profile: string(v.o.Policy.Profile), Findings: v.fs.list(),
		Fingerprints: v.leaks.len(), FingerprintBytes: v.leaks.bytes(), KAnonymity: v.kanon,
		Notes: v.notes, Checks: checkNames(v)}
	r.Clean = len(r.Findings) == 0
	for _, name := range v.order {
		tr := v.tables[name]
		tc := TableCount{Name: name, SourceRows: tr.srcRows, OutputRows: tr.outRows}
		if tm := v.manifestTable(name); tm != nil {
			in, out := tm.RowsIn, tm.RowsOut
			tc.ManifestRowsIn, tc.ManifestRowsOut = &in, &out
		}
		r.Tables = append(r.Tables, tc)
	}
	return r
}

func checkNames(v *verifier) []string {
	names := []string{checkSSN, checkPhone, checkEmail, checkURL, checkIP, checkDate,
		checkMRN, checkSource, checkSameRow, checkToken, checkSurrogate, checkYear,
		checkNull, checkAge, checkBirthYear, checkSchema, checkUnique, checkForeignKey,
		checkRows}
	if !v.lds {
		names = append(names, checkZip5, checkZip3)
	}
	if v.o.EnforceK {
		names = append(names, checkKAnon)
	}
	return names
}

func (v *verifier) manifestTable(name string) *deid.TableManifest {
	if v.o.Manifest == nil {
		return nil
	}
	for i := range v.o.Manifest.Tables {
		if v.o.Manifest.Tables[i].Name == name {
			return &v.o.Manifest.Tables[i]
		}
	}
	return nil
}

// checkTables compares row counts and looks for missing tables and columns.
func (v *verifier) checkTables() {
	for _, name := range v.order {
		tr := v.tables[name]
		if !tr.outSeen {
			if tr.srcSeen && !allDropped(tr) {
				v.fs.add(checkSchema, name, "", 0, "table of the policy missing from the output")
			}
			continue
		}
		for _, cname := range slices.Sorted(maps.Keys(tr.cols)) {
			c := tr.cols[cname]
			if !c.present && c.action != safeharbor.Drop && tr.srcSeen {
				v.fs.add(checkSchema, name, cname, 0,
					"column the policy keeps in some form is missing from the output")
			}
		}
		v.checkRowCounts(tr)
	}
}

func (v *verifier) checkRowCounts(tr *tableRun) {
	if tm := v.manifestTable(tr.name); tm != nil {
		if tm.RowsOut != tr.outRows {
			v.fs.addN(checkRows, tr.name, "", 0, 1,
				fmt.Sprintf("output has %d rows, the manifest says %d", tr.outRows, tm.RowsOut))
		}
		if !v.sharded && tr.srcSeen && tm.RowsIn != tr.srcRows {
			v.fs.addN(checkRows, tr.name, "", 0, 1,
				fmt.Sprintf("source has %d rows, the manifest says the run read %d",
					tr.srcRows, tm.RowsIn))
		}
		return
	}
	if !v.sharded && tr.srcSeen && tr.srcRows != tr.outRows {
		v.fs.addN(checkRows, tr.name, "", 0, 1,
			fmt.Sprintf("output has %d rows, the source %d", tr.outRows, tr.srcRows))
	}
}

func allDropped(tr *tableRun) bool {
	for _, c := range tr.cols {
		if c.action != safeharbor.Drop {
			return false
		}
	}
	return true
}

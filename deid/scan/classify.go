package scan

import (
	"fmt"
	"slices"

	"github.com/deid/deid/safeharbor"
)

// verdict is what the classifier decided for one column, with the evidence.
type verdict struct {
	kind   safeharbor.Kind // "" when the column is kept
	keep   string          // the keep reason
	action safeharbor.Action
	fake   string
	review bool
	why    []string
	// dateFromName is set when a date kind came from the column's name,
	// so the table-level date rules leave it alone.
	dateFromName bool
	// unreadable is set for dates in a form deid's year rule cannot read.
	unreadable bool
}

func (v *verdict) say(format string, args ...any) {
	v.why = append(v.why, fmt.Sprintf(format, args...))
}

func (v *verdict) set(k safeharbor.Kind) { v.kind, v.keep = k, "" }

func (v *verdict) keepAs(reason string) { v.kind, v.keep = "", reason }

// candidate is a kind the values suggest.
type candidate struct {
	kind   safeharbor.Kind // "" for a value that is not an identifier
	keep   string          // the reason, when kind is ""
	strong bool
	why    string
	fake   string
	// unique is set for a record id read from distinctness alone.
	unique bool
}

// patternNames names the patterns in evidence.
var patternNames = map[pattern]string{
	pSSN: "SSN", pSSNBare: "9-digit SSN", pPhone: "phone", pPhoneBare: "10-digit phone",
	pEmail: "email", pURL: "URL", pIP: "IP address", pUUID: "UUID", pVIN: "VIN",
	pMBI: "Medicare beneficiary ID", pCard: "card number (Luhn)", pMRN: "MRN",
	pDate: "date", pDateOther: "date (a form deid cannot read)", pState: "US state",
	pStreet: "street address", pCity: "city dictionary", pCounty: "county",
	pName: "name dictionary", pCode: "letters-then-digits code", pAge: "age in years",
	pLat: "latitude/longitude",
}

func pct(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }

func matchWhy(p *profile, pts ...pattern) string {
	sum := 0.0
	for _, pt := range pts {
		sum += p.share(pt)
	}
	return pct(min(sum, 1)) + " match the " + patternNames[pts[0]] + " pattern"
}

// valueCandidates lists what the values of a column suggest, strongest
// first.
func valueCandidates(p *profile) []candidate {
	var cs []candidate
	add := func(k safeharbor.Kind, strong bool, why string) {
		cs = append(cs, candidate{kind: k, strong: strong, why: why})
	}
	strongPatterns := []struct {
		pt pattern
		k  safeharbor.Kind
	}{
		{pEmail, safeharbor.Email}, {pSSN, safeharbor.SSN}, {pPhone, safeharbor.Phone},
		{pURL, safeharbor.URL}, {pIP, safeharbor.IP}, {pUUID, safeharbor.RecordID},
		{pVIN, safeharbor.VehicleID}, {pMBI, safeharbor.HealthPlanID},
		{pCard, safeharbor.AccountNumber}, {pMRN, safeharbor.MRN},
	}
	for _, sp := range strongPatterns {
		if p.share(sp.pt) >= 0.8 {
			add(sp.k, true, matchWhy(p, sp.pt))
		}
	}

	dates := p.share(pDate) + p.share(pDateOther)
	if dates >= 0.8 && p.share(pZip5) < 0.5 {
		c := candidate{kind: safeharbor.Date, strong: true}
		if p.share(pDateOther) > 0 {
			c.why = fmt.Sprintf("%s match a date pattern (%s in a form deid's year rule cannot read)",
				pct(min(dates, 1)), pct(p.share(pDateOther)))
		} else {
			c.why = matchWhy(p, pDate)
		}
		cs = append(cs, c)
	}

	zips := p.share(pZip5) + p.share(pZip4)
	if zips+p.share(pZipShort) >= 0.8 && zips >= 0.6 && p.share(pZipKnown) >= 0.8 {
		why := fmt.Sprintf("%s match the ZIP pattern (%s ZIP+4), %s with a populated 3-digit prefix",
			pct(zips+p.share(pZipShort)), pct(p.share(pZip4)), pct(p.share(pZipKnown)))
		add(safeharbor.Zip, p.share(pZip4) >= 0.02, why)
	}
	if geo := max(p.share(pLat), p.share(pLon)); geo >= 0.9 && p.share(pFloat) >= 0.9 {
		add(safeharbor.Geocode, true,
			pct(geo)+" match the latitude/longitude pattern with 3 or more decimals")
	}
	if p.share(pState) >= 0.9 {
		cs = append(cs, candidate{keep: "US state, which Safe Harbor allows", strong: true,
			why: matchWhy(p, pState)})
	}
	if p.share(pStreet) >= 0.6 {
		add(safeharbor.Address, true, matchWhy(p, pStreet))
	}
	if p.share(pCity) >= 0.6 {
		add(safeharbor.City, p.share(pCity) >= 0.8, matchWhy(p, pCity))
	}
	if p.share(pCounty) >= 0.6 {
		add(safeharbor.County, true, matchWhy(p, pCounty))
	}
	if p.share(pName) >= 0.5 && p.share(pAlpha) >= 0.8 && !p.categorical() {
		c := candidate{kind: safeharbor.Name, strong: p.share(pName) >= 0.7,
			why: pct(p.share(pName)) + " are first or last names from the name dictionary"}
		switch {
		case p.share(pFirst) >= 0.5:
			c.fake = "first-name"
		case p.share(pLast) >= 0.5:
			c.fake = "last-name"
		}
		cs = append(cs, c)
	}
	if p.share(pWords) >= 0.5 && p.meanWords() >= 5 && p.distinctRatio() >= 0.3 {
		add(safeharbor.FreeText, true,
			fmt.Sprintf("narrative text: %.0f words per value on average", p.meanWords()))
	}

	// Weaker shapes: each is the stricter reading of an ambiguous column.
	if p.share(pSSNBare) >= 0.8 && p.distinctRatio() >= 0.5 {
		add(safeharbor.SSN, false, matchWhy(p, pSSNBare)+" (no dashes)")
	}
	if p.share(pPhoneBare) >= 0.8 && p.distinctRatio() >= 0.3 {
		add(safeharbor.Phone, false, matchWhy(p, pPhoneBare)+" (no separators)")
	}
	if p.share(pAge) >= 0.95 && p.share(pInt) >= 0.9 && p.distinct >= 20 &&
		p.intMin <= 25 && p.intMax >= 70 && p.intMax <= 120 {
		add(safeharbor.Age, false, fmt.Sprintf(
			"whole numbers spread like ages in years (%d distinct)", p.distinct))
	}
	if p.share(pCode) >= 0.8 && p.distinctRatio() >= 0.5 {
		add(safeharbor.RecordID, false, matchWhy(p, pCode))
	}
	if unique := p.distinctRatio(); unique >= 0.95 && p.nonNull >= 20 &&
		(p.share(pIDLike) >= 0.95 || p.share(pInt) >= 0.95) && p.counts[pFloat] == 0 {
		cs = append(cs, candidate{kind: safeharbor.RecordID, strong: unique == 1, unique: true,
			why: fmt.Sprintf("near-unique id-like values (distinct ratio %.2f)", unique)})
	}
	return cs
}

// compatible reports whether the values could be of kind k.
func compatible(k safeharbor.Kind, p *profile) bool {
	dates := p.share(pDate) + p.share(pDateOther)
	switch {
	case safeharbor.IsDate(k):
		return dates >= 0.8
	}
	switch k {
	case safeharbor.Age:
		return p.share(pAge) >= 0.9
	case safeharbor.Zip:
		return p.share(pZip5)+p.share(pZip4)+p.share(pZipShort) >= 0.8
	case safeharbor.Phone, safeharbor.Fax:
		return p.share(pPhone)+p.share(pPhoneBare) >= 0.8
	case safeharbor.Email:
		return p.share(pEmail) >= 0.8
	case safeharbor.SSN:
		return p.share(pSSN)+p.share(pSSNBare) >= 0.8 ||
			(p.share(pInt) >= 0.8 && p.intMax <= 9999) // the last four digits
	case safeharbor.URL:
		return p.share(pURL) >= 0.8
	case safeharbor.IP:
		return p.share(pIP) >= 0.8
	case safeharbor.Name, safeharbor.City, safeharbor.County:
		return p.share(pAlpha) >= 0.7 && !p.numeric()
	case safeharbor.Address, safeharbor.FreeText:
		return !p.numeric() && p.share(pInt) < 0.5 && dates < 0.5
	case safeharbor.Geocode:
		return p.share(pFloat)+p.share(pInt) >= 0.8 || p.share(pIDLike) >= 0.8
	case safeharbor.Biometric, safeharbor.Photo:
		return true
	}
	// Identifying numbers and codes: anything but flags and dates.
	return p.share(pBool) < 0.95 && p.distinct >= 2 && dates < 0.8
}

// family groups kinds whose values look alike, so that a name may refine
// what the values say: a "fax" column of phone numbers is a fax.
func family(k safeharbor.Kind) string {
	switch {
	case safeharbor.IsDate(k):
		return "date"
	}
	switch k {
	case safeharbor.Phone, safeharbor.Fax:
		return "phone"
	case safeharbor.RecordID, safeharbor.MRN, safeharbor.HealthPlanID, safeharbor.AccountNumber,
		safeharbor.License, safeharbor.VehicleID, safeharbor.DeviceID:
		return "id"
	}
	return string(k)
}

// strictness ranks actions: lower is stricter.
func strictness(k safeharbor.Kind) int {
	if k == "" {
		return 9
	}
	a, _ := safeharbor.Default(safeharbor.SafeHarborProfile, k)
	switch a {
	case safeharbor.Drop:
		return 0
	case safeharbor.Null:
		return 1
	case safeharbor.Token, safeharbor.Surrogate:
		return 2
	case safeharbor.Keep:
		return 9
	}
	return 3
}

// classify decides one column from its name and its values alone; the
// table and join rules refine the verdict afterwards.
func classify(name string, p *profile) verdict {
	h := readName(name)
	var v verdict

	if p.nonNull == 0 {
		if len(h.kinds) > 0 {
			v.set(h.kinds[0])
		} else {
			v.set(safeharbor.FreeText)
			v.say("dropped until someone looks at it")
		}
		v.review = true
		v.say("no values in the sample")
		return v
	}
	cs := valueCandidates(p)
	if h.keep {
		// A unique amount or measurement is not an identifier by that alone.
		cs = slices.DeleteFunc(cs, func(c candidate) bool { return c.unique })
	}

	// A qualifier makes the column describe an identifier: phone_type.
	if h.meta && len(h.kinds) > 0 && (p.categorical() || p.share(pBool) >= 0.95) &&
		!anyStrong(cs) {
		v.keepAs(fmt.Sprintf("describes a %s with %d distinct codes; does not hold one",
			h.kinds[0], p.distinct))
		return v
	}
	if h.year && yearOnly(&v, h, p) {
		return v
	}

	if c, ok := firstStrong(cs); ok {
		decideStrong(&v, h, p, c)
		return v
	}
	decideWeak(&v, h, p, cs)
	return v
}

// decideStrong settles a column whose values clearly show a kind.
func decideStrong(v *verdict, h nameHint, p *profile, c candidate) {
	v.say("%s", c.why)
	if c.unique && len(h.kinds) > 0 && h.strong && compatible(h.kinds[0], p) {
		// Distinct values say "an identifier"; the name says which.
		v.set(h.kinds[0])
		v.fake = h.fake
		v.dateFromName = safeharbor.IsDate(h.kinds[0]) && h.kinds[0] != safeharbor.Date
		return
	}
	if c.kind == "" {
		v.keepAs(c.keep)
		if len(h.kinds) > 0 && h.strong {
			v.say("the values outweigh the name")
			v.review = true
		}
		return
	}
	for _, k := range h.kinds {
		if family(k) == family(c.kind) && compatible(k, p) {
			v.set(k) // the name refines the values: fax, birth date, MRN
			v.fake = h.fake
			if v.fake == "" {
				v.fake = c.fake
			}
			v.dateFromName = safeharbor.IsDate(k) && k != safeharbor.Date
			v.unreadable = safeharbor.IsDate(k) && p.counts[pDateOther] > 0
			return
		}
	}
	v.set(c.kind)
	v.fake = c.fake
	v.unreadable = safeharbor.IsDate(c.kind) && p.counts[pDateOther] > 0
	if len(h.kinds) == 0 || !h.strong {
		return
	}
	// The name says something else: take the stricter reading.
	n := h.kinds[0]
	if compatible(n, p) && family(c.kind) == "id" && family(n) == "id" {
		v.set(n)
		return
	}
	if strictness(n) < strictness(c.kind) && compatible(n, p) {
		v.set(n)
	}
	v.review = true
	v.say("the name and the values disagree; the stricter reading is taken")
}

// decideWeak settles a column whose values show no kind clearly.
func decideWeak(v *verdict, h nameHint, p *profile, cs []candidate) {
	var weak *candidate
	for i := range cs {
		if cs[i].kind != "" {
			weak = &cs[i]
			break
		}
	}

	if h.keep {
		v.keepAs(h.keepWhy + ", not an identifier")
		if weak != nil && weak.kind != safeharbor.RecordID {
			v.say("%s", weak.why)
			v.say("the name outweighs the values")
			v.review = true
		}
		return
	}

	if len(h.kinds) > 0 && h.kinds[0] == safeharbor.Name && h.nonPerson {
		v.keepAs("names a thing, not a person")
		v.review = p.share(pName) >= 0.3
		return
	}
	for _, k := range h.kinds {
		if !compatible(k, p) {
			continue
		}
		if k == safeharbor.RecordID && !h.strong && p.categorical() {
			continue // a code with few values: status_code, type_id
		}
		v.set(k)
		v.fake = h.fake
		v.dateFromName = safeharbor.IsDate(k)
		if weak != nil {
			v.say("%s", weak.why)
		}
		if !h.strong {
			v.review = k != safeharbor.RecordID || p.distinctRatio() < 0.5
			if k == safeharbor.RecordID {
				v.say("distinct ratio %.2f", p.distinctRatio())
			}
		}
		return
	}
	if len(h.kinds) > 0 && h.strong && !p.categorical() {
		// The name is clear but the values do not fit it.
		v.set(h.kinds[0])
		v.fake = h.fake
		v.review = true
		v.say("the values do not look like a %s; kept as one until reviewed", h.kinds[0])
		return
	}

	if weak != nil {
		v.set(weak.kind)
		v.fake = weak.fake
		v.say("%s", weak.why)
		v.review = !weak.strong
		return
	}
	switch {
	case p.share(pBool) >= 0.95:
		v.keepAs("a yes/no flag")
	case p.categorical():
		v.keepAs(fmt.Sprintf("a categorical code with %d distinct values", p.distinct))
	case p.numeric() || p.share(pInt)+p.share(pFloat) >= 0.95:
		v.keepAs("a numeric measurement")
		v.say("distinct ratio %.2f", p.distinctRatio())
	default:
		v.keepAs("no identifier pattern found")
		v.say("distinct ratio %.2f", p.distinctRatio())
		v.review = true
	}
}

// yearOnly handles a column that holds years alone: birth_year.
func yearOnly(v *verdict, h nameHint, p *profile) bool {
	if p.share(pYear) < 0.9 {
		return false
	}
	v.say("%s are years alone", pct(p.share(pYear)))
	for _, k := range h.kinds {
		if k == safeharbor.BirthDate || k == safeharbor.DeathDate {
			// A year may remain, but the 90-or-older bucket needs a full
			// date, which this column does not have.
			v.set(k)
			v.action = safeharbor.Null
			v.review = true
			v.say("birth and death years over 89 years back must be bucketed; " +
				"nulled until reviewed")
			return true
		}
	}
	v.keepAs("a year alone, which Safe Harbor allows")
	return true
}

func firstStrong(cs []candidate) (candidate, bool) {
	for _, c := range cs {
		if c.strong {
			return c, true
		}
	}
	return candidate{}, false
}

func anyStrong(cs []candidate) bool {
	_, ok := firstStrong(cs)
	return ok
}

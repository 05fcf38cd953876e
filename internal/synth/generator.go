package synth

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/brianvoe/gofakeit/v7"
)

// Column headers, in the order of the fields of each row.
const (
	patientsHeader = "patient_id,mrn,first_name,last_name,dob,sex,street,city,state,zip," +
		"phone,email,ssn,deceased_date,last_visit\n"
	encountersHeader = "encounter_id,patient_id,provider_id,admitted,discharged,age_at_admit," +
		"diagnosis_code,note\n"
	providersHeader = "provider_id,provider_name,specialty,npi\n"
)

// Day counts bounding ages: every span of 90 years has at least 32871 days
// and at most 32873, so fewer than 32860 days is always under 90 years and
// more than 32880 always 90 or more.
const (
	under90Days = 32860
	over90Days  = 32880
	yearDays    = 365
)

// generator draws every value of an extract from one gofakeit Faker, in a
// fixed order: providers, then each patient followed by its encounters.
type generator struct {
	f     *gofakeit.Faker
	o     Options
	today int // day number of o.Today

	row       []byte // the row being built
	note      []byte // the note being built
	days      []int  // admission days of the current patient
	encounter int    // last encounter ID written
}

// patient is the row being generated; its byte slices are reused.
type patient struct {
	id              int
	first, last     string
	sex             byte
	dob, lastVisit  int
	dead            bool
	deceased        int
	street, city    string
	state           string
	zip, phone, ssn []byte
	email           []byte
	emptyEmail      bool
}

func newGenerator(o Options) *generator {
	// gofakeit.New(seed) seeds the same PCG stream but locks a mutex on every
	// draw and treats seed 0 as "random"; one sequential generator needs
	// neither.
	f := gofakeit.NewFaker(rand.NewPCG(o.Seed, o.Seed), false)
	return &generator{f: f, o: o, today: dayOf(o.Today)}
}

// chance returns true with probability n/d.
func (g *generator) chance(n, d int) bool {
	return g.f.IntN(d) < n
}

func pick[T any](g *generator, list []T) T {
	return list[g.f.IntN(len(list))]
}

func (g *generator) writeProviders(w *bufio.Writer) error {
	if _, err := w.WriteString(providersHeader); err != nil {
		return err
	}
	for id := 1; id <= g.o.Providers; id++ {
		r := g.row[:0]
		r = strconv.AppendInt(r, int64(id), 10)
		r = append(r, ',')

		first, last := g.f.FirstName(), g.f.LastName()
		if g.chance(2, 5) {
			name := first + " " + last + ", " + pick(g, credentials)
			r = appendField(r, name)
		} else {
			r = appendField(r, "Dr. "+first+" "+last)
		}
		r = append(r, ',')
		r = appendField(r, pick(g, specialties))
		r = append(r, ',')

		// NPIs start with 1 or 2; 9 is never issued. Distinct for 10^9 providers.
		r = append(r, '9')
		r = appendPadded(r, id/100_000_000, 1)
		r = appendPadded(r, scramble8(id, 0x4e91), 8)
		r = append(r, '\n')

		g.row = r
		if _, err := w.Write(r); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) writePatients(pw, ew *bufio.Writer) error {
	if _, err := pw.WriteString(patientsHeader); err != nil {
		return fmt.Errorf("writing %s: %w", PatientsFile, err)
	}
	if _, err := ew.WriteString(encountersHeader); err != nil {
		return fmt.Errorf("writing %s: %w", EncountersFile, err)
	}

	var p patient
	for id := 1; id <= g.o.Patients; id++ {
		g.patient(&p, id)
		if (id-1)%3 == 0 && (id-1)/3 < len(edgeCases) {
			edgeCases[(id-1)/3](g, &p)
		}
		g.fillEmail(&p)

		if _, err := pw.Write(g.patientRow(&p)); err != nil {
			return fmt.Errorf("writing %s: %w", PatientsFile, err)
		}
		if err := g.writeEncounters(ew, &p); err != nil {
			return fmt.Errorf("writing %s: %w", EncountersFile, err)
		}
	}
	return nil
}

// patient draws a patient with the background rates of edge cases; the
// edge-case list then forces each case at least once.
func (g *generator) patient(p *patient, id int) {
	f := g.f
	p.id = id
	p.first, p.last = f.FirstName(), f.LastName()
	if g.chance(1, 50) {
		p.first, p.last = pick(g, unicodeFirst), pick(g, unicodeLast)
	}
	p.sex = "FFFFFFFFFFFFFFFFFFFFFFFFMMMMMMMMMMMMMMMMMMMMMMMMX"[f.IntN(49)]

	p.lastVisit = g.today - 7 - f.IntN(5*yearDays)
	if g.chance(3, 100) {
		p.dob = p.lastVisit - over90Days - f.IntN(15*yearDays)
	} else {
		p.dob = p.lastVisit - f.IntN(under90Days)
	}
	p.dead = g.chance(1, 50)
	p.deceased = p.lastVisit + f.IntN(g.today-p.lastVisit)

	p.street, p.city = f.Street(), f.City()
	if g.chance(1, 100) {
		p.street = ""
	}
	if g.chance(1, 100) {
		p.city = ""
	}
	p.state = pick(g, states)
	g.zip(p)

	p.phone = p.phone[:0]
	if !g.chance(3, 100) {
		p.phone = g.appendPhone(p.phone)
	}
	p.ssn = p.ssn[:0]
	if !g.chance(1, 50) {
		p.ssn = g.appendSSN(p.ssn)
	}
	p.emptyEmail = g.chance(1, 20)
}

// zip draws a ZIP: mostly 5 digits, sometimes a restricted prefix, ZIP+4, a
// ZIP that lost its leading zero, or nothing.
func (g *generator) zip(p *patient) {
	f := g.f
	z := p.zip[:0]
	switch r := f.IntN(1000); {
	case r < 5:
		e := pick(g, restrictedZIP3)
		z = append(z, e.prefix...)
		z = appendPadded(z, f.IntN(100), 2)
		p.state = e.state
	case r < 35:
		z = appendPadded(z, 10000+f.IntN(90000), 5)
		z = append(z, '-')
		z = appendPadded(z, f.IntN(10000), 4)
	case r < 45:
		z = strconv.AppendInt(z, int64(1000+f.IntN(9000)), 10)
		p.state = pick(g, newEngland)
	case r < 55:
	default:
		z = appendPadded(z, 10000+f.IntN(90000), 5)
	}
	p.zip = z
}

// appendPhone appends a number in the 555-0100..555-0199 block, which is
// reserved for fiction, in one of three common formats.
func (g *generator) appendPhone(dst []byte) []byte {
	f := g.f
	area := 201 + f.IntN(789)
	line := 100 + f.IntN(100)
	switch r := f.IntN(20); {
	case r < 15:
		dst = strconv.AppendInt(dst, int64(area), 10)
		dst = append(dst, "-555-0"...)
	case r < 19:
		dst = append(dst, '(')
		dst = strconv.AppendInt(dst, int64(area), 10)
		dst = append(dst, ") 555-0"...)
	default:
		dst = append(dst, "+1 "...)
		dst = strconv.AppendInt(dst, int64(area), 10)
		dst = append(dst, " 555 0"...)
	}
	return strconv.AppendInt(dst, int64(line), 10)
}

// appendSSN appends an SSN in the 900-999 area, which the SSA never issues;
// groups 01-49 also keep it out of the ITIN ranges.
func (g *generator) appendSSN(dst []byte) []byte {
	f := g.f
	sep := g.chance(9, 10)
	dst = strconv.AppendInt(dst, int64(900+f.IntN(100)), 10)
	if sep {
		dst = append(dst, '-')
	}
	dst = appendPadded(dst, 1+f.IntN(49), 2)
	if sep {
		dst = append(dst, '-')
	}
	return appendPadded(dst, 1+f.IntN(9999), 4)
}

// fillEmail derives the email from the final names, at example.com or
// example.org, which are reserved for documentation.
func (g *generator) fillEmail(p *patient) {
	e := p.email[:0]
	if !p.emptyEmail {
		n := len(e)
		e = appendFoldedName(e, p.first)
		if len(e) > n {
			e = append(e, '.')
		}
		e = appendFoldedName(e, p.last)
		if len(e) == n {
			e = append(e, "patient"...)
		}
		if g.chance(1, 2) {
			e = strconv.AppendInt(e, int64(g.f.IntN(100)), 10)
		}
		if g.chance(1, 2) {
			e = append(e, "@example.com"...)
		} else {
			e = append(e, "@example.org"...)
		}
	}
	p.email = e
}

// appendMRN appends "MRN" and 8 digits that look random but are distinct
// for the patients 1..10^8.
func appendMRN(dst []byte, id int) []byte {
	dst = append(dst, "MRN"...)
	return appendPadded(dst, scramble8(id, 0x5eed), 8)
}

// scramble8 maps n in [0, 10^8) to [0, 10^8) one to one (other n are taken
// modulo 10^8): four rounds of a Feistel network on two halves of 4 digits,
// keyed by k. It makes sequential IDs into unpatterned identifiers.
func scramble8(n, k int) int {
	l, r := n/10000%10000, n%10000
	for round := range 4 {
		f := (r*r*7919 + r*104729 + k*(round+1)) % 10000
		l, r = r, (l+f)%10000
	}
	return l*10000 + r
}

func (g *generator) patientRow(p *patient) []byte {
	r := g.row[:0]
	r = strconv.AppendInt(r, int64(p.id), 10)
	r = append(r, ',')
	r = appendMRN(r, p.id)
	r = append(r, ',')
	r = appendField(r, p.first)
	r = append(r, ',')
	r = appendField(r, p.last)
	r = append(r, ',')
	r = appendDate(r, p.dob)
	r = append(r, ',', p.sex, ',')
	r = appendField(r, p.street)
	r = append(r, ',')
	r = appendField(r, p.city)
	r = append(r, ',')
	r = append(r, p.state...)
	r = append(r, ',')
	r = append(r, p.zip...)
	r = append(r, ',')
	r = append(r, p.phone...)
	r = append(r, ',')
	r = append(r, p.email...)
	r = append(r, ',')
	r = append(r, p.ssn...)
	r = append(r, ',')
	if p.dead {
		r = appendDate(r, p.deceased)
	}
	r = append(r, ',')
	r = appendDate(r, p.lastVisit)
	r = append(r, '\n')
	g.row = r
	return r
}

// writeEncounters writes the patient's encounters in time order, the last
// one admitted on the patient's last_visit and none before birth or after
// death.
func (g *generator) writeEncounters(w *bufio.Writer, p *patient) error {
	f := g.f
	k := int(g.o.EncountersPerPatient)
	n := f.IntN(2*k + 1)
	if frac := g.o.EncountersPerPatient - float64(k); frac > 0 && f.Float64() < frac {
		n++
	}
	if n == 0 {
		return nil
	}

	span := min(5*yearDays, p.lastVisit-p.dob)
	g.days = g.days[:0]
	for range n - 1 {
		g.days = append(g.days, p.lastVisit-f.IntN(span+1))
	}
	slices.Sort(g.days)
	g.days = append(g.days, p.lastVisit)

	for _, day := range g.days {
		g.encounter++
		admit := f.IntN(86400 - 60)
		limit := 5 * 86400
		if p.dead {
			limit = min(limit, (p.deceased-day+1)*86400-1-admit)
		}
		stay := 1 + f.IntN(limit)

		r := g.row[:0]
		r = strconv.AppendInt(r, int64(g.encounter), 10)
		r = append(r, ',')
		r = strconv.AppendInt(r, int64(p.id), 10)
		r = append(r, ',')
		r = strconv.AppendInt(r, int64(1+f.IntN(g.o.Providers)), 10)
		r = append(r, ',')
		r = appendTimestamp(r, day, admit)
		r = append(r, ',')
		r = appendTimestamp(r, day, admit+stay)
		r = append(r, ',')
		r = strconv.AppendInt(r, int64(ageAt(p.dob, day)), 10)
		r = append(r, ',')
		dx := pick(g, diagnoses)
		r = append(r, dx.code...)
		r = append(r, ',')
		g.note = g.appendNote(g.note[:0], p, dx.text)
		r = appendField(r, g.note)
		r = append(r, '\n')

		g.row = r
		if _, err := w.Write(r); err != nil {
			return err
		}
	}
	return nil
}

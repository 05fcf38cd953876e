package synth

// edgeCases force the cases the Safe Harbor rules must handle into even the
// smallest extract: patient 1 gets the first, patient 4 the second, and so
// on every third patient. Each edit runs after the patient's random draws,
// so adding a case does not shift the values of the patients before it.
var edgeCases = buildEdgeCases()

type edgeCase func(g *generator, p *patient)

func buildEdgeCases() []edgeCase {
	var cases []edgeCase

	// Every restricted ZIP3, with 2 random digits.
	for _, e := range restrictedZIP3 {
		cases = append(cases, func(g *generator, p *patient) {
			p.zip = append(append(p.zip[:0], e.prefix...), '0', byte('1'+g.f.IntN(9)))
			p.state = e.state
		})
	}

	// ZIPs a numeric column stripped of their leading zeros: 02134 and 01002
	// (MA), 00501 (NY), and 03601 (NH) and 06320 (CT), whose prefixes are
	// restricted once the zeros are restored.
	for _, z := range []struct{ zip, state string }{
		{"2134", "MA"}, {"501", "NY"}, {"3601", "NH"}, {"6320", "CT"}, {"1002", "MA"},
	} {
		cases = append(cases, func(g *generator, p *patient) {
			p.zip = append(p.zip[:0], z.zip...)
			p.state = z.state
		})
	}

	// ZIP+4, one in a restricted prefix, and a missing ZIP.
	for _, z := range []struct{ zip, state string }{
		{"12345-6789", "NY"}, {"20201-0004", "DC"}, {"94110-1234", "CA"}, {"", ""},
	} {
		cases = append(cases, func(g *generator, p *patient) {
			p.zip = append(p.zip[:0], z.zip...)
			if z.state != "" {
				p.state = z.state
			}
		})
	}

	// Ages at last_visit around and past 90.
	cases = append(cases,
		bornYearsBefore(0, 90), // 90th birthday on last_visit
		bornYearsBefore(1, 90), // 90th birthday the day after: still 89
		bornYearsBefore(0, 90),
		bornYearsBefore(1, 90),
		bornYearsBefore(-1, 89), // 89th birthday the day before
		bornYearsBefore(40, 95),
		bornYearsBefore(200, 103),
		func(g *generator, p *patient) { p.dob = p.lastVisit - g.f.IntN(20) }, // newborn
		bornOn(1936, 2, 29), // leap-day birth near the boundary
		bornOn(1932, 2, 29),
	)

	// Deaths: on the 90th birthday, the day before it, past 90, at the last
	// visit, and young.
	cases = append(cases,
		diedAged(0, 90),
		diedAged(1, 90),
		diedAged(100, 92),
		func(g *generator, p *patient) {
			p.dead, p.deceased = true, p.lastVisit
			p.dob = p.lastVisit - over90Days - 7*yearDays
		},
		diedAged(250, 61),
	)

	// Names outside ASCII or with punctuation, and empty values.
	for _, n := range [][2]string{
		{"José", "Núñez"}, {"Zoë", "Muñoz"}, {"Renée", "Peña"}, {"Iñaki", "Ibáñez"},
		{"Maeve", "O'Brien"}, {"Walter", "Grant, Jr."},
	} {
		cases = append(cases, func(g *generator, p *patient) { p.first, p.last = n[0], n[1] })
	}
	cases = append(cases,
		func(g *generator, p *patient) {
			p.phone, p.ssn, p.emptyEmail = p.phone[:0], p.ssn[:0], true
		},
		func(g *generator, p *patient) { p.street, p.city = "", "" },
		func(g *generator, p *patient) { p.first = "" },
	)
	return cases
}

// bornYearsBefore sets the birth date so that the patient's birthday of age
// years falls after days after last_visit: 0 puts it on last_visit, 1 on the
// day after (the patient is still years-1 at the visit), -1 the day before.
func bornYearsBefore(after, years int) edgeCase {
	return func(g *generator, p *patient) {
		for {
			if dob, ok := yearsBefore(p.lastVisit+after, years); ok {
				p.dob = dob
				return
			}
			p.lastVisit--
		}
	}
}

// bornOn sets the birth date.
func bornOn(y, m, d int) edgeCase {
	return func(g *generator, p *patient) { p.dob = dayFromCivil(y, m, d) }
}

// diedAged records a death a month after the last visit (or the day before
// the reference date, if sooner), whose birthday of age years falls after
// days after the death.
func diedAged(after, years int) edgeCase {
	return func(g *generator, p *patient) {
		p.dead = true
		p.deceased = min(p.lastVisit+30, g.today-1)
		for {
			if dob, ok := yearsBefore(p.deceased+after, years); ok {
				p.dob = dob
				return
			}
			p.deceased--
		}
	}
}

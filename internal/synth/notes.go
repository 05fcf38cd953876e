package synth

import "strconv"

// appendNote appends a free-text note for an encounter of p about the
// diagnosis dx: an opening sentence, then most often vitals, history and a
// plan. About one note in five names the patient or quotes their phone, MRN
// or email, as real notes do; others carry commas, double quotes or a line
// break, and one in twenty is empty.
func (g *generator) appendNote(dst []byte, p *patient, dx string) []byte {
	n := len(dst)
	dst = g.appendOpening(dst, p, dx)
	if len(dst) == n {
		return dst
	}

	f := g.f
	if g.chance(3, 4) {
		dst = append(dst, " BP "...)
		dst = strconv.AppendInt(dst, int64(100+f.IntN(60)), 10)
		dst = append(dst, '/')
		dst = strconv.AppendInt(dst, int64(60+f.IntN(35)), 10)
		dst = append(dst, ", HR "...)
		dst = strconv.AppendInt(dst, int64(55+f.IntN(50)), 10)
		dst = append(dst, ", SpO2 "...)
		dst = strconv.AppendInt(dst, int64(90+f.IntN(10)), 10)
		dst = append(dst, "% on room air."...)
	}
	if g.chance(3, 4) {
		dst = append(dst, " History of "...)
		dst = append(dst, pick(g, diagnoses).text...)
		dst = append(dst, " and "...)
		dst = append(dst, pick(g, diagnoses).text...)
		dst = append(dst, "; no known drug allergies."...)
	}
	if g.chance(3, 4) {
		dst = append(dst, " Plan: continue "...)
		dst = append(dst, pick(g, drugs)...)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(5*(1+f.IntN(20))), 10)
		dst = append(dst, " mg daily, "...)
		dst = append(dst, pick(g, plans)...)
		dst = append(dst, ", and return in "...)
		dst = strconv.AppendInt(dst, int64(1+f.IntN(12)), 10)
		dst = append(dst, " weeks or sooner if "...)
		dst = append(dst, pick(g, symptoms)...)
		dst = append(dst, " worsens."...)
	}
	return dst
}

// appendOpening appends the first sentence of a note, or nothing.
func (g *generator) appendOpening(dst []byte, p *patient, dx string) []byte {
	f := g.f
	switch r := f.IntN(20); {
	case r < 5:
		dst = append(dst, "Follow-up for "...)
		dst = append(dst, dx...)
		dst = append(dst, ". Patient doing well."...)
	case r < 7:
		dst = append(dst, "Seen for "...)
		dst = append(dst, dx...)
		dst = append(dst, ", stable, continue "...)
		dst = append(dst, pick(g, drugs)...)
		dst = append(dst, '.')
	case r == 7:
		dst = append(dst, p.first...)
		dst = append(dst, ' ')
		dst = append(dst, p.last...)
		dst = append(dst, " called"...)
		if len(p.phone) > 0 {
			dst = append(dst, " from "...)
			dst = append(dst, p.phone...)
		}
		dst = append(dst, " asking for a refill of "...)
		dst = append(dst, pick(g, drugs)...)
		dst = append(dst, '.')
	case r == 8:
		dst = append(dst, "Reviewed chart "...)
		dst = appendMRN(dst, p.id)
		dst = append(dst, "; labs within normal limits."...)
	case r == 9:
		dst = append(dst, `Patient states "`...)
		dst = append(dst, pick(g, quotes)...)
		dst = append(dst, `" and denies fever.`...)
	case r == 10:
		dst = append(dst, "Discharge summary: "...)
		dst = append(dst, dx...)
		dst = append(dst, ".\nFollow up with primary care in "...)
		dst = strconv.AppendInt(dst, int64(1+f.IntN(6)), 10)
		dst = append(dst, " weeks."...)
	case r == 11:
		dst = append(dst, title(p.sex)...)
		dst = append(dst, p.last...)
		dst = append(dst, " reports "...)
		dst = append(dst, pick(g, symptoms)...)
		dst = append(dst, " and "...)
		dst = append(dst, pick(g, symptoms)...)
		dst = append(dst, ". Recheck in "...)
		dst = strconv.AppendInt(dst, int64(2+f.IntN(12)), 10)
		dst = append(dst, " days."...)
	case r == 12:
		dst = append(dst, "Spoke with "...)
		dst = append(dst, pick(g, relatives)...)
		if len(p.phone) > 0 {
			dst = append(dst, " at "...)
			dst = append(dst, p.phone...)
		}
		dst = append(dst, ", who confirms "...)
		dst = append(dst, p.first...)
		dst = append(dst, " takes "...)
		dst = append(dst, pick(g, drugs)...)
		dst = append(dst, " as prescribed."...)
	case r == 13:
		dst = append(dst, "Message from patient"...)
		if len(p.email) > 0 {
			dst = append(dst, " ("...)
			dst = append(dst, p.email...)
			dst = append(dst, ')')
		}
		dst = append(dst, " about "...)
		dst = append(dst, pick(g, symptoms)...)
		dst = append(dst, '.')
	case r == 14:
		// An empty note.
	default:
		s := pick(g, symptoms)
		dst = append(dst, s[0]-'a'+'A')
		dst = append(dst, s[1:]...)
		dst = append(dst, " for "...)
		dst = strconv.AppendInt(dst, int64(1+f.IntN(30)), 10)
		dst = append(dst, " days, "...)
		dst = append(dst, dx...)
		dst = append(dst, " suspected. Labs ordered."...)
	}
	return dst
}

func title(sex byte) string {
	switch sex {
	case 'F':
		return "Ms. "
	case 'M':
		return "Mr. "
	}
	return "Mx. "
}

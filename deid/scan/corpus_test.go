package scan

import (
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brianvoe/gofakeit/v7"

	"github.com/deid/deid/safeharbor"
)

// The evaluation corpus: six synthetic tables (people, visits, staff, drugs,
// prescriptions, assets) whose columns carry true labels. Each table is
// written twice: once with the names an extract would have (dob, pat_fname,
// zip_cd, tel, addr1), once with names that say nothing (c17, field_4) and
// table names to match, so that only the values can tell. Decoys stand
// among the identifiers: CPT codes that look like ZIP codes, pulse rates
// spread like ages, a drug's approval date, drug and company names, free
// text, amounts and low-cardinality codes.
//
// Everything is drawn from one seeded generator and is fake by
// construction: SSNs in the never-issued 9xx area, phones in 555-01XX,
// emails and URLs at example domains, card numbers in a test range.

// corpusColumn is one column of the corpus with its true label.
type corpusColumn struct {
	named, blind string
	label        safeharbor.Kind // "" for a column that should be kept
	gen          func(g *corpusGen, row int) string
}

type corpusTable struct {
	named, blind string
	rows         int
	cols         []corpusColumn
}

// corpusFK says which columns of the corpus join.
type corpusFK struct{ childTable, child, parentTable, parent string }

// corpusGen holds the generator and the keys later tables refer to.
type corpusGen struct {
	r        *rand.Rand
	f        *gofakeit.Faker
	people   []int64
	visits   []int64
	staff    []int64
	ndcs     []string
	dob      []time.Time
	lastDay  time.Time
	visitDay []time.Time
}

func newCorpusGen() *corpusGen {
	src := rand.NewPCG(20260501, 17)
	return &corpusGen{r: rand.New(src), f: gofakeit.NewFaker(rand.NewPCG(5, 9), false),
		lastDay: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)}
}

func (g *corpusGen) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *corpusGen) chance(p float64) bool { return g.r.Float64() < p }

// Names that gofakeit's lists do not hold, so the dictionary cannot know
// every name of the corpus. Filtered against the lists at run time.
var (
	extraFirst = filterOut(firstNames, "Oluwaseun", "Xiomara", "Thandiwe", "Yevgenia",
		"Kofi", "Nkechi", "Saoirse", "Tadhg", "Ximena", "Anahera", "Bodhi", "Zainab",
		"Ifeoma", "Rangi", "Siobhan", "Yusra", "Cosmin", "Dragana", "Eero", "Fionnuala")
	extraLast = filterOut(lastNames, "Okonkwo", "Nakamura-Bell", "Vasquez-Ortiz",
		"Abernathy-Quill", "Nguyen-Tran", "Oyelaran", "Przybylski", "Szczepanski",
		"Tuiasosopo", "Wojciechowski", "Yamamura", "Zhukovsky", "Achterberg", "Brzezinski")
	extraCities = []string{"Fairview Heights", "Riverton Falls", "Millbrook", "Cedar Hollow",
		"Oakridge Junction", "Pinecrest", "Willow Bend", "Stonebridge"}
)

func filterOut(known map[string]bool, names ...string) []string {
	var out []string
	for _, n := range names {
		if !known[strings.ToLower(n)] {
			out = append(out, n)
		}
	}
	return out
}

func (g *corpusGen) first() string {
	if g.chance(0.25) {
		return g.pick(extraFirst)
	}
	return g.f.FirstName()
}

func (g *corpusGen) last() string {
	if g.chance(0.25) {
		return g.pick(extraLast)
	}
	return g.f.LastName()
}

func (g *corpusGen) date(from, to time.Time) time.Time {
	span := int(to.Sub(from).Hours() / 24)
	return from.AddDate(0, 0, g.r.IntN(span+1))
}

func (g *corpusGen) phone() string {
	area, line := 201+g.r.IntN(780), 100+g.r.IntN(100)
	switch g.r.IntN(3) {
	case 0:
		return fmt.Sprintf("(%d) 555-0%d", area, line)
	case 1:
		return fmt.Sprintf("%d-555-0%d", area, line)
	}
	return fmt.Sprintf("%d.555.0%d", area, line)
}

func (g *corpusGen) sentence(min, max int) string {
	words := []string{"patient", "reports", "mild", "pain", "since", "last", "week", "denies",
		"fever", "follow", "up", "in", "two", "weeks", "advised", "rest", "fluids", "and",
		"the", "daughter", "called", "about", "refill", "tolerating", "diet", "well", "no",
		"acute", "distress", "plan", "continue", "current", "medication", "review", "labs"}
	n := min + g.r.IntN(max-min+1)
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(g.pick(words))
	}
	if g.chance(0.3) {
		b.WriteString(". Seen with " + g.first() + " " + g.last())
	}
	return b.String() + "."
}

// luhnComplete appends the check digit that makes s pass the Luhn test.
func luhnComplete(s string) string {
	for d := 0; d <= 9; d++ {
		if c := s + strconv.Itoa(d); luhn(c) {
			return c
		}
	}
	return s
}

var (
	zipPrefixes = []string{"021", "100", "303", "606", "750", "941", "981", "331", "441",
		"554", "631", "802", "852", "891", "973", "372", "191", "212", "282", "462"}
	streetTypesShort = []string{"St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way", "Street",
		"Avenue", "Road", "Lane"}
	icd = []string{"E11.9", "I10", "J45.909", "M54.5", "K21.9", "F32.9", "N39.0", "R51",
		"J06.9", "E78.5", "I25.10", "Z00.00", "M17.11", "G43.909", "K59.00", "R10.9",
		"L03.90", "H10.9", "B34.9", "R05"}
	cpt = []string{"99213", "99214", "99215", "80053", "85025", "71046", "93000", "36415",
		"81001", "99203", "90471", "87880", "73030", "76700", "97110", "99232", "83036",
		"80061", "84443", "82947"}
	drugs = []string{"Atorvastatin", "Lisinopril", "Metformin", "Amlodipine", "Omeprazole",
		"Losartan", "Albuterol", "Gabapentin", "Sertraline", "Levothyroxine", "Simvastatin",
		"Montelukast", "Escitalopram", "Rosuvastatin", "Bupropion", "Furosemide",
		"Pantoprazole", "Trazodone", "Fluticasone", "Tamsulosin"}
	specialties = []string{"Cardiology", "Family Medicine", "Internal Medicine", "Pediatrics",
		"Oncology", "Neurology", "Dermatology", "Orthopedics"}
	vinChars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
	mbiChars = "ACDEFGHJKMNPQRTUVWXY"
)

func (g *corpusGen) chars(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

func (g *corpusGen) mbi() string {
	d := func() string { return strconv.Itoa(g.r.IntN(10)) }
	l := func() string { return g.chars(mbiChars, 1) }
	an := func() string { return g.chars(mbiChars+"0123456789", 1) }
	return strconv.Itoa(1+g.r.IntN(9)) + l() + an() + d() + l() + an() + d() + l() + l() + d() + d()
}

func iso(t time.Time) string { return t.Format(time.DateOnly) }

// corpusTables builds the corpus. Generators run row by row, table by table,
// in this order, so later tables can refer to earlier keys.
func corpusTables() ([]corpusTable, []corpusFK) {
	people := corpusTable{named: "patients", blind: "ds1", rows: 1500, cols: []corpusColumn{
		{"person_id", "c1", safeharbor.RecordID, func(g *corpusGen, r int) string {
			id := int64(3_000_000 + r*7 + g.r.IntN(7))
			g.people = append(g.people, id)
			g.dob = append(g.dob, g.date(time.Date(1925, 1, 1, 0, 0, 0, 0, time.UTC),
				time.Date(2020, 12, 31, 0, 0, 0, 0, time.UTC)))
			return strconv.FormatInt(id, 10)
		}},
		{"mrn", "c2", safeharbor.MRN, func(g *corpusGen, r int) string {
			return fmt.Sprintf("MRN%08d", 10_000_000+r*37)
		}},
		{"pat_fname", "c3", safeharbor.Name, func(g *corpusGen, _ int) string { return g.first() }},
		{"pat_lname", "c4", safeharbor.Name, func(g *corpusGen, _ int) string { return g.last() }},
		{"dob", "c5", safeharbor.BirthDate, func(g *corpusGen, r int) string { return iso(g.dob[r]) }},
		{"sex", "c6", "", func(g *corpusGen, _ int) string {
			return g.pick([]string{"F", "M", "F", "M", "U"})
		}},
		{"addr1", "c7", safeharbor.Address, func(g *corpusGen, _ int) string {
			return fmt.Sprintf("%d %s %s", 1+g.r.IntN(9899), g.f.LastName(), g.pick(streetTypesShort))
		}},
		{"city", "c8", safeharbor.City, func(g *corpusGen, _ int) string {
			if g.chance(0.3) {
				return g.pick(extraCities)
			}
			return g.f.City()
		}},
		{"st", "c9", "", func(g *corpusGen, _ int) string { return g.f.StateAbr() }},
		{"zip_cd", "c10", safeharbor.Zip, func(g *corpusGen, _ int) string {
			z := g.pick(zipPrefixes) + fmt.Sprintf("%02d", g.r.IntN(100))
			if g.chance(0.05) {
				z += fmt.Sprintf("-%04d", g.r.IntN(10000))
			}
			return z
		}},
		{"tel", "c11", safeharbor.Phone, func(g *corpusGen, _ int) string { return g.phone() }},
		{"email", "c12", safeharbor.Email, func(g *corpusGen, r int) string {
			return fmt.Sprintf("person%d@example.org", r)
		}},
		{"ssn", "c13", safeharbor.SSN, func(g *corpusGen, _ int) string {
			s := fmt.Sprintf("%d-%02d-%04d", 900+g.r.IntN(100), 1+g.r.IntN(98), 1+g.r.IntN(9998))
			if g.chance(0.1) {
				s = strings.ReplaceAll(s, "-", "")
			}
			return s
		}},
		{"home_lat", "c14", safeharbor.Geocode, func(g *corpusGen, _ int) string {
			return strconv.FormatFloat(25+g.r.Float64()*23, 'f', 5, 64)
		}},
		{"home_lon", "c15", safeharbor.Geocode, func(g *corpusGen, _ int) string {
			return strconv.FormatFloat(-124+g.r.Float64()*57, 'f', 5, 64)
		}},
		{"medicare_mbi", "c16", safeharbor.HealthPlanID, func(g *corpusGen, _ int) string {
			return g.mbi()
		}},
		{"deceased_dt", "c17", safeharbor.DeathDate, func(g *corpusGen, r int) string {
			if g.dob[r].Year() > 1960 || !g.chance(0.4) {
				return ""
			}
			return iso(g.date(g.dob[r].AddDate(60, 0, 0), g.lastDay))
		}},
		{"race", "c18", "", func(g *corpusGen, _ int) string {
			return g.pick([]string{"White", "Black", "Asian", "Other", "Unknown", "Native"})
		}},
		{"intake_comments", "c19", safeharbor.FreeText, func(g *corpusGen, _ int) string {
			return g.sentence(6, 18)
		}},
		{"portal_ip", "c20", safeharbor.IP, func(g *corpusGen, _ int) string {
			return g.pick([]string{"192.0.2.", "198.51.100.", "203.0.113."}) + strconv.Itoa(1+g.r.IntN(254))
		}},
		{"home_page", "c21", safeharbor.URL, func(g *corpusGen, r int) string {
			return fmt.Sprintf("https://person%d.example.net/", r)
		}},
		{"height_cm", "c22", "", func(g *corpusGen, _ int) string {
			return strconv.FormatFloat(140+g.r.Float64()*60, 'f', 1, 64)
		}},
		{"pref_language", "c23", "", func(g *corpusGen, _ int) string {
			return g.pick([]string{"English", "Spanish", "Vietnamese", "Mandarin", "Arabic"})
		}},
		{"county_fips", "c24", safeharbor.Geocode, func(g *corpusGen, _ int) string {
			return fmt.Sprintf("%02d%03d", 1+g.r.IntN(55), 1+2*g.r.IntN(100))
		}},
	}}

	visits := corpusTable{named: "visits", blind: "ds2", rows: 12000, cols: []corpusColumn{
		{"visit_id", "field_1", safeharbor.RecordID, func(g *corpusGen, r int) string {
			id := int64(500_000_000 + r*13 + g.r.IntN(13))
			g.visits = append(g.visits, id)
			return strconv.FormatInt(id, 10)
		}},
		{"person_id", "field_2", safeharbor.RecordID, func(g *corpusGen, _ int) string {
			return strconv.FormatInt(g.people[g.r.IntN(len(g.people))], 10)
		}},
		{"admit_ts", "field_3", safeharbor.AdmissionDate, func(g *corpusGen, _ int) string {
			t := g.date(time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), g.lastDay).
				Add(time.Duration(g.r.IntN(86400)) * time.Second)
			g.visitDay = append(g.visitDay, t)
			return t.Format("2006-01-02 15:04:05")
		}},
		{"disch_ts", "field_4", safeharbor.DischargeDate, func(g *corpusGen, r int) string {
			t := g.visitDay[r].Add(time.Duration(1+g.r.IntN(10*86400)) * time.Second)
			return t.Format("2006-01-02 15:04:05")
		}},
		{"age_yrs", "field_5", safeharbor.Age, func(g *corpusGen, _ int) string {
			return strconv.Itoa(g.r.IntN(101))
		}},
		{"dx_cd", "field_6", "", func(g *corpusGen, _ int) string { return g.pick(icd) }},
		{"cpt", "field_7", "", func(g *corpusGen, _ int) string { return g.pick(cpt) }},
		{"note_txt", "field_8", safeharbor.FreeText, func(g *corpusGen, _ int) string {
			return g.sentence(10, 30)
		}},
		{"los_days", "field_9", "", func(g *corpusGen, _ int) string {
			return strconv.Itoa(g.r.IntN(15))
		}},
		{"pulse", "field_10", "", func(g *corpusGen, _ int) string {
			return strconv.Itoa(50 + g.r.IntN(71))
		}},
		{"charge_amt", "field_11", "", func(g *corpusGen, _ int) string {
			return strconv.FormatFloat(20+g.r.Float64()*4000, 'f', 2, 64)
		}},
		{"attending_id", "field_12", safeharbor.RecordID, func(g *corpusGen, _ int) string {
			return strconv.FormatInt(g.staff[g.r.IntN(len(g.staff))], 10)
		}},
		{"dept", "field_13", "", func(g *corpusGen, _ int) string {
			return g.pick([]string{"ED", "ICU", "MED", "SURG", "PEDS", "OB"})
		}},
		{"lab_collected", "field_14", safeharbor.ServiceDate, func(g *corpusGen, r int) string {
			if g.chance(0.3) {
				return ""
			}
			return g.visitDay[r].Format("01/02/2006")
		}},
	}}

	staff := corpusTable{named: "staff", blind: "ds3", rows: 80, cols: []corpusColumn{
		{"staff_id", "v1", safeharbor.RecordID, func(g *corpusGen, r int) string {
			id := int64(40_000 + r*11)
			g.staff = append(g.staff, id)
			return strconv.FormatInt(id, 10)
		}},
		{"provider_name", "v2", safeharbor.Name, func(g *corpusGen, _ int) string {
			return "Dr. " + g.first() + " " + g.last()
		}},
		{"specialty", "v3", "", func(g *corpusGen, _ int) string { return g.pick(specialties) }},
		{"npi", "v4", safeharbor.RecordID, func(g *corpusGen, r int) string {
			return luhnComplete(fmt.Sprintf("9%08d", 10_000_000+r*7919))
		}},
		{"license_no", "v5", safeharbor.License, func(g *corpusGen, r int) string {
			return fmt.Sprintf("D%07d", 1_000_000+r*4099)
		}},
		{"work_fax", "v6", safeharbor.Fax, func(g *corpusGen, _ int) string { return g.phone() }},
	}}

	drugTable := corpusTable{named: "drugs", blind: "ds4", rows: 300, cols: []corpusColumn{
		{"ndc", "k1", "", func(g *corpusGen, r int) string {
			code := fmt.Sprintf("%05d-%04d-%02d", 10000+r*97, 1000+r*3, r%100)
			g.ndcs = append(g.ndcs, code)
			return code
		}},
		{"drug_name", "k2", "", func(g *corpusGen, r int) string {
			return fmt.Sprintf("%s %d mg tablet", drugs[r%len(drugs)], 5*(1+r/len(drugs)))
		}},
		{"approval_date", "k3", "", func(g *corpusGen, _ int) string {
			return iso(g.date(time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), g.lastDay))
		}},
		{"manufacturer", "k4", "", func(g *corpusGen, _ int) string { return g.f.Company() }},
		{"schedule", "k5", "", func(g *corpusGen, _ int) string {
			return g.pick([]string{"II", "III", "IV", "V", "OTC", "RX"})
		}},
	}}

	rx := corpusTable{named: "prescriptions", blind: "ds5", rows: 8000, cols: []corpusColumn{
		{"rx_id", "k1", safeharbor.RecordID, func(g *corpusGen, _ int) string {
			return g.f.UUID()
		}},
		{"visit_id", "k2", safeharbor.RecordID, func(g *corpusGen, _ int) string {
			return strconv.FormatInt(g.visits[g.r.IntN(len(g.visits))], 10)
		}},
		{"ndc", "k3", "", func(g *corpusGen, _ int) string { return g.pick(g.ndcs) }},
		{"qty", "k4", "", func(g *corpusGen, _ int) string {
			return strconv.Itoa(10 * (1 + g.r.IntN(9)))
		}},
		{"filled_on", "k5", safeharbor.ServiceDate, func(g *corpusGen, _ int) string {
			return iso(g.date(time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), g.lastDay))
		}},
	}}

	assets := corpusTable{named: "assets", blind: "ds6", rows: 600, cols: []corpusColumn{
		{"person_id", "c1", safeharbor.RecordID, func(g *corpusGen, _ int) string {
			return strconv.FormatInt(g.people[g.r.IntN(len(g.people))], 10)
		}},
		{"vin", "c2", safeharbor.VehicleID, func(g *corpusGen, _ int) string {
			return g.chars(vinChars, 17)
		}},
		{"device_serial", "c3", safeharbor.DeviceID, func(g *corpusGen, _ int) string {
			return fmt.Sprintf("SN-%07d%s", g.r.IntN(10_000_000), g.chars("ABCDEF", 1))
		}},
		{"acct_no", "c4", safeharbor.AccountNumber, func(g *corpusGen, _ int) string {
			return luhnComplete(fmt.Sprintf("4000%011d", g.r.Int64N(100_000_000_000)))
		}},
		{"county", "c5", safeharbor.County, func(g *corpusGen, _ int) string {
			return g.f.LastName() + " County"
		}},
		{"tract", "c6", safeharbor.Geocode, func(g *corpusGen, _ int) string {
			return fmt.Sprintf("%02d%03d%06d", 1+g.r.IntN(55), 1+g.r.IntN(200), g.r.IntN(999999))
		}},
		{"dl_state", "c7", "", func(g *corpusGen, _ int) string { return g.f.StateAbr() }},
	}}

	fks := []corpusFK{
		{"visits", "person_id", "patients", "person_id"},
		{"visits", "attending_id", "staff", "staff_id"},
		{"prescriptions", "visit_id", "visits", "visit_id"},
		{"prescriptions", "ndc", "drugs", "ndc"},
		{"assets", "person_id", "patients", "person_id"},
	}
	// staff first: visits refer to it.
	return []corpusTable{staff, people, visits, drugTable, rx, assets}, fks
}

// writeCorpus writes both variants of the corpus as CSV folders.
func writeCorpus(t *testing.T) (named, blind string) {
	t.Helper()
	named, blind = t.TempDir(), t.TempDir()
	tables, _ := corpusTables()
	g := newCorpusGen()
	for _, tb := range tables {
		rows := make([][]string, tb.rows)
		for r := range rows {
			rows[r] = make([]string, len(tb.cols))
		}
		for ci, c := range tb.cols {
			for r := range rows {
				rows[r][ci] = c.gen(g, r)
			}
		}
		for _, v := range []struct {
			dir, table string
			name       func(corpusColumn) string
		}{
			{named, tb.named, func(c corpusColumn) string { return c.named }},
			{blind, tb.blind, func(c corpusColumn) string { return c.blind }},
		} {
			var header []string
			for _, c := range tb.cols {
				header = append(header, v.name(c))
			}
			writeCSV(t, filepath.Join(v.dir, v.table+".csv"), header, rows)
		}
	}
	return named, blind
}

func writeCSV(t *testing.T, path string, header []string, rows [][]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write(header)
	w.WriteAll(rows)
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

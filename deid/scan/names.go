package scan

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/deid/deid/safeharbor"
)

// nameHint is what a column's name says about it.
type nameHint struct {
	// kinds are the identifier kinds the name suggests, most specific
	// first; the classifier takes the first one the values agree with.
	kinds []safeharbor.Kind
	// strong is set when the first kind comes from an unambiguous name
	// such as ssn, dob or email rather than a generic one such as date.
	strong bool
	// fake is the surrogate format a name suggests (first-name, ...).
	fake string
	// keep is set when the name reads as something that is not an
	// identifier (sex, state, diagnosis code); keepWhy says what.
	keep    bool
	keepWhy string
	// meta is set when a qualifier such as _type, _flag or _count makes
	// the column describe an identifier rather than hold one.
	meta bool
	// nonPerson is set when the name ties the column to something other
	// than a person (a drug, a facility, a product).
	nonPerson bool
	// idLike is set for names ending in id, key, number, no and the like.
	idLike bool
	// year is set when the name says the column holds a year only.
	year bool
	// term is the part of the name that matched, for the evidence.
	term string
}

// nameRule is one entry of the name dictionary.
type nameRule struct {
	kind   safeharbor.Kind
	strong bool
	fake   string
}

// nameRules maps a term of a column name (a token, or two or three adjacent
// tokens run together) to what it suggests. Longer terms win over shorter
// ones, so "first_name" reads as a first name, not as a generic name.
var nameRules = map[string]nameRule{}

func rule(k safeharbor.Kind, strong bool, fake string, terms ...string) {
	for _, t := range terms {
		nameRules[t] = nameRule{kind: k, strong: strong, fake: fake}
	}
}

func init() {
	const s, w = true, false
	rule(safeharbor.SSN, s, "", "ssn", "socialsecurity", "socsec", "ssnum", "ssno", "ssnlast4",
		"sin", "taxid", "tin", "itin")
	rule(safeharbor.BirthDate, s, "", "dob", "birth", "birthdate", "birthday", "bdate", "dtob",
		"dateofbirth", "born", "birthdt", "bday", "brthdt")
	rule(safeharbor.DeathDate, s, "", "dod", "death", "deathdate", "deceased", "died",
		"dateofdeath", "expired", "deathdt")
	rule(safeharbor.AdmissionDate, s, "", "admit", "admitted", "admission", "admsn", "adm",
		"admitdate", "admdt")
	rule(safeharbor.DischargeDate, s, "", "discharge", "discharged", "disch", "dsch",
		"dischargedate", "dischdt")
	rule(safeharbor.ServiceDate, w, "", "service", "svc", "visit", "dos", "procedure", "proc",
		"lab", "collected", "collection", "specimen", "appointment", "appt", "surgery",
		"seen", "encounter", "enc", "vaccination", "immunization", "servicedate", "visitdate",
		"dateofservice", "svcdt", "fill", "filled", "dispensed", "ordered", "performed",
		"resulted", "scheduled", "checkin", "arrival", "arrived")
	rule(safeharbor.Date, w, "", "date", "dt", "dte", "dttm", "datetime", "timestamp", "ts",
		"time", "tm", "day", "at", "on", "when", "created", "updated", "modified")
	rule(safeharbor.Age, s, "", "age", "ageyears", "ageyrs", "ageinyears", "patientage")
	rule(safeharbor.Name, s, "first-name", "firstname", "fname", "fnm", "givenname", "forename",
		"first", "given", "frstnm", "firstnm")
	rule(safeharbor.Name, s, "last-name", "lastname", "lname", "lnm", "surname", "familyname",
		"lastnm", "maidenname", "maiden")
	rule(safeharbor.Name, s, "", "middlename", "mname", "middle", "initials", "initial",
		"nickname", "alias", "fullname", "name", "nm", "guarantor", "spouse", "mother", "father",
		"nextofkin", "nok", "emergencycontact", "employer", "suffix")
	rule(safeharbor.Address, s, "", "street", "address", "addr", "address1", "address2",
		"addr1", "addr2", "addrline", "line1", "line2", "streetaddress", "residence",
		"pobox", "apt", "housenumber", "streetname", "stree")
	rule(safeharbor.City, s, "", "city", "town", "municipality", "cty")
	rule(safeharbor.County, s, "", "county", "parish", "cnty")
	rule(safeharbor.Zip, s, "", "zip", "zipcode", "postal", "postalcode", "postcode", "zip5",
		"zip4", "zipcd", "zcta", "zip9")
	rule(safeharbor.Geocode, s, "", "lat", "latitude", "lon", "lng", "longitude", "geo",
		"geocode", "coord", "coords", "coordinates", "tract", "censustract", "fips",
		"blockgroup", "geohash", "geolocation", "gps")
	rule(safeharbor.Phone, s, "phone", "phone", "tel", "telephone", "mobile", "cell",
		"cellphone", "ph", "phn", "phonenumber", "homephone", "workphone", "pager",
		"contactnumber", "telno", "phoneno")
	rule(safeharbor.Fax, s, "fax", "fax", "faxnumber", "faxno")
	rule(safeharbor.Email, s, "email", "email", "mail", "emailaddress", "emailaddr", "eml")
	rule(safeharbor.MRN, s, "", "mrn", "medicalrecord", "medrec", "medrecno", "chart",
		"chartno", "medicalrecordnumber", "mrno", "mrnum", "empi", "pid")
	rule(safeharbor.HealthPlanID, s, "", "member", "memberid", "subscriber", "beneficiary",
		"medicaid", "medicare", "hicn", "mbi", "insuranceid", "policynumber", "policyno",
		"healthplan", "planid", "insured", "groupnumber", "payerid", "insurance")
	rule(safeharbor.AccountNumber, s, "", "account", "acct", "accountnumber", "acctno",
		"acctnum", "iban", "card", "cardnumber", "creditcard", "routing", "billing")
	rule(safeharbor.License, s, "", "license", "licence", "lic", "licenseno",
		"driverslicense", "dl", "dlnumber", "certificate", "cert", "dea", "passport")
	rule(safeharbor.VehicleID, s, "", "vin", "vehicle", "plate", "licenseplate")
	rule(safeharbor.DeviceID, s, "", "device", "serial", "serialnumber", "udi", "imei", "mac",
		"implant", "deviceid", "sn", "macaddress")
	rule(safeharbor.URL, s, "", "url", "uri", "website", "web", "homepage", "link", "webpage")
	rule(safeharbor.IP, s, "", "ip", "ipaddr", "ipaddress", "ipv4", "ipv6", "clientip",
		"remoteaddr")
	rule(safeharbor.Biometric, s, "", "fingerprint", "voiceprint", "retina", "iris",
		"biometric", "voice", "palmprint")
	rule(safeharbor.Photo, s, "", "photo", "image", "picture", "headshot", "face",
		"portrait", "img", "photograph", "selfie")
	rule(safeharbor.FreeText, s, "", "note", "notes", "comment", "comments", "narrative",
		"text", "remarks", "remark", "memo", "hpi", "history", "summary", "description", "desc",
		"freetext", "message", "msg", "body", "transcript", "impression", "findings",
		"reason", "instructions", "complaint")
	rule(safeharbor.RecordID, w, "", "id", "key", "num", "number", "no", "nbr", "nr",
		"order", "case", "ref", "identifier", "code")
	rule(safeharbor.RecordID, s, "", "uuid", "guid", "claim", "accession", "npi",
		"claimid", "accessionnumber")
}

// keepTerms are names of things that are not identifiers.
var keepTerms = map[string]string{
	"sex": "sex", "gender": "sex", "state": "state", "st": "state", "province": "state",
	"country": "country", "race": "race", "ethnicity": "ethnicity", "language": "language",
	"marital": "marital status", "religion": "religion", "icd": "diagnosis code",
	"icd10": "diagnosis code", "icd9": "diagnosis code", "cpt": "procedure code",
	"hcpcs": "procedure code", "loinc": "lab code", "ndc": "drug code", "snomed": "code",
	"rxnorm": "drug code", "dx": "diagnosis", "diagnosis": "diagnosis", "drg": "DRG",
	"status": "status", "category": "category", "class": "class", "specialty": "specialty",
	"quantity": "quantity", "qty": "quantity", "amount": "amount", "amt": "amount",
	"price": "price", "cost": "cost", "charge": "charge", "charges": "charge",
	"paid": "amount", "dose": "dose", "dosage": "dose", "unit": "unit", "units": "unit",
	"result": "result", "value": "value", "score": "score", "los": "length of stay",
	"weight": "measurement", "height": "measurement", "bmi": "measurement",
	"systolic": "measurement", "diastolic": "measurement", "pulse": "measurement",
	"heartrate": "measurement", "temp": "measurement", "temperature": "measurement",
	"severity": "severity", "priority": "priority", "route": "route",
	"frequency": "frequency", "strength": "strength", "payer": "payer",
	"department": "department", "dept": "department", "ward": "ward", "bed": "bed",
	"room": "room", "disposition": "disposition", "outcome": "outcome",
	"smoker": "measurement", "smoking": "measurement", "allergy": "allergy",
	"medication": "medication", "drug": "drug", "product": "product", "manufacturer": "company",
	"schedule": "schedule", "form": "form", "modality": "modality",
}

// metaTerms qualify an identifier's name so that the column describes it
// rather than holds it: phone_type, email_verified, ssn_on_file.
var metaTerms = map[string]bool{
	"type": true, "typ": true, "flag": true, "flg": true, "ind": true, "indicator": true,
	"status": true, "verified": true, "valid": true, "consent": true, "opt": true,
	"optin": true, "optout": true, "count": true, "cnt": true, "source": true,
	"format": true, "fmt": true, "preferred": true, "is": true, "has": true, "len": true,
	"length": true, "onfile": true, "present": true, "missing": true, "known": true,
	"unknown": true, "confirmed": true, "bool": true, "yn": true, "category": true,
}

// nonPersonTerms tie a name, a date or a number to something other than a
// person.
var nonPersonTerms = map[string]bool{
	"drug": true, "medication": true, "med": true, "product": true, "facility": true,
	"hospital": true, "clinic": true, "department": true, "dept": true, "unit": true,
	"ward": true, "site": true, "location": true, "company": true, "manufacturer": true,
	"vendor": true, "brand": true, "generic": true, "approval": true, "approved": true,
	"effective": true, "release": true, "released": true, "expiry": true,
	"expiration": true, "expires": true, "marketed": true, "published": true,
	"version": true, "file": true, "table": true, "batch": true, "load": true,
	"etl": true, "specialty": true, "payer": true, "plan": true, "program": true,
	"test": true, "panel": true, "diagnosis": true, "dx": true, "icd": true,
	"organization": true, "org": true, "practice": true, "lot": true,
}

// yearTerms mark a column that holds a year only.
var yearTerms = map[string]bool{"year": true, "yr": true, "yyyy": true, "yob": true}

// splitName breaks a column name into lowercase tokens at non-alphanumeric
// characters, lower-to-upper case changes and letter-digit boundaries:
// "PatFName" is pat f name, "addr1" is addr 1, "zip_cd" is zip cd.
func splitName(s string) []string {
	var toks []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			toks = append(toks, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		if len(cur) > 0 {
			prev := cur[len(cur)-1]
			switch {
			case unicode.IsDigit(r) != unicode.IsDigit(prev):
				flush()
			case unicode.IsUpper(r) && unicode.IsLower(prev):
				flush()
			case unicode.IsUpper(r) && unicode.IsUpper(prev) && i+1 < len(rs) &&
				unicode.IsLower(rs[i+1]):
				flush() // "SSNLast" is SSN Last
			}
		}
		cur = append(cur, r)
	}
	flush()
	return toks
}

// terms returns the tokens of a name and every run of two or three
// adjacent tokens joined, longest first, so that first_name also reads as
// firstname and date_of_birth as dateofbirth.
func terms(toks []string) []string {
	var out []string
	for n := min(len(toks), 4); n >= 1; n-- {
		for i := 0; i+n <= len(toks); i++ {
			out = append(out, strings.Join(toks[i:i+n], ""))
		}
	}
	return out
}

// nameEvidence says what the name contributed to a column's rule.
func nameEvidence(name string, h nameHint, c *Column) string {
	for _, k := range h.kinds {
		if k == c.Kind {
			return fmt.Sprintf("name %q reads as %s", name, k)
		}
	}
	switch {
	case c.Kind == "" && h.keep:
		return fmt.Sprintf("name %q reads as %s", name, h.keepWhy)
	case len(h.kinds) > 0:
		return fmt.Sprintf("name %q suggests %s", name, h.kinds[0])
	case h.keep:
		return fmt.Sprintf("name %q suggests %s", name, h.keepWhy)
	}
	return fmt.Sprintf("name %q says nothing", name)
}

// readName interprets a column name.
func readName(col string) nameHint {
	toks := splitName(col)
	var h nameHint
	for _, t := range toks {
		switch {
		case metaTerms[t]:
			h.meta = true
		case yearTerms[t]:
			h.year = true
		}
		if nonPersonTerms[t] {
			h.nonPerson = true
		}
	}
	if len(toks) > 0 {
		switch last := toks[len(toks)-1]; last {
		case "id", "key", "no", "num", "number", "nbr", "nr", "uuid", "guid", "identifier":
			h.idLike = true
		}
	}

	type match struct {
		rule nameRule
		term string
	}
	var ms []match
	seen := map[safeharbor.Kind]bool{}
	for _, t := range terms(toks) {
		if why, ok := keepTerms[t]; ok && h.keepWhy == "" {
			h.keepWhy = why
		}
		r, ok := nameRules[t]
		if !ok || seen[r.kind] {
			continue
		}
		if len(t) < 3 && len(toks) > 1 && !twoLetterOK[t] {
			continue // a two-letter token inside a longer name says little
		}
		seen[r.kind] = true
		ms = append(ms, match{r, t})
	}

	// Specific kinds first; the generic date and record-id last, so that
	// admit_date reads as an admission date and patient_dob_id as a birth
	// date before an id.
	sort.SliceStable(ms, func(i, j int) bool {
		return kindRank(ms[i].rule.kind) < kindRank(ms[j].rule.kind)
	})
	for _, m := range ms {
		h.kinds = append(h.kinds, m.rule.kind)
	}
	if len(ms) > 0 {
		h.strong, h.fake, h.term = ms[0].rule.strong, ms[0].rule.fake, ms[0].term
	}
	if h.keepWhy != "" && (len(ms) == 0 || !h.strong) {
		h.keep = true
	}
	return h
}

// twoLetterOK lists short terms that mean something inside a longer name.
var twoLetterOK = map[string]bool{
	"dt": true, "ph": true, "ip": true, "dl": true, "sn": true, "nm": true, "ts": true,
	"id": true, "no": true, "at": true, "on": true,
}

// kindRank orders the kinds a name suggests: specific ones first, then
// service dates, generic dates and record ids.
func kindRank(k safeharbor.Kind) int {
	switch k {
	case safeharbor.RecordID:
		return 3
	case safeharbor.Date:
		return 2
	case safeharbor.ServiceDate:
		return 1
	}
	return 0
}

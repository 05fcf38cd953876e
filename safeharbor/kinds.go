// Package safeharbor holds the HIPAA de-identification rules deid applies:
// the identifier kinds of 45 CFR 164.514(b)(2), the action each profile takes
// for each kind, and the field rules (ZIP3 with the embedded 2020 Census
// table, year-only dates, ages over 89). The engine in package deid applies
// these rules column by column; nothing here reads or writes data sets.
package safeharbor

import "sort"

// Kind is the identifier kind a policy assigns to a column.
type Kind string

// The identifier kinds. Letters refer to 45 CFR 164.514(b)(2)(i)(A)-(R).
const (
	Name          Kind = "name"           // (A) names of the person, relatives, employers, household
	Address       Kind = "address"        // (B) street address
	City          Kind = "city"           // (B)
	County        Kind = "county"         // (B)
	Zip           Kind = "zip"            // (B) ZIP code, kept as ZIP3 only where allowed
	Geocode       Kind = "geocode"        // (B) latitude, longitude, census tract, FIPS
	BirthDate     Kind = "birth-date"     // (C)
	DeathDate     Kind = "death-date"     // (C)
	AdmissionDate Kind = "admission-date" // (C)
	DischargeDate Kind = "discharge-date" // (C)
	ServiceDate   Kind = "service-date"   // (C) visit, procedure, lab and other service dates
	Date          Kind = "date"           // (C) any other date about the person
	Age           Kind = "age"            // (C) ages over 89 are top-coded
	Phone         Kind = "phone"          // (D)
	Fax           Kind = "fax"            // (E)
	Email         Kind = "email"          // (F)
	SSN           Kind = "ssn"            // (G)
	MRN           Kind = "mrn"            // (H)
	HealthPlanID  Kind = "health-plan-id" // (I)
	AccountNumber Kind = "account-number" // (J)
	License       Kind = "license-number" // (K) certificate or license numbers
	VehicleID     Kind = "vehicle-id"     // (L)
	DeviceID      Kind = "device-id"      // (M)
	URL           Kind = "url"            // (N)
	IP            Kind = "ip"             // (O)
	Biometric     Kind = "biometric"      // (P)
	Photo         Kind = "photo"          // (Q)
	RecordID      Kind = "record-id"      // (R) any other unique identifying number or code
	FreeText      Kind = "free-text"      // any identifier may hide in narrative text
)

// Action is what happens to a column's values.
type Action string

// The actions a policy may name.
const (
	Drop      Action = "drop"      // the column is removed from the output
	Null      Action = "null"      // the column stays, every value becomes null
	Token     Action = "token"     // keyed deterministic token (HMAC or FF1)
	Surrogate Action = "surrogate" // consistent fake value seeded by the keyed token
	Year      Action = "year"      // dates keep the year only; 90+ birth years bucketed
	Zip3      Action = "zip3"      // first 3 digits where the Census allows, else 000
	TopCode   Action = "top-code"  // ages over 89 become 90 (numeric) or "90+" (text)
	Keep      Action = "keep"      // the value passes through unchanged
)

// Profile is the de-identification standard a run follows.
type Profile string

// The profiles.
const (
	// SafeHarborProfile follows 45 CFR 164.514(b)(2); the default.
	SafeHarborProfile Profile = "safe-harbor"
	// LimitedDataSet follows 164.514(e): the output is still PHI and needs a
	// data use agreement.
	LimitedDataSet Profile = "limited-data-set"
)

// KindInfo describes one identifier kind.
type KindInfo struct {
	Kind    Kind
	Letter  string // the identifier letter in 164.514(b)(2)(i), "" for free text
	Summary string
	// Defaults is the action each profile takes when the policy names none.
	Defaults map[Profile]Action
	// Allowed lists every action a policy may choose under each profile.
	Allowed map[Profile][]Action
}

var (
	removeOnly = []Action{Drop, Null}
	tokenLike  = []Action{Token, Drop, Null}
	fakeLike   = []Action{Surrogate, Token, Drop, Null}
	dateLike   = []Action{Year, Drop, Null}
	ldsDate    = []Action{Keep, Year, Drop, Null}
)

func info(k Kind, letter, summary string, sh, lds Action, shAllowed, ldsAllowed []Action) KindInfo {
	return KindInfo{
		Kind: k, Letter: letter, Summary: summary,
		Defaults: map[Profile]Action{SafeHarborProfile: sh, LimitedDataSet: lds},
		Allowed:  map[Profile][]Action{SafeHarborProfile: shAllowed, LimitedDataSet: ldsAllowed},
	}
}

var kinds = []KindInfo{
	info(Name, "A", "names of the person, relatives, employers or household members",
		Surrogate, Surrogate, fakeLike, fakeLike),
	info(Address, "B", "street address", Surrogate, Surrogate, fakeLike, fakeLike),
	info(City, "B", "city or town", Null, Keep, []Action{Surrogate, Drop, Null},
		[]Action{Keep, Surrogate, Drop, Null}),
	info(County, "B", "county", Null, Null, removeOnly, removeOnly),
	info(Zip, "B", "ZIP code", Zip3, Keep, []Action{Zip3, Drop, Null},
		[]Action{Keep, Zip3, Drop, Null}),
	info(Geocode, "B", "latitude, longitude, census tract, block or FIPS code",
		Null, Null, removeOnly, removeOnly),
	info(BirthDate, "C", "date of birth", Year, Keep, dateLike, ldsDate),
	info(DeathDate, "C", "date of death", Year, Keep, dateLike, ldsDate),
	info(AdmissionDate, "C", "admission date", Year, Keep, dateLike, ldsDate),
	info(DischargeDate, "C", "discharge date", Year, Keep, dateLike, ldsDate),
	info(ServiceDate, "C", "service, visit, procedure or lab date", Year, Keep, dateLike, ldsDate),
	info(Date, "C", "any other date about the person", Year, Keep, dateLike, ldsDate),
	info(Age, "C", "age", TopCode, Keep, []Action{TopCode, Drop, Null},
		[]Action{Keep, TopCode, Drop, Null}),
	info(Phone, "D", "telephone number", Surrogate, Surrogate, fakeLike, fakeLike),
	info(Fax, "E", "fax number", Surrogate, Surrogate, fakeLike, fakeLike),
	info(Email, "F", "email address", Surrogate, Surrogate, fakeLike, fakeLike),
	info(SSN, "G", "social security number", Drop, Drop, tokenLike, tokenLike),
	info(MRN, "H", "medical record number", Token, Token, tokenLike, tokenLike),
	info(HealthPlanID, "I", "health plan beneficiary number", Token, Token, tokenLike, tokenLike),
	info(AccountNumber, "J", "account number", Token, Token, tokenLike, tokenLike),
	info(License, "K", "certificate or license number", Token, Token, tokenLike, tokenLike),
	info(VehicleID, "L", "vehicle identifier, serial or plate", Token, Token, tokenLike, tokenLike),
	info(DeviceID, "M", "device identifier or serial number", Token, Token, tokenLike, tokenLike),
	info(URL, "N", "web address", Null, Null, removeOnly, removeOnly),
	info(IP, "O", "IP address", Null, Null, removeOnly, removeOnly),
	info(Biometric, "P", "biometric identifier", Drop, Drop, removeOnly, removeOnly),
	info(Photo, "Q", "full-face photograph or comparable image", Drop, Drop, removeOnly, removeOnly),
	info(RecordID, "R", "any other unique identifying number, characteristic or code",
		Token, Token, tokenLike, tokenLike),
	info(FreeText, "", "narrative text, which may contain any identifier",
		Drop, Drop, removeOnly, removeOnly),
}

var byKind = func() map[Kind]KindInfo {
	m := make(map[Kind]KindInfo, len(kinds))
	for _, k := range kinds {
		m[k.Kind] = k
	}
	return m
}()

// Kinds returns every identifier kind in the order of the regulation.
func Kinds() []KindInfo {
	return append([]KindInfo(nil), kinds...)
}

// Lookup returns the description of kind k and whether it exists.
func Lookup(k Kind) (KindInfo, bool) {
	i, ok := byKind[k]
	return i, ok
}

// KindNames returns the names of all kinds, sorted, for error messages.
func KindNames() []string {
	names := make([]string, 0, len(kinds))
	for _, k := range kinds {
		names = append(names, string(k.Kind))
	}
	sort.Strings(names)
	return names
}

// Default returns the action profile p takes for kind k.
func Default(p Profile, k Kind) (Action, bool) {
	i, ok := byKind[k]
	if !ok {
		return "", false
	}
	a, ok := i.Defaults[p]
	return a, ok
}

// Allowed reports whether a policy may apply action a to kind k under p.
func Allowed(p Profile, k Kind, a Action) bool {
	i, ok := byKind[k]
	if !ok {
		return false
	}
	for _, x := range i.Allowed[p] {
		if x == a {
			return true
		}
	}
	return false
}

// IsDate reports whether k is one of the date kinds of identifier (C).
func IsDate(k Kind) bool {
	switch k {
	case BirthDate, DeathDate, AdmissionDate, DischargeDate, ServiceDate, Date:
		return true
	}
	return false
}

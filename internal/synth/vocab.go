package synth

// restrictedZIP3 lists the 3-digit ZIP prefixes that Safe Harbor requires to
// become 000, with the state they belong to: the 18 prefixes of the 2020
// Census, then the HHS 2000 list's prefixes that are not among them.
var restrictedZIP3 = []struct{ prefix, state string }{
	{"036", "NH"}, {"059", "VT"}, {"102", "NY"}, {"202", "DC"}, {"203", "DC"},
	{"204", "DC"}, {"205", "DC"}, {"369", "AL"}, {"556", "MN"}, {"692", "NE"},
	{"753", "TX"}, {"772", "TX"}, {"821", "WY"}, {"823", "WY"}, {"878", "NM"},
	{"879", "NM"}, {"884", "NM"}, {"893", "NV"},
	{"063", "CT"}, {"790", "TX"}, {"830", "WY"}, {"831", "WY"}, {"890", "NV"},
}

// states are the 50 states and the District of Columbia. gofakeit's own list
// also has the military codes, which would not match a civilian ZIP.
var states = []string{
	"AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID",
	"IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO",
	"MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA",
	"RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
}

// newEngland are the states whose ZIPs start with 0, the ones a numeric
// column truncates.
var newEngland = []string{"MA", "RI", "NH", "ME", "VT", "CT", "NJ"}

// Names outside ASCII, and with apostrophes or hyphens, mixed into
// gofakeit's names.
var (
	unicodeFirst = []string{
		"José", "Zoë", "Renée", "François", "Ángela", "Chloé", "Søren", "Iñaki",
		"Noémie", "Raúl",
	}
	unicodeLast = []string{
		"Núñez", "Muñoz", "Peña", "Béranger", "Ibáñez", "García", "Müller",
		"O'Brien", "Smith-Jones", "D'Angelo", "Łukasik", "Castaño",
	}
)

// diagnoses are ICD-10-CM codes with a short description for the notes.
var diagnoses = []struct{ code, text string }{
	{"E11.9", "type 2 diabetes"},
	{"I10", "essential hypertension"},
	{"J45.909", "asthma"},
	{"E78.5", "hyperlipidemia"},
	{"M54.5", "low back pain"},
	{"J06.9", "upper respiratory infection"},
	{"F41.1", "generalized anxiety"},
	{"F32.9", "depression"},
	{"N39.0", "urinary tract infection"},
	{"K21.9", "reflux"},
	{"I48.91", "atrial fibrillation"},
	{"I50.9", "heart failure"},
	{"J44.9", "COPD"},
	{"N18.3", "chronic kidney disease stage 3"},
	{"E03.9", "hypothyroidism"},
	{"M17.11", "osteoarthritis of the right knee"},
	{"R07.9", "chest pain"},
	{"R51.9", "headache"},
	{"S52.501A", "fracture of the radius"},
	{"Z00.00", "annual physical"},
	{"Z23", "immunization"},
	{"O80", "uncomplicated delivery"},
	{"G47.33", "obstructive sleep apnea"},
	{"L03.115", "cellulitis of the right leg"},
	{"A09", "gastroenteritis"},
	{"R26.81", "unsteady gait"},
	{"W19.XXXA", "fall"},
	{"C50.911", "breast cancer"},
	{"G30.9", "Alzheimer disease"},
	{"U07.1", "COVID-19"},
}

// symptoms and quotes fill the free-text notes.
var (
	symptoms = []string{
		"fatigue", "shortness of breath", "dizziness", "mild nausea", "a dry cough",
		"knee pain", "poor sleep", "low appetite", "swelling in both ankles",
		"occasional palpitations",
	}
	quotes = []string{
		"I feel much better", "the pain is worse at night", "I ran out of my pills",
		"it started after the fall", "I can't sleep on my left side",
	}
	drugs = []string{
		"metformin", "lisinopril", "atorvastatin", "albuterol", "levothyroxine",
		"sertraline", "amlodipine", "omeprazole",
	}
	relatives = []string{"daughter", "son", "wife", "husband", "neighbor", "caregiver"}
	plans     = []string{
		"basic metabolic panel before next visit", "home blood pressure log",
		"physical therapy referral placed", "diet and exercise counseling given",
		"chest X-ray ordered", "hemoglobin A1c in three months",
	}
)

// specialties of providers, and the credentials some names carry after a
// comma.
var (
	specialties = []string{
		"Family Medicine", "Internal Medicine", "Cardiology", "Pediatrics",
		"Obstetrics and Gynecology", "Orthopedic Surgery", "Psychiatry",
		"Emergency Medicine", "Geriatrics", "Nephrology", "Oncology", "Neurology",
	}
	credentials = []string{"MD", "DO", "NP", "PA-C"}
)

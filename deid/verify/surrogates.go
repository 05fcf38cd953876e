package verify

import (
	"net"
	"regexp"
	"strings"

	"github.com/brianvoe/gofakeit/v7/data"

	"github.com/deid/deid/safeharbor"
)

// The word lists deid's surrogates are drawn from (package tokenize copies
// them from gofakeit), for telling a surrogate from a value that was not
// replaced.
var (
	fakeFirst = setOf(data.Person["first"])
	fakeLast  = setOf(data.Person["last"])
	fakeCity  = setOf(data.Address["city"])
	fakeType  = setOf(data.Address["street_name"])
)

func setOf(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

var (
	reFakePhone  = regexp.MustCompile(`^\(\d{3}\) 555-01\d{2}$`)
	reFakeEmail  = regexp.MustCompile(`^[a-z]+\.[a-z]+\d{1,5}@example\.(?:com|org|net)$`)
	reFakeURL    = regexp.MustCompile(`^https://[a-z]+-[a-z]+\.example\.(?:com|org|net)/$`)
	reFakeStreet = regexp.MustCompile(`^\d{1,4} (.+) (\S+)$`)
)

// defaultFakes is the surrogate format of each kind when the policy names
// none, as the engine plans it.
var defaultFakes = map[safeharbor.Kind]string{
	safeharbor.Name: "full-name", safeharbor.Address: "street", safeharbor.City: "city",
	safeharbor.Email: "email", safeharbor.Phone: "phone", safeharbor.Fax: "fax",
}

// isSurrogate reports whether s has the form deid's surrogate generator
// fake gives. A real value may have it too (a real first name is on the
// list); a value without it was not replaced.
func isSurrogate(fake, s string) bool {
	switch fake {
	case "full-name":
		for i := strings.IndexByte(s, ' '); i >= 0; {
			if fakeFirst[s[:i]] && fakeLast[s[i+1:]] {
				return true
			}
			j := strings.IndexByte(s[i+1:], ' ')
			if j < 0 {
				break
			}
			i += 1 + j
		}
		return false
	case "first-name":
		return fakeFirst[s]
	case "last-name":
		return fakeLast[s]
	case "city":
		return fakeCity[s]
	case "street":
		m := reFakeStreet.FindStringSubmatch(s)
		return m != nil && fakeLast[m[1]] && fakeType[m[2]]
	case "email":
		return reFakeEmail.MatchString(s)
	case "phone", "fax":
		return reFakePhone.MatchString(s)
	case "url":
		return reFakeURL.MatchString(s)
	case "ipv4", "ipv6":
		return documentationIP(net.ParseIP(s))
	}
	return false
}

// listSize is the number of surrogates a format drawn from one word list
// can give, 0 for formats whose space is large. A surrogate equal to the
// original value by chance is then expected in about one row in listSize.
func listSize(fake string) int {
	switch fake {
	case "first-name":
		return len(fakeFirst)
	case "last-name":
		return len(fakeLast)
	case "city":
		return len(fakeCity)
	}
	return 0
}

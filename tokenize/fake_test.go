package tokenize

import (
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestAppendFakeGolden(t *testing.T) {
	d := New(testKey(t)).Domain("patient")
	v := []byte("Zyx Fictional Qwerty")
	want := map[Fake]string{
		FullName:  "Joannie Wagner",
		FirstName: "Stella",
		LastName:  "Stevenson",
		Street:    "2215 Tyler Mills",
		City:      "Orlando",
		Email:     "micah.conroy67824@example.net",
		Phone:     "(359) 555-0109",
		Fax:       "(686) 555-0172",
		URL:       "https://camila-rath.example.com/",
		IPv4:      "198.51.100.129",
		IPv6:      "2001:db8:8981:abbe::dbfe",
	}
	for _, f := range Fakes() {
		if got := string(d.AppendFake(nil, f, v)); got != want[f] {
			t.Errorf("AppendFake(%s) = %q, want %q", f, got, want[f])
		}
	}
}

func TestSurrogateListsIDGolden(t *testing.T) {
	// A change here means gofakeit's word lists changed, and with them every
	// surrogate; update the golden surrogates too, and say so in the release
	// notes.
	if got, want := SurrogateListsID(), "0ac7df159172ba49"; got != want {
		t.Errorf("SurrogateListsID = %s, want %s", got, want)
	}
}

func TestAppendFakeShapes(t *testing.T) {
	name := `[A-Z][A-Za-z]+`
	shapes := map[Fake]*regexp.Regexp{
		FullName:  regexp.MustCompile(`^` + name + ` ` + name + `$`),
		FirstName: regexp.MustCompile(`^` + name + `$`),
		LastName:  regexp.MustCompile(`^` + name + `$`),
		Street:    regexp.MustCompile(`^[1-9][0-9]{0,3} ` + name + ` ` + name + `$`),
		City:      regexp.MustCompile(`^[A-Z][A-Za-z .'/-]+$`),
		Email:     regexp.MustCompile(`^[a-z]+\.[a-z]+[1-9][0-9]{0,4}@example\.(com|org|net)$`),
		Phone:     regexp.MustCompile(`^\([2-9][0-9]{2}\) 555-01[0-9]{2}$`),
		Fax:       regexp.MustCompile(`^\([2-9][0-9]{2}\) 555-01[0-9]{2}$`),
		URL:       regexp.MustCompile(`^https://[a-z]+-[a-z]+\.example\.(com|org|net)/$`),
		IPv4:      regexp.MustCompile(`^(192\.0\.2|198\.51\.100|203\.0\.113)\.[0-9]+$`),
		IPv6:      regexp.MustCompile(`^2001:db8:[0-9a-f]{1,4}:[0-9a-f]{1,4}::[0-9a-f]{1,4}$`),
	}
	d := New(testKey(t)).Domain("patient")
	for _, f := range Fakes() {
		re, ok := shapes[f]
		if !ok {
			t.Fatalf("no shape for %s", f)
		}
		distinct := map[string]bool{}
		for i := range 2000 {
			got := string(d.AppendFake(nil, f, []byte(strconv.Itoa(i))))
			if !re.MatchString(got) {
				t.Fatalf("%s surrogate %q does not match %s", f, got, re)
			}
			checkReserved(t, f, got)
			distinct[got] = true
		}
		if len(distinct) < 90 {
			t.Errorf("%s: only %d distinct surrogates of 2000 values", f, len(distinct))
		}
	}
}

// checkReserved checks what the regular expressions cannot: that numbers
// and addresses fall in ranges reserved for fiction or documentation.
func checkReserved(t *testing.T, f Fake, got string) {
	t.Helper()
	switch f {
	case Phone, Fax:
		if area := got[1:4]; area[1:] == "11" {
			t.Fatalf("%s %q uses the service code %s", f, got, area)
		}
		line, _ := strconv.Atoi(got[len(got)-4:])
		if line < 100 || line > 199 {
			t.Fatalf("%s %q is outside 555-0100..0199", f, got)
		}
	case IPv4, IPv6:
		a, err := netip.ParseAddr(got)
		if err != nil {
			t.Fatalf("%s %q does not parse: %v", f, got, err)
		}
		doc := []netip.Prefix{
			netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"),
			netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32"),
		}
		if !slices.ContainsFunc(doc, func(p netip.Prefix) bool { return p.Contains(a) }) {
			t.Fatalf("%s %q is outside the documentation ranges", f, got)
		}
		if a.String() != got {
			t.Fatalf("%s %q is not in canonical form %s", f, got, a)
		}
		if f == IPv4 && (a.As4()[3] == 0 || a.As4()[3] == 255) {
			t.Fatalf("%s %q is a network or broadcast address", f, got)
		}
	case Street:
		if n, _ := strconv.Atoi(strings.Fields(got)[0]); n < 1 || n > 9999 {
			t.Fatalf("street number of %q outside 1..9999", got)
		}
	}
}

func TestAppendFakeIsConsistent(t *testing.T) {
	a := New(testKey(t)).Domain("patient")
	b := New(testKey(t)).Domain("patient")
	other := New(testKey(t)).Domain("employer")
	v := []byte("Zyx Fictional Qwerty")

	for _, f := range Fakes() {
		first := string(a.AppendFake(nil, f, v))
		if got := string(b.AppendFake(nil, f, v)); got != first {
			t.Errorf("%s: %q from one tokenizer, %q from another with the same key", f, first, got)
		}
		if got := string(a.AppendFake([]byte("x:"), f, v)); got != "x:"+first {
			t.Errorf("%s: AppendFake does not append: %q", f, got)
		}
		_ = other.AppendFake(nil, f, v)
	}
	if string(a.AppendFake(nil, Phone, v)) == string(a.AppendFake(nil, Fax, v)) {
		t.Error("phone and fax surrogates of one value are equal")
	}
}

func TestFakeNames(t *testing.T) {
	all := Fakes()
	if len(all) < 8 {
		t.Fatalf("Fakes() = %v, want at least the eight the engine names", all)
	}
	for _, f := range all {
		got, ok := ParseFake(string(f))
		if !ok || got != f {
			t.Errorf("ParseFake(%q) = %q, %v", f, got, ok)
		}
	}
	for _, s := range []string{"", "name", "Full-Name", "ssn"} {
		if _, ok := ParseFake(s); ok {
			t.Errorf("ParseFake(%q) succeeded", s)
		}
	}
	all[0] = "mutated"
	if Fakes()[0] != FullName {
		t.Error("Fakes returns the package's own slice")
	}
}

func TestAppendFakePanicsOnUnknown(t *testing.T) {
	d := New(testKey(t)).Domain("patient")
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("AppendFake(unknown) did not panic")
		}
		if msg, _ := r.(string); strings.Contains(msg, "Canary Value") {
			t.Errorf("panic %q quotes the value", msg)
		}
	}()
	d.AppendFake(nil, Fake("no-such-fake"), []byte("Canary Value"))
}

func TestWordListsAreClean(t *testing.T) {
	for name, list := range map[string][]string{
		"first": lists.first, "last": lists.last, "city": lists.city,
		"street type": lists.streetType,
	} {
		if len(list) < 10 {
			t.Errorf("%s list has %d words", name, len(list))
		}
		seen := map[string]bool{}
		for _, w := range list {
			if w == "" || seen[w] {
				t.Errorf("%s list has an empty or repeated word %q", name, w)
			}
			seen[w] = true
		}
	}
}

func TestFakeNeverEqualsTheRealValue(t *testing.T) {
	d := New(testKey(t)).Domain("names")
	for f, list := range map[Fake][]string{FirstName: lists.first, LastName: lists.last, City: lists.city} {
		words := 0
		for _, w := range list {
			got := d.AppendFake(nil, f, []byte(w))
			if strings.EqualFold(string(got), w) {
				t.Errorf("%s: the fake of a listed word is the word itself", f)
			}
			if string(got) != string(d.AppendFake(nil, f, []byte(w))) {
				t.Errorf("%s: fake not deterministic", f)
			}
			words++
		}
		if words == 0 {
			t.Errorf("%s: empty word list", f)
		}
	}
}

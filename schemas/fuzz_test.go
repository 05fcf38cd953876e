package schemas

import (
	"errors"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzDecode checks that Decode never panics, that a failure is always a
// non-empty *Problems, and that a decoded policy validates without panicking
// and survives a round trip through yaml.Marshal. The seed corpus is in
// testdata/fuzz/FuzzDecode; the bundled policies are added to it. The seeds
// are large enough that minimizing each new input takes the default minute;
// run it with a short -fuzzminimizetime, e.g.
//
//	go test -run '^$' -fuzz FuzzDecode -fuzztime 2m -fuzzminimizetime 3s ./schemas/
func FuzzDecode(f *testing.F) {
	for _, name := range BundledNames() {
		data, err := Bundled(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Decode(data, "fuzz.yaml")
		if err != nil {
			var ps *Problems
			if !errors.As(err, &ps) || len(ps.List) == 0 || err.Error() == "" {
				t.Fatalf("Decode error %T %q is not a non-empty *Problems", err, err)
			}
			if p != nil {
				t.Fatal("Decode returned a policy with an error")
			}
			return
		}

		_ = p.Validate()
		for _, tp := range p.Tables {
			for _, c := range tp.Columns {
				_ = c.Effective(p.Profile)
				_ = c.Domain()
			}
		}

		out, err := yaml.Marshal(p)
		if err != nil {
			t.Fatalf("marshalling a decoded policy: %v", err)
		}
		p2, err := Decode(out, "marshalled.yaml")
		if err != nil {
			t.Fatalf("decoding a marshalled policy: %v\n%s", err, out)
		}
		again, err := yaml.Marshal(p2)
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(out) {
			t.Fatalf("round trip changed the policy:\n%s\nthen\n%s", out, again)
		}
	})
}

package schemas

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

//go:embed policies/*.yaml
var bundled embed.FS

// Bundled returns the bytes of the bundled policy called name, e.g. "demo",
// the policy of the synthetic extract `deid demo` runs on. Decode or Check
// them like a policy file.
func Bundled(name string) ([]byte, error) {
	names := BundledNames()
	if !slices.Contains(names, name) {
		return nil, fmt.Errorf("bundled policy %q: no such policy; bundled: %s",
			name, strings.Join(names, ", "))
	}
	return bundled.ReadFile("policies/" + name + ".yaml")
}

// BundledNames returns the names of the bundled policies, sorted.
func BundledNames() []string {
	entries, _ := fs.ReadDir(bundled, "policies") // embedded: cannot fail
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), path.Ext(e.Name())))
	}
	return names
}

package tokenize

import (
	"strings"
	"testing"
)

// TestLoadKeyFileRefusesAKeyAsPath checks that a key passed where its file's
// name belongs is refused without being printed.
func TestLoadKeyFileRefusesAKeyAsPath(t *testing.T) {
	const hexKey = "8f14e45fceea167a5a36dedd4bea2543c5e2a3f1b0d9e8c7b6a5f4e3d2c1b0a9"
	for _, path := range []string{hexKey, " " + hexKey + "\n", hexKey[:32], strings.ToUpper(hexKey)} {
		_, err := LoadKeyFile(path)
		if err == nil {
			t.Fatalf("LoadKeyFile accepted a key as its path")
		}
		if strings.Contains(strings.ToLower(err.Error()), hexKey[:16]) {
			t.Errorf("error quotes the key: %v", err)
		}
		if !strings.Contains(err.Error(), "is a key itself") {
			t.Errorf("error %q does not say the path is a key", err)
		}
	}
}

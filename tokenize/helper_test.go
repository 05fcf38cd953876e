package tokenize

import "testing"

// testKeyBytes is the fixed test key 0x00, 0x01, ..., 0x1f. It is public
// and protects nothing.
func testKeyBytes() []byte {
	b := make([]byte, KeySize)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

const testKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func testKey(t testing.TB) *Key {
	t.Helper()
	k, err := ParseKey(testKeyBytes())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// otherKey is a second fixed test key, 0xff, 0xfe, ..., 0xe0.
func otherKey(t testing.TB) *Key {
	t.Helper()
	b := make([]byte, KeySize)
	for i := range b {
		b[i] = byte(0xff - i)
	}
	k, err := ParseKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

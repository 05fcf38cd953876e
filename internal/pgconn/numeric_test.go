package pgconn

import (
	"bytes"
	"context"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/deid/deid/internal/pgtest"
)

// numericCases are decimals with the scale of their column; each must
// survive both directions of the binary numeric format unchanged.
var numericCases = []struct {
	text  string
	scale int
}{
	{"0", 0}, {"0.00", 2}, {"1", 0}, {"-1", 0}, {"10000", 0}, {"9999", 0},
	{"12.50", 2}, {"-12.50", 2}, {"0.05", 2}, {"0.0001", 4}, {"0.00001", 5},
	{"123456789.123456789", 9}, {"100000000", 0}, {"-0.001", 3},
	{"18446744073709551615", 0}, {"18446744073709551616", 0},
	{"99999999999999999999999999999999999999", 0},
	{"-9999999999999999999999999999.9999999999", 10},
	{"0.12345678901234567890123456789012345678", 38},
	{"1.1000", 4}, {"50000.0", 1},
}

func TestNumericRoundTrip(t *testing.T) {
	for _, c := range numericCases {
		n, err := decimal128.FromString(c.text, 38, int32(c.scale))
		if err != nil {
			t.Fatalf("FromString(%q): %v", c.text, err)
		}
		enc := AppendNumeric(nil, n, c.scale)
		got, err := DecodeNumeric(enc, c.scale)
		if err != nil {
			t.Fatalf("DecodeNumeric(AppendNumeric(%s)): %v", c.text, err)
		}
		if got != n {
			t.Errorf("round trip of %s gave %s", c.text, got.ToString(int32(c.scale)))
		}
		fromText, ok := AppendNumericText(nil, c.text)
		if !ok || !bytes.Equal(fromText, enc) {
			t.Errorf("AppendNumericText(%s) = %x, %v; want %x", c.text, fromText, ok, enc)
		}
	}
}

func TestNumericTextRefused(t *testing.T) {
	for _, s := range []string{"", "-", ".", "1.2.3", "12a", "1e", "0x10", " 1"} {
		if _, ok := AppendNumericText(nil, s); ok {
			t.Errorf("AppendNumericText(%q) accepted", s)
		}
	}
	nan, _ := AppendNumericText(nil, "NaN")
	if _, err := DecodeNumeric(nan, 0); err != ErrNumericSpecial {
		t.Errorf("DecodeNumeric(NaN) error = %v, want ErrNumericSpecial", err)
	}
}

func TestUUID(t *testing.T) {
	const s = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
	raw, ok := ParseUUID(nil, s)
	if !ok || len(raw) != 16 {
		t.Fatalf("ParseUUID(%s) = %x, %v", s, raw, ok)
	}
	if got := string(AppendUUID(nil, raw)); got != s {
		t.Errorf("AppendUUID = %s, want %s", got, s)
	}
	for _, bad := range []string{"", "a0eebc99", s + "0", "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
		"a0eebc999-c0b-4ef8-bb6d-6bb9bd380a11"} {
		if _, ok := ParseUUID(nil, bad); ok {
			t.Errorf("ParseUUID(%q) accepted", bad)
		}
	}
}

// TestIntegrationNumericWire checks both directions against the server:
// what it sends decodes to the same decimal, and what deid encodes reads
// back as the same text.
func TestIntegrationNumericWire(t *testing.T) {
	conn := pgtest.Connect(t, pgtest.New(t)).PgConn()
	ctx := context.Background()
	for _, c := range numericCases {
		typ := "numeric(38," + strconv.Itoa(c.scale) + ")"
		rr := conn.ExecParams(ctx, "SELECT $1::text::"+typ, [][]byte{[]byte(c.text)},
			nil, nil, []int16{1})
		if !rr.NextRow() {
			_, err := rr.Close()
			t.Fatalf("selecting %s: %v", c.text, err)
		}
		got, err := DecodeNumeric(rr.Values()[0], c.scale)
		if _, cerr := rr.Close(); cerr != nil {
			t.Fatalf("selecting %s: %v", c.text, cerr)
		}
		if err != nil || got.ToString(int32(c.scale)) != c.text {
			t.Errorf("server %s decoded to %s (%v)", c.text, got.ToString(int32(c.scale)), err)
		}

		enc, _ := AppendNumericText(nil, c.text)
		rr = conn.ExecParams(ctx, "SELECT $1::numeric::text", [][]byte{enc},
			[]uint32{1700}, []int16{1}, []int16{0})
		if !rr.NextRow() {
			_, err := rr.Close()
			t.Fatalf("sending %s: %v", c.text, err)
		}
		back := string(rr.Values()[0])
		if _, err := rr.Close(); err != nil {
			t.Fatalf("sending %s: %v", c.text, err)
		}
		if back != c.text {
			t.Errorf("sent %s, server read %s", c.text, back)
		}
	}
}

package pgconn

import (
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// The sign word of PostgreSQL's binary numeric format.
const (
	numericPos    = 0x0000
	numericNeg    = 0x4000
	numericNaN    = 0xC000
	numericPosInf = 0xD000
	numericNegInf = 0xF000
)

// Errors about a numeric value; they never quote it.
var (
	ErrNumericSpecial = errors.New("NaN or infinity has no decimal representation")
	ErrNumericRange   = errors.New("numeric value does not fit the declared precision")
	ErrNumericFormat  = errors.New("malformed numeric value")
)

// DecodeNumeric turns a numeric in PostgreSQL's binary format into the
// integer value*10^scale that an Arrow decimal128 with that scale holds.
// Digits beyond the scale, which a numeric(p,scale) column never has, are
// truncated.
func DecodeNumeric(v []byte, scale int) (decimal128.Num, error) {
	if len(v) < 8 {
		return decimal128.Num{}, ErrNumericFormat
	}
	ndigits := int(int16(binary.BigEndian.Uint16(v)))
	weight := int(int16(binary.BigEndian.Uint16(v[2:])))
	sign := binary.BigEndian.Uint16(v[4:])
	if sign == numericNaN || sign == numericPosInf || sign == numericNegInf {
		return decimal128.Num{}, ErrNumericSpecial
	}
	if ndigits < 0 || len(v) != 8+2*ndigits {
		return decimal128.Num{}, ErrNumericFormat
	}

	// Group i (base 10000) is worth 10^(4*(weight-i)) and lands at decimal
	// exponent e = 4*(weight-i)+scale of the result. Groups with e <= -4
	// are below the scale; the last one kept may be partly so.
	used := 0
	for used < ndigits && 4*(weight-used)+scale > -4 {
		used++
	}
	var small uint64
	var big decimal128.Num
	wide := false
	push := func(mul uint64, add uint64) {
		if !wide && small <= (math.MaxUint64-add)/mul {
			small = small*mul + add
			return
		}
		if !wide {
			big, wide = decimal128.FromU64(small), true
		}
		big = big.Mul(decimal128.FromU64(mul)).Add(decimal128.FromU64(add))
	}
	for i := range used {
		d := uint64(binary.BigEndian.Uint16(v[8+2*i:]))
		if d > 9999 {
			return decimal128.Num{}, ErrNumericFormat
		}
		e := 4*(weight-i) + scale
		switch {
		case i < used-1:
			push(10000, d)
		case e >= 0:
			push(10000, 0)
			push(1, d)
			for ; e > 0; e -= min(e, 19) {
				push(pow10[min(e, 19)], 0)
			}
		default:
			push(pow10[4+e], d/pow10[-e])
		}
	}
	n := big
	if !wide {
		n = decimal128.FromU64(small)
	}
	if !n.FitsInPrecision(38) {
		return decimal128.Num{}, ErrNumericRange
	}
	if sign == numericNeg {
		n = n.Negate()
	}
	return n, nil
}

var pow10 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// AppendNumeric appends the binary numeric format of the decimal
// n*10^-scale to buf. scale must not be negative.
func AppendNumeric(buf []byte, n decimal128.Num, scale int) []byte {
	neg := n.Sign() < 0
	var digits []byte
	var scratch [48]byte
	if a := n.Abs(); a.HighBits() == 0 {
		digits = strconv.AppendUint(scratch[:0], a.LowBits(), 10)
	} else {
		digits = a.BigInt().Append(scratch[:0], 10)
	}
	return appendDigits(buf, neg, digits, len(digits)-scale, scale)
}

// AppendNumericBig is AppendNumeric for an arbitrary integer.
func AppendNumericBig(buf []byte, n *big.Int, scale int) []byte {
	digits := new(big.Int).Abs(n).Append(nil, 10)
	return appendDigits(buf, n.Sign() < 0, digits, len(digits)-scale, scale)
}

// AppendNumericText appends the binary numeric format of a decimal written
// as text ("-12.50", "1e3", "NaN", "Infinity") to buf, or reports false.
func AppendNumericText(buf []byte, s string) ([]byte, bool) {
	switch s {
	case "NaN":
		return appendHeader(buf, 0, 0, numericNaN, 0), true
	case "Infinity", "+Infinity", "inf", "+inf":
		return appendHeader(buf, 0, 0, numericPosInf, 0), true
	case "-Infinity", "-inf":
		return appendHeader(buf, 0, 0, numericNegInf, 0), true
	}
	i, neg := 0, false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var digits []byte
	point, sawPoint, sawDigit := 0, false, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
			sawDigit = true
			if !sawPoint {
				point++
			}
		case c == '.' && !sawPoint:
			sawPoint = true
		default:
			goto exponent
		}
	}
exponent:
	if !sawDigit {
		return buf, false
	}
	dscale := len(digits) - point
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return buf, false
		}
		exp, err := strconv.Atoi(s[i+1:])
		if err != nil || exp > 1000 || exp < -1000 {
			return buf, false
		}
		point += exp
		dscale = max(0, dscale-exp)
	}
	return appendDigits(buf, neg, digits, point, dscale), true
}

// appendDigits encodes the decimal whose ASCII digits are digits, with the
// decimal point after the first point of them (point may be negative or
// beyond the digits), displayed with dscale fractional digits.
func appendDigits(buf []byte, neg bool, digits []byte, point, dscale int) []byte {
	// Align the point on a group boundary: pad left so that the integer
	// part is a whole number of groups.
	lead := ((point % 4) + 4) % 4
	if lead != 0 {
		lead = 4 - lead
	}
	weight := (point+lead)/4 - 1
	if point+lead < 0 {
		weight = -((-(point + lead)) / 4) - 1
	}
	total := lead + len(digits)
	ngroups := (total + 3) / 4

	groups := make([]uint16, 0, ngroups)
	for g := range ngroups {
		var d uint16
		for k := range 4 {
			pos := g*4 + k - lead
			d *= 10
			if pos >= 0 && pos < len(digits) {
				d += uint16(digits[pos] - '0')
			}
		}
		groups = append(groups, d)
	}
	for len(groups) > 0 && groups[0] == 0 {
		groups = groups[1:]
		weight--
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}

	sign := uint16(numericPos)
	if neg && len(groups) > 0 {
		sign = numericNeg
	}
	if len(groups) == 0 {
		weight = 0
	}
	buf = appendHeader(buf, len(groups), weight, sign, dscale)
	for _, d := range groups {
		buf = binary.BigEndian.AppendUint16(buf, d)
	}
	return buf
}

func appendHeader(buf []byte, ndigits, weight int, sign uint16, dscale int) []byte {
	buf = binary.BigEndian.AppendUint16(buf, uint16(ndigits))
	buf = binary.BigEndian.AppendUint16(buf, uint16(int16(weight)))
	buf = binary.BigEndian.AppendUint16(buf, sign)
	return binary.BigEndian.AppendUint16(buf, uint16(dscale))
}

const hexDigits = "0123456789abcdef"

// AppendUUID appends the canonical text of a 16-byte UUID to buf.
func AppendUUID(buf []byte, u []byte) []byte {
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			buf = append(buf, '-')
		}
		buf = append(buf, hexDigits[b>>4], hexDigits[b&0xf])
	}
	return buf
}

// ParseUUID appends the 16 bytes of a UUID written in its canonical text,
// with or without hyphens or braces, to buf, or reports false.
func ParseUUID(buf []byte, s string) ([]byte, bool) {
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	n := 0
	var hi byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' && len(s) == 36 && (i == 8 || i == 13 || i == 18 || i == 23) {
			continue
		}
		v, ok := unhex(c)
		if !ok {
			return buf, false
		}
		if n%2 == 0 {
			hi = v
		} else {
			buf = append(buf, hi<<4|v)
		}
		n++
	}
	return buf, n == 32 && (len(s) == 32 || len(s) == 36)
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

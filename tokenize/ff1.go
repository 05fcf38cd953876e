package tokenize

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
)

// FF1 limits from NIST SP 800-38G (rev. 1): the radix is 2..2^16, a
// message has at least 2 numerals, and radix^n is at least one million.
const (
	ff1MinRadix  = 2
	ff1MaxRadix  = 1 << 16
	ff1MinDomain = 1_000_000
	ff1Rounds    = 10
)

// FF1 is the FF1 format-preserving cipher of NIST SP 800-38G on AES: a keyed
// permutation of the numeral strings of one length in one radix. It is the
// general form, on math/big, for any radix from 2 to 65536 and any length
// whose domain holds at least 1,000,000 strings; Domain.Int64 and
// Domain.Int32 use a faster radix-2 form that gives the same results.
//
// An FF1 is safe for concurrent use.
type FF1 struct {
	block cipher.Block
	radix int
}

// NewFF1 returns FF1 under an AES-128, AES-192 or AES-256 key (16, 24 or 32
// bytes) for numerals of the given radix.
func NewFF1(key []byte, radix int) (*FF1, error) {
	if radix < ff1MinRadix || radix > ff1MaxRadix {
		return nil, fmt.Errorf("ff1: radix %d outside %d..%d", radix, ff1MinRadix, ff1MaxRadix)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("ff1: %w", err)
	}
	return &FF1{block: block, radix: radix}, nil
}

// Radix returns the radix of the numerals f enciphers.
func (f *FF1) Radix() int { return f.radix }

// Encrypt returns the encryption of the numeral string x (most significant
// numeral first, each below the radix) under the tweak. The result has the
// length of x. Errors name a position, never a numeral.
func (f *FF1) Encrypt(tweak []byte, x []uint16) ([]uint16, error) {
	return f.crypt(tweak, x, false)
}

// Decrypt inverts Encrypt under the same tweak.
func (f *FF1) Decrypt(tweak []byte, x []uint16) ([]uint16, error) {
	return f.crypt(tweak, x, true)
}

// checkFF1Domain returns an error unless n numerals of the radix are a valid
// FF1 message length: n >= 2, n < 2^32 and radix^n >= 1,000,000.
func checkFF1Domain(radix, n int) error {
	if n < 2 || uint64(n) >= 1<<32 {
		return fmt.Errorf("ff1: length %d outside 2..2^32-1", n)
	}
	size := 1
	for i := 0; i < n && size < ff1MinDomain; i++ {
		size *= radix
	}
	if size < ff1MinDomain {
		return fmt.Errorf("ff1: %d numerals of radix %d give fewer than 1,000,000 values",
			n, radix)
	}
	return nil
}

func (f *FF1) crypt(tweak []byte, x []uint16, decrypt bool) ([]uint16, error) {
	n, t := len(x), len(tweak)
	if err := checkFF1Domain(f.radix, n); err != nil {
		return nil, err
	}
	if uint64(t) >= 1<<32 {
		return nil, errors.New("ff1: tweak longer than 2^32-1 bytes")
	}
	for i, d := range x {
		if int(d) >= f.radix {
			return nil, fmt.Errorf("ff1: numeral at position %d is not below radix %d",
				i, f.radix)
		}
	}

	// Steps 1-5 of Algorithm 7: split, sizes, and the fixed block P.
	u, v := n/2, n-n/2
	radix := big.NewInt(int64(f.radix))
	modU := new(big.Int).Exp(radix, big.NewInt(int64(u)), nil)
	modV := new(big.Int).Exp(radix, big.NewInt(int64(v)), nil)
	b := (new(big.Int).Sub(modV, big.NewInt(1)).BitLen() + 7) / 8
	d := 4*((b+3)/4) + 4
	p := ff1P(f.radix, u, n, t)

	// Q = T || 0^((-t-b-1) mod 16) || i || NUM(B) in b bytes.
	pad := ((-(t + b + 1))%16 + 16) % 16
	q := make([]byte, t+pad+1+b)
	copy(q, tweak)
	round, numB := q[t+pad:t+pad+1], q[t+pad+1:]

	a, bb := f.num(x[:u]), f.num(x[u:])
	y, c := new(big.Int), new(big.Int)
	s := make([]byte, (d+15)/16*16)
	for k := 0; k < ff1Rounds; k++ {
		i := k
		if decrypt {
			i = ff1Rounds - 1 - k
		}
		round[0] = byte(i)
		if decrypt {
			a.FillBytes(numB)
		} else {
			bb.FillBytes(numB)
		}
		y.SetBytes(f.prfS(s, &p, q)[:d])

		m := modU
		if i%2 == 1 {
			m = modV
		}
		if decrypt {
			c.Sub(bb, y).Mod(c, m)
			a, bb, c = c, a, bb
		} else {
			c.Add(a, y).Mod(c, m)
			a, bb, c = bb, c, a
		}
	}

	out := make([]uint16, n)
	f.str(out[:u], a)
	f.str(out[u:], bb)
	return out, nil
}

// ff1P builds P = [1,2,1] || radix in 3 bytes || 10 || u mod 256 || n in 4
// bytes || t in 4 bytes.
func ff1P(radix, u, n, t int) [16]byte {
	var p [16]byte
	p[0], p[1], p[2] = 1, 2, 1
	p[3], p[4], p[5] = byte(radix>>16), byte(radix>>8), byte(radix)
	p[6], p[7] = 10, byte(u)
	binary.BigEndian.PutUint32(p[8:], uint32(n))
	binary.BigEndian.PutUint32(p[12:], uint32(t))
	return p
}

// prfS computes R = PRF(P || Q), the CBC-MAC under the key, and expands it to
// S = R || CIPH(R xor [1]^16) || CIPH(R xor [2]^16) ... in s.
func (f *FF1) prfS(s []byte, p *[16]byte, q []byte) []byte {
	var r [16]byte
	f.block.Encrypt(r[:], p[:])
	for len(q) > 0 {
		for j := range r {
			r[j] ^= q[j]
		}
		f.block.Encrypt(r[:], r[:])
		q = q[16:]
	}

	copy(s, r[:])
	for j := 1; j < len(s)/16; j++ {
		blk := s[16*j : 16*j+16]
		copy(blk, r[:])
		var ctr [16]byte
		binary.BigEndian.PutUint64(ctr[8:], uint64(j))
		for k := range blk {
			blk[k] ^= ctr[k]
		}
		f.block.Encrypt(blk, blk)
	}
	return s
}

// num returns NUM_radix(x), most significant numeral first.
func (f *FF1) num(x []uint16) *big.Int {
	r := big.NewInt(int64(f.radix))
	z, dig := new(big.Int), new(big.Int)
	for _, d := range x {
		z.Mul(z, r).Add(z, dig.SetUint64(uint64(d)))
	}
	return z
}

// str writes STR_radix^len(out)(z) into out, most significant numeral
// first. z is below radix^len(out).
func (f *FF1) str(out []uint16, z *big.Int) {
	r := big.NewInt(int64(f.radix))
	q, m := new(big.Int).Set(z), new(big.Int)
	for i := len(out) - 1; i >= 0; i-- {
		q.QuoRem(q, r, m)
		out[i] = uint16(m.Uint64())
	}
}

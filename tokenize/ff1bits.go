package tokenize

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"sync"
)

// ff1Bits is FF1 in radix 2 over a fixed bit length n (20..64) and a fixed
// tweak, on uint64 values, with no allocation. It gives exactly the results
// of FF1 with radix 2 on the n numerals of x, most significant bit first.
//
// With n <= 64 the right half B has at most 32 bits, so b <= 4 and d = 8:
// NUM(B) fits the last block of Q, y is the first 8 bytes of R, and
// (A + y) mod 2^m is a masked uint64 sum. Every block of P || Q but the last
// is the same in every round, so its CBC-MAC state is computed once.
type ff1Bits struct {
	block cipher.Block
	u, v  uint // bits of the left and right halves
	b     int  // bytes of NUM(B) in Q
	// base is the CBC-MAC state before Q's last block, xored with that
	// block's fixed bytes; a round xors in its index and NUM(B) and
	// enciphers it.
	base [16]byte
}

// blockPool holds scratch blocks: a slice passed to cipher.Block escapes,
// so a block on the stack would be an allocation per call.
var blockPool = sync.Pool{New: func() any { return new([16]byte) }}

func newFF1Bits(block cipher.Block, n int, tweak []byte) (*ff1Bits, error) {
	if n > 64 {
		return nil, fmt.Errorf("ff1: %d bits exceed the 64-bit form", n)
	}
	if err := checkFF1Domain(2, n); err != nil {
		return nil, err
	}
	f := &ff1Bits{block: block, u: uint(n / 2), v: uint(n - n/2)}
	f.b = (int(f.v) + 7) / 8

	t := len(tweak)
	pad := ((-(t + f.b + 1))%16 + 16) % 16
	q := make([]byte, t+pad+1+f.b)
	copy(q, tweak)

	p := ff1P(2, int(f.u), n, t)
	var r [16]byte
	block.Encrypt(r[:], p[:])
	for len(q) > 16 {
		for j := range r {
			r[j] ^= q[j]
		}
		block.Encrypt(r[:], r[:])
		q = q[16:]
	}
	for j := range r {
		f.base[j] = r[j] ^ q[j]
	}
	return f, nil
}

// y returns NUM(S) for round i with the half h in Q.
func (f *ff1Bits) y(buf *[16]byte, i int, h uint64) uint64 {
	*buf = f.base
	buf[15-f.b] ^= byte(i)
	for k := 0; k < f.b; k++ {
		buf[15-k] ^= byte(h >> (8 * k))
	}
	f.block.Encrypt(buf[:], buf[:])
	return binary.BigEndian.Uint64(buf[:8])
}

// encrypt enciphers x, which must be below 2^n.
func (f *ff1Bits) encrypt(x uint64) uint64 {
	buf := blockPool.Get().(*[16]byte)
	a, b := x>>f.v, x&(1<<f.v-1)
	for i := 0; i < ff1Rounds; i++ {
		m := f.u
		if i%2 == 1 {
			m = f.v
		}
		c := (a + f.y(buf, i, b)) & (1<<m - 1)
		a, b = b, c
	}
	blockPool.Put(buf)
	return a<<f.v | b
}

// decrypt inverts encrypt.
func (f *ff1Bits) decrypt(x uint64) uint64 {
	buf := blockPool.Get().(*[16]byte)
	a, b := x>>f.v, x&(1<<f.v-1)
	for i := ff1Rounds - 1; i >= 0; i-- {
		m := f.u
		if i%2 == 1 {
			m = f.v
		}
		c := (b - f.y(buf, i, a)) & (1<<m - 1)
		a, b = c, a
	}
	blockPool.Put(buf)
	return a<<f.v | b
}

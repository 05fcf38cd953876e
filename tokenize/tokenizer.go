package tokenize

import (
	"crypto/aes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"hash"
	"sync"
)

// Derivation labels. Each is versioned: changing what a label derives means a
// new label, so that old tokens are never silently reinterpreted.
const (
	labelKeyID = "deid/v1/key-id"
	labelToken = "deid/v1/token"
	labelSeed  = "deid/v1/seed"
	labelFPE   = "deid/v1/fpe"
)

// TokenLen is the length of a string token: 128 bits in unpadded base32.
const TokenLen = 26

// tokenBytes is how much of the HMAC a string token keeps: 128 bits.
const tokenBytes = 16

// tokenEncoding is RFC 4648 base32 in lowercase, without padding.
var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").
	WithPadding(base32.NoPadding)

// Tokenizer derives per-domain tokens from one key. It holds no state that
// depends on the data, so tokenizers built from the same key in different
// processes agree on every token. A Tokenizer is safe for concurrent use.
type Tokenizer struct {
	key     *Key
	id      string
	mu      sync.Mutex
	domains map[string]*Domain
}

// New returns a Tokenizer for k. It panics if k is nil or zero, which is a
// programming error: keys come from ParseKey, LoadKeyFile or GenerateKey.
func New(k *Key) *Tokenizer {
	k.mustBytes()
	return &Tokenizer{key: k, id: k.ID(), domains: make(map[string]*Domain)}
}

// KeyID returns the fingerprint of the key, as Key.ID does.
func (t *Tokenizer) KeyID() string { return t.id }

// Domain returns the token domain called name, creating it on first use.
//
// A domain's sub-keys are HMAC-SHA-256 of the master key over a versioned
// label and the name, one for string tokens, one for seeds and one for the
// integer cipher; so the same value gets unrelated tokens in different
// domains, and equal tokens everywhere within one. Domains are cached; the
// call is safe for concurrent use.
func (t *Tokenizer) Domain(name string) *Domain {
	t.mu.Lock()
	defer t.mu.Unlock()
	if d, ok := t.domains[name]; ok {
		return d
	}
	d := newDomain(t.key, name)
	t.domains[name] = d
	return d
}

// Domain tokenizes the values of one token domain (patient, encounter, ...).
// All its methods are safe for concurrent use by many goroutines and do not
// allocate beyond growing dst.
type Domain struct {
	name  string
	token *macPool
	seed  *macPool
	ff64  *ff1Bits
	ff32  *ff1Bits
}

func newDomain(k *Key, name string) *Domain {
	tk, sk, fk := k.derive(labelToken, name), k.derive(labelSeed, name), k.derive(labelFPE, name)
	block, err := aes.NewCipher(fk[:])
	clear(fk[:])
	if err != nil {
		panic("tokenize: AES-256 with a 32-byte key: " + err.Error())
	}

	ff64, err := newFF1Bits(block, 63, nil)
	if err != nil {
		panic("tokenize: " + err.Error())
	}
	ff32, err := newFF1Bits(block, 31, nil)
	if err != nil {
		panic("tokenize: " + err.Error())
	}
	return &Domain{name: name, token: newMacPool(tk), seed: newMacPool(sk), ff64: ff64, ff32: ff32}
}

// Name returns the domain's name.
func (d *Domain) Name() string { return d.name }

// AppendToken appends the string token of v to dst: the first 128 bits of
// HMAC-SHA-256 under the domain's token key, as 26 characters of lowercase
// unpadded base32 (a-z, 2-7). Equal values give equal tokens; without the
// key a token cannot be computed from a guessed value, nor reversed.
func (d *Domain) AppendToken(dst, v []byte) []byte {
	s := d.token.sum(v)
	dst = tokenEncoding.AppendEncode(dst, s.out[:tokenBytes])
	d.token.put(s)
	return dst
}

// Seed returns a keyed 64-bit value of v: the first 8 bytes, big-endian, of
// HMAC-SHA-256 under the domain's seed key, which differs from its token key.
// It seeds surrogates and decides deterministic samples; it is not a token.
func (d *Domain) Seed(v []byte) uint64 {
	s := d.seed.sum(v)
	x := binary.BigEndian.Uint64(s.out[:8])
	d.seed.put(s)
	return x
}

// SeedInt64 returns the seed of an integer key: Seed of its 8-byte
// big-endian two's-complement encoding.
func (d *Domain) SeedInt64(v int64) uint64 {
	s := d.seed.get()
	binary.BigEndian.PutUint64(s.in[:], uint64(v))
	s.mac.Write(s.in[:])
	s.mac.Sum(s.out[:0])
	x := binary.BigEndian.Uint64(s.out[:8])
	d.seed.put(s)
	return x
}

// Int64 returns the token of an integer key: a keyed bijection of int64 that
// keeps the sign, so distinct keys stay distinct and the column keeps its
// type. v >= 0 maps through FF1 in radix 2 over 63 bits; v < 0 maps to
// ^FF1(^v). The sign is kept, and so shown; nothing else about v is.
// DecryptInt64 inverts it.
func (d *Domain) Int64(v int64) int64 {
	if v < 0 {
		return ^int64(d.ff64.encrypt(uint64(^v)))
	}
	return int64(d.ff64.encrypt(uint64(v)))
}

// DecryptInt64 inverts Int64. Only the key holder can: it is the means of
// re-identification that 45 CFR 164.514(c) lets the covered entity keep.
func (d *Domain) DecryptInt64(v int64) int64 {
	if v < 0 {
		return ^int64(d.ff64.decrypt(uint64(^v)))
	}
	return int64(d.ff64.decrypt(uint64(v)))
}

// Int32 is Int64 for int32 keys: FF1 in radix 2 over 31 bits, sign kept.
func (d *Domain) Int32(v int32) int32 {
	if v < 0 {
		return ^int32(d.ff32.encrypt(uint64(^v)))
	}
	return int32(d.ff32.encrypt(uint64(v)))
}

// DecryptInt32 inverts Int32.
func (d *Domain) DecryptInt32(v int32) int32 {
	if v < 0 {
		return ^int32(d.ff32.decrypt(uint64(^v)))
	}
	return int32(d.ff32.decrypt(uint64(v)))
}

// macPool recycles keyed HMAC states, so a token costs no allocation and
// no key schedule.
type macPool struct {
	pool sync.Pool
}

// macState is one HMAC state with room for its input and output.
type macState struct {
	mac hash.Hash
	in  [8]byte
	out [sha256.Size]byte
}

func newMacPool(key [sha256.Size]byte) *macPool {
	p := &macPool{}
	p.pool.New = func() any {
		return &macState{mac: hmac.New(sha256.New, key[:])}
	}
	return p
}

func (p *macPool) get() *macState { return p.pool.Get().(*macState) }

// sum returns a state holding HMAC(v) in out; put it back when done.
func (p *macPool) sum(v []byte) *macState {
	s := p.get()
	s.mac.Write(v)
	s.mac.Sum(s.out[:0])
	return s
}

func (p *macPool) put(s *macState) {
	s.mac.Reset()
	p.pool.Put(s)
}

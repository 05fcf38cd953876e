package tokenize

import (
	"strconv"
	"testing"

	"github.com/brianvoe/gofakeit/v7"
)

// benchValues are synthetic identifiers of typical length.
func benchValues() [][]byte {
	v := make([][]byte, 1024)
	for i := range v {
		v[i] = []byte("MRN-" + strconv.Itoa(1_000_000+i*7919))
	}
	return v
}

func BenchmarkAppendToken(b *testing.B) {
	d := New(testKey(b)).Domain("patient")
	vals := benchValues()
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		buf = d.AppendToken(buf[:0], vals[i%len(vals)])
	}
}

func BenchmarkAppendTokenParallel(b *testing.B) {
	d := New(testKey(b)).Domain("patient")
	vals := benchValues()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 0, 64)
		for i := 0; pb.Next(); i++ {
			buf = d.AppendToken(buf[:0], vals[i%len(vals)])
		}
	})
}

func BenchmarkSeed(b *testing.B) {
	d := New(testKey(b)).Domain("patient")
	vals := benchValues()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = d.Seed(vals[i%len(vals)])
	}
}

func BenchmarkInt64(b *testing.B) {
	d := New(testKey(b)).Domain("patient")
	b.ReportAllocs()
	for i := int64(0); b.Loop(); i++ {
		_ = d.Int64(i)
	}
}

func BenchmarkInt32(b *testing.B) {
	d := New(testKey(b)).Domain("patient")
	b.ReportAllocs()
	for i := int32(0); b.Loop(); i++ {
		_ = d.Int32(i)
	}
}

// BenchmarkFF1General is the math/big form on the same 63-bit input that
// Int64 takes, for comparison with the uint64 form.
func BenchmarkFF1General(b *testing.B) {
	f, err := NewFF1(testKeyBytes(), 2)
	if err != nil {
		b.Fatal(err)
	}
	x := bitsToNumerals(1234567, 63)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Encrypt(nil, x); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendFake(b *testing.B) {
	d := New(testKey(b)).Domain("patient")
	vals := benchValues()
	for _, f := range Fakes() {
		b.Run(string(f), func(b *testing.B) {
			buf := make([]byte, 0, 64)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				buf = d.AppendFake(buf[:0], f, vals[i%len(vals)])
			}
		})
	}
}

// BenchmarkGofakeitPerValue is the alternative AppendFake avoids: a
// gofakeit Faker seeded per value from the same keyed seed.
func BenchmarkGofakeitPerValue(b *testing.B) {
	d := New(testKey(b)).Domain("patient")
	vals := benchValues()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = gofakeit.New(d.Seed(vals[i%len(vals)])).Name()
	}
}

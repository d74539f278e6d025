package ssb

import (
	"math"
	"math/bits"
)

// Table identifiers used to seed the random streams.
const (
	seedCustomer = 1
	seedSupplier = 2
	seedPart     = 3
	seedOrders   = 4
)

// rng is wyrand: a 64-bit counter hashed by a 128-bit multiply. It is fast,
// passes BigCrush, and has no state beyond one word, so each chunk owns one.
type rng struct{ s uint64 }

// newRNG seeds a stream from (table, scale factor, chunk index).
func newRNG(table int, sf float64, chunk int64) rng {
	h := mix64(uint64(table)*0x9e3779b97f4a7c15 ^ math.Float64bits(sf))
	h = mix64(h ^ uint64(chunk)*0xbf58476d1ce4e5b9)
	return rng{s: h}
}

// mix64 is splitmix64's finaliser.
func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) next() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// intn returns a uniform value in [0, n); n > 0. The multiply-shift
// reduction has a bias of n/2⁶⁴, far below sampling noise.
func (r *rng) intn(n uint64) uint64 {
	hi, _ := bits.Mul64(r.next(), n)
	return hi
}

// between returns a uniform value in [lo, hi], both ends included, like
// dbgen's UnifInt.
func (r *rng) between(lo, hi int64) int64 {
	return lo + int64(r.intn(uint64(hi-lo+1)))
}

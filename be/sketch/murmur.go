package sketch

import (
	"encoding/binary"
	"math/bits"
)

// The hash functions Doris uses for its sketches, bit for bit, so that a
// value hashes to what Doris stores for it:
//
//	bitmap_hash    MurmurHash3 x86_32, seed 104729 (HashUtil::MURMUR3_32_SEED)
//	bitmap_hash64  Doris's murmur_hash3_x64_64: MurmurHash3's x64 mixing over
//	               8-byte blocks with a single 64-bit lane, seed 0
//	hll_hash       MurmurHash64A (MurmurHash2, 64-bit), seed 0xadc83b19
//	               (HashUtil::MURMUR_SEED)

// Seeds Doris passes to its hash functions.
const (
	Murmur3Seed32 = 104729
	MurmurSeed64A = 0xadc83b19
)

// Murmur3x86_32 is MurmurHash3_x86_32 of data with the given seed.
func Murmur3x86_32(data []byte, seed uint32) uint32 {
	const c1, c2 = 0xcc9e2d51, 0x1b873593
	h := seed
	n := len(data) / 4
	for i := 0; i < n; i++ {
		k := binary.LittleEndian.Uint32(data[4*i:])
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
		h = bits.RotateLeft32(h, 13)
		h = h*5 + 0xe6546b64
	}
	tail := data[4*n:]
	var k uint32
	switch len(tail) {
	case 3:
		k ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		k ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		k ^= uint32(tail[0])
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
	}
	h ^= uint32(len(data))
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// Murmur3x64_64 is Doris's murmur_hash3_x64_64 (util/murmur_hash3.cpp): the
// x64 variant of MurmurHash3 reduced to one 64-bit lane over 8-byte blocks.
// It is not the first half of MurmurHash3_x64_128.
func Murmur3x64_64(data []byte, seed uint64) uint64 {
	const c1, c2 = 0x87c37b91114253d5, 0x4cf5ad432745937f
	h := seed
	n := len(data) / 8
	for i := 0; i < n; i++ {
		k := binary.LittleEndian.Uint64(data[8*i:])
		k *= c1
		k = bits.RotateLeft64(k, 31)
		k *= c2
		h ^= k
		h = bits.RotateLeft64(h, 27)
		h = h*5 + 0x52dce729
	}
	tail := data[8*n:]
	if len(tail) > 0 {
		var k uint64
		for i := len(tail) - 1; i >= 0; i-- {
			k ^= uint64(tail[i]) << (8 * i)
		}
		k *= c1
		k = bits.RotateLeft64(k, 31)
		k *= c2
		h ^= k
	}
	h ^= uint64(len(data))
	return fmix64(h)
}

// MurmurHash64A is Austin Appleby's MurmurHash64A (MurmurHash2, 64-bit).
func MurmurHash64A(data []byte, seed uint64) uint64 { return murmur64A(data, seed) }

func murmur64A[T string | []byte](data T, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := seed ^ (uint64(len(data)) * m)
	n := len(data) / 8
	for i := 0; i < n; i++ {
		b := data[8*i : 8*i+8]
		k := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	tail := data[8*n:]
	if len(tail) > 0 {
		for i := len(tail) - 1; i >= 0; i-- {
			h ^= uint64(tail[i]) << (8 * i)
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// HashString is the hash hll_hash adds to an HLL for a value whose text
// form is s.
func HashString(s string) uint64 { return murmur64A(s, MurmurSeed64A) }

// HashBytes is [HashString] of a byte slice.
func HashBytes(b []byte) uint64 { return murmur64A(b, MurmurSeed64A) }

// Package sketch holds the values of Doris's two sketch types, BITMAP and
// HLL, and their serialized forms. A BITMAP or HLL column is an Arrow
// String column whose values are these bytes (Go strings are byte-safe),
// so segments, pages and batches carry them like any other string; only
// the functions and aggregates that understand them decode them.
//
// # BITMAP
//
// [Bitmap] is a set of uint64 over a 64-bit roaring bitmap. Serialized, a
// type byte says how the rest is laid out, so that the bitmaps most rows
// hold (one value, a handful) stay a few bytes:
//
//	+------+--------------------------------------------------------------+
//	| 0x00 | (nothing)                               empty                |
//	| 0x01 | value u32 LE                            one value < 2^32     |
//	| 0x03 | value u64 LE                            one value >= 2^32    |
//	| 0x0A | n u8 (1..32) | first uvarint | n-1 gaps uvarint (> 0)        |
//	|      |                                         2..32 values         |
//	| 0x04 | 64-bit roaring bitmap, portable format  more than 32 values  |
//	|      | (u64 LE count, then count × (u32 LE key, 32-bit roaring))    |
//	+------+--------------------------------------------------------------+
//
// The type numbers follow Doris's BitmapValue where the layouts agree
// (empty, single 32, single 64); the set and roaring layouts are Strata's
// own, so serialized bitmaps are not interchangeable with Doris's.
// Zero bytes decode as the empty bitmap.
//
// # HLL
//
// [HLL] is Doris's HyperLogLog with its parameters: 2^14 registers, a
// register holding the position of the first one bit of the 50 hash bits
// above the register index (1..51, so 6 bits would do; each takes a byte),
// up to 160 distinct hashes kept exactly first. It is serialized exactly as
// Doris serializes it, so HLL values are interchangeable with Doris's:
//
//	+------+--------------------------------------------------------------+
//	| 0x00 | (nothing)                                       empty        |
//	| 0x01 | n u8 | n × hash u64 LE                           explicit     |
//	| 0x02 | n u32 LE | n × (index u16 LE, value u8)          sparse       |
//	| 0x03 | 16384 × value u8                                 full         |
//	+------+--------------------------------------------------------------+
//
// Values are hashed as hll_hash does: MurmurHash64A of the value's text
// form, seed 0xadc83b19 ([HashString]).
//
// # Untrusted bytes
//
// [DeserializeBitmap] and [DeserializeHLL] check every length, count and
// order before building anything; malformed input is an error
// ([ErrInvalidBitmap], [ErrInvalidHLL]), never a panic or a huge
// allocation. Both are fuzzed (FuzzBitmapDeserialize, FuzzHLLDeserialize).
//
// # The aggregate-key model
//
// [UnionBitmaps] and [UnionHLLs] fold the serialized values of one key,
// for the BITMAP_UNION and HLL_UNION aggregations of AGGREGATE KEY tables.
package sketch

package storage

import (
	"encoding/binary"
	"fmt"

	"github.com/strata-db/strata/storage/internal/bitpack"
)

// Integer codecs. Values of every integer-like physical type (and the
// lengths and dictionary codes of string pages) are encoded as int64 and
// decoded straight into a typed destination slice; see docs/format.md for
// the byte layout of each encoding.

// intStats summarises a run of integers for the encoding cost rule.
type intStats struct {
	min, max int64
	runs     int // number of maximal runs of equal values
	rleBytes int // exact size of the RLE payload
}

func varintLen(v int64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutVarint(buf[:], v)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func intStatsOf(v []int64) intStats {
	if len(v) == 0 {
		return intStats{}
	}
	st := intStats{min: v[0], max: v[0]}
	runStart := 0
	for i := 1; i < len(v); i++ {
		x := v[i]
		if x < st.min {
			st.min = x
		}
		if x > st.max {
			st.max = x
		}
		if x != v[i-1] {
			st.runs++
			st.rleBytes += uvarintLen(uint64(i-runStart)) + varintLen(v[i-1])
			runStart = i
		}
	}
	st.runs++
	st.rleBytes += uvarintLen(uint64(len(v)-runStart)) + varintLen(v[len(v)-1])
	st.rleBytes += uvarintLen(uint64(st.runs))
	return st
}

// chooseIntEncoding is the integer cost rule. It picks the smallest
// encoding, with two preferences for decode speed: plain (a straight copy)
// wins ties with the packed forms, and RLE must beat the best packed form by
// a quarter because it decodes run by run. Widths above 56 bits take the
// slow unpack path, so plain is used there.
func chooseIntEncoding(n int, st intStats, plainWidth int) Encoding {
	if n == 0 || st.min == st.max {
		return EncodingConstant
	}
	plain := n * plainWidth
	best, bestSize := EncodingPlain, plain
	forW := bitpack.Width(uint64(st.max) - uint64(st.min))
	if forW <= 56 {
		forSize := 1 + varintLen(st.min) + bitpack.ByteLen(n, forW)
		if forSize < bestSize {
			best, bestSize = EncodingFOR, forSize
		}
		if st.min >= 0 {
			bpW := bitpack.Width(uint64(st.max))
			if bpSize := 1 + bitpack.ByteLen(n, bpW); bpSize <= bestSize && bpW <= 56 {
				best, bestSize = EncodingBitPack, bpSize
			}
		}
	}
	if st.rleBytes*4 < bestSize*3 {
		best = EncodingRLE
	}
	return best
}

// appendIntValues appends the payload of v in encoding enc. scratch is
// reused for packing and returned.
func appendIntValues(dst []byte, enc Encoding, v []int64, st intStats, plainWidth int, scratch []uint64) ([]byte, []uint64) {
	switch enc {
	case EncodingConstant:
		var c int64
		if len(v) > 0 {
			c = v[0]
		}
		return binary.AppendVarint(dst, c), scratch
	case EncodingPlain:
		switch plainWidth {
		case 1:
			for _, x := range v {
				dst = append(dst, byte(x))
			}
		case 2:
			for _, x := range v {
				dst = binary.LittleEndian.AppendUint16(dst, uint16(x))
			}
		case 4:
			for _, x := range v {
				dst = binary.LittleEndian.AppendUint32(dst, uint32(x))
			}
		case 8:
			for _, x := range v {
				dst = binary.LittleEndian.AppendUint64(dst, uint64(x))
			}
		default:
			panic(fmt.Sprintf("BUG: plain integer width %d", plainWidth))
		}
		return dst, scratch
	case EncodingBitPack, EncodingFOR:
		base := int64(0)
		if enc == EncodingFOR {
			base = st.min
			dst = binary.AppendVarint(dst, base)
		}
		scratch = scratch[:0]
		for _, x := range v {
			scratch = append(scratch, uint64(x)-uint64(base))
		}
		w := bitpack.Width(uint64(st.max) - uint64(base))
		dst = append(dst, byte(w))
		return bitpack.Append(dst, scratch, w), scratch
	case EncodingRLE:
		dst = binary.AppendUvarint(dst, uint64(st.runs))
		runStart := 0
		for i := 1; i <= len(v); i++ {
			if i == len(v) || v[i] != v[i-1] {
				dst = binary.AppendUvarint(dst, uint64(i-runStart))
				dst = binary.AppendVarint(dst, v[i-1])
				runStart = i
			}
		}
		return dst, scratch
	}
	panic(fmt.Sprintf("BUG: integer encoding %v", enc))
}

// appendIntStream appends a self-describing integer stream: the encoding
// byte followed by the payload. Used for string lengths and dictionary codes,
// whose values are non-negative and fit in int32 (plain width 4).
func appendIntStream(dst []byte, v []int64, scratch []uint64) ([]byte, []uint64) {
	st := intStatsOf(v)
	enc := chooseIntEncoding(len(v), st, 4)
	dst = append(dst, byte(enc))
	return appendIntValues(dst, enc, v, st, 4, scratch)
}

// decodeInts decodes len(dst) values in encoding enc from d into dst.
// plainWidth is the byte width of plain values. Errors are left in d.
func decodeInts[T bitpack.Integer](dst []T, enc Encoding, d *decbuf, plainWidth int) {
	if d.err != nil {
		return
	}
	n := len(dst)
	switch enc {
	case EncodingConstant:
		c := T(d.varint())
		for i := range dst {
			dst[i] = c
		}
	case EncodingPlain:
		src := d.bytes(n * plainWidth)
		if d.err == nil {
			_ = bitpack.Unpack(dst, src, uint(plainWidth*8), 0)
		}
	case EncodingBitPack, EncodingFOR:
		base := int64(0)
		if enc == EncodingFOR {
			base = d.varint()
		}
		w := uint(d.byte())
		if d.err != nil {
			return
		}
		if w > bitpack.MaxWidth {
			d.fail(fmt.Errorf("bit width %d out of range", w))
			return
		}
		src := d.bytes(bitpack.ByteLen(n, w))
		if d.err == nil {
			_ = bitpack.Unpack(dst, src, w, base)
		}
	case EncodingRLE:
		runs := d.uvarint()
		pos := 0
		for r := uint64(0); r < runs && d.err == nil; r++ {
			l := d.uvarint()
			v := T(d.varint())
			if d.err != nil {
				return
			}
			if l == 0 || l > uint64(n-pos) {
				d.fail(fmt.Errorf("rle run of %d rows at row %d of %d", l, pos, n))
				return
			}
			run := dst[pos : pos+int(l)]
			for i := range run {
				run[i] = v
			}
			pos += int(l)
		}
		if d.err == nil && pos != n {
			d.fail(fmt.Errorf("rle runs cover %d of %d rows", pos, n))
		}
	default:
		d.fail(fmt.Errorf("encoding %v is not valid for integers", enc))
	}
}

// decodeIntStream decodes a stream written by appendIntStream.
func decodeIntStream(dst []int32, d *decbuf) {
	enc := Encoding(d.byte())
	decodeInts(dst, enc, d, 4)
}

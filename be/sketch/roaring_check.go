package sketch

import (
	"encoding/binary"
	"math/bits"
)

// Cookies and limits of the portable roaring format
// (https://github.com/RoaringBitmap/RoaringFormatSpec).
const (
	roaringCookieNoRun = 12346 // followed by a 32-bit container count
	roaringCookie      = 12347 // low 16 bits; high 16 bits: container count - 1
	roaringNoOffset    = 4     // with runs, fewer containers than this have no offsets
	roaringArrayMax    = 4096  // larger containers without runs are bitmaps
	roaringBitmapBytes = 8192
)

// validateRoaring64 checks that b is exactly one 64-bit roaring bitmap in
// the portable format, structurally sound: the roaring library reads what it
// is given without checking it, and its own Validate is quadratic in the
// runs of a container. The checks, all linear:
//
//	u64 count, then count × (u32 key, 32-bit roaring bitmap)
//	keys strictly ascending; every 32-bit bitmap non-empty
//	container keys strictly ascending within a 32-bit bitmap
//	array containers: values strictly ascending, as many as the header says
//	bitmap containers: as many bits set as the header says
//	run containers: at least one run, runs ascending, neither overlapping
//	  nor touching, none past 65535, lengths adding up to the header's count
//	no trailing bytes
func validateRoaring64[T string | []byte](b T) error {
	if len(b) < 8 {
		return invalidBitmap("roaring bitmap of %d bytes", len(b))
	}
	count := le64(b)
	b = b[8:]
	// Each 32-bit bitmap takes at least 15 bytes: a key (4), a cookie (4),
	// the run flags (1), one header entry (4) and one value (2).
	if count == 0 || count > uint64(len(b))/15 {
		return invalidBitmap("roaring bitmap of %d 32-bit bitmaps in %d bytes", count, len(b))
	}
	prevKey := int64(-1)
	for i := uint64(0); i < count; i++ {
		if len(b) < 4 {
			return invalidBitmap("roaring bitmap truncated at key %d", i)
		}
		key := int64(le32(b))
		if key <= prevKey {
			return invalidBitmap("roaring keys not ascending")
		}
		prevKey = key
		n, err := validateRoaring32(b[4:])
		if err != nil {
			return err
		}
		b = b[4+n:]
	}
	if len(b) != 0 {
		return invalidBitmap("%d trailing bytes after the roaring bitmap", len(b))
	}
	return nil
}

// validateRoaring32 checks one 32-bit portable roaring bitmap at the start
// of b and returns its length in bytes.
func validateRoaring32[T string | []byte](b T) (int, error) {
	if len(b) < 4 {
		return 0, invalidBitmap("32-bit roaring bitmap truncated")
	}
	cookie := le32(b)
	pos := 4
	var size int
	var runFlags T
	hasRuns := false
	switch {
	case cookie&0xFFFF == roaringCookie:
		size = int(cookie>>16) + 1
		n := (size + 7) / 8
		if len(b) < pos+n {
			return 0, invalidBitmap("32-bit roaring bitmap truncated in its run flags")
		}
		runFlags, hasRuns = b[pos:pos+n], true
		pos += n
	case cookie == roaringCookieNoRun:
		if len(b) < pos+4 {
			return 0, invalidBitmap("32-bit roaring bitmap truncated in its size")
		}
		s := le32(b[pos:])
		pos += 4
		if s == 0 || s > 1<<16 {
			return 0, invalidBitmap("32-bit roaring bitmap of %d containers", s)
		}
		size = int(s)
	default:
		return 0, invalidBitmap("bad roaring cookie %#x", cookie)
	}
	header := pos
	if len(b) < header+4*size {
		return 0, invalidBitmap("32-bit roaring bitmap truncated in its header")
	}
	pos += 4 * size
	if !hasRuns || size >= roaringNoOffset {
		if len(b) < pos+4*size {
			return 0, invalidBitmap("32-bit roaring bitmap truncated in its offsets")
		}
		pos += 4 * size
	}
	prevKey := -1
	for i := 0; i < size; i++ {
		key := int(le16(b[header+4*i:]))
		card := int(le16(b[header+4*i+2:])) + 1
		if key <= prevKey {
			return 0, invalidBitmap("roaring container keys not ascending")
		}
		prevKey = key
		var n int
		var err error
		switch {
		case hasRuns && runFlags[i/8]&(1<<(i%8)) != 0:
			n, err = checkRunContainer(b[pos:], card)
		case card > roaringArrayMax:
			n, err = checkBitmapContainer(b[pos:], card)
		default:
			n, err = checkArrayContainer(b[pos:], card)
		}
		if err != nil {
			return 0, err
		}
		pos += n
	}
	return pos, nil
}

func checkRunContainer[T string | []byte](b T, card int) (int, error) {
	if len(b) < 2 {
		return 0, invalidBitmap("run container truncated")
	}
	nr := int(le16(b))
	if nr == 0 || len(b) < 2+4*nr {
		return 0, invalidBitmap("run container of %d runs in %d bytes", nr, len(b)-2)
	}
	total := 0
	prevEnd := -2
	for k := 0; k < nr; k++ {
		start := int(le16(b[2+4*k:]))
		length := int(le16(b[4+4*k:]))
		end := start + length
		if end > 0xFFFF || start <= prevEnd+1 {
			return 0, invalidBitmap("run container runs overlap or leave the container")
		}
		prevEnd = end
		total += length + 1
	}
	if total != card {
		return 0, invalidBitmap("run container of %d values says %d", total, card)
	}
	return 2 + 4*nr, nil
}

func checkBitmapContainer[T string | []byte](b T, card int) (int, error) {
	if len(b) < roaringBitmapBytes {
		return 0, invalidBitmap("bitmap container truncated")
	}
	set := 0
	for i := 0; i < roaringBitmapBytes; i += 8 {
		set += bits.OnesCount64(le64(b[i:]))
	}
	if set != card {
		return 0, invalidBitmap("bitmap container of %d values says %d", set, card)
	}
	return roaringBitmapBytes, nil
}

func checkArrayContainer[T string | []byte](b T, card int) (int, error) {
	if len(b) < 2*card {
		return 0, invalidBitmap("array container truncated")
	}
	prev := -1
	for k := 0; k < card; k++ {
		v := int(le16(b[2*k:]))
		if v <= prev {
			return 0, invalidBitmap("array container values not ascending")
		}
		prev = v
	}
	return 2 * card, nil
}

// Little-endian loads from a string or a byte slice, which must be long
// enough.

func le16[T string | []byte](b T) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

func le32[T string | []byte](b T) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func le64[T string | []byte](b T) uint64 { return uint64(le32(b)) | uint64(le32(b[4:]))<<32 }

// uvarint is binary.Uvarint of a string or a byte slice.
func uvarint[T string | []byte](b T) (uint64, int) {
	var x uint64
	var s uint
	for i := 0; i < len(b) && i < binary.MaxVarintLen64; i++ {
		c := b[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -(i + 1) // overflow
			}
			return x | uint64(c)<<s, i + 1
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	return 0, 0
}

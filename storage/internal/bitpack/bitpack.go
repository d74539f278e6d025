// Package bitpack packs unsigned integers of a fixed bit width into a dense
// little-endian bit stream and unpacks them again.
//
// Value i of width w occupies bits [i*w, (i+1)*w) of the stream, where bit k
// is bit (k mod 8) of byte k/8, least significant first. The stream is
// ByteLen(n, w) bytes long; unused high bits of the last byte are zero.
//
// Unpack is on the scan path of the segment reader. It has specialised loops
// for the byte-aligned widths (0, 8, 16, 32, 64) and a word-window loop for
// every other width, and it never reads past len(src): the last few values,
// whose 8-byte window would cross the end of the stream, take a slow path.
package bitpack

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// MaxWidth is the largest supported bit width.
const MaxWidth = 64

// ErrShort is returned when a stream is shorter than ByteLen(n, width).
var ErrShort = errors.New("bitpack: stream too short")

// Integer is the set of element types Unpack can write.
type Integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// ByteLen is the length in bytes of n values packed at width bits.
func ByteLen(n int, width uint) int {
	return int((uint64(n)*uint64(width) + 7) / 8)
}

// Width is the number of bits needed to represent v (0 for v == 0).
func Width(v uint64) uint {
	w := uint(0)
	for v != 0 {
		w++
		v >>= 1
	}
	return w
}

// Append packs src at width bits and appends the stream to dst. Bits of a
// value above width must be zero; Append panics otherwise, as that is a
// programming error in the caller's width computation.
func Append(dst []byte, src []uint64, width uint) []byte {
	if width > MaxWidth {
		panic(fmt.Sprintf("BUG: bitpack width %d > %d", width, MaxWidth))
	}
	if width == 0 {
		return dst
	}
	switch width {
	case 8:
		for _, v := range src {
			dst = append(dst, byte(v))
		}
		return dst
	case 16:
		for _, v := range src {
			dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
		}
		return dst
	case 32:
		for _, v := range src {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(v))
		}
		return dst
	case 64:
		for _, v := range src {
			dst = binary.LittleEndian.AppendUint64(dst, v)
		}
		return dst
	}
	var acc uint64 // pending bits, least significant first
	var nacc uint  // number of pending bits, always < 8 between values
	for _, v := range src {
		if v>>width != 0 {
			panic(fmt.Sprintf("BUG: bitpack value %d does not fit in %d bits", v, width))
		}
		// width <= 63 here and nacc <= 7, so at most 70 bits: split.
		acc |= v << nacc
		total := nacc + width
		if total >= 64 {
			dst = binary.LittleEndian.AppendUint64(dst, acc)
			total -= 64
			acc = v >> (width - total)
		}
		for total >= 8 {
			dst = append(dst, byte(acc))
			acc >>= 8
			total -= 8
		}
		nacc = total
	}
	if nacc > 0 {
		dst = append(dst, byte(acc))
	}
	return dst
}

// Unpack decodes len(dst) values of width bits from src and stores
// T(base + value) into dst (two's complement wrap-around, as for a frame of
// reference). It returns ErrShort if src holds fewer than
// ByteLen(len(dst), width) bytes and an error for width > MaxWidth.
func Unpack[T Integer](dst []T, src []byte, width uint, base int64) error {
	n := len(dst)
	if width > MaxWidth {
		return fmt.Errorf("bitpack: width %d out of range", width)
	}
	if len(src) < ByteLen(n, width) {
		return ErrShort
	}
	switch width {
	case 0:
		v := T(base)
		for i := range dst {
			dst[i] = v
		}
		return nil
	case 8:
		src = src[:n]
		for i, b := range src {
			dst[i] = T(base + int64(b))
		}
		return nil
	case 16:
		src = src[:2*n]
		for i := range dst {
			dst[i] = T(base + int64(binary.LittleEndian.Uint16(src[2*i:])))
		}
		return nil
	case 32:
		src = src[:4*n]
		for i := range dst {
			dst[i] = T(base + int64(binary.LittleEndian.Uint32(src[4*i:])))
		}
		return nil
	case 64:
		src = src[:8*n]
		for i := range dst {
			dst[i] = T(base + int64(binary.LittleEndian.Uint64(src[8*i:])))
		}
		return nil
	}
	if width <= 56 {
		unpackWindow(dst, src, width, base)
		return nil
	}
	unpackWide(dst, src, width, base)
	return nil
}

// unpackWindow handles 1 <= width <= 56: every value lies inside the 8-byte
// little-endian word starting at its first byte, so one load and one shift
// extract it. Groups of 8 values span exactly width bytes, which lets the
// inner loop work from a fixed per-group base offset.
func unpackWindow[T Integer](dst []T, src []byte, width uint, base int64) {
	mask := uint64(1)<<width - 1
	n := len(dst)
	// Values whose 8-byte window stays inside src: bit offset i*w with
	// i*w/8 + 8 <= len(src).
	fast := 0
	if len(src) >= 8 {
		fast = ((len(src)-7)*8-1)/int(width) + 1
		if fast > n {
			fast = n
		}
	}
	w := int(width)
	span := (7*w)>>3 + 8 // bytes a group of 8 values touches
	i := 0
	// Groups of 8 values: the group starts at byte g*w, byte aligned.
	for ; i+8 <= fast; i += 8 {
		off := (i / 8) * w
		s := src[off : off+span]
		d := dst[i : i+8 : i+8]
		d[0] = T(base + int64(binary.LittleEndian.Uint64(s[0:])&mask))
		d[1] = T(base + int64(binary.LittleEndian.Uint64(s[(1*w)>>3:])>>((1*w)&7)&mask))
		d[2] = T(base + int64(binary.LittleEndian.Uint64(s[(2*w)>>3:])>>((2*w)&7)&mask))
		d[3] = T(base + int64(binary.LittleEndian.Uint64(s[(3*w)>>3:])>>((3*w)&7)&mask))
		d[4] = T(base + int64(binary.LittleEndian.Uint64(s[(4*w)>>3:])>>((4*w)&7)&mask))
		d[5] = T(base + int64(binary.LittleEndian.Uint64(s[(5*w)>>3:])>>((5*w)&7)&mask))
		d[6] = T(base + int64(binary.LittleEndian.Uint64(s[(6*w)>>3:])>>((6*w)&7)&mask))
		d[7] = T(base + int64(binary.LittleEndian.Uint64(s[(7*w)>>3:])>>((7*w)&7)&mask))
	}
	for ; i < fast; i++ {
		bit := i * w
		dst[i] = T(base + int64(binary.LittleEndian.Uint64(src[bit>>3:])>>(bit&7)&mask))
	}
	for ; i < n; i++ {
		dst[i] = T(base + int64(slowGet(src, i*w, width)))
	}
}

// unpackWide handles 57 <= width <= 63, where a value may span 9 bytes.
func unpackWide[T Integer](dst []T, src []byte, width uint, base int64) {
	for i := range dst {
		dst[i] = T(base + int64(slowGet(src, i*int(width), width)))
	}
}

// slowGet reads width bits at bit offset bit, byte by byte.
func slowGet(src []byte, bit int, width uint) uint64 {
	var v uint64
	got := uint(0)
	for got < width {
		b := uint64(src[bit>>3]) >> (bit & 7)
		take := 8 - uint(bit&7)
		if take > width-got {
			take = width - got
		}
		v |= (b & (1<<take - 1)) << got
		got += take
		bit += int(take)
	}
	return v
}

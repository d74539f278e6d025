package sketch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
)

// ErrInvalidBitmap marks serialized bytes that are not a bitmap.
var ErrInvalidBitmap = errors.New("sketch: invalid bitmap")

// Type bytes of the bitmap encodings (see the package doc).
const (
	bitmapEmpty    byte = 0
	bitmapSingle32 byte = 1
	bitmapSingle64 byte = 3
	bitmapRoaring  byte = 4
	bitmapSet      byte = 10
)

// maxSetSize is the largest bitmap encoded as a list of values rather than
// as a roaring bitmap.
const maxSetSize = 32

// Bitmap is a set of unsigned 64-bit integers, Doris's BITMAP. The zero
// value is an empty bitmap ready to use. A Bitmap is not safe for
// concurrent use, and reading methods may reorganise its containers
// ([Bitmap.AppendBinary] run-optimises them).
type Bitmap struct {
	rb *roaring64.Bitmap // nil while empty
}

// NewBitmap returns an empty bitmap.
func NewBitmap() *Bitmap { return &Bitmap{} }

// BitmapOf returns a bitmap holding vals.
func BitmapOf(vals ...uint64) *Bitmap {
	b := &Bitmap{}
	for _, v := range vals {
		b.Add(v)
	}
	return b
}

func (b *Bitmap) lazy() *roaring64.Bitmap {
	if b.rb == nil {
		b.rb = roaring64.New()
	}
	return b.rb
}

// Add adds x.
func (b *Bitmap) Add(x uint64) { b.lazy().Add(x) }

// Cardinality returns the number of values.
func (b *Bitmap) Cardinality() uint64 {
	if b.rb == nil {
		return 0
	}
	return b.rb.GetCardinality()
}

// IsEmpty reports whether b holds no value.
func (b *Bitmap) IsEmpty() bool { return b.rb == nil || b.rb.IsEmpty() }

// Contains reports whether x is in b.
func (b *Bitmap) Contains(x uint64) bool { return b.rb != nil && b.rb.Contains(x) }

// Min returns the smallest value; ok is false for an empty bitmap.
func (b *Bitmap) Min() (v uint64, ok bool) {
	if b.IsEmpty() {
		return 0, false
	}
	return b.rb.Minimum(), true
}

// Max returns the largest value; ok is false for an empty bitmap.
func (b *Bitmap) Max() (v uint64, ok bool) {
	if b.IsEmpty() {
		return 0, false
	}
	return b.rb.Maximum(), true
}

// Clone returns a copy of b.
func (b *Bitmap) Clone() *Bitmap {
	if b.rb == nil {
		return &Bitmap{}
	}
	return &Bitmap{rb: b.rb.Clone()}
}

// Or sets b to b ∪ o.
func (b *Bitmap) Or(o *Bitmap) {
	if o.IsEmpty() {
		return
	}
	if b.rb == nil {
		b.rb = o.rb.Clone()
		return
	}
	b.rb.Or(o.rb)
}

// Union is [Bitmap.Or].
func (b *Bitmap) Union(o *Bitmap) { b.Or(o) }

// And sets b to b ∩ o.
func (b *Bitmap) And(o *Bitmap) {
	if b.rb == nil {
		return
	}
	if o.IsEmpty() {
		b.rb = nil
		return
	}
	b.rb.And(o.rb)
}

// Xor sets b to the values in exactly one of b and o.
func (b *Bitmap) Xor(o *Bitmap) {
	if o.IsEmpty() {
		return
	}
	if b.rb == nil {
		b.rb = o.rb.Clone()
		return
	}
	b.rb.Xor(o.rb)
}

// AndNot sets b to b \ o.
func (b *Bitmap) AndNot(o *Bitmap) {
	if b.rb == nil || o.IsEmpty() {
		return
	}
	b.rb.AndNot(o.rb)
}

// AndCardinality returns |b ∩ o| without building it.
func (b *Bitmap) AndCardinality(o *Bitmap) uint64 {
	if b.IsEmpty() || o.IsEmpty() {
		return 0
	}
	return b.rb.AndCardinality(o.rb)
}

// Intersects reports whether b and o share a value.
func (b *Bitmap) Intersects(o *Bitmap) bool {
	if b.IsEmpty() || o.IsEmpty() {
		return false
	}
	return b.rb.Intersects(o.rb)
}

// Values returns the values in ascending order.
func (b *Bitmap) Values() []uint64 {
	if b.rb == nil {
		return nil
	}
	return b.rb.ToArray()
}

// ToString renders b as bitmap_to_string does: the values in ascending
// order, comma-separated, "" when empty.
func (b *Bitmap) ToString() string { return string(b.AppendString(nil)) }

// AppendString appends [Bitmap.ToString] to dst.
func (b *Bitmap) AppendString(dst []byte) []byte {
	if b.rb == nil {
		return dst
	}
	it := b.rb.Iterator()
	first := true
	for it.HasNext() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = strconv.AppendUint(dst, it.Next(), 10)
	}
	return dst
}

// BitmapFromString parses bitmap_from_string's input: unsigned decimal
// integers separated by commas, each optionally surrounded by spaces; empty
// items are skipped, so "" is the empty bitmap. A negative, fractional or
// out-of-range item is an error (Doris returns NULL).
func BitmapFromString(s string) (*Bitmap, error) {
	b := &Bitmap{}
	for s != "" {
		item := s
		if i := strings.IndexByte(s, ','); i >= 0 {
			item, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if item == "" {
			continue
		}
		v, ok := ParseUint64(item)
		if !ok {
			return nil, fmt.Errorf("sketch: invalid bitmap item %q", item)
		}
		b.Add(v)
	}
	return b, nil
}

// ParseUint64 parses an unsigned decimal integer as Doris's
// StringParser::string_to_unsigned_int does for to_bitmap: leading and
// trailing spaces are ignored, an optional '+' sign is accepted, and
// anything else (a '-', a fraction, overflow) fails.
func ParseUint64(s string) (uint64, bool) {
	s = strings.Trim(s, " \t\n\v\f\r")
	if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

// AppendBinary appends the serialized bitmap to dst (see the package doc
// for the layout) and returns the extended slice.
func (b *Bitmap) AppendBinary(dst []byte) []byte {
	n := b.Cardinality()
	switch {
	case n == 0:
		return append(dst, bitmapEmpty)
	case n == 1:
		v := b.rb.Minimum()
		if v <= 0xFFFFFFFF {
			dst = append(dst, bitmapSingle32)
			return binary.LittleEndian.AppendUint32(dst, uint32(v))
		}
		dst = append(dst, bitmapSingle64)
		return binary.LittleEndian.AppendUint64(dst, v)
	case n <= maxSetSize:
		dst = append(dst, bitmapSet, byte(n))
		prev := uint64(0)
		it := b.rb.Iterator()
		for it.HasNext() {
			v := it.Next()
			dst = binary.AppendUvarint(dst, v-prev)
			prev = v
		}
		return dst
	}
	b.rb.RunOptimize()
	dst = append(dst, bitmapRoaring)
	buf := bytes.NewBuffer(dst)
	if _, err := b.rb.WriteTo(buf); err != nil {
		panic("BUG: writing a roaring bitmap to memory: " + err.Error())
	}
	return buf.Bytes()
}

// Serialize returns the serialized bitmap.
func (b *Bitmap) Serialize() []byte { return b.AppendBinary(nil) }

// DeserializeBitmap decodes a serialized bitmap (a string or a byte
// slice). Zero bytes decode as the empty bitmap. Any malformed input is an
// error wrapping [ErrInvalidBitmap]; no input panics.
func DeserializeBitmap[T string | []byte](data T) (*Bitmap, error) {
	b := &Bitmap{}
	if err := unionBitmap(b, data); err != nil {
		return nil, err
	}
	return b, nil
}

// UnionSerialized adds the values of a serialized bitmap to b, without
// building a bitmap for the small encodings. On error b is unchanged.
func (b *Bitmap) UnionSerialized(data []byte) error { return unionBitmap(b, data) }

// UnionSerializedString is [Bitmap.UnionSerialized] of a string.
func (b *Bitmap) UnionSerializedString(data string) error { return unionBitmap(b, data) }

func unionBitmap[T string | []byte](b *Bitmap, data T) error {
	if len(data) == 0 {
		return nil
	}
	body := data[1:]
	switch data[0] {
	case bitmapEmpty:
		if len(body) != 0 {
			return invalidBitmap("%d trailing bytes after the empty bitmap", len(body))
		}
		return nil
	case bitmapSingle32:
		if len(body) != 4 {
			return invalidBitmap("single 32-bit value of %d bytes", len(body))
		}
		b.Add(uint64(le32(body)))
		return nil
	case bitmapSingle64:
		if len(body) != 8 {
			return invalidBitmap("single 64-bit value of %d bytes", len(body))
		}
		b.Add(le64(body))
		return nil
	case bitmapSet:
		var vals [maxSetSize]uint64
		n, err := decodeSet(body, &vals)
		if err != nil {
			return err
		}
		b.lazy().AddMany(vals[:n])
		return nil
	case bitmapRoaring:
		if err := validateRoaring64(body); err != nil {
			return err
		}
		var r io.Reader
		switch x := any(body).(type) {
		case string:
			r = strings.NewReader(x)
		case []byte:
			r = bytes.NewReader(x)
		}
		rb := roaring64.New()
		n, err := rb.ReadFrom(r)
		if err != nil || n != int64(len(body)) {
			return invalidBitmap("roaring bitmap read %d of %d bytes: %v", n, len(body), err)
		}
		if b.rb != nil {
			b.rb.Or(rb)
		} else {
			b.rb = rb
		}
		return nil
	}
	return invalidBitmap("unknown type byte %d", data[0])
}

// decodeSet decodes the value list of a set-encoded bitmap into vals: a
// count byte (1..32), then the first value and the gaps to each next one
// as uvarints. It returns the count.
func decodeSet[T string | []byte](body T, vals *[maxSetSize]uint64) (int, error) {
	if len(body) < 1 {
		return 0, invalidBitmap("set without a count")
	}
	n := int(body[0])
	if n < 1 || n > maxSetSize {
		return 0, invalidBitmap("set of %d values", n)
	}
	body = body[1:]
	var prev uint64
	for i := 0; i < n; i++ {
		d, k := uvarint(body)
		if k <= 0 {
			return 0, invalidBitmap("set value %d is truncated", i)
		}
		body = body[k:]
		if i > 0 && d == 0 {
			return 0, invalidBitmap("set values are not ascending")
		}
		v := prev + d
		if v < prev {
			return 0, invalidBitmap("set value %d overflows", i)
		}
		vals[i] = v
		prev = v
	}
	if len(body) != 0 {
		return 0, invalidBitmap("%d trailing bytes after the set", len(body))
	}
	return n, nil
}

func invalidBitmap(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidBitmap, fmt.Sprintf(format, args...))
}

// UnionBitmaps returns the union of serialized bitmaps, serialized: the
// BITMAP_UNION aggregation of the aggregate-key model. A single value is
// returned as it is once it decodes.
func UnionBitmaps(vals []string) (string, error) {
	if len(vals) == 1 {
		if _, err := DeserializeBitmap(vals[0]); err != nil {
			return "", err
		}
		return vals[0], nil
	}
	b := &Bitmap{}
	for _, v := range vals {
		if err := b.UnionSerializedString(v); err != nil {
			return "", err
		}
	}
	return string(b.AppendBinary(nil)), nil
}

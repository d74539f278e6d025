package sketch

import (
	"bytes"
	"math"
	"testing"
)

// FuzzBitmapDeserialize feeds arbitrary bytes to the bitmap decoder: no
// input may panic or allocate without bound; what decodes must survive
// every operation and serialize to bytes that decode to the same values.
func FuzzBitmapDeserialize(f *testing.F) {
	for _, b := range []*Bitmap{
		NewBitmap(), BitmapOf(1), BitmapOf(math.MaxUint64), BitmapOf(1, 2, 3),
		BitmapOf(seq(0, 40)...), BitmapOf(seq(0, 5000)...), BitmapOf(seq(1<<33, 1<<33+300)...),
		BitmapOf(append(seq(0, 50), 1<<40, math.MaxUint64)...),
	} {
		data := b.Serialize()
		f.Add(data)
		for _, cut := range []int{1, 2, 5, len(data) / 2, len(data) - 1} {
			if cut > 0 && cut < len(data) {
				f.Add(data[:cut])
			}
		}
	}
	f.Add([]byte{})
	f.Add([]byte{10, 2, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DeserializeBitmap(data)
		if err != nil {
			return
		}
		vals := b.Values()
		if uint64(len(vals)) != b.Cardinality() {
			t.Fatalf("%d values, cardinality %d", len(vals), b.Cardinality())
		}
		other := BitmapOf(0, 7, math.MaxUint64)
		for _, op := range []func(x, y *Bitmap){(*Bitmap).Or, (*Bitmap).And, (*Bitmap).Xor, (*Bitmap).AndNot} {
			x := b.Clone()
			op(x, other)
			y := other.Clone()
			op(y, b)
		}
		b.AndCardinality(other)
		b.Intersects(other)
		b.Min()
		b.Max()
		_ = b.ToString()
		again, err := DeserializeBitmap(b.Serialize())
		if err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if got := again.Values(); len(got) != len(vals) || len(vals) > 0 && !equalU64(got, vals) {
			t.Fatalf("round trip changed the values")
		}
	})
}

func equalU64(a, b []uint64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzHLLDeserialize feeds arbitrary bytes to the HLL decoder: no input may
// panic; what decodes must estimate, merge, and round-trip.
func FuzzHLLDeserialize(f *testing.F) {
	for _, n := range []int{0, 1, 160, 161, 3000, 100000} {
		data := hllOf(0, n).Serialize()
		f.Add(data)
		for _, cut := range []int{1, 2, 5, len(data) / 2, len(data) - 1} {
			if cut > 0 && cut < len(data) {
				f.Add(data[:cut])
			}
		}
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := DeserializeHLL(data)
		if err != nil {
			return
		}
		est := h.Estimate()
		if est < 0 {
			t.Fatalf("negative estimate %d", est)
		}
		enc := h.Serialize()
		again, err := DeserializeHLL(enc)
		if err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if again.Estimate() != est || !bytes.Equal(again.Serialize(), enc) {
			t.Fatalf("round trip changed the HLL")
		}
		u := hllOf(0, 200)
		u.Union(h)
		h.Union(hllOf(0, 10))
		u.Estimate()
		h.Estimate()
	})
}

package sketch

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBitmapEncodings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		vals  []uint64
		typ   byte
		bytes int
	}{
		{"empty", nil, bitmapEmpty, 1},
		{"single32", []uint64{7}, bitmapSingle32, 5},
		{"single32 max", []uint64{math.MaxUint32}, bitmapSingle32, 5},
		{"single64", []uint64{math.MaxUint32 + 1}, bitmapSingle64, 9},
		{"single64 max", []uint64{math.MaxUint64}, bitmapSingle64, 9},
		{"set", []uint64{1, 2, 3}, bitmapSet, 5},
		{"set with extremes", []uint64{0, math.MaxUint64 - 1, math.MaxUint64}, bitmapSet, 2 + 1 + 10 + 1},
		{"set of 32", seq(0, 32), bitmapSet, 2 + 32},
		{"roaring", seq(0, 33), bitmapRoaring, 0},
		{"roaring wide", append(seq(0, 40), 1<<40, math.MaxUint64), bitmapRoaring, 0},
		{"roaring dense", seq(1000, 70000), bitmapRoaring, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := BitmapOf(tc.vals...)
			data := b.Serialize()
			require.Equal(t, tc.typ, data[0])
			if tc.bytes > 0 {
				require.Len(t, data, tc.bytes)
			}
			back, err := DeserializeBitmap(data)
			require.NoError(t, err)
			want := slices.Clone(tc.vals)
			if want == nil {
				want = []uint64{}
			}
			got := back.Values()
			if got == nil {
				got = []uint64{}
			}
			require.Equal(t, want, got)
			require.Equal(t, uint64(len(tc.vals)), back.Cardinality())
			// Decoding into a non-empty bitmap unions.
			u := BitmapOf(5, math.MaxUint64)
			require.NoError(t, u.UnionSerialized(data))
			for _, v := range tc.vals {
				require.True(t, u.Contains(v))
			}
			require.True(t, u.Contains(5))
		})
	}
	// The dense run is run-optimised: far smaller than 8 bytes a value.
	require.Less(t, len(BitmapOf(seq(0, 100000)...).Serialize()), 64)
	// Zero bytes are the empty bitmap.
	b, err := DeserializeBitmap([]byte(nil))
	require.NoError(t, err)
	require.True(t, b.IsEmpty())
}

func seq(lo, hi uint64) []uint64 {
	var out []uint64
	for v := lo; v < hi; v++ {
		out = append(out, v)
	}
	return out
}

func TestBitmapOperations(t *testing.T) {
	a := BitmapOf(1, 2, 3, math.MaxUint64)
	b := BitmapOf(3, 4, math.MaxUint64)
	or := a.Clone()
	or.Or(b)
	require.Equal(t, []uint64{1, 2, 3, 4, math.MaxUint64}, or.Values())
	and := a.Clone()
	and.And(b)
	require.Equal(t, []uint64{3, math.MaxUint64}, and.Values())
	xor := a.Clone()
	xor.Xor(b)
	require.Equal(t, []uint64{1, 2, 4}, xor.Values())
	andNot := a.Clone()
	andNot.AndNot(b)
	require.Equal(t, []uint64{1, 2}, andNot.Values())
	require.Equal(t, uint64(2), a.AndCardinality(b))
	require.True(t, a.Intersects(b))
	require.False(t, a.Intersects(BitmapOf(9)))
	// a is unchanged by the operations on its clones.
	require.Equal(t, []uint64{1, 2, 3, math.MaxUint64}, a.Values())

	empty := NewBitmap()
	for _, op := range []func(x, y *Bitmap){(*Bitmap).Or, (*Bitmap).And, (*Bitmap).Xor, (*Bitmap).AndNot} {
		x := NewBitmap()
		op(x, empty)
		require.True(t, x.IsEmpty())
	}
	x := NewBitmap()
	x.Or(a)
	x.Add(100)
	require.False(t, a.Contains(100), "Or into an empty bitmap must copy")
	x = NewBitmap()
	x.Xor(a)
	require.Equal(t, a.Values(), x.Values())
	x = a.Clone()
	x.And(empty)
	require.True(t, x.IsEmpty())
	x = a.Clone()
	x.AndNot(empty)
	require.Equal(t, a.Values(), x.Values())

	lo, ok := a.Min()
	require.True(t, ok)
	require.Equal(t, uint64(1), lo)
	hi, ok := a.Max()
	require.True(t, ok)
	require.Equal(t, uint64(math.MaxUint64), hi)
	_, ok = empty.Min()
	require.False(t, ok)
	_, ok = empty.Max()
	require.False(t, ok)
	require.Equal(t, uint64(0), empty.AndCardinality(a))
}

func TestBitmapStrings(t *testing.T) {
	require.Equal(t, "", NewBitmap().ToString())
	require.Equal(t, "1,2,3,18446744073709551615", BitmapOf(3, 1, 2, math.MaxUint64).ToString())
	for _, tc := range []struct {
		in   string
		want []uint64
		ok   bool
	}{
		{"", nil, true},
		{"1,2,3", []uint64{1, 2, 3}, true},
		{"0, 1, 2", []uint64{0, 1, 2}, true},
		{"3,1,3,,2", []uint64{1, 2, 3}, true},
		{" +7 ", []uint64{7}, true},
		{"18446744073709551615", []uint64{math.MaxUint64}, true},
		{"18446744073709551616", nil, false},
		{"-1, 0, 1, 2", nil, false},
		{"1.5", nil, false},
		{"a", nil, false},
		{"1, ,2", nil, false},
		{"+", nil, false},
	} {
		b, err := BitmapFromString(tc.in)
		if !tc.ok {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, b.Values(), tc.in)
	}
	v, ok := ParseUint64(" 42\t")
	require.True(t, ok)
	require.Equal(t, uint64(42), v)
	_, ok = ParseUint64("-0")
	require.False(t, ok)
}

func TestBitmapDeserializeRejects(t *testing.T) {
	valid := BitmapOf(seq(0, 5000)...).Serialize() // a bitmap container
	runs := BitmapOf(seq(0, 100)...).Serialize()   // a run container
	arr := BitmapOf(1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61, 65, 69, 73, 77, 81, 85, 89, 93, 97, 101, 105, 109, 113, 117, 121, 125, 129).Serialize()
	for name, data := range map[string][]byte{
		"unknown type":        {99},
		"empty with trailing": {0, 1},
		"short single32":      {1, 1, 2, 3},
		"long single64":       {3, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		"set count zero":      {10, 0},
		"set count too big":   append([]byte{10, 33}, make([]byte, 33)...),
		"set not ascending":   {10, 2, 5, 0},
		"set truncated":       {10, 2, 5},
		"set trailing":        {10, 1, 5, 5},
		"set overflow":        {10, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01},
		"roaring truncated":   valid[:len(valid)-1],
		"roaring trailing":    append(slices.Clone(valid), 0),
		"runs truncated":      runs[:len(runs)-2],
		"array truncated":     arr[:len(arr)-3],
		"roaring huge count":  {4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
		"roaring zero count":  {4, 0, 0, 0, 0, 0, 0, 0, 0},
	} {
		_, err := DeserializeBitmap(data)
		require.ErrorIs(t, err, ErrInvalidBitmap, name)
	}
	// A flipped bit in a bitmap container breaks its count.
	bad := slices.Clone(valid)
	bad[len(bad)-1] ^= 0x80
	_, err := DeserializeBitmap(bad)
	require.ErrorIs(t, err, ErrInvalidBitmap)
	// A failed union leaves the bitmap as it was.
	b := BitmapOf(1)
	require.Error(t, b.UnionSerialized(bad))
	require.Equal(t, []uint64{1}, b.Values())
}

func TestUnionBitmaps(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var vals []string
	want := NewBitmap()
	for i := 0; i < 50; i++ {
		b := NewBitmap()
		for j := r.IntN(60); j > 0; j-- {
			v := r.Uint64N(1000)
			if r.IntN(10) == 0 {
				v = math.MaxUint64 - r.Uint64N(3)
			}
			b.Add(v)
		}
		want.Or(b)
		vals = append(vals, string(b.Serialize()))
	}
	got, err := UnionBitmaps(vals)
	require.NoError(t, err)
	back, err := DeserializeBitmap([]byte(got))
	require.NoError(t, err)
	require.Equal(t, want.Values(), back.Values())

	one, err := UnionBitmaps(vals[:1])
	require.NoError(t, err)
	require.Equal(t, vals[0], one)
	_, err = UnionBitmaps([]string{vals[0], "\x63"})
	require.ErrorIs(t, err, ErrInvalidBitmap)
	_, err = UnionBitmaps([]string{"\x63"})
	require.ErrorIs(t, err, ErrInvalidBitmap)
}

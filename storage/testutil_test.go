package storage

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// Value patterns that steer the writer's cost rule to each encoding.
const (
	patConst  = "const"
	patSmall  = "small"  // 0..15: bit-packing
	patOffset = "offset" // 1e6 + 0..200: frame of reference
	patNeg    = "neg"    // -300..-100: frame of reference
	patRuns   = "runs"   // long runs: RLE
	patRandom = "random" // full range: plain
	patDict   = "dict"   // few distinct strings
	patLong   = "long"   // strings longer than MaxZoneStringLen
	patNaN    = "nan"    // floats with NaN and infinities
	patSeq    = "seq"    // a repeating sequence: packs and compresses well
)

var (
	tsType    = &arrow.TimestampType{Unit: arrow.Microsecond}
	dec38Type = &arrow.Decimal128Type{Precision: 38, Scale: 0}
	dec10Type = &arrow.Decimal128Type{Precision: 10, Scale: 2}
)

// testTypes lists every supported type with the patterns that apply to it.
var testTypes = []struct {
	dt   arrow.DataType
	pats []string
}{
	{arrow.FixedWidthTypes.Boolean, []string{patConst, patRandom}},
	{arrow.PrimitiveTypes.Int8, []string{patConst, patSmall, patNeg, patRuns, patRandom}},
	{arrow.PrimitiveTypes.Int16, []string{patConst, patSmall, patNeg, patRuns, patRandom}},
	{arrow.PrimitiveTypes.Int32, []string{patConst, patSmall, patOffset, patNeg, patRuns, patRandom}},
	{arrow.PrimitiveTypes.Int64, []string{patConst, patSmall, patOffset, patNeg, patRuns, patRandom}},
	{arrow.FixedWidthTypes.Date32, []string{patConst, patOffset, patRuns, patRandom}},
	{tsType, []string{patConst, patOffset, patRuns, patRandom}},
	{arrow.PrimitiveTypes.Float32, []string{patConst, patRandom, patNaN}},
	{arrow.PrimitiveTypes.Float64, []string{patConst, patRandom, patNaN}},
	{dec38Type, []string{patConst, patRandom, patSmall, patNeg, patRuns}},
	{dec10Type, []string{patConst, patRandom, patOffset}},
	{arrow.BinaryTypes.String, []string{patConst, patDict, patRandom, patLong}},
}

func genInt(rng *rand.Rand, pat string, i int, lo, hi int64) int64 {
	clamp := func(v int64) int64 { return max(lo, min(hi, v)) }
	switch pat {
	case patConst:
		return clamp(42)
	case patSmall:
		return rng.Int64N(16)
	case patOffset:
		return clamp(1_000_000 + rng.Int64N(200))
	case patNeg:
		return clamp(-100 - rng.Int64N(28))
	case patRuns:
		return clamp(int64(i/60) * 3)
	case patSeq:
		return clamp(int64(i%500) * 7)
	}
	if lo == math.MinInt64 {
		return int64(rng.Uint64())
	}
	return lo + rng.Int64N(hi-lo+1)
}

func genString(rng *rand.Rand, pat string) string {
	switch pat {
	case patConst:
		return "constant value"
	case patDict:
		return fmt.Sprintf("city-%02d", rng.IntN(10))
	case patLong:
		b := bytes.Repeat([]byte{'x'}, 70+rng.IntN(10))
		b[rng.IntN(len(b))] = byte('a' + rng.IntN(26))
		if rng.IntN(3) == 0 {
			for i := range b {
				b[i] = 0xff
			}
		}
		return string(b)
	}
	b := make([]byte, rng.IntN(20))
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return string(b)
}

// genArray builds n values of dt following pat; nullFrac of them (at
// random) are null, 1 meaning all.
func genArray(t testing.TB, mem memory.Allocator, rng *rand.Rand, dt arrow.DataType, pat string, nullFrac float64, n int) arrow.Array {
	t.Helper()
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	for i := range n {
		if nullFrac > 0 && rng.Float64() < nullFrac {
			b.AppendNull()
			continue
		}
		switch b := b.(type) {
		case *array.BooleanBuilder:
			b.Append(pat != patConst && rng.IntN(2) == 0)
		case *array.Int8Builder:
			b.Append(int8(genInt(rng, pat, i, math.MinInt8, math.MaxInt8)))
		case *array.Int16Builder:
			b.Append(int16(genInt(rng, pat, i, math.MinInt16, math.MaxInt16)))
		case *array.Int32Builder:
			b.Append(int32(genInt(rng, pat, i, math.MinInt32, math.MaxInt32)))
		case *array.Int64Builder:
			b.Append(genInt(rng, pat, i, math.MinInt64, math.MaxInt64))
		case *array.Date32Builder:
			b.Append(arrow.Date32(genInt(rng, pat, i, -1_000_000, 3_000_000)))
		case *array.TimestampBuilder:
			b.Append(arrow.Timestamp(genInt(rng, pat, i, math.MinInt64, math.MaxInt64)))
		case *array.Float32Builder:
			b.Append(float32(genFloat(rng, pat)))
		case *array.Float64Builder:
			b.Append(genFloat(rng, pat))
		case *array.Decimal128Builder:
			switch pat {
			case patConst:
				b.Append(decimal128.FromI64(-12345))
			case patRandom:
				b.Append(decimal128.New(rng.Int64()-math.MaxInt64/2, rng.Uint64()))
			default:
				b.Append(decimal128.FromI64(genInt(rng, pat, i, math.MinInt64, math.MaxInt64)))
			}
		case *array.StringBuilder:
			b.Append(genString(rng, pat))
		default:
			t.Fatalf("no generator for %T", b)
		}
	}
	return b.NewArray()
}

func genFloat(rng *rand.Rand, pat string) float64 {
	switch pat {
	case patConst:
		return 2.5
	case patNaN:
		switch rng.IntN(4) {
		case 0:
			return math.NaN()
		case 1:
			return math.Inf(-1)
		case 2:
			return math.Copysign(0, -1)
		}
	}
	return rng.NormFloat64() * 1e6
}

// memFile is an in-memory segment file.
type memFile struct{ bytes.Buffer }

func (m *memFile) reader() *bytes.Reader { return bytes.NewReader(m.Bytes()) }

// writeSegment writes cols (one array per column, all the same length) in
// batches of batch rows and returns the file bytes.
func writeSegment(t testing.TB, metas []ColumnMeta, opts WriterOptions, cols []arrow.Array, batch int) []byte {
	t.Helper()
	var f memFile
	w, err := NewWriter(&f, metas, opts)
	require.NoError(t, err)
	n := 0
	if len(cols) > 0 {
		n = cols[0].Len()
	}
	for off := 0; off < n; off += batch {
		end := min(n, off+batch)
		slices := make([]arrow.Array, len(cols))
		for i, c := range cols {
			slices[i] = array.NewSlice(c, int64(off), int64(end))
		}
		require.NoError(t, w.Append(slices))
		for _, s := range slices {
			s.Release()
		}
	}
	info, err := w.Finish()
	require.NoError(t, err)
	require.Equal(t, int64(n), info.NumRows)
	require.Equal(t, int64(f.Len()), info.Size)
	return f.Bytes()
}

// expectZone computes the zone map of a[lo:hi] by brute force.
func expectZone(a arrow.Array, lo, hi int) ZoneMap {
	var z ZoneMap
	pt, _ := physTypeOf(a.DataType())
	hasNaN, allNaN := false, true
	for i := lo; i < hi; i++ {
		v := arrayValue(a, i)
		if v == nil {
			z.NullCount++
			continue
		}
		if f, ok := v.(float64); ok {
			if f != f {
				hasNaN = true
				continue
			}
			allNaN = false
		}
		if z.Min == nil || compareValues(pt, v, z.Min) < 0 {
			z.Min = v
		}
		if z.Max == nil || compareValues(pt, v, z.Max) > 0 {
			z.Max = v
		}
	}
	z.HasMinMax = z.NullCount < hi-lo
	if pt == physFloat32 || pt == physFloat64 {
		if hasNaN {
			z.Max = math.NaN()
		}
		if allNaN && z.HasMinMax {
			z.Min = math.NaN()
		}
	}
	if pt == physString && z.HasMinMax {
		z.Min = truncateMin(z.Min.([]byte))
		z.Max = truncateMax(z.Max.([]byte))
	}
	return z
}

// requireZoneEqual compares zone maps, treating NaN as equal to NaN and
// float -0 as equal to +0.
func requireZoneEqual(t testing.TB, want, got ZoneMap, msg string) {
	t.Helper()
	require.Equal(t, want.HasMinMax, got.HasMinMax, msg)
	require.Equal(t, want.NullCount, got.NullCount, msg)
	eq := func(a, b any) {
		if fa, ok := a.(float64); ok {
			fb := b.(float64)
			require.True(t, fa == fb || (fa != fa && fb != fb), "%s: %v vs %v", msg, fa, fb)
			return
		}
		require.Equal(t, a, b, msg)
	}
	if want.HasMinMax {
		eq(want.Min, got.Min)
		eq(want.Max, got.Max)
	}
}

// requireSameValues checks that got, a plain array or an *array.Dictionary,
// holds the values of want (a plain array) row for row.
func requireSameValues(t testing.TB, want, got arrow.Array) {
	t.Helper()
	d, ok := got.(*array.Dictionary)
	if !ok {
		require.True(t, array.Equal(want, got) || floatEqualNaN(want, got), "want %v\ngot  %v", want, got)
		return
	}
	require.Equal(t, want.Len(), d.Len())
	require.Equal(t, want.NullN(), d.NullN())
	ws := want.(*array.String)
	dict := d.Dictionary().(*array.String)
	for i := range want.Len() {
		require.Equal(t, want.IsNull(i), d.IsNull(i), "row %d", i)
		if !want.IsNull(i) {
			require.Equal(t, ws.Value(i), dict.Value(d.GetValueIndex(i)), "row %d", i)
		}
	}
}

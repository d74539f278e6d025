package storage

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// keyTypes lists every type a key column may have.
var keyTypes = []arrow.DataType{
	arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16,
	arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float32,
	arrow.PrimitiveTypes.Float64, dec38Type, arrow.FixedWidthTypes.Date32, tsType, arrow.BinaryTypes.String,
}

// genKeyValue draws a value of type dt for a key column, nil for NULL. Values
// come mostly from small pools of edge cases so that rows tie often and
// later columns decide.
func genKeyValue(rng *rand.Rand, dt arrow.DataType) any {
	if rng.IntN(7) == 0 {
		return nil
	}
	pick := func(pool ...int64) int64 { return pool[rng.IntN(len(pool))] }
	switch dt.ID() {
	case arrow.BOOL:
		return rng.IntN(2) == 1
	case arrow.INT8:
		if rng.IntN(4) == 0 {
			return int8(rng.Uint32())
		}
		return int8(pick(math.MinInt8, -2, -1, 0, 1, 2, math.MaxInt8))
	case arrow.INT16:
		if rng.IntN(4) == 0 {
			return int16(rng.Uint32())
		}
		return int16(pick(math.MinInt16, -256, -1, 0, 1, 255, 256, math.MaxInt16))
	case arrow.INT32, arrow.DATE32:
		v := int32(pick(math.MinInt32, -65536, -1, 0, 1, 65535, math.MaxInt32))
		if rng.IntN(4) == 0 {
			v = int32(rng.Uint32())
		}
		if dt.ID() == arrow.DATE32 {
			return arrow.Date32(v)
		}
		return v
	case arrow.INT64, arrow.TIMESTAMP:
		v := pick(math.MinInt64, math.MinInt64+1, -1<<32, -1, 0, 1, 1<<32, math.MaxInt64)
		if rng.IntN(4) == 0 {
			v = int64(rng.Uint64())
		}
		if dt.ID() == arrow.TIMESTAMP {
			return arrow.Timestamp(v)
		}
		return v
	case arrow.FLOAT32:
		pool := []float32{
			float32(math.NaN()), math.Float32frombits(0xffc00000), math.Float32frombits(0x7f800001),
			float32(math.Inf(-1)), float32(math.Inf(1)), 0, float32(math.Copysign(0, -1)),
			-math.MaxFloat32, math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
			-1.5, -1, 1, 1.5,
		}
		if rng.IntN(4) == 0 {
			return float32(rng.NormFloat64())
		}
		return pool[rng.IntN(len(pool))]
	case arrow.FLOAT64:
		pool := []float64{
			math.NaN(), math.Float64frombits(0xfff8000000000001), math.Float64frombits(0x7ff0000000000001),
			math.Inf(-1), math.Inf(1), 0, math.Copysign(0, -1),
			-math.MaxFloat64, math.MaxFloat64, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
			-1.5, -1, 1, 1.5,
		}
		if rng.IntN(4) == 0 {
			return rng.NormFloat64() * 1e10
		}
		return pool[rng.IntN(len(pool))]
	case arrow.DECIMAL128:
		hi := pick(math.MinInt64, -2, -1, 0, 1, math.MaxInt64)
		lo := []uint64{0, 1, 1 << 63, math.MaxUint64}[rng.IntN(4)]
		if rng.IntN(4) == 0 {
			lo = rng.Uint64()
		}
		return decimal128.New(hi, lo)
	case arrow.STRING:
		alphabet := []byte{0x00, 0x01, 0xfe, 0xff, 'a', 'b'}
		b := make([]byte, rng.IntN(5))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	panic(fmt.Sprintf("BUG: genKeyValue of %s", dt))
}

// refCompareValue orders two values of one key column the way the tablet
// store sorts rows (be/tabletstore comparator): NULL first, floats by
// cmp.Compare, decimals as signed 128-bit integers, strings bytewise.
func refCompareValue(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch x := a.(type) {
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case int8:
		return cmp.Compare(x, b.(int8))
	case int16:
		return cmp.Compare(x, b.(int16))
	case int32:
		return cmp.Compare(x, b.(int32))
	case int64:
		return cmp.Compare(x, b.(int64))
	case arrow.Date32:
		return cmp.Compare(x, b.(arrow.Date32))
	case arrow.Timestamp:
		return cmp.Compare(x, b.(arrow.Timestamp))
	case float32:
		return cmp.Compare(x, b.(float32))
	case float64:
		return cmp.Compare(x, b.(float64))
	case decimal128.Num:
		return decimalBig(x).Cmp(decimalBig(b.(decimal128.Num)))
	case string:
		return strings.Compare(x, b.(string))
	}
	panic(fmt.Sprintf("BUG: refCompareValue of %T", a))
}

// decimalBig is the value of a decimal128 as hi*2^64 + lo. (Num.BigInt is
// wrong on 32-bit platforms in arrow-go v18.8.0.)
func decimalBig(n decimal128.Num) *big.Int {
	v := new(big.Int).Lsh(big.NewInt(n.HighBits()), 64)
	return v.Add(v, new(big.Int).SetUint64(n.LowBits()))
}

func refCompareRow(a, b []any) int {
	for i := range a {
		if c := refCompareValue(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// keyArrays builds one arrow array per column from rows of Go values.
func keyArrays(t testing.TB, mem memory.Allocator, types []arrow.DataType, rows [][]any) []arrow.Array {
	t.Helper()
	cols := make([]arrow.Array, len(types))
	for c, dt := range types {
		bld := array.NewBuilder(mem, dt)
		for _, r := range rows {
			v := r[c]
			if v == nil {
				bld.AppendNull()
				continue
			}
			switch b := bld.(type) {
			case *array.BooleanBuilder:
				b.Append(v.(bool))
			case *array.Int8Builder:
				b.Append(v.(int8))
			case *array.Int16Builder:
				b.Append(v.(int16))
			case *array.Int32Builder:
				b.Append(v.(int32))
			case *array.Int64Builder:
				b.Append(v.(int64))
			case *array.Date32Builder:
				b.Append(v.(arrow.Date32))
			case *array.TimestampBuilder:
				b.Append(v.(arrow.Timestamp))
			case *array.Float32Builder:
				b.Append(v.(float32))
			case *array.Float64Builder:
				b.Append(v.(float64))
			case *array.Decimal128Builder:
				b.Append(v.(decimal128.Num))
			case *array.StringBuilder:
				b.Append(v.(string))
			default:
				t.Fatalf("no builder for %s", dt)
			}
		}
		cols[c] = bld.NewArray()
		bld.Release()
	}
	return cols
}

func releaseAll(cols []arrow.Array) {
	for _, c := range cols {
		c.Release()
	}
}

// keySchemas are the column lists the order test runs: every type alone,
// strings next to each other and before fixed-width columns (where an
// unterminated string would let the next column bleed in), and all types.
func keySchemas() [][]arrow.DataType {
	var out [][]arrow.DataType
	for _, dt := range keyTypes {
		out = append(out, []arrow.DataType{dt})
	}
	str := arrow.BinaryTypes.String
	out = append(out,
		[]arrow.DataType{str, str},
		[]arrow.DataType{str, arrow.PrimitiveTypes.Int32},
		[]arrow.DataType{str, arrow.PrimitiveTypes.Int8, str},
		[]arrow.DataType{arrow.PrimitiveTypes.Float64, str, arrow.FixedWidthTypes.Boolean},
		[]arrow.DataType{arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Float32, dec38Type, arrow.PrimitiveTypes.Int16},
		keyTypes,
	)
	return out
}

// TestKeyEncoderOrder encodes random rows of every key type and checks,
// for every pair of rows, that bytes.Compare of the encodings agrees with
// the reference comparator (so equal keys encode to equal bytes).
func TestKeyEncoderOrder(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(11, 17))
	for _, types := range keySchemas() {
		name := fmt.Sprint(types)
		t.Run(name, func(t *testing.T) {
			const n = 300
			rows := make([][]any, n)
			for i := range rows {
				rows[i] = make([]any, len(types))
				for c, dt := range types {
					rows[i][c] = genKeyValue(rng, dt)
				}
			}
			cols := keyArrays(t, mem, types, rows)
			defer releaseAll(cols)
			enc, err := NewKeyEncoder(types)
			require.NoError(t, err)
			keys := make([][]byte, n)
			for i := range keys {
				keys[i] = enc.AppendKey(nil, cols, i)
				if w := enc.Fixed(); w > 0 {
					require.Len(t, keys[i], w)
				}
			}
			for i := range rows {
				for j := range rows {
					want := refCompareRow(rows[i], rows[j])
					got := bytes.Compare(keys[i], keys[j])
					if want != got {
						t.Fatalf("rows %v and %v: reference order %d, encoded %d\n%x\n%x", rows[i], rows[j], want, got, keys[i], keys[j])
					}
				}
			}
		})
	}
}

// TestKeyEncoderBytes pins the encoding of a few values, as documented in
// docs/format.md.
func TestKeyEncoderBytes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	negZero := math.Copysign(0, -1)
	cases := []struct {
		dt   arrow.DataType
		v    any
		want string
	}{
		{arrow.FixedWidthTypes.Boolean, false, "0100"},
		{arrow.FixedWidthTypes.Boolean, true, "0101"},
		{arrow.FixedWidthTypes.Boolean, nil, "0000"},
		{arrow.PrimitiveTypes.Int8, int8(-1), "017f"},
		{arrow.PrimitiveTypes.Int16, int16(1), "018001"},
		{arrow.PrimitiveTypes.Int32, int32(-1), "017fffffff"},
		{arrow.PrimitiveTypes.Int32, nil, "0000000000"},
		{arrow.FixedWidthTypes.Date32, arrow.Date32(0), "0180000000"},
		{arrow.PrimitiveTypes.Int64, int64(math.MinInt64), "010000000000000000"},
		{tsType, arrow.Timestamp(2), "018000000000000002"},
		{arrow.PrimitiveTypes.Float32, float32(1), "01bf800000"},
		{arrow.PrimitiveTypes.Float32, float32(-1), "01407fffff"},
		{arrow.PrimitiveTypes.Float64, 1.0, "01bff0000000000000"},
		{arrow.PrimitiveTypes.Float64, 0.0, "018000000000000000"},
		{arrow.PrimitiveTypes.Float64, negZero, "018000000000000000"},
		{arrow.PrimitiveTypes.Float64, math.NaN(), "010000000000000000"},
		{arrow.PrimitiveTypes.Float64, -math.NaN(), "010000000000000000"},
		{arrow.PrimitiveTypes.Float64, math.Inf(-1), "01000fffffffffffff"},
		{dec38Type, decimal128.FromI64(-2), "017ffffffffffffffffffffffffffffffe"},
		{dec38Type, decimal128.FromI64(1), "0180000000000000000000000000000001"},
		{arrow.BinaryTypes.String, "", "010001"},
		{arrow.BinaryTypes.String, "a\x00b", "016100ff620001"},
		{arrow.BinaryTypes.String, nil, "00"},
	}
	for _, tc := range cases {
		enc, err := NewKeyEncoder([]arrow.DataType{tc.dt})
		require.NoError(t, err)
		cols := keyArrays(t, mem, []arrow.DataType{tc.dt}, [][]any{{tc.v}})
		got := enc.AppendKey([]byte("prefix"), cols, 0)
		releaseAll(cols)
		require.Equal(t, "prefix", string(got[:6]), "AppendKey keeps dst")
		require.Equal(t, tc.want, fmt.Sprintf("%x", got[6:]), "%s %v", tc.dt, tc.v)
	}
}

func TestKeyEncoderFixed(t *testing.T) {
	cases := []struct {
		types []arrow.DataType
		want  int
	}{
		{[]arrow.DataType{arrow.PrimitiveTypes.Int64}, 9},
		{[]arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.FixedWidthTypes.Boolean}, 11},
		{[]arrow.DataType{dec10Type, arrow.FixedWidthTypes.Date32, arrow.PrimitiveTypes.Int8}, 17 + 5 + 2},
		{[]arrow.DataType{arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String}, 0},
		{[]arrow.DataType{arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32}, 0},
	}
	for _, tc := range cases {
		enc, err := NewKeyEncoder(tc.types)
		require.NoError(t, err)
		require.Equal(t, tc.want, enc.Fixed(), "%v", tc.types)
	}
}

func TestKeyEncoderErrors(t *testing.T) {
	for _, types := range [][]arrow.DataType{
		nil,
		{nil},
		{arrow.BinaryTypes.Binary},
		{arrow.BinaryTypes.LargeString},
		{arrow.PrimitiveTypes.Uint32},
		{arrow.FixedWidthTypes.Float16},
		{&arrow.Decimal256Type{Precision: 40}},
		{arrow.PrimitiveTypes.Int32, arrow.ListOf(arrow.PrimitiveTypes.Int32)},
	} {
		_, err := NewKeyEncoder(types)
		require.Error(t, err, "%v", types)
	}

	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	enc, err := NewKeyEncoder([]arrow.DataType{arrow.PrimitiveTypes.Int32})
	require.NoError(t, err)
	cols := keyArrays(t, mem, []arrow.DataType{arrow.PrimitiveTypes.Int64}, [][]any{{int64(1)}})
	defer releaseAll(cols)
	require.Panics(t, func() { enc.AppendKey(nil, cols, 0) }, "wrong array type")
	require.Panics(t, func() { enc.AppendKey(nil, nil, 0) }, "wrong column count")
}

// BenchmarkAppendKey measures encoding one row of an (INT64, STRING) key.
//
//	go test -run '^$' -bench BenchmarkAppendKey -count 6 ./storage
func BenchmarkAppendKey(b *testing.B) {
	mem := memory.DefaultAllocator
	rng := rand.New(rand.NewPCG(3, 4))
	types := []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String}
	const n = 4096
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(rng.Uint64()), fmt.Sprintf("customer#%09d", rng.IntN(1e9))}
	}
	cols := keyArrays(b, mem, types, rows)
	defer releaseAll(cols)
	enc, err := NewKeyEncoder(types)
	require.NoError(b, err)
	var buf []byte
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		buf = enc.AppendKey(buf[:0], cols, i%n)
		i++
	}
	benchSink += len(buf)
}

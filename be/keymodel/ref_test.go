package keymodel

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// The model-based tests hold rows as Go values — nil for NULL, else the
// value's Go type (bool, int8...int64, float32, float64, decimal128.Num,
// arrow.Date32, arrow.Timestamp, string) — fold them with a reference
// written for clarity over those values, and compare with what Fold and
// a Folder make of the same rows as Arrow arrays.

// colType is a column type with its value generator: key columns draw
// from a small domain, so that keys repeat; value columns from a wide
// one with the edge cases of the type.
type colType struct {
	name string
	dt   arrow.DataType
	gen  func(r *rand.Rand, key bool) any
}

var dec = &arrow.Decimal128Type{Precision: 38, Scale: 2}

var (
	tBool = colType{"bool", arrow.FixedWidthTypes.Boolean, func(r *rand.Rand, _ bool) any { return r.IntN(2) == 1 }}
	tI8   = colType{"int8", arrow.PrimitiveTypes.Int8, func(r *rand.Rand, key bool) any {
		if key {
			return int8(r.IntN(4) - 1)
		}
		return int8(r.IntN(256) - 128) // sums wrap often
	}}
	tI16 = colType{"int16", arrow.PrimitiveTypes.Int16, func(r *rand.Rand, key bool) any {
		if key {
			return int16(r.IntN(4) * 1000)
		}
		return pick(r, int16(math.MaxInt16), int16(math.MinInt16), int16(r.IntN(65536)-32768))
	}}
	tI32 = colType{"int32", arrow.PrimitiveTypes.Int32, func(r *rand.Rand, key bool) any {
		if key {
			return int32(r.IntN(5) - 2)
		}
		return pick(r, int32(math.MaxInt32), int32(math.MinInt32), r.Int32()-r.Int32(), int32(r.IntN(10)))
	}}
	tI64 = colType{"int64", arrow.PrimitiveTypes.Int64, func(r *rand.Rand, key bool) any {
		if key {
			return int64(r.IntN(6) - 3)
		}
		return pick(r, int64(math.MaxInt64), int64(math.MinInt64), r.Int64()-r.Int64(), int64(r.IntN(10)))
	}}
	tF32 = colType{"float32", arrow.PrimitiveTypes.Float32, func(r *rand.Rand, key bool) any {
		if key {
			return pick(r, float32(math.NaN()), float32(math.Copysign(0, -1)), float32(0), float32(1.5), float32(-2))
		}
		return pick(r, float32(math.NaN()), float32(math.Copysign(0, -1)), float32(0), float32(math.Inf(1)),
			float32(math.Inf(-1)), float32(math.MaxFloat32), float32(r.NormFloat64()*1e3), float32(r.IntN(8))/4)
	}}
	tF64 = colType{"float64", arrow.PrimitiveTypes.Float64, func(r *rand.Rand, key bool) any {
		if key {
			return pick(r, math.NaN(), math.Copysign(0, -1), 0, 0.1, math.Inf(-1))
		}
		return pick(r, math.NaN(), math.Copysign(0, -1), 0, math.Inf(1), math.Inf(-1), math.MaxFloat64,
			r.NormFloat64()*1e6, 0.1, 0.2, float64(r.IntN(8))/4)
	}}
	tDec = colType{"decimal", dec, func(r *rand.Rand, key bool) any {
		if key {
			return decimal128.FromI64(int64(r.IntN(5) - 2))
		}
		return pick(r, decimal128.MaxDecimal128, decimal128.MaxDecimal128.Negate(),
			decimal128.New(r.Int64()-r.Int64(), r.Uint64()), decimal128.FromI64(int64(r.IntN(2000)-1000)),
			decimal128.New(-1, 0), decimal128.New(0, math.MaxUint64))
	}}
	tDate = colType{"date", arrow.FixedWidthTypes.Date32, func(r *rand.Rand, key bool) any {
		if key {
			return arrow.Date32(19000 + r.IntN(3))
		}
		return arrow.Date32(r.IntN(80000) - 40000)
	}}
	tTS = colType{"timestamp", &arrow.TimestampType{Unit: arrow.Microsecond}, func(r *rand.Rand, key bool) any {
		if key {
			return arrow.Timestamp(1_700_000_000_000_000 + r.IntN(3))
		}
		return arrow.Timestamp(r.Int64() - r.Int64())
	}}
	tStr = colType{"string", arrow.BinaryTypes.String, func(r *rand.Rand, key bool) any {
		if key {
			return pick(r, "", "a", "ab", "b", "\xff", "é")
		}
		var sb strings.Builder
		for range r.IntN(5) {
			sb.WriteByte("aZ0\x00\x80\xffé"[r.IntN(8)])
		}
		return sb.String()
	}}
	// A sketch column for the fake unions: a set of numbers, sorted.
	tSet = colType{"set", arrow.BinaryTypes.String, func(r *rand.Rand, _ bool) any {
		var s []int
		for range 1 + r.IntN(3) {
			s = append(s, r.IntN(20))
		}
		return setString(s)
	}}
)

// sortableTypes are the types keys, MIN, MAX and sequence columns have.
var sortableTypes = []colType{tBool, tI8, tI16, tI32, tI64, tF32, tF64, tDec, tDate, tTS, tStr}

// sumTypes are the types SUM folds.
var sumTypes = []colType{tI8, tI16, tI32, tI64, tF32, tF64, tDec}

func pick[T any](r *rand.Rand, vs ...T) T { return vs[r.IntN(len(vs))] }

func setString(s []int) string {
	slices.Sort(s)
	s = slices.Compact(s)
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, ",")
}

// fakeUnion stands for the sketches: BITMAP_UNION unions sets of
// numbers, HLL_UNION joins its values with "+", which is associative but
// not commutative, so the tests see that values come oldest first.
func fakeUnion(agg Agg, vals []string) (string, error) {
	if len(vals) < 2 {
		return "", fmt.Errorf("union of %d values", len(vals))
	}
	if agg == HLLUnion {
		return strings.Join(vals, "+"), nil
	}
	var s []int
	for _, v := range vals {
		for p := range strings.SplitSeq(v, ",") {
			x, err := strconv.Atoi(p)
			if err != nil {
				return "", err
			}
			s = append(s, x)
		}
	}
	return setString(s), nil
}

// schema is a table's columns for the tests.
type schema struct {
	types   []colType
	nulls   []bool // the column may hold NULLs
	small   []bool // the column draws from a small domain (keys, sequences)
	numKeys int
}

// randomRows draws n rows sorted on the key with equal keys in arrival
// order; a wide key domain makes them mostly distinct.
func (s *schema) randomRows(r *rand.Rand, n int, wide bool) [][]any {
	rows := make([][]any, n)
	nullPct := r.IntN(40)
	for i := range rows {
		row := make([]any, len(s.types))
		for c, t := range s.types {
			key := s.small[c] && !wide
			if s.nulls[c] && r.IntN(100) < nullPct {
				continue
			}
			row[c] = t.gen(r, key)
		}
		rows[i] = row
	}
	slices.SortStableFunc(rows, func(a, b []any) int { return s.cmpKeys(a, b) })
	return rows
}

func (s *schema) cmpKeys(a, b []any) int {
	for c := range s.numKeys {
		if x := cmpVal(a[c], b[c]); x != 0 {
			return x
		}
	}
	return 0
}

// cmpVal is the tablet store's order over Go values, NULL first, written
// independently of the package (big integers for decimals).
func cmpVal(a, b any) int {
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
		return cmp.Compare(b2i(x), b2i(y))
	case int8:
		return cmp.Compare(x, b.(int8))
	case int16:
		return cmp.Compare(x, b.(int16))
	case int32:
		return cmp.Compare(x, b.(int32))
	case int64:
		return cmp.Compare(x, b.(int64))
	case float32:
		return cmp.Compare(x, b.(float32))
	case float64:
		return cmp.Compare(x, b.(float64))
	case decimal128.Num:
		return x.BigInt().Cmp(b.(decimal128.Num).BigInt())
	case arrow.Date32:
		return cmp.Compare(x, b.(arrow.Date32))
	case arrow.Timestamp:
		return cmp.Compare(x, b.(arrow.Timestamp))
	case string:
		return strings.Compare(x, b.(string))
	}
	panic(fmt.Sprintf("cmpVal of %T", a))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// groupsOf splits sorted rows into runs of equal keys.
func (s *schema) groupsOf(rows [][]any) [][][]any {
	var out [][][]any
	for i, row := range rows {
		if i == 0 || s.cmpKeys(rows[i-1], row) != 0 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], row)
	}
	return out
}

// refWinners returns the index of each key's surviving row.
func (s *schema) refWinners(m *Model, rows [][]any) []int32 {
	var out []int32
	i := 0
	for _, g := range s.groupsOf(rows) {
		best := 0
		for j := range g {
			if m.SeqCol < 0 || cmpVal(g[j][m.SeqCol], g[best][m.SeqCol]) >= 0 {
				best = j
			}
		}
		out = append(out, int32(i+best))
		i += len(g)
	}
	return out
}

// reference folds rows as the package doc defines.
func (s *schema) reference(m *Model, rows [][]any) [][]any {
	switch m.Kind {
	case Duplicate:
		return rows
	case Unique:
		var out [][]any
		for _, w := range s.refWinners(m, rows) {
			out = append(out, rows[w])
		}
		return out
	}
	var out [][]any
	for _, g := range s.groupsOf(rows) {
		row := make([]any, len(s.types))
		for c, agg := range m.Aggs {
			var vals []any // the non-NULL values, oldest first
			for _, r := range g {
				if r[c] != nil {
					vals = append(vals, r[c])
				}
			}
			switch agg {
			case None:
				row[c] = g[0][c]
			case Replace:
				row[c] = g[len(g)-1][c]
			case ReplaceIfNotNull:
				if len(vals) > 0 {
					row[c] = vals[len(vals)-1]
				}
			case Min, Max:
				for _, v := range vals {
					x := cmpVal(v, row[c])
					if row[c] == nil || agg == Min && x < 0 || agg == Max && x > 0 {
						row[c] = v
					}
				}
			case Sum:
				if len(vals) > 0 {
					row[c] = refSum(vals)
				}
			case BitmapUnion, HLLUnion:
				if len(vals) > 0 {
					strs := make([]string, len(vals))
					for i, v := range vals {
						strs[i] = v.(string)
					}
					if len(strs) == 1 {
						row[c] = strs[0]
					} else {
						u, err := fakeUnion(agg, strs)
						if err != nil {
							panic(err)
						}
						row[c] = u
					}
				}
			}
		}
		out = append(out, row)
	}
	return out
}

// refSum adds non-NULL values: integers in int64 then wrapped by
// conversion, decimals in big integers wrapped to 128 bits, floats in
// their own type oldest first.
func refSum(vals []any) any {
	switch vals[0].(type) {
	case int8, int16, int32, int64:
		var s int64
		for _, v := range vals {
			switch x := v.(type) {
			case int8:
				s += int64(x)
			case int16:
				s += int64(x)
			case int32:
				s += int64(x)
			case int64:
				s += x
			}
		}
		switch vals[0].(type) {
		case int8:
			return int8(s)
		case int16:
			return int16(s)
		case int32:
			return int32(s)
		}
		return s
	case float32:
		s := vals[0].(float32)
		for _, v := range vals[1:] {
			s += v.(float32)
		}
		return s
	case float64:
		s := vals[0].(float64)
		for _, v := range vals[1:] {
			s += v.(float64)
		}
		return s
	case decimal128.Num:
		s := new(big.Int)
		for _, v := range vals {
			s.Add(s, v.(decimal128.Num).BigInt())
		}
		mod := new(big.Int).Lsh(big.NewInt(1), 128)
		s.Mod(s, mod)
		if s.Cmp(new(big.Int).Rsh(mod, 1)) >= 0 {
			s.Sub(s, mod)
		}
		return decimal128.FromBigInt(s)
	}
	panic(fmt.Sprintf("SUM of %T", vals[0]))
}

// build makes one array per column of rows. With r set it may, at
// random, slice each out of a larger array (so that offsets are
// exercised) and put random values under the NULLs, as decoders and take
// kernels may leave.
func (s *schema) build(t testing.TB, mem memory.Allocator, rows [][]any, r *rand.Rand) []arrow.Array {
	t.Helper()
	before, after, garbage := 0, 0, false
	if r != nil {
		if r.IntN(2) == 0 {
			before, after = r.IntN(13), r.IntN(3)
		}
		garbage = r.IntN(2) == 0
	}
	out := make([]arrow.Array, len(s.types))
	for c, ct := range s.types {
		b := array.NewBuilder(mem, ct.dt)
		var valid []bool
		for range before {
			appendVal(b, ct.gen(r, false))
			valid = append(valid, true)
		}
		for _, row := range rows {
			v := row[c]
			valid = append(valid, v != nil)
			if v == nil && garbage {
				v = ct.gen(r, false)
			}
			appendVal(b, v)
		}
		for range after {
			b.AppendNull()
			valid = append(valid, false)
		}
		a := b.NewArray()
		b.Release()
		if garbage {
			a = withValidity(mem, a, valid)
		}
		if before+after > 0 {
			out[c] = array.NewSlice(a, int64(before), int64(before+len(rows)))
			a.Release()
		} else {
			out[c] = a
		}
	}
	return out
}

// withValidity returns a with its validity bitmap replaced, and releases
// a.
func withValidity(mem memory.Allocator, a arrow.Array, valid []bool) arrow.Array {
	defer a.Release()
	buf := memory.NewResizableBuffer(mem)
	defer buf.Release()
	buf.Resize(int(bitutil.BytesForBits(int64(len(valid)))))
	bm := buf.Bytes()
	clear(bm)
	nulls := 0
	for i, v := range valid {
		if v {
			bitutil.SetBit(bm, i)
		} else {
			nulls++
		}
	}
	bufs := append([]*memory.Buffer{buf}, a.Data().Buffers()[1:]...)
	d := array.NewData(a.DataType(), a.Len(), bufs, nil, nulls, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

func appendVal(b array.Builder, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
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
	case *array.Float32Builder:
		b.Append(v.(float32))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.Decimal128Builder:
		b.Append(v.(decimal128.Num))
	case *array.Date32Builder:
		b.Append(v.(arrow.Date32))
	case *array.TimestampBuilder:
		b.Append(v.(arrow.Timestamp))
	case *array.StringBuilder:
		b.Append(v.(string))
	default:
		panic(fmt.Sprintf("appendVal to %T", b))
	}
}

// rowsOf reads arrays back as rows of comparable Go values (see canon).
func rowsOf(t testing.TB, cols []arrow.Array) [][]any {
	t.Helper()
	if len(cols) == 0 {
		return nil
	}
	n := cols[0].Len()
	out := make([][]any, n)
	for i := range out {
		row := make([]any, len(cols))
		for c, a := range cols {
			require.Equal(t, n, a.Len())
			if a.IsNull(i) {
				continue
			}
			switch a := a.(type) {
			case *array.Boolean:
				row[c] = a.Value(i)
			case *array.Int8:
				row[c] = a.Value(i)
			case *array.Int16:
				row[c] = a.Value(i)
			case *array.Int32:
				row[c] = a.Value(i)
			case *array.Int64:
				row[c] = a.Value(i)
			case *array.Float32:
				row[c] = a.Value(i)
			case *array.Float64:
				row[c] = a.Value(i)
			case *array.Decimal128:
				row[c] = a.Value(i)
			case *array.Date32:
				row[c] = a.Value(i)
			case *array.Timestamp:
				row[c] = a.Value(i)
			case *array.String:
				row[c] = a.Value(i)
			default:
				t.Fatalf("rowsOf %T", a)
			}
		}
		out[i] = row
	}
	return canon(out)
}

type f32bits uint32
type f64bits uint64

// canon makes rows comparable with require.Equal: floats by their bits,
// so that -0 differs from +0, except that every NaN is one (which NaN an
// add of two NaNs gives depends on the order the compiler puts them in);
// decimals by their value.
func canon(rows [][]any) [][]any {
	out := make([][]any, len(rows))
	for i, row := range rows {
		r := make([]any, len(row))
		for c, v := range row {
			switch x := v.(type) {
			case float32:
				if x != x {
					r[c] = "NaN"
				} else {
					r[c] = f32bits(math.Float32bits(x))
				}
			case float64:
				if x != x {
					r[c] = "NaN"
				} else {
					r[c] = f64bits(math.Float64bits(x))
				}
			case decimal128.Num:
				r[c] = x.BigInt().String()
			default:
				r[c] = v
			}
		}
		out[i] = r
	}
	return out
}

func release(as []arrow.Array) {
	for _, a := range as {
		a.Release()
	}
}

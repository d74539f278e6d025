package exec

import (
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/types"
)

// phys is the class of Go value an expression kernel works on.
type phys uint8

const (
	pBool  phys = iota + 1
	pInt        // TINYINT..BIGINT as int64, DATE as days, DATETIME as µs
	pFloat      // FLOAT, DOUBLE as float64
	pDec        // DECIMAL, LARGEINT as decimal128.Num at the type's scale
	pStr        // CHAR, VARCHAR, STRING; BITMAP, HLL as their serialized bytes
)

func physOf(t types.Type) phys {
	switch t.Kind {
	case types.KindBoolean:
		return pBool
	case types.KindTinyInt, types.KindSmallInt, types.KindInt, types.KindBigInt, types.KindDate, types.KindDateTime:
		return pInt
	case types.KindFloat, types.KindDouble:
		return pFloat
	case types.KindDecimal, types.KindLargeInt:
		return pDec
	case types.KindChar, types.KindVarchar, types.KindString, types.KindBitmap, types.KindHLL:
		return pStr
	}
	panic(fmt.Sprintf("BUG: no physical class for type %v", t))
}

// scaleOf is the decimal scale of t (0 for LARGEINT and non-decimals).
func scaleOf(t types.Type) int32 {
	if t.Kind == types.KindDecimal {
		return int32(t.Scale)
	}
	return 0
}

// identity is a read-only 0..n-1 selection shared by every kernel that runs
// over a batch without a selection vector.
var identity = func() []int32 {
	s := make([]int32, 1<<16)
	for i := range s {
		s[i] = int32(i)
	}
	return s
}()

// rowsOf returns the live rows of b as a selection (never nil).
func rowsOf(b *Batch) []int32 {
	if b.Sel != nil {
		return b.Sel
	}
	return identRows(b.Len)
}

func identRows(n int) []int32 {
	if n <= len(identity) {
		return identity[:n]
	}
	s := make([]int32, n)
	for i := range s {
		s[i] = int32(i)
	}
	return s
}

// view is a typed, read-only window on an array (or a constant) for kernels.
// Index i is multiplied by step, so a constant (step 0) reads index 0 for
// every row without a branch.
type view struct {
	t     types.Type
	p     phys
	step  int
	nulls []byte // validity bitmap; nil when there are no nulls
	off   int    // bit offset into nulls
	i64   []int64
	// i32 holds INT and DATE columns at their stored width; i64 is then
	// nil until ints() widens it for a kernel that needs it.
	i32 []int32
	f64 []float64
	dec []decimal128.Num
	str *array.String
	// codes, when set, index str: the view is of a dictionary-coded page
	// (row i holds str.Value(codes[i])).
	codes []int32
	boo   *array.Boolean
	// allNull is set for a NULL constant.
	allNull bool
	// pool allows ints() to widen into a slice from int64Pool; pooled is
	// set when it did, to be returned when the view's batch is done.
	pool, pooled bool
}

func (v *view) isNull(i int) bool {
	i *= v.step
	return v.nulls != nil && bitutil.BitIsNotSet(v.nulls, v.off+i)
}
func (v *view) int(i int) int64 {
	if v.i32 != nil {
		return int64(v.i32[i*v.step])
	}
	return v.i64[i*v.step]
}
func (v *view) flt(i int) float64         { return v.f64[i*v.step] }
func (v *view) decv(i int) decimal128.Num { return v.dec[i*v.step] }
func (v *view) strv(i int) string {
	if v.codes != nil {
		return v.str.Value(int(v.codes[i*v.step]))
	}
	return v.str.Value(i * v.step)
}
func (v *view) boolv(i int) bool                    { return v.boo.Value(i * v.step) }
func (v *view) hasNulls() bool                      { return v.nulls != nil }
func (v *view) isConst() bool                       { return v.step == 0 }
func (v *view) constNull() bool                     { return v.step == 0 && v.isNull(0) }
func (v *view) fltAny(i int) float64                { return toFloat(v, i) }
func (v *view) decAt(i int, s int32) decimal128.Num { return toDec(v, i, s) }

// decFloat returns the float64 nearest to decimal n of the given scale, as
// MySQL converts a DECIMAL to a DOUBLE. decimal128's ToFloat64 multiplies
// by an inexact 10^-scale (0.3 came out 0.30000000000000004) and rounds
// wide values twice (9999999999.999999 came out 1e10). Below 2^53 the
// unscaled value and 10^scale (scale ≤ 22) are exact doubles, so one
// division rounds once; wider values go through the decimal text.
func decFloat(n decimal128.Num, scale int32) float64 {
	if scale >= 0 && scale <= 22 {
		hi, lo := n.HighBits(), int64(n.LowBits())
		if hi == 0 && lo >= 0 && lo <= 1<<53 || hi == -1 && lo < 0 && lo >= -(1<<53) {
			return float64(lo) / math.Pow10(int(scale))
		}
	}
	if f, err := strconv.ParseFloat(n.ToString(scale), 64); err == nil {
		return f
	}
	return n.ToFloat64(scale)
}

// toFloat reads row i of a numeric view as float64.
func toFloat(v *view, i int) float64 {
	switch v.p {
	case pInt:
		return float64(v.int(i))
	case pFloat:
		return v.flt(i)
	case pDec:
		return decFloat(v.decv(i), scaleOf(v.t))
	case pBool:
		if v.boolv(i) {
			return 1
		}
		return 0
	}
	panic("BUG: toFloat of " + v.t.String())
}

// toDec reads row i of an integer or decimal view as a decimal at scale s.
func toDec(v *view, i int, s int32) decimal128.Num {
	switch v.p {
	case pInt:
		return decimal128.FromI64(v.int(i)).IncreaseScaleBy(s)
	case pDec:
		return rescale(v.decv(i), scaleOf(v.t), s)
	case pFloat:
		n, err := decimal128.FromFloat64(v.flt(i), 38, s)
		if err != nil {
			return decimal128.Num{}
		}
		return n
	}
	panic("BUG: toDec of " + v.t.String())
}

// toDecChecked is toDec, with false where raising the value's scale to s
// would take it past 128 bits (toDec panics there).
func toDecChecked(v *view, i int, s int32) (decimal128.Num, bool) {
	switch v.p {
	case pDec:
		if from := scaleOf(v.t); s > from && !v.decv(i).FitsInPrecision(decimal128.MaxPrecision-(s-from)) {
			return decimal128.Num{}, false
		}
	case pInt:
		if s > decimal128.MaxPrecision-19 && !decimal128.FromI64(v.int(i)).FitsInPrecision(decimal128.MaxPrecision-s) {
			return decimal128.Num{}, false
		}
	}
	return toDec(v, i, s), true
}

// rescale changes the scale of n, rounding half away from zero when the
// scale shrinks.
func rescale(n decimal128.Num, from, to int32) decimal128.Num {
	switch {
	case from == to:
		return n
	case to > from:
		return n.IncreaseScaleBy(to - from)
	default:
		return n.ReduceScaleBy(from-to, true)
	}
}

// newView wraps an array of SQL type t.
func newView(arr arrow.Array, t types.Type) *view { return newViewWith(arr, t, false) }

// newViewWith is newView; with pool set, narrower integers are widened into
// slices from int64Pool (the view is then marked pooled).
func newViewWith(arr arrow.Array, t types.Type, pool bool) *view {
	v := &view{t: t, p: physOf(t), step: 1, pool: pool}
	widen := v.widenBuf
	if arr.NullN() > 0 {
		v.nulls = arr.NullBitmapBytes()
		v.off = arr.Data().Offset()
	}
	switch a := arr.(type) {
	case *array.Int64:
		v.i64 = a.Int64Values()
	case *array.Timestamp:
		// An empty array may have no value buffer.
		if buf := a.Data().Buffers()[1]; buf != nil {
			v.i64 = arrow.Int64Traits.CastFromBytes(buf.Bytes())[a.Data().Offset():][:a.Len()]
		}
	case *array.Int32:
		v.i32 = a.Int32Values()
	case *array.Int16:
		v.i64 = widenInto(widen(a.Len()), a.Int16Values())
	case *array.Int8:
		v.i64 = widenInto(widen(a.Len()), a.Int8Values())
	case *array.Date32:
		// An empty array may have no value buffer, as for Timestamp.
		if buf := a.Data().Buffers()[1]; buf != nil {
			v.i32 = arrow.Int32Traits.CastFromBytes(buf.Bytes())[a.Data().Offset():][:a.Len()]
		}
	case *array.Float64:
		v.f64 = a.Float64Values()
	case *array.Float32:
		v.f64 = widenF(a.Float32Values())
	case *array.Decimal128:
		if buf := a.Data().Buffers()[1]; buf != nil {
			v.dec = arrow.Decimal128Traits.CastFromBytes(buf.Bytes())[a.Data().Offset():][:a.Len()]
		}
	case *array.String:
		v.str = a
	case *array.Dictionary:
		dict, ok := a.Dictionary().(*array.String)
		idx, ok2 := a.Indices().(*array.Int32)
		if !ok || !ok2 {
			panic(fmt.Sprintf("BUG: no view for dictionary type %v", arr.DataType()))
		}
		v.str, v.codes = dict, idx.Int32Values()
	case *array.Boolean:
		v.boo = a
	case *array.Null:
		return constNullView(t, a.Len())
	default:
		panic(fmt.Sprintf("BUG: no view for array type %v (SQL type %v)", arr.DataType(), t))
	}
	if v.p == pStr && v.str == nil || v.p == pBool && v.boo == nil {
		panic(fmt.Sprintf("BUG: array type %v does not match SQL type %v", arr.DataType(), t))
	}
	return v
}

// widenBuf returns n int64s for widening, pooled when the view may.
func (v *view) widenBuf(n int) []int64 {
	if v.pool {
		v.pooled = true
		return getInt64s(n)
	}
	return make([]int64, n)
}

// ints returns the integer values at 64 bits, widening i32 on first use.
func (v *view) ints() []int64 {
	if v.i64 == nil && v.i32 != nil {
		v.i64 = widenInto(v.widenBuf(len(v.i32)), v.i32)
		v.i32 = nil
	}
	return v.i64
}

func widenInto[T int8 | int16 | int32](out []int64, s []T) []int64 {
	out = out[:len(s)]
	for i, x := range s {
		out[i] = int64(x)
	}
	return out
}

func widenF(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, x := range s {
		out[i] = float64(x)
	}
	return out
}

var zeroBitmap = []byte{0}

// constNullView is a view whose every row is NULL.
func constNullView(t types.Type, _ int) *view {
	return &view{t: t, p: physOf(t), step: 0, nulls: zeroBitmap, allNull: true,
		i64: []int64{0}, f64: []float64{0}, dec: []decimal128.Num{{}}}
}

// outVec collects a kernel's results for rows of a batch and turns them into
// an Arrow array of the result type. Rows never set are NULL.
type outVec struct {
	t     types.Type
	p     phys
	n     int
	valid []byte // bitmap, 1 = valid
	nulls int    // number of rows not valid (computed in finish)
	i64   []int64
	f64   []float64
	dec   []decimal128.Num
	boo   []byte // bitmap
	// strings: appended in ascending row order; lastRow is the last row written.
	offs    []int32
	data    []byte
	lastRow int
}

func newOut(t types.Type, n int) *outVec {
	o := &outVec{t: t, p: physOf(t), n: n, valid: make([]byte, bitutil.BytesForBits(int64(n)))}
	switch o.p {
	case pInt:
		o.i64 = make([]int64, n)
	case pFloat:
		o.f64 = make([]float64, n)
	case pDec:
		o.dec = make([]decimal128.Num, n)
	case pBool:
		o.boo = make([]byte, bitutil.BytesForBits(int64(n)))
	case pStr:
		o.offs = make([]int32, 1, n+1)
		o.lastRow = -1
	}
	return o
}

func (o *outVec) setValid(i int) { bitutil.SetBit(o.valid, i) }
func (o *outVec) setInt(i int, x int64) {
	o.i64[i] = x
	bitutil.SetBit(o.valid, i)
}
func (o *outVec) setFlt(i int, x float64) {
	o.f64[i] = x
	bitutil.SetBit(o.valid, i)
}
func (o *outVec) setDec(i int, x decimal128.Num) {
	o.dec[i] = x
	bitutil.SetBit(o.valid, i)
}
func (o *outVec) setBool(i int, x bool) {
	if x {
		bitutil.SetBit(o.boo, i)
	}
	bitutil.SetBit(o.valid, i)
}

// setStr sets row i; rows must be set in ascending order.
func (o *outVec) setStr(i int, s string) {
	o.fillTo(i)
	o.data = append(o.data, s...)
	o.offs = append(o.offs, int32(len(o.data)))
	o.lastRow = i
	bitutil.SetBit(o.valid, i)
}

// setBytes is setStr for a byte slice.
func (o *outVec) setBytes(i int, s []byte) {
	o.fillTo(i)
	o.data = append(o.data, s...)
	o.offs = append(o.offs, int32(len(o.data)))
	o.lastRow = i
	bitutil.SetBit(o.valid, i)
}

// setNullStr marks string row i NULL (only needed to keep ascending order
// explicit; unset rows are NULL anyway).
func (o *outVec) fillTo(i int) {
	if i <= o.lastRow {
		panic(fmt.Sprintf("BUG: string rows set out of order (%d after %d)", i, o.lastRow))
	}
	end := int32(len(o.data))
	for o.lastRow < i-1 {
		o.offs = append(o.offs, end)
		o.lastRow++
	}
}

// setFrom copies row j of v (same physical class) into row i.
func (o *outVec) setFrom(i int, v *view, j int) {
	if v.isNull(j) {
		return
	}
	switch o.p {
	case pInt:
		o.setInt(i, v.int(j))
	case pFloat:
		o.setFlt(i, v.flt(j))
	case pDec:
		o.setDec(i, v.decv(j))
	case pBool:
		o.setBool(i, v.boolv(j))
	case pStr:
		o.setStr(i, v.strv(j))
	}
}

func (o *outVec) finish() arrow.Array {
	n := o.n
	o.nulls = n - bitutil.CountSetBits(o.valid, 0, n)
	var validBuf *memory.Buffer
	if o.nulls > 0 {
		validBuf = memory.NewBufferBytes(o.valid)
	}
	dt := o.t.Arrow()
	var buffers []*memory.Buffer
	switch o.t.Kind {
	case types.KindTinyInt:
		buffers = []*memory.Buffer{validBuf, memory.NewBufferBytes(arrow.Int8Traits.CastToBytes(narrow[int8](o.i64)))}
	case types.KindSmallInt:
		buffers = []*memory.Buffer{validBuf, memory.NewBufferBytes(arrow.Int16Traits.CastToBytes(narrow[int16](o.i64)))}
	case types.KindInt, types.KindDate:
		buffers = []*memory.Buffer{validBuf, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(narrow[int32](o.i64)))}
	case types.KindBigInt, types.KindDateTime:
		buffers = []*memory.Buffer{validBuf, memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(o.i64))}
	case types.KindFloat:
		f := make([]float32, n)
		for i, x := range o.f64 {
			f[i] = float32(x)
		}
		buffers = []*memory.Buffer{validBuf, memory.NewBufferBytes(arrow.Float32Traits.CastToBytes(f))}
	case types.KindDouble:
		buffers = []*memory.Buffer{validBuf, memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(o.f64))}
	case types.KindDecimal, types.KindLargeInt:
		buffers = []*memory.Buffer{validBuf, memory.NewBufferBytes(arrow.Decimal128Traits.CastToBytes(o.dec))}
	case types.KindBoolean:
		buffers = []*memory.Buffer{validBuf, memory.NewBufferBytes(o.boo)}
	default: // strings
		o.fillTo(n)
		o.offs = o.offs[:n+1]
		buffers = []*memory.Buffer{validBuf, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(o.offs)), memory.NewBufferBytes(o.data)}
	}
	data := array.NewData(dt, n, buffers, nil, o.nulls, 0)
	arr := array.MakeFromData(data)
	data.Release()
	return arr
}

func narrow[T int8 | int16 | int32](s []int64) []T {
	out := make([]T, len(s))
	for i, x := range s {
		out[i] = T(x)
	}
	return out
}

// intRange is the value range of an integer kind.
func intRange(k types.Kind) (lo, hi int64) {
	switch k {
	case types.KindTinyInt:
		return math.MinInt8, math.MaxInt8
	case types.KindSmallInt:
		return math.MinInt16, math.MaxInt16
	case types.KindInt:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

// allNullArray returns an array of n NULLs of type t.
func allNullArray(t types.Type, n int) arrow.Array {
	return newOut(t, n).finish()
}

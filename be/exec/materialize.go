package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/types"
)

// newBuilder returns an Arrow builder for SQL type t.
func newBuilder(t types.Type) array.Builder {
	return array.NewBuilder(memory.DefaultAllocator, t.Arrow())
}

// appendView appends rows of v (in the given order; an index < 0 appends
// NULL) to bld, whose type matches v's SQL type. The type switch is per call;
// the loops are typed.
func appendView(bld array.Builder, v *view, rows []int32) {
	bld.Reserve(len(rows))
	switch b := bld.(type) {
	case *array.Int64Builder:
		for _, r := range rows {
			if r < 0 || v.isNull(int(r)) {
				b.AppendNull()
			} else {
				b.UnsafeAppend(v.int(int(r)))
			}
		}
	case *array.Int32Builder:
		for _, r := range rows {
			if r < 0 || v.isNull(int(r)) {
				b.AppendNull()
			} else {
				b.UnsafeAppend(int32(v.int(int(r))))
			}
		}
	case *array.Int16Builder:
		for _, r := range rows {
			if r < 0 || v.isNull(int(r)) {
				b.AppendNull()
			} else {
				b.UnsafeAppend(int16(v.int(int(r))))
			}
		}
	case *array.Int8Builder:
		for _, r := range rows {
			if r < 0 || v.isNull(int(r)) {
				b.AppendNull()
			} else {
				b.UnsafeAppend(int8(v.int(int(r))))
			}
		}
	case *array.Date32Builder:
		for _, r := range rows {
			if r < 0 || v.isNull(int(r)) {
				b.AppendNull()
			} else {
				b.UnsafeAppend(arrow.Date32(v.int(int(r))))
			}
		}
	case *array.TimestampBuilder:
		for _, r := range rows {
			if r < 0 || v.isNull(int(r)) {
				b.AppendNull()
			} else {
				b.UnsafeAppend(arrow.Timestamp(v.int(int(r))))
			}
		}
	case *array.Float64Builder:
		for _, r := range rows {
			if r < 0 || v.isNull(int(r)) {
				b.AppendNull()
			} else {
				b.UnsafeAppend(v.flt(int(r)))
			}
		}
	case *array.Float32Builder:
		for _, r := range rows {
			if r < 0 || v.isNull(int(r)) {
				b.AppendNull()
			} else {
				b.UnsafeAppend(float32(v.flt(int(r))))
			}
		}
	case *array.Decimal128Builder:
		for _, r := range rows {
			if r < 0 || v.isNull(int(r)) {
				b.AppendNull()
			} else {
				b.UnsafeAppend(v.decv(int(r)))
			}
		}
	case *array.BooleanBuilder:
		for _, r := range rows {
			if r < 0 || v.isNull(int(r)) {
				b.AppendNull()
			} else {
				b.UnsafeAppend(v.boolv(int(r)))
			}
		}
	case *array.StringBuilder:
		for _, r := range rows {
			if r < 0 || v.isNull(int(r)) {
				b.AppendNull()
			} else {
				b.Append(v.strv(int(r)))
			}
		}
	default:
		panic(fmt.Sprintf("BUG: appendView to %T", bld))
	}
}

// take gathers rows idx of v into a new array (idx < 0 gives NULL).
func take(v *view, idx []int32) arrow.Array {
	if a := takeInts(v, idx); a != nil {
		return a
	}
	bld := newBuilder(v.t)
	defer bld.Release()
	appendView(bld, v, idx)
	return bld.NewArray()
}

// appendValue appends one normalized Go value (see [Literal]) or nil.
func appendValue(bld array.Builder, t types.Type, val any) {
	if val == nil {
		bld.AppendNull()
		return
	}
	lit := NewLiteral(val, t)
	appendView(bld, lit.v, []int32{0})
}

// table is a materialized set of columns (used by sort, join build, values).
type table struct {
	types []types.Type
	cols  []arrow.Array
	n     int
}

// tableBuilder accumulates the live rows of batches.
type tableBuilder struct {
	types []types.Type
	blds  []array.Builder
	n     int
}

func newTableBuilder(ts []types.Type) *tableBuilder {
	tb := &tableBuilder{types: ts}
	for _, t := range ts {
		tb.blds = append(tb.blds, newBuilder(t))
	}
	return tb
}

// appendViews appends rows of the column views.
func (tb *tableBuilder) appendViews(vs []*view, rows []int32) {
	for i, v := range vs {
		appendView(tb.blds[i], v, rows)
	}
	tb.n += len(rows)
}

func (tb *tableBuilder) finish() *table {
	t := &table{types: tb.types, n: tb.n}
	for _, b := range tb.blds {
		t.cols = append(t.cols, b.NewArray())
		b.Release()
	}
	tb.blds = nil
	return t
}

func (t *table) views() []*view {
	vs := make([]*view, len(t.cols))
	for i, c := range t.cols {
		vs[i] = newView(c, t.types[i])
	}
	return vs
}

func (t *table) release() {
	for _, c := range t.cols {
		c.Release()
	}
	t.cols = nil
}

// batchViews returns views of every column of b.
func batchViews(b *Batch, ts []types.Type) []*view {
	vs := make([]*view, len(b.Cols))
	for i, c := range b.Cols {
		vs[i] = newView(c, ts[i])
	}
	return vs
}

// releaseAll releases the arrays and empties the slice.
func releaseAll(arrs []arrow.Array) []arrow.Array {
	for _, a := range arrs {
		if a != nil {
			a.Release()
		}
	}
	return arrs[:0]
}

var _ = decimal128.Num{}

func arraySlice(a arrow.Array, i, j int) arrow.Array { return array.NewSlice(a, int64(i), int64(j)) }

// takeInts is take for INT and BIGINT views without NULLs when no index is
// negative: a plain gather into a new buffer. It returns nil otherwise.
func takeInts(v *view, idx []int32) arrow.Array {
	if v.hasNulls() || v.step != 1 || (v.t.Kind != types.KindInt && v.t.Kind != types.KindBigInt) {
		return nil
	}
	for _, r := range idx {
		if r < 0 {
			return nil
		}
	}
	if v.t.Kind == types.KindInt {
		out := make([]int32, len(idx))
		if x := v.i32; x != nil {
			for k, r := range idx {
				out[k] = x[r]
			}
		} else {
			x := v.i64 // widened already: the values fit
			for k, r := range idx {
				out[k] = int32(x[r])
			}
		}
		return int32Array(out)
	}
	x := v.i64
	if x == nil {
		return nil
	}
	out := make([]int64, len(idx))
	for k, r := range idx {
		out[k] = x[r]
	}
	return int64Array(out)
}

// int32Array and int64Array wrap values, without NULLs, as an array.
func int32Array(vals []int32) arrow.Array {
	d := array.NewData(arrow.PrimitiveTypes.Int32, len(vals),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(vals))}, nil, 0, 0)
	defer d.Release()
	return array.NewInt32Data(d)
}

func int64Array(vals []int64) arrow.Array {
	d := array.NewData(arrow.PrimitiveTypes.Int64, len(vals),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(vals))}, nil, 0, 0)
	defer d.Release()
	return array.NewInt64Data(d)
}

// scatterInts returns an n-row INT or BIGINT array holding v's row src[i]
// at row at[i], for a view without NULLs; rows not in at hold zeros and
// must stay unselected. It returns nil for other views.
func scatterInts(v *view, n int, at, src []int32) arrow.Array {
	if v.hasNulls() || v.step != 1 {
		return nil
	}
	switch {
	case v.t.Kind == types.KindInt && (v.i32 != nil || v.i64 != nil):
		out := make([]int32, n)
		if v.i32 != nil {
			for i, r := range at {
				out[r] = v.i32[src[i]]
			}
		} else {
			for i, r := range at {
				out[r] = int32(v.i64[src[i]])
			}
		}
		return int32Array(out)
	case v.t.Kind == types.KindBigInt && v.i64 != nil:
		out := make([]int64, n)
		for i, r := range at {
			out[r] = v.i64[src[i]]
		}
		return int64Array(out)
	}
	return nil
}

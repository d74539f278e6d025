package exec

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/be/sketch"
	"github.com/strata-db/strata/types"
)

// The BITMAP and HLL aggregates. All of them are NOT NULL, as in Doris: a
// group with no (non-NULL) value gets an empty sketch, or a count of 0.
//
//	bitmap_union(BITMAP)         BITMAP  the union
//	bitmap_union_count(BITMAP)   BIGINT  the union's cardinality
//	bitmap_intersect(BITMAP)     BITMAP  the intersection of the values
//	group_bitmap_xor(BITMAP)     BITMAP  the values in an odd number of them
//	bitmap_agg(integer)          BITMAP  the non-negative values
//	bitmap_union_int(integer)    BIGINT  how many distinct non-negative values
//	hll_union, hll_raw_agg(HLL)  HLL     the union
//	hll_union_agg(HLL)           BIGINT  the union's estimate
//	approx_count_distinct, ndv   BIGINT  the HLL estimate of the distinct
//	                                     non-NULL values (of any type)
//
// Two more serve only as the partial phase of a parallel aggregation
// (see [ParallelScanAgg]): bitmap_intersect_state is bitmap_intersect that
// leaves a group with no value NULL, so that the final intersection skips
// it, and approx_count_distinct_state is the HLL approx_count_distinct
// estimates.
const (
	aggBitmapIntersectState = "bitmap_intersect_state"
	aggApproxDistinctState  = "approx_count_distinct_state"
)

// isSketchAggregate reports whether fn (lower case) is one of the
// aggregates of this file.
func isSketchAggregate(fn string) bool {
	switch fn {
	case "bitmap_union", "bitmap_union_count", "bitmap_intersect", "group_bitmap_xor", "bitmap_agg",
		"bitmap_union_int", "hll_union", "hll_raw_agg", "hll_union_agg", "approx_count_distinct", "ndv",
		aggBitmapIntersectState, aggApproxDistinctState:
		return true
	}
	return false
}

// sketchAggResultType types a sketch aggregate (fn lower case).
func sketchAggResultType(fn string, args []types.Type) (types.Type, error) {
	if len(args) != 1 {
		return types.Type{}, fmt.Errorf("%s expects 1 argument, got %d", fn, len(args))
	}
	t := args[0]
	noSig := fmt.Errorf("Can not find the compatibility function signature: %s(%v)", fn, t)
	switch fn {
	case "bitmap_union", "bitmap_intersect", "group_bitmap_xor", aggBitmapIntersectState:
		if t.Kind != types.KindBitmap {
			return types.Type{}, noSig
		}
		return types.Bitmap, nil
	case "bitmap_union_count":
		if t.Kind != types.KindBitmap {
			return types.Type{}, noSig
		}
		return types.BigInt, nil
	case "bitmap_agg", "bitmap_union_int":
		if !(t.Kind.IsInteger() && t.Kind != types.KindLargeInt || t.Kind == types.KindBoolean) {
			return types.Type{}, noSig
		}
		if fn == "bitmap_agg" {
			return types.Bitmap, nil
		}
		return types.BigInt, nil
	case "hll_union", "hll_raw_agg":
		if t.Kind != types.KindHLL {
			return types.Type{}, noSig
		}
		return types.HLL, nil
	case "hll_union_agg":
		if t.Kind != types.KindHLL {
			return types.Type{}, noSig
		}
		return types.BigInt, nil
	case "approx_count_distinct", "ndv", aggApproxDistinctState:
		if t.Kind.IsObject() {
			return types.Type{}, noSig
		}
		if fn == aggApproxDistinctState {
			return types.HLL, nil
		}
		return types.BigInt, nil
	}
	return types.Type{}, fmt.Errorf("Unknown function '%s'", fn)
}

// newSketchAggState builds the state of a sketch aggregate.
func newSketchAggState(fn string, arg types.Type) aggState {
	switch fn {
	case "bitmap_union":
		return &bitmapAgg{op: bitmapOr}
	case "bitmap_union_count":
		return &bitmapAgg{op: bitmapOr, count: true}
	case "bitmap_intersect":
		return &bitmapAgg{op: bitmapAnd}
	case aggBitmapIntersectState:
		return &bitmapAgg{op: bitmapAnd, nullIfNone: true}
	case "group_bitmap_xor":
		return &bitmapAgg{op: bitmapXor}
	case "bitmap_agg":
		return &bitmapAgg{op: bitmapInts}
	case "bitmap_union_int":
		return &bitmapAgg{op: bitmapInts, count: true}
	case "hll_union", "hll_raw_agg":
		return &hllAgg{}
	case "hll_union_agg":
		return &hllAgg{count: true}
	case "approx_count_distinct", "ndv":
		return &hllAgg{hashValues: true, valueType: arg, count: true}
	case aggApproxDistinctState:
		return &hllAgg{hashValues: true, valueType: arg}
	}
	panic("BUG: no state for sketch aggregate " + fn)
}

// bitmapOp is how a bitmap aggregate folds a value into its group.
type bitmapOp uint8

const (
	bitmapOr   bitmapOp = iota // union of BITMAP values
	bitmapAnd                  // intersection of BITMAP values
	bitmapXor                  // symmetric difference of BITMAP values
	bitmapInts                 // integers added to one bitmap
)

// bitmapAgg keeps one bitmap per group.
type bitmapAgg struct {
	op         bitmapOp
	count      bool // result is the cardinality (BIGINT), not the bitmap
	nullIfNone bool // a group without a value is NULL rather than empty
	bms        []*sketch.Bitmap
	seen       []bool
}

func (a *bitmapAgg) update(n int, gids, rows []int32, args []*view) error {
	a.bms, a.seen = growTo(a.bms, n), growTo(a.seen, n)
	v := args[0]
	for k, r := range rows {
		i := int(r)
		if v.isNull(i) {
			continue
		}
		g := gids[k]
		if a.bms[g] == nil {
			a.bms[g] = sketch.NewBitmap()
		}
		switch a.op {
		case bitmapInts:
			x := v.int(i)
			if x < 0 {
				continue // not representable, skipped as to_bitmap does
			}
			a.bms[g].Add(uint64(x))
		case bitmapOr:
			if err := a.bms[g].UnionSerializedString(v.strv(i)); err != nil {
				return err
			}
		default:
			b, err := sketch.DeserializeBitmap(v.strv(i))
			if err != nil {
				return err
			}
			switch {
			case !a.seen[g]:
				a.bms[g] = b
			case a.op == bitmapAnd:
				a.bms[g].And(b)
			default:
				a.bms[g].Xor(b)
			}
		}
		a.seen[g] = true
	}
	return nil
}

func (a *bitmapAgg) result(n int) arrow.Array {
	a.bms, a.seen = growTo(a.bms, n), growTo(a.seen, n)
	if a.count {
		o := newOut(types.BigInt, n)
		for i := 0; i < n; i++ {
			var c uint64
			if a.bms[i] != nil {
				c = a.bms[i].Cardinality()
			}
			o.setInt(i, int64(min(c, math.MaxInt64)))
		}
		return o.finish()
	}
	o := newOut(types.Bitmap, n)
	var buf []byte
	for i := 0; i < n; i++ {
		switch {
		case a.seen[i]:
			buf = a.bms[i].AppendBinary(buf[:0])
			o.setBytes(i, buf)
		case !a.nullIfNone:
			o.setStr(i, emptyBitmapValue)
		}
	}
	return o.finish()
}

// hllAgg keeps one HLL per group: the union of HLL values, or with
// hashValues the HLL of the values' hashes.
type hllAgg struct {
	hashValues bool
	valueType  types.Type
	count      bool // result is the estimate (BIGINT), not the HLL
	hlls       []*sketch.HLL
	buf        []byte
}

func (a *hllAgg) update(n int, gids, rows []int32, args []*view) error {
	a.hlls = growTo(a.hlls, n)
	v := args[0]
	for k, r := range rows {
		i := int(r)
		if v.isNull(i) {
			continue
		}
		g := gids[k]
		if a.hlls[g] == nil {
			a.hlls[g] = sketch.NewHLL()
		}
		if !a.hashValues {
			if err := a.hlls[g].UnionSerializedString(v.strv(i)); err != nil {
				return err
			}
			continue
		}
		if h := a.hashValue(v, i); h != 0 {
			a.hlls[g].Add(h)
		}
	}
	return nil
}

// hashValue hashes row i of v as Doris's approx_count_distinct does:
// MurmurHash64A of the value's bytes in its column type's width (strings:
// their bytes). Doris leaves out values that hash to 0.
func (a *hllAgg) hashValue(v *view, i int) uint64 {
	b := a.buf[:0]
	switch v.p {
	case pStr:
		return sketch.HashString(v.strv(i))
	case pInt:
		x := v.int(i)
		switch a.valueType.Kind {
		case types.KindTinyInt:
			b = append(b, byte(x))
		case types.KindSmallInt:
			b = binary.LittleEndian.AppendUint16(b, uint16(x))
		case types.KindInt, types.KindDate:
			b = binary.LittleEndian.AppendUint32(b, uint32(x))
		default:
			b = binary.LittleEndian.AppendUint64(b, uint64(x))
		}
	case pFloat:
		if a.valueType.Kind == types.KindFloat {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v.flt(i))))
		} else {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.flt(i)))
		}
	case pDec:
		d := v.decv(i)
		b = binary.LittleEndian.AppendUint64(b, d.LowBits())
		b = binary.LittleEndian.AppendUint64(b, uint64(d.HighBits()))
	case pBool:
		if v.boolv(i) {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	a.buf = b
	return sketch.HashBytes(b)
}

func (a *hllAgg) result(n int) arrow.Array {
	a.hlls = growTo(a.hlls, n)
	if a.count {
		o := newOut(types.BigInt, n)
		for i := 0; i < n; i++ {
			var e int64
			if a.hlls[i] != nil {
				e = a.hlls[i].Estimate()
			}
			o.setInt(i, e)
		}
		return o.finish()
	}
	o := newOut(types.HLL, n)
	var buf []byte
	for i := 0; i < n; i++ {
		if a.hlls[i] == nil {
			o.setStr(i, emptyHLLValue)
			continue
		}
		buf = a.hlls[i].AppendBinary(buf[:0])
		o.setBytes(i, buf)
	}
	return o.finish()
}

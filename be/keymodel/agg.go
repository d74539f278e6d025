package keymodel

import (
	"bytes"
	"cmp"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Each function here runs per group of bounds b (see groups.go) with one
// type switch per column and a typed loop per case. Types with a Go
// ordered type (integers, floats, dates, timestamps) get generic loops;
// DECIMAL, STRING and BOOLEAN, rarer as sequence, MIN or MAX columns, an
// ordering closure. cmp.Less orders floats as cmp.Compare does (NaN
// least), which is the tablet store's order.

// isValid reports whether row r of a column with validity valid (nil:
// no NULLs) and bit offset off is not NULL.
func isValid(valid []byte, off int, r int32) bool {
	return valid == nil || bitutil.BitIsSet(valid, off+int(r))
}

// lessFunc orders two non-NULL rows of a for the types without a Go
// ordered type.
func lessFunc(a arrow.Array) func(i, j int32) bool {
	switch x := a.(type) {
	case *array.Decimal128:
		v := x.Values()
		return func(i, j int32) bool { return v[i].Less(v[j]) }
	case *array.String:
		offs, data := stringData(x)
		return func(i, j int32) bool {
			return bytes.Compare(data[offs[i]:offs[i+1]], data[offs[j]:offs[j+1]]) < 0
		}
	case *array.Boolean:
		return func(i, j int32) bool { return !x.Value(int(i)) && x.Value(int(j)) }
	}
	panic(fmt.Sprintf("BUG: keymodel: ordering %s, which passed the check", a.DataType()))
}

// bestBySeq sets w[g] to the row of group g with the largest value of
// seq, NULL least, the later of equal ones.
func bestBySeq(seq arrow.Array, b, w []int32) {
	valid, off := validity(seq)
	switch x := seq.(type) {
	case *array.Int8:
		bestBySeqOf(x.Int8Values(), valid, off, b, w)
	case *array.Int16:
		bestBySeqOf(x.Int16Values(), valid, off, b, w)
	case *array.Int32:
		bestBySeqOf(x.Int32Values(), valid, off, b, w)
	case *array.Int64:
		bestBySeqOf(x.Int64Values(), valid, off, b, w)
	case *array.Date32:
		bestBySeqOf(x.Date32Values(), valid, off, b, w)
	case *array.Timestamp:
		bestBySeqOf(x.TimestampValues(), valid, off, b, w)
	case *array.Float32:
		bestBySeqOf(x.Float32Values(), valid, off, b, w)
	case *array.Float64:
		bestBySeqOf(x.Float64Values(), valid, off, b, w)
	default:
		bestBySeqFunc(lessFunc(seq), valid, off, b, w)
	}
}

// bestBySeqOf and bestBySeqFunc are one loop in two copies; keep them
// alike.

func bestBySeqOf[T cmp.Ordered](v []T, valid []byte, off int, b, w []int32) {
	for g := range w {
		lo, hi := b[g], b[g+1]
		best := lo
		for r := lo + 1; r < hi; r++ {
			switch {
			case !isValid(valid, off, r):
				if !isValid(valid, off, best) {
					best = r
				}
			case !isValid(valid, off, best) || !cmp.Less(v[r], v[best]):
				best = r
			}
		}
		w[g] = best
	}
}

func bestBySeqFunc(less func(i, j int32) bool, valid []byte, off int, b, w []int32) {
	for g := range w {
		lo, hi := b[g], b[g+1]
		best := lo
		for r := lo + 1; r < hi; r++ {
			switch {
			case !isValid(valid, off, r):
				if !isValid(valid, off, best) {
					best = r
				}
			case !isValid(valid, off, best) || !less(r, best):
				best = r
			}
		}
		w[g] = best
	}
}

// lastValid sets idx[g] to the last non-NULL row of group g, -1 when
// there is none.
func lastValid(a arrow.Array, b, idx []int32) {
	valid, off := validity(a)
	for g := range idx {
		lo := b[g]
		r := b[g+1] - 1
		for r >= lo && !isValid(valid, off, r) {
			r--
		}
		if r < lo {
			r = -1
		}
		idx[g] = r
	}
}

// extremes sets idx[g] to the row of group g with the least (or, with
// max, greatest) non-NULL value of a, the earliest of equal ones; -1 when
// every value is NULL.
func extremes(a arrow.Array, b []int32, max bool, idx []int32) {
	valid, off := validity(a)
	switch x := a.(type) {
	case *array.Int8:
		extremesOf(x.Int8Values(), valid, off, b, max, idx)
	case *array.Int16:
		extremesOf(x.Int16Values(), valid, off, b, max, idx)
	case *array.Int32:
		extremesOf(x.Int32Values(), valid, off, b, max, idx)
	case *array.Int64:
		extremesOf(x.Int64Values(), valid, off, b, max, idx)
	case *array.Date32:
		extremesOf(x.Date32Values(), valid, off, b, max, idx)
	case *array.Timestamp:
		extremesOf(x.TimestampValues(), valid, off, b, max, idx)
	case *array.Float32:
		extremesOf(x.Float32Values(), valid, off, b, max, idx)
	case *array.Float64:
		extremesOf(x.Float64Values(), valid, off, b, max, idx)
	default:
		extremesFunc(lessFunc(a), valid, off, b, max, idx)
	}
}

// extremesOf and extremesFunc are one loop in two copies; keep them
// alike.

func extremesOf[T cmp.Ordered](v []T, valid []byte, off int, b []int32, max bool, idx []int32) {
	for g := range idx {
		lo, hi := b[g], b[g+1]
		pick := int32(-1)
		for r := lo; r < hi; r++ {
			if !isValid(valid, off, r) {
				continue
			}
			if pick < 0 || max && cmp.Less(v[pick], v[r]) || !max && cmp.Less(v[r], v[pick]) {
				pick = r
			}
		}
		idx[g] = pick
	}
}

func extremesFunc(less func(i, j int32) bool, valid []byte, off int, b []int32, max bool, idx []int32) {
	for g := range idx {
		lo, hi := b[g], b[g+1]
		pick := int32(-1)
		for r := lo; r < hi; r++ {
			if !isValid(valid, off, r) {
				continue
			}
			if pick < 0 || max && less(pick, r) || !max && less(r, pick) {
				pick = r
			}
		}
		idx[g] = pick
	}
}

// sum adds the non-NULL values of each group in a's own type, oldest
// first, starting from the oldest value; a group of NULLs sums to NULL.
// a's type is one checkAgg accepts for SUM. start, when not nil, marks
// the rows that begin a group (see scratch.diff), from row 0 = b[0].
func sum(a arrow.Array, b []int32, start []byte, mem memory.Allocator) arrow.Array {
	valid, off := validity(a)
	dt := a.DataType()
	switch x := a.(type) {
	case *array.Int8:
		return sumOf(dt, 1, x.Int8Values(), valid, off, b, start, mem)
	case *array.Int16:
		return sumOf(dt, 2, x.Int16Values(), valid, off, b, start, mem)
	case *array.Int32:
		return sumOf(dt, 4, x.Int32Values(), valid, off, b, start, mem)
	case *array.Int64:
		return sumOf(dt, 8, x.Int64Values(), valid, off, b, start, mem)
	case *array.Float32:
		// Floats not by rows (start nil): the loop-carried float add is
		// slower than the per-group loop's mispredicted branches.
		return sumOf(dt, 4, x.Float32Values(), valid, off, b, nil, mem)
	case *array.Float64:
		return sumOf(dt, 8, x.Float64Values(), valid, off, b, nil, mem)
	case *array.Decimal128:
		return sumDecimal(dt, x.Values(), valid, off, b, mem)
	}
	panic(fmt.Sprintf("BUG: keymodel: SUM of %s passed the check", dt))
}

// number is a type SUM adds in with Go's arithmetic (integers wrap).
type number interface {
	int8 | int16 | int32 | int64 | float32 | float64
}

// sumRows is sumOf's loop without NULLs, a row at a time rather than a
// group at a time, and without a branch: each row's running sum is
// written to its group's slot, restarting at the group's first row.
// Twice as fast for integers as the per-group loop, whose inner loop
// ends at random.
func sumRows[T number](v []T, start []byte, out []T) {
	start = start[:len(v)]
	k := -1
	var acc T
	for i, x := range v {
		st := start[i]
		k += int(st)
		s := acc + x
		if st != 0 {
			s = x // a conditional move
		}
		acc = s
		out[k] = s
	}
}

// sumOf and sumDecimal are one loop in two copies (decimal128.Num has
// Add, not +); keep them alike.

func sumOf[T number](dt arrow.DataType, width int, v []T, valid []byte, off int, b []int32, start []byte, mem memory.Allocator) arrow.Array {
	ng := len(b) - 1
	data := newBuffer(mem, ng*width)
	out := arrow.GetData[T](data.Bytes())[:ng]
	if valid == nil && start != nil {
		sumRows(v[:b[ng]], start, out)
		return newArray(dt, ng, 0, nil, data)
	}
	if valid == nil {
		for g := range out {
			lo, hi := b[g], b[g+1]
			s := v[lo]
			for r := lo + 1; r < hi; r++ {
				s += v[r]
			}
			out[g] = s
		}
		return newArray(dt, ng, 0, nil, data)
	}
	vb := newBuffer(mem, int(bitutil.BytesForBits(int64(ng))))
	bm := vb.Bytes()
	clear(bm)
	nulls := 0
	for g := range out {
		lo, hi := b[g], b[g+1]
		var s T
		seen := false
		for r := lo; r < hi; r++ {
			switch {
			case !bitutil.BitIsSet(valid, off+int(r)):
			case seen:
				s += v[r]
			default:
				s, seen = v[r], true
			}
		}
		out[g] = s
		if seen {
			bitutil.SetBit(bm, g)
		} else {
			nulls++
		}
	}
	if nulls == 0 {
		vb.Release()
		vb = nil
	}
	return newArray(dt, ng, nulls, vb, data)
}

func sumDecimal(dt arrow.DataType, v []decimal128.Num, valid []byte, off int, b []int32, mem memory.Allocator) arrow.Array {
	ng := len(b) - 1
	data := newBuffer(mem, ng*arrow.Decimal128SizeBytes)
	out := arrow.GetData[decimal128.Num](data.Bytes())[:ng]
	if valid == nil {
		for g := range out {
			lo, hi := b[g], b[g+1]
			s := v[lo]
			for r := lo + 1; r < hi; r++ {
				s = s.Add(v[r])
			}
			out[g] = s
		}
		return newArray(dt, ng, 0, nil, data)
	}
	vb := newBuffer(mem, int(bitutil.BytesForBits(int64(ng))))
	bm := vb.Bytes()
	clear(bm)
	nulls := 0
	for g := range out {
		lo, hi := b[g], b[g+1]
		var s decimal128.Num
		seen := false
		for r := lo; r < hi; r++ {
			switch {
			case !bitutil.BitIsSet(valid, off+int(r)):
			case seen:
				s = s.Add(v[r])
			default:
				s, seen = v[r], true
			}
		}
		out[g] = s
		if seen {
			bitutil.SetBit(bm, g)
		} else {
			nulls++
		}
	}
	if nulls == 0 {
		vb.Release()
		vb = nil
	}
	return newArray(dt, ng, nulls, vb, data)
}

// unionAll merges the non-NULL serialized sketches of each group with
// union; a lone value is kept as it is, a group of NULLs gives NULL.
func unionAll(union func(Agg, []string) (string, error), agg Agg, a arrow.Array, b []int32, mem memory.Allocator) (arrow.Array, error) {
	x := a.(*array.String)
	valid, off := validity(a)
	ng := len(b) - 1
	bld := array.NewStringBuilder(mem)
	defer bld.Release()
	bld.Reserve(ng)
	bld.ReserveData(len(x.ValueBytes()))
	var vals []string
	for g := range ng {
		vals = vals[:0]
		for r := b[g]; r < b[g+1]; r++ {
			if isValid(valid, off, r) {
				vals = append(vals, x.Value(int(r)))
			}
		}
		switch len(vals) {
		case 0:
			bld.AppendNull()
		case 1:
			bld.Append(vals[0])
		default:
			u, err := union(agg, vals)
			if err != nil {
				return nil, err
			}
			bld.Append(u)
		}
	}
	return bld.NewArray(), nil
}

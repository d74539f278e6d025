package storage

import (
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

func TestDeletePredicateMatch(t *testing.T) {
	ib := array.NewInt64Builder(memory.DefaultAllocator)
	ib.AppendValues([]int64{1, 2, 3, 4, 5}, []bool{true, true, true, false, true})
	ints := ib.NewArray()
	defer ints.Release()
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	sb.AppendValues([]string{"a", "b", "c", "d", ""}, []bool{true, true, true, true, false})
	strs := sb.NewArray()
	defer strs.Release()
	db := array.NewDecimal128Builder(memory.DefaultAllocator, &arrow.Decimal128Type{Precision: 10, Scale: 2})
	for _, v := range []int64{100, 250, 300, 400, 500} {
		db.Append(decimal128.FromI64(v))
	}
	decs := db.NewArray()
	defer decs.Release()
	cols := map[uint32]arrow.Array{1: ints, 2: strs, 3: decs}

	for _, tc := range []struct {
		conds []DeleteCondition
		want  []uint32
	}{
		{[]DeleteCondition{{Column: 1, Op: "=", Ints: []int64{2}}}, []uint32{1}},
		{[]DeleteCondition{{Column: 1, Op: "!=", Ints: []int64{2}}}, []uint32{0, 2, 4}}, // NULL never
		{[]DeleteCondition{{Column: 1, Op: ">=", Ints: []int64{3}}}, []uint32{2, 4}},
		{[]DeleteCondition{{Column: 1, Op: "<", Ints: []int64{3}}}, []uint32{0, 1}},
		{[]DeleteCondition{{Column: 1, Op: "IN", Ints: []int64{1, 5, 9}}}, []uint32{0, 4}},
		{[]DeleteCondition{{Column: 1, Op: "NOT IN", Ints: []int64{1, 5}}}, []uint32{1, 2}},
		{[]DeleteCondition{{Column: 1, Op: "IS NULL"}}, []uint32{3}},
		{[]DeleteCondition{{Column: 2, Op: "IS NOT NULL"}, {Column: 1, Op: ">", Ints: []int64{1}}}, []uint32{1, 2}},
		{[]DeleteCondition{{Column: 2, Op: "<=", Strs: []string{"b"}}}, []uint32{0, 1}},
		{[]DeleteCondition{{Column: 3, Op: "=", Strs: []string{"250"}}}, []uint32{1}},
		{[]DeleteCondition{{Column: 3, Op: ">", Strs: []string{"300"}}, {Column: 2, Op: "!=", Strs: []string{"d"}}}, nil},
		// A column the batch lacks: as its default does.
		{[]DeleteCondition{{Column: 9, Op: "IS NULL", MissingMatches: true}, {Column: 1, Op: "=", Ints: []int64{1}}}, []uint32{0}},
		{[]DeleteCondition{{Column: 9, Op: "=", Ints: []int64{1}}}, nil},
	} {
		p := DeletePredicate{Conditions: tc.conds}
		dst := roaring.New()
		require.NoError(t, p.Match(cols, 5, 10, dst), "%+v", tc.conds)
		var want []uint32
		for _, r := range tc.want {
			want = append(want, r+10)
		}
		require.Equal(t, want, nilIfEmpty(dst.ToArray()), "%+v", tc.conds)
	}

	for _, bad := range []DeleteCondition{
		{Column: 1, Op: "LIKE", Ints: []int64{1}},
		{Column: 1, Op: "="},
		{Column: 3, Op: "=", Strs: []string{"1.5"}},
	} {
		p := DeletePredicate{Conditions: []DeleteCondition{bad}}
		require.Error(t, p.Match(cols, 5, 0, roaring.New()), "%+v", bad)
	}
	require.Equal(t, []uint32{2, 1}, (&DeletePredicate{Conditions: []DeleteCondition{{Column: 2}, {Column: 1}, {Column: 2}}}).Columns())
}

func nilIfEmpty(a []uint32) []uint32 {
	if len(a) == 0 {
		return nil
	}
	return a
}

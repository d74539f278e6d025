package partition

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

func dateTable() *catalog.Table {
	return &catalog.Table{
		Name: "t",
		Schema: catalog.Schema{Columns: []catalog.Column{
			{ID: 1, Name: "d", Type: types.Date, IsKey: true, Nullable: true},
			{ID: 2, Name: "k", Type: types.BigInt, IsKey: true},
			{ID: 3, Name: "s", Type: types.Varchar(10), Nullable: true},
		}},
		PartitionType:    catalog.RangePartitioned,
		PartitionColumns: []string{"d"},
		Partitions: []catalog.Partition{
			// Deliberately out of order.
			{Name: "p2", Lower: catalog.PartitionBound{Values: []string{"2024-02-01"}}, Upper: catalog.PartitionBound{Values: []string{"2024-03-01"}}},
			{Name: "p1", Lower: catalog.PartitionBound{}, Upper: catalog.PartitionBound{Values: []string{"2024-02-01"}}},
			{Name: "pmax", Lower: catalog.PartitionBound{Values: []string{"2024-04-01"}}, Upper: catalog.PartitionBound{MaxValue: true}},
		},
		Distribution: catalog.Distribution{Type: catalog.HashDistributed, Columns: []string{"k"}, Buckets: 4},
	}
}

func TestRouterPartitions(t *testing.T) {
	r, err := NewRouter(dateTable())
	require.NoError(t, err)
	db := array.NewDate32Builder(memory.DefaultAllocator)
	for _, s := range []string{"2024-01-15", "2024-02-01", "2024-02-29", "2024-03-15", "2024-04-01", "9999-12-31"} {
		d, err := types.ParseDate(s)
		require.NoError(t, err)
		db.Append(arrow.Date32(d))
	}
	db.AppendNull()
	kb := array.NewInt64Builder(memory.DefaultAllocator)
	for i := 0; i < 7; i++ {
		kb.Append(int64(i))
	}
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	for i := 0; i < 7; i++ {
		sb.Append("x")
	}
	cols := []arrow.Array{db.NewArray(), kb.NewArray(), sb.NewArray()}
	part := make([]int32, 7)
	bucket := make([]int32, 7)
	r.Route(cols, 7, part, bucket)
	// p1=1, p2=0, gap in March, pmax=2; NULL sorts first -> p1.
	require.Equal(t, []int32{1, 0, 0, -1, 2, 2, 1}, part)
	for _, b := range bucket {
		require.True(t, b >= 0 && b < 4)
	}
	// Same key, same bucket, every time.
	bucket2 := make([]int32, 7)
	r.Route(cols, 7, part, bucket2)
	require.Equal(t, bucket, bucket2)
}

func TestCheckRanges(t *testing.T) {
	typs := []types.Type{types.Int}
	mk := func(lo, hi string) Range {
		l, _ := Bound(typs, catalog.PartitionBound{Values: []string{lo}})
		h, _ := Bound(typs, catalog.PartitionBound{Values: []string{hi}})
		return Range{Lower: l, Upper: h}
	}
	require.NoError(t, CheckRanges([]string{"a", "b"}, []Range{mk("0", "10"), mk("10", "20")}))
	require.ErrorContains(t, CheckRanges([]string{"a", "b"}, []Range{mk("0", "10"), mk("5", "20")}), "intersects")
	require.ErrorContains(t, CheckRanges([]string{"a"}, []Range{mk("10", "10")}), "empty range")
}

func TestHashSpread(t *testing.T) {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	for i := 0; i < 10000; i++ {
		b.Append(int64(i))
	}
	h := make([]uint64, 10000)
	HashColumn(b.NewArray(), h)
	counts := make([]int, 8)
	for _, v := range h {
		counts[v%8]++
	}
	for _, c := range counts {
		require.InDelta(t, 1250, c, 200)
	}
}

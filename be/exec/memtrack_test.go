package exec

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// A zero-copy slice is charged for its own rows, not for the buffers it
// shares with the array it was cut from.
func TestArraysBytesSlices(t *testing.T) {
	const n, lo, rows = 100_000, 1000, BatchSize
	ib := array.NewInt64Builder(memory.DefaultAllocator)
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	lb := array.NewListBuilder(memory.DefaultAllocator, arrow.PrimitiveTypes.Int64)
	vb := lb.ValueBuilder().(*array.Int64Builder)
	for i := range n {
		ib.Append(int64(i))
		sb.Append(fmt.Sprintf("%010d", i)) // 10 bytes each
		lb.Append(true)
		vb.AppendValues([]int64{1, 2, 3}, nil)
	}
	ints, strs, lists := ib.NewArray(), sb.NewArray(), lb.NewArray()
	defer ints.Release()
	defer strs.Release()
	defer lists.Release()
	bitmap := int64(rows / 8)

	for _, tc := range []struct {
		name string
		arr  arrow.Array
		want int64 // the slice's bytes, give or take its bitmap
	}{
		{"bigint", ints, rows * 8},
		{"string", strs, rows*10 + (rows+1)*4},
		{"list", lists, (rows+1)*4 + rows*3*8 + rows*3/8}, // and the values' bitmap
	} {
		t.Run(tc.name, func(t *testing.T) {
			whole := ArraysBytes([]arrow.Array{tc.arr})
			s := array.NewSlice(tc.arr, lo, lo+rows)
			defer s.Release()
			got := ArraysBytes([]arrow.Array{s})
			require.GreaterOrEqual(t, got, tc.want)
			require.LessOrEqual(t, got, tc.want+2*bitmap+64, "the slice's own rows")
			require.Less(t, got*10, whole)
			// The whole array is its buffers.
			require.InDelta(t, tc.want*n/rows, whole, float64(whole)/20)
		})
	}
}

// An account counts a dictionary the batches share once.
func TestBatchBytesDictionaryOnce(t *testing.T) {
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	for i := range 10_000 {
		sb.Append(fmt.Sprintf("value-%08d", i))
	}
	dict := sb.NewArray()
	defer dict.Release()
	codes := make([]int32, BatchSize)
	for i := range codes {
		codes[i] = int32(i % dict.Len())
	}
	idx := int32Array(codes)
	defer idx.Release()
	d := array.NewDictionaryArray(dictOfStrings, idx, dict)
	defer d.Release()
	b := &Batch{Cols: []arrow.Array{d}, Len: d.Len()}

	a := memAccount{t: NewMemTracker(0, "exec_mem_limit")}
	first := a.batchBytes(b)
	second := a.batchBytes(b)
	require.EqualValues(t, BatchSize*4, second, "the codes only")
	require.Greater(t, first, second+int64(dict.Len())*14, "the codes and the dictionary")
}

// A GROUP BY with many groups whose data is far under the limit passes:
// the slices HashAgg and Values hand out are charged for their own rows.
func TestMemLimitHighCardinalityGroupBy(t *testing.T) {
	const limit = 128 << 20
	t.Run("serial", func(t *testing.T) {
		const n = 500_000 // ~28 MB of groups
		mt := NewMemTracker(limit, "exec_mem_limit")
		ctx := WithMemTracker(context.Background(), mt)
		rows := 0
		require.NoError(t, Drain(ctx, bigGroupBy(t, n), func(b *Batch) error { rows += b.NumRows(); return nil }))
		require.Equal(t, n, rows)
		require.Less(t, mt.Peak(), int64(limit/2))
		require.Zero(t, mt.Used())
	})
	t.Run("parallel", func(t *testing.T) {
		const n = 400_000
		seg := writeTestSegment(t, n, BatchSize)
		spec := ScanSpec{Segments: []*storage.Segment{seg}, Columns: []ScanColumn{{ID: 1, Type: types.Int}}}
		p, err := NewParallelScanAgg(spec, []Expr{col(0, types.Int)}, []AggSpec{{Func: "count"}}, 4)
		require.NoError(t, err)
		mt := NewMemTracker(limit, "exec_mem_limit")
		ctx := WithMemTracker(context.Background(), mt)
		rows := 0
		require.NoError(t, Drain(ctx, p, func(b *Batch) error { rows += b.NumRows(); return nil }))
		require.Equal(t, n, rows)
		require.Less(t, mt.Peak(), int64(limit/2))
		require.Zero(t, mt.Used())
	})
}

// The process's total follows every tracker's charges and returns.
func TestProcessQueryMemory(t *testing.T) {
	before := ProcessQueryMemory()
	a, b := NewMemTracker(0, ""), NewMemTracker(100, "")
	require.NoError(t, a.Consume(1000, "x"))
	require.NoError(t, b.Consume(60, "y"))
	require.Error(t, b.Consume(60, "y"), "past b's limit")
	require.Equal(t, before+1060, ProcessQueryMemory(), "a refused charge is not counted")
	a.Release(1000)
	b.Release(60)
	require.Equal(t, before, ProcessQueryMemory())
}

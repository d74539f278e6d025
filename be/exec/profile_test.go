package exec

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// int64Values is a Values operator of one BIGINT column 0..n-1.
func int64Values(n int) *Values {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	for i := range n {
		b.Append(int64(i))
	}
	return NewValuesFromArrays([]types.Type{types.BigInt}, []arrow.Array{b.NewArray()})
}

// TestProfileRowCounts runs SELECT v % 10, count(*) FROM (N rows) WHERE v < M
// GROUP BY 1 and checks each operator's rows in the profile.
func TestProfileRowCounts(t *testing.T) {
	const n, m = 50_000, 12_345
	scan := int64Values(n)
	pred, err := NewCompare(CmpLT, col(0, types.BigInt), NewLiteral(int64(m), types.BigInt))
	require.NoError(t, err)
	filter := NewFilter(scan, pred)
	mod, err := NewArith(OpMod, col(0, types.BigInt), NewLiteral(int64(10), types.BigInt))
	require.NoError(t, err)
	agg, err := NewHashAgg(filter, []Expr{mod}, []AggSpec{{Func: "count"}})
	require.NoError(t, err)
	rows := 0
	require.NoError(t, Drain(context.Background(), agg, func(b *Batch) error { rows += b.NumRows(); return nil }))
	require.Equal(t, 10, rows)

	p := Profile(agg)
	require.Equal(t, "HashAgg", p.Name)
	require.EqualValues(t, 10, p.Rows)
	require.Len(t, p.Children, 1)
	f := p.Children[0]
	require.Equal(t, "Filter", f.Name)
	require.EqualValues(t, m, f.Rows)
	require.Len(t, f.Children, 1)
	v := f.Children[0]
	require.Equal(t, "Values", v.Name)
	require.EqualValues(t, n, v.Rows)
	require.Empty(t, v.Children)
	// Inclusive time contains the children's; exclusive is what is left.
	require.GreaterOrEqual(t, p.Nanos, f.Nanos)
	require.Equal(t, p.Nanos-f.Nanos, p.Excl)

	lines := p.Lines()
	require.Len(t, lines, 3)
	require.Equal(t, "HashAgg", lines[0].Operator)
	require.Equal(t, "|--Filter", lines[1].Operator)
	require.Equal(t, "   |--Values", lines[2].Operator)
	require.EqualValues(t, m, lines[1].Rows)
}

// bigGroupBy is SELECT v, count(*) GROUP BY v over n distinct values.
func bigGroupBy(t *testing.T, n int) Operator {
	agg, err := NewHashAgg(int64Values(n), []Expr{col(0, types.BigInt)}, []AggSpec{{Func: "count"}})
	require.NoError(t, err)
	return agg
}

func TestMemLimitHashAgg(t *testing.T) {
	const n = 200_000
	t.Run("small limit fails", func(t *testing.T) {
		mt := NewMemTracker(1<<20, "exec_mem_limit")
		ctx := WithMemTracker(context.Background(), mt)
		err := Drain(ctx, bigGroupBy(t, n), func(*Batch) error { return nil })
		var me *MemLimitError
		require.True(t, errors.As(err, &me), "%v", err)
		require.Equal(t, "HashAgg", me.Op)
		require.EqualValues(t, 1<<20, me.Limit)
		require.Contains(t, err.Error(), "MEM_LIMIT_EXCEEDED")
		require.Contains(t, err.Error(), fmt.Sprintf("limit %d bytes", 1<<20))
		require.Contains(t, err.Error(), "exec_mem_limit")
		require.Zero(t, mt.Used(), "the failed query's memory is given back")
	})
	t.Run("large limit passes", func(t *testing.T) {
		mt := NewMemTracker(1<<30, "exec_mem_limit")
		ctx := WithMemTracker(context.Background(), mt)
		rows := 0
		require.NoError(t, Drain(ctx, bigGroupBy(t, n), func(b *Batch) error { rows += b.NumRows(); return nil }))
		require.Equal(t, n, rows)
		require.Greater(t, mt.Peak(), int64(n*8), "the groups were charged")
		require.Zero(t, mt.Used())
	})
}

func TestMemLimitSortAndJoin(t *testing.T) {
	mt := NewMemTracker(64<<10, "exec_mem_limit")
	ctx := WithMemTracker(context.Background(), mt)
	sort := NewSort(int64Values(100_000), []SortKey{{Expr: col(0, types.BigInt), Desc: true}})
	err := Drain(ctx, sort, func(*Batch) error { return nil })
	require.ErrorContains(t, err, "MEM_LIMIT_EXCEEDED: query memory limit exceeded in Sort")
	require.Zero(t, mt.Used())

	j, err := NewHashJoin(int64Values(100_000), int64Values(10), JoinInner,
		[]Expr{col(0, types.BigInt)}, []Expr{col(0, types.BigInt)}, nil)
	require.NoError(t, err)
	err = Drain(ctx, j, func(*Batch) error { return nil })
	require.ErrorContains(t, err, "in HashJoin build")
	require.Zero(t, mt.Used())
}

func TestProfileParallelPipeline(t *testing.T) {
	// The parallel pipeline's profile sums its workers.
	seg := writeTestSegment(t, 20_000, 1000)
	spec := ScanSpec{Segments: []*storage.Segment{seg}, Columns: []ScanColumn{{ID: 1, Type: types.Int}}}
	p, err := NewParallelScanAgg(spec, nil, []AggSpec{{Func: "count"}}, 3)
	require.NoError(t, err)
	require.NoError(t, Drain(context.Background(), p, func(*Batch) error { return nil }))
	prof := Profile(p)
	var text []string
	for _, l := range prof.Lines() {
		text = append(text, fmt.Sprintf("%s rows=%d", l.Operator, l.Rows))
	}
	joined := strings.Join(text, "\n")
	require.Contains(t, joined, "SegmentScan (x3 workers) rows=20000", joined)
}

// BenchmarkHashAggTracking is BenchmarkHashAgg's int key with 100K groups,
// without a memory tracker and with one (what every session query has).
//
//	go test -run '^$' -bench BenchmarkHashAggTracking -count 6 ./be/exec/ | benchstat -col /tracker -
func BenchmarkHashAggTracking(b *testing.B) {
	const n, groups = 1 << 21, 100_000
	kb := array.NewInt64Builder(memory.DefaultAllocator)
	vb := array.NewInt64Builder(memory.DefaultAllocator)
	for i := range n {
		kb.Append(int64(i%groups) * 7919)
		vb.Append(int64(i))
	}
	cols := []arrow.Array{kb.NewArray(), vb.NewArray()}
	schema := []types.Type{types.BigInt, types.BigInt}
	for _, tracked := range []bool{false, true} {
		b.Run(fmt.Sprintf("tracker=%v", tracked), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ctx := context.Background()
				if tracked {
					ctx = WithMemTracker(ctx, NewMemTracker(2<<30, "exec_mem_limit"))
				}
				agg, err := NewHashAgg(NewValuesFromArrays(schema, cols), []Expr{col(0, types.BigInt)}, []AggSpec{{Func: "count"}, {Func: "sum", Args: []Expr{col(1, types.BigInt)}}})
				if err != nil {
					b.Fatal(err)
				}
				if err := Drain(ctx, agg, func(*Batch) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package exec

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// The partial phase over two scans and the final phase over their
// partial results together give what the serial aggregation over both
// gives, as when two backends aggregate their tablets.
func TestPartialAndFinalAggMatchSerial(t *testing.T) {
	seg1 := writeTestSegment(t, 7000, 500)
	seg2 := writeTestSegment(t, 3000, 700)
	cols := []ScanColumn{{ID: 1, Type: types.Int}, {ID: 2, Type: types.String}, {ID: 3, Type: types.Decimal(10, 2)}}
	f := must(NewCompare(CmpGE, col(0, types.Int), lit(int64(1200), types.Int)))
	aggs := []AggSpec{
		{Func: "count"},
		{Func: "sum", Args: []Expr{col(0, types.Int)}},
		{Func: "avg", Args: []Expr{col(2, types.Decimal(10, 2))}},
		{Func: "min", Args: []Expr{col(1, types.String)}},
		{Func: "approx_count_distinct", Args: []Expr{col(1, types.String)}},
	}
	for _, groupBy := range [][]Expr{nil, {col(1, types.String)}} {
		both := ScanSpec{Segments: []*storage.Segment{seg1, seg2}, Columns: cols, Filter: f}
		scan, err := NewSegmentScan(both)
		require.NoError(t, err)
		serial, err := NewHashAgg(scan, groupBy, aggs)
		require.NoError(t, err)
		want := collect(t, serial)

		var partial [][]arrow.Array
		var schema []types.Type
		for _, seg := range []*storage.Segment{seg1, seg2} {
			p, err := NewParallelPipelinePartialAgg(ScanSpec{Segments: []*storage.Segment{seg}, Columns: cols, Filter: f}, nil, groupBy, aggs, 2)
			require.NoError(t, err)
			schema = p.Schema()
			require.NoError(t, Drain(context.Background(), p, func(b *Batch) error {
				partial = append(partial, DenseColumns(b, schema))
				return nil
			}))
		}
		final, err := NewFinalAgg(&replayOp{schema: schema, batches: partial}, len(groupBy), aggs, serial.Schema())
		require.NoError(t, err)
		require.Equal(t, serial.Schema(), final.Schema())
		got := collect(t, final)
		for _, cols := range partial {
			releaseAll(cols)
		}
		sortRows(want)
		sortRows(got)
		require.Equal(t, want, got)
	}
}

func TestDenseColumns(t *testing.T) {
	mem := memory.DefaultAllocator
	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{1, 2, 3, 4}, []bool{true, false, true, true})
	ints := ib.NewArray()
	defer ints.Release()
	db := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}).(*array.BinaryDictionaryBuilder)
	for _, s := range []string{"b", "a", "b", ""} {
		require.NoError(t, db.AppendString(s))
	}
	db.AppendNull()
	dict := db.NewArray()
	defer dict.Release()
	dict4 := array.NewSlice(dict, 0, 4)
	defer dict4.Release()
	ts := []types.Type{types.BigInt, types.String}

	// Dense already: the same arrays, retained.
	b := &Batch{Cols: []arrow.Array{ints}, Len: 4}
	out := DenseColumns(b, ts[:1])
	require.Same(t, ints, out[0])
	releaseAll(out)

	// A selection and a dictionary: copies of the live rows.
	b = &Batch{Cols: []arrow.Array{ints, dict4}, Len: 4, Sel: []int32{1, 3}}
	out = DenseColumns(b, ts)
	defer releaseAll(out)
	require.Equal(t, `[(null) 4]`, out[0].String())
	require.True(t, arrow.TypeEqual(arrow.BinaryTypes.String, out[1].DataType()))
	require.Equal(t, `["a" ""]`, out[1].String())
}

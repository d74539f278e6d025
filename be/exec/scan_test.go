package exec

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// writeTestSegment writes n rows: id INT = i (sorted), name STRING = "n<i%7>",
// amount DECIMAL(10,2) = i/100, with pages of pageRows rows.
func writeTestSegment(t testing.TB, n, pageRows int) *storage.Segment {
	t.Helper()
	metas := []storage.ColumnMeta{
		{ID: 1, Type: types.Int.Arrow()},
		{ID: 2, Type: types.String.Arrow(), Nullable: true},
		{ID: 3, Type: types.Decimal(10, 2).Arrow()},
	}
	var buf bytes.Buffer
	w, err := storage.NewWriter(&buf, metas, storage.WriterOptions{PageRows: pageRows, NumSortKeys: 1})
	require.NoError(t, err)
	ib := array.NewInt32Builder(memory.DefaultAllocator)
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	db := newBuilder(types.Decimal(10, 2))
	for i := 0; i < n; i++ {
		ib.Append(int32(i))
		if i%11 == 0 {
			sb.AppendNull()
		} else {
			sb.Append(fmt.Sprintf("n%d", i%7))
		}
		appendValue(db, types.Decimal(10, 2), decimal128.FromI64(int64(i)))
	}
	cols := []arrow.Array{ib.NewArray(), sb.NewArray(), db.NewArray()}
	require.NoError(t, w.Append(cols))
	_, err = w.Finish()
	require.NoError(t, err)
	seg, err := storage.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	return seg
}

func TestSegmentScanPruningAndLateMaterialization(t *testing.T) {
	seg := writeTestSegment(t, 10000, 1000)
	cols := []ScanColumn{
		{ID: 1, Type: types.Int},
		{ID: 2, Type: types.String},
		{ID: 3, Type: types.Decimal(10, 2)},
		{ID: 9, Type: types.BigInt, Default: int64(42)}, // added later
		{ID: 10, Type: types.String},                    // added later, NULL default
	}
	filter := must(NewBetween(col(0, types.Int), lit(int64(2500), types.Int), lit(int64(3499), types.Int), false))
	filter = NewAnd(filter, must(NewCompare(CmpEQ, col(1, types.String), lit("n3", types.String))))
	ranges := ExtractRanges(filter)
	require.Equal(t, []ColumnRange{{Col: 0, Min: int64(2500), Max: int64(3499), HasMin: true, HasMax: true},
		{Col: 1, Min: "n3", Max: "n3", HasMin: true, HasMax: true}}, ranges)
	scan, err := NewSegmentScan(ScanSpec{Segments: []*storage.Segment{seg, seg}, Columns: cols, Filter: filter, Ranges: ranges})
	require.NoError(t, err)
	got := collect(t, scan)
	var want [][]any
	for rep := 0; rep < 2; rep++ {
		for i := 2500; i <= 3499; i++ {
			if i%11 != 0 && i%7 == 3 {
				want = append(want, []any{int64(i), "n3", fmt.Sprintf("%d.%02d", i/100, i%100), int64(42), nil})
			}
		}
	}
	require.Equal(t, want, got)
	c := scan.Counters()
	require.Equal(t, int64(20), c.PagesTotal.Load())
	require.Equal(t, int64(16), c.PagesPruned.Load())
	require.Equal(t, int64(4000), c.RowsRead.Load())
	require.Equal(t, int64(len(want)), c.RowsReturned.Load())

	// a filter no page survives: zone maps of the missing column's default
	f2 := must(NewCompare(CmpGT, col(3, types.BigInt), lit(int64(100), types.BigInt)))
	scan, err = NewSegmentScan(ScanSpec{Segments: []*storage.Segment{seg}, Columns: cols, Filter: f2, Ranges: ExtractRanges(f2)})
	require.NoError(t, err)
	require.Empty(t, collect(t, scan))
	require.Equal(t, int64(10), scan.Counters().PagesPruned.Load())

	// a filter that zone maps cannot prune: late columns are read only for pages with survivors
	f3 := must(NewCompare(CmpEQ, col(2, types.Decimal(10, 2)), lit("12.34", types.Decimal(10, 2))))
	f3 = NewOr(f3, must(NewCompare(CmpEQ, col(2, types.Decimal(10, 2)), lit("95.00", types.Decimal(10, 2)))))
	scan, err = NewSegmentScan(ScanSpec{Segments: []*storage.Segment{seg}, Columns: cols[:3], Filter: f3})
	require.NoError(t, err)
	got = collect(t, scan)
	require.Equal(t, [][]any{{int64(1234), "n2", "12.34"}, {int64(9500), "n1", "95.00"}}, got)
	require.Equal(t, int64(8), scan.Counters().PagesFiltered.Load())

	// no filter: everything
	scan, err = NewSegmentScan(ScanSpec{Segments: []*storage.Segment{seg}, Columns: cols[:1]})
	require.NoError(t, err)
	h, err := NewHashAgg(scan, nil, []AggSpec{{Func: "count"}, {Func: "sum", Args: []Expr{col(0, types.Int)}}})
	require.NoError(t, err)
	require.Equal(t, [][]any{{int64(10000), int64(49995000)}}, collect(t, h))
	_ = context.Background()
}

func TestExtractRangesAndFold(t *testing.T) {
	c0 := col(0, types.Int)
	f := NewAnd(must(NewCompare(CmpGT, lit(int64(10), types.Int), c0)), must(NewCompare(CmpGE, c0, lit(int64(3), types.Int))))
	f = NewAnd(f, must(NewIn(c0, []Expr{lit(int64(5), types.Int), lit(int64(1), types.Int), lit(int64(7), types.Int)}, false)))
	f = NewAnd(f, NewOr(must(NewCompare(CmpEQ, c0, lit(int64(1), types.Int))), must(NewCompare(CmpEQ, c0, lit(int64(2), types.Int)))))
	require.Equal(t, []ColumnRange{{Col: 0, Min: int64(3), Max: int64(7), HasMin: true, HasMax: true}}, ExtractRanges(f))

	e := must(NewArith(OpAdd, lit(int64(1), types.Int), lit(int64(2), types.Int)))
	folded := Fold(e)
	require.IsType(t, &Literal{}, folded)
	require.Equal(t, int64(3), folded.(*Literal).Value)
	require.Equal(t, e.Type(), folded.Type())
	now, err := Call("now")
	require.NoError(t, err)
	require.Same(t, now, Fold(now))
	withCol := must(NewArith(OpAdd, c0, lit(int64(2), types.Int)))
	require.Same(t, withCol, Fold(withCol))
}

func TestSegmentScanReleasesPages(t *testing.T) {
	seg := writeTestSegment(t, 5000, 1000)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	f := must(NewCompare(CmpLT, col(0, types.Int), lit(int64(2100), types.Int)))
	scan, err := NewSegmentScan(ScanSpec{Segments: []*storage.Segment{seg}, Columns: []ScanColumn{{ID: 1, Type: types.Int}, {ID: 2, Type: types.String}},
		Filter: f, Ranges: ExtractRanges(f), Mem: mem})
	require.NoError(t, err)
	rows := collect(t, scan)
	require.Len(t, rows, 2100)
	require.Equal(t, int64(2), scan.Counters().PagesPruned.Load())
	mem.AssertSize(t, 0)
}

func TestEvalContextWarningsAndStrings(t *testing.T) {
	root := NewEvalContext()
	ctx := WithEvalContext(context.Background(), root)
	child := evalCtxFrom(ctx)
	child.Warn("truncated %d", 1)
	require.Equal(t, []string{"truncated 1"}, root.Warnings())
	e := must(NewCompare(CmpGE, col(0, types.Int), lit("7.5", types.String)))
	require.Equal(t, "(CAST(#0 AS DOUBLE) >= 7.5)", e.String())
	require.Equal(t, "'it''s'", lit("it's", types.String).String())
	require.Equal(t, "'2024-01-02'", lit("2024-01-02", types.Date).String())
	require.Equal(t, "NULL", lit(nil, types.Int).String())
	_, err := NewLiteralChecked("abc", types.Int)
	require.Error(t, err)
}

func TestParallelScanAggMatchesSerial(t *testing.T) {
	seg1 := writeTestSegment(t, 7000, 500)
	seg2 := writeTestSegment(t, 3000, 700)
	cols := []ScanColumn{{ID: 1, Type: types.Int}, {ID: 2, Type: types.String}, {ID: 3, Type: types.Decimal(10, 2)}}
	f := must(NewCompare(CmpGE, col(0, types.Int), lit(int64(1200), types.Int)))
	aggs := []AggSpec{
		{Func: "count"},
		{Func: "count", Args: []Expr{col(1, types.String)}},
		{Func: "sum", Args: []Expr{col(0, types.Int)}},
		{Func: "sum", Args: []Expr{col(2, types.Decimal(10, 2))}},
		{Func: "avg", Args: []Expr{col(0, types.Int)}},
		{Func: "avg", Args: []Expr{col(2, types.Decimal(10, 2))}},
		{Func: "min", Args: []Expr{col(1, types.String)}},
		{Func: "max", Args: []Expr{col(2, types.Decimal(10, 2))}},
	}
	for _, groupBy := range [][]Expr{nil, {col(1, types.String)}} {
		spec := ScanSpec{Segments: []*storage.Segment{seg1, seg2}, Columns: cols, Filter: f, Ranges: ExtractRanges(f)}
		scan, err := NewSegmentScan(spec)
		require.NoError(t, err)
		serial, err := NewHashAgg(scan, groupBy, aggs)
		require.NoError(t, err)
		want := collect(t, serial)
		par, err := NewParallelScanAgg(spec, groupBy, aggs, 2)
		require.NoError(t, err)
		require.Equal(t, serial.Schema(), par.Schema())
		got := collect(t, par)
		sortRows(want)
		sortRows(got)
		require.Equal(t, want, got)
		total, pruned, _ := par.Counters()
		require.Equal(t, int64(14+5), total)
		require.Equal(t, int64(3), pruned)
	}
	// empty input without GROUP BY still yields one row
	none := must(NewCompare(CmpGT, col(0, types.Int), lit(int64(1<<30), types.Int)))
	par, err := NewParallelScanAgg(ScanSpec{Segments: []*storage.Segment{seg1}, Columns: cols, Filter: none, Ranges: ExtractRanges(none)}, nil, aggs, 2)
	require.NoError(t, err)
	require.Equal(t, [][]any{{int64(0), int64(0), nil, nil, nil, nil, nil, nil}}, collect(t, par))
	_, err = NewParallelScanAgg(ScanSpec{Segments: []*storage.Segment{seg1}, Columns: cols}, nil, []AggSpec{{Func: "count", Distinct: true, Args: []Expr{col(0, types.Int)}}}, 2)
	require.Error(t, err)
}

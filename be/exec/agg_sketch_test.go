package exec

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/sketch"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// sketchRows are the rows of the aggregate tests: group, an integer (NULLs,
// negatives, values near 2^63), a BITMAP and an HLL (NULLs, empty ones),
// a string.
type sketchRow struct {
	g   int64
	n   *int64
	bm  *sketch.Bitmap // nil: NULL
	hll *sketch.HLL    // nil: NULL
	s   *string
}

func sketchRows(n int, seed uint64) []sketchRow {
	r := rand.New(rand.NewPCG(seed, 7))
	var out []sketchRow
	for i := 0; i < n; i++ {
		row := sketchRow{g: int64(r.IntN(5))}
		if r.IntN(10) > 0 {
			x := int64(r.IntN(3000)) - 100
			if r.IntN(50) == 0 {
				x = math.MaxInt64 - int64(r.IntN(3))
			}
			row.n = &x
		}
		if r.IntN(10) > 0 {
			b := sketch.NewBitmap()
			for k := r.IntN(4); k > 0; k-- {
				b.Add(uint64(r.IntN(500)))
			}
			if r.IntN(20) == 0 {
				b.Add(math.MaxUint64 - uint64(r.IntN(2)))
			}
			if r.IntN(40) == 0 {
				for v := uint64(0); v < 100; v++ {
					b.Add(v * 7)
				}
			}
			row.bm = b
		}
		if r.IntN(10) > 0 {
			h := sketch.NewHLL()
			for k := r.IntN(3); k > 0; k-- {
				h.Add(sketch.HashString(strconv.Itoa(r.IntN(20000))))
			}
			row.hll = h
		}
		if r.IntN(10) > 0 {
			s := "s" + strconv.Itoa(r.IntN(4000))
			row.s = &s
		}
		out = append(out, row)
	}
	return out
}

var sketchSchema = []types.Type{types.Int, types.BigInt, types.Bitmap, types.HLL, types.String}

func sketchValues(rows []sketchRow) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		row := []any{r.g, nil, nil, nil, nil}
		if r.n != nil {
			row[1] = *r.n
		}
		if r.bm != nil {
			row[2] = string(r.bm.Serialize())
		}
		if r.hll != nil {
			row[3] = string(r.hll.Serialize())
		}
		if r.s != nil {
			row[4] = *r.s
		}
		out[i] = row
	}
	return out
}

func TestSketchAggregates(t *testing.T) {
	rows := sketchRows(3000, 1)
	src, err := NewValues(sketchSchema, sketchValues(rows))
	require.NoError(t, err)
	g, n, bm, hll, s := col(0, types.Int), col(1, types.BigInt), col(2, types.Bitmap), col(3, types.HLL), col(4, types.String)
	aggs := []AggSpec{
		{Func: "bitmap_union", Args: []Expr{bm}},
		{Func: "bitmap_union_count", Args: []Expr{bm}},
		{Func: "bitmap_intersect", Args: []Expr{bm}},
		{Func: "group_bitmap_xor", Args: []Expr{bm}},
		{Func: "bitmap_agg", Args: []Expr{n}},
		{Func: "bitmap_union_int", Args: []Expr{n}},
		{Func: "hll_union", Args: []Expr{hll}},
		{Func: "hll_raw_agg", Args: []Expr{hll}},
		{Func: "hll_union_agg", Args: []Expr{hll}},
		{Func: "approx_count_distinct", Args: []Expr{s}},
		{Func: "ndv", Args: []Expr{n}},
		{Func: "count", Args: []Expr{bm}},
	}
	agg, err := NewHashAgg(src, []Expr{g}, aggs)
	require.NoError(t, err)
	require.Equal(t, []types.Type{types.Int, types.Bitmap, types.BigInt, types.Bitmap, types.Bitmap, types.Bitmap,
		types.BigInt, types.HLL, types.HLL, types.BigInt, types.BigInt, types.BigInt, types.BigInt}, agg.Schema())
	got := collect(t, agg)
	require.Len(t, got, 5)

	type want struct {
		union, inter, xor, ints *sketch.Bitmap
		seen                    bool
		hll, nHLL               *sketch.HLL
		strs, nums              map[string]bool
		nonNull                 int64
	}
	wants := map[int64]*want{}
	for _, r := range rows {
		w := wants[r.g]
		if w == nil {
			w = &want{union: sketch.NewBitmap(), inter: sketch.NewBitmap(), xor: sketch.NewBitmap(), ints: sketch.NewBitmap(),
				hll: sketch.NewHLL(), strs: map[string]bool{}, nums: map[string]bool{}}
			wants[r.g] = w
		}
		if r.bm != nil {
			w.nonNull++
			w.union.Or(r.bm)
			w.xor.Xor(r.bm)
			if !w.seen {
				w.inter, w.seen = r.bm.Clone(), true
			} else {
				w.inter.And(r.bm)
			}
		}
		if r.n != nil {
			if *r.n >= 0 {
				w.ints.Add(uint64(*r.n))
			}
			w.nums[strconv.FormatInt(*r.n, 10)] = true
		}
		if r.hll != nil {
			w.hll.Union(r.hll)
		}
		if r.s != nil {
			w.strs[*r.s] = true
		}
	}
	for _, row := range got {
		w := wants[row[0].(int64)]
		require.Equal(t, w.union.ToString(), bitmapText(t, row[1]))
		require.Equal(t, int64(w.union.Cardinality()), row[2])
		require.Equal(t, w.inter.ToString(), bitmapText(t, row[3]))
		require.Equal(t, w.xor.ToString(), bitmapText(t, row[4]))
		require.Equal(t, w.ints.ToString(), bitmapText(t, row[5]))
		require.Equal(t, int64(w.ints.Cardinality()), row[6])
		require.Equal(t, string(w.hll.Serialize()), row[7])
		require.Equal(t, string(w.hll.Serialize()), row[8])
		require.Equal(t, w.hll.Estimate(), row[9])
		require.InEpsilon(t, len(w.strs), row[10], 0.02)
		require.InEpsilon(t, len(w.nums), row[11], 0.02)
		require.Equal(t, w.nonNull, row[12])
	}
}

func TestSketchAggregatesEmptyAndNull(t *testing.T) {
	for _, input := range [][][]any{nil, {{int64(1), nil, nil, nil, nil}, {int64(1), nil, nil, nil, nil}}} {
		src, err := NewValues(sketchSchema, input)
		require.NoError(t, err)
		n, bm, hll, s := col(1, types.BigInt), col(2, types.Bitmap), col(3, types.HLL), col(4, types.String)
		agg, err := NewHashAgg(src, nil, []AggSpec{
			{Func: "bitmap_union", Args: []Expr{bm}},
			{Func: "bitmap_union_count", Args: []Expr{bm}},
			{Func: "bitmap_intersect", Args: []Expr{bm}},
			{Func: "bitmap_agg", Args: []Expr{n}},
			{Func: "hll_union", Args: []Expr{hll}},
			{Func: "hll_union_agg", Args: []Expr{hll}},
			{Func: "approx_count_distinct", Args: []Expr{s}},
			{Func: aggBitmapIntersectState, Args: []Expr{bm}},
		})
		require.NoError(t, err)
		got := collect(t, agg)
		// Not NULL, as in Doris: empty sketches and zero counts; only the
		// internal partial intersection leaves the group NULL.
		require.Equal(t, [][]any{{emptyBitmapValue, int64(0), emptyBitmapValue, emptyBitmapValue, emptyHLLValue, int64(0), int64(0), nil}}, got)
	}
}

func TestSketchAggregateErrors(t *testing.T) {
	src, err := NewValues(sketchSchema, nil)
	require.NoError(t, err)
	g, n, bm, hll, s := col(0, types.Int), col(1, types.BigInt), col(2, types.Bitmap), col(3, types.HLL), col(4, types.String)
	for _, tc := range []struct {
		spec AggSpec
		err  string
	}{
		{AggSpec{Func: "bitmap_union", Args: []Expr{n}}, "Can not find the compatibility function signature: bitmap_union(BIGINT)"},
		{AggSpec{Func: "bitmap_union_count", Args: []Expr{hll}}, "bitmap_union_count(HLL)"},
		{AggSpec{Func: "hll_union", Args: []Expr{bm}}, "hll_union(BITMAP)"},
		{AggSpec{Func: "hll_union_agg", Args: []Expr{s}}, "hll_union_agg(TEXT)"},
		{AggSpec{Func: "bitmap_agg", Args: []Expr{s}}, "bitmap_agg(TEXT)"},
		{AggSpec{Func: "bitmap_agg", Args: []Expr{n, n}}, "expects 1 argument"},
		{AggSpec{Func: "approx_count_distinct", Args: []Expr{bm}}, "approx_count_distinct(BITMAP)"},
		{AggSpec{Func: "sum", Args: []Expr{bm}}, "sum does not accept BITMAP"},
		{AggSpec{Func: "min", Args: []Expr{bm}}, "min does not accept BITMAP"},
		{AggSpec{Func: "max", Args: []Expr{hll}}, "max does not accept HLL"},
		{AggSpec{Func: "group_concat", Args: []Expr{bm}}, "group_concat does not accept BITMAP"},
		{AggSpec{Func: "count", Distinct: true, Args: []Expr{bm, g}}, "COUNT DISTINCT could not process type"},
	} {
		_, err := NewHashAgg(src, nil, []AggSpec{tc.spec})
		require.ErrorContains(t, err, tc.err, tc.spec.Func)
	}
	_, err = NewHashAgg(src, []Expr{bm}, nil)
	require.ErrorIs(t, err, ErrOnlyMetricType)
	require.True(t, IsAggregate("BITMAP_UNION"))
	require.True(t, IsAggregate("ndv"))
	require.False(t, IsAggregate(aggApproxDistinctState))

	// A malformed value fails the query, naming the aggregate.
	bad := NewValuesFromArrays([]types.Type{types.Bitmap}, []arrow.Array{stringArray("\x63")})
	agg, err := NewHashAgg(bad, nil, []AggSpec{{Func: "bitmap_union", Args: []Expr{col(0, types.Bitmap)}}})
	require.NoError(t, err)
	require.NoError(t, agg.Open(t.Context()))
	var b Batch
	err = Next(t.Context(), agg, &b)
	require.ErrorIs(t, err, sketch.ErrInvalidBitmap)
	require.ErrorContains(t, err, "bitmap_union")
	require.NoError(t, agg.Close())
}

func stringArray(vals ...string) arrow.Array {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	b.AppendValues(vals, nil)
	return b.NewArray()
}

// writeSketchSegment writes rows as a segment of the sketch schema.
func writeSketchSegment(t *testing.T, rows []sketchRow) *storage.Segment {
	t.Helper()
	var metas []storage.ColumnMeta
	for i, ty := range sketchSchema {
		metas = append(metas, storage.ColumnMeta{ID: uint32(i + 1), Type: ty.Arrow(), Nullable: i > 0})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].g < rows[j].g })
	v, err := NewValues(sketchSchema, sketchValues(rows))
	require.NoError(t, err)
	var buf bytes.Buffer
	w, err := storage.NewWriter(&buf, metas, storage.WriterOptions{PageRows: 300, NumSortKeys: 1})
	require.NoError(t, err)
	require.NoError(t, w.Append(v.tbl.cols))
	_, err = w.Finish()
	require.NoError(t, err)
	seg, err := storage.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	return seg
}

// TestSketchAggregatesParallelMatchSerial checks that every sketch
// aggregate gives the same result split into per-worker partial
// aggregations and a final merge as in one serial aggregation.
func TestSketchAggregatesParallelMatchSerial(t *testing.T) {
	seg := writeSketchSegment(t, sketchRows(6000, 3))
	var cols []ScanColumn
	for i, ty := range sketchSchema {
		cols = append(cols, ScanColumn{ID: uint32(i + 1), Type: ty})
	}
	g, n, bm, hll, s := col(0, types.Int), col(1, types.BigInt), col(2, types.Bitmap), col(3, types.HLL), col(4, types.String)
	aggs := []AggSpec{
		{Func: "bitmap_union", Args: []Expr{bm}},
		{Func: "bitmap_union_count", Args: []Expr{bm}},
		{Func: "bitmap_intersect", Args: []Expr{bm}},
		{Func: "group_bitmap_xor", Args: []Expr{bm}},
		{Func: "bitmap_agg", Args: []Expr{n}},
		{Func: "bitmap_union_int", Args: []Expr{n}},
		{Func: "hll_union", Args: []Expr{hll}},
		{Func: "hll_raw_agg", Args: []Expr{hll}},
		{Func: "hll_union_agg", Args: []Expr{hll}},
		{Func: "approx_count_distinct", Args: []Expr{s}},
		{Func: "ndv", Args: []Expr{n}},
		{Func: "count", Args: []Expr{bm}},
		{Func: "sum", Args: []Expr{n}},
	}
	// A filter that leaves some groups' bitmaps NULL on some pages: the
	// partial intersections of those workers must not empty the result.
	even := must(NewCompare(CmpEQ, must(NewArith(OpMod, g, lit(int64(2), types.Int))), lit(int64(0), types.Int)))
	for _, groupBy := range [][]Expr{nil, {g}, {s}} {
		for _, filter := range []Expr{nil, even} {
			name := fmt.Sprintf("group by %v, filter %v", groupBy, filter)
			spec := ScanSpec{Segments: []*storage.Segment{seg, seg}, Columns: cols, Filter: filter}
			scan, err := NewSegmentScan(spec)
			require.NoError(t, err)
			serial, err := NewHashAgg(scan, groupBy, aggs)
			require.NoError(t, err)
			want := collect(t, serial)
			sortRows(want)
			for _, workers := range []int{1, 2, 4} {
				par, err := NewParallelScanAgg(spec, groupBy, aggs, workers)
				require.NoError(t, err, name)
				require.Equal(t, serial.Schema(), par.Schema())
				got := collect(t, par)
				sortRows(got)
				require.Equal(t, len(want), len(got), name)
				for i := range want {
					for c := range want[i] {
						if c >= len(groupBy) && (aggs[c-len(groupBy)].Func == "approx_count_distinct" || aggs[c-len(groupBy)].Func == "ndv") {
							// HLL estimates of the same values: the union of
							// the workers' HLLs is the HLL of all of them.
							require.Equal(t, want[i][c], got[i][c], "%s: %s", name, aggs[c-len(groupBy)].Func)
							continue
						}
						w, g := want[i][c], got[i][c]
						if c >= len(groupBy) {
							switch serial.Schema()[c].Kind {
							case types.KindBitmap:
								w, g = bitmapText(t, w), bitmapText(t, g)
							case types.KindHLL:
								w, g = hllEstimate(t, w), hllEstimate(t, g)
							}
						}
						require.Equal(t, w, g, "%s: column %d", name, c)
					}
				}
			}
		}
	}
	require.True(t, PartialAggregate("BITMAP_UNION"))
	require.False(t, PartialAggregate("group_concat"))
}

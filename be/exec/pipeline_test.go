package exec

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// writeFactSegment writes n rows (id INT sorted, k1 INT in [0, 200) with
// NULLs, k2 BIGINT spread over a span wider than a runtime-filter bitmap,
// v BIGINT).
func writeFactSegment(t testing.TB, n int, seed uint64) *storage.Segment {
	t.Helper()
	metas := []storage.ColumnMeta{
		{ID: 1, Type: types.Int.Arrow()},
		{ID: 2, Type: types.Int.Arrow(), Nullable: true},
		{ID: 3, Type: types.BigInt.Arrow()},
		{ID: 4, Type: types.BigInt.Arrow()},
	}
	r := rand.New(rand.NewPCG(seed, 2))
	var buf bytes.Buffer
	w, err := storage.NewWriter(&buf, metas, storage.WriterOptions{PageRows: 500, NumSortKeys: 1})
	require.NoError(t, err)
	ib := array.NewInt32Builder(memory.DefaultAllocator)
	k1 := array.NewInt32Builder(memory.DefaultAllocator)
	k2 := array.NewInt64Builder(memory.DefaultAllocator)
	vb := array.NewInt64Builder(memory.DefaultAllocator)
	for i := range n {
		ib.Append(int32(i))
		if r.IntN(20) == 0 {
			k1.AppendNull()
		} else {
			k1.Append(int32(r.IntN(200)))
		}
		k2.Append(int64(r.IntN(50)) * (maxBitmapSpan / 10))
		vb.Append(int64(r.IntN(100)))
	}
	require.NoError(t, w.Append([]arrow.Array{ib.NewArray(), k1.NewArray(), k2.NewArray(), vb.NewArray()}))
	_, err = w.Finish()
	require.NoError(t, err)
	seg, err := storage.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	return seg
}

// TestParallelPipelineMatchesSerial runs scan -> joins -> aggregate as a
// parallel pipeline (shared build sides, runtime filters) and as the serial
// operator tree, over inner and left joins, duplicate and NULL build keys,
// an empty build side, bitmap and hash runtime filters.
func TestParallelPipelineMatchesSerial(t *testing.T) {
	seg := writeFactSegment(t, 12000, 1)
	cols := []ScanColumn{{ID: 1, Type: types.Int}, {ID: 2, Type: types.Int}, {ID: 3, Type: types.BigInt}, {ID: 4, Type: types.BigInt}}
	dimSchema := []types.Type{types.Int, types.String}
	// dim1: keys 0..149 even only, key 10 twice, a NULL key.
	var dim1 [][]any
	for k := 0; k < 150; k += 2 {
		dim1 = append(dim1, []any{int64(k), fmt.Sprintf("g%d", k%7)})
	}
	dim1 = append(dim1, []any{int64(10), "dup"}, []any{nil, "null"})
	// dim2: a few keys of k2, far apart (hash runtime filter).
	var dim2 [][]any
	for k := int64(0); k < 50; k += 3 {
		dim2 = append(dim2, []any{k * (maxBitmapSpan / 10), fmt.Sprintf("h%d", k%4)})
	}
	dim2Schema := []types.Type{types.BigInt, types.String}
	// dim3: unique keys matching only the last ids, so whole batches of
	// the sorted id column find no match.
	var dim3 [][]any
	for k := int64(11000); k < 12000; k += 7 {
		dim3 = append(dim3, []any{k, fmt.Sprintf("i%d", k%3)})
	}
	type joinDef struct {
		rows   [][]any
		schema []types.Type
		kind   JoinKind
		probe  int // probe key column in the pipeline schema
		other  bool
		noRF   bool // no runtime filter: unmatched rows reach the join
		reject bool // residual condition that no row passes
	}
	cases := map[string][]joinDef{
		"inner bitmap":        {{rows: dim1, schema: dimSchema, kind: JoinInner, probe: 1}},
		"inner hash":          {{rows: dim2, schema: dim2Schema, kind: JoinInner, probe: 2}},
		"two inner":           {{rows: dim1, schema: dimSchema, kind: JoinInner, probe: 1}, {rows: dim2, schema: dim2Schema, kind: JoinInner, probe: 2}},
		"left":                {{rows: dim1, schema: dimSchema, kind: JoinLeft, probe: 1}},
		"inner empty":         {{rows: nil, schema: dimSchema, kind: JoinInner, probe: 1}},
		"inner then left":     {{rows: dim2, schema: dim2Schema, kind: JoinInner, probe: 2}, {rows: dim1, schema: dimSchema, kind: JoinLeft, probe: 1}},
		"inner with residual": {{rows: dim1, schema: dimSchema, kind: JoinInner, probe: 1, other: true}},
		// dim2's keys are unique: its joins pass the probe columns through.
		"unique with residual": {{rows: dim2, schema: dim2Schema, kind: JoinInner, probe: 2, other: true},
			{rows: dim1, schema: dimSchema, kind: JoinInner, probe: 1}},
		"unique, early batches unmatched": {{rows: dim3, schema: dimSchema, kind: JoinInner, probe: 0, noRF: true}},
		"unique without runtime filter":   {{rows: dim2, schema: dim2Schema, kind: JoinInner, probe: 2, noRF: true}},
		"unique, residual rejects all":    {{rows: dim2, schema: dim2Schema, kind: JoinInner, probe: 2, noRF: true, reject: true}},
	}
	for name, joins := range cases {
		t.Run(name, func(t *testing.T) {
			// The pipeline schema grows by each build's columns.
			width := len(cols)
			var pjs []PipelineJoin
			var buildSerial []func(probe Operator) (Operator, error)
			for _, jd := range joins {
				pk := col(jd.probe, cols[jd.probe].Type)
				bk := col(0, jd.schema[0])
				var other Expr
				if jd.other {
					// v (col 3) below 60 only
					other = must(NewCompare(CmpLT, col(3, types.BigInt), lit(int64(60), types.BigInt)))
				}
				if jd.reject {
					// a string comparison no row passes
					other = must(NewCompare(CmpEQ, col(width+1, jd.schema[1]), lit("none", types.String)))
				}
				pj := PipelineJoin{Build: valuesOp(t, jd.schema, jd.rows), Kind: jd.kind, BuildKeys: []Expr{bk},
					ProbeKeys: []Expr{pk}, Other: other, RuntimeFilterCol: -1}
				if jd.kind == JoinInner && !jd.noRF {
					pj.RuntimeFilterCol = jd.probe
				}
				pjs = append(pjs, pj)
				jd := jd
				buildSerial = append(buildSerial, func(probe Operator) (Operator, error) {
					return NewHashJoin(valuesOp(t, jd.schema, jd.rows), probe, jd.kind, []Expr{bk}, []Expr{pk}, other)
				})
				width += len(jd.schema)
			}
			pipe := &Pipeline{Joins: pjs, Build: func(scan Operator, join func(int, Operator) (Operator, error)) (Operator, error) {
				op := scan
				for i := range pjs {
					var err error
					if op, err = join(i, op); err != nil {
						return nil, err
					}
				}
				return op, nil
			}}
			last := width - 1 // the last build's string column
			groupBy := []Expr{col(last, types.String), must(NewArith(OpMod, col(0, types.Int), lit(int64(3), types.Int)))}
			aggs := []AggSpec{{Func: "count"}, {Func: "sum", Args: []Expr{col(3, types.BigInt)}},
				{Func: "min", Args: []Expr{col(2, types.BigInt)}}, {Func: "count", Args: []Expr{col(last, types.String)}}}
			filter := must(NewCompare(CmpGE, col(0, types.Int), lit(int64(700), types.Int)))
			spec := ScanSpec{Segments: []*storage.Segment{seg, seg}, Columns: cols, Filter: filter, Ranges: ExtractRanges(filter)}

			scan, err := NewSegmentScan(spec)
			require.NoError(t, err)
			var op Operator = scan
			for _, b := range buildSerial {
				op, err = b(op)
				require.NoError(t, err)
			}
			serial, err := NewHashAgg(op, groupBy, aggs)
			require.NoError(t, err)
			want := collect(t, serial)

			par, err := NewParallelPipelineAgg(spec, pipe, groupBy, aggs, 2)
			require.NoError(t, err)
			require.Equal(t, serial.Schema(), par.Schema())
			got := collect(t, par)
			sortRows(want)
			sortRows(got)
			require.Equal(t, want, got)
			nInner := 0
			for _, jd := range joins {
				if jd.kind == JoinInner && !jd.noRF {
					nInner++
				}
			}
			require.Len(t, par.RuntimeFilters(), nInner)
		})
	}
}

func TestRuntimeFilterKinds(t *testing.T) {
	build := func(keys ...any) *JoinTable {
		rows := make([][]any, len(keys))
		for i, k := range keys {
			rows[i] = []any{k}
		}
		jt, err := BuildJoinTable(t.Context(), valuesOp(t, []types.Type{types.BigInt}, rows), []Expr{col(0, types.BigInt)})
		require.NoError(t, err)
		return jt
	}
	c := col(0, types.BigInt)
	rf, ok := NewRuntimeFilter(c, build(int64(5), int64(9), nil, int64(5)))
	require.True(t, ok)
	require.Contains(t, rf.String(), "bitmap")
	r, ok := rf.Range()
	require.True(t, ok)
	require.Equal(t, ColumnRange{Col: 0, Min: int64(5), Max: int64(9), HasMin: true, HasMax: true}, r)
	b := batchOf(t, []types.Type{types.BigInt}, [][]any{{int64(4)}, {int64(5)}, {nil}, {int64(9)}, {int64(10)}, {int64(7)}})
	require.Equal(t, []any{false, true, nil, true, false, false}, evalRows(t, rf, b))

	rf, ok = NewRuntimeFilter(c, build(int64(-1)<<40, int64(1)<<40))
	require.True(t, ok)
	require.Contains(t, rf.String(), "hash")
	b = batchOf(t, []types.Type{types.BigInt}, [][]any{{int64(-1) << 40}, {int64(0)}, {int64(1) << 40}})
	require.Equal(t, []any{true, false, true}, evalRows(t, rf, b))

	rf, ok = NewRuntimeFilter(c, build())
	require.True(t, ok)
	_, ok = rf.Range()
	require.False(t, ok)
	require.Equal(t, []any{false, false, false}, evalRows(t, rf, b))

	_, ok = NewRuntimeFilter(col(0, types.String), build(int64(1)))
	require.False(t, ok)
}

// TestAdaptFilterKeepsQueryOrder checks that adapting the scan filter moves
// runtime filters only: the query's own terms keep their order (an earlier
// one may guard a later one), and a runtime filter that passes nearly
// everything is switched off.
func TestAdaptFilterKeepsQueryOrder(t *testing.T) {
	user1 := must(NewCompare(CmpNE, col(0, types.Int), lit(int64(0), types.Int)))
	user2 := must(NewCompare(CmpGT, col(0, types.Int), lit(int64(5), types.Int)))
	rfSel := &RuntimeFilter{Col: col(0, types.Int), keys: 1}
	rfAll := &RuntimeFilter{Col: col(1, types.Int), keys: 1}
	s := &SegmentScan{conj: []scanConjunct{
		{pred: user1, in: 10000, out: 9900},
		{pred: user2, in: 9900, out: 10},
		{pred: rfAll, in: 10000, out: 9950, optional: true},
		{pred: rfSel, in: 10000, out: 100, optional: true},
	}}
	s.adaptFilter()
	var order []Expr
	for _, c := range s.conj {
		order = append(order, c.pred)
	}
	require.Equal(t, []Expr{rfSel, rfAll, user1, user2}, order)
	require.False(t, s.conj[0].off)
	require.True(t, s.conj[1].off)
	// Terms that could fail are not evaluated per dictionary entry.
	require.True(t, cannotFail(must(NewIn(col(0, types.String), []Expr{lit("a", types.String)}, false))))
	require.False(t, cannotFail(must(NewCompare(CmpEQ, must(Call("upper", col(0, types.String))), lit("A", types.String)))))
}

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

// writeDictSegment writes n rows whose string columns land on every string
// encoding: a (30 values + NULLs: dict pages), b (one value per page, all
// NULL on some pages: constant pages), c (distinct per row: plain pages),
// plus id INT = i and v BIGINT.
func writeDictSegment(t testing.TB, n, pageRows int, seed uint64) []byte {
	t.Helper()
	metas := []storage.ColumnMeta{
		{ID: 1, Type: types.Int.Arrow()},
		{ID: 2, Type: types.String.Arrow(), Nullable: true},
		{ID: 3, Type: types.String.Arrow(), Nullable: true},
		{ID: 4, Type: types.String.Arrow(), Nullable: true},
		{ID: 5, Type: types.BigInt.Arrow()},
	}
	r := rand.New(rand.NewPCG(seed, 9))
	var buf bytes.Buffer
	w, err := storage.NewWriter(&buf, metas, storage.WriterOptions{PageRows: pageRows, NumSortKeys: 1})
	require.NoError(t, err)
	ib := array.NewInt32Builder(memory.DefaultAllocator)
	ab := array.NewStringBuilder(memory.DefaultAllocator)
	bb := array.NewStringBuilder(memory.DefaultAllocator)
	cb := array.NewStringBuilder(memory.DefaultAllocator)
	vb := array.NewInt64Builder(memory.DefaultAllocator)
	for i := range n {
		ib.Append(int32(i))
		if r.IntN(8) == 0 {
			ab.AppendNull()
		} else {
			ab.Append(fmt.Sprintf("x%d", r.IntN(30)))
		}
		if p := i / pageRows; p%4 == 3 {
			bb.AppendNull()
		} else {
			bb.Append(fmt.Sprintf("c%d", p%5))
		}
		if i%13 == 0 {
			cb.AppendNull()
		} else {
			cb.Append(fmt.Sprintf("u%07d", r.IntN(1_000_000)))
		}
		vb.Append(int64(r.IntN(1000)))
	}
	cols := []arrow.Array{ib.NewArray(), ab.NewArray(), bb.NewArray(), cb.NewArray(), vb.NewArray()}
	require.NoError(t, w.Append(cols))
	_, err = w.Finish()
	require.NoError(t, err)
	return buf.Bytes()
}

// TestDictionaryPagesMatchExpanded runs filters and group-bys over string
// columns of every encoding three ways: the serial scan (pages expanded),
// the parallel scan-aggregate (dictionary pages, per-entry filters, word
// keys) and the same through a page cache; all must agree.
func TestDictionaryPagesMatchExpanded(t *testing.T) {
	file := writeDictSegment(t, 20000, 1000, 1)
	open := func(cache *storage.PageCache) *storage.Segment {
		seg, err := storage.Open(bytes.NewReader(file), int64(len(file)))
		require.NoError(t, err)
		seg.SetCache(cache)
		return seg
	}
	plain := open(nil)
	cache := storage.NewPageCache(64 << 20)
	cached := open(cache)
	sawDict := false
	for p := range plain.NumPages() {
		a, err := plain.Column(2).ReadPageDict(p, memory.DefaultAllocator)
		require.NoError(t, err)
		_, ok := a.(*array.Dictionary)
		sawDict = sawDict || ok
		a.Release()
	}
	require.True(t, sawDict, "column a has no dictionary pages")

	cols := []ScanColumn{{ID: 1, Type: types.Int}, {ID: 2, Type: types.String}, {ID: 3, Type: types.String},
		{ID: 4, Type: types.String}, {ID: 5, Type: types.BigInt}}
	a, b, c := col(1, types.String), col(2, types.String), col(3, types.String)
	s := func(v string) Expr { return lit(v, types.String) }
	filters := []Expr{
		nil,
		must(NewCompare(CmpEQ, a, s("x3"))),
		must(NewCompare(CmpGE, a, s("x25"))),
		must(NewIn(a, []Expr{s("x1"), s("x2"), s("x17")}, false)),
		must(NewIn(a, []Expr{s("x1"), s("x2"), s("x17")}, true)),
		must(NewLike(a, s("x1%"), '\\', false)),
		NewIsNull(a, false),
		NewIsNull(b, true),
		must(NewCompare(CmpEQ, must(NewCoalesce(a, s("zz"))), s("zz"))), // TRUE on NULL
		NewNot(must(NewCompare(CmpEQ, a, s("x5")))),
		NewAnd(must(NewCompare(CmpGT, a, s("x2"))), must(NewCompare(CmpEQ, b, s("c3")))),
		must(NewCompare(CmpEQ, must(Call("upper", a)), s("X4"))),
		must(NewCompare(CmpNE, a, b)), // two columns: never per entry
		NewAnd(must(NewCompare(CmpLT, c, s("u0500000"))), must(NewCompare(CmpLT, col(0, types.Int), lit(int64(15000), types.Int)))),
	}
	id5 := must(NewArith(OpMod, col(0, types.Int), lit(int64(5), types.Int)))
	groupBys := [][]Expr{nil, {a}, {a, id5}, {b, a}, {c}, {a, b, c}, {id5, b}}
	aggs := []AggSpec{
		{Func: "count"},
		{Func: "sum", Args: []Expr{col(4, types.BigInt)}},
		{Func: "min", Args: []Expr{a}},
		{Func: "max", Args: []Expr{c}},
		{Func: "count", Args: []Expr{b}},
	}
	for fi, f := range filters {
		for gi, g := range groupBys {
			name := fmt.Sprintf("filter %d %v / group-by %d", fi, f, gi)
			spec := ScanSpec{Segments: []*storage.Segment{plain, plain}, Columns: cols, Filter: f}
			if f != nil {
				spec.Ranges = ExtractRanges(f)
			}
			scan, err := NewSegmentScan(spec)
			require.NoError(t, err)
			serial, err := NewHashAgg(scan, g, aggs)
			require.NoError(t, err)
			want := collect(t, serial)
			sortRows(want)
			for _, seg := range []*storage.Segment{plain, cached} {
				spec.Segments = []*storage.Segment{seg, seg}
				par, err := NewParallelScanAgg(spec, g, aggs, 2)
				require.NoError(t, err)
				got := collect(t, par)
				sortRows(got)
				require.Equal(t, want, got, name)
			}
		}
	}
	st := cache.Stats()
	require.Positive(t, st.Hits, "the cached segment never hit")
}

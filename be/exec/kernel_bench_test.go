package exec

// Kernel throughput per core, the figures of BENCHMARKS.md's T5 and T6:
//
//	go test ./be/exec -run '^$' -bench 'Kernel|GroupBy' -count 6 | tee k.txt

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/types"
)

const kernelRows = 8192 // one page

func int32Page(r *rand.Rand, lo, n int) *array.Int32 {
	bld := array.NewInt32Builder(memory.DefaultAllocator)
	for range kernelRows {
		bld.Append(int32(lo + r.IntN(n)))
	}
	return bld.NewInt32Array()
}

// dictPage is a dictionary-coded string page of kernelRows rows over n
// distinct values, as ReadPageDict returns it.
func dictPage(r *rand.Rand, n int) *array.Dictionary {
	db := array.NewStringBuilder(memory.DefaultAllocator)
	for i := range n {
		db.Append(fmt.Sprintf("MFGR#%04d", i))
	}
	codes := array.NewInt32Builder(memory.DefaultAllocator)
	for range kernelRows {
		codes.Append(int32(r.IntN(n)))
	}
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	return array.NewDictionaryArray(dt, codes.NewArray(), db.NewArray())
}

func reportRows(b *testing.B, rowsPerOp int) {
	b.ReportMetric(float64(rowsPerOp)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
}

// BenchmarkKernels times single kernels over one page: SUM of an INT column
// (T5's cached int32 sum), a comparison with a constant, a predicate on a
// dictionary-coded string column, and a runtime-filter bitmap probe.
func BenchmarkKernels(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	ints := int32Page(r, 0, 1000)
	rows := identRows(kernelRows)
	gids := make([]int32, kernelRows)
	b.Run("sum-int32", func(b *testing.B) {
		v := newView(ints, types.Int)
		a := &sumIntAgg{}
		args := []*view{v}
		for b.Loop() {
			a.update(1, gids, rows, args)
		}
		reportRows(b, kernelRows)
	})
	b.Run("filter-int32-lt-const", func(b *testing.B) {
		v := newView(ints, types.Int)
		k := lit(int64(250), types.Int).view()
		out := make([]int32, 0, kernelRows)
		for b.Loop() {
			out = compareSelect(CmpLT, v, k, rows, out[:0])
		}
		reportRows(b, kernelRows)
	})
	for _, n := range []int{25, 1000} {
		b.Run(fmt.Sprintf("filter-dict-eq/entries=%d", n), func(b *testing.B) {
			d := dictPage(r, n)
			pred := must(NewCompare(CmpEQ, col(0, types.String), lit("MFGR#0012", types.String)))
			batch := &Batch{Cols: []arrow.Array{d}, Len: kernelRows}
			var f dictFilter
			ctx := NewEvalContext()
			out := make([]int32, 0, kernelRows)
			for b.Loop() {
				var err error
				if out, err = f.selectDict(ctx, pred, 0, batch, d, rows, out[:0]); err != nil {
					b.Fatal(err)
				}
			}
			reportRows(b, kernelRows)
		})
	}
	b.Run("runtime-filter-bitmap", func(b *testing.B) {
		keys := make([][]any, 0, 200)
		for k := 0; k < 1000; k += 5 {
			keys = append(keys, []any{int64(k)})
		}
		jt, err := BuildJoinTable(context.Background(), valuesOp(b, []types.Type{types.Int}, keys), []Expr{col(0, types.Int)})
		if err != nil {
			b.Fatal(err)
		}
		rf, _ := NewRuntimeFilter(col(0, types.Int), jt)
		batch := &Batch{Cols: []arrow.Array{ints}, Len: kernelRows}
		ctx := NewEvalContext()
		out := make([]int32, 0, kernelRows)
		for b.Loop() {
			if out, err = rf.selectRows(ctx, batch, rows, out[:0]); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b, kernelRows)
	})
}

// BenchmarkGroupBy is T6's aggregation per core: count(*) and sum(v)
// grouped by a dictionary-coded string (dense codes, up to 64K groups), by
// an integer and a dictionary string together, and by a BIGINT with 10M
// distinct values.
func BenchmarkGroupBy(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	vals := int32Page(r, 0, 1000)
	aggs := []AggSpec{{Func: "count"}, {Func: "sum", Args: []Expr{col(1, types.Int)}}}
	for _, groups := range []int{100, 65536} {
		d := dictPage(r, min(groups, kernelRows))
		years := int32Page(r, 1992, 7)
		schema := []types.Type{types.String, types.Int, types.Int}
		b.Run(fmt.Sprintf("dict-string/groups=%d", groups), func(b *testing.B) {
			for b.Loop() {
				runAggPages(b, schema, []arrow.Array{d, vals, years}, 64, []Expr{col(0, types.String)}, aggs)
			}
			reportRows(b, 64*kernelRows)
		})
		b.Run(fmt.Sprintf("int+dict-string/groups=%d", groups), func(b *testing.B) {
			for b.Loop() {
				runAggPages(b, schema, []arrow.Array{d, vals, years}, 64, []Expr{col(2, types.Int), col(0, types.String)}, aggs)
			}
			reportRows(b, 64*kernelRows)
		})
	}
	b.Run("bigint/groups=10M", func(b *testing.B) {
		const pages = 1280 // 10.5M rows, most keys distinct
		keys := make([]arrow.Array, pages)
		for p := range keys {
			kb := array.NewInt64Builder(memory.DefaultAllocator)
			for range kernelRows {
				kb.Append(r.Int64N(10_000_000) * 7919)
			}
			keys[p] = kb.NewArray()
		}
		schema := []types.Type{types.BigInt, types.Int}
		for b.Loop() {
			h, err := NewHashAgg(&pageSource{schema: schema, pages: keys, vals: vals}, []Expr{col(0, types.BigInt)}, aggs)
			if err != nil {
				b.Fatal(err)
			}
			if err := Drain(context.Background(), h, func(*Batch) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b, pages*kernelRows)
	})
}

// runAggPages aggregates the same page of cols n times.
func runAggPages(b *testing.B, schema []types.Type, cols []arrow.Array, n int, groupBy []Expr, aggs []AggSpec) {
	src := &repeatSource{schema: schema, cols: cols, n: n}
	h, err := NewHashAgg(src, groupBy, aggs)
	if err != nil {
		b.Fatal(err)
	}
	if err := Drain(context.Background(), h, func(*Batch) error { return nil }); err != nil {
		b.Fatal(err)
	}
}

// repeatSource yields the same batch n times.
type repeatSource struct {
	baseStats
	schema []types.Type
	cols   []arrow.Array
	n, i   int
}

func (s *repeatSource) Schema() []types.Type       { return s.schema }
func (s *repeatSource) Open(context.Context) error { s.i = 0; return nil }
func (s *repeatSource) Close() error               { return nil }
func (s *repeatSource) Next(_ context.Context, b *Batch) error {
	b.Reset()
	if s.i >= s.n {
		return io.EOF
	}
	s.i++
	b.Cols = append(b.Cols, s.cols...)
	b.Len = s.cols[0].Len()
	return nil
}

// pageSource yields one batch per key page, with vals as the second column.
type pageSource struct {
	baseStats
	schema []types.Type
	pages  []arrow.Array
	vals   arrow.Array
	i      int
}

func (s *pageSource) Schema() []types.Type       { return s.schema }
func (s *pageSource) Open(context.Context) error { s.i = 0; return nil }
func (s *pageSource) Close() error               { return nil }
func (s *pageSource) Next(_ context.Context, b *Batch) error {
	b.Reset()
	if s.i >= len(s.pages) {
		return io.EOF
	}
	b.Cols = append(b.Cols, s.pages[s.i], s.vals)
	b.Len = kernelRows
	s.i++
	return nil
}

package exec

// Run with:
//
//	go test ./be/exec -run '^$' -bench . -benchmem -count 6 | tee bench.txt
//	benchstat -col /groups bench.txt

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// ssbColumns builds n rows of SSB-like lineorder columns: orderdate INT
// (yyyymmdd over 1992..1998), discount TINYINT 0..10, quantity TINYINT 1..50,
// extendedprice INT.
func ssbColumns(n int) []arrow.Array {
	r := rand.New(rand.NewPCG(11, 12))
	od := array.NewInt32Builder(memory.DefaultAllocator)
	di := array.NewInt8Builder(memory.DefaultAllocator)
	qu := array.NewInt8Builder(memory.DefaultAllocator)
	ep := array.NewInt32Builder(memory.DefaultAllocator)
	for i := 0; i < n; i++ {
		od.Append(int32((1992+r.IntN(7))*10000 + (1+r.IntN(12))*100 + 1 + r.IntN(28)))
		di.Append(int8(r.IntN(11)))
		qu.Append(int8(1 + r.IntN(50)))
		ep.Append(int32(90000 + r.IntN(10000000)))
	}
	return []arrow.Array{od.NewArray(), di.NewArray(), qu.NewArray(), ep.NewArray()}
}

// BenchmarkSSBQ11 is SELECT sum(lo_extendedprice*lo_discount) FROM lineorder
// WHERE lo_orderdate BETWEEN 19930101 AND 19931231 AND lo_discount BETWEEN 1
// AND 3 AND lo_quantity < 25, over 8192-row batches.
func BenchmarkSSBQ11(b *testing.B) {
	const n = 1 << 20
	cols := ssbColumns(n)
	schema := []types.Type{types.Int, types.TinyInt, types.TinyInt, types.Int}
	pred := NewAndN(
		must(NewBetween(col(0, types.Int), lit(int64(19930101), types.Int), lit(int64(19931231), types.Int), false)),
		must(NewBetween(col(1, types.TinyInt), lit(int64(1), types.TinyInt), lit(int64(3), types.TinyInt), false)),
		must(NewCompare(CmpLT, col(2, types.TinyInt), lit(int64(25), types.TinyInt))),
	)
	revenue := must(NewArith(OpMul, col(3, types.Int), col(1, types.TinyInt)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := NewValuesFromArrays(schema, cols)
		agg, err := NewHashAgg(NewFilter(v, pred), nil, []AggSpec{{Func: "sum", Args: []Expr{revenue}}})
		if err != nil {
			b.Fatal(err)
		}
		if err := Drain(context.Background(), agg, func(*Batch) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
}

// BenchmarkHashAgg is SELECT k, count(*), sum(v) GROUP BY k with a BIGINT
// key (groups=1K/100K/1M) and with a string key.
func BenchmarkHashAgg(b *testing.B) {
	const n = 1 << 21
	for _, groups := range []int{1000, 100_000, 1_000_000} {
		for _, kind := range []string{"int", "string"} {
			r := rand.New(rand.NewPCG(13, uint64(groups)))
			kb := array.NewInt64Builder(memory.DefaultAllocator)
			sb := array.NewStringBuilder(memory.DefaultAllocator)
			vb := array.NewInt64Builder(memory.DefaultAllocator)
			for i := 0; i < n; i++ {
				k := r.IntN(groups)
				kb.Append(int64(k) * 7919)
				sb.Append(fmt.Sprintf("key-%d", k))
				vb.Append(int64(i))
			}
			keyT := types.BigInt
			var keyCol arrow.Array = kb.NewArray()
			if kind == "string" {
				keyT = types.String
				keyCol = sb.NewArray()
			}
			cols := []arrow.Array{keyCol, vb.NewArray()}
			schema := []types.Type{keyT, types.BigInt}
			b.Run(fmt.Sprintf("key=%s/groups=%d", kind, groups), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					v := NewValuesFromArrays(schema, cols)
					agg, err := NewHashAgg(v, []Expr{col(0, keyT)}, []AggSpec{{Func: "count"}, {Func: "sum", Args: []Expr{col(1, types.BigInt)}}})
					if err != nil {
						b.Fatal(err)
					}
					if err := Drain(context.Background(), agg, func(*Batch) error { return nil }); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
			})
		}
	}
}

// BenchmarkScanQ11 runs the Q1.1 shape over an in-memory segment (8192-row
// pages, sorted by orderdate so zone maps prune), serially and with 2 workers.
func BenchmarkScanQ11(b *testing.B) {
	const n = 1 << 20
	cols := ssbColumns(n)
	// sort by orderdate so zone maps are selective
	od := cols[0].(*array.Int32).Int32Values()
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	slicesSortByKey(idx, od)
	schema := []types.Type{types.Int, types.TinyInt, types.TinyInt, types.Int}
	var sorted []arrow.Array
	for i, c := range cols {
		sorted = append(sorted, take(newView(c, schema[i]), idx))
	}
	metas := []storage.ColumnMeta{{ID: 1, Type: schema[0].Arrow()}, {ID: 2, Type: schema[1].Arrow()}, {ID: 3, Type: schema[2].Arrow()}, {ID: 4, Type: schema[3].Arrow()}}
	var buf bytes.Buffer
	w, err := storage.NewWriter(&buf, metas, storage.WriterOptions{NumSortKeys: 1})
	if err != nil {
		b.Fatal(err)
	}
	if err := w.Append(sorted); err != nil {
		b.Fatal(err)
	}
	if _, err := w.Finish(); err != nil {
		b.Fatal(err)
	}
	seg, err := storage.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		b.Fatal(err)
	}
	pred := NewAndN(
		must(NewBetween(col(0, types.Int), lit(int64(19930101), types.Int), lit(int64(19931231), types.Int), false)),
		must(NewBetween(col(1, types.TinyInt), lit(int64(1), types.TinyInt), lit(int64(3), types.TinyInt), false)),
		must(NewCompare(CmpLT, col(2, types.TinyInt), lit(int64(25), types.TinyInt))),
	)
	revenue := must(NewArith(OpMul, col(3, types.Int), col(1, types.TinyInt)))
	spec := ScanSpec{Segments: []*storage.Segment{seg}, Filter: pred, Ranges: ExtractRanges(pred),
		Columns: []ScanColumn{{ID: 1, Type: schema[0]}, {ID: 2, Type: schema[1]}, {ID: 3, Type: schema[2]}, {ID: 4, Type: schema[3]}}}
	aggs := []AggSpec{{Func: "sum", Args: []Expr{revenue}}}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				op, err := NewParallelScanAgg(spec, nil, aggs, workers)
				if err != nil {
					b.Fatal(err)
				}
				if err := Drain(context.Background(), op, func(*Batch) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
		})
	}
	// unpruned: the filter on discount/quantity only
	spec2 := spec
	spec2.Filter = NewAndN(must(NewBetween(col(1, types.TinyInt), lit(int64(1), types.TinyInt), lit(int64(3), types.TinyInt), false)),
		must(NewCompare(CmpLT, col(2, types.TinyInt), lit(int64(25), types.TinyInt))))
	spec2.Ranges = nil
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("unpruned/workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				op, err := NewParallelScanAgg(spec2, nil, aggs, workers)
				if err != nil {
					b.Fatal(err)
				}
				if err := Drain(context.Background(), op, func(*Batch) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
		})
	}
}

func slicesSortByKey(idx []int32, key []int32) {
	sort.SliceStable(idx, func(i, j int) bool { return key[idx[i]] < key[idx[j]] })
}

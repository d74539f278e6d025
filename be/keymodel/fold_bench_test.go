package keymodel

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Compare before and after a change with
//
//	go test -run '^$' -bench . -count 6 ./be/keymodel/ | tee new.txt
//	benchstat -col /dups old.txt new.txt

const benchRows = 1 << 20

// benchBatch is a memtable-sized batch sorted on an INT64 key (and a
// STRING key when strKey), pct percent of whose rows repeat the key of
// the row before, with INT64, INT32 and DOUBLE value columns.
func benchBatch(pct int, strKey bool) ([]arrow.Array, int) {
	r := rand.New(rand.NewPCG(1, 2))
	mem := memory.DefaultAllocator
	kb, sb := array.NewInt64Builder(mem), array.NewStringBuilder(mem)
	v1, v2, v3 := array.NewInt64Builder(mem), array.NewInt32Builder(mem), array.NewFloat64Builder(mem)
	key, skey := int64(0), ""
	for i := range benchRows {
		if i == 0 || r.IntN(100) >= pct {
			if strKey && r.IntN(2) == 0 {
				skey = fmt.Sprintf("s%06d", r.IntN(1e6))
			} else {
				key += 1 + int64(r.IntN(3))
			}
		}
		kb.Append(key)
		sb.Append(skey)
		v1.Append(r.Int64N(1e9))
		v2.Append(r.Int32N(1e6))
		v3.Append(r.Float64())
	}
	cols := []arrow.Array{kb.NewArray()}
	numKeys := 1
	if strKey {
		cols = append(cols, sb.NewArray())
		numKeys++
	}
	cols = append(cols, v1.NewArray(), v2.NewArray(), v3.NewArray())
	for _, b := range []array.Builder{kb, sb, v1, v2, v3} {
		b.Release()
	}
	return cols, numKeys
}

func benchModel(kind string, numKeys int) *Model {
	m := &Model{NumKeys: numKeys, SeqCol: -1}
	switch kind {
	case "unique":
		m.Kind = Unique
	case "unique-seq":
		m.Kind, m.SeqCol = Unique, numKeys+1 // the INT32 column
	case "aggregate":
		m.Kind = Aggregate
		for range numKeys {
			m.Aggs = append(m.Aggs, None)
		}
		m.Aggs = append(m.Aggs, Sum, Sum, Sum)
	}
	return m
}

func BenchmarkFold(b *testing.B) {
	for _, bc := range []struct {
		kind   string
		dups   int
		strKey bool
	}{
		{"unique", 10, false},
		{"unique-seq", 10, false},
		{"aggregate", 10, false},
		{"unique", 10, true},
		{"aggregate", 10, true},
		{"unique", 0, false},
		{"aggregate", 0, false},
		{"aggregate", 0, true},
	} {
		cols, numKeys := benchBatch(bc.dups, bc.strKey)
		m := benchModel(bc.kind, numKeys)
		b.Run(fmt.Sprintf("model=%s/keys=%d/dups=%d%%", bc.kind, numKeys, bc.dups), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out, err := m.Fold(cols, memory.DefaultAllocator)
				if err != nil {
					b.Fatal(err)
				}
				release(out)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
		})
		release(cols)
	}
}

// BenchmarkFolder folds the batch as a merge hands it over, in chunks.
func BenchmarkFolder(b *testing.B) {
	const chunk = 4096
	for _, dups := range []int{10, 0} {
		cols, numKeys := benchBatch(dups, false)
		m := benchModel("aggregate", numKeys)
		chunks := make([][]arrow.Array, 0, benchRows/chunk)
		for lo := 0; lo < benchRows; lo += chunk {
			c := make([]arrow.Array, len(cols))
			for i, a := range cols {
				c[i] = array.NewSlice(a, int64(lo), int64(lo+chunk))
			}
			chunks = append(chunks, c)
		}
		b.Run(fmt.Sprintf("model=aggregate/chunk=%d/dups=%d%%", chunk, dups), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f := m.NewFolder(memory.DefaultAllocator)
				for _, c := range chunks {
					out, err := f.Push(c)
					if err != nil {
						b.Fatal(err)
					}
					release(out)
				}
				out, err := f.Finish()
				if err != nil {
					b.Fatal(err)
				}
				release(out)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
		})
		for _, c := range chunks {
			release(c)
		}
		release(cols)
	}
}

package ssb

import (
	"context"
	"fmt"
	"io"
	"testing"
)

// Run with:
//
//	go test -run '^$' -bench . -count 6 ./bench/ssb/ | tee new.txt; benchstat new.txt
//
// rows/s counts lineorder rows; the whole SF 1 stream is about 6 M rows.
func BenchmarkGenerate(b *testing.B) {
	g, err := New(1)
	if err != nil {
		b.Fatal(err)
	}
	g.dimsWithSep("|") // build the dimensions before the timer
	const chunks = 64
	for _, table := range []string{"lineorder", "lineorder_flat"} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("table=%s/workers=%d", table, workers), func(b *testing.B) {
				b.ReportAllocs()
				var rows, bytes int64
				o := FlatOptions{Options: Options{Workers: workers, Chunks: chunks,
					Progress: func(p Progress) { rows, bytes = p.Rows, p.Bytes }}}
				for b.Loop() {
					if err := g.WriteTable(context.Background(), table, io.Discard, o); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(bytes)
				b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(bytes)/float64(rows), "B/row")
			})
		}
	}
}

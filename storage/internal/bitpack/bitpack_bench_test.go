package bitpack

// go test -run '^$' -bench . -count 6 ./storage/internal/bitpack | tee new.txt && benchstat old.txt new.txt

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

var sink int64

func BenchmarkUnpack(b *testing.B) {
	const n = 8192
	rng := rand.New(rand.NewPCG(3, 4))
	for _, width := range []uint{1, 5, 8, 13, 16, 21, 32, 47, 60} {
		src := make([]uint64, n)
		for i := range src {
			src[i] = rng.Uint64() & (1<<width - 1)
		}
		buf := Append(nil, src, width)
		dst := make([]int64, n)
		b.Run(fmt.Sprintf("width=%d", width), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(n * 8)
			for b.Loop() {
				if err := Unpack(dst, buf, width, 7); err != nil {
					b.Fatal(err)
				}
			}
			sink += dst[n-1]
		})
	}
}

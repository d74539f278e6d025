package sketch

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// go test ./be/sketch -run '^$' -bench . -count 6 | benchstat -
func BenchmarkBitmapUnionSerialized(b *testing.B) {
	for _, size := range []int{1, 10, 1000} {
		r := rand.New(rand.NewPCG(1, uint64(size)))
		vals := make([]string, 256)
		for i := range vals {
			bm := NewBitmap()
			for k := 0; k < size; k++ {
				bm.Add(r.Uint64N(1 << 20))
			}
			vals[i] = string(bm.Serialize())
		}
		b.Run(fmt.Sprintf("values=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				acc := NewBitmap()
				for _, v := range vals {
					if err := acc.UnionSerializedString(v); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func BenchmarkHLLUnionSerialized(b *testing.B) {
	for _, size := range []int{1, 100, 10000} {
		vals := make([]string, 64)
		for i := range vals {
			vals[i] = string(hllOf(i*size, (i+1)*size).Serialize())
		}
		b.Run(fmt.Sprintf("values=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				acc := NewHLL()
				for _, v := range vals {
					if err := acc.UnionSerializedString(v); err != nil {
						b.Fatal(err)
					}
				}
				acc.Estimate()
			}
		})
	}
}

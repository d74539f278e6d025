package storage

import (
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"
)

// LiveRowsOf over a bitmap's words gives what LiveRows gives over the
// bitmap, for every page of bitmaps dense, sparse and in runs.
func TestLiveRowsOfMatchesLiveRows(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 60 {
		bm := roaring.New()
		rows := 1 + r.IntN(40000)
		switch trial % 3 {
		case 0:
			for i := 0; i < rows; i++ {
				if r.IntN(6) == 0 {
					bm.Add(uint32(i))
				}
			}
		case 1:
			for range r.IntN(20) {
				bm.Add(uint32(r.IntN(rows)))
			}
		default:
			lo := r.IntN(rows)
			bm.AddRange(uint64(lo), uint64(min(rows, lo+r.IntN(5000))))
		}
		bm.RunOptimize()
		words := Words(bm)
		for first := 0; first < rows; {
			n := min(1+r.IntN(9000), rows-first)
			want := LiveRows(bm, int64(first), n, nil)
			got := LiveRowsOf(words, int64(first), n, nil)
			if want == nil {
				require.Nil(t, got, "trial %d page [%d,+%d)", trial, first, n)
			} else {
				require.Equal(t, want, got, "trial %d page [%d,+%d)", trial, first, n)
			}
			first += n
		}
	}
	require.Nil(t, Words(nil))
	require.Nil(t, LiveRowsOf(nil, 0, 10, nil))
}

func BenchmarkLiveRows(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	bm := roaring.New()
	const rows = 1 << 20
	for i := 0; i < rows; i++ {
		if r.IntN(6) == 0 {
			bm.Add(uint32(i))
		}
	}
	words := Words(bm)
	dst := make([]int32, 0, 8192)
	b.Run("roaring", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			dst = LiveRows(bm, int64(i%128)*8192, 8192, dst)
		}
	})
	b.Run("words", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			dst = LiveRowsOf(words, int64(i%128)*8192, 8192, dst)
		}
	})
}

package bitpack

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for width := uint(0); width <= MaxWidth; width++ {
		for _, n := range []int{0, 1, 7, 8, 9, 63, 64, 65, 1000} {
			src := make([]uint64, n)
			for i := range src {
				if width == 64 {
					src[i] = rng.Uint64()
				} else {
					src[i] = rng.Uint64() & (1<<width - 1)
				}
			}
			buf := Append(nil, src, width)
			require.Len(t, buf, ByteLen(n, width))
			got := make([]uint64, n)
			require.NoError(t, Unpack(got, buf, width, 0))
			require.Equal(t, src, got, "width=%d n=%d", width, n)

			// Signed destination with a base.
			got64 := make([]int64, n)
			require.NoError(t, Unpack(got64, buf, width, -5))
			for i := range src {
				require.Equal(t, int64(src[i])-5, got64[i])
			}
			if n > 0 && width > 0 {
				require.ErrorIs(t, Unpack(got, buf[:len(buf)-1], width, 0), ErrShort)
			}
		}
	}
}

func TestWidth(t *testing.T) {
	require.Equal(t, uint(0), Width(0))
	require.Equal(t, uint(1), Width(1))
	require.Equal(t, uint(8), Width(255))
	require.Equal(t, uint(64), Width(^uint64(0)))
}

func FuzzUnpack(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(3), uint16(20))
	f.Add([]byte{}, uint8(0), uint16(5))
	f.Add([]byte{0xff}, uint8(65), uint16(1))
	f.Fuzz(func(t *testing.T, src []byte, width uint8, n uint16) {
		dst := make([]int32, n)
		_ = Unpack(dst, src, uint(width), 0)
	})
}

package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/keymodel"
	"github.com/strata-db/strata/be/rowset/rowsettest"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// mergeTablets builds n tablets of two overlapping segments each: keys
// 0..99 with value 1 in the older, keys 50..149 with value 2 in the newer.
func mergeTablets(t *testing.T, n int) []MergeTablet {
	cols := []storage.ColumnMeta{{ID: 1, Type: arrow.PrimitiveTypes.Int64}, {ID: 2, Type: arrow.PrimitiveTypes.Int64, Nullable: true}}
	var out []MergeTablet
	for range n {
		var older, newer [][]any
		for k := range 100 {
			older = append(older, []any{int64(k), int64(1)})
			newer = append(newer, []any{int64(k + 50), int64(2)})
		}
		out = append(out, MergeTablet{Segments: []*storage.Segment{
			rowsettest.SegmentOf(t, cols, 1, 16, older), rowsettest.SegmentOf(t, cols, 1, 16, newer),
		}})
	}
	return out
}

func mergeSpec(t *testing.T, tablets []MergeTablet, parallel int) MergeScanSpec {
	fold, err := keymodel.New(keymodel.Unique, 1, nil, -1)
	require.NoError(t, err)
	return MergeScanSpec{
		Tablets: tablets, NumKeys: 1, Fold: fold, SignCol: -1, Output: []int{0, 1}, Parallel: parallel,
		Columns: []ScanColumn{{ID: 1, Type: types.BigInt}, {ID: 2, Type: types.BigInt}},
	}
}

// Tablets merged in parallel give every tablet's folded rows once.
func TestMergeScanParallel(t *testing.T) {
	for _, parallel := range []int{1, 3, 8} {
		s, err := NewMergeScan(mergeSpec(t, mergeTablets(t, 5), parallel))
		require.NoError(t, err)
		ctx := context.Background()
		require.NoError(t, s.Open(ctx))
		counts := map[string]int{}
		var b Batch
		for {
			err := s.Next(ctx, &b)
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			for _, i := range b.rows() {
				counts[fmt.Sprint(b.Cols[0].(interface{ Value(int) int64 }).Value(i), "=", b.Cols[1].(interface{ Value(int) int64 }).Value(i))]++
			}
		}
		require.NoError(t, s.Close())
		require.Len(t, counts, 150, "parallel %d", parallel)
		for k, n := range counts {
			require.Equal(t, 5, n, "%s, parallel %d", k, parallel)
		}
		require.Equal(t, 5, counts["0=1"])
		require.Equal(t, 5, counts["50=2"], "the newer row wins")
	}
}

// A cancelled scan reports the cancellation, not an end of data.
func TestMergeScanCancelled(t *testing.T) {
	s, err := NewMergeScan(mergeSpec(t, mergeTablets(t, 40), 2))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, s.Open(ctx))
	var b Batch
	require.NoError(t, s.Next(ctx, &b))
	cancel()
	for {
		err = s.Next(ctx, &b)
		if err != nil {
			break
		}
	}
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
	require.NoError(t, s.Close())
}

func (b *Batch) rows() []int {
	if b.Sel != nil {
		out := make([]int, len(b.Sel))
		for i, r := range b.Sel {
			out[i] = int(r)
		}
		return out
	}
	return slices.Collect(func(yield func(int) bool) {
		for i := range b.Len {
			if !yield(i) {
				return
			}
		}
	})
}

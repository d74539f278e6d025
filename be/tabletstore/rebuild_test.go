package tabletstore

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/storage"
)

// A merge-on-write rebuild: the converted rows replace the loads up to
// the version, and the loads published above it mark the converted rows
// they replace, as their own publish marked the rows of the loads.
func TestPublishRebuildMergeOnWrite(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	require.NoError(t, err)
	defer func() { s.Close() }()
	rows := func(lo, hi int64, v string) []prow {
		var out []prow
		for k := lo; k <= hi; k++ {
			out = append(out, prow{k, fmt.Sprintf("%s%d", v, k), k, 0})
		}
		return out
	}
	require.NoError(t, writeRows(t, s, 10, nil, rows(1, 10, "a")))
	require.NoError(t, s.PublishTxn(10, map[int64]int64{1: 2}))
	require.NoError(t, writeRows(t, s, 11, nil, rows(5, 15, "b")))
	require.NoError(t, s.PublishTxn(11, map[int64]int64{1: 3}))
	// The conversion at version 3.
	converted := append(rows(1, 4, "a"), rows(5, 15, "b")...)
	require.NoError(t, writeRows(t, s, 99, nil, converted))
	// Loads published before the rebuild: one above the version replaces
	// some converted keys, one deletes a key.
	require.NoError(t, writeRows(t, s, 12, nil, rows(10, 20, "c")))
	require.NoError(t, s.PublishTxn(12, map[int64]int64{1: 4}))
	require.NoError(t, writeRows(t, s, 13, nil, []prow{{3, "", 0, 1}, {12, "d12", 12, 0}}))
	require.NoError(t, s.PublishTxn(13, map[int64]int64{1: 5}))
	want := readRows(t, s, 5)

	require.NoError(t, s.PublishRebuild(1, 99, 3))
	require.Equal(t, [][2]int64{{2, 3}, {4, 4}, {5, 5}}, versionRanges(s, 1))
	require.Equal(t, want, readRows(t, s, 5))
	require.Equal(t, prow{12, "d12", 12, 0}, readRows(t, s, 5)[12])
	require.Equal(t, prow{9, "b9", 9, 0}, readRows(t, s, 5)[9])
	require.NoError(t, s.CheckDeleteBitmaps(1))
	require.Empty(t, s.PendingTxns())

	// A later load and a restart.
	require.NoError(t, writeRows(t, s, 14, nil, rows(1, 2, "e")))
	require.NoError(t, s.PublishTxn(14, map[int64]int64{1: 6}))
	want = readRows(t, s, 6)
	require.NoError(t, s.Close())
	s, err = Open(dir, nil)
	require.NoError(t, err)
	require.Equal(t, want, readRows(t, s, 6))
	require.NoError(t, s.CheckDeleteBitmaps(1))
}

// A duplicate-key rebuild takes DELETE conditions published above its
// version, and a rowset straddling the version refuses it.
func TestPublishRebuildDuplicate(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer func() { s.Close() }()
	loadVersions(t, s, 1, map[int64][]int64{2: {1, 2, 3}, 3: {4, 5}})
	write(t, s, 1, 99, []int64{1, 2, 3, 4, 5})
	loadVersions(t, s, 1, map[int64][]int64{4: {6, 7}})
	deleteWhere(t, s, 1, 100, 5, storage.DeleteCondition{Column: 1, Op: ">=", Ints: []int64{5}})
	require.NoError(t, s.PublishRebuild(1, 99, 3))
	require.Equal(t, [][2]int64{{2, 3}, {4, 4}, {5, 5}}, versionRanges(s, 1))
	require.Equal(t, []int64{1, 2, 3, 4}, readLive(t, s, 1, 5))
	require.Equal(t, []int64{1, 2, 3, 4, 5, 6, 7}, readLive(t, s, 1, 4))

	// No converted rows: the loads up to the version go.
	s2, err := Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer func() { s2.Close() }()
	loadVersions(t, s2, 1, map[int64][]int64{2: {1}, 3: {2}, 4: {3}})
	require.NoError(t, s2.PublishRebuild(1, 99, 3))
	require.Equal(t, []int64{3}, readLive(t, s2, 1, 4))

	// A compaction merged versions on both sides of the rebuild's.
	s3, err := Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer func() { s3.Close() }()
	loadVersions(t, s3, 1, map[int64][]int64{2: {1}, 3: {2}, 4: {3}})
	compactRange(t, s3, 1, 3, 4)
	write(t, s3, 1, 99, []int64{1, 2})
	require.ErrorIs(t, s3.PublishRebuild(1, 99, 3), ErrRebuildConflict)
	require.Equal(t, []int64{99}, s3.PendingTxns(), "a refused rebuild leaves its rows pending")
}

// A rebuild whose rows reached the replica by a clone: the clone of a
// replica already rebuilt brought the converted rowset and dropped the
// replica's own pending rows of the same conversion. The rebuild then
// finds no pending rowset, and keeps the cloned rows rather than
// removing them as the loads a conversion without rows replaces.
func TestPublishRebuildAfterClone(t *testing.T) {
	src, err := Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer func() { src.Close() }()
	dst, err := Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer func() { dst.Close() }()
	write(t, src, 1, 99, []int64{1, 2, 3, 4, 5})
	require.NoError(t, src.PublishRebuild(1, 99, 3))
	write(t, dst, 1, 99, []int64{1, 2, 3, 4, 5})

	m, release, err := src.CloneManifest(1, 0, 3)
	require.NoError(t, err)
	require.NoError(t, dst.InstallClone(1, m, fetchFrom(src, 1)))
	release()
	require.Empty(t, dst.PendingTxns(), "the clone brought the conversion's rows")
	require.Equal(t, []int64{1, 2, 3, 4, 5}, readLive(t, dst, 1, 3))

	require.NoError(t, dst.PublishRebuild(1, 99, 3))
	require.Equal(t, [][2]int64{{2, 3}}, versionRanges(dst, 1))
	require.Equal(t, []int64{1, 2, 3, 4, 5}, readLive(t, dst, 1, 3))
	// Once more, as a conversion redone after a crash publishes it.
	require.NoError(t, src.PublishRebuild(1, 99, 3))
	require.Equal(t, []int64{1, 2, 3, 4, 5}, readLive(t, src, 1, 3))
}

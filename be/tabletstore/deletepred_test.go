package tabletstore

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/storage"
)

// readLive returns the keys of a tablet at a version that readers see,
// skipping the deleted rows, sorted.
func readLive(t *testing.T, s *Store, tablet, version int64) []int64 {
	t.Helper()
	snap, err := s.Acquire(tablet, version)
	require.NoError(t, err)
	defer snap.Release()
	segs, err := snap.Segments()
	require.NoError(t, err)
	dels := snap.Deletes()
	require.Len(t, dels, len(segs))
	var out []int64
	for si, seg := range segs {
		for p := 0; p < seg.NumPages(); p++ {
			first, _ := seg.PageRange(p)
			a, err := seg.Column(1).ReadPage(p, memory.DefaultAllocator)
			require.NoError(t, err)
			for i, k := range a.(*array.Int64).Int64Values() {
				if dels[si] == nil || !dels[si].Contains(uint32(first)+uint32(i)) {
					out = append(out, k)
				}
			}
			a.Release()
		}
	}
	return sorted(out)
}

func deleteWhere(t *testing.T, s *Store, tablet, txn, version int64, conds ...storage.DeleteCondition) {
	t.Helper()
	require.NoError(t, s.AddDelete(tablet, txn, testSchema, storage.DeletePredicate{Conditions: conds}))
	require.NoError(t, s.PublishTxn(txn, map[int64]int64{tablet: version}))
}

func TestDeletePredicate(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	require.NoError(t, err)
	defer func() { s.Close() }()
	loadVersions(t, s, 1, map[int64][]int64{2: {1, 2, 3}, 3: {4, 5, 6}})
	// v4 deletes k <= 2 or (k = 5): two deletes, the second at v5; the
	// names (column 2) are NULL for every third row, which "IS NULL" picks.
	deleteWhere(t, s, 1, 100, 4, storage.DeleteCondition{Column: 1, Op: "<=", Ints: []int64{2}})
	write(t, s, 1, 101, []int64{1, 7})
	require.NoError(t, s.PublishTxn(101, map[int64]int64{1: 5}))
	deleteWhere(t, s, 1, 102, 6, storage.DeleteCondition{Column: 1, Op: "IN", Ints: []int64{5, 7}})
	require.Equal(t, []int64{1, 2, 3, 4, 5, 6}, readLive(t, s, 1, 3))
	require.Equal(t, []int64{3, 4, 5, 6}, readLive(t, s, 1, 4))
	require.Equal(t, []int64{1, 3, 4, 5, 6, 7}, readLive(t, s, 1, 5), "a delete leaves later loads alone")
	require.Equal(t, []int64{1, 3, 4, 6}, readLive(t, s, 1, 6))

	// A compaction begun before a delete is published carries its marks;
	// it leaves out the rows deleted at versions it covers.
	c, err := s.BeginCompaction(1, 2, 5)
	require.NoError(t, err)
	mergeLive(t, c)
	deleteWhere(t, s, 1, 103, 7, storage.DeleteCondition{Column: 1, Op: "=", Ints: []int64{3}})
	_, err = c.Commit()
	require.NoError(t, err)
	require.Equal(t, [][2]int64{{2, 5}, {6, 6}, {7, 7}}, versionRanges(s, 1))
	require.Equal(t, int64(6), s.Rowsets(1)[0].NumRows, "rows 1 and 2 of version 2 are left out")
	require.Equal(t, []int64{1, 3, 4, 6}, readLive(t, s, 1, 6))
	require.Equal(t, []int64{1, 4, 6}, readLive(t, s, 1, 7))
	require.NoError(t, s.Close())
	s, err = Open(dir, nil)
	require.NoError(t, err)
	require.Equal(t, []int64{1, 4, 6}, readLive(t, s, 1, 7), "marks survive a restart")
	require.Equal(t, []int64{1, 3, 4, 6}, readLive(t, s, 1, 6))

	// A malformed delete is refused.
	require.ErrorContains(t, s.AddDelete(1, 104, testSchema, storage.DeletePredicate{}), "without a condition")
	require.ErrorContains(t, s.AddDelete(1, 104, testSchema, storage.DeletePredicate{Conditions: []storage.DeleteCondition{{Column: 9, Op: "IS NULL"}}}), "column 9")
}

// A run holding a DELETE's rowset must start at the first rowset: one
// that left older rowsets out would drop the condition they still need at
// their own compaction, and the deleted rows would come back.
func TestDeleteRowsetOnlyInBaseCompaction(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer s.Close()
	loadVersions(t, s, 1, map[int64][]int64{2: {1, 2, 3}, 3: {4, 5, 6}})
	deleteWhere(t, s, 1, 100, 4, storage.DeleteCondition{Column: 1, Op: "<=", Ints: []int64{2}})
	write(t, s, 1, 101, []int64{7})
	require.NoError(t, s.PublishTxn(101, map[int64]int64{1: 5}))
	_, err = s.BeginCompaction(1, 4, 5)
	require.ErrorIs(t, err, ErrCompactionConflict)
	require.ErrorContains(t, err, "DELETE condition")

	// The older rowsets merge alone and keep the rows deleted.
	c, err := s.BeginCompaction(1, 2, 3)
	require.NoError(t, err)
	mergeLive(t, c)
	_, err = c.Commit()
	require.NoError(t, err)
	require.Equal(t, []int64{3, 4, 5, 6, 7}, readLive(t, s, 1, 5))
	// Then everything from the first rowset, the DELETE's included.
	c, err = s.BeginCompaction(1, 2, 5)
	require.NoError(t, err)
	mergeLive(t, c)
	_, err = c.Commit()
	require.NoError(t, err)
	require.Equal(t, []int64{3, 4, 5, 6, 7}, readLive(t, s, 1, 5))
	require.Equal(t, [][2]int64{{2, 5}}, versionRanges(s, 1))
}

// A base compaction of DELETE rowsets alone writes an empty rowset of the
// tablet's model.
func TestCompactDeletesOnly(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	require.NoError(t, err)
	deleteWhere(t, s, 1, 100, 2, storage.DeleteCondition{Column: 1, Op: "=", Ints: []int64{1}})
	deleteWhere(t, s, 1, 101, 3, storage.DeleteCondition{Column: 1, Op: "=", Ints: []int64{2}})
	c, err := s.BeginCompaction(1, 2, 3)
	require.NoError(t, err)
	mergeLive(t, c)
	_, err = c.Commit()
	require.NoError(t, err)
	require.Equal(t, [][2]int64{{2, 3}}, versionRanges(s, 1))
	write(t, s, 1, 102, []int64{1, 2})
	require.NoError(t, s.PublishTxn(102, map[int64]int64{1: 4}))
	require.Equal(t, []int64{1, 2}, readLive(t, s, 1, 4))
	require.NoError(t, s.Close())
	s, err = Open(dir, nil)
	require.NoError(t, err)
	defer s.Close()
	c, err = s.BeginCompaction(1, 2, 4)
	require.NoError(t, err)
	mergeLive(t, c)
	_, err = c.Commit()
	require.NoError(t, err)
	require.Equal(t, []int64{1, 2}, readLive(t, s, 1, 4))
}

// A merge-on-read tablet is flat when one rowset without overlapping
// segments holds its rows; its flat deletes hide the delete-sign rows.
func TestSnapshotFlat(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer s.Close()
	sc := partialSchema
	sc.Model.MergeOnWrite = false
	load := func(txn, v int64, rows []prow) {
		w, err := s.NewDeltaWriter(1, txn, sc)
		require.NoError(t, err)
		cols := prowArrays(rows)
		require.NoError(t, w.Write(cols))
		releaseArrays(cols)
		require.NoError(t, w.Close())
		require.NoError(t, s.PublishTxn(txn, map[int64]int64{1: v}))
	}
	flat := func(v int64) (bool, []uint32) {
		snap, err := s.Acquire(1, v)
		require.NoError(t, err)
		defer snap.Release()
		var hidden []uint32
		for _, d := range snap.FlatDeletes() {
			if d != nil {
				hidden = append(hidden, d.ToArray()...)
			}
		}
		return snap.Flat(), hidden
	}
	ok, _ := flat(1)
	require.True(t, ok, "an empty tablet")
	load(1, 2, []prow{{1, "a", 1, 0}, {2, "b", 2, 1}, {3, "c", 3, 0}})
	ok, hidden := flat(2)
	require.True(t, ok)
	require.Equal(t, []uint32{1}, hidden, "the delete-sign row")
	load(2, 3, []prow{{1, "a2", 1, 0}})
	ok, _ = flat(3)
	require.False(t, ok, "two rowsets may hold a key twice")
	c, err := s.BeginCompaction(1, 2, 3)
	require.NoError(t, err)
	mergeLive(t, c) // compaction proper folds; the output is one run either way
	_, err = c.Commit()
	require.NoError(t, err)
	ok, _ = flat(3)
	require.True(t, ok, "a compaction's output")
}

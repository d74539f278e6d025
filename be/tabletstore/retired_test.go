package tabletstore

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/storage"
)

// The pages a query cached from rowsets that a compaction replaced leave
// the page cache when the rowsets' files close: no reader would hit them
// again (a reopened segment caches under new keys), and a long run of
// loads and compactions would otherwise fill the cache with them, up to
// its whole capacity, whatever the size of the live data.
func TestCompactionDropsCachedPagesOfInputs(t *testing.T) {
	s, err := OpenWithOptions(t.TempDir(), Options{StaleSweepTime: time.Hour})
	require.NoError(t, err)
	defer s.Close()
	cache := storage.NewPageCache(64 << 20)
	s.SetPageCache(cache)
	rows := map[int64][]int64{}
	for v := int64(2); v <= 9; v++ {
		rows[v] = []int64{v, 100 + v}
	}
	loadVersions(t, s, 1, rows)
	want := sorted(readAll(t, s, 1, 9))
	require.Positive(t, cache.Stats().Pages, "the read cached the inputs' pages")

	compactRange(t, s, 1, 2, 9)
	require.Zero(t, cache.Stats().Pages, "the inputs' pages left with their files")
	require.Zero(t, cache.Stats().Bytes)

	require.Equal(t, want, sorted(readAll(t, s, 1, 9)))
	output := cache.Stats().Pages
	require.Positive(t, output, "the output's pages are cached")

	// A reader at a version inside the compacted range reopens the stale
	// inputs; when it lets go, their pages go again.
	readAll(t, s, 1, 5)
	require.Equal(t, output, cache.Stats().Pages)
}

// A compaction's inputs leave the primary-key index cache: no publish
// looks keys up in them again, and they would hold their share of its
// memory until pushed out.
func TestCompactionForgetsPKIndexesOfInputs(t *testing.T) {
	s, err := OpenWithOptions(t.TempDir(), Options{})
	require.NoError(t, err)
	defer s.Close()
	for txn := int64(1); txn <= 6; txn++ {
		require.NoError(t, writeRows(t, s, txn, nil, []prow{{txn % 3, "v", txn, 0}, {10 + txn, "w", txn, 0}}))
		require.NoError(t, s.PublishTxn(txn, map[int64]int64{1: txn + 1}))
	}
	held := func() (rowsets []*rowset, used int64) {
		s.pks.mu.Lock()
		defer s.pks.mu.Unlock()
		for rs := range s.pks.at {
			rowsets = append(rowsets, rs)
		}
		return rowsets, s.pks.used
	}
	before, _ := held()
	require.Greater(t, len(before), 1, "the publishes read the indexes of the earlier rowsets")

	c, err := s.BeginCompaction(1, 2, 7)
	require.NoError(t, err)
	mergeLive(t, c)
	_, err = c.Commit()
	require.NoError(t, err)
	after, used := held()
	require.Empty(t, after, "the inputs' indexes left the cache")
	require.Zero(t, used)
	for _, rs := range before {
		rs.mu.Lock()
		require.Nil(t, rs.pks)
		rs.mu.Unlock()
	}

	// The next publish reads the output's index, and finds the keys there.
	require.NoError(t, writeRows(t, s, 7, nil, []prow{{1, "u", 7, 0}}))
	require.NoError(t, s.PublishTxn(7, map[int64]int64{1: 8}))
	after, _ = held()
	require.NotEmpty(t, after)
	for _, rs := range after {
		require.NotContains(t, before, rs, "an input's index is back")
	}
	require.NoError(t, s.CheckDeleteBitmaps(1))
	got := readRows(t, s, 8)
	require.Len(t, got, 3+6)
	require.Equal(t, prow{1, "u", 7, 0}, got[1])
}

// A dropped tablet's rowsets leave the primary-key index cache too.
func TestDropTabletForgetsPKIndexes(t *testing.T) {
	s, err := OpenWithOptions(t.TempDir(), Options{})
	require.NoError(t, err)
	defer s.Close()
	for txn := int64(1); txn <= 3; txn++ {
		require.NoError(t, writeRows(t, s, txn, nil, []prow{{txn, "v", txn, 0}}))
		require.NoError(t, s.PublishTxn(txn, map[int64]int64{1: txn + 1}))
	}
	s.pks.mu.Lock()
	n := len(s.pks.at)
	s.pks.mu.Unlock()
	require.Positive(t, n, "the publishes read the indexes of the earlier rowsets")

	require.NoError(t, s.DropTablet(1))
	s.pks.mu.Lock()
	defer s.pks.mu.Unlock()
	require.Empty(t, s.pks.at)
	require.Zero(t, s.pks.used)
}

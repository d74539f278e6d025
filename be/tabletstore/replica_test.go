package tabletstore

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// publishOn publishes one transaction on a replica: tablet -> written.
func publishOn(t *testing.T, s *Store, txn, version int64, tablets map[int64]bool) map[int64]TabletPublishResult {
	t.Helper()
	pt := make(map[int64]PublishTablet, len(tablets))
	for id, w := range tablets {
		pt[id] = PublishTablet{Version: version, Written: w}
	}
	res, err := s.PublishReplica([]TxnPublish{{TxnID: txn, Tablets: pt}})
	require.NoError(t, err)
	require.Len(t, res, 1)
	return res[0]
}

func requireVersion(t *testing.T, s *Store, tablet, want int64) {
	t.Helper()
	v, known := s.TabletVersion(tablet)
	require.True(t, known, "tablet %d has a version", tablet)
	require.Equal(t, want, v, "version of tablet %d", tablet)
}

func requireVersionMissing(t *testing.T, s *Store, tablet, version, held int64) {
	t.Helper()
	_, err := s.Acquire(tablet, version)
	require.ErrorIs(t, err, ErrVersionMissing)
	var vm *VersionMissingError
	require.ErrorAs(t, err, &vm)
	require.Equal(t, VersionMissingError{TabletID: tablet, Version: version, Held: held}, *vm)
	_, err = s.AcquireKeepingSigns(tablet, version)
	require.ErrorIs(t, err, ErrVersionMissing)
}

// A replica that missed version 5 of tablet 1 reports Missing at 5 and a
// Gap at 6, keeps the rowset of 6 pending, refuses reads at 5 and above and
// serves 4; tablet 2, which no load writes, advances with no rowset. All
// of it survives a restart, and publishing again changes nothing.
func TestReplicaPublishGap(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	require.NoError(t, err)
	defer func() { s.Close() }()

	require.NoError(t, s.EnsureTablet(1))
	require.NoError(t, s.EnsureTablet(2))
	require.NoError(t, s.EnsureTablet(2), "idempotent")
	requireVersion(t, s, 1, 1)
	_, known := s.TabletVersion(3)
	require.False(t, known)
	require.Empty(t, readAll(t, s, 2, 1))
	requireVersionMissing(t, s, 2, 2, 1)

	for v := int64(2); v <= 4; v++ {
		write(t, s, 1, v*10, []int64{v, 100 + v})
		require.Equal(t, map[int64]TabletPublishResult{1: Published, 2: Published},
			publishOn(t, s, v*10, v, map[int64]bool{1: true, 2: false}))
	}
	requireVersion(t, s, 1, 4)
	requireVersion(t, s, 2, 4)
	require.Equal(t, 0, s.VersionCount(2), "a tablet no load wrote has no rowsets")
	require.Empty(t, readAll(t, s, 2, 4))

	// Version 5 wrote tablet 1 elsewhere, not here; 6 wrote it here too.
	require.Equal(t, map[int64]TabletPublishResult{1: Missing, 2: Published},
		publishOn(t, s, 50, 5, map[int64]bool{1: true, 2: false}))
	write(t, s, 1, 60, []int64{6})
	require.Equal(t, map[int64]TabletPublishResult{1: Gap, 2: Published},
		publishOn(t, s, 60, 6, map[int64]bool{1: true, 2: false}))

	check := func() {
		t.Helper()
		requireVersion(t, s, 1, 4)
		requireVersion(t, s, 2, 6)
		require.Equal(t, []int64{2, 102, 3, 103, 4, 104}, readAll(t, s, 1, 4))
		requireVersionMissing(t, s, 1, 5, 4)
		requireVersionMissing(t, s, 1, 6, 4)
		require.Empty(t, readAll(t, s, 2, 6))
		require.Equal(t, []int64{60}, s.PendingTxns(), "the rowset of 6 waits for a repair or an abort")
		require.Equal(t, []TabletInfo{
			{TabletID: 1, Version: 4, Rowsets: 3, Rows: 6, DataSize: s.TabletReport()[0].DataSize, Pending: true},
			{TabletID: 2, Version: 6},
		}, s.TabletReport())
		require.Positive(t, s.TabletReport()[0].DataSize)
	}
	check()

	// Publishing again is idempotent: earlier versions are already
	// visible, and the lagging tablet stays where it is.
	res, err := s.PublishReplica([]TxnPublish{
		{TxnID: 30, Tablets: map[int64]PublishTablet{1: {Version: 3, Written: true}, 2: {Version: 3, Written: false}}},
		{TxnID: 50, Tablets: map[int64]PublishTablet{1: {Version: 5, Written: true}, 2: {Version: 5, Written: false}}},
		{TxnID: 60, Tablets: map[int64]PublishTablet{1: {Version: 6, Written: true}, 2: {Version: 6, Written: false}}},
	})
	require.NoError(t, err)
	require.Equal(t, []map[int64]TabletPublishResult{
		{1: AlreadyVisible, 2: AlreadyVisible},
		{1: Missing, 2: AlreadyVisible},
		{1: Gap, 2: AlreadyVisible},
	}, res)
	check()

	require.NoError(t, s.Close())
	s, err = Open(dir, nil)
	require.NoError(t, err)
	check()
	require.Equal(t, Gap, publishOn(t, s, 60, 6, map[int64]bool{1: true})[1])

	// Aborting the lagging load drops its rowset; the tablet stays behind.
	require.NoError(t, s.AbortTxn(60))
	require.Empty(t, s.PendingTxns())
	requireVersion(t, s, 1, 4)
}

// Several transactions in one call follow each other; a tablet the store
// was never told of starts at version 1; a
// rowset of a load the frontend says did not write the tablet is dropped,
// and one of a version the tablet holds already too.
func TestReplicaPublishChain(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer s.Close()

	// Tablet 3 is not ensured: version 2 makes it known.
	write(t, s, 3, 20, []int64{1})
	write(t, s, 3, 30, []int64{2})
	res, err := s.PublishReplica([]TxnPublish{
		{TxnID: 20, Tablets: map[int64]PublishTablet{3: {Version: 2, Written: true}, 4: {Version: 2, Written: false}}},
		{TxnID: 30, Tablets: map[int64]PublishTablet{3: {Version: 3, Written: true}, 4: {Version: 3, Written: false}}},
		{TxnID: 40, Tablets: map[int64]PublishTablet{3: {Version: 4, Written: true}, 4: {Version: 4, Written: false}}},
	})
	require.NoError(t, err)
	require.Equal(t, []map[int64]TabletPublishResult{
		{3: Published, 4: Published},
		{3: Published, 4: Published},
		{3: Missing, 4: Published},
	}, res)
	requireVersion(t, s, 3, 3)
	requireVersion(t, s, 4, 4)
	require.Equal(t, []int64{1, 2}, readAll(t, s, 3, 3))

	// A tablet the store holds nothing of, named first at a later load:
	// it is at version 1, and lags.
	write(t, s, 7, 50, []int64{1})
	require.Equal(t, map[int64]TabletPublishResult{7: Gap, 8: Gap}, publishOn(t, s, 50, 5, map[int64]bool{7: true, 8: false}))
	requireVersion(t, s, 7, 1)
	requireVersion(t, s, 8, 1)
	requireVersionMissing(t, s, 7, 5, 1)
	require.Equal(t, []int64{50}, s.PendingTxns())
	require.NoError(t, s.AbortTxn(50))

	// A tablet with rowsets and no version (published by PublishTxn, as
	// in a store of an older format) is published unchecked.
	write(t, s, 5, 20, []int64{2})
	require.NoError(t, s.PublishTxn(20, map[int64]int64{5: 2}))
	write(t, s, 5, 70, []int64{7})
	require.Equal(t, Published, publishOn(t, s, 70, 7, map[int64]bool{5: true})[5])
	_, known := s.TabletVersion(5)
	require.False(t, known)
	require.Equal(t, []int64{2, 7}, readAll(t, s, 5, 9), "no check without a version")
	require.Equal(t, AlreadyVisible, publishOn(t, s, 70, 7, map[int64]bool{5: true})[5])
	require.Equal(t, Missing, publishOn(t, s, 80, 8, map[int64]bool{5: true})[5])
	require.Equal(t, Published, publishOn(t, s, 90, 9, map[int64]bool{5: false})[5])

	// Not written, but a rowset here: the version moves without it.
	require.NoError(t, s.EnsureTablet(6))
	write(t, s, 6, 20, []int64{1})
	require.Equal(t, Published, publishOn(t, s, 20, 2, map[int64]bool{6: false})[6])
	requireVersion(t, s, 6, 2)
	require.Equal(t, 0, s.VersionCount(6))
	require.Empty(t, s.PendingTxns())

	// A pending rowset of a version the tablet holds is dropped.
	write(t, s, 6, 20, []int64{1})
	require.Equal(t, AlreadyVisible, publishOn(t, s, 20, 2, map[int64]bool{6: true})[6])
	require.Empty(t, s.PendingTxns())
	require.Empty(t, segFiles(t, s, 6))

	_, err = s.PublishReplica([]TxnPublish{{TxnID: 1, Tablets: map[int64]PublishTablet{6: {Version: 1, Written: false}}}})
	require.ErrorContains(t, err, "BUG")
}

// A store of an older format has no versions: reads and publishes are not
// checked until AdoptVersions gives them. PublishTxn (every tablet of the
// partitions listed) then advances the tablets a load did not write.
func TestAdoptVersions(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	require.NoError(t, err)
	defer func() { s.Close() }()
	loadVersions(t, s, 1, map[int64][]int64{2: {1}, 3: {2}, 5: {3}})
	// As a store of format 5 has it: no bucket of tablet records.
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketTablets) }))
	require.NoError(t, s.Close())
	s, err = Open(dir, nil)
	require.NoError(t, err)

	for _, id := range []int64{1, 2} {
		_, known := s.TabletVersion(id)
		require.False(t, known)
	}
	require.Equal(t, []int64{1, 2, 3}, readAll(t, s, 1, 100), "no check without a version")
	require.NoError(t, s.EnsureTablet(1))
	_, known := s.TabletVersion(1)
	require.False(t, known, "EnsureTablet leaves a tablet with rowsets to AdoptVersions")

	require.NoError(t, s.AdoptVersions(map[int64]int64{1: 4, 2: 5, 3: 0}))
	requireVersion(t, s, 1, 5) // its rowsets reach 5
	requireVersion(t, s, 2, 5)
	requireVersion(t, s, 3, 1)
	require.NoError(t, s.AdoptVersions(map[int64]int64{1: 9}))
	requireVersion(t, s, 1, 5)
	requireVersionMissing(t, s, 1, 6, 5)

	require.NoError(t, s.Close())
	s, err = Open(dir, nil)
	require.NoError(t, err)
	requireVersion(t, s, 1, 5)
	requireVersion(t, s, 2, 5)

	// PublishTxn lists every tablet of the partition: tablet 2 advances.
	write(t, s, 1, 60, []int64{4})
	require.NoError(t, s.PublishTxn(60, map[int64]int64{1: 6, 2: 6}))
	require.NoError(t, s.PublishTxn(60, map[int64]int64{1: 6, 2: 6}))
	requireVersion(t, s, 1, 6)
	requireVersion(t, s, 2, 6)
	require.Equal(t, []int64{1, 2, 3, 4}, readAll(t, s, 1, 6))
	// Version 7 never reached this store: 8 leaves the tablets behind,
	// with no error, its rowset pending.
	write(t, s, 1, 80, []int64{5})
	require.NoError(t, s.PublishTxn(80, map[int64]int64{1: 8, 2: 8}))
	requireVersion(t, s, 1, 6)
	requireVersion(t, s, 2, 6)
	require.Equal(t, []int64{80}, s.PendingTxns())

	// A version below the rowsets (written by a binary that did not keep
	// versions) is forgotten at start-up.
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error { return putTabletVersion(tx, 1, 3, false) }))
	require.NoError(t, s.Close())
	s, err = Open(dir, nil)
	require.NoError(t, err)
	_, known = s.TabletVersion(1)
	require.False(t, known)
	requireVersion(t, s, 2, 6)

	// Dropping a tablet drops its version.
	require.NoError(t, s.DropTablet(2))
	require.NoError(t, s.Close())
	s, err = Open(dir, nil)
	require.NoError(t, err)
	_, known = s.TabletVersion(2)
	require.False(t, known)
	require.NotContains(t, s.Tablets(), int64(2))
	require.Contains(t, s.Tablets(), int64(3), "a tablet with a version and no rowsets is held")
}

func TestTabletRecordFormat(t *testing.T) {
	key := tabletKey(7)
	id, r, err := decodeTabletRecord(key, []byte(`{"format_version":6,"version":12}`))
	require.NoError(t, err)
	require.Equal(t, int64(7), id)
	require.Equal(t, tabletRecord{FormatVersion: 6, Version: 12}, r)
	for _, bad := range []string{`{"format_version":5,"version":12}`, `{"format_version":7,"version":12}`, `{"format_version":6,"version":0}`, `{`} {
		_, _, err := decodeTabletRecord(key, []byte(bad))
		require.Error(t, err, bad)
	}
	_, _, err = decodeTabletRecord([]byte{1}, nil)
	require.Error(t, err)
	require.True(t, errors.Is(&VersionMissingError{}, ErrVersionMissing))
}

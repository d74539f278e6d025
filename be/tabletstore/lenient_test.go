package tabletstore

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/strata-db/strata/be/rowset/rowsettest"
)

// publishLenient publishes one transaction on a replica, every tablet
// lenient: tablet -> written.
func publishLenient(t *testing.T, s *Store, txn, version int64, tablets map[int64]bool) map[int64]TabletPublishResult {
	t.Helper()
	pt := make(map[int64]PublishTablet, len(tablets))
	for id, w := range tablets {
		pt[id] = PublishTablet{Version: version, Written: w, Lenient: true}
	}
	res, err := s.PublishReplica([]TxnPublish{{TxnID: txn, Tablets: pt}})
	require.NoError(t, err)
	require.Len(t, res, 1)
	return res[0]
}

func requireBroken(t *testing.T, s *Store, tablet int64, want bool) {
	t.Helper()
	for _, ti := range s.TabletReport() {
		if ti.TabletID == tablet {
			require.Equal(t, want, ti.Broken, "tablet %d broken", tablet)
			return
		}
	}
	t.Fatalf("tablet %d is not reported", tablet)
}

// tabletRecordOf reads a tablet's record as bbolt holds it.
func tabletRecordOf(t *testing.T, s *Store, tablet int64) string {
	t.Helper()
	var out string
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		out = string(tx.Bucket(bucketTablets).Get(tabletKey(tablet)))
		return nil
	}))
	return out
}

// An index created while its base tablet is at version 6: the index's
// tablet 2, which the store was never told of, takes versions 7 and 8
// from the loads that write both; a tablet the loads do not write
// advances with them. Without Lenient the same tablet lags (Gap).
func TestLenientPublishUnknownTablet(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run(fmt.Sprintf("strict=%v", strict), func(t *testing.T) {
			s, err := OpenWithOptions(t.TempDir(), Options{Strict: strict})
			require.NoError(t, err)
			defer s.Close()
			require.NoError(t, s.EnsureTablet(1))
			for v := int64(2); v <= 6; v++ {
				write(t, s, 1, v*10, []int64{v})
				require.Equal(t, Published, publishOn(t, s, v*10, v, map[int64]bool{1: true})[1])
			}
			for v := int64(7); v <= 8; v++ {
				write(t, s, 1, v*10, []int64{v})
				write(t, s, 2, v*10, []int64{100 + v})
				write(t, s, 4, v*10, []int64{200 + v})
				res, err := s.PublishReplica([]TxnPublish{{TxnID: v * 10, Tablets: map[int64]PublishTablet{
					1: {Version: v, Written: true},
					2: {Version: v, Written: true, Lenient: true},
					3: {Version: v, Lenient: true},
					4: {Version: v, Written: true}, // not lenient
				}}})
				require.NoError(t, err)
				want := map[int64]TabletPublishResult{1: Published, 2: Published, 3: Published, 4: Gap}
				require.Equal(t, want, res[0], "version %d", v)
			}
			requireVersion(t, s, 1, 8)
			requireVersion(t, s, 2, 8)
			requireVersion(t, s, 3, 8)
			requireVersion(t, s, 4, 1)
			require.Equal(t, []int64{107, 108}, sorted(readAll(t, s, 2, 8)))
			require.Equal(t, []int64{107}, readAll(t, s, 2, 7))
			require.Empty(t, readAll(t, s, 3, 8))
			requireVersionMissing(t, s, 2, 9, 8)
			requireVersionMissing(t, s, 4, 7, 1)
			requireBroken(t, s, 2, false)
			require.Equal(t, []int64{70, 80}, s.PendingTxns(), "tablet 4's rowsets wait")
			// Publishing again: already visible.
			require.Equal(t, AlreadyVisible, publishLenient(t, s, 80, 8, map[int64]bool{2: true})[2])
		})
	}
}

// A lenient tablet that lags (a Gap) is published as from the version
// before, in one call or across several, and its rowsets stay.
func TestLenientPublishGap(t *testing.T) {
	s, err := OpenWithOptions(t.TempDir(), Options{Strict: true})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.EnsureTablet(1))
	for v := int64(2); v <= 3; v++ {
		write(t, s, 1, v*10, []int64{v})
		publishOn(t, s, v*10, v, map[int64]bool{1: true})
	}
	write(t, s, 1, 60, []int64{6})
	require.Equal(t, Gap, publishOn(t, s, 60, 6, map[int64]bool{1: true})[1], "not lenient")
	requireVersion(t, s, 1, 3)
	require.Equal(t, Published, publishLenient(t, s, 60, 6, map[int64]bool{1: true})[1])
	requireVersion(t, s, 1, 6)
	require.Equal(t, []int64{2, 3, 6}, readAll(t, s, 1, 6))
	require.Equal(t, [][2]int64{{2, 2}, {3, 3}, {6, 6}}, versionRanges(s, 1))

	// Two gaps in one call; the second transaction did not write the
	// tablet.
	write(t, s, 1, 80, []int64{8})
	res, err := s.PublishReplica([]TxnPublish{
		{TxnID: 80, Tablets: map[int64]PublishTablet{1: {Version: 8, Written: true, Lenient: true}}},
		{TxnID: 110, Tablets: map[int64]PublishTablet{1: {Version: 11, Lenient: true}}},
	})
	require.NoError(t, err)
	require.Equal(t, []map[int64]TabletPublishResult{{1: Published}, {1: Published}}, res)
	requireVersion(t, s, 1, 11)
	require.Equal(t, []int64{2, 3, 6, 8}, readAll(t, s, 1, 11))
	require.Empty(t, s.PendingTxns())
	requireBroken(t, s, 1, false)
}

// A lenient publish that finds the load's rowset missing leaves the
// tablet behind and marks it broken, in its record: it survives a
// restart, later lenient publishes are checked as strict ones are (Gap),
// a rebuild keeps the mark, and a clone clears it.
func TestLenientMissingMarksBroken(t *testing.T) {
	src, err := OpenWithOptions(t.TempDir(), Options{Strict: true})
	require.NoError(t, err)
	defer src.Close()
	dir := t.TempDir()
	s, err := OpenWithOptions(dir, Options{Strict: true})
	require.NoError(t, err)
	defer func() { s.Close() }()
	require.NoError(t, src.EnsureTablet(1))
	for v := int64(2); v <= 4; v++ {
		write(t, src, 1, v*10, []int64{v})
		require.Equal(t, Published, publishOn(t, src, v*10, v, map[int64]bool{1: true})[1])
	}

	write(t, s, 1, 20, []int64{2})
	require.Equal(t, Published, publishLenient(t, s, 20, 2, map[int64]bool{1: true})[1])
	require.Equal(t, `{"format_version":6,"version":2}`, tabletRecordOf(t, s, 1))
	// Version 3 wrote tablet 1, but not here.
	require.Equal(t, Missing, publishLenient(t, s, 30, 3, map[int64]bool{1: true})[1])
	requireVersion(t, s, 1, 2)
	requireBroken(t, s, 1, true)
	require.Equal(t, `{"format_version":6,"version":2,"broken":true}`, tabletRecordOf(t, s, 1))
	// A tablet the store never heard of: broken at version 1.
	require.Equal(t, Missing, publishLenient(t, s, 70, 7, map[int64]bool{5: true})[5])
	requireVersion(t, s, 5, 1)
	requireBroken(t, s, 5, true)

	require.NoError(t, s.Close())
	s, err = OpenWithOptions(dir, Options{Strict: true})
	require.NoError(t, err)
	requireVersion(t, s, 1, 2)
	requireBroken(t, s, 1, true)
	require.Equal(t, []TabletInfo{
		{TabletID: 1, Version: 2, Rowsets: 1, Rows: 1, DataSize: s.TabletReport()[0].DataSize, Broken: true},
		{TabletID: 5, Version: 1, Broken: true},
	}, s.TabletReport())

	// Broken: no longer lenient.
	write(t, s, 1, 40, []int64{4})
	require.Equal(t, Gap, publishLenient(t, s, 40, 4, map[int64]bool{1: true})[1])
	require.Equal(t, Missing, publishLenient(t, s, 30, 3, map[int64]bool{1: true})[1])
	requireVersion(t, s, 1, 2)
	requireVersionMissing(t, s, 1, 3, 2)
	require.Equal(t, []int64{40}, s.PendingTxns())

	// A rebuild raises tablet 5 to its version and leaves it broken; a
	// publish that follows it is published, one that skips a version
	// lags.
	write(t, s, 5, 80, []int64{80})
	require.Equal(t, Gap, publishLenient(t, s, 80, 8, map[int64]bool{5: true})[5])
	write(t, s, 5, 99, []int64{1, 2, 3})
	require.NoError(t, s.PublishRebuild(5, 99, 7))
	requireVersion(t, s, 5, 7)
	requireBroken(t, s, 5, true)
	require.Equal(t, Published, publishLenient(t, s, 80, 8, map[int64]bool{5: true})[5])
	require.Equal(t, []int64{1, 2, 3, 80}, readAll(t, s, 5, 8))
	write(t, s, 5, 100, []int64{100})
	require.Equal(t, Gap, publishLenient(t, s, 100, 10, map[int64]bool{5: true})[5])
	requireBroken(t, s, 5, true)
	require.NoError(t, s.AbortTxn(100))

	// The clone repairs tablet 1 and clears the mark; the pending rowset
	// of version 4 goes, its version held through the clone.
	m, release, err := src.CloneManifest(1, 2, 4)
	require.NoError(t, err)
	require.False(t, m.Full)
	require.NoError(t, s.InstallClone(1, m, fetchFrom(src, 1)))
	release()
	requireVersion(t, s, 1, 4)
	requireBroken(t, s, 1, false)
	require.Empty(t, s.PendingTxns())
	require.Equal(t, []int64{2, 3, 4}, readAll(t, s, 1, 4))
	require.Equal(t, `{"format_version":6,"version":4}`, tabletRecordOf(t, s, 1))

	require.NoError(t, s.Close())
	s, err = OpenWithOptions(dir, Options{Strict: true})
	require.NoError(t, err)
	requireBroken(t, s, 1, false)
	requireBroken(t, s, 5, true)
	// Lenient again: a gap is absorbed.
	write(t, s, 1, 60, []int64{6})
	require.Equal(t, Published, publishLenient(t, s, 60, 6, map[int64]bool{1: true})[1])
	requireVersion(t, s, 1, 6)
}

// A rebuild at version 7 of an index tablet that lenient publishes
// brought to 9: the converted rows replace what it held up to 7 (the load
// of 7, when the tablet was created before it), and the loads of 8 and 9
// (a DELETE among them where the model has them) stay, as a replica that
// held every load reads them. That replica's rebuild gives the same rows,
// and both have the delete bitmaps their loads' publishes would have made
// (with a sequence column, rows of 8 and 9 lose to converted ones).
func TestLenientRebuildKeepsLaterVersions(t *testing.T) {
	for _, kind := range rtKinds {
		for _, first := range []int64{7, 8} {
			t.Run(fmt.Sprintf("%s/first=%d", kind, first), func(t *testing.T) {
				t.Parallel()
				testLenientRebuild(t, kind, first)
			})
		}
	}
}

func testLenientRebuild(t *testing.T, kind rtKind, first int64) {
	opts := Options{Strict: true, StaleSweepTime: -1}
	dir := t.TempDir()
	idx, err := OpenWithOptions(dir, opts) // the index's replica
	require.NoError(t, err)
	defer func() { idx.Close() }()
	full, err := OpenWithOptions(t.TempDir(), opts) // holds every load
	require.NoError(t, err)
	defer full.Close()
	require.NoError(t, full.EnsureTablet(1))
	r := rand.New(rand.NewPCG(uint64(kind), uint64(first)))
	tb := newRTTable(kind)
	for v := int64(2); v <= 9; v++ {
		on := []*Store{full}
		if v >= first {
			on = append(on, idx) // the index's tablet exists
		}
		if v == 8 && kind.deletes() {
			tb.del(t, v*10, v, 12, on...)
		} else {
			tb.load(t, v*10, v, tb.random(r, 40, 0, 30), on...)
		}
		require.Equal(t, Published, publishOn(t, full, v*10, v, map[int64]bool{1: true})[1])
		if v >= first {
			require.Equal(t, Published, publishLenient(t, idx, v*10, v, map[int64]bool{1: true})[1], "version %d", v)
		}
	}
	requireVersion(t, idx, 1, 9)

	// The alter job's conversion of the base at 7 (the newest row of
	// each key, a delete sign set or not).
	converted := tb.fold(7, true)
	for _, s := range []*Store{idx, full} {
		w, err := s.NewDeltaWriter(1, 999, tb.schema)
		require.NoError(t, err)
		arrs := rowsettest.BuildArrays(t, tb.schema.Columns, converted)
		require.NoError(t, w.Write(arrs))
		releaseArrays(arrs)
		require.NoError(t, w.Close())
		require.NoError(t, s.PublishRebuild(1, 999, 7))
		requireVersion(t, s, 1, 9)
		require.Equal(t, [][2]int64{{2, 7}, {8, 8}, {9, 9}}, versionRanges(s, 1))
		require.Empty(t, s.PendingTxns())
	}
	check := func(what string) {
		t.Helper()
		for v := int64(7); v <= 9; v++ {
			tb.requireChecksum(t, idx, v, what)
			tb.requireChecksum(t, full, v, "every load, rebuilt")
		}
	}
	check("after the rebuild")
	require.NoError(t, idx.Close())
	idx, err = OpenWithOptions(dir, opts)
	require.NoError(t, err)
	check("after a restart")
	requireBroken(t, idx, 1, false)
}

// A strict store reads a tablet it has no record of as at version 1:
// empty there, missing above; a clone source gives an empty full manifest
// of it at version 1. A rebuild records the rebuild's version. Without
// Strict, none of it is checked, as before.
func TestStrictReads(t *testing.T) {
	s, err := OpenWithOptions(t.TempDir(), Options{Strict: true})
	require.NoError(t, err)
	defer s.Close()
	require.Empty(t, readAll(t, s, 9, 1))
	requireVersionMissing(t, s, 9, 2, 1)
	sum, rows, err := s.Checksum(9, 1)
	require.NoError(t, err)
	require.Zero(t, sum)
	require.Zero(t, rows)
	_, _, err = s.Checksum(9, 2)
	require.ErrorIs(t, err, ErrVersionMissing)

	// Pending rowsets only, or rowsets published unchecked (PublishTxn,
	// as a store of an older format has them): no record, version 1.
	write(t, s, 10, 20, []int64{1})
	require.Empty(t, readAll(t, s, 10, 1))
	requireVersionMissing(t, s, 10, 2, 1)
	write(t, s, 11, 20, []int64{1})
	require.NoError(t, s.PublishTxn(20, map[int64]int64{11: 2}))
	requireVersionMissing(t, s, 11, 2, 1)
	require.Equal(t, []TabletInfo{
		{TabletID: 10, Pending: true},
		{TabletID: 11, Rowsets: 1, Rows: 1, DataSize: s.TabletReport()[1].DataSize},
	}, s.TabletReport(), "tablet 9 has nothing to report")

	// Clone sources.
	m, release, err := s.CloneManifest(9, 0, 1)
	require.NoError(t, err)
	require.Equal(t, Manifest{TabletID: 9, Full: true, WantVersion: 1}, m)
	release()
	_, _, err = s.CloneManifest(9, 0, 2)
	var vm *VersionMissingError
	require.ErrorAs(t, err, &vm)
	require.Equal(t, VersionMissingError{TabletID: 9, Version: 2, Held: 1}, *vm)
	dst, err := OpenWithOptions(t.TempDir(), Options{Strict: true})
	require.NoError(t, err)
	defer dst.Close()
	require.NoError(t, dst.InstallClone(9, m, fetchFrom(s, 9)))
	requireVersion(t, dst, 9, 1)

	// Rebuilds: with no rows, and with converted rows only.
	require.NoError(t, s.PublishRebuild(12, 99, 5))
	requireVersion(t, s, 12, 5)
	require.Empty(t, readAll(t, s, 12, 5))
	write(t, s, 13, 99, []int64{1, 2})
	require.NoError(t, s.PublishRebuild(13, 99, 5))
	requireVersion(t, s, 13, 5)
	require.Equal(t, []int64{1, 2}, readAll(t, s, 13, 5))
	requireVersionMissing(t, s, 13, 6, 5)

	// Not strict: unchecked.
	n, err := Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer n.Close()
	require.Empty(t, readAll(t, n, 9, 5))
	_, _, err = n.CloneManifest(9, 0, 1)
	require.ErrorAs(t, err, &vm)
	require.Equal(t, VersionMissingError{TabletID: 9, Version: 1, Held: 0}, *vm)
	require.NoError(t, n.PublishRebuild(12, 99, 5))
	_, known := n.TabletVersion(12)
	require.False(t, known)
	write(t, n, 13, 99, []int64{1, 2})
	require.NoError(t, n.PublishRebuild(13, 99, 5))
	_, known = n.TabletVersion(13)
	require.False(t, known)
	require.Equal(t, []int64{1, 2}, readAll(t, n, 13, 9))
}

func TestLenientWireFormat(t *testing.T) {
	b, err := json.Marshal(PublishTablet{Version: 7, Written: true})
	require.NoError(t, err)
	require.JSONEq(t, `{"Version":7,"Written":true}`, string(b))
	b, err = json.Marshal(PublishTablet{Version: 7, Lenient: true})
	require.NoError(t, err)
	require.JSONEq(t, `{"Version":7,"Written":false,"lenient":true}`, string(b))

	_, r, err := decodeTabletRecord(tabletKey(7), []byte(`{"format_version":6,"version":12,"broken":true}`))
	require.NoError(t, err)
	require.Equal(t, tabletRecord{FormatVersion: 6, Version: 12, Broken: true}, r)
}

// A merge-on-write rebuild whose conversion found no rows: the loads up
// to its version go, and the marks of those above are made again without
// them.
func TestRebuildNoRowsMergeOnWrite(t *testing.T) {
	s, err := OpenWithOptions(t.TempDir(), Options{Strict: true})
	require.NoError(t, err)
	defer s.Close()
	for v, rows := range [][]prow{
		{{1, "a", 1, 0}, {2, "a", 2, 0}, {3, "a", 3, 0}},
		{{2, "b", 2, 0}, {3, "b", 3, 0}, {4, "b", 4, 0}},
		{{3, "c", 3, 0}},
	} {
		version := int64(v + 2)
		require.NoError(t, writeRows(t, s, version*10, nil, rows))
		require.Equal(t, Published, publishLenient(t, s, version*10, version, map[int64]bool{1: true})[1])
	}
	require.NoError(t, s.PublishRebuild(1, 99, 2))
	require.Equal(t, [][2]int64{{3, 3}, {4, 4}}, versionRanges(s, 1))
	require.Equal(t, map[int64]prow{2: {2, "b", 2, 0}, 3: {3, "c", 3, 0}, 4: {4, "b", 4, 0}}, readRows(t, s, 4))
	require.Equal(t, map[int64]prow{2: {2, "b", 2, 0}, 3: {3, "b", 3, 0}, 4: {4, "b", 4, 0}}, readRows(t, s, 3))
	require.NoError(t, s.CheckDeleteBitmaps(1))
	requireVersion(t, s, 1, 4)
}

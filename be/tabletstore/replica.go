package tabletstore

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// Replica versions.
//
// A tablet of a replicated table lives on several backends, and a load
// writes every replica of each tablet it writes. The frontend publishes a
// load on every live replica, saying of each tablet of the load's
// partitions whether the load wrote it. A replica keeps each tablet's
// version: the highest V such that it holds the data of every version up
// to V (version 1 is a new partition's empty one). Publishing version V
// moves a tablet from V-1 to V, from the load's pending rowset when the
// load wrote the tablet, with no rowset when it did not. A replica that
// lacks the rowset (Missing) or the previous version (Gap) says so and
// stays behind, lagging; a reader at a version above a tablet's is
// refused with ErrVersionMissing, so that the query can try another
// replica; a clone (clone.go) brings a lagging replica up to date from a
// healthy one.
//
// The version is recorded in bucket "tablets" (docs/format.md, "Tablet
// records") by the bbolt transaction that changes it: a publish, a clone,
// a rebuild. A tablet without a record has no known version: every
// tablet of a store of an older format until AdoptVersions gives it one,
// and a tablet this store was never told of. A store opened without
// Options.Strict (the embedded server) reads it unchecked, as before
// versions were kept. A strict store (a backend of a cluster) reads it as
// at version 1, a partition's empty one: a read above 1 is refused (Held
// 1), so that a replica that never received a tablet does not pass for an
// empty one. Publishes treat it alike in both (see PublishReplica).
// EnsureTablet, or the first PublishReplica naming a tablet the store
// holds nothing of, records version 1; AdoptVersions records another (the
// version of a partition an index or a replica is added to).
//
// Lenient tablets. The tablets of an index being built (a rollup's, a
// materialized view's, a heavy schema change's shadow index) are created
// while their partition has versions already, and an alter job later
// replaces everything in them up to a version V_r by converted rows
// (PublishRebuild); until then their history below V_r does not matter,
// but loads publish to them and their rows above V_r must be kept. The
// frontend marks their publishes lenient (PublishTablet.Lenient): such a
// tablet that has no record or lags (a Gap) is taken to be at the version
// before the publish's, and the publish goes on. A lenient publish that
// finds the load's rowset missing here (Missing) cannot be absorbed the
// same way, since the rows of that version may lie above V_r: the tablet
// is marked broken in its record, and is never lenient again, so that it
// lags and is repaired; a clone that installs clears the mark (a rebuild
// does not: rows above its version may still be missing).
//
// INVARIANTS: a tablet whose version V is known has no visible rowset
// ending above V; its version never goes down but through a full clone of
// a higher one; a broken tablet has a record.

var bucketTablets = []byte("tablets") // tabletID(8) -> tabletRecord JSON

// tabletRecord is a tablet's record in bucket "tablets".
type tabletRecord struct {
	FormatVersion int   `json:"format_version"`
	Version       int64 `json:"version"`
	// Broken: a lenient publish found a rowset of the tablet missing (see
	// "Lenient tablets"); later ones are not lenient. Cleared by a clone.
	Broken bool `json:"broken,omitempty"`
}

func tabletKey(tabletID int64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(tabletID))
	return k
}

// putTabletVersion writes a tablet's record.
func putTabletVersion(tx *bolt.Tx, tabletID, version int64, broken bool) error {
	v, err := json.Marshal(tabletRecord{FormatVersion: rowsetFormatCurrent, Version: version, Broken: broken})
	if err != nil {
		return err
	}
	return tx.Bucket(bucketTablets).Put(tabletKey(tabletID), v)
}

func decodeTabletRecord(k, v []byte) (int64, tabletRecord, error) {
	var r tabletRecord
	if len(k) != 8 {
		return 0, r, fmt.Errorf("tablet record key of %d bytes", len(k))
	}
	id := int64(binary.BigEndian.Uint64(k))
	if err := json.Unmarshal(v, &r); err != nil {
		return id, r, fmt.Errorf("tablet record of tablet %d: %w", id, err)
	}
	// Tablet records appeared with format 6.
	if r.FormatVersion < rowsetFormatV6 || r.FormatVersion > rowsetFormatCurrent {
		return id, r, fmt.Errorf("tablet record of tablet %d: unknown metadata format %d", id, r.FormatVersion)
	}
	if r.Version < 1 {
		return id, r, fmt.Errorf("tablet record of tablet %d: version %d", id, r.Version)
	}
	return id, r, nil
}

// recoverVersions reads the tablets' versions, after their rowsets. A
// version below a visible rowset's (a binary that did not keep versions
// published after it) is forgotten: the tablet waits for AdoptVersions.
func (s *Store) recoverVersions(tx *bolt.Tx) error {
	b, err := tx.CreateBucketIfNotExists(bucketTablets)
	if err != nil {
		return err
	}
	var stale [][]byte
	err = b.ForEach(func(k, v []byte) error {
		id, r, err := decodeTabletRecord(k, v)
		if err != nil {
			return err
		}
		t := s.tabletLocked(id)
		if end := lastEnd(t); end > r.Version {
			s.log.Warn("forgetting a tablet version below its rowsets", "tablet", id, "version", r.Version, "rowsets_end", end)
			stale = append(stale, slices.Clone(k))
			return nil
		}
		t.version, t.broken = r.Version, r.Broken
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range stale {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// lastEnd is the highest version a visible rowset of t holds (0: none).
// Store.mu is held. The visible list need not be sorted yet.
func lastEnd(t *tablet) int64 {
	var end int64
	for _, rs := range t.visible {
		end = max(end, rs.meta.EndVersion)
	}
	return end
}

// VersionMissingError is the error of a read (or a clone's source) at a
// version this replica does not hold yet: its tablet lags, and another
// replica may serve the version. It matches ErrVersionMissing.
type VersionMissingError struct {
	TabletID int64
	Version  int64 // asked for
	// Held is the tablet's version here: a strict store's tablet without
	// a record is at 1. 0: the tablet is not held (a clone source of
	// another store).
	Held int64
}

func (e *VersionMissingError) Error() string {
	if e.Held == 0 {
		return fmt.Sprintf("tabletstore: version missing: tablet %d is not held here (asked for version %d)", e.TabletID, e.Version)
	}
	return fmt.Sprintf("tabletstore: version missing: tablet %d cannot be read at version %d, this replica holds versions up to %d",
		e.TabletID, e.Version, e.Held)
}

// Is makes errors.Is(err, ErrVersionMissing) true.
func (e *VersionMissingError) Is(target error) bool { return target == ErrVersionMissing }

// TabletVersion returns a tablet's version: every version up to it is
// held here. known is false for a tablet without one (see the package's
// "Replica versions"), which a strict store reads as at version 1 and
// another serves without version checks.
func (s *Store) TabletVersion(tabletID int64) (v int64, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tablets[tabletID]; t != nil && t.version > 0 {
		return t.version, true
	}
	return 0, false
}

// heldLocked is the version a read of a tablet (nil: nothing of it here)
// is checked against: its version, or 1 in a strict store for a tablet
// without one; 0: reads are not checked. Store.mu is held.
func (s *Store) heldLocked(t *tablet) int64 {
	switch {
	case t != nil && t.version > 0:
		return t.version
	case s.strict:
		return 1
	}
	return 0
}

// EnsureTablet tells the store that it holds a replica of a tablet of a
// partition at its empty initial version: a tablet without a version gets
// version 1. A tablet that has one already, or that holds visible rowsets
// without one (a store of an older format), is left alone; the latter
// waits for AdoptVersions.
func (s *Store) EnsureTablet(tabletID int64) error {
	s.mu.Lock()
	t := s.tabletLocked(tabletID)
	s.mu.Unlock()
	t.pubMu.Lock()
	defer t.pubMu.Unlock()
	s.mu.Lock()
	skip := t.version > 0 || len(t.visible) > 0
	s.mu.Unlock()
	if skip {
		return nil
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return putTabletVersion(tx, tabletID, 1, false) }); err != nil {
		return fmt.Errorf("tabletstore: recording tablet %d: %w", tabletID, err)
	}
	s.mu.Lock()
	t.version = 1
	s.mu.Unlock()
	return nil
}

// AdoptVersions gives each tablet of versions that has no version the one
// given (at least 1), in one bbolt transaction: the caller vouches that
// this store holds every version of the tablet up to it, as the embedded
// server does at start-up with each partition's visible version (one
// backend holds every tablet). A tablet with visible rowsets above the
// version given takes the highest of those: publishes reach the backend
// before the partition's visible version moves. Tablets that have a
// version keep it.
func (s *Store) AdoptVersions(versions map[int64]int64) error {
	ids := make([]int64, 0, len(versions))
	for id := range versions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	s.mu.Lock()
	ts := make([]*tablet, len(ids))
	for i, id := range ids {
		ts[i] = s.tabletLocked(id)
	}
	s.mu.Unlock()
	for _, t := range ts {
		t.pubMu.Lock()
		defer t.pubMu.Unlock()
	}
	set := map[*tablet]int64{}
	s.mu.Lock()
	for i, t := range ts {
		if t.version == 0 {
			set[t] = max(versions[ids[i]], 1, lastEnd(t))
		}
	}
	s.mu.Unlock()
	if len(set) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for t, v := range set {
			if err := putTabletVersion(tx, t.id, v, false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("tabletstore: recording tablet versions: %w", err)
	}
	s.mu.Lock()
	for t, v := range set {
		t.version = v
	}
	s.mu.Unlock()
	return nil
}

// PublishTablet is what a publish says of one tablet: the version the
// load gave its partition, and whether the load wrote the tablet.
type PublishTablet struct {
	Version int64
	Written bool
	// Lenient: the tablet belongs to an index being built, whose rows up
	// to some version an alter job will replace (see "Lenient tablets"):
	// a tablet without a record or with a Gap is published as if it were
	// at Version-1. Ignored for a broken tablet.
	Lenient bool `json:"lenient,omitempty"`
}

// TxnPublish is one transaction to publish on this replica: every tablet
// of the partitions it loaded that the replica holds.
type TxnPublish struct {
	TxnID   int64
	Tablets map[int64]PublishTablet
}

// TabletPublishResult is what a replica publish did with one tablet.
type TabletPublishResult int

const (
	// Published: the tablet moved to the version, with the load's rowset
	// when it wrote the tablet.
	Published TabletPublishResult = iota + 1
	// AlreadyVisible: the tablet held the version already (a publish
	// again, or a clone brought it).
	AlreadyVisible
	// Missing: the load wrote the tablet, but this replica has no pending
	// rowset of it; the tablet stays behind.
	Missing
	// Gap: the tablet's version is below the one before; it stays
	// behind, and a pending rowset of the load stays pending.
	Gap
)

func (r TabletPublishResult) String() string {
	switch r {
	case Published:
		return "published"
	case AlreadyVisible:
		return "already visible"
	case Missing:
		return "missing"
	case Gap:
		return "gap"
	}
	return fmt.Sprintf("TabletPublishResult(%d)", int(r))
}

// PublishReplica publishes transactions on this replica, in the order
// given (a tablet's versions ascending), in one bbolt transaction, and
// returns, parallel to txns, what became of each of their tablets. A tablet
// whose version is V-1 moves to the transaction's version V: from its
// pending rowset when the load wrote it (with the merge-on-write marks,
// the fill of a partial update and a DELETE's marks, as PublishTxns), with
// no rowset when it did not. One at V or above is AlreadyVisible (a
// pending rowset of the transaction it still has is dropped: its version
// is held without it). A written tablet with no pending rowset is Missing,
// one below V-1 is a Gap; both are left as they are and reported, not
// failed. A tablet the store holds nothing of and has no version for
// starts at version 1 (a partition's empty one), so a replica that joins
// late lags until a clone rather than publishing loads above a hole; a
// tablet with visible rowsets and no version (a store of an older format,
// before AdoptVersions) is published as PublishTxns does, unchecked,
// lenient or not.
//
// A lenient tablet (PublishTablet.Lenient) that is not broken is not
// held back by a Gap: it moves to V from below V-1 (from version 1 when
// it had no record) as from V-1, and is Published. When it is Missing it
// stays, as any tablet, and is marked broken in its record (see "Lenient
// tablets"): from then on its publishes are checked as strictly as any
// other's, until a clone clears the mark.
//
// The error is for the call as a whole (a record that cannot be written,
// a merge-on-write lookup that fails): nothing changed then.
func (s *Store) PublishReplica(txns []TxnPublish) ([]map[int64]TabletPublishResult, error) {
	return s.publish(txns, true)
}

// publishState is a tablet as one publish call moves it.
type publishState struct {
	t       *tablet
	version int64 // 0: not known
	broken  bool
	changed bool // version or broken differs from t's
	gained  bool // a rowset was made visible
}

// publish is PublishReplica (replica) and PublishTxns (!replica: a tablet
// counts as written when it has a pending rowset of the transaction).
func (s *Store) publish(txns []TxnPublish, replica bool) ([]map[int64]TabletPublishResult, error) {
	var ids []int64
	for _, tx := range txns {
		for id := range tx.Tablets {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	// The tablets, their publishes serialized: a merge-on-write tablet's
	// delete bitmaps are computed from the rowsets visible before, and
	// versions move one at a time.
	s.mu.Lock()
	locked := make(map[*tablet]bool, len(ids))
	var tablets []*tablet
	for _, id := range ids {
		t := s.tablets[id]
		if t == nil && replica {
			t = s.tabletLocked(id)
		}
		if t != nil {
			tablets = append(tablets, t)
			locked[t] = true
		}
	}
	s.mu.Unlock()
	for _, t := range tablets {
		t.pubMu.Lock()
		defer t.pubMu.Unlock()
	}

	results := make([]map[int64]TabletPublishResult, len(txns))
	states := map[int64]*publishState{}
	var flips []flip
	var drops []*rowset // pending rowsets whose version is held without them
	type note struct {
		rs *rowset
		v  int64
	}
	var notes []note
	var lags []string
	s.mu.Lock()
	for i, tx := range txns {
		res := make(map[int64]TabletPublishResult, len(tx.Tablets))
		results[i] = res
		tids := make([]int64, 0, len(tx.Tablets))
		for id := range tx.Tablets {
			tids = append(tids, id)
		}
		// Tablets in id order, so that the flips (and the marks computed
		// from them) come out the same way every time.
		slices.Sort(tids)
		for _, id := range tids {
			pt := tx.Tablets[id]
			v := pt.Version
			if replica && v < firstLoadVersion {
				s.mu.Unlock()
				return nil, fmt.Errorf("BUG: tabletstore: publishing txn %d at version %d in tablet %d", tx.TxnID, v, id)
			}
			st := states[id]
			if st == nil {
				t := s.tablets[id]
				if t == nil || !locked[t] {
					// Not held (legacy), or dropped since.
					res[id] = Published
					if replica && pt.Written {
						res[id] = Missing
					}
					continue
				}
				st = &publishState{t: t, version: t.version, broken: t.broken}
				states[id] = st
			}
			t := st.t
			rs := t.pending[tx.TxnID]
			written := pt.Written
			if !replica {
				written = rs != nil
			}
			if st.version == 0 && replica && len(t.visible) == 0 {
				// Told of the tablet for the first time, holding nothing
				// of it: it is at a partition's empty version.
				st.version, st.changed = 1, true
			}
			if st.version == 0 {
				r, f, err := publishUnversioned(t, rs, tx.TxnID, v, written)
				if err != nil {
					s.mu.Unlock()
					return nil, err
				}
				if f != nil {
					flips = append(flips, *f)
					st.gained = true
				}
				res[id] = r
				continue
			}
			// A lenient tablet below v-1 goes on as from v-1.
			lenient := replica && pt.Lenient && !st.broken
			switch {
			case st.version >= v:
				res[id] = AlreadyVisible
				if rs != nil {
					drops = append(drops, rs)
				}
			case st.version < v-1 && !lenient:
				res[id] = Gap
				if rs != nil {
					notes = append(notes, note{rs, v})
				}
				lags = append(lags, fmt.Sprintf("tablet %d at version %d for txn %d at %d", id, st.version, tx.TxnID, v))
			case written && rs == nil:
				res[id] = Missing
				lags = append(lags, fmt.Sprintf("tablet %d lacks the rowset of txn %d at %d", id, tx.TxnID, v))
				if lenient {
					// Its rows may lie above the rebuild's version: no
					// lenient publish may pass over this one.
					s.log.Warn("a tablet of an index being built lacks the rowset of a load; marking it broken",
						"tablet", id, "txn", tx.TxnID, "version", v)
					st.broken, st.changed = true, true
				}
			default:
				if rs != nil && written {
					m := rs.meta
					m.State = Visible
					m.StartVersion, m.EndVersion = v, v
					flips = append(flips, flip{t, rs, m, tx.TxnID})
					st.gained = true
				} else if rs != nil {
					// The frontend did not count this replica's rowset
					// (its other replicas have none): the version moves
					// without it, as on them.
					s.log.Warn("dropping the rowset of a load that did not write the tablet", "tablet", id, "txn", tx.TxnID, "version", v)
					drops = append(drops, rs)
				}
				st.version, st.changed = v, true
				res[id] = Published
			}
		}
	}
	// The bases of the marks: the rowsets visible before the call.
	base := map[*tablet][]*rowset{}
	for _, f := range flips {
		if f.m.Model != nil && f.m.Model.MergeOnWrite || f.m.Delete != nil {
			if _, ok := base[f.t]; !ok {
				base[f.t] = slices.Clone(f.t.visible)
			}
		}
	}
	s.mu.Unlock()
	if !replica && len(lags) > 0 {
		s.log.Warn("tablets stay behind at publish", "tablets", lags)
	}

	var ms markSet
	var fills []*partialFill
	undo := func() {
		for _, pf := range fills {
			pf.undo(s)
		}
	}
	for i := range flips {
		f := &flips[i]
		b, ok := base[f.t]
		if !ok {
			continue
		}
		var pf *partialFill
		var err error
		if f.m.Delete != nil {
			err = s.deletePublish(b, f.rs, f.m.StartVersion, &ms)
		} else if f.m.Model != nil && f.m.Model.MergeOnWrite {
			pf, err = s.mowPublish(b, f.rs, f.m.StartVersion, &ms)
		}
		if err != nil {
			undo()
			return nil, fmt.Errorf("tabletstore: publishing txn %d in tablet %d: %w", f.txnID, f.t.id, err)
		}
		if pf != nil {
			fills = append(fills, pf)
			f.m.Segments, f.m.Partial = f.rs.meta.Segments, nil
		}
		base[f.t] = append(b, f.rs)
	}
	changed := false
	for _, st := range states {
		changed = changed || st.changed
	}
	if len(flips) > 0 || len(drops) > 0 || changed {
		err := s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketRowsets)
			for _, f := range flips {
				v, err := encodeRowsetMeta(f.m)
				if err != nil {
					return err
				}
				if err := b.Put(rowsetKey(f.m.TabletID, f.m.ID), v); err != nil {
					return err
				}
			}
			for _, rs := range drops {
				if err := b.Delete(rowsetKey(rs.meta.TabletID, rs.meta.ID)); err != nil {
					return err
				}
			}
			for id, st := range states {
				if st.changed {
					if err := putTabletVersion(tx, id, st.version, st.broken); err != nil {
						return err
					}
				}
			}
			return putMarks(tx, ms.list)
		})
		if err != nil {
			undo()
			what := "publishing"
			if len(txns) > 0 {
				what = fmt.Sprintf("publishing txn %d", txns[0].TxnID)
			}
			return nil, fmt.Errorf("tabletstore: %s: %w", what, err)
		}
	}
	for _, pf := range fills {
		pf.done()
	}
	s.mu.Lock()
	for _, f := range flips {
		f.rs.meta = f.m
		delete(f.t.pending, f.txnID)
		i := sort.Search(len(f.t.visible), func(i int) bool { return f.t.visible[i].meta.StartVersion > f.m.StartVersion })
		f.t.visible = slices.Insert(f.t.visible, i, f.rs)
	}
	for _, rs := range drops {
		if t := s.tablets[rs.meta.TabletID]; t != nil && t.pending[rs.meta.TxnID] == rs {
			delete(t.pending, rs.meta.TxnID)
		}
	}
	for _, st := range states {
		if st.changed {
			st.t.version, st.t.broken = st.version, st.broken
		}
	}
	for _, n := range notes {
		n.rs.publishAt = n.v
	}
	addMarks(ms.list)
	s.mu.Unlock()
	for _, rs := range drops {
		if err := removeFiles(rs.dir, rs.meta.Segments); err != nil {
			// The next Open deletes them: no record references them.
			s.log.Warn("deleting the files of a dropped pending rowset", "tablet", rs.meta.TabletID, "rowset", rs.meta.ID, "err", err)
		}
	}
	gained := make([]int64, 0, len(states))
	for id, st := range states {
		if st.gained {
			gained = append(gained, id)
		}
	}
	slices.Sort(gained)
	for _, id := range gained {
		s.requestCompaction(id)
	}
	return results, nil
}

// publishUnversioned decides the publish of a transaction at version v in
// a tablet without a known version, as before versions were kept: a
// pending rowset is made visible, provided v lies above every visible
// range. Store.mu is held.
func publishUnversioned(t *tablet, rs *rowset, txnID, v int64, written bool) (TabletPublishResult, *flip, error) {
	if rs == nil {
		for _, o := range t.visible {
			if o.meta.TxnID == txnID && o.meta.StartVersion == v {
				return AlreadyVisible, nil, nil
			}
		}
		if written {
			return Missing, nil, nil
		}
		return Published, nil, nil
	}
	// Versions of a partition are published in order, so v lies above
	// every visible range; anything else would make ranges overlap.
	if i := sort.Search(len(t.visible), func(i int) bool { return t.visible[i].meta.EndVersion >= v }); i < len(t.visible) && t.visible[i].meta.StartVersion <= v {
		o := &t.visible[i].meta
		return 0, nil, fmt.Errorf("tabletstore: publishing txn %d at version %d: tablet %d already holds versions [%d-%d] (rowset %d)",
			txnID, v, t.id, o.StartVersion, o.EndVersion, o.ID)
	}
	m := rs.meta
	m.State = Visible
	m.StartVersion, m.EndVersion = v, v
	return Published, &flip{t, rs, m, txnID}, nil
}

// TabletInfo is what the store reports of one tablet.
type TabletInfo struct {
	TabletID int64
	// Version is the tablet's version (see TabletVersion); 0: not known.
	Version  int64
	Rowsets  int   // visible
	Rows     int64 // in the visible rowsets (rows later replaced included)
	DataSize int64 // bytes of the visible rowsets' segment files
	// Pending: the tablet has rowsets of transactions not yet published.
	Pending bool
	// Broken: a lenient publish found a rowset of the tablet missing (see
	// "Lenient tablets"); it is repaired by a clone.
	Broken bool
}

// TabletReport describes every tablet the store holds anything of (a
// version, visible or pending rowsets), by id, for the backend's periodic
// report.
func (s *Store) TabletReport() []TabletInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TabletInfo, 0, len(s.tablets))
	for id, t := range s.tablets {
		if t.version == 0 && len(t.visible) == 0 && len(t.pending) == 0 {
			continue
		}
		ti := TabletInfo{TabletID: id, Version: t.version, Rowsets: len(t.visible), Pending: len(t.pending) > 0, Broken: t.broken}
		for _, rs := range t.visible {
			ti.Rows += rs.meta.NumRows
			ti.DataSize += rs.meta.DataSize()
		}
		out = append(out, ti)
	}
	slices.SortFunc(out, func(a, b TabletInfo) int { return cmp.Compare(a.TabletID, b.TabletID) })
	return out
}

package tabletstore

import (
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Rebuilt tablets.
//
// A rollup or materialized view added to a table that holds rows gets
// them by conversion: an alter job reads the base tablet at a version V,
// computes the index's rows and writes them, through a delta writer under
// an id of its own, as a pending rowset of the index's tablet. Loads
// began writing that tablet before V (so that none is missed), so it
// already holds rowsets of versions up to V, whose rows the conversion
// holds too, and maybe some above V. PublishRebuild makes the converted
// rowset visible covering [2, V] in place of every rowset ending at or
// below V; those above stay.
//
// On a replica the tablet's publishes were lenient (replica.go, "Lenient
// tablets"): its version history below V did not matter, and after the
// rebuild it holds every version up to V. A tablet below V (or, in a
// strict store, without a record) is raised to V; one above keeps its
// version and the rowsets it published above V. A broken mark stays: the
// rows of a version above V may be missing.

// firstLoadVersion is the first version a load gives a partition (version 1
// is a new partition's empty one).
const firstLoadVersion = 2

// ErrRebuildConflict: a visible rowset of the tablet straddles the version
// of a rebuild (a compaction merged versions on both sides of it); the
// caller converts again at a later version.
var ErrRebuildConflict = errors.New("tabletstore: a rowset straddles the rebuild version")

// PublishRebuild makes the pending rowset txnID wrote in a tablet visible
// at versions [2, version], replacing the visible rowsets that end at or
// below version; without such a pending rowset (the conversion found no
// rows), those rowsets are removed alone, unless a visible rowset holds
// txnID's rows already: the rebuild ran before (a conversion redone after a
// crash, whose rows missed this replica), or a clone of a rebuilt replica
// brought them and dropped the pending ones; nothing changes then. The
// tablet's version is raised to version when it is below (see "Rebuilt
// tablets"). The conditions of DELETEs published above version are applied
// to the new rowset, as a compaction does at its swap. The replaced rowsets
// stay readable until the sweep, as compaction inputs do. It fails with
// ErrCompactionConflict while the tablet is being compacted and with
// ErrRebuildConflict when a rowset straddles version; nothing changes then.
func (s *Store) PublishRebuild(tabletID, txnID, version int64) error {
	if version < firstLoadVersion {
		return fmt.Errorf("BUG: tabletstore: rebuild of tablet %d at version %d", tabletID, version)
	}
	s.mu.Lock()
	t := s.tablets[tabletID]
	if t == nil && s.strict {
		t = s.tabletLocked(tabletID) // at version 1: raised below
	}
	s.mu.Unlock()
	if t == nil {
		return nil // no load wrote it, and the conversion found no rows
	}
	t.pubMu.Lock()
	defer t.pubMu.Unlock()

	s.mu.Lock()
	if t.compacting {
		s.mu.Unlock()
		return fmt.Errorf("tabletstore: rebuilding tablet %d: a compaction is running: %w", tabletID, ErrCompactionConflict)
	}
	rs := t.pending[txnID]
	if rs == nil && slices.ContainsFunc(t.visible, func(v *rowset) bool { return v.meta.TxnID == txnID }) {
		s.mu.Unlock()
		return nil
	}
	n := 0
	for n < len(t.visible) && t.visible[n].meta.EndVersion <= version {
		n++
	}
	if n < len(t.visible) && t.visible[n].meta.StartVersion <= version {
		o := t.visible[n].meta
		s.mu.Unlock()
		return fmt.Errorf("tabletstore: rebuilding tablet %d at version %d: rowset %d holds versions [%d-%d]: %w",
			tabletID, version, o.ID, o.StartVersion, o.EndVersion, ErrRebuildConflict)
	}
	inputs := slices.Clone(t.visible[:n])
	later := slices.Clone(t.visible[n:])
	// A known version below the rebuild's: the tablet holds no rowset
	// above it, and will hold every version up to it. Without a record,
	// a strict store's tablet is at 1; it is raised unless rowsets above
	// the rebuild's version (published unchecked) say otherwise.
	raise := t.version > 0 && t.version < version || t.version == 0 && s.strict && len(later) == 0
	if rs == nil && len(inputs) == 0 && !raise {
		s.mu.Unlock()
		return nil
	}
	t.compacting = true // no compaction takes the inputs meanwhile
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		t.compacting = false
		s.mu.Unlock()
	}()

	// A merge-on-write tablet's rowsets above the version lose the marks
	// computed against the inputs and are marked again (remarkAbove).
	mow := false
	if rs != nil {
		mow = rs.meta.Model != nil && rs.meta.Model.MergeOnWrite
	} else if len(later) > 0 {
		mow = later[0].meta.Model != nil && later[0].meta.Model.MergeOnWrite
	}
	remark := mow && len(later) > 0 && (rs != nil || len(inputs) > 0)
	var carried []*newMark
	var m RowsetMeta
	if rs != nil {
		pendingMeta := rs.meta
		m = rs.meta
		m.State, m.StartVersion, m.EndVersion = Visible, firstLoadVersion, version
		// DELETEs published above the version marked the replaced
		// rowsets, not these rows: apply them here too. The marks name
		// rs, which readers cannot reach while it is pending.
		s.mu.Lock()
		rs.meta = m
		s.mu.Unlock()
		c := &Compaction{s: s, t: t}
		var err error
		if remark {
			carried, err = s.remarkAbove(rs, later)
		} else if !mow {
			carried, err = c.carryDeletes(rs)
		}
		if err != nil {
			s.mu.Lock()
			rs.meta = pendingMeta
			s.mu.Unlock()
			return fmt.Errorf("tabletstore: rebuilding tablet %d: %w", tabletID, err)
		}
		defer func() {
			if m.State != Visible {
				s.mu.Lock()
				rs.meta = pendingMeta
				s.mu.Unlock()
			}
		}()
	} else if remark {
		var err error
		if carried, err = s.remarkAbove(nil, later); err != nil {
			return fmt.Errorf("tabletstore: rebuilding tablet %d: %w", tabletID, err)
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRowsets)
		for _, in := range inputs {
			if err := b.Delete(rowsetKey(t.id, in.meta.ID)); err != nil {
				return err
			}
			if in.marks != nil {
				if err := deletePrefix(tx.Bucket(bucketDeleteBitmaps), rowsetKey(t.id, in.meta.ID)); err != nil {
					return err
				}
			}
		}
		if remark {
			for _, l := range later {
				if err := deletePrefix(tx.Bucket(bucketDeleteBitmaps), rowsetKey(t.id, l.meta.ID)); err != nil {
					return err
				}
			}
		}
		if raise {
			if err := putTabletVersion(tx, t.id, version, t.broken); err != nil {
				return err
			}
		}
		if err := putMarks(tx, carried); err != nil {
			return err
		}
		if rs == nil {
			return nil
		}
		v, err := encodeRowsetMeta(m)
		if err != nil {
			return err
		}
		return b.Put(rowsetKey(t.id, m.ID), v)
	})
	if err != nil {
		m.State = Pending // restores the pending rowset's record
		return fmt.Errorf("tabletstore: recording the rebuild of tablet %d at version %d: %w", tabletID, version, err)
	}
	s.mu.Lock()
	// Publishes add rowsets above every range, and the tablet was held:
	// the inputs are still the first visible rowsets.
	if len(t.visible) < n || !slices.Equal(t.visible[:n], inputs) {
		s.mu.Unlock()
		panic(fmt.Sprintf("BUG: tabletstore: the rowsets of tablet %d changed during its rebuild", tabletID))
	}
	if raise {
		t.version = version
	}
	if remark {
		for _, l := range later {
			l.marks, l.delCache = nil, nil
		}
	}
	if rs != nil {
		rs.inputs = inputs
		delete(t.pending, txnID)
		t.visible = slices.Replace(t.visible, 0, n, rs)
	} else {
		t.visible = slices.Delete(t.visible, 0, n)
	}
	addMarks(carried)
	if len(inputs) > 0 {
		holder := rs
		if holder == nil {
			holder = &rowset{}
		}
		t.stale = append(t.stale, &staleGroup{output: holder, inputs: inputs, at: s.now()})
		for _, in := range inputs {
			in.retire()
		}
	}
	s.mu.Unlock()
	s.sweepTablet(tabletID)
	s.requestCompaction(tabletID)
	return nil
}

// remarkAbove computes the delete marks of a merge-on-write tablet's
// rowsets from the rebuilt one (nil: the conversion found no rows) up:
// each rowset published above the rebuild, in version order, is published
// again against the rebuilt rowset and those before it, as a clone's
// rowsets are (a DELETE's condition marks the rows it matches), and the
// marks returned replace every recorded mark of those rowsets. The
// recorded ones were computed against the rowsets the rebuild replaces,
// which hold the converted rows' keys but maybe not their sequence values
// (a row of a later load that lost to one of them by its sequence value
// is marked at its own version), and, on a replica whose publishes were
// lenient, maybe not their rows at all. The tablet's publish lock is
// held.
func (s *Store) remarkAbove(rebuilt *rowset, later []*rowset) ([]*newMark, error) {
	ms := markSet{recompute: make(map[*rowset]bool, len(later))}
	var base []*rowset
	if rebuilt != nil {
		base = append(base, rebuilt)
	}
	for _, rs := range later {
		ms.recompute[rs] = true
	}
	for _, rs := range later {
		var err error
		switch {
		case rs.meta.Delete != nil:
			err = s.deletePublish(base, rs, rs.meta.StartVersion, &ms)
		case len(rs.meta.Segments) > 0:
			_, err = s.mowPublish(base, rs, rs.meta.StartVersion, &ms)
		}
		if err != nil {
			return nil, fmt.Errorf("marking the rows rowset %d replaced: %w", rs.meta.ID, err)
		}
		base = append(base, rs)
	}
	return ms.list, nil
}

// SetCompactionHold installs fn, which reports the tablets BeginCompaction
// must refuse (ErrCompactionConflict): those an alter job is converting
// rows into. A compaction of such a tablet would merge versions on both
// sides of the version the conversion reads, which PublishRebuild could
// not replace (ErrRebuildConflict). nil removes it.
func (s *Store) SetCompactionHold(fn func(tabletID int64) bool) {
	if fn == nil {
		s.hold.Store(nil)
		return
	}
	s.hold.Store(&fn)
}

func (s *Store) held(tabletID int64) bool {
	fn := s.hold.Load()
	return fn != nil && (*fn)(tabletID)
}

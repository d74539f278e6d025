package tabletstore

import (
	"sync/atomic"

	"github.com/strata-db/strata/storage"
)

// writeCounters count the rowsets delta writers recorded since the store
// opened (see addPending): what loads, INSERTs and alter-job conversions
// wrote into this backend's tablets, one rowset per tablet and
// transaction.
type writeCounters struct {
	rowsets, rows, bytes atomic.Int64
}

// add counts a rowset recorded as pending.
func (c *writeCounters) add(m *RowsetMeta) {
	c.rowsets.Add(1)
	c.rows.Add(m.NumRows)
	c.bytes.Add(m.DataSize())
}

// StoreStats is what a store holds now, for metrics. Counts cover every
// tablet the store knows; stale rowsets (replaced by a compaction, kept
// for readers) are counted apart from visible ones.
type StoreStats struct {
	Tablets int
	// Rowsets and Segments are the visible rowsets and their segment
	// files; Rows and DataBytes what they hold.
	Rowsets, Segments int
	Rows, DataBytes   int64
	// PendingRowsets belong to transactions not yet published or aborted;
	// StaleRowsets were replaced by compactions and wait to be swept.
	PendingRowsets, StaleRowsets int
	// VersionCounts holds, for every tablet with visible rowsets, how many
	// it has: the versions a read of it merges.
	VersionCounts []int
	// MaxVersion is the highest version any tablet holds.
	MaxVersion int64
	// WrittenRowsets, WrittenRows and WrittenBytes count the rowsets
	// writers recorded since the store opened, their rows and the bytes of
	// their segment files.
	WrittenRowsets, WrittenRows, WrittenBytes int64
}

// Stats returns what the store holds now. It takes the store's lock for
// one pass over the tablets and their rowset lists (no file is read).
func (s *Store) Stats() StoreStats {
	st := StoreStats{
		WrittenRowsets: s.written.rowsets.Load(),
		WrittenRows:    s.written.rows.Load(),
		WrittenBytes:   s.written.bytes.Load(),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st.VersionCounts = make([]int, 0, len(s.tablets))
	for _, t := range s.tablets {
		if t.version == 0 && len(t.visible) == 0 && len(t.pending) == 0 {
			continue
		}
		st.Tablets++
		st.MaxVersion = max(st.MaxVersion, t.version)
		st.PendingRowsets += len(t.pending)
		for _, g := range t.stale {
			st.StaleRowsets += len(g.inputs)
		}
		if len(t.visible) == 0 {
			continue
		}
		st.VersionCounts = append(st.VersionCounts, len(t.visible))
		for _, rs := range t.visible {
			st.Rowsets++
			st.Segments += len(rs.meta.Segments)
			st.Rows += rs.meta.NumRows
			st.DataBytes += rs.meta.DataSize()
			st.MaxVersion = max(st.MaxVersion, rs.meta.EndVersion)
		}
	}
	return st
}

// PageCache returns the cache segments read their pages through, nil if
// none (see SetPageCache).
func (s *Store) PageCache() *storage.PageCache { return s.cache }

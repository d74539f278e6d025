package tabletstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// ErrTabletBusy: DropTablet found the tablet compacting or read; try again
// later.
var ErrTabletBusy = errors.New("tabletstore: tablet is in use")

// Tablets lists every tablet the store holds anything of (a version,
// visible or pending rowsets), ascending.
func (s *Store) Tablets() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int64, 0, len(s.tablets))
	for id, t := range s.tablets {
		if t.version > 0 || len(t.visible) > 0 || len(t.pending) > 0 || len(t.stale) > 0 {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// DropTablet deletes a tablet that no table holds any more: its rowset
// records and version (one bbolt transaction), then its files and
// directory. A tablet being compacted or with a pinned rowset is left
// alone with ErrTabletBusy. Unknown tablets are nothing to do. A crash
// midway leaves files no record references, which the next start removes.
func (s *Store) DropTablet(tabletID int64) error {
	s.mu.Lock()
	t := s.tablets[tabletID]
	if t == nil {
		s.mu.Unlock()
		return nil
	}
	var all []*rowset
	all = append(all, t.visible...)
	for _, rs := range t.visible {
		all = append(all, rs.inputs...)
	}
	for _, g := range t.stale {
		all = append(all, g.inputs...)
	}
	for _, rs := range t.pending {
		all = append(all, rs)
	}
	if t.compacting || pinned(all) {
		s.mu.Unlock()
		return fmt.Errorf("dropping tablet %d: %w", tabletID, ErrTabletBusy)
	}
	// From here no reader can reach the rowsets: Acquire runs under s.mu.
	delete(s.tablets, tabletID)
	for _, rs := range all {
		rs.mu.Lock()
		rs.dead = true
		rs.closeLocked()
		rs.mu.Unlock()
	}
	s.mu.Unlock()
	for _, rs := range all {
		s.pks.forget(rs)
	}

	prefix := make([]byte, 8)
	binary.BigEndian.PutUint64(prefix, uint64(tabletID))
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketRowsets, bucketDeleteBitmaps} {
			if err := deletePrefix(tx.Bucket(name), prefix); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketTablets).Delete(prefix)
	})
	if err != nil {
		return fmt.Errorf("tabletstore: dropping tablet %d: %w", tabletID, err)
	}
	s.dirMu.Lock()
	delete(s.durable, tabletID)
	s.dirMu.Unlock()
	if err := os.RemoveAll(s.tabletDir(tabletID)); err != nil {
		return fmt.Errorf("tabletstore: removing the files of tablet %d: %w", tabletID, err)
	}
	return nil
}

// deletePrefix deletes the keys of b that start with prefix.
func deletePrefix(b *bolt.Bucket, prefix []byte) error {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, slices.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

package tabletstore

import (
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/storage"
)

// Delete predicates.
//
// A DELETE on a tablet whose loads do not replace rows by key (duplicate,
// aggregate and merge-on-read unique keys) is a transaction whose rowset
// in each tablet holds no rows, only the condition (RowsetMeta.Delete).
// When it is published at version v, the rows of the tablet's older
// rowsets that satisfy it are marked in the delete bitmaps at v, as a
// merge-on-write publish marks the rows it replaces: a reader at v or later
// skips them, an older one still sees them, and the marks are recorded in
// the same bbolt transaction. Evaluating the condition once at publish
// keeps reads free of it. A compaction leaves out the rows marked at
// versions up to its output's last; at its swap, the conditions published
// after that version are evaluated again on the output, so that its rows
// carry the marks its inputs' rows had. On aggregate and merge-on-read
// tablets a condition names key columns only, so it marks every row of a
// key alike and the rows a compaction folds together stay marked alike.

// AddDelete records, under a transaction, the condition of a DELETE on a
// tablet (see "Delete predicates"). The columns it names must be in the
// schema.
func (s *Store) AddDelete(tabletID, txnID int64, schema Schema, pred storage.DeletePredicate) error {
	if schema.Model.MergeOnWrite {
		return fmt.Errorf("tabletstore: tablet %d: a merge-on-write tablet deletes by key, not by condition", tabletID)
	}
	if len(pred.Conditions) == 0 {
		return fmt.Errorf("tabletstore: tablet %d: a delete without a condition", tabletID)
	}
	for _, id := range pred.Columns() {
		found := false
		for _, c := range schema.Columns {
			found = found || c.ID == id
		}
		if !found {
			return fmt.Errorf("tabletstore: tablet %d: the delete condition names column %d, which the schema lacks", tabletID, id)
		}
	}
	if err := s.admitWriter(tabletID); err != nil {
		return err
	}
	id, err := s.nextRowsetID()
	if err != nil {
		return fmt.Errorf("tabletstore: allocating rowset id: %w", err)
	}
	return s.addPending(RowsetMeta{
		ID: id, TabletID: tabletID, TxnID: txnID, SchemaVersion: schema.SchemaVersion, NumKeys: schema.NumKeys,
		Model: schema.Model.meta(schema.Columns), Delete: &pred, CreateTime: time.Now().UnixMilli(),
	})
}

// deletePublish marks, at version v, the rows of the rowsets base (those
// visible before v) that the condition of the delete rowset rs deletes.
// The tablet's publish lock is held.
func (s *Store) deletePublish(base []*rowset, rs *rowset, v int64, ms *markSet) error {
	for _, b := range base {
		if err := s.markMatching(b, rs.meta.Delete, v, ms); err != nil {
			return fmt.Errorf("applying the delete of rowset %d to rowset %d: %w", rs.meta.ID, b.meta.ID, err)
		}
	}
	return nil
}

// markMatching marks at version v the rows of rs that pred deletes.
func (s *Store) markMatching(rs *rowset, pred *storage.DeletePredicate, v int64, ms *markSet) error {
	if len(rs.meta.Segments) == 0 {
		return nil
	}
	segs, err := rs.open(s.cache)
	if err != nil {
		return err
	}
	ids := pred.Columns()
	for j, seg := range segs {
		rows := roaring.New()
		for p := range seg.NumPages() {
			first, n := seg.PageRange(p)
			cols := make(map[uint32]arrow.Array, len(ids))
			err := func() error {
				for _, id := range ids {
					cr := seg.Column(id)
					if cr == nil {
						continue
					}
					a, err := cr.ReadPage(p, memory.DefaultAllocator)
					if err != nil {
						return err
					}
					cols[id] = a
				}
				return pred.Match(cols, n, uint32(first), rows)
			}()
			for _, a := range cols {
				a.Release()
			}
			if err != nil {
				return err
			}
		}
		if !rows.IsEmpty() {
			ms.addRows(segRef{rs, j}, v, rows)
		}
	}
	return nil
}

// carryDeletes evaluates, on the output of a compaction of a tablet that
// deletes by condition, the conditions published at versions above the
// output's: its inputs' rows were marked by them. The tablet's publish
// lock is held.
func (c *Compaction) carryDeletes(out *rowset) ([]*newMark, error) {
	end := out.meta.EndVersion
	c.s.mu.Lock()
	var later []*rowset
	for _, rs := range c.t.visible {
		if rs.meta.Delete != nil && rs.meta.StartVersion > end {
			later = append(later, rs)
		}
	}
	c.s.mu.Unlock()
	defer out.closeFiles()
	var ms markSet
	for _, d := range later {
		if err := c.s.markMatching(out, d.meta.Delete, d.meta.StartVersion, &ms); err != nil {
			return nil, fmt.Errorf("tabletstore: compacting tablet %d: applying the delete of rowset %d: %w", c.t.id, d.meta.ID, err)
		}
	}
	return ms.list, nil
}

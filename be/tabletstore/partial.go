package tabletstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/storage"
)

// Partial column update.
//
// A load into a merge-on-write tablet may give only some columns: the
// keys, the columns it updates, and perhaps the delete sign or sequence.
// Its rows carry placeholders in the other columns (the column's default,
// NULL, or a zero value where the column has neither), and its rowset
// records which columns it gave (RowsetMeta.Partial). The other columns
// are filled when the rowset is published, under the tablet's publish
// lock: every key is looked up as the delete bitmaps are computed, and
// where a live row holds it the row's values are copied into the new row.
// The filled segment is written as a new file and replaces the partial one
// in the rowset record that makes it visible, so that readers, compaction
// and later lookups see whole rows only. Filling at publish rather than at
// flush means a concurrent load that changed the row between this load's
// flush and its publish is never overwritten with stale values.
//
// A key no live row holds is a new row and keeps its placeholders, but for
// the sequence value of a deleted row of the key, which it takes. Where
// new rows are refused (Partial.NewKeyError, or a column left out that has
// neither default nor NULL) the load fails at flush, checked against the
// rows visible then.

// Partial describes a load that updates some columns of existing rows.
type Partial struct {
	// Columns are the schema indexes of the columns the load gives.
	Columns []int
	// NewKeyError refuses rows whose key is not in the tablet
	// (partial_update_new_key_behavior ERROR).
	NewKeyError bool
	// Unfillable names a column left out that has neither a default nor
	// NULL: a row with a new key cannot be inserted ("" when none).
	Unfillable string
}

// PartialMeta is what a pending rowset of a partial update records: the
// ids of the columns its rows hold.
type PartialMeta struct {
	Columns []uint32 `json:"columns"`
}

// NewRowsError is a partial update that meets a key the tablet lacks
// where new rows are refused.
type NewRowsError struct {
	Key        string // the key's values, comma-separated
	Unfillable string // the column a new row cannot fill; "": refused by the load
}

func (e *NewRowsError) Error() string {
	if e.Unfillable != "" {
		return fmt.Sprintf("the unmentioned column `%s` should have default value or be nullable for newly inserted rows in non-strict mode partial update", e.Unfillable)
	}
	return fmt.Sprintf("[E-7003]Can't append new rows in partial update when partial_update_new_key_behavior is ERROR. Row with key=[%s] is not in table.", e.Key)
}

func (p *Partial) meta(cols []storage.ColumnMeta) *PartialMeta {
	if p == nil {
		return nil
	}
	m := &PartialMeta{}
	for _, i := range p.Columns {
		m.Columns = append(m.Columns, cols[i].ID)
	}
	return m
}

// checkNewKeys fails with a *NewRowsError when a row of sorted (a flush
// of a partial update that refuses new rows) has a key that no live row of
// the tablet holds.
func (w *DeltaWriter) checkNewKeys(sorted []arrow.Array) error {
	p := w.schema.Partial
	if p == nil || !p.NewKeyError && p.Unfillable == "" {
		return nil
	}
	s := w.s
	s.mu.Lock()
	t := s.tabletLocked(w.tabletID) // a tablet never written holds no key
	s.mu.Unlock()
	t.pubMu.Lock()
	defer t.pubMu.Unlock()
	s.mu.Lock()
	base := append([]*rowset(nil), t.visible...)
	s.mu.Unlock()
	f, err := newKeyFinder(s.pks, base, nil, &markSet{})
	if err != nil {
		return err
	}
	keys := sorted[:w.schema.NumKeys]
	dts := make([]arrow.DataType, len(keys))
	for i, k := range keys {
		dts[i] = k.DataType()
	}
	enc, err := storage.NewKeyEncoder(dts)
	if err != nil {
		return err
	}
	var buf []byte
	for i := 0; i < keys[0].Len(); i++ {
		buf = enc.AppendKey(buf[:0], keys, i)
		ref, row, ok := f.find(0, buf)
		if ok {
			if ok, err = s.liveRow(f, ref, row); err != nil {
				return err
			}
		}
		if ok {
			continue
		}
		vals := make([]string, len(keys))
		for k, a := range keys {
			vals[k] = a.ValueStr(i)
		}
		e := &NewRowsError{Key: strings.Join(vals, ", ")}
		if !p.NewKeyError {
			e.Unfillable = p.Unfillable
		}
		return e
	}
	return nil
}

// liveRow reports whether a row found by f holds its key's values: a row
// whose delete sign is set holds none. Each rowset's signs are fetched
// once per finder.
func (s *Store) liveRow(f *keyFinder, ref segRef, row uint32) (bool, error) {
	signs, ok := f.signs[ref.rs]
	if !ok {
		s.mu.Lock()
		var err error
		signs, err = ref.rs.signRows()
		s.mu.Unlock()
		if err != nil {
			return false, err
		}
		if f.signs == nil {
			f.signs = map[*rowset][]*roaring.Bitmap{}
		}
		f.signs[ref.rs] = signs
	}
	return signs[ref.seg] == nil || !signs[ref.seg].Contains(row), nil
}

// partialFill is the filling of one partial rowset during a publish: what
// to undo if the publish fails, and what to delete once it succeeds.
type partialFill struct {
	rs       *rowset
	given    map[uint32]bool // column ids the load gave
	orig     []SegmentMeta
	created  []string // new segment files
	replaced []string // partial segment files the new ones replace
}

func newPartialFill(rs *rowset) *partialFill {
	pf := &partialFill{rs: rs, given: map[uint32]bool{}, orig: append([]SegmentMeta(nil), rs.meta.Segments...)}
	for _, id := range rs.meta.Partial.Columns {
		pf.given[id] = true
	}
	if mm := rs.meta.Model; mm != nil && mm.DeleteSign != nil {
		// A row's delete sign is its own: a row it replaces is live,
		// whose sign is 0, the placeholder's value.
		pf.given[*mm.DeleteSign] = true
	}
	return pf
}

// fill fills the left-out columns of segment j of the partial rowset from
// the live rows of its keys (see "Partial column update") and points the
// rowset's in-memory record at the filled segment. The segments before j
// are filled and their replaced rows marked, as the rows of j may take
// their values from them. The tablet's publish lock is held.
func (pf *partialFill) fill(s *Store, f *keyFinder, j int, v int64) error {
	rs := pf.rs
	sm, err := s.fillSegment(f, rs, j, v, pf.given)
	if err != nil || sm == nil {
		return err
	}
	pf.created = append(pf.created, sm.File)
	pf.replaced = append(pf.replaced, rs.meta.Segments[j].File)
	s.mu.Lock()
	rs.closeFiles()
	segs := append([]SegmentMeta(nil), rs.meta.Segments...)
	segs[j] = *sm
	rs.meta.Segments = segs
	s.mu.Unlock()
	return nil
}

// finish makes the filled segments' directory entries durable.
func (pf *partialFill) finish(s *Store) error {
	if len(pf.created) == 0 {
		return nil
	}
	return syncDir(s.fs, pf.rs.dir)
}

// undo puts back the partial segments and removes the filled ones.
func (pf *partialFill) undo(s *Store) {
	s.mu.Lock()
	pf.rs.closeFiles()
	pf.rs.meta.Segments = pf.orig
	s.mu.Unlock()
	for _, name := range pf.created {
		os.Remove(filepath.Join(pf.rs.dir, name))
	}
}

// done removes the partial segment files the publish replaced. A crash
// before leaves them unreferenced, and the next start removes them.
func (pf *partialFill) done() {
	for _, name := range pf.replaced {
		os.Remove(filepath.Join(pf.rs.dir, name))
	}
}

// fillSegment writes segment j of rs with its left-out columns filled from
// the rows its keys replace, and returns its record (the primary-key index
// and delete signs are those of the partial segment: keys and signs do not
// change), or nil when there is nothing to fill. A live row gives every
// left-out column; a deleted one (its delete sign set) only the sequence
// column, as in Doris, so that a key's sequence value never goes down and
// the new row, a new key otherwise, is not lost to the delete.
func (s *Store) fillSegment(f *keyFinder, rs *rowset, j int, v int64, given map[uint32]bool) (*SegmentMeta, error) {
	var seqCol *uint32
	if mm := rs.meta.Model; mm != nil && mm.SeqCol != nil && !given[*mm.SeqCol] {
		seqCol = mm.SeqCol
	}
	pk := f.pks[j]
	src := make([]rowSource, pk.NumKeys())
	found := 0
	for i := range src {
		ref, row, ok := f.find(j, pk.Key(i))
		if !ok {
			continue
		}
		live, err := s.liveRow(f, ref, row)
		if err != nil {
			return nil, err
		}
		if live || seqCol != nil {
			src[i] = rowSource{ref: ref, row: row, ok: true, deleted: !live}
			found++
		}
	}
	if found == 0 {
		return nil, nil
	}
	segs, err := rs.open(s.cache)
	if err != nil {
		return nil, err
	}
	seg := segs[j]
	metas := seg.Columns()
	old := rs.meta.Segments[j]
	name := fmt.Sprintf("%s.v%d.seg", strings.TrimSuffix(old.File, ".seg"), v)
	sf, err := createSegment(rs.dir, name, metas, rs.meta.NumKeys, storage.CompressionAuto)
	if err != nil {
		return nil, err
	}
	g := &gatherer{s: s}
	defer g.release()
	// A row found in a segment written before a column was added takes the
	// column's default, as readers of that row saw it. Rowsets recorded
	// before format 5 have no defaults: the placeholder stays, which is
	// the default but for a non-constant one (CURRENT_TIMESTAMP).
	defaults := map[uint32]ColumnDefault{}
	for _, d := range rs.meta.Defaults {
		defaults[d.Column] = d
	}
	fills := make([]arrow.Array, len(metas))
	defer func() {
		for _, a := range fills {
			if a != nil {
				a.Release()
			}
		}
	}()
	for c, m := range metas {
		d, ok := defaults[m.ID]
		if !ok || given[m.ID] {
			continue
		}
		if v, err := d.value(m.Type); err == nil && (v != nil || m.Nullable) {
			if fills[c], err = repeatValue(m.Type, v, 1); err != nil {
				return nil, err
			}
		}
	}
	for p := 0; p < seg.NumPages(); p++ {
		first, n := seg.PageRange(p)
		cols := make([]arrow.Array, len(metas))
		err := func() error {
			for c, m := range metas {
				a, err := seg.Column(m.ID).ReadPage(p, memory.DefaultAllocator)
				if err != nil {
					return fmt.Errorf("reading rowset %d: %w", rs.meta.ID, err)
				}
				cols[c] = a
				if given[m.ID] {
					continue
				}
				filled, err := g.gather(a, src[first:first+int64(n)], m.ID, seqCol != nil && m.ID == *seqCol, fills[c])
				if err != nil {
					return fmt.Errorf("filling column %d of rowset %d: %w", m.ID, rs.meta.ID, err)
				}
				a.Release()
				cols[c] = filled
			}
			return sf.append(cols)
		}()
		releaseArrays(cols)
		if err != nil {
			sf.abort()
			return nil, err
		}
	}
	sm, err := sf.finish(s.fs)
	if err != nil {
		return nil, err
	}
	if sm.NumRows != old.NumRows {
		os.Remove(filepath.Join(rs.dir, sm.File))
		return nil, fmt.Errorf("tabletstore: filled segment %s has %d rows, the partial one %d", sm.File, sm.NumRows, old.NumRows)
	}
	sm.PKIndex, sm.DeleteSigns = old.PKIndex, old.DeleteSigns
	return &sm, nil
}

// rowSource is the row a partial row takes its left-out values from.
type rowSource struct {
	ref     segRef
	row     uint32
	ok      bool
	deleted bool // its delete sign is set: it gives the sequence value only
}

// gatherer reads the values of rows of other segments.
type gatherer struct {
	s     *Store
	pages []arrow.Array
}

func (g *gatherer) release() {
	releaseArrays(g.pages)
	g.pages = nil
}

// gather returns cur with the rows that have a source replaced by their
// source's value of column id (isSeq: the sequence column, which deleted
// sources give too). A row whose source segment was written before the
// column existed takes def (one row: the column's default), or when def is
// nil keeps its placeholder.
func (g *gatherer) gather(cur arrow.Array, src []rowSource, id uint32, isSeq bool, def arrow.Array) (arrow.Array, error) {
	type pageKey struct {
		ref  segRef
		page int
	}
	pieces := []arrow.Array{cur}
	offset := []int64{0}
	total := int64(cur.Len())
	at := map[pageKey]int{}
	idx := make([]int64, len(src))
	for i, sr := range src {
		idx[i] = int64(i)
		if !sr.ok || sr.deleted && !isSeq {
			continue
		}
		segs, err := sr.ref.rs.open(g.s.cache)
		if err != nil {
			return nil, err
		}
		seg := segs[sr.ref.seg]
		cr := seg.Column(id)
		if cr == nil {
			if def != nil {
				pi, ok := at[pageKey{page: -1}]
				if !ok {
					pieces = append(pieces, def)
					offset = append(offset, total)
					total++
					pi = len(pieces) - 1
					at[pageKey{page: -1}] = pi
				}
				idx[i] = offset[pi]
			}
			continue
		}
		page := seg.PageOf(int64(sr.row))
		first, _ := seg.PageRange(page)
		k := pageKey{sr.ref, page}
		pi, ok := at[k]
		if !ok {
			a, err := cr.ReadPage(page, memory.DefaultAllocator)
			if err != nil {
				return nil, fmt.Errorf("reading rowset %d: %w", sr.ref.rs.meta.ID, err)
			}
			if !arrow.TypeEqual(a.DataType(), cur.DataType()) {
				a.Release()
				return nil, fmt.Errorf("rowset %d holds column %d as %s, the load as %s", sr.ref.rs.meta.ID, id, a.DataType(), cur.DataType())
			}
			g.pages = append(g.pages, a)
			pieces = append(pieces, a)
			offset = append(offset, total)
			total += int64(a.Len())
			pi = len(pieces) - 1
			at[k] = pi
		}
		idx[i] = offset[pi] + int64(sr.row) - first
	}
	if len(pieces) == 1 {
		cur.Retain()
		return cur, nil
	}
	all, err := array.Concatenate(pieces, memory.DefaultAllocator)
	if err != nil {
		return nil, err
	}
	defer all.Release()
	ib := array.NewInt64Builder(memory.DefaultAllocator)
	defer ib.Release()
	ib.AppendValues(idx, nil)
	ia := ib.NewArray()
	defer ia.Release()
	out, err := compute.TakeArray(context.Background(), all, ia)
	if err != nil {
		return nil, err
	}
	// The pages served this page of the new segment; later pages of it
	// hold later keys, which lie mostly in other pages.
	g.release()
	return out, nil
}

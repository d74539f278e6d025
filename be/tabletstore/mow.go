package tabletstore

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	bolt "go.etcd.io/bbolt"

	"github.com/strata-db/strata/be/keymodel"
	"github.com/strata-db/strata/storage"
)

// Merge-on-write.
//
// A unique-key tablet with merge-on-write keeps one live row per key
// without merging at read time. Every segment of it has a primary-key
// index (its keys, sorted and unique within the segment, with a bloom
// filter; storage.PKIndex) in a file beside it. When a load's rowset is
// published at version v, every key it holds is looked up in the older
// segments, newest first; the row it finds alive is the one the new row
// replaces, and is marked in that segment's delete bitmap for version v
// (with a sequence column, the row with the smaller sequence value loses,
// the new one on a tie losing to nothing). A reader at version V skips the
// rows marked at versions <= V, and the rows whose delete sign is set.
//
// Marks are kept per (rowset, segment, version) in bbolt, written in the
// same transaction that makes the rowset visible; in memory each rowset
// holds its segments' marks in version order.

var bucketDeleteBitmaps = []byte("delete_bitmaps") // tablet(8) rowset(8) segment(4) version(8) -> roaring

// mark is the rows of one segment that the load published at version
// replaced.
type mark struct {
	version int64
	rows    *roaring.Bitmap
}

func markKey(tabletID, rowsetID int64, seg int, version int64) []byte {
	k := make([]byte, 28)
	binary.BigEndian.PutUint64(k, uint64(tabletID))
	binary.BigEndian.PutUint64(k[8:], uint64(rowsetID))
	binary.BigEndian.PutUint32(k[16:], uint32(seg))
	binary.BigEndian.PutUint64(k[20:], uint64(version))
	return k
}

func parseMarkKey(k []byte) (tabletID, rowsetID int64, seg int, version int64, err error) {
	if len(k) != 28 {
		return 0, 0, 0, 0, fmt.Errorf("delete bitmap key of %d bytes", len(k))
	}
	return int64(binary.BigEndian.Uint64(k)), int64(binary.BigEndian.Uint64(k[8:])),
		int(binary.BigEndian.Uint32(k[16:])), int64(binary.BigEndian.Uint64(k[20:])), nil
}

// recoverMarks attaches the recorded delete bitmaps to their rowsets.
// A bitmap of a rowset or segment that does not exist is corruption: the
// bitmaps of a rowset are deleted with its record.
func (s *Store) recoverMarks(tx *bolt.Tx, byID map[int64]*rowset) error {
	b, err := tx.CreateBucketIfNotExists(bucketDeleteBitmaps)
	if err != nil {
		return err
	}
	return b.ForEach(func(k, v []byte) error {
		tabletID, rowsetID, seg, version, err := parseMarkKey(k)
		if err != nil {
			return err
		}
		rs := byID[rowsetID]
		if rs == nil || rs.meta.TabletID != tabletID || seg >= len(rs.meta.Segments) {
			return fmt.Errorf("delete bitmap of tablet %d rowset %d segment %d version %d has no segment", tabletID, rowsetID, seg, version)
		}
		bm := roaring.New()
		if err := bm.UnmarshalBinary(v); err != nil {
			return fmt.Errorf("delete bitmap of tablet %d rowset %d segment %d version %d: %w", tabletID, rowsetID, seg, version, err)
		}
		if rs.marks == nil {
			rs.marks = make([][]mark, len(rs.meta.Segments))
		}
		// Keys are in version order within a segment.
		rs.marks[seg] = append(rs.marks[seg], mark{version, bm})
		return nil
	})
}

// signs returns the rows of each segment whose delete sign is set, decoded
// once from the rowset's metadata (nil entries: none). Store.mu is held,
// or the rowset is not yet shared.
func (rs *rowset) signRows() ([]*roaring.Bitmap, error) {
	if rs.signs != nil {
		return rs.signs, nil
	}
	signs := make([]*roaring.Bitmap, len(rs.meta.Segments))
	for i, sg := range rs.meta.Segments {
		if len(sg.DeleteSigns) == 0 {
			continue
		}
		bm := roaring.New()
		if err := bm.UnmarshalBinary(sg.DeleteSigns); err != nil {
			return nil, fmt.Errorf("delete signs of rowset %d segment %d: %w", rs.meta.ID, i, err)
		}
		signs[i] = bm
	}
	rs.signs = signs
	return signs, nil
}

// deletesAt returns, per segment, the rows a reader at version v must skip:
// those marked at versions <= v (by merge-on-write publishes, or by delete
// conditions) and, in merge-on-write rowsets, those whose delete sign is
// set (nil: none). The result is shared and must not be modified.
// Store.mu is held.
//
// A merge-on-read reader needs the rows with a delete sign, which hide the
// older rows of their keys when the rowsets are merged.
func (rs *rowset) deletesAt(v int64, keepSigns bool) ([]*roaring.Bitmap, error) {
	mow := rs.meta.Model != nil && rs.meta.Model.MergeOnWrite && !keepSigns
	if rs.marks == nil && (!mow || !rs.hasSigns()) {
		return nil, nil
	}
	if keepSigns {
		out := make([]*roaring.Bitmap, len(rs.meta.Segments))
		for seg := range out {
			marks := rs.marks[seg]
			n := sort.Search(len(marks), func(i int) bool { return marks[i].version > v })
			out[seg] = union(marks[:n], nil)
		}
		return out, nil
	}
	signs := make([]*roaring.Bitmap, len(rs.meta.Segments))
	if mow {
		var err error
		if signs, err = rs.signRows(); err != nil {
			return nil, err
		}
	}
	if rs.delCache == nil {
		rs.delCache = make([]deleteCache, len(rs.meta.Segments))
	}
	out := make([]*roaring.Bitmap, len(rs.meta.Segments))
	for seg := range out {
		var marks []mark
		if rs.marks != nil {
			marks = rs.marks[seg]
		}
		n := sort.Search(len(marks), func(i int) bool { return marks[i].version > v })
		if c := &rs.delCache[seg]; c.valid && c.n == n {
			out[seg] = c.rows
			continue
		}
		rows := union(marks[:n], signs[seg])
		rs.delCache[seg] = deleteCache{valid: true, n: n, rows: rows}
		out[seg] = rows
	}
	return out, nil
}

// union returns the rows of marks and of extra (nil: none), or nil when
// there are none; a lone bitmap is returned as it is (shared).
func union(marks []mark, extra *roaring.Bitmap) *roaring.Bitmap {
	parts := make([]*roaring.Bitmap, 0, len(marks)+1)
	for _, m := range marks {
		parts = append(parts, m.rows)
	}
	if extra != nil {
		parts = append(parts, extra)
	}
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0]
	}
	return roaring.FastOr(parts...)
}

// deleteCache is the union deletesAt computed last for a segment: of its
// first n marks and its delete signs.
type deleteCache struct {
	valid bool
	n     int
	rows  *roaring.Bitmap
}

func (rs *rowset) hasSigns() bool {
	for _, sg := range rs.meta.Segments {
		if len(sg.DeleteSigns) > 0 {
			return true
		}
	}
	return false
}

// pkIndexes returns the primary-key indexes of a rowset's segments,
// reading them when they are not in memory; c bounds what stays there.
func (rs *rowset) pkIndexes(c *pkCache) ([]*storage.PKIndex, error) {
	rs.mu.Lock()
	if pks := rs.pks; pks != nil {
		size := rs.pkBytes
		rs.mu.Unlock()
		c.touch(rs, size)
		return pks, nil
	}
	segs := rs.meta.Segments
	rs.mu.Unlock()
	pks := make([]*storage.PKIndex, len(segs))
	var size int64
	for i, sg := range segs {
		if sg.PKIndex == "" {
			return nil, fmt.Errorf("rowset %d of tablet %d: segment %s has no primary-key index", rs.meta.ID, rs.meta.TabletID, sg.File)
		}
		b, err := os.ReadFile(filepath.Join(rs.dir, sg.PKIndex))
		if err != nil {
			return nil, fmt.Errorf("reading primary-key index of rowset %d: %w", rs.meta.ID, err)
		}
		pk, err := storage.OpenPKIndex(b)
		if err != nil {
			return nil, fmt.Errorf("primary-key index %s of tablet %d: %w", sg.PKIndex, rs.meta.TabletID, err)
		}
		if int64(pk.NumKeys()) != sg.NumRows {
			return nil, fmt.Errorf("primary-key index %s of tablet %d has %d keys for %d rows: %w",
				sg.PKIndex, rs.meta.TabletID, pk.NumKeys(), sg.NumRows, storage.ErrCorrupt)
		}
		pks[i] = pk
		size += int64(len(b))
	}
	rs.mu.Lock()
	if rs.pks != nil { // read meanwhile by another user
		pks, size = rs.pks, rs.pkBytes
	} else {
		rs.pks, rs.pkBytes = pks, size
	}
	rs.mu.Unlock()
	c.touch(rs, size)
	return pks, nil
}

// segRef names one segment of a rowset.
type segRef struct {
	rs  *rowset
	seg int
}

// newMark is a delete bitmap a publish adds.
type newMark struct {
	ref     segRef
	version int64
	rows    *roaring.Bitmap
}

// markSet gathers the marks of one publish call. A rowset the call
// publishes can be marked by a later one of the same call, so lookups see
// the marks gathered so far as well as the recorded ones.
type markSet struct {
	byRef map[segRef][]*newMark
	list  []*newMark
	// recompute: rowsets whose recorded marks are being computed anew,
	// and are ignored (see remarkAbove).
	recompute map[*rowset]bool
}

func (ms *markSet) add(ref segRef, version int64, row uint32) {
	ms.at(ref, version).rows.Add(row)
}

// addRows marks rows of a segment at a version.
func (ms *markSet) addRows(ref segRef, version int64, rows *roaring.Bitmap) {
	ms.at(ref, version).rows.Or(rows)
}

// at returns the mark of a segment at a version, no older than the
// segment's other marks of the call, adding it if it is new.
func (ms *markSet) at(ref segRef, version int64) *newMark {
	if ms.byRef == nil {
		ms.byRef = map[segRef][]*newMark{}
	}
	l := ms.byRef[ref]
	if n := len(l); n > 0 && l[n-1].version == version {
		return l[n-1]
	}
	m := &newMark{ref: ref, version: version, rows: roaring.New()}
	ms.byRef[ref] = append(l, m)
	ms.list = append(ms.list, m)
	return m
}

// deleted reports whether a row is marked, by a recorded mark (but those
// of the rowsets in recompute) or one of this call. The tablet's publish
// lock is held.
func (ms *markSet) deleted(ref segRef, row uint32) bool {
	if ref.rs.marks != nil && !ms.recompute[ref.rs] {
		for _, m := range ref.rs.marks[ref.seg] {
			if m.rows.Contains(row) {
				return true
			}
		}
	}
	for _, m := range ms.byRef[ref] {
		if m.rows.Contains(row) {
			return true
		}
	}
	return false
}

// mowPublish computes the delete bitmap of rowset rs, published at
// version v in a merge-on-write tablet whose visible rowsets (and those
// published before it by the same call) are base, in version order. A
// partial update's rowset is filled first, segment by segment (see
// "Partial column update"); the returned fill is then non-nil, and the
// caller finishes or undoes it with the publish. The tablet's publish lock
// is held.
func (s *Store) mowPublish(base []*rowset, rs *rowset, v int64, ms *markSet) (*partialFill, error) {
	f, err := newKeyFinder(s.pks, base, rs, ms)
	if err != nil {
		return nil, err
	}
	var pf *partialFill
	if rs.meta.Partial != nil {
		pf = newPartialFill(rs)
	}
	fail := func(err error) (*partialFill, error) {
		if pf != nil {
			pf.undo(s)
		}
		return nil, err
	}
	var seq *seqReader
	if mm := rs.meta.Model; mm != nil && mm.SeqCol != nil {
		seq = &seqReader{s: s, col: *mm.SeqCol}
		defer seq.release()
	}
	for j, pk := range f.pks {
		if pf != nil {
			if err := pf.fill(s, f, j, v); err != nil {
				return fail(err)
			}
		}
		for i := 0; i < pk.NumKeys(); i++ {
			old, row, ok := f.find(j, pk.Key(i))
			if !ok {
				continue
			}
			loser, lrow := old, row
			if seq != nil {
				c, err := seq.compare(segRef{rs, j}, uint32(i), old, row)
				if err != nil {
					return fail(err)
				}
				if c < 0 {
					loser, lrow = segRef{rs, j}, uint32(i)
				}
			}
			ms.add(loser, v, lrow)
		}
	}
	if pf != nil {
		if err := pf.finish(s); err != nil {
			return fail(err)
		}
	}
	return pf, nil
}

// keyFinder finds the live row holding a key in a merge-on-write tablet,
// newest first: in the segments of the rowset being published (rs, nil:
// none) before a given one, then in the visible rowsets base. A row marked
// (recorded, or by ms) is not live. The tablet's publish lock is held.
type keyFinder struct {
	rs      *rowset
	pks     []*storage.PKIndex // rs's
	base    []*rowset
	basePKs [][]*storage.PKIndex
	ms      *markSet
	signs   map[*rowset][]*roaring.Bitmap // delete signs, fetched once (liveRow)
}

func newKeyFinder(c *pkCache, base []*rowset, rs *rowset, ms *markSet) (*keyFinder, error) {
	f := &keyFinder{rs: rs, base: base, basePKs: make([][]*storage.PKIndex, len(base)), ms: ms}
	var err error
	if rs != nil {
		if f.pks, err = rs.pkIndexes(c); err != nil {
			return nil, err
		}
	}
	for i, b := range base {
		if f.basePKs[i], err = b.pkIndexes(c); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// find returns the live row holding key, looking in rs's segments before
// seg and then in base.
func (f *keyFinder) find(seg int, key []byte) (segRef, uint32, bool) {
	for j := seg - 1; j >= 0; j-- {
		if row, ok := f.pks[j].Find(key); ok && !f.ms.deleted(segRef{f.rs, j}, uint32(row)) {
			return segRef{f.rs, j}, uint32(row), true
		}
	}
	for i := len(f.base) - 1; i >= 0; i-- {
		for j := len(f.basePKs[i]) - 1; j >= 0; j-- {
			if row, ok := f.basePKs[i][j].Find(key); ok && !f.ms.deleted(segRef{f.base[i], j}, uint32(row)) {
				return segRef{f.base[i], j}, uint32(row), true
			}
		}
	}
	return segRef{}, 0, false
}

// seqReader reads sequence values of rows of merge-on-write segments,
// keeping the page it read last of each segment.
type seqReader struct {
	s     *Store
	col   uint32
	pages map[segRef]*seqPage
}

type seqPage struct {
	page  int
	first int64
	arr   arrow.Array
}

// compare orders the sequence values of row a of segment ra and row b of
// segment rb, NULL first.
func (r *seqReader) compare(ra segRef, a uint32, rb segRef, b uint32) (int, error) {
	va, na, err := r.value(ra, a)
	if err != nil {
		return 0, err
	}
	vb, nb, err := r.value(rb, b)
	if err != nil {
		return 0, err
	}
	switch {
	case na && nb:
		return 0, nil
	case na:
		return -1, nil
	case nb:
		return 1, nil
	}
	return cmp.Compare(va, vb), nil
}

// value returns the sequence value of a row, and whether it is NULL. A
// segment written before the column existed holds NULL.
func (r *seqReader) value(ref segRef, row uint32) (int64, bool, error) {
	segs, err := ref.rs.open(r.s.cache)
	if err != nil {
		return 0, false, err
	}
	seg := segs[ref.seg]
	cr := seg.Column(r.col)
	if cr == nil {
		return 0, true, nil
	}
	if r.pages == nil {
		r.pages = map[segRef]*seqPage{}
	}
	p := r.pages[ref]
	page := seg.PageOf(int64(row))
	if p == nil || p.page != page {
		a, err := cr.ReadPage(page, memory.DefaultAllocator)
		if err != nil {
			return 0, false, fmt.Errorf("reading sequence column of rowset %d: %w", ref.rs.meta.ID, err)
		}
		if p != nil {
			p.arr.Release()
		}
		first, _ := seg.PageRange(page)
		p = &seqPage{page: page, first: first, arr: a}
		r.pages[ref] = p
	}
	i := int(int64(row) - p.first)
	if p.arr.IsNull(i) {
		return 0, true, nil
	}
	switch a := p.arr.(type) {
	case *array.Int8:
		return int64(a.Value(i)), false, nil
	case *array.Int16:
		return int64(a.Value(i)), false, nil
	case *array.Int32:
		return int64(a.Value(i)), false, nil
	case *array.Int64:
		return a.Value(i), false, nil
	case *array.Date32:
		return int64(a.Value(i)), false, nil
	case *array.Timestamp:
		return int64(a.Value(i)), false, nil
	}
	return 0, false, fmt.Errorf("sequence column of type %s", p.arr.DataType())
}

func (r *seqReader) release() {
	for _, p := range r.pages {
		p.arr.Release()
	}
}

// keyFiles records what the unique-key model keeps beside a segment just
// written from rows (sorted, one per key): the rows whose delete sign is
// set, and, with merge-on-write, the primary-key index file, made durable.
func (w *DeltaWriter) keyFiles(sm *SegmentMeta, rows []arrow.Array) error {
	if w.schema.Model.Kind != keymodel.Unique {
		return nil
	}
	k, err := newSegmentKeys(w.schema)
	if err != nil {
		return err
	}
	k.add(rows)
	if err := k.finish(w.s.fs, w.dir, sm); err != nil {
		return fmt.Errorf("tabletstore: tablet %d: %w", w.tabletID, err)
	}
	return nil
}

// segmentKeys gathers, while a unique-key segment is written, what is
// kept beside it: the rows whose delete sign is set, and with
// merge-on-write the encoded keys for the primary-key index.
type segmentKeys struct {
	schema Schema
	enc    *storage.KeyEncoder // nil: merge-on-read, no index
	buf    []byte
	ends   []int
	signs  *roaring.Bitmap
	rows   uint32
}

func newSegmentKeys(schema Schema) (*segmentKeys, error) {
	k := &segmentKeys{schema: schema, signs: roaring.New()}
	if schema.Model.MergeOnWrite {
		dts := make([]arrow.DataType, schema.NumKeys)
		for i, c := range schema.Columns[:schema.NumKeys] {
			dts[i] = c.Type
		}
		var err error
		if k.enc, err = storage.NewKeyEncoder(dts); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// add takes the next rows of the segment.
func (k *segmentKeys) add(cols []arrow.Array) {
	n := cols[0].Len()
	if sc := k.schema.Model.DeleteSignCol; sc >= 0 {
		if v, ok := cols[sc].(*array.Int8); ok {
			for i, x := range v.Int8Values() {
				if x != 0 && v.IsValid(i) {
					k.signs.Add(k.rows + uint32(i))
				}
			}
		}
	}
	if k.enc != nil {
		keys := cols[:k.schema.NumKeys]
		for i := 0; i < n; i++ {
			k.buf = k.enc.AppendKey(k.buf, keys, i)
			k.ends = append(k.ends, len(k.buf))
		}
	}
	k.rows += uint32(n)
}

// finish records the delete signs in sm and writes the primary-key index
// of the segment sm describes, durably.
func (k *segmentKeys) finish(fs FS, dir string, sm *SegmentMeta) error {
	if !k.signs.IsEmpty() {
		k.signs.RunOptimize()
		b, err := k.signs.ToBytes()
		if err != nil {
			return err
		}
		sm.DeleteSigns = b
	}
	if k.enc == nil {
		return nil
	}
	keys := make([][]byte, len(k.ends))
	start := 0
	for i, end := range k.ends {
		keys[i] = k.buf[start:end:end]
		start = end
	}
	name := strings.TrimSuffix(sm.File, ".seg") + ".pk"
	if err := writePKIndex(fs, filepath.Join(dir, name), keys); err != nil {
		return err
	}
	sm.PKIndex = name
	return nil
}

// writePKIndex writes a primary-key index of keys (encoded, sorted,
// unique) to a new file and syncs it.
func writePKIndex(fs FS, path string, keys [][]byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("creating primary-key index: %w", err)
	}
	bw := bufPool.Get().(*bufio.Writer)
	defer bufPool.Put(bw)
	bw.Reset(f)
	err = storage.WritePKIndex(bw, keys, nil)
	if err == nil {
		err = bw.Flush()
	}
	bw.Reset(nil)
	if err == nil {
		err = fs.Sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("writing primary-key index %s: %w", path, err)
	}
	return nil
}

// CheckDeleteBitmaps recomputes the delete bitmaps of a merge-on-write
// tablet from its rows and compares them with the recorded ones: replaying
// the visible rowsets in version order, every row that a later row of its
// key (or one with a higher sequence value) replaces must be marked, at
// the version of the rowset that replaced it, and no other row may be.
// A rowset a compaction wrote holds rows of several versions, so a row it
// replaced may be marked at any version it covers. The error lists the
// first differences found. Tablets of other models pass.
func (s *Store) CheckDeleteBitmaps(tabletID int64) error {
	s.mu.Lock()
	t := s.tablets[tabletID]
	if t == nil {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	t.pubMu.Lock()
	defer t.pubMu.Unlock()
	s.mu.Lock()
	visible := slices.Clone(t.visible)
	s.mu.Unlock()
	if len(visible) == 0 || visible[0].meta.Model == nil || !visible[0].meta.Model.MergeOnWrite {
		return nil
	}
	var seq *seqReader
	if mm := visible[len(visible)-1].meta.Model; mm.SeqCol != nil {
		seq = &seqReader{s: s, col: *mm.SeqCol}
		defer seq.release()
	}
	type live struct {
		ref segRef
		row uint32
	}
	type expectMark struct{ lo, hi int64 } // versions the mark may carry
	current := map[string]live{}
	expected := map[segRef]map[uint32]expectMark{}
	expect := func(ref segRef, row uint32, rs *rowset) {
		if expected[ref] == nil {
			expected[ref] = map[uint32]expectMark{}
		}
		expected[ref][row] = expectMark{rs.meta.StartVersion, rs.meta.EndVersion}
	}
	for _, rs := range visible {
		pks, err := rs.pkIndexes(s.pks)
		if err != nil {
			return err
		}
		for j, pk := range pks {
			ref := segRef{rs, j}
			for i := 0; i < pk.NumKeys(); i++ {
				k := string(pk.Key(i))
				old, ok := current[k]
				if !ok {
					current[k] = live{ref, uint32(i)}
					continue
				}
				newWins := true
				if seq != nil {
					c, err := seq.compare(ref, uint32(i), old.ref, old.row)
					if err != nil {
						return err
					}
					newWins = c >= 0
				}
				if newWins {
					expect(old.ref, old.row, rs)
					current[k] = live{ref, uint32(i)}
				} else {
					expect(ref, uint32(i), rs)
				}
			}
		}
	}
	var diffs []string
	note := func(format string, args ...any) {
		if len(diffs) < 10 {
			diffs = append(diffs, fmt.Sprintf(format, args...))
		}
	}
	for _, rs := range visible {
		for j := range rs.meta.Segments {
			ref := segRef{rs, j}
			want := expected[ref]
			got := map[uint32]int64{}
			for _, m := range markList(rs, j) {
				it := m.rows.Iterator()
				for it.HasNext() {
					r := it.Next()
					if v, dup := got[r]; dup {
						note("rowset %d segment %d row %d is marked at versions %d and %d", rs.meta.ID, j, r, v, m.version)
					}
					got[r] = m.version
				}
			}
			for r, e := range want {
				v, ok := got[r]
				switch {
				case !ok:
					note("rowset %d segment %d row %d is replaced at version %d-%d but not marked", rs.meta.ID, j, r, e.lo, e.hi)
				case v < e.lo || v > e.hi:
					note("rowset %d segment %d row %d is marked at version %d, replaced at %d-%d", rs.meta.ID, j, r, v, e.lo, e.hi)
				}
			}
			for r, v := range got {
				if _, ok := want[r]; !ok {
					note("rowset %d segment %d row %d is marked at version %d but nothing replaces it", rs.meta.ID, j, r, v)
				}
			}
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("tablet %d: delete bitmaps differ from their recomputation:\n  %s", tabletID, strings.Join(diffs, "\n  "))
	}
	return nil
}

package tabletstore

import (
	"cmp"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	bolt "go.etcd.io/bbolt"

	"github.com/strata-db/strata/be/keymodel"
	"github.com/strata-db/strata/failpoint"
	"github.com/strata-db/strata/storage"
)

// RowsetInfo describes a visible rowset to a compaction policy.
type RowsetInfo struct {
	ID            int64
	StartVersion  int64
	EndVersion    int64
	NumRows       int64
	DataSize      int64 // bytes of its segment files
	NumSegments   int
	SchemaVersion int64
	CreateTime    time.Time
	// Delete: the rowset of a DELETE by condition. A compaction may take
	// it only in a run that starts at the tablet's first rowset.
	Delete bool
}

func infoOf(m *RowsetMeta) RowsetInfo {
	return RowsetInfo{
		ID: m.ID, StartVersion: m.StartVersion, EndVersion: m.EndVersion, NumRows: m.NumRows,
		DataSize: m.DataSize(), NumSegments: len(m.Segments), SchemaVersion: m.SchemaVersion,
		CreateTime: time.UnixMilli(m.CreateTime), Delete: m.Delete != nil,
	}
}

// Rowsets lists a tablet's visible rowsets in version order.
func (s *Store) Rowsets(tabletID int64) []RowsetInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tablets[tabletID]
	if t == nil {
		return nil
	}
	out := make([]RowsetInfo, len(t.visible))
	for i, rs := range t.visible {
		out[i] = infoOf(&rs.meta)
	}
	return out
}

// TabletIDs lists, in ascending order, the tablets that have visible
// rowsets.
func (s *Store) TabletIDs() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int64, 0, len(s.tablets))
	for id, t := range s.tablets {
		if len(t.visible) > 0 {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// MaxVersions is the limit on visible rowsets per tablet
// (Options.MaxVersions).
func (s *Store) MaxVersions() int { return s.maxVersions }

// MaxVersionCount returns the tablet with the most visible rowsets and
// their number (0, 0 when no tablet has any).
func (s *Store) MaxVersionCount() (tabletID int64, count int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tablets {
		if n := len(t.visible); n > count || n == count && n > 0 && id < tabletID {
			tabletID, count = id, n
		}
	}
	return tabletID, count
}

// StaleRowsets is the number of rowsets of a tablet that compactions
// replaced and that are still kept for readers.
func (s *Store) StaleRowsets(tabletID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if t := s.tablets[tabletID]; t != nil {
		for _, g := range t.stale {
			n += len(g.inputs)
		}
	}
	return n
}

// Output segments of a compaction are cut at these sizes, the delta
// writer's flush limits: a merged rowset is scanned with the same
// parallelism as a large load's.
const (
	compactionSegmentRows  = flushRows
	compactionSegmentBytes = flushBytes
)

// Compaction replaces a run of adjacent visible rowsets of one tablet with
// one rowset holding their rows and covering their versions. The store
// owns the files and the metadata; the caller owns what the output holds:
// it reads the inputs' segments, merges their rows in key order and
// appends them.
//
//	c, err := s.BeginCompaction(tablet, start, end)
//	... c.Segments(), c.Schema() ... c.Append(sorted rows) ...
//	info, err := c.Commit() // or c.Abort()
//
// Commit writes the output durably (segment files fsynced, then their
// directory) and then, in one bbolt transaction, deletes the inputs'
// records and adds the output's: a crash at any point leaves either the
// inputs or the output recorded, and the next Open deletes the files of
// the other. The inputs become stale (see the package documentation).
//
// A Compaction is used by one goroutine. While it runs, its tablet accepts
// loads, publishes and readers, but no other compaction.
type Compaction struct {
	s      *Store
	t      *tablet
	inputs []*rowset // pinned
	base   bool      // the inputs start at the tablet's first rowset
	schema Schema
	id     int64 // the output rowset's
	dir    string

	// source is the input whose schema the output takes; fills, parallel
	// to the output's columns, the defaults of those some input segment
	// lacks (nil: none lacks it); dropped, the ids of columns some input
	// segment has and the output does not.
	source  *rowset
	fills   []*columnFill
	dropped map[uint32]bool

	files []*os.File // the inputs' segment files, opened for this compaction alone
	segs  []*storage.Segment

	cur  *segmentFile // output segment being written
	out  []SegmentMeta
	rows int64
	done bool

	// Unique-key tablets: deletes are the input rows the output leaves
	// out (merge-on-write rows replaced at versions the output covers);
	// keys gathers the output segment's keys and delete signs; rowMap
	// says where each input row went (SetRowMap).
	deletes []*roaring.Bitmap
	keys    *segmentKeys
	rowMap  [][]uint32
}

// BeginCompaction starts the compaction of the tablet's visible rowsets
// that cover [start, end] exactly: start must be the first version of one
// visible rowset, end the last of a later one. The error wraps
// ErrCompactionConflict when that is not (or no longer) so, or when the
// tablet is being compacted, and ErrSchemaMismatch when the inputs cannot
// be written as one schema (see below).
//
// Inputs written with different schemas (before and after a light schema
// change) are merged into the newest: the output has the columns, column
// order, data model and schema version of the input holding rows with the
// highest schema version, which is how a reader of the newest schema sees
// every input, by column id. An input that lacks one of those columns (it
// was added later) gets the column's default (see Compaction.Missing), as
// readers fill it; a column an input has and the output lacks (dropped
// since) is left out. Refused, with ErrSchemaMismatch: inputs whose key
// columns differ, a column of one id with two types or nullabilities, a
// missing column whose default no input records (rowsets of format 4 and
// older record none), and an output that would lose a column a DELETE
// published above its range names (see checkLaterDeletes).
func (s *Store) BeginCompaction(tabletID, start, end int64) (*Compaction, error) {
	if s.held(tabletID) {
		return nil, fmt.Errorf("tabletstore: compacting tablet %d: an alter job is converting rows into it: %w", tabletID, ErrCompactionConflict)
	}
	s.mu.Lock()
	t := s.tablets[tabletID]
	if t == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("tabletstore: compacting tablet %d: no such tablet: %w", tabletID, ErrCompactionConflict)
	}
	if t.compacting {
		s.mu.Unlock()
		return nil, fmt.Errorf("tabletstore: compacting tablet %d: a compaction is running: %w", tabletID, ErrCompactionConflict)
	}
	i := slices.IndexFunc(t.visible, func(rs *rowset) bool { return rs.meta.StartVersion == start })
	j := slices.IndexFunc(t.visible, func(rs *rowset) bool { return rs.meta.EndVersion == end })
	if i < 0 || j <= i {
		s.mu.Unlock()
		return nil, fmt.Errorf("tabletstore: compacting tablet %d: versions [%d-%d] are not a run of two or more visible rowsets: %w",
			tabletID, start, end, ErrCompactionConflict)
	}
	if t.version > 0 && end > t.version {
		// Cannot happen: the visible rowsets end at or below the version.
		s.mu.Unlock()
		return nil, fmt.Errorf("BUG: tabletstore: compacting tablet %d: versions [%d-%d] reach above its version %d: %w",
			tabletID, start, end, t.version, ErrCompactionConflict)
	}
	inputs := slices.Clone(t.visible[i : j+1])
	base := i == 0
	// A DELETE's condition marked the rows older than it when it was
	// published, and an output covering it no longer holds it; a run that
	// left older rowsets out would forget it for them at their next
	// compaction. So only a run from the first rowset may take one.
	if !base && slices.ContainsFunc(inputs, func(rs *rowset) bool { return rs.meta.Delete != nil }) {
		s.mu.Unlock()
		return nil, fmt.Errorf("tabletstore: compacting tablet %d: versions [%d-%d] hold a DELETE condition and do not start at the first rowset: %w",
			tabletID, start, end, ErrCompactionConflict)
	}
	// Only published rowsets are ever in the visible list, so every input
	// ends at or below the tablet's visible version.
	keysBySchema := map[int64]int{}
	note := func(rs *rowset) {
		if rs.meta.NumKeys >= 0 {
			keysBySchema[rs.meta.SchemaVersion] = rs.meta.NumKeys
		}
	}
	for _, rs := range t.visible {
		note(rs)
	}
	for _, rs := range t.pending {
		note(rs)
	}
	for _, rs := range inputs {
		rs.mu.Lock()
		rs.refs++
		rs.mu.Unlock()
	}
	t.compacting = true
	s.mu.Unlock()

	c := &Compaction{s: s, t: t, inputs: inputs, base: base, dir: s.tabletDir(tabletID)}
	if err := c.openInputs(keysBySchema); err != nil {
		c.Abort()
		return nil, err
	}
	if err := c.checkLaterDeletes(); err != nil {
		c.Abort()
		return nil, err
	}
	id, err := s.nextRowsetID()
	if err != nil {
		c.Abort()
		return nil, fmt.Errorf("tabletstore: allocating rowset id: %w", err)
	}
	c.id = id
	if _, err := s.makeTabletDir(tabletID); err != nil {
		c.Abort()
		return nil, err
	}
	return c, nil
}

// openInputs opens the inputs' segments (without the page cache: a
// compaction reads each page once, and caching them would evict pages
// queries use) and derives the output schema. keysBySchema maps schema
// versions to key counts recorded by any rowset of the tablet, for inputs
// recorded by format 1, which has none.
func (c *Compaction) openInputs(keysBySchema map[int64]int) error {
	tabletID := c.t.id
	numKeys := -1
	var srcSeg *storage.Segment // a segment of c.source
	for _, rs := range c.inputs {
		m := &rs.meta
		k := m.NumKeys
		if k < 0 {
			var ok bool
			if k, ok = keysBySchema[m.SchemaVersion]; !ok {
				return fmt.Errorf("tabletstore: compacting tablet %d: the key columns of rowset %d are not recorded: %w",
					tabletID, m.ID, ErrSchemaMismatch)
			}
		}
		if numKeys >= 0 && k != numKeys {
			return fmt.Errorf("tabletstore: compacting tablet %d: rowset %d has %d key columns, an earlier input %d: %w",
				tabletID, m.ID, k, numKeys, ErrSchemaMismatch)
		}
		numKeys = k
		for _, sg := range m.Segments {
			path := filepath.Join(rs.dir, sg.File)
			f, err := os.Open(path)
			if err != nil {
				return fmt.Errorf("tabletstore: compacting tablet %d: %w", tabletID, err)
			}
			c.files = append(c.files, f)
			seg, err := storage.Open(f, sg.Size)
			if err != nil {
				return fmt.Errorf("tabletstore: compacting tablet %d: opening segment %s: %w", tabletID, path, err)
			}
			c.segs = append(c.segs, seg)
		}
		// The newest schema: the highest version among the inputs that
		// hold rows (a DELETE's rowset holds no columns), the newer input
		// on a tie. Schema versions need not rise with data versions: a
		// load that began before an ALTER may be published after one that
		// began after it.
		if len(m.Segments) > 0 && (c.source == nil || m.SchemaVersion >= c.source.meta.SchemaVersion) {
			c.source, srcSeg = rs, c.segs[len(c.segs)-1]
		}
	}
	c.schema.NumKeys = numKeys
	if c.source == nil {
		// Only DELETE conditions, which a base compaction drops: the
		// output holds no rows.
		for _, rs := range c.inputs {
			c.schema.SchemaVersion = max(c.schema.SchemaVersion, rs.meta.SchemaVersion)
		}
		return nil
	}
	c.schema.SchemaVersion = c.source.meta.SchemaVersion
	c.schema.Columns = srcSeg.Columns()
	if numKeys > len(c.schema.Columns) {
		return fmt.Errorf("tabletstore: compacting tablet %d: %d key columns of %d: %w",
			tabletID, numKeys, len(c.schema.Columns), ErrSchemaMismatch)
	}
	if err := c.mapColumns(); err != nil {
		return fmt.Errorf("tabletstore: compacting tablet %d: %w", tabletID, err)
	}
	return c.openModel()
}

// mapColumns checks every input segment against the output's columns (the
// source's, in c.schema), gathers the output's defaults and prepares the
// fills of the columns some segment lacks.
func (c *Compaction) mapColumns() error {
	out := c.schema.Columns
	// Defaults by column id: a column's default never changes (a light
	// schema change cannot alter it), so any input's record of it will
	// do; the source's are taken first.
	defaults := map[uint32]ColumnDefault{}
	for _, rs := range append([]*rowset{c.source}, c.inputs...) {
		for _, d := range rs.meta.Defaults {
			if _, ok := defaults[d.Column]; !ok {
				defaults[d.Column] = d
			}
		}
	}
	at := make(map[uint32]int, len(out))
	for i, col := range out {
		at[col.ID] = i
		if d, ok := defaults[col.ID]; ok {
			c.schema.Defaults = append(c.schema.Defaults, d)
		}
	}
	c.fills = make([]*columnFill, len(out))
	i := 0 // flat segment index
	for _, rs := range c.inputs {
		for range rs.meta.Segments {
			seg := c.segs[i]
			i++
			has := make([]bool, len(out))
			for k, col := range seg.Columns() {
				j, ok := at[col.ID]
				if !ok {
					// Dropped since the segment was written: not read.
					if c.dropped == nil {
						c.dropped = map[uint32]bool{}
					}
					c.dropped[col.ID] = true
					continue
				}
				has[j] = true
				o := out[j]
				if col.Nullable != o.Nullable || !arrow.TypeEqual(col.Type, o.Type) {
					return fmt.Errorf("rowset %d holds column %d as %s (nullable %t), the output as %s (nullable %t): %w",
						rs.meta.ID, col.ID, col.Type, col.Nullable, o.Type, o.Nullable, ErrSchemaMismatch)
				}
				if (k < c.schema.NumKeys) != (j < c.schema.NumKeys) || k < c.schema.NumKeys && k != j {
					return fmt.Errorf("rowset %d has other key columns than rowset %d: %w", rs.meta.ID, c.source.meta.ID, ErrSchemaMismatch)
				}
			}
			for j, ok := range has {
				if ok || c.fills[j] != nil {
					continue
				}
				col := out[j]
				if j < c.schema.NumKeys {
					return fmt.Errorf("rowset %d lacks key column %d: %w", rs.meta.ID, col.ID, ErrSchemaMismatch)
				}
				d, ok := defaults[col.ID]
				if !ok {
					return fmt.Errorf("rowset %d lacks column %d, and no input records its default: %w", rs.meta.ID, col.ID, ErrSchemaMismatch)
				}
				v, err := d.value(col.Type)
				if err == nil && v == nil && !col.Nullable {
					err = errors.New("NULL for a NOT NULL column")
				}
				if err != nil {
					return fmt.Errorf("the default of column %d: %w: %w", col.ID, err, ErrSchemaMismatch)
				}
				c.fills[j] = &columnFill{value: v}
			}
		}
	}
	return nil
}

// columnFill is the value an output column takes in the rows of inputs
// that lack it: see ColumnDefault.value.
type columnFill struct {
	value any
}

// Missing returns n rows of output column col (an index into the
// Schema's columns) for an input segment that lacks the column, having
// been written before it was added: the column's default. It is the
// rowset.Merger's Missing hook. It fails only for a column every input
// has, which is a caller's bug.
func (c *Compaction) Missing(col, n int) (arrow.Array, error) {
	if col < 0 || col >= len(c.fills) || c.fills[col] == nil {
		return nil, fmt.Errorf("BUG: tabletstore: compacting tablet %d: no input lacks column %d", c.t.id, col)
	}
	return repeatValue(c.schema.Columns[col].Type, c.fills[col].value, n)
}

// checkLaterDeletes refuses an output that lacks a column an input has (it
// was dropped since the input was written) while a DELETE published above
// the output's range names it: such a DELETE, planned before the drop,
// marked the inputs' rows on their values of the column, and evaluated
// again on the output (carryDeletes) it would see none. Only a run below a
// DELETE can meet one, which the policy takes only from the first rowset,
// the DELETE included.
func (c *Compaction) checkLaterDeletes() error {
	if len(c.dropped) == 0 {
		return nil
	}
	end := c.inputs[len(c.inputs)-1].meta.EndVersion
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for _, rs := range c.t.visible {
		if rs.meta.Delete == nil || rs.meta.StartVersion <= end {
			continue
		}
		for _, id := range rs.meta.Delete.Columns() {
			if c.dropped[id] {
				return fmt.Errorf("tabletstore: compacting tablet %d: the DELETE of rowset %d names column %d, which the output drops: %w",
					c.t.id, rs.meta.ID, id, ErrSchemaMismatch)
			}
		}
	}
	return nil
}

// openModel takes the output's data model from the inputs, which must
// agree, and gathers the rows each input segment leaves out: those marked
// at versions the output covers (by merge-on-write publishes or by delete
// conditions).
func (c *Compaction) openModel() error {
	last := c.source.meta.Model // by column id, for the source's columns
	for _, rs := range c.inputs {
		if (rs.meta.Model == nil) != (last == nil) || last != nil && rs.meta.Model.Kind != last.Kind {
			return fmt.Errorf("tabletstore: compacting tablet %d: rowset %d has another data model: %w",
				c.t.id, rs.meta.ID, ErrSchemaMismatch)
		}
	}
	m, err := modelOf(last, c.schema.Columns)
	if err != nil {
		return fmt.Errorf("tabletstore: compacting tablet %d: %w", c.t.id, err)
	}
	c.schema.Model = m
	end := c.inputs[len(c.inputs)-1].meta.EndVersion
	if !m.MergeOnWrite {
		// Rows deleted by conditions published at versions the output
		// covers are left out.
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		any := false
		for _, rs := range c.inputs {
			for i := range rs.meta.Segments {
				marks := markList(rs, i)
				n := sort.Search(len(marks), func(k int) bool { return marks[k].version > end })
				d := union(marks[:n], nil)
				any = any || d != nil
				c.deletes = append(c.deletes, d)
			}
		}
		if !any {
			c.deletes = nil
		}
		return nil
	}
	// Rows whose delete sign is set are left out too when nothing older
	// remains (a base compaction), unless the tablet orders rows by a
	// sequence column: a later load of the key with a smaller sequence
	// value must still lose to them. Without one they have done their
	// work, marking the rows they deleted when they were published; an
	// older rowset keeps those marks, which they explain.
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for _, rs := range c.inputs {
		signs, err := rs.signRows()
		if err != nil {
			return err
		}
		for i := range rs.meta.Segments {
			marks := markList(rs, i)
			n := sort.Search(len(marks), func(k int) bool { return marks[k].version > end })
			var signed *roaring.Bitmap
			if m.SeqCol < 0 && c.base {
				signed = signs[i]
			}
			c.deletes = append(c.deletes, union(marks[:n], signed))
		}
	}
	return nil
}

// Inputs describes the rowsets being compacted, in version order.
func (c *Compaction) Inputs() []RowsetInfo {
	out := make([]RowsetInfo, len(c.inputs))
	for i, rs := range c.inputs {
		out[i] = infoOf(&rs.meta)
	}
	return out
}

// Segments returns the inputs' segments: the rowsets in version order,
// each rowset's segments in its order. Each segment is sorted by the key;
// the segments of one rowset may overlap. A segment may lack columns of
// the Schema (read them through Missing) and hold columns it does not
// have (leave them out); it holds the Schema's columns it has with the
// same types. They stay valid until Commit or Abort.
func (c *Compaction) Segments() []*storage.Segment { return c.segs }

// Schema is the output's: the columns, data model and schema version of
// the input with the newest schema, the key count, and the defaults the
// inputs record for those columns.
func (c *Compaction) Schema() Schema { return c.schema }

// Written is the number of bytes of output written so far.
func (c *Compaction) Written() int64 {
	var n int64
	for _, sg := range c.out {
		n += sg.Size
	}
	if c.cur != nil {
		n += c.cur.size()
	}
	return n
}

// Deletes returns, parallel to Segments, the rows of each input segment
// the output must leave out (nil: none): rows replaced or deleted by a
// condition at versions the output covers, and in a merge-on-write tablet
// rows whose delete sign is set. Rows marked at later versions stay:
// readers at versions before those still see them, and their marks move to
// the output (merge-on-write by SetRowMap, conditions by evaluating them
// again).
func (c *Compaction) Deletes() []*roaring.Bitmap { return c.deletes }

// SetRowMap tells a merge-on-write compaction where the input rows went:
// rowMap[i][r] is 1 + the output row that row r of input segment i
// became, 0 if it was left out. Commit needs it to carry over the delete
// marks of versions above the output's.
func (c *Compaction) SetRowMap(rowMap [][]uint32) { c.rowMap = rowMap }

// Append adds output rows (one array per Schema column), sorted by the key
// and continuing the order of the rows appended before. The arrays are
// copied.
func (c *Compaction) Append(cols []arrow.Array) error {
	if c.done {
		return errors.New("BUG: append to a finished compaction")
	}
	if c.cur == nil {
		sf, err := createSegment(c.dir, fmt.Sprintf("%d_%d.seg", c.id, len(c.out)), c.schema.Columns, c.schema.NumKeys, c.compression())
		if err != nil {
			return err
		}
		c.cur = sf
		if c.schema.Model.Kind == keymodel.Unique {
			if c.keys, err = newSegmentKeys(c.schema); err != nil {
				return err
			}
		}
	}
	if err := c.cur.append(cols); err != nil {
		return err
	}
	if c.keys != nil {
		c.keys.add(cols)
	}
	c.rows += int64(cols[0].Len())
	if c.cur.rows >= compactionSegmentRows || c.cur.size() >= compactionSegmentBytes {
		return c.finishSegment()
	}
	return nil
}

func (c *Compaction) finishSegment() error {
	sf := c.cur
	c.cur = nil
	sm, err := sf.finish(c.s.fs)
	if err != nil {
		return err
	}
	if c.keys != nil {
		k := c.keys
		c.keys = nil
		if err := k.finish(c.s.fs, c.dir, &sm); err != nil {
			os.Remove(filepath.Join(c.dir, sm.File))
			return fmt.Errorf("tabletstore: compacting tablet %d: %w", c.t.id, err)
		}
	}
	c.out = append(c.out, sm)
	return nil
}

// Commit makes the output durable and replaces the inputs with it. On
// error the inputs stay, and the output's files are deleted.
func (c *Compaction) Commit() (RowsetInfo, error) {
	if c.done {
		return RowsetInfo{}, errors.New("BUG: commit of a finished compaction")
	}
	if err := c.writeOutput(); err != nil {
		c.Abort()
		return RowsetInfo{}, err
	}
	if err := failpoint.Inject("tabletstore/compaction-before-swap"); err != nil {
		c.Abort()
		return RowsetInfo{}, err
	}
	info, err := c.swap()
	if err != nil {
		c.Abort()
		return RowsetInfo{}, err
	}
	c.done = true
	c.release()
	// No publish looks keys up in the inputs again (the output has its
	// own index): their primary-key indexes would only hold their share of
	// the cache until pushed out.
	for _, rs := range c.inputs {
		c.s.pks.forget(rs)
	}
	c.s.sweepTablet(c.t.id)
	return info, nil
}

// writeOutput finishes the last output segment and makes the directory
// entries of all of them durable: after it, only the metadata swap is
// missing.
func (c *Compaction) writeOutput() error {
	if c.cur != nil {
		if err := c.finishSegment(); err != nil {
			return err
		}
	}
	return syncDir(c.s.fs, c.dir)
}

// swap records the output and deletes the inputs' records in one bbolt
// transaction, then puts the output in the inputs' place in the tablet's
// visible list and keeps the inputs as stale.
func (c *Compaction) swap() (RowsetInfo, error) {
	s, t := c.s, c.t
	first, last := &c.inputs[0].meta, &c.inputs[len(c.inputs)-1].meta
	m := RowsetMeta{
		FormatVersion: rowsetFormatCurrent, ID: c.id, TabletID: t.id, State: Visible,
		StartVersion: first.StartVersion, EndVersion: last.EndVersion, NumRows: c.rows,
		SchemaVersion: c.schema.SchemaVersion, NumKeys: c.schema.NumKeys, Segments: c.out,
		Model: c.schema.Model.meta(c.schema.Columns), Defaults: c.schema.Defaults,
		CreateTime: time.Now().UnixMilli(),
	}
	if len(c.segs) == 0 {
		m.Model = last.Model // no columns to take it from
	}
	v, err := encodeRowsetMeta(m)
	if err != nil {
		return RowsetInfo{}, err
	}
	out := &rowset{meta: m, dir: c.dir, inputs: c.inputs}
	// Merge-on-write: publishes that ran meanwhile marked input rows at
	// versions above the output's; those marks move to the output's rows,
	// with no publish in between (pubMu).
	// Other models: conditions of DELETEs published after the output's
	// versions are applied to it again.
	var carried []*newMark
	t.pubMu.Lock()
	defer t.pubMu.Unlock()
	if c.schema.Model.MergeOnWrite {
		carried, err = c.carryMarks(out)
	} else if err = c.checkLaterDeletes(); err == nil {
		// (Again: a DELETE may have been published since the start.)
		carried, err = c.carryDeletes(out)
	}
	if err != nil {
		return RowsetInfo{}, err
	}
	// The tablet is held (compacting), and publishes only add rowsets
	// above every range, so the inputs are still adjacent; check anyway,
	// as the swap must never lose a rowset.
	adjacent := func() (int, error) {
		i := slices.Index(t.visible, c.inputs[0])
		if i < 0 || i+len(c.inputs) > len(t.visible) || !slices.Equal(t.visible[i:i+len(c.inputs)], c.inputs) {
			return 0, fmt.Errorf("BUG: tabletstore: compacting tablet %d: versions [%d-%d] changed during the compaction: %w",
				t.id, m.StartVersion, m.EndVersion, ErrCompactionConflict)
		}
		return i, nil
	}
	s.mu.Lock()
	_, err = adjacent()
	s.mu.Unlock()
	if err != nil {
		return RowsetInfo{}, err
	}
	// The metadata commit runs without the store's lock, so loads and
	// queries do not wait for its fsync; until the lock is taken again
	// readers keep getting the inputs, which stay valid either way.
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRowsets)
		for _, rs := range c.inputs {
			if err := b.Delete(rowsetKey(t.id, rs.meta.ID)); err != nil {
				return err
			}
			if rs.marks != nil {
				if err := deletePrefix(tx.Bucket(bucketDeleteBitmaps), rowsetKey(t.id, rs.meta.ID)); err != nil {
					return err
				}
			}
		}
		if err := putMarks(tx, carried); err != nil {
			return err
		}
		return b.Put(rowsetKey(t.id, m.ID), v)
	})
	if err != nil {
		return RowsetInfo{}, fmt.Errorf("tabletstore: recording the compaction of tablet %d versions [%d-%d]: %w",
			t.id, m.StartVersion, m.EndVersion, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, err := adjacent()
	if err != nil {
		panic(err.Error() + " after the metadata swap was recorded")
	}
	addMarks(carried)
	t.visible = slices.Replace(t.visible, i, i+len(c.inputs), out)
	t.stale = append(t.stale, &staleGroup{output: out, inputs: c.inputs, at: s.now()})
	for _, rs := range c.inputs {
		rs.retire()
	}
	return infoOf(&m), nil
}

// smallOutputRows: a compaction of fewer rows writes s2 pages only. Small
// outputs are merged again soon (cumulative compaction), so encoding each
// page with both s2 and zstd to keep the smaller would be spent again;
// larger outputs, which stay, get the per-page choice.
const smallOutputRows = 1 << 20

func (c *Compaction) compression() storage.Compression {
	var rows int64
	for _, rs := range c.inputs {
		rows += rs.meta.NumRows
	}
	if rows < smallOutputRows {
		return storage.CompressionS2
	}
	return storage.CompressionAuto
}

// Abort deletes what the compaction wrote and leaves the inputs as they
// were. It is safe after Commit (it does nothing) and more than once.
func (c *Compaction) Abort() {
	if c.done {
		return
	}
	c.done = true
	if c.cur != nil {
		c.cur.abort()
		c.cur = nil
	}
	removeFiles(c.dir, c.out)
	c.out = nil
	c.release()
}

// release closes the inputs' files, unpins them and frees the tablet for
// the next compaction.
func (c *Compaction) release() {
	closeAll(c.files)
	c.files, c.segs = nil, nil
	for _, rs := range c.inputs {
		rs.mu.Lock()
		rs.refs--
		if rs.refs == 0 && rs.stale {
			rs.closeLocked()
		}
		rs.mu.Unlock()
	}
	c.s.mu.Lock()
	c.t.compacting = false
	c.s.mu.Unlock()
}

// SweepStale deletes the stale rowsets whose grace (Options.StaleSweepTime)
// has passed and that no reader pins, and returns how many it deleted. A
// compaction's inputs go together, so that a reader at an old version
// either finds all of them or gets ErrVersionsCompacted.
func (s *Store) SweepStale() int {
	s.mu.Lock()
	var ids []int64
	for id, t := range s.tablets {
		if len(t.stale) > 0 {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	n := 0
	for _, id := range ids {
		n += s.sweepTablet(id)
	}
	return n
}

func (s *Store) sweepTablet(tabletID int64) int {
	now := s.now()
	var victims []*rowset
	s.mu.Lock()
	t := s.tablets[tabletID]
	if t == nil {
		s.mu.Unlock()
		return 0
	}
	keep := t.stale[:0]
	for _, g := range t.stale {
		if now.Sub(g.at) < s.staleSweep || pinned(g.inputs) {
			keep = append(keep, g)
			continue
		}
		// No reader holds the inputs, and none can reach them once the
		// output forgets them (Acquire runs under s.mu).
		g.output.inputs = nil
		for _, rs := range g.inputs {
			rs.mu.Lock()
			rs.dead = true
			rs.mu.Unlock()
		}
		victims = append(victims, g.inputs...)
	}
	clear(t.stale[len(keep):])
	t.stale = keep
	s.mu.Unlock()

	for _, rs := range victims {
		rs.closeFiles()
		s.pks.forget(rs)
		if err := removeFiles(rs.dir, rs.meta.Segments); err != nil {
			// The next Open deletes them: no record references them.
			s.log.Warn("deleting stale segment files", "tablet", tabletID, "rowset", rs.meta.ID, "err", err)
		}
	}
	return len(victims)
}

func pinned(rowsets []*rowset) bool {
	for _, rs := range rowsets {
		rs.mu.Lock()
		n := rs.refs
		rs.mu.Unlock()
		if n > 0 {
			return true
		}
	}
	return false
}

// carryMarks maps the delete marks of the inputs at versions above the
// output's onto the output's rows. The tablet's publish lock is held.
func (c *Compaction) carryMarks(out *rowset) ([]*newMark, error) {
	if c.rowMap == nil {
		return nil, fmt.Errorf("BUG: tabletstore: merge-on-write compaction of tablet %d without a row map", c.t.id)
	}
	end := out.meta.EndVersion
	starts := make([]int64, len(c.out)+1) // first output row of each segment
	for i, sg := range c.out {
		starts[i+1] = starts[i] + sg.NumRows
	}
	type key struct {
		seg     int
		version int64
	}
	marks := map[key]*roaring.Bitmap{}
	fi := 0 // flat input segment index
	for _, rs := range c.inputs {
		for j := range rs.meta.Segments {
			for _, mk := range markList(rs, j) {
				if mk.version <= end {
					continue
				}
				it := mk.rows.Iterator()
				for it.HasNext() {
					r := it.Next()
					if fi >= len(c.rowMap) || int(r) >= len(c.rowMap[fi]) {
						return nil, fmt.Errorf("BUG: tabletstore: compacting tablet %d: no row map for row %d of rowset %d", c.t.id, r, rs.meta.ID)
					}
					o := c.rowMap[fi][r]
					if o == 0 {
						if d := c.deletes[fi]; d != nil && d.Contains(r) {
							continue // left out: a delete-sign row
						}
						return nil, fmt.Errorf("BUG: tabletstore: compacting tablet %d: row %d of rowset %d, marked at version %d, is not in the output",
							c.t.id, r, rs.meta.ID, mk.version)
					}
					g := int64(o - 1)
					seg := sort.Search(len(c.out), func(i int) bool { return starts[i+1] > g })
					k := key{seg, mk.version}
					if marks[k] == nil {
						marks[k] = roaring.New()
					}
					marks[k].Add(uint32(g - starts[seg]))
				}
			}
			fi++
		}
	}
	list := make([]*newMark, 0, len(marks))
	for k, rows := range marks {
		list = append(list, &newMark{ref: segRef{out, k.seg}, version: k.version, rows: rows})
	}
	slices.SortFunc(list, func(a, b *newMark) int {
		return cmp.Or(cmp.Compare(a.ref.seg, b.ref.seg), cmp.Compare(a.version, b.version))
	})
	return list, nil
}

// markList returns the marks of segment seg of rs.
func markList(rs *rowset, seg int) []mark {
	if rs.marks == nil {
		return nil
	}
	return rs.marks[seg]
}

// NewColumnDefault records v, a default as the frontend converts it (a
// normalized be/exec literal value: nil for NULL, int64, bool, float64,
// decimal128.Num at the column's scale, or string), for column id. It
// reports false for any other value, which has no recorded form.
func NewColumnDefault(id uint32, v any) (ColumnDefault, bool) {
	d := ColumnDefault{Column: id}
	var s string
	switch v := v.(type) {
	case nil:
		d.Null = true
	case int64:
		d.Int = &v
	case bool:
		x := int64(0)
		if v {
			x = 1
		}
		d.Int = &x
	case float64:
		s = strconv.FormatFloat(v, 'g', -1, 64)
		d.Str = &s
	case decimal128.Num:
		s = v.BigInt().String()
		d.Str = &s
	case string:
		d.Str = &v
	default:
		return d, false
	}
	return d, true
}

// value reads the default as a value of a column of arrow type dt: nil for
// NULL; int64 for integers, DATE and DATETIME; bool; float64; decimal128.Num
// at the type's scale; string. The error says what does not fit.
func (d ColumnDefault) value(dt arrow.DataType) (any, error) {
	set := 0
	for _, ok := range []bool{d.Null, d.Int != nil, d.Str != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return nil, fmt.Errorf("recorded default of column %d sets %d of null, int and str", d.Column, set)
	}
	if d.Null {
		return nil, nil
	}
	bad := func(what string) error {
		return fmt.Errorf("recorded default of column %d: %s for a column of type %s", d.Column, what, dt)
	}
	switch t := dt.(type) {
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type, *arrow.Date32Type:
		if d.Int == nil {
			return nil, bad("a string")
		}
		bits := map[arrow.Type]uint{arrow.INT8: 8, arrow.INT16: 16, arrow.INT32: 32, arrow.DATE32: 32, arrow.INT64: 64}[dt.ID()]
		if x := *d.Int; bits < 64 && (x < -1<<(bits-1) || x >= 1<<(bits-1)) {
			return nil, bad(fmt.Sprintf("%d out of range", x))
		}
		return *d.Int, nil
	case *arrow.TimestampType:
		if d.Int == nil {
			return nil, bad("a string")
		}
		if t.Unit != arrow.Microsecond {
			return nil, bad("microseconds")
		}
		return *d.Int, nil
	case *arrow.BooleanType:
		if d.Int == nil || *d.Int != 0 && *d.Int != 1 {
			return nil, bad("not 0 or 1")
		}
		return *d.Int == 1, nil
	case *arrow.Float32Type, *arrow.Float64Type:
		if d.Str == nil {
			return nil, bad("an integer")
		}
		f, err := strconv.ParseFloat(*d.Str, 64)
		if err != nil {
			return nil, bad(fmt.Sprintf("%q", *d.Str))
		}
		return f, nil
	case *arrow.Decimal128Type:
		if d.Str == nil {
			return nil, bad("an integer")
		}
		// The unscaled value, at the type's scale; LARGEINT (scale 0) uses
		// all 128 bits, beyond the precision of 38 digits.
		b, ok := new(big.Int).SetString(*d.Str, 10)
		if !ok || b.BitLen() > 127 {
			return nil, bad(fmt.Sprintf("%q", *d.Str))
		}
		return decimal128.FromBigInt(b), nil
	case *arrow.StringType:
		if d.Str == nil {
			return nil, bad("an integer")
		}
		return *d.Str, nil
	}
	return nil, bad("a value")
}

// repeatValue returns n rows of v (a ColumnDefault.value for dt; nil:
// NULL) as an array of type dt.
// appendN appends x n times to a builder that has room for them.
func appendN[T any](b interface{ UnsafeAppend(T) }, x T, n int) {
	for range n {
		b.UnsafeAppend(x)
	}
}

func repeatValue(dt arrow.DataType, v any, n int) (arrow.Array, error) {
	mem := memory.DefaultAllocator
	if v == nil {
		return array.MakeArrayOfNull(mem, dt, n), nil
	}
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	b.Reserve(n)
	switch b := b.(type) {
	case *array.Int8Builder:
		appendN(b, int8(v.(int64)), n)
	case *array.Int16Builder:
		appendN(b, int16(v.(int64)), n)
	case *array.Int32Builder:
		appendN(b, int32(v.(int64)), n)
	case *array.Int64Builder:
		appendN(b, v.(int64), n)
	case *array.Date32Builder:
		appendN(b, arrow.Date32(v.(int64)), n)
	case *array.TimestampBuilder:
		appendN(b, arrow.Timestamp(v.(int64)), n)
	case *array.BooleanBuilder:
		appendN(b, v.(bool), n)
	case *array.Float32Builder:
		appendN(b, float32(v.(float64)), n)
	case *array.Float64Builder:
		appendN(b, v.(float64), n)
	case *array.Decimal128Builder:
		appendN(b, v.(decimal128.Num), n)
	case *array.StringBuilder:
		x := v.(string)
		b.ReserveData(n * len(x))
		for range n {
			b.Append(x)
		}
	default:
		return nil, fmt.Errorf("tabletstore: a default of arrow type %s", dt)
	}
	return b.NewArray(), nil
}

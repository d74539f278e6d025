package tabletstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"path/filepath"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/cespare/xxhash/v2"

	"github.com/strata-db/strata/be/keymodel"
	browset "github.com/strata-db/strata/be/rowset"
	"github.com/strata-db/strata/storage"
)

// Checksum returns a digest of the rows a reader of a tablet sees at a
// version, and their number, that does not depend on how the rows are laid
// out in rowsets and segments: replicas holding the same data agree on it
// whatever each compacted. The rows are those of the newest schema among
// the rowsets (its columns, in its order, a column a rowset predates
// reading its recorded default), as a compaction of them all would write
// them: every live row of duplicate-key and merge-on-write tablets, and the
// folded rows of merge-on-read and aggregate tablets (a merge-on-read key
// whose newest row has its delete sign set has none). Each row hashes
// every value, NULLs included, with its column id, and the digest is the
// sum of the row hashes modulo 2^64, so that their order does not matter
// and duplicate rows count.
//
// Folding aggregates in a different grouping gives the same values for
// every aggregation but SUM of floating-point columns, whose rounding may
// differ between layouts.
//
// The read fails as Acquire does (ErrVersionMissing, ErrVersionsCompacted).
func (s *Store) Checksum(tabletID, version int64) (sum uint64, rows int64, err error) {
	snap, err := s.Acquire(tabletID, version)
	if err != nil {
		return 0, 0, err
	}
	defer snap.Release()
	c := checksummer{tabletID: tabletID}
	defer c.close()
	if err := c.open(snap); err != nil {
		return 0, 0, fmt.Errorf("tabletstore: checksum of tablet %d at version %d: %w", tabletID, version, err)
	}
	if c.source == nil {
		return 0, 0, nil // no rows
	}
	if err := c.run(snap.Deletes()); err != nil {
		return 0, 0, fmt.Errorf("tabletstore: checksum of tablet %d at version %d: %w", tabletID, version, err)
	}
	return c.sum, c.rows, nil
}

// checksummer reads the pinned rowsets of a Checksum.
type checksummer struct {
	tabletID int64
	files    []*os.File
	segs     []*storage.Segment // of every pinned rowset, in order
	source   *RowsetMeta        // the newest schema's rowset; nil: no rows
	cols     []storage.ColumnMeta
	numKeys  int
	model    Model
	fills    []any  // per column: the default of rows that lack it
	hasFill  []bool // fills[i] is set
	sum      uint64
	rows     int64
}

// open opens the segments (without the page cache: every page is read
// once) and works out the columns, as BeginCompaction does.
func (c *checksummer) open(snap *Snapshot) error {
	keys := map[int64]int{}
	for _, rs := range snap.rowsets {
		m := &rs.meta
		if m.NumKeys >= 0 {
			keys[m.SchemaVersion] = m.NumKeys
		}
		var last *storage.Segment
		for _, sg := range m.Segments {
			f, err := os.Open(filepath.Join(rs.dir, sg.File))
			if err != nil {
				return err
			}
			c.files = append(c.files, f)
			seg, err := storage.Open(f, sg.Size)
			if err != nil {
				return fmt.Errorf("opening segment %s: %w", sg.File, err)
			}
			c.segs = append(c.segs, seg)
			last = seg
		}
		if last != nil && (c.source == nil || m.SchemaVersion >= c.source.SchemaVersion) {
			c.source, c.cols = m, last.Columns()
		}
	}
	if c.source == nil {
		return nil
	}
	var ok bool
	if c.numKeys, ok = keys[c.source.SchemaVersion]; !ok {
		return fmt.Errorf("the key columns of rowset %d are not recorded", c.source.ID)
	}
	at := make(map[uint32]int, len(c.cols))
	for i, col := range c.cols {
		at[col.ID] = i
	}
	for _, seg := range c.segs {
		for _, col := range seg.Columns() {
			if i, ok := at[col.ID]; ok && !arrow.TypeEqual(col.Type, c.cols[i].Type) {
				return fmt.Errorf("column %d is %s in one segment and %s in rowset %d: %w",
					col.ID, col.Type, c.cols[i].Type, c.source.ID, ErrSchemaMismatch)
			}
		}
	}
	var err error
	if c.model, err = modelOf(c.source.Model, c.cols); err != nil {
		return err
	}
	defaults := map[uint32]ColumnDefault{}
	for _, d := range c.source.Defaults {
		defaults[d.Column] = d
	}
	for _, rs := range snap.rowsets {
		for _, d := range rs.meta.Defaults {
			if _, ok := defaults[d.Column]; !ok {
				defaults[d.Column] = d
			}
		}
	}
	c.fills = make([]any, len(c.cols))
	c.hasFill = make([]bool, len(c.cols))
	for i, col := range c.cols {
		d, ok := defaults[col.ID]
		if !ok {
			continue
		}
		v, err := d.value(col.Type)
		if err != nil || v == nil && !col.Nullable {
			continue // refused if a segment needs it
		}
		c.fills[i], c.hasFill[i] = v, true
	}
	return nil
}

func (c *checksummer) close() {
	closeAll(c.files)
}

// missing is the merger's Missing hook: the default of column col.
func (c *checksummer) missing(col, n int) (arrow.Array, error) {
	if !c.hasFill[col] {
		return nil, fmt.Errorf("a segment lacks column %d, and no rowset records its default", c.cols[col].ID)
	}
	return repeatValue(c.cols[col].Type, c.fills[col], n)
}

// run merges the segments in key order, leaving out the deleted rows,
// folds them by the model and hashes the rows that remain.
func (c *checksummer) run(deletes []*roaring.Bitmap) error {
	m := browset.NewMerger(c.cols, c.numKeys)
	m.Missing = c.missing
	m.Deletes = deletes
	fold, err := c.model.Folds(c.numKeys)
	if err != nil {
		return err
	}
	sign := -1
	if c.model.Kind == keymodel.Unique && !c.model.MergeOnWrite {
		sign = c.model.DeleteSignCol
	}
	var hashes []uint64
	hash := func(cols []arrow.Array) error {
		n := cols[0].Len()
		hashes = hashes[:0]
		for range n {
			hashes = append(hashes, rowSeed)
		}
		for i, a := range cols {
			if err := hashColumn(hashes, a, c.cols[i].ID); err != nil {
				return err
			}
		}
		var signs *array.Int8
		if sign >= 0 {
			signs, _ = cols[sign].(*array.Int8)
		}
		for i, h := range hashes {
			if signs != nil && signs.IsValid(i) && signs.Value(i) != 0 {
				continue
			}
			c.sum += fmix64(h)
			c.rows++
		}
		return nil
	}
	emit := hash
	var folder *keymodel.Folder
	if fold != nil {
		folder = fold.NewFolder(memory.DefaultAllocator)
		emit = func(cols []arrow.Array) error {
			out, err := folder.Push(cols)
			if err != nil || out == nil {
				return err
			}
			defer releaseArrays(out)
			return hash(out)
		}
	}
	if _, err := m.Run(context.Background(), c.segs, emit); err != nil {
		return err
	}
	if folder != nil {
		out, err := folder.Finish()
		if err != nil {
			return err
		}
		defer releaseArrays(out)
		if out != nil && out[0].Len() > 0 {
			return hash(out)
		}
	}
	return nil
}

// Row hashing. A row's hash starts at rowSeed and takes each column in
// turn: h = fmix64(rotl(h, 23) ^ id*golden ^ value hash). The value hash
// of NULL is nullHash; of an integer-like value (of any width, DATE and
// DATETIME included), fmix64 of it as an int64; of a float, fmix64 of its
// IEEE-754 bits (float32 bits for FLOAT); of a decimal, fmix64 of the low
// word xor fmix64 of the high one; of a boolean, fmix64(1) or fmix64(2);
// of a string, its xxhash64. The digest adds fmix64 of every row's hash.
const (
	rowSeed  = 0x243f6a8885a308d3
	nullHash = 0x6a09e667f3bcc908
	golden   = 0x9e3779b97f4a7c15
)

// fmix64 is MurmurHash3's 64-bit finalizer.
func fmix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// hashColumn folds column a (of id) into the row hashes h: one type switch,
// then a typed loop.
func hashColumn(h []uint64, a arrow.Array, id uint32) error {
	salt := uint64(id) * golden
	step := func(i int, v uint64) {
		if a.IsNull(i) {
			v = nullHash
		}
		h[i] = fmix64(bits.RotateLeft64(h[i], 23) ^ salt ^ v)
	}
	switch x := a.(type) {
	case *array.Int8:
		hashInts(x.Int8Values(), step)
	case *array.Int16:
		hashInts(x.Int16Values(), step)
	case *array.Int32:
		hashInts(x.Int32Values(), step)
	case *array.Int64:
		hashInts(x.Int64Values(), step)
	case *array.Date32:
		hashInts(x.Date32Values(), step)
	case *array.Timestamp:
		hashInts(x.TimestampValues(), step)
	case *array.Float32:
		for i, v := range x.Float32Values() {
			step(i, fmix64(uint64(math.Float32bits(v))))
		}
	case *array.Float64:
		for i, v := range x.Float64Values() {
			step(i, fmix64(math.Float64bits(v)))
		}
	case *array.Decimal128:
		for i, v := range x.Values() {
			step(i, fmix64(v.LowBits())^fmix64(uint64(v.HighBits())))
		}
	case *array.Boolean:
		for i := range x.Len() {
			v := uint64(1)
			if x.Value(i) {
				v = 2
			}
			step(i, fmix64(v))
		}
	case *array.String:
		for i := range x.Len() {
			step(i, xxhash.Sum64String(x.Value(i)))
		}
	default:
		return errors.New("checksum of a column of arrow type " + a.DataType().String())
	}
	return nil
}

func hashInts[T ~int8 | ~int16 | ~int32 | ~int64](vals []T, step func(i int, v uint64)) {
	for i, v := range vals {
		step(i, fmix64(uint64(int64(v))))
	}
}

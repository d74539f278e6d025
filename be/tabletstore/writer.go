package tabletstore

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/be/keymodel"
	"github.com/strata-db/strata/storage"
)

// Memtable limits: a memtable is sorted and flushed to a segment when it
// holds this many rows or bytes. Larger memtables mean fewer, larger
// segments per load (better scans) at the cost of memory per open load.
const (
	flushRows  = 1 << 20
	flushBytes = 128 << 20
)

// DeltaWriter writes one transaction's rows into one tablet: rows collect
// in a memtable, which is sorted by the key columns and flushed to a
// segment file when full. It is used by one goroutine.
type DeltaWriter struct {
	s        *Store
	tabletID int64
	txnID    int64
	schema   Schema
	fold     *keymodel.Model // nil: duplicate keys
	rowsetID int64
	dir      string

	mem      [][]arrow.Array // batches in the memtable, one slice per batch
	memRows  int
	memBytes int

	segs   []SegmentMeta
	rows   int64
	closed bool
}

// NewDeltaWriter starts writing txnID's rows into a tablet. It fails with
// a *TooManyVersionsError when the tablet has more visible rowsets than the
// store's limit, and slows down (see admitWriter) when it nears it.
func (s *Store) NewDeltaWriter(tabletID, txnID int64, schema Schema) (*DeltaWriter, error) {
	if schema.Partial != nil && !schema.Model.MergeOnWrite {
		return nil, fmt.Errorf("tabletstore: tablet %d: a partial column update needs a merge-on-write unique-key tablet", tabletID)
	}
	if err := s.admitWriter(tabletID); err != nil {
		return nil, err
	}
	id, err := s.nextRowsetID()
	if err != nil {
		return nil, fmt.Errorf("tabletstore: allocating rowset id: %w", err)
	}
	dir, err := s.makeTabletDir(tabletID)
	if err != nil {
		return nil, err
	}
	w := &DeltaWriter{s: s, tabletID: tabletID, txnID: txnID, schema: schema, rowsetID: id, dir: dir}
	if schema.Model.Kind != keymodel.Duplicate {
		if w.fold, err = schema.Model.folder(schema.NumKeys); err != nil {
			return nil, fmt.Errorf("tabletstore: tablet %d: %w", tabletID, err)
		}
	}
	return w, nil
}

// Write back-pressure. Past slowdownRatio of the version limit, a writer
// is delayed before it starts, by a time growing linearly from 0 to
// maxWriteDelay at the limit, and its tablet's compaction is requested. A
// load that opens writers into several such tablets waits for each, so a
// client loading faster than compaction merges sees its loads slow down
// before they fail; past the limit they fail, which protects readers. The
// delay is short enough not to trip load timeouts.
const (
	slowdownRatio = 0.8
	maxWriteDelay = 250 * time.Millisecond
)

// admitWriter applies the version limit to a writer into tabletID.
func (s *Store) admitWriter(tabletID int64) error {
	n := s.VersionCount(tabletID)
	soft := int(float64(s.maxVersions) * slowdownRatio)
	if n <= soft {
		return nil
	}
	s.requestCompaction(tabletID)
	if n > s.maxVersions {
		return &TooManyVersionsError{TabletID: tabletID, Count: n, Limit: s.maxVersions}
	}
	s.sleep(maxWriteDelay * time.Duration(n-soft) / time.Duration(s.maxVersions-soft))
	return nil
}

// Write adds rows (one array per schema column). The writer keeps its own
// references to the arrays.
func (w *DeltaWriter) Write(cols []arrow.Array) error {
	if w.closed {
		return fmt.Errorf("BUG: write to a closed delta writer")
	}
	if len(cols) != len(w.schema.Columns) {
		return fmt.Errorf("BUG: delta writer got %d columns, schema has %d", len(cols), len(w.schema.Columns))
	}
	n := cols[0].Len()
	if n == 0 {
		return nil
	}
	batch := make([]arrow.Array, len(cols))
	for i, c := range cols {
		c.Retain()
		batch[i] = c
		w.memBytes += arraySize(c)
	}
	w.mem = append(w.mem, batch)
	w.memRows += n
	if w.memRows >= flushRows || w.memBytes >= flushBytes {
		return w.flush()
	}
	return nil
}

func arraySize(a arrow.Array) int {
	n := 0
	for _, b := range a.Data().Buffers() {
		if b != nil {
			n += b.Len()
		}
	}
	return n
}

// flush sorts the memtable by the key and writes it as one segment.
// smallFlushRows: flushes of fewer rows are written for speed, not size.
const smallFlushRows = 64 << 10

func (w *DeltaWriter) flush() error {
	if w.memRows == 0 {
		return nil
	}
	defer w.releaseMem()
	cols, err := concat(w.mem, len(w.schema.Columns))
	if err != nil {
		return err
	}
	defer releaseArrays(cols)
	perm := sortPermutation(cols[:w.schema.NumKeys], w.memRows)
	sorted := cols
	if perm != nil {
		sorted, err = takeAll(cols, perm)
		if err != nil {
			return err
		}
		defer releaseArrays(sorted)
	}
	if w.fold != nil {
		// One row per key: the newest (or highest sequence) of a unique
		// key, the fold of an aggregate key's values.
		if sorted, err = w.fold.Fold(sorted, memory.DefaultAllocator); err != nil {
			return fmt.Errorf("tabletstore: folding rows of tablet %d: %w", w.tabletID, err)
		}
		defer releaseArrays(sorted)
	}
	if err := w.checkNewKeys(sorted); err != nil {
		return err
	}
	// A small flush (a small load) is compressed with s2 alone: compaction
	// soon rewrites it with the per-page choice of s2 or zstd, which costs
	// both encodings on every page.
	comp := storage.CompressionAuto
	if w.memRows < smallFlushRows {
		comp = storage.CompressionS2
	}
	sf, err := createSegment(w.dir, fmt.Sprintf("%d_%d.seg", w.rowsetID, len(w.segs)), w.schema.Columns, w.schema.NumKeys, comp)
	if err != nil {
		return err
	}
	if err := sf.append(sorted); err != nil {
		sf.abort()
		return err
	}
	sm, err := sf.finish(w.s.fs)
	if err != nil {
		return err
	}
	if err := w.keyFiles(&sm, sorted); err != nil {
		os.Remove(filepath.Join(w.dir, sm.File))
		return err
	}
	w.segs = append(w.segs, sm)
	w.rows += sm.NumRows
	return nil
}

// Flush writes the rows written so far as a segment now, rather than when
// the memtable fills.
func (w *DeltaWriter) Flush() error {
	if w.closed {
		return fmt.Errorf("BUG: flush of a closed delta writer")
	}
	return w.flush()
}

func (w *DeltaWriter) releaseMem() {
	for _, b := range w.mem {
		releaseArrays(b)
	}
	w.mem, w.memRows, w.memBytes = nil, 0, 0
}

// Close flushes the memtable, makes the segment files and their directory
// durable and records the rowset as pending under the transaction. A
// writer that received no rows records nothing.
func (w *DeltaWriter) Close() error {
	if w.closed {
		return nil
	}
	if err := w.flush(); err != nil {
		return err
	}
	w.closed = true
	if len(w.segs) == 0 {
		return nil
	}
	if err := syncDir(w.s.fs, w.dir); err != nil {
		return err
	}
	return w.s.addPending(RowsetMeta{
		ID: w.rowsetID, TabletID: w.tabletID, TxnID: w.txnID, NumRows: w.rows,
		SchemaVersion: w.schema.SchemaVersion, NumKeys: w.schema.NumKeys, Segments: w.segs,
		Model:      w.schema.Model.meta(w.schema.Columns),
		Partial:    w.schema.Partial.meta(w.schema.Columns),
		Defaults:   w.schema.Defaults,
		CreateTime: time.Now().UnixMilli(),
	})
}

// Cancel discards the writer's memtable and files. A rowset already
// recorded by Close is removed by the store's AbortTxn instead.
func (w *DeltaWriter) Cancel() {
	w.releaseMem()
	if w.closed {
		return
	}
	w.closed = true
	removeFiles(w.dir, w.segs)
	w.segs = nil
}

func syncDir(fs FS, dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("tabletstore: %w", err)
	}
	defer d.Close()
	if err := fs.Sync(d); err != nil {
		return fmt.Errorf("tabletstore: syncing %s: %w", dir, err)
	}
	return nil
}

func releaseArrays(as []arrow.Array) {
	for _, a := range as {
		a.Release()
	}
}

// concat joins the memtable's batches column by column.
func concat(batches [][]arrow.Array, ncols int) ([]arrow.Array, error) {
	out := make([]arrow.Array, ncols)
	if len(batches) == 1 {
		for i, a := range batches[0] {
			a.Retain()
			out[i] = a
		}
		return out, nil
	}
	parts := make([]arrow.Array, len(batches))
	for c := 0; c < ncols; c++ {
		for b := range batches {
			parts[b] = batches[b][c]
		}
		a, err := array.Concatenate(parts, memory.DefaultAllocator)
		if err != nil {
			releaseArrays(out[:c])
			return nil, fmt.Errorf("tabletstore: building memtable: %w", err)
		}
		out[c] = a
	}
	return out, nil
}

func takeAll(cols []arrow.Array, perm []int32) ([]arrow.Array, error) {
	b := array.NewInt32Builder(memory.DefaultAllocator)
	b.AppendValues(perm, nil)
	idx := b.NewArray()
	defer idx.Release()
	out := make([]arrow.Array, len(cols))
	for i, c := range cols {
		a, err := compute.TakeArray(context.Background(), c, idx)
		if err != nil {
			releaseArrays(out[:i])
			return nil, fmt.Errorf("tabletstore: sorting memtable: %w", err)
		}
		out[i] = a
	}
	return out, nil
}

// sortPermutation returns the stable order of n rows by the key columns
// (NULLs first), or nil when the rows are already in order.
func sortPermutation(keys []arrow.Array, n int) []int32 {
	if len(keys) == 0 {
		return nil
	}
	cmps := make([]func(i, j int) int, len(keys))
	for k, a := range keys {
		cmps[k] = comparator(a)
	}
	compare := func(i, j int) int {
		for _, c := range cmps {
			if r := c(i, j); r != 0 {
				return r
			}
		}
		return 0
	}
	sorted := true
	for i := 1; i < n; i++ {
		if compare(i-1, i) > 0 {
			sorted = false
			break
		}
	}
	if sorted {
		return nil
	}
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortStableFunc(perm, func(a, b int32) int { return compare(int(a), int(b)) })
	return perm
}

// comparator orders two rows of one column, NULLs first.
func comparator(a arrow.Array) func(i, j int) int {
	nulls := func(i, j int) (int, bool) {
		ni, nj := a.IsNull(i), a.IsNull(j)
		switch {
		case ni && nj:
			return 0, true
		case ni:
			return -1, true
		case nj:
			return 1, true
		}
		return 0, false
	}
	withNulls := func(f func(i, j int) int) func(i, j int) int {
		if a.NullN() == 0 {
			return f
		}
		return func(i, j int) int {
			if r, ok := nulls(i, j); ok {
				return r
			}
			return f(i, j)
		}
	}
	switch x := a.(type) {
	case *array.Int8:
		v := x.Int8Values()
		return withNulls(func(i, j int) int { return cmp.Compare(v[i], v[j]) })
	case *array.Int16:
		v := x.Int16Values()
		return withNulls(func(i, j int) int { return cmp.Compare(v[i], v[j]) })
	case *array.Int32:
		v := x.Int32Values()
		return withNulls(func(i, j int) int { return cmp.Compare(v[i], v[j]) })
	case *array.Int64:
		v := x.Int64Values()
		return withNulls(func(i, j int) int { return cmp.Compare(v[i], v[j]) })
	case *array.Date32:
		v := x.Date32Values()
		return withNulls(func(i, j int) int { return cmp.Compare(v[i], v[j]) })
	case *array.Timestamp:
		v := x.TimestampValues()
		return withNulls(func(i, j int) int { return cmp.Compare(v[i], v[j]) })
	case *array.Float32:
		v := x.Float32Values()
		return withNulls(func(i, j int) int { return cmp.Compare(v[i], v[j]) })
	case *array.Float64:
		v := x.Float64Values()
		return withNulls(func(i, j int) int { return cmp.Compare(v[i], v[j]) })
	case *array.Decimal128:
		return withNulls(func(i, j int) int { return x.Value(i).Cmp(x.Value(j)) })
	case *array.String:
		return withNulls(func(i, j int) int { return strings.Compare(x.Value(i), x.Value(j)) })
	case *array.Boolean:
		return withNulls(func(i, j int) int {
			bi, bj := x.Value(i), x.Value(j)
			switch {
			case bi == bj:
				return 0
			case !bi:
				return -1
			}
			return 1
		})
	}
	panic(fmt.Sprintf("BUG: sort key of arrow type %s", a.DataType()))
}

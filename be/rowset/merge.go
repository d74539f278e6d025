// Package rowset reads the rowsets of a tablet as one stream sorted on the
// key: a k-way merge of their segments that can leave out deleted rows and
// record where each input row went. Compaction writes what it merges;
// merge-on-read and aggregate-key readers fold it.
package rowset

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/storage"
)

// chunkRows is how many merged rows are gathered before they are handed on
// as one batch: the segment writer's page size, so that a batch fills
// about one output page.
const chunkRows = storage.DefaultPageRows

// Merger is a k-way merge of sorted segments on their first numKeys
// columns. Every row of every input comes out exactly once, unless Deletes
// leaves it out; rows with equal keys come out in input order, so the rows
// of older versions precede those of newer ones, which is what the key
// models that fold equal keys rely on.
//
// It works a page at a time: each input is a cursor over the decoded pages
// of its segment, the cursors sit in a binary heap ordered by their current
// row, and the smallest cursor gives up a run of rows (up to the next
// cursor's row, found by galloping) rather than one row. Runs are gathered
// into chunks of about chunkRows rows, copied column by column: one type
// switch per column and chunk, then a typed loop over the runs. Memory is
// one decoded page per input plus the pages the pending runs hold, so the
// policy bounds the inputs of one merge (Policy.MaxRowsets).
type Merger struct {
	cols    []storage.ColumnMeta
	numKeys int
	mem     memory.Allocator

	heap []*cursor
	runs []run
	n    int // rows in runs

	builders []array.Builder
	valid    []bool // validity scratch

	// Deletes, when set, are the rows of each input to leave out (nil
	// entries: none).
	Deletes []*roaring.Bitmap
	// RowMap, when set (one slice per input, as long as its rows),
	// records where every input row went: RowMap[i][r] is 1 + the output
	// row that row r of input i became, 0 if it was left out.
	RowMap [][]uint32

	// Missing, when set, makes the rows of a segment that lacks a column
	// (one written before the column was added): n rows of column col, an
	// index into the merger's columns, of its type. It is called once per
	// page of such a segment; the merger releases the array. Without it
	// such a segment is an error, as is one that lacks a key column.
	Missing func(col, n int) (arrow.Array, error)

	// ChunkHook, when set, runs before each chunk is emitted (tests).
	ChunkHook func(ctx context.Context)
}

// cursor reads one segment page by page.
type cursor struct {
	idx     int // input order: breaks ties between equal keys
	seg     *storage.Segment
	readers []*storage.ColumnReader
	page    int // current page
	pages   int
	pg      *page
	row, n  int // current row and rows of the current page
	keys    []keyView

	first int64   // the input's row number of the current page's first row
	live  []int32 // rows of the page kept when some are left out; nil: all
}

// page is the decoded arrays of one page of every column. refs counts its
// holders: the cursor while the page is current, and every pending run.
type page struct {
	cols []arrow.Array
	refs int
}

func (p *page) unref() {
	p.refs--
	if p.refs == 0 {
		for _, a := range p.cols {
			a.Release()
		}
	}
}

// run is rows [lo, hi) of a page.
type run struct {
	pg     *page
	lo, hi int
}

// keyKind selects the comparison of a key column.
type keyKind uint8

const (
	keyInt keyKind = iota // every integer-like type, widened to int64
	keyFloat
	keyDecimal
	keyString
	keyBool
)

// keyView is a key column of a cursor's current page, in the form its
// comparison reads.
type keyView struct {
	kind   keyKind
	nulls  []byte // validity bitmap; nil: no nulls
	offset int    // of the array in the bitmap
	ints   []int64
	floats []float64
	decs   []decimal.Decimal128
	strs   *array.String
	bools  *array.Boolean

	scratchInts   []int64
	scratchFloats []float64
}

// Merge merges segs with a new Merger; see Merger.Run.
func Merge(ctx context.Context, segs []*storage.Segment, cols []storage.ColumnMeta, numKeys int, emit func([]arrow.Array) error) (int64, error) {
	return NewMerger(cols, numKeys).Run(ctx, segs, emit)
}

// NewMerger returns a merge of segments holding cols, sorted on the first
// numKeys of them.
func NewMerger(cols []storage.ColumnMeta, numKeys int) *Merger {
	return &Merger{cols: cols, numKeys: numKeys, mem: memory.DefaultAllocator}
}

// Run merges segs (each sorted on the key) and hands the rows, in order,
// to emit in batches. The merger's columns are read from each segment by
// id: a segment's other columns are not read, and one it lacks is an error
// unless Missing makes it (never for a key column). Each
// batch is new arrays, released when emit returns: emit retains what it
// keeps. It returns the number of rows merged. A Merger runs once.
func (m *Merger) Run(ctx context.Context, segs []*storage.Segment, emit func([]arrow.Array) error) (rows int64, err error) {
	defer m.releaseAll()
	m.builders = make([]array.Builder, len(m.cols))
	for i, c := range m.cols {
		m.builders[i] = array.NewBuilder(m.mem, c.Type)
	}
	for i, seg := range segs {
		if seg.NumPages() == 0 {
			continue
		}
		c := &cursor{idx: i, seg: seg, pages: seg.NumPages(), page: -1, keys: make([]keyView, m.numKeys)}
		for k, col := range m.cols {
			r := seg.Column(col.ID)
			if r == nil && (m.Missing == nil || k < m.numKeys) {
				return 0, fmt.Errorf("merging: segment %d of the inputs has no column %d", i, col.ID)
			}
			c.readers = append(c.readers, r) // nil: filled by Missing
		}
		ok, err := m.advance(c)
		if err != nil {
			return 0, err
		}
		if ok {
			m.heap = append(m.heap, c)
		}
	}
	for i := len(m.heap)/2 - 1; i >= 0; i-- {
		m.down(i)
	}

	for len(m.heap) > 0 {
		c := m.heap[0]
		hi := c.n
		if len(m.heap) > 1 {
			o := m.heap[1]
			if len(m.heap) > 2 && m.less(m.heap[2], m.heap[2].row, o, o.row) {
				o = m.heap[2]
			}
			hi = m.runEnd(c, o)
		}
		c.pg.refs++
		m.runs = append(m.runs, run{pg: c.pg, lo: c.row, hi: hi})
		m.n += hi - c.row
		if m.RowMap != nil {
			dst := m.RowMap[c.idx]
			for r := c.row; r < hi; r++ {
				in := int64(r)
				if c.live != nil {
					in = int64(c.live[r])
				}
				rows++
				dst[c.first+in] = uint32(rows)
			}
		} else {
			rows += int64(hi - c.row)
		}
		c.row = hi
		if c.row == c.n {
			ok, err := m.advance(c)
			if err != nil {
				return rows, err
			}
			if !ok {
				last := len(m.heap) - 1
				m.heap[0] = m.heap[last]
				m.heap[last] = nil
				m.heap = m.heap[:last]
			}
		}
		if len(m.heap) > 0 {
			m.down(0)
		}
		if m.n >= chunkRows {
			if err := m.flush(ctx, emit); err != nil {
				return rows, err
			}
		}
	}
	if err := m.flush(ctx, emit); err != nil {
		return rows, err
	}
	return rows, nil
}

// runEnd returns the end of the run cursor c can give up before other
// cursor o's current row: the first row of c's page that must come after
// it. c's current row comes first (c tops the heap).
func (m *Merger) runEnd(c, o *cursor) int {
	if m.lessEq(c, c.n-1, o) {
		return c.n // the rest of the page
	}
	// Gallop, then bisect: runs are often one row long when inputs
	// interleave, and a page long when they do not.
	lo, step := c.row, 1 // rows up to lo come before o
	hi := c.row + step
	for hi < c.n-1 && m.lessEq(c, hi, o) {
		lo = hi
		step *= 2
		hi = c.row + step
	}
	hi = min(hi, c.n-1) // c.n-1 comes after o: checked above
	for lo+1 < hi {
		mid := int(uint(lo+hi) >> 1)
		if m.lessEq(c, mid, o) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// lessEq reports whether row i of c comes before o's current row.
func (m *Merger) lessEq(c *cursor, i int, o *cursor) bool {
	r := m.compare(c, i, o, o.row)
	return r < 0 || r == 0 && c.idx < o.idx
}

// less orders two cursors' rows: by key, then by input order.
func (m *Merger) less(a *cursor, i int, b *cursor, j int) bool {
	r := m.compare(a, i, b, j)
	return r < 0 || r == 0 && a.idx < b.idx
}

func (m *Merger) down(i int) {
	h := m.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		j := l
		if r := l + 1; r < len(h) && m.less(h[r], h[r].row, h[l], h[l].row) {
			j = r
		}
		if !m.less(h[j], h[j].row, h[i], h[i].row) {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

// compare orders row i of a and row j of b by the key, NULLs first, as
// the delta writer sorts (tabletstore's comparator): integers and decimals
// numerically, floats by cmp.Compare, strings bytewise, false before true.
func (m *Merger) compare(a *cursor, i int, b *cursor, j int) int {
	for k := range a.keys {
		x, y := &a.keys[k], &b.keys[k]
		xn := x.nulls != nil && bitutil.BitIsNotSet(x.nulls, x.offset+i)
		yn := y.nulls != nil && bitutil.BitIsNotSet(y.nulls, y.offset+j)
		if xn || yn {
			switch {
			case xn && yn:
				continue
			case xn:
				return -1
			}
			return 1
		}
		var r int
		switch x.kind {
		case keyInt:
			r = cmp.Compare(x.ints[i], y.ints[j])
		case keyFloat:
			r = cmp.Compare(x.floats[i], y.floats[j])
		case keyDecimal:
			r = x.decs[i].Cmp(y.decs[j])
		case keyString:
			r = strings.Compare(x.strs.Value(i), y.strs.Value(j))
		case keyBool:
			r = cmpBool(x.bools.Value(i), y.bools.Value(j))
		}
		if r != 0 {
			return r
		}
	}
	return 0
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// advance moves c to its next page; false when it has none left.
func (m *Merger) advance(c *cursor) (bool, error) {
	if c.pg != nil {
		c.pg.unref()
		c.pg = nil
	}
	c.page++
	if c.page >= c.pages {
		return false, nil
	}
	first, n := c.seg.PageRange(c.page)
	c.first, c.live = first, nil
	if m.Deletes != nil && m.Deletes[c.idx] != nil {
		if c.live = storage.LiveRows(m.Deletes[c.idx], first, n, nil); c.live != nil && len(c.live) == 0 {
			return m.advance(c) // every row of the page is left out
		}
	}
	pg := &page{cols: make([]arrow.Array, len(c.readers)), refs: 1}
	for i, r := range c.readers {
		var a arrow.Array
		var err error
		if r != nil {
			a, err = r.ReadPage(c.page, m.mem)
		} else {
			a, err = m.Missing(i, n)
		}
		if err == nil && c.live != nil {
			var kept arrow.Array
			kept, err = takeRows(a, c.live)
			a.Release()
			a = kept
		}
		if err != nil {
			pg.cols = pg.cols[:i]
			pg.unref()
			return false, fmt.Errorf("merging: reading page %d of column %d: %w", c.page, m.cols[i].ID, err)
		}
		pg.cols[i] = a
	}
	c.pg, c.row, c.n = pg, 0, pg.cols[0].Len()
	for k := range c.keys {
		if err := c.keys[k].set(pg.cols[k]); err != nil {
			return false, err
		}
	}
	if c.n == 0 {
		return m.advance(c)
	}
	return true, nil
}

// set points v at a page's array of a key column.
func (v *keyView) set(a arrow.Array) error {
	v.nulls, v.offset = nil, a.Data().Offset()
	if a.NullN() > 0 {
		v.nulls = a.NullBitmapBytes()
	}
	switch x := a.(type) {
	case *array.Int8:
		v.kind, v.ints = keyInt, widen(&v.scratchInts, x.Int8Values())
	case *array.Int16:
		v.kind, v.ints = keyInt, widen(&v.scratchInts, x.Int16Values())
	case *array.Int32:
		v.kind, v.ints = keyInt, widen(&v.scratchInts, x.Int32Values())
	case *array.Int64:
		v.kind, v.ints = keyInt, x.Int64Values()
	case *array.Date32:
		v.kind, v.ints = keyInt, widen(&v.scratchInts, x.Date32Values())
	case *array.Timestamp:
		v.kind, v.ints = keyInt, widen(&v.scratchInts, x.TimestampValues())
	case *array.Float32:
		v.kind, v.floats = keyFloat, widenFloat(&v.scratchFloats, x.Float32Values())
	case *array.Float64:
		v.kind, v.floats = keyFloat, x.Float64Values()
	case *array.Decimal128:
		v.kind, v.decs = keyDecimal, x.Values()
	case *array.String:
		v.kind, v.strs = keyString, x
	case *array.Boolean:
		v.kind, v.bools = keyBool, x
	default:
		return fmt.Errorf("merging: sort key of arrow type %s", a.DataType())
	}
	return nil
}

type integer interface {
	~int8 | ~int16 | ~int32 | ~int64
}

// widen copies vals into *buf as int64s; the slice is reused per page.
func widen[T integer](buf *[]int64, vals []T) []int64 {
	out := (*buf)[:0]
	for _, x := range vals {
		out = append(out, int64(x))
	}
	*buf = out
	return out
}

func widenFloat(buf *[]float64, vals []float32) []float64 {
	out := (*buf)[:0]
	for _, x := range vals {
		out = append(out, float64(x))
	}
	*buf = out
	return out
}

// flush copies the pending runs into one batch, hands it to emit and lets
// go of the runs' pages.
func (m *Merger) flush(ctx context.Context, emit func([]arrow.Array) error) error {
	if m.n == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.ChunkHook != nil {
		m.ChunkHook(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	out := make([]arrow.Array, len(m.builders))
	defer func() {
		for _, a := range out {
			if a != nil {
				a.Release()
			}
		}
	}()
	for c, b := range m.builders {
		b.Reserve(m.n)
		if err := m.appendRuns(b, c); err != nil {
			return err
		}
		out[c] = b.NewArray()
	}
	for _, r := range m.runs {
		r.pg.unref()
	}
	clear(m.runs)
	m.runs, m.n = m.runs[:0], 0
	return emit(out)
}

// appendRuns copies column c of every pending run into b: one type switch,
// then a typed loop over the runs.
func (m *Merger) appendRuns(b array.Builder, c int) error {
	switch b := b.(type) {
	case *array.Int8Builder:
		appendFixed(m, c, b.AppendValues, (*array.Int8).Int8Values)
	case *array.Int16Builder:
		appendFixed(m, c, b.AppendValues, (*array.Int16).Int16Values)
	case *array.Int32Builder:
		appendFixed(m, c, b.AppendValues, (*array.Int32).Int32Values)
	case *array.Int64Builder:
		appendFixed(m, c, b.AppendValues, (*array.Int64).Int64Values)
	case *array.Float32Builder:
		appendFixed(m, c, b.AppendValues, (*array.Float32).Float32Values)
	case *array.Float64Builder:
		appendFixed(m, c, b.AppendValues, (*array.Float64).Float64Values)
	case *array.Date32Builder:
		appendFixed(m, c, b.AppendValues, (*array.Date32).Date32Values)
	case *array.TimestampBuilder:
		appendFixed(m, c, b.AppendValues, (*array.Timestamp).TimestampValues)
	case *array.Decimal128Builder:
		appendFixed(m, c, b.AppendValues, (*array.Decimal128).Values)
	case *array.StringBuilder:
		size := 0
		for _, r := range m.runs {
			offs := r.pg.cols[c].(*array.String).ValueOffsets()
			size += int(offs[r.hi] - offs[r.lo])
		}
		b.ReserveData(size)
		for _, r := range m.runs {
			s := r.pg.cols[c].(*array.String)
			if s.NullN() == 0 {
				for i := r.lo; i < r.hi; i++ {
					b.Append(s.Value(i))
				}
				continue
			}
			for i := r.lo; i < r.hi; i++ {
				if s.IsNull(i) {
					b.AppendNull()
				} else {
					b.Append(s.Value(i))
				}
			}
		}
	case *array.BooleanBuilder:
		for _, r := range m.runs {
			a := r.pg.cols[c].(*array.Boolean)
			for i := r.lo; i < r.hi; i++ {
				if a.IsNull(i) {
					b.AppendNull()
				} else {
					b.Append(a.Value(i))
				}
			}
		}
	default:
		return fmt.Errorf("merging: column %d of arrow type %s", m.cols[c].ID, m.cols[c].Type)
	}
	return nil
}

// appendFixed copies column c of every pending run of a fixed-width type
// with appendValues (a builder's AppendValues).
func appendFixed[A arrow.Array, T any](m *Merger, c int, appendValues func([]T, []bool), values func(A) []T) {
	for _, r := range m.runs {
		a := r.pg.cols[c].(A)
		appendValues(values(a)[r.lo:r.hi], m.validity(a, r.lo, r.hi))
	}
}

// validity returns the validity of rows [lo, hi) of a, or nil when a has
// no nulls. The slice is reused.
func (m *Merger) validity(a arrow.Array, lo, hi int) []bool {
	if a.NullN() == 0 {
		return nil
	}
	bits, off := a.NullBitmapBytes(), a.Data().Offset()
	m.valid = m.valid[:0]
	for i := lo; i < hi; i++ {
		m.valid = append(m.valid, bitutil.BitIsSet(bits, off+i))
	}
	return m.valid
}

// releaseAll lets go of every page and builder (also after an error).
func (m *Merger) releaseAll() {
	for _, r := range m.runs {
		r.pg.unref()
	}
	m.runs = nil
	for _, c := range m.heap {
		if c.pg != nil {
			c.pg.unref()
			c.pg = nil
		}
	}
	m.heap = nil
	for _, b := range m.builders {
		if b != nil {
			b.Release()
		}
	}
}

// takeRows returns the given rows of a.
func takeRows(a arrow.Array, rows []int32) (arrow.Array, error) {
	b := array.NewInt32Builder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues(rows, nil)
	idx := b.NewArray()
	defer idx.Release()
	return compute.TakeArray(context.Background(), a, idx)
}

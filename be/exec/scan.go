package exec

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// ScanColumn is one output column of a segment scan: the stored column ID,
// its SQL type, and the value to produce where a segment lacks the column
// (added after the segment was written); nil Default means NULL.
type ScanColumn struct {
	ID      uint32
	Type    types.Type
	Default any
}

// fill returns n rows of the column for a segment written before it
// existed: its default, or NULL.
func (sc ScanColumn) fill(n int) (arrow.Array, error) {
	if sc.Default == nil {
		return allNullArray(sc.Type, n), nil
	}
	lit, err := newLiteral(sc.Default, sc.Type)
	if err != nil {
		return nil, fmt.Errorf("default of column %d: %w", sc.ID, err)
	}
	return lit.Eval(nil, &Batch{Len: n})
}

// ScanSpec describes a scan over segments. Filter and Ranges refer to the
// scan's output columns (indexes into Columns).
type ScanSpec struct {
	Segments []*storage.Segment
	// Deletes, when set, is parallel to Segments: the rows of each segment
	// the scan skips (nil: none), e.g. rows a merge-on-write load replaced.
	Deletes []*roaring.Bitmap
	Columns []ScanColumn
	Filter  Expr          // optional; evaluated on the filter's columns first
	Ranges  []ColumnRange // optional; pages whose zone maps miss a range are skipped
	Mem     memory.Allocator
}

// ScanCounters are the EXPLAIN ANALYZE counters of a segment scan.
type ScanCounters struct {
	PagesTotal    atomic.Int64 // pages of all segments considered
	PagesPruned   atomic.Int64 // skipped by zone maps, never read
	PagesFiltered atomic.Int64 // read for the filter, no survivors
	RowsRead      atomic.Int64 // rows of pages whose filter columns were read
	RowsDeleted   atomic.Int64 // rows skipped as deleted (Deletes)
	RowsReturned  atomic.Int64
}

// SegmentScan reads segments page by page, one page per batch, with
// zone-map pruning and late materialization: the filter's columns are read
// and evaluated first, and the other columns only for pages with survivors.
type SegmentScan struct {
	baseStats
	spec     ScanSpec
	schema   []types.Type
	ectx     *EvalContext
	counters ScanCounters

	morsels *morselQueue // set by ParallelScanAgg: pages come from a shared queue
	// dictPages makes string columns of dict- and constant-encoded pages
	// come out as *array.Dictionary (set by ParallelScanAgg, whose
	// consumers all read through views).
	dictPages bool

	// coalesce gathers the survivors of sparse pages into fuller batches
	// (set by ParallelScanAgg); pend holds them per column until emitted.
	coalesce bool
	pend     [][]arrow.Array
	pendRows int
	emitted  []arrow.Array

	conj  []scanConjunct
	pages int // pages filtered
	dictF dictFilter
	sel2  []int32

	filterCols []bool
	lateCols   []int
	seg, page  int
	held       []arrow.Array
	sel        []int32
	live       []int32 // rows of the page not deleted
	// words is the delete bitmap of segment wordsSeg as words, converted
	// on the segment's first page (storage.LiveRowsOf).
	words    storage.DeletedWords
	wordsSeg int
}

// NewSegmentScan returns a scan operator for spec.
func NewSegmentScan(spec ScanSpec) (*SegmentScan, error) {
	s := &SegmentScan{spec: spec}
	if s.spec.Mem == nil {
		s.spec.Mem = memory.DefaultAllocator
	}
	for _, c := range spec.Columns {
		s.schema = append(s.schema, c.Type)
	}
	for _, r := range spec.Ranges {
		if r.Col < 0 || r.Col >= len(spec.Columns) {
			return nil, fmt.Errorf("scan range on column %d of %d", r.Col, len(spec.Columns))
		}
	}
	if spec.Deletes != nil && len(spec.Deletes) != len(spec.Segments) {
		return nil, fmt.Errorf("BUG: scan of %d segments with %d delete bitmaps", len(spec.Segments), len(spec.Deletes))
	}
	s.filterCols = make([]bool, len(spec.Columns))
	if spec.Filter != nil {
		cols, ok := ReferencedColumns(spec.Filter)
		for i := range s.filterCols {
			s.filterCols[i] = !ok || cols[i]
		}
		s.conj = newScanConjuncts(spec.Filter)
	}
	for i, f := range s.filterCols {
		if !f {
			s.lateCols = append(s.lateCols, i)
		}
	}
	return s, nil
}

// Counters returns the scan's counters.
func (s *SegmentScan) Counters() *ScanCounters { return &s.counters }

func (s *SegmentScan) Schema() []types.Type { return s.schema }

func (s *SegmentScan) Open(ctx context.Context) error {
	s.ectx = evalCtxFrom(ctx)
	s.ectx.batchScoped = true
	s.seg, s.page = 0, 0
	return nil
}

func (s *SegmentScan) Close() error {
	s.held = releaseAll(s.held)
	s.emitted = releaseAll(s.emitted)
	for c, parts := range s.pend {
		s.pend[c] = releaseAll(parts)
	}
	s.pendRows = 0
	return nil
}

// pruned reports whether the zone maps of page rule out every range.
func (s *SegmentScan) pruned(seg *storage.Segment, page int) bool {
	for _, r := range s.spec.Ranges {
		sc := s.spec.Columns[r.Col]
		cr := seg.Column(sc.ID)
		var lo, hi any
		if cr == nil {
			if sc.Default == nil {
				return true // all NULL
			}
			d, err := normalizeValue(sc.Default, sc.Type)
			if err != nil {
				continue
			}
			lo, hi = d, d
		} else {
			z := cr.Zone(page)
			if !z.HasMinMax {
				return true
			}
			lo, hi = z.Min, z.Max
		}
		if r.HasMin && cmpValues(hi, r.Min) < 0 || r.HasMax && cmpValues(lo, r.Max) > 0 {
			return true
		}
	}
	return false
}

func (s *SegmentScan) readCol(seg *storage.Segment, page, c, n int) (arrow.Array, error) {
	sc := s.spec.Columns[c]
	cr := seg.Column(sc.ID)
	if cr == nil {
		return sc.fill(n)
	}
	var a arrow.Array
	var err error
	if s.dictPages {
		a, err = cr.ReadPageDict(page, s.spec.Mem)
	} else {
		a, err = cr.ReadPage(page, s.spec.Mem)
	}
	if err != nil {
		return nil, fmt.Errorf("reading column %d page %d: %w", sc.ID, page, err)
	}
	return a, nil
}

// Small batches cost more per row in every operator above the scan (a
// join's probe and output arrays, an aggregation's key views): a coalescing
// scan gathers the survivors of pages that keep fewer than coalesceMin rows
// until it has coalesceTarget of them.
const (
	coalesceMin    = BatchSize / 8
	coalesceTarget = BatchSize / 2
)

func (s *SegmentScan) Next(ctx context.Context, b *Batch) error {
	s.emitted = releaseAll(s.emitted)
	if !s.coalesce {
		return s.nextPage(ctx, b)
	}
	for {
		err := s.nextPage(ctx, b)
		if err == io.EOF {
			if s.pendRows > 0 {
				s.emitPending(b)
				return nil
			}
			return io.EOF
		}
		if err != nil {
			return err
		}
		if b.NumRows() >= coalesceMin && s.pendRows == 0 {
			return nil
		}
		rows := rowsOf(b)
		if s.pend == nil {
			s.pend = make([][]arrow.Array, len(s.schema))
		}
		for c, a := range b.Cols {
			s.pend[c] = append(s.pend[c], take(newView(a, s.schema[c]), rows))
		}
		s.pendRows += len(rows)
		if s.pendRows >= coalesceTarget {
			s.emitPending(b)
			return nil
		}
	}
}

// emitPending makes b of the gathered rows.
func (s *SegmentScan) emitPending(b *Batch) {
	b.Reset()
	for c, parts := range s.pend {
		a := parts[0]
		if len(parts) > 1 {
			var err error
			if a, err = array.Concatenate(parts, memory.DefaultAllocator); err != nil {
				panic(fmt.Sprintf("BUG: concatenating scan batches: %v", err))
			}
			releaseAll(parts)
		}
		s.emitted = append(s.emitted, a)
		b.Cols = append(b.Cols, a)
		s.pend[c] = parts[:0]
	}
	b.Len = s.pendRows
	s.pendRows = 0
}

// nextPage returns the next page with survivors as b.
func (s *SegmentScan) nextPage(ctx context.Context, b *Batch) error {
	s.ectx.endBatch()
	s.held = releaseAll(s.held)
	for {
		var seg *storage.Segment
		var si, page int
		if s.morsels != nil {
			var ok bool
			si, page, ok = s.morsels.take()
			if !ok {
				break
			}
			seg = s.spec.Segments[si]
		} else {
			if s.seg >= len(s.spec.Segments) {
				break
			}
			si, seg = s.seg, s.spec.Segments[s.seg]
			if s.page >= seg.NumPages() {
				s.seg++
				s.page = 0
				continue
			}
			page = s.page
			s.page++
		}
		s.counters.PagesTotal.Add(1)
		if s.pruned(seg, page) {
			s.counters.PagesPruned.Add(1)
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		first, n := seg.PageRange(page)
		live := s.liveRows(si, first, n)
		if live != nil && len(live) == 0 {
			s.counters.PagesFiltered.Add(1)
			continue
		}
		b.Reset()
		b.Len = n
		cols := make([]arrow.Array, len(s.spec.Columns))
		rows := live
		if s.spec.Filter != nil {
			for c, f := range s.filterCols {
				if !f {
					continue
				}
				a, err := s.readCol(seg, page, c, n)
				if err != nil {
					return err
				}
				s.held = append(s.held, a)
				cols[c] = a
			}
			s.counters.RowsRead.Add(int64(n))
			b.Cols = cols
			var err error
			if rows, err = s.filter(b, n, live); err != nil {
				return err
			}
			if len(rows) == 0 {
				s.counters.PagesFiltered.Add(1)
				s.ectx.endBatch()
				s.held = releaseAll(s.held)
				continue
			}
			for _, c := range s.lateCols {
				a, err := s.readCol(seg, page, c, n)
				if err != nil {
					return err
				}
				s.held = append(s.held, a)
				cols[c] = a
			}
		} else {
			for c := range cols {
				a, err := s.readCol(seg, page, c, n)
				if err != nil {
					return err
				}
				s.held = append(s.held, a)
				cols[c] = a
			}
			s.counters.RowsRead.Add(int64(n))
		}
		b.Cols = cols
		if rows != nil && len(rows) < n {
			b.Sel = rows
		}
		s.counters.RowsReturned.Add(int64(b.NumRows()))
		return nil
	}
	b.Reset()
	return io.EOF
}

// liveRows returns the rows of a page (n rows from row first of segment si)
// that are not deleted, or nil when all are live.
func (s *SegmentScan) liveRows(si int, first int64, n int) []int32 {
	if s.spec.Deletes == nil {
		return nil
	}
	if s.words == nil || s.wordsSeg != si {
		s.words, s.wordsSeg = storage.Words(s.spec.Deletes[si]), si
	}
	live := storage.LiveRowsOf(s.words, first, n, s.live)
	if live != nil {
		s.live = live
		s.counters.RowsDeleted.Add(int64(n - len(live)))
	}
	return live
}

// filter returns the rows of the page in b (n rows) that pass the filter,
// term by term, each term on the survivors of the ones before it; a term
// of one dictionary-coded column is evaluated per dictionary entry when the
// dictionary is no larger than the rows left.
func (s *SegmentScan) filter(b *Batch, n int, live []int32) ([]int32, error) {
	if cap(s.sel) < n {
		s.sel = make([]int32, 0, n)
		s.sel2 = make([]int32, 0, n)
	}
	rows := identRows(n)
	if live != nil {
		rows = live
	}
	bufs := [2][]int32{s.sel, s.sel2}
	s.pages++
	if s.pages%adaptEvery == 0 {
		s.adaptFilter()
	}
	k := 0
	for i := range s.conj {
		c := &s.conj[i]
		if c.off {
			continue
		}
		out := bufs[k%2][:0]
		k++
		var err error
		if d, ok := dictColumn(b, c.col); ok && d.Dictionary().Len() <= len(rows) {
			out, err = s.dictF.selectDict(s.ectx, c.pred, c.col, b, d, rows, out)
		} else {
			out, err = selectTrue(s.ectx, c.pred, b, rows, out)
		}
		if err != nil {
			return nil, err
		}
		c.in += int64(len(rows))
		c.out += int64(len(out))
		rows = out
		if len(rows) == 0 {
			break
		}
	}
	return rows, nil
}

// adaptEvery is how many filtered pages a scan reads between looks at how
// its filter terms perform.
const adaptEvery = 16

// adaptFilter puts the runtime filters first, ordered by the share of rows
// they passed so far, most selective first, and turns off those that pass
// nine rows in ten or more (their joins drop the same rows anyway). The
// query's own terms keep their order: an earlier term may guard a later
// one against an error (d <> 0 AND x / d > 1).
func (s *SegmentScan) adaptFilter() {
	rate := func(c *scanConjunct) float64 {
		if c.in == 0 {
			return 1
		}
		return float64(c.out) / float64(c.in)
	}
	for i := range s.conj {
		c := &s.conj[i]
		if c.optional && c.in >= 4096 && rate(c) >= 0.9 {
			c.off = true
		}
	}
	slices.SortStableFunc(s.conj, func(a, b scanConjunct) int {
		if a.optional != b.optional {
			if a.optional {
				return -1
			}
			return 1
		}
		if !a.optional {
			return 0
		}
		return cmp.Compare(rate(&a), rate(&b))
	})
}

// dictColumn returns column col of b when it is dictionary-coded.
func dictColumn(b *Batch, col int) (*array.Dictionary, bool) {
	if col < 0 {
		return nil, false
	}
	d, ok := b.Cols[col].(*array.Dictionary)
	return d, ok
}

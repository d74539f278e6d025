package exec

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"golang.org/x/sync/errgroup"

	"github.com/strata-db/strata/types"
)

// morselQueue hands out (segment, page) pairs to scan workers.
type morselQueue struct {
	segs  []int
	pages []int
	next  atomic.Int64
}

func newMorselQueue(spec *ScanSpec) *morselQueue {
	q := &morselQueue{}
	for si, s := range spec.Segments {
		for p := 0; p < s.NumPages(); p++ {
			q.segs = append(q.segs, si)
			q.pages = append(q.pages, p)
		}
	}
	return q
}

func (q *morselQueue) take() (seg, page int, ok bool) {
	i := int(q.next.Add(1) - 1)
	if i >= len(q.segs) {
		return 0, 0, false
	}
	return q.segs[i], q.pages[i], true
}

// ParallelScanAgg scans segments with several workers, each pulling pages
// from a shared queue into its own partial aggregation; the partial results
// are then merged by a final aggregation. Its output equals that of
// NewHashAgg(NewSegmentScan(spec), groupBy, aggs) up to row order.
//
// Supported aggregates: count, sum, min, max, avg, any_value and the BITMAP
// and HLL aggregates (not DISTINCT, not group_concat); [NewParallelScanAgg]
// reports others as an error so the planner can fall back to the serial
// plan. See [PartialAggregate] for how each splits into a partial and a
// final phase.
type ParallelScanAgg struct {
	baseStats
	spec    ScanSpec
	groupBy []Expr
	aggs    []AggSpec
	workers int
	schema  []types.Type

	pipe *Pipeline

	scans          []*SegmentScan
	final          Operator
	partial        [][]arrow.Array
	ctx            context.Context
	tables         []*JoinTable
	runtimeFilters []*RuntimeFilter
}

// NewParallelScanAgg returns the parallel form of a scan plus aggregation
// with the given number of workers (at least 1).
func NewParallelScanAgg(spec ScanSpec, groupBy []Expr, aggs []AggSpec, workers int) (*ParallelScanAgg, error) {
	return NewParallelPipelineAgg(spec, nil, groupBy, aggs, workers)
}

// NewParallelPipelineAgg is NewParallelScanAgg with the operators of pipe
// (joins, filters, projections; nil for none) between each worker's scan and
// its partial aggregation. groupBy and aggs are over the pipeline's output.
func NewParallelPipelineAgg(spec ScanSpec, pipe *Pipeline, groupBy []Expr, aggs []AggSpec, workers int) (*ParallelScanAgg, error) {
	if workers < 1 {
		workers = 1
	}
	for _, a := range aggs {
		if !PartialAggregate(a.Func) {
			return nil, fmt.Errorf("parallel aggregation does not support %s", a.Func)
		}
		if a.Distinct {
			return nil, fmt.Errorf("parallel aggregation does not support %s(DISTINCT)", a.Func)
		}
	}
	// The serial operator defines the output schema.
	scan, err := NewSegmentScan(spec)
	if err != nil {
		return nil, err
	}
	var probe Operator = scan
	if pipe != nil {
		probe, err = pipe.Build(scan, func(i int, probe Operator) (Operator, error) {
			j := pipe.Joins[i]
			return NewHashJoin(j.Build, probe, j.Kind, j.BuildKeys, j.ProbeKeys, j.Other)
		})
		if err != nil {
			return nil, err
		}
	}
	serial, err := NewHashAgg(probe, groupBy, aggs)
	if err != nil {
		return nil, err
	}
	return &ParallelScanAgg{spec: spec, pipe: pipe, groupBy: groupBy, aggs: aggs, workers: workers, schema: serial.Schema()}, nil
}

func (p *ParallelScanAgg) Schema() []types.Type { return p.schema }

// PartialAggregate reports whether an aggregate (not DISTINCT) can run as
// a partial aggregation per worker merged by a final one:
//
//	count, sum              partial count / sum, final sum
//	avg                     partial sum and count, final sum / sum
//	min, max, any_value     the same in both phases
//	bitmap_union            partial bitmap_union, final bitmap_union
//	bitmap_union_count      partial bitmap_union, final bitmap_union_count
//	bitmap_intersect        partial bitmap_intersect_state (NULL for a group
//	                        a worker saw no value of), final bitmap_intersect
//	group_bitmap_xor        the same in both phases
//	bitmap_agg              partial bitmap_agg, final bitmap_union
//	bitmap_union_int        partial bitmap_agg, final bitmap_union_count
//	hll_union, hll_raw_agg  partial hll_union, final hll_union
//	hll_union_agg           partial hll_union, final hll_union_agg
//	approx_count_distinct   partial approx_count_distinct_state (the HLL of
//	  and ndv               the values), final hll_union_agg
func PartialAggregate(fn string) bool {
	_, _, ok := splitAggregate(strings.ToLower(fn))
	return ok
}

// splitAggregate returns the partial and final aggregates of fn (lower
// case); avg is split by partialAggs itself.
func splitAggregate(fn string) (partial, final string, ok bool) {
	switch fn {
	case "count", "sum":
		return fn, "sum", true
	case "avg", "min", "max", "any_value", "any", "bitmap_union", "group_bitmap_xor", "hll_union":
		return fn, fn, true
	case "bitmap_union_count":
		return "bitmap_union", fn, true
	case "bitmap_intersect":
		return aggBitmapIntersectState, fn, true
	case "bitmap_agg":
		return fn, "bitmap_union", true
	case "bitmap_union_int":
		return "bitmap_agg", "bitmap_union_count", true
	case "hll_raw_agg":
		return "hll_union", "hll_union", true
	case "hll_union_agg":
		return "hll_union", fn, true
	case "approx_count_distinct", "ndv":
		return aggApproxDistinctState, "hll_union_agg", true
	}
	return "", "", false
}

// partialAggs returns the per-worker aggregates, for each the aggregate of
// the final phase over its column, and how each output aggregate is
// rebuilt: indexes of its partial columns.
func (p *ParallelScanAgg) partialAggs() (partial []AggSpec, finals []string, parts [][]int) {
	for _, a := range p.aggs {
		fn := strings.ToLower(a.Func)
		if fn == "avg" {
			parts = append(parts, []int{len(partial), len(partial) + 1})
			partial = append(partial, AggSpec{Func: "sum", Args: a.Args}, AggSpec{Func: "count", Args: a.Args})
			finals = append(finals, "sum", "sum")
			continue
		}
		pf, ff, ok := splitAggregate(fn)
		if !ok {
			panic("BUG: parallel aggregation of " + a.Func)
		}
		parts = append(parts, []int{len(partial)})
		partial = append(partial, AggSpec{Func: pf, Args: a.Args})
		finals = append(finals, ff)
	}
	return partial, finals, parts
}

func (p *ParallelScanAgg) Open(ctx context.Context) error {
	p.ctx = ctx
	q := newMorselQueue(&p.spec)
	partialSpecs, finals, parts := p.partialAggs()
	ng := len(p.groupBy)
	var mu sync.Mutex
	var batches [][]arrow.Array
	var partialSchema []types.Type
	g, gctx := errgroup.WithContext(ctx)
	p.scans = nil
	spec := p.spec
	if spec.Mem == nil {
		// Pages live for one batch and everything downstream copies what it
		// keeps (group keys, min/max strings), so their buffers can be
		// recycled.
		spec.Mem = pagePool
	}
	var join func(int, Operator) (Operator, error)
	if p.pipe != nil {
		var err error
		if spec, join, err = p.buildJoins(ctx, spec); err != nil {
			return err
		}
	}
	for w := 0; w < p.workers; w++ {
		scan, err := NewSegmentScan(spec)
		if err != nil {
			return err
		}
		scan.morsels = q
		scan.dictPages = true
		// Joins pay per batch (probe, output arrays); a plain aggregation
		// keeps the pages' dictionary codes instead.
		scan.coalesce = p.pipe != nil && len(p.pipe.Joins) > 0
		p.scans = append(p.scans, scan)
		var child Operator = scan
		if p.pipe != nil {
			if child, err = p.pipe.Build(scan, join); err != nil {
				return err
			}
		}
		agg, err := NewHashAgg(child, p.groupBy, partialSpecs)
		if err != nil {
			return err
		}
		partialSchema = agg.Schema()
		g.Go(func() error {
			return Drain(gctx, agg, func(b *Batch) error {
				cols := make([]arrow.Array, len(b.Cols))
				for i, c := range b.Cols {
					c.Retain()
					cols[i] = c
				}
				mu.Lock()
				batches = append(batches, cols)
				mu.Unlock()
				return nil
			})
		})
	}
	if err := g.Wait(); err != nil {
		p.release(batches)
		return err
	}
	p.partial = batches
	// Final phase: group by the partial group columns and merge.
	var finalGroup []Expr
	for i := 0; i < ng; i++ {
		finalGroup = append(finalGroup, NewColumnRef(i, partialSchema[i]))
	}
	var finalAggs []AggSpec
	for i := range partialSpecs {
		c := NewColumnRef(ng+i, partialSchema[ng+i])
		finalAggs = append(finalAggs, AggSpec{Func: finals[i], Args: []Expr{c}})
	}
	replay := &replayOp{schema: partialSchema, batches: batches}
	final, err := NewHashAgg(replay, finalGroup, finalAggs)
	if err != nil {
		return err
	}
	fs := final.Schema()
	var out []Expr
	for i := 0; i < ng; i++ {
		out = append(out, NewColumnRef(i, fs[i]))
	}
	for ai, a := range p.aggs {
		pc := parts[ai]
		c := NewColumnRef(ng+pc[0], fs[ng+pc[0]])
		if strings.EqualFold(a.Func, "avg") {
			cnt := NewColumnRef(ng+pc[1], fs[ng+pc[1]])
			e, err := NewArith(OpDiv, c, cnt)
			if err != nil {
				return err
			}
			if e.Type() != p.schema[ng+ai] {
				e = Coerce(e, p.schema[ng+ai])
			}
			out = append(out, e)
			continue
		}
		if c.Type() != p.schema[ng+ai] {
			out = append(out, Coerce(c, p.schema[ng+ai]))
		} else {
			out = append(out, c)
		}
	}
	p.final = NewProject(final, out)
	return p.final.Open(ctx)
}

func (p *ParallelScanAgg) release(batches [][]arrow.Array) {
	for _, cols := range batches {
		releaseAll(cols)
	}
}

func (p *ParallelScanAgg) Next(ctx context.Context, b *Batch) error {
	return Next(ctx, p.final, b)
}

func (p *ParallelScanAgg) Close() error {
	var err error
	if p.final != nil {
		err = p.final.Close()
		p.final = nil
	}
	p.release(p.partial)
	p.partial = nil
	p.releaseTables()
	return err
}

// Counters sums the scan counters of the workers.
func (p *ParallelScanAgg) Counters() (pagesTotal, pagesPruned, rowsRead int64) {
	for _, s := range p.scans {
		pagesTotal += s.counters.PagesTotal.Load()
		pagesPruned += s.counters.PagesPruned.Load()
		rowsRead += s.counters.RowsRead.Load()
	}
	return
}

// replayOp produces retained batches (owned by its creator).
type replayOp struct {
	baseStats
	schema  []types.Type
	batches [][]arrow.Array
	pos     int
}

func (r *replayOp) Schema() []types.Type       { return r.schema }
func (r *replayOp) Open(context.Context) error { r.pos = 0; return nil }
func (r *replayOp) Close() error               { return nil }
func (r *replayOp) Next(_ context.Context, b *Batch) error {
	b.Reset()
	if r.pos >= len(r.batches) {
		return io.EOF
	}
	cols := r.batches[r.pos]
	r.pos++
	b.Cols = append(b.Cols, cols...)
	if len(cols) > 0 {
		b.Len = cols[0].Len()
	}
	return nil
}

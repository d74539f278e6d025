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
	// partialOnly: the operator outputs the partial results as they are
	// (see NewParallelPipelinePartialAgg); schema is theirs.
	partialOnly bool

	scans          []*SegmentScan
	final          Operator
	partial        [][]arrow.Array
	ctx            context.Context
	tables         []*JoinTable
	runtimeFilters []*RuntimeFilter
	// workerAggs are the workers' partial aggregations (each over its
	// scan and pipeline), kept for the profile.
	workerAggs []Operator
	// mem is the tracker charged for partial (nil: none) and partialBytes
	// what was charged.
	mem          *MemTracker
	partialBytes atomic.Int64
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
	return newParallelAgg(spec, pipe, groupBy, aggs, workers, false)
}

// NewParallelPipelinePartialAgg is the partial phase of
// NewParallelPipelineAgg alone: it outputs every worker's partial results
// (the group keys, then the partial aggregates of [SplitAggregates]), for
// a final phase ([NewFinalAgg]) that runs elsewhere over them and over the
// partial results of other scans of the same table. A global aggregation
// (no groupBy) outputs one row per worker.
func NewParallelPipelinePartialAgg(spec ScanSpec, pipe *Pipeline, groupBy []Expr, aggs []AggSpec, workers int) (*ParallelScanAgg, error) {
	return newParallelAgg(spec, pipe, groupBy, aggs, workers, true)
}

func newParallelAgg(spec ScanSpec, pipe *Pipeline, groupBy []Expr, aggs []AggSpec, workers int, partialOnly bool) (*ParallelScanAgg, error) {
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
	p := &ParallelScanAgg{spec: spec, pipe: pipe, groupBy: groupBy, aggs: aggs, workers: workers, schema: serial.Schema(), partialOnly: partialOnly}
	if partialOnly {
		partial, _, _ := SplitAggregates(aggs)
		agg, err := NewHashAgg(probe, groupBy, partial)
		if err != nil {
			return nil, err
		}
		p.schema = agg.Schema()
	}
	return p, nil
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
// case); avg is split by SplitAggregates itself.
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

// SplitAggregates splits aggregates that allow it (see [PartialAggregate])
// into their partial phase and their final one: the partial aggregates
// (over the same arguments), for each the aggregate of the final phase over
// its column, and how each aggregate of aggs is rebuilt from the final
// phase: the indexes of its partial columns (two for avg, a sum and a
// count, one for the others). It panics on an aggregate that does not
// split, which callers check first.
func SplitAggregates(aggs []AggSpec) (partial []AggSpec, finals []string, parts [][]int) {
	for _, a := range aggs {
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
	partialSpecs, _, _ := SplitAggregates(p.aggs)
	var mu sync.Mutex
	var batches [][]arrow.Array
	var partialSchema []types.Type
	g, gctx := errgroup.WithContext(ctx)
	p.scans, p.workerAggs = nil, nil
	p.mem = MemTrackerFrom(ctx)
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
		p.workerAggs = append(p.workerAggs, agg)
		g.Go(func() error {
			return Drain(gctx, agg, func(b *Batch) error {
				if p.mem != nil {
					n := ArraysBytes(b.Cols)
					if err := p.mem.Consume(n, "ParallelScanAgg partial results"); err != nil {
						return err
					}
					p.partialBytes.Add(n)
				}
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
	replay := &replayOp{schema: partialSchema, batches: batches}
	if p.partialOnly {
		p.final = replay
		return p.final.Open(ctx)
	}
	final, err := NewFinalAgg(replay, len(p.groupBy), p.aggs, p.schema)
	if err != nil {
		return err
	}
	p.final = final
	return p.final.Open(ctx)
}

// NewFinalAgg returns the final phase of aggregates split by
// [SplitAggregates] over partial, whose rows are partial results: the
// numGroups group keys, then the partial aggregates. Rows of one group may
// come from any number of partial aggregations. out is the schema of the
// unsplit aggregation (group keys, then aggs), which the output has.
func NewFinalAgg(partial Operator, numGroups int, aggs []AggSpec, out []types.Type) (Operator, error) {
	partialSpecs, finals, parts := SplitAggregates(aggs)
	partialSchema := partial.Schema()
	ng := numGroups
	if len(partialSchema) != ng+len(partialSpecs) || len(out) != ng+len(aggs) {
		return nil, fmt.Errorf("BUG: final aggregation of %d columns (%d groups, %d partial aggregates) into %d", len(partialSchema), ng, len(partialSpecs), len(out))
	}
	// Group by the partial group columns and merge.
	var finalGroup []Expr
	for i := 0; i < ng; i++ {
		finalGroup = append(finalGroup, NewColumnRef(i, partialSchema[i]))
	}
	var finalAggs []AggSpec
	for i := range partialSpecs {
		c := NewColumnRef(ng+i, partialSchema[ng+i])
		finalAggs = append(finalAggs, AggSpec{Func: finals[i], Args: []Expr{c}})
	}
	final, err := NewHashAgg(partial, finalGroup, finalAggs)
	if err != nil {
		return nil, err
	}
	fs := final.Schema()
	var exprs []Expr
	for i := 0; i < ng; i++ {
		exprs = append(exprs, NewColumnRef(i, fs[i]))
	}
	for ai, a := range aggs {
		pc := parts[ai]
		c := NewColumnRef(ng+pc[0], fs[ng+pc[0]])
		if strings.EqualFold(a.Func, "avg") {
			cnt := NewColumnRef(ng+pc[1], fs[ng+pc[1]])
			e, err := NewArith(OpDiv, c, cnt)
			if err != nil {
				return nil, err
			}
			if e.Type() != out[ng+ai] {
				e = Coerce(e, out[ng+ai])
			}
			exprs = append(exprs, e)
			continue
		}
		if c.Type() != out[ng+ai] {
			exprs = append(exprs, Coerce(c, out[ng+ai]))
		} else {
			exprs = append(exprs, c)
		}
	}
	return NewProject(final, exprs), nil
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
	p.mem.Release(p.partialBytes.Swap(0))
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

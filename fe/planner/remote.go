package planner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"golang.org/x/sync/errgroup"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/types"
)

// Remote runs plan fragments on the backends that hold the tablets they
// read. A planner with a Remote (see Planner.SetRemote) cuts the plans it
// builds: each scan that reads tablets, with the operators above it that
// a backend can run over its rows alone (see [Fragment]), becomes one
// fragment instance per backend, each reading the tablets whose first
// replica that backend is; a gather operator at the coordinator takes
// their place and merges their output. Join build sides, sorts, limits,
// final and DISTINCT aggregations, unions and system tables run at the
// coordinator.
//
// An instance that fails before any of its rows went up the plan, with an
// error for which another replica may do better ([IsRetryable]), is run
// again on the next replicas of its tablets (grouped anew by backend).
// The output of a partial aggregation is collected whole before the final
// phase reads it, and so are the rows of a fragment that become a join's
// build side, so such an instance can always run again; an instance whose
// rows stream up the plan and that fails after some went up fails the
// query, naming the backend.
//
// The methods may be called from several goroutines at once.
type Remote interface {
	// Replicas lists the backends holding a replica of the tablet that may
	// serve reads, best first.
	Replicas(tabletID int64) []int64
	// Run starts f on backend be and streams its output. The transport
	// sends f encoded as JSON and f.Inputs as Arrow streams, which the
	// backend hands to RunFragment; f and its inputs stay valid until the
	// stream is closed. Canceling ctx cancels the fragment.
	Run(ctx context.Context, be int64, f *Fragment) (FragmentStream, error)
}

// FragmentStream is the output of a running fragment instance.
type FragmentStream interface {
	// Next returns the next batch: equal-length dense columns (no
	// selection, no dictionary arrays) of the types f.Output lists, which
	// the caller owns and releases; nil at the end of the output.
	Next(ctx context.Context) ([]arrow.Array, error)
	// Close ends the stream, canceling the fragment if it still runs. It
	// is called once, whether or not Next reached the end.
	Close() error
}

// RetryableError is implemented by errors after which a fragment instance
// may succeed on another replica of its tablets: a backend that is down or
// unreachable, a replica that lacks a tablet's version. A transport keeps
// the mark across the wire.
type RetryableError interface {
	error
	Retryable() bool
}

// ErrVersionMissing is matched (errors.Is) by the error of a backend whose
// replica of a tablet does not hold the version a fragment reads; it is
// retryable.
var ErrVersionMissing = errors.New("tablet version missing on this replica")

// IsRetryable reports whether a fragment instance that failed with err may
// run again on other replicas.
func IsRetryable(err error) bool {
	if errors.Is(err, ErrVersionMissing) {
		return true
	}
	var r RetryableError
	return errors.As(err, &r) && r.Retryable()
}

// fragmentCut is a part of a plan that runs as a fragment: a scan, the
// spine above it (probeSpine's, top first, top the spine's top), and the
// aggregation over top whose partial phase runs with it, if any.
type fragmentCut struct {
	top   node
	scan  *scanNode
	spine []node
	agg   *aggNode
}

// cutFragment returns the fragment whose top n is, or nil. A node is the
// top of a fragment when a scan lies under it through filters,
// projections and the probe sides of joins; an aggregation over such a
// node is when its aggregates split into partial and final phases. Build
// and EXPLAIN walk the plan from the root, so the first node they meet on
// a path is the largest fragment there. A scan that reads no tablet is no
// fragment: it is built where it is planned.
func cutFragment(n node) *fragmentCut {
	switch v := n.(type) {
	case *aggNode:
		s, spine := probeSpine(v.child)
		if s == nil || !splitsAggregates(v) || !readsTablets(s) {
			return nil
		}
		return &fragmentCut{top: v.child, scan: s, spine: spine, agg: v}
	case *scanNode, *filterNode, *projectNode, *joinNode:
		s, spine := probeSpine(n)
		if s == nil || !readsTablets(s) || len(n.columns()) == 0 {
			return nil
		}
		return &fragmentCut{top: n, scan: s, spine: spine}
	}
	return nil
}

// splitsAggregates reports whether every aggregate of v has a partial
// phase (as parallelAgg requires).
func splitsAggregates(v *aggNode) bool {
	for _, a := range v.aggs {
		if !exec.PartialAggregate(a.fn) || a.distinct || a.fn == "group_concat" {
			return false
		}
	}
	return true
}

func readsTablets(s *scanNode) bool {
	for _, pi := range s.partitions {
		if len(s.table.Partitions[pi].Tablets) > 0 {
			return true
		}
	}
	return false
}

// buildRemote builds a fragment's gather operator and, for a partial
// aggregation, the final phase over it. The join build sides of the spine
// are built here (they may be fragments themselves) and run when the
// gather opens.
func (p *Planner) buildRemote(cut *fragmentCut, x *Execution) (op exec.Operator, err error) {
	x.fragments++
	s := cut.scan
	t := *s.table
	t.Partitions, t.Indexes, t.AlterJobs = nil, nil, nil
	f := Fragment{
		ID: x.fragments,
		Scan: FragmentScan{DB: s.db, Table: &t, Index: s.index, Columns: s.colIdx,
			Filters: exprsOf(s.filters), Unfolded: s.unfolded},
		Settings: FragmentSettings{SkipDeleteSign: p.keepDeleteSigns()},
	}
	var builds []exec.Operator
	defer func() {
		if err != nil {
			for _, b := range builds {
				_ = b.Close()
			}
		}
	}()
	for k := len(cut.spine) - 1; k >= 0; k-- {
		switch v := cut.spine[k].(type) {
		case *filterNode:
			e := exprOf(v.pred)
			f.Steps = append(f.Steps, FragmentStep{Kind: StepFilter, Filter: &e})
		case *projectNode:
			f.Steps = append(f.Steps, FragmentStep{Kind: StepProject, Project: exprsOf(v.exprs)})
		case *joinNode:
			b, err := p.build(v.right, x)
			if err != nil {
				return nil, err
			}
			if rg, ok := b.(*gatherOp); ok {
				// Its rows are collected whole before they are sent.
				rg.whole = true
			}
			builds = append(builds, b)
			in := typesOf(v.right.columns())
			if !slices.Equal(b.Schema(), in) {
				return nil, fmt.Errorf("BUG: join build side outputs %v, planned as %v", b.Schema(), in)
			}
			kind := "inner"
			if v.kind == exec.JoinLeft {
				kind = "left"
			}
			j := &FragmentJoin{Kind: kind, Input: len(f.InputTypes), ProbeKeys: exprsOf(v.leftKeys), BuildKeys: exprsOf(v.rightKeys)}
			if v.other != nil {
				o := exprOf(v.other)
				j.Other = &o
			}
			f.InputTypes = append(f.InputTypes, in)
			f.Steps = append(f.Steps, FragmentStep{Kind: StepJoin, Join: j})
		default:
			return nil, fmt.Errorf("BUG: %T in a fragment's spine", v)
		}
	}
	g := &gatherOp{remote: p.remote, frag: f, tablets: scanTablets(s), builds: builds}
	if cut.agg == nil {
		g.schema = typesOf(cut.top.columns())
		g.frag.Output = g.schema
		return g, nil
	}
	v := cut.agg
	aggs, groups := aggSpecs(v), compileAll(v.groups)
	in := exec.NewValuesFromArrays(typesOf(cut.top.columns()), nil)
	partial, _, _ := exec.SplitAggregates(aggs)
	ph, err := exec.NewHashAgg(in, groups, partial)
	if err != nil {
		return nil, err
	}
	full, err := exec.NewHashAgg(in, groups, aggs)
	if err != nil {
		return nil, err
	}
	g.whole = true
	g.schema = ph.Schema()
	g.frag.Output = g.schema
	fa := &FragmentAgg{Groups: exprsOf(v.groups)}
	for _, a := range v.aggs {
		fa.Aggs = append(fa.Aggs, FragmentAggCall{Func: a.fn, Args: exprsOf(a.args)})
	}
	g.frag.Agg = fa
	return exec.NewFinalAgg(g, len(groups), aggs, full.Schema())
}

// gatherOp runs the instances of a fragment and outputs their rows: as
// they come, or all at once after every instance finished (whole).
type gatherOp struct {
	// Immutable after construction.
	remote  Remote
	frag    Fragment // Tablets, Inputs and the time settings are set per run
	tablets []FragmentTablet
	builds  []exec.Operator // join build sides, run at Open
	// whole: every instance's output is collected whole before any goes
	// up (partial aggregates; rows that become a broadcast input), so an
	// instance can always run again.
	whole  bool
	schema []types.Type

	// Set by Open before the instances start, read by them.
	inputs   []FragmentInput
	drained  int // builds run to the end (closed)
	cancel   context.CancelFunc
	replicas [][]int64 // by tablet index
	rows     chan []arrow.Array
	done     chan struct{} // closed when every instance ended; err is then set
	err      error

	// Used by Next and Close only.
	pos  int           // whole: the next batch to output
	held []arrow.Array // streaming: the batch last output

	mu      sync.Mutex // protects the following fields
	tried   []map[int64]bool
	batches [][]arrow.Array // whole: every instance's output
}

// instance is a fragment instance: a backend and the tablets it reads
// (indexes into gatherOp.tablets).
type instance struct {
	be      int64
	tablets []int
}

func (g *gatherOp) Schema() []types.Type { return g.schema }

func (g *gatherOp) Open(ctx context.Context) error {
	g.frag.Settings.Now, g.frag.Settings.TimeZone = querySettings(ctx)
	for _, b := range g.builds {
		in, err := collectDense(ctx, b)
		g.drained++
		if err != nil {
			return err
		}
		g.inputs = append(g.inputs, in)
	}
	g.frag.Inputs = g.inputs
	g.replicas = make([][]int64, len(g.tablets))
	g.tried = make([]map[int64]bool, len(g.tablets))
	byBE := map[int64][]int{}
	for i, t := range g.tablets {
		g.replicas[i] = g.remote.Replicas(t.ID)
		if len(g.replicas[i]) == 0 {
			return fmt.Errorf("fragment %d: tablet %d has no replica to read", g.frag.ID, t.ID)
		}
		be := g.replicas[i][0]
		byBE[be] = append(byBE[be], i)
	}
	ctx, g.cancel = context.WithCancel(ctx)
	eg, ectx := errgroup.WithContext(ctx)
	g.done = make(chan struct{})
	if !g.whole {
		g.rows = make(chan []arrow.Array, 2*len(byBE))
	}
	for _, inst := range groupInstances(byBE) {
		eg.Go(func() error { return g.run(ectx, eg, inst) })
	}
	go func() {
		g.err = eg.Wait()
		if g.rows != nil {
			close(g.rows)
		}
		close(g.done)
	}()
	if g.whole {
		<-g.done
		return g.err
	}
	return nil
}

// querySettings are the query's start and time zone, from the
// EvalContext the query runs with.
func querySettings(ctx context.Context) (time.Time, string) {
	now, loc := time.Now(), time.Local
	if ec := exec.QueryEvalContext(ctx); ec != nil {
		if !ec.Now.IsZero() {
			now = ec.Now
		}
		if ec.TimeZone != nil {
			loc = ec.TimeZone
		}
	}
	return now, zoneName(loc, now)
}

// zoneName names loc as TimeZone resolves it: SYSTEM for the process's
// zone (backends are expected to share it), its name when that resolves
// to the same offset, else its offset at t.
func zoneName(loc *time.Location, t time.Time) string {
	if loc == time.Local {
		return "SYSTEM"
	}
	name := loc.String()
	_, off := t.In(loc).Zone()
	if r := TimeZone(name); r != time.Local {
		if _, roff := t.In(r).Zone(); roff == off {
			return name
		}
	}
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off%3600/60)
}

// collectDense runs op to the end and keeps its rows as dense columns.
func collectDense(ctx context.Context, op exec.Operator) (FragmentInput, error) {
	var in FragmentInput
	ts := op.Schema()
	err := exec.Drain(ctx, op, func(b *exec.Batch) error {
		in.Batches = append(in.Batches, exec.DenseColumns(b, ts))
		return nil
	})
	if err != nil {
		releaseBatches(in.Batches)
		return FragmentInput{}, err
	}
	return in, nil
}

// groupInstances orders instances by backend, for runs that repeat.
func groupInstances(byBE map[int64][]int) []instance {
	out := make([]instance, 0, len(byBE))
	for be, ts := range byBE {
		out = append(out, instance{be: be, tablets: ts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].be < out[j].be })
	return out
}

// run runs an instance to the end, again on other replicas as long as it
// fails with retryable errors before any of its rows went up.
func (g *gatherOp) run(ctx context.Context, eg *errgroup.Group, inst instance) error {
	for {
		passed, err := g.attempt(ctx, inst)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		if passed {
			return fmt.Errorf("fragment %d on backend %d failed after sending rows, so it cannot be run again: %w", g.frag.ID, inst.be, err)
		}
		if !IsRetryable(err) {
			return fmt.Errorf("fragment %d on backend %d: %w", g.frag.ID, inst.be, err)
		}
		next, err := g.regroup(inst, err)
		if err != nil {
			return err
		}
		for _, o := range next[1:] {
			eg.Go(func() error { return g.run(ctx, eg, o) })
		}
		inst = next[0]
	}
}

// regroup moves the tablets of an instance that failed on its backend to
// their next replicas not tried yet, grouped by backend.
func (g *gatherOp) regroup(inst instance, cause error) ([]instance, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	byBE := map[int64][]int{}
	for _, ti := range inst.tablets {
		if g.tried[ti] == nil {
			g.tried[ti] = map[int64]bool{}
		}
		g.tried[ti][inst.be] = true
		next := int64(-1)
		for _, be := range g.replicas[ti] {
			if !g.tried[ti][be] {
				next = be
				break
			}
		}
		if next < 0 {
			return nil, fmt.Errorf("fragment %d: no replica of tablet %d left to read (tried backends %v): %w",
				g.frag.ID, g.tablets[ti].ID, g.replicas[ti], cause)
		}
		byBE[next] = append(byBE[next], ti)
	}
	return groupInstances(byBE), nil
}

// attempt runs an instance once. passed reports whether some of its rows
// went up the plan.
func (g *gatherOp) attempt(ctx context.Context, inst instance) (passed bool, err error) {
	f := g.frag
	f.Scan.Tablets = make([]FragmentTablet, len(inst.tablets))
	for i, ti := range inst.tablets {
		f.Scan.Tablets[i] = g.tablets[ti]
	}
	stream, err := g.remote.Run(ctx, inst.be, &f)
	if err != nil {
		return false, err
	}
	// The output is whole once Next said so; an error closing the stream
	// after that changes nothing.
	defer func() { _ = stream.Close() }()
	var mine [][]arrow.Array
	for {
		cols, err := stream.Next(ctx)
		if err == nil && cols != nil {
			err = g.check(cols)
			if err != nil {
				releaseAll(cols)
			}
		}
		if err != nil {
			releaseBatches(mine)
			return passed, err
		}
		if cols == nil {
			break
		}
		if g.whole {
			mine = append(mine, cols)
			continue
		}
		select {
		case g.rows <- cols:
			passed = true
		case <-ctx.Done():
			releaseAll(cols)
			return passed, ctx.Err()
		}
	}
	if g.whole {
		g.mu.Lock()
		g.batches = append(g.batches, mine...)
		g.mu.Unlock()
	}
	return passed, nil
}

// check refuses a batch that is not dense columns of the fragment's types.
func (g *gatherOp) check(cols []arrow.Array) error {
	if len(cols) != len(g.schema) {
		return fmt.Errorf("fragment %d sent %d columns, want %d", g.frag.ID, len(cols), len(g.schema))
	}
	for i, c := range cols {
		if !arrow.TypeEqual(c.DataType(), g.schema[i].Arrow()) || c.Len() != cols[0].Len() {
			return fmt.Errorf("fragment %d sent column %d as %v of %d rows, want %v of %d", g.frag.ID, i, c.DataType(), c.Len(), g.schema[i].Arrow(), cols[0].Len())
		}
	}
	return nil
}

func (g *gatherOp) Next(ctx context.Context, b *exec.Batch) error {
	b.Reset()
	g.held = releaseAll(g.held)
	var cols []arrow.Array
	if g.whole {
		if g.pos >= len(g.batches) {
			return io.EOF
		}
		cols = g.batches[g.pos]
		g.pos++
	} else {
		var ok bool
		select {
		case cols, ok = <-g.rows:
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", exec.ErrCanceled, ctx.Err())
		}
		if !ok {
			if g.err != nil {
				return g.err
			}
			return io.EOF
		}
		g.held = append(g.held, cols...)
	}
	b.Cols = append(b.Cols, cols...)
	b.Len = cols[0].Len()
	return nil
}

func (g *gatherOp) Close() error {
	if g.cancel != nil {
		g.cancel()
	}
	if g.done != nil {
		if g.rows != nil {
			for cols := range g.rows {
				releaseAll(cols)
			}
		}
		<-g.done
	}
	for _, b := range g.builds[g.drained:] {
		_ = b.Close()
	}
	g.drained = len(g.builds)
	g.held = releaseAll(g.held)
	g.mu.Lock()
	releaseBatches(g.batches)
	g.batches = nil
	g.mu.Unlock()
	for _, in := range g.inputs {
		releaseBatches(in.Batches)
	}
	g.inputs, g.frag.Inputs = nil, nil
	return nil
}

func releaseAll(cols []arrow.Array) []arrow.Array {
	for _, c := range cols {
		c.Release()
	}
	return cols[:0]
}

func releaseBatches(bs [][]arrow.Array) {
	for _, cols := range bs {
		releaseAll(cols)
	}
}

package planner

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"golang.org/x/sync/errgroup"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/types"
)

// stage is one fragment of a query as the coordinator runs it (see
// stageShape): the fragment, less what each instance sets, where its
// instances run, and the stages that send rows to it.
type stage struct {
	frag  Fragment
	shape stageShape
	// scans are the stage's scan and the build scans of its colocate
	// joins, whose steps are colocated (indexes into frag.Steps); nil
	// for a stage that reads an exchange.
	scans     []*scanNode
	colocated []int
	// builds are the broadcast build sides, run at Open (drained of them
	// so far); inputs their rows.
	builds  []exec.Operator
	drained int
	inputs  []FragmentInput
	// reads are the exchanges the stage reads and the stages sending to
	// them, whose sinks (frag.Sink) feed this stage.
	reads []exchangeRead

	// Set by place at Open.
	pl    *placement // scan stages
	insts []instance // by partition (the instance's number)
}

// exchangeRead is an exchange a stage reads (a pointer into its
// fragment) and the stage that feeds it.
type exchangeRead struct {
	fe       *FragmentExchange
	producer *stage
}

// usesExchange reports whether the stage reads or feeds an exchange.
func (st *stage) usesExchange() bool { return len(st.reads) > 0 || st.frag.Sink != nil }

// buildRemote builds a fragment cut's gather operator and, for a partial
// aggregation, the final phase over it. The cut runs as stages (see
// stageShape); the broadcast build sides of their spines are built here
// (they may be fragments themselves) and run when the gather opens.
func (p *Planner) buildRemote(cut *fragmentCut, x *Execution) (op exec.Operator, err error) {
	if x.joins == nil {
		x.joins = chooseJoins(cut.top, p.remote, p.joinOptions())
	}
	var stages []*stage
	defer func() {
		if err != nil {
			for _, st := range stages {
				for _, b := range st.builds {
					_ = b.Close()
				}
			}
		}
	}()
	root, err := p.cutStage(cut, x, &stages)
	if err != nil {
		return nil, err
	}
	g := &gatherOp{remote: p.remote, root: root, stages: stages}
	if cut.agg == nil {
		g.schema = typesOf(cut.top.columns())
		root.frag.Output = g.schema
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
	root.frag.Output = g.schema
	fa := &FragmentAgg{Groups: exprsOf(v.groups)}
	for _, a := range v.aggs {
		fa.Aggs = append(fa.Aggs, FragmentAggCall{Func: a.fn, Args: exprsOf(a.args)})
	}
	root.frag.Agg = fa
	return exec.NewFinalAgg(g, len(groups), aggs, full.Schema())
}

// cutStage makes the stage that runs the top of cut, and, first, the
// stages that feed it; every stage made is appended to all.
func (p *Planner) cutStage(cut *fragmentCut, x *Execution, all *[]*stage) (*stage, error) {
	x.fragments++
	sh := shapeOf(cut, x.joins)
	st := &stage{shape: sh, frag: Fragment{ID: x.fragments, Settings: FragmentSettings{SkipDeleteSign: p.keepDeleteSigns()}}}
	*all = append(*all, st)
	spine := sh.spine
	if j := sh.shuffle; j != nil {
		probe, err := p.cutStage(sh.probe, x, all)
		if err != nil {
			return nil, err
		}
		probe.frag.Sink = &FragmentSink{Exchange: probe.frag.ID, Keys: exprsOf(j.leftKeys)}
		st.frag.Source = &FragmentExchange{ID: probe.frag.ID, Types: typesOf(j.left.columns())}
		st.reads = append(st.reads, exchangeRead{fe: st.frag.Source, producer: probe})
		if err := p.exchangeJoin(st, j, nil, x, all); err != nil {
			return nil, err
		}
		spine = spine[:len(spine)-1]
	} else {
		s := sh.scan
		st.frag.Scan = fragmentScan(s)
		st.scans = []*scanNode{s}
	}
	for k := len(spine) - 1; k >= 0; k-- {
		switch v := spine[k].(type) {
		case *filterNode:
			e := exprOf(v.pred)
			st.frag.Steps = append(st.frag.Steps, FragmentStep{Kind: StepFilter, Filter: &e})
		case *projectNode:
			st.frag.Steps = append(st.frag.Steps, FragmentStep{Kind: StepProject, Project: exprsOf(v.exprs)})
		case *joinNode:
			ch := x.joins[v]
			if ch == nil {
				ch = &joinChoice{strategy: JoinBroadcast}
			}
			switch ch.strategy {
			case JoinColocate:
				fj := fragmentJoin(v)
				fj.Input = -1
				fj.Colocate = &FragmentBuildScan{Scan: fragmentScan(ch.buildScan)}
				for i := len(ch.buildSpine) - 1; i >= 0; i-- {
					switch b := ch.buildSpine[i].(type) {
					case *filterNode:
						e := exprOf(b.pred)
						fj.Colocate.Steps = append(fj.Colocate.Steps, FragmentStep{Kind: StepFilter, Filter: &e})
					case *projectNode:
						fj.Colocate.Steps = append(fj.Colocate.Steps, FragmentStep{Kind: StepProject, Project: exprsOf(b.exprs)})
					default:
						return nil, fmt.Errorf("BUG: %T over a colocated scan", b)
					}
				}
				st.scans = append(st.scans, ch.buildScan)
				st.colocated = append(st.colocated, len(st.frag.Steps))
				st.frag.Steps = append(st.frag.Steps, FragmentStep{Kind: StepJoin, Join: fj})
			case JoinBucketShuffle:
				if err := p.exchangeJoin(st, v, ch, x, all); err != nil {
					return nil, err
				}
			case JoinShuffle:
				return nil, errors.New("BUG: a shuffle join above the top shuffle join of a spine")
			default:
				if err := p.broadcastJoin(st, v, x); err != nil {
					return nil, err
				}
			}
		default:
			return nil, fmt.Errorf("BUG: %T in a fragment's spine", v)
		}
	}
	return st, nil
}

// fragmentScan describes the scan s for a fragment, tablets left to each
// instance.
func fragmentScan(s *scanNode) FragmentScan {
	t := *s.table
	t.Partitions, t.Indexes, t.AlterJobs = nil, nil, nil
	return FragmentScan{DB: s.db, Table: &t, Index: s.index, Columns: s.colIdx,
		Filters: exprsOf(s.filters), Unfolded: s.unfolded}
}

// fragmentJoin describes join v, its build side left to the caller.
func fragmentJoin(v *joinNode) *FragmentJoin {
	kind := "inner"
	if v.kind == exec.JoinLeft {
		kind = "left"
	}
	j := &FragmentJoin{Kind: kind, ProbeKeys: exprsOf(v.leftKeys), BuildKeys: exprsOf(v.rightKeys)}
	if v.other != nil {
		o := exprOf(v.other)
		j.Other = &o
	}
	return j
}

// broadcastJoin adds join v to st, its build side computed here and sent
// to every instance.
func (p *Planner) broadcastJoin(st *stage, v *joinNode, x *Execution) error {
	b, err := p.build(v.right, x)
	if err != nil {
		return err
	}
	if rg, ok := b.(*gatherOp); ok {
		// Its rows are collected whole before they are sent.
		rg.whole = true
	}
	st.builds = append(st.builds, b)
	in := typesOf(v.right.columns())
	if !slices.Equal(b.Schema(), in) {
		return fmt.Errorf("BUG: join build side outputs %v, planned as %v", b.Schema(), in)
	}
	fj := fragmentJoin(v)
	fj.Input = len(st.frag.InputTypes)
	st.frag.InputTypes = append(st.frag.InputTypes, in)
	st.frag.Steps = append(st.frag.Steps, FragmentStep{Kind: StepJoin, Join: fj})
	return nil
}

// exchangeJoin adds join v to st, its build side a stage of its own
// sending its rows through an exchange: by the buckets of st's scan (ch a
// bucket-shuffle choice) or hash partitioned by the join keys (ch nil: a
// shuffle join).
func (p *Planner) exchangeJoin(st *stage, v *joinNode, ch *joinChoice, x *Execution, all *[]*stage) error {
	cut := cutFragment(v.right)
	if cut == nil || cut.agg != nil || cut.top != v.right {
		return errors.New("BUG: the build side of an exchange join is not a fragment")
	}
	build, err := p.cutStage(cut, x, all)
	if err != nil {
		return err
	}
	sk := &FragmentSink{Exchange: build.frag.ID, Keys: exprsOf(v.rightKeys)}
	if ch != nil {
		keys := make([]*ir, len(ch.distKeys))
		for d, k := range ch.distKeys {
			keys[d] = v.rightKeys[k]
		}
		sk.Keys = exprsOf(keys)
		sk.Buckets = ch.probeScan.baseTable().Distribution.Buckets
	}
	build.frag.Sink = sk
	fj := fragmentJoin(v)
	fj.Input = -1
	fj.Exchange = &FragmentExchange{ID: build.frag.ID, Types: typesOf(v.right.columns())}
	st.reads = append(st.reads, exchangeRead{fe: fj.Exchange, producer: build})
	st.frag.Steps = append(st.frag.Steps, FragmentStep{Kind: StepJoin, Join: fj})
	return nil
}

// gatherOp runs the instances of a fragment cut's stages and outputs the
// rows of the top stage's instances: as they come, or all at once after
// every instance finished (whole).
//
// A cut of one stage (broadcast and colocate joins) runs as before
// exchanges existed: an instance that fails with a retryable error before
// any of its rows went up runs again on the next replicas of its units.
// A cut of several stages runs every instance of every stage at once, the
// readers of each exchange started before its senders, and fails as a
// whole on the first failure, naming the fragment and backend that
// failed; the backends then drop what they hold of its exchanges.
type gatherOp struct {
	// Immutable after construction.
	remote Remote
	root   *stage
	stages []*stage // root first, each stage before those feeding it
	// whole: every instance's output is collected whole before any goes
	// up (partial aggregates; rows that become a broadcast input), so an
	// instance can always run again.
	whole  bool
	schema []types.Type

	// Set by Open before the instances start, read by them.
	cancel context.CancelFunc
	query  string
	rows   chan []arrow.Array
	done   chan struct{} // closed when every instance ended; err is then set
	err    error

	// Used by Next and Close only.
	pos  int           // whole: the next batch to output
	held []arrow.Array // streaming: the batch last output

	mu      sync.Mutex // protects the following fields
	tried   []map[int64]bool
	batches [][]arrow.Array // whole: every instance's output

	prof gatherProfile // counters, instance profiles, memory (analyze.go)
}

// instance is a fragment instance: a backend and the work units it reads
// (indexes into its stage's placement units).
type instance struct {
	be    int64
	units []int
}

func (g *gatherOp) Schema() []types.Type { return g.schema }

func (g *gatherOp) Open(ctx context.Context) error {
	g.prof.open(ctx, g.stages)
	now, tz := querySettings(ctx)
	for _, st := range g.stages {
		st.frag.Settings.Now, st.frag.Settings.TimeZone = now, tz
		for _, b := range st.builds {
			in, err := collectDense(ctx, b)
			st.drained++
			if err != nil {
				return err
			}
			st.inputs = append(st.inputs, in)
		}
		st.frag.Inputs = st.inputs
	}
	if err := g.place(g.root); err != nil {
		return err
	}
	ctx, g.cancel = context.WithCancel(ctx)
	g.done = make(chan struct{})
	if !g.whole {
		g.rows = make(chan []arrow.Array, 2*len(g.root.insts))
	}
	if len(g.stages) == 1 {
		g.tried = make([]map[int64]bool, len(g.root.pl.units))
		eg, ectx := errgroup.WithContext(ctx)
		for _, inst := range g.root.insts {
			eg.Go(func() error { return g.run(ectx, eg, inst) })
		}
		go func() {
			g.err = eg.Wait()
			g.finish()
		}()
	} else {
		g.start(ctx)
	}
	if g.whole {
		<-g.done
		return g.err
	}
	return nil
}

// finish marks every instance ended.
func (g *gatherOp) finish() {
	if g.rows != nil {
		close(g.rows)
	}
	close(g.done)
}

// place places the instances of st and of the stages feeding it, and
// tells each exchange st reads who sends to it and each sender where
// its partitions go.
func (g *gatherOp) place(st *stage) error {
	for _, rd := range st.reads {
		if err := g.place(rd.producer); err != nil {
			return err
		}
	}
	if st.scans != nil {
		pl, err := placeScans(g.remote, st.scans, st.shape.bucketed, len(st.scans) > 1)
		if err != nil {
			return fmt.Errorf("fragment %d: %w", st.frag.ID, err)
		}
		st.pl, st.insts = pl, pl.insts
	} else {
		var bes []int64
		for _, rd := range st.reads {
			bes = unionSorted(bes, instBackends(rd.producer.insts))
		}
		st.insts = nil
		for _, be := range bes {
			st.insts = append(st.insts, instance{be: be})
		}
	}
	dests := instBackends(st.insts)
	for _, rd := range st.reads {
		rd.fe.Senders = instBackends(rd.producer.insts)
		sk := rd.producer.frag.Sink
		sk.Dests = dests
		if sk.Buckets > 0 {
			sk.Fanout = st.pl.fanout(sk.Buckets)
		}
	}
	return nil
}

func instBackends(insts []instance) []int64 {
	out := make([]int64, len(insts))
	for i, in := range insts {
		out[i] = in.be
	}
	return out
}

// instanceFragment is st's fragment as instance inst, number part of the
// stage, runs it.
func (st *stage) instanceFragment(inst instance, part int, query string) *Fragment {
	f := st.frag
	f.Query, f.Partition = query, part
	if st.pl != nil {
		tablets := func(k int) []FragmentTablet {
			out := []FragmentTablet{}
			for _, u := range inst.units {
				for _, ti := range st.pl.units[u].tablets[k] {
					out = append(out, st.pl.tablets[k][ti])
				}
			}
			return out
		}
		f.Scan.Tablets = tablets(0)
		if len(st.colocated) > 0 {
			f.Steps = slices.Clone(f.Steps)
			for i, step := range st.colocated {
				j := *f.Steps[step].Join
				c := *j.Colocate
				c.Scan.Tablets = tablets(i + 1)
				j.Colocate = &c
				f.Steps[step].Join = &j
			}
		}
	}
	if f.Sink != nil {
		sk := *f.Sink
		sk.Sender = part
		f.Sink = &sk
	}
	return &f
}

// runStream starts an instance of st.
func (g *gatherOp) runStream(ctx context.Context, st *stage, be int64, f *Fragment) (FragmentStream, error) {
	if st.usesExchange() {
		er, ok := g.remote.(ExchangeRemote)
		if !ok {
			return nil, fmt.Errorf("BUG: fragment %d uses an exchange, which the remote cannot run", f.ID)
		}
		return er.RunExchange(ctx, be, f)
	}
	return g.remote.Run(ctx, be, f)
}

// groupInstances orders instances by backend, for runs that repeat.
func groupInstances(byBE map[int64][]int) []instance {
	out := make([]instance, 0, len(byBE))
	for be, us := range byBE {
		out = append(out, instance{be: be, units: us})
	}
	slices.SortFunc(out, func(a, b instance) int { return cmp.Compare(a.be, b.be) })
	return out
}

// run runs an instance of the root stage to the end, again on other
// replicas as long as it fails with retryable errors before any of its
// rows went up.
func (g *gatherOp) run(ctx context.Context, eg *errgroup.Group, inst instance) error {
	id := g.root.frag.ID
	for {
		passed, err := g.attempt(ctx, inst, 0)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		if passed {
			return fmt.Errorf("fragment %d on backend %d failed after sending rows, so it cannot be run again: %w", id, inst.be, err)
		}
		if !IsRetryable(err) {
			return fmt.Errorf("fragment %d on backend %d: %w", id, inst.be, err)
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

// regroup moves the units of an instance that failed on its backend to
// their next replicas not tried yet, grouped by backend.
func (g *gatherOp) regroup(inst instance, cause error) ([]instance, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	pl := g.root.pl
	byBE := map[int64][]int{}
	for _, u := range inst.units {
		if g.tried[u] == nil {
			g.tried[u] = map[int64]bool{}
		}
		g.tried[u][inst.be] = true
		wu := &pl.units[u]
		next := int64(-1)
		for _, be := range wu.replicas {
			if !g.tried[u][be] {
				next = be
				break
			}
		}
		if next < 0 {
			what := fmt.Sprintf("tablet %d", pl.tablets[0][wu.tablets[0][0]].ID)
			if wu.bucket >= 0 {
				what = fmt.Sprintf("bucket %d", wu.bucket)
			}
			return nil, fmt.Errorf("fragment %d: no replica of %s left to read (tried backends %v): %w",
				g.root.frag.ID, what, wu.replicas, cause)
		}
		byBE[next] = append(byBE[next], u)
	}
	return groupInstances(byBE), nil
}

// attempt runs an instance of the root stage once. passed reports
// whether some of its rows went up the plan.
func (g *gatherOp) attempt(ctx context.Context, inst instance, part int) (passed bool, err error) {
	f := g.root.instanceFragment(inst, part, g.query)
	stream, err := g.runStream(ctx, g.root, inst.be, f)
	if err != nil {
		return false, err
	}
	// The output is whole once Next said so; an error closing the stream
	// after that changes nothing.
	defer func() { _ = stream.Close() }()
	// whole: this attempt's batches and what they are charged, both given
	// up if it fails, so that a run on another replica starts from none.
	var mine [][]arrow.Array
	var charged int64
	defer func() {
		if err != nil {
			releaseBatches(mine)
			g.prof.uncharge(charged)
		}
	}()
	for {
		cols, err := stream.Next(ctx)
		if err == nil && cols != nil {
			err = g.check(cols)
			if err != nil {
				releaseAll(cols)
			}
		}
		if err != nil {
			return passed, err
		}
		if cols == nil {
			break
		}
		if g.whole {
			if err := g.prof.charge(cols); err != nil {
				releaseAll(cols)
				return passed, err
			}
			if g.prof.mem != nil {
				charged += exec.ArraysBytes(cols)
			}
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
	g.prof.record(f.ID, inst.be, stream)
	return passed, nil
}

// uncharge gives back n bytes charged for batches the gather let go of
// before the query ended.
func (p *gatherProfile) uncharge(n int64) {
	if p.mem != nil && n != 0 {
		p.held.Add(-n)
		p.mem.Release(n)
	}
}

// start runs every instance of every stage of a cut with exchanges,
// readers first, under one cancelation: the first failure cancels the
// rest. Once all ended, the backends release the query's exchanges.
func (g *gatherOp) start(ctx context.Context) {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	g.query = hex.EncodeToString(b)
	errs := &queryErrs{}
	var wg sync.WaitGroup
	fail := func(st *stage, be int64, err error) {
		errs.add(fmt.Errorf("fragment %d on backend %d: %w", st.frag.ID, be, err))
		g.cancel()
	}
	for part, inst := range g.root.insts {
		wg.Go(func() {
			if _, err := g.attempt(ctx, inst, part); err != nil {
				fail(g.root, inst.be, err)
			}
		})
	}
	for _, st := range g.stages[1:] {
		for part, inst := range st.insts {
			wg.Go(func() {
				if err := g.produce(ctx, st, inst, part); err != nil {
					fail(st, inst.be, err)
				}
			})
		}
	}
	go func() {
		wg.Wait()
		g.release()
		g.err = errs.get()
		g.finish()
	}()
}

// produce runs an instance of a stage that sends its rows to an exchange:
// its stream carries no rows, only its end or its failure.
func (g *gatherOp) produce(ctx context.Context, st *stage, inst instance, part int) error {
	f := st.instanceFragment(inst, part, g.query)
	stream, err := g.runStream(ctx, st, inst.be, f)
	if err != nil {
		return err
	}
	defer func() { _ = stream.Close() }()
	cols, err := stream.Next(ctx)
	if err != nil {
		return err
	}
	if cols != nil {
		releaseAll(cols)
		return errors.New("a fragment with a sink sent rows to the coordinator")
	}
	g.prof.record(f.ID, inst.be, stream)
	return nil
}

// releaseTimeout bounds how long the coordinator waits for a backend to
// drop a query's exchanges; a backend that does not answer drops them
// when they expire.
const releaseTimeout = 10 * time.Second

// release asks every backend that took part in the query to drop what it
// holds of its exchanges.
func (g *gatherOp) release() {
	er, ok := g.remote.(ExchangeRemote)
	if !ok {
		return
	}
	var bes []int64
	for _, st := range g.stages {
		bes = unionSorted(bes, instBackends(st.insts))
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, be := range bes {
		wg.Go(func() { _ = er.ReleaseQuery(ctx, be, g.query) })
	}
	wg.Wait()
}

// queryErrs keeps the error a failed query reports: the first cause, in
// preference to the errors of instances that only saw its effects (a
// sender of theirs failed; they were canceled).
type queryErrs struct {
	mu   sync.Mutex
	err  error
	rank int
}

func (q *queryErrs) add(err error) {
	r := errRank(err)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err == nil || r > q.rank {
		q.err, q.rank = err, r
	}
}

func (q *queryErrs) get() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

func errRank(err error) int {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, exec.ErrCanceled):
		return 0
	case errors.Is(err, exec.ErrExchangeSender), errors.Is(err, exec.ErrExchangeClosed):
		return 1
	}
	return 2
}

// check refuses a batch that is not dense columns of the fragment's types.
func (g *gatherOp) check(cols []arrow.Array) error {
	id := g.root.frag.ID
	if len(cols) != len(g.schema) {
		return fmt.Errorf("fragment %d sent %d columns, want %d", id, len(cols), len(g.schema))
	}
	for i, c := range cols {
		if !arrow.TypeEqual(c.DataType(), g.schema[i].Arrow()) || c.Len() != cols[0].Len() {
			return fmt.Errorf("fragment %d sent column %d as %v of %d rows, want %v of %d", id, i, c.DataType(), c.Len(), g.schema[i].Arrow(), cols[0].Len())
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
	for _, st := range g.stages {
		for _, b := range st.builds[st.drained:] {
			_ = b.Close()
		}
		st.drained = len(st.builds)
		for _, in := range st.inputs {
			releaseBatches(in.Batches)
		}
		st.inputs, st.frag.Inputs = nil, nil
	}
	g.held = releaseAll(g.held)
	g.mu.Lock()
	releaseBatches(g.batches)
	g.batches = nil
	g.mu.Unlock()
	g.prof.releaseMem()
	return nil
}

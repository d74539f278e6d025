package planner

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/be/exec"
)

// Profile returns what each operator of the execution did so far (see
// [exec.Profile]); with fragments on backends, the gather operators list
// each fragment instance's own profile, as its backend sent it back.
func (x *Execution) Profile() *exec.ProfileNode { return exec.Profile(x.Root) }

type profilingKey struct{}

// WithProfiling marks the query run under ctx as profiled: the fragments it
// sends to backends ask them to send their operators' profiles back.
func WithProfiling(ctx context.Context) context.Context {
	return context.WithValue(ctx, profilingKey{}, true)
}

func profiling(ctx context.Context) bool {
	on, _ := ctx.Value(profilingKey{}).(bool)
	return on
}

// FragmentProfiler is implemented by a [FragmentStream] that carries the
// profile of its fragment instance once it reached the end of its output
// (a fragment run with Settings.Profile set); nil when the backend sent
// none (an older backend, or one that failed).
type FragmentProfiler interface {
	FragmentProfile() *exec.ProfileNode
}

// gatherProfile is a gather operator's profile and memory accounting: its
// own counters, the profiles of the instances that ran, and the bytes of
// the whole outputs it holds charged to the query's tracker.
type gatherProfile struct {
	stats exec.Stats
	mem   *exec.MemTracker // set by Open; nil: no accounting
	held  atomic.Int64     // bytes charged to mem

	mu        sync.Mutex // protects instances
	instances []instanceProfile
}

type instanceProfile struct {
	fragment int
	backend  int64
	prof     *exec.ProfileNode
}

// open prepares the accounting of a run under ctx and sets the settings
// the fragments carry to the backends: the memory limit and whether to
// send profiles back.
func (p *gatherProfile) open(ctx context.Context, stages []*stage) {
	p.mem = exec.MemTrackerFrom(ctx)
	for _, st := range stages {
		if p.mem != nil {
			st.frag.Settings.MemLimit = p.mem.Limit()
		}
		st.frag.Settings.Profile = profiling(ctx)
	}
}

// charge accounts a batch the gather keeps until the query ends.
func (p *gatherProfile) charge(cols []arrow.Array) error {
	if p.mem == nil {
		return nil
	}
	n := exec.ArraysBytes(cols)
	if err := p.mem.Consume(n, "gather of fragment results"); err != nil {
		return err
	}
	p.held.Add(n)
	return nil
}

// releaseMem gives back everything charged.
func (p *gatherProfile) releaseMem() { p.mem.Release(p.held.Swap(0)) }

// record keeps the profile an instance's stream carried, if any.
func (p *gatherProfile) record(fragment int, backend int64, s FragmentStream) {
	fp, ok := s.(FragmentProfiler)
	if !ok {
		return
	}
	prof := fp.FragmentProfile()
	if prof == nil {
		return
	}
	p.mu.Lock()
	p.instances = append(p.instances, instanceProfile{fragment: fragment, backend: backend, prof: prof})
	p.mu.Unlock()
}

func (g *gatherOp) OpStats() *exec.Stats { return &g.prof.stats }

// Profile implements exec.Profiler: the gather's own counters, the build
// sides it computed and, per fragment, each instance's profile from its
// backend.
func (g *gatherOp) Profile() *exec.ProfileNode {
	n := &exec.ProfileNode{Name: "Gather",
		Rows: g.prof.stats.Rows.Load(), Batches: g.prof.stats.Batches.Load(), Nanos: g.prof.stats.Nanos.Load()}
	ids := make([]int, 0, len(g.stages))
	for _, st := range g.stages {
		ids = append(ids, st.frag.ID)
	}
	n.Detail = fmt.Sprintf("fragments=%v", ids)
	for _, st := range g.stages {
		for _, b := range st.builds {
			c := exec.Profile(b)
			c.Name = fmt.Sprintf("build side of fragment %d: %s", st.frag.ID, c.Name)
			n.Children = append(n.Children, c)
		}
	}
	g.prof.mu.Lock()
	insts := slices.Clone(g.prof.instances)
	g.prof.mu.Unlock()
	slices.SortFunc(insts, func(a, b instanceProfile) int {
		if a.fragment != b.fragment {
			return a.fragment - b.fragment
		}
		return int(a.backend - b.backend)
	})
	for _, in := range insts {
		frag := &exec.ProfileNode{Name: fmt.Sprintf("Fragment %d on backend %d", in.fragment, in.backend),
			Rows: in.prof.Rows, Batches: in.prof.Batches, Nanos: in.prof.Nanos, Children: []*exec.ProfileNode{in.prof},
			// The instance ran on another process, in parallel with the
			// others: its time is not part of the gather's.
			Parallel: true}
		n.Children = append(n.Children, frag)
	}
	ex := n.Nanos
	for _, c := range n.Children {
		if !c.Parallel {
			ex -= c.Nanos
		}
	}
	n.Excl = max(ex, 0)
	return n
}

// Profile implements exec.Profiler for a fragment run on a backend: the
// profile of its operators.
func (o *fragmentOp) Profile() *exec.ProfileNode { return exec.Profile(o.Operator) }

// ProfileRequested reports whether the coordinator asked for the
// fragment's profile (Settings.Profile).
func (o *fragmentOp) ProfileRequested() bool { return o.settings.Profile }

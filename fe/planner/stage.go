package planner

import (
	"fmt"
	"slices"
	"sort"
)

// A fragment cut (cutFragment) runs as one or more stages, one fragment
// each, once the strategies of the joins in its spine are known
// (chooseJoins):
//
//   - broadcast joins stay in the stage of their probe side, their build
//     sides computed at the coordinator and sent to every instance;
//   - a colocate join's build scan runs inside the stage, every instance
//     reading the same buckets of both tables (the stage is bucketed);
//   - a bucket-shuffle join's build side is a stage of its own whose sink
//     routes each row to the instance of the probe stage reading its
//     bucket (the probe stage is bucketed);
//   - the topmost shuffle join of the spine splits it: the join and what
//     lies above run in a stage that reads its probe side from an
//     exchange; below it, the probe side is a stage of its own (cut again
//     the same way) and so is the build side, both sinks hash
//     partitioning their rows by the join keys over the backends of the
//     two producers.
//
// Build turns the stages into the fragments the coordinator runs;
// EXPLAIN renders them. Both walk them in the same order (a stage, then
// the producer of its probe side, then the joins of its spine bottom-up
// with their build sides), so that they number fragments alike.

// stageShape is the part of a fragment cut one stage runs.
type stageShape struct {
	top node
	agg *aggNode
	// scan is the stage's scan, nil when it reads the probe side of
	// shuffle from an exchange.
	scan *scanNode
	// spine are the nodes the stage runs above its scan or exchange, top
	// first; with shuffle, the last one is shuffle itself.
	spine   []node
	shuffle *joinNode
	// probe is the cut of shuffle's probe side, which runs as a stage of
	// its own.
	probe *fragmentCut
	// bucketed: instances take whole buckets (colocate or bucket-shuffle
	// joins).
	bucketed bool
}

// shapeOf returns the stage that runs the top of cut.
func shapeOf(cut *fragmentCut, joins map[*joinNode]*joinChoice) stageShape {
	sh := stageShape{top: cut.top, agg: cut.agg, scan: cut.scan, spine: cut.spine}
	for k, n := range cut.spine {
		j, ok := n.(*joinNode)
		if !ok {
			continue
		}
		if ch := joins[j]; ch != nil && ch.strategy == JoinShuffle {
			sh.scan, sh.shuffle, sh.spine = nil, j, cut.spine[:k+1]
			sh.probe = &fragmentCut{top: j.left, scan: cut.scan, spine: cut.spine[k+1:]}
			break
		}
	}
	for _, n := range sh.spine {
		if j, ok := n.(*joinNode); ok && j != sh.shuffle {
			if ch := joins[j]; ch != nil && (ch.strategy == JoinColocate || ch.strategy == JoinBucketShuffle) {
				sh.bucketed = true
			}
		}
	}
	return sh
}

// colocatedScans are the build scans of the stage's colocate joins,
// bottom-up (the order of their steps).
func (sh *stageShape) colocatedScans(joins map[*joinNode]*joinChoice) []*scanNode {
	var out []*scanNode
	for k := len(sh.spine) - 1; k >= 0; k-- {
		if j, ok := sh.spine[k].(*joinNode); ok {
			if ch := joins[j]; ch != nil && ch.strategy == JoinColocate {
				out = append(out, ch.buildScan)
			}
		}
	}
	return out
}

// A workUnit is what one instance of a stage reads that cannot be split
// between instances: a tablet, or, in a bucketed stage, a bucket (the
// tablets of that bucket of every partition the scans read).
type workUnit struct {
	// tablets are, by scan (0 the stage's scan, then its colocated
	// scans), indexes into that scan's tablets.
	tablets [][]int
	// replicas are the backends that may run the unit, the one it is
	// placed on first.
	replicas []int64
	bucket   int // -1 outside bucketed stages
}

// placement is where a scan stage's instances run.
type placement struct {
	tablets [][]FragmentTablet // by scan
	units   []workUnit
	insts   []instance // by backend, ascending
}

// placeScans places the units of a stage's scans. A stage that is not
// bucketed reads each tablet on its first replica. A bucketed stage reads
// bucket b on a backend holding a replica of every tablet of b, spreading
// buckets over those backends; in a stage without colocate joins, a
// bucket whose tablets share no backend is split by tablet (its
// bucket-shuffled rows then go to every instance reading part of it).
func placeScans(remote Remote, scans []*scanNode, bucketed, colocated bool) (*placement, error) {
	pl := &placement{}
	for _, s := range scans {
		pl.tablets = append(pl.tablets, scanTablets(s))
	}
	if !bucketed {
		for i, t := range pl.tablets[0] {
			rs := remote.Replicas(t.ID)
			if len(rs) == 0 {
				return nil, fmt.Errorf("tablet %d has no replica to read", t.ID)
			}
			pl.units = append(pl.units, workUnit{tablets: [][]int{{i}}, replicas: rs, bucket: -1})
		}
		pl.group()
		return pl, nil
	}
	// byBucket[b][k]: indexes of scan k's tablets in bucket b.
	var byBucket [][][]int
	for k, s := range scans {
		i := 0
		for _, pi := range s.partitions {
			for b := range s.table.Partitions[pi].Tablets {
				for len(byBucket) <= b {
					byBucket = append(byBucket, make([][]int, len(scans)))
				}
				byBucket[b][k] = append(byBucket[b][k], i)
				i++
			}
		}
	}
	load := map[int64]int{}
	pick := func(cands []int64) []int64 {
		best := 0
		for i, be := range cands {
			if load[be] < load[cands[best]] {
				best = i
			}
		}
		load[cands[best]]++
		out := append([]int64{cands[best]}, cands[:best]...)
		return append(out, cands[best+1:]...)
	}
	for b, byScan := range byBucket {
		var cands []int64
		first := true
		for k, idx := range byScan {
			for _, i := range idx {
				rs := remote.Replicas(pl.tablets[k][i].ID)
				if first {
					cands, first = slices.Clone(rs), false
					continue
				}
				cands = slices.DeleteFunc(cands, func(be int64) bool { return !slices.Contains(rs, be) })
			}
		}
		if first {
			continue // no partition read
		}
		if len(cands) > 0 {
			pl.units = append(pl.units, workUnit{tablets: byScan, replicas: pick(cands), bucket: b})
			continue
		}
		if colocated {
			return nil, fmt.Errorf("no backend holds a replica of every tablet of bucket %d of the colocated tables", b)
		}
		for _, i := range byScan[0] {
			rs := remote.Replicas(pl.tablets[0][i].ID)
			if len(rs) == 0 {
				return nil, fmt.Errorf("tablet %d has no replica to read", pl.tablets[0][i].ID)
			}
			pl.units = append(pl.units, workUnit{tablets: [][]int{{i}}, replicas: pick(rs), bucket: b})
		}
	}
	pl.group()
	return pl, nil
}

// group makes one instance per backend of the units placed on it.
func (pl *placement) group() {
	byBE := map[int64][]int{}
	for u, wu := range pl.units {
		byBE[wu.replicas[0]] = append(byBE[wu.replicas[0]], u)
	}
	pl.insts = groupInstances(byBE)
}

// backends lists the backends of a placement's instances.
func (pl *placement) backends() []int64 {
	out := make([]int64, len(pl.insts))
	for i, in := range pl.insts {
		out[i] = in.be
	}
	return out
}

// fanout lists, for each of n buckets, the instances (partitions) that
// read part of it.
func (pl *placement) fanout(n int) [][]int {
	out := make([][]int, n)
	for p, in := range pl.insts {
		for _, u := range in.units {
			if b := pl.units[u].bucket; b >= 0 && b < n && !slices.Contains(out[b], p) {
				out[b] = append(out[b], p)
			}
		}
	}
	for _, ps := range out {
		sort.Ints(ps)
	}
	return out
}

// stageBackends returns the backends a stage's instances run on: those of
// its scan placement, or, for a stage reading the probe side of a
// shuffle join, every backend the producers of both its sides run on.
func stageBackends(remote Remote, sh stageShape, joins map[*joinNode]*joinChoice) ([]int64, error) {
	if sh.shuffle == nil {
		scans := append([]*scanNode{sh.scan}, sh.colocatedScans(joins)...)
		pl, err := placeScans(remote, scans, sh.bucketed, len(scans) > 1)
		if err != nil {
			return nil, err
		}
		return pl.backends(), nil
	}
	probe, err := stageBackends(remote, shapeOf(sh.probe, joins), joins)
	if err != nil {
		return nil, err
	}
	build, err := stageBackends(remote, shapeOf(cutFragment(sh.shuffle.right), joins), joins)
	if err != nil {
		return nil, err
	}
	return unionSorted(probe, build), nil
}

func unionSorted(a, b []int64) []int64 {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

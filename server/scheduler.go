package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/strata-db/strata/be/service"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/cluster"
	"github.com/strata-db/strata/rpc"
)

// Scheduler defaults.
const (
	// DefaultCheckInterval is how often the leader compares replicas with
	// the catalog.
	DefaultCheckInterval = 5 * time.Second
	// DefaultDeadGrace is how long a replica's backend may be down before
	// its replicas are made again elsewhere: a backend that restarts in
	// time only catches up.
	DefaultDeadGrace = 2 * time.Minute
	// maxCloneTasks bounds the clones (repairs and moves) running at once,
	// so that repair traffic stays bounded; each source also paces what
	// it sends (--clone-mbytes-per-sec).
	maxCloneTasks = 2
)

// replicaScheduler is the leader's tablet checker and scheduler. Each
// round it reads every live backend's tablet report and compares each
// replica with the catalog:
//
//   - lagging: the replica's version is below its partition's visible
//     version (it missed loads while down, or could not publish them) —
//     cloned from a replica that holds the version: the missing versions
//     only when the source still has them as rowsets, else the whole
//     tablet;
//   - missing: the backend is alive but has no version of the tablet (its
//     disk was replaced) — cloned whole;
//   - dead: the backend has been down longer than deadGrace, or is
//     decommissioned — the bucket's tablets are cloned to another backend,
//     which then takes the dead one's place in the catalog;
//
// and, when nothing needs repair, moves one bucket at a time from the most
// loaded backend to the least loaded one (a backend that joined). A
// decommissioned backend that holds no replica any more is dropped.
type replicaScheduler struct {
	fe        *frontendNode
	view      *clusterView
	log       *slog.Logger
	interval  time.Duration
	deadGrace time.Duration

	mu sync.Mutex
	// down is when each backend was first seen down.
	down map[int64]time.Time
	// running are the buckets being repaired or moved.
	running map[bucketKey]bool
}

type bucketKey struct {
	table, partition int64
	bucket           int
}

// bucketRef locates a bucket in the catalog.
type bucketRef struct {
	db, table string
	// group is the table's colocation group ("db/name"; "" for none):
	// its bucket moves with the same bucket of every table of the group.
	group string
	bucketKey
	tablets  []int64 // the base's and every index's tablet of the bucket
	backends []int64
	visible  int64
}

func (s *replicaScheduler) run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, maxCloneTasks)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, task := range s.check(ctx) {
			select {
			case sem <- struct{}{}:
			default:
				s.release(task)
				continue // the next round schedules it again
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				defer s.release(task)
				if err := task.do(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("replica repair failed; retrying later", "table", task.ref.table, "partition", task.ref.partition,
						"bucket", task.ref.bucket, "what", task.what, "err", err)
				}
			}()
		}
	}
}

func (s *replicaScheduler) finish(k bucketKey) {
	s.mu.Lock()
	delete(s.running, k)
	s.mu.Unlock()
}

// task is one repair or move of a bucket (and the buckets that move with
// it, keys).
type task struct {
	ref  bucketRef
	keys []bucketKey
	what string
	do   func(ctx context.Context) error
}

// release ends the claims of a task's buckets.
func (s *replicaScheduler) release(t task) {
	s.finish(t.ref.bucketKey)
	for _, k := range t.keys {
		s.finish(k)
	}
}

// check compares the replicas with the catalog and returns the work to do.
func (s *replicaScheduler) check(ctx context.Context) []task {
	now := time.Now()
	backends := s.fe.reg.Backends()
	alive := map[int64]bool{}
	decom := map[int64]bool{}
	known := map[int64]bool{} // still in the cluster (not dropped)
	s.mu.Lock()
	if s.down == nil {
		s.down, s.running = map[int64]time.Time{}, map[bucketKey]bool{}
	}
	for _, b := range backends {
		if b.Alive {
			alive[b.ID] = true
			delete(s.down, b.ID)
		} else if _, ok := s.down[b.ID]; !ok {
			s.down[b.ID] = now
		}
		decom[b.ID] = b.Decommissioned
		known[b.ID] = true
	}
	s.mu.Unlock()
	reports := map[int64]map[int64]tabletstore.TabletInfo{}
	for id := range alive {
		be, err := s.view.Backend(id)
		if err != nil {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		rep, err := be.Report(rctx)
		cancel()
		if err != nil {
			s.log.Warn("tablet report", "backend", id, "err", err)
			continue
		}
		m := make(map[int64]tabletstore.TabletInfo, len(rep))
		for _, ti := range rep {
			m[ti.TabletID] = ti
		}
		reports[id] = m
	}

	// version is a replica's version as its backend reported it; a
	// broken replica (it missed rows of an index being built) counts as
	// holding nothing, so it is copied whole.
	version := func(be, tablet int64) (int64, bool) {
		rep, ok := reports[be]
		if !ok {
			return 0, false
		}
		ti, held := rep[tablet]
		switch {
		case ti.Broken:
			return 0, true
		case !held:
			return 1, true // nothing held: a partition's empty initial version
		}
		return ti.Version, true
	}
	// healthy says whether a replica holds every tablet of the bucket at
	// the visible version.
	healthy := func(ref bucketRef, be int64) bool {
		for _, tablet := range ref.tablets {
			if v, ok := version(be, tablet); !ok || v < ref.visible {
				return false
			}
		}
		return true
	}
	var tasks []task
	load := map[int64]int{}
	held := map[int64]int{} // replicas per backend, for decommission
	var refs []bucketRef
	for _, ref := range s.buckets() {
		refs = append(refs, ref)
		for _, be := range ref.backends {
			load[be]++
			held[be]++
		}
	}
	for _, ref := range refs {
		if !s.claim(ref.bucketKey) {
			continue
		}
		var source int64 = -1
		for _, be := range ref.backends {
			if alive[be] && healthy(ref, be) {
				source = be
				break
			}
		}
		scheduled := false
		for _, be := range ref.backends {
			switch {
			case source < 0:
				// No replica holds the version: nothing to copy from.
			case alive[be] && !decom[be] && !healthy(ref, be):
				tasks = append(tasks, s.catchUp(ref, be, source, version))
				scheduled = true
			case decom[be] || !known[be] || (!alive[be] && now.Sub(s.downSince(be)) > s.deadGrace):
				if dst, ok := s.pickDestination(ref, alive, decom, load); ok {
					tasks = append(tasks, s.move(s.siblings(ref, refs), be, dst, source))
					load[dst]++
					scheduled = true
				}
			}
			if scheduled {
				break
			}
		}
		if !scheduled {
			s.finish(ref.bucketKey)
		}
	}
	for id := range decom {
		if decom[id] && held[id] == 0 {
			if err := s.fe.reg.DropDecommissioned(ctx, id); err != nil {
				s.log.Warn("dropping a decommissioned backend", "backend", id, "err", err)
			} else {
				s.log.Info("dropped a decommissioned backend: it holds no replica", "backend", id)
			}
		}
	}
	if len(tasks) == 0 {
		if t, ok := s.rebalance(refs, alive, decom, load, healthy); ok {
			tasks = append(tasks, t)
		}
	}
	return tasks
}

func (s *replicaScheduler) downSince(be int64) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.down[be]; ok {
		return t
	}
	return time.Now()
}

// claim marks a bucket as being worked on; false if it already is.
func (s *replicaScheduler) claim(k bucketKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[k] {
		return false
	}
	s.running[k] = true
	return true
}

// buckets lists every placed bucket of the catalog.
func (s *replicaScheduler) buckets() []bucketRef {
	snap := s.fe.cat.Snapshot()
	var out []bucketRef
	for _, db := range snap.Databases() {
		tables, err := snap.Tables(db.Name)
		if err != nil {
			continue
		}
		for _, t := range tables {
			for _, p := range t.Partitions {
				for b, tablet := range p.Tablets {
					bes := p.BucketBackends(b)
					if len(bes) == 0 {
						continue
					}
					ref := bucketRef{db: db.Name, table: t.Name, bucketKey: bucketKey{t.ID, p.ID, b},
						tablets: []int64{tablet}, backends: bes, visible: p.VisibleVersion}
					if g := t.Properties[cluster.PropColocateWith]; g != "" {
						ref.group = db.Name + "/" + g
					}
					for _, ids := range p.IndexTablets {
						if b < len(ids) {
							ref.tablets = append(ref.tablets, ids[b])
						}
					}
					out = append(out, ref)
				}
			}
		}
	}
	return out
}

// catchUp clones the tablets of a bucket a replica lags on.
func (s *replicaScheduler) catchUp(ref bucketRef, be, source int64, version func(be, tablet int64) (int64, bool)) task {
	return task{ref: ref, what: fmt.Sprintf("repair backend %d from %d", be, source), do: func(ctx context.Context) error {
		for _, tablet := range ref.tablets {
			have, _ := version(be, tablet)
			if have >= ref.visible {
				continue
			}
			if have <= 1 {
				have = 0 // nothing worth keeping: copy the whole tablet
			}
			if err := s.clone(ctx, tablet, be, source, have, ref.visible); err != nil {
				return err
			}
		}
		return nil
	}}
}

// clone copies a tablet from source to dst: the versions above have, or
// all of it when have is 0.
func (s *replicaScheduler) clone(ctx context.Context, tablet, dst, source, have, want int64) error {
	src, ok := s.fe.reg.Backend(source)
	if !ok {
		return fmt.Errorf("source backend %d is gone", source)
	}
	be, err := s.view.Backend(dst)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	res, err := be.Clone(cctx, service.CloneRequest{Tablet: tablet, Source: src.Addr(), Have: have, Want: want})
	if err != nil && have > 0 && !rpc.IsUnavailable(err) {
		// The source merged the missing versions with older ones (or the
		// replica's rows do not fit them): copy the whole tablet.
		s.log.Info("incremental clone refused; cloning the whole tablet", "tablet", tablet, "to", dst, "err", err)
		res, err = be.Clone(cctx, service.CloneRequest{Tablet: tablet, Source: src.Addr(), Want: want})
	}
	if err != nil {
		return fmt.Errorf("cloning tablet %d to backend %d from %d: %w", tablet, dst, source, err)
	}
	s.log.Info("cloned a replica", "tablet", tablet, "to", dst, "from", source, "have", have, "want", want,
		"full", res.Full, "files", res.Files, "bytes", res.Bytes)
	return nil
}

// pickDestination chooses the backend a bucket's replica moves to: alive,
// not decommissioned, not holding the bucket, least loaded.
func (s *replicaScheduler) pickDestination(ref bucketRef, alive, decom map[int64]bool, load map[int64]int) (int64, bool) {
	best, found := int64(0), false
	for id := range alive {
		if decom[id] || slices.Contains(ref.backends, id) {
			continue
		}
		if !found || load[id] < load[best] || (load[id] == load[best] && id < best) {
			best, found = id, true
		}
	}
	return best, found
}

// move clones a bucket to dst and then puts dst in old's place.
func (s *replicaScheduler) move(refs []bucketRef, old, dst, source int64) task {
	ref := refs[0]
	var keys []bucketKey
	for _, r := range refs[1:] {
		keys = append(keys, r.bucketKey)
	}
	return task{ref: ref, keys: keys, what: fmt.Sprintf("move from backend %d to %d", old, dst), do: func(ctx context.Context) error {
		// A colocated bucket moves with its group's: every copy first,
		// then each table's catalog entry. Until the last one, the group's
		// buckets differ and queries join them another way.
		for _, r := range refs {
			for _, tablet := range r.tablets {
				if err := s.clone(ctx, tablet, dst, source, 0, r.visible); err != nil {
					return err
				}
			}
		}
		for _, r := range refs {
			if err := s.swap(ctx, r, old, dst); err != nil {
				return err
			}
		}
		return nil
	}}
}

// swap puts dst in old's place among the backends of a bucket.
func (s *replicaScheduler) swap(ctx context.Context, ref bucketRef, old, dst int64) error {
	{
		err := s.fe.cat.UpdateTable(ctx, ref.db, ref.table, func(t *catalog.Table) error {
			for i := range t.Partitions {
				p := &t.Partitions[i]
				if p.ID != ref.partition || ref.bucket >= len(p.Backends) {
					continue
				}
				bes := slices.Clone(p.Backends[ref.bucket])
				k := slices.Index(bes, old)
				if k < 0 || slices.Contains(bes, dst) {
					return errMoved
				}
				bes[k] = dst
				slices.Sort(bes)
				p.Backends = slices.Clone(p.Backends)
				p.Backends[ref.bucket] = bes
				return nil
			}
			return errMoved
		})
		if errors.Is(err, errMoved) {
			return nil
		}
		if err == nil {
			s.log.Info("moved a replica", "table", ref.table, "partition", ref.partition, "bucket", ref.bucket, "from", old, "to", dst)
		}
		return err
	}
}

// siblings are the buckets that move with ref: itself, and for a
// colocated table the same bucket of every partition of every table of its
// group, which it claims.
func (s *replicaScheduler) siblings(ref bucketRef, refs []bucketRef) []bucketRef {
	out := []bucketRef{ref}
	if ref.group == "" {
		return out
	}
	for _, r := range refs {
		if r.group == ref.group && r.bucket == ref.bucket && r.bucketKey != ref.bucketKey && s.claim(r.bucketKey) {
			out = append(out, r)
		}
	}
	return out
}

var errMoved = errors.New("the bucket changed meanwhile")

// rebalance moves one bucket between backends when the replicas are
// uneven: from the most to the least loaded backend when they differ by
// more than one replica; else, within one partition, from a backend
// holding two buckets more of it than another holding one replica fewer
// in all, so
// that a query reading one partition spreads over the backends too. The
// bucket moved is the one that most evens its partition out.
func (s *replicaScheduler) rebalance(refs []bucketRef, alive, decom map[int64]bool, load map[int64]int,
	healthy func(bucketRef, int64) bool) (task, bool) {
	var cands []int64
	for id := range alive {
		if !decom[id] {
			cands = append(cands, id)
		}
	}
	if len(cands) < 2 {
		return task{}, false
	}
	slices.SortFunc(cands, func(a, b int64) int {
		if load[a] != load[b] {
			return load[a] - load[b]
		}
		return int(a - b)
	})
	// part counts the buckets of each partition on each backend.
	type pb struct{ partition, backend int64 }
	part := map[pb]int{}
	for _, r := range refs {
		for _, be := range r.backends {
			part[pb{r.partition, be}]++
		}
	}
	// groupSize is how many buckets move with ref (its colocation group's).
	groupSize := func(ref bucketRef) int {
		n := 1
		for _, r := range refs {
			if ref.group != "" && r.group == ref.group && r.bucket == ref.bucket && r.bucketKey != ref.bucketKey {
				n++
			}
		}
		return n
	}
	// pick returns the movable bucket from high to low that evens its
	// partition out most, if it evens it out by at least minGain.
	pick := func(high, low int64, minGain int, maxMove int) (task, bool) {
		best, bestGain := -1, minGain-1
		for i, ref := range refs {
			if !slices.Contains(ref.backends, high) || slices.Contains(ref.backends, low) || !healthy(ref, high) {
				continue
			}
			if groupSize(ref) > maxMove {
				continue
			}
			gain := part[pb{ref.partition, high}] - part[pb{ref.partition, low}]
			if gain > bestGain {
				best, bestGain = i, gain
			}
		}
		if best < 0 || !s.claim(refs[best].bucketKey) {
			return task{}, false
		}
		return s.move(s.siblings(refs[best], refs), high, low, high), true
	}
	low, high := cands[0], cands[len(cands)-1]
	if gap := load[high] - load[low]; gap > 1 {
		// A colocated bucket moves with its group's: only when that
		// narrows the gap.
		return pick(high, low, -1<<30, gap-1)
	}
	// Totals are even: even out partitions, moving a bucket only to a
	// backend holding one replica fewer (so that the totals stay even and
	// no move undoes another), and only where it narrows a skew of two.
	for _, h := range cands {
		for _, l := range cands {
			if load[h]-load[l] != 1 {
				continue
			}
			if t, ok := pick(h, l, 2, 1); ok {
				return t, true
			}
		}
	}
	return task{}, false
}

package planner

import (
	"slices"
	"strings"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

// JoinStrategy is how a hash join that runs in a fragment on the
// backends (with a [Remote]) gets its build rows. EXPLAIN shows it after
// the join kind, in Doris's words.
type JoinStrategy uint8

const (
	// JoinBroadcast: the build side is computed at the coordinator and
	// sent whole to every instance of the probe side's fragment.
	JoinBroadcast JoinStrategy = iota
	// JoinColocate: both sides are tables of one colocation group joined
	// on their distribution columns: each instance reads the same buckets
	// of both and joins them where they lie; no row moves.
	JoinColocate
	// JoinBucketShuffle: the probe side is a table joined on its
	// distribution columns; each build row goes to the instance reading
	// its bucket of the probe table.
	JoinBucketShuffle
	// JoinShuffle: both sides are hash partitioned by the join keys over
	// the backends taking part; partition j of both meets on backend j.
	JoinShuffle
)

func (s JoinStrategy) String() string {
	switch s {
	case JoinBroadcast:
		return "BROADCAST"
	case JoinColocate:
		return "COLOCATE"
	case JoinBucketShuffle:
		return "BUCKET_SHUFFLE"
	case JoinShuffle:
		return "PARTITIONED"
	}
	return "JoinStrategy(?)"
}

// JoinStrategyVariable is the session variable that forces the strategy
// of every join a Remote runs: auto (the default), broadcast, shuffle,
// bucket or colocate, as Doris's join hints [broadcast], [shuffle] and
// [bucket] do per join (Strata's parser has no join hints). A join that
// cannot use the forced strategy gets the one auto picks.
// disable_colocate_plan = true keeps auto from picking colocate joins, as
// in Doris.
const JoinStrategyVariable = "strata_join_strategy"

// joinOptions are the session's settings for choosing join strategies.
type joinOptions struct {
	force      string // "", "broadcast", "shuffle", "bucket" or "colocate"
	noColocate bool
}

func (p *Planner) joinOptions() joinOptions {
	var o joinOptions
	switch f := strings.ToLower(p.sess.Variable(JoinStrategyVariable)); f {
	case "broadcast", "shuffle", "bucket", "colocate":
		o.force = f
	}
	v := p.sess.Variable("disable_colocate_plan")
	o.noColocate = v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "on")
	return o
}

// tinyBuildTablets: a build side estimated at no more tablets than this
// (a one-bucket table, an aggregation's output, constant rows) is
// broadcast rather than shuffled by buckets: sending it whole costs less
// than a fragment more and an exchange.
const tinyBuildTablets = 1

// joinChoice is the strategy of one join and what it needs.
type joinChoice struct {
	strategy JoinStrategy
	// JoinColocate: the build side's scan and the filters and projections
	// over it (probeSpine's, top first).
	buildScan  *scanNode
	buildSpine []node
	// JoinBucketShuffle: the probe scan, and for each of its table's
	// distribution columns in order, the join key pair that carries it.
	probeScan *scanNode
	distKeys  []int
}

// chooseJoins picks the strategy of every join of the plan under root
// that runs in a fragment: a pure function of the plan, the backends'
// replicas and the options, computed again by Build and by EXPLAIN.
// Joins are decided bottom-up, so that a join knows whether the rows of
// its probe side still lie where its scan read them (not after a shuffle).
func chooseJoins(root node, remote Remote, o joinOptions) map[*joinNode]*joinChoice {
	_, exchanges := remote.(ExchangeRemote)
	c := &chooser{remote: remote, o: o, exchanges: exchanges, out: map[*joinNode]*joinChoice{}}
	c.walk(root)
	return c.out
}

type chooser struct {
	remote    Remote
	o         joinOptions
	exchanges bool
	out       map[*joinNode]*joinChoice
}

func (c *chooser) walk(n node) {
	switch x := n.(type) {
	case *filterNode:
		c.walk(x.child)
	case *projectNode:
		c.walk(x.child)
	case *aggNode:
		c.walk(x.child)
	case *joinNode:
		c.walk(x.left)
		c.walk(x.right)
		if s, _ := probeSpine(x); s != nil && readsTablets(s) {
			c.out[x] = c.choose(x)
		}
	case *sortNode:
		c.walk(x.child)
	case *limitNode:
		c.walk(x.child)
	case *distinctNode:
		c.walk(x.child)
	case *unionNode:
		for _, ch := range x.children {
			c.walk(ch)
		}
	}
}

func (c *chooser) choose(j *joinNode) *joinChoice {
	colocate := c.colocate(j)
	bucket := c.bucket(j)
	shuffle := c.exchanges && exchangeable(j.right)
	switch c.o.force {
	case "broadcast":
		return &joinChoice{strategy: JoinBroadcast}
	case "colocate":
		if colocate != nil {
			return colocate
		}
	case "bucket":
		if bucket != nil {
			return bucket
		}
	case "shuffle":
		if shuffle {
			return &joinChoice{strategy: JoinShuffle}
		}
	}
	if colocate != nil && !c.o.noColocate {
		return colocate
	}
	build := estimateTablets(j.right)
	if bucket != nil && build > tinyBuildTablets {
		return bucket
	}
	// Doris's rule: broadcasting costs the build side once per probe
	// instance, a shuffle moves both sides once.
	if shuffle && build > tinyBuildTablets {
		probe := estimateTablets(j.left)
		if build*float64(c.probeInstances(j)) > probe+build {
			return &joinChoice{strategy: JoinShuffle}
		}
	}
	return &joinChoice{strategy: JoinBroadcast}
}

// exchangeable reports whether a join's build side can run as a fragment
// that sends its rows through an exchange: a scan and the operators a
// fragment runs over it, without an aggregation (whose final phase runs
// at the coordinator).
func exchangeable(n node) bool {
	cut := cutFragment(n)
	return cut != nil && cut.agg == nil && cut.top == n
}

// probeInstances is the number of backends the probe scan of j reads on.
func (c *chooser) probeInstances(j *joinNode) int {
	s, _ := probeSpine(j)
	seen := map[int64]bool{}
	for _, t := range scanTablets(s) {
		if rs := c.remote.Replicas(t.ID); len(rs) > 0 {
			seen[rs[0]] = true
		}
	}
	return max(1, len(seen))
}

// estimateTablets estimates the size of n's output in tablets' worth of
// rows. The frontend has no row counts (tablet statistics stay on the
// backends), so a scan counts the tablets it reads, an aggregation an
// eighth of its input, a join its larger side.
func estimateTablets(n node) float64 {
	switch v := n.(type) {
	case *scanNode:
		return float64(len(scanTablets(v)))
	case *filterNode:
		return estimateTablets(v.child)
	case *projectNode:
		return estimateTablets(v.child)
	case *joinNode:
		return max(estimateTablets(v.left), estimateTablets(v.right))
	case *aggNode:
		return estimateTablets(v.child) / 8
	case *distinctNode:
		return estimateTablets(v.child) / 8
	case *sortNode:
		return estimateTablets(v.child)
	case *limitNode:
		if v.limit >= 0 && v.limit <= 1024 {
			return 0
		}
		return estimateTablets(v.child)
	case *unionNode:
		var sum float64
		for _, ch := range v.children {
			sum += estimateTablets(ch)
		}
		return sum
	}
	return 0
}

// colocate returns the colocate choice of j, or nil: both sides scan
// tables of one colocation group of one database (the build side through
// filters and projections only), the join keys include each distribution
// column of one paired with the same of the other, and bucket b of every
// partition either side reads sits on the same backends.
func (c *chooser) colocate(j *joinNode) *joinChoice {
	ls, _ := probeSpine(j)
	rs, rspine := probeSpine(j.right)
	if ls == nil || rs == nil || !readsTablets(rs) {
		return nil
	}
	for _, n := range rspine {
		if _, ok := n.(*joinNode); ok {
			return nil
		}
	}
	lt, rt := ls.baseTable(), rs.baseTable()
	group := lt.Properties[colocateWith]
	if group == "" || rt.Properties[colocateWith] != group || ls.db != rs.db ||
		lt.Distribution.Type != catalog.HashDistributed || rt.Distribution.Type != catalog.HashDistributed ||
		lt.Distribution.Buckets != rt.Distribution.Buckets ||
		len(lt.Distribution.Columns) == 0 || len(lt.Distribution.Columns) != len(rt.Distribution.Columns) {
		return nil
	}
	for d := range lt.Distribution.Columns {
		found := false
		for k := range j.leftKeys {
			lcol, lok := c.traceKey(j.left, j.leftKeys[k], ls)
			rcol, rok := c.traceKey(j.right, j.rightKeys[k], rs)
			if lok && rok && distColumn(ls, lcol) == d && distColumn(rs, rcol) == d &&
				ls.out[lcol].t == rs.out[rcol].t {
				found = true
				break
			}
		}
		if !found {
			return nil
		}
	}
	for b := range lt.Distribution.Buckets {
		var want []int64
		first := true
		for _, s := range []*scanNode{ls, rs} {
			for _, pi := range s.partitions {
				got := s.table.Partitions[pi].BucketBackends(b)
				if first {
					want, first = got, false
				} else if !slices.Equal(want, got) {
					return nil
				}
			}
		}
	}
	return &joinChoice{strategy: JoinColocate, buildScan: rs, buildSpine: rspine}
}

// colocateWith is the table property naming a table's colocation group
// (cluster.PropColocateWith).
const colocateWith = "colocate_with"

// bucket returns the bucket-shuffle choice of j, or nil: the probe scan's
// table is hash distributed, each of its distribution columns is a probe
// key whose build key hashes alike (see bucketHashable), and the build
// side can feed an exchange.
func (c *chooser) bucket(j *joinNode) *joinChoice {
	if !c.exchanges || !exchangeable(j.right) {
		return nil
	}
	ls, _ := probeSpine(j)
	t := ls.baseTable()
	if t.Distribution.Type != catalog.HashDistributed || t.Distribution.Buckets <= 0 || len(t.Distribution.Columns) == 0 {
		return nil
	}
	dist := make([]int, len(t.Distribution.Columns))
	for d := range dist {
		dist[d] = -1
		for k := range j.leftKeys {
			col, ok := c.traceKey(j.left, j.leftKeys[k], ls)
			if ok && distColumn(ls, col) == d && bucketHashable(ls.out[col].t, j.rightKeys[k].t) {
				dist[d] = k
				break
			}
		}
		if dist[d] < 0 {
			return nil
		}
	}
	return &joinChoice{strategy: JoinBucketShuffle, probeScan: ls, distKeys: dist}
}

// traceKey follows key, over n's columns, down n's probe spine to scan s:
// through filters, projections that pass a column on, the probe sides of
// joins whose rows stay where s read them (not shuffled), and casts that
// keep a value's hash (bucketHashable). It returns the column of s.
func (c *chooser) traceKey(n node, key *ir, s *scanNode) (int, bool) {
	key = uncast(key)
	if key.kind != irCol {
		return 0, false
	}
	idx := key.col
	for {
		switch v := n.(type) {
		case *scanNode:
			return idx, v == s
		case *filterNode:
			n = v.child
		case *projectNode:
			e := uncast(v.exprs[idx])
			if e.kind != irCol {
				return 0, false
			}
			idx, n = e.col, v.child
		case *joinNode:
			if ch := c.out[v]; ch != nil && ch.strategy == JoinShuffle {
				return 0, false
			}
			if idx >= len(v.left.columns()) {
				return 0, false
			}
			n = v.left
		default:
			return 0, false
		}
	}
}

// uncast strips conversions that keep a value's bucket hash.
func uncast(e *ir) *ir {
	for e.kind == irCall && e.spec != nil && (e.spec.Kind == callCoerce || e.spec.Kind == callCast) &&
		len(e.args) == 1 && bucketHashable(e.args[0].t, e.t) {
		e = e.args[0]
	}
	return e
}

// distColumn returns which distribution column of s's table (by position
// in Distribution.Columns) the scan's output column col is, or -1. An
// index's column counts only when it holds the base column's values: a
// key, or any column of a duplicate-key index.
func distColumn(s *scanNode, col int) int {
	si := s.colIdx[col]
	c := &s.table.Schema.Columns[si]
	if s.index != "" && !c.IsKey && s.table.KeysType != catalog.DupKeys {
		return -1
	}
	base := s.baseTable()
	for d, name := range base.Distribution.Columns {
		_, bc := base.Schema.ColumnByName(name)
		if bc != nil && bc.ID == c.ID && strings.EqualFold(bc.Name, c.Name) && bc.Type == c.Type {
			return d
		}
	}
	return -1
}

// bucketHashable reports whether a value of type to converted from type
// from has the bucket hash (partition.HashColumn) of the value as from:
// integers hash as int64, strings by their bytes, decimals by their
// unscaled value (so only at the same scale); other types only as
// themselves.
func bucketHashable(from, to types.Type) bool {
	switch {
	case from == to:
		return true
	case isIntKind(from.Kind) && isIntKind(to.Kind):
		return true
	case from.Kind.IsString() && to.Kind.IsString():
		return true
	case isDecKind(from.Kind) && isDecKind(to.Kind):
		return from.Scale == to.Scale
	}
	return false
}

func isIntKind(k types.Kind) bool { return k.IsInteger() && k != types.KindLargeInt }

func isDecKind(k types.Kind) bool { return k == types.KindDecimal || k == types.KindLargeInt }

// joinKind names a join kind as EXPLAIN shows it.
func joinKind(k exec.JoinKind) string {
	if k == exec.JoinLeft {
		return "LEFT OUTER"
	}
	return "INNER"
}

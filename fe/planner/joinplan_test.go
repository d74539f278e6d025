package planner

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/partition"
	"github.com/strata-db/strata/types"
)

// testBucket is the bucket of an integer distribution value among n, as
// a load puts it (partition.Router).
func testBucket(n int, v int64) int {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.Append(v)
	arr := b.NewArray()
	defer arr.Release()
	h := []uint64{0}
	partition.HashColumn(arr, h)
	return int(h[0] % uint64(n))
}

// strategySession forces the join strategy (JoinStrategyVariable).
type strategySession struct {
	Session
	strategy string
}

func (s strategySession) Variable(name string) string {
	if name == JoinStrategyVariable {
		return s.strategy
	}
	return s.Session.Variable(name)
}

// joinFixture is a catalog whose tables place rows in buckets as loads
// do (partition.Router), on backends 1..3 as Partition.Backends says:
//
//	f1  k1 INT, k2 VARCHAR NULL | v BIGINT NULL, g    range on k1 (2 partitions), HASH(k1, k2) x4, group grp
//	f2  k1 INT, k2 VARCHAR NULL | w INT NULL             HASH(k1, k2) x4, group grp
//	e   k1 INT, k2 VARCHAR NULL | w INT NULL             HASH(k1, k2) x4, group grp, no rows
//	d3  k1 BIGINT | k2, z BIGINT NULL                    range on k1 (2 partitions, placed apart), HASH(k1) x3
//	s   k1 INT | x INT                                   HASH(x) x2, every k1 = 7
type joinFixture struct {
	cat     fakeCatalog
	tablets memTablets
	// replicas of each tablet, best first: its bucket's backends, rotated
	// by its id.
	replicas map[int64][]int64
}

func newJoinFixture(t *testing.T) *joinFixture {
	t.Helper()
	f := &joinFixture{cat: fakeCatalog{}, tablets: memTablets{}, replicas: map[int64][]int64{}}
	col := func(id uint32, name string, typ types.Type, key, null bool) catalog.Column {
		return catalog.Column{ID: id, Name: name, Type: typ, IsKey: key, Nullable: null}
	}
	group := map[string]string{colocateWith: "grp"}
	grpBackends := [][]int64{{1, 2}, {2, 3}, {3, 1}, {1, 2}}
	tablets := func(first int64, n int) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = first + int64(i)
		}
		return out
	}
	f1 := &catalog.Table{Name: "f1", DBID: 1, KeysType: catalog.DupKeys, KeyColumns: []string{"k1", "k2"},
		Schema: catalog.Schema{Columns: []catalog.Column{col(1, "k1", types.Int, true, false), col(2, "k2", types.Varchar(8), true, true),
			col(3, "v", types.BigInt, false, true), col(4, "g", types.Varchar(8), false, true)}},
		PartitionType: catalog.RangePartitioned, PartitionColumns: []string{"k1"},
		Partitions: []catalog.Partition{
			{Name: "p0", Upper: catalog.PartitionBound{Values: []string{"50"}}, Tablets: tablets(101, 4), VisibleVersion: 2, Backends: grpBackends},
			{Name: "p1", Lower: catalog.PartitionBound{Values: []string{"50"}}, Upper: catalog.PartitionBound{MaxValue: true}, Tablets: tablets(105, 4), VisibleVersion: 2, Backends: grpBackends},
		},
		Distribution: catalog.Distribution{Type: catalog.HashDistributed, Columns: []string{"k1", "k2"}, Buckets: 4},
		Properties:   group,
	}
	f2 := &catalog.Table{Name: "f2", DBID: 1, KeysType: catalog.DupKeys, KeyColumns: []string{"k1", "k2"},
		Schema: catalog.Schema{Columns: []catalog.Column{col(1, "k1", types.Int, true, false), col(2, "k2", types.Varchar(8), true, true),
			col(3, "w", types.Int, false, true)}},
		Partitions:   []catalog.Partition{{Name: "f2", Tablets: tablets(201, 4), VisibleVersion: 2, Backends: grpBackends}},
		Distribution: catalog.Distribution{Type: catalog.HashDistributed, Columns: []string{"k1", "k2"}, Buckets: 4},
		Properties:   group,
	}
	e := &catalog.Table{Name: "e", DBID: 1, KeysType: catalog.DupKeys, KeyColumns: []string{"k1", "k2"},
		Schema:       f2.Schema,
		Partitions:   []catalog.Partition{{Name: "e", Tablets: tablets(401, 4), VisibleVersion: 1, Backends: grpBackends}},
		Distribution: f2.Distribution,
		Properties:   group,
	}
	d3 := &catalog.Table{Name: "d3", DBID: 1, KeysType: catalog.DupKeys, KeyColumns: []string{"k1"},
		Schema: catalog.Schema{Columns: []catalog.Column{col(1, "k1", types.BigInt, true, false), col(2, "k2", types.Varchar(8), false, true),
			col(3, "z", types.BigInt, false, true)}},
		PartitionType: catalog.RangePartitioned, PartitionColumns: []string{"k1"},
		Partitions: []catalog.Partition{
			{Name: "q0", Upper: catalog.PartitionBound{Values: []string{"50"}}, Tablets: tablets(301, 3), VisibleVersion: 2, Backends: [][]int64{{1}, {2}, {3}}},
			{Name: "q1", Lower: catalog.PartitionBound{Values: []string{"50"}}, Upper: catalog.PartitionBound{MaxValue: true}, Tablets: tablets(304, 3), VisibleVersion: 2, Backends: [][]int64{{2}, {3}, {1}}},
		},
		Distribution: catalog.Distribution{Type: catalog.HashDistributed, Columns: []string{"k1"}, Buckets: 3},
	}
	s := &catalog.Table{Name: "s", DBID: 1, KeysType: catalog.DupKeys, KeyColumns: []string{"k1"},
		Schema:       catalog.Schema{Columns: []catalog.Column{col(1, "k1", types.Int, true, false), col(2, "x", types.Int, false, false)}},
		Partitions:   []catalog.Partition{{Name: "s", Tablets: tablets(501, 2), VisibleVersion: 2, Backends: [][]int64{{1, 2, 3}, {2, 3, 1}}}},
		Distribution: catalog.Distribution{Type: catalog.HashDistributed, Columns: []string{"x"}, Buckets: 2},
	}
	for _, tbl := range []*catalog.Table{f1, f2, e, d3, s} {
		f.cat["d."+tbl.Name] = tbl
		for _, p := range tbl.Partitions {
			for b, id := range p.Tablets {
				bes := p.Backends[b]
				k := int(id) % len(bes)
				f.replicas[id] = append(slices.Clone(bes[k:]), bes[:k]...)
			}
		}
	}

	r := rand.New(rand.NewPCG(3, 5))
	str := func(null int) any {
		if r.IntN(null) == 0 {
			return nil
		}
		return []string{"a", "b", "c"}[r.IntN(3)]
	}
	num := func(n, null int) any {
		if r.IntN(null) == 0 {
			return nil
		}
		return r.IntN(n)
	}
	var rows [][]any
	for range 2000 {
		rows = append(rows, []any{r.IntN(100), str(8), num(60, 6), []string{"x", "y", "z"}[r.IntN(3)]})
	}
	f.load(t, f1, rows)
	rows = nil
	for range 1000 {
		rows = append(rows, []any{r.IntN(120), str(8), num(1000, 6)})
	}
	f.load(t, f2, rows)
	rows = nil
	for range 600 {
		rows = append(rows, []any{r.IntN(100), str(5), num(60, 6)})
	}
	f.load(t, d3, rows)
	rows = nil
	for range 500 {
		rows = append(rows, []any{7, r.IntN(1000)})
	}
	f.load(t, s, rows)
	return f
}

// load routes rows (Go values in schema order: int, string, nil) to
// their partitions and buckets as a load does and stores each tablet's.
func (f *joinFixture) load(t *testing.T, tbl *catalog.Table, rows [][]any) {
	t.Helper()
	mem := memory.DefaultAllocator
	cols := make([]arrow.Array, len(tbl.Schema.Columns))
	for c, sc := range tbl.Schema.Columns {
		bld := array.NewBuilder(mem, sc.Type.Arrow())
		for _, row := range rows {
			switch v := row[c].(type) {
			case nil:
				bld.AppendNull()
			case string:
				bld.(*array.StringBuilder).Append(v)
			case int:
				switch b := bld.(type) {
				case *array.Int32Builder:
					b.Append(int32(v))
				case *array.Int64Builder:
					b.Append(int64(v))
				}
			}
		}
		cols[c] = bld.NewArray()
	}
	router, err := partition.NewRouter(tbl)
	require.NoError(t, err)
	part, bucket := make([]int32, len(rows)), make([]int32, len(rows))
	router.Route(cols, len(rows), part, bucket)
	byTablet := map[int64][]int64{}
	for i := range rows {
		require.GreaterOrEqual(t, part[i], int32(0))
		id := tbl.Partitions[part[i]].Tablets[bucket[i]]
		byTablet[id] = append(byTablet[id], int64(i))
	}
	for id, idx := range byTablet {
		ib := array.NewInt64Builder(mem)
		ib.AppendValues(idx, nil)
		indices := ib.NewArray()
		taken := make([]arrow.Array, len(cols))
		for c, col := range cols {
			taken[c], err = compute.TakeArray(context.Background(), col, indices)
			require.NoError(t, err)
		}
		f.tablets[id] = sortedSegment(t, tbl.Schema, taken)
	}
}

// remote is a memRemote placing the fixture's tablets on their backends.
func (f *joinFixture) remote() *memRemote {
	r := newMemRemote(f.tablets)
	r.replicasOf = func(id int64) []int64 { return f.replicas[id] }
	return r
}

// planner plans with the join strategy forced ("": auto).
func (f *joinFixture) planner(strategy string) *Planner {
	return New(strategySession{fakeSession{db: "d"}, strategy}, f.cat, f.tablets)
}

// TestJoinStrategies runs joins with each strategy forced, and with the
// one the planner picks, on in-process backends exchanging Arrow IPC
// batches: every run must give the rows of the plan run locally, close
// every stream and leave nothing in the backends' exchange hubs. want
// lists the strategy of each join in a fragment, in EXPLAIN order, as the
// planner picks (auto) and when each strategy is forced (a join that
// cannot use it gets auto's).
func TestJoinStrategies(t *testing.T) {
	f := newJoinFixture(t)
	const (
		B = "BROADCAST"
		C = "COLOCATE"
		K = "BUCKET_SHUFFLE"
		P = "PARTITIONED"
	)
	for _, tc := range []struct {
		q    string
		want map[string][]string // by forced strategy ("" auto)
	}{
		// Multi-column keys, NULL keys (k2), both tables in one group.
		{q: "SELECT f1.k1, f1.k2, f1.v, f2.w FROM f1 JOIN f2 ON f1.k1 = f2.k1 AND f1.k2 = f2.k2",
			want: map[string][]string{"": {C}, "broadcast": {B}, "colocate": {C}, "bucket": {K}, "shuffle": {P}}},
		// Keys in the other order, and an extra key.
		{q: "SELECT f1.k1, f2.w FROM f1 JOIN f2 ON f1.k2 = f2.k2 AND f1.k1 = f2.k1 AND f1.v = f2.w",
			want: map[string][]string{"": {C}, "broadcast": {B}, "colocate": {C}, "bucket": {K}, "shuffle": {P}}},
		// A LEFT join, with filters and a condition on both sides.
		{q: "SELECT f1.k1, f1.k2, f1.g, f2.w FROM f1 LEFT JOIN f2 ON f1.k1 = f2.k1 AND f1.k2 = f2.k2 AND f2.w > f1.v WHERE f1.v > 10",
			want: map[string][]string{"": {C}, "broadcast": {B}, "colocate": {C}, "bucket": {K}, "shuffle": {P}}},
		// Under an aggregation (partial phase in the fragments).
		{q: "SELECT f1.g, count(*), sum(f2.w), min(f1.v) FROM f1 JOIN f2 ON f1.k1 = f2.k1 AND f1.k2 = f2.k2 GROUP BY f1.g",
			want: map[string][]string{"": {C}, "broadcast": {B}, "colocate": {C}, "bucket": {K}, "shuffle": {P}}},
		// Not on the distribution columns: no colocation; d3 is
		// distributed on k1 alone (BIGINT; f1.k1 is converted).
		{q: "SELECT f1.k1, f2.w FROM f1 JOIN f2 ON f1.k1 = f2.k1",
			want: map[string][]string{"": {B}, "broadcast": {B}, "colocate": {B}, "bucket": {B}, "shuffle": {P}}},
		{q: "SELECT d3.k1, d3.k2, f1.v FROM d3 JOIN f1 ON d3.k1 = f1.k1",
			want: map[string][]string{"": {K}, "broadcast": {B}, "colocate": {K}, "bucket": {K}, "shuffle": {P}}},
		{q: "SELECT d3.k2, count(*), sum(f1.v) FROM d3 LEFT JOIN f1 ON d3.k1 = f1.k1 AND d3.k2 = f1.k2 GROUP BY d3.k2",
			want: map[string][]string{"": {K}, "broadcast": {B}, "colocate": {K}, "bucket": {K}, "shuffle": {P}}},
		// Nullable keys on neither side's distribution.
		{q: "SELECT f1.k1, f1.v, d3.k1 FROM f1 JOIN d3 ON f1.v = d3.z",
			want: map[string][]string{"": {B}, "broadcast": {B}, "colocate": {B}, "bucket": {B}, "shuffle": {P}}},
		{q: "SELECT f1.g, count(*), count(d3.k1) FROM f1 LEFT JOIN d3 ON f1.v = d3.z GROUP BY f1.g",
			want: map[string][]string{"": {B}, "broadcast": {B}, "colocate": {B}, "bucket": {B}, "shuffle": {P}}},
		// Empty sides: a table without rows, filters that leave none.
		{q: "SELECT f1.k1, e.w FROM f1 LEFT JOIN e ON f1.k1 = e.k1 AND f1.k2 = e.k2",
			want: map[string][]string{"": {C}, "broadcast": {B}, "colocate": {C}, "bucket": {K}, "shuffle": {P}}},
		{q: "SELECT e.k1, f1.v FROM e JOIN f1 ON e.k1 = f1.k1 AND e.k2 = f1.k2",
			want: map[string][]string{"": {C}, "broadcast": {B}, "colocate": {C}, "bucket": {K}, "shuffle": {P}}},
		{q: "SELECT count(*), sum(f2.w) FROM f1 JOIN f2 ON f1.k1 = f2.k1 AND f1.k2 = f2.k2 WHERE f2.w > 5000",
			want: map[string][]string{"": {C}, "broadcast": {B}, "colocate": {C}, "bucket": {K}, "shuffle": {P}}},
		{q: "SELECT f1.k1, d3.z FROM f1 LEFT JOIN d3 ON f1.v = d3.z WHERE f1.v > 5000",
			want: map[string][]string{"": {B}, "broadcast": {B}, "colocate": {B}, "bucket": {B}, "shuffle": {P}}},
		// Skew: every row of s has k1 = 7, so all go to one partition.
		{q: "SELECT count(*), sum(s.x), sum(f1.v) FROM s JOIN f1 ON s.k1 = f1.k1",
			want: map[string][]string{"": {P}, "broadcast": {B}, "colocate": {P}, "bucket": {P}, "shuffle": {P}}},
		{q: "SELECT count(*), sum(s.x) FROM f1 JOIN s ON f1.k1 = s.k1",
			want: map[string][]string{"": {B}, "broadcast": {B}, "colocate": {B}, "bucket": {B}, "shuffle": {P}}},
		// Several joins: a colocate join under a shuffle, a shuffle under
		// a join that can then only broadcast, a bucket shuffle with a
		// colocate join in the same fragment.
		{q: "SELECT f1.g, count(*), sum(d3.z) FROM f1 JOIN f2 ON f1.k1 = f2.k1 AND f1.k2 = f2.k2 JOIN d3 ON f2.w = d3.z GROUP BY f1.g",
			want: map[string][]string{"": {B, C}, "broadcast": {B, B}, "colocate": {B, C}, "bucket": {B, K}, "shuffle": {P, P}}},
		{q: "SELECT f1.k1, f2.w, d3.z FROM f1 JOIN d3 ON f1.v = d3.z JOIN f2 ON f1.k1 = f2.k1 AND f1.k2 = f2.k2",
			want: map[string][]string{"": {C, B}, "broadcast": {B, B}, "colocate": {C, B}, "bucket": {K, B}, "shuffle": {P, P}}},
		{q: "SELECT d3.k1, f1.v, f2.w FROM d3 JOIN f1 ON d3.k1 = f1.k1 JOIN f2 ON d3.k1 = f2.k1 AND f1.k2 = f2.k2",
			want: map[string][]string{"": {K, K}, "broadcast": {B, B}, "colocate": {K, K}, "bucket": {K, K}, "shuffle": {P, P}}},
		{q: "SELECT x.g, count(*) FROM (SELECT f1.g, f1.k1 + 1 AS k FROM f1 JOIN f2 ON f1.k1 = f2.k1 AND f1.k2 = f2.k2 WHERE f2.w < 500) x JOIN d3 ON x.k = d3.k1 GROUP BY x.g",
			want: map[string][]string{"": {B, C}, "broadcast": {B, B}, "colocate": {B, C}, "bucket": {B, K}, "shuffle": {P, P}}},
	} {
		want := localJoinRows(t, f, tc.q)
		for _, strategy := range []string{"", "broadcast", "colocate", "bucket", "shuffle"} {
			name := strategy
			if name == "" {
				name = "auto"
			}
			p := f.planner(strategy)
			r := f.remote()
			p.SetRemote(r)
			pl, err := p.PlanSelect(mustParse(t, tc.q), nil)
			require.NoError(t, err, tc.q)
			explained := strings.Join(pl.Explain(), "\n")
			require.Equal(t, tc.want[strategy], joinStrategiesOf(explained), "%s (%s):\n%s", tc.q, name, explained)
			got, err := execute(p, pl, exec.NewEvalContext())
			require.NoError(t, err, "%s (%s)", tc.q, name)
			require.Equal(t, want, sortedRows(got), "%s (%s)", tc.q, name)
			r.checkClosed(t)
			r.checkHubs(t)
			for _, run := range r.recorded() {
				for _, id := range run.tablets {
					require.Contains(t, f.replicas[id], run.be, "%s (%s): tablet %d read on backend %d", tc.q, name, id, run.be)
				}
			}
		}
	}
}

// localJoinRows runs q without a Remote.
func localJoinRows(t *testing.T, f *joinFixture, q string) []string {
	t.Helper()
	p := f.planner("")
	pl, err := p.PlanSelect(mustParse(t, q), nil)
	require.NoError(t, err, q)
	rows, err := execute(p, pl, exec.NewEvalContext())
	require.NoError(t, err, q)
	return sortedRows(rows)
}

// joinStrategiesOf lists the strategies EXPLAIN shows, in order.
func joinStrategiesOf(explained string) []string {
	var out []string
	for _, line := range strings.Split(explained, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "HashJoin ") {
			continue
		}
		if i := strings.Index(line, ") (probe"); i >= 0 {
			j := strings.LastIndex(line[:i], "(")
			out = append(out, line[j+1:i])
		}
	}
	return out
}

// TestJoinStrategyExplain shows how EXPLAIN renders each strategy.
func TestJoinStrategyExplain(t *testing.T) {
	f := newJoinFixture(t)
	explainWith := func(strategy, q string) string {
		t.Helper()
		p := f.planner(strategy)
		p.SetRemote(f.remote())
		pl, err := p.PlanSelect(mustParse(t, q), nil)
		require.NoError(t, err, q)
		return strings.Join(pl.Explain(), "\n")
	}
	const q = "SELECT f1.g, count(*) FROM f1 JOIN f2 ON f1.k1 = f2.k1 AND f1.k2 = f2.k2 WHERE f2.w > 10 GROUP BY f1.g"
	head := []string{
		"Project: f1.g, count(*)",
		"  HashAggregate (final): group by [f1.g] output [count(*)]",
		"    EXCHANGE: gather partial aggregates of FRAGMENT 1",
	}
	f2scan := []string{
		"OlapScanNode TABLE: d.f2(f2), PREAGGREGATION: ON partitions=1/1 tablets=4 columns=[f2.k1, f2.k2, f2.w]",
		"  predicates: (f2.w > 10)",
		"  range w: (10, +inf)",
	}
	indent := func(n int, lines []string) []string {
		out := make([]string, len(lines))
		for i, l := range lines {
			out[i] = strings.Repeat("  ", n) + l
		}
		return out
	}
	lines := func(parts ...[]string) string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return strings.Join(out, "\n")
	}
	require.Equal(t, lines(head, []string{
		"      FRAGMENT 1 on 3 backends, 12 tablets by bucket of d.f1",
		"        HashAggregate (partial): group by [f1.g] output [count(*)]",
		"          HashJoin INNER (COLOCATE) (probe: left, build: right) ON f1.k1 = f2.k1 AND f1.k2 = f2.k2",
		"            OlapScanNode TABLE: d.f1(f1), PREAGGREGATION: ON partitions=2/2 tablets=8 columns=[f1.k1, f1.k2, f1.g]",
	}, indent(6, f2scan)), explainWith("", q))
	require.Equal(t, lines(head, []string{
		"      FRAGMENT 1 on 3 backends, 8 tablets by bucket of d.f1",
		"        HashAggregate (partial): group by [f1.g] output [count(*)]",
		"          HashJoin INNER (BUCKET_SHUFFLE) (probe: left, build: right) ON f1.k1 = f2.k1 AND f1.k2 = f2.k2",
		"            OlapScanNode TABLE: d.f1(f1), PREAGGREGATION: ON partitions=2/2 tablets=8 columns=[f1.k1, f1.k2, f1.g]",
		"            EXCHANGE: bucket shuffle by [f2.k1, f2.k2] to the 4 buckets of d.f1 in FRAGMENT 1",
		"              FRAGMENT 2 on 2 backends, 4 tablets",
	}, indent(8, f2scan)), explainWith("bucket", q))
	require.Equal(t, lines(head, []string{
		"      FRAGMENT 1 on 2 backends, hash partitioned",
		"        HashAggregate (partial): group by [f1.g] output [count(*)]",
		"          HashJoin INNER (PARTITIONED) (probe: left, build: right) ON f1.k1 = f2.k1 AND f1.k2 = f2.k2",
		"            EXCHANGE: hash partition by [f1.k1, f1.k2] to FRAGMENT 1",
		"              FRAGMENT 2 on 2 backends, 8 tablets",
		"                OlapScanNode TABLE: d.f1(f1), PREAGGREGATION: ON partitions=2/2 tablets=8 columns=[f1.k1, f1.k2, f1.g]",
		"            EXCHANGE: hash partition by [f2.k1, f2.k2] to FRAGMENT 1",
		"              FRAGMENT 3 on 2 backends, 4 tablets",
	}, indent(8, f2scan)), explainWith("shuffle", q))
	require.Contains(t, explainWith("broadcast", q), "HashJoin INNER (BROADCAST) (probe: left, build: right)")

	// disable_colocate_plan keeps auto off colocate joins; a bucket
	// shuffle is the next best.
	p := New(colocateOffSession{fakeSession{db: "d"}}, f.cat, f.tablets)
	p.SetRemote(f.remote())
	pl, err := p.PlanSelect(mustParse(t, q), nil)
	require.NoError(t, err)
	require.Contains(t, strings.Join(pl.Explain(), "\n"), "(BUCKET_SHUFFLE)")

	// A Remote that cannot exchange rows gets broadcast and colocate
	// joins only.
	p = f.planner("shuffle")
	p.SetRemote(plainRemote{f.remote()})
	pl, err = p.PlanSelect(mustParse(t, q), nil)
	require.NoError(t, err)
	require.Contains(t, strings.Join(pl.Explain(), "\n"), "(COLOCATE)")
	p = f.planner("")
	p.SetRemote(plainRemote{f.remote()})
	pl, err = p.PlanSelect(mustParse(t, "SELECT d3.k1, f1.v FROM d3 JOIN f1 ON d3.k1 = f1.k1"), nil)
	require.NoError(t, err)
	require.Contains(t, strings.Join(pl.Explain(), "\n"), "(BROADCAST)")
}

// colocateOffSession sets disable_colocate_plan.
type colocateOffSession struct{ Session }

func (s colocateOffSession) Variable(name string) string {
	if name == "disable_colocate_plan" {
		return "true"
	}
	return s.Session.Variable(name)
}

// plainRemote hides a memRemote's exchanges.
type plainRemote struct{ r *memRemote }

func (p plainRemote) Replicas(id int64) []int64 { return p.r.Replicas(id) }
func (p plainRemote) Run(ctx context.Context, be int64, f *Fragment) (FragmentStream, error) {
	return p.r.Run(ctx, be, f)
}

// TestJoinStrategyFailures fails backends under each strategy. A colocate
// join's instance runs again on another backend holding its buckets, as a
// broadcast join's does; any failure of a fragment that reads or feeds an
// exchange fails the query, naming the fragment and backend that failed
// first (not those that only saw a sender fail), and leaves no stream open
// and nothing in the hubs.
func TestJoinStrategyFailures(t *testing.T) {
	f := newJoinFixture(t)
	const (
		colocateQ = "SELECT f1.g, count(*), sum(f2.w) FROM f1 JOIN f2 ON f1.k1 = f2.k1 AND f1.k2 = f2.k2 GROUP BY f1.g"
		shuffleQ  = "SELECT f1.k1, f1.v, d3.k1 FROM f1 JOIN d3 ON f1.v = d3.z"
		bucketQ   = "SELECT d3.k1, d3.k2, f1.v FROM d3 JOIN f1 ON d3.k1 = f1.k1"
	)
	run := func(strategy, q string, setup func(r *memRemote)) (*memRemote, []string, error) {
		t.Helper()
		p := f.planner(strategy)
		r := f.remote()
		setup(r)
		p.SetRemote(r)
		pl, err := p.PlanSelect(mustParse(t, q), nil)
		require.NoError(t, err, q)
		rows, err := execute(p, pl, exec.NewEvalContext())
		r.checkClosed(t)
		r.checkHubs(t)
		return r, sortedRows(rows), err
	}
	t.Run("colocate instance fails over", func(t *testing.T) {
		want := localJoinRows(t, f, colocateQ)
		r, rows, err := run("colocate", colocateQ, func(r *memRemote) { r.failRun[1] = 1 })
		require.NoError(t, err)
		require.Equal(t, want, rows)
		var onOne, after []memRun
		for _, run := range r.recorded() {
			if run.be == 1 {
				onOne = append(onOne, run)
			} else {
				after = append(after, run)
			}
		}
		require.Len(t, onOne, 1, "backend 1 ran once and failed")
		moved := 0
		for _, id := range onOne[0].tablets {
			for _, run := range after {
				if slices.Contains(run.tablets, id) {
					moved++
				}
			}
		}
		require.Equal(t, len(onOne[0].tablets), moved, "every tablet of backend 1's buckets ran again elsewhere")
	})
	t.Run("colocated replica lacks its version", func(t *testing.T) {
		want := localJoinRows(t, f, colocateQ)
		_, rows, err := run("colocate", colocateQ, func(r *memRemote) {
			for _, id := range []int64{201, 202, 203, 204} { // f2's tablets
				r.lacks[[2]int64{f.replicas[id][0], id}] = true
			}
		})
		require.NoError(t, err)
		require.Equal(t, want, rows)
	})
	for _, tc := range []struct {
		name, strategy, q string
		setup             func(r *memRemote)
		msg               []string
	}{
		{"shuffle producer fails mid-stream", "shuffle", shuffleQ, func(r *memRemote) { r.failPush[2] = 1 },
			[]string{"on backend 2", "connection reset while pushing"}},
		{"bucket-shuffle producer fails mid-stream", "bucket", bucketQ, func(r *memRemote) { r.failPush[1] = 1 },
			[]string{"fragment 2 on backend 1", "connection reset while pushing"}},
		{"shuffle instance cannot start", "shuffle", shuffleQ, func(r *memRemote) { r.failRun[3] = 1 },
			[]string{"on backend 3", "connection refused"}},
		{"shuffle instance fails", "shuffle", shuffleQ, func(r *memRemote) { r.fatal[1] = true },
			[]string{"on backend 1", "disk on fire"}},
		{"bucket-shuffle probe lacks a version", "bucket", bucketQ, func(r *memRemote) { r.lacks[[2]int64{2, 302}] = true },
			[]string{"fragment 1 on backend 2", "tablet 302", "version missing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _, err := run(tc.strategy, tc.q, tc.setup)
			require.Error(t, err)
			for _, m := range tc.msg {
				require.Contains(t, err.Error(), m)
			}
			t.Log(err)
			require.NotErrorIs(t, err, exec.ErrExchangeSender, "the cause, not its effect: %v", err)
			for q, bes := range r.released {
				require.NotEmpty(t, q)
				slices.Sort(bes)
				require.Equal(t, []int64{1, 2, 3}, bes, "released on every backend that took part")
			}
			require.Len(t, r.released, 1)
		})
	}
}

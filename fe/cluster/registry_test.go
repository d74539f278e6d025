package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/cluster"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/meta/metatest"
	"github.com/strata-db/strata/types"
)

func TestRegistry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := metatest.Start(t.TempDir())
	require.NoError(t, err)
	defer e.Close()
	store := meta.NewStore(e.Client())
	reg, err := cluster.Open(ctx, store, nil)
	require.NoError(t, err)
	defer reg.Close()
	// A second frontend's view, kept current by its watch.
	other, err := cluster.Open(ctx, store, nil)
	require.NoError(t, err)
	defer other.Close()

	id1, err := reg.AddBackend(ctx, "127.0.0.1", 8060)
	require.NoError(t, err)
	_, err = reg.AddBackend(ctx, "127.0.0.1", 8060)
	require.ErrorIs(t, err, cluster.ErrBackendExists)
	id2, err := reg.AddBackend(ctx, "127.0.0.1", 8061)
	require.NoError(t, err)
	require.NotEqual(t, id1, id2)
	require.Len(t, reg.Backends(), 2)
	require.False(t, reg.Alive(id1))
	require.Empty(t, reg.Candidates())

	// The backend's own lease makes it alive everywhere.
	r, err := meta.Register(ctx, e.Client(), cluster.BackendAliveKey(id1),
		cluster.BackendStatus{ID: id1, Host: "127.0.0.1", HTTPPort: 8040, RPCPort: 8060, TabletNum: 3}, time.Second, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return other.Alive(id1) }, 10*time.Second, 10*time.Millisecond)
	b, ok := other.Backend(id1)
	require.True(t, ok)
	require.Equal(t, 3, b.Status.TabletNum)
	require.Equal(t, "127.0.0.1:8040", b.HTTPAddr())
	require.Equal(t, []int64{id1}, other.Candidates())
	r.Close()
	require.Eventually(t, func() bool { return !other.Alive(id1) }, 10*time.Second, 10*time.Millisecond)

	fr, err := meta.Register(ctx, e.Client(), cluster.FrontendAliveKey("fe1"), cluster.Frontend{Name: "fe1", Host: "h", RPCPort: 9020}, time.Second, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(other.Frontends()) == 1 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, "h:9020", other.Frontends()[0].RPCAddr())
	fr.Close()

	require.NoError(t, reg.Decommission(ctx, "127.0.0.1", 8061))
	b, _ = reg.Backend(id2)
	require.True(t, b.Decommissioned)
	require.NoError(t, reg.DropBackend(ctx, "127.0.0.1", 8060))
	require.ErrorIs(t, reg.DropBackend(ctx, "127.0.0.1", 8060), cluster.ErrBackendNotFound)
	require.ErrorIs(t, reg.Decommission(ctx, "nohost", 1), cluster.ErrBackendNotFound)
	require.NoError(t, reg.DropDecommissioned(ctx, id2))
	require.Eventually(t, func() bool { return len(other.Backends()) == 0 }, 10*time.Second, 10*time.Millisecond)
	// The address is free again.
	_, err = reg.AddBackend(ctx, "127.0.0.1", 8060)
	require.NoError(t, err)
}

func TestPlace(t *testing.T) {
	tb := &catalog.Table{Partitions: []catalog.Partition{{Tablets: make([]int64, 4)}, {Tablets: make([]int64, 4)}}}
	load := map[int64]int{}
	require.NoError(t, cluster.Place(tb, 2, []int64{1, 2, 3}, load))
	seen := map[int64]int{}
	for _, p := range tb.Partitions {
		require.Len(t, p.Backends, 4)
		for _, bes := range p.Backends {
			require.Len(t, bes, 2)
			require.NotEqual(t, bes[0], bes[1], "two replicas of a bucket on one backend")
			for _, id := range bes {
				seen[id]++
			}
		}
	}
	// 16 replicas over 3 backends: 5 or 6 each.
	for id, n := range seen {
		require.InDelta(t, 16.0/3, n, 1, "backend %d", id)
	}
	require.Equal(t, seen, load)

	var nb *cluster.NotEnoughBackendsError
	require.ErrorAs(t, cluster.Place(tb, 3, []int64{1, 2}, map[int64]int{}), &nb)
	require.Contains(t, nb.Error(), "replication num: 3")

	n, err := cluster.ReplicationNum(&catalog.Table{}, 5)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	n, err = cluster.ReplicationNum(&catalog.Table{}, 1)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = cluster.ReplicationNum(&catalog.Table{Properties: map[string]string{"replication_num": "2"}}, 1)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	_, err = cluster.ReplicationNum(&catalog.Table{Properties: map[string]string{"replication_num": "x"}}, 1)
	require.Error(t, err)
}

func TestPlaceColocated(t *testing.T) {
	intT := types.Type{Kind: types.KindInt}
	mk := func(name string, buckets int, colType types.Type, props map[string]string) *catalog.Table {
		tb := &catalog.Table{ID: int64(len(name)), DBID: 1, Name: name, Properties: props,
			Schema:       catalog.Schema{Columns: []catalog.Column{{Name: "k", Type: colType, IsKey: true}}},
			Distribution: catalog.Distribution{Columns: []string{"k"}, Buckets: buckets}}
		for i := 0; i < 3; i++ {
			tb.Partitions = append(tb.Partitions, catalog.Partition{Tablets: make([]int64, buckets)})
		}
		return tb
	}
	g := map[string]string{cluster.PropColocateWith: "g", "replication_num": "2"}
	first := mk("a", 4, intT, g)
	load := map[int64]int{}
	require.NoError(t, cluster.PlaceColocated(first, 2, []int64{1, 2, 3}, load, nil))
	for _, p := range first.Partitions {
		require.Equal(t, first.Partitions[0].Backends, p.Backends, "every partition's bucket b on the same backends")
	}
	second := mk("bb", 4, intT, g)
	second.ID = 99
	group, members := cluster.ColocateGroup(second, []*catalog.Table{first, mk("other", 4, intT, nil)})
	require.Equal(t, "g", group)
	require.Len(t, members, 1)
	require.NoError(t, cluster.PlaceColocated(second, 2, []int64{1, 2, 3}, load, members))
	require.Equal(t, first.Partitions[0].Backends, second.Partitions[2].Backends)

	var ce *cluster.ColocateError
	require.ErrorAs(t, cluster.PlaceColocated(mk("c", 3, intT, g), 2, []int64{1, 2, 3}, load, members), &ce)
	require.Equal(t, "Colocate tables must have same bucket num: 3 should be 4", ce.Msg)
	require.ErrorAs(t, cluster.PlaceColocated(mk("c", 4, types.Type{Kind: types.KindBigInt}, g), 2, []int64{1, 2, 3}, load, members), &ce)
	require.Contains(t, ce.Msg, "Colocate tables distribution columns must have the same data type")
	require.ErrorAs(t, cluster.PlaceColocated(mk("c", 4, intT, g), 3, []int64{1, 2, 3}, load, members), &ce)
	require.Contains(t, ce.Msg, "Colocate tables must have same replication allocation")
}

package meta_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-db/strata/fe/meta"
)

// newClient opens a client of its own on the test etcd, as another process
// would.
func newClient(t *testing.T) *clientv3.Client {
	t.Helper()
	cli, err := meta.Connect(testStore.Client().Endpoints())
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	return cli
}

// A fenced store writes only while it leads; a deposed leader's writes fail
// inside etcd even before it notices, and the new leader's succeed.
func TestElectionFencesWrites(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	key := meta.Key("test", "fenced")

	a := meta.NewFencedStore(newClient(t))
	_, _, err := a.Txn().Put(key, 1).Commit(ctx)
	require.ErrorIs(t, err, meta.ErrNotLeader, "a store that never led must not write")

	leading := func(s *meta.Store, name string) (chan struct{}, context.CancelFunc) {
		ch := make(chan struct{}, 4)
		ectx, ecancel := context.WithCancel(ctx)
		el := meta.NewElector(s, name, time.Second, nil)
		go el.Run(ectx, func(lctx context.Context) {
			ch <- struct{}{}
			<-lctx.Done()
		})
		return ch, ecancel
	}
	aLeads, stopA := leading(a, "a")
	defer stopA()
	select {
	case <-aLeads:
	case <-ctx.Done():
		t.Fatal("a never became leader")
	}
	leader, err := meta.Leader(ctx, testStore.Client())
	require.NoError(t, err)
	require.Equal(t, "a", leader)
	_, ok, err := a.Txn().Put(key, 1).Commit(ctx)
	require.NoError(t, err)
	require.True(t, ok)

	// b campaigns and waits behind a.
	b := meta.NewFencedStore(newClient(t))
	bLeads, stopB := leading(b, "b")
	defer stopB()
	select {
	case <-bLeads:
		t.Fatal("b led while a held the leadership")
	case <-time.After(300 * time.Millisecond):
	}
	_, _, err = b.Txn().Put(key, 2).Commit(ctx)
	require.ErrorIs(t, err, meta.ErrNotLeader)

	// a's lease is taken away behind its back, as when it is partitioned
	// from etcd for longer than the TTL. Its fence is still set when it
	// writes, and etcd refuses the write.
	fence := a.Fenced()
	require.NotNil(t, fence)
	resp, err := testStore.Client().Get(ctx, fence.Key)
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	_, err = testStore.Client().Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease))
	require.NoError(t, err)
	select {
	case <-bLeads:
	case <-ctx.Done():
		t.Fatal("b never took over")
	}
	a.SetFence(fence) // as if a had not noticed yet
	_, _, err = a.Txn().Put(key, 3).Commit(ctx)
	require.ErrorIs(t, err, meta.ErrNotLeader, "the deposed leader wrote")
	require.Nil(t, a.Fenced(), "a failed fenced write drops the fence")

	_, ok, err = b.Txn().Put(key, 4).Commit(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	var v int
	_, _, err = testStore.Get(ctx, key, &v)
	require.NoError(t, err)
	require.Equal(t, 4, v)
	leader, err = meta.Leader(ctx, testStore.Client())
	require.NoError(t, err)
	require.Equal(t, "b", leader)

	// A compare that fails inside a fenced write is a CAS miss, not a lost
	// leadership.
	_, ok, err = b.Txn().IfModRev(key, 1).Put(key, 5).Commit(ctx)
	require.NoError(t, err)
	require.False(t, ok)

	// a campaigns again behind b and leads when b steps down.
	select {
	case <-aLeads:
		t.Fatal("a led again while b leads")
	case <-time.After(300 * time.Millisecond):
	}
	stopB()
	select {
	case <-aLeads:
	case <-ctx.Done():
		t.Fatal("a did not lead after b stepped down")
	}
	_, ok, err = a.Txn().Put(key, 6).Commit(ctx)
	require.NoError(t, err)
	require.True(t, ok)
}

// A registration's key lives while the process keeps its lease, comes back
// after the lease is lost, and goes at Close.
func TestRegistration(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cli := newClient(t)
	type info struct{ Addr string }
	r, err := meta.Register(ctx, cli, meta.AliveKey("test", "be1"), info{"h:1"}, time.Second, nil)
	require.NoError(t, err)
	alive := func() map[string]string {
		m, err := testStore.ListAlive(ctx, "test")
		require.NoError(t, err)
		out := map[string]string{}
		for k, v := range m {
			var i info
			require.NoError(t, json.Unmarshal(v, &i))
			out[k] = i.Addr
		}
		return out
	}
	require.Equal(t, map[string]string{"be1": "h:1"}, alive())
	require.NoError(t, r.Update(ctx, info{"h:2"}))
	require.Equal(t, map[string]string{"be1": "h:2"}, alive())

	resp, err := testStore.Client().Get(ctx, meta.AliveKey("test", "be1"))
	require.NoError(t, err)
	_, err = testStore.Client().Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return alive()["be1"] == "h:2" }, 20*time.Second, 50*time.Millisecond,
		"the key did not come back after its lease was revoked")

	r.Close()
	require.Empty(t, alive())
}

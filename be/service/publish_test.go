package service_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/service"
	"github.com/strata-db/strata/fe/txn"
)

// target is a tablet of a transaction on backends 1, 2 and 3.
func target(version int64, written bool) txn.TabletTarget {
	return txn.TabletTarget{Version: version, Written: written, Backends: []int64{1, 2, 3}}
}

// The publisher publishes committed transactions on every replica of their
// tablets, written or not, and succeeds when a majority of each tablet's
// replicas holds the version.
func TestPublisher(t *testing.T) {
	ctx := testCtx(t)
	const written, other = 7, 8
	newPublisher := func(c service.Cluster) (*service.Publisher, *logBuffer) {
		logs := &logBuffer{}
		return &service.Publisher{C: c, Log: newLogger(logs, slog.LevelDebug)}, logs
	}
	versions := func(bes []*backend, tablet int64) []int64 {
		var out []int64
		for _, b := range bes {
			out = append(out, b.version(tablet))
		}
		return out
	}

	t.Run("all up, then one down, then two", func(t *testing.T) {
		bes, c := cluster3(t)
		p, logs := newPublisher(c)
		loadOn(t, 100, written, makeRows(0, 100), bes...)
		require.NoError(t, p.PublishReplicas(ctx, []txn.TxnTargets{
			{TxnID: 100, Tablets: map[int64]txn.TabletTarget{written: target(2, true), other: target(2, false)}},
		}))
		require.Equal(t, []int64{2, 2, 2}, versions(bes, written))
		require.Equal(t, []int64{2, 2, 2}, versions(bes, other))
		for _, b := range bes {
			require.Equal(t, makeRows(0, 100), readRows(t, b.store, written, 2), "backend %d", b.id)
			require.Empty(t, b.store.PendingTxns())
		}

		// Two transactions in one call, in version order; publishing the
		// first again is harmless.
		loadOn(t, 101, written, makeRows(100, 10), bes...)
		loadOn(t, 102, other, makeRows(200, 10), bes...)
		require.NoError(t, p.PublishReplicas(ctx, []txn.TxnTargets{
			{TxnID: 100, Tablets: map[int64]txn.TabletTarget{written: target(2, true), other: target(2, false)}},
			{TxnID: 101, Tablets: map[int64]txn.TabletTarget{written: target(3, true), other: target(3, false)}},
			{TxnID: 102, Tablets: map[int64]txn.TabletTarget{written: target(4, false), other: target(4, true)}},
		}))
		require.Equal(t, []int64{4, 4, 4}, versions(bes, written))
		require.Equal(t, []int64{4, 4, 4}, versions(bes, other))
		require.Equal(t, makeRows(0, 110), readRows(t, bes[2].store, written, 4))
		require.Equal(t, makeRows(200, 10), readRows(t, bes[1].store, other, 4))
		require.Empty(t, logs.String())

		// Backend 3 is down: the load reached the other two, and 2 of 3
		// is enough.
		bes[2].stop(t)
		loadOn(t, 103, written, makeRows(300, 10), bes[:2]...)
		require.NoError(t, p.PublishReplicas(ctx, []txn.TxnTargets{
			{TxnID: 103, Tablets: map[int64]txn.TabletTarget{written: target(5, true), other: target(5, false)}},
		}))
		require.Equal(t, []int64{5, 5, 4}, versions(bes, written))
		require.Contains(t, logs.String(), "a backend did not publish")
		require.Contains(t, logs.String(), "backend=3")

		// Backend 2 is down too: the publish fails, and says why.
		bes[1].stop(t)
		loadOn(t, 104, written, makeRows(400, 10), bes[0])
		err := p.PublishReplicas(ctx, []txn.TxnTargets{
			{TxnID: 104, Tablets: map[int64]txn.TabletTarget{written: target(6, true)}},
		})
		require.EqualError(t, err, "publishing txn 104: tablet 7 is at version 6 on 1 of 3 replicas, 2 needed")
	})

	// A replica that lacks the load's rows (the load did not reach it)
	// stays behind and does not count.
	t.Run("missing", func(t *testing.T) {
		bes, c := cluster3(t)
		p, logs := newPublisher(c)
		loadOn(t, 100, written, makeRows(0, 100), bes[0], bes[1])
		require.NoError(t, p.PublishReplicas(ctx, []txn.TxnTargets{
			{TxnID: 100, Tablets: map[int64]txn.TabletTarget{written: target(2, true), other: target(2, false)}},
		}))
		require.Equal(t, []int64{2, 2, 1}, versions(bes, written))
		require.Equal(t, []int64{2, 2, 2}, versions(bes, other))
		require.Contains(t, logs.String(), "result=missing")

		// Only backend 1 has the next load's rows: 2 lacks them, 3 lags.
		loadOn(t, 101, written, makeRows(100, 100), bes[0])
		targets := []txn.TxnTargets{{TxnID: 101, Tablets: map[int64]txn.TabletTarget{written: target(3, true), other: target(3, false)}}}
		err := p.PublishReplicas(ctx, targets)
		require.EqualError(t, err, "publishing txn 101: tablet 7 is at version 3 on 1 of 3 replicas, 2 needed")
		require.Contains(t, logs.String(), "result=gap")
		require.Equal(t, []int64{3, 2, 1}, versions(bes, written))
		require.Equal(t, []int64{3, 3, 3}, versions(bes, other))

		// The rows reach backend 2 after all (a retried load): the publish
		// again succeeds, the first replica already holding the version.
		loadOn(t, 101, written, makeRows(100, 100), bes[1])
		require.NoError(t, p.PublishReplicas(ctx, targets))
		require.Equal(t, []int64{3, 3, 1}, versions(bes, written))
		require.Equal(t, makeRows(0, 200), readRows(t, bes[1].store, written, 3))
	})

	// A tablet without placement (a catalog from before it) goes to every
	// backend alive; a transaction that did not record its tablets needs
	// the legacy publisher.
	t.Run("unplaced and legacy", func(t *testing.T) {
		bes, c := cluster3(t)
		p, _ := newPublisher(c)
		c.setDown(true, 3)
		loadOn(t, 100, written, makeRows(0, 10), bes...)
		require.NoError(t, p.PublishReplicas(ctx, []txn.TxnTargets{
			{TxnID: 100, Tablets: map[int64]txn.TabletTarget{written: {Version: 2, Written: true}}},
		}))
		require.Equal(t, []int64{2, 2, 0}, versions(bes, written))
		require.Equal(t, []int64{100}, bes[2].store.PendingTxns())

		err := p.Publish(ctx, 99, map[int64]int64{written: 3})
		require.ErrorContains(t, err, "txn 99 did not record the tablets it wrote")
		legacy := &recordingPublisher{}
		p.Legacy = legacy
		require.NoError(t, p.Publish(ctx, 99, map[int64]int64{written: 3}))
		require.Equal(t, []int64{99}, legacy.txns)
	})
}

type recordingPublisher struct{ txns []int64 }

func (r *recordingPublisher) Publish(_ context.Context, txnID int64, _ map[int64]int64) error {
	r.txns = append(r.txns, txnID)
	return nil
}

var _ txn.Publisher = (*recordingPublisher)(nil)

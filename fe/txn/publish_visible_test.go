package txn

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A publish that finds its txn already VISIBLE (another call's chain took
// it in) answers only once the catalog shows the txn's versions: the
// client is told its load is visible, so its next query must see it. The
// test makes the record VISIBLE in etcd ahead of the catalog, as such a
// chain's etcd transaction is until the catalog's watch delivers it.
func TestPublishOfVisibleTxnWaitsForTheCatalog(t *testing.T) {
	ctx := testCtx(t)
	db, tables := fixture(t, 1)
	m := newManager(Config{})
	tx := begin(t, m, db, "ahead", tables[0])
	vers, err := m.Commit(ctx, tx.ID, allParts(tables[0]))
	require.NoError(t, err)
	require.Len(t, vers, 1)

	rec, mod, err := m.get(ctx, tx.ID)
	require.NoError(t, err)
	committed := *rec
	rec.Status = StatusVisible
	_, ok, err := m.store.Txn().IfModRev(txnKey(tx.ID), mod).Put(txnKey(tx.ID), rec).Commit(ctx)
	require.NoError(t, err)
	require.True(t, ok)

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	err = m.Publish(short, tx.ID)
	require.ErrorIs(t, err, context.DeadlineExceeded, "answered before the catalog showed the txn's version")
	require.ErrorContains(t, err, "waiting for the catalog to show it")

	// Once the catalog shows the version, the publish answers.
	_, mod, err = m.get(ctx, tx.ID)
	require.NoError(t, err)
	_, ok, err = m.store.Txn().IfModRev(txnKey(tx.ID), mod).Put(txnKey(tx.ID), &committed).Commit(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, m.Publish(ctx, tx.ID))
	require.NoError(t, m.Publish(ctx, tx.ID), "a publish of a visible txn the catalog shows answers at once")
	tb, ok := m.cat.Snapshot().TableByID(db.ID, tables[0].ID)
	require.True(t, ok)
	for _, p := range tb.Partitions {
		require.Equal(t, vers[p.ID], p.VisibleVersion)
	}
}

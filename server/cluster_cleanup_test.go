package server

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/meta/metatest"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// A cluster backend's cleanup of pending rowsets leaves alone those an
// unfinished alter job wrote under its watershed, which no transaction
// has, and drops them once the job ends. Dropped while the job runs, they
// were missing when the job made them visible: the replica lost the
// converted rows and still counted as up to date.
func TestCleanupPendingKeepsAlterJobRows(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e, err := metatest.Start(t.TempDir())
	require.NoError(t, err)
	defer e.Close()
	store := meta.NewStore(e.Client())
	log := slog.New(slog.DiscardHandler)
	cat, err := catalog.Open(ctx, store, catalog.Options{Logger: log})
	require.NoError(t, err)
	defer cat.Close()
	require.NoError(t, cat.CreateDatabase(ctx, "d", false))
	require.NoError(t, cat.CreateTable(ctx, "d", &catalog.Table{
		Name: "t", KeysType: catalog.DupKeys, KeyColumns: []string{"k"},
		Schema:       catalog.Schema{Columns: []catalog.Column{{Name: "k", Type: types.Type{Kind: types.KindBigInt}, IsKey: true}}},
		Distribution: catalog.Distribution{Type: catalog.HashDistributed, Columns: []string{"k"}, Buckets: 1},
	}, false))
	tabs, err := tabletstore.Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer tabs.Close()
	node := &backendNode{tabs: tabs, cat: cat, reader: txn.NewManager(store, cat, txn.Config{}), log: log}

	// Ids no transaction has: the job's watershed, and a load that is gone.
	const watershed, gone = int64(1) << 40, int64(1)<<40 + 1
	writePending(t, tabs, 1, watershed)
	writePending(t, tabs, 1, gone)
	setJob := func(state catalog.JobState) {
		t.Helper()
		require.NoError(t, cat.UpdateTable(ctx, "d", "t", func(tb *catalog.Table) error {
			tb.AlterJobs = []catalog.AlterJob{{ID: 1, Type: catalog.JobSchemaChange, State: state, Watershed: watershed,
				CreateTime: time.Now().UnixMilli(), Timeout: 3600}}
			return nil
		}))
	}
	setJob(catalog.JobRunning)
	require.NoError(t, node.cleanupPending(ctx, runningJobTxns(cat)))
	require.Equal(t, []int64{watershed}, tabs.PendingTxns(), "the job's converted rows are kept, the gone load's dropped")
	setJob(catalog.JobFinished)
	require.NoError(t, node.cleanupPending(ctx, runningJobTxns(cat)))
	require.Empty(t, tabs.PendingTxns(), "a finished job's leftover rows are dropped")
}

// writePending writes a pending rowset of one row into a tablet under txn.
func writePending(t *testing.T, s *tabletstore.Store, tablet, txnID int64) {
	t.Helper()
	w, err := s.NewDeltaWriter(tablet, txnID, tabletstore.Schema{
		Columns: []storage.ColumnMeta{{ID: 1, Type: arrow.PrimitiveTypes.Int64}}, NumKeys: 1})
	require.NoError(t, err)
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.Append(txnID)
	col := b.NewArray()
	defer col.Release()
	require.NoError(t, w.Write([]arrow.Array{col}))
	require.NoError(t, w.Close())
}

package service_test

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/service"
	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/storage"
)

const testPartition = 20

func placement(backends ...int64) sink.Placement {
	return sink.Placement{DBID: 1, TableID: 10, PartitionID: testPartition, Backends: backends}
}

// replicatedLoad runs a load of rows into a tablet through r and returns
// the first error of open, writes and close.
func replicatedLoad(t *testing.T, r *service.Replicated, tablet, txn int64, at sink.Placement, batches ...[][]any) error {
	t.Helper()
	cols := make([][]arrow.Array, len(batches))
	for i, rows := range batches {
		cols[i] = arrays(t, rows)
	}
	defer func() {
		for _, c := range cols {
			release(c)
		}
	}()
	return loadCols(r, tablet, txn, at, cols)
}

// loadCols is replicatedLoad of batches built already; it may run on any
// goroutine.
func loadCols(r *service.Replicated, tablet, txn int64, at sink.Placement, batches [][]arrow.Array) error {
	w, err := r.OpenWriter(tablet, txn, testSchema(), at)
	if err != nil {
		return err
	}
	for _, cols := range batches {
		if err := w.Write(cols); err != nil {
			w.Cancel()
			return err
		}
	}
	return w.Close()
}

func requireQuorumError(t *testing.T, err error, tablet int64, have int) *service.QuorumError {
	t.Helper()
	var qe *service.QuorumError
	require.True(t, errors.As(err, &qe), "%v (%T)", err, err)
	require.Equal(t, tablet, qe.Tablet)
	require.Equal(t, have, qe.Have)
	require.Equal(t, 2, qe.Need)
	require.Len(t, qe.Errs, 3-have)
	require.Contains(t, qe.Error(), fmt.Sprintf("tablet %d: only %d replicas took the load, 2 needed", tablet, have))
	return qe
}

// A replicated load writes every replica of its tablet; it succeeds while a
// majority takes it, and fails with a *QuorumError naming the tablet when
// fewer do.
func TestReplicated(t *testing.T) {
	const tablet = 7
	rows := [][][]any{makeRows(0, 300), makeRows(300, 300)}
	all := makeRows(0, 600)
	newReplicated := func(c service.Cluster) (*service.Replicated, *logBuffer) {
		logs := &logBuffer{}
		return &service.Replicated{C: c, Log: newLogger(logs, slog.LevelDebug)}, logs
	}

	t.Run("all up", func(t *testing.T) {
		bes, c := cluster3(t)
		r, logs := newReplicated(c)
		require.NoError(t, replicatedLoad(t, r, tablet, 100, placement(1, 2, 3), rows...))
		require.Empty(t, logs.String())
		for _, b := range bes {
			require.Equal(t, []int64{100}, b.store.PendingTxns(), "backend %d", b.id)
		}
		publishOn(t, 100, 2, map[int64]bool{tablet: true}, bes...)
		for _, b := range bes {
			require.Equal(t, all, readRows(t, b.store, tablet, 2), "backend %d", b.id)
		}
	})

	// A backend whose server is gone before the load: the cluster does
	// not know yet, the upload to it fails, the load goes on.
	t.Run("one down", func(t *testing.T) {
		bes, c := cluster3(t)
		r, logs := newReplicated(c)
		bes[2].stop(t)
		require.NoError(t, replicatedLoad(t, r, tablet, 100, placement(1, 2, 3), rows...))
		require.Contains(t, logs.String(), "a replica does not hold the load")
		require.Contains(t, logs.String(), "backend=3")
		for _, b := range bes[:2] {
			require.Equal(t, []int64{100}, b.store.PendingTxns(), "backend %d", b.id)
		}
		require.Empty(t, bes[2].store.PendingTxns())
		publishOn(t, 100, 2, map[int64]bool{tablet: true}, bes[:2]...)
		require.Equal(t, all, readRows(t, bes[1].store, tablet, 2))
	})

	// A backend that dies in the middle of the load.
	t.Run("one dies", func(t *testing.T) {
		bes, c := cluster3(t)
		r, logs := newReplicated(c)
		w, err := r.OpenWriter(tablet, 100, testSchema(), placement(3, 2, 1))
		require.NoError(t, err)
		writeRows(t, w, rows[0])
		bes[1].stop(t)
		writeRows(t, w, rows[1])
		require.NoError(t, w.Close())
		require.Contains(t, logs.String(), "backend=2")
		require.Empty(t, bes[1].store.PendingTxns(), "the stopped backend cancelled its writer")
		publishOn(t, 100, 2, map[int64]bool{tablet: true}, bes[0], bes[2])
		require.Equal(t, all, readRows(t, bes[2].store, tablet, 2))
	})

	// Two of three down: as the cluster knows it (no backend to ask), or
	// not yet (the calls fail).
	t.Run("two down", func(t *testing.T) {
		bes, c := cluster3(t)
		r, _ := newReplicated(c)
		c.setDown(true, 2, 3)
		_, err := r.OpenWriter(tablet, 100, testSchema(), placement(1, 2, 3))
		qe := requireQuorumError(t, err, tablet, 1)
		require.ErrorContains(t, errors.Join(qe.Errs...), "backend 2 is down")
		require.Empty(t, bes[0].store.PendingTxns(), "the open replica was cancelled")

		c.setDown(false, 2, 3)
		bes[1].stop(t)
		bes[2].stop(t)
		err = replicatedLoad(t, r, tablet, 101, placement(1, 2, 3), rows...)
		requireQuorumError(t, err, tablet, 1)
		// The sink aborts the load: the replicas that are up drop it.
		c.setDown(true, 2, 3)
		require.NoError(t, r.AbortTxn(101))
		require.Empty(t, bes[0].store.PendingTxns())
	})

	// A replica whose version is below its partition's visible one missed
	// loads: it takes the rows, but does not count.
	t.Run("behind", func(t *testing.T) {
		bes, c := cluster3(t)
		r, logs := newReplicated(c)
		// Tablet 7 is at version 3 on backends 1 and 2, at 1 on 3;
		// tablet 8 at 3 on backend 1 only.
		publishOn(t, 1, 2, map[int64]bool{tablet: false, tablet + 1: false}, bes[0])
		publishOn(t, 2, 3, map[int64]bool{tablet: false, tablet + 1: false}, bes[0])
		publishOn(t, 1, 2, map[int64]bool{tablet: false}, bes[1])
		publishOn(t, 2, 3, map[int64]bool{tablet: false}, bes[1])
		c.setVisible(testPartition, 3)

		require.NoError(t, replicatedLoad(t, r, tablet, 100, placement(1, 2, 3), rows...))
		require.Contains(t, logs.String(), "the replica is at version 1, behind the partition's 3")
		require.Contains(t, logs.String(), "backend=3")

		err := replicatedLoad(t, r, tablet+1, 101, placement(1, 2, 3), rows...)
		qe := requireQuorumError(t, err, tablet+1, 1)
		require.ErrorContains(t, errors.Join(qe.Errs...), "behind the partition's 3")

		// Publishing the first load on the replicas that count.
		publishOn(t, 100, 4, map[int64]bool{tablet: true}, bes[0], bes[1])
		require.Equal(t, all, readRows(t, bes[1].store, tablet, 4))
	})

	// Loads of several tablets at once share the client and the servers.
	t.Run("concurrent", func(t *testing.T) {
		bes, c := cluster3(t)
		r, logs := newReplicated(c)
		const n = 6
		errs := make(chan error, n)
		for i := range int64(n) {
			batches := [][]arrow.Array{arrays(t, makeRows(int(i)*1000, 500)), arrays(t, makeRows(int(i)*1000+500, 500))}
			defer release(batches[0])
			defer release(batches[1])
			go func() {
				errs <- loadCols(r, 100+i, 200+i, placement(1+i%3, 1+(i+1)%3, 1+(i+2)%3), batches)
			}()
		}
		for range n {
			require.NoError(t, <-errs)
		}
		require.Empty(t, logs.String())
		for i := range int64(n) {
			publishOn(t, 200+i, 2, map[int64]bool{100 + i: true}, bes...)
			for _, b := range bes {
				require.Equal(t, makeRows(int(i)*1000, 1000), readRows(t, b.store, 100+i, 2))
			}
		}
	})

	t.Run("delete", func(t *testing.T) {
		bes, c := cluster3(t)
		r, _ := newReplicated(c)
		pred := storage.DeletePredicate{Conditions: []storage.DeleteCondition{{Column: 1, Op: ">=", Ints: []int64{100}}}}
		require.NoError(t, r.AddDelete(tablet, 100, testSchema(), pred, placement(1, 2, 3)))
		for _, b := range bes {
			require.Equal(t, []int64{100}, b.store.PendingTxns())
		}
		bes[2].stop(t)
		require.NoError(t, r.AddDelete(tablet, 101, testSchema(), pred, placement(1, 2, 3)))
		bes[1].stop(t)
		err := r.AddDelete(tablet, 102, testSchema(), pred, placement(1, 2, 3))
		requireQuorumError(t, err, tablet, 1)
		_, err = r.OpenWriter(tablet, 103, testSchema(), placement())
		require.ErrorContains(t, err, "tablet 7 has no replicas placed")
	})
}

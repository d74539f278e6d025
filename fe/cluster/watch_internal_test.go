package cluster

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/meta/metatest"
)

// A watch that needs a revision etcd has compacted away re-lists, and the
// view catches up with what changed meanwhile.
func TestWatchRelistsAfterCompaction(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := metatest.Start(t.TempDir())
	require.NoError(t, err)
	defer e.Close()
	store := meta.NewStore(e.Client())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// A view listed at rev, whose watch has not started yet.
	r := &Registry{store: store, ids: meta.NewIDAllocator(store, "backends", 1), log: log, changed: make(chan struct{}), done: make(chan struct{})}
	rev, err := r.list(ctx)
	require.NoError(t, err)

	// Changes after rev, then a compaction past them.
	w, err := Open(ctx, store, log)
	require.NoError(t, err)
	defer w.Close()
	id, err := w.AddBackend(ctx, "h", 1)
	require.NoError(t, err)
	cur := w.Revision()
	_, err = e.Client().Compact(ctx, cur)
	require.NoError(t, err)

	wctx, wcancel := context.WithCancel(context.Background())
	r.cancel = wcancel
	go r.watch(wctx, rev)
	defer r.Close()
	require.NoError(t, r.WaitRevision(ctx, cur))
	_, ok := r.Backend(id)
	require.True(t, ok, "the backend added before the compaction is missing")
}

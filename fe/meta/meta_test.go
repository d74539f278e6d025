package meta_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/meta/metatest"
)

var testStore *meta.Store

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "strata-meta-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	e, err := metatest.Start(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testStore = meta.NewStore(e.Client())
	code := m.Run()
	e.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestKey(t *testing.T) {
	require.Equal(t, "/strata/catalog/db/a%2Fb", meta.Key("catalog", "db", "a/b"))
	require.Equal(t, "/strata/x/", meta.KeyPrefix("x"))
	p, err := meta.UnescapeKeyPart("a%2Fb")
	require.NoError(t, err)
	require.Equal(t, "a/b", p)
}

func TestGetPutCAS(t *testing.T) {
	ctx := context.Background()
	key := meta.Key("test", "cas")
	type val struct{ N int }
	var v val
	mod, _, err := testStore.Get(ctx, key, &v)
	require.NoError(t, err)
	require.Zero(t, mod)

	rev, ok, err := testStore.Txn().IfModRev(key, 0).Put(key, val{1}).Commit(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	mod, _, err = testStore.Get(ctx, key, &v)
	require.NoError(t, err)
	require.Equal(t, rev, mod)
	require.Equal(t, 1, v.N)

	// A stale revision loses.
	_, ok, err = testStore.Txn().IfModRev(key, 0).Put(key, val{2}).Commit(ctx)
	require.NoError(t, err)
	require.False(t, ok)
	_, ok, err = testStore.Txn().IfModRev(key, mod).Delete(key).Commit(ctx)
	require.NoError(t, err)
	require.True(t, ok)
}

func TestLimits(t *testing.T) {
	ctx := context.Background()
	_, _, err := testStore.Txn().PutRaw(meta.Key("test", "big"), make([]byte, meta.MaxValueBytes+1)).Commit(ctx)
	require.ErrorIs(t, err, meta.ErrTooLarge)
	tx := testStore.Txn()
	for i := range meta.MaxTxnOps + 1 {
		tx.Put(meta.Key("test", "many", fmt.Sprint(i)), i)
	}
	_, _, err = tx.Commit(ctx)
	require.ErrorIs(t, err, meta.ErrTooLarge)
}

func TestList(t *testing.T) {
	ctx := context.Background()
	tx := testStore.Txn()
	for i := range 30 {
		tx.Put(meta.Key("test", "list", fmt.Sprintf("%03d", i)), i)
	}
	_, ok, err := tx.Commit(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	kvs, rev, err := testStore.List(ctx, meta.KeyPrefix("test", "list"))
	require.NoError(t, err)
	require.Positive(t, rev)
	require.Len(t, kvs, 30)
	require.Equal(t, meta.Key("test", "list", "029"), kvs[29].Key)
}

func TestIDAllocatorConcurrent(t *testing.T) {
	ctx := context.Background()
	// Two allocators on one counter stand for two processes.
	a := meta.NewIDAllocator(testStore, "test-ids", 16)
	b := meta.NewIDAllocator(testStore, "test-ids", 7)
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for w := range 4 {
		alloc := a
		if w%2 == 1 {
			alloc = b
		}
		wg.Go(func() {
			var last int64
			for i := range 50 {
				n := int64(i%3 + 1)
				first, err := alloc.NextIDs(ctx, n)
				if err != nil {
					t.Error(err)
					return
				}
				if first <= last {
					t.Errorf("ids not increasing: %d after %d", first, last)
				}
				last = first + n - 1
				mu.Lock()
				for id := first; id < first+n; id++ {
					if seen[id] {
						t.Errorf("id %d handed out twice", id)
					}
					seen[id] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, seen, 4*(17*1+17*2+16*3))
	for id := range seen {
		require.GreaterOrEqual(t, id, int64(meta.FirstID))
	}
}

func TestRestartPersists(t *testing.T) {
	dir := t.TempDir()
	e, err := metatest.Start(dir)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := meta.NewStore(e.Client())
	_, ok, err := s.Txn().Put(meta.Key("p"), "kept").Commit(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	e.Close()
	e.Close() // idempotent

	e, err = metatest.Start(dir)
	require.NoError(t, err)
	defer e.Close()
	var v string
	mod, _, err := meta.NewStore(e.Client()).Get(ctx, meta.Key("p"), &v)
	require.NoError(t, err)
	require.Positive(t, mod)
	require.Equal(t, "kept", v)
}

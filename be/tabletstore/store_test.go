package tabletstore

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/storage"
)

var testSchema = Schema{
	Columns: []storage.ColumnMeta{
		{ID: 1, Type: arrow.PrimitiveTypes.Int64},
		{ID: 2, Type: arrow.BinaryTypes.String, Nullable: true},
	},
	NumKeys: 2,
}

func batch(keys []int64, names []*string) []arrow.Array {
	kb := array.NewInt64Builder(memory.DefaultAllocator)
	kb.AppendValues(keys, nil)
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	for _, n := range names {
		if n == nil {
			sb.AppendNull()
		} else {
			sb.Append(*n)
		}
	}
	return []arrow.Array{kb.NewArray(), sb.NewArray()}
}

func str(s string) *string { return &s }

// readAll returns the keys visible in a tablet at a version, in segment
// order.
func readAll(t *testing.T, s *Store, tablet, version int64) []int64 {
	t.Helper()
	snap, err := s.Acquire(tablet, version)
	require.NoError(t, err)
	defer snap.Release()
	segs, err := snap.Segments()
	require.NoError(t, err)
	var out []int64
	for _, seg := range segs {
		c := seg.Column(1)
		for p := 0; p < seg.NumPages(); p++ {
			a, err := c.ReadPage(p, memory.DefaultAllocator)
			require.NoError(t, err)
			out = append(out, a.(*array.Int64).Int64Values()...)
			a.Release()
		}
	}
	return out
}

func write(t *testing.T, s *Store, tablet, txn int64, keys []int64) {
	t.Helper()
	w, err := s.NewDeltaWriter(tablet, txn, testSchema)
	require.NoError(t, err)
	names := make([]*string, len(keys))
	for i := range names {
		if i%3 != 0 {
			names[i] = str("n")
		}
	}
	cols := batch(keys, names)
	require.NoError(t, w.Write(cols))
	for _, c := range cols {
		c.Release() // the writer keeps its own references
	}
	require.NoError(t, w.Close())
}

func TestWritePublishRead(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	require.NoError(t, err)
	defer s.Close()

	write(t, s, 1, 100, []int64{5, 3, 9, 1})
	write(t, s, 2, 100, []int64{7})
	require.Equal(t, []int64{100}, s.PendingTxns())
	require.Empty(t, readAll(t, s, 1, 10), "pending rowsets are invisible")

	require.NoError(t, s.PublishTxn(100, map[int64]int64{1: 2, 2: 2, 3: 2}))
	require.NoError(t, s.PublishTxn(100, map[int64]int64{1: 2, 2: 2, 3: 2}), "publish is idempotent")
	require.Empty(t, s.PendingTxns())
	require.Equal(t, []int64{1, 3, 5, 9}, readAll(t, s, 1, 2), "rows are sorted by the key")
	require.Empty(t, readAll(t, s, 1, 1), "a reader at an older version sees nothing")

	// A snapshot pinned at v2 does not see v3.
	snap, err := s.Acquire(1, 2)
	require.NoError(t, err)
	write(t, s, 1, 101, []int64{2})
	require.NoError(t, s.PublishTxn(101, map[int64]int64{1: 3}))
	segs, err := snap.Segments()
	require.NoError(t, err)
	require.Len(t, segs, 1)
	snap.Release()
	require.Equal(t, []int64{1, 3, 5, 9, 2}, readAll(t, s, 1, 3))
	require.Equal(t, 2, s.VersionCount(1))

	// Aborting removes the pending rowset and its files.
	write(t, s, 1, 102, []int64{4})
	require.NoError(t, s.AbortTxn(102))
	require.NoError(t, s.AbortTxn(102))
	require.Empty(t, s.PendingTxns())
	files, _ := filepath.Glob(filepath.Join(s.tabletDir(1), "*.seg"))
	require.Len(t, files, 2)
}

func TestRecovery(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	require.NoError(t, err)
	write(t, s, 1, 100, []int64{1, 2})
	require.NoError(t, s.PublishTxn(100, map[int64]int64{1: 2}))
	write(t, s, 1, 101, []int64{3})
	require.NoError(t, s.Close())

	// A file from a writer that crashed before recording its rowset.
	orphan := filepath.Join(s.tabletDir(1), "999_0.seg")
	require.NoError(t, os.WriteFile(orphan, []byte("partial"), 0o644))

	s, err = Open(dir, nil)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, []int64{1, 2}, readAll(t, s, 1, 5))
	require.Equal(t, []int64{101}, s.PendingTxns(), "pending rowsets survive for the FE to decide")
	_, err = os.Stat(orphan)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, s.PublishTxn(101, map[int64]int64{1: 3}))
	require.Equal(t, []int64{1, 2, 3}, readAll(t, s, 1, 5))
}

func TestMemtableSortAndFlush(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer s.Close()
	r := rand.New(rand.NewPCG(1, 1))
	w, err := s.NewDeltaWriter(1, 1, testSchema)
	require.NoError(t, err)
	var want []int64
	for b := 0; b < 5; b++ {
		keys := make([]int64, 3000)
		names := make([]*string, 3000)
		for i := range keys {
			keys[i] = r.Int64N(1000)
			want = append(want, keys[i])
			if r.IntN(4) > 0 {
				names[i] = str(string(rune('a' + r.IntN(26))))
			}
		}
		cols := batch(keys, names)
		require.NoError(t, w.Write(cols))
		for _, c := range cols {
			c.Release()
		}
	}
	require.NoError(t, w.Close())
	require.NoError(t, s.PublishTxn(1, map[int64]int64{1: 2}))
	sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
	got := readAll(t, s, 1, 2)
	require.True(t, slices.IsSorted(got))
	require.Equal(t, want, got)
}

func TestComparatorNullsFirst(t *testing.T) {
	cols := batch([]int64{2, 1, 1, 2}, []*string{str("b"), nil, str("a"), nil})
	perm := sortPermutation(cols, 4)
	require.Equal(t, []int32{1, 2, 3, 0}, perm)
	require.Nil(t, sortPermutation(batch([]int64{1, 2}, []*string{nil, str("x")}), 2), "sorted input needs no permutation")
}

// syncRecorder records what is fsynced.
type syncRecorder struct {
	mu     sync.Mutex
	synced []string
}

func (r *syncRecorder) Sync(f *os.File) error {
	r.mu.Lock()
	r.synced = append(r.synced, f.Name())
	r.mu.Unlock()
	return f.Sync()
}

// A tablet's first rowset lives in directories this write created: their
// entries in the parent directories must be durable before the rowset is
// recorded, or a crash can lose the files bbolt points at.
func TestNewTabletDirectoryIsDurable(t *testing.T) {
	dir := t.TempDir()
	rec := &syncRecorder{}
	s, err := OpenWithFS(dir, nil, rec)
	require.NoError(t, err)
	defer s.Close()
	write(t, s, 300, 100, []int64{1})
	tdir := s.tabletDir(300)
	require.Contains(t, rec.synced, tdir)
	require.Contains(t, rec.synced, filepath.Dir(tdir), "the bucket directory holding the new tablet directory")
	require.Contains(t, rec.synced, filepath.Join(dir, "data"), "the data directory holding the new bucket directory")
	require.Contains(t, rec.synced, dir, "the store directory holding data/")
}

// Rowset ids are reserved in blocks; after a reopen (or a crash, which
// loses the unused rest of a block) they continue above every id handed
// out before.
func TestRowsetIDsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	require.NoError(t, err)
	seen := map[int64]bool{}
	var last int64
	for range rowsetIDBlock + 10 {
		id, err := s.nextRowsetID()
		require.NoError(t, err)
		require.Greater(t, id, last)
		require.False(t, seen[id])
		seen[id], last = true, id
	}
	require.NoError(t, s.Close())
	s, err = Open(dir, nil)
	require.NoError(t, err)
	defer s.Close()
	id, err := s.nextRowsetID()
	require.NoError(t, err)
	require.Greater(t, id, last)
}

// A dropped tablet's records, files and directory go, and a reopened store
// does not know it; a tablet a reader pins is left for later.
func TestDropTablet(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	require.NoError(t, err)
	write(t, s, 1, 100, []int64{1, 2})
	require.NoError(t, s.PublishTxn(100, map[int64]int64{1: 2}))
	write(t, s, 2, 100, []int64{3})
	require.NoError(t, s.PublishTxn(100, map[int64]int64{2: 2}))
	write(t, s, 2, 101, []int64{4}) // pending
	require.Equal(t, []int64{1, 2}, s.Tablets())

	snap, err := s.Acquire(2, 2)
	require.NoError(t, err)
	require.ErrorIs(t, s.DropTablet(2), ErrTabletBusy)
	snap.Release()
	require.NoError(t, s.DropTablet(2))
	require.NoError(t, s.DropTablet(2), "dropping twice")
	require.Equal(t, []int64{1}, s.Tablets())
	_, err = os.Stat(s.tabletDir(2))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Empty(t, readAll(t, s, 2, 2))
	require.Equal(t, []int64{1, 2}, readAll(t, s, 1, 2))
	require.NoError(t, s.Close())

	s, err = Open(dir, nil)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, []int64{1}, s.Tablets())
	require.Equal(t, []int64{1, 2}, readAll(t, s, 1, 2))
}

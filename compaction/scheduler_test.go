package compaction

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/storage"
)

var tinySchema = tabletstore.Schema{
	Columns: []storage.ColumnMeta{{ID: 1, Type: arrow.PrimitiveTypes.Int64}},
	NumKeys: 1,
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A Flink-like sink: 1,000 one-row loads into one tablet, one after the
// other, as fast as the store takes them, while readers query the latest
// published version. The scheduler keeps the tablet at a handful of
// rowsets.
//
// Bound: the policy merges at MinRowsets (5) rowsets, and a tiny run merges
// whole; a compaction of it costs about what one load costs (a rowset id,
// a segment fsync, a directory fsync, a bbolt commit), so only a load or two
// land while one runs, and the next compaction takes them along: the count
// stays at MinRowsets + 2 = 7 (measured, with the race detector, one worker
// and the readers on two cores). A stall of the disk or the machine can
// leave the compaction behind for a while, so the test allows a peak of
// 10 x MinRowsets = 50 (still 20 times below the 1,000 the tablet reaches
// without compaction), and asks that 99% of the loads leave the tablet at
// no more than 2 x MinRowsets = 10.
func TestSchedulerBoundsVersionCount(t *testing.T) {
	const loads = 1000
	st, err := tabletstore.OpenWithOptions(t.TempDir(), tabletstore.Options{StaleSweepTime: time.Minute})
	require.NoError(t, err)
	defer st.Close()
	s := NewScheduler(st, Config{Workers: 1, ScanInterval: time.Hour})
	s.Start()
	defer s.Close()

	var published atomic.Int64
	stop := make(chan struct{})
	var readers sync.WaitGroup
	var reads atomic.Int64
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				v := published.Load()
				snap, err := st.Acquire(1, v)
				if err != nil {
					t.Errorf("reading at version %d: %v", v, err)
					return
				}
				if n := snap.NumRows(); v > 0 && n != v-1 {
					t.Errorf("at version %d: %d rows, want %d", v, n, v-1)
				}
				snap.Release()
				reads.Add(1)
				time.Sleep(100 * time.Microsecond) // a query does some work
			}
		}()
	}

	counts := make([]int, 0, loads) // after each load
	for i := range loads {
		v := int64(i + 2)
		loadRows(t, st, tinySchema, 1, v, v, [][]any{{int64(i * 7919 % loads)}})
		published.Store(v)
		counts = append(counts, st.VersionCount(1))
	}
	close(stop)
	readers.Wait()
	waitFor(t, "compaction to settle", func() bool {
		_, ok := DefaultPolicy().Pick(st.Rowsets(1), st.MaxVersions())
		return !ok && s.Stats().Running == 0
	})

	stats := s.Stats()
	slices.Sort(counts)
	p99, most := counts[loads*99/100], counts[loads-1]
	t.Logf("rowsets after a load: p99 %d, most %d; final %d, compactions %d, rows merged %d, reads %d",
		p99, most, st.VersionCount(1), stats.Compactions, stats.RowsMerged, reads.Load())
	minRowsets := DefaultPolicy().MinRowsets
	require.LessOrEqual(t, most, 10*minRowsets)
	require.LessOrEqual(t, p99, 2*minRowsets)
	require.Less(t, st.VersionCount(1), minRowsets)
	require.Zero(t, stats.Failures)
	require.Positive(t, stats.Compactions)
	require.GreaterOrEqual(t, stats.RowsMerged, int64(loads))
	require.Equal(t, st.VersionCount(1), stats.MaxVersionCount)

	rows := readRows(t, st, tinySchema.Columns, 1, loads+1)
	require.Len(t, rows, loads)
	keys := make([]int64, len(rows))
	for i, r := range rows {
		keys[i] = r[0].(int64)
	}
	slices.Sort(keys)
	for i, k := range keys {
		require.Equal(t, int64(i), k)
	}
}

// Tablets wait in the queue by score; with several workers, different
// tablets compact at once, never one tablet twice.
func TestSchedulerManyTablets(t *testing.T) {
	st, err := tabletstore.OpenWithOptions(t.TempDir(), tabletstore.Options{StaleSweepTime: -1})
	require.NoError(t, err)
	defer st.Close()
	for tablet := int64(1); tablet <= 8; tablet++ {
		for v := int64(2); v < 2+6+tablet; v++ {
			loadRows(t, st, tinySchema, tablet, v*100+tablet, v, [][]any{{v}})
		}
	}
	s := NewScheduler(st, Config{Workers: 3, ScanInterval: time.Hour})
	s.Start()
	defer s.Close()
	waitFor(t, "every tablet compacted", func() bool {
		for _, id := range st.TabletIDs() {
			if st.VersionCount(id) != 1 {
				return false
			}
		}
		return s.Stats().Running == 0
	})
	stats := s.Stats()
	require.Equal(t, int64(8), stats.Compactions)
	require.Zero(t, stats.Failures)
	require.Equal(t, 1, stats.MaxVersionCount)
}

// Close abandons a running compaction: it returns, the tablet keeps its
// inputs, and no output file is left behind.
func TestSchedulerCloseDuringCompaction(t *testing.T) {
	dir := t.TempDir()
	st, err := tabletstore.OpenWithOptions(dir, tabletstore.Options{StaleSweepTime: -1})
	require.NoError(t, err)
	defer st.Close()
	for v := int64(2); v < 8; v++ {
		loadRows(t, st, tinySchema, 1, v, v, [][]any{{v}, {-v}})
	}
	files := func() []string {
		var out []string
		require.NoError(t, filepath.WalkDir(filepath.Join(dir, "data"), func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				out = append(out, filepath.Base(path))
			}
			return err
		}))
		return out
	}
	before := files()

	s := NewScheduler(st, Config{Workers: 1, ScanInterval: time.Hour})
	started := make(chan struct{})
	var once sync.Once
	s.chunkHook = func(ctx context.Context) {
		once.Do(func() { close(started) })
		<-ctx.Done() // a long merge
	}
	s.Start()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("no compaction started")
	}
	require.Equal(t, 1, s.Stats().Running)
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return")
	}
	require.NoError(t, s.Close(), "Close is idempotent")

	stats := s.Stats()
	require.Zero(t, stats.Compactions)
	require.Zero(t, stats.Failures, "an abandoned compaction is not a failure")
	require.Zero(t, stats.Running)
	require.Equal(t, 6, st.VersionCount(1))
	require.Equal(t, before, files())
	require.Len(t, readRows(t, st, tinySchema.Columns, 1, 7), 12)

	// A new scheduler (or a direct call) finishes the job.
	_, err = Compact(context.Background(), st, 1, Policy{})
	require.NoError(t, err)
	require.Equal(t, 1, st.VersionCount(1))
}

// Publishes poke the scheduler; a tablet whose inputs the store refuses is
// skipped, not retried in a loop.
func TestSchedulerSkipsSchemaMismatch(t *testing.T) {
	st, err := tabletstore.OpenWithOptions(t.TempDir(), tabletstore.Options{StaleSweepTime: -1})
	require.NoError(t, err)
	defer st.Close()
	s := NewScheduler(st, Config{Workers: 1, ScanInterval: time.Hour})
	s.Start()
	defer s.Close()
	// A rowset with a column the others lack, whose default no input
	// records (as rowsets written before format 5 do not).
	wide := tabletstore.Schema{NumKeys: 1, Columns: []storage.ColumnMeta{
		{ID: 1, Type: arrow.PrimitiveTypes.Int64}, {ID: 2, Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}}
	for v := int64(2); v < 6; v++ {
		loadRows(t, st, tinySchema, 1, v, v, [][]any{{v}})
	}
	loadRows(t, st, wide, 1, 6, 6, [][]any{{int64(6), nil}})
	waitFor(t, "the skip", func() bool { return s.Stats().Skipped == 1 })
	time.Sleep(50 * time.Millisecond)
	require.Equal(t, int64(1), s.Stats().Skipped)
	require.Equal(t, 5, st.VersionCount(1))
}

func TestDefaultWorkers(t *testing.T) {
	require.GreaterOrEqual(t, DefaultWorkers(), 1)
	s := NewScheduler(nil, Config{})
	require.Equal(t, DefaultWorkers(), s.cfg.Workers)
	require.Equal(t, DefaultScanInterval, s.cfg.ScanInterval)
	require.NoError(t, s.Close(), "closing a scheduler never started")
}

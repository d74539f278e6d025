package tabletstore

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/strata-db/strata/storage"
)

// fakeClock is a clock moved by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// loadVersions writes one rowset per version into tablet (keys given per
// version) and publishes it at that version; txn ids are the versions.
func loadVersions(t *testing.T, s *Store, tablet int64, rows map[int64][]int64) {
	t.Helper()
	versions := make([]int64, 0, len(rows))
	for v := range rows {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	for _, v := range versions {
		write(t, s, tablet, v, rows[v])
		require.NoError(t, s.PublishTxn(v, map[int64]int64{tablet: v}))
	}
}

// mergeAll is the test's merge: every input row, sorted by the key with
// the delta writer's stable sort (equal keys keep input order).
func mergeAll(t *testing.T, c *Compaction) {
	t.Helper()
	schema := c.Schema()
	var batches [][]arrow.Array
	rows := 0
	for _, seg := range c.Segments() {
		for p := 0; p < seg.NumPages(); p++ {
			b := make([]arrow.Array, len(schema.Columns))
			for i, col := range schema.Columns {
				a, err := seg.Column(col.ID).ReadPage(p, memory.DefaultAllocator)
				require.NoError(t, err)
				b[i] = a
			}
			rows += b[0].Len()
			batches = append(batches, b)
		}
	}
	cols, err := concat(batches, len(schema.Columns))
	require.NoError(t, err)
	for _, b := range batches {
		releaseArrays(b)
	}
	defer releaseArrays(cols)
	sorted := cols
	if perm := sortPermutation(cols[:schema.NumKeys], rows); perm != nil {
		sorted, err = takeAll(cols, perm)
		require.NoError(t, err)
		defer releaseArrays(sorted)
	}
	require.NoError(t, c.Append(sorted))
}

func compactRange(t *testing.T, s *Store, tablet, start, end int64) RowsetInfo {
	t.Helper()
	c, err := s.BeginCompaction(tablet, start, end)
	require.NoError(t, err)
	mergeAll(t, c)
	info, err := c.Commit()
	require.NoError(t, err)
	return info
}

func versionRanges(s *Store, tablet int64) [][2]int64 {
	var out [][2]int64
	for _, rs := range s.Rowsets(tablet) {
		out = append(out, [2]int64{rs.StartVersion, rs.EndVersion})
	}
	return out
}

func segFiles(t *testing.T, s *Store, tablet int64) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(s.tabletDir(tablet), "*.seg"))
	require.NoError(t, err)
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	return files
}

func sorted(keys []int64) []int64 {
	out := slices.Clone(keys)
	slices.Sort(out)
	return out
}

// Versions skip numbers (2, 3, 5, ...); a compaction of the middle run
// covers [3-8] and reads the same as its inputs did.
func TestCompactionReplacesRun(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	s, err := OpenWithOptions(t.TempDir(), Options{StaleSweepTime: time.Minute, Now: clock.Now})
	require.NoError(t, err)
	defer s.Close()
	loadVersions(t, s, 1, map[int64][]int64{
		2: {20, 2}, 3: {3, 1}, 5: {5, 1, 9}, 6: {6}, 8: {0, 8}, 9: {9},
	})
	before := map[int64][]int64{}
	for _, v := range []int64{2, 3, 5, 6, 7, 8, 9} {
		before[v] = sorted(readAll(t, s, 1, v))
	}

	info := compactRange(t, s, 1, 3, 8)
	require.NotZero(t, info.ID)
	require.Equal(t, int64(3), info.StartVersion)
	require.Equal(t, int64(8), info.EndVersion)
	require.Equal(t, int64(8), info.NumRows)
	require.Equal(t, [][2]int64{{2, 2}, {3, 8}, {9, 9}}, versionRanges(s, 1))
	require.Equal(t, 3, s.VersionCount(1))
	require.Equal(t, 4, s.StaleRowsets(1), "the inputs are kept for readers at older versions")

	// The merged rowset is one sorted run.
	require.Equal(t, []int64{0, 1, 1, 3, 5, 6, 8, 9}, readAll(t, s, 1, 8)[2:])
	for v, want := range before {
		require.Equal(t, want, sorted(readAll(t, s, 1, v)), "version %d", v)
	}

	// Past the grace period, a read inside [3-8] fails; at or around its
	// bounds it does not.
	clock.Advance(time.Minute)
	require.Equal(t, 4, s.SweepStale())
	require.Zero(t, s.StaleRowsets(1))
	for _, v := range []int64{5, 6, 7} {
		_, err := s.Acquire(1, v)
		require.ErrorIs(t, err, ErrVersionsCompacted)
		require.ErrorContains(t, err, "versions are already compacted: tablet 1 cannot be read at version "+strconv.FormatInt(v, 10))
	}
	for _, v := range []int64{1, 2, 8, 9, 100} {
		want := before[v]
		if v == 100 {
			want = before[9]
		}
		require.Equal(t, want, sorted(readAll(t, s, 1, v)), "version %d", v)
	}
	require.Len(t, segFiles(t, s, 1), 3, "the inputs' files are gone")

	// Compacting the output again with its neighbours nests ranges.
	compactRange(t, s, 1, 2, 9)
	require.Equal(t, [][2]int64{{2, 9}}, versionRanges(s, 1))
	require.Equal(t, before[9], readAll(t, s, 1, 9))
}

// A reader at a version inside a compacted range reads the inputs, also
// when the output was compacted again (the stale rowsets nest).
func TestReadAtOldVersionThroughNestedCompactions(t *testing.T) {
	s, err := OpenWithOptions(t.TempDir(), Options{StaleSweepTime: time.Hour})
	require.NoError(t, err)
	defer s.Close()
	rows := map[int64][]int64{}
	for v := int64(2); v <= 9; v++ {
		rows[v] = []int64{100 - v}
	}
	loadVersions(t, s, 1, rows)
	for v := int64(2); v <= 9; v++ {
		readAll(t, s, 1, v) // opens every rowset's files
	}
	compactRange(t, s, 1, 2, 5)
	// The replaced rowsets hold no file open while no reader pins them.
	open := 0
	s.mu.Lock()
	for _, rs := range s.tablets[1].visible[0].inputs {
		rs.mu.Lock()
		open += len(rs.files)
		rs.mu.Unlock()
	}
	s.mu.Unlock()
	require.Zero(t, open)
	compactRange(t, s, 1, 6, 9)
	compactRange(t, s, 1, 2, 9)
	require.Equal(t, [][2]int64{{2, 9}}, versionRanges(s, 1))
	for v := int64(1); v <= 9; v++ {
		var want []int64
		for u := int64(2); u <= v; u++ {
			want = append(want, 100-u)
		}
		require.Equal(t, sorted(want), sorted(readAll(t, s, 1, v)), "version %d", v)
	}
}

// Readers that pinned the inputs keep reading them; new readers see the
// output with the same rows; the inputs' files go once the last reader
// lets go.
func TestPinnedReadersOutliveCompaction(t *testing.T) {
	s, err := OpenWithOptions(t.TempDir(), Options{StaleSweepTime: -1})
	require.NoError(t, err)
	defer s.Close()
	loadVersions(t, s, 1, map[int64][]int64{2: {4, 2}, 3: {3}, 4: {1, 5}})
	old, err := s.Acquire(1, 4)
	require.NoError(t, err)
	oldSegs, err := old.Segments()
	require.NoError(t, err)
	require.Len(t, oldSegs, 3)

	compactRange(t, s, 1, 2, 4)
	require.Equal(t, 3, s.StaleRowsets(1), "pinned: not swept")
	require.Zero(t, s.SweepStale())
	require.Len(t, segFiles(t, s, 1), 4)

	require.Equal(t, []int64{1, 2, 3, 4, 5}, readAll(t, s, 1, 4), "a new reader sees the merged rowset")
	var got []int64
	for _, seg := range oldSegs {
		a, err := seg.Column(1).ReadPage(0, memory.DefaultAllocator)
		require.NoError(t, err)
		got = append(got, a.(*array.Int64).Int64Values()...)
		a.Release()
	}
	require.Equal(t, []int64{1, 2, 3, 4, 5}, sorted(got), "the pinned reader reads the inputs")
	old.Release()
	require.Equal(t, 3, s.SweepStale())
	require.Len(t, segFiles(t, s, 1), 1)
}

// A crash after the output is written but before the metadata swap: the
// inputs are what is recorded, and the output's files are deleted at open.
func TestCompactionCrashBeforeSwap(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	require.NoError(t, err)
	loadVersions(t, s, 1, map[int64][]int64{2: {2}, 3: {3, 1}, 4: {4}})
	want := readAll(t, s, 1, 4)
	inputs := segFiles(t, s, 1)

	c, err := s.BeginCompaction(1, 2, 4)
	require.NoError(t, err)
	mergeAll(t, c)
	require.NoError(t, c.writeOutput())
	require.Len(t, segFiles(t, s, 1), 4, "the output is on disk")
	closeAll(c.files) // the process dies: nothing else happens
	require.NoError(t, s.db.Close())

	s, err = Open(dir, nil)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, want, readAll(t, s, 1, 4))
	require.Equal(t, [][2]int64{{2, 2}, {3, 3}, {4, 4}}, versionRanges(s, 1))
	require.Equal(t, inputs, segFiles(t, s, 1), "the output's files were orphans")
	compactRange(t, s, 1, 2, 4)
	require.Equal(t, sorted(want), readAll(t, s, 1, 4))
}

// A crash after the swap, before the stale inputs are swept: the output is
// what is recorded, and the inputs' files are deleted at open.
func TestCompactionCrashAfterSwap(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenWithOptions(dir, Options{StaleSweepTime: time.Hour})
	require.NoError(t, err)
	loadVersions(t, s, 1, map[int64][]int64{2: {2}, 3: {3, 1}, 4: {4}})
	info := compactRange(t, s, 1, 2, 4)
	require.Len(t, segFiles(t, s, 1), 4, "the inputs are kept")
	require.NoError(t, s.Close())

	s, err = Open(dir, nil)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, []int64{1, 2, 3, 4}, readAll(t, s, 1, 4))
	require.Equal(t, [][2]int64{{2, 4}}, versionRanges(s, 1))
	require.Equal(t, []string{strconv.FormatInt(info.ID, 10) + "_0.seg"}, segFiles(t, s, 1))
	_, err = s.Acquire(1, 3)
	require.ErrorIs(t, err, ErrVersionsCompacted, "a restart forgets stale rowsets")
}

// failingFS fails the fsync of the files and directories fail picks.
type failingFS struct {
	mu   sync.Mutex
	fail func(path string) bool
}

func (f *failingFS) Sync(file *os.File) error {
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	if fail != nil && fail(file.Name()) {
		return errors.New("injected fsync failure")
	}
	return file.Sync()
}

func (f *failingFS) arm(fail func(path string) bool) {
	f.mu.Lock()
	f.fail = fail
	f.mu.Unlock()
}

// A failed fsync of the output (or of the directory) leaves the inputs
// recorded and no output file behind, and the tablet can be compacted
// again.
func TestCompactionSyncFailure(t *testing.T) {
	for _, target := range []string{"segment", "directory"} {
		t.Run("fail="+target, func(t *testing.T) {
			dir := t.TempDir()
			fs := &failingFS{}
			s, err := OpenWithOptions(dir, Options{FS: fs})
			require.NoError(t, err)
			loadVersions(t, s, 1, map[int64][]int64{2: {2}, 3: {3, 1}, 4: {4}})
			inputs := segFiles(t, s, 1)

			c, err := s.BeginCompaction(1, 2, 4)
			require.NoError(t, err)
			mergeAll(t, c)
			if target == "segment" {
				out := strconv.FormatInt(c.id, 10) + "_"
				fs.arm(func(path string) bool { return strings.HasPrefix(filepath.Base(path), out) })
			} else {
				tdir := s.tabletDir(1)
				fs.arm(func(path string) bool { return path == tdir })
			}
			_, err = c.Commit()
			require.ErrorContains(t, err, "injected fsync failure")
			fs.arm(nil)
			require.Equal(t, inputs, segFiles(t, s, 1))
			require.Equal(t, [][2]int64{{2, 2}, {3, 3}, {4, 4}}, versionRanges(s, 1))
			require.Equal(t, []int64{2, 1, 3, 4}, readAll(t, s, 1, 4))
			require.NoError(t, s.Close())

			s, err = Open(dir, nil)
			require.NoError(t, err)
			defer s.Close()
			require.Equal(t, [][2]int64{{2, 2}, {3, 3}, {4, 4}}, versionRanges(s, 1))
			compactRange(t, s, 1, 2, 4)
			require.Equal(t, []int64{1, 2, 3, 4}, readAll(t, s, 1, 4))
		})
	}
}

func TestCompactionConflicts(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer s.Close()
	loadVersions(t, s, 1, map[int64][]int64{2: {2}, 3: {3}, 5: {5}})
	for _, r := range [][2]int64{{2, 2}, {2, 4}, {4, 5}, {3, 2}, {1, 5}} {
		_, err := s.BeginCompaction(1, r[0], r[1])
		require.ErrorIs(t, err, ErrCompactionConflict, "range %v", r)
	}
	_, err = s.BeginCompaction(7, 2, 3)
	require.ErrorIs(t, err, ErrCompactionConflict)

	c, err := s.BeginCompaction(1, 2, 3)
	require.NoError(t, err)
	_, err = s.BeginCompaction(1, 3, 5)
	require.ErrorIs(t, err, ErrCompactionConflict, "one compaction per tablet at a time")

	// Loads go on meanwhile.
	loadVersions(t, s, 1, map[int64][]int64{6: {6}})
	mergeAll(t, c)
	_, err = c.Commit()
	require.NoError(t, err)
	require.Equal(t, [][2]int64{{2, 3}, {5, 5}, {6, 6}}, versionRanges(s, 1))
	c.Abort() // after Commit: nothing

	// A publish may not land inside a compacted range.
	write(t, s, 1, 99, []int64{1})
	require.ErrorContains(t, s.PublishTxn(99, map[int64]int64{1: 3}), "already holds versions [2-3]")
}

func TestCompactionRefusesDifferentSchemas(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer s.Close()
	write(t, s, 1, 2, []int64{1})
	require.NoError(t, s.PublishTxn(2, map[int64]int64{1: 2}))
	wide := Schema{SchemaVersion: 1, Columns: append(slices.Clone(testSchema.Columns),
		storage.ColumnMeta{ID: 3, Type: arrow.PrimitiveTypes.Int32, Nullable: true}), NumKeys: 2}
	w, err := s.NewDeltaWriter(1, 3, wide)
	require.NoError(t, err)
	cols := batch([]int64{2}, []*string{nil})
	b := array.NewInt32Builder(memory.DefaultAllocator)
	b.AppendNull()
	cols = append(cols, b.NewArray())
	require.NoError(t, w.Write(cols))
	releaseArrays(cols)
	require.NoError(t, w.Close())
	require.NoError(t, s.PublishTxn(3, map[int64]int64{1: 3}))

	_, err = s.BeginCompaction(1, 2, 3)
	require.ErrorIs(t, err, ErrSchemaMismatch)
	require.Equal(t, 2, s.VersionCount(1))
	c, err := s.BeginCompaction(1, 2, 3) // the refusal released the tablet
	require.Nil(t, c)
	require.ErrorIs(t, err, ErrSchemaMismatch)
}

// Records of format 1 hold one "version" and no key count; they read as
// [version, version], and rowsets with a known key count of the same
// schema version supply it to a compaction.
func TestRowsetFormatV1(t *testing.T) {
	// As written by format 1.
	const v1 = `{"format_version":1,"id":7,"tablet_id":3,"txn_id":40,"state":2,"version":12,"num_rows":5,` +
		`"schema_version":0,"segments":[{"file":"7_0.seg","size":100,"num_rows":5}],"create_time":1700000000000}`
	m, err := decodeRowsetMeta([]byte(v1))
	require.NoError(t, err)
	require.Equal(t, RowsetMeta{
		FormatVersion: rowsetFormatCurrent, ID: 7, TabletID: 3, TxnID: 40, State: Visible,
		StartVersion: 12, EndVersion: 12, NumRows: 5, NumKeys: -1,
		Segments: []SegmentMeta{{File: "7_0.seg", Size: 100, NumRows: 5}}, CreateTime: 1700000000000,
	}, m)
	_, err = decodeRowsetMeta([]byte(`{"format_version":5,"id":7}`))
	require.ErrorContains(t, err, "unknown metadata format 5")

	// A store whose records are all format 1.
	dir := t.TempDir()
	s, err := Open(dir, nil)
	require.NoError(t, err)
	loadVersions(t, s, 1, map[int64][]int64{2: {5, 2}, 3: {3}})
	write(t, s, 1, 4, []int64{1}) // pending
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRowsets)
		return b.ForEach(func(k, v []byte) error {
			var rec map[string]any
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			rec["format_version"] = 1
			if rec["state"] == float64(Visible) {
				rec["version"] = rec["start_version"]
			}
			delete(rec, "start_version")
			delete(rec, "end_version")
			delete(rec, "num_keys")
			out, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			return b.Put(k, out)
		})
	}))
	require.NoError(t, s.Close())

	s, err = Open(dir, nil)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, [][2]int64{{2, 2}, {3, 3}}, versionRanges(s, 1))
	require.Equal(t, []int64{2, 5, 3}, readAll(t, s, 1, 3))
	_, err = s.BeginCompaction(1, 2, 3)
	require.ErrorIs(t, err, ErrSchemaMismatch, "no rowset records the key count yet")

	require.NoError(t, s.PublishTxn(4, map[int64]int64{1: 4}))
	write(t, s, 1, 5, []int64{0})
	require.NoError(t, s.PublishTxn(5, map[int64]int64{1: 5}))
	compactRange(t, s, 1, 2, 5)
	require.Equal(t, []int64{0, 1, 2, 3, 5}, readAll(t, s, 1, 5))
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRowsets).ForEach(func(_, v []byte) error {
			require.Contains(t, string(v), `"format_version":4`)
			require.Contains(t, string(v), `"start_version":2,"end_version":5`)
			require.Contains(t, string(v), `"num_keys":2`)
			return nil
		})
	}))
}

func TestVersionLimit(t *testing.T) {
	s, err := OpenWithOptions(t.TempDir(), Options{MaxVersions: 10})
	require.NoError(t, err)
	defer s.Close()
	var slept []time.Duration
	s.sleep = func(d time.Duration) { slept = append(slept, d) }
	var triggered []int64
	s.SetCompactionTrigger(func(id int64) { triggered = append(triggered, id) })

	for v := int64(2); v <= 12; v++ {
		write(t, s, 1, v, []int64{v})
		require.NoError(t, s.PublishTxn(v, map[int64]int64{1: v}))
	}
	// Writers opened at 1..8 rowsets went ahead, at 9 and 10 they waited.
	require.Equal(t, []time.Duration{maxWriteDelay / 2, maxWriteDelay}, slept)
	require.Equal(t, 11, s.VersionCount(1))
	triggered = nil

	_, err = s.NewDeltaWriter(1, 13, testSchema)
	require.ErrorIs(t, err, ErrTooManyVersions)
	var tmv *TooManyVersionsError
	require.ErrorAs(t, err, &tmv)
	require.True(t, tmv.Temporary())
	require.Equal(t, "[E-235]failed to init rowset builder. version count: 11, exceed limit: 10, tablet: 1. "+
		"Please reduce the frequency of loading data or adjust the max_tablet_version_num to a larger value "+
		"(too many versions: the load can be retried once compaction has caught up)", err.Error())
	require.Contains(t, err.Error(), "too many versions")
	require.Equal(t, []int64{1}, triggered, "a refused writer asks for compaction")

	// Other tablets are not affected; once compacted, the tablet loads again.
	write(t, s, 2, 13, []int64{1})
	compactRange(t, s, 1, 2, 12)
	write(t, s, 1, 13, []int64{13})
	require.NoError(t, s.PublishTxn(13, map[int64]int64{1: 13, 2: 13}))
	require.Equal(t, 2, s.VersionCount(1))
}

func TestDefaultOptions(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, DefaultMaxVersions, s.MaxVersions())
	require.Equal(t, DefaultStaleSweepTime, s.staleSweep)
}

package tabletstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
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

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/be/keymodel"
	browset "github.com/strata-db/strata/be/rowset"
	"github.com/strata-db/strata/be/rowset/rowsettest"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
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

// A compaction refuses inputs it cannot write as one schema: a column an
// input lacks whose default no input records (rowsets written before
// format 5), other key columns, a column of one id with another type. The
// refusal leaves the tablet as it was and free for the next compaction.
func TestCompactionRefusesDifferentSchemas(t *testing.T) {
	wideCol := storage.ColumnMeta{ID: 3, Type: arrow.PrimitiveTypes.Int32, Nullable: true}
	wide := Schema{SchemaVersion: 1, Columns: append(slices.Clone(testSchema.Columns), wideCol), NumKeys: 2}
	for _, tc := range []struct {
		name   string
		schema Schema
		err    string
	}{
		{"no default recorded", wide, "rowset 1 lacks column 3, and no input records its default"},
		{"a default of the wrong form", Schema{SchemaVersion: 1, Columns: wide.Columns, NumKeys: 2,
			Defaults: []ColumnDefault{{Column: 3, Str: scStr("x")}}}, "the default of column 3"},
		{"other keys", Schema{SchemaVersion: 1, Columns: []storage.ColumnMeta{testSchema.Columns[0], wideCol, testSchema.Columns[1]},
			NumKeys: 2}, "other key columns"},
		{"another type", Schema{SchemaVersion: 1, Columns: []storage.ColumnMeta{testSchema.Columns[0],
			{ID: 2, Type: arrow.PrimitiveTypes.Int32, Nullable: true}}, NumKeys: 2}, "holds column 2 as utf8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(t.TempDir(), nil)
			require.NoError(t, err)
			defer s.Close()
			write(t, s, 1, 2, []int64{1})
			require.NoError(t, s.PublishTxn(2, map[int64]int64{1: 2}))
			w, err := s.NewDeltaWriter(1, 3, tc.schema)
			require.NoError(t, err)
			rows := [][]any{make([]any, len(tc.schema.Columns))}
			rows[0][0] = int64(2)
			cols := rowsettest.BuildArrays(t, tc.schema.Columns, rows)
			require.NoError(t, w.Write(cols))
			releaseArrays(cols)
			require.NoError(t, w.Close())
			require.NoError(t, s.PublishTxn(3, map[int64]int64{1: 3}))

			_, err = s.BeginCompaction(1, 2, 3)
			require.ErrorIs(t, err, ErrSchemaMismatch)
			require.ErrorContains(t, err, tc.err)
			require.Equal(t, 2, s.VersionCount(1))
			c, err := s.BeginCompaction(1, 2, 3) // the refusal released the tablet
			require.Nil(t, c)
			require.ErrorIs(t, err, ErrSchemaMismatch)
		})
	}
}

// A default as the frontend converts it (exec.NewLiteralChecked of the
// DEFAULT text, as sink.SchemaOf does) survives its record and fills a
// column with what readers fill it with (exec's literal of it), for every
// column type.
func TestColumnDefaultRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		typ  types.Type
		text string // "": NULL
	}{
		{types.Boolean, "true"},
		{types.Boolean, "0"},
		{types.TinyInt, "-128"},
		{types.SmallInt, "300"},
		{types.Int, "7"},
		{types.BigInt, "-9000000000"},
		{types.LargeInt, "170141183460469231731687303715884105727"},
		{types.LargeInt, "-12"},
		{types.Float, "0.1"},
		{types.Double, "0.1"},
		{types.Double, "-2.5e-7"},
		{types.Double, "1e308"},
		{types.Type{Kind: types.KindDecimal, Precision: 10, Scale: 2}, "12.5"},
		{types.Type{Kind: types.KindDecimal, Precision: 38, Scale: 10}, "-1234567890123456789.0123456789"},
		{types.Date, "2024-02-29"},
		{types.Type{Kind: types.KindDateTime}, "2024-02-29 12:34:56"},
		{types.Type{Kind: types.KindDateTime, Precision: 6}, "1969-12-31 23:59:59.999999"},
		{types.Type{Kind: types.KindVarchar, Length: 8}, "abc"},
		{types.String, ""},
		{types.Type{Kind: types.KindChar, Length: 3}, "x"},
		{types.Int, "NULL"},
		{types.Type{Kind: types.KindDecimal, Precision: 10, Scale: 2}, "NULL"},
	} {
		t.Run(tc.typ.String()+"="+tc.text, func(t *testing.T) {
			var l *exec.Literal
			if tc.text == "NULL" {
				l = exec.NewLiteral(nil, tc.typ)
			} else {
				var err error
				l, err = exec.NewLiteralChecked(tc.text, tc.typ)
				require.NoError(t, err)
			}
			want, err := l.Eval(nil, &exec.Batch{Len: 3})
			require.NoError(t, err)
			defer want.Release()

			d, ok := NewColumnDefault(5, l.Value)
			require.True(t, ok)
			rec, err := json.Marshal(d)
			require.NoError(t, err)
			var back ColumnDefault
			require.NoError(t, json.Unmarshal(rec, &back))
			v, err := back.value(tc.typ.Arrow())
			require.NoError(t, err, "record %s", rec)
			got, err := repeatValue(tc.typ.Arrow(), v, 3)
			require.NoError(t, err)
			defer got.Release()
			require.True(t, array.Equal(want, got), "record %s: want %v, got %v", rec, want, got)
		})
	}
	_, ok := NewColumnDefault(1, int32(3))
	require.False(t, ok, "not a normalized value")
}

// Records that do not fit their column are errors, not panics.
func TestColumnDefaultMismatch(t *testing.T) {
	i := func(x int64) *int64 { return &x }
	for _, tc := range []struct {
		d   ColumnDefault
		dt  arrow.DataType
		err string
	}{
		{ColumnDefault{Column: 1}, arrow.PrimitiveTypes.Int32, "sets 0 of"},
		{ColumnDefault{Column: 1, Null: true, Int: i(1)}, arrow.PrimitiveTypes.Int32, "sets 2 of"},
		{ColumnDefault{Column: 1, Int: i(128)}, arrow.PrimitiveTypes.Int8, "128 out of range"},
		{ColumnDefault{Column: 1, Int: i(-1 << 31)}, arrow.PrimitiveTypes.Int16, "out of range"},
		{ColumnDefault{Column: 1, Str: scStr("1")}, arrow.PrimitiveTypes.Int64, "a string"},
		{ColumnDefault{Column: 1, Int: i(1)}, arrow.BinaryTypes.String, "an integer"},
		{ColumnDefault{Column: 1, Int: i(2)}, arrow.FixedWidthTypes.Boolean, "not 0 or 1"},
		{ColumnDefault{Column: 1, Int: i(2)}, arrow.FixedWidthTypes.Timestamp_ms, "microseconds for a column of type timestamp[ms"},
		{ColumnDefault{Column: 1, Str: scStr("2")}, arrow.FixedWidthTypes.Timestamp_us, "a string"},
		{ColumnDefault{Column: 1, Str: scStr("x")}, arrow.PrimitiveTypes.Float64, `"x"`},
		{ColumnDefault{Column: 1, Str: scStr("1.5")}, &arrow.Decimal128Type{Precision: 10, Scale: 2}, `"1.5"`},
		{ColumnDefault{Column: 1, Str: scStr("1" + strings.Repeat("0", 40))}, &arrow.Decimal128Type{Precision: 38}, "1000"},
		{ColumnDefault{Column: 1, Str: scStr("x")}, arrow.BinaryTypes.Binary, "a value"},
	} {
		_, err := tc.d.value(tc.dt)
		require.ErrorContains(t, err, tc.err, "%+v as %s", tc.d, tc.dt)
	}
	// Every integer that fits is taken.
	v, err := ColumnDefault{Column: 1, Int: i(-128)}.value(arrow.PrimitiveTypes.Int8)
	require.NoError(t, err)
	require.Equal(t, int64(-128), v)
}

// A DELETE planned before a DROP COLUMN and published after a load of the
// new schema names a column the output of older rowsets would drop: its
// rows were marked on their values of it, and the output could not be
// marked again. Such a compaction is refused (also when the DELETE is
// published while it runs); one that takes the DELETE too is not.
func TestCompactionKeepsColumnsOfLaterDeletes(t *testing.T) {
	v1 := Schema{SchemaVersion: 1, NumKeys: 1, Columns: []storage.ColumnMeta{
		{ID: 1, Type: arrow.PrimitiveTypes.Int64}, {ID: 2, Type: arrow.PrimitiveTypes.Int64}}}
	v2 := Schema{SchemaVersion: 2, NumKeys: 1, Columns: v1.Columns[:1]} // DROP COLUMN 2
	load := func(t *testing.T, s *Store, schema Schema, version int64, rows [][]any) {
		t.Helper()
		w, err := s.NewDeltaWriter(1, version, schema)
		require.NoError(t, err)
		cols := rowsettest.BuildArrays(t, schema.Columns, rows)
		require.NoError(t, w.Write(cols))
		releaseArrays(cols)
		require.NoError(t, w.Close())
		require.NoError(t, s.PublishTxn(version, map[int64]int64{1: version}))
	}
	del := func(t *testing.T, s *Store, version int64) {
		t.Helper()
		pred := storage.DeletePredicate{Conditions: []storage.DeleteCondition{{Column: 2, Op: "=", Ints: []int64{5}}}}
		require.NoError(t, s.AddDelete(1, version, v1, pred))
		require.NoError(t, s.PublishTxn(version, map[int64]int64{1: version}))
	}
	// live is the keys a reader at version sees.
	live := func(t *testing.T, s *Store, version int64) []int64 {
		t.Helper()
		tb := &scTable{kind: scDup, cur: scSchema{cols: []scColumn{{id: 1, typ: types.BigInt}}}}
		var keys []int64
		for _, r := range tb.read(t, s, version) {
			keys = append(keys, r[0].(int64))
		}
		return keys
	}
	setup := func(t *testing.T) *Store {
		s, err := Open(t.TempDir(), nil)
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		load(t, s, v1, 2, [][]any{{int64(1), int64(5)}, {int64(2), int64(6)}})
		load(t, s, v2, 3, [][]any{{int64(3)}})
		return s
	}

	t.Run("published before", func(t *testing.T) {
		s := setup(t)
		del(t, s, 4)
		require.Equal(t, []int64{2, 3}, live(t, s, 4))
		_, err := s.BeginCompaction(1, 2, 3)
		require.ErrorIs(t, err, ErrSchemaMismatch)
		require.ErrorContains(t, err, "the DELETE of rowset")
		// A base compaction that takes the DELETE applies it and drops the
		// column.
		info := scCompact(t, s, 2, 4)
		require.Equal(t, int64(2), info.SchemaVersion)
		require.Equal(t, []int64{2, 3}, live(t, s, 4))
	})
	t.Run("published during", func(t *testing.T) {
		s := setup(t)
		c, err := s.BeginCompaction(1, 2, 3)
		require.NoError(t, err)
		del(t, s, 4)
		mergeLive(t, c)
		_, err = c.Commit()
		require.ErrorIs(t, err, ErrSchemaMismatch)
		require.Equal(t, 3, s.VersionCount(1))
		require.Equal(t, []int64{2, 3}, live(t, s, 4))
		scCompact(t, s, 2, 4)
		require.Equal(t, []int64{2, 3}, live(t, s, 4))
	})
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
	_, err = decodeRowsetMeta([]byte(`{"format_version":7,"id":7}`))
	require.ErrorContains(t, err, "unknown metadata format 7")

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
			require.Contains(t, string(v), fmt.Sprintf(`"format_version":%d`, rowsetFormatCurrent))
			require.Contains(t, string(v), `"start_version":2,"end_version":5`)
			require.Contains(t, string(v), `"num_keys":2`)
			return nil
		})
	}))
}

// Format 5 records the columns' defaults; a format-4 record has none and
// reads as it is.
func TestRowsetFormatV5Defaults(t *testing.T) {
	const v4 = `{"format_version":4,"id":7,"tablet_id":3,"txn_id":40,"state":2,"start_version":12,"end_version":12,` +
		`"num_rows":5,"schema_version":2,"num_keys":1,"segments":[{"file":"7_0.seg","size":100,"num_rows":5}],"create_time":1700000000000}`
	m, err := decodeRowsetMeta([]byte(v4))
	require.NoError(t, err)
	require.Equal(t, rowsetFormatCurrent, m.FormatVersion)
	require.Nil(t, m.Defaults)

	seven, dec := int64(7), "1250"
	m.Defaults = []ColumnDefault{{Column: 4, Int: &seven}, {Column: 6, Str: &dec}, {Column: 8, Null: true}}
	v, err := encodeRowsetMeta(m)
	require.NoError(t, err)
	require.Contains(t, string(v), fmt.Sprintf(`"format_version":%d`, rowsetFormatCurrent))
	require.Contains(t, string(v), `"defaults":[{"column":4,"int":7},{"column":6,"str":"1250"},{"column":8,"null":true}]`)
	back, err := decodeRowsetMeta(v)
	require.NoError(t, err)
	require.Equal(t, m, back)
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

// Light schema change: rowsets of several schema versions merge into the
// newest.

// scColumn is a column of the test's catalog, as the frontend knows it.
type scColumn struct {
	name string
	id   uint32
	typ  types.Type
	null bool
	def  *string // the DEFAULT as written; nil: none
	agg  string  // aggregate-key tables: the aggregation ("" for keys)
	// phys is what rows written before the column existed read in it,
	// worked out by hand (nil: NULL).
	phys any
}

// scSchema is one schema version of the test's table: keys first, a
// unique-key table's delete sign last.
type scSchema struct {
	version int64
	cols    []scColumn
}

type scKind int

const (
	scDup scKind = iota
	scAgg
	scMoR
	scMoW
)

func (k scKind) String() string {
	return [...]string{"duplicate", "aggregate", "merge-on-read", "merge-on-write"}[k]
}

// scTable is the test's table: its schemas, and the rows loaded and the
// DELETEs run, from which it works out what a reader of its newest schema
// reads, without the store.
type scTable struct {
	kind    scKind
	cur     scSchema
	rows    []scRow // in version order, each load's rows in their order
	deletes []scDelete
}

type scRow struct {
	version int64
	vals    map[uint32]any // by column id, as written
}

type scDelete struct {
	version int64
	col     uint32
	val     int64
}

const scSignID = 99

// storeSchema is the tablet schema a load of sch writes with, as
// sink.SchemaOf and be/local record it.
func (tb *scTable) storeSchema(t *testing.T, sch scSchema) Schema {
	t.Helper()
	s := Schema{SchemaVersion: sch.version, NumKeys: 1, Model: Model{SeqCol: -1, DeleteSignCol: -1}}
	for i, c := range sch.cols {
		s.Columns = append(s.Columns, storage.ColumnMeta{ID: c.id, Type: c.typ.Arrow(), Nullable: c.null})
		s.Model.Aggs = append(s.Model.Aggs, c.agg)
		if c.id == scSignID {
			s.Model.DeleteSignCol = i
		}
		if l := scDefault(t, c); l != nil {
			d, ok := NewColumnDefault(c.id, l.Value)
			require.True(t, ok, "column %s", c.name)
			s.Defaults = append(s.Defaults, d)
		}
	}
	switch tb.kind {
	case scDup:
		s.Model.Aggs = nil
	case scAgg:
		s.Model.Kind = keymodel.Aggregate
	case scMoR, scMoW:
		s.Model.Kind, s.Model.MergeOnWrite, s.Model.Aggs = keymodel.Unique, tb.kind == scMoW, nil
	}
	return s
}

// scDefault is the default of c as sink.SchemaOf converts it.
func scDefault(t *testing.T, c scColumn) *exec.Literal {
	if c.def != nil {
		l, err := exec.NewLiteralChecked(*c.def, c.typ)
		require.NoError(t, err)
		return l
	}
	if c.null {
		return exec.NewLiteral(nil, c.typ)
	}
	return nil
}

// load writes rows (in sch's column order) as the transaction version and
// publishes them at that version.
func (tb *scTable) load(t *testing.T, s *Store, sch scSchema, version int64, partial *Partial, rows [][]any) {
	t.Helper()
	schema := tb.storeSchema(t, sch)
	schema.Partial = partial
	w, err := s.NewDeltaWriter(1, version, schema)
	require.NoError(t, err)
	arrs := rowsettest.BuildArrays(t, schema.Columns, rows)
	require.NoError(t, w.Write(arrs))
	releaseArrays(arrs)
	require.NoError(t, w.Close())
	require.NoError(t, s.PublishTxn(version, map[int64]int64{1: version}))
	if partial == nil {
		for _, r := range rows {
			vals := map[uint32]any{}
			for i, c := range sch.cols {
				vals[c.id] = r[i]
			}
			tb.rows = append(tb.rows, scRow{version, vals})
		}
		return
	}
	// A partial row takes the other values of the row it replaces, as a
	// reader of the load's schema read that row.
	live := tb.live(sch.cols)
	for _, r := range rows {
		old := live[r[0]]
		require.NotNil(t, old, "a partial update of key %v, which no live row holds", r[0])
		vals := map[uint32]any{}
		for i, c := range sch.cols {
			vals[c.id] = old[i]
			if slices.Contains(partial.Columns, i) {
				vals[c.id] = r[i]
			}
		}
		tb.rows = append(tb.rows, scRow{version, vals})
	}
}

// random makes n rows of sch with keys in [lo, hi).
func (tb *scTable) random(r *rand.Rand, sch scSchema, n int, lo, hi int64) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		row := make([]any, len(sch.cols))
		for c, col := range sch.cols {
			var v any
			switch col.typ.Kind {
			case types.KindBigInt:
				v = lo + r.Int64N(hi-lo)
			case types.KindInt:
				v = int64(r.IntN(100))
			case types.KindTinyInt: // the delete sign
				v = int64(0)
				if r.IntN(10) == 0 {
					v = int64(1)
				}
			case types.KindVarchar:
				v = fmt.Sprintf("s%d", r.IntN(50))
			case types.KindDecimal:
				v = int64(r.IntN(100000) - 50000)
			case types.KindDateTime:
				v = int64(r.IntN(1000)) * 1_000_000
			case types.KindDouble:
				v = float64(r.IntN(100)-50) / 8
			default:
				panic(col.typ.String())
			}
			if col.null && r.IntN(5) == 0 {
				v = nil
			}
			row[c] = v
		}
		rows[i] = row
	}
	return rows
}

// logical is every row loaded as a reader of cols reads it: each column's
// value, or its default in a row written before it existed.
func (tb *scTable) logical(cols []scColumn, upTo int64) (out [][]any, versions []int64) {
	for _, r := range tb.rows {
		if r.version > upTo {
			continue
		}
		row := make([]any, len(cols))
		for i, c := range cols {
			v, ok := r.vals[c.id]
			if !ok {
				v = c.phys
			}
			row[i] = v
		}
		deleted := false
		for _, d := range tb.deletes {
			i := slices.IndexFunc(cols, func(c scColumn) bool { return c.id == d.col })
			deleted = deleted || r.version < d.version && d.version <= upTo && row[i] == d.val
		}
		if !deleted {
			out = append(out, row)
			versions = append(versions, r.version)
		}
	}
	return out, versions
}

// live maps each key of a unique-key table to its newest row read with
// cols, leaving out deleted keys.
func (tb *scTable) live(cols []scColumn) map[any][]any {
	rows, _ := tb.logical(cols, math.MaxInt64)
	out := map[any][]any{}
	for _, r := range rows {
		out[r[0]] = r
		if r[len(r)-1] == int64(1) {
			delete(out, r[0])
		}
	}
	return out
}

// expected is what a reader of the newest schema reads at version upTo,
// sorted.
func (tb *scTable) expected(upTo int64) [][]any {
	cols := tb.cur.cols
	rows, _ := tb.logical(cols, upTo)
	var out [][]any
	switch tb.kind {
	case scDup:
		out = rows
	case scMoR, scMoW:
		live := map[any][]any{}
		for _, r := range rows {
			live[r[0]] = r
			if r[len(r)-1] == int64(1) {
				delete(live, r[0])
			}
		}
		for _, r := range live {
			out = append(out, r)
		}
	case scAgg:
		byKey := map[any][]any{}
		var keys []any
		for _, r := range rows {
			acc := byKey[r[0]]
			if acc == nil {
				byKey[r[0]] = slices.Clone(r)
				keys = append(keys, r[0])
				continue
			}
			for i, c := range cols {
				acc[i] = scFold(c.agg, acc[i], r[i])
			}
		}
		for _, k := range keys {
			out = append(out, byKey[k])
		}
	}
	rowsettest.SortRows(out, len(cols))
	return out
}

// scFold folds value b into the aggregate a, keymodel's way.
func scFold(agg string, a, b any) any {
	switch agg {
	case "":
		return a
	case "REPLACE":
		return b
	}
	if b == nil {
		return a
	}
	if a == nil {
		return b
	}
	switch agg {
	case "SUM":
		switch x := a.(type) {
		case int64:
			return x + b.(int64)
		case float64:
			return x + b.(float64)
		}
	case "MAX":
		if rowsettest.CompareValues(b, a) > 0 {
			return b
		}
		return a
	case "MIN":
		if rowsettest.CompareValues(b, a) < 0 {
			return b
		}
		return a
	case "REPLACE_IF_NOT_NULL":
		return b
	}
	panic(agg)
}

// read is what a reader of the newest schema reads at version, as the
// planner reads the table (be/exec scans mapping columns by id and filling
// defaults), sorted.
func (tb *scTable) read(t *testing.T, s *Store, version int64) [][]any {
	t.Helper()
	snap, err := s.Acquire(1, version)
	require.NoError(t, err)
	defer snap.Release()
	segs, err := snap.Segments()
	require.NoError(t, err)
	cols := tb.cur.cols
	scan := make([]exec.ScanColumn, len(cols))
	sign := -1
	for i, c := range cols {
		scan[i] = exec.ScanColumn{ID: c.id, Type: c.typ}
		if l := scDefault(t, c); l != nil {
			scan[i].Default = l.Value
		}
		if c.id == scSignID {
			sign = i
		}
	}
	var op exec.Operator
	folds := tb.kind == scAgg || tb.kind == scMoR
	if folds && !snap.Flat() {
		fold, err := tb.storeSchema(t, tb.cur).Model.Folds(1)
		require.NoError(t, err)
		out := make([]int, len(cols))
		for i := range out {
			out[i] = i
		}
		op, err = exec.NewMergeScan(exec.MergeScanSpec{
			Tablets: []exec.MergeTablet{{Segments: segs, Deletes: snap.Deletes()}},
			Columns: scan, NumKeys: 1, Fold: fold, SignCol: sign, Output: out,
		})
		require.NoError(t, err)
	} else {
		deletes := snap.Deletes()
		if folds {
			deletes = snap.FlatDeletes()
		}
		op, err = exec.NewSegmentScan(exec.ScanSpec{Segments: segs, Deletes: deletes, Columns: scan})
		require.NoError(t, err)
	}
	ctx := context.Background()
	require.NoError(t, op.Open(ctx))
	var rows [][]any
	for {
		var b exec.Batch
		err := op.Next(ctx, &b)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		all := rowsettest.RowsOf(t, b.Cols)
		if b.Sel == nil {
			rows = append(rows, all...)
			continue
		}
		for _, i := range b.Sel {
			rows = append(rows, all[i])
		}
	}
	require.NoError(t, op.Close())
	if rows == nil {
		rows = [][]any{}
	}
	rowsettest.SortRows(rows, len(cols))
	return rows
}

// compact merges versions [start, end] of the tablet as the compaction
// package does: by id, filling defaults, folding by the model.
func scCompact(t *testing.T, s *Store, start, end int64) RowsetInfo {
	t.Helper()
	c, err := s.BeginCompaction(1, start, end)
	require.NoError(t, err)
	defer c.Abort()
	schema := c.Schema()
	m := browset.NewMerger(schema.Columns, schema.NumKeys)
	m.Missing = c.Missing
	m.Deletes = c.Deletes()
	if m.Deletes != nil {
		m.RowMap = make([][]uint32, len(c.Segments()))
		for i, seg := range c.Segments() {
			m.RowMap[i] = make([]uint32, seg.NumRows())
		}
	}
	emit := c.Append
	fold, err := schema.Model.Folds(schema.NumKeys)
	require.NoError(t, err)
	var folder *keymodel.Folder
	if fold != nil {
		folder = fold.NewFolder(memory.DefaultAllocator)
		emit = func(cols []arrow.Array) error {
			out, err := folder.Push(cols)
			if err != nil || out == nil {
				return err
			}
			defer releaseArrays(out)
			return c.Append(out)
		}
	}
	_, err = m.Run(context.Background(), c.Segments(), emit)
	require.NoError(t, err)
	if folder != nil {
		out, err := folder.Finish()
		require.NoError(t, err)
		if out != nil && out[0].Len() > 0 {
			require.NoError(t, c.Append(out))
		}
		releaseArrays(out)
	}
	c.SetRowMap(m.RowMap)
	info, err := c.Commit()
	require.NoError(t, err)
	return info
}

func scStr(s string) *string { return &s }

// scSchemas are the table's schema versions: 1 as created; 2 after ADD
// COLUMN of several types with defaults (and one nullable without); 3
// after DROP COLUMN c_str; 4 after ADD COLUMN c_str again, a new column
// (new id) with another default.
func scSchemas(kind scKind) []scSchema {
	dt := time.Date(2024, 2, 29, 12, 34, 56, 0, time.UTC).UnixMicro()
	sumDefault, sumPhys := "7", int64(7)
	if kind == scAgg {
		sumDefault, sumPhys = "0", int64(0) // SUM columns default to zero
	}
	v1 := []scColumn{
		{name: "k", id: 1, typ: types.BigInt},
		{name: "v", id: 2, typ: types.Int, agg: "SUM"},
		{name: "name", id: 3, typ: types.Type{Kind: types.KindVarchar, Length: 16}, null: true, agg: "REPLACE"},
	}
	added := []scColumn{
		{name: "c_int", id: 4, typ: types.Int, def: scStr(sumDefault), agg: "SUM", phys: sumPhys},
		{name: "c_str", id: 5, typ: types.Type{Kind: types.KindVarchar, Length: 8}, null: true, def: scStr("abc"), agg: "REPLACE", phys: "abc"},
		{name: "c_dec", id: 6, typ: types.Type{Kind: types.KindDecimal, Precision: 10, Scale: 2}, def: scStr("12.50"), agg: "MAX", phys: int64(1250)},
		{name: "c_dt", id: 7, typ: types.Type{Kind: types.KindDateTime}, null: true, def: scStr("2024-02-29 12:34:56"), agg: "REPLACE", phys: dt},
		{name: "c_null", id: 8, typ: types.Int, null: true, agg: "REPLACE_IF_NOT_NULL"},
		{name: "c_dbl", id: 9, typ: types.Double, def: scStr("0.1"), agg: "MIN", phys: 0.1},
	}
	again := scColumn{name: "c_str", id: 10, typ: types.Type{Kind: types.KindVarchar, Length: 8}, null: true, def: scStr("again"), agg: "REPLACE", phys: "again"}
	var hidden []scColumn
	if kind == scMoR || kind == scMoW {
		hidden = []scColumn{{name: "__DORIS_DELETE_SIGN__", id: scSignID, typ: types.TinyInt, def: scStr("0"), phys: int64(0)}}
	}
	cat := func(parts ...[]scColumn) []scColumn { return slices.Concat(parts...) }
	v2 := cat(v1, added)
	v3 := slices.DeleteFunc(slices.Clone(v2), func(c scColumn) bool { return c.id == 5 })
	v4 := cat(v3, []scColumn{again})
	return []scSchema{{1, cat(v1, hidden)}, {2, cat(v2, hidden)}, {3, cat(v3, hidden)}, {4, cat(v4, hidden)}}
}

// ADD COLUMN, DROP COLUMN, ADD COLUMN of the same name across the rowsets
// of a tablet of every model: compactions of runs mixing schema versions
// (including a load begun before an ALTER and published after a later
// one) write the newest schema, and every read, before and after, and
// after a restart, gives what a reader of the newest schema reads: the
// values loaded, and the defaults where a row predates its column.
func TestCompactionAcrossSchemaChanges(t *testing.T) {
	for _, kind := range []scKind{scDup, scAgg, scMoR, scMoW} {
		t.Run(kind.String(), func(t *testing.T) {
			testCompactionAcrossSchemaChanges(t, kind)
		})
	}
}

func testCompactionAcrossSchemaChanges(t *testing.T, kind scKind) {
	dir := t.TempDir()
	s, err := OpenWithOptions(dir, Options{StaleSweepTime: -1})
	require.NoError(t, err)
	defer func() { s.Close() }()
	r := rand.New(rand.NewPCG(uint64(kind), 42))
	sch := scSchemas(kind)
	tb := &scTable{kind: kind, cur: sch[0]}
	load := func(sc scSchema, version int64, n int, lo, hi int64) {
		t.Helper()
		tb.load(t, s, sc, version, nil, tb.random(r, sc, n, lo, hi))
	}
	del := func(version int64, col uint32, val int64, missingMatches bool) {
		t.Helper()
		schema := tb.storeSchema(t, tb.cur)
		pred := storage.DeletePredicate{Conditions: []storage.DeleteCondition{
			{Column: col, Op: "=", Ints: []int64{val}, MissingMatches: missingMatches}}}
		require.NoError(t, s.AddDelete(1, version, schema, pred))
		require.NoError(t, s.PublishTxn(version, map[int64]int64{1: version}))
		tb.deletes = append(tb.deletes, scDelete{version, col, val})
	}
	last := int64(0)
	sums := map[int64]uint64{} // Checksum by version: the same whatever the layout
	check := func(what string) {
		t.Helper()
		want := tb.expected(last)
		require.NotEmpty(t, want)
		rowsettest.SameRows(t, want, tb.read(t, s, last))
		if kind == scMoW {
			require.NoError(t, s.CheckDeleteBitmaps(1), what)
		}
		sum, rows, err := s.Checksum(1, last)
		require.NoError(t, err, what)
		require.Equal(t, int64(len(want)), rows, what)
		if prev, ok := sums[last]; ok {
			require.Equal(t, prev, sum, "%s: checksum at version %d", what, last)
		}
		sums[last] = sum
	}

	load(sch[0], 2, 40, 0, 20)
	load(sch[0], 3, 40, 0, 20)
	tb.cur = sch[1] // ADD COLUMN c_int, c_str, c_dec, c_dt, c_null, c_dbl
	load(sch[1], 4, 40, 10, 30)
	load(sch[1], 5, 40, 10, 30)
	if kind == scMoW {
		load(sch[1], 6, 40, 10, 30)
	} else {
		del(6, 1, 12, false) // DELETE WHERE k = 12
	}
	tb.cur = sch[2] // DROP COLUMN c_str
	load(sch[2], 7, 40, 20, 40)
	tb.cur = sch[3] // ADD COLUMN c_str again
	load(sch[3], 8, 40, 20, 40)
	load(sch[2], 9, 40, 25, 40) // began before the last ALTER
	last = 9
	switch kind {
	case scDup:
		// A DELETE on an added column: the rows written before it read 7,
		// so match (the frontend decides missing_matches on the default).
		del(10, 4, 7, true)
		last = 10
	case scMoW:
		// A partial update of keys last written before the ALTERs: the
		// columns it leaves out come from those rows, which read the
		// defaults; its placeholders (zero, NULL) must not stay.
		live := tb.live(sch[3].cols)
		var rows [][]any
		for k := range int64(10) {
			if live[k] == nil {
				continue
			}
			row := make([]any, len(sch[3].cols))
			for i, c := range sch[3].cols {
				switch {
				case i == 0:
					row[i] = k
				case c.name == "v":
					row[i] = int64(1000 + k)
				case c.null:
				case c.typ.Kind == types.KindDouble:
					row[i] = 0.0
				default:
					row[i] = int64(0)
				}
			}
			rows = append(rows, row)
		}
		require.NotEmpty(t, rows)
		tb.load(t, s, sch[3], 10, &Partial{Columns: []int{0, 1}}, rows)
		last = 10
	}
	check("before compaction")
	require.Equal(t, int(last-1), s.VersionCount(1))

	// The oldest rowsets, schemas 1 and 2: written in 2, with the columns
	// added filled into the rows of 1.
	info := scCompact(t, s, 2, 5)
	require.Equal(t, int64(2), info.SchemaVersion)
	check("after compacting [2-5]")

	// Schemas 3, 4 and 3 again (and merge-on-write's partial update, 4):
	// written in 4, c_str (id 10) filled. A DELETE is left to the last
	// compaction, which starts at the first rowset.
	end := last
	if kind == scDup {
		end = 9
	}
	info = scCompact(t, s, 7, end)
	require.Equal(t, int64(4), info.SchemaVersion)
	check(fmt.Sprintf("after compacting [7-%d]", end))

	// Everything: schema 2's c_str (id 5) is dropped, c_str (id 10) filled.
	info = scCompact(t, s, 2, last)
	require.Equal(t, int64(4), info.SchemaVersion)
	require.Equal(t, 1, s.VersionCount(1))
	check("after compacting everything")
	snap, err := s.Acquire(1, last)
	require.NoError(t, err)
	segs, err := snap.Segments()
	require.NoError(t, err)
	var ids []uint32
	for _, c := range tb.cur.cols {
		ids = append(ids, c.id)
	}
	for _, seg := range segs {
		var got []uint32
		for _, c := range seg.Columns() {
			got = append(got, c.ID)
		}
		require.Equal(t, ids, got, "the output has the newest schema's columns, in its order")
	}
	snap.Release()

	// A restart: the output's record (columns' defaults included) reads
	// back; a load begun before the last ALTER, published now, merges with
	// the output, taking c_str's default from the output's record.
	require.NoError(t, s.Close())
	s, err = OpenWithOptions(dir, Options{StaleSweepTime: -1})
	require.NoError(t, err)
	check("after a restart")
	last++
	load(sch[2], last, 40, 30, 50)
	check("a late load")
	info = scCompact(t, s, 2, last)
	require.Equal(t, int64(4), info.SchemaVersion)
	check("after compacting the late load")
	require.NoError(t, s.Close())
	s, err = OpenWithOptions(dir, Options{StaleSweepTime: -1})
	require.NoError(t, err)
	check("after a second restart")
}

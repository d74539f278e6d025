package tabletstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/keymodel"
	"github.com/strata-db/strata/be/rowset/rowsettest"
	"github.com/strata-db/strata/storage"
)

// rtKind is a data model of the replica tests' table.
type rtKind int

const (
	rtDup rtKind = iota
	rtMoW
	rtMoWSeq // merge-on-write with a sequence column
	rtMoR
	rtAgg
)

var rtKinds = []rtKind{rtDup, rtMoW, rtMoWSeq, rtMoR, rtAgg}

func (k rtKind) String() string {
	return [...]string{"duplicate", "merge-on-write", "merge-on-write-seq", "merge-on-read", "aggregate"}[k]
}

func (k rtKind) unique() bool { return k == rtMoW || k == rtMoWSeq || k == rtMoR }

// deletes: the model deletes by condition (DELETE predicates).
func (k rtKind) deletes() bool { return k == rtDup || k == rtMoR || k == rtAgg }

// rtTable is the replica tests' table, tablet 1: k BIGINT key, v INT, s
// VARCHAR NULL, d DECIMAL(18,2) NULL, f DOUBLE NULL, then a sequence
// column (rtMoWSeq) and a delete sign (unique keys). It remembers what was
// loaded to work out what a reader sees.
type rtTable struct {
	kind    rtKind
	schema  Schema
	rows    []rtRow
	deletes []rtDelete
	seq     int64
}

type rtRow struct {
	version int64
	vals    []any
}

type rtDelete struct {
	version int64
	upTo    int64 // k <= upTo
}

func newRTTable(kind rtKind) *rtTable {
	cols := []storage.ColumnMeta{
		{ID: 1, Type: arrow.PrimitiveTypes.Int64},
		{ID: 2, Type: arrow.PrimitiveTypes.Int32},
		{ID: 3, Type: arrow.BinaryTypes.String, Nullable: true},
		{ID: 4, Type: rowsettest.DecimalType, Nullable: true},
		{ID: 5, Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}
	m := Model{SeqCol: -1, DeleteSignCol: -1}
	switch kind {
	case rtMoW, rtMoR:
		m.Kind, m.MergeOnWrite = keymodel.Unique, kind == rtMoW
	case rtMoWSeq:
		m.Kind, m.MergeOnWrite, m.SeqCol = keymodel.Unique, true, len(cols)
		cols = append(cols, storage.ColumnMeta{ID: 6, Type: arrow.PrimitiveTypes.Int64})
	case rtAgg:
		m.Kind, m.Aggs = keymodel.Aggregate, []string{"", "SUM", "REPLACE", "MAX", "MIN"}
	}
	if kind.unique() {
		m.DeleteSignCol = len(cols)
		cols = append(cols, storage.ColumnMeta{ID: 9, Type: arrow.PrimitiveTypes.Int8})
	}
	return &rtTable{kind: kind, schema: Schema{SchemaVersion: 1, Columns: cols, NumKeys: 1, Model: m}}
}

// random makes n rows with keys in [lo, hi): updates of keys loaded
// before, deletes (the sign) on unique keys, distinct sequence values.
func (tb *rtTable) random(r *rand.Rand, n int, lo, hi int64) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		row := []any{lo + r.Int64N(hi-lo), int64(r.IntN(100)), nil, nil, nil}
		if r.IntN(4) > 0 {
			row[2] = fmt.Sprintf("s%d", r.IntN(20))
		}
		if r.IntN(4) > 0 {
			row[3] = int64(r.IntN(100000) - 50000)
		}
		if r.IntN(4) > 0 {
			row[4] = float64(r.IntN(80)-40) / 8
		}
		if tb.kind == rtMoWSeq {
			tb.seq++
			row = append(row, r.Int64N(50)*1000+tb.seq) // distinct, not in load order
		}
		if tb.kind.unique() {
			sign := int64(0)
			if r.IntN(6) == 0 {
				sign = 1
			}
			row = append(row, sign)
		}
		rows[i] = row
	}
	return rows
}

// load writes rows as txn on each store (pending) and records them at
// version.
func (tb *rtTable) load(t *testing.T, txn, version int64, rows [][]any, stores ...*Store) {
	t.Helper()
	for _, s := range stores {
		w, err := s.NewDeltaWriter(1, txn, tb.schema)
		require.NoError(t, err)
		arrs := rowsettest.BuildArrays(t, tb.schema.Columns, rows)
		require.NoError(t, w.Write(arrs))
		releaseArrays(arrs)
		require.NoError(t, w.Close())
	}
	for _, r := range rows {
		tb.rows = append(tb.rows, rtRow{version, r})
	}
}

// del records DELETE WHERE k <= upTo as txn on each store (pending).
func (tb *rtTable) del(t *testing.T, txn, version, upTo int64, stores ...*Store) {
	t.Helper()
	for _, s := range stores {
		require.NoError(t, s.AddDelete(1, txn, tb.schema, storage.DeletePredicate{Conditions: []storage.DeleteCondition{
			{Column: 1, Op: "<=", Ints: []int64{upTo}}}}))
	}
	tb.deletes = append(tb.deletes, rtDelete{version, upTo})
}

// expected is what a reader sees at version upTo, sorted by the key.
func (tb *rtTable) expected(upTo int64) [][]any { return tb.fold(upTo, false) }

// fold is expected, keeping the unique keys whose newest row has its
// delete sign set when signed is true (as a conversion of the rows up to
// upTo must, so that later rows with smaller sequence values lose to
// them).
func (tb *rtTable) fold(upTo int64, signed bool) [][]any {
	var rows [][]any
	for _, r := range tb.rows {
		if r.version > upTo {
			continue
		}
		deleted := false
		for _, d := range tb.deletes {
			deleted = deleted || r.version < d.version && d.version <= upTo && r.vals[0].(int64) <= d.upTo
		}
		if !deleted {
			rows = append(rows, r.vals)
		}
	}
	if tb.kind == rtDup {
		rowsettest.SortRows(rows, len(tb.schema.Columns))
		return rows
	}
	byKey := map[any][]any{}
	for _, r := range rows {
		cur, ok := byKey[r[0]]
		switch {
		case !ok:
			byKey[r[0]] = slices.Clone(r)
		case tb.kind == rtAgg:
			for i, agg := range tb.schema.Model.Aggs {
				cur[i] = scFold(agg, cur[i], r[i])
			}
		case tb.kind == rtMoWSeq && r[5].(int64) < cur[5].(int64):
			// A smaller sequence value loses.
		default:
			byKey[r[0]] = slices.Clone(r)
		}
	}
	var out [][]any
	for _, r := range byKey {
		if tb.kind.unique() && r[len(r)-1] == int64(1) && !signed {
			continue // deleted by its sign
		}
		out = append(out, r)
	}
	rowsettest.SortRows(out, 1)
	return out
}

// digest is Checksum worked out from rows.
func (tb *rtTable) digest(t *testing.T, rows [][]any) (uint64, int64) {
	t.Helper()
	if len(rows) == 0 {
		return 0, 0
	}
	arrs := rowsettest.BuildArrays(t, tb.schema.Columns, rows)
	defer releaseArrays(arrs)
	h := make([]uint64, len(rows))
	for i := range h {
		h[i] = rowSeed
	}
	for i, a := range arrs {
		require.NoError(t, hashColumn(h, a, tb.schema.Columns[i].ID))
	}
	var sum uint64
	for _, x := range h {
		sum += fmix64(x)
	}
	return sum, int64(len(rows))
}

// requireChecksum checks a store's checksum of tablet 1 at version
// against the table, and its delete bitmaps.
func (tb *rtTable) requireChecksum(t *testing.T, s *Store, version int64, what string) {
	t.Helper()
	want, wantRows := tb.digest(t, tb.expected(version))
	sum, rows, err := s.Checksum(1, version)
	require.NoError(t, err, what)
	require.Equal(t, wantRows, rows, "%s: rows at version %d", what, version)
	require.Equal(t, want, sum, "%s: checksum at version %d", what, version)
	require.NoError(t, s.CheckDeleteBitmaps(1), what)
}

func fetchFrom(s *Store, tablet int64) func(string) (io.ReadCloser, error) {
	return func(name string) (io.ReadCloser, error) { return s.OpenCloneFile(tablet, name) }
}

// cloneTablet clones tablet 1 from src to dst, the manifest going through
// JSON, and checks whether it was full.
func cloneTablet(t *testing.T, src, dst *Store, have, want int64, full bool) Manifest {
	t.Helper()
	m, release, err := src.CloneManifest(1, have, want)
	require.NoError(t, err)
	defer release()
	require.Equal(t, full, m.Full)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	var back Manifest
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, m, back)
	require.NoError(t, dst.InstallClone(1, back, fetchFrom(src, 1)))
	release()
	release()
	return m
}

// publishAll publishes txn at version on each store, the load writing
// tablet 1, and returns the results.
func publishAll(t *testing.T, txn, version int64, stores ...*Store) []TabletPublishResult {
	t.Helper()
	var out []TabletPublishResult
	for _, s := range stores {
		out = append(out, publishOn(t, s, txn, version, map[int64]bool{1: true})[1])
	}
	return out
}

// A replica that missed loads is repaired from another: incrementally
// while the source holds the missing versions as rowsets of their own, in
// full once a compaction merged them with versions the replica has. After
// each clone both replicas read the same rows, checksums agree, and the
// destination's delete bitmaps are its own publishes'.
func TestCloneReplica(t *testing.T) {
	for _, kind := range rtKinds {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			testCloneReplica(t, kind)
		})
	}
}

func testCloneReplica(t *testing.T, kind rtKind) {
	opts := Options{StaleSweepTime: -1}
	src, err := OpenWithOptions(t.TempDir(), opts)
	require.NoError(t, err)
	defer src.Close()
	dstDir := t.TempDir()
	dst, err := OpenWithOptions(dstDir, opts)
	require.NoError(t, err)
	defer func() { dst.Close() }()
	both := []*Store{src, dst}
	for _, s := range both {
		require.NoError(t, s.EnsureTablet(1))
	}
	r := rand.New(rand.NewPCG(uint64(kind), 11))
	tb := newRTTable(kind)
	load := func(v int64, on ...*Store) {
		t.Helper()
		tb.load(t, v*10, v, tb.random(r, 40, 0, 30), on...)
	}

	for v := int64(2); v <= 4; v++ {
		load(v, both...)
		require.Equal(t, []TabletPublishResult{Published, Published}, publishAll(t, v*10, v, both...))
	}
	load(5, src) // the destination missed it
	require.Equal(t, []TabletPublishResult{Published, Missing}, publishAll(t, 50, 5, both...))
	if kind.deletes() {
		tb.del(t, 60, 6, 8, both...)
	} else {
		load(6, both...)
	}
	require.Equal(t, []TabletPublishResult{Published, Gap}, publishAll(t, 60, 6, both...))
	load(7, both...)
	require.Equal(t, []TabletPublishResult{Published, Gap}, publishAll(t, 70, 7, both...))
	requireVersion(t, dst, 1, 4)
	requireVersionMissing(t, dst, 1, 5, 4)
	tb.requireChecksum(t, src, 7, "source")
	tb.requireChecksum(t, dst, 4, "lagging destination")
	require.Equal(t, []int64{60, 70}, dst.PendingTxns())

	// Incremental: versions 5, 6, 7 are rowsets of their own on the source.
	m := cloneTablet(t, src, dst, 4, 7, false)
	require.Len(t, m.Rowsets, 3)
	requireVersion(t, dst, 1, 7)
	require.Empty(t, dst.PendingTxns(), "the rowsets of the versions cloned are dropped")
	tb.requireChecksum(t, dst, 7, "after an incremental clone")
	tb.requireChecksum(t, dst, 4, "below the clone")
	require.Equal(t, AlreadyVisible, publishAll(t, 70, 7, dst)[0])

	// More loads, of which the destination misses 10 and 11; a compaction
	// on the source merges [8-11] across the destination's version 9.
	for v := int64(8); v <= 9; v++ {
		load(v, both...)
		publishAll(t, v*10, v, both...)
	}
	for v := int64(10); v <= 11; v++ {
		load(v, src)
		publishAll(t, v*10, v, both...)
	}
	requireVersion(t, dst, 1, 9)
	scCompact(t, src, 8, 11)
	tb.requireChecksum(t, src, 11, "source after compaction")
	m = cloneTablet(t, src, dst, 9, 11, true)
	require.Equal(t, int64(0), m.HaveVersion)
	requireVersion(t, dst, 1, 11)
	tb.requireChecksum(t, dst, 11, "after a full clone")
	require.Equal(t, src.VersionCount(1), dst.VersionCount(1))

	require.NoError(t, dst.Close())
	dst, err = OpenWithOptions(dstDir, opts)
	require.NoError(t, err)
	both = []*Store{src, dst}
	requireVersion(t, dst, 1, 11)
	tb.requireChecksum(t, dst, 11, "after a restart")
	requireNoStrayFiles(t, dst)

	// A new replica: a full clone into a store that never held the tablet.
	fresh, err := OpenWithOptions(t.TempDir(), opts)
	require.NoError(t, err)
	defer fresh.Close()
	cloneTablet(t, src, fresh, 0, 11, true)
	tb.requireChecksum(t, fresh, 11, "a new replica")

	// Loads continue on the repaired replica, and its compactions work.
	load(12, both...)
	require.Equal(t, []TabletPublishResult{Published, Published}, publishAll(t, 120, 12, both...))
	scCompact(t, dst, 2, 12)
	tb.requireChecksum(t, dst, 12, "after compacting the clone")
	tb.requireChecksum(t, src, 12, "source")
}

// requireNoStrayFiles checks that every file in tablet 1's directory
// belongs to a visible rowset.
func requireNoStrayFiles(t *testing.T, s *Store) {
	t.Helper()
	referenced := map[string]bool{}
	s.mu.Lock()
	for _, rs := range s.tablets[1].visible {
		for _, sg := range rs.meta.Segments {
			for _, f := range sg.files() {
				referenced[f] = true
			}
		}
	}
	s.mu.Unlock()
	ents, err := os.ReadDir(s.tabletDir(1))
	require.NoError(t, err)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	want := make([]string, 0, len(referenced))
	for f := range referenced {
		want = append(want, f)
	}
	require.ElementsMatch(t, want, got)
}

// copyDir copies a store's directory, as a crash would leave it.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	}))
}

// A clone whose download fails midway changes nothing, and deletes what
// it wrote; a crash midway leaves files the next start deletes.
func TestCloneInterrupted(t *testing.T) {
	src, err := Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer src.Close()
	dstDir := t.TempDir()
	dst, err := Open(dstDir, nil)
	require.NoError(t, err)
	defer func() { dst.Close() }()
	tb := newRTTable(rtMoW)
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range []*Store{src, dst} {
		require.NoError(t, s.EnsureTablet(1))
	}
	for v := int64(2); v <= 6; v++ {
		on := []*Store{src}
		if v <= 4 {
			on = append(on, dst)
		}
		tb.load(t, v*10, v, tb.random(r, 40, 0, 30), on...)
		publishAll(t, v*10, v, src, dst)
	}
	requireVersion(t, dst, 1, 4)
	before := tabletFiles(t, dst)
	beforeSum, beforeRows, err := dst.Checksum(1, 4)
	require.NoError(t, err)

	m, release, err := src.CloneManifest(1, 4, 6)
	require.NoError(t, err)
	defer release()
	require.False(t, m.Full)
	require.Len(t, m.Files, 4, "two rowsets: a segment and a primary-key index each")
	crashDir := t.TempDir()
	calls := 0
	boom := errors.New("connection reset")
	fetch := func(name string) (io.ReadCloser, error) {
		calls++
		if calls == 3 {
			copyDir(t, dstDir, crashDir) // a crash now
			return nil, boom
		}
		return src.OpenCloneFile(1, name)
	}
	err = dst.InstallClone(1, m, fetch)
	require.ErrorIs(t, err, boom)
	requireVersion(t, dst, 1, 4)
	require.Equal(t, before, tabletFiles(t, dst), "the files written are deleted")
	sum, rows, err := dst.Checksum(1, 4)
	require.NoError(t, err)
	require.Equal(t, beforeSum, sum)
	require.Equal(t, beforeRows, rows)

	// The crash left two downloaded files; the next start deletes them.
	ents, err := os.ReadDir(filepath.Join(crashDir, "data", "1", "1"))
	require.NoError(t, err)
	require.Len(t, ents, len(before)+2)
	crashed, err := Open(crashDir, nil)
	require.NoError(t, err)
	requireVersion(t, crashed, 1, 4)
	requireNoStrayFiles(t, crashed)
	sum, _, err = crashed.Checksum(1, 4)
	require.NoError(t, err)
	require.Equal(t, beforeSum, sum)
	require.NoError(t, crashed.Close())

	// A file cut short, or a manifest whose sizes lie, is refused.
	short := func(name string) (io.ReadCloser, error) {
		f, err := src.OpenCloneFile(1, name)
		if err != nil {
			return nil, err
		}
		return struct {
			io.Reader
			io.Closer
		}{io.LimitReader(f, 10), f}, nil
	}
	require.ErrorContains(t, dst.InstallClone(1, m, short), "bytes, the manifest says")
	bad := m
	bad.Files = slices.Clone(m.Files)
	bad.Files[0].Size++
	require.ErrorContains(t, dst.InstallClone(1, bad, fetchFrom(src, 1)), "bad manifest")
	require.Equal(t, before, tabletFiles(t, dst))

	// An incremental clone that does not follow the tablet's version.
	m2, release2, err := src.CloneManifest(1, 3, 6)
	require.NoError(t, err)
	require.ErrorIs(t, dst.InstallClone(1, m2, fetchFrom(src, 1)), ErrCloneConflict)
	release2()

	// The retry succeeds; a second install of it is nothing to do.
	require.NoError(t, dst.InstallClone(1, m, fetchFrom(src, 1)))
	require.NoError(t, dst.InstallClone(1, m, fetchFrom(src, 1)))
	requireVersion(t, dst, 1, 6)
	tb.requireChecksum(t, dst, 6, "after the retry")
	requireNoStrayFiles(t, dst)

	// The source refuses versions it does not hold, and files no rowset
	// of the tablet names.
	_, _, err = src.CloneManifest(1, 4, 7)
	require.ErrorIs(t, err, ErrVersionMissing)
	_, _, err = src.CloneManifest(99, 0, 2)
	require.ErrorIs(t, err, ErrVersionMissing)
	for _, name := range []string{"../../meta.db", "meta.db", "999_0.seg", ""} {
		_, err := src.OpenCloneFile(1, name)
		require.ErrorIs(t, err, os.ErrNotExist, name)
	}
}

// Two replicas holding the same loads agree on the checksum whatever each
// compacted, at every version both can read; a replica with other data
// does not.
func TestChecksumAcrossLayouts(t *testing.T) {
	for _, kind := range rtKinds {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			opts := Options{} // stale rowsets are kept: old versions stay readable
			a, err := OpenWithOptions(t.TempDir(), opts)
			require.NoError(t, err)
			defer a.Close()
			b, err := OpenWithOptions(t.TempDir(), opts)
			require.NoError(t, err)
			defer b.Close()
			tb := newRTTable(kind)
			r := rand.New(rand.NewPCG(uint64(kind), 5))
			for v := int64(2); v <= 9; v++ {
				if v == 6 && kind.deletes() {
					tb.del(t, v*10, v, 5, a, b)
				} else {
					tb.load(t, v*10, v, tb.random(r, 60, 0, 40), a, b)
				}
				publishAll(t, v*10, v, a, b)
			}
			for v := int64(2); v <= 9; v++ {
				tb.requireChecksum(t, a, v, "before compaction")
			}
			scCompact(t, a, 2, 9)
			scCompact(t, b, 3, 5)
			scCompact(t, b, 7, 9)
			for _, v := range []int64{2, 5, 6, 9} {
				tb.requireChecksum(t, a, v, "a") // versions inside [2-9] read the stale inputs
				tb.requireChecksum(t, b, v, "b")
			}
			sa, _, err := a.Checksum(1, 9)
			require.NoError(t, err)
			tb.load(t, 100, 10, tb.random(r, 5, 100, 110), b) // new keys
			publishAll(t, 100, 10, b)
			sb, _, err := b.Checksum(1, 10)
			require.NoError(t, err)
			require.NotEqual(t, sa, sb)
		})
	}
}

package tabletstore

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/keymodel"
	browset "github.com/strata-db/strata/be/rowset"
	"github.com/strata-db/strata/storage"
)

// partialSchema: k key, v nullable string, w NOT NULL int, the delete sign.
var partialSchema = Schema{
	SchemaVersion: 1,
	Columns: []storage.ColumnMeta{
		{ID: 1, Type: arrow.PrimitiveTypes.Int64},
		{ID: 2, Type: arrow.BinaryTypes.String, Nullable: true},
		{ID: 3, Type: arrow.PrimitiveTypes.Int64},
		{ID: 4, Type: arrow.PrimitiveTypes.Int8},
	},
	NumKeys: 1,
	Model:   Model{Kind: keymodel.Unique, MergeOnWrite: true, SeqCol: -1, DeleteSignCol: 3},
}

type prow struct {
	k    int64
	v    string
	w    int64
	sign int8
}

func writeRows(t *testing.T, s *Store, txn int64, p *Partial, rows []prow) error {
	t.Helper()
	sc := partialSchema
	sc.Partial = p
	w, err := s.NewDeltaWriter(1, txn, sc)
	require.NoError(t, err)
	cols := prowArrays(rows)
	defer releaseArrays(cols)
	require.NoError(t, w.Write(cols))
	if err := w.Close(); err != nil {
		w.Cancel()
		return err
	}
	return nil
}

// prowArrays builds the columns of partialSchema holding rows.
func prowArrays(rows []prow) []arrow.Array {
	kb := array.NewInt64Builder(memory.DefaultAllocator)
	vb := array.NewStringBuilder(memory.DefaultAllocator)
	wb := array.NewInt64Builder(memory.DefaultAllocator)
	sb := array.NewInt8Builder(memory.DefaultAllocator)
	for _, r := range rows {
		kb.Append(r.k)
		vb.Append(r.v)
		wb.Append(r.w)
		sb.Append(r.sign)
	}
	return []arrow.Array{kb.NewArray(), vb.NewArray(), wb.NewArray(), sb.NewArray()}
}

// readRows reads the live rows of tablet 1 at a version.
func readRows(t *testing.T, s *Store, version int64) map[int64]prow {
	t.Helper()
	snap, err := s.Acquire(1, version)
	require.NoError(t, err)
	defer snap.Release()
	segs, err := snap.Segments()
	require.NoError(t, err)
	dels := snap.Deletes()
	out := map[int64]prow{}
	for si, seg := range segs {
		for p := range seg.NumPages() {
			first, n := seg.PageRange(p)
			var cols [4]arrow.Array
			for c := range cols {
				cols[c], err = seg.Column(uint32(c+1)).ReadPage(p, memory.DefaultAllocator)
				require.NoError(t, err)
			}
			for i := range n {
				if dels != nil && dels[si] != nil && dels[si].Contains(uint32(first)+uint32(i)) {
					continue
				}
				r := prow{cols[0].(*array.Int64).Value(i), cols[1].(*array.String).Value(i),
					cols[2].(*array.Int64).Value(i), cols[3].(*array.Int8).Value(i)}
				require.NotContains(t, out, r.k)
				out[r.k] = r
			}
			releaseArrays(cols[:])
		}
	}
	return out
}

func tabletFiles(t *testing.T, s *Store) []string {
	t.Helper()
	ents, err := os.ReadDir(s.tabletDir(1))
	require.NoError(t, err)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestPartialUpdate(t *testing.T) {
	dir := t.TempDir()
	fs := &failingFS{}
	s, err := OpenWithOptions(dir, Options{FS: fs})
	require.NoError(t, err)
	defer func() { s.Close() }()
	require.NoError(t, writeRows(t, s, 1, nil, []prow{{1, "a", 10, 0}, {2, "b", 20, 0}, {3, "c", 30, 0}}))
	require.NoError(t, s.PublishTxn(1, map[int64]int64{1: 2}))
	require.NoError(t, writeRows(t, s, 2, nil, []prow{{3, "", 0, 1}}))
	require.NoError(t, s.PublishTxn(2, map[int64]int64{1: 3}))

	given := []int{0, 1, 3} // k, v and the sign; w is filled
	// New keys refused: at flush, against the rows visible then. A key
	// whose row is deleted is new.
	err = writeRows(t, s, 3, &Partial{Columns: given, NewKeyError: true}, []prow{{1, "x", 0, 0}, {3, "y", 0, 0}})
	var nre *NewRowsError
	require.ErrorAs(t, err, &nre)
	require.Equal(t, "[E-7003]Can't append new rows in partial update when partial_update_new_key_behavior is ERROR. Row with key=[3] is not in table.", err.Error())
	err = writeRows(t, s, 4, &Partial{Columns: given, Unfillable: "w"}, []prow{{4, "x", 0, 0}})
	require.ErrorContains(t, err, "the unmentioned column `w` should have default value or be nullable")
	require.NoError(t, s.AbortTxn(3))
	require.NoError(t, s.AbortTxn(4))

	// A partial update of keys 1 (existing), 3 (deleted) and 9 (new),
	// pending across a restart.
	require.NoError(t, writeRows(t, s, 5, &Partial{Columns: given}, []prow{{1, "z", 0, 0}, {3, "c2", 0, 0}, {9, "n", 0, 0}}))
	require.NoError(t, s.Close())
	s, err = OpenWithOptions(dir, Options{FS: fs})
	require.NoError(t, err)
	partialFiles := tabletFiles(t, s)

	// A publish that fails (the directory's fsync after the filled
	// segment) leaves the rowset pending and partial, and nothing behind.
	tdir := s.tabletDir(1)
	fs.arm(func(path string) bool { return path == tdir })
	require.ErrorContains(t, s.PublishTxn(5, map[int64]int64{1: 4}), "injected fsync failure")
	fs.arm(nil)
	require.Equal(t, partialFiles, tabletFiles(t, s))
	require.Len(t, readRows(t, s, 3), 2)

	require.NoError(t, s.PublishTxn(5, map[int64]int64{1: 4}))
	want := map[int64]prow{1: {1, "z", 10, 0}, 2: {2, "b", 20, 0}, 3: {3, "c2", 0, 0}, 9: {9, "n", 0, 0}}
	require.Equal(t, want, readRows(t, s, 4))
	require.Equal(t, map[int64]prow{1: {1, "a", 10, 0}, 2: {2, "b", 20, 0}}, readRows(t, s, 3))
	files := tabletFiles(t, s)
	require.Len(t, files, len(partialFiles), "the filled segment replaces the partial one")
	require.True(t, slices.ContainsFunc(files, func(f string) bool { return strings.HasSuffix(f, ".v4.seg") }), "%v", files)
	require.NoError(t, s.CheckDeleteBitmaps(1))

	// The filled rows are whole rows to later loads and compaction.
	require.NoError(t, writeRows(t, s, 6, &Partial{Columns: []int{0, 2, 3}}, []prow{{1, "", 11, 0}, {2, "", 21, 0}}))
	require.NoError(t, s.PublishTxn(6, map[int64]int64{1: 5}))
	c, err := s.BeginCompaction(1, 2, 5)
	require.NoError(t, err)
	mergeLive(t, c)
	_, err = c.Commit()
	require.NoError(t, err)
	want[1], want[2] = prow{1, "z", 11, 0}, prow{2, "b", 21, 0}
	require.Equal(t, want, readRows(t, s, 5))
	require.NoError(t, s.Close())
	s, err = Open(dir, nil)
	require.NoError(t, err)
	require.Equal(t, want, readRows(t, s, 5))
	require.NoError(t, s.CheckDeleteBitmaps(1))
}

// mergeLive merges a compaction's inputs as the compaction package does
// for duplicate and merge-on-write tablets: leaving out the deleted rows
// and recording where the others went.
func mergeLive(t *testing.T, c *Compaction) {
	t.Helper()
	m := browset.NewMerger(c.Schema().Columns, c.Schema().NumKeys)
	m.Deletes = c.Deletes()
	m.RowMap = make([][]uint32, len(c.Segments()))
	for i, seg := range c.Segments() {
		m.RowMap[i] = make([]uint32, seg.NumRows())
	}
	_, err := m.Run(context.Background(), c.Segments(), c.Append)
	require.NoError(t, err)
	c.SetRowMap(m.RowMap)
}

// Past its limit the primary-key index cache drops the indexes used least
// recently, and publishes read them again.
func TestPKIndexMemoryLimit(t *testing.T) {
	s, err := OpenWithOptions(t.TempDir(), Options{PKIndexMemory: 1})
	require.NoError(t, err)
	defer s.Close()
	for txn := int64(1); txn <= 6; txn++ {
		require.NoError(t, writeRows(t, s, txn, nil, []prow{{txn % 3, "v", txn, 0}, {10 + txn, "w", txn, 0}}))
		require.NoError(t, s.PublishTxn(txn, map[int64]int64{1: txn + 1}))
	}
	s.pks.mu.Lock()
	drops, held := s.pks.drops, s.pks.lru.Len()
	s.pks.mu.Unlock()
	require.Positive(t, drops)
	require.Equal(t, 1, held, "only the last index stays over the limit")
	require.NoError(t, s.CheckDeleteBitmaps(1))
	got := readRows(t, s, 7)
	require.Len(t, got, 3+6)
	require.Equal(t, prow{0, "v", 6, 0}, got[0])
}

// A tablet never written holds no key: a load that refuses new keys fails
// with Doris's message, not an unknown-tablet error.
func TestPartialUpdateNewKeyIntoEmptyTablet(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer s.Close()
	err = writeRows(t, s, 1, &Partial{Columns: []int{0, 1, 3}, NewKeyError: true}, []prow{{7, "x", 0, 0}})
	var nre *NewRowsError
	require.ErrorAs(t, err, &nre)
	require.Equal(t, "7", nre.Key)
}

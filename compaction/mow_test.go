package compaction

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/keymodel"
	"github.com/strata-db/strata/be/rowset/rowsettest"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/storage"
)

// mowCols: k key, v value, seq the sequence column (when the test uses
// one), sign the delete sign.
var mowCols = []storage.ColumnMeta{
	{ID: 1, Type: arrow.PrimitiveTypes.Int64},
	{ID: 2, Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{ID: 3, Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{ID: 4, Type: arrow.PrimitiveTypes.Int8},
}

func mowSchema(withSeq bool) tabletstore.Schema {
	m := tabletstore.Model{Kind: keymodel.Unique, MergeOnWrite: true, SeqCol: -1, DeleteSignCol: 3}
	if withSeq {
		m.SeqCol = 2
	}
	return tabletstore.Schema{SchemaVersion: 1, Columns: mowCols, NumKeys: 1, Model: m}
}

// mowRow is the model's state of a key.
type mowRow struct {
	v, seq any // nil: NULL
	sign   int64
}

// mowModel is the expected content of a merge-on-write tablet: the last
// row of every key (the one with the highest sequence value, the later of
// equal ones), delete-sign rows included.
type mowModel struct {
	withSeq bool
	rows    map[int64]mowRow
}

// fold returns the row of every key of one flush that the memtable keeps.
func (m *mowModel) fold(rows [][]any) [][]any {
	keep := map[int64][]any{}
	var order []int64
	for _, r := range rows {
		k := r[0].(int64)
		old, ok := keep[k]
		if !ok {
			order = append(order, k)
		}
		if !ok || !m.withSeq || rowsettest.CompareValues(r[2], old[2]) >= 0 {
			keep[k] = r
		}
	}
	out := make([][]any, len(order))
	for i, k := range order {
		out[i] = keep[k]
	}
	return out
}

// applyPartial applies a row of a partial update that gives the columns
// in given (the delete sign is always its own): a key held by a live row
// takes that row's other values, a new one keeps the row's placeholders,
// but for the sequence value of a deleted row of the key.
func (m *mowModel) applyPartial(r []any, given []int) {
	k := r[0].(int64)
	if old, ok := m.rows[k]; ok {
		r = slices.Clone(r)
		if !slices.Contains(given, 1) && old.sign == 0 {
			r[1] = old.v
		}
		if !slices.Contains(given, 2) && (old.sign == 0 || m.withSeq) {
			r[2] = old.seq // the sequence: from a deleted row too
		}
	}
	m.apply(r)
}

func (m *mowModel) apply(r []any) {
	k := r[0].(int64)
	nr := mowRow{v: r[1], seq: r[2], sign: r[3].(int64)}
	if old, ok := m.rows[k]; ok && m.withSeq && rowsettest.CompareValues(nr.seq, old.seq) < 0 {
		return
	}
	m.rows[k] = nr
}

// visible is what a reader sees: keys without a delete sign, as rows.
func (m *mowModel) visible() map[int64][]any {
	out := map[int64][]any{}
	for k, r := range m.rows {
		if r.sign == 0 {
			out[k] = []any{k, r.v, r.seq, r.sign}
		}
	}
	return out
}

// readMoW reads a tablet at a version the way a query does, skipping the
// deleted rows, and fails on a key seen twice.
func readMoW(t *testing.T, st *tabletstore.Store, tablet, version int64) (map[int64][]any, error) {
	t.Helper()
	snap, err := st.Acquire(tablet, version)
	if err != nil {
		return nil, err
	}
	defer snap.Release()
	segs, err := snap.Segments()
	require.NoError(t, err)
	dels := snap.Deletes()
	require.Len(t, dels, len(segs))
	out := map[int64][]any{}
	for si, seg := range segs {
		for p := range seg.NumPages() {
			first, n := seg.PageRange(p)
			live := storage.LiveRows(dels[si], first, n, nil)
			cols := make([]arrow.Array, len(mowCols))
			for c, col := range mowCols {
				a, err := seg.Column(col.ID).ReadPage(p, memory.DefaultAllocator)
				require.NoError(t, err)
				cols[c] = a
			}
			rows := rowsettest.RowsOf(t, cols)
			releaseArrays(cols)
			for i, r := range rows {
				if live != nil && !slices.Contains(live, int32(i)) {
					continue
				}
				k := r[0].(int64)
				require.NotContains(t, out, k, "key %d read twice at version %d", k, version)
				out[k] = r
			}
		}
	}
	return out, nil
}

// TestMergeOnWriteModel drives a merge-on-write tablet with random
// upserts and deletes (some out of sequence order), loads that flush
// several segments, publishes of several transactions at once,
// compactions (some with publishes landing while they run) and reopens,
// and checks after every step that a reader sees exactly the model's rows,
// at the latest version and at older ones, and at the end that the delete
// bitmaps equal their recomputation. STRATA_MOW_STEPS sets the length.
func TestMergeOnWriteModel(t *testing.T) {
	steps := 300
	if v, err := strconv.Atoi(os.Getenv("STRATA_MOW_STEPS")); err == nil && v > 0 {
		steps = v
	}
	for _, withSeq := range []bool{false, true} {
		t.Run(fmt.Sprintf("seq=%v", withSeq), func(t *testing.T) {
			testMergeOnWriteModel(t, withSeq, steps, uint64(steps)*7+map[bool]uint64{false: 1, true: 2}[withSeq])
		})
	}
}

func testMergeOnWriteModel(t *testing.T, withSeq bool, steps int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 42))
	dir := t.TempDir()
	open := func() *tabletstore.Store {
		opts := tabletstore.Options{StaleSweepTime: time.Hour}
		if withSeq {
			// Primary-key indexes dropped and read again all the time.
			opts.PKIndexMemory = 1
		}
		st, err := tabletstore.OpenWithOptions(dir, opts)
		require.NoError(t, err)
		return st
	}
	st := open()
	defer func() { st.Close() }()
	const tablet = 7
	schema := mowSchema(withSeq)
	model := &mowModel{withSeq: withSeq, rows: map[int64]mowRow{}}
	history := map[int64]map[int64][]any{1: {}} // version -> visible rows
	version := int64(1)                         // published
	txnID := int64(100)
	type committed struct {
		txn     int64
		flushes [][][]any
		given   []int // a partial update's columns; nil: whole rows
	}
	var queue []committed // written, not yet published

	load := func() committed {
		txnID++
		sc := schema
		var given []int
		if r.IntN(3) == 0 {
			// A partial update: of v, of the sequence, or of v without a
			// delete sign; the rows hold NULL in the columns left out.
			given = [][]int{{0, 1, 3}, {0, 2, 3}, {0, 1}}[r.IntN(3)]
			sc.Partial = &tabletstore.Partial{Columns: given}
		}
		w, err := st.NewDeltaWriter(tablet, txnID, sc)
		require.NoError(t, err)
		var flushes [][][]any
		for range 1 + r.IntN(3) { // flushes: segments of one rowset
			n := 1 + r.IntN(30)
			rows := make([][]any, n)
			for i := range rows {
				var v, seq any
				if r.IntN(10) > 0 {
					v = int64(r.IntN(1000))
				}
				if r.IntN(10) > 0 {
					seq = int64(r.IntN(20))
				}
				sign := int64(0)
				if r.IntN(7) == 0 {
					sign = 1
				}
				rows[i] = []any{int64(r.IntN(60)), v, seq, sign}
				if given != nil {
					for c := 1; c <= 3; c++ {
						if !slices.Contains(given, c) {
							rows[i][c] = map[bool]any{true: int64(0), false: nil}[c == 3]
						}
					}
				}
			}
			arrs := rowsettest.BuildArrays(t, mowCols, rows)
			require.NoError(t, w.Write(arrs))
			releaseArrays(arrs)
			require.NoError(t, w.Flush())
			flushes = append(flushes, rows)
		}
		require.NoError(t, w.Close())
		return committed{txnID, flushes, given}
	}
	publish := func(n int) {
		n = min(n, len(queue))
		if n == 0 {
			return
		}
		batch := make([]tabletstore.TxnVersions, n)
		for i, c := range queue[:n] {
			batch[i] = tabletstore.TxnVersions{TxnID: c.txn, Versions: map[int64]int64{tablet: version + 1 + int64(i)}}
		}
		require.NoError(t, st.PublishTxns(batch))
		for _, c := range queue[:n] {
			for _, rows := range c.flushes {
				// A flush keeps one row per key (the later, or the one
				// with the higher sequence value); a partial update's is
				// filled after.
				for _, row := range model.fold(rows) {
					if c.given != nil {
						model.applyPartial(row, c.given)
					} else {
						model.apply(row)
					}
				}
			}
			version++
			history[version] = model.visible()
		}
		queue = queue[n:]
	}
	check := func(step int) {
		got, err := readMoW(t, st, tablet, version)
		require.NoError(t, err)
		require.Equal(t, history[version], got, "step %d: version %d", step, version)
		old := 1 + r.Int64N(version)
		got, err = readMoW(t, st, tablet, old)
		if errors.Is(err, tabletstore.ErrVersionsCompacted) {
			return // forgotten by a reopen
		}
		require.NoError(t, err)
		require.Equal(t, history[old], got, "step %d: old version %d", step, old)
	}

	for step := range steps {
		switch x := r.IntN(20); {
		case x < 9:
			queue = append(queue, load())
		case x < 14:
			publish(1 + r.IntN(3))
		case x < 18:
			rowsets := st.Rowsets(tablet)
			if len(rowsets) < 2 {
				continue
			}
			i := r.IntN(len(rowsets) - 1)
			j := i + 1 + r.IntN(len(rowsets)-i-1)
			var hook func(context.Context)
			if x == 17 && len(queue) > 0 {
				// A publish lands while the compaction runs: its marks on
				// the inputs must move to the output.
				hook = func(context.Context) {
					if len(queue) > 0 {
						publish(1)
					}
				}
			}
			_, err := compactRange(context.Background(), st, tablet, rowsets[i].StartVersion, rowsets[j].EndVersion, runOptions{chunkHook: hook})
			require.NoError(t, err, "step %d", step)
		default:
			require.NoError(t, st.Close())
			st = open()
		}
		check(step)
	}
	publish(len(queue))
	check(steps)
	require.NoError(t, st.CheckDeleteBitmaps(tablet))
	// Everything merged into one rowset still reads the same.
	if rs := st.Rowsets(tablet); len(rs) > 1 {
		_, err := CompactRange(context.Background(), st, tablet, rs[0].StartVersion, rs[len(rs)-1].EndVersion)
		require.NoError(t, err)
	}
	got, err := readMoW(t, st, tablet, version)
	require.NoError(t, err)
	require.Equal(t, history[version], got)
	require.NoError(t, st.CheckDeleteBitmaps(tablet))
}

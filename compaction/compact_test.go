package compaction

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/strata-db/strata/be/rowset/rowsettest"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/storage"
)

// A table of the kind a Flink job loads: a two-column key (nullable INT,
// nullable STRING) and values of the other types.
var tableSchema = tabletstore.Schema{
	SchemaVersion: 3,
	Columns: []storage.ColumnMeta{
		{ID: 1, Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{ID: 2, Type: arrow.BinaryTypes.String, Nullable: true},
		{ID: 3, Type: rowsettest.DecimalType, Nullable: true},
		{ID: 4, Type: arrow.PrimitiveTypes.Float64},
		{ID: 5, Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{ID: 6, Type: arrow.FixedWidthTypes.Timestamp_us},
		{ID: 7, Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{ID: 8, Type: arrow.BinaryTypes.String},
	},
	NumKeys: 2,
}

// loadRows writes rows into a tablet under txnID and publishes them at
// version; a load with no rows gives the tablet no rowset.
func loadRows(t testing.TB, st *tabletstore.Store, schema tabletstore.Schema, tablet, txnID, version int64, rows [][]any) {
	t.Helper()
	w, err := st.NewDeltaWriter(tablet, txnID, schema)
	require.NoError(t, err)
	if len(rows) > 0 {
		arrs := rowsettest.BuildArrays(t, schema.Columns, rows)
		require.NoError(t, w.Write(arrs))
		for _, a := range arrs {
			a.Release()
		}
	}
	require.NoError(t, w.Close())
	require.NoError(t, st.PublishTxn(txnID, map[int64]int64{tablet: version}))
}

// readRows returns a tablet's rows at a version, rowset by rowset in
// version order, each segment's rows in order.
func readRows(t testing.TB, st *tabletstore.Store, cols []storage.ColumnMeta, tablet, version int64) [][]any {
	t.Helper()
	snap, err := st.Acquire(tablet, version)
	require.NoError(t, err)
	defer snap.Release()
	segs, err := snap.Segments()
	require.NoError(t, err)
	var out [][]any
	for _, seg := range segs {
		for p := 0; p < seg.NumPages(); p++ {
			arrs := make([]arrow.Array, len(cols))
			for c, col := range cols {
				a, err := seg.Column(col.ID).ReadPage(p, memory.DefaultAllocator)
				require.NoError(t, err)
				arrs[c] = a
			}
			out = append(out, rowsettest.RowsOf(t, arrs)...)
			for _, a := range arrs {
				a.Release()
			}
		}
	}
	return out
}

func randomRows(r *rand.Rand, cols []storage.ColumnMeta, n int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		row := make([]any, len(cols))
		for c, col := range cols {
			row[c] = rowsettest.RandomValue(r, col, 0.2)
		}
		rows[i] = row
	}
	return rows
}

// Many small rowsets (some loads write nothing, so versions skip) merge
// into one holding every row, sorted by the key, equal keys in version
// order; readers at every version before see what they saw.
func TestCompactManySmallRowsets(t *testing.T) {
	st, err := tabletstore.OpenWithOptions(t.TempDir(), tabletstore.Options{StaleSweepTime: time.Hour})
	require.NoError(t, err)
	defer st.Close()
	r := rand.New(rand.NewPCG(7, 8))
	const loads = 80
	for v := int64(2); v < 2+loads; v++ {
		n := r.IntN(40)
		if r.IntN(8) == 0 {
			n = 0
		}
		loadRows(t, st, tableSchema, 1, v, v, randomRows(r, tableSchema.Columns, n))
	}
	last := int64(1 + loads)
	before := map[int64][][]any{}
	for v := int64(1); v <= last; v++ {
		before[v] = readRows(t, st, tableSchema.Columns, 1, v)
	}
	nrows := len(before[last])
	count := st.VersionCount(1)
	require.Greater(t, count, 50)

	res, err := Compact(context.Background(), st, 1, Policy{})
	require.NoError(t, err)
	require.Equal(t, count, res.InputRowsets)
	require.Equal(t, int64(nrows), res.InputRows)
	require.Equal(t, int64(nrows), res.Output.NumRows)
	require.Equal(t, tableSchema.SchemaVersion, res.Output.SchemaVersion)
	require.Equal(t, 1, st.VersionCount(1))

	want := append([][]any(nil), before[last]...)
	rowsettest.SortRows(want, tableSchema.NumKeys)
	got := readRows(t, st, tableSchema.Columns, 1, last)
	rowsettest.SameRows(t, want, got)
	// Below the output's last version readers get the inputs, as before.
	for v := int64(1); v < res.End; v++ {
		rowsettest.SameRows(t, before[v], readRows(t, st, tableSchema.Columns, 1, v))
	}

	_, err = Compact(context.Background(), st, 1, Policy{})
	require.ErrorIs(t, err, ErrNothingToCompact)
}

// The policy picks the run, the executor merges exactly it.
func TestCompactPicksCumulativeRun(t *testing.T) {
	st, err := tabletstore.Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer st.Close()
	r := rand.New(rand.NewPCG(9, 10))
	for v := int64(2); v <= 5; v++ {
		loadRows(t, st, tableSchema, 1, v, v, randomRows(r, tableSchema.Columns, 3))
	}
	_, err = Compact(context.Background(), st, 1, Policy{})
	require.ErrorIs(t, err, ErrNothingToCompact, "four rowsets are fewer than MinRowsets")
	loadRows(t, st, tableSchema, 1, 6, 6, randomRows(r, tableSchema.Columns, 3))
	res, err := Compact(context.Background(), st, 1, Policy{})
	require.NoError(t, err)
	require.Equal(t, [2]int64{2, 6}, [2]int64{res.Start, res.End})
	require.Equal(t, 5, res.InputRowsets)
}

// Files are what the metadata says: after compactions and sweeps, every
// segment file on disk belongs to a visible rowset.
func TestCompactLeavesNoFiles(t *testing.T) {
	dir := t.TempDir()
	st, err := tabletstore.OpenWithOptions(dir, tabletstore.Options{StaleSweepTime: -1})
	require.NoError(t, err)
	defer st.Close()
	r := rand.New(rand.NewPCG(11, 12))
	for v := int64(2); v < 40; v++ {
		loadRows(t, st, tableSchema, 1, v, v, randomRows(r, tableSchema.Columns, 5))
		if _, err := Compact(context.Background(), st, 1, Policy{}); err != nil {
			require.ErrorIs(t, err, ErrNothingToCompact)
		}
	}
	var files []string
	require.NoError(t, filepath.WalkDir(filepath.Join(dir, "data"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, filepath.Base(path))
		}
		return err
	}))
	var want []string
	for _, rs := range st.Rowsets(1) {
		for i := range rs.NumSegments {
			want = append(want, fmt.Sprintf("%d_%d.seg", rs.ID, i))
		}
	}
	sort.Strings(files)
	sort.Strings(want)
	require.Equal(t, want, files)
	require.Less(t, st.VersionCount(1), 10)
}

// A paced run takes from the limiter exactly the bytes it writes.
func TestCompactionWritePacing(t *testing.T) {
	st, err := tabletstore.Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer st.Close()
	r := rand.New(rand.NewPCG(3, 4))
	for v := int64(2); v <= 5; v++ {
		loadRows(t, st, tableSchema, 1, 100+v, v, randomRows(r, tableSchema.Columns, 3000))
	}
	// A limiter that refills at a byte a second: what the run takes
	// stays taken.
	const burst = 1 << 30
	limit := rate.NewLimiter(1, burst)
	res, err := compactRange(context.Background(), st, 1, 2, 5, runOptions{limit: limit})
	require.NoError(t, err)
	taken := burst - limit.Tokens()
	require.Greater(t, res.Output.DataSize, int64(0))
	require.InDelta(t, float64(res.Output.DataSize), taken, 60, "taken %v, written %d", taken, res.Output.DataSize)
}

package rowset

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/rowset/rowsettest"
	"github.com/strata-db/strata/storage"
)

// mergeRows merges the inputs (each sorted) with merge and returns the
// rows it emitted.
func mergeRows(t *testing.T, cols []storage.ColumnMeta, numKeys, pageRows int, inputs [][][]any) [][]any {
	t.Helper()
	segs := make([]*storage.Segment, len(inputs))
	for i, rows := range inputs {
		segs[i] = rowsettest.SegmentOf(t, cols, numKeys, pageRows, rows)
	}
	var out [][]any
	n, err := Merge(context.Background(), segs, cols, numKeys, func(a []arrow.Array) error {
		require.Len(t, a, len(cols))
		out = append(out, rowsettest.RowsOf(t, a)...)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, int64(len(out)), n)
	return out
}

// randomInputs draws k sorted inputs of up to maxRows rows whose last
// column tags each row with its input and position.
func randomInputs(r *rand.Rand, cols []storage.ColumnMeta, numKeys, k, maxRows int) (inputs [][][]any, want [][]any) {
	for i := range k {
		rows := make([][]any, r.IntN(maxRows+1))
		for j := range rows {
			row := make([]any, len(cols))
			for c := range cols[:len(cols)-1] {
				row[c] = rowsettest.RandomValue(r, cols[c], 0.15)
			}
			rows[j] = row
		}
		rowsettest.SortRows(rows, numKeys)
		for j, row := range rows {
			row[len(cols)-1] = int64(i*1_000_000 + j)
		}
		inputs = append(inputs, rows)
		want = append(want, rows...)
	}
	// Equal keys keep input order: a stable sort of the inputs in order.
	rowsettest.SortRows(want, numKeys)
	return inputs, want
}

var tagColumn = storage.ColumnMeta{ID: 99, Type: arrow.PrimitiveTypes.Int64}

// Every key type, NULLs and many equal keys, inputs crossing pages of 8
// rows: the output is the stable sort of the inputs in input order.
func TestMergeKeyTypes(t *testing.T) {
	types := []arrow.DataType{
		arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Int32,
		arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64,
		rowsettest.DecimalType, arrow.FixedWidthTypes.Date32, arrow.FixedWidthTypes.Timestamp_us,
		arrow.BinaryTypes.String, arrow.FixedWidthTypes.Boolean,
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, typ := range types {
		t.Run("key="+typ.String(), func(t *testing.T) {
			for _, nullable := range []bool{false, true} {
				cols := []storage.ColumnMeta{{ID: 1, Type: typ, Nullable: nullable}, tagColumn}
				inputs, want := randomInputs(r, cols, 1, 9, 60)
				rowsettest.SameRows(t, want, mergeRows(t, cols, 1, 8, inputs))
			}
		})
	}
}

// Two key columns and value columns of every type, with more rows than a
// chunk.
func TestMergeCompositeKeyAndValues(t *testing.T) {
	cols := []storage.ColumnMeta{
		{ID: 1, Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{ID: 2, Type: arrow.BinaryTypes.String, Nullable: true},
		{ID: 3, Type: rowsettest.DecimalType, Nullable: true},
		{ID: 4, Type: arrow.PrimitiveTypes.Float64},
		{ID: 5, Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{ID: 6, Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{ID: 7, Type: arrow.FixedWidthTypes.Timestamp_us},
		{ID: 8, Type: arrow.BinaryTypes.String},
		{ID: 9, Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		tagColumn,
	}
	r := rand.New(rand.NewPCG(3, 4))
	inputs, want := randomInputs(r, cols, 2, 30, 1500)
	require.Greater(t, len(want), chunkRows, "more than one chunk")
	rowsettest.SameRows(t, want, mergeRows(t, cols, 2, 100, inputs))
}

// Inputs that do not overlap come out as whole pages; one input, or none,
// is fine.
func TestMergeShapes(t *testing.T) {
	cols := []storage.ColumnMeta{{ID: 1, Type: arrow.PrimitiveTypes.Int64}, tagColumn}
	seq := func(from, n, tag int) [][]any {
		rows := make([][]any, n)
		for i := range rows {
			rows[i] = []any{int64(from + i), int64(tag*1000 + i)}
		}
		return rows
	}
	cat := func(parts ...[][]any) [][]any {
		var out [][]any
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	require.Empty(t, mergeRows(t, cols, 1, 8, nil))
	require.Empty(t, mergeRows(t, cols, 1, 8, [][][]any{{}, {}}))
	rowsettest.SameRows(t, seq(0, 20, 0), mergeRows(t, cols, 1, 8, [][][]any{seq(0, 20, 0)}))
	// Newer inputs with smaller keys, as when a backfill follows.
	rowsettest.SameRows(t, cat(seq(0, 20, 2), seq(20, 20, 1), seq(40, 20, 0)),
		mergeRows(t, cols, 1, 8, [][][]any{seq(40, 20, 0), seq(20, 20, 1), seq(0, 20, 2)}))
	// All keys equal: input order.
	same := func(tag int) [][]any {
		rows := seq(0, 10, tag)
		for _, r := range rows {
			r[0] = int64(7)
		}
		return rows
	}
	rowsettest.SameRows(t, cat(same(0), same(1), same(2)), mergeRows(t, cols, 1, 3, [][][]any{same(0), same(1), same(2)}))
}

// An error from the consumer or a cancelled context stops the merge and
// lets go of everything.
func TestMergeStops(t *testing.T) {
	cols := []storage.ColumnMeta{{ID: 1, Type: arrow.PrimitiveTypes.Int64}, tagColumn}
	r := rand.New(rand.NewPCG(5, 6))
	inputs, _ := randomInputs(r, cols, 1, 4, 5000)
	segs := make([]*storage.Segment, len(inputs))
	for i, rows := range inputs {
		segs[i] = rowsettest.SegmentOf(t, cols, 1, 64, rows)
	}
	boom := errors.New("boom")
	_, err := Merge(context.Background(), segs, cols, 1, func([]arrow.Array) error { return boom })
	require.ErrorIs(t, err, boom)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Merge(ctx, segs, cols, 1, func([]arrow.Array) error { return nil })
	require.ErrorIs(t, err, context.Canceled)
}

// Segments written under other schemas merge by column id: a column the
// merger does not ask for is not read, and one a segment lacks comes from
// Missing, page by page and with its rows left out as the others; a key
// column cannot be missing.
func TestMergeMapsColumnsByID(t *testing.T) {
	k := storage.ColumnMeta{ID: 1, Type: arrow.PrimitiveTypes.Int64}
	old := storage.ColumnMeta{ID: 2, Type: arrow.BinaryTypes.String, Nullable: true} // dropped
	added := storage.ColumnMeta{ID: 3, Type: arrow.PrimitiveTypes.Int32}
	var before, after [][]any
	for i := range 40 {
		before = append(before, []any{int64(2 * i), "x"})
		after = append(after, []any{int64(2*i + 1), int64(i)})
	}
	segs := []*storage.Segment{
		rowsettest.SegmentOf(t, []storage.ColumnMeta{k, old}, 1, 16, before),
		rowsettest.SegmentOf(t, []storage.ColumnMeta{k, added}, 1, 16, after),
	}
	cols := []storage.ColumnMeta{k, added}
	m := NewMerger(cols, 1)
	m.Deletes = []*roaring.Bitmap{roaring.BitmapOf(0, 17, 39), nil}
	var calls []int
	m.Missing = func(col, n int) (arrow.Array, error) {
		calls = append(calls, n)
		require.Equal(t, 1, col)
		rows := make([][]any, n)
		for i := range rows {
			rows[i] = []any{int64(-7)}
		}
		return rowsettest.BuildArrays(t, cols[1:], rows)[0], nil
	}
	var got [][]any
	_, err := m.Run(context.Background(), segs, func(a []arrow.Array) error {
		got = append(got, rowsettest.RowsOf(t, a)...)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []int{16, 16, 8}, calls, "once per page of the segment lacking it")
	var want [][]any
	for i := range 40 {
		if i != 0 && i != 17 && i != 39 {
			want = append(want, []any{int64(2 * i), int64(-7)})
		}
		want = append(want, []any{int64(2*i + 1), int64(i)})
	}
	require.Equal(t, want, got)

	// Without Missing, or for a key column, a missing column is an error.
	_, err = NewMerger(cols, 1).Run(context.Background(), segs, func([]arrow.Array) error { return nil })
	require.ErrorContains(t, err, "has no column 3")
	m = NewMerger([]storage.ColumnMeta{added, k}, 1)
	m.Missing = func(int, int) (arrow.Array, error) { panic("not for a key") }
	_, err = m.Run(context.Background(), segs, func([]arrow.Array) error { return nil })
	require.ErrorContains(t, err, "has no column 3")
}

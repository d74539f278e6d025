// Package rowsettest holds the helpers tests of merging and compaction
// share: rows as Go values, their reference order, and conversions to and
// from arrays and segments.
package rowsettest

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/storage"
)

// Test rows are []any in column order: nil is NULL; integer-like types
// (and decimals, as their unscaled value) are int64, floats float64.

var DecimalType = &arrow.Decimal128Type{Precision: 18, Scale: 2}

// CompareValues is the reference order of the tests: NULL first, then the
// value order of the segment format.
func CompareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch x := a.(type) {
	case int64:
		return cmp.Compare(x, b.(int64))
	case float64:
		return cmp.Compare(x, b.(float64))
	case string:
		return strings.Compare(x, b.(string))
	case bool:
		return cmp.Compare(boolInt(x), boolInt(b.(bool)))
	}
	panic(fmt.Sprintf("CompareValues of %T", a))
}

func CompareKeys(a, b []any, numKeys int) int {
	for k := range numKeys {
		if r := CompareValues(a[k], b[k]); r != 0 {
			return r
		}
	}
	return 0
}

// SortRows sorts rows stably by their first numKeys values.
func SortRows(rows [][]any, numKeys int) {
	slices.SortStableFunc(rows, func(a, b []any) int { return CompareKeys(a, b, numKeys) })
}

// BuildArrays turns rows into one array per column.
func BuildArrays(t testing.TB, cols []storage.ColumnMeta, rows [][]any) []arrow.Array {
	t.Helper()
	out := make([]arrow.Array, len(cols))
	for c, col := range cols {
		b := array.NewBuilder(memory.DefaultAllocator, col.Type)
		for _, r := range rows {
			v := r[c]
			if v == nil {
				b.AppendNull()
				continue
			}
			switch b := b.(type) {
			case *array.Int8Builder:
				b.Append(int8(v.(int64)))
			case *array.Int16Builder:
				b.Append(int16(v.(int64)))
			case *array.Int32Builder:
				b.Append(int32(v.(int64)))
			case *array.Int64Builder:
				b.Append(v.(int64))
			case *array.Date32Builder:
				b.Append(arrow.Date32(v.(int64)))
			case *array.TimestampBuilder:
				b.Append(arrow.Timestamp(v.(int64)))
			case *array.Float32Builder:
				b.Append(float32(v.(float64)))
			case *array.Float64Builder:
				b.Append(v.(float64))
			case *array.Decimal128Builder:
				b.Append(decimal128.FromI64(v.(int64)))
			case *array.StringBuilder:
				b.Append(v.(string))
			case *array.BooleanBuilder:
				b.Append(v.(bool))
			default:
				t.Fatalf("BuildArrays: builder %T", b)
			}
		}
		out[c] = b.NewArray()
		b.Release()
	}
	return out
}

// RowsOf turns arrays back into rows.
func RowsOf(t testing.TB, cols []arrow.Array) [][]any {
	t.Helper()
	n := cols[0].Len()
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = make([]any, len(cols))
	}
	for c, a := range cols {
		for i := range n {
			if a.IsNull(i) {
				continue
			}
			var v any
			switch a := a.(type) {
			case *array.Int8:
				v = int64(a.Value(i))
			case *array.Int16:
				v = int64(a.Value(i))
			case *array.Int32:
				v = int64(a.Value(i))
			case *array.Int64:
				v = a.Value(i)
			case *array.Date32:
				v = int64(a.Value(i))
			case *array.Timestamp:
				v = int64(a.Value(i))
			case *array.Float32:
				v = float64(a.Value(i))
			case *array.Float64:
				v = a.Value(i)
			case *array.Decimal128:
				v = int64(a.Value(i).LowBits()) // the tests' decimals fit in 64 bits
			case *array.String:
				v = a.Value(i)
			case *array.Boolean:
				v = a.Value(i)
			default:
				t.Fatalf("RowsOf: array %T", a)
			}
			rows[i][c] = v
		}
	}
	return rows
}

// SegmentOf writes rows (already sorted) into an in-memory segment with
// small pages, so that merges cross page boundaries.
func SegmentOf(t testing.TB, cols []storage.ColumnMeta, numKeys, pageRows int, rows [][]any) *storage.Segment {
	t.Helper()
	var buf bytes.Buffer
	w, err := storage.NewWriter(&buf, cols, storage.WriterOptions{PageRows: pageRows, NumSortKeys: numKeys})
	require.NoError(t, err)
	if len(rows) > 0 {
		arrs := BuildArrays(t, cols, rows)
		require.NoError(t, w.Append(arrs))
		for _, a := range arrs {
			a.Release()
		}
	}
	_, err = w.Finish()
	require.NoError(t, err)
	seg, err := storage.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	return seg
}

// RandomValue draws a value of a column's type from a small domain, so
// that keys repeat; NULL with probability nulls when the column allows it.
func RandomValue(r *rand.Rand, col storage.ColumnMeta, nulls float64) any {
	if col.Nullable && r.Float64() < nulls {
		return nil
	}
	switch col.Type.ID() {
	case arrow.INT8:
		return int64(r.IntN(256) - 128)
	case arrow.INT16, arrow.INT32, arrow.INT64, arrow.DATE32:
		return int64(r.IntN(40) - 20)
	case arrow.TIMESTAMP:
		return int64(r.IntN(40)) * 1_000_000
	case arrow.FLOAT32, arrow.FLOAT64:
		if r.IntN(50) == 0 {
			return math.NaN()
		}
		return float64(r.IntN(40)-20) / 4
	case arrow.DECIMAL128:
		return int64(r.IntN(40)-20) * 125
	case arrow.STRING:
		return strings.Repeat(string(rune('a'+r.IntN(5))), 1+r.IntN(3))
	case arrow.BOOL:
		return r.IntN(2) == 0
	}
	panic(fmt.Sprintf("RandomValue of %s", col.Type))
}

// SameRows compares rows with NaN equal to NaN.
func SameRows(t testing.TB, want, got [][]any) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		for c := range want[i] {
			w, g := want[i][c], got[i][c]
			if wf, ok := w.(float64); ok && math.IsNaN(wf) {
				gf, ok := g.(float64)
				require.True(t, ok && math.IsNaN(gf), "row %d column %d: want NaN, got %v", i, c, g)
				continue
			}
			require.Equal(t, w, g, "row %d column %d", i, c)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

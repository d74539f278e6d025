package keymodel

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// Test rows: column 0 an INT64 key (NULL allowed), column 1 a STRING key,
// then value columns; nil is NULL.

var testTypes = []arrow.DataType{
	arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String, // keys
	arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Float64, arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int8,
}

func build(t *testing.T, rows [][]any) []arrow.Array {
	t.Helper()
	out := make([]arrow.Array, len(testTypes))
	for c, dt := range testTypes {
		b := array.NewBuilder(memory.DefaultAllocator, dt)
		for _, r := range rows {
			switch v := r[c].(type) {
			case nil:
				b.AppendNull()
			case int64:
				switch b := b.(type) {
				case *array.Int64Builder:
					b.Append(v)
				case *array.Int32Builder:
					b.Append(int32(v))
				case *array.Int8Builder:
					b.Append(int8(v))
				}
			case float64:
				b.(*array.Float64Builder).Append(v)
			case string:
				b.(*array.StringBuilder).Append(v)
			}
		}
		out[c] = b.NewArray()
		b.Release()
	}
	return out
}

func rowsOf(cols []arrow.Array) [][]any {
	n := cols[0].Len()
	out := make([][]any, n)
	for i := range out {
		out[i] = make([]any, len(cols))
		for c, a := range cols {
			if a.IsNull(i) {
				continue
			}
			switch a := a.(type) {
			case *array.Int64:
				out[i][c] = a.Value(i)
			case *array.Int32:
				out[i][c] = int64(a.Value(i))
			case *array.Int8:
				out[i][c] = int64(a.Value(i))
			case *array.Float64:
				out[i][c] = a.Value(i)
			case *array.String:
				out[i][c] = a.Value(i)
			}
		}
	}
	return out
}

func cmpAny(a, b any) int {
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
	}
	return strings.Compare(a.(string), b.(string))
}

// randomRows draws sorted rows with repeated keys, equal keys in arrival
// order.
func randomRows(r *rand.Rand, n int) [][]any {
	rows := make([][]any, n)
	maybe := func(v any) any {
		if r.IntN(6) == 0 {
			return nil
		}
		return v
	}
	for i := range rows {
		rows[i] = []any{
			maybe(int64(r.IntN(6))), []string{"a", "b", "ab"}[r.IntN(3)],
			maybe(int64(r.IntN(100) - 50)), maybe(float64(r.IntN(9)) / 2), maybe(strconv.Itoa(r.IntN(30))), maybe(int64(r.IntN(4))),
		}
	}
	slices.SortStableFunc(rows, func(a, b []any) int {
		return cmp.Or(cmpAny(a[0], b[0]), cmpAny(a[1], b[1]))
	})
	return rows
}

// groups splits sorted rows into runs of equal keys.
func groups(rows [][]any) [][][]any {
	var out [][][]any
	for i, r := range rows {
		if i == 0 || cmpAny(r[0], rows[i-1][0]) != 0 || cmpAny(r[1], rows[i-1][1]) != 0 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], r)
	}
	return out
}

// reference folds rows as the models define, over Go values.
func reference(m *Model, rows [][]any) [][]any {
	var out [][]any
	for _, g := range groups(rows) {
		if m.Kind == Unique {
			best := g[0]
			for _, r := range g[1:] {
				if m.SeqCol < 0 || cmpAny(r[m.SeqCol], best[m.SeqCol]) >= 0 {
					best = r
				}
			}
			out = append(out, best)
			continue
		}
		row := make([]any, len(testTypes))
		for c, agg := range m.Aggs {
			var v any
			for i, r := range g {
				x := r[c]
				switch agg {
				case None:
					if i == 0 {
						v = x
					}
				case Replace:
					v = x
				case ReplaceIfNotNull:
					if x != nil {
						v = x
					}
				case Min, Max:
					if x != nil && (v == nil || agg == Min && cmpAny(x, v) < 0 || agg == Max && cmpAny(x, v) > 0) {
						v = x
					}
				case Sum:
					if x == nil {
						continue
					}
					switch x := x.(type) {
					case int64:
						s, _ := v.(int64)
						v = int64(int32(s + x)) // the INT32 column wraps
					case float64:
						s, _ := v.(float64)
						v = s + x
					}
				case BitmapUnion:
					if x == nil {
						continue
					}
					if v == nil {
						v = x
					} else {
						v = v.(string) + "," + x.(string)
					}
				}
			}
			if agg == BitmapUnion && v != nil {
				parts := strings.Split(v.(string), ",")
				sort.Strings(parts)
				v = strings.Join(slices.Compact(parts), ",")
			}
			row[c] = v
		}
		out = append(out, row)
	}
	return out
}

// fakeUnion unions comma-separated sets, sorted.
func fakeUnion(_ Agg, vals []string) (string, error) {
	var parts []string
	for _, v := range vals {
		parts = append(parts, strings.Split(v, ",")...)
	}
	sort.Strings(parts)
	return strings.Join(slices.Compact(parts), ","), nil
}

func TestFoldMatchesReference(t *testing.T) {
	models := map[string]*Model{
		"unique":      {Kind: Unique, NumKeys: 2, SeqCol: -1},
		"unique seq":  {Kind: Unique, NumKeys: 2, SeqCol: 5},
		"aggregate 1": {Kind: Aggregate, NumKeys: 2, SeqCol: -1, Aggs: []Agg{None, None, Sum, Max, Min, ReplaceIfNotNull}, Union: fakeUnion},
		"aggregate 2": {Kind: Aggregate, NumKeys: 2, SeqCol: -1, Aggs: []Agg{None, None, Min, Sum, Replace, Max}, Union: fakeUnion},
		"aggregate 3": {Kind: Aggregate, NumKeys: 2, SeqCol: -1, Aggs: []Agg{None, None, Max, Min, BitmapUnion, Replace}, Union: fakeUnion},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for name, m := range models {
		t.Run(name, func(t *testing.T) {
			for range 200 {
				rows := randomRows(r, r.IntN(80))
				want := reference(m, rows)
				in := build(t, rows)
				got, err := m.Fold(in, memory.DefaultAllocator)
				require.NoError(t, err)
				if len(rows) == 0 {
					require.Empty(t, rowsOf(got))
				} else {
					require.Equal(t, want, rowsOf(got))
				}
				release(got)

				// The same rows in random chunks through a Folder.
				f := m.NewFolder(memory.DefaultAllocator)
				var streamed [][]any
				for lo := 0; lo < len(rows); {
					hi := min(len(rows), lo+1+r.IntN(10))
					chunk := make([]arrow.Array, len(in))
					for c, a := range in {
						chunk[c] = array.NewSlice(a, int64(lo), int64(hi))
					}
					out, err := f.Push(chunk)
					require.NoError(t, err)
					release(chunk)
					if out != nil {
						streamed = append(streamed, rowsOf(out)...)
						release(out)
					}
					lo = hi
				}
				out, err := f.Finish()
				require.NoError(t, err)
				if out != nil {
					streamed = append(streamed, rowsOf(out)...)
					release(out)
				}
				if len(rows) == 0 {
					require.Empty(t, streamed)
				} else {
					require.Equal(t, want, streamed)
				}
				release(in)
			}
		})
	}
}

func TestFoldWithoutDuplicatesKeepsArrays(t *testing.T) {
	m := &Model{Kind: Unique, NumKeys: 2, SeqCol: -1}
	in := build(t, [][]any{{int64(1), "a", nil, nil, nil, nil}, {int64(1), "b", nil, nil, nil, nil}, {int64(2), "a", nil, nil, nil, nil}})
	defer release(in)
	out, err := m.Fold(in, memory.DefaultAllocator)
	require.NoError(t, err)
	defer release(out)
	for c := range in {
		require.Same(t, in[c], out[c])
	}
}

func TestParseAgg(t *testing.T) {
	for name, want := range map[string]Agg{"sum": Sum, "REPLACE_IF_NOT_NULL": ReplaceIfNotNull, "": None, "hll_union": HLLUnion} {
		got, err := ParseAgg(name)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := ParseAgg("AVG")
	require.Error(t, err)
}

func release(as []arrow.Array) {
	for _, a := range as {
		a.Release()
	}
}

func BenchmarkFold(b *testing.B) {
	const n = 1 << 20
	keys := array.NewInt64Builder(memory.DefaultAllocator)
	vals := array.NewInt64Builder(memory.DefaultAllocator)
	for i := range n {
		keys.Append(int64(i - i%10/9)) // every tenth row repeats its neighbour's key
		vals.Append(int64(i))
	}
	v := vals.NewArray()
	v.Retain()
	cols := []arrow.Array{keys.NewArray(), v, v}
	for name, m := range map[string]*Model{
		"unique":    {Kind: Unique, NumKeys: 1, SeqCol: -1},
		"aggregate": {Kind: Aggregate, NumKeys: 1, SeqCol: -1, Aggs: []Agg{None, Sum, Max}},
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				out, err := m.Fold(cols, memory.DefaultAllocator)
				if err != nil {
					b.Fatal(err)
				}
				release(out)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
		})
	}
}

package keymodel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/sketch"
)

// randomKeys draws one to three key columns of any sortable types.
func randomKeys(r *rand.Rand) *schema {
	s := &schema{numKeys: 1 + r.IntN(3)}
	for range s.numKeys {
		s.add(sortableTypes[r.IntN(len(sortableTypes))], r.IntN(3) == 0, true)
	}
	return s
}

func (s *schema) add(t colType, nulls, small bool) {
	s.types = append(s.types, t)
	s.nulls = append(s.nulls, nulls)
	s.small = append(s.small, small)
}

// aggregateSchema has random keys and a value column for every
// aggregation over every type it folds.
func aggregateSchema(r *rand.Rand) (*schema, *Model) {
	s := randomKeys(r)
	m := &Model{Kind: Aggregate, NumKeys: s.numKeys, SeqCol: -1, Union: fakeUnion}
	for range s.numKeys {
		m.Aggs = append(m.Aggs, None)
	}
	value := func(agg Agg, types ...colType) {
		for _, t := range types {
			s.add(t, r.IntN(4) != 0, r.IntN(2) == 0)
			m.Aggs = append(m.Aggs, agg)
		}
	}
	value(Sum, sumTypes...)
	for _, agg := range []Agg{Min, Max, Replace, ReplaceIfNotNull} {
		value(agg, sortableTypes...)
	}
	value(BitmapUnion, tSet)
	value(HLLUnion, tSet)
	return s, m
}

// uniqueSchema has random keys and a value column of every type, one of
// them the sequence column when seq is set.
func uniqueSchema(r *rand.Rand, seq bool) (*schema, *Model) {
	s := randomKeys(r)
	m := &Model{Kind: Unique, NumKeys: s.numKeys, SeqCol: -1}
	if seq {
		m.SeqCol = s.numKeys + r.IntN(len(sortableTypes))
	}
	for _, t := range sortableTypes {
		c := len(s.types)
		s.add(t, r.IntN(3) != 0, c == m.SeqCol)
	}
	s.add(tBool, false, false) // a delete sign: kept as any column
	return s, m
}

func TestFoldMatchesReference(t *testing.T) {
	const iterations = 150
	models := []struct {
		name string
		make func(r *rand.Rand) (*schema, *Model)
	}{
		{"aggregate", aggregateSchema},
		{"unique", func(r *rand.Rand) (*schema, *Model) { return uniqueSchema(r, false) }},
		{"unique-seq", func(r *rand.Rand) (*schema, *Model) { return uniqueSchema(r, true) }},
		{"duplicate", func(r *rand.Rand) (*schema, *Model) {
			s, m := uniqueSchema(r, false)
			m.Kind = Duplicate
			return s, m
		}},
	}
	for mi, mod := range models {
		t.Run(mod.name, func(t *testing.T) {
			for i := range iterations {
				t.Run(fmt.Sprint(i), func(t *testing.T) {
					r := rand.New(rand.NewPCG(uint64(mi), uint64(i)))
					s, m := mod.make(r)
					var n int
					switch r.IntN(6) {
					case 0:
						n = r.IntN(3) // empty, one row, two
					case 1:
						n = 200 + r.IntN(300)
					default:
						n = r.IntN(60)
					}
					rows := s.randomRows(r, n, r.IntN(5) == 0)
					checkFold(t, r, s, m, rows)
				})
			}
		})
	}
}

// checkFold folds rows with Fold, with a Folder over random chunks and,
// for the unique model, through Winners, and compares each with the
// reference. All memory must come back.
func checkFold(t *testing.T, r *rand.Rand, s *schema, m *Model, rows [][]any) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	want := nonNil(canon(s.reference(m, rows)))
	in := s.build(t, mem, rows, r)
	defer release(in)

	got, err := m.Fold(in, mem)
	require.NoError(t, err)
	require.Equal(t, want, nonNil(rowsOf(t, got)), "Fold")
	for c := range got {
		require.True(t, arrow.TypeEqual(in[c].DataType(), got[c].DataType()), "column %d type", c)
	}
	if m.Kind == Duplicate {
		for c := range got {
			require.Same(t, in[c], got[c])
		}
	}
	release(got)

	if m.Kind == Unique {
		w, err := m.Winners(in)
		require.NoError(t, err)
		require.Equal(t, nonNil(s.refWinners(m, rows)), nonNil(w), "Winners")
	}

	require.Equal(t, want, nonNil(foldChunks(t, r, m, in, mem)), "Folder")
}

// foldChunks pushes rows through a Folder in chunks of random sizes
// (empty ones included) and returns what comes out.
func foldChunks(t *testing.T, r *rand.Rand, m *Model, in []arrow.Array, mem memory.Allocator) [][]any {
	t.Helper()
	f := m.NewFolder(mem)
	n := in[0].Len()
	maxChunk := 1 + r.IntN(max(1, n/2))
	var out [][]any
	for lo := 0; lo < n; {
		hi := min(n, lo+r.IntN(maxChunk+1))
		chunk := make([]arrow.Array, len(in))
		for c, a := range in {
			chunk[c] = array.NewSlice(a, int64(lo), int64(hi))
		}
		res, err := f.Push(chunk)
		release(chunk)
		require.NoError(t, err)
		if res != nil {
			require.Positive(t, res[0].Len(), "Push returned empty arrays")
			out = append(out, rowsOf(t, res)...)
			release(res)
		}
		lo = hi
	}
	res, err := f.Finish()
	require.NoError(t, err)
	if res != nil {
		out = append(out, rowsOf(t, res)...)
		release(res)
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// TestFoldSemantics spells out the rules on small cases: one INT64 key,
// then value columns.
func TestFoldSemantics(t *testing.T) {
	negZero := math.Copysign(0, -1)
	for _, tc := range []struct {
		name  string
		m     *Model
		types []colType
		rows  [][]any
		want  [][]any
	}{{
		name:  "unique keeps the newest row",
		m:     &Model{Kind: Unique, NumKeys: 1, SeqCol: -1},
		types: []colType{tI64, tStr, tBool},
		rows:  [][]any{{int64(1), "a", false}, {int64(1), nil, true}, {int64(2), "c", false}},
		want:  [][]any{{int64(1), nil, true}, {int64(2), "c", false}},
	}, {
		name:  "unique by sequence: largest wins, NULL least, ties to the newest",
		m:     &Model{Kind: Unique, NumKeys: 1, SeqCol: 1},
		types: []colType{tI64, tI32, tStr},
		rows: [][]any{
			{int64(1), int32(5), "a"}, {int64(1), int32(3), "b"}, {int64(1), int32(5), "c"}, {int64(1), nil, "d"},
			{int64(2), nil, "e"}, {int64(2), nil, "f"},
			{int64(3), nil, "g"}, {int64(3), int32(-9), "h"},
		},
		want: [][]any{{int64(1), int32(5), "c"}, {int64(2), nil, "f"}, {int64(3), int32(-9), "h"}},
	}, {
		name:  "NULL keys are one key; NaN and -0 keys equal NaN and +0",
		m:     &Model{Kind: Unique, NumKeys: 1, SeqCol: -1},
		types: []colType{tF64, tStr},
		rows: [][]any{
			{nil, "a"}, {nil, "b"}, {math.NaN(), "c"}, {math.NaN(), "d"}, {negZero, "e"}, {0.0, "f"},
		},
		want: [][]any{{nil, "b"}, {math.NaN(), "d"}, {0.0, "f"}},
	}, {
		name:  "SUM wraps in the column's type and skips NULLs",
		m:     &Model{Kind: Aggregate, NumKeys: 1, SeqCol: -1, Aggs: []Agg{None, Sum, Sum, Sum}},
		types: []colType{tI64, tI8, tF64, tDec},
		rows: [][]any{
			{int64(1), int8(100), nil, decimal128.MaxDecimal128}, {int64(1), int8(100), 0.5, decimal128.FromI64(1)},
			{int64(1), nil, nil, nil},
			{int64(2), nil, nil, nil}, {int64(2), nil, nil, nil},
			{int64(3), nil, negZero, nil}, {int64(3), nil, nil, nil},
		},
		want: [][]any{
			{int64(1), int8(-56), 0.5, decimal128.MaxDecimal128.Add(decimal128.FromI64(1))},
			{int64(2), nil, nil, nil},
			{int64(3), nil, negZero, nil},
		},
	}, {
		name:  "MIN and MAX skip NULLs and order as the sort does",
		m:     &Model{Kind: Aggregate, NumKeys: 1, SeqCol: -1, Aggs: []Agg{None, Min, Max, Min, Max, Max}},
		types: []colType{tI64, tStr, tStr, tF64, tF64, tBool},
		rows: [][]any{
			{int64(1), "b", "b", 1.0, math.NaN(), false}, {int64(1), "\xff", "\xff", math.NaN(), 1.0, true},
			{int64(1), nil, nil, nil, nil, nil}, {int64(1), "é", "é", -1.0, -1.0, false},
			{int64(2), nil, nil, nil, nil, nil},
		},
		want: [][]any{
			{int64(1), "b", "\xff", math.NaN(), 1.0, true},
			{int64(2), nil, nil, nil, nil, nil},
		},
	}, {
		name:  "REPLACE takes the newest value, NULL too; REPLACE_IF_NOT_NULL the newest non-NULL",
		m:     &Model{Kind: Aggregate, NumKeys: 1, SeqCol: -1, Aggs: []Agg{None, Replace, ReplaceIfNotNull}},
		types: []colType{tI64, tStr, tStr},
		rows: [][]any{
			{int64(1), "a", "a"}, {int64(1), "b", "b"}, {int64(1), nil, nil},
			{int64(2), nil, nil}, {int64(2), nil, nil},
		},
		want: [][]any{{int64(1), nil, "b"}, {int64(2), nil, nil}},
	}, {
		name:  "unions get the non-NULL values oldest first; one value stays as it is",
		m:     &Model{Kind: Aggregate, NumKeys: 1, SeqCol: -1, Aggs: []Agg{None, HLLUnion, BitmapUnion}, Union: fakeUnion},
		types: []colType{tI64, tStr, tSet},
		rows: [][]any{
			{int64(1), "x", "3,9"}, {int64(1), nil, nil}, {int64(1), "y", "1,3"},
			{int64(2), nil, nil}, {int64(2), "z", "4"},
			{int64(3), nil, nil},
		},
		want: [][]any{{int64(1), "x+y", "1,3,9"}, {int64(2), "z", "4"}, {int64(3), nil, nil}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := &schema{numKeys: tc.m.NumKeys}
			for _, ct := range tc.types {
				s.add(ct, true, false)
			}
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			in := s.build(t, mem, tc.rows, nil)
			defer release(in)
			got, err := tc.m.Fold(in, mem)
			require.NoError(t, err)
			defer release(got)
			require.Equal(t, canon(tc.want), rowsOf(t, got))
			require.Equal(t, canon(s.reference(tc.m, tc.rows)), canon(tc.want), "the reference disagrees")
		})
	}
}

func TestFoldWithoutDuplicatesReturnsInput(t *testing.T) {
	s := &schema{numKeys: 2}
	s.add(tI64, true, true)
	s.add(tStr, true, true)
	s.add(tF64, true, false)
	rows := [][]any{{nil, "a", 1.0}, {nil, "b", nil}, {int64(1), nil, 2.0}, {int64(1), "a", 3.0}, {int64(2), "a", nil}}
	for _, m := range []*Model{
		{Kind: Unique, NumKeys: 2, SeqCol: 2},
		{Kind: Aggregate, NumKeys: 2, SeqCol: -1, Aggs: []Agg{None, None, Sum}},
	} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		in := s.build(t, mem, rows, nil)
		out, err := m.Fold(in, mem)
		require.NoError(t, err)
		for c := range in {
			require.Same(t, in[c], out[c])
		}
		release(out)

		// So does a Folder, chunk by chunk, one chunk behind.
		f := m.NewFolder(mem)
		first, second := slice(in, 0, 3), slice(in, 3, len(rows))
		out, err = f.Push(first)
		require.NoError(t, err)
		require.Nil(t, out)
		out, err = f.Push(second)
		require.NoError(t, err)
		for c := range in {
			require.Same(t, first[c], out[c])
		}
		release(out)
		out, err = f.Finish()
		require.NoError(t, err)
		for c := range in {
			require.Same(t, second[c], out[c])
		}
		release(out)
		release(first)
		release(second)
		release(in)
		mem.AssertSize(t, 0)
	}
}

// TestFolderLongKey has one key's rows span many chunks, one row each.
func TestFolderLongKey(t *testing.T) {
	s := &schema{numKeys: 1}
	s.add(tI64, false, true)
	s.add(tI64, true, false)
	s.add(tStr, true, false)
	m := &Model{Kind: Aggregate, NumKeys: 1, SeqCol: -1, Aggs: []Agg{None, Sum, HLLUnion}, Union: fakeUnion}
	var rows [][]any
	for i := range 50 {
		rows = append(rows, []any{int64(7), int64(i), fmt.Sprint(i)})
	}
	rows = append(rows, []any{int64(8), nil, nil})
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	in := s.build(t, mem, rows, nil)
	defer release(in)
	f := m.NewFolder(mem)
	var got [][]any
	for i := range rows {
		chunk := make([]arrow.Array, len(in))
		for c, a := range in {
			chunk[c] = array.NewSlice(a, int64(i), int64(i+1))
		}
		out, err := f.Push(chunk)
		release(chunk)
		require.NoError(t, err)
		if out != nil {
			got = append(got, rowsOf(t, out)...)
			release(out)
		}
	}
	out, err := f.Finish()
	require.NoError(t, err)
	got = append(got, rowsOf(t, out)...)
	release(out)
	var hll []string
	for i := range 50 {
		hll = append(hll, fmt.Sprint(i))
	}
	require.Equal(t, [][]any{{int64(7), int64(49 * 50 / 2), strings.Join(hll, "+")}, {int64(8), nil, nil}}, got)
}

func TestFoldErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := &schema{numKeys: 1}
	s.add(tI64, true, true)
	s.add(tStr, true, false)
	s.add(tI32, true, false)
	rows := [][]any{{int64(1), "1", int32(1)}, {int64(1), "2", int32(2)}}
	in := s.build(t, mem, rows, nil)
	defer release(in)
	short := array.NewSlice(in[2], 0, 1)
	defer short.Release()
	failing := func(Agg, []string) (string, error) { return "", fmt.Errorf("bad sketch") }
	for _, tc := range []struct {
		name string
		m    *Model
		cols []arrow.Array
		want string
	}{
		{"no columns", &Model{Kind: Unique, NumKeys: 1, SeqCol: -1}, nil, "no columns"},
		{"ragged columns", &Model{Kind: Unique, NumKeys: 1, SeqCol: -1}, []arrow.Array{in[0], in[1], short}, "column 2 has 1 rows"},
		{"no key", &Model{Kind: Unique, NumKeys: 0, SeqCol: -1}, in, "0 key columns"},
		{"too many keys", &Model{Kind: Unique, NumKeys: 4, SeqCol: -1}, in, "4 key columns"},
		{"unknown model", &Model{Kind: 9, NumKeys: 1}, in, "unknown data model"},
		{"sequence out of range", &Model{Kind: Unique, NumKeys: 1, SeqCol: 3}, in, "sequence column 3"},
		{"aggs short", &Model{Kind: Aggregate, NumKeys: 1, Aggs: []Agg{None, Replace}}, in, "2 aggregations for 3 columns"},
		{"key aggregated", &Model{Kind: Aggregate, NumKeys: 1, Aggs: []Agg{Max, Replace, Sum}}, in, "key column aggregated by MAX"},
		{"value not aggregated", &Model{Kind: Aggregate, NumKeys: 1, Aggs: []Agg{None, None, Sum}}, in, "without an aggregation"},
		{"SUM of strings", &Model{Kind: Aggregate, NumKeys: 1, Aggs: []Agg{None, Sum, Sum}}, in, "SUM of utf8"},
		{"union of ints", &Model{Kind: Aggregate, NumKeys: 1, Aggs: []Agg{None, Replace, BitmapUnion}}, in, "BITMAP_UNION of int32"},
		{"unknown agg", &Model{Kind: Aggregate, NumKeys: 1, Aggs: []Agg{None, 42, Sum}}, in, "unknown aggregation 42"},
		{"union fails", &Model{Kind: Aggregate, NumKeys: 1, Aggs: []Agg{None, HLLUnion, Sum}, Union: failing}, in, "bad sketch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.m.Fold(tc.cols, mem)
			require.ErrorContains(t, err, tc.want)
			if tc.cols != nil && tc.m.Kind != Aggregate {
				_, err = tc.m.NewFolder(mem).Push(tc.cols)
				require.ErrorContains(t, err, tc.want)
			}
		})
	}

	_, err := (&Model{Kind: Aggregate, NumKeys: 1, Aggs: []Agg{None, Replace, Sum}}).Winners(in)
	require.ErrorContains(t, err, "winners of the AGGREGATE model")

	// A key column of a type the store does not sort.
	u := array.NewUint32Builder(mem)
	u.AppendValues([]uint32{1, 1}, nil)
	ua := u.NewArray()
	u.Release()
	defer ua.Release()
	_, err = (&Model{Kind: Unique, NumKeys: 1, SeqCol: -1}).Fold([]arrow.Array{ua, in[1]}, mem)
	require.ErrorContains(t, err, "key column 0 of type uint32")

	// A Folder refuses a chunk whose types changed.
	f := (&Model{Kind: Unique, NumKeys: 1, SeqCol: -1}).NewFolder(mem)
	out, err := f.Push(in)
	require.NoError(t, err)
	release(out)
	_, err = f.Push([]arrow.Array{in[0], in[2], in[1]})
	require.ErrorContains(t, err, "column 1 is int32, was utf8")
	out, err = f.Finish()
	require.NoError(t, err)
	release(out)
}

// TestFoldOtherValueTypes checks that REPLACE carries a column of a type
// the typed loops do not know (through the take kernel).
func TestFoldOtherValueTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	kb := array.NewInt64Builder(mem)
	kb.AppendValues([]int64{1, 1, 2}, nil)
	keys := kb.NewArray()
	kb.Release()
	bb := array.NewBinaryBuilder(mem, arrow.BinaryTypes.LargeBinary)
	bb.AppendValues([][]byte{[]byte("x"), nil, []byte("z")}, []bool{true, false, true})
	vals := bb.NewArray()
	bb.Release()
	in := []arrow.Array{keys, vals}
	defer release(in)
	for _, m := range []*Model{
		{Kind: Aggregate, NumKeys: 1, SeqCol: -1, Aggs: []Agg{None, ReplaceIfNotNull}},
		{Kind: Unique, NumKeys: 1, SeqCol: -1},
	} {
		out, err := m.Fold(in, mem)
		require.NoError(t, err)
		require.Equal(t, 2, out[1].Len())
		got := out[1].(*array.LargeBinary)
		if m.Kind == Aggregate {
			require.Equal(t, "x", string(got.Value(0)))
		} else {
			require.True(t, got.IsNull(0))
		}
		require.Equal(t, "z", string(got.Value(1)))
		release(out)
	}
}

// TestFoldSketchUnion checks the default Union: be/sketch's.
func TestFoldSketchUnion(t *testing.T) {
	s := &schema{numKeys: 1}
	s.add(tI64, false, true)
	s.add(tStr, true, false)
	s.add(tStr, true, false)
	h1, h2 := sketch.NewHLL(), sketch.NewHLL()
	h1.Add(sketch.HashString("a"))
	h2.Add(sketch.HashString("b"))
	rows := [][]any{
		{int64(1), string(sketch.BitmapOf(1, 2).Serialize()), string(h1.Serialize())},
		{int64(1), string(sketch.BitmapOf(2, 5).Serialize()), string(h2.Serialize())},
	}
	m := &Model{Kind: Aggregate, NumKeys: 1, SeqCol: -1, Aggs: []Agg{None, BitmapUnion, HLLUnion}}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	in := s.build(t, mem, rows, nil)
	defer release(in)
	out, err := m.Fold(in, mem)
	require.NoError(t, err)
	defer release(out)
	bm, err := sketch.DeserializeBitmap(out[1].(*array.String).Value(0))
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 2, 5}, bm.Values())
	h, err := sketch.DeserializeHLL(out[2].(*array.String).Value(0))
	require.NoError(t, err)
	require.Equal(t, int64(2), h.Estimate())
}

func TestParseAgg(t *testing.T) {
	for name, want := range map[string]Agg{
		"": None, "none": None, "sum": Sum, "Min": Min, "MAX": Max, "replace": Replace,
		"REPLACE_IF_NOT_NULL": ReplaceIfNotNull, "bitmap_union": BitmapUnion, "hll_union": HLLUnion,
	} {
		got, err := ParseAgg(name)
		require.NoError(t, err)
		require.Equal(t, want, got)
		if name != "" {
			require.Equal(t, strings.ToUpper(name), got.String())
		}
	}
	for _, bad := range []string{"AVG", "SUM ", "REPLACE_IF"} {
		_, err := ParseAgg(bad)
		require.Error(t, err, bad)
	}
	require.Equal(t, "Agg(200)", Agg(200).String())
	require.Equal(t, "UNIQUE", Unique.String())
	require.Equal(t, "Kind(7)", Kind(7).String())
}

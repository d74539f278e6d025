package storage

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/strata-db/strata/types"
	"github.com/stretchr/testify/require"
)

// TestRoundTrip writes every type × value pattern × null mix × page size and
// reads every page back, checking values, zone maps and that each expected
// encoding was chosen somewhere.
func TestRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(7, 11))
	seen := map[string]bool{} // "type/encoding"
	const rows = 700
	for _, tt := range testTypes {
		for _, pat := range tt.pats {
			for _, nullFrac := range []float64{0, 0.2, 1} {
				for _, pageRows := range []int{1, 100, 333, 8192} {
					if pageRows == 1 && pat != patRandom {
						continue // keep the test fast; one-row pages are all constant
					}
					name := fmt.Sprintf("type=%s/pat=%s/nulls=%v/page=%d", tt.dt, pat, nullFrac, pageRows)
					arr := genArray(t, mem, rng, tt.dt, pat, nullFrac, rows)
					for _, comp := range []Compression{CompressionAuto, CompressionNone} {
						metas := []ColumnMeta{{ID: 3, Type: tt.dt, Nullable: nullFrac > 0}}
						file := writeSegment(t, metas, WriterOptions{PageRows: pageRows, Compression: comp}, []arrow.Array{arr}, 97)
						seg, err := Open(bytes.NewReader(file), int64(len(file)))
						require.NoError(t, err, name)
						require.Equal(t, int64(rows), seg.NumRows())
						require.Equal(t, metas, seg.Columns())
						require.Equal(t, (rows+pageRows-1)/pageRows, seg.NumPages())
						col := seg.Column(3)
						require.NotNil(t, col)
						require.Nil(t, seg.Column(4))
						for p := range seg.NumPages() {
							first, n := seg.PageRange(p)
							require.Equal(t, int64(p*pageRows), first)
							want := array.NewSlice(arr, first, first+int64(n))
							got, err := col.ReadPage(p, mem)
							require.NoError(t, err, name)
							require.True(t, array.Equal(want, got) || floatEqualNaN(want, got), "%s page %d:\nwant %v\ngot  %v", name, p, want, got)
							dgot, err := col.ReadPageDict(p, mem)
							require.NoError(t, err, name)
							requireSameValues(t, got, dgot)
							if _, isDict := dgot.(*array.Dictionary); isDict {
								seen[fmt.Sprintf("%s/dictionary-array", tt.dt)] = true
							}
							dgot.Release()
							want.Release()
							got.Release()
							requireZoneEqual(t, expectZone(arr, int(first), int(first)+n), col.Zone(p), name)
							enc, _, err := col.PageEncoding(p)
							require.NoError(t, err)
							seen[fmt.Sprintf("%s/%s", tt.dt, enc)] = true
						}
					}
					arr.Release()
				}
			}
		}
	}
	for _, want := range []string{
		"bool/plain", "bool/constant",
		"int8/plain", "int8/bitpack", "int8/for", "int8/rle", "int8/constant",
		"int16/plain", "int16/bitpack", "int16/for", "int16/rle", "int16/constant",
		"int32/plain", "int32/bitpack", "int32/for", "int32/rle", "int32/constant",
		"int64/plain", "int64/bitpack", "int64/for", "int64/rle", "int64/constant",
		"date32/for", "date32/rle", "date32/constant", "timestamp[us]/plain", "timestamp[us]/for",
		"float32/plain", "float32/constant", "float64/plain", "float64/constant",
		"decimal(38, 0)/plain", "decimal(38, 0)/constant", "decimal(10, 2)/plain",
		"decimal(38, 0)/bitpack", "decimal(38, 0)/for", "decimal(38, 0)/rle", "decimal(10, 2)/for",
		"utf8/plain", "utf8/dict", "utf8/constant", "utf8/dictionary-array",
	} {
		require.True(t, seen[want], "encoding %s never chosen; seen %v", want, seen)
	}
}

// floatEqualNaN compares float arrays treating NaN as equal to NaN.
func floatEqualNaN(a, b arrow.Array) bool {
	return array.ApproxEqual(a, b, array.WithNaNsEqual(true), array.WithAbsTolerance(0))
}

// TestMultiColumn checks shared page boundaries across columns and that
// appends of any batch size give the same file.
func TestMultiColumn(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(1, 1))
	var metas []ColumnMeta
	var cols []arrow.Array
	for i, tt := range testTypes {
		metas = append(metas, ColumnMeta{ID: uint32(100 + i), Type: tt.dt, Nullable: true})
		cols = append(cols, genArray(t, mem, rng, tt.dt, tt.pats[len(tt.pats)-1], 0.1, 1000))
	}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	opts := WriterOptions{PageRows: 128, Compression: CompressionZstd}
	a := writeSegment(t, metas, opts, cols, 1000)
	b := writeSegment(t, metas, opts, cols, 7)
	require.Equal(t, a, b)
	seg, err := Open(bytes.NewReader(a), int64(len(a)))
	require.NoError(t, err)
	require.Equal(t, 8, seg.NumPages())
	for i, m := range metas {
		c := seg.Column(m.ID)
		for p := range seg.NumPages() {
			first, n := seg.PageRange(p)
			got, err := c.ReadPage(p, mem)
			require.NoError(t, err)
			want := array.NewSlice(cols[i], first, first+int64(n))
			require.True(t, array.Equal(want, got) || floatEqualNaN(want, got))
			want.Release()
			got.Release()
		}
	}
}

func TestCompressionCodecs(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(2, 2))
	// Repetitive random-ish strings: plain encoding that compresses well.
	b := array.NewStringBuilder(mem)
	words := []string{"alpha", "beta", "gamma", "delta", "epsilon"}
	for range 5000 {
		b.Append(words[rng.IntN(5)] + fmt.Sprint(rng.IntN(5000)))
	}
	arr := b.NewArray()
	b.Release()
	defer arr.Release()
	for _, c := range []Compression{CompressionNone, CompressionS2, CompressionZstd, CompressionAuto} {
		file := writeSegment(t, []ColumnMeta{{ID: 1, Type: arrow.BinaryTypes.String}}, WriterOptions{Compression: c}, []arrow.Array{arr}, 5000)
		seg, err := Open(bytes.NewReader(file), int64(len(file)))
		require.NoError(t, err)
		_, codec, err := seg.Column(1).PageEncoding(0)
		require.NoError(t, err)
		if c == CompressionAuto {
			require.NotEqual(t, CompressionNone, codec)
		} else {
			require.Equal(t, c, codec)
		}
		got, err := seg.Column(1).ReadPage(0, mem)
		require.NoError(t, err)
		require.True(t, array.Equal(arr, got))
		got.Release()
	}
}

func TestEmptySegment(t *testing.T) {
	metas := []ColumnMeta{{ID: 1, Type: arrow.PrimitiveTypes.Int64}}
	file := writeSegment(t, metas, WriterOptions{NumSortKeys: 1}, nil, 1)
	seg, err := Open(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	require.Equal(t, int64(0), seg.NumRows())
	require.Equal(t, 0, seg.NumPages())
	r, err := seg.SeekShortKey([]any{int64(5)})
	require.NoError(t, err)
	require.Equal(t, int64(0), r)
}

func TestWriterErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	i64 := arrow.PrimitiveTypes.Int64
	for _, tc := range []struct {
		name  string
		metas []ColumnMeta
		opts  WriterOptions
	}{
		{"no columns", nil, WriterOptions{}},
		{"duplicate id", []ColumnMeta{{ID: 1, Type: i64}, {ID: 1, Type: i64}}, WriterOptions{}},
		{"unsupported type", []ColumnMeta{{ID: 1, Type: arrow.BinaryTypes.Binary}}, WriterOptions{}},
		{"too many sort keys", []ColumnMeta{{ID: 1, Type: i64}}, WriterOptions{NumSortKeys: 2}},
		{"bad compression", []ColumnMeta{{ID: 1, Type: i64}}, WriterOptions{Compression: 9}},
		{"negative page rows", []ColumnMeta{{ID: 1, Type: i64}}, WriterOptions{PageRows: -1}},
	} {
		_, err := NewWriter(&bytes.Buffer{}, tc.metas, tc.opts)
		require.Error(t, err, tc.name)
	}

	w, err := NewWriter(&bytes.Buffer{}, []ColumnMeta{{ID: 1, Type: i64}, {ID: 2, Type: i64}}, WriterOptions{})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	a := genArray(t, mem, rng, i64, patRandom, 0, 10)
	defer a.Release()
	an := genArray(t, mem, rng, i64, patRandom, 0.5, 10)
	defer an.Release()
	short := genArray(t, mem, rng, i64, patRandom, 0, 5)
	defer short.Release()
	s := genArray(t, mem, rng, arrow.BinaryTypes.String, patRandom, 0, 10)
	defer s.Release()
	require.Error(t, w.Append([]arrow.Array{a}))
	require.Error(t, w.Append([]arrow.Array{a, short}))
	require.Error(t, w.Append([]arrow.Array{a, s}))
	require.Error(t, w.Append([]arrow.Array{a, an}), "nulls in a non-nullable column")
	require.Error(t, w.Append([]arrow.Array{a, nil}))
	require.NoError(t, w.Append([]arrow.Array{a, a}))
	info, err := w.Finish()
	require.NoError(t, err)
	require.Equal(t, int64(10), info.NumRows)
	require.Error(t, w.Append([]arrow.Array{a, a}))
	_, err = w.Finish()
	require.Error(t, err)
}

func TestEncodingEnum(t *testing.T) {
	for e := Encoding(0); e < 10; e++ {
		require.Equal(t, e > 0 && e < encodingCount, e.IsValid())
		require.NotEmpty(t, e.String())
	}
	require.Equal(t, "for", EncodingFOR.String())
	require.Equal(t, "Encoding(200)", Encoding(200).String())
	require.Equal(t, "zstd", CompressionZstd.String())
	require.False(t, Compression(9).IsValid())
}

func TestTruncateMax(t *testing.T) {
	long := bytes.Repeat([]byte{'a'}, 100)
	m := truncateMax(long)
	require.LessOrEqual(t, len(m), MaxZoneStringLen)
	require.Positive(t, bytes.Compare(m, long))
	withFF := append(bytes.Repeat([]byte{'a'}, 63), 0xff, 0xff, 'z')
	m = truncateMax(withFF)
	require.Equal(t, append(bytes.Repeat([]byte{'a'}, 62), 'b'), m)
	allFF := bytes.Repeat([]byte{0xff}, 80)
	require.Equal(t, allFF, truncateMax(allFF))
	require.Equal(t, long[:MaxZoneStringLen], truncateMin(long))
}

// TestSchemaFromTypes round-trips the schema of every type the type
// vocabulary maps to arrow.
func TestSchemaFromTypes(t *testing.T) {
	var metas []ColumnMeta
	for i, ty := range []types.Type{
		types.Boolean, types.TinyInt, types.SmallInt, types.Int, types.BigInt, types.LargeInt,
		types.Float, types.Double, types.Decimal(9, 3), types.Decimal(38, 38), types.Date,
		types.DateTime(6), types.Char(10), types.Varchar(100), types.String,
	} {
		metas = append(metas, ColumnMeta{ID: uint32(i*7 + 1), Type: ty.Arrow(), Nullable: i%2 == 0})
	}
	file := writeSegment(t, metas, WriterOptions{NumSortKeys: 3}, nil, 1)
	seg, err := Open(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	require.Len(t, seg.Columns(), len(metas))
	for i, m := range seg.Columns() {
		require.Equal(t, metas[i].ID, m.ID)
		require.Equal(t, metas[i].Nullable, m.Nullable)
		require.True(t, arrow.TypeEqual(metas[i].Type, m.Type), "%s vs %s", metas[i].Type, m.Type)
	}
}

// TestConcurrentReads reads pages from many goroutines (run with -race).
func TestConcurrentReads(t *testing.T) {
	file := smallSegment(t)
	seg, err := Open(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				for _, m := range seg.Columns() {
					for p := range seg.NumPages() {
						a, err := seg.Column(m.ID).ReadPage(p, memory.DefaultAllocator)
						if err != nil {
							errs <- err
							return
						}
						a.Release()
					}
				}
				if _, err := seg.SeekShortKey([]any{int64(10)}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

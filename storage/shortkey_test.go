package storage

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// TestSeekShortKey compares seeks against a brute-force scan of sorted rows,
// for several key types, intervals and page sizes.
func TestSeekShortKey(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	for _, keyTypes := range [][]arrow.DataType{
		{arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String},
		{arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64, arrow.FixedWidthTypes.Boolean},
		{arrow.PrimitiveTypes.Float64, dec10Type},
		{arrow.FixedWidthTypes.Date32, tsType},
	} {
		for _, cfg := range []struct{ interval, pageRows int }{{1, 7}, {16, 50}, {64, 64}, {1024, 8192}, {5, 3}} {
			name := fmt.Sprintf("%v/interval=%d/page=%d", keyTypes, cfg.interval, cfg.pageRows)
			testSeek(t, mem, keyTypes, cfg.interval, cfg.pageRows, name)
		}
	}
}

func testSeek(t *testing.T, mem memory.Allocator, keyTypes []arrow.DataType, interval, pageRows int, name string) {
	rng := rand.New(rand.NewPCG(uint64(interval), uint64(pageRows)))
	const n = 600
	k := len(keyTypes)
	var metas []ColumnMeta
	var pts []physType
	for i, dt := range keyTypes {
		metas = append(metas, ColumnMeta{ID: uint32(i + 1), Type: dt, Nullable: true})
		pt, _ := physTypeOf(dt)
		pts = append(pts, pt)
	}
	// A value column that is not part of the key.
	metas = append(metas, ColumnMeta{ID: 99, Type: arrow.PrimitiveTypes.Int64})
	genVal := func(pt physType) any {
		if rng.IntN(15) == 0 {
			return nil
		}
		switch pt {
		case physBool:
			return rng.IntN(2) == 0
		case physFloat64:
			return float64(rng.IntN(20)) - 10
		case physDecimal128:
			return decimal128.FromI64(int64(rng.IntN(30)))
		case physString:
			return []byte(fmt.Sprintf("k%02d", rng.IntN(25)))
		}
		return int64(rng.IntN(40)) - 5
	}
	seg := &Segment{cols: make([]*ColumnReader, k)}
	for i := range k {
		seg.cols[i] = &ColumnReader{pt: pts[i]}
	}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = make([]any, k)
		for j := range k {
			rows[i][j] = genVal(pts[j])
		}
	}
	slices.SortStableFunc(rows, func(a, b []any) int { return seg.compareKey(a, b) })

	var arrs []arrow.Array
	for j, dt := range keyTypes {
		b := array.NewBuilder(mem, dt)
		for _, r := range rows {
			appendAny(t, b, r[j])
		}
		arrs = append(arrs, b.NewArray())
		b.Release()
	}
	vb := array.NewInt64Builder(mem)
	for i := range n {
		vb.Append(int64(i))
	}
	arrs = append(arrs, vb.NewArray())
	vb.Release()
	defer func() {
		for _, a := range arrs {
			a.Release()
		}
	}()
	file := writeSegment(t, metas, WriterOptions{PageRows: pageRows, NumSortKeys: k, ShortKeyInterval: interval}, arrs, 101)
	s, err := Open(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)

	for range 300 {
		plen := 1 + rng.IntN(k)
		key := make([]any, plen)
		if rng.IntN(2) == 0 {
			copy(key, rows[rng.IntN(n)][:plen])
		} else {
			for j := range plen {
				key[j] = genVal(pts[j])
			}
		}
		wantLo, wantHi := int64(n), int64(n)
		for i := n - 1; i >= 0; i-- {
			c := seg.compareKey(rows[i], key)
			if c >= 0 {
				wantLo = int64(i)
			}
			if c > 0 {
				wantHi = int64(i)
			}
		}
		lo, err := s.SeekShortKey(key)
		require.NoError(t, err, name)
		require.Equal(t, wantLo, lo, "%s key %v", name, key)
		hi, err := s.SeekShortKeyUpper(key)
		require.NoError(t, err, name)
		require.Equal(t, wantHi, hi, "%s key %v", name, key)
	}
	_, err = s.SeekShortKey(make([]any, k+1))
	require.Error(t, err)
	_, err = s.SeekShortKey([]any{struct{}{}})
	require.Error(t, err)
}

func appendAny(t testing.TB, b array.Builder, v any) {
	t.Helper()
	if v == nil {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.Int32Builder:
		b.Append(int32(v.(int64)))
	case *array.Int64Builder:
		b.Append(v.(int64))
	case *array.Date32Builder:
		b.Append(arrow.Date32(v.(int64)))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(v.(int64)))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.Decimal128Builder:
		b.Append(v.(decimal128.Num))
	case *array.StringBuilder:
		b.Append(string(v.([]byte)))
	default:
		t.Fatalf("appendAny: %T", b)
	}
}

func TestSeekWithoutIndex(t *testing.T) {
	file := writeSegment(t, []ColumnMeta{{ID: 1, Type: arrow.PrimitiveTypes.Int64}}, WriterOptions{}, nil, 1)
	s, err := Open(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	_, err = s.SeekShortKey([]any{int64(1)})
	require.ErrorIs(t, err, ErrNoShortKeyIndex)
}

func TestSeekKeyTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	ib := array.NewInt32Builder(mem)
	sb := array.NewStringBuilder(mem)
	for i := range 100 {
		ib.Append(int32(i / 10))
		sb.Append(fmt.Sprint(i % 10))
	}
	ia, sa := ib.NewArray(), sb.NewArray()
	ib.Release()
	sb.Release()
	defer ia.Release()
	defer sa.Release()
	metas := []ColumnMeta{{ID: 1, Type: arrow.PrimitiveTypes.Int32}, {ID: 2, Type: arrow.BinaryTypes.String}}
	file := writeSegment(t, metas, WriterOptions{NumSortKeys: 2, ShortKeyInterval: 8}, []arrow.Array{ia, sa}, 100)
	s, err := Open(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	for _, key := range [][]any{{3, "4"}, {int32(3), []byte("4")}, {int64(3), "4"}} {
		r, err := s.SeekShortKey(key)
		require.NoError(t, err)
		require.Equal(t, int64(34), r)
	}
	r, err := s.SeekShortKeyUpper([]any{3})
	require.NoError(t, err)
	require.Equal(t, int64(40), r)
}

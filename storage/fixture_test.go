package storage

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// Fixture files written by format v1 live in testdata/v1 and must stay
// readable by every later version. Regenerate (only when the v1 writer
// itself changes, which it must not once released) with the command below.
// The expected values are regenerated from fixed seeds by fixtureData, so
// the generators in testutil_test.go must not change either.
//
//	go test ./storage -run TestFixturesV1 -rewrite
var rewrite = flag.Bool("rewrite", false, "rewrite the testdata/v1 fixture files")

type fixture struct {
	name  string
	comp  Compression
	nulls float64
}

var fixturesV1 = []fixture{
	{"all_types_none", CompressionNone, 0.15},
	{"all_types_auto", CompressionAuto, 0.15},
	{"all_types_zstd_nonull", CompressionZstd, 0},
	{"all_types_s2", CompressionS2, 0.15},
}

// fixtureTypes is frozen: the fixture files were written from it.
var fixtureTypes = []struct {
	dt   arrow.DataType
	pats []string
}{
	{arrow.FixedWidthTypes.Boolean, []string{patConst, patRandom}},
	{arrow.PrimitiveTypes.Int8, []string{patConst, patSmall, patNeg, patRuns, patRandom}},
	{arrow.PrimitiveTypes.Int16, []string{patConst, patSmall, patNeg, patRuns, patRandom}},
	{arrow.PrimitiveTypes.Int32, []string{patConst, patSmall, patOffset, patNeg, patRuns, patRandom}},
	{arrow.PrimitiveTypes.Int64, []string{patConst, patSmall, patOffset, patNeg, patRuns, patRandom, patSeq}},
	{arrow.FixedWidthTypes.Date32, []string{patConst, patOffset, patRuns, patRandom}},
	{tsType, []string{patConst, patOffset, patRuns, patRandom}},
	{arrow.PrimitiveTypes.Float32, []string{patConst, patRandom, patNaN}},
	{arrow.PrimitiveTypes.Float64, []string{patConst, patRandom, patNaN}},
	{dec38Type, []string{patConst, patRandom, patSmall, patNeg, patRuns}},
	{dec10Type, []string{patConst, patRandom, patOffset}},
	{arrow.BinaryTypes.String, []string{patConst, patDict, patRandom, patLong}},
}

// fixtureData deterministically builds the columns of a fixture: every
// type, with a leading sorted key column and a value pattern per column.
func fixtureData(t testing.TB, mem memory.Allocator, fx fixture) ([]ColumnMeta, []arrow.Array) {
	rng := rand.New(rand.NewPCG(2024, 1))
	const n = 1000
	kb := array.NewInt64Builder(mem)
	for i := range n {
		kb.Append(int64(i / 4))
	}
	metas := []ColumnMeta{{ID: 1, Type: arrow.PrimitiveTypes.Int64}}
	cols := []arrow.Array{kb.NewArray()}
	kb.Release()
	id := uint32(10)
	for _, tt := range fixtureTypes {
		for _, pat := range tt.pats {
			metas = append(metas, ColumnMeta{ID: id, Type: tt.dt, Nullable: fx.nulls > 0})
			cols = append(cols, genArray(t, mem, rng, tt.dt, pat, fx.nulls, n))
			id++
		}
	}
	return metas, cols
}

func TestFixturesV1(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	for _, fx := range fixturesV1 {
		t.Run(fx.name, func(t *testing.T) {
			metas, cols := fixtureData(t, mem, fx)
			defer func() {
				for _, c := range cols {
					c.Release()
				}
			}()
			path := filepath.Join("testdata", "v1", fx.name+".seg")
			opts := WriterOptions{PageRows: 400, NumSortKeys: 1, ShortKeyInterval: 64, Compression: fx.comp}
			if *rewrite {
				file := writeSegment(t, metas, opts, cols, 700)
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, file, 0o644))
			}
			file, err := os.ReadFile(path)
			require.NoError(t, err)
			seg, err := Open(bytes.NewReader(file), int64(len(file)))
			require.NoError(t, err)
			require.Equal(t, metas, seg.Columns())
			require.Equal(t, int64(cols[0].Len()), seg.NumRows())
			for i, m := range metas {
				c := seg.Column(m.ID)
				for p := range seg.NumPages() {
					first, n := seg.PageRange(p)
					got, err := c.ReadPage(p, mem)
					require.NoError(t, err)
					want := array.NewSlice(cols[i], first, first+int64(n))
					require.True(t, array.Equal(want, got) || floatEqualNaN(want, got), "column %d page %d", m.ID, p)
					requireZoneEqual(t, expectZone(cols[i], int(first), int(first)+n), c.Zone(p), fmt.Sprint(m.ID))
					want.Release()
					got.Release()
				}
			}
			for _, k := range []int64{-1, 0, 7, 100, 249, 250} {
				lo, err := seg.SeekShortKey([]any{k})
				require.NoError(t, err)
				require.Equal(t, min(max(k, 0)*4, 1000), lo)
				hi, err := seg.SeekShortKeyUpper([]any{k})
				require.NoError(t, err)
				require.Equal(t, min(max(k+1, 0)*4, 1000), hi)
			}
		})
	}
}

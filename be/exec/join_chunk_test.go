package exec

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/types"
)

// A join whose probe rows each match many build rows hands its output on
// in batches of about BatchSize pairs, not one batch per probe batch, so
// its output stays bounded and cancellation is checked between them.
func TestHashJoinChunksFanOut(t *testing.T) {
	schema := []types.Type{types.Int, types.String}
	var build, probe [][]any
	const fan, keys, probes = 300, 10, 2000
	for k := 0; k < keys; k++ {
		for i := 0; i < fan; i++ {
			build = append(build, []any{int64(k), "b"})
		}
	}
	for i := 0; i < probes; i++ {
		var name any = "p"
		if i%7 == 0 {
			name = nil
		}
		probe = append(probe, []any{int64(i % (keys + 3)), name}) // keys 10..12 match nothing
	}
	matching := 0
	for i := 0; i < probes; i++ {
		if i%(keys+3) < keys {
			matching++
		}
	}
	for _, kind := range []JoinKind{Inner, Left} {
		for _, key := range []Expr{col(0, types.Int), must(NewCast(col(0, types.Int), types.String))} {
			bk := key
			j, err := NewHashJoin(valuesOp(t, schema, build), valuesOp(t, schema, probe), kind, []Expr{bk}, []Expr{key}, nil)
			require.NoError(t, err)
			rows, batches := 0, 0
			err = Drain(context.Background(), j, func(b *Batch) error {
				n := b.NumRows()
				require.LessOrEqual(t, n, BatchSize+fan, "one output batch")
				rows += n
				batches++
				return nil
			})
			require.NoError(t, err)
			want := matching * fan
			if kind == Left {
				want += probes - matching
			}
			require.Equal(t, want, rows)
			require.Greater(t, batches, want/(BatchSize+fan))
		}
	}
}

// One probe row whose key matches 100k build rows comes out BatchSize
// pairs at a time for the joins that may stop in the middle of its chain
// of matches: inner, and LEFT without a residual condition. (A LEFT join
// with a residual condition keeps a probe row's pairs in one batch.)
func TestHashJoinChunksOneRowFanOut(t *testing.T) {
	const fan = 100_000
	build := make([]int64, fan+10)
	for i := fan; i < len(build); i++ {
		build[i] = int64(i) // keys matching nothing
	}
	probe := []int64{7, 0, 3, 0} // two rows match every key-0 build row
	for _, kind := range []JoinKind{Inner, Left} {
		for _, key := range []Expr{col(0, types.BigInt), must(NewCast(col(0, types.BigInt), types.String))} {
			t.Run(fmt.Sprintf("kind=%d/key=%s", kind, key.Type()), func(t *testing.T) {
				j, err := NewHashJoin(int64ValuesOf(build), int64ValuesOf(probe), kind, []Expr{key}, []Expr{key}, nil)
				require.NoError(t, err)
				rows, batches := 0, 0
				err = Drain(context.Background(), j, func(b *Batch) error {
					n := b.NumRows()
					require.LessOrEqual(t, n, BatchSize, "one output batch")
					rows += n
					batches++
					return nil
				})
				require.NoError(t, err)
				want := 2 * fan
				if kind == Left {
					want += 2 // 7 and 3 match nothing
				}
				require.Equal(t, want, rows)
				require.GreaterOrEqual(t, batches, want/BatchSize)
			})
		}
	}
}

// A join re-opened after stopping in the middle of a probe batch starts
// from its probe input's first row, not from where the last run stopped.
func TestHashJoinReopen(t *testing.T) {
	build := make([]int64, 3*BatchSize)
	probe := []int64{0, 1}
	j, err := NewHashJoin(int64ValuesOf(build), int64ValuesOf(probe), Inner,
		[]Expr{col(0, types.BigInt)}, []Expr{col(0, types.BigInt)}, nil)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, j.Open(ctx))
	var b Batch
	require.NoError(t, Next(ctx, j, &b))
	require.Equal(t, BatchSize, b.NumRows())
	require.NoError(t, j.Close())
	rows := 0
	require.NoError(t, Drain(ctx, j, func(b *Batch) error { rows += b.NumRows(); return nil }))
	require.Equal(t, len(build), rows)
}

// A build side that fails gives back what it charged.
func TestHashJoinBuildErrorReleasesMemory(t *testing.T) {
	mt := NewMemTracker(1<<30, "exec_mem_limit")
	ctx := WithMemTracker(context.Background(), mt)
	bad := failingExpr{t: types.BigInt}
	j, err := NewHashJoin(int64Values(3*BatchSize), int64Values(10), Inner,
		[]Expr{bad}, []Expr{col(0, types.BigInt)}, nil)
	require.NoError(t, err)
	err = Drain(ctx, j, func(*Batch) error { return nil })
	require.ErrorIs(t, err, errFailingExpr)
	require.Zero(t, mt.Used(), "the build's charge is given back")
	require.Positive(t, mt.Peak())

	_, err = BuildJoinTable(ctx, int64Values(3*BatchSize), []Expr{bad})
	require.ErrorIs(t, err, errFailingExpr)
	require.Zero(t, mt.Used())
}

var errFailingExpr = errors.New("failing expression")

// failingExpr is an expression whose evaluation fails.
type failingExpr struct{ t types.Type }

func (e failingExpr) Type() types.Type { return e.t }
func (e failingExpr) Eval(*EvalContext, *Batch) (arrow.Array, error) {
	return nil, errFailingExpr
}
func (e failingExpr) String() string { return "failing()" }

// int64ValuesOf is a Values operator of one BIGINT column holding vals.
func int64ValuesOf(vals []int64) *Values {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues(vals, nil)
	return NewValuesFromArrays([]types.Type{types.BigInt}, []arrow.Array{b.NewArray()})
}

// A join whose build side is empty (every row filtered out by its scan)
// answers no rows, or the probe rows NULL-extended, whatever the build
// columns' types: an empty DATE, DATETIME or DECIMAL array has no value
// buffer, neither when the build rows are indexed nor when a residual
// condition compares such a column with a constant.
func TestHashJoinEmptyBuildDateDecimal(t *testing.T) {
	schema := []types.Type{types.Date, types.Decimal(9, 2), types.DateTime(0), types.Int}
	probe := [][]any{{nil, nil, nil, int64(1)}, {nil, nil, nil, int64(2)}}
	n := len(schema)
	residuals := []Expr{
		nil,
		must(NewCompare(CmpLT, col(n+0, types.Date), lit("2024-01-01", types.Date))),
		must(NewCompare(CmpGE, col(n+2, types.DateTime(0)), lit("2024-01-01 00:00:00", types.DateTime(0)))),
	}
	for _, kind := range []JoinKind{Inner, Left} {
		for _, other := range residuals {
			j, err := NewHashJoin(valuesOp(t, schema, nil), valuesOp(t, schema, probe), kind,
				[]Expr{col(3, types.Int)}, []Expr{col(3, types.Int)}, other)
			require.NoError(t, err)
			rows := 0
			require.NoError(t, Drain(context.Background(), j, func(b *Batch) error { rows += b.NumRows(); return nil }))
			if kind == Inner {
				require.Equal(t, 0, rows)
			} else {
				require.Equal(t, len(probe), rows)
			}
		}
	}
}

// A shared (pipeline) LEFT join whose build side is empty NULL-extends its
// string columns; a filter comparing them reads every row, NULLs included,
// which must not index the empty build values.
func TestSharedHashJoinEmptyBuildStrings(t *testing.T) {
	schema := []types.Type{types.String, types.Int}
	probe := [][]any{{"a", int64(1)}, {"b", int64(2)}}
	ctx := context.Background()
	jt, err := BuildJoinTable(ctx, valuesOp(t, schema, nil), []Expr{col(1, types.Int)})
	require.NoError(t, err)
	defer jt.Release()
	j, err := NewHashJoinOn(jt, valuesOp(t, schema, probe), Left, []Expr{col(1, types.Int)}, nil)
	require.NoError(t, err)
	for _, pred := range []Expr{
		must(NewCompare(CmpEQ, col(2, types.String), lit("a", types.String))),
		must(NewCompare(CmpLT, col(2, types.String), col(0, types.String))),
	} {
		rows := 0
		require.NoError(t, Drain(ctx, NewFilter(j, pred), func(b *Batch) error { rows += b.NumRows(); return nil }))
		require.Equal(t, 0, rows)
	}
	rows := 0
	isNull := NewIsNull(col(2, types.String), false)
	require.NoError(t, Drain(ctx, NewFilter(j, isNull), func(b *Batch) error { rows += b.NumRows(); return nil }))
	require.Equal(t, len(probe), rows)
}

package planner

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/types"
)

// scriptRemote runs every fragment as a stream of `batches` BIGINT batches
// of 1000 rows, then fail (nil: the end).
type scriptRemote struct {
	batches int
	fail    error
}

func (r *scriptRemote) Replicas(int64) []int64 { return []int64{1} }

func (r *scriptRemote) Run(context.Context, int64, *Fragment) (FragmentStream, error) {
	return &scriptStream{n: r.batches, fail: r.fail}, nil
}

type scriptStream struct {
	n    int
	fail error
}

func (s *scriptStream) Next(context.Context) ([]arrow.Array, error) {
	if s.n == 0 {
		return nil, s.fail
	}
	s.n--
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues(make([]int64, 1000), nil)
	return []arrow.Array{b.NewArray()}, nil
}

func (s *scriptStream) Close() error { return nil }

// An attempt of a whole gather that fails gives back what its batches were
// charged, so the run on the next replica starts from nothing.
func TestGatherFailedAttemptReleasesMemory(t *testing.T) {
	const batches = 4
	ctx := context.Background()
	newGather := func(r Remote, mt *exec.MemTracker) *gatherOp {
		g := &gatherOp{remote: r, root: &stage{}, whole: true, schema: []types.Type{types.BigInt}}
		g.prof.mem = mt
		return g
	}
	// What one attempt's batches are charged.
	mt := exec.NewMemTracker(0, "exec_mem_limit")
	g := newGather(&scriptRemote{batches: batches}, mt)
	_, err := g.attempt(ctx, instance{be: 1}, 0)
	require.NoError(t, err)
	one := mt.Used()
	require.Positive(t, one)
	require.Equal(t, one, g.prof.held.Load())
	releaseBatches(g.batches)
	g.prof.releaseMem()
	require.Zero(t, mt.Used())

	// A failed attempt, then one that succeeds, under a limit that holds
	// one attempt's batches but not two.
	mt = exec.NewMemTracker(one*3/2, "exec_mem_limit")
	down := &downErr{be: 1, what: "connection reset"}
	r := &scriptRemote{batches: batches, fail: down}
	g = newGather(r, mt)
	_, err = g.attempt(ctx, instance{be: 1}, 0)
	require.ErrorIs(t, err, down)
	require.Zero(t, mt.Used(), "the failed attempt's batches are given back")
	require.Zero(t, g.prof.held.Load())
	require.Empty(t, g.batches)

	r.fail = nil
	_, err = g.attempt(ctx, instance{be: 1}, 0)
	var me *exec.MemLimitError
	require.False(t, errors.As(err, &me), "%v", err)
	require.NoError(t, err)
	require.Equal(t, one, mt.Used())
	require.Len(t, g.batches, batches)
	releaseBatches(g.batches)
	g.prof.releaseMem()
	require.Zero(t, mt.Used())
}

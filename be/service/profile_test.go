package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/rpc"
	"github.com/strata-db/strata/types"
)

// A fragment sends its profile back when asked, honours the query's memory
// limit on the backend, and stops at the query's deadline.
func TestFragmentProfileMemLimitTimeout(t *testing.T) {
	ctx := testCtx(t)
	mem := checkedAlloc(t)
	cli := newClient(t, rpc.WithAllocator(mem))
	b := newBackend(t, 1, cli, backendOpts{mem: mem})
	const tablet = 7
	loadOn(t, 1, tablet, makeRows(0, 3000), b)
	publishOn(t, 1, 2, map[int64]bool{tablet: true}, b)
	r := runner(cli, b)

	// Without asking: no profile.
	s, err := r.Run(ctx, 1, scanFragment(tablet, 2))
	require.NoError(t, err)
	rows, err := drain(t, ctx, s)
	require.NoError(t, err)
	require.Len(t, rows, 3000)
	require.Nil(t, s.(planner.FragmentProfiler).FragmentProfile())

	f := scanFragment(tablet, 2)
	f.Settings.Profile = true
	s, err = r.Run(ctx, 1, f)
	require.NoError(t, err)
	rows, err = drain(t, ctx, s)
	require.NoError(t, err)
	require.Len(t, rows, 3000, "the profile trailer adds no rows")
	prof := s.(planner.FragmentProfiler).FragmentProfile()
	require.NotNil(t, prof)
	require.EqualValues(t, 3000, prof.Rows, "%+v", prof)

	// A join whose build side passes the memory limit fails on the backend.
	join := scanFragment(tablet, 2)
	join.Steps = []planner.FragmentStep{{Kind: planner.StepJoin, Join: &planner.FragmentJoin{
		Kind: "inner", Input: 0,
		ProbeKeys: []planner.Expr{column(t, 0, types.BigInt)},
		BuildKeys: []planner.Expr{column(t, 0, types.BigInt)},
	}}}
	join.InputTypes = [][]types.Type{{types.BigInt}}
	join.Output = append(join.Output, types.BigInt)
	bld := array.NewInt64Builder(mem)
	for i := range 100_000 {
		bld.Append(int64(i))
	}
	keys := bld.NewArray()
	bld.Release()
	defer keys.Release()
	join.Inputs = []planner.FragmentInput{{Batches: [][]arrow.Array{{keys}}}}
	join.Settings.MemLimit = 64 << 10
	s, err = r.Run(ctx, 1, join)
	if err == nil {
		_, err = drain(t, ctx, s)
	}
	require.ErrorContains(t, err, "MEM_LIMIT_EXCEEDED")
	require.ErrorContains(t, err, "limit 65536 bytes")

	join.Settings.MemLimit = 1 << 30
	s, err = r.Run(ctx, 1, join)
	require.NoError(t, err)
	rows, err = drain(t, ctx, s)
	require.NoError(t, err)
	require.Len(t, rows, 3000)

	// The query's deadline reaches the fragment.
	dctx, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	<-dctx.Done()
	s, err = r.Run(dctx, 1, scanFragment(tablet, 2))
	if err == nil {
		_, err = drain(t, dctx, s)
	}
	require.Error(t, err)
}

package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/rowset/rowsettest"
	"github.com/strata-db/strata/be/service"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/rpc"
	"github.com/strata-db/strata/types"
)

// column is the fragment expression reading column i of type ty.
func column(t *testing.T, i int, ty types.Type) planner.Expr {
	t.Helper()
	tj, err := json.Marshal(ty)
	require.NoError(t, err)
	var e planner.Expr
	require.NoError(t, json.Unmarshal(fmt.Appendf(nil, `{"t":%s,"col":%d}`, tj, i), &e))
	return e
}

// scanFragment reads every column of the test table's tablet at version.
func scanFragment(tablet, version int64) *planner.Fragment {
	tb := testTable()
	return &planner.Fragment{
		ID: 1,
		Scan: planner.FragmentScan{DB: "db", Table: tb, Columns: []int{0, 1},
			Tablets: []planner.FragmentTablet{{ID: tablet, Version: version}}},
		Output:   []types.Type{tb.Schema.Columns[0].Type, tb.Schema.Columns[1].Type},
		Settings: planner.FragmentSettings{TimeZone: "+00:00"},
	}
}

// drain reads a fragment's stream to its end and returns its rows.
func drain(t *testing.T, ctx context.Context, s planner.FragmentStream) ([][]any, error) {
	t.Helper()
	defer s.Close()
	var rows [][]any
	for {
		cols, err := s.Next(ctx)
		if err != nil {
			return rows, err
		}
		if cols == nil {
			return rows, nil
		}
		rows = append(rows, rowsettest.RowsOf(t, cols)...)
		release(cols)
	}
}

func runner(cli *rpc.Client, bes ...*backend) *service.FragmentRunner {
	return &service.FragmentRunner{
		RPC: cli,
		Addr: func(id int64) (string, error) {
			for _, b := range bes {
				if b.id == id {
					return b.addr, nil
				}
			}
			return "", fmt.Errorf("backend %d is unknown", id)
		},
		ReplicasOf: func(int64) []int64 { return []int64{1} },
	}
}

// A fragment runs on the backend holding its tablet and sends its rows
// back; a broadcast join's build side is uploaded ahead of it.
func TestFragment(t *testing.T) {
	ctx := testCtx(t)
	mem := checkedAlloc(t)
	cli := newClient(t, rpc.WithAllocator(mem))
	b := newBackend(t, 1, cli, backendOpts{mem: mem})
	const tablet = 7
	loadOn(t, 1, tablet, makeRows(0, 3000), b)
	publishOn(t, 1, 2, map[int64]bool{tablet: true}, b)
	r := runner(cli, b)
	require.Equal(t, []int64{1}, r.Replicas(tablet))

	s, err := r.Run(ctx, 1, scanFragment(tablet, 2))
	require.NoError(t, err)
	rows, err := drain(t, ctx, s)
	require.NoError(t, err)
	rowsettest.SortRows(rows, 1)
	require.Equal(t, makeRows(0, 3000), rows)

	// An empty tablet version sends no rows.
	s, err = r.Run(ctx, 1, scanFragment(tablet, 1))
	require.NoError(t, err)
	rows, err = drain(t, ctx, s)
	require.NoError(t, err)
	require.Empty(t, rows)

	// Inner join of the scan with an input of keys.
	f := scanFragment(tablet, 2)
	f.Steps = []planner.FragmentStep{{Kind: planner.StepJoin, Join: &planner.FragmentJoin{
		Kind: "inner", Input: 0,
		ProbeKeys: []planner.Expr{column(t, 0, types.BigInt)},
		BuildKeys: []planner.Expr{column(t, 0, types.BigInt)},
	}}}
	f.InputTypes = [][]types.Type{{types.BigInt}}
	f.Output = append(f.Output, types.BigInt)
	keys := func(ks ...int64) []arrow.Array {
		bld := array.NewInt64Builder(mem)
		defer bld.Release()
		bld.AppendValues(ks, nil)
		return []arrow.Array{bld.NewArray()}
	}
	f.Inputs = []planner.FragmentInput{{Batches: [][]arrow.Array{keys(3, 2999), keys(5000, 10)}}}
	defer func() {
		for _, bt := range f.Inputs[0].Batches {
			release(bt)
		}
	}()
	s, err = r.Run(ctx, 1, f)
	require.NoError(t, err)
	rows, err = drain(t, ctx, s)
	require.NoError(t, err)
	rowsettest.SortRows(rows, 1)
	require.Equal(t, [][]any{{int64(3), "v3"}, {int64(10), nil}, {int64(2999), "v2999"}}, project(rows, 0, 1))
	require.Equal(t, []any{int64(3), int64(10), int64(2999)}, column2(rows))
}

func project(rows [][]any, cols ...int) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		for _, c := range cols {
			out[i] = append(out[i], r[c])
		}
	}
	return out
}

func column2(rows [][]any) []any {
	var out []any
	for _, r := range rows {
		out = append(out, r[2])
	}
	return out
}

// A replica that lacks the version, or a backend that is down: the error is
// retryable, so that the coordinator tries another replica.
func TestFragmentRetryable(t *testing.T) {
	ctx := testCtx(t)
	cli := newClient(t)
	b := newBackend(t, 1, cli)
	const tablet = 7
	loadOn(t, 1, tablet, makeRows(0, 10), b)
	publishOn(t, 1, 2, map[int64]bool{tablet: true}, b)
	r := runner(cli, b)

	run := func(be int64, f *planner.Fragment) error {
		s, err := r.Run(ctx, be, f)
		if err != nil {
			return err
		}
		_, err = drain(t, ctx, s)
		return err
	}
	err := run(1, scanFragment(tablet, 3))
	require.Error(t, err)
	require.True(t, planner.IsRetryable(err), "%v", err)
	require.ErrorContains(t, err, "backend 1 ("+b.addr+")")

	// A fragment the backend cannot build is not retryable.
	f := scanFragment(tablet, 2)
	f.Scan.Columns = []int{5}
	err = run(1, f)
	require.Error(t, err)
	require.False(t, planner.IsRetryable(err), "%v", err)
	require.ErrorContains(t, err, "scan of column 5 of 2")

	err = run(2, scanFragment(tablet, 2))
	require.True(t, planner.IsRetryable(err), "%v", err)
	require.ErrorContains(t, err, "backend 2 is unknown")

	b.stop(t)
	err = run(1, scanFragment(tablet, 2))
	require.True(t, planner.IsRetryable(err), "%v", err)
}

// Requests the fragment calls cannot make sense of are refused with
// invalid_argument.
func TestFragmentMalformed(t *testing.T) {
	ctx := testCtx(t)
	cli := newClient(t)
	b := newBackend(t, 1, cli)
	stream := func(req any) error {
		rr, err := cli.Stream(ctx, b.addr, "be.fragment", req)
		if err != nil {
			return err
		}
		defer rr.Close()
		_, err = rr.Read()
		return err
	}
	good, err := json.Marshal(scanFragment(7, 1))
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		req  any
		msg  string
	}{
		{"not an object", json.RawMessage(`"select 1"`), "decoding the request"},
		{"null", nil, "the request carries no fragment"},
		{"no fragment", json.RawMessage(`{"inputs":""}`), "the request carries no fragment"},
		{"bad expression", json.RawMessage(`{"fragment":{"scan":{"filters":[{"t":{"Kind":5},"col":0,"lit":{"int":1}}]}}}`),
			"decoding the request"},
		{"unknown inputs", json.RawMessage(fmt.Sprintf(`{"fragment":%s,"inputs":"feedface"}`, good)),
			`fragment inputs "feedface" are unknown or expired`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, requireCode(t, stream(tc.req), rpc.CodeInvalidArgument), tc.msg)
		})
	}

	upload := func(req any) error {
		u, err := cli.Upload(ctx, b.addr, "be.fragment_input", req, nil)
		if err != nil {
			return err
		}
		return u.Close(nil)
	}
	for _, tc := range []struct {
		name string
		req  any
		msg  string
	}{
		{"input not an object", json.RawMessage(`[]`), "decoding the request"},
		{"input of none", map[string]any{"key": "k", "index": 0, "count": 0}, "input 0 of 0"},
		{"input past the count", map[string]any{"key": "k", "index": 2, "count": 2}, "input 2 of 2"},
		{"too many inputs", map[string]any{"key": "k", "index": 0, "count": 100000}, "input 0 of 100000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, requireCode(t, upload(tc.req), rpc.CodeInvalidArgument), tc.msg)
		})
	}
	// Inputs of one key must agree on the count.
	require.NoError(t, upload(map[string]any{"key": "k", "index": 0, "count": 2}))
	err = upload(map[string]any{"key": "k", "index": 0, "count": 3})
	require.Contains(t, requireCode(t, err, rpc.CodeInvalidArgument), `inputs "k": 2 inputs, then 3`)
	// A fragment whose inputs did not all arrive is refused: a join
	// against a missing build side would answer wrong.
	err = stream(json.RawMessage(fmt.Sprintf(`{"fragment":%s,"inputs":"k"}`, good)))
	require.Contains(t, requireCode(t, err, rpc.CodeInvalidArgument), `fragment inputs "k": input 1 of 2 never arrived`)
	require.NotContains(t, b.logs.String(), "panicked")
}

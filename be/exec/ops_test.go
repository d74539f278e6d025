package exec

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/types"
)

// randRows makes n rows of (INT k nullable, STRING s nullable, DOUBLE x,
// DECIMAL(10,2) d, BIGINT v).
var randSchema = []types.Type{types.Int, types.String, types.Double, types.Decimal(10, 2), types.BigInt}

func randRows(r *rand.Rand, n, keys int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		var k, s any
		if r.IntN(10) > 0 {
			k = int64(r.IntN(keys))
		}
		if r.IntN(10) > 0 {
			s = fmt.Sprintf("s%d", r.IntN(keys))
		}
		rows[i] = []any{k, s, float64(r.IntN(1000)) / 4, fmt.Sprintf("%d.%02d", r.IntN(1000)-500, r.IntN(100)), int64(r.IntN(1000))}
	}
	return rows
}

func valuesOp(t testing.TB, schema []types.Type, rows [][]any) Operator {
	v, err := NewValues(schema, rows)
	require.NoError(t, err)
	return v
}

func keyOf(vals ...any) string {
	var sb strings.Builder
	for _, v := range vals {
		fmt.Fprintf(&sb, "%T:%v|", v, v)
	}
	return sb.String()
}

func sortRows(rows [][]any) {
	keys := make([]string, len(rows))
	idx := make([]int, len(rows))
	for i, r := range rows {
		keys[i] = fmt.Sprint(r)
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return keys[idx[i]] < keys[idx[j]] })
	sorted := make([][]any, len(rows))
	for i, k := range idx {
		sorted[i] = rows[k]
	}
	copy(rows, sorted)
}

func TestFilterProjectLimit(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	rows := randRows(r, 20000, 50)
	pred := must(NewCompare(CmpLT, col(4, types.BigInt), lit(int64(100), types.Int)))
	pred = NewAnd(pred, NewIsNull(col(0, types.Int), true))
	sum := must(NewArith(OpAdd, col(4, types.BigInt), col(0, types.Int)))
	op := NewProject(NewFilter(valuesOp(t, randSchema, rows), pred), []Expr{col(0, types.Int), sum})
	got := collect(t, op)
	var want [][]any
	for _, row := range rows {
		if row[0] != nil && row[4].(int64) < 100 {
			want = append(want, []any{row[0], fmt.Sprint(row[4].(int64) + row[0].(int64))})
		}
	}
	require.Equal(t, want, got)

	// limit/offset over a filtered input spanning several batches
	for _, lo := range [][2]int64{{10, 0}, {10, 5}, {0, 0}, {-1, 3}, {5000, 8000}, {10, 1 << 40}} {
		op := NewLimit(NewFilter(valuesOp(t, randSchema, rows), pred), lo[0], lo[1])
		got := collect(t, op)
		var want [][]any
		skipped := int64(0)
		for _, row := range rows {
			if row[0] == nil || row[4].(int64) >= 100 {
				continue
			}
			if skipped < lo[1] {
				skipped++
				continue
			}
			if lo[0] >= 0 && int64(len(want)) >= lo[0] {
				break
			}
			want = append(want, row)
		}
		require.Equal(t, len(want), len(got), "limit %v", lo)
		for i := range want {
			require.Equal(t, want[i][4], got[i][4])
		}
	}
}

func TestHashAggVsBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, keys := range []int{1, 7, 3000} {
		rows := randRows(r, 12000, keys)
		aggs := []AggSpec{
			{Func: "count"},
			{Func: "count", Args: []Expr{col(1, types.String)}},
			{Func: "sum", Args: []Expr{col(4, types.BigInt)}},
			{Func: "sum", Args: []Expr{col(3, types.Decimal(10, 2))}},
			{Func: "avg", Args: []Expr{col(4, types.BigInt)}},
			{Func: "min", Args: []Expr{col(1, types.String)}},
			{Func: "max", Args: []Expr{col(2, types.Double)}},
			{Func: "count", Distinct: true, Args: []Expr{col(1, types.String)}},
			{Func: "count", Distinct: true, Args: []Expr{col(1, types.String), col(4, types.BigInt)}},
			{Func: "sum", Args: []Expr{col(2, types.Double)}},
			{Func: "avg", Args: []Expr{col(3, types.Decimal(10, 2))}},
			{Func: "max", Args: []Expr{col(3, types.Decimal(10, 2))}},
		}
		for _, groupBy := range [][]Expr{
			{col(0, types.Int)},
			{col(1, types.String)},
			{col(0, types.Int), col(1, types.String)},
			nil,
		} {
			h, err := NewHashAgg(valuesOp(t, randSchema, rows), groupBy, aggs)
			require.NoError(t, err)
			require.Equal(t, []types.Type{types.BigInt, types.BigInt, types.BigInt, types.Decimal(38, 2), types.Double,
				types.String, types.Double, types.BigInt, types.BigInt, types.Double, types.Decimal(38, 6), types.Decimal(10, 2)},
				h.Schema()[len(groupBy):])
			got := collect(t, h)
			// brute force
			type acc struct {
				key             []any
				cnt, cntS, sumV int64
				sumD            int64 // cents
				minS            any
				maxX            any
				dS              map[string]bool
				dSV             map[string]bool
				sumX            float64
				maxD            int64
				hasMaxD         bool
			}
			groups := map[string]*acc{}
			var order []string
			for _, row := range rows {
				var key []any
				for _, g := range groupBy {
					key = append(key, row[g.(*ColumnRef).Idx])
				}
				k := keyOf(key...)
				a := groups[k]
				if a == nil {
					a = &acc{key: key, dS: map[string]bool{}, dSV: map[string]bool{}}
					groups[k] = a
					order = append(order, k)
				}
				a.cnt++
				a.sumV += row[4].(int64)
				cents := parseCents(row[3].(string))
				a.sumD += cents
				if !a.hasMaxD || cents > a.maxD {
					a.maxD, a.hasMaxD = cents, true
				}
				a.sumX += row[2].(float64)
				if a.maxX == nil || row[2].(float64) > a.maxX.(float64) {
					a.maxX = row[2]
				}
				if row[1] != nil {
					a.cntS++
					if a.minS == nil || row[1].(string) < a.minS.(string) {
						a.minS = row[1]
					}
					a.dS[row[1].(string)] = true
					a.dSV[fmt.Sprintf("%v|%v", row[1], row[4])] = true
				}
			}
			require.Equal(t, len(groups), len(got), "keys=%d groupBy=%d", keys, len(groupBy))
			for _, row := range got {
				k := keyOf(row[:len(groupBy)]...)
				a := groups[k]
				require.NotNil(t, a, "unexpected group %v", row)
				n := len(groupBy)
				require.Equal(t, a.cnt, row[n])
				require.Equal(t, a.cntS, row[n+1])
				require.Equal(t, a.sumV, row[n+2])
				require.Equal(t, centsString(a.sumD, 2), row[n+3])
				require.InDelta(t, float64(a.sumV)/float64(a.cnt), row[n+4].(float64), 1e-9)
				require.Equal(t, a.minS, row[n+5])
				require.Equal(t, a.maxX, row[n+6])
				require.Equal(t, int64(len(a.dS)), row[n+7])
				require.Equal(t, int64(len(a.dSV)), row[n+8])
				require.InDelta(t, a.sumX, row[n+9].(float64), 1e-6)
				require.Equal(t, centsString(a.maxD, 2), row[n+11])
			}
			_ = order
		}
	}
}

func parseCents(s string) int64 {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var whole, frac int64
	fmt.Sscanf(s, "%d.%d", &whole, &frac)
	v := whole*100 + frac
	if neg {
		v = -v
	}
	return v
}

func centsString(v int64, _ int) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

func TestHashAggEmptyInput(t *testing.T) {
	aggs := []AggSpec{{Func: "count"}, {Func: "sum", Args: []Expr{col(4, types.BigInt)}}, {Func: "min", Args: []Expr{col(1, types.String)}},
		{Func: "count", Distinct: true, Args: []Expr{col(0, types.Int)}}, {Func: "avg", Args: []Expr{col(2, types.Double)}}}
	h, err := NewHashAgg(valuesOp(t, randSchema, nil), nil, aggs)
	require.NoError(t, err)
	require.Equal(t, [][]any{{int64(0), nil, nil, int64(0), nil}}, collect(t, h))
	h, err = NewHashAgg(valuesOp(t, randSchema, nil), []Expr{col(0, types.Int)}, aggs)
	require.NoError(t, err)
	require.Empty(t, collect(t, h))
	_, err = NewHashAgg(valuesOp(t, randSchema, nil), nil, []AggSpec{{Func: "median", Args: []Expr{col(0, types.Int)}}})
	require.Error(t, err)
}

func TestAggAllTypes(t *testing.T) {
	schema := []types.Type{types.TinyInt, types.SmallInt, types.Float, types.Date, types.DateTime(0), types.Boolean, types.LargeInt}
	rows := [][]any{
		{int64(1), int64(300), 1.5, "2024-01-02", "2024-01-02 03:04:05", true, int64(5)},
		{int64(-3), nil, 2.5, "2023-01-02", nil, false, int64(7)},
		{nil, int64(-2), nil, nil, "2025-01-02 03:04:05", nil, nil},
	}
	var aggs []AggSpec
	for i, ty := range schema {
		aggs = append(aggs, AggSpec{Func: "min", Args: []Expr{col(i, ty)}}, AggSpec{Func: "max", Args: []Expr{col(i, ty)}})
	}
	aggs = append(aggs, AggSpec{Func: "sum", Args: []Expr{col(0, types.TinyInt)}}, AggSpec{Func: "sum", Args: []Expr{col(6, types.LargeInt)}},
		AggSpec{Func: "avg", Args: []Expr{col(2, types.Float)}}, AggSpec{Func: "any_value", Args: []Expr{col(1, types.SmallInt)}},
		AggSpec{Func: "group_concat", Args: []Expr{col(0, types.TinyInt)}})
	h, err := NewHashAgg(valuesOp(t, schema, rows), nil, aggs)
	require.NoError(t, err)
	got := collect(t, h)
	require.Equal(t, [][]any{{int64(-3), int64(1), int64(-2), int64(300), 1.5, 2.5, "2023-01-02", "2024-01-02",
		"2024-01-02 03:04:05", "2025-01-02 03:04:05", false, true, "5", "7", int64(-2), "12", 2.0, int64(300), "1,-3"}}, got)
	require.Equal(t, types.LargeInt, h.Schema()[15])
}

func TestSortAndTopN(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	rows := randRows(r, 20000, 100)
	keys := []SortKey{{Expr: col(0, types.Int)}, {Expr: col(1, types.String), Desc: true}}
	// reference: NULLs first ascending, last descending; stable on input order
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	cmpNullable := func(a, b any, desc bool) int {
		switch {
		case a == nil && b == nil:
			return 0
		case a == nil:
			if desc {
				return 1
			}
			return -1
		case b == nil:
			if desc {
				return -1
			}
			return 1
		}
		c := 0
		switch x := a.(type) {
		case int64:
			c = cmpInt(x, b.(int64))
		case string:
			c = strings.Compare(x, b.(string))
		}
		if desc {
			c = -c
		}
		return c
	}
	sort.SliceStable(idx, func(i, j int) bool {
		a, b := rows[idx[i]], rows[idx[j]]
		if c := cmpNullable(a[0], b[0], false); c != 0 {
			return c < 0
		}
		return cmpNullable(a[1], b[1], true) < 0
	})
	var want [][]any
	for _, i := range idx {
		want = append(want, rows[i])
	}
	got := collect(t, NewSort(valuesOp(t, randSchema, rows), keys))
	require.Equal(t, len(want), len(got))
	for i := range want {
		require.Equal(t, want[i][0], got[i][0], "row %d", i)
		require.Equal(t, want[i][1], got[i][1], "row %d", i)
		require.Equal(t, want[i][4], got[i][4], "row %d (stability)", i)
	}
	for _, lo := range [][2]int{{10, 0}, {100, 50}, {9000, 3}, {5, 19998}, {5, 30000}} {
		got := collect(t, NewTopN(valuesOp(t, randSchema, rows), keys, int64(lo[0]), int64(lo[1])))
		end := min(lo[0]+lo[1], len(want))
		start := min(lo[1], len(want))
		require.Equal(t, end-start, len(got))
		for i := range got {
			require.Equal(t, want[start+i][4], got[i][4])
		}
	}
	// explicit NULLS LAST ascending and DESC with nulls first
	small := [][]any{{int64(2)}, {nil}, {int64(1)}}
	got = collect(t, NewSort(valuesOp(t, []types.Type{types.Int}, small), []SortKey{{Expr: col(0, types.Int), Nulls: NullsLast}}))
	require.Equal(t, [][]any{{int64(1)}, {int64(2)}, {nil}}, got)
	got = collect(t, NewSort(valuesOp(t, []types.Type{types.Int}, small), []SortKey{{Expr: col(0, types.Int), Desc: true}}))
	require.Equal(t, [][]any{{int64(2)}, {int64(1)}, {nil}}, got)
	got = collect(t, NewSort(valuesOp(t, []types.Type{types.Int}, small), []SortKey{{Expr: col(0, types.Int), Desc: true, Nulls: NullsFirst}}))
	require.Equal(t, [][]any{{nil}, {int64(2)}, {int64(1)}}, got)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestHashJoinVsBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	build := randRows(r, 1500, 200)
	probe := randRows(r, 3000, 250)
	type spec struct {
		name   string
		bk, pk []Expr
		other  func() Expr
		match  func(p, b []any) bool
	}
	specs := []spec{
		{"int key", []Expr{col(0, types.Int)}, []Expr{col(0, types.Int)}, nil,
			func(p, b []any) bool { return p[0] != nil && b[0] != nil && p[0] == b[0] }},
		{"string key", []Expr{col(1, types.String)}, []Expr{col(1, types.String)}, nil,
			func(p, b []any) bool { return p[1] != nil && b[1] != nil && p[1] == b[1] }},
		{"two keys", []Expr{col(0, types.Int), col(1, types.String)}, []Expr{col(0, types.Int), col(1, types.String)}, nil,
			func(p, b []any) bool {
				return p[0] != nil && b[0] != nil && p[0] == b[0] && p[1] != nil && b[1] != nil && p[1] == b[1]
			}},
		{"int key + residual", []Expr{col(0, types.Int)}, []Expr{col(0, types.Int)},
			func() Expr {
				return must(NewCompare(CmpLT, col(4, types.BigInt), col(5+4, types.BigInt)))
			},
			func(p, b []any) bool {
				return p[0] != nil && b[0] != nil && p[0] == b[0] && p[4].(int64) < b[4].(int64)
			}},
	}
	for _, s := range specs {
		for _, kind := range []JoinKind{Inner, Left} {
			var other Expr
			if s.other != nil {
				other = s.other()
			}
			j, err := NewHashJoin(valuesOp(t, randSchema, build), valuesOp(t, randSchema, probe), kind, s.bk, s.pk, other)
			require.NoError(t, err)
			got := collect(t, j)
			var want [][]any
			for _, p := range probe {
				found := false
				for _, b := range build {
					if s.match(p, b) {
						found = true
						want = append(want, append(append([]any{}, p...), b...))
					}
				}
				if !found && kind == Left {
					want = append(want, append(append([]any{}, p...), nil, nil, nil, nil, nil))
				}
			}
			sortRows(want)
			sortRows(got)
			require.Equal(t, len(want), len(got), "%s kind %d", s.name, kind)
			require.Equal(t, want, got, "%s kind %d", s.name, kind)
		}
	}
	// keys of different types are converted: INT build key vs DECIMAL probe key
	j, err := NewHashJoin(valuesOp(t, []types.Type{types.Int}, [][]any{{int64(1)}, {int64(2)}}),
		valuesOp(t, []types.Type{types.Decimal(5, 1)}, [][]any{{"2.0"}, {"2.5"}, {nil}}), Left,
		[]Expr{col(0, types.Int)}, []Expr{col(0, types.Decimal(5, 1))}, nil)
	require.NoError(t, err)
	require.Equal(t, [][]any{{"2.0", int64(2)}, {"2.5", nil}, {nil, nil}}, collect(t, j))
}

func TestUnionAllAndDistinct(t *testing.T) {
	a := valuesOp(t, []types.Type{types.Int}, [][]any{{int64(1)}, {int64(2)}})
	b := valuesOp(t, []types.Type{types.Int}, [][]any{{int64(2)}, {nil}})
	u, err := NewUnionAll(a, b)
	require.NoError(t, err)
	require.Equal(t, [][]any{{int64(1)}, {int64(2)}, {int64(2)}, {nil}}, collect(t, u))
	a = valuesOp(t, []types.Type{types.Int}, [][]any{{int64(1)}, {int64(2)}})
	b = valuesOp(t, []types.Type{types.Int}, [][]any{{int64(2)}, {nil}, {nil}})
	u, err = NewUnionAll(a, b)
	require.NoError(t, err)
	got := collect(t, NewDistinct(u))
	sortRows(got)
	require.Equal(t, [][]any{{int64(1)}, {int64(2)}, {nil}}, got)
	_, err = NewUnionAll(a, valuesOp(t, []types.Type{types.String}, nil))
	require.Error(t, err)
}

func TestNextRecoversPanicsAndCancels(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	op := valuesOp(t, []types.Type{types.Int}, [][]any{{int64(1)}})
	require.NoError(t, op.Open(ctx))
	cancel()
	var b Batch
	err := Next(ctx, op, &b)
	require.ErrorIs(t, err, ErrCanceled)
	err = Next(context.Background(), panicOp{}, &b)
	require.ErrorContains(t, err, "internal error")
}

type panicOp struct{}

func (panicOp) Open(context.Context) error         { return nil }
func (panicOp) Next(context.Context, *Batch) error { panic("boom") }
func (panicOp) Close() error                       { return nil }
func (panicOp) Schema() []types.Type               { return nil }

// AVG of a wide DECIMAL whose sum, scaled up for the division, no longer
// fits 128 bits: it panicked in IncreaseScaleBy. The average is exact, or
// NULL when DECIMAL(38, s+4) cannot hold it.
func TestAvgOfWideDecimal(t *testing.T) {
	dt := types.Decimal(34, 0)
	max := "9999999999999999999999999999999999"
	rows := [][]any{{int64(1), max}, {int64(1), max}, {int64(1), "-1"}, {int64(2), max}, {int64(2), "1"}, {int64(3), max}, {int64(3), "-1"}}
	h, err := NewHashAgg(valuesOp(t, []types.Type{types.Int, dt}, rows), []Expr{col(0, types.Int)},
		[]AggSpec{{Func: "avg", Args: []Expr{col(1, dt)}}, {Func: "avg", Distinct: true, Args: []Expr{col(1, dt)}}})
	require.NoError(t, err)
	got := collect(t, h)
	sort.Slice(got, func(i, j int) bool { return got[i][0].(int64) < got[j][0].(int64) })
	require.Equal(t, [][]any{
		{int64(1), "6666666666666666666666666666666665.6667", "4999999999999999999999999999999999.0000"},
		{int64(2), "5000000000000000000000000000000000.0000", "5000000000000000000000000000000000.0000"},
		{int64(3), "4999999999999999999999999999999999.0000", "4999999999999999999999999999999999.0000"},
	}, got)

	wide := types.Decimal(37, 6)
	h, err = NewHashAgg(valuesOp(t, []types.Type{wide}, [][]any{{"9999999999999999999999999999999.999999"}, {"1.000000"}}), nil,
		[]AggSpec{{Func: "avg", Args: []Expr{col(0, wide)}}})
	require.NoError(t, err)
	require.Equal(t, [][]any{{nil}}, collect(t, h))
}

// AVG of a LARGEINT is a DOUBLE, with and without DISTINCT (the DISTINCT
// form wrote decimals into the DOUBLE result and failed).
func TestAvgOfLargeInt(t *testing.T) {
	rows := [][]any{{"100"}, {"201"}, {"201"}, {nil}, {"1000000000000000000000000000000"}}
	h, err := NewHashAgg(valuesOp(t, []types.Type{types.LargeInt}, rows), nil,
		[]AggSpec{{Func: "avg", Args: []Expr{col(0, types.LargeInt)}}, {Func: "avg", Distinct: true, Args: []Expr{col(0, types.LargeInt)}}})
	require.NoError(t, err)
	got := collect(t, h)
	require.Len(t, got, 1)
	require.InEpsilon(t, (1e30+502)/4, got[0][0], 1e-12)
	require.InEpsilon(t, (1e30+301)/3, got[0][1], 1e-12)

	h, err = NewHashAgg(valuesOp(t, []types.Type{types.LargeInt}, [][]any{{"100"}, {"201"}, {"201"}}), nil,
		[]AggSpec{{Func: "avg", Distinct: true, Args: []Expr{col(0, types.LargeInt)}}})
	require.NoError(t, err)
	require.Equal(t, [][]any{{150.5}}, collect(t, h))
}

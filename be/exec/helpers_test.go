package exec

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/types"
)

// valueAt returns row i of arr as a comparable Go value: nil, bool, int64,
// float64, or string (strings, decimals, dates and datetimes as SQL text).
func valueAt(arr arrow.Array, t types.Type, i int) any {
	return viewValue(newView(arr, t), t, i)
}

func viewValue(v *view, t types.Type, i int) any {
	if v.isNull(i) {
		return nil
	}
	switch v.p {
	case pBool:
		return v.boolv(i)
	case pInt:
		switch t.Kind {
		case types.KindDate:
			return formatDate(int32(v.int(i)))
		case types.KindDateTime:
			return formatDateTime(v.int(i), t.Precision)
		}
		return v.int(i)
	case pFloat:
		return v.flt(i)
	case pDec:
		return v.decv(i).ToString(scaleOf(t))
	case pStr:
		return v.strv(i)
	}
	return nil
}

// collect drains op and returns its live rows.
func collect(t *testing.T, op Operator) [][]any {
	t.Helper()
	var out [][]any
	schema := op.Schema()
	err := Drain(context.Background(), op, func(b *Batch) error {
		vs := batchViews(b, schema)
		for _, r := range rowsOf(b) {
			row := make([]any, len(b.Cols))
			for c := range b.Cols {
				row[c] = viewValue(vs[c], schema[c], int(r))
			}
			out = append(out, row)
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// batchOf builds a batch from rows.
func batchOf(t *testing.T, schema []types.Type, rows [][]any) *Batch {
	t.Helper()
	v, err := NewValues(schema, rows)
	require.NoError(t, err)
	return &Batch{Cols: v.tbl.cols, Len: v.tbl.n}
}

// evalRows evaluates e over b and returns the values at the live rows.
func evalRows(t *testing.T, e Expr, b *Batch) []any {
	t.Helper()
	arr, err := e.Eval(NewEvalContext(), b)
	require.NoError(t, err)
	require.Equal(t, b.Len, arr.Len())
	var out []any
	v := newView(arr, e.Type())
	for _, r := range rowsOf(b) {
		out = append(out, viewValue(v, e.Type(), int(r)))
	}
	return out
}

// eval1 evaluates an expression over a one-row empty batch.
func eval1(t *testing.T, e Expr) any {
	t.Helper()
	return evalRows(t, e, &Batch{Len: 1})[0]
}

func lit(v any, t types.Type) *Literal { return NewLiteral(v, t) }

func col(i int, t types.Type) *ColumnRef { return NewColumnRef(i, t) }

func mustExpr(t *testing.T, e Expr, err error) Expr { // nolint
	t.Helper()
	require.NoError(t, err)
	return e
}

func call(t *testing.T, name string, args ...Expr) any {
	t.Helper()
	e, err := Call(name, args...)
	require.NoError(t, err)
	return eval1(t, e)
}

func must(e Expr, err error) Expr {
	if err != nil {
		panic(err)
	}
	return e
}

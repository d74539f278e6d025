package exec

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/types"
)

func TestArithmeticTypes(t *testing.T) {
	cases := []struct {
		op   ArithOp
		a, b types.Type
		want types.Type
	}{
		{OpAdd, types.Int, types.Int, types.BigInt},
		{OpAdd, types.TinyInt, types.SmallInt, types.BigInt},
		{OpAdd, types.BigInt, types.Int, types.LargeInt},
		{OpMul, types.Int, types.Int, types.BigInt},
		{OpDiv, types.Int, types.Int, types.Double},
		{OpIntDiv, types.Int, types.Int, types.BigInt},
		{OpMod, types.Int, types.SmallInt, types.Int},
		{OpAdd, types.Decimal(10, 2), types.Decimal(12, 4), types.Decimal(13, 4)},
		{OpMul, types.Decimal(10, 2), types.Decimal(12, 4), types.Decimal(22, 6)},
		{OpDiv, types.Decimal(10, 2), types.Decimal(12, 4), types.Decimal(18, 6)},
		{OpAdd, types.Decimal(10, 2), types.Int, types.Decimal(13, 2)},
		{OpAdd, types.Decimal(10, 2), types.Double, types.Double},
		{OpAdd, types.Float, types.Int, types.Double},
	}
	for _, c := range cases {
		got, err := ArithType(c.op, c.a, c.b)
		require.NoError(t, err)
		require.Equal(t, c.want, got, "%v %s %v", c.a, c.op, c.b)
	}
	_, err := ArithType(OpAdd, types.Date, types.Int)
	require.Error(t, err)
}

func TestArithmeticValues(t *testing.T) {
	schema := []types.Type{types.Int, types.BigInt, types.Double, types.Decimal(10, 2)}
	b := batchOf(t, schema, [][]any{
		{int64(7), int64(2), 1.5, "10.25"},
		{nil, int64(3), 2.0, "-1.10"},
		{int64(-7), int64(0), 0.0, nil},
		{int64(9), int64(-1), -3.0, "0.01"},
	})
	ar := func(op ArithOp, l, r Expr) Expr { return must(NewArith(op, l, r)) }
	c0, c1, c2, c3 := col(0, types.Int), col(1, types.BigInt), col(2, types.Double), col(3, types.Decimal(10, 2))
	require.Equal(t, []any{"9", nil, "-7", "8"}, evalRows(t, ar(OpAdd, c0, c1), b)) // LARGEINT
	require.Equal(t, []any{int64(14), nil, int64(-14), int64(18)}, evalRows(t, ar(OpMul, c0, lit(int64(2), types.TinyInt)), b))
	require.Equal(t, []any{3.5, nil, nil, -9.0}, evalRows(t, ar(OpDiv, c0, c1), b))
	require.Equal(t, []any{int64(1), nil, nil, int64(0)}, evalRows(t, ar(OpMod, c0, c1), b))
	require.Equal(t, []any{int64(3), nil, nil, int64(-9)}, evalRows(t, ar(OpIntDiv, c0, c1), b))
	require.Equal(t, []any{8.5, nil, -7.0, 6.0}, evalRows(t, ar(OpAdd, c0, c2), b))
	require.Equal(t, []any{"17.25", nil, nil, "9.01"}, evalRows(t, ar(OpAdd, c3, c0), b))
	require.Equal(t, []any{"71.75", nil, nil, "0.09"}, evalRows(t, ar(OpMul, c3, c0), b))
	require.Equal(t, []any{"1.464286", nil, nil, "0.001111"}, evalRows(t, ar(OpDiv, c3, c0), b))
	// selection vector: only rows 0 and 3 are computed and returned
	b.Sel = []int32{0, 3}
	require.Equal(t, []any{int64(9), int64(11)}, evalRows(t, ar(OpSub, c0, lit(int64(-2), types.Int)), b))
	neg := must(NewNeg(c0))
	require.Equal(t, []any{int64(-7), int64(-9)}, evalRows(t, neg, b))
}

func TestCompareAndLogic(t *testing.T) {
	schema := []types.Type{types.Int, types.String, types.Boolean, types.Decimal(5, 1)}
	b := batchOf(t, schema, [][]any{
		{int64(1), "a", true, "1.0"},
		{int64(2), "b", false, "2.5"},
		{nil, nil, nil, nil},
		{int64(4), "d", true, "4.0"},
	})
	cmp := func(op CmpOp, l, r Expr) Expr { return must(NewCompare(op, l, r)) }
	c0 := col(0, types.Int)
	require.Equal(t, []any{false, true, nil, true}, evalRows(t, cmp(CmpGE, c0, lit(int64(2), types.BigInt)), b))
	require.Equal(t, []any{true, false, nil, false}, evalRows(t, cmp(CmpEQ, col(1, types.String), lit("a", types.Varchar(10))), b))
	require.Equal(t, []any{false, false, true, false}, evalRows(t, cmp(CmpNullEQ, c0, lit(nil, types.Int)), b))
	require.Equal(t, []any{true, false, nil, true}, evalRows(t, cmp(CmpEQ, c0, col(3, types.Decimal(5, 1))), b))
	require.Equal(t, []any{false, true, nil, true}, evalRows(t, cmp(CmpLT, lit(int64(1), types.Int), col(3, types.Decimal(5, 1))), b), "int vs decimal")
	// int compared with a string literal goes through DOUBLE
	require.Equal(t, []any{false, true, nil, false}, evalRows(t, cmp(CmpEQ, c0, lit("2", types.String)), b))
	// three-valued logic
	bc := col(2, types.Boolean)
	nul := lit(nil, types.Boolean)
	require.Equal(t, []any{nil, false, nil, nil}, evalRows(t, NewAnd(bc, nul), b))
	require.Equal(t, []any{true, nil, nil, true}, evalRows(t, NewOr(bc, nul), b))
	require.Equal(t, []any{false, true, nil, false}, evalRows(t, NewNot(bc), b))
	require.Equal(t, []any{false, true, nil, false}, evalRows(t, NewXor(bc, lit(true, types.Boolean)), b))
	require.Equal(t, []any{false, false, true, false}, evalRows(t, NewIsNull(c0, false), b))
	require.Equal(t, []any{true, true, false, true}, evalRows(t, NewIsNull(c0, true), b))
	btw := must(NewBetween(c0, lit(int64(2), types.Int), lit(int64(4), types.Int), false))
	require.Equal(t, []any{false, true, nil, true}, evalRows(t, btw, b))
	nbtw := must(NewBetween(c0, lit(int64(2), types.Int), lit(int64(4), types.Int), true))
	require.Equal(t, []any{true, false, nil, false}, evalRows(t, nbtw, b))
	// selection narrows through AND/OR
	sel, err := selectTrue(NewEvalContext(), NewOr(cmp(CmpEQ, c0, lit(int64(1), types.Int)), cmp(CmpGT, c0, lit(int64(3), types.Int))), b, rowsOf(b), nil)
	require.NoError(t, err)
	require.Equal(t, []int32{0, 3}, sel)
	// Selection kernels grow out themselves (a nil out used to panic).
	sel, err = selectTrue(NewEvalContext(), cmp(CmpGE, c0, lit(int64(3), types.Int)), b, rowsOf(b), nil)
	require.NoError(t, err)
	require.Equal(t, []int32{3}, sel)
	// Constants on both sides decide for every row at once (this used to
	// index a one-value array by row number).
	for _, k := range []struct {
		e    Expr
		want []int32
	}{
		{cmp(CmpEQ, lit(int64(1), types.Int), lit(int64(0), types.Int)), nil},
		{cmp(CmpLT, lit(int64(1), types.Int), lit(int64(2), types.BigInt)), []int32{0, 1, 2, 3}},
		{cmp(CmpGE, lit(1.5, types.Double), lit(2.5, types.Double)), nil},
		{cmp(CmpEQ, lit("a", types.String), lit("a", types.String)), []int32{0, 1, 2, 3}},
		{NewOr(cmp(CmpEQ, lit(int64(1), types.Int), lit(int64(0), types.Int)), cmp(CmpGT, c0, lit(int64(1), types.Int))), []int32{1, 3}},
	} {
		sel, err = selectTrue(NewEvalContext(), k.e, b, rowsOf(b), nil)
		require.NoError(t, err)
		require.Equal(t, k.want, sel, "%v", k.e)
	}
	plus := must(NewArith(OpAdd, c0, lit(int64(0), types.Int)))
	sel, err = selectTrue(NewEvalContext(), cmp(CmpLT, plus, lit(int64(3), types.Int)), b, rowsOf(b), nil)
	require.NoError(t, err)
	require.Equal(t, []int32{0, 1}, sel)
}

func TestIn(t *testing.T) {
	b := batchOf(t, []types.Type{types.Int, types.String}, [][]any{
		{int64(1), "x"}, {int64(5), "y"}, {nil, nil}, {int64(20), "zz"},
	})
	var long []Expr
	for i := 0; i < 20; i++ {
		long = append(long, lit(int64(i), types.Int))
	}
	for _, list := range [][]Expr{
		{lit(int64(1), types.Int), lit(int64(20), types.BigInt)},
		append(append([]Expr{}, long[1:2]...), append(long[2:], lit(int64(20), types.Int))...),
	} {
		in := must(NewIn(col(0, types.Int), list, false))
		got := evalRows(t, in, b)
		require.Equal(t, []any{true, got[1], nil, true}, got)
	}
	in := must(NewIn(col(0, types.Int), long, false))
	require.Equal(t, []any{true, true, nil, false}, evalRows(t, in, b))
	// NULL in the list: no match gives NULL; NOT IN likewise
	withNull := []Expr{lit(int64(1), types.Int), lit(nil, types.Int)}
	require.Equal(t, []any{true, nil, nil, nil}, evalRows(t, must(NewIn(col(0, types.Int), withNull, false)), b))
	require.Equal(t, []any{false, nil, nil, nil}, evalRows(t, must(NewIn(col(0, types.Int), withNull, true)), b))
	strs := []Expr{lit("x", types.String), lit("zz", types.String)}
	require.Equal(t, []any{false, true, nil, false}, evalRows(t, must(NewIn(col(1, types.String), strs, true)), b))
	// A BIGINT item wider than the argument, then a DECIMAL: the list
	// compares as a DECIMAL that holds the BIGINT (it became NULL in one
	// sized for the INT, and NOT IN was NULL for every row).
	mixed := []Expr{lit(int64(-9223372036854775807), types.BigInt), lit("-6.12", types.Decimal(3, 2))}
	require.Equal(t, []any{true, true, nil, true}, evalRows(t, must(NewIn(col(0, types.Int), mixed, true)), b))
	mixed = []Expr{lit(int64(9223372036854775807), types.BigInt), lit("5.00", types.Decimal(3, 2))}
	require.Equal(t, []any{false, true, nil, false}, evalRows(t, must(NewIn(col(0, types.Int), mixed, false)), b))
}

func TestLike(t *testing.T) {
	b := batchOf(t, []types.Type{types.String}, [][]any{{"apple"}, {"banana"}, {nil}, {"a_b%c"}, {"pineapple"}})
	cases := []struct {
		pat  string
		want []any
	}{
		{"apple", []any{true, false, nil, false, false}},
		{"a%", []any{true, false, nil, true, false}},
		{"%apple", []any{true, false, nil, false, true}},
		{"%an%", []any{false, true, nil, false, false}},
		{"%", []any{true, true, nil, true, true}},
		{"_pple", []any{true, false, nil, false, false}},
		{"a\\_b\\%c", []any{false, false, nil, true, false}},
		{"p%a%e", []any{false, false, nil, false, true}},
	}
	for _, c := range cases {
		e := must(NewLike(col(0, types.String), lit(c.pat, types.String), '\\', false))
		require.Equal(t, c.want, evalRows(t, e, b), c.pat)
	}
	re := must(NewRegexp(col(0, types.String), lit("^b.*a$", types.String), false))
	require.Equal(t, []any{false, true, nil, false, false}, evalRows(t, re, b))
	nl := must(NewLike(col(0, types.String), lit("%apple", types.String), '\\', true))
	require.Equal(t, []any{false, true, nil, true, false}, evalRows(t, nl, b))
}

func TestConditionals(t *testing.T) {
	b := batchOf(t, []types.Type{types.Int, types.String}, [][]any{{int64(1), "a"}, {int64(2), nil}, {nil, "c"}, {int64(3), "d"}})
	c0 := col(0, types.Int)
	cs := must(NewCase(c0, []Expr{lit(int64(1), types.Int), lit(int64(2), types.Int)},
		[]Expr{lit("one", types.String), lit("two", types.String)}, lit("many", types.String)))
	require.Equal(t, []any{"one", "two", "many", "many"}, evalRows(t, cs, b))
	gt := must(NewCompare(CmpGT, c0, lit(int64(1), types.Int)))
	searched := must(NewCase(nil, []Expr{gt}, []Expr{c0}, lit(1.5, types.Double)))
	require.Equal(t, types.Double, searched.Type())
	require.Equal(t, []any{1.5, 2.0, 1.5, 3.0}, evalRows(t, searched, b))
	noElse := must(NewCase(nil, []Expr{gt}, []Expr{col(1, types.String)}, nil))
	require.Equal(t, []any{nil, nil, nil, "d"}, evalRows(t, noElse, b))
	iff := must(NewIf(gt, lit("big", types.String), col(1, types.String)))
	require.Equal(t, []any{"a", "big", "c", "big"}, evalRows(t, iff, b))
	co := must(NewCoalesce(col(1, types.String), lit("z", types.String)))
	require.Equal(t, []any{"a", "z", "c", "d"}, evalRows(t, co, b))
	co2 := must(NewCoalesce(c0, lit(nil, types.Int), lit(int64(-1), types.BigInt)))
	require.Equal(t, []any{int64(1), int64(2), int64(-1), int64(3)}, evalRows(t, co2, b))
	ni := must(NewNullIf(c0, lit(int64(2), types.Int)))
	require.Equal(t, []any{int64(1), nil, nil, int64(3)}, evalRows(t, ni, b))
	// via the function registry
	e, err := Call("ifnull", col(1, types.String), lit("q", types.String))
	require.NoError(t, err)
	require.Equal(t, []any{"a", "q", "c", "d"}, evalRows(t, e, b))
	e, err = Call("if", gt, lit(int64(1), types.Int), lit(int64(0), types.Int))
	require.NoError(t, err)
	require.Equal(t, []any{int64(0), int64(1), int64(0), int64(1)}, evalRows(t, e, b))
}

func TestCast(t *testing.T) {
	cases := []struct {
		val  any
		from types.Type
		to   types.Type
		want any
	}{
		{"123", types.String, types.Int, int64(123)},
		{" 42 ", types.String, types.BigInt, int64(42)},
		{"12abc", types.String, types.Int, nil},
		{"1.7", types.String, types.Int, int64(1)},
		{"300", types.String, types.TinyInt, nil},
		{"3.14159", types.String, types.Decimal(5, 2), "3.14"},
		{"3.145", types.String, types.Decimal(5, 2), "3.15"},
		{"-3.145", types.String, types.Decimal(5, 2), "-3.15"},
		{"12345.6", types.String, types.Decimal(5, 2), nil},
		{"1e3", types.String, types.Double, 1000.0},
		{"2024-02-29", types.String, types.Date, "2024-02-29"},
		{"2023-02-29", types.String, types.Date, nil},
		{"20240105", types.String, types.Date, "2024-01-05"},
		{"2024-01-05 10:20:30", types.String, types.DateTime(0), "2024-01-05 10:20:30"},
		{"2024-01-05 10:20:30.1234567", types.String, types.DateTime(6), "2024-01-05 10:20:30.123457"},
		{"2024-01-05 10:20:30.5", types.String, types.DateTime(0), "2024-01-05 10:20:31"},
		{"2024-01-05 10:20:30", types.String, types.Date, "2024-01-05"},
		{"garbage", types.String, types.Date, nil},
		{"true", types.String, types.Boolean, true},
		{int64(300), types.Int, types.TinyInt, nil},
		{int64(-5), types.Int, types.Decimal(4, 1), "-5.0"},
		{int64(12345), types.Int, types.Decimal(4, 1), nil},
		{2.5, types.Double, types.Int, int64(2)},
		{-2.5, types.Double, types.Int, int64(-2)},
		{2.555, types.Double, types.Decimal(5, 2), "2.56"},
		{1e30, types.Double, types.BigInt, nil},
		{"12.99", types.Decimal(5, 2), types.Int, int64(12)},
		{"-12.99", types.Decimal(5, 2), types.Int, int64(-12)},
		{"12.99", types.Decimal(5, 2), types.Decimal(5, 1), "13.0"},
		{"12.99", types.Decimal(5, 2), types.Double, 12.99},
		{"12.50", types.Decimal(5, 2), types.String, "12.50"},
		{int64(20240105), types.Int, types.Date, "2024-01-05"},
		{"2024-01-05", types.Date, types.DateTime(0), "2024-01-05 00:00:00"},
		{"2024-01-05 23:59:59", types.DateTime(0), types.Date, "2024-01-05"},
		{"2024-01-05", types.Date, types.Int, int64(20240105)},
		{"2024-01-05", types.Date, types.String, "2024-01-05"},
		{true, types.Boolean, types.Int, int64(1)},
		{int64(0), types.Int, types.Boolean, false},
		{1.5, types.Double, types.String, "1.5"},
		{int64(-9), types.BigInt, types.String, "-9"},
		{nil, types.Int, types.String, nil},
	}
	for _, c := range cases {
		e, err := NewCast(lit(c.val, c.from), c.to)
		require.NoError(t, err)
		require.Equal(t, c.want, eval1(t, e), "CAST(%v AS %v)", c.val, c.to)
		// folded form agrees
		require.Equal(t, c.want, eval1(t, Coerce(lit(c.val, c.from), c.to)), "folded CAST(%v AS %v)", c.val, c.to)
	}
}

func TestCommonType(t *testing.T) {
	cases := []struct{ a, b, want types.Type }{
		{types.Int, types.BigInt, types.BigInt},
		{types.TinyInt, types.Int, types.Int},
		{types.Int, types.Double, types.Double},
		{types.Int, types.Decimal(10, 2), types.Decimal(12, 2)},
		{types.Decimal(10, 2), types.Decimal(5, 4), types.Decimal(12, 4)},
		{types.Date, types.DateTime(3), types.DateTime(3)},
		{types.Date, types.String, types.Date},
		{types.Varchar(5), types.Varchar(10), types.Varchar(10)},
		{types.Varchar(5), types.String, types.String},
		{types.String, types.Int, types.Double},
	}
	for _, c := range cases {
		got, err := CommonType(c.a, c.b)
		require.NoError(t, err)
		require.Equal(t, c.want, got, "%v, %v", c.a, c.b)
	}
	_, err := CommonType(types.Boolean, types.Date)
	require.Error(t, err)
}

func TestCastToVarcharTruncatesAndIsAggregate(t *testing.T) {
	e, err := NewCast(lit("héllo", types.String), types.Varchar(2))
	require.NoError(t, err)
	require.Equal(t, "hé", eval1(t, e))
	require.True(t, IsAggregate("COUNT"))
	require.False(t, IsAggregate("concat"))
	require.Equal(t, "x", eval1(t, lit("x", types.Varchar(0))))
}

func TestLargeIntLiteralRange(t *testing.T) {
	for _, s := range []string{"170141183460469231731687303715884105727", "-170141183460469231731687303715884105728", "42"} {
		l, err := NewLiteralChecked(s, types.LargeInt)
		require.NoError(t, err, s)
		require.Equal(t, s, l.String())
	}
	for _, s := range []string{"170141183460469231731687303715884105728", "-170141183460469231731687303715884105729", "x1"} {
		_, err := NewLiteralChecked(s, types.LargeInt)
		require.Error(t, err, s)
	}
}

// A DATE compared with a string constant that has a time of day compares
// as DATETIME (MySQL, Doris); the constant was cut to a DATE.
func TestCompareDateWithDatetimeText(t *testing.T) {
	b := batchOf(t, []types.Type{types.Date}, [][]any{{"2000-02-29"}, {"2000-03-01"}, {nil}})
	s := func(v string) Expr { return lit(v, types.String) }
	d := col(0, types.Date)
	ct, err := CompareType(d, s("2000-02-29 23:59:59"))
	require.NoError(t, err)
	require.Equal(t, types.DateTime(0), ct)
	ct, err = CompareType(d, s("2000-02-29 00:00:00"))
	require.NoError(t, err)
	require.Equal(t, types.Date, ct)
	require.Equal(t, []any{true, false, nil}, evalRows(t, must(NewCompare(CmpLT, d, s("2000-02-29 23:59:59"))), b))
	require.Equal(t, []any{true, false, nil}, evalRows(t, must(NewCompare(CmpGT, s("2000-02-29 23:59:59"), d)), b))
	require.Equal(t, []any{false, false, nil}, evalRows(t, must(NewCompare(CmpEQ, d, s("2000-02-29 12:00:00"))), b))
	require.Equal(t, []any{false, false, nil}, evalRows(t, must(NewIn(d, []Expr{s("2000-02-29 12:00:00")}, false)), b))
}

// A DECIMAL becomes the DOUBLE nearest to it, as in MySQL: 0.3 is 0.3 (not
// 0.30000000000000004) and 9999999999.999999 is not 1e10.
func TestDecimalToDouble(t *testing.T) {
	for _, c := range []struct {
		v    string
		p, s int
		want float64
	}{
		{"0.3", 2, 1, 0.3},
		{"-0.3", 2, 1, -0.3},
		{"1.1", 5, 1, 1.1},
		{"9999999999.999999", 16, 6, 9999999999.999998},
		{"-9999999999.999999", 16, 6, -9999999999.999998},
		{"99999999999999999999.99", 22, 2, 1e20},
		{"0.000001", 7, 6, 0.000001},
	} {
		e, err := NewCast(lit(c.v, types.Decimal(c.p, c.s)), types.Double)
		require.NoError(t, err)
		require.Equal(t, c.want, eval1(t, e), c.v)
	}
	b := batchOf(t, []types.Type{types.Decimal(16, 6), types.Double}, [][]any{{"9999999999.999999", 1e10}, {"0.300000", 0.3}})
	eq := must(NewCompare(CmpEQ, col(0, types.Decimal(16, 6)), col(1, types.Double)))
	require.Equal(t, []any{false, true}, evalRows(t, eq, b))
}

// Decimal arithmetic whose operands are too wide for the 128-bit fast path:
// a division whose dividend overflows once scaled up (it failed with an
// internal error, as AVG = SUM / COUNT does over a DECIMAL(34, 6)) is done
// exactly; a product or a sum past 128 bits is an overflow error, not a
// wrapped value.
func TestDecimalArithmeticPast128Bits(t *testing.T) {
	d34 := types.Decimal(34, 6)
	wide := lit("-9999999999999999999999999999.999999", d34)
	q, err := NewArith(OpDiv, wide, lit(int64(3), types.BigInt))
	require.NoError(t, err)
	require.Equal(t, "-3333333333333333333333333333.3333330000", eval1(t, q))
	q, err = NewArith(OpDiv, lit("9999999999999999999999999999.999999", d34), lit("-2.0", types.Decimal(2, 1)))
	require.NoError(t, err)
	require.Equal(t, "-4999999999999999999999999999.9999995000", eval1(t, q))
	// A quotient past DECIMAL(38, 10) is an overflow.
	q, err = NewArith(OpDiv, lit("9999999999999999999999999999.999999", d34), lit("-0.5", types.Decimal(2, 1)))
	require.NoError(t, err)
	_, err = q.Eval(NewEvalContext(), &Batch{Len: 1})
	require.ErrorIs(t, err, ErrArithmeticOverflow)

	d38 := types.Decimal(38, 0)
	big38 := lit("99999999999999999999999999999999999999", d38)
	for _, op := range []ArithOp{OpMul, OpAdd} {
		e, err := NewArith(op, big38, big38)
		require.NoError(t, err)
		_, err = e.Eval(NewEvalContext(), &Batch{Len: 1})
		require.ErrorIs(t, err, ErrArithmeticOverflow, "op %v", op)
	}
	e, err := NewArith(OpSub, big38, big38)
	require.NoError(t, err)
	require.Equal(t, "0", eval1(t, e))
}

// Raising a wide DECIMAL's scale past 128 bits: a cast gives NULL (out of
// range), an addition the overflow error; both failed with an internal
// error.
func TestDecimalRescalePast128Bits(t *testing.T) {
	wide := lit("-99999999999999999999999999999999.999999", types.Decimal(38, 6))
	c, err := NewCast(wide, types.Decimal(38, 10))
	require.NoError(t, err)
	require.Nil(t, eval1(t, c))
	c, err = NewCast(lit("1.5", types.Decimal(38, 6)), types.Decimal(38, 10))
	require.NoError(t, err)
	require.Equal(t, "1.5000000000", eval1(t, c))

	sum, err := NewArith(OpAdd, wide, lit("0.0000000001", types.Decimal(11, 10)))
	require.NoError(t, err)
	_, err = sum.Eval(NewEvalContext(), &Batch{Len: 1})
	require.ErrorIs(t, err, ErrArithmeticOverflow)
}

package exec

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/types"
)

func TestFunctions(t *testing.T) {
	s := func(v string) Expr { return lit(v, types.String) }
	i := func(v int64) Expr { return lit(v, types.BigInt) }
	f := func(v float64) Expr { return lit(v, types.Double) }
	d := func(v string) Expr { return lit(v, types.Date) }
	dt := func(v string) Expr { return lit(v, types.DateTime(0)) }
	dec := func(v string, p, sc int) Expr { return lit(v, types.Decimal(p, sc)) }
	null := lit(nil, types.String)
	cases := []struct {
		name string
		args []Expr
		want any
	}{
		{"concat", []Expr{s("a"), s("b"), s("c")}, "abc"},
		{"concat", []Expr{s("a"), null}, nil},
		{"concat", []Expr{s("x"), i(12)}, "x12"},
		{"concat_ws", []Expr{s("-"), s("a"), null, s("c")}, "a-c"},
		{"concat_ws", []Expr{null, s("a")}, nil},
		{"length", []Expr{s("héllo")}, int64(6)},
		{"char_length", []Expr{s("héllo")}, int64(5)},
		{"lower", []Expr{s("AbC")}, "abc"},
		{"ucase", []Expr{s("AbC")}, "ABC"},
		{"substring", []Expr{s("hello"), i(2)}, "ello"},
		{"substr", []Expr{s("hello"), i(2), i(3)}, "ell"},
		{"substr", []Expr{s("hello"), i(-3), i(2)}, "ll"},
		{"substr", []Expr{s("hello"), i(0)}, ""},
		{"substr", []Expr{s("héllo"), i(2), i(2)}, "él"},
		{"left", []Expr{s("hello"), i(2)}, "he"},
		{"right", []Expr{s("hello"), i(2)}, "lo"},
		{"trim", []Expr{s("  x y  ")}, "x y"},
		{"ltrim", []Expr{s("  x ")}, "x "},
		{"rtrim", []Expr{s("  x ")}, "  x"},
		{"replace", []Expr{s("aXbXc"), s("X"), s("--")}, "a--b--c"},
		{"locate", []Expr{s("b"), s("abcb")}, int64(2)},
		{"locate", []Expr{s("b"), s("abcb"), i(3)}, int64(4)},
		{"locate", []Expr{s("z"), s("abcb")}, int64(0)},
		{"instr", []Expr{s("abcb"), s("c")}, int64(3)},
		{"lpad", []Expr{s("hi"), i(5), s("xy")}, "xyxhi"},
		{"rpad", []Expr{s("hi"), i(5), s("xy")}, "hixyx"},
		{"lpad", []Expr{s("hello"), i(2), s("x")}, "he"},
		{"reverse", []Expr{s("abc")}, "cba"},
		{"repeat", []Expr{s("ab"), i(3)}, "ababab"},
		{"split_part", []Expr{s("a,b,c"), s(","), i(2)}, "b"},
		{"split_part", []Expr{s("a,b,c"), s(","), i(5)}, nil},
		{"starts_with", []Expr{s("hello"), s("he")}, true},
		{"ends_with", []Expr{s("hello"), s("he")}, false},
		{"abs", []Expr{i(-3)}, int64(3)},
		{"abs", []Expr{dec("-1.50", 5, 2)}, "1.50"},
		{"ceil", []Expr{f(1.2)}, 2.0},
		{"floor", []Expr{f(-1.2)}, -2.0},
		{"ceil", []Expr{dec("1.20", 5, 2)}, "2"},
		{"floor", []Expr{dec("-1.20", 5, 2)}, "-2"},
		{"round", []Expr{f(2.5)}, 3.0},
		{"round", []Expr{f(-2.5)}, -3.0},
		{"round", []Expr{f(1.2345), i(2)}, 1.23},
		{"round", []Expr{dec("1.255", 6, 3), i(2)}, "1.260"},
		{"round", []Expr{i(1250), i(-2)}, int64(1300)},
		{"truncate", []Expr{f(1.2789), i(2)}, 1.27},
		{"mod", []Expr{i(10), i(3)}, int64(1)},
		{"mod", []Expr{i(10), i(0)}, nil},
		{"pow", []Expr{i(2), i(10)}, 1024.0},
		{"sqrt", []Expr{f(16)}, 4.0},
		{"sqrt", []Expr{f(-1)}, nil},
		{"ln", []Expr{f(1)}, 0.0},
		{"ln", []Expr{f(0)}, nil},
		{"log10", []Expr{f(1000)}, 3.0},
		{"log2", []Expr{f(8)}, 3.0},
		{"exp", []Expr{f(0)}, 1.0},
		{"sign", []Expr{f(-4)}, int64(-1)},
		{"greatest", []Expr{i(1), i(7), i(3)}, int64(7)},
		{"least", []Expr{s("b"), s("a")}, "a"},
		{"greatest", []Expr{i(1), f(2.5)}, 2.5},
		{"year", []Expr{d("2024-03-15")}, int64(2024)},
		{"month", []Expr{d("2024-03-15")}, int64(3)},
		{"day", []Expr{dt("2024-03-15 10:11:12")}, int64(15)},
		{"dayofmonth", []Expr{d("2024-03-15")}, int64(15)},
		{"hour", []Expr{dt("2024-03-15 10:11:12")}, int64(10)},
		{"minute", []Expr{dt("2024-03-15 10:11:12")}, int64(11)},
		{"second", []Expr{dt("2024-03-15 10:11:12")}, int64(12)},
		{"quarter", []Expr{d("2024-08-01")}, int64(3)},
		{"dayofweek", []Expr{d("2024-03-17")}, int64(1)}, // Sunday
		{"dayofweek", []Expr{d("2024-03-16")}, int64(7)}, // Saturday
		{"dayofyear", []Expr{d("2024-12-31")}, int64(366)},
		{"weekofyear", []Expr{d("2024-01-01")}, int64(1)},
		{"weekofyear", []Expr{d("2021-01-01")}, int64(53)},
		{"week", []Expr{d("2024-01-01")}, int64(0)},
		{"week", []Expr{d("2024-01-07")}, int64(1)},
		{"week", []Expr{d("2024-01-01"), i(1)}, int64(1)},
		{"yearweek", []Expr{d("2021-01-01")}, int64(202052)},
		{"year", []Expr{s("2020-05-06 07:08:09")}, int64(2020)},
		{"date", []Expr{dt("2024-03-15 10:11:12")}, "2024-03-15"},
		{"to_date", []Expr{s("2024-03-15 10:11:12")}, "2024-03-15"},
		{"datediff", []Expr{d("2024-03-01"), d("2024-02-01")}, int64(29)},
		{"datediff", []Expr{dt("2024-03-01 23:00:00"), d("2024-03-02")}, int64(-1)},
		{"date_add", []Expr{d("2024-01-31"), i(1), s("month")}, "2024-02-29"},
		{"date_add", []Expr{d("2024-01-31"), i(1)}, "2024-02-01"},
		{"date_sub", []Expr{d("2024-03-31"), i(1), s("MONTH")}, "2024-02-29"},
		{"adddate", []Expr{dt("2024-01-31 23:00:00"), i(2), s("hour")}, "2024-02-01 01:00:00"},
		{"date_add", []Expr{d("2024-01-31"), i(2), s("hour")}, "2024-01-31 02:00:00"},
		{"subdate", []Expr{d("2024-02-29"), i(1), s("year")}, "2023-02-28"},
		{"date_trunc", []Expr{dt("2024-05-17 10:11:12"), s("month")}, "2024-05-01 00:00:00"},
		{"date_trunc", []Expr{dt("2024-05-17 10:11:12"), s("hour")}, "2024-05-17 10:00:00"},
		{"date_trunc", []Expr{dt("2024-05-17 10:11:12"), s("week")}, "2024-05-13 00:00:00"},
		{"date_format", []Expr{dt("2024-05-07 13:04:05"), s("%Y/%m/%d %H:%i:%s %p %W %b %j %y %e %c")}, "2024/05/07 13:04:05 PM Tuesday May 128 24 7 5"},
		{"date_format", []Expr{d("2024-05-07"), s("%D %M %a %T")}, "7th May Tue 00:00:00"},
		{"str_to_date", []Expr{s("2024-05-07 13:04:05"), s("%Y-%m-%d %H:%i:%s")}, "2024-05-07 13:04:05.000000"},
		{"str_to_date", []Expr{s("07/05/2024"), s("%d/%m/%Y")}, "2024-05-07 00:00:00.000000"},
		{"str_to_date", []Expr{s("bad"), s("%d/%m/%Y")}, nil},
		{"from_unixtime", []Expr{i(0), s("%Y")}, "1970"},
		{"last_day", []Expr{d("2023-02-10")}, "2023-02-28"},
		{"makedate", []Expr{i(2024), i(60)}, "2024-02-29"},
		{"to_days", []Expr{d("2007-10-07")}, int64(733321)},
		{"from_days", []Expr{i(733321)}, "2007-10-07"},
		{"coalesce", []Expr{null, s("x")}, "x"},
		{"nullif", []Expr{i(1), i(1)}, nil},
		{"isnull", []Expr{null}, true},
	}
	for _, c := range cases {
		got := call(t, c.name, c.args...)
		require.Equal(t, c.want, got, "%s%v", c.name, c.args)
	}
}

// TestAbsWidensIntegers: abs of a type's minimum does not wrap, since the
// result is the next wider integer type (abs(INT) is a BIGINT, as in Doris).
func TestAbsWidensIntegers(t *testing.T) {
	for _, c := range []struct {
		in   types.Type
		v    int64
		want types.Type
	}{
		{types.TinyInt, -128, types.SmallInt},
		{types.SmallInt, -32768, types.Int},
		{types.Int, -2147483648, types.BigInt},
		{types.BigInt, -9223372036854775807, types.BigInt},
	} {
		e, err := Call("abs", lit(c.v, c.in))
		require.NoError(t, err)
		require.Equal(t, c.want, e.Type(), "abs(%s)", c.in)
		require.Equal(t, -c.v, eval1(t, e), "abs(%d)", c.v)
	}
	// Over a column, where no literal folding hides the output type.
	b := batchOf(t, []types.Type{types.Int}, [][]any{{int64(-2147483648)}, {int64(5)}, {nil}})
	e, err := Call("abs", col(0, types.Int))
	require.NoError(t, err)
	require.Equal(t, []any{int64(2147483648), int64(5), nil}, evalRows(t, e, b))
}

func TestFunctionErrorsAndContext(t *testing.T) {
	_, _, err := LookupFunction("no_such_fn", nil)
	require.EqualError(t, err, "Unknown function 'no_such_fn'")
	_, _, err = LookupFunction("substr", []types.Type{types.String})
	require.ErrorContains(t, err, "expects 2 to 3 arguments")
	_, _, err = LookupFunction("year", []types.Type{types.Boolean})
	require.Error(t, err)

	ctx := NewEvalContext()
	ctx.Now = time.Date(2024, 6, 1, 12, 30, 0, 0, time.UTC)
	ctx.TimeZone = time.UTC
	b := &Batch{Len: 1}
	e, err := Call("now")
	require.NoError(t, err)
	arr, err := e.Eval(ctx, b)
	require.NoError(t, err)
	require.Equal(t, "2024-06-01 12:30:00", valueAt(arr, e.Type(), 0))
	e, err = Call("curdate")
	require.NoError(t, err)
	arr, err = e.Eval(ctx, b)
	require.NoError(t, err)
	require.Equal(t, "2024-06-01", valueAt(arr, e.Type(), 0))
	e, err = Call("unix_timestamp", lit("1970-01-02 00:00:00", types.DateTime(0)))
	require.NoError(t, err)
	arr, err = e.Eval(ctx, b)
	require.NoError(t, err)
	require.Equal(t, int64(86400), valueAt(arr, e.Type(), 0))
}

func TestFunctionsOverColumnsWithSelection(t *testing.T) {
	b := batchOf(t, []types.Type{types.String, types.Int}, [][]any{
		{"abc", int64(1)}, {nil, int64(2)}, {"hello", nil}, {"xyz", int64(3)},
	})
	b.Sel = []int32{1, 2, 3}
	e, err := Call("substr", col(0, types.String), col(1, types.Int))
	require.NoError(t, err)
	require.Equal(t, []any{nil, nil, "z"}, evalRows(t, e, b))
	e, err = Call("upper", col(0, types.String))
	require.NoError(t, err)
	require.Equal(t, []any{nil, "HELLO", "XYZ"}, evalRows(t, e, b))
}

func TestDateArithmeticRoundTrip(t *testing.T) {
	for days := int64(-800000); days < 3000000; days += 997 {
		y, m, d := daysToCivil(days)
		require.Equal(t, days, civilToDays(y, m, d))
		tm := time.Unix(days*86400, 0).UTC()
		require.Equal(t, tm.Year(), y)
		require.Equal(t, int(tm.Month()), m)
		require.Equal(t, tm.Day(), d)
	}
}

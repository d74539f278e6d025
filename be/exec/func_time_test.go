package exec

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/types"
)

// The MySQL time and BI functions: TIME_FORMAT, TIMEDIFF, CONVERT_TZ,
// REGEXP_SUBSTR and TRIM with a removal string, including the malformed
// inputs MySQL answers with NULL.
func TestBITimeFunctions(t *testing.T) {
	s := func(v string) Expr { return lit(v, types.String) }
	i := func(v int64) Expr { return lit(v, types.BigInt) }
	d := func(v string) Expr { return lit(v, types.Date) }
	dt := func(v string) Expr { return lit(v, types.DateTime(0)) }
	dt6 := func(v string) Expr { return lit(v, types.DateTime(6)) }
	null := lit(nil, types.String)
	cases := []struct {
		name string
		args []Expr
		want any
	}{
		// TIMEDIFF: datetimes or times, never one of each.
		{"timediff", []Expr{dt("2024-01-02 11:30:00"), dt("2024-01-01 10:00:00")}, "25:30:00"},
		{"timediff", []Expr{dt("2024-01-01 10:00:00"), dt("2024-01-02 11:30:00")}, "-25:30:00"},
		{"timediff", []Expr{s("2008-12-31 23:59:59"), s("2008-12-30 01:01:01")}, "46:58:58"},
		{"timediff", []Expr{s("10:00:00"), s("09:15:30.5")}, "00:44:29.500000"},
		{"timediff", []Expr{dt6("2000-01-01 00:00:00"), dt6("2000-01-01 00:00:00.000001")}, "-00:00:00.000001"},
		{"timediff", []Expr{d("2024-03-01"), dt("2024-02-28 12:00:00")}, "36:00:00"},
		{"timediff", []Expr{dt("2024-01-01 00:00:00"), dt("2023-01-01 00:00:00")}, "838:59:59"},
		{"timediff", []Expr{s("10:00:00"), s("2024-01-01 09:00:00")}, nil},
		{"timediff", []Expr{s("nonsense"), s("10:00:00")}, nil},
		{"timediff", []Expr{null, s("10:00:00")}, nil},
		// TIME_FORMAT over times, TIMEDIFF results and datetimes.
		{"time_format", []Expr{s("100:05:03"), s("%H %k %h %I %l %i %s %S %p")}, "100 100 04 04 4 05 03 03 AM"},
		{"time_format", []Expr{s("13:07:09.25"), s("%r|%T|%f|%%|%q")}, "01:07:09 PM|13:07:09|250000|%|q"},
		{"time_format", []Expr{s("-01:30:00"), s("%H:%i")}, "-01:30"},
		{"time_format", []Expr{s("00:00:00"), s("%h %p")}, "12 AM"},
		{"time_format", []Expr{s("123456"), s("%H:%i:%s")}, "12:34:56"},
		{"time_format", []Expr{dt("2024-05-06 07:08:09"), s("%H.%i.%s")}, "07.08.09"},
		{"time_format", []Expr{s("2024-05-06 07:08:09"), s("%k")}, "7"},
		{"time_format", []Expr{s("10:00:00"), s("%Y-%m")}, nil},
		{"time_format", []Expr{s("10:61:00"), s("%H")}, nil},
		{"time_format", []Expr{s("ab:cd"), s("%H")}, nil},
		{"time_format", []Expr{s(""), s("%H")}, nil},
		{"time_format", []Expr{s("10:00:00"), null}, nil},
		// CONVERT_TZ with named zones, offsets and SYSTEM; bad zones are NULL.
		{"convert_tz", []Expr{dt("2024-01-01 12:00:00"), s("UTC"), s("Asia/Shanghai")}, "2024-01-01 20:00:00"},
		{"convert_tz", []Expr{dt("2024-07-01 12:00:00"), s("America/New_York"), s("+00:00")}, "2024-07-01 16:00:00"},
		{"convert_tz", []Expr{dt("2024-01-01 12:00:00"), s("+00:00"), s("-05:30")}, "2024-01-01 06:30:00"},
		{"convert_tz", []Expr{dt6("2024-01-01 12:00:00.123456"), s("+01:00"), s("utc")}, "2024-01-01 11:00:00.123456"},
		{"convert_tz", []Expr{s("2024-01-01 00:30:00"), s("+00:00"), s("-01:00")}, "2023-12-31 23:30:00"},
		{"convert_tz", []Expr{d("2024-01-01"), s("+00:00"), s("+14:00")}, "2024-01-01 14:00:00"},
		{"convert_tz", []Expr{dt("2024-01-01 12:00:00"), s("UTC"), s("Nope/Zone")}, nil},
		{"convert_tz", []Expr{dt("2024-01-01 12:00:00"), s("+15:00"), s("UTC")}, nil},
		{"convert_tz", []Expr{dt("2024-01-01 12:00:00"), s("+1:5"), s("UTC")}, nil},
		{"convert_tz", []Expr{dt("2024-01-01 12:00:00"), s(""), s("UTC")}, nil},
		{"convert_tz", []Expr{dt("2024-01-01 12:00:00"), null, s("UTC")}, nil},
		// REGEXP_SUBSTR: position and occurrence count characters and matches.
		{"regexp_substr", []Expr{s("abc123def45"), s("[0-9]+")}, "123"},
		{"regexp_substr", []Expr{s("abc123def45"), s("[0-9]+"), i(1), i(2)}, "45"},
		{"regexp_substr", []Expr{s("héllo wörld"), s("[^ ]+"), i(3)}, "llo"},
		{"regexp_substr", []Expr{s("abc"), s("[0-9]+")}, nil},
		{"regexp_substr", []Expr{s("abc"), s("b"), i(0)}, nil},
		{"regexp_substr", []Expr{s("abc"), s("b"), i(9)}, nil},
		{"regexp_substr", []Expr{s("abc"), s("b"), i(1), i(2)}, nil},
		// TRIM with a removal string strips repeated whole occurrences.
		{"trim", []Expr{s("xxaxx"), s("x")}, "a"},
		{"trim", []Expr{s("ababcab"), s("ab")}, "c"},
		{"ltrim", []Expr{s("((a))"), s("(")}, "a))"},
		{"rtrim", []Expr{s("count(x))"), s(")")}, "count(x"},
		{"rtrim", []Expr{s("abc"), s("")}, "abc"},
		{"trim", []Expr{s("  a  ")}, "a"},
		{"rtrim", []Expr{s("a"), null}, nil},
	}
	for _, c := range cases {
		require.Equal(t, c.want, call(t, c.name, c.args...), "%s%v", c.name, c.args)
	}

	// A malformed pattern fails the statement, as in MySQL.
	e, err := Call("regexp_substr", s("abc"), s("(["))
	require.NoError(t, err)
	_, err = e.Eval(NewEvalContext(), &Batch{Len: 1})
	require.ErrorContains(t, err, "invalid regular expression")
	_, _, err = LookupFunction("convert_tz", []types.Type{types.DateTime(0), types.String})
	require.ErrorContains(t, err, "expects 3 arguments")
	_, _, err = LookupFunction("convert_tz", []types.Type{types.Boolean, types.String, types.String})
	require.Error(t, err)
}

// Metabase's time zone probe, with NOW() fixed.
func TestMetabaseTimeZoneProbe(t *testing.T) {
	ctx := NewEvalContext()
	ctx.Now = time.Date(2024, 6, 1, 12, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		session *time.Location
		global  string
		want    string
	}{
		{time.UTC, "UTC", "00:00"},
		{time.FixedZone("+08:00", 8*3600), "+08:00", "08:00"},
		{time.FixedZone("-03:30", -(3*3600 + 1800)), "-03:30", "-03:30"},
	} {
		ctx.TimeZone = tc.session
		now := must(Call("now"))
		conv := must(Call("convert_tz", must(Call("now")), lit(tc.global, types.String), lit("+00:00", types.String)))
		e := must(Call("time_format", must(Call("timediff", now, conv)), lit("%H:%i", types.String)))
		arr, err := e.Eval(ctx, &Batch{Len: 1})
		require.NoError(t, err)
		require.Equal(t, tc.want, valueAt(arr, e.Type(), 0), tc.global)
	}
}

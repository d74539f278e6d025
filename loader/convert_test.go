package loader

import (
	"github.com/apache/arrow-go/v18/arrow"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

func TestConvertTypes(t *testing.T) {
	type tc struct {
		in   string
		want string // "" means a row error is expected
	}
	cases := []struct {
		typ   types.Type
		cases []tc
	}{
		{types.Boolean, []tc{{"true", "true"}, {"FALSE", "false"}, {"1", "true"}, {"0", "false"}, {"yes", ""}, {"2", ""}}},
		{types.TinyInt, []tc{{"127", "127"}, {"-128", "-128"}, {"128", ""}, {"-129", ""}, {" 5 ", "5"}, {"1.5", ""}, {"abc", ""}}},
		{types.SmallInt, []tc{{"32767", "32767"}, {"-32768", "-32768"}, {"32768", ""}}},
		{types.Int, []tc{{"2147483647", "2147483647"}, {"-2147483648", "-2147483648"}, {"2147483648", ""}, {"+7", "7"}, {"abc", ""}, {"-", ""}, {"1e3", ""}}},
		{types.BigInt, []tc{{"9223372036854775807", "9223372036854775807"}, {"-9223372036854775808", "-9223372036854775808"}, {"9223372036854775808", ""}, {"99999999999999999999999", ""}}},
		{types.LargeInt, []tc{
			{"170141183460469231731687303715884105727", "170141183460469231731687303715884105727"},
			{"-170141183460469231731687303715884105728", "-170141183460469231731687303715884105728"},
			{"170141183460469231731687303715884105728", ""},
			{"12", "12"}, {"1.5", ""}, {"x", ""},
		}},
		{types.Float, []tc{{"1.5", "1.5"}, {"-2e3", "-2000"}, {"abc", ""}}},
		{types.Double, []tc{{"3.25", "3.25"}, {"1e308", "1e+308"}, {"nan?", ""}}},
		{types.Decimal(5, 2), []tc{
			{"123.45", "123.45"}, {"-123.45", "-123.45"}, {"1.005", "1.01"}, {"1.004", "1.00"}, {"-1.005", "-1.01"},
			{"999.994", "999.99"}, {"999.995", ""}, {"1000", ""}, {"0.5", "0.50"}, {".5", "0.50"}, {"7", "7.00"},
			{"1.2.3", ""}, {"abc", ""}, {"1e", ""}, {"1e+", ""}, {"-", ""}, {"+.", ""}, {".", ""}, {"00012.3", "12.30"}, {"1.5e1", "15.00"}, {"5e-3", "0.01"}, {"4e-3", "0.00"},
		}},
		{types.Decimal(38, 0), []tc{{"99999999999999999999999999999999999999", "99999999999999999999999999999999999999"}, {"100000000000000000000000000000000000000", ""}}},
		{types.Date, []tc{
			{"2024-02-29", "2024-02-29"}, {"20240301", "2024-03-01"}, {"2024-3-1", "2024-03-01"}, {"2023-02-29", ""},
			{"2024-13-01", ""}, {"2024-01-01 10:00:00", "2024-01-01"}, {"1969-12-31", "1969-12-31"}, {"0001-01-01", "0001-01-01"},
			{"abc", ""}, {"2024-01", ""},
		}},
		{types.DateTime(6), []tc{
			{"2024-01-02 03:04:05", "2024-01-02 03:04:05"}, {"2024-01-02T03:04:05", "2024-01-02 03:04:05"},
			{"2024-01-02 03:04:05.123456", "2024-01-02 03:04:05.123456"}, {"2024-01-02", "2024-01-02 00:00:00"},
			{"2024-01-02 24:00:00", ""}, {"2024-01-02 03:04", "2024-01-02 03:04:00"}, {"2024-01-02 03:04:05.", ""}, {"x", ""},
		}},
		{types.DateTime(0), []tc{{"2024-01-02 03:04:05.6", "2024-01-02 03:04:06"}, {"2024-01-02 23:59:59.5", "2024-01-03 00:00:00"}}},
		{types.Varchar(3), []tc{{"abc", "abc"}, {"abcd", ""}, {"", ""}}},
		{types.Char(2), []tc{{"ab", "ab"}, {"abc", ""}}},
		{types.String, []tc{{"anything", "anything"}}},
	}
	for _, c := range cases {
		for _, x := range c.cases {
			t.Run(c.typ.String()+"/"+x.in, func(t *testing.T) {
				cols := []catalog.Column{col("v", c.typ, false)}
				bb, err := NewBatchBuilder(cols, time.Now())
				require.NoError(t, err)
				err = bb.Set(0, []byte(x.in))
				if err == nil {
					err = bb.EndRow()
				}
				if x.want == "" && !(c.typ.Kind.IsString() && x.in == "") {
					require.Error(t, err)
					var ve *ValueError
					require.ErrorAs(t, err, &ve)
					require.Equal(t, "v", ve.Column)
					bb.DiscardRow()
					arrs := bb.Build()
					require.Equal(t, 0, arrs[0].Len())
					releaseAll(arrs)
					return
				}
				require.NoError(t, err)
				arrs := bb.Build()
				defer releaseAll(arrs)
				require.True(t, arrow.TypeEqual(c.typ.Arrow(), arrs[0].DataType()))
				got := valueText(arrs[0], 0)
				require.Equal(t, x.want, got)
			})
		}
	}
}

func TestConvertErrorText(t *testing.T) {
	bb, err := NewBatchBuilder([]catalog.Column{col("age", types.Int, true)}, time.Now())
	require.NoError(t, err)
	err = bb.Set(0, []byte("abc"))
	require.EqualError(t, err, "column(age) value is incorrect: 'abc' is not a valid INT")
}

func TestBatchBuilderRowsAndDefaults(t *testing.T) {
	cols := []catalog.Column{
		{Name: "k", Type: types.Int},
		{Name: "s", Type: types.Varchar(10), Nullable: true},
		{Name: "d", Type: types.Int, Default: strp("42")},
		{Name: "ts", Type: types.DateTime(0), Default: strp("CURRENT_TIMESTAMP")},
		{Name: "n", Type: types.Double, Nullable: true},
	}
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	bb, err := NewBatchBuilder(cols, now)
	require.NoError(t, err)

	require.NoError(t, bb.Set(0, []byte("1")))
	require.NoError(t, bb.Set(1, []byte("a")))
	require.NoError(t, bb.EndRow())

	// A failed row rolls back everything it set.
	require.NoError(t, bb.Set(1, []byte("zzz")))
	require.NoError(t, bb.Set(4, []byte("1.5")))
	require.Error(t, bb.Set(0, []byte("x")))
	bb.DiscardRow()

	// NULL in a NOT NULL column.
	require.Error(t, bb.SetNull(0))
	bb.DiscardRow()

	// Missing NOT NULL column without default.
	require.NoError(t, bb.Set(1, []byte("b")))
	require.Error(t, bb.EndRow())
	bb.DiscardRow()

	require.NoError(t, bb.Set(2, []byte("7")))
	require.NoError(t, bb.Set(0, []byte("2")))
	require.NoError(t, bb.SetNull(1))
	require.NoError(t, bb.Set(4, []byte("")))
	require.NoError(t, bb.EndRow())
	require.Equal(t, 2, bb.Len())

	arrs := bb.Build()
	defer releaseAll(arrs)
	require.Equal(t, [][]string{
		{"1", "a", "42", "2024-05-06 07:08:09", "NULL"},
		{"2", "NULL", "7", "2024-05-06 07:08:09", "NULL"},
	}, rowsOf(arrs))
	require.Equal(t, 0, bb.Len())

	_, err = NewBatchBuilder([]catalog.Column{{Name: "x", Type: types.Int, Default: strp("abc")}}, now)
	require.Error(t, err)
}

func TestParseDecimalFastPaths(t *testing.T) {
	n, st := parseDecimal([]byte("-0.000"), 10, 3, false)
	require.Equal(t, decOK, st)
	require.Equal(t, 0, n.Sign())
	_, st = parseDecimal([]byte("1e40"), 38, 0, false)
	require.Equal(t, decOverflow, st)
}

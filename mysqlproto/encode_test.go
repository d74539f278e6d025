package mysqlproto

import (
	"math"
	"math/big"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/types"
)

func TestAppendFloat(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		bits int
		want string
	}{
		{0, 64, "0"},
		{math.Copysign(0, -1), 64, "-0"},
		{1, 64, "1"},
		{0.1, 64, "0.1"},
		{-2.5, 64, "-2.5"},
		{1e15, 64, "1000000000000000"},
		{1e16, 64, "1e+16"},
		{1e20, 64, "1e+20"},
		{123456789.125, 64, "123456789.125"},
		{0.0001, 64, "0.0001"},
		{0.00001, 64, "1e-05"},
		{1.5e-7, 64, "1.5e-07"},
		{math.MaxFloat64, 64, "1.7976931348623157e+308"},
		{math.NaN(), 64, "NaN"},
		{math.Inf(1), 64, "Infinity"},
		{math.Inf(-1), 64, "-Infinity"},
		{float64(float32(0.1)), 32, "0.1"},
		{float64(float32(1234567)), 32, "1234567"},
		{float64(float32(1e7)), 32, "1e+07"},
		{float64(float32(3.14159)), 32, "3.14159"},
	} {
		require.Equal(t, tc.want, string(appendFloat(nil, tc.v, tc.bits)), "%v/%d", tc.v, tc.bits)
	}
}

func TestAppendDecimal128(t *testing.T) {
	maxI128, _ := new(big.Int).SetString("170141183460469231731687303715884105727", 10)
	for _, tc := range []struct {
		v     *big.Int
		scale int
		want  string
	}{
		{big.NewInt(0), 0, "0"},
		{big.NewInt(0), 2, "0.00"},
		{big.NewInt(5), 2, "0.05"},
		{big.NewInt(-5), 2, "-0.05"},
		{big.NewInt(-1250), 2, "-12.50"},
		{big.NewInt(123456), 3, "123.456"},
		{big.NewInt(math.MaxInt64), 0, "9223372036854775807"},
		{maxI128, 0, "170141183460469231731687303715884105727"},
		{maxI128, 10, "17014118346046923173168730371.5884105727"},
		{new(big.Int).Exp(big.NewInt(10), big.NewInt(19), nil), 0, "10000000000000000000"},
		{new(big.Int).Exp(big.NewInt(10), big.NewInt(37), nil), 38, "0.10000000000000000000000000000000000000"},
	} {
		n := decimal128.FromBigInt(tc.v)
		require.Equal(t, tc.want, string(appendDecimal128(nil, n.HighBits(), n.LowBits(), tc.scale)), "%v/%d", tc.v, tc.scale)
	}
	minI128 := decimal128.New(math.MinInt64, 0)
	require.Equal(t, "-170141183460469231731687303715884105728", string(appendDecimal128(nil, minI128.HighBits(), minI128.LowBits(), 0)))
	require.Equal(t, "-1", string(appendDecimal128(nil, -1, math.MaxUint64, 0)))
}

func TestCivilDays(t *testing.T) {
	for _, d := range []int64{-719528, -1, 0, 1, 59, 11016, 19782, 2932896} {
		y, m, dd := civilFromDays(d)
		tm := time.Unix(d*86400, 0).UTC()
		require.Equal(t, int64(tm.Year()), y)
		require.Equal(t, int(tm.Month()), m)
		require.Equal(t, tm.Day(), dd)
		require.Equal(t, d, daysFromCivil(y, m, dd))
	}
	require.Equal(t, "0001-01-01", string(appendDate(nil, 1, 1, 1)))
	require.Equal(t, "9999-12-31", string(appendDate(nil, 9999, 12, 31)))
}

// encodeOne encodes the single column of arr in both protocols.
func encodeOne(t *testing.T, f Field, arr arrow.Array, sel []int32) (text, bin []string) {
	t.Helper()
	ci := colInfoOf(&f)
	n := arr.Len()
	if sel != nil {
		n = len(sel)
	}
	var cb colBuf
	for _, isBin := range []bool{false, true} {
		require.NoError(t, encodeColumn(&cb, arr, &ci, sel, n, isBin))
		var out []string
		s := 0
		for _, e := range cb.ends {
			out = append(out, string(cb.buf[s:e]))
			s = e
		}
		if isBin {
			bin = out
		} else {
			text = out
		}
	}
	return text, bin
}

func TestEncodeTimestamps(t *testing.T) {
	b := array.NewTimestampBuilder(memory.DefaultAllocator, &arrow.TimestampType{Unit: arrow.Microsecond})
	defer b.Release()
	b.Append(arrow.Timestamp(1709212455123456)) // 2024-02-29 13:14:15.123456
	b.Append(arrow.Timestamp(-1))               // 1969-12-31 23:59:59.999999
	b.AppendNull()
	b.Append(arrow.Timestamp(1709164800000000)) // midnight
	arr := b.NewArray()
	defer arr.Release()

	for _, tc := range []struct {
		p    int
		text []string
	}{
		{0, []string{"2024-02-29 13:14:15", "1969-12-31 23:59:59", "", "2024-02-29 00:00:00"}},
		{3, []string{"2024-02-29 13:14:15.123", "1969-12-31 23:59:59.999", "", "2024-02-29 00:00:00.000"}},
		{6, []string{"2024-02-29 13:14:15.123456", "1969-12-31 23:59:59.999999", "", "2024-02-29 00:00:00.000000"}},
	} {
		text, bin := encodeOne(t, Field{Type: types.DateTime(tc.p), Nullable: true}, arr, nil)
		for i, w := range tc.text {
			if w == "" {
				require.Equal(t, "\xfb", text[i])
				require.Equal(t, "", bin[i])
				continue
			}
			require.Equal(t, string(rune(len(w)))+w, text[i])
		}
		// Binary: 11 bytes when there are microseconds to send.
		if tc.p == 0 {
			require.Len(t, bin[0], 8)
		} else {
			require.Len(t, bin[0], 12)
			require.Equal(t, uint32(tc.p*0+int(map[int]uint32{3: 123000, 6: 123456}[tc.p])), uint32(bin[0][8])|uint32(bin[0][9])<<8|uint32(bin[0][10])<<16)
		}
		require.Len(t, bin[3], 8)
	}
}

func TestEncodeIntsWithSelection(t *testing.T) {
	b := array.NewInt16Builder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues([]int16{-1, 2, 300}, []bool{true, false, true})
	arr := b.NewArray()
	defer arr.Release()
	text, bin := encodeOne(t, Field{Type: types.SmallInt, Nullable: true}, arr, []int32{2, 1, 0, 2})
	require.Equal(t, []string{"\x03300", "\xfb", "\x02-1", "\x03300"}, text)
	require.Equal(t, []string{"\x2c\x01", "", "\xff\xff", "\x2c\x01"}, bin)

	// A batch shorter than the selection is an error, not a panic.
	ci := colInfoOf(&Field{Type: types.SmallInt})
	require.Error(t, encodeColumn(&colBuf{}, arr, &ci, nil, 5, false))
	// An array that does not fit the announced binary type is an error.
	ci = colInfoOf(&Field{Type: types.Date})
	require.Error(t, encodeColumn(&colBuf{}, arr, &ci, nil, 3, true))
}

func TestColInfo(t *testing.T) {
	for _, tc := range []struct {
		t        types.Type
		mtype    byte
		charset  uint16
		length   uint32
		decimals byte
	}{
		{types.Boolean, gomysql.MYSQL_TYPE_TINY, 63, 1, 0},
		{types.TinyInt, gomysql.MYSQL_TYPE_TINY, 63, 4, 0},
		{types.SmallInt, gomysql.MYSQL_TYPE_SHORT, 63, 6, 0},
		{types.Int, gomysql.MYSQL_TYPE_LONG, 63, 11, 0},
		{types.BigInt, gomysql.MYSQL_TYPE_LONGLONG, 63, 20, 0},
		{types.LargeInt, gomysql.MYSQL_TYPE_VAR_STRING, 33, 120, 0},
		{types.Float, gomysql.MYSQL_TYPE_FLOAT, 63, 12, 31},
		{types.Double, gomysql.MYSQL_TYPE_DOUBLE, 63, 22, 31},
		{types.Decimal(10, 2), gomysql.MYSQL_TYPE_NEWDECIMAL, 63, 12, 2},
		{types.Decimal(18, 0), gomysql.MYSQL_TYPE_NEWDECIMAL, 63, 19, 0},
		{types.Date, gomysql.MYSQL_TYPE_DATE, 63, 10, 0},
		{types.DateTime(0), gomysql.MYSQL_TYPE_DATETIME, 63, 19, 0},
		{types.DateTime(6), gomysql.MYSQL_TYPE_DATETIME, 63, 26, 6},
		{types.Char(5), gomysql.MYSQL_TYPE_VAR_STRING, 33, 15, 0},
		{types.Varchar(20), gomysql.MYSQL_TYPE_VAR_STRING, 33, 60, 0},
		{types.String, gomysql.MYSQL_TYPE_BLOB, 33, 196605, 0},
	} {
		ci := colInfoOf(&Field{Type: tc.t})
		require.Equal(t, tc.mtype, ci.mtype, tc.t.String())
		require.Equal(t, tc.charset, ci.charset, tc.t.String())
		require.Equal(t, tc.length, ci.length, tc.t.String())
		require.Equal(t, tc.decimals, ci.decimals, tc.t.String())
		require.NotZero(t, ci.flags&gomysql.NOT_NULL_FLAG, tc.t.String())
	}
	require.Zero(t, colInfoOf(&Field{Type: types.Int, Nullable: true}).flags&gomysql.NOT_NULL_FLAG)
}

func TestNewRowsResultErrors(t *testing.T) {
	r := NewRowsResult([]Field{{Name: "x", Type: types.Int}}, [][]any{{"not a number"}})
	_, _, err := r.Rows.Next()
	require.ErrorContains(t, err, `column "x" row 0`)
	r.Rows.Close()
	r = NewRowsResult([]Field{{Name: "x", Type: types.Int}}, [][]any{{1, 2}})
	_, _, err = r.Rows.Next()
	require.Error(t, err)
	r.Rows.Close()
}

func TestErrorMapping(t *testing.T) {
	require.Equal(t, &Error{Code: 1146, State: "42S02", Message: "no t"}, toError(NewError(ER_NO_SUCH_TABLE, "no t")))
	require.Equal(t, "42000", NewError(ER_PARSE_ERROR, "x").State)
	require.Equal(t, "3D000", NewError(ER_NO_DB_ERROR, "x").State)
	require.Equal(t, "HY000", NewError(9999, "x").State)
	require.Equal(t, "100%", NewError(ER_UNKNOWN_ERROR, "%s", "100%").Message)
	wrapped := toError(errorsJoin(NewError(ER_BAD_DB_ERROR, "Unknown database 'x'")))
	require.Equal(t, ER_BAD_DB_ERROR, wrapped.Code)
	plain := toError(strconv.ErrSyntax)
	require.Equal(t, ER_UNKNOWN_ERROR, plain.Code)
	require.Equal(t, "HY000", plain.State)
	require.Equal(t, uint16(gomysql.ER_ACCESS_DENIED_ERROR), toError(gomysql.NewDefaultError(gomysql.ER_ACCESS_DENIED_ERROR, "u", "h", "YES")).Code)
}

func errorsJoin(e error) error { return &wrapErr{e} }

type wrapErr struct{ err error }

func (w *wrapErr) Error() string { return "running: " + w.err.Error() }
func (w *wrapErr) Unwrap() error { return w.err }

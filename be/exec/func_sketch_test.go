package exec

import (
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/sketch"
	"github.com/strata-db/strata/types"
)

// bmLit is a BITMAP literal of the given values.
func bmLit(vals ...uint64) Expr {
	return lit(string(sketch.BitmapOf(vals...).Serialize()), types.Bitmap)
}

// hllLit is an HLL literal of the hashes of the given strings.
func hllLit(vals ...string) Expr {
	h := sketch.NewHLL()
	for _, v := range vals {
		h.Add(sketch.HashString(v))
	}
	return lit(string(h.Serialize()), types.HLL)
}

// bitmapText decodes a BITMAP result to bitmap_to_string's text; NULL
// stays nil.
func bitmapText(t *testing.T, v any) any {
	t.Helper()
	if v == nil {
		return nil
	}
	b, err := sketch.DeserializeBitmap(v.(string))
	require.NoError(t, err)
	return b.ToString()
}

func hllEstimate(t *testing.T, v any) any {
	t.Helper()
	if v == nil {
		return nil
	}
	h, err := sketch.DeserializeHLL(v.(string))
	require.NoError(t, err)
	return h.Estimate()
}

func TestBitmapFunctions(t *testing.T) {
	s := func(v string) Expr { return lit(v, types.String) }
	i := func(v int64) Expr { return lit(v, types.BigInt) }
	null := lit(nil, types.Boolean) // the planner's untyped NULL
	nullBm := lit(nil, types.Bitmap)
	const max = uint64(math.MaxUint64)
	bitmapOut := []struct {
		name string
		args []Expr
		want any // bitmap_to_string text, or nil
	}{
		{"bitmap_empty", nil, ""},
		{"to_bitmap", []Expr{i(5)}, "5"},
		{"to_bitmap", []Expr{lit(int64(7), types.TinyInt)}, "7"},
		{"to_bitmap", []Expr{i(0)}, "0"},
		{"to_bitmap", []Expr{i(-1)}, ""},
		{"to_bitmap", []Expr{i(math.MaxInt64)}, "9223372036854775807"},
		{"to_bitmap", []Expr{s("123")}, "123"},
		{"to_bitmap", []Expr{s(" 18446744073709551615 ")}, "18446744073709551615"},
		{"to_bitmap", []Expr{s("18446744073709551616")}, ""},
		{"to_bitmap", []Expr{s("-1")}, ""},
		{"to_bitmap", []Expr{s("abc")}, ""},
		{"to_bitmap", []Expr{s("1.5")}, ""},
		{"to_bitmap", []Expr{null}, ""},
		{"to_bitmap", []Expr{lit(nil, types.String)}, ""},
		{"to_bitmap", []Expr{lit(2.9, types.Double)}, "2"}, // CAST to BIGINT truncates
		{"bitmap_from_string", []Expr{s("0, 1, 2")}, "0,1,2"},
		{"bitmap_from_string", []Expr{s("3,1,3")}, "1,3"},
		{"bitmap_from_string", []Expr{s("")}, ""},
		{"bitmap_from_string", []Expr{s("1,18446744073709551615")}, "1,18446744073709551615"},
		{"bitmap_from_string", []Expr{s("-1, 0, 1, 2")}, nil},
		{"bitmap_from_string", []Expr{s("x")}, nil},
		{"bitmap_from_string", []Expr{null}, nil},
		{"bitmap_hash", []Expr{s("abc")}, "3409700625"},
		{"bitmap_hash", []Expr{null}, ""},
		{"bitmap_hash", []Expr{i(12)}, strconv.FormatUint(uint64(sketch.Murmur3x86_32([]byte("12"), sketch.Murmur3Seed32)), 10)},
		{"bitmap_hash64", []Expr{s("hello")}, "15231136565543391023"},
		{"bitmap_hash64", []Expr{null}, ""},
		{"bitmap_and", []Expr{bmLit(1), bmLit(2)}, ""},
		{"bitmap_and", []Expr{bmLit(1, 2, 3), bmLit(1, 2), bmLit(1, 2, 3, 4, 5)}, "1,2"},
		{"bitmap_and", []Expr{bmLit(1, 2, 3), bmLit(1, 2), bmLit()}, ""},
		{"bitmap_and", []Expr{bmLit(1, 2, 3), bmLit(1, 2), null}, nil},
		{"bitmap_and", []Expr{bmLit(1, max), bmLit(max)}, "18446744073709551615"},
		{"bitmap_or", []Expr{bmLit(1), bmLit(2)}, "1,2"},
		{"bitmap_or", []Expr{bmLit(1), bmLit(2), bmLit(10), bmLit(0), null}, "0,1,2,10"},
		{"bitmap_or", []Expr{null, nullBm}, nil},
		{"bitmap_or", []Expr{bmLit(), bmLit()}, ""},
		{"bitmap_or", []Expr{bmLit(max - 1), bmLit(max)}, "18446744073709551614,18446744073709551615"},
		{"bitmap_xor", []Expr{bmLit(2, 3), bmLit(1, 2, 3, 4)}, "1,4"},
		{"bitmap_xor", []Expr{bmLit(2, 3), bmLit(1, 2, 3, 4), bmLit(3, 4, 5)}, "1,3,5"},
		{"bitmap_xor", []Expr{bmLit(2, 3), nullBm}, nil},
		{"bitmap_not", []Expr{bmLit(2, 3, 5), bmLit(1, 2, 3, 4)}, "5"},
		{"bitmap_and_not", []Expr{bmLit(1, 2, 3), bmLit(3, 4, 5)}, "1,2"},
		{"bitmap_andnot", []Expr{bmLit(1, 2, 3), bmLit()}, "1,2,3"},
		{"bitmap_and_not", []Expr{bmLit(1, 2, 3), null}, nil},
		{"bitmap_remove", []Expr{bmLit(1, 2, 3), i(2)}, "1,3"},
		{"bitmap_remove", []Expr{bmLit(1, max), i(-1)}, "1"},
	}
	for _, tc := range bitmapOut {
		e, err := Call(tc.name, tc.args...)
		require.NoError(t, err, tc.name)
		require.Equal(t, types.Bitmap, e.Type(), tc.name)
		require.Equal(t, tc.want, bitmapText(t, eval1(t, e)), "%s%v", tc.name, tc.args)
	}

	other := []struct {
		name string
		args []Expr
		want any
	}{
		{"bitmap_to_string", []Expr{bmLit(3, 1, max)}, "1,3,18446744073709551615"},
		{"bitmap_to_string", []Expr{bmLit()}, ""},
		{"bitmap_to_string", []Expr{null}, nil},
		{"bitmap_count", []Expr{bmLit(1, 2, 3)}, int64(3)},
		{"bitmap_count", []Expr{bmLit()}, int64(0)},
		{"bitmap_count", []Expr{null}, int64(0)},
		{"bitmap_count", []Expr{nullBm}, int64(0)},
		{"bitmap_contains", []Expr{bmLit(1), i(2)}, false},
		{"bitmap_contains", []Expr{bmLit(1), i(1)}, true},
		{"bitmap_contains", []Expr{bmLit(max), i(-1)}, true}, // a BIGINT's 64 bits, as in Doris
		{"bitmap_contains", []Expr{bmLit(1), lit(nil, types.BigInt)}, nil},
		{"bitmap_has_any", []Expr{bmLit(1), bmLit(2)}, false},
		{"bitmap_has_any", []Expr{bmLit(1, 2), bmLit(2, 3)}, true},
		{"bitmap_has_any", []Expr{bmLit(), bmLit()}, false},
		{"bitmap_has_all", []Expr{bmLit(0, 1, 2), bmLit(1, 2)}, true},
		{"bitmap_has_all", []Expr{bmLit(), bmLit(1, 2)}, false},
		{"bitmap_has_all", []Expr{bmLit(1), bmLit()}, true},
		{"bitmap_has_all", []Expr{bmLit(1), null}, nil},
		{"bitmap_and_count", []Expr{bmLit(1, 2, 3), bmLit()}, int64(0)},
		{"bitmap_and_count", []Expr{bmLit(1, 2, 3), bmLit(3, 4, 5)}, int64(1)},
		{"bitmap_and_count", []Expr{bmLit(1, 2, 3), bmLit(1, 2), bmLit(1, 2, 3, 4, 5)}, int64(2)},
		{"bitmap_and_count", []Expr{bmLit(1, 2, 3), bmLit(1, 2), null}, int64(0)},
		{"bitmap_or_count", []Expr{bmLit(1, 2, 3), bmLit(3, 4, 5)}, int64(5)},
		{"bitmap_or_count", []Expr{bmLit(1, 2, 3), bmLit(3, 4, 5), bmLit(100), null}, int64(6)},
		{"bitmap_or_count", []Expr{null, nullBm}, int64(0)},
		{"bitmap_xor_count", []Expr{bmLit(1, 2, 3), bmLit(3, 4, 5)}, int64(4)},
		{"bitmap_xor_count", []Expr{bmLit(2, 3), bmLit(1, 2, 3, 4), bmLit(3, 4, 5)}, int64(3)},
		{"bitmap_xor_count", []Expr{bmLit(2, 3), null}, int64(0)},
		{"bitmap_and_not_count", []Expr{bmLit(1, 2, 3), bmLit(3, 4, 5)}, int64(2)},
		{"bitmap_andnot_count", []Expr{bmLit(1, 2, 3), null}, int64(0)},
		{"bitmap_min", []Expr{bmLit(5, 9, 3)}, int64(3)},
		{"bitmap_max", []Expr{bmLit(1, 9999999999)}, int64(9999999999)},
		{"bitmap_max", []Expr{bmLit()}, nil},
		{"bitmap_min", []Expr{null}, nil},
		{"bitmap_max", []Expr{bmLit(1, max)}, int64(-1)}, // BIGINT, as in Doris
		{"hll_cardinality", []Expr{hllLit("a", "b", "a")}, int64(2)},
		{"hll_cardinality", []Expr{null}, int64(0)},
		{"hll_cardinality", []Expr{lit(nil, types.HLL)}, int64(0)},
	}
	for _, tc := range other {
		require.Equal(t, tc.want, call(t, tc.name, tc.args...), "%s%v", tc.name, tc.args)
	}

	// HLL producers.
	require.Equal(t, int64(1), hllEstimate(t, call(t, "hll_hash", s("a"))))
	require.Equal(t, int64(0), hllEstimate(t, call(t, "hll_hash", null)))
	require.Equal(t, int64(0), hllEstimate(t, call(t, "hll_empty")))
	require.Equal(t, hllEstimate(t, call(t, "hll_hash", s("42"))), hllEstimate(t, call(t, "hll_hash", i(42))))
	require.Equal(t, int64(1), call(t, "hll_cardinality", must(Call("hll_hash", s("")))))
	b64 := call(t, "hll_to_base64", hllLit("x", "y"))
	require.Equal(t, int64(2), hllEstimate(t, call(t, "hll_from_base64", lit(b64, types.String))))
	require.Nil(t, call(t, "hll_from_base64", s("not base64!")))
	_, err := Call("hll_from_base64", s("AQ=="))
	require.NoError(t, err)
	e, err := Call("hll_from_base64", s("Bw=="))
	require.NoError(t, err)
	_, err = e.Eval(NewEvalContext(), &Batch{Len: 1})
	require.Error(t, err)
}

func TestSketchFunctionErrors(t *testing.T) {
	s := func(v string) Expr { return lit(v, types.String) }
	for _, tc := range []struct {
		name string
		args []Expr
		err  string
	}{
		{"bitmap_count", []Expr{s("abc")}, "Can not find the compatibility function signature: bitmap_count(TEXT)"},
		{"bitmap_count", []Expr{hllLit("a")}, "Can not find the compatibility function signature: bitmap_count(HLL)"},
		{"hll_cardinality", []Expr{bmLit(1)}, "Can not find the compatibility function signature: hll_cardinality(BITMAP)"},
		{"length", []Expr{bmLit(1)}, "Can not find the compatibility function signature: length(BITMAP)"},
		{"to_bitmap", []Expr{bmLit(1)}, "does not accept BITMAP"},
		{"bitmap_and", []Expr{bmLit(1)}, "expects at least 2 arguments"},
		{"bitmap_contains", []Expr{bmLit(1), bmLit(1)}, "Can not find the compatibility function signature"},
	} {
		_, err := Call(tc.name, tc.args...)
		require.ErrorContains(t, err, tc.err, tc.name)
	}
	for _, mk := range []func() (Expr, error){
		func() (Expr, error) { return NewCompare(CmpEQ, bmLit(1), bmLit(1)) },
		func() (Expr, error) { return NewCompare(CmpLT, hllLit("a"), s("x")) },
		func() (Expr, error) { return NewIn(bmLit(1), []Expr{bmLit(1)}, false) },
		func() (Expr, error) { return NewBetween(bmLit(1), bmLit(1), bmLit(2), false) },
		func() (Expr, error) { return NewLike(bmLit(1), s("%"), '\\', false) },
		func() (Expr, error) { return NewArith(OpAdd, bmLit(1), lit(int64(1), types.BigInt)) },
		func() (Expr, error) { return NewNeg(hllLit("a")) },
	} {
		_, err := mk()
		require.True(t, errors.Is(err, ErrOnlyMetricType), "%v", err)
	}
	// Casts: only to the same type, or from NULL.
	_, err := NewCast(s("1"), types.Bitmap)
	require.Error(t, err)
	_, err = NewCast(bmLit(1), types.String)
	require.Error(t, err)
	_, err = NewCast(bmLit(1), types.HLL)
	require.Error(t, err)
	c, err := NewCast(lit(nil, types.Boolean), types.Bitmap)
	require.NoError(t, err)
	require.Equal(t, types.Bitmap, c.Type())
	require.Nil(t, eval1(t, c))
	c, err = NewCast(bmLit(7), types.Bitmap)
	require.NoError(t, err)
	require.Equal(t, "7", bitmapText(t, eval1(t, c)))
	// Coerce to another type gives NULL rather than the bytes.
	require.Nil(t, eval1(t, Coerce(bmLit(1), types.String)))
	require.Nil(t, eval1(t, &Cast{Arg: lit("1", types.String), To: types.Bitmap}))
	_, err = CommonType(types.Bitmap, types.String)
	require.Error(t, err)
	ct, err := CommonType(types.Bitmap, types.Bitmap)
	require.NoError(t, err)
	require.Equal(t, types.Bitmap, ct)
	// IF and COALESCE keep the type.
	e, err := NewCoalesce(lit(nil, types.Bitmap), bmLit(3))
	require.NoError(t, err)
	require.Equal(t, "3", bitmapText(t, eval1(t, e)))
}

func TestSketchLiterals(t *testing.T) {
	l, err := NewLiteralChecked(string(sketch.BitmapOf(1, 2).Serialize()), types.Bitmap)
	require.NoError(t, err)
	require.Equal(t, "bitmap_from_string('1,2')", l.String())
	_, err = NewLiteralChecked("1,2", types.Bitmap)
	require.ErrorIs(t, err, sketch.ErrInvalidBitmap)
	_, err = NewLiteralChecked("\x09", types.HLL)
	require.ErrorIs(t, err, sketch.ErrInvalidHLL)
	_, err = NewLiteralChecked(int64(3), types.Bitmap)
	require.Error(t, err)
	h, err := NewLiteralChecked(emptyHLLValue, types.HLL)
	require.NoError(t, err)
	require.Equal(t, "hll_from_base64('AA==')", h.String())
	// A folded call becomes a literal that reads back.
	f := Fold(must(Call("to_bitmap", lit(int64(5), types.BigInt))))
	fl, ok := f.(*Literal)
	require.True(t, ok)
	require.Equal(t, "bitmap_from_string('5')", fl.String())
	// VALUES rows take serialized sketches.
	v, err := NewValues([]types.Type{types.Bitmap, types.HLL}, [][]any{{fl.Value, emptyHLLValue}, {nil, nil}})
	require.NoError(t, err)
	rows := collect(t, v)
	require.Equal(t, "5", bitmapText(t, rows[0][0]))
	require.Nil(t, rows[1][0])
	_, err = NewValues([]types.Type{types.Bitmap}, [][]any{{"junk"}})
	require.Error(t, err)
}

// TestSketchFunctionsOverColumns runs the functions over a column with
// NULLs, a selection vector and every bitmap encoding.
func TestSketchFunctionsOverColumns(t *testing.T) {
	big := make([]uint64, 100)
	for k := range big {
		big[k] = uint64(k) * 1000
	}
	vals := []any{
		string(sketch.BitmapOf(1).Serialize()),
		nil,
		string(sketch.BitmapOf(1 << 40).Serialize()),
		string(sketch.BitmapOf(1, 2, 3).Serialize()),
		string(sketch.BitmapOf(big...).Serialize()),
		emptyBitmapValue,
	}
	rows := make([][]any, len(vals))
	for k, v := range vals {
		rows[k] = []any{v, int64(k - 2)}
	}
	b := batchOf(t, []types.Type{types.Bitmap, types.BigInt}, rows)
	b.Sel = []int32{0, 1, 2, 3, 4, 5}
	bm, n := col(0, types.Bitmap), col(1, types.BigInt)
	got := evalRows(t, must(Call("bitmap_count", bm)), b)
	require.Equal(t, []any{int64(1), int64(0), int64(1), int64(3), int64(100), int64(0)}, got)
	got = evalRows(t, must(Call("bitmap_contains", bm, n)), b)
	require.Equal(t, []any{false, nil, false, true, false, false}, got)
	got = evalRows(t, must(Call("bitmap_or_count", bm, must(Call("to_bitmap", n)))), b)
	require.Equal(t, []any{int64(1), int64(0), int64(2), int64(3), int64(101), int64(1)}, got)
	b.Sel = []int32{1, 3}
	got = evalRows(t, must(Call("bitmap_to_string", bm)), b)
	require.Equal(t, []any{nil, "1,2,3"}, got)
	// A malformed value is an error naming the type.
	bad := batchOf(t, []types.Type{types.String}, [][]any{{"\x63"}})
	e := &FuncCall{Fn: mustFunction(t, "bitmap_count", types.Bitmap), Args: []Expr{col(0, types.Bitmap)}}
	_, err := e.Eval(NewEvalContext(), bad)
	require.ErrorIs(t, err, sketch.ErrInvalidBitmap)
	require.ErrorContains(t, err, "decoding a BITMAP value")
}

func mustFunction(t *testing.T, name string, args ...types.Type) Function {
	t.Helper()
	fn, _, err := LookupFunction(name, args)
	require.NoError(t, err)
	return fn
}

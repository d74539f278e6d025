package planner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/be/sketch"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/types"
)

// exprScope has a column of every type.
var exprScopeCols = []struct {
	name string
	t    types.Type
}{
	{"b", types.Boolean}, {"ti", types.TinyInt}, {"si", types.SmallInt}, {"i", types.Int},
	{"bi", types.BigInt}, {"li", types.LargeInt}, {"f", types.Float}, {"d", types.Double},
	{"dec", types.Decimal(10, 2)}, {"dec38", types.Decimal(38, 9)}, {"dt", types.Date},
	{"ts", types.DateTime(0)}, {"ts3", types.DateTime(3)}, {"ts6", types.DateTime(6)},
	{"ch", types.Char(4)}, {"vc", types.Varchar(16)}, {"s", types.String},
	{"bm", types.Bitmap}, {"h", types.HLL},
}

func exprScope() *scope {
	sc := &scope{}
	for _, c := range exprScopeCols {
		sc.cols = append(sc.cols, column{name: c.name, t: c.t, nullable: true, scanID: -1})
	}
	return sc
}

// sampleBatch holds rows of every scope column, NULLs included.
func sampleBatch(t *testing.T) (*exec.Batch, func()) {
	t.Helper()
	var schema []types.Type
	for _, c := range exprScopeCols {
		schema = append(schema, c.t)
	}
	words := []string{"abc", "a%b", "", "xyz9", "a_y", "b", "bbb", "x_y!", "Aa1", "héllo"}
	var rows [][]any
	for r := 0; r < 40; r++ {
		bm := sketch.BitmapOf(uint64(r), uint64(r*3))
		h := sketch.NewHLL()
		h.Add(sketch.HashString(fmt.Sprint(r)))
		w := words[r%len(words)]
		row := []any{
			r%3 == 0, int64(r - 20), int64(r * 100), int64(r*7919 - 100000), int64(r) << 40,
			new(big.Int).Lsh(big.NewInt(int64(r+1)), 100), float64(r) / 8, float64(r)*1.25 - 7,
			fmt.Sprintf("%d.%02d", r*13, r), fmt.Sprintf("-%d.%09d", r*1000003, r*7),
			fmt.Sprintf("2024-%02d-%02d", 1+r%12, 1+r%28),
			fmt.Sprintf("2023-12-31 %02d:%02d:%02d", r%24, r%60, (r*7)%60),
			fmt.Sprintf("2024-02-29 01:02:03.%03d", r*17),
			fmt.Sprintf("1999-01-01 23:59:59.%06d", r*24999),
			w[:min(len(w), 4)], w, strings.Repeat(w, 3),
			string(bm.Serialize()), string(h.Serialize()),
		}
		for c := range row {
			if (r+c)%7 == 0 {
				row[c] = nil
			}
		}
		rows = append(rows, row)
	}
	v, err := exec.NewValues(schema, rows)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, v.Open(ctx))
	var b exec.Batch
	err = v.Next(ctx, &b)
	if err == io.EOF {
		err = nil
	}
	require.NoError(t, err)
	require.Equal(t, len(rows), b.NumRows())
	return &b, func() { _ = v.Close(); v.Release() }
}

// exprTexts are expressions over exprScope, covering every kind of call
// node; functions of the registry are added by registryCalls.
func exprTexts() []string {
	out := []string{
		// Literals.
		"NULL", "TRUE", "FALSE", "127", "-128", "32767", "-32768", "2147483647", "9223372036854775807",
		"-9223372036854775807", "170141183460469231731687303715884105727", "99999999999999999999999999999999999999999",
		"1.5e300", "-2.5e-300", "0.1", "12345678901234567890.123456789", "-0.00000000000000000000000000000000000001",
		"'str'", "''", "'it''s'", "DATE '2024-02-29'", "TIMESTAMP '2024-02-29 12:34:56'",
		"TIMESTAMP '2024-02-29 12:34:56.7'", "TIMESTAMP '2024-02-29 12:34:56.789012'",
		// Arithmetic and comparisons, from the planner's tests and beyond.
		"1 + 2 * 3", "i + 1", "bi * 2 - li", "d / 3", "dec * 2.5", "dec38 + dec", "i DIV 3", "i % 7", "-i", "-dec", "-d",
		"f + d", "ti * si", "li % 3", "i = 3", "i <> 4", "i != bi", "vc < 'm'", "s >= vc", "ch = 'abc'",
		"dt <=> '2024-01-01'", "ts > '2024-01-01 10:00:00.123'", "dt >= '2024-03-01' AND dt < '2024-06-15' AND i > 10",
		"dt BETWEEN '2023-02-01' AND '2024-02-01' AND vc <> 'west'",
		// IN, BETWEEN, IS.
		"i BETWEEN 1 AND 10", "i NOT BETWEEN bi AND 100", "dt BETWEEN '2024-01-01' AND ts", "vc IN ('a', 'b', NULL)",
		"i NOT IN (1, 2, 3)", "dt IN ('2024-01-01', '2023-05-05')", "vc IN ('north', 'south')", "li IN (1, 2)",
		"i IS NULL", "vc IS NOT NULL", "b IS TRUE", "b IS NOT FALSE", "(i > 3) IS TRUE", "b IS NOT TRUE", "bm IS NULL",
		"NOT b", "b AND i > 2", "b OR NULL", "b XOR (i < 5)", "NOT (i > 3 OR vc LIKE 'a%')",
		// LIKE, REGEXP.
		"vc LIKE 'a%'", "vc NOT LIKE 'a|%%' ESCAPE '|'", "s LIKE '%x_y%'", "vc LIKE 'x!_y%' ESCAPE '!'", "ch LIKE vc",
		"vc REGEXP '^a.*[0-9]$'", "vc NOT REGEXP 'b+'", "s RLIKE vc",
		// CASE.
		"CASE WHEN i > 5 THEN 'big' WHEN i > 2 THEN 'mid' ELSE NULL END", "CASE i WHEN 1 THEN dec WHEN 2 THEN 3.5 END",
		"CASE WHEN b THEN ts ELSE dt END", "CASE vc WHEN 'abc' THEN 1 ELSE 0 END", "CASE WHEN 1 = 1 THEN 'yes' ELSE NULL END",
		// Conditional functions, sketches, EXTRACT, TRIM.
		"coalesce(i, bi, 0)", "if(b, i, NULL)", "nullif(i, 3)", "greatest(i, bi, 5)", "least(dt, '2024-01-01')",
		"ifnull(vc, 'z')", "nvl(dec, 1)", "upper(vc)", "upper('abc')", "concat(vc, s, 'x')", "bitmap_count(bm)",
		"hll_cardinality(h)", "bitmap_contains(bm, 3)", "to_bitmap(i)", "hll_hash(vc)", "bitmap_to_string(bitmap_or(bm, to_bitmap(7)))",
		"bitmap_count(coalesce(bm, bitmap_empty()))", "hll_cardinality(if(i > 5, h, hll_empty()))",
		"EXTRACT(YEAR FROM ts)", "EXTRACT(MONTH FROM dt)", "TRIM(TRAILING FROM s)", "TRIM(vc)",
		"date_format(ts, '%Y-%m-%d %H')", "datediff(dt, ts)", "str_to_date(vc, '%Y')",
		// Volatile functions.
		"rand()", "random()", "now()", "current_timestamp()", "curdate()", "unix_timestamp()", "sysdate()",
		"localtime()", "now() > ts", "rand() < 2",
	}
	for _, target := range []string{"BOOLEAN", "TINYINT", "SMALLINT", "INT", "BIGINT", "LARGEINT", "FLOAT", "DOUBLE",
		"DECIMAL(12, 3)", "DECIMAL(38, 10)", "DECIMAL", "DATE", "DATETIME", "DATETIME(3)", "DATETIME(6)", "CHAR(10)", "CHAR",
		"VARCHAR(10)", "STRING", "SIGNED", "UNSIGNED", "SIGNED INTEGER"} {
		for _, src := range []string{"i", "vc", "dec", "d", "ts6", "dt", "b", "li", "NULL"} {
			out = append(out, fmt.Sprintf("CAST(%s AS %s)", src, target))
		}
	}
	out = append(out, "CAST(bm AS BITMAP)", "CAST(h AS HLL)", "CAST(NULL AS HLL)", "CAST(NULL AS BITMAP)")
	for _, unit := range []string{"MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR"} {
		out = append(out,
			fmt.Sprintf("ts + INTERVAL i %s", unit), fmt.Sprintf("dt - INTERVAL 2 %s", unit),
			fmt.Sprintf("INTERVAL 1 %s + ts3", unit), fmt.Sprintf("date_add(ts6, INTERVAL 3 %s)", unit),
			fmt.Sprintf("date_sub(dt, INTERVAL si %s)", unit), fmt.Sprintf("adddate(vc, INTERVAL 1 %s)", unit))
	}
	out = append(out, "days_add(dt, 3)", "days_sub(ts, i)", "subdate(ts, 2)", "date_add(dt, 1)")
	return out
}

// registryCalls finds, for every function of be/exec's registry, calls
// that bind: arguments are tried from a pool until one fits.
func registryCalls(t *testing.T, bind func(string) (*ir, error)) []string {
	t.Helper()
	pool := []string{"i", "vc", "d", "dt", "ts6", "dec", "bm", "h", "bi", "'%Y-%m-%d'", "2", "b", "s", "li", "f", "'1,2,3'"}
	var out []string
	var missing []string
	for _, name := range exec.FunctionNames() {
		found := 0
		var try func(args []string) bool
		try = func(args []string) bool {
			q := fmt.Sprintf("%s(%s)", name, strings.Join(args, ", "))
			if _, err := bind(q); err == nil {
				out = append(out, q)
				found++
				return found >= 3
			}
			return false
		}
		if try(nil) {
			continue
		}
	arities:
		for n := 1; n <= 3; n++ {
			idx := make([]int, n)
			for {
				args := make([]string, n)
				for k, j := range idx {
					args[k] = pool[j]
				}
				if try(args) {
					break arities
				}
				k := n - 1
				for k >= 0 && idx[k] == len(pool)-1 {
					idx[k] = 0
					k--
				}
				if k < 0 {
					break
				}
				idx[k]++
			}
			if found > 0 {
				break
			}
		}
		if found == 0 {
			missing = append(missing, name)
		}
	}
	require.Empty(t, missing, "functions no argument list bound")
	return out
}

// roundTrip encodes an expression, decodes it and checks that the result
// encodes to the same bytes.
func roundTrip(t *testing.T, x *ir) *ir {
	t.Helper()
	data, err := json.Marshal(exprOf(x))
	require.NoError(t, err, x.String())
	var back Expr
	require.NoError(t, json.Unmarshal(data, &back), "%s\n%s", x, data)
	again, err := json.Marshal(back)
	require.NoError(t, err)
	require.JSONEq(t, string(data), string(again), x.String())
	return back.x
}

func evalText(t *testing.T, x exec.Expr, ec *exec.EvalContext, b *exec.Batch) (out []string) {
	t.Helper()
	defer func() {
		// Some kernels panic on overflow (exec.Next turns that into an
		// error in a query); both forms must panic alike.
		if r := recover(); r != nil {
			out = []string{fmt.Sprint("panic: ", r)}
		}
	}()
	arr, err := x.Eval(ec, b)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	defer arr.Release()
	out = make([]string, b.Len)
	for i := range out {
		out[i] = cell(arr, i)
	}
	return out
}

func containsVolatile(x *ir) bool {
	if x.kind != irCall {
		return false
	}
	if x.name == "rand" || x.name == "random" {
		return true
	}
	for _, a := range x.args {
		if containsVolatile(a) {
			return true
		}
	}
	return false
}

// TestExprRoundTrip binds many expressions, encodes and decodes each, and
// checks the EXPLAIN text, the re-encoding, and the values the compiled
// expressions give over sample rows.
func TestExprRoundTrip(t *testing.T) {
	p := New(fakeSession{db: "d"}, testCatalog(), noTablets{})
	sc := exprScope()
	var names []string
	for _, c := range sc.cols {
		names = append(names, c.name)
	}
	bind := func(text string) (*ir, error) {
		st, err := sql.Parse("SELECT " + text)
		if err != nil {
			return nil, err
		}
		e := st.(*sql.SelectStmt).Body.(*sql.SelectBlock).Items[0].Expr
		b := &exprBinder{p: p, scope: sc}
		return b.bind(e)
	}
	batch, release := sampleBatch(t)
	defer release()
	ec := exec.NewEvalContext()
	ec.Now = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	ec.TimeZone = time.UTC

	var xs []*ir
	texts := append(exprTexts(), registryCalls(t, bind)...)
	for _, text := range texts {
		x, err := bind(text)
		require.NoError(t, err, text)
		xs = append(xs, x)
	}
	// Nodes the binder makes outside of expressions.
	xs = append(xs,
		castIR(colIR(3, types.Int), types.Double), castIR(colIR(14, types.Char(4)), types.String),
		zeroIfNull(colIR(4, types.BigInt)), andAll([]*ir{colIR(0, types.Boolean), colIR(0, types.Boolean)}))
	t.Logf("%d expressions", len(xs))
	kinds := map[string]bool{}
	var walk func(x *ir)
	walk = func(x *ir) {
		if x.kind == irCall {
			kinds[x.spec.Kind] = true
			for _, a := range x.args {
				walk(a)
			}
		}
	}
	for i, x := range xs {
		walk(x)
		back := roundTrip(t, x)
		require.Equal(t, x.String(), back.String())
		require.Equal(t, x.format(names), back.format(names))
		require.Equal(t, x.t, back.t)
		require.Equal(t, x.isConst(), back.isConst(), x.String())
		a, err := x.compile(nil)
		require.NoError(t, err, x.String())
		c, err := back.compile(nil)
		require.NoError(t, err, x.String())
		require.Equal(t, a.Type(), c.Type(), x.String())
		if containsVolatile(x) {
			continue
		}
		require.Equal(t, evalText(t, a, ec, batch), evalText(t, c, ec, batch), "%d: %s", i, x.format(names))
	}
	for _, k := range []string{callIsNull, callIsBool, callIn, callBetween, callRegexp, callLike, callCast, callCoerce,
		callNeg, callNot, callAnd, callOr, callXor, callCompare, callArith, callDateAdd, callCase, callFunc, callCoalesce} {
		require.True(t, kinds[k], "no expression made a %s call", k)
	}
}

// TestLiteralRoundTrip checks that a constant of every type decodes to
// the same value, NULLs, extremes and binary strings included.
func TestLiteralRoundTrip(t *testing.T) {
	bm := sketch.BitmapOf(1, 5, math.MaxUint64)
	h := sketch.NewHLL()
	for i := range 100 {
		h.Add(sketch.HashString(fmt.Sprint(i)))
	}
	maxLarge, _ := new(big.Int).SetString("170141183460469231731687303715884105727", 10)
	minLarge, _ := new(big.Int).SetString("-170141183460469231731687303715884105727", 10)
	lits := []*exec.Literal{
		exec.NewLiteral(nil, untypedNullType),
		exec.NewLiteral(true, types.Boolean), exec.NewLiteral(false, types.Boolean),
		exec.NewLiteral(int64(-128), types.TinyInt), exec.NewLiteral(int64(32767), types.SmallInt),
		exec.NewLiteral(int64(math.MinInt32), types.Int), exec.NewLiteral(int64(math.MaxInt64), types.BigInt),
		exec.NewLiteral(int64(math.MinInt64), types.BigInt),
		exec.NewLiteral(maxLarge, types.LargeInt), exec.NewLiteral(minLarge, types.LargeInt), exec.NewLiteral(int64(-1), types.LargeInt),
		exec.NewLiteral(float32(1.1), types.Float), exec.NewLiteral(math.Inf(1), types.Double),
		exec.NewLiteral(math.Inf(-1), types.Double), exec.NewLiteral(math.NaN(), types.Double),
		exec.NewLiteral(math.SmallestNonzeroFloat64, types.Double), exec.NewLiteral(math.Copysign(0, -1), types.Double),
		exec.NewLiteral("-12345678901234567890123456789.123456789", types.Decimal(38, 9)),
		exec.NewLiteral("99999999999999999999999999999999999999", types.Decimal(38, 0)),
		exec.NewLiteral("-0.01", types.Decimal(3, 2)), exec.NewLiteral("0", types.Decimal(1, 0)),
		exec.NewLiteral("2024-02-29", types.Date), exec.NewLiteral("0000-01-01", types.Date), exec.NewLiteral("9999-12-31", types.Date),
		exec.NewLiteral("2024-02-29 23:59:59", types.DateTime(0)), exec.NewLiteral("2024-02-29 23:59:59.1", types.DateTime(1)),
		exec.NewLiteral("2024-02-29 23:59:59.12", types.DateTime(2)), exec.NewLiteral("2024-02-29 23:59:59.123", types.DateTime(3)),
		exec.NewLiteral("2024-02-29 23:59:59.1234", types.DateTime(4)), exec.NewLiteral("2024-02-29 23:59:59.12345", types.DateTime(5)),
		exec.NewLiteral("9999-12-31 23:59:59.999999", types.DateTime(6)),
		exec.NewLiteral("", types.Varchar(1)), exec.NewLiteral("ab", types.Char(2)), exec.NewLiteral("\xff\x00\xfe'\"\\", types.String),
		exec.NewLiteral("héllo", types.Varchar(10)),
		exec.NewLiteral(string(bm.Serialize()), types.Bitmap), exec.NewLiteral(string(sketch.NewBitmap().Serialize()), types.Bitmap),
		exec.NewLiteral(string(h.Serialize()), types.HLL), exec.NewLiteral(string(sketch.NewHLL().Serialize()), types.HLL),
	}
	for _, k := range []types.Type{types.Boolean, types.TinyInt, types.SmallInt, types.Int, types.BigInt, types.LargeInt,
		types.Float, types.Double, types.Decimal(27, 9), types.Date, types.DateTime(0), types.DateTime(6),
		types.Char(3), types.Varchar(9), types.String, types.Bitmap, types.HLL} {
		lits = append(lits, exec.NewLiteral(nil, k))
	}
	ec := exec.NewEvalContext()
	for _, l := range lits {
		back := roundTrip(t, litIR(l))
		require.Equal(t, irLit, back.kind)
		require.Equal(t, l.T, back.lit.T, l.String())
		require.Equal(t, l.String(), back.lit.String())
		if f, ok := l.Value.(float64); ok && math.IsNaN(f) {
			require.True(t, math.IsNaN(back.lit.Value.(float64)))
		} else {
			require.Equal(t, l.Value, back.lit.Value, l.String())
		}
		if f, ok := l.Value.(float64); ok {
			require.Equal(t, math.Signbit(f), math.Signbit(back.lit.Value.(float64)))
		}
		b := &exec.Batch{Len: 1}
		require.Equal(t, evalText(t, l, ec, b), evalText(t, back.lit, ec, b))
	}
}

// TestExprDecodeErrors feeds the decoder malformed encodings: each is an
// error, none a panic.
func TestExprDecodeErrors(t *testing.T) {
	for _, bad := range []string{
		`{"t":{"Kind":4}}`,
		`{"t":{"Kind":4},"col":-1}`,
		`{"t":{"Kind":99},"col":1}`,
		`{"t":{"Kind":4},"col":1,"lit":{}}`,
		`{"t":{"Kind":4},"lit":{"str":"YWJj"}}`,
		`{"t":{"Kind":4},"lit":{"int":1,"bool":true}}`,
		`{"t":{"Kind":4},"lit":{"int":99999999999}}`,
		`{"t":{"Kind":7},"lit":{"float":"x"}}`,
		`{"t":{"Kind":15},"lit":{"str":"AAAA"}}`,
		`{"t":{"Kind":1},"call":{"kind":"nope"},"args":[]}`,
		`{"t":{"Kind":1},"call":{"kind":"and"},"args":[{"t":{"Kind":1},"col":0}]}`,
		`{"t":{"Kind":1},"call":{"kind":"compare","op":"~"},"args":[{"t":{"Kind":4},"col":0},{"t":{"Kind":4},"col":1}]}`,
		`{"t":{"Kind":4},"call":{"kind":"compare","op":"="},"args":[{"t":{"Kind":4},"col":0},{"t":{"Kind":4},"col":1}]}`,
		`{"t":{"Kind":4},"call":{"kind":"func","name":"nosuch"},"args":[]}`,
		`{"t":{"Kind":4},"call":{"kind":"cast"},"args":[{"t":{"Kind":4},"col":0}]}`,
		`{"t":{"Kind":11},"call":{"kind":"date_add","unit":"EON"},"args":[{"t":{"Kind":11},"col":0},{"t":{"Kind":4},"col":1}]}`,
		`{"t":{"Kind":4},"call":{"kind":"case"},"args":[{"t":{"Kind":1},"col":0},{"t":{"Kind":4},"col":1},{"t":{"Kind":4},"col":1}]}`,
		`{"t":{"Kind":4},"call":{"kind":"arith","op":"+"},"args":[{"t":{"Kind":4},"col":0},null]}`,
	} {
		var e Expr
		require.Error(t, json.Unmarshal([]byte(bad), &e), bad)
	}
}

package exec

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/strata-db/strata/types"
)

// Cast converts its argument to type To. Like Doris's non-strict casts, a
// value that cannot be converted (bad string, overflow) becomes NULL.
type Cast struct {
	Arg Expr
	To  types.Type
}

// NewCast returns CAST(arg AS to). It returns an error for a conversion no
// type rule allows.
func NewCast(arg Expr, to types.Type) (Expr, error) {
	if l, ok := arg.(*Literal); ok && l.Value == nil && to.Kind.IsObject() {
		return NewLiteral(nil, to), nil // CAST(NULL AS BITMAP)
	}
	if !castable(arg.Type(), to) {
		return nil, fmt.Errorf("cannot cast %v to %v", arg.Type(), to)
	}
	return &Cast{Arg: arg, To: to}, nil
}

func castable(from, to types.Type) bool {
	if !from.Kind.IsValid() || !to.Kind.IsValid() {
		return false
	}
	if from.Kind.IsObject() || to.Kind.IsObject() {
		// BITMAP and HLL convert to nothing but themselves (Doris).
		return from.Kind == to.Kind
	}
	return true
}

func (c *Cast) Type() types.Type { return c.To }
func (c *Cast) String() string {
	return fmt.Sprintf("CAST(%s AS %s)", c.Arg, c.To.SQLName())
}

func (c *Cast) Eval(ctx *EvalContext, b *Batch) (arrow.Array, error) {
	v, err := evalView(ctx, c.Arg, b)
	if err != nil {
		return nil, err
	}
	o := newOut(c.To, b.Len)
	castInto(v, c.To, o, rowsOf(b))
	return o.finish(), nil
}

// castInto converts the rows of v into o (of type to).
func castInto(v *view, to types.Type, o *outVec, rows []int32) {
	from := v.t
	// Fast paths: same physical integer class with widening or identity.
	if v.p == pInt && from.Kind.IsInteger() && to.Kind.IsInteger() && to.Kind != types.KindLargeInt {
		lo, hi := intRange(to.Kind)
		for _, r := range rows {
			i := int(r)
			if v.isNull(i) {
				continue
			}
			x := v.int(i)
			if x >= lo && x <= hi {
				o.setInt(i, x)
			}
		}
		return
	}
	if v.p == pInt && from.Kind.IsInteger() && to.Kind == types.KindDouble {
		for _, r := range rows {
			i := int(r)
			if !v.isNull(i) {
				o.setFlt(i, float64(v.int(i)))
			}
		}
		return
	}
	for _, r := range rows {
		i := int(r)
		if v.isNull(i) {
			continue
		}
		castRow(v, i, to, o, i)
	}
}

// castRow converts row i of v into row j of o; it leaves the row NULL when the
// value does not convert.
func castRow(v *view, i int, to types.Type, o *outVec, j int) {
	from := v.t
	if from.Kind.IsObject() || to.Kind.IsObject() {
		// Object types convert to nothing but themselves; Coerce may
		// still build such a Cast, whose value is then NULL.
		if from.Kind == to.Kind {
			o.setStr(j, v.strv(i))
		}
		return
	}
	switch v.p {
	case pStr:
		s := v.strv(i)
		if to.Kind.IsString() {
			o.setStr(j, truncChars(s, to))
			return
		}
		val, ok := castString(s, to)
		if !ok {
			return
		}
		setAny(o, j, val)
	case pBool:
		b := v.boolv(i)
		var x int64
		if b {
			x = 1
		}
		switch physOf(to) {
		case pBool:
			o.setBool(j, b)
		case pInt:
			if to.Kind.IsTemporal() {
				return
			}
			o.setInt(j, x)
		case pFloat:
			o.setFlt(j, float64(x))
		case pDec:
			o.setDec(j, decimal128.FromI64(x).IncreaseScaleBy(scaleOf(to)))
		case pStr:
			o.setStr(j, strconv.FormatInt(x, 10))
		}
	case pInt:
		x := v.int(i)
		switch from.Kind {
		case types.KindDate:
			castDateRow(x*microsPerDay, true, to, o, j)
			return
		case types.KindDateTime:
			castDateRow(x, false, to, o, j)
			return
		}
		switch physOf(to) {
		case pBool:
			o.setBool(j, x != 0)
		case pInt:
			switch to.Kind {
			case types.KindDate, types.KindDateTime:
				if us, ok := intToDateTime(x); ok {
					if to.Kind == types.KindDate {
						o.setInt(j, floorDiv(us, microsPerDay))
					} else {
						o.setInt(j, us)
					}
				}
				return
			}
			lo, hi := intRange(to.Kind)
			if x >= lo && x <= hi {
				o.setInt(j, x)
			}
		case pFloat:
			o.setFlt(j, float64(x))
		case pDec:
			n := decimal128.FromI64(x).IncreaseScaleBy(scaleOf(to))
			if fitsType(n, to) {
				o.setDec(j, n)
			}
		case pStr:
			o.setStr(j, strconv.FormatInt(x, 10))
		}
	case pFloat:
		f := v.flt(i)
		switch physOf(to) {
		case pBool:
			o.setBool(j, f != 0)
		case pInt:
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return
			}
			if to.Kind.IsTemporal() {
				if us, ok := intToDateTime(int64(f)); ok {
					if to.Kind == types.KindDate {
						o.setInt(j, floorDiv(us, microsPerDay))
					} else {
						o.setInt(j, us)
					}
				}
				return
			}
			t := math.Trunc(f)
			lo, hi := intRange(to.Kind)
			if t >= float64(lo) && t < float64(hi)+1 && t <= 9.223372036854775e18 {
				o.setInt(j, int64(t))
			}
		case pFloat:
			if to.Kind == types.KindFloat {
				f = float64(float32(f))
			}
			o.setFlt(j, f)
		case pDec:
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return
			}
			n, err := decimal128.FromFloat64(f, int32(precOf(to)), scaleOf(to))
			if err == nil && fitsType(n, to) {
				o.setDec(j, n)
			}
		case pStr:
			if from.Kind == types.KindFloat {
				o.setStr(j, strconv.FormatFloat(f, 'g', -1, 32))
			} else {
				o.setStr(j, formatFloat(f))
			}
		}
	case pDec:
		n := v.decv(i)
		s := scaleOf(from)
		switch physOf(to) {
		case pBool:
			o.setBool(j, n.Sign() != 0)
		case pInt:
			if to.Kind.IsTemporal() {
				return
			}
			q := n
			if s > 0 {
				q, _ = n.Div(decimal128.GetScaleMultiplier(int(s)))
			}
			if !q.FitsInPrecision(19) && (q.HighBits() != 0 && q.HighBits() != -1) {
				return
			}
			x := int64(q.LowBits())
			if decimal128.FromI64(x) != q {
				return
			}
			lo, hi := intRange(to.Kind)
			if x >= lo && x <= hi {
				o.setInt(j, x)
			}
		case pFloat:
			o.setFlt(j, decFloat(n, s))
		case pDec:
			if up := scaleOf(to) - s; up > 0 && !n.FitsInPrecision(decimal128.MaxPrecision-up) {
				return // past 128 bits at the new scale: out of range, NULL
			}
			m := rescale(n, s, scaleOf(to))
			if fitsType(m, to) {
				o.setDec(j, m)
			}
		case pStr:
			o.setStr(j, n.ToString(s))
		}
	}
}

// truncChars cuts s to the declared length (in characters) of a CHAR or
// VARCHAR target, as CAST(x AS VARCHAR(n)) does.
func truncChars(s string, to types.Type) string {
	if to.Kind == types.KindString || to.Length <= 0 || len(s) <= to.Length {
		return s
	}
	n := 0
	for i := range s {
		if n == to.Length {
			return s[:i]
		}
		n++
	}
	return s
}

func castDateRow(us int64, isDate bool, to types.Type, o *outVec, j int) {
	switch to.Kind {
	case types.KindDate:
		o.setInt(j, floorDiv(us, microsPerDay))
	case types.KindDateTime:
		o.setInt(j, roundMicros(us, to.Precision))
	case types.KindChar, types.KindVarchar, types.KindString:
		if isDate {
			o.setStr(j, formatDate(int32(floorDiv(us, microsPerDay))))
		} else {
			o.setStr(j, formatDateTime(us, 6))
		}
	default:
		// numbers: YYYYMMDD or YYYYMMDDHHMMSS
		days, rem := splitMicros(us)
		y, m, d := daysToCivil(days)
		x := int64(y*10000 + m*100 + d)
		if !isDate {
			secs := rem / microsPerSecond
			x = x*1000000 + (secs/3600)*10000 + (secs/60%60)*100 + secs%60
		}
		switch physOf(to) {
		case pInt:
			lo, hi := intRange(to.Kind)
			if x >= lo && x <= hi {
				o.setInt(j, x)
			}
		case pFloat:
			o.setFlt(j, float64(x))
		case pDec:
			o.setDec(j, decimal128.FromI64(x).IncreaseScaleBy(scaleOf(to)))
		case pBool:
			o.setBool(j, x != 0)
		}
	}
}

// intToDateTime reads YYYYMMDD or YYYYMMDDHHMMSS.
func intToDateTime(x int64) (int64, bool) {
	if x <= 0 {
		return 0, false
	}
	s := strconv.FormatInt(x, 10)
	if len(s) != 8 && len(s) != 14 && len(s) != 6 && len(s) != 12 {
		return 0, false
	}
	return parseDateTime(s)
}

// The range of LARGEINT (int128).
var (
	maxInt128 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 127), big.NewInt(1))
	minInt128 = new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 127))
)

// int128FromBig converts a big.Int in the int128 range; unlike
// decimal128.FromBigInt it also takes -2^127.
func int128FromBig(b *big.Int) decimal128.Num {
	if b.Sign() >= 0 {
		return decimal128.FromBigInt(b)
	}
	u := new(big.Int).Add(b, new(big.Int).Lsh(big.NewInt(1), 128)) // two's complement
	lo := new(big.Int).And(u, new(big.Int).SetUint64(math.MaxUint64)).Uint64()
	hi := new(big.Int).Rsh(u, 64).Uint64()
	return decimal128.New(int64(hi), lo)
}

// precOf is the decimal precision values of t are held to.
func precOf(t types.Type) int {
	if t.Kind == types.KindLargeInt {
		return 38
	}
	return t.Precision
}

// fitsType reports whether a decimal fits t's precision.
func fitsType(n decimal128.Num, t types.Type) bool {
	if t.Kind == types.KindLargeInt {
		return true
	}
	return n.FitsInPrecision(int32(t.Precision))
}

func setAny(o *outVec, j int, val any) {
	switch x := val.(type) {
	case int64:
		o.setInt(j, x)
	case float64:
		o.setFlt(j, x)
	case decimal128.Num:
		o.setDec(j, x)
	case bool:
		o.setBool(j, x)
	case string:
		o.setStr(j, x)
	}
}

// castString parses s as a value of type t (the normalized representation of
// [Literal]); ok is false when s does not convert.
func castString(s string, t types.Type) (any, bool) {
	s = strings.TrimSpace(s)
	switch t.Kind {
	case types.KindBoolean:
		switch strings.ToLower(s) {
		case "1", "true", "t", "yes", "y", "on":
			return true, true
		case "0", "false", "f", "no", "n", "off":
			return false, true
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f != 0, true
		}
		return nil, false
	case types.KindTinyInt, types.KindSmallInt, types.KindInt, types.KindBigInt:
		x, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) >= 9.2e18 {
				return nil, false
			}
			x = int64(math.Trunc(f))
		}
		lo, hi := intRange(t.Kind)
		if x < lo || x > hi {
			return nil, false
		}
		return x, true
	case types.KindFloat, types.KindDouble:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, false
		}
		if t.Kind == types.KindFloat {
			f = float64(float32(f))
		}
		return f, true
	case types.KindLargeInt:
		// LARGEINT is the full int128 range, one digit more than
		// DECIMAL(38) holds.
		if b, ok := new(big.Int).SetString(strings.TrimSpace(s), 10); ok {
			if b.Cmp(maxInt128) > 0 || b.Cmp(minInt128) < 0 {
				return nil, false
			}
			return int128FromBig(b), true
		}
		n, ok := parseDecimal(s, int32(precOf(t)), scaleOf(t))
		if !ok {
			return nil, false
		}
		return n, true
	case types.KindDecimal:
		n, ok := parseDecimal(s, int32(precOf(t)), scaleOf(t))
		if !ok {
			return nil, false
		}
		return n, true
	case types.KindDate:
		us, ok := parseDateTime(s)
		if !ok {
			return nil, false
		}
		return floorDiv(us, microsPerDay), true
	case types.KindDateTime:
		us, ok := parseDateTime(s)
		if !ok {
			return nil, false
		}
		return roundMicros(us, t.Precision), true
	case types.KindChar, types.KindVarchar, types.KindString:
		return s, true
	}
	return nil, false
}

// parseDecimal parses a decimal string into an unscaled value at scale,
// rounding half away from zero.
func parseDecimal(s string, prec, scale int32) (decimal128.Num, bool) {
	if s == "" {
		return decimal128.Num{}, false
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	exp := 0
	if k := strings.IndexAny(s, "eE"); k >= 0 {
		e, err := strconv.Atoi(s[k+1:])
		if err != nil {
			return decimal128.Num{}, false
		}
		exp = e
		s = s[:k]
	}
	intPart, fracPart := s, ""
	if k := strings.IndexByte(s, '.'); k >= 0 {
		intPart, fracPart = s[:k], s[k+1:]
	}
	if intPart == "" && fracPart == "" {
		return decimal128.Num{}, false
	}
	digits := intPart + fracPart
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return decimal128.Num{}, false
		}
	}
	// value = digits * 10^(exp - len(fracPart)); want value * 10^scale
	shift := int(scale) + exp - len(fracPart)
	digits = strings.TrimLeft(digits, "0")
	roundUp := false
	if shift < 0 {
		cut := len(digits) + shift
		if cut < 0 {
			digits = ""
		} else {
			if cut < len(digits) && digits[cut] >= '5' {
				roundUp = true
			}
			digits = digits[:cut]
		}
		shift = 0
	}
	if len(digits)+shift > 38 {
		return decimal128.Num{}, false
	}
	var n decimal128.Num
	ten := decimal128.FromI64(10)
	for i := 0; i < len(digits); i++ {
		n = n.Mul(ten).Add(decimal128.FromI64(int64(digits[i] - '0')))
	}
	if shift > 0 {
		n = n.IncreaseScaleBy(int32(shift))
	}
	if roundUp {
		n = n.Add(decimal128.FromI64(1))
	}
	if neg {
		n = n.Negate()
	}
	if !n.FitsInPrecision(prec) {
		return decimal128.Num{}, false
	}
	return n, true
}

// formatFloat renders a DOUBLE the way MySQL clients see it from Doris:
// shortest round-trip digits, exponent form only for very large or small values.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	a := math.Abs(f)
	if a != 0 && (a < 1e-5 || a >= 1e16) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// IntDigits is the number of decimal digits of an integer kind.
func IntDigits(k types.Kind) int {
	switch k {
	case types.KindBoolean:
		return 1
	case types.KindTinyInt:
		return 3
	case types.KindSmallInt:
		return 5
	case types.KindInt:
		return 10
	case types.KindBigInt:
		return 19
	}
	return 38
}

// asDecimalType views an integer type as the DECIMAL that holds it.
func asDecimalType(t types.Type) types.Type {
	if t.Kind == types.KindDecimal {
		return t
	}
	return types.Decimal(IntDigits(t.Kind), 0)
}

func intRank(k types.Kind) int {
	switch k {
	case types.KindBoolean:
		return 0
	case types.KindTinyInt:
		return 1
	case types.KindSmallInt:
		return 2
	case types.KindInt:
		return 3
	case types.KindBigInt:
		return 4
	case types.KindLargeInt:
		return 5
	}
	return -1
}

// CommonType returns the type two operands of a comparison, CASE, IN or
// COALESCE are converted to, following Doris: wider integer; decimals widened
// to hold both integer parts and the larger scale; any float or a string
// against a number gives DOUBLE; DATE with DATETIME gives DATETIME; a string
// against a date or datetime takes the temporal type; strings give STRING.
func CommonType(a, b types.Type) (types.Type, error) {
	if a == b {
		return a, nil
	}
	ka, kb := a.Kind, b.Kind
	isInt := func(k types.Kind) bool { return k.IsInteger() || k == types.KindBoolean }
	switch {
	case ka.IsString() && kb.IsString():
		if ka == types.KindVarchar && kb == types.KindVarchar || ka == types.KindChar && kb == types.KindChar {
			return types.Varchar(max(a.Length, b.Length)), nil
		}
		return types.String, nil
	case isInt(ka) && isInt(kb):
		if intRank(ka) >= intRank(kb) {
			return a, nil
		}
		return b, nil
	case ka == types.KindFloat && kb == types.KindFloat:
		return types.Float, nil
	case (ka == types.KindFloat || ka == types.KindDouble) && (kb.IsNumeric() || kb == types.KindBoolean || kb.IsString()),
		(kb == types.KindFloat || kb == types.KindDouble) && (ka.IsNumeric() || ka == types.KindBoolean || ka.IsString()):
		return types.Double, nil
	case (ka == types.KindDecimal || isInt(ka)) && (kb == types.KindDecimal || isInt(kb)):
		da, db := asDecimalType(a), asDecimalType(b)
		s := max(da.Scale, db.Scale)
		ip := max(da.Precision-da.Scale, db.Precision-db.Scale)
		p := min(types.MaxDecimalPrecision, ip+s)
		return types.Decimal(p, s), nil
	case ka.IsTemporal() && kb.IsTemporal():
		if ka == types.KindDate && kb == types.KindDate {
			return types.Date, nil
		}
		return types.DateTime(max(a.Precision, b.Precision)), nil
	case ka.IsTemporal() && kb.IsString():
		return a, nil
	case kb.IsTemporal() && ka.IsString():
		return b, nil
	case ka.IsString() && (kb.IsNumeric() || kb == types.KindBoolean),
		kb.IsString() && (ka.IsNumeric() || ka == types.KindBoolean):
		return types.Double, nil
	case ka.IsTemporal() && kb.IsNumeric() || kb.IsTemporal() && ka.IsNumeric():
		return types.Double, nil
	}
	return types.Type{}, fmt.Errorf("incompatible types %v and %v", a, b)
}

// Coerce returns e converted to t: e itself when its type is already t, a
// folded literal for a constant, else a [Cast]. Coerce never fails for types
// CommonType produced; it panics on an invalid target type (planner bug).
func Coerce(e Expr, t types.Type) Expr {
	if e.Type() == t {
		return e
	}
	if !t.Kind.IsValid() {
		panic(fmt.Sprintf("BUG: Coerce to invalid type %v", t))
	}
	c := &Cast{Arg: e, To: t}
	if l, ok := e.(*Literal); ok {
		if f, ok := foldCast(l, t); ok {
			return f
		}
		return c
	}
	return c
}

// foldCast evaluates CAST of a literal at plan time.
func foldCast(l *Literal, t types.Type) (*Literal, bool) {
	if l.Value == nil {
		return NewLiteral(nil, t), true
	}
	o := newOut(t, 1)
	castRow(l.v, 0, t, o, 0)
	arr := o.finish()
	defer arr.Release()
	v := newView(arr, t)
	if v.isNull(0) {
		return NewLiteral(nil, t), true
	}
	var val any
	switch v.p {
	case pInt:
		val = v.int(0)
	case pFloat:
		val = v.flt(0)
	case pDec:
		val = v.decv(0)
	case pBool:
		val = v.boolv(0)
	case pStr:
		val = strings.Clone(v.strv(0))
	}
	lit, err := newLiteral(val, t)
	if err != nil {
		return nil, false
	}
	return lit, true
}

package exec

import (
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/strata-db/strata/types"
)

// ArithOp is a binary arithmetic operator.
type ArithOp uint8

const (
	OpAdd    ArithOp = iota + 1 // +
	OpSub                       // -
	OpMul                       // *
	OpDiv                       // /
	OpMod                       // % and MOD
	OpIntDiv                    // DIV
)

var arithNames = [...]string{OpAdd: "+", OpSub: "-", OpMul: "*", OpDiv: "/", OpMod: "%", OpIntDiv: "DIV"}

func (o ArithOp) String() string { return arithNames[o] }

// Arith is a binary arithmetic expression. Its operands have already been
// converted to the operation's computation type; T is the result type.
type Arith struct {
	Op   ArithOp
	L, R Expr
	T    types.Type
}

// DivPrecisionIncrement is the scale Doris adds to the dividend's scale in
// DECIMAL division (div_precision_increment).
const DivPrecisionIncrement = 4

// ArithType returns the result type of l op r under Doris rules:
// integers give BIGINT (LARGEINT once a BIGINT or LARGEINT takes part, as
// Doris promotes to avoid overflow); / on integers and anything involving a
// float gives DOUBLE; DECIMAL add/sub keep scale max(s1,s2), mul s1+s2, div
// s1+4; DIV gives BIGINT; MOD keeps the wider operand type.
func ArithType(op ArithOp, a, b types.Type) (types.Type, error) {
	norm := func(t types.Type) (types.Type, error) {
		switch {
		case t.Kind == types.KindBoolean:
			return types.TinyInt, nil
		case t.Kind.IsString():
			return types.Double, nil
		case t.Kind.IsTemporal():
			return types.Type{}, fmt.Errorf("arithmetic operator %s on %v: use an INTERVAL or a date function", op, t)
		}
		return t, nil
	}
	var err error
	if a, err = norm(a); err != nil {
		return a, err
	}
	if b, err = norm(b); err != nil {
		return b, err
	}
	isF := func(t types.Type) bool { return t.Kind == types.KindFloat || t.Kind == types.KindDouble }
	if op == OpIntDiv {
		return types.BigInt, nil
	}
	if isF(a) || isF(b) {
		return types.Double, nil
	}
	if a.Kind == types.KindDecimal || b.Kind == types.KindDecimal {
		da, db := asDecimalType(a), asDecimalType(b)
		p1, s1, p2, s2 := da.Precision, da.Scale, db.Precision, db.Scale
		var p, s int
		switch op {
		case OpAdd, OpSub:
			s = max(s1, s2)
			p = max(p1-s1, p2-s2) + s + 1
		case OpMul:
			s = s1 + s2
			p = p1 + p2
		case OpDiv:
			s = s1 + DivPrecisionIncrement
			p = p1 + s2 + DivPrecisionIncrement
		case OpMod:
			s = max(s1, s2)
			p = max(p1-s1, p2-s2) + s
		}
		if s > types.MaxDecimalPrecision {
			return types.Type{}, fmt.Errorf("decimal scale %d of %v %s %v exceeds %d", s, a, op, b, types.MaxDecimalPrecision)
		}
		p = min(max(p, s, 1), types.MaxDecimalPrecision)
		return types.Decimal(p, s), nil
	}
	// integers
	switch op {
	case OpDiv:
		return types.Double, nil
	case OpMod:
		if intRank(a.Kind) >= intRank(b.Kind) {
			return a, nil
		}
		return b, nil
	}
	if a.Kind == types.KindLargeInt || b.Kind == types.KindLargeInt || a.Kind == types.KindBigInt || b.Kind == types.KindBigInt {
		return types.LargeInt, nil
	}
	return types.BigInt, nil
}

// NewArith returns l op r with operands converted as [ArithType] requires.
func NewArith(op ArithOp, l, r Expr) (Expr, error) {
	if err := checkNotObject(l, r); err != nil {
		return nil, err
	}
	t, err := ArithType(op, l.Type(), r.Type())
	if err != nil {
		return nil, err
	}
	// computation type of the operands
	var ct types.Type
	switch {
	case t.Kind == types.KindDouble:
		ct = types.Double
	case t.Kind == types.KindDecimal || op == OpIntDiv && (l.Type().Kind == types.KindDecimal || r.Type().Kind == types.KindDecimal):
		ct = types.Type{} // decimals keep their own scales; ints stay ints
	case op == OpIntDiv && (isFloatKind(l.Type().Kind) || isFloatKind(r.Type().Kind) || l.Type().Kind.IsString() || r.Type().Kind.IsString()):
		ct = types.Double
	case t.Kind == types.KindLargeInt:
		ct = types.LargeInt
	default:
		ct = types.BigInt
	}
	if ct.Kind != types.KindInvalid {
		l, r = coerceArith(l, ct), coerceArith(r, ct)
	} else {
		l, r = coerceArith(l, decOperand(l.Type())), coerceArith(r, decOperand(r.Type()))
	}
	return &Arith{Op: op, L: l, R: r, T: t}, nil
}

func isFloatKind(k types.Kind) bool { return k == types.KindFloat || k == types.KindDouble }

func decOperand(t types.Type) types.Type {
	if t.Kind == types.KindDecimal || t.Kind == types.KindLargeInt {
		return t
	}
	if t.Kind.IsInteger() || t.Kind == types.KindBoolean {
		return types.BigInt
	}
	return types.Double
}

// coerceArith converts an operand; integer kinds all share the int64 view, so
// they are not cast to BIGINT.
func coerceArith(e Expr, t types.Type) Expr {
	et := e.Type()
	if t.Kind == types.KindBigInt && et.Kind.IsInteger() && et.Kind != types.KindLargeInt {
		return e
	}
	return Coerce(e, t)
}

func (a *Arith) Type() types.Type { return a.T }
func (a *Arith) String() string   { return fmt.Sprintf("(%s %s %s)", a.L, a.Op, a.R) }

func (a *Arith) Eval(ctx *EvalContext, b *Batch) (arrow.Array, error) {
	lv, err := evalView(ctx, a.L, b)
	if err != nil {
		return nil, err
	}
	rv, err := evalView(ctx, a.R, b)
	if err != nil {
		return nil, err
	}
	o := newOut(a.T, b.Len)
	rows := rowsOf(b)
	if lv.constNull() || rv.constNull() {
		return o.finish(), nil
	}
	switch {
	case lv.p == pInt && rv.p == pInt:
		if err := arithInt(a.Op, lv, rv, o, rows); err != nil {
			return nil, err
		}
	case lv.p == pFloat && rv.p == pFloat:
		arithFloat(a.Op, lv, rv, o, rows)
	default:
		if err := arithDec(a.Op, lv, rv, o, rows); err != nil {
			return nil, err
		}
	}
	return o.finish(), nil
}

func setValidBoth(o *outVec, l, r *view, rows []int32) {
	if !l.hasNulls() && !r.hasNulls() {
		for _, i := range rows {
			o.setValid(int(i))
		}
		return
	}
	for _, i := range rows {
		if !l.isNull(int(i)) && !r.isNull(int(i)) {
			o.setValid(int(i))
		}
	}
}

// ErrArithmeticOverflow is returned when a BIGINT result overflows.
var ErrArithmeticOverflow = errors.New("arithmetic overflow")

func arithInt(op ArithOp, l, r *view, o *outVec, rows []int32) error {
	switch {
	case l.i32 != nil && r.i32 != nil:
		return arithIntT(op, l.i32, r.i32, l, r, o, rows)
	case l.i32 != nil:
		return arithIntT(op, l.i32, r.i64, l, r, o, rows)
	case r.i32 != nil:
		return arithIntT(op, l.i64, r.i32, l, r, o, rows)
	}
	return arithIntT(op, l.i64, r.i64, l, r, o, rows)
}

// arithIntT is arithInt over operands stored at 32 or 64 bits.
func arithIntT[X, Y int32 | int64](op ArithOp, xs []X, ys []Y, l, r *view, o *outVec, rows []int32) error {
	x := func(i int) int64 { return int64(xs[i]) }
	y := func(i int) int64 { return int64(ys[i]) }
	out := o.i64
	ls, rs := l.step, r.step
	switch op {
	case OpAdd:
		for _, i := range rows {
			out[i] = x(int(i)*ls) + y(int(i)*rs)
		}
	case OpSub:
		for _, i := range rows {
			out[i] = x(int(i)*ls) - y(int(i)*rs)
		}
	case OpMul:
		for _, i := range rows {
			out[i] = x(int(i)*ls) * y(int(i)*rs)
		}
	case OpMod, OpIntDiv:
		for _, i := range rows {
			ii := int(i)
			if l.isNull(ii) || r.isNull(ii) {
				continue
			}
			d := y(ii * rs)
			if d == 0 {
				continue // NULL
			}
			if d == -1 {
				if op == OpMod {
					o.setInt(ii, 0)
				} else {
					o.setInt(ii, -x(ii*ls))
				}
				continue
			}
			if op == OpMod {
				o.setInt(ii, x(ii*ls)%d)
			} else {
				o.setInt(ii, x(ii*ls)/d)
			}
		}
		return nil
	default:
		panic(fmt.Sprintf("BUG: integer kernel for %v", op))
	}
	setValidBoth(o, l, r, rows)
	return nil
}

func arithFloat(op ArithOp, l, r *view, o *outVec, rows []int32) {
	x, y, out := l.f64, r.f64, o.f64
	ls, rs := l.step, r.step
	switch op {
	case OpAdd:
		for _, i := range rows {
			out[i] = x[int(i)*ls] + y[int(i)*rs]
		}
	case OpSub:
		for _, i := range rows {
			out[i] = x[int(i)*ls] - y[int(i)*rs]
		}
	case OpMul:
		for _, i := range rows {
			out[i] = x[int(i)*ls] * y[int(i)*rs]
		}
	case OpDiv, OpMod, OpIntDiv:
		for _, i := range rows {
			ii := int(i)
			if l.isNull(ii) || r.isNull(ii) {
				continue
			}
			d := y[ii*rs]
			if d == 0 {
				continue
			}
			switch op {
			case OpDiv:
				o.setFlt(ii, x[ii*ls]/d)
			case OpMod:
				o.setFlt(ii, math.Mod(x[ii*ls], d))
			default:
				q := math.Trunc(x[ii*ls] / d)
				if q >= -9.2e18 && q <= 9.2e18 {
					o.setInt(ii, int64(q))
				}
			}
		}
		return
	}
	setValidBoth(o, l, r, rows)
}

// arithDec computes with decimal128 (DECIMAL and LARGEINT results, and DIV
// on decimals).
func arithDec(op ArithOp, l, r *view, o *outVec, rows []int32) error {
	s1, s2 := scaleOf(l.t), scaleOf(r.t)
	rt := o.t
	rs := scaleOf(rt)
	for _, i := range rows {
		ii := int(i)
		if l.isNull(ii) || r.isNull(ii) {
			continue
		}
		var (
			res decimal128.Num
			ok  bool
		)
		switch op {
		case OpAdd, OpSub:
			x, okx := toDecChecked(l, ii, rs)
			y, oky := toDecChecked(r, ii, rs)
			if !okx || !oky {
				return fmt.Errorf("%w: an operand does not fit %v", ErrArithmeticOverflow, rt)
			}
			if !x.FitsInPrecision(37) || !y.FitsInPrecision(37) {
				// Two values of 38 digits may sum past 128 bits.
				z := x.BigInt()
				if op == OpAdd {
					z.Add(z, y.BigInt())
				} else {
					z.Sub(z, y.BigInt())
				}
				if res, ok = decFromBig(z); !ok {
					return fmt.Errorf("%w: the result does not fit %v", ErrArithmeticOverflow, rt)
				}
			} else if op == OpAdd {
				res = x.Add(y)
			} else {
				res = x.Sub(y)
			}
		case OpMul:
			x, y := toDec(l, ii, s1), toDec(r, ii, s2)
			if x.FitsInPrecision(19) && y.FitsInPrecision(19) {
				res = x.Mul(y)
			} else if res, ok = decFromBig(new(big.Int).Mul(x.BigInt(), y.BigInt())); !ok {
				// decimal128's Mul would wrap silently.
				return fmt.Errorf("%w: the result does not fit %v", ErrArithmeticOverflow, rt)
			}
		case OpDiv:
			y := toDec(r, ii, s2)
			if y.Sign() == 0 {
				continue
			}
			// result scale s1+4: x * 10^(s2+4) / y, rounded half up
			up := s2 + DivPrecisionIncrement
			x := toDec(l, ii, s1)
			if x.FitsInPrecision(decimal128.MaxPrecision - (up + 1)) {
				q, _ := x.IncreaseScaleBy(up + 1).Div(y)
				res = q.ReduceScaleBy(1, true)
			} else if res, ok = decFromBig(divRound(x.BigInt(), up, y.BigInt())); !ok {
				// x * 10^(up+1) overflows 128 bits though the quotient
				// may not: it is divided in big.Int.
				return fmt.Errorf("%w: the result does not fit %v", ErrArithmeticOverflow, rt)
			}
		case OpMod:
			x, okx := toDecChecked(l, ii, rs)
			y, oky := toDecChecked(r, ii, rs)
			if !okx || !oky {
				return fmt.Errorf("%w: an operand does not fit %v", ErrArithmeticOverflow, rt)
			}
			if y.Sign() == 0 {
				continue
			}
			_, res = x.Div(y)
		case OpIntDiv:
			s := max(s1, s2)
			x, y := toDec(l, ii, s), toDec(r, ii, s)
			if y.Sign() == 0 {
				continue
			}
			q, _ := x.Div(y)
			o.setInt(ii, int64(q.LowBits()))
			continue
		}
		if rt.Kind == types.KindDecimal && !res.FitsInPrecision(int32(rt.Precision)) {
			return fmt.Errorf("%w: %s does not fit %v", ErrArithmeticOverflow, res.ToString(rs), rt)
		}
		o.setDec(ii, res)
	}
	return nil
}

// decFromBig returns z as a decimal128, or false when it needs more than
// 128 bits.
func decFromBig(z *big.Int) (decimal128.Num, bool) {
	if z.BitLen() > 127 {
		return decimal128.Num{}, false
	}
	return decimal128.FromBigInt(z), true
}

// divRound returns x * 10^up / y, rounded half away from zero.
func divRound(x *big.Int, up int32, y *big.Int) *big.Int {
	x = new(big.Int).Mul(x, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(up)), nil))
	q, r := new(big.Int).QuoRem(x, y, new(big.Int))
	if new(big.Int).Lsh(r.Abs(r), 1).Cmp(new(big.Int).Abs(y)) >= 0 {
		if x.Sign()*y.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// Neg is unary minus.
type Neg struct{ Arg Expr }

// NewNeg returns -arg; integers and strings follow the subtraction rules (0 - arg).
func NewNeg(arg Expr) (Expr, error) {
	if err := checkNotObject(arg); err != nil {
		return nil, err
	}
	k := arg.Type().Kind
	if k == types.KindDouble || k == types.KindFloat || k == types.KindDecimal || k == types.KindLargeInt || k == types.KindBigInt {
		return &Neg{Arg: arg}, nil
	}
	return NewArith(OpSub, NewLiteral(int64(0), types.TinyInt), arg)
}

func (n *Neg) Type() types.Type { return n.Arg.Type() }
func (n *Neg) String() string   { return fmt.Sprintf("(-%s)", n.Arg) }
func (n *Neg) Eval(ctx *EvalContext, b *Batch) (arrow.Array, error) {
	v, err := evalView(ctx, n.Arg, b)
	if err != nil {
		return nil, err
	}
	o := newOut(n.Type(), b.Len)
	for _, r := range rowsOf(b) {
		i := int(r)
		if v.isNull(i) {
			continue
		}
		switch v.p {
		case pInt:
			o.setInt(i, -v.int(i))
		case pFloat:
			o.setFlt(i, -v.flt(i))
		case pDec:
			o.setDec(i, v.decv(i).Negate())
		}
	}
	return o.finish(), nil
}

package exec

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/strata-db/strata/types"
)

// fltMap returns a kernel applying f to a DOUBLE argument; NaN and infinite
// results become NULL, as Doris returns NULL for sqrt(-1) and ln(0).
func fltMap(f func(x float64) float64) kernel {
	return func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
		for _, r := range rows {
			y := f(a[0].flt(int(r)))
			if math.IsNaN(y) || math.IsInf(y, 0) {
				continue
			}
			o.setFlt(int(r), y)
		}
		return nil
	}
}

// roundHalfAway rounds x to d decimal places, halves away from zero.
func roundHalfAway(x float64, d int64) float64 {
	if d > 15 {
		return x
	}
	p := math.Pow(10, float64(d))
	return math.Round(x*p) / p
}

func truncTo(x float64, d int64) float64 {
	if d > 15 {
		return x
	}
	p := math.Pow(10, float64(d))
	return math.Trunc(x*p) / p
}

// decRound rounds (or truncates) a decimal at scale s to d places, keeping
// scale s.
func decRound(n decimal128.Num, s int32, d int64, trunc bool) decimal128.Num {
	if d >= int64(s) {
		return n
	}
	drop := int32(int64(s) - d)
	if drop > 38 {
		return decimal128.Num{}
	}
	m := decimal128.GetScaleMultiplier(int(drop))
	q, rem := n.Div(m)
	if !trunc {
		half := decimal128.GetHalfScaleMultiplier(int(drop))
		if rem.Abs().GreaterEqual(half) {
			if n.Sign() < 0 {
				q = q.Sub(decimal128.FromI64(1))
			} else {
				q = q.Add(decimal128.FromI64(1))
			}
		}
	}
	return q.Mul(m)
}

func roundKernel(trunc, ceilFloor bool, up bool) kernel {
	return func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
		v := a[0]
		for _, r := range rows {
			i := int(r)
			d := int64(0)
			if len(a) > 1 {
				d = a[1].int(i)
			}
			switch v.p {
			case pInt:
				x := v.int(i)
				if d < 0 && d > -19 {
					p := int64(math.Pow10(int(-d)))
					q := x / p
					if !trunc && abs64(x%p)*2 >= p {
						if x < 0 {
							q--
						} else {
							q++
						}
					}
					x = q * p
				}
				o.setInt(i, x)
			case pFloat:
				x := v.flt(i)
				switch {
				case ceilFloor && up:
					o.setFlt(i, math.Ceil(x))
				case ceilFloor:
					o.setFlt(i, math.Floor(x))
				case trunc:
					o.setFlt(i, truncTo(x, d))
				default:
					o.setFlt(i, roundHalfAway(x, d))
				}
			case pDec:
				n := v.decv(i)
				s := scaleOf(v.t)
				if ceilFloor {
					q, rem := n.Div(decimal128.GetScaleMultiplier(int(s)))
					if rem.Sign() != 0 {
						if up && n.Sign() > 0 {
							q = q.Add(decimal128.FromI64(1))
						} else if !up && n.Sign() < 0 {
							q = q.Sub(decimal128.FromI64(1))
						}
					}
					o.setDec(i, rescale(q, 0, scaleOf(o.t)))
					continue
				}
				res := decRound(n, s, d, trunc)
				o.setDec(i, rescale(res, s, scaleOf(o.t)))
			}
		}
		return nil
	}
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func init() {
	dbl := types.Double
	i64 := types.BigInt
	numSame := func(args []types.Type) (types.Type, []types.Type, error) {
		t, err := numericArg(args)
		if err != nil {
			return t, nil, err
		}
		ats := make([]types.Type, len(args))
		ats[0] = t
		for i := 1; i < len(args); i++ {
			ats[i] = i64
		}
		return t, ats, nil
	}
	// abs widens the narrower integers one step, as Doris does (abs(INT)
	// is a BIGINT), so the absolute value of a type's minimum fits. BIGINT
	// stays BIGINT (Doris makes it a LARGEINT), so abs of its minimum
	// still wraps.
	absResolve := func(args []types.Type) (types.Type, []types.Type, error) {
		t, err := numericArg(args)
		if err != nil {
			return t, nil, err
		}
		switch t.Kind {
		case types.KindTinyInt:
			t = types.SmallInt
		case types.KindSmallInt:
			t = types.Int
		case types.KindInt:
			t = types.BigInt
		}
		return t, []types.Type{t}, nil
	}
	register([]string{"abs"}, funcDef{minArgs: 1, maxArgs: 1, resolve: absResolve,
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				i := int(r)
				switch a[0].p {
				case pInt:
					o.setInt(i, abs64(a[0].int(i)))
				case pFloat:
					o.setFlt(i, math.Abs(a[0].flt(i)))
				case pDec:
					o.setDec(i, a[0].decv(i).Abs())
				}
			}
			return nil
		}})
	// ceil/floor: DOUBLE -> BIGINT in Doris; we keep DOUBLE for floats, and
	// DECIMAL(p-s+1, 0) for decimals.
	ceilResolve := func(args []types.Type) (types.Type, []types.Type, error) {
		t, _ := numericArg(args)
		switch {
		case t.Kind == types.KindDecimal:
			return types.Decimal(min(38, t.Precision-t.Scale+1), 0), []types.Type{t}, nil
		case t.Kind.IsInteger():
			return t, []types.Type{t}, nil
		}
		return dbl, []types.Type{dbl}, nil
	}
	register([]string{"ceil", "ceiling", "dceil"}, funcDef{minArgs: 1, maxArgs: 1, resolve: ceilResolve, eval: roundKernel(false, true, true)})
	register([]string{"floor", "dfloor"}, funcDef{minArgs: 1, maxArgs: 1, resolve: ceilResolve, eval: roundKernel(false, true, false)})
	register([]string{"round", "dround"}, funcDef{minArgs: 1, maxArgs: 2, resolve: numSame, eval: roundKernel(false, false, false)})
	register([]string{"truncate"}, funcDef{minArgs: 1, maxArgs: 2, resolve: numSame, eval: roundKernel(true, false, false)})
	register([]string{"mod"}, funcDef{minArgs: 2, maxArgs: 2, resolve: func(args []types.Type) (types.Type, []types.Type, error) {
		t, err := ArithType(OpMod, args[0], args[1])
		return t, make([]types.Type, 2), err
	}, build: func(args []Expr) (Expr, error) { return NewArith(OpMod, args[0], args[1]) }})
	register([]string{"pow", "power", "fpow"}, funcDef{minArgs: 2, maxArgs: 2, resolve: sig(dbl, dbl, dbl),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				y := math.Pow(a[0].flt(int(r)), a[1].flt(int(r)))
				if !math.IsNaN(y) && !math.IsInf(y, 0) {
					o.setFlt(int(r), y)
				}
			}
			return nil
		}})
	register([]string{"sqrt", "dsqrt"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(dbl, dbl), eval: fltMap(math.Sqrt)})
	logf := func(f func(float64) float64) kernel {
		return fltMap(func(x float64) float64 {
			if x <= 0 {
				return math.NaN()
			}
			return f(x)
		})
	}
	register([]string{"ln", "dlog1"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(dbl, dbl), eval: logf(math.Log)})
	register([]string{"log10", "dlog10"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(dbl, dbl), eval: logf(math.Log10)})
	register([]string{"log2"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(dbl, dbl), eval: logf(math.Log2)})
	register([]string{"log"}, funcDef{minArgs: 1, maxArgs: 2, resolve: sig(dbl, dbl, dbl),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				i := int(r)
				var y float64
				if len(a) == 1 {
					y = math.Log(a[0].flt(i))
				} else {
					base, x := a[0].flt(i), a[1].flt(i)
					if base <= 0 || base == 1 || x <= 0 {
						continue
					}
					y = math.Log(x) / math.Log(base)
				}
				if !math.IsNaN(y) && !math.IsInf(y, 0) {
					o.setFlt(i, y)
				}
			}
			return nil
		}})
	register([]string{"exp", "dexp"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(dbl, dbl), eval: fltMap(math.Exp)})
	register([]string{"sign"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(types.TinyInt, dbl),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				x := a[0].flt(int(r))
				switch {
				case x > 0:
					o.setInt(int(r), 1)
				case x < 0:
					o.setInt(int(r), -1)
				default:
					o.setInt(int(r), 0)
				}
			}
			return nil
		}})
	register([]string{"pi"}, funcDef{minArgs: 0, maxArgs: 0, resolve: sig(dbl, dbl),
		eval: func(_ *EvalContext, _ []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				o.setFlt(int(r), math.Pi)
			}
			return nil
		}})
	register([]string{"rand", "random"}, funcDef{minArgs: 0, maxArgs: 0, volatile: true, resolve: sig(dbl, dbl),
		eval: func(_ *EvalContext, _ []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				o.setFlt(int(r), rand.Float64())
			}
			return nil
		}})
	greatest := func(least bool) funcDef {
		return funcDef{minArgs: 1, maxArgs: -1,
			resolve: func(args []types.Type) (types.Type, []types.Type, error) {
				for _, a := range args {
					if a.Kind.IsObject() {
						return a, nil, ErrOnlyMetricType // compared values
					}
				}
				t := args[0]
				for _, a := range args[1:] {
					ct, err := CommonType(t, a)
					if err != nil {
						return t, nil, err
					}
					t = ct
				}
				ats := make([]types.Type, len(args))
				for i := range ats {
					ats[i] = t
				}
				return t, ats, nil
			},
			eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
				for _, r := range rows {
					i := int(r)
					best := 0
					for k := 1; k < len(a); k++ {
						c := compareRows(a[k], i, a[best], i)
						if least && c < 0 || !least && c > 0 {
							best = k
						}
					}
					o.setFrom(i, a[best], i)
				}
				return nil
			}}
	}
	register([]string{"greatest"}, greatest(false))
	register([]string{"least"}, greatest(true))

	// conditional functions map onto dedicated expressions
	anyTypes := func(args []types.Type) (types.Type, []types.Type, error) {
		t, err := commonTypes(args)
		return t, make([]types.Type, len(args)), err
	}
	register([]string{"if"}, funcDef{minArgs: 3, maxArgs: 3,
		resolve: func(args []types.Type) (types.Type, []types.Type, error) {
			t, err := commonTypes(args[1:])
			return t, make([]types.Type, 3), err
		},
		build: func(a []Expr) (Expr, error) { return NewIf(a[0], a[1], a[2]) }})
	register([]string{"ifnull", "nvl"}, funcDef{minArgs: 2, maxArgs: 2, resolve: anyTypes,
		build: func(a []Expr) (Expr, error) { return NewCoalesce(a...) }})
	register([]string{"coalesce"}, funcDef{minArgs: 1, maxArgs: -1, resolve: anyTypes,
		build: func(a []Expr) (Expr, error) { return NewCoalesce(a...) }})
	register([]string{"nullif"}, funcDef{minArgs: 2, maxArgs: 2,
		resolve: func(args []types.Type) (types.Type, []types.Type, error) {
			_, err := CommonType(args[0], args[1])
			return args[0], make([]types.Type, 2), err
		},
		build: func(a []Expr) (Expr, error) { return NewNullIf(a[0], a[1]) }})
	register([]string{"isnull"}, funcDef{minArgs: 1, maxArgs: 1,
		resolve: func(args []types.Type) (types.Type, []types.Type, error) {
			return types.Boolean, make([]types.Type, 1), nil
		},
		build: func(a []Expr) (Expr, error) { return NewIsNull(a[0], false), nil }})
	register([]string{"isnotnull"}, funcDef{minArgs: 1, maxArgs: 1,
		resolve: func(args []types.Type) (types.Type, []types.Type, error) {
			return types.Boolean, make([]types.Type, 1), nil
		},
		build: func(a []Expr) (Expr, error) { return NewIsNull(a[0], true), nil }})
}

func commonTypes(ts []types.Type) (types.Type, error) {
	if len(ts) == 0 {
		return types.Type{}, fmt.Errorf("no arguments")
	}
	t := ts[0]
	for _, x := range ts[1:] {
		ct, err := CommonType(t, x)
		if err != nil {
			return t, err
		}
		t = ct
	}
	return t, nil
}

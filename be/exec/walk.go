package exec

import (
	"bytes"

	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/strata-db/strata/types"
)

// Children returns the direct sub-expressions of e, and false for an
// expression type this package does not know (callers must then be
// conservative).
func Children(e Expr) ([]Expr, bool) {
	switch x := e.(type) {
	case *ColumnRef, *Literal:
		return nil, true
	case *Cast:
		return []Expr{x.Arg}, true
	case *Arith:
		return []Expr{x.L, x.R}, true
	case *Neg:
		return []Expr{x.Arg}, true
	case *Compare:
		return []Expr{x.L, x.R}, true
	case *Logic:
		return []Expr{x.L, x.R}, true
	case *Not:
		return []Expr{x.Arg}, true
	case *IsNull:
		return []Expr{x.Arg}, true
	case *In:
		return append([]Expr{x.Arg}, x.List...), true
	case *Like:
		return []Expr{x.Arg, x.Pattern}, true
	case *Case:
		out := append(append([]Expr{}, x.Whens...), x.Thens...)
		if x.Else != nil {
			out = append(out, x.Else)
		}
		return out, true
	case *Coalesce:
		return x.Args, true
	case *FuncCall:
		return x.Args, true
	case *DateAdd:
		return []Expr{x.Arg, x.N}, true
	case *RuntimeFilter:
		return []Expr{x.Col}, true
	}
	return nil, false
}

// ReferencedColumns returns the input columns e reads, and false when e
// contains an expression type whose inputs are unknown.
func ReferencedColumns(e Expr) (map[int]bool, bool) {
	set := map[int]bool{}
	ok := walkCols(e, set)
	return set, ok
}

func walkCols(e Expr, set map[int]bool) bool {
	if c, ok := e.(*ColumnRef); ok {
		set[c.Idx] = true
		return true
	}
	kids, ok := Children(e)
	if !ok {
		return false
	}
	for _, k := range kids {
		if !walkCols(k, set) {
			return false
		}
	}
	return true
}

func isVolatile(e Expr) bool {
	if f, ok := e.(*FuncCall); ok && f.Fn.def.volatile {
		return true
	}
	kids, ok := Children(e)
	if !ok {
		return true
	}
	for _, k := range kids {
		if isVolatile(k) {
			return true
		}
	}
	return false
}

// Fold evaluates e at plan time when it reads no column and calls no
// volatile function (NOW, RAND), returning a [Literal]; otherwise, or when
// evaluation fails (the error then surfaces at run time), it returns e.
func Fold(e Expr) Expr {
	if _, ok := e.(*Literal); ok {
		return e
	}
	cols, ok := ReferencedColumns(e)
	if !ok || len(cols) > 0 || isVolatile(e) {
		return e
	}
	arr, err := e.Eval(NewEvalContext(), &Batch{Len: 1})
	if err != nil {
		return e
	}
	defer arr.Release()
	v := newView(arr, e.Type())
	if v.isNull(0) {
		return NewLiteral(nil, e.Type())
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
		val = string([]byte(v.strv(0)))
	}
	l, err := newLiteral(val, e.Type())
	if err != nil {
		return e
	}
	return l
}

// ColumnRange bounds the values of one scan column that can satisfy a
// filter: every matching row has Min <= value <= Max (inclusive; a strict
// bound from the filter is widened, which is safe for pruning). Values use
// the [Literal] representation of the column's type; HasMin/HasMax false
// means unbounded. Ranges come from NULL-rejecting predicates, so a page
// whose values are all NULL cannot match either.
type ColumnRange struct {
	Col            int
	Min, Max       any
	HasMin, HasMax bool
}

// ExtractRanges derives per-column ranges from the conjuncts of filter that
// compare a column directly with a constant (=, <, <=, >, >=, BETWEEN, IN of
// constants). Conjuncts of other shapes are ignored.
func ExtractRanges(filter Expr) []ColumnRange {
	if filter == nil {
		return nil
	}
	byCol := map[int]*ColumnRange{}
	var order []int
	add := func(c *ColumnRef, lo, hi any) {
		r := byCol[c.Idx]
		if r == nil {
			r = &ColumnRange{Col: c.Idx}
			byCol[c.Idx] = r
			order = append(order, c.Idx)
		}
		if lo != nil && (!r.HasMin || cmpValues(lo, r.Min) > 0) {
			r.Min, r.HasMin = lo, true
		}
		if hi != nil && (!r.HasMax || cmpValues(hi, r.Max) < 0) {
			r.Max, r.HasMax = hi, true
		}
	}
	var visit func(e Expr)
	visit = func(e Expr) {
		switch x := e.(type) {
		case *Logic:
			if x.Op == LogicAnd {
				visit(x.L)
				visit(x.R)
			}
		case *Compare:
			c, okc := x.L.(*ColumnRef)
			l, okl := x.R.(*Literal)
			op := x.Op
			if !okc || !okl {
				c, okc = x.R.(*ColumnRef)
				l, okl = x.L.(*Literal)
				op = op.Flip()
			}
			if !okc || !okl || l.Value == nil || physOf(c.T) != physOf(l.T) || scaleOf(c.T) != scaleOf(l.T) {
				return
			}
			switch op {
			case CmpEQ:
				add(c, l.Value, l.Value)
			case CmpLT, CmpLE:
				add(c, nil, l.Value)
			case CmpGT, CmpGE:
				add(c, l.Value, nil)
			}
		case *In:
			c, ok := x.Arg.(*ColumnRef)
			if !ok || x.Not || !x.allConst || len(x.consts) == 0 {
				return
			}
			var lo, hi any
			for _, e := range x.List {
				l := e.(*Literal)
				if l.Value == nil {
					continue
				}
				if physOf(c.T) != physOf(l.T) || scaleOf(c.T) != scaleOf(l.T) {
					return
				}
				if lo == nil || cmpValues(l.Value, lo) < 0 {
					lo = l.Value
				}
				if hi == nil || cmpValues(l.Value, hi) > 0 {
					hi = l.Value
				}
			}
			if lo != nil {
				add(c, lo, hi)
			}
		}
	}
	visit(filter)
	out := make([]ColumnRange, 0, len(order))
	for _, c := range order {
		out = append(out, *byCol[c])
	}
	return out
}

// cmpValues orders two normalized values of the same class; it also accepts
// the storage zone-map forms ([]byte strings).
func cmpValues(a, b any) int {
	switch x := a.(type) {
	case int64:
		y := b.(int64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case float64:
		y := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case decimal128.Num:
		return x.Cmp(b.(decimal128.Num))
	case bool:
		return cmpBool(x, b.(bool))
	case string:
		return bytes.Compare([]byte(x), asBytes(b))
	case []byte:
		return bytes.Compare(x, asBytes(b))
	}
	return 0
}

func asBytes(v any) []byte {
	switch x := v.(type) {
	case string:
		return []byte(x)
	case []byte:
		return x
	}
	return nil
}

var _ = types.Boolean

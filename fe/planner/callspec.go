package planner

import (
	"fmt"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/types"
)

// The kinds of call node, one per be/exec constructor a call compiles to.
// They are part of the fragment encoding: a kind is never renamed or
// reused, and a decoder refuses one it does not know.
const (
	callIsNull   = "is_null"  // exec.NewIsNull(a0, Not)
	callIsBool   = "is_bool"  // a0 IS [NOT] TRUE (Want) / FALSE
	callIn       = "in"       // a0 [NOT] IN (a1, ...)
	callBetween  = "between"  // a0 [NOT] BETWEEN a1 AND a2
	callRegexp   = "regexp"   // a0 [NOT] REGEXP a1
	callLike     = "like"     // a0 [NOT] LIKE a1 ESCAPE Esc
	callCast     = "cast"     // CAST(a0 AS Type)
	callCoerce   = "coerce"   // exec.Coerce(a0, Type): the implicit conversion
	callNeg      = "neg"      // -a0
	callNot      = "not"      // NOT a0
	callAnd      = "and"      // a0 AND a1
	callOr       = "or"       // a0 OR a1
	callXor      = "xor"      // a0 XOR a1
	callCompare  = "compare"  // a0 Op a1, Op one of cmpOps
	callArith    = "arith"    // a0 Op a1, Op one of arithOps
	callDateAdd  = "date_add" // a0 +/- INTERVAL a1 Unit (Sub)
	callCase     = "case"     // CASE [a0 (Operand)] WHEN a THEN a ... [ELSE last (Else)]
	callFunc     = "func"     // Name(a...), a function of be/exec's registry
	callCoalesce = "coalesce" // exec.NewCoalesce(a...)
)

// callSpec says how a call node compiles: which be/exec constructor, with
// which parameters besides the arguments. It is plain data (the resolved
// function aside, which is derived), so a call node encodes exactly; build
// is the one place a spec becomes an expression.
type callSpec struct {
	Kind string      `json:"kind"`
	Name string      `json:"name,omitempty"` // callFunc: the registry name
	Op   string      `json:"op,omitempty"`   // callCompare, callArith
	Type *types.Type `json:"type,omitempty"` // callCast, callCoerce: the target
	Not  bool        `json:"not,omitempty"`  // negated IS NULL, IS TRUE/FALSE, IN, BETWEEN, LIKE, REGEXP
	Want bool        `json:"want,omitempty"` // callIsBool: IS TRUE (else IS FALSE)
	Esc  byte        `json:"esc,omitempty"`  // callLike: the escape character
	Unit string      `json:"unit,omitempty"` // callDateAdd: the interval unit, as SQL names it
	Sub  bool        `json:"sub,omitempty"`  // callDateAdd: subtract
	// callCase: whether the first argument is the operand and the last the
	// ELSE result.
	Operand bool `json:"operand,omitempty"`
	Else    bool `json:"else,omitempty"`

	// fn is the function of a callFunc spec, resolved against the
	// argument types when the node is made (bound or decoded).
	fn *exec.Function
}

// resolve completes a spec against its call's arguments before first use:
// a function is looked up in the registry by the argument types.
func (s *callSpec) resolve(args []*ir) error {
	if s.Kind != callFunc || s.fn != nil {
		return nil
	}
	ts := make([]types.Type, len(args))
	for i, a := range args {
		ts[i] = a.t
	}
	fn, _, err := exec.LookupFunction(s.Name, ts)
	if err != nil {
		return err
	}
	s.fn = &fn
	return nil
}

// arity returns the least and most arguments a kind takes (-1: no most).
func arity(kind string) (lo, hi int, ok bool) {
	switch kind {
	case callIsNull, callIsBool, callCast, callCoerce, callNeg, callNot:
		return 1, 1, true
	case callRegexp, callLike, callAnd, callOr, callXor, callCompare, callArith, callDateAdd:
		return 2, 2, true
	case callBetween:
		return 3, 3, true
	case callIn:
		return 2, -1, true
	case callCase:
		return 2, -1, true
	case callFunc, callCoalesce:
		return 0, -1, true
	}
	return 0, 0, false
}

// build compiles a call of s over its compiled arguments.
func (s *callSpec) build(a []exec.Expr) (exec.Expr, error) {
	lo, hi, ok := arity(s.Kind)
	if !ok {
		return nil, fmt.Errorf("unknown call kind %q", s.Kind)
	}
	if len(a) < lo || hi >= 0 && len(a) > hi {
		return nil, fmt.Errorf("call %s with %d arguments", s.Kind, len(a))
	}
	switch s.Kind {
	case callIsNull:
		return exec.NewIsNull(a[0], s.Not), nil
	case callIsBool:
		// x IS TRUE = coalesce(x = true, false); negation flips it.
		eq, err := exec.NewCompare(exec.CmpEQ, exec.Coerce(a[0], types.Boolean), exec.NewLiteral(s.Want, types.Boolean))
		if err != nil {
			return nil, err
		}
		c, err := exec.NewCoalesce(eq, exec.NewLiteral(false, types.Boolean))
		if err != nil || !s.Not {
			return c, err
		}
		return exec.NewNot(c), nil
	case callIn:
		return exec.NewIn(a[0], a[1:], s.Not)
	case callBetween:
		return exec.NewBetween(a[0], a[1], a[2], s.Not)
	case callRegexp:
		return exec.NewRegexp(a[0], a[1], s.Not)
	case callLike:
		return exec.NewLike(a[0], a[1], s.Esc, s.Not)
	case callCast, callCoerce:
		if s.Type == nil {
			return nil, fmt.Errorf("%s without a target type", s.Kind)
		}
		if s.Kind == callCoerce {
			return exec.Coerce(a[0], *s.Type), nil
		}
		return exec.NewCast(a[0], *s.Type)
	case callNeg:
		return exec.NewNeg(a[0])
	case callNot:
		return exec.NewNot(a[0]), nil
	case callAnd:
		return exec.NewAnd(a[0], a[1]), nil
	case callOr:
		return exec.NewOr(a[0], a[1]), nil
	case callXor:
		return exec.NewXor(a[0], a[1]), nil
	case callCompare:
		op, ok := cmpOps[s.Op]
		if !ok {
			return nil, fmt.Errorf("unknown comparison %q", s.Op)
		}
		return exec.NewCompare(op, a[0], a[1])
	case callArith:
		op, ok := arithOps[s.Op]
		if !ok {
			return nil, fmt.Errorf("unknown arithmetic operator %q", s.Op)
		}
		return exec.NewArith(op, a[0], a[1])
	case callDateAdd:
		unit, err := exec.ParseIntervalUnit(s.Unit)
		if err != nil {
			return nil, err
		}
		return exec.NewDateAdd(a[0], a[1], unit, s.Sub)
	case callCase:
		var operand, els exec.Expr
		i, end := 0, len(a)
		if s.Operand {
			operand, i = a[0], 1
		}
		if s.Else {
			els, end = a[end-1], end-1
		}
		if (end-i)%2 != 0 || end-i == 0 {
			return nil, fmt.Errorf("CASE with %d arguments", len(a))
		}
		var whens, thens []exec.Expr
		for ; i+1 < end; i += 2 {
			whens = append(whens, a[i])
			thens = append(thens, a[i+1])
		}
		return exec.NewCase(operand, whens, thens, els)
	case callFunc:
		if s.fn == nil {
			panic("BUG: function call " + s.Name + " compiled before it was resolved")
		}
		return exec.NewFuncCall(*s.fn, a)
	case callCoalesce:
		return exec.NewCoalesce(a...)
	}
	panic("BUG: call kind " + s.Kind + " has an arity but no builder")
}

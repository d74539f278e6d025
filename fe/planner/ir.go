package planner

import (
	"fmt"
	"strings"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/types"
)

// irKind says what an [ir] node is.
type irKind uint8

const (
	irCol  irKind = iota // a column of the input scope
	irLit                // a constant
	irCall               // anything computed from arguments
)

// ir is a bound, typed expression over the columns of one plan node's input.
// It is the planner's own expression tree: it records enough structure for
// the rewrite rules (predicate pushdown, range extraction, column remapping)
// and compiles to an [exec.Expr] through the [callSpec] each call node
// carries, so that type rules live in one place, be/exec. Every field is
// data, so a tree encodes to JSON and back (ir_json.go): plan fragments
// carry their expressions to the backends that run them.
type ir struct {
	kind irKind
	t    types.Type

	col int           // irCol: index into the input columns
	lit *exec.Literal // irLit

	// irCall
	op   string // canonical operator for the rules: "=", "<", "AND", "OR", "NOT", "BETWEEN", "IN", "ISNULL", ...; "" otherwise
	name string // for EXPLAIN
	args []*ir
	spec *callSpec // how the call compiles; shared by copies, never modified
	// not is set for negated forms of IN, BETWEEN and IS NULL.
	not bool
}

// compile turns e into an executable expression; colMap, when not nil, maps
// the bound column indexes to the indexes of the batch it will run on.
func (e *ir) compile(colMap []int) (exec.Expr, error) {
	switch e.kind {
	case irCol:
		idx := e.col
		if colMap != nil {
			idx = colMap[idx]
			if idx < 0 {
				panic(fmt.Sprintf("BUG: column #%d was pruned but is still referenced", e.col))
			}
		}
		return exec.NewColumnRef(idx, e.t), nil
	case irLit:
		return e.lit, nil
	}
	args := make([]exec.Expr, len(e.args))
	for i, a := range e.args {
		x, err := a.compile(colMap)
		if err != nil {
			return nil, err
		}
		args[i] = x
	}
	return e.spec.build(args)
}

// mustCompile compiles an expression that already compiled once at bind time.
func (e *ir) mustCompile(colMap []int) exec.Expr {
	x, err := e.compile(colMap)
	if err != nil {
		panic(fmt.Sprintf("BUG: expression %s compiled at bind time but not now: %v", e, err))
	}
	return x
}

// newCall builds a call node and checks it by compiling it once against the
// argument types, which also yields its result type.
func newCall(op, name string, args []*ir, spec *callSpec) (*ir, error) {
	stub := make([]exec.Expr, len(args))
	for i, a := range args {
		if a.kind == irLit {
			stub[i] = a.lit
		} else {
			stub[i] = exec.NewColumnRef(0, a.t)
			if a.kind == irCall {
				// Keep constant-ness visible to builders that look for
				// literals (LIKE patterns, IN lists): compile for real.
				x, err := a.compile(nil)
				if err == nil {
					if _, isLit := x.(*exec.Literal); isLit {
						stub[i] = x
					}
				}
			}
		}
	}
	if err := spec.resolve(args); err != nil {
		return nil, err
	}
	x, err := spec.build(stub)
	if err != nil {
		return nil, err
	}
	return &ir{kind: irCall, t: x.Type(), op: op, name: name, args: args, spec: spec}, nil
}

func colIR(idx int, t types.Type) *ir { return &ir{kind: irCol, col: idx, t: t} }

func litIR(l *exec.Literal) *ir { return &ir{kind: irLit, lit: l, t: l.Type()} }

// isConst reports whether e depends on no column.
func (e *ir) isConst() bool {
	switch e.kind {
	case irCol:
		return false
	case irLit:
		return true
	}
	for _, a := range e.args {
		if !a.isConst() {
			return false
		}
	}
	return e.op != "volatile"
}

// columns adds the input columns e reads to set.
func (e *ir) columns(set map[int]bool) {
	switch e.kind {
	case irCol:
		set[e.col] = true
	case irCall:
		for _, a := range e.args {
			a.columns(set)
		}
	}
}

// onlyColumnsIn reports whether every column e reads is in [lo, hi).
func (e *ir) onlyColumnsIn(lo, hi int) bool {
	switch e.kind {
	case irCol:
		return e.col >= lo && e.col < hi
	case irCall:
		for _, a := range e.args {
			if !a.onlyColumnsIn(lo, hi) {
				return false
			}
		}
	}
	return true
}

// shift returns e with every column index moved by delta.
func (e *ir) shift(delta int) *ir {
	switch e.kind {
	case irCol:
		c := *e
		c.col += delta
		return &c
	case irLit:
		return e
	}
	c := *e
	c.args = make([]*ir, len(e.args))
	for i, a := range e.args {
		c.args[i] = a.shift(delta)
	}
	return &c
}

// remap returns e with column i replaced by m[i].
func (e *ir) remap(m []int) *ir {
	switch e.kind {
	case irCol:
		c := *e
		c.col = m[e.col]
		if c.col < 0 {
			panic(fmt.Sprintf("BUG: remapping pruned column #%d", e.col))
		}
		return &c
	case irLit:
		return e
	}
	c := *e
	c.args = make([]*ir, len(e.args))
	for i, a := range e.args {
		c.args[i] = a.remap(m)
	}
	return &c
}

// conjuncts splits e on AND.
func conjuncts(e *ir) []*ir {
	if e == nil {
		return nil
	}
	if e.op == "AND" {
		return append(conjuncts(e.args[0]), conjuncts(e.args[1])...)
	}
	return []*ir{e}
}

// andAll joins predicates with AND; nil when there are none.
func andAll(preds []*ir) *ir {
	if len(preds) == 0 {
		return nil
	}
	e := preds[0]
	for _, p := range preds[1:] {
		e = andIR(e, p)
	}
	return e
}

func andIR(a, b *ir) *ir {
	x, err := newCall("AND", "AND", []*ir{a, b}, &callSpec{Kind: callAnd})
	if err != nil {
		panic("BUG: AND of two predicates: " + err.Error())
	}
	return x
}

// String renders e for EXPLAIN, with columns named by names when given.
func (e *ir) String() string { return e.format(nil) }

func (e *ir) format(names []string) string {
	switch e.kind {
	case irCol:
		if e.col < len(names) {
			return names[e.col]
		}
		return fmt.Sprintf("#%d", e.col)
	case irLit:
		return e.lit.String()
	}
	parts := make([]string, len(e.args))
	for i, a := range e.args {
		parts[i] = a.format(names)
	}
	switch e.op {
	case "AND", "OR", "=", "!=", "<", "<=", ">", ">=", "<=>", "+", "-", "*", "/", "%", "DIV", "XOR":
		return "(" + parts[0] + " " + e.op + " " + parts[1] + ")"
	case "NOT":
		return "NOT " + parts[0]
	case "ISNULL":
		if e.not {
			return parts[0] + " IS NOT NULL"
		}
		return parts[0] + " IS NULL"
	case "BETWEEN":
		not := ""
		if e.not {
			not = "NOT "
		}
		return parts[0] + " " + not + "BETWEEN " + parts[1] + " AND " + parts[2]
	case "IN":
		not := ""
		if e.not {
			not = "NOT "
		}
		return parts[0] + " " + not + "IN (" + strings.Join(parts[1:], ", ") + ")"
	}
	return e.name + "(" + strings.Join(parts, ", ") + ")"
}

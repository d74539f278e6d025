package exec

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/strata-db/strata/types"
)

// selecter is implemented by predicates that can narrow a selection vector
// directly, without materializing a BOOLEAN column.
type selecter interface {
	// selectRows appends to out the rows of rows (ascending) for which the
	// predicate is TRUE.
	selectRows(ctx *EvalContext, b *Batch, rows, out []int32) ([]int32, error)
}

// selectTrue appends to out the rows of rows where pred is TRUE.
func selectTrue(ctx *EvalContext, pred Expr, b *Batch, rows, out []int32) ([]int32, error) {
	if s, ok := pred.(selecter); ok {
		return s.selectRows(ctx, b, rows, out)
	}
	v, err := evalView(ctx, pred, withSel(b, rows))
	if err != nil {
		return nil, err
	}
	if v.constNull() {
		return out, nil
	}
	for _, i := range rows {
		if !v.isNull(int(i)) && v.boolv(int(i)) {
			out = append(out, i)
		}
	}
	return out, nil
}

// LogicOp is a boolean connective.
type LogicOp uint8

const (
	LogicAnd LogicOp = iota + 1
	LogicOr
	LogicXor
)

// Logic is AND, OR or XOR with SQL three-valued logic.
type Logic struct {
	Op   LogicOp
	L, R Expr
}

// NewAnd returns l AND r; NewOr and NewXor likewise. Non-boolean operands
// are converted to BOOLEAN (non-zero is TRUE).
func NewAnd(l, r Expr) Expr { return &Logic{Op: LogicAnd, L: toBool(l), R: toBool(r)} }
func NewOr(l, r Expr) Expr  { return &Logic{Op: LogicOr, L: toBool(l), R: toBool(r)} }
func NewXor(l, r Expr) Expr { return &Logic{Op: LogicXor, L: toBool(l), R: toBool(r)} }

// NewAndN folds a list of conjuncts (nil for an empty list).
func NewAndN(es ...Expr) Expr {
	var out Expr
	for _, e := range es {
		if out == nil {
			out = toBool(e)
		} else {
			out = NewAnd(out, e)
		}
	}
	return out
}

func toBool(e Expr) Expr { return Coerce(e, types.Boolean) }

func (l *Logic) Type() types.Type { return types.Boolean }
func (l *Logic) String() string {
	return fmt.Sprintf("(%s %s %s)", l.L, [...]string{"", "AND", "OR", "XOR"}[l.Op], l.R)
}

func (l *Logic) Eval(ctx *EvalContext, b *Batch) (arrow.Array, error) {
	lv, err := evalView(ctx, l.L, b)
	if err != nil {
		return nil, err
	}
	rv, err := evalView(ctx, l.R, b)
	if err != nil {
		return nil, err
	}
	o := newOut(types.Boolean, b.Len)
	for _, r := range rowsOf(b) {
		i := int(r)
		ln, rn := lv.isNull(i), rv.isNull(i)
		var a, c bool
		if !ln {
			a = lv.boolv(i)
		}
		if !rn {
			c = rv.boolv(i)
		}
		switch l.Op {
		case LogicAnd:
			switch {
			case !ln && !a || !rn && !c:
				o.setBool(i, false)
			case !ln && !rn:
				o.setBool(i, true)
			}
		case LogicOr:
			switch {
			case !ln && a || !rn && c:
				o.setBool(i, true)
			case !ln && !rn:
				o.setBool(i, false)
			}
		case LogicXor:
			if !ln && !rn {
				o.setBool(i, a != c)
			}
		}
	}
	return o.finish(), nil
}

func (l *Logic) selectRows(ctx *EvalContext, b *Batch, rows, out []int32) ([]int32, error) {
	switch l.Op {
	case LogicAnd:
		first, err := selectTrue(ctx, l.L, b, rows, make([]int32, 0, len(rows)))
		if err != nil {
			return nil, err
		}
		if len(first) == 0 {
			return out, nil
		}
		return selectTrue(ctx, l.R, b, first, out)
	case LogicOr:
		first, err := selectTrue(ctx, l.L, b, rows, make([]int32, 0, len(rows)))
		if err != nil {
			return nil, err
		}
		rest := make([]int32, 0, len(rows)-len(first))
		k := 0
		for _, i := range rows {
			if k < len(first) && first[k] == i {
				k++
				continue
			}
			rest = append(rest, i)
		}
		second, err := selectTrue(ctx, l.R, b, rest, make([]int32, 0, len(rest)))
		if err != nil {
			return nil, err
		}
		// merge two ascending lists
		x, y := 0, 0
		for x < len(first) || y < len(second) {
			if y >= len(second) || x < len(first) && first[x] < second[y] {
				out = append(out, first[x])
				x++
			} else {
				out = append(out, second[y])
				y++
			}
		}
		return out, nil
	}
	v, err := evalView(ctx, l, withSel(b, rows))
	if err != nil {
		return nil, err
	}
	for _, i := range rows {
		if !v.isNull(int(i)) && v.boolv(int(i)) {
			out = append(out, i)
		}
	}
	return out, nil
}

// Not is NOT arg (NULL stays NULL).
type Not struct{ Arg Expr }

// NewNot returns NOT arg.
func NewNot(arg Expr) Expr { return &Not{Arg: toBool(arg)} }

func (n *Not) Type() types.Type { return types.Boolean }
func (n *Not) String() string   { return fmt.Sprintf("(NOT %s)", n.Arg) }
func (n *Not) Eval(ctx *EvalContext, b *Batch) (arrow.Array, error) {
	v, err := evalView(ctx, n.Arg, b)
	if err != nil {
		return nil, err
	}
	o := newOut(types.Boolean, b.Len)
	for _, r := range rowsOf(b) {
		if !v.isNull(int(r)) {
			o.setBool(int(r), !v.boolv(int(r)))
		}
	}
	return o.finish(), nil
}

// IsNull is arg IS [NOT] NULL.
type IsNull struct {
	Arg Expr
	Not bool
}

// NewIsNull returns arg IS NULL, or arg IS NOT NULL when not is set.
func NewIsNull(arg Expr, not bool) Expr { return &IsNull{Arg: arg, Not: not} }

func (n *IsNull) Type() types.Type { return types.Boolean }
func (n *IsNull) String() string {
	if n.Not {
		return fmt.Sprintf("(%s IS NOT NULL)", n.Arg)
	}
	return fmt.Sprintf("(%s IS NULL)", n.Arg)
}
func (n *IsNull) Eval(ctx *EvalContext, b *Batch) (arrow.Array, error) {
	v, err := evalView(ctx, n.Arg, b)
	if err != nil {
		return nil, err
	}
	o := newOut(types.Boolean, b.Len)
	for _, r := range rowsOf(b) {
		o.setBool(int(r), v.isNull(int(r)) != n.Not)
	}
	return o.finish(), nil
}

func (n *IsNull) selectRows(ctx *EvalContext, b *Batch, rows, out []int32) ([]int32, error) {
	v, err := evalView(ctx, n.Arg, withSel(b, rows))
	if err != nil {
		return nil, err
	}
	for _, i := range rows {
		if v.isNull(int(i)) != n.Not {
			out = append(out, i)
		}
	}
	return out, nil
}

// NewBetween returns e [NOT] BETWEEN lo AND hi as (e >= lo AND e <= hi) or
// (e < lo OR e > hi).
func NewBetween(e, lo, hi Expr, not bool) (Expr, error) {
	if err := checkNotObject(e, lo, hi); err != nil {
		return nil, err
	}
	if not {
		a, err := NewCompare(CmpLT, e, lo)
		if err != nil {
			return nil, err
		}
		c, err := NewCompare(CmpGT, e, hi)
		if err != nil {
			return nil, err
		}
		return NewOr(a, c), nil
	}
	a, err := NewCompare(CmpGE, e, lo)
	if err != nil {
		return nil, err
	}
	c, err := NewCompare(CmpLE, e, hi)
	if err != nil {
		return nil, err
	}
	return NewAnd(a, c), nil
}

// In is arg [NOT] IN (list). Constant lists are probed through a hash set
// when they are long.
type In struct {
	Arg  Expr
	List []Expr
	Not  bool

	allConst bool
	hasNull  bool
	ints     map[int64]struct{}
	strs     map[string]struct{}
	decs     map[decimal128.Num]struct{}
	flts     map[float64]struct{}
	consts   []*view
}

// hashInMin is the list length from which IN uses a hash set.
const hashInMin = 8

// NewIn returns arg [NOT] IN (list), converting everything to the common type.
func NewIn(arg Expr, list []Expr, not bool) (Expr, error) {
	if err := checkNotObject(append([]Expr{arg}, list...)...); err != nil {
		return nil, err
	}
	// t is the common type of the argument and every item, even where
	// the comparison needs no cast (integers of two widths): INT IN
	// (BIGINT, DECIMAL(3, 2)) compares as a DECIMAL wide enough for the
	// BIGINT, not as one the BIGINT overflows into NULL.
	t := arg.Type()
	for _, e := range list {
		if e.Type() == t {
			continue
		}
		ct, err := CommonType(t, e.Type())
		if err != nil {
			return nil, fmt.Errorf("IN: %w", err)
		}
		t = ct
	}
	if t.Kind == types.KindDate {
		// As in a comparison, a datetime constant makes it DATETIME.
		for _, e := range list {
			if dt, ok := datetimeText(e); ok {
				t = dt
				break
			}
		}
	}
	in := &In{Arg: coerceCmp(arg, t), Not: not, allConst: true}
	for _, e := range list {
		e = coerceCmp(e, t)
		in.List = append(in.List, e)
		l, ok := e.(*Literal)
		if !ok {
			in.allConst = false
			continue
		}
		if l.Value == nil {
			in.hasNull = true
			continue
		}
		in.consts = append(in.consts, l.v)
	}
	if in.allConst && len(in.consts) >= hashInMin {
		switch physOf(in.Arg.Type()) {
		case pInt:
			in.ints = make(map[int64]struct{}, len(in.consts))
			for _, c := range in.consts {
				in.ints[c.int(0)] = struct{}{}
			}
		case pStr:
			in.strs = make(map[string]struct{}, len(in.consts))
			for _, c := range in.consts {
				in.strs[c.strv(0)] = struct{}{}
			}
		case pDec:
			in.decs = make(map[decimal128.Num]struct{}, len(in.consts))
			for _, c := range in.consts {
				in.decs[c.decv(0)] = struct{}{}
			}
		case pFloat:
			in.flts = make(map[float64]struct{}, len(in.consts))
			for _, c := range in.consts {
				in.flts[c.flt(0)] = struct{}{}
			}
		}
	}
	return in, nil
}

func (in *In) Type() types.Type { return types.Boolean }
func (in *In) String() string {
	parts := make([]string, len(in.List))
	for i, e := range in.List {
		parts[i] = e.String()
	}
	not := ""
	if in.Not {
		not = "NOT "
	}
	return fmt.Sprintf("(%s %sIN (%s))", in.Arg, not, strings.Join(parts, ", "))
}

// eval computes, for each row, 1 (TRUE), 0 (FALSE) or -1 (NULL) via set.
func (in *In) eval(ctx *EvalContext, b *Batch, rows []int32, set func(i int32, r int8)) error {
	v, err := evalView(ctx, in.Arg, withSel(b, rows))
	if err != nil {
		return err
	}
	var items []*view
	if in.allConst {
		items = in.consts
	} else {
		for _, e := range in.List {
			iv, err := evalView(ctx, e, withSel(b, rows))
			if err != nil {
				return err
			}
			items = append(items, iv)
		}
	}
	for _, r := range rows {
		i := int(r)
		if v.isNull(i) {
			set(r, -1)
			continue
		}
		found, sawNull := false, in.hasNull
		switch {
		case in.ints != nil:
			_, found = in.ints[v.int(i)]
		case in.strs != nil:
			_, found = in.strs[v.strv(i)]
		case in.decs != nil:
			_, found = in.decs[v.decv(i)]
		case in.flts != nil:
			_, found = in.flts[v.flt(i)]
		default:
			for _, it := range items {
				if it.isNull(i) {
					sawNull = true
					continue
				}
				if valuesEqual(v, i, it, i) {
					found = true
					break
				}
			}
		}
		switch {
		case found:
			set(r, 1)
		case sawNull:
			set(r, -1)
		default:
			set(r, 0)
		}
	}
	return nil
}

func (in *In) Eval(ctx *EvalContext, b *Batch) (arrow.Array, error) {
	o := newOut(types.Boolean, b.Len)
	err := in.eval(ctx, b, rowsOf(b), func(i int32, r int8) {
		if r >= 0 {
			o.setBool(int(i), (r == 1) != in.Not)
		}
	})
	if err != nil {
		return nil, err
	}
	return o.finish(), nil
}

func (in *In) selectRows(ctx *EvalContext, b *Batch, rows, out []int32) ([]int32, error) {
	err := in.eval(ctx, b, rows, func(i int32, r int8) {
		if r >= 0 && (r == 1) != in.Not {
			out = append(out, i)
		}
	})
	return out, err
}

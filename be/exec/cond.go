package exec

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/types"
)

// Case is a searched CASE: the first When that is TRUE selects its Then;
// otherwise Else (NULL when nil). Simple CASE, IF and NULLIF are built on it.
type Case struct {
	Whens []Expr
	Thens []Expr
	Else  Expr
	T     types.Type
}

// NewCase returns CASE [operand] WHEN w THEN t ... [ELSE e] END. With an
// operand, each WHEN is compared with it by =. The result type is the common
// type of the THEN and ELSE branches.
func NewCase(operand Expr, whens, thens []Expr, els Expr) (Expr, error) {
	if len(whens) == 0 || len(whens) != len(thens) {
		return nil, fmt.Errorf("CASE needs matching WHEN and THEN lists")
	}
	branches := append([]Expr(nil), thens...)
	if els != nil {
		branches = append(branches, els)
	}
	t, err := commonOf(branches)
	if err != nil {
		return nil, fmt.Errorf("CASE: %w", err)
	}
	c := &Case{T: t}
	for i, w := range whens {
		if operand != nil {
			w, err = NewCompare(CmpEQ, operand, w)
			if err != nil {
				return nil, fmt.Errorf("CASE: %w", err)
			}
		}
		c.Whens = append(c.Whens, toBool(w))
		c.Thens = append(c.Thens, Coerce(thens[i], t))
	}
	if els != nil {
		c.Else = Coerce(els, t)
	}
	return c, nil
}

// commonOf folds CommonType over the types of es, ignoring NULL literals
// when another branch has a type.
func commonOf(es []Expr) (types.Type, error) {
	var t types.Type
	for _, e := range es {
		if l, ok := e.(*Literal); ok && l.Value == nil && t.Kind != types.KindInvalid {
			continue
		}
		if t.Kind == types.KindInvalid {
			t = e.Type()
			continue
		}
		ct, err := CommonType(t, e.Type())
		if err != nil {
			return t, err
		}
		t = ct
	}
	return t, nil
}

// NewIf returns IF(cond, a, b).
func NewIf(cond, a, b Expr) (Expr, error) { return NewCase(nil, []Expr{cond}, []Expr{a}, b) }

// NewNullIf returns NULLIF(a, b): NULL when a = b, else a.
func NewNullIf(a, b Expr) (Expr, error) {
	eq, err := NewCompare(CmpEQ, a, b)
	if err != nil {
		return nil, fmt.Errorf("NULLIF: %w", err)
	}
	return &Case{Whens: []Expr{eq}, Thens: []Expr{NewLiteral(nil, a.Type())}, Else: a, T: a.Type()}, nil
}

func (c *Case) Type() types.Type { return c.T }
func (c *Case) String() string {
	var sb strings.Builder
	sb.WriteString("CASE")
	for i := range c.Whens {
		fmt.Fprintf(&sb, " WHEN %s THEN %s", c.Whens[i], c.Thens[i])
	}
	if c.Else != nil {
		fmt.Fprintf(&sb, " ELSE %s", c.Else)
	}
	sb.WriteString(" END")
	return sb.String()
}

func (c *Case) Eval(ctx *EvalContext, b *Batch) (arrow.Array, error) {
	rows := rowsOf(b)
	branch := make([]int32, b.Len) // 0 = NULL, k+1 = branch k (len(Thens) = ELSE)
	views := make([]*view, len(c.Thens)+1)
	remaining := rows
	for k, w := range c.Whens {
		if len(remaining) == 0 {
			break
		}
		hit, err := selectTrue(ctx, w, b, remaining, make([]int32, 0, len(remaining)))
		if err != nil {
			return nil, err
		}
		if len(hit) == 0 {
			continue
		}
		v, err := evalView(ctx, c.Thens[k], withSel(b, hit))
		if err != nil {
			return nil, err
		}
		views[k] = v
		rest := make([]int32, 0, len(remaining)-len(hit))
		h := 0
		for _, i := range remaining {
			if h < len(hit) && hit[h] == i {
				branch[i] = int32(k + 1)
				h++
				continue
			}
			rest = append(rest, i)
		}
		remaining = rest
	}
	if c.Else != nil && len(remaining) > 0 {
		v, err := evalView(ctx, c.Else, withSel(b, remaining))
		if err != nil {
			return nil, err
		}
		views[len(c.Thens)] = v
		for _, i := range remaining {
			branch[i] = int32(len(c.Thens) + 1)
		}
	}
	o := newOut(c.T, b.Len)
	for _, r := range rows {
		if k := branch[r]; k > 0 {
			o.setFrom(int(r), views[k-1], int(r))
		}
	}
	return o.finish(), nil
}

// Coalesce returns the first non-NULL argument (IFNULL, NVL and COALESCE).
type Coalesce struct {
	Args []Expr
	T    types.Type
}

// NewCoalesce returns COALESCE(args...), converting to the common type.
func NewCoalesce(args ...Expr) (Expr, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("COALESCE needs at least one argument")
	}
	t, err := commonOf(args)
	if err != nil {
		return nil, fmt.Errorf("COALESCE: %w", err)
	}
	c := &Coalesce{T: t}
	for _, a := range args {
		c.Args = append(c.Args, Coerce(a, t))
	}
	return c, nil
}

func (c *Coalesce) Type() types.Type { return c.T }
func (c *Coalesce) String() string {
	parts := make([]string, len(c.Args))
	for i, a := range c.Args {
		parts[i] = a.String()
	}
	return "COALESCE(" + strings.Join(parts, ", ") + ")"
}

func (c *Coalesce) Eval(ctx *EvalContext, b *Batch) (arrow.Array, error) {
	rows := rowsOf(b)
	src := make([]int32, b.Len)
	for i := range src {
		src[i] = -1
	}
	views := make([]*view, len(c.Args))
	remaining := rows
	for k, a := range c.Args {
		if len(remaining) == 0 {
			break
		}
		v, err := evalView(ctx, a, withSel(b, remaining))
		if err != nil {
			return nil, err
		}
		views[k] = v
		rest := remaining[:0:0]
		for _, i := range remaining {
			if v.isNull(int(i)) {
				rest = append(rest, i)
			} else {
				src[i] = int32(k)
			}
		}
		remaining = rest
	}
	o := newOut(c.T, b.Len)
	for _, r := range rows {
		if k := src[r]; k >= 0 {
			o.setFrom(int(r), views[k], int(r))
		}
	}
	return o.finish(), nil
}

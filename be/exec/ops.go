package exec

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/types"
)

// Values produces a fixed set of rows.
type Values struct {
	baseStats
	schema []types.Type
	tbl    *table
	pos    int
	held   []arrow.Array // slices handed out by the last Next
}

// NewValues returns an operator producing rows (each a slice of normalized
// Go values as [NewLiteral] accepts, nil for NULL) with the given column types.
func NewValues(schema []types.Type, rows [][]any) (*Values, error) {
	tb := newTableBuilder(schema)
	for ri, row := range rows {
		if len(row) != len(schema) {
			return nil, fmt.Errorf("values row %d has %d columns, want %d", ri, len(row), len(schema))
		}
		for c, val := range row {
			if val == nil {
				tb.blds[c].AppendNull()
				continue
			}
			lit, err := newLiteral(val, schema[c])
			if err != nil {
				return nil, fmt.Errorf("values row %d column %d: %w", ri, c, err)
			}
			appendView(tb.blds[c], lit.v, []int32{0})
		}
		tb.n++
	}
	return &Values{schema: schema, tbl: tb.finish()}, nil
}

// NewValuesFromArrays returns an operator producing the given columns (all
// of equal length) in batches of at most BatchSize rows. It takes ownership
// of the arrays.
func NewValuesFromArrays(schema []types.Type, cols []arrow.Array) *Values {
	n := 0
	if len(cols) > 0 {
		n = cols[0].Len()
	}
	return &Values{schema: schema, tbl: &table{types: schema, cols: cols, n: n}}
}

func (v *Values) Schema() []types.Type       { return v.schema }
func (v *Values) Open(context.Context) error { v.pos = 0; return nil }
func (v *Values) Close() error               { v.held = releaseAll(v.held); return nil }

// Release frees the rows; the operator must not be used afterwards.
func (v *Values) Release() { v.tbl.release() }

func (v *Values) Next(_ context.Context, b *Batch) error {
	b.Reset()
	v.held = releaseAll(v.held)
	if v.pos >= v.tbl.n {
		return io.EOF
	}
	end := min(v.pos+BatchSize, v.tbl.n)
	if v.pos == 0 && end == v.tbl.n {
		b.Cols = append(b.Cols, v.tbl.cols...)
	} else {
		for _, c := range v.tbl.cols {
			s := sliceArray(c, v.pos, end)
			v.held = append(v.held, s)
			b.Cols = append(b.Cols, s)
		}
	}
	b.Len = end - v.pos
	v.pos = end
	return nil
}

// sliceArray returns a zero-copy slice of a (the caller releases it).
func sliceArray(a arrow.Array, i, j int) arrow.Array {
	return arraySlice(a, i, j)
}

// Filter keeps the rows for which Pred is TRUE by narrowing the selection
// vector; it never copies columns and never returns an empty batch.
type Filter struct {
	baseStats
	child Operator
	pred  Expr
	ectx  *EvalContext
	sel   []int32
}

// NewFilter returns child WHERE pred.
func NewFilter(child Operator, pred Expr) *Filter {
	return &Filter{child: child, pred: toBool(pred)}
}

func (f *Filter) Schema() []types.Type { return f.child.Schema() }
func (f *Filter) Open(ctx context.Context) error {
	f.ectx = evalCtxFrom(ctx)
	return f.child.Open(ctx)
}
func (f *Filter) Close() error { return f.child.Close() }
func (f *Filter) String() string {
	return "Filter(" + f.pred.String() + ")"
}

func (f *Filter) Next(ctx context.Context, b *Batch) error {
	for {
		if err := Next(ctx, f.child, b); err != nil {
			return err
		}
		rows := rowsOf(b)
		if cap(f.sel) < len(rows) {
			f.sel = make([]int32, 0, max(len(rows), BatchSize))
		}
		// The selection we hand out is read by the consumer until our next
		// call, so it must not alias the child's.
		out, err := selectTrue(f.ectx, f.pred, b, rows, f.sel[:0])
		if err != nil {
			return err
		}
		if len(out) == 0 {
			continue
		}
		if len(out) == b.Len {
			b.Sel = nil
		} else {
			b.Sel = out
		}
		return nil
	}
}

type evalCtxKey struct{}

// WithEvalContext attaches an EvalContext to ctx for the operators of a query.
func WithEvalContext(ctx context.Context, ec *EvalContext) context.Context {
	return context.WithValue(ctx, evalCtxKey{}, ec)
}

// evalCtxFrom returns an operator's own EvalContext derived from the one
// attached to ctx (or a fresh one).
func evalCtxFrom(ctx context.Context) *EvalContext {
	if ec, ok := ctx.Value(evalCtxKey{}).(*EvalContext); ok {
		return ec.fork()
	}
	return NewEvalContext()
}

// Project computes one output column per expression; the selection vector
// passes through.
type Project struct {
	baseStats
	child  Operator
	exprs  []Expr
	schema []types.Type
	ectx   *EvalContext
	in     Batch
	held   []arrow.Array
}

// NewProject returns the projection of exprs over child.
func NewProject(child Operator, exprs []Expr) *Project {
	p := &Project{child: child, exprs: exprs}
	for _, e := range exprs {
		p.schema = append(p.schema, e.Type())
	}
	return p
}

func (p *Project) Schema() []types.Type { return p.schema }
func (p *Project) Open(ctx context.Context) error {
	p.ectx = evalCtxFrom(ctx)
	return p.child.Open(ctx)
}
func (p *Project) Close() error {
	p.held = releaseAll(p.held)
	return p.child.Close()
}

func (p *Project) Next(ctx context.Context, b *Batch) error {
	p.held = releaseAll(p.held)
	p.in.Reset()
	if err := Next(ctx, p.child, &p.in); err != nil {
		b.Reset()
		return err
	}
	b.Reset()
	for _, e := range p.exprs {
		a, err := e.Eval(p.ectx, &p.in)
		if err != nil {
			return err
		}
		p.held = append(p.held, a)
		b.Cols = append(b.Cols, a)
	}
	b.Len = p.in.Len
	b.Sel = p.in.Sel
	return nil
}

// Limit passes at most Limit rows after skipping Offset, and stops pulling
// its child once the limit is reached.
type Limit struct {
	baseStats
	child         Operator
	limit, offset int64
	seen, emitted int64
	sel           []int32
}

// NewLimit returns child LIMIT limit OFFSET offset (limit < 0: no limit).
func NewLimit(child Operator, limit, offset int64) *Limit {
	return &Limit{child: child, limit: limit, offset: offset}
}

func (l *Limit) Schema() []types.Type { return l.child.Schema() }
func (l *Limit) Open(ctx context.Context) error {
	l.seen, l.emitted = 0, 0
	return l.child.Open(ctx)
}
func (l *Limit) Close() error { return l.child.Close() }

func (l *Limit) Next(ctx context.Context, b *Batch) error {
	for {
		if l.limit >= 0 && l.emitted >= l.limit {
			b.Reset()
			return io.EOF
		}
		if err := Next(ctx, l.child, b); err != nil {
			return err
		}
		n := int64(b.NumRows())
		skip := int64(0)
		if l.seen < l.offset {
			skip = min(n, l.offset-l.seen)
		}
		l.seen += n
		keep := n - skip
		if l.limit >= 0 {
			keep = min(keep, l.limit-l.emitted)
		}
		if keep <= 0 {
			continue
		}
		l.emitted += keep
		if skip == 0 && keep == n {
			return nil
		}
		rows := rowsOf(b)
		l.sel = append(l.sel[:0], rows[skip:skip+keep]...)
		b.Sel = l.sel
		return nil
	}
}

// UnionAll concatenates its children's outputs in order.
type UnionAll struct {
	baseStats
	children []Operator
	cur      int
}

// NewUnionAll returns UNION ALL of children, which must share a schema.
func NewUnionAll(children ...Operator) (*UnionAll, error) {
	if len(children) == 0 {
		return nil, errors.New("UNION ALL needs at least one input")
	}
	s := children[0].Schema()
	for i, c := range children[1:] {
		cs := c.Schema()
		if len(cs) != len(s) {
			return nil, fmt.Errorf("UNION ALL input %d has %d columns, want %d", i+1, len(cs), len(s))
		}
		for j := range cs {
			if physOf(cs[j]) != physOf(s[j]) || cs[j].Arrow().ID() != s[j].Arrow().ID() {
				return nil, fmt.Errorf("UNION ALL input %d column %d is %v, want %v", i+1, j+1, cs[j], s[j])
			}
		}
	}
	return &UnionAll{children: children}, nil
}

func (u *UnionAll) Schema() []types.Type { return u.children[0].Schema() }
func (u *UnionAll) Open(ctx context.Context) error {
	u.cur = 0
	for _, c := range u.children {
		if err := c.Open(ctx); err != nil {
			return err
		}
	}
	return nil
}
func (u *UnionAll) Close() error {
	var first error
	for _, c := range u.children {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (u *UnionAll) Next(ctx context.Context, b *Batch) error {
	for u.cur < len(u.children) {
		err := Next(ctx, u.children[u.cur], b)
		if errors.Is(err, io.EOF) {
			u.cur++
			continue
		}
		return err
	}
	b.Reset()
	return io.EOF
}

package planner

import (
	"fmt"
	"runtime"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// Field describes one result column.
type Field struct {
	Name, OrgName, Table, OrgTable, Schema string
	Type                                   types.Type
	Nullable                               bool
}

// Plan is a planned query: a logical plan after the rewrite rules.
type Plan struct {
	root   node
	Fields []Field
}

// PlanSelect binds and optimizes a query. params are the values of its ?
// placeholders (nil when only preparing).
func (p *Planner) PlanSelect(stmt *sql.SelectStmt, params []any) (*Plan, error) {
	p.params = params
	root, err := p.bindQuery(stmt)
	if err != nil {
		return nil, err
	}
	root, err = p.optimize(root)
	if err != nil {
		return nil, err
	}
	pl := &Plan{root: root}
	for _, c := range root.columns() {
		t := c.t
		if t == untypedNullType && c.orgName == "" {
			// SELECT NULL: report a nullable string-free type.
			t = types.Boolean
		}
		pl.Fields = append(pl.Fields, Field{
			Name: c.name, OrgName: c.orgName, Table: c.table, OrgTable: c.orgTable, Schema: c.db,
			Type: t, Nullable: c.nullable,
		})
	}
	return pl, nil
}

// Execution is a built operator tree and what it pins.
type Execution struct {
	Root     exec.Operator
	releases []func()
}

// Release unpins every tablet version the execution read. It is safe to call
// more than once.
func (e *Execution) Release() {
	for _, r := range e.releases {
		r()
	}
	e.releases = nil
}

// Build pins the tablets the plan reads and builds its operators.
func (p *Planner) Build(pl *Plan) (*Execution, error) {
	x := &Execution{}
	op, err := p.build(pl.root, x)
	if err != nil {
		x.Release()
		return nil, err
	}
	x.Root = op
	return x, nil
}

func compileAll(es []*ir) []exec.Expr {
	out := make([]exec.Expr, len(es))
	for i, e := range es {
		out[i] = e.mustCompile(nil)
	}
	return out
}

func (p *Planner) build(n node, x *Execution) (exec.Operator, error) {
	switch v := n.(type) {
	case *scanNode:
		return p.buildScan(v, x)
	case *filterNode:
		child, err := p.build(v.child, x)
		if err != nil {
			return nil, err
		}
		return exec.NewFilter(child, v.pred.mustCompile(nil)), nil
	case *projectNode:
		child, err := p.build(v.child, x)
		if err != nil {
			return nil, err
		}
		return exec.NewProject(child, compileAll(v.exprs)), nil
	case *aggNode:
		if op, ok, err := p.buildParallelAgg(v, x); ok || err != nil {
			return op, err
		}
		child, err := p.build(v.child, x)
		if err != nil {
			return nil, err
		}
		aggs := make([]exec.AggSpec, len(v.aggs))
		for i, a := range v.aggs {
			aggs[i] = exec.AggSpec{Func: a.fn, Distinct: a.distinct, Args: compileAll(a.args)}
		}
		return exec.NewHashAgg(child, compileAll(v.groups), aggs)
	case *joinNode:
		probe, err := p.build(v.left, x)
		if err != nil {
			return nil, err
		}
		build, err := p.build(v.right, x)
		if err != nil {
			return nil, err
		}
		var other exec.Expr
		if v.other != nil {
			other = v.other.mustCompile(nil)
		}
		return exec.NewHashJoin(build, probe, v.kind, compileAll(v.rightKeys), compileAll(v.leftKeys), other)
	case *sortNode:
		child, err := p.build(v.child, x)
		if err != nil {
			return nil, err
		}
		return exec.NewSort(child, sortKeys(v.keys)), nil
	case *limitNode:
		if s, ok := v.child.(*sortNode); ok && v.limit >= 0 && v.limit+v.offset <= 1<<20 {
			child, err := p.build(s.child, x)
			if err != nil {
				return nil, err
			}
			return exec.NewTopN(child, sortKeys(s.keys), v.limit, v.offset), nil
		}
		child, err := p.build(v.child, x)
		if err != nil {
			return nil, err
		}
		return exec.NewLimit(child, v.limit, v.offset), nil
	case *distinctNode:
		child, err := p.build(v.child, x)
		if err != nil {
			return nil, err
		}
		return exec.NewDistinct(child), nil
	case *unionNode:
		children := make([]exec.Operator, len(v.children))
		for i, c := range v.children {
			op, err := p.build(c, x)
			if err != nil {
				return nil, err
			}
			children[i] = op
		}
		return exec.NewUnionAll(children...)
	case *valuesNode:
		schema := make([]types.Type, len(v.out))
		for i, c := range v.out {
			schema[i] = c.t
		}
		rows := make([][]any, len(v.rows))
		ec := exec.NewEvalContext()
		for i, r := range v.rows {
			rows[i] = make([]any, len(r))
			for j, e := range r {
				val, err := evalConst(ec, e)
				if err != nil {
					return nil, err
				}
				rows[i][j] = val
			}
		}
		return exec.NewValues(schema, rows)
	}
	return nil, fmt.Errorf("BUG: no physical operator for %T", n)
}

func sortKeys(keys []sortKey) []exec.SortKey {
	out := make([]exec.SortKey, len(keys))
	for i, k := range keys {
		out[i] = exec.SortKey{Expr: k.e.mustCompile(nil), Desc: k.desc, Nulls: k.nulls}
	}
	return out
}

// evalConst evaluates a constant expression to a Go value for exec.NewValues.
func evalConst(ec *exec.EvalContext, e *ir) (any, error) {
	x, err := e.compile(nil)
	if err != nil {
		return nil, err
	}
	if l, ok := x.(*exec.Literal); ok {
		return l.Value, nil
	}
	return nil, fmt.Errorf("BUG: non-constant value in VALUES: %s", e)
}

// buildParallelAgg runs an aggregation directly over a scan with one
// worker per core, each aggregating the pages it takes from a shared queue,
// when the aggregates allow partial results (no DISTINCT). ok is false when
// the plan does not have that shape.
func (p *Planner) buildParallelAgg(v *aggNode, x *Execution) (exec.Operator, bool, error) {
	s, isScan := v.child.(*scanNode)
	workers := runtime.GOMAXPROCS(0)
	if !isScan || workers < 2 {
		return nil, false, nil
	}
	for _, a := range v.aggs {
		switch a.fn {
		case "count", "sum", "min", "max", "avg", "any_value":
		default:
			return nil, false, nil
		}
		if a.distinct {
			return nil, false, nil
		}
	}
	segs, err := p.pinScan(s, x)
	if err != nil {
		return nil, false, err
	}
	aggs := make([]exec.AggSpec, len(v.aggs))
	for i, a := range v.aggs {
		aggs[i] = exec.AggSpec{Func: a.fn, Args: compileAll(a.args)}
	}
	op, err := exec.NewParallelScanAgg(scanSpec(s, segs), compileAll(v.groups), aggs, workers)
	if err != nil {
		return nil, false, err
	}
	return op, true, nil
}

// buildScan pins the tablets of the surviving partitions and reads their
// segments.
func (p *Planner) buildScan(s *scanNode, x *Execution) (exec.Operator, error) {
	segs, err := p.pinScan(s, x)
	if err != nil {
		return nil, err
	}
	return p.newSegmentScan(s, segs)
}

// pinScan pins the tablets of the partitions a scan reads at their visible
// versions and returns their segments.
func (p *Planner) pinScan(s *scanNode, x *Execution) ([]*storage.Segment, error) {
	var segs []*storage.Segment
	for _, pi := range s.partitions {
		part := &s.table.Partitions[pi]
		for _, tabletID := range part.Tablets {
			ss, release, err := p.tablets.ReadTablet(tabletID, part.VisibleVersion)
			if err != nil {
				return nil, fmt.Errorf("reading tablet %d of %s.%s: %w", tabletID, s.db, s.table.Name, err)
			}
			x.releases = append(x.releases, release)
			segs = append(segs, ss...)
		}
	}
	return segs, nil
}

// EvalConstant evaluates an expression that reads no column (SET values,
// INSERT ... VALUES rows) to a literal.
func (p *Planner) EvalConstant(e sql.Expr, params []any) (*exec.Literal, error) {
	b := &exprBinder{p: p, scope: &scope{}, params: params}
	x, err := b.bind(e)
	if err != nil {
		return nil, err
	}
	if x.kind == irLit {
		return x.lit, nil
	}
	c, err := x.compile(nil)
	if err != nil {
		return nil, typeError(err)
	}
	if l, ok := c.(*exec.Literal); ok {
		return l, nil
	}
	// Not folded at bind time (volatile functions): evaluate over one row.
	ec := exec.NewEvalContext()
	arr, err := c.Eval(ec, &exec.Batch{Len: 1})
	if err != nil {
		return nil, err
	}
	defer arr.Release()
	return literalFromArray(arr, 0, c.Type())
}

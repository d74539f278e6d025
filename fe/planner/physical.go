package planner

import (
	"time"

	"fmt"
	"github.com/RoaringBitmap/roaring/v2"
	"runtime"
	"strings"

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
	// remote is the planner's Remote, for EXPLAIN to show the fragments,
	// and joinOpts the session's settings for their joins.
	remote   Remote
	joinOpts joinOptions
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
	pl := &Plan{root: root, remote: p.remote, joinOpts: p.joinOptions()}
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
	// fragments counts the fragments cut so far (with a Remote).
	fragments int
	// joins are the strategies of the joins that run in fragments (with
	// a Remote).
	joins map[*joinNode]*joinChoice
	// TimeZone is the session's @@time_zone, in which the query's
	// expressions evaluate.
	TimeZone *time.Location
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
	x := &Execution{TimeZone: p.location()}
	if p.remote != nil {
		x.joins = chooseJoins(pl.root, p.remote, p.joinOptions())
	}
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
	if p.remote != nil {
		if cut := cutFragment(n); cut != nil {
			return p.buildRemote(cut, x)
		}
	}
	switch v := n.(type) {
	case *scanNode:
		return p.buildScan(v, x)
	case *sysScanNode:
		return p.buildSysScan(v, x)
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
	case *exchangeNode:
		return p.buildExchange(v)
	case *inputNode:
		return &batchesOp{schema: typesOf(v.out), batches: v.data.Batches}, nil
	case *valuesNode:
		schema := make([]types.Type, len(v.out))
		for i, c := range v.out {
			schema[i] = c.t
		}
		rows := make([][]any, len(v.rows))
		ec := exec.NewEvalContext()
		ec.TimeZone = x.TimeZone
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
	s, spine, workers := parallelAgg(v)
	if s == nil {
		return nil, false, nil
	}
	segs, err := p.pinScan(s, x)
	if err != nil {
		return nil, false, err
	}
	aggs := make([]exec.AggSpec, len(v.aggs))
	for i, a := range v.aggs {
		aggs[i] = exec.AggSpec{Func: a.fn, Args: compileAll(a.args)}
	}
	var pipe *exec.Pipeline
	if len(spine) > 0 {
		if pipe, err = p.pipeline(v.child, s, spine, x); err != nil {
			return nil, false, err
		}
	}
	op, err := exec.NewParallelPipelineAgg(scanSpec(s, segs), pipe, compileAll(v.groups), aggs, workers)
	if err != nil {
		return nil, false, err
	}
	return op, true, nil
}

// parallelAgg returns the scan and spine (see probeSpine) of an aggregation
// that runs as a parallel pipeline and the number of workers, or a nil
// scan: the aggregates must allow partial results (no DISTINCT).
func parallelAgg(v *aggNode) (*scanNode, []node, int) {
	s, spine := probeSpine(v.child)
	workers := runtime.GOMAXPROCS(0)
	if s == nil || workers < 2 {
		return nil, nil, 0
	}
	if s.folds() {
		return nil, nil, 0 // rows are folded by key first: see newMergeScan
	}
	for _, a := range v.aggs {
		if !exec.PartialAggregate(a.fn) || a.distinct || a.fn == "group_concat" {
			return nil, nil, 0
		}
	}
	return s, spine, workers
}

// runtimeFilterCol is the scan column a join of a pipeline filters at the
// scan, or -1: the join is inner, its only probe key is a column of the
// scan, and only joins and filters lie between (direct).
func runtimeFilterCol(j *joinNode, s *scanNode, direct bool) int {
	if !direct || j.kind != exec.JoinInner || len(j.leftKeys) != 1 {
		return -1
	}
	c, ok := j.leftKeys[0].mustCompile(nil).(*exec.ColumnRef)
	if !ok || c.Idx >= len(s.out) {
		return -1
	}
	// Runtime filters take integer keys compared without conversion.
	isInt := func(t types.Type) bool { return t.Kind.IsInteger() && t.Kind != types.KindLargeInt }
	if !isInt(c.T) || !isInt(j.rightKeys[0].mustCompile(nil).Type()) {
		return -1
	}
	return c.Idx
}

// probeSpine finds the scan at the bottom of n through filters, projections
// and the probe (left) side of hash joins: the shape a parallel pipeline
// runs, each worker scanning its share of the pages and probing build
// sides computed once. It returns the scan (nil when n has another shape)
// and the nodes above it, top first.
func probeSpine(n node) (*scanNode, []node) {
	var spine []node
	for {
		switch v := n.(type) {
		case *scanNode:
			return v, spine
		case *filterNode:
			spine = append(spine, v)
			n = v.child
		case *projectNode:
			spine = append(spine, v)
			n = v.child
		case *joinNode:
			if v.cross {
				return nil, nil
			}
			spine = append(spine, v)
			n = v.left
		default:
			return nil, nil
		}
	}
}

// pipeline builds the parallel pipeline of the spine above scan s: the
// joins' build sides as operators (run once, at Open) and a factory for
// each worker's operators. A join whose only probe key is a scan column,
// with only joins and filters between, gets a runtime filter on it.
func (p *Planner) pipeline(top node, s *scanNode, spine []node, x *Execution) (*exec.Pipeline, error) {
	pipe := &exec.Pipeline{}
	joinIdx := map[*joinNode]int{}
	// Bottom-up, so that join i is the i-th from the scan.
	direct := true // scan columns keep their positions so far
	for k := len(spine) - 1; k >= 0; k-- {
		switch v := spine[k].(type) {
		case *projectNode:
			direct = false
		case *joinNode:
			build, err := p.build(v.right, x)
			if err != nil {
				return nil, err
			}
			pj := exec.PipelineJoin{Build: build, Kind: v.kind, BuildKeys: compileAll(v.rightKeys),
				ProbeKeys: compileAll(v.leftKeys), RuntimeFilterCol: -1}
			if v.other != nil {
				pj.Other = v.other.mustCompile(nil)
			}
			pj.RuntimeFilterCol = runtimeFilterCol(v, s, direct)
			joinIdx[v] = len(pipe.Joins)
			pipe.Joins = append(pipe.Joins, pj)
		}
	}
	var stage func(n node, scan exec.Operator, join func(int, exec.Operator) (exec.Operator, error)) (exec.Operator, error)
	stage = func(n node, scan exec.Operator, join func(int, exec.Operator) (exec.Operator, error)) (exec.Operator, error) {
		switch v := n.(type) {
		case *scanNode:
			return scan, nil
		case *filterNode:
			child, err := stage(v.child, scan, join)
			if err != nil {
				return nil, err
			}
			return exec.NewFilter(child, v.pred.mustCompile(nil)), nil
		case *projectNode:
			child, err := stage(v.child, scan, join)
			if err != nil {
				return nil, err
			}
			return exec.NewProject(child, compileAll(v.exprs)), nil
		case *joinNode:
			probe, err := stage(v.left, scan, join)
			if err != nil {
				return nil, err
			}
			return join(joinIdx[v], probe)
		}
		return nil, fmt.Errorf("BUG: %T in a pipeline", n)
	}
	pipe.Build = func(scan exec.Operator, join func(int, exec.Operator) (exec.Operator, error)) (exec.Operator, error) {
		return stage(top, scan, join)
	}
	return pipe, nil
}

// buildScan pins the tablets of the surviving partitions and reads their
// segments.
func (p *Planner) buildScan(s *scanNode, x *Execution) (exec.Operator, error) {
	segs, err := p.pinScan(s, x)
	if err != nil {
		return nil, err
	}
	if s.folds() {
		if !segs.Flat {
			return newMergeScan(s, segs, p.keepDeleteSigns())
		}
		// Every tablet is one key per row already (compacted, or one
		// flush): scanned as a duplicate-key table, without its deleted
		// and delete-sign rows.
		segs.Deletes = segs.FlatDeletes
	}
	return p.newSegmentScan(s, segs)
}

// pinnedSegments are the segments a scan reads and the rows of each it
// skips (Deletes nil: none anywhere); Tablets has them per tablet.
type pinnedSegments struct {
	Segments []*storage.Segment
	Deletes  []*roaring.Bitmap
	Tablets  []exec.MergeTablet
	// Flat: every tablet's TabletData.Flat; FlatDeletes parallel to
	// Segments (nil: none).
	Flat        bool
	FlatDeletes []*roaring.Bitmap
}

// scanTablets lists the tablets of the partitions a scan reads, each at its
// partition's visible version.
func scanTablets(s *scanNode) []FragmentTablet {
	var out []FragmentTablet
	for _, pi := range s.partitions {
		part := &s.table.Partitions[pi]
		for _, tabletID := range part.Tablets {
			out = append(out, FragmentTablet{ID: tabletID, Version: part.VisibleVersion})
		}
	}
	return out
}

// pinScan pins the tablets a scan reads (those of its partitions at their
// visible versions, or those a fragment lists) and returns their segments.
func (p *Planner) pinScan(s *scanNode, x *Execution) (pinnedSegments, error) {
	out := pinnedSegments{Flat: true}
	anyDeletes, anyFlatDeletes := false, false
	tablets := s.tablets
	if tablets == nil {
		tablets = scanTablets(s)
	}
	var read func(tabletID, version int64) (TabletData, error)
	if len(tablets) > 0 {
		read = p.tablets.ReadTablet
		if sr, ok := p.tablets.(SignKeepingReader); ok && p.keepDeleteSigns() {
			read = sr.ReadTabletKeepingSigns
		}
	}
	for _, tv := range tablets {
		td, err := read(tv.ID, tv.Version)
		if err != nil {
			return out, &TabletReadError{TabletID: tv.ID, Version: tv.Version, DB: s.db, Table: s.table.Name, Err: err}
		}
		x.releases = append(x.releases, td.Release)
		out.Tablets = append(out.Tablets, exec.MergeTablet{Segments: td.Segments, Deletes: td.Deletes})
		out.Segments = append(out.Segments, td.Segments...)
		if td.Deletes != nil {
			anyDeletes = true
			out.Deletes = append(out.Deletes, td.Deletes...)
		} else {
			out.Deletes = append(out.Deletes, make([]*roaring.Bitmap, len(td.Segments))...)
		}
		out.Flat = out.Flat && td.Flat
		if out.Flat {
			fd := td.FlatDeletes
			if len(fd) != len(td.Segments) {
				fd = make([]*roaring.Bitmap, len(td.Segments))
			}
			for _, d := range fd {
				anyFlatDeletes = anyFlatDeletes || d != nil
			}
			out.FlatDeletes = append(out.FlatDeletes, fd...)
		}
	}
	if !anyDeletes {
		out.Deletes = nil
	}
	if !out.Flat || !anyFlatDeletes {
		out.FlatDeletes = nil
	}
	return out, nil
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
	ec.TimeZone = p.location()
	arr, err := c.Eval(ec, &exec.Batch{Len: 1})
	if err != nil {
		return nil, err
	}
	defer arr.Release()
	return literalFromArray(arr, 0, c.Type())
}

// keepDeleteSigns reports whether the session reads the rows whose delete
// sign is set (SET skip_delete_sign = true, as in Doris).
func (p *Planner) keepDeleteSigns() bool {
	v := p.sess.Variable("skip_delete_sign")
	return v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "on")
}

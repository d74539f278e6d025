package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/types"
)

// cteScope maps CTE names to their definitions.
type cteScope map[string]*sql.CTE

// bindQuery binds a whole query twice (see the package doc) and returns the
// logical plan.
func (p *Planner) bindQuery(stmt *sql.SelectStmt) (node, error) {
	p.usedCols = map[int]map[int]bool{}
	p.pass, p.scanSeq = 1, 0
	if _, err := p.bindSelect(stmt, nil); err != nil {
		return nil, err
	}
	p.pass, p.scanSeq = 2, 0
	return p.bindSelect(stmt, nil)
}

func (p *Planner) bindSelect(s *sql.SelectStmt, ctes cteScope) (node, error) {
	if len(s.With) > 0 {
		inner := cteScope{}
		for k, v := range ctes {
			inner[k] = v
		}
		for _, c := range s.With {
			inner[strings.ToLower(c.Name)] = c
		}
		ctes = inner
	}
	switch b := s.Body.(type) {
	case *sql.SelectBlock:
		return p.bindBlock(b, s.OrderBy, s.Limit, ctes)
	case *sql.SetOp:
		n, err := p.bindSetOp(b, ctes)
		if err != nil {
			return nil, err
		}
		return p.bindOrderLimitOutput(n, s.OrderBy, s.Limit)
	case *sql.SelectStmt:
		n, err := p.bindSelect(b, ctes)
		if err != nil {
			return nil, err
		}
		return p.bindOrderLimitOutput(n, s.OrderBy, s.Limit)
	}
	return nil, unsupported(fmt.Sprintf("query form %T", s.Body))
}

func (p *Planner) bindQueryBody(q sql.QueryBody, ctes cteScope) (node, error) {
	switch b := q.(type) {
	case *sql.SelectBlock:
		return p.bindBlock(b, nil, nil, ctes)
	case *sql.SetOp:
		return p.bindSetOp(b, ctes)
	case *sql.SelectStmt:
		return p.bindSelect(b, ctes)
	}
	return nil, unsupported(fmt.Sprintf("query form %T", q))
}

func (p *Planner) bindSetOp(s *sql.SetOp, ctes cteScope) (node, error) {
	if s.Op != "UNION" {
		return nil, unsupported(s.Op)
	}
	l, err := p.bindQueryBody(s.Left, ctes)
	if err != nil {
		return nil, err
	}
	r, err := p.bindQueryBody(s.Right, ctes)
	if err != nil {
		return nil, err
	}
	lc, rc := visible(l.columns()), visible(r.columns())
	if len(lc) != len(rc) {
		return nil, &Error{Code: 1222, Msg: "The used SELECT statements have a different number of columns"}
	}
	// Convert both sides to common column types.
	out := make([]column, len(lc))
	lx := make([]*ir, len(lc))
	rx := make([]*ir, len(rc))
	for i := range lc {
		t := lc[i].t
		if !isUntypedNullCol(lc[i]) {
			if !isUntypedNullCol(rc[i]) {
				ct, err := exec.CommonType(lc[i].t, rc[i].t)
				if err != nil {
					return nil, typeError(err)
				}
				t = ct
			}
		} else {
			t = rc[i].t
		}
		out[i] = column{name: lc[i].name, t: t, nullable: lc[i].nullable || rc[i].nullable}
		lx[i] = castIR(colIR(i, lc[i].t), t)
		rx[i] = castIR(colIR(i, rc[i].t), t)
	}
	var children []node
	for _, side := range []struct {
		n  node
		xs []*ir
	}{{l, lx}, {r, rx}} {
		if u, ok := side.n.(*unionNode); ok && sameTypes(u.out, out) {
			children = append(children, u.children...)
			continue
		}
		children = append(children, &projectNode{child: stripHidden(side.n), exprs: side.xs, out: out})
	}
	var n node = &unionNode{children: children, out: out}
	if !s.All {
		for _, c := range out {
			if c.t.Kind.IsObject() {
				return nil, errOnlyMetricType()
			}
		}
		n = &distinctNode{child: n}
	}
	return n, nil
}

func isUntypedNullCol(c column) bool {
	return c.t == untypedNullType && c.orgName == "" && c.name == "NULL"
}

func sameTypes(a, b []column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].t != b[i].t {
			return false
		}
	}
	return true
}

// castIR converts e to t when needed.
func castIR(e *ir, t types.Type) *ir {
	if e.t == t {
		return e
	}
	x, err := newCall("", "CAST", []*ir{e}, &callSpec{Kind: callCoerce, Type: &t})
	if err != nil {
		panic("BUG: cast to common type: " + err.Error())
	}
	return x
}

// visible drops hidden columns.
func visible(cols []column) []column {
	out := cols[:0:0]
	for _, c := range cols {
		if !c.hidden {
			out = append(out, c)
		}
	}
	return out
}

// stripHidden projects away hidden columns, if any.
func stripHidden(n node) node {
	cols := n.columns()
	var exprs []*ir
	var out []column
	hidden := false
	for i, c := range cols {
		if c.hidden {
			hidden = true
			continue
		}
		exprs = append(exprs, colIR(i, c.t))
		out = append(out, c)
	}
	if !hidden {
		return n
	}
	return &projectNode{child: n, exprs: exprs, out: out}
}

// bindOrderLimitOutput applies ORDER BY and LIMIT to a node by output
// column names and ordinals only (set operations).
func (p *Planner) bindOrderLimitOutput(n node, order []*sql.OrderItem, limit *sql.Limit) (node, error) {
	if len(order) > 0 {
		sc := &scope{cols: n.columns()}
		b := &exprBinder{p: p, scope: sc, params: p.params}
		var keys []sortKey
		for _, o := range order {
			var e *ir
			if lit, ok := o.Expr.(*sql.IntLit); ok {
				i := int(lit.Val)
				if i < 1 || i > len(sc.cols) {
					return nil, &Error{Code: ErrBadField, Msg: fmt.Sprintf("Unknown column '%d' in 'order clause'", i)}
				}
				e = colIR(i-1, sc.cols[i-1].t)
			} else {
				x, err := b.bind(o.Expr)
				if err != nil {
					return nil, err
				}
				e = x
			}
			if e.t.Kind.IsObject() {
				return nil, errOnlyMetricType()
			}
			keys = append(keys, sortKey{e: e, desc: o.Desc, nulls: nullOrder(o.Nulls)})
		}
		n = &sortNode{child: n, keys: keys}
	}
	return p.bindLimit(n, limit)
}

func nullOrder(s string) exec.NullOrder {
	switch s {
	case "FIRST":
		return exec.NullsFirst
	case "LAST":
		return exec.NullsLast
	}
	return exec.NullsDefault
}

func (p *Planner) bindLimit(n node, limit *sql.Limit) (node, error) {
	if limit == nil {
		return n, nil
	}
	count, err := p.constInt(limit.Count, "LIMIT")
	if err != nil {
		return nil, err
	}
	var offset int64
	if limit.Offset != nil {
		if offset, err = p.constInt(limit.Offset, "OFFSET"); err != nil {
			return nil, err
		}
	}
	return &limitNode{child: n, limit: count, offset: offset}, nil
}

func (p *Planner) constInt(e sql.Expr, what string) (int64, error) {
	switch x := e.(type) {
	case *sql.IntLit:
		if !x.Big && x.Val >= 0 {
			return x.Val, nil
		}
	case *sql.Placeholder:
		if p.params != nil && x.Index < len(p.params) {
			switch v := p.params[x.Index].(type) {
			case int64:
				if v >= 0 {
					return v, nil
				}
			case uint64:
				return int64(v), nil
			}
		}
		if p.params == nil {
			return 0, nil
		}
	}
	return 0, &Error{Code: ErrParse, Msg: fmt.Sprintf("%s must be a non-negative integer, got %s", what, e)}
}

// bindBlock binds one SELECT ... FROM ... WHERE ... GROUP BY ... HAVING,
// plus the ORDER BY and LIMIT that apply to it.
func (p *Planner) bindBlock(blk *sql.SelectBlock, order []*sql.OrderItem, limit *sql.Limit, ctes cteScope) (node, error) {
	var from node
	if blk.From == nil {
		from = &valuesNode{rows: [][]*ir{{}}}
	} else {
		f, err := p.bindTableRef(blk.From, ctes)
		if err != nil {
			return nil, err
		}
		from = f
	}
	fromScope := &scope{cols: from.columns()}
	if blk.Where != nil {
		b := &exprBinder{p: p, scope: fromScope, params: p.params}
		if hasAggregate(blk.Where) {
			return nil, &Error{Code: ErrInvalidGroupFunc, Msg: "Invalid use of group function in WHERE clause"}
		}
		pred, err := b.bind(blk.Where)
		if err != nil {
			return nil, err
		}
		if pred.t.Kind.IsObject() {
			return nil, errOnlyMetricType()
		}
		from = &filterNode{child: from, pred: pred}
	}

	// Expand * in the select list.
	type item struct {
		expr sql.Expr
		name string
		col  *column // the source column of a plain reference, for metadata
	}
	var items []item
	// Doris's hidden columns (the delete sign of a unique table) are left
	// out of * unless show_hidden_columns is set.
	v := p.sess.Variable("show_hidden_columns")
	showHidden := v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "on")
	for _, it := range blk.Items {
		if st, ok := it.Expr.(*sql.StarExpr); ok {
			n := 0
			for i, c := range fromScope.cols {
				if c.hidden || (st.Table != "" && !strings.EqualFold(c.table, st.Table)) {
					continue
				}
				if c.scanID >= 0 && !showHidden && IsHiddenColumn(c.orgName) {
					continue
				}
				p.markUsed(fromScope.cols[i])
				items = append(items, item{expr: &sql.ColumnRef{Table: c.table, Column: c.name}, name: c.name})
				n++
			}
			if n == 0 && st.Table != "" {
				return nil, &Error{Code: ErrBadField, Msg: fmt.Sprintf("Unknown table '%s'", st.Table)}
			}
			continue
		}
		name := it.Alias
		if name == "" {
			name = it.Text
			if cr, ok := it.Expr.(*sql.ColumnRef); ok {
				name = cr.Column
			}
		}
		items = append(items, item{expr: it.Expr, name: name})
	}
	aliases := map[string]sql.Expr{}
	for _, it := range blk.Items {
		if it.Alias != "" {
			aliases[strings.ToLower(it.Alias)] = it.Expr
		}
	}

	// Aggregation.
	var aggExprs []*sql.FuncCall
	for _, it := range items {
		collectAggregates(it.expr, &aggExprs)
	}
	if blk.Having != nil {
		collectAggregates(blk.Having, &aggExprs)
	}
	for _, o := range order {
		collectAggregates(o.Expr, &aggExprs)
	}
	// Aliases used in HAVING/ORDER BY may name aggregates too.
	for _, e := range aliases {
		collectAggregates(e, &aggExprs)
	}
	pre := &exprBinder{p: p, scope: fromScope, params: p.params}
	post := pre // binds select items, HAVING and ORDER BY
	var below node = from
	if len(blk.GroupBy) > 0 || len(aggExprs) > 0 {
		agg := &aggNode{child: from}
		groupKeys := map[string]int{}
		for _, g := range blk.GroupBy {
			ge := g
			if lit, ok := g.(*sql.IntLit); ok {
				i := int(lit.Val)
				if i < 1 || i > len(items) {
					return nil, &Error{Code: ErrBadField, Msg: fmt.Sprintf("Unknown column '%d' in 'group statement'", i)}
				}
				ge = items[i-1].expr
			} else if cr, ok := g.(*sql.ColumnRef); ok && cr.Table == "" {
				if _, err := fromScope.resolve(cr); err != nil {
					if a, ok := aliases[strings.ToLower(cr.Column)]; ok {
						ge = a
					}
				}
			}
			if hasAggregate(ge) {
				return nil, &Error{Code: ErrInvalidGroupFunc, Msg: fmt.Sprintf("Can't group on '%s'", g)}
			}
			x, err := pre.bind(ge)
			if err != nil {
				return nil, err
			}
			if x.t.Kind.IsObject() {
				return nil, errOnlyMetricType()
			}
			key := x.String()
			if _, dup := groupKeys[key]; dup {
				continue
			}
			groupKeys[key] = len(agg.groups)
			agg.groups = append(agg.groups, x)
			c := column{name: ge.String(), t: x.t, nullable: true}
			if x.kind == irCol {
				c = fromScope.cols[x.col]
			}
			agg.out = append(agg.out, c)
		}
		aggCalls := map[string]int{}
		for _, f := range aggExprs {
			key := canonical(f)
			if _, dup := aggCalls[key]; dup {
				continue
			}
			call, t, err := p.bindAggregate(pre, f)
			if err != nil {
				return nil, err
			}
			aggCalls[key] = len(agg.out)
			agg.aggs = append(agg.aggs, call)
			agg.out = append(agg.out, column{name: f.String(), t: t, nullable: true})
		}
		below = agg
		post = &exprBinder{p: p, scope: &scope{cols: agg.out}, params: p.params, aggInput: fromScope, groupKeys: groupKeys, aggCalls: aggCalls}
	}
	post.aliases = aliases
	if blk.Having != nil {
		pred, err := post.bind(blk.Having)
		if err != nil {
			return nil, err
		}
		if pred.t.Kind.IsObject() {
			return nil, errOnlyMetricType()
		}
		below = &filterNode{child: below, pred: pred}
	}

	// The projection, with hidden extra columns for ORDER BY expressions
	// that are not selected.
	post.aliases = nil // select items may not refer to each other's aliases
	proj := &projectNode{child: below}
	for _, it := range items {
		x, err := post.bind(it.expr)
		if err != nil {
			return nil, err
		}
		c := column{name: it.name, t: x.t, nullable: true}
		if x.kind == irCol {
			src := post.scope.cols[x.col]
			c.table, c.db, c.orgTable, c.orgName, c.nullable = src.table, src.db, src.orgTable, src.orgName, src.nullable
		} else if x.kind == irLit {
			c.nullable = x.lit.IsNull()
		}
		proj.exprs = append(proj.exprs, x)
		proj.out = append(proj.out, c)
	}
	var n node = proj
	if blk.Distinct {
		for _, c := range proj.out {
			if c.t.Kind.IsObject() {
				return nil, errOnlyMetricType()
			}
		}
		n = &distinctNode{child: proj}
	}
	if len(order) > 0 {
		post.aliases = aliases
		var keys []sortKey
		for _, o := range order {
			idx := -1
			switch x := o.Expr.(type) {
			case *sql.IntLit:
				i := int(x.Val)
				if i < 1 || i > len(items) {
					return nil, &Error{Code: ErrBadField, Msg: fmt.Sprintf("Unknown column '%d' in 'order clause'", i)}
				}
				idx = i - 1
			case *sql.ColumnRef:
				if x.Table == "" {
					for i, it := range items {
						if strings.EqualFold(it.name, x.Column) && (aliasOf(blk, it.name) || isPlainRef(it.expr)) {
							idx = i
							break
						}
					}
				}
			}
			if idx < 0 {
				x, err := post.bind(o.Expr)
				if err != nil {
					return nil, err
				}
				key := x.String()
				for i, e := range proj.exprs {
					if e.String() == key {
						idx = i
						break
					}
				}
				if idx < 0 {
					if blk.Distinct {
						return nil, &Error{Code: 3065, Msg: fmt.Sprintf("Expression #%d of ORDER BY clause is not in SELECT list, references column which is not in SELECT list; this is incompatible with DISTINCT", len(keys)+1)}
					}
					idx = len(proj.exprs)
					proj.exprs = append(proj.exprs, x)
					proj.out = append(proj.out, column{name: o.Expr.String(), t: x.t, nullable: true, hidden: true})
				}
			}
			if proj.out[idx].t.Kind.IsObject() {
				return nil, errOnlyMetricType()
			}
			keys = append(keys, sortKey{e: colIR(idx, proj.out[idx].t), desc: o.Desc, nulls: nullOrder(o.Nulls)})
		}
		n = &sortNode{child: n, keys: keys}
	}
	n, err := p.bindLimit(n, limit)
	if err != nil {
		return nil, err
	}
	return stripHidden(n), nil
}

func aliasOf(blk *sql.SelectBlock, name string) bool {
	for _, it := range blk.Items {
		if strings.EqualFold(it.Alias, name) {
			return true
		}
	}
	return false
}

func isPlainRef(e sql.Expr) bool {
	_, ok := e.(*sql.ColumnRef)
	return ok
}

// bindAggregate binds the arguments of an aggregate call.
//
// ndv and approx_count_distinct are Doris's HLL estimate (exec's
// approx_count_distinct), not an exact count. COUNT(DISTINCT x) of one
// BITMAP or HLL becomes bitmap_union_count(x) or hll_union_agg(x), as
// Doris rewrites it.
func (p *Planner) bindAggregate(b *exprBinder, f *sql.FuncCall) (aggCall, types.Type, error) {
	name := strings.ToLower(f.Name)
	if name == "ndv" {
		name = "approx_count_distinct"
	}
	call := aggCall{fn: name, distinct: f.Distinct, text: f.String()}
	var argTypes []types.Type
	if !f.Star {
		for _, a := range f.Args {
			if hasAggregate(a) {
				return aggCall{}, types.Type{}, &Error{Code: ErrInvalidGroupFunc, Msg: "Invalid use of group function"}
			}
			x, err := b.bind(a)
			if err != nil {
				return aggCall{}, types.Type{}, err
			}
			if isUntypedNull(x) {
				x = litIR(exec.NewLiteral(nil, types.Int))
			}
			call.args = append(call.args, x)
			argTypes = append(argTypes, x.t)
		}
	} else if name != "count" {
		return aggCall{}, types.Type{}, &Error{Code: ErrParse, Msg: fmt.Sprintf("%s(*) is not valid", f.Name)}
	}
	if (name == "sum" || name == "avg" || name == "min" || name == "max") && len(call.args) != 1 {
		return aggCall{}, types.Type{}, &Error{Code: ErrWrongArguments, Msg: fmt.Sprintf("Incorrect parameter count in the call to aggregate function '%s'", f.Name)}
	}
	if name == "count" && call.distinct {
		switch {
		case len(argTypes) == 1 && argTypes[0].Kind == types.KindBitmap:
			name, call.distinct = "bitmap_union_count", false
		case len(argTypes) == 1 && argTypes[0].Kind == types.KindHLL:
			name, call.distinct = "hll_union_agg", false
		default:
			for _, t := range argTypes {
				if t.Kind.IsObject() {
					return aggCall{}, types.Type{}, &Error{Code: ErrUnknown, Msg: "COUNT DISTINCT could not process type " + f.String()}
				}
			}
		}
		call.fn = name
	}
	t, err := exec.AggResultType(name, argTypes)
	if err != nil {
		return aggCall{}, types.Type{}, &Error{Code: ErrWrongArguments, Msg: err.Error()}
	}
	return call, t, nil
}

var aggregateNames = map[string]bool{
	"count": true, "sum": true, "min": true, "max": true, "avg": true, "any_value": true,
	"group_concat": true, "approx_count_distinct": true, "ndv": true,
	"bitmap_union": true, "bitmap_union_count": true, "bitmap_intersect": true, "bitmap_agg": true,
	"bitmap_union_int": true, "group_bitmap_xor": true,
	"hll_union": true, "hll_raw_agg": true, "hll_union_agg": true,
}

func isAggregate(name string) bool { return aggregateNames[strings.ToLower(name)] }

func hasAggregate(e sql.Expr) bool {
	var found []*sql.FuncCall
	collectAggregates(e, &found)
	return len(found) > 0
}

// collectAggregates appends the aggregate calls in e (not inside
// subqueries, not nested in other aggregates) to out.
func collectAggregates(e sql.Expr, out *[]*sql.FuncCall) {
	walkExpr(e, func(x sql.Expr) bool {
		if f, ok := x.(*sql.FuncCall); ok && isAggregate(f.Name) && f.Over == nil {
			*out = append(*out, f)
			return false
		}
		return true
	})
}

// walkExpr calls fn on e and, while fn returns true, on its sub-expressions.
func walkExpr(e sql.Expr, fn func(sql.Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	w := func(xs ...sql.Expr) {
		for _, x := range xs {
			if x != nil {
				walkExpr(x, fn)
			}
		}
	}
	switch x := e.(type) {
	case *sql.UnaryExpr:
		w(x.X)
	case *sql.BinaryExpr:
		w(x.L, x.R)
	case *sql.IsExpr:
		w(x.X)
	case *sql.InExpr:
		w(x.X)
		w(x.List...)
	case *sql.BetweenExpr:
		w(x.X, x.Lo, x.Hi)
	case *sql.LikeExpr:
		w(x.X, x.Pattern, x.Escape)
	case *sql.CaseExpr:
		w(x.Operand, x.Else)
		for _, wh := range x.Whens {
			w(wh.Cond, wh.Result)
		}
	case *sql.CastExpr:
		w(x.X)
	case *sql.ConvertUsingExpr:
		w(x.X)
	case *sql.CollateExpr:
		w(x.X)
	case *sql.IntervalExpr:
		w(x.Value)
	case *sql.TrimExpr:
		w(x.Remove, x.X)
	case *sql.ExtractExpr:
		w(x.X)
	case *sql.FuncCall:
		w(x.Args...)
	case *sql.TupleExpr:
		w(x.Items...)
	}
}

// markUsed records, in the first binding pass, that a scan column is read.
func (p *Planner) markUsed(c column) {
	if p.pass != 1 || c.scanID < 0 {
		return
	}
	m := p.usedCols[c.scanID]
	if m == nil {
		m = map[int]bool{}
		p.usedCols[c.scanID] = m
	}
	m[c.schemaIdx] = true
}

// scanColumns lists the schema columns the scan with ordinal id reads.
func (p *Planner) scanColumns(id, ncols int) []int {
	if p.pass == 1 {
		all := make([]int, ncols)
		for i := range all {
			all[i] = i
		}
		return all
	}
	var idx []int
	for i := range p.usedCols[id] {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	if len(idx) == 0 {
		// count(*) and friends still need row counts: read the first column,
		// the leading sort key, which is usually the cheapest.
		idx = []int{0}
	}
	return idx
}

package differential

import (
	"strconv"
	"strings"
)

// query is one SELECT in both dialects and the class of each result
// column, which says how the values are normalised before comparing.
type query struct {
	my, dk  string
	classes []class
	// ordered is set when the query's ORDER BY makes its rows a list
	// (a total order over everything it returns); other results compare
	// as multisets.
	ordered bool
	// shape names the generator's shape, for the tallies.
	shape string
}

// parts joins the fragments of a query, rendering each side.
type parts struct {
	my, dk []string
}

func (p *parts) add(s string) {
	p.my = append(p.my, s)
	p.dk = append(p.dk, s)
}

func (p *parts) addExpr(x expr) {
	p.my = append(p.my, x.my)
	p.dk = append(p.dk, x.dk)
}

func (p *parts) query(shape string, classes []class, ordered bool) query {
	return query{my: strings.Join(p.my, ""), dk: strings.Join(p.dk, ""), classes: classes, ordered: ordered, shape: shape}
}

// list renders xs separated by commas.
func (p *parts) list(xs []expr) {
	for i, x := range xs {
		if i > 0 {
			p.add(", ")
		}
		p.addExpr(x)
	}
}

// query makes one random query over the current database.
func (g *gen) query() query {
	switch n := g.n(100); {
	case n < 30:
		return g.selectQuery()
	case n < 60:
		return g.aggQuery()
	case n < 75:
		return g.topN()
	case n < 85:
		return g.derived()
	case n < 92:
		return g.union()
	default:
		return g.subquery()
	}
}

func (g *gen) where(p *parts, e exprGen) {
	if g.chance(0.8) {
		p.add(" WHERE ")
		p.addExpr(e.pred(2))
	}
}

// selectQuery is SELECT [DISTINCT] exprs FROM f [WHERE p].
func (g *gen) selectQuery() query {
	f := g.fromClause()
	e := exprGen{g: g, cols: f.cols}
	var p parts
	p.add("SELECT ")
	distinct := g.chance(0.3)
	if distinct {
		p.add("DISTINCT ")
	}
	var xs []expr
	var cls []class
	for i, n := 0, 1+g.n(4); i < n; i++ {
		c := pick(g, f.cols...).col.kind.class()
		x := g.unionItem(e.scalar(c, 2))
		xs = append(xs, x)
		cls = append(cls, c)
	}
	p.list(xs)
	p.my = append(p.my, " FROM "+f.my)
	p.dk = append(p.dk, " FROM "+f.dk)
	g.where(&p, e)
	shape := "select"
	if distinct {
		shape = "distinct"
	}
	return p.query(shape, cls, false)
}

// aggregate is an aggregate over e's columns.
func (e exprGen) aggregate() expr {
	g := e.g
	switch g.n(7) {
	case 0:
		return same("COUNT(*)", cNum)
	case 1:
		c := pick(g, e.cols...)
		if g.chance(0.4) {
			return same("COUNT(DISTINCT "+c.sql+")", cNum)
		}
		return same("COUNT("+c.sql+")", cNum)
	case 2, 3:
		// SUM and AVG of operands that stay clear of BIGINT's ends.
		x := e.operand(1)
		name := pick(g, "SUM", "AVG")
		if name == "AVG" && e.hasWideDecimal(x) {
			// AVG(DECIMAL(p, s)) is a DECIMAL(38, s+4) in Strata (MySQL's
			// is wider): for p > 34 the average may not fit, and is NULL.
			name = "SUM"
		}
		if g.chance(0.15) {
			return wrap(cNum, func(a []string) string { return name + "(DISTINCT " + a[0] + ")" }, x)
		}
		return call(name, cNum, x)
	default:
		c := pick(g, e.cols...)
		cl := c.col.kind.class()
		if cl == cBool {
			return same("COUNT("+c.sql+")", cNum)
		}
		x := e.scalar(cl, 1)
		a := call(pick(g, "MIN", "MAX"), cl, x)
		return a
	}
}

// aggQuery is SELECT [g, ...] aggs FROM f [WHERE p] [GROUP BY g, ...]
// [HAVING p] [ORDER BY g ... LIMIT n].
func (g *gen) aggQuery() query {
	f := g.fromClause()
	e := exprGen{g: g, cols: f.cols}
	var keys []expr
	for i, n := 0, g.n(3); i < n; i++ {
		if g.chance(0.7) {
			keys = append(keys, pick(g, f.cols...).expr())
		} else {
			c := pick(g, f.cols...).col.kind.class()
			k := e.scalar(c, 1)
			if !strings.Contains(k.my, ".c") {
				// A constant key: an integer literal in GROUP BY is an
				// ordinal, a string one DuckDB refuses in ORDER BY.
				k = pick(g, f.cols...).expr()
			}
			keys = append(keys, k)
		}
	}
	var aggs []expr
	for i, n := 0, 1+g.n(3); i < n; i++ {
		aggs = append(aggs, e.aggregate())
	}
	var p parts
	p.add("SELECT ")
	p.list(append(append([]expr{}, keys...), aggs...))
	p.my = append(p.my, " FROM "+f.my)
	p.dk = append(p.dk, " FROM "+f.dk)
	g.where(&p, e)
	var cls []class
	for _, x := range append(append([]expr{}, keys...), aggs...) {
		cls = append(cls, x.cls)
	}
	if len(keys) > 0 {
		p.add(" GROUP BY ")
		p.list(keys)
		if g.chance(0.4) {
			p.add(" HAVING ")
			p.addExpr(e.having())
		}
		if g.chance(0.25) {
			// The keys are distinct per group, so ordering by all of them
			// is a total order.
			p.add(" ORDER BY ")
			for i, k := range keys {
				if i > 0 {
					p.add(", ")
				}
				dir := pick(g, " ASC NULLS FIRST", " DESC NULLS LAST", " ASC NULLS LAST", " DESC NULLS FIRST")
				p.addExpr(expr{my: k.my + dir, dk: k.dk + dir})
			}
			p.add(" LIMIT " + strconv.Itoa(1+g.n(5)))
			return p.query("group-topn", cls, true)
		}
		return p.query("group", cls, false)
	}
	return p.query("aggregate", cls, false)
}

// hasWideDecimal reports whether x reads a DECIMAL column of precision
// above 34.
func (e exprGen) hasWideDecimal(x expr) bool {
	for _, c := range e.cols {
		if c.col.kind == kDecimal && c.col.prec > 34 && strings.Contains(x.my, c.sql) {
			return true
		}
	}
	return false
}

// having is a predicate over aggregates.
func (e exprGen) having() expr {
	g := e.g
	a := e.aggregate()
	switch {
	case a.cls == cNum && g.chance(0.7):
		op := pick(g, "=", "<", ">", ">=", "!=")
		k := pick(g, "0", "1", "2", "3", "-1", "10")
		return wrap(cBool, func(s []string) string { return "(" + s[0] + " " + op + " " + k + ")" }, a)
	default:
		return wrap(cBool, func(s []string) string { return "(" + s[0] + " IS NOT NULL)" }, a)
	}
}

// topN is SELECT cols FROM f [WHERE p] ORDER BY every column LIMIT n
// [OFFSET m]: rows equal in every ordering column are equal rows, so the
// order is total. Only columns are projected (no computed DOUBLE that
// might round apart).
func (g *gen) topN() query {
	f := g.fromClause()
	e := exprGen{g: g, cols: f.cols}
	var xs []expr
	var cls []class
	for i, n := 0, 1+g.n(3); i < n; i++ {
		c := pick(g, f.cols...)
		xs = append(xs, c.expr())
		cls = append(cls, c.col.kind.class())
	}
	var p parts
	p.add("SELECT ")
	p.list(xs)
	p.my = append(p.my, " FROM "+f.my)
	p.dk = append(p.dk, " FROM "+f.dk)
	g.where(&p, e)
	p.add(" ORDER BY ")
	for i, x := range xs {
		if i > 0 {
			p.add(", ")
		}
		dir := pick(g, " ASC NULLS FIRST", " DESC NULLS LAST", " ASC NULLS LAST", " DESC NULLS FIRST")
		p.add(x.my + dir)
	}
	p.add(" LIMIT " + strconv.Itoa(1+g.n(10)))
	if g.chance(0.3) {
		p.add(" OFFSET " + strconv.Itoa(g.n(5)))
	}
	return p.query("topn", cls, true)
}

// derived aggregates over a derived table: SELECT COUNT(*), MIN(x), ...
// FROM (SELECT [DISTINCT] exprs FROM f WHERE p) s [GROUP BY s.x0].
func (g *gen) derived() query {
	inner := g.selectQuery()
	var p parts
	var cls []class
	p.add("SELECT ")
	group := len(inner.classes) > 1 && g.chance(0.5)
	var sel []string
	if group {
		sel = append(sel, "s.x0")
		cls = append(cls, inner.classes[0])
	}
	sel = append(sel, "COUNT(*)")
	cls = append(cls, cNum)
	for i, c := range inner.classes {
		if c == cBool {
			sel = append(sel, "COUNT(s.x"+strconv.Itoa(i)+")")
			cls = append(cls, cNum)
			continue
		}
		sel = append(sel, pick(g, "MIN", "MAX")+"(s.x"+strconv.Itoa(i)+")")
		cls = append(cls, c)
	}
	p.add(strings.Join(sel, ", ") + " FROM (")
	p.my = append(p.my, aliasColumns(inner.my))
	p.dk = append(p.dk, aliasColumns(inner.dk))
	p.add(") s")
	if group {
		p.add(" GROUP BY s.x0")
	}
	return p.query("derived", cls, false)
}

// aliasColumns names the select list of a query made by selectQuery x0,
// x1, ...: it splits the list at top-level commas between SELECT
// [DISTINCT] and FROM.
func aliasColumns(q string) string {
	start := len("SELECT ")
	if strings.HasPrefix(q[start:], "DISTINCT ") {
		start += len("DISTINCT ")
	}
	depth, inQuote := 0, false
	var out strings.Builder
	out.WriteString(q[:start])
	n := 0
	for i := start; i < len(q); i++ {
		ch := q[i]
		switch {
		case ch == '\'':
			inQuote = !inQuote
		case inQuote:
		case ch == '(':
			depth++
		case ch == ')':
			depth--
		case depth == 0 && ch == ',':
			out.WriteString(" AS x" + strconv.Itoa(n))
			n++
		case depth == 0 && strings.HasPrefix(q[i:], " FROM "):
			out.WriteString(" AS x" + strconv.Itoa(n))
			out.WriteString(q[i:])
			return out.String()
		}
		out.WriteByte(ch)
	}
	panic("BUG: no FROM in " + q)
}

// union is two selects of the same classes joined by UNION [ALL]. Their
// numeric items are DOUBLEs: the common type of two DECIMALs of different
// widths is where engines legitimately part (Doris keeps both scales
// within DECIMAL(38) and a value past it is out of range; DuckDB drops
// digits of the scale), so it is left out.
func (g *gen) union() query {
	g.unionArm = true
	defer func() { g.unionArm = false }()
	a := g.selectQuery()
	var cls []class
	var p parts
	// The second arm reads another FROM with columns of the same classes.
	f := g.fromClause()
	e := exprGen{g: g, cols: f.cols}
	var xs []expr
	for _, c := range a.classes {
		xs = append(xs, g.unionItem(e.scalar(c, 1)))
		cls = append(cls, c)
	}
	p.my = append(p.my, a.my)
	p.dk = append(p.dk, a.dk)
	p.add(pick(g, " UNION ALL ", " UNION "))
	p.add("SELECT ")
	p.list(xs)
	p.my = append(p.my, " FROM "+f.my)
	p.dk = append(p.dk, " FROM "+f.dk)
	g.where(&p, e)
	return p.query("union", cls, false)
}

// unionItem casts a numeric item of a UNION arm to DOUBLE on both sides.
func (g *gen) unionItem(x expr) expr {
	if !g.unionArm || x.cls != cNum {
		return x
	}
	return expr{my: "CAST(" + x.my + " AS DOUBLE)", cls: cNum}.castBoth(x)
}

// subquery is a select filtered by x [NOT] IN (SELECT ...) or compared
// with a scalar subquery. Strata documents both as not supported yet
// (docs/sql.md); they run so that the day they are, they are checked.
func (g *gen) subquery() query {
	f := g.fromClause()
	e := exprGen{g: g, cols: f.cols}
	c := pick(g, f.cols...)
	for c.col.kind.class() == cBool {
		c = pick(g, f.cols...)
	}
	cl := c.col.kind.class()
	t := g.tables[g.n(len(g.tables))]
	ie := exprGen{g: g, cols: refs("i", t)}
	var inner expr
	for inner.my == "" {
		ic := pick(g, ie.cols...)
		if ic.col.kind.class() == cl {
			inner = ic.expr()
		}
		if cl == cNum && ic.col.kind.class() != cNum {
			if x, ok := ie.colOf(cNum); ok {
				inner = x.expr()
			}
		}
		if _, ok := ie.colOf(cl); !ok {
			inner = e.constant(cl, false)
		}
	}
	var sub parts
	sub.add("(SELECT ")
	shape := "in-subquery"
	if g.chance(0.5) {
		sub.addExpr(inner)
	} else {
		shape = "scalar-subquery"
		sub.addExpr(call(pick(g, "MIN", "MAX"), cl, inner))
	}
	sub.add(" FROM " + t.name + " i")
	if g.chance(0.6) {
		sub.add(" WHERE ")
		sub.addExpr(ie.pred(1))
	}
	sub.add(")")
	var p parts
	p.add("SELECT ")
	xs := []expr{c.expr(), e.scalar(pick(g, f.cols...).col.kind.class(), 1)}
	p.list(xs)
	p.my = append(p.my, " FROM "+f.my+" WHERE "+c.sql)
	p.dk = append(p.dk, " FROM "+f.dk+" WHERE "+c.sql)
	if shape == "in-subquery" {
		p.add(pick(g, " IN ", " NOT IN "))
	} else {
		p.add(pick(g, " = ", " < ", " >= "))
	}
	p.my = append(p.my, strings.Join(sub.my, ""))
	p.dk = append(p.dk, strings.Join(sub.dk, ""))
	return p.query(shape, []class{cl, xs[1].cls}, false)
}

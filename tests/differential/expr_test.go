package differential

import (
	"fmt"
	"strconv"
	"strings"
)

// expr is one expression rendered for both dialects.
type expr struct {
	my, dk string
	cls    class
	// integral is set on numeric expressions of an integer type: DuckDB
	// keeps INTEGER arithmetic in INTEGER and fails on overflow where
	// Doris widens to BIGINT, so its side casts them to BIGINT first.
	integral bool
	// wide is set on numeric expressions whose values may be near the ends
	// of BIGINT; they stay out of arithmetic and SUM/AVG.
	wide bool
}

func same(s string, c class) expr { return expr{my: s, dk: s, cls: c} }

// wrap renders f over the operands in both dialects.
func wrap(c class, f func(args []string) string, xs ...expr) expr {
	my := make([]string, len(xs))
	dk := make([]string, len(xs))
	for i, x := range xs {
		my[i], dk[i] = x.my, x.dk
	}
	return expr{my: f(my), dk: f(dk), cls: c}
}

func call(name string, c class, xs ...expr) expr {
	return wrap(c, func(a []string) string { return name + "(" + strings.Join(a, ", ") + ")" }, xs...)
}

// big64 is x as DuckDB should compute it: integers widened to BIGINT.
func (x expr) big64() string {
	if x.integral {
		return "CAST(" + x.dk + " AS BIGINT)"
	}
	return x.dk
}

// colRef is a column as a query names it (alias.column).
type colRef struct {
	sql string
	col column
}

func (c colRef) expr() expr {
	k := c.col.kind
	return expr{my: c.sql, dk: c.sql, cls: k.class(), integral: k == kInt || k == kBigint, wide: k == kBigint}
}

// from is a query's FROM clause and the columns it makes visible.
type from struct {
	my, dk string
	cols   []colRef
}

func refs(alias string, t table) []colRef {
	var out []colRef
	for _, c := range t.cols {
		out = append(out, colRef{sql: alias + "." + c.name, col: c})
	}
	return out
}

// fromClause is one table, or two or three joined (INNER or LEFT) on an
// equality between columns of the same class, sometimes with a further
// condition in ON.
func (g *gen) fromClause() from {
	t0 := g.tables[g.n(len(g.tables))]
	f := from{my: t0.name + " a", dk: t0.name + " a", cols: refs("a", t0)}
	nj := 0
	if len(g.tables) > 1 && g.chance(0.6) || g.chance(0.15) {
		nj = 1 + g.n(2)
	}
	for i := 0; i < nj; i++ {
		alias := string(rune('b' + i))
		t := g.tables[g.n(len(g.tables))]
		right := refs(alias, t)
		var pairs [][2]colRef
		for _, l := range f.cols {
			for _, r := range right {
				if l.col.kind.class() == r.col.kind.class() && l.col.kind.class() != cBool {
					pairs = append(pairs, [2]colRef{l, r})
				}
			}
		}
		p := pick(g, pairs...)
		on := same(p[0].sql+" = "+p[1].sql, cBool)
		if g.chance(0.2) {
			eg := exprGen{g: g, cols: append(append([]colRef{}, f.cols...), right...)}
			extra := eg.pred(1)
			on = expr{my: on.my + " AND " + extra.my, dk: on.dk + " AND " + extra.dk}
		}
		join := pick(g, "JOIN", "INNER JOIN", "LEFT JOIN", "LEFT OUTER JOIN")
		f.my += fmt.Sprintf(" %s %s %s ON %s", join, t.name, alias, on.my)
		f.dk += fmt.Sprintf(" %s %s %s ON %s", join, t.name, alias, on.dk)
		f.cols = append(f.cols, right...)
	}
	return f
}

// exprGen makes typed expressions over cols.
type exprGen struct {
	g    *gen
	cols []colRef
}

func (e exprGen) colOf(c class) (colRef, bool) {
	var cs []colRef
	for _, x := range e.cols {
		if x.col.kind.class() == c {
			cs = append(cs, x)
		}
	}
	if len(cs) == 0 {
		return colRef{}, false
	}
	return pick(e.g, cs...), true
}

// constant is a literal of class c. Dates and datetimes are typed
// literals (CAST in Strata, DATE '...' in DuckDB) unless bare, where
// Strata gets the plain string it coerces in comparisons.
func (e exprGen) constant(c class, bare bool) expr {
	g := e.g
	switch c {
	case cNum:
		k := pick(g, kInt, kInt, kBigint, kDouble, kDecimal)
		s := g.literal(column{kind: k, prec: 9, scale: 2})
		return expr{my: s, dk: s, cls: cNum, integral: k == kInt || k == kBigint, wide: k == kBigint}
	case cStr:
		return same(g.literal(column{kind: kString, width: 64}), cStr)
	case cDate:
		d := g.date()
		if bare {
			return expr{my: "'" + d + "'", dk: "DATE '" + d + "'", cls: cDate}
		}
		return expr{my: "CAST('" + d + "' AS DATE)", dk: "DATE '" + d + "'", cls: cDate}
	case cDatetime:
		d := g.datetime()
		if bare {
			return expr{my: "'" + d + "'", dk: "TIMESTAMP '" + d + "'", cls: cDatetime}
		}
		return expr{my: "CAST('" + d + "' AS DATETIME)", dk: "TIMESTAMP '" + d + "'", cls: cDatetime}
	default:
		return same(pick(g, "true", "false"), cBool)
	}
}

// pred is a boolean expression that may be NULL.
func (e exprGen) pred(depth int) expr {
	g := e.g
	if depth > 0 && g.chance(0.4) {
		a, b := e.pred(depth-1), e.pred(depth-1)
		switch g.n(5) {
		case 0:
			return wrap(cBool, func(x []string) string { return "(" + x[0] + " AND " + x[1] + ")" }, a, b)
		case 1:
			return wrap(cBool, func(x []string) string { return "(" + x[0] + " OR " + x[1] + ")" }, a, b)
		case 2:
			return wrap(cBool, func(x []string) string { return "(NOT " + x[0] + ")" }, a)
		case 3:
			// DuckDB has no logical XOR; <> of two booleans is one,
			// NULL when either is.
			return expr{my: "(" + a.my + " XOR " + b.my + ")", dk: "(" + a.dk + " <> " + b.dk + ")", cls: cBool}
		default:
			is := pick(g, "TRUE", "FALSE", "NOT TRUE", "NOT FALSE")
			return wrap(cBool, func(x []string) string { return "((" + x[0] + ") IS " + is + ")" }, a)
		}
	}
	c := pick(g, e.cols...)
	cl := c.col.kind.class()
	x := e.scalar(cl, depth)
	switch g.n(10) {
	case 0, 1, 2:
		y := e.scalar(cl, depth)
		if g.chance(0.3) {
			y = e.constant(cl, true)
		}
		if cl == cDate && g.chance(0.2) {
			// DATE against DATETIME compares as DATETIME in both.
			y = e.constant(cDatetime, true)
		}
		op := pick(g, "=", "!=", "<>", "<", "<=", ">", ">=", "<=>")
		if cl == cBool {
			op = pick(g, "=", "!=", "<=>")
		}
		if op == "<=>" {
			return expr{my: "(" + x.my + " <=> " + y.my + ")", dk: "(" + x.dk + " IS NOT DISTINCT FROM " + y.dk + ")", cls: cBool}
		}
		return wrap(cBool, func(a []string) string { return "(" + a[0] + " " + op + " " + a[1] + ")" }, x, y)
	case 3:
		is := pick(g, "NULL", "NOT NULL")
		return wrap(cBool, func(a []string) string { return "(" + a[0] + " IS " + is + ")" }, x)
	case 4:
		if cl == cBool {
			return x
		}
		not := pick(g, " ", " NOT ")
		return wrap(cBool, func(a []string) string { return "(" + a[0] + not + "BETWEEN " + a[1] + " AND " + a[2] + ")" },
			x, e.constant(cl, true), e.constant(cl, true))
	case 5:
		if cl == cBool {
			return x
		}
		vs := []expr{x}
		for i, n := 0, 1+g.n(4); i < n; i++ {
			if g.chance(0.1) {
				vs = append(vs, same("NULL", cl))
				continue
			}
			vs = append(vs, e.constant(cl, true))
		}
		not := pick(g, " IN ", " NOT IN ")
		return wrap(cBool, func(a []string) string { return "(" + a[0] + not + "(" + strings.Join(a[1:], ", ") + "))" }, vs...)
	case 6:
		if cl != cStr {
			s, ok := e.colOf(cStr)
			if !ok {
				return wrap(cBool, func(a []string) string { return "(" + a[0] + " IS NULL)" }, x)
			}
			x = s.expr()
		}
		not := pick(g, " LIKE ", " NOT LIKE ")
		pat := "'" + pick(g, "%", "a%", "%b%", "_", "a_", "%c", "", "A%", "x\\_y", "%\\%%", "_b%", "%a") + "'"
		// DuckDB's LIKE has no escape character unless told.
		return expr{my: "(" + x.my + not + pat + ")", dk: "(" + x.dk + not + pat + " ESCAPE '\\')", cls: cBool}
	case 7:
		if b, ok := e.colOf(cBool); ok {
			return b.expr()
		}
		return wrap(cBool, func(a []string) string { return "(" + a[0] + " IS NOT NULL)" }, x)
	default:
		// A comparison between two columns of the same class.
		y, _ := e.colOf(cl)
		op := pick(g, "=", "<", ">=", "!=")
		if cl == cBool {
			op = "="
		}
		return same("("+c.sql+" "+op+" "+y.sql+")", cBool)
	}
}

// scalar is an expression of class c: a column, a constant, or (while
// depth lasts) CASE, IF, COALESCE, IFNULL, NULLIF, arithmetic or a
// function.
func (e exprGen) scalar(c class, depth int) expr {
	g := e.g
	if c == cBool {
		if depth > 0 && g.chance(0.3) {
			return e.pred(depth - 1)
		}
		if b, ok := e.colOf(cBool); ok && g.chance(0.7) {
			return b.expr()
		}
		return e.constant(cBool, false)
	}
	if depth <= 0 || g.chance(0.45) {
		if col, ok := e.colOf(c); ok && g.chance(0.75) {
			return col.expr()
		}
		return e.constant(c, false)
	}
	d := depth - 1
	switch g.n(5) {
	case 0:
		p, a, b := e.pred(d), e.scalar(c, d), e.scalar(c, d)
		if g.chance(0.15) {
			// A bare NULL branch: the CASE takes the other branch's type.
			b = same("NULL", c)
		}
		x := wrap(c, func(s []string) string { return "(CASE WHEN " + s[0] + " THEN " + s[1] + " ELSE " + s[2] + " END)" }, p, a, b)
		x.integral, x.wide = a.integral && b.integral, a.wide || b.wide
		return x
	case 1:
		p, a, b := e.pred(d), e.scalar(c, d), e.scalar(c, d)
		x := expr{my: "IF(" + p.my + ", " + a.my + ", " + b.my + ")", dk: "(CASE WHEN " + p.dk + " THEN " + a.dk + " ELSE " + b.dk + " END)", cls: c}
		x.integral, x.wide = a.integral && b.integral, a.wide || b.wide
		return x
	case 2:
		a, b := e.scalar(c, d), e.scalar(c, d)
		name := pick(g, "COALESCE", "IFNULL", "NULLIF")
		x := call(name, c, a, b)
		if name == "IFNULL" {
			x.dk = "COALESCE(" + a.dk + ", " + b.dk + ")"
		}
		x.integral, x.wide = a.integral && b.integral, a.wide || b.wide
		return x
	}
	switch c {
	case cNum:
		return e.numeric(d)
	case cStr:
		return e.str(d)
	case cDate:
		if dc, ok := e.colOf(cDate); ok && g.chance(0.6) {
			// At most one day on: the latest date is 9999-12-30, and past
			// 9999-12-31 MySQL and Doris return NULL, DuckDB a later date.
			n := pick(g, "1", "-1", "-30", "-7")
			return expr{my: "DATE_ADD(" + dc.sql + ", INTERVAL " + n + " DAY)", dk: "CAST(" + dc.sql + " + INTERVAL (" + n + ") DAY AS DATE)", cls: cDate}
		}
		if dt, ok := e.colOf(cDatetime); ok {
			return expr{my: "CAST(" + dt.sql + " AS DATE)", dk: "CAST(" + dt.sql + " AS DATE)", cls: cDate}
		}
	case cDatetime:
		if dc, ok := e.colOf(cDate); ok && g.chance(0.4) {
			return expr{my: "CAST(" + dc.sql + " AS DATETIME)", dk: "CAST(" + dc.sql + " AS TIMESTAMP)", cls: cDatetime}
		}
		if dt, ok := e.colOf(cDatetime); ok {
			n := pick(g, "1", "-1", "12")
			return expr{my: "DATE_ADD(" + dt.sql + ", INTERVAL " + n + " HOUR)", dk: "(" + dt.sql + " + INTERVAL (" + n + ") HOUR)", cls: cDatetime}
		}
	}
	return e.scalar(c, 0)
}

// operand is a numeric operand for arithmetic: an INT, DOUBLE or DECIMAL
// column, a small constant or (while depth lasts) more arithmetic; never a
// BIGINT column, whose edge values overflow.
func (e exprGen) operand(depth int) expr {
	g := e.g
	if depth > 0 && g.chance(0.3) {
		return e.numeric(depth - 1)
	}
	var cs []colRef
	for _, c := range e.cols {
		if c.col.kind == kInt || c.col.kind == kDecimal || c.col.kind == kDouble {
			cs = append(cs, c)
		}
	}
	if len(cs) > 0 && g.chance(0.75) {
		return pick(g, cs...).expr()
	}
	k := strconv.Itoa(g.n(21) - 10)
	return expr{my: k, dk: k, cls: cNum, integral: true}
}

// numeric is arithmetic or a numeric function.
func (e exprGen) numeric(d int) expr {
	g := e.g
	x := e.operand(d)
	switch g.n(11) {
	case 0, 1:
		y := e.operand(d)
		op := pick(g, " + ", " - ")
		return expr{my: "(" + x.my + op + y.my + ")", dk: "(" + x.big64() + op + y.big64() + ")", cls: cNum, integral: x.integral && y.integral}
	case 2:
		k := pick(g, "2", "-1", "0", "3")
		return expr{my: "(" + x.my + " * " + k + ")", dk: "(" + x.big64() + " * " + k + ")", cls: cNum, integral: x.integral}
	case 3:
		if x.integral {
			return expr{my: "ABS(" + x.my + ")", dk: "ABS(" + x.big64() + ")", cls: cNum, integral: true}
		}
		return call("ABS", cNum, x)
	case 4:
		if !x.integral {
			break
		}
		k := pick(g, "2", "3", "-7")
		if g.chance(0.5) {
			return expr{my: "(" + x.my + " DIV " + k + ")", dk: "(" + x.big64() + " // " + k + ")", cls: cNum, integral: true}
		}
		return expr{my: "(" + x.my + " % " + k + ")", dk: "(" + x.big64() + " % " + k + ")", cls: cNum, integral: true}
	case 5:
		// Division by a constant, in DOUBLE on both sides: MySQL divides
		// integers into DECIMAL, Doris and DuckDB into DOUBLE.
		k := pick(g, "2", "3", "-8", "0.5")
		return expr{my: "(CAST(" + x.my + " AS DOUBLE) / " + k + ")", dk: "(CAST(" + x.dk + " AS DOUBLE) / " + k + ")", cls: cNum}
	case 6:
		// ROUND, FLOOR and CEIL of exact values: for DOUBLE, MySQL's
		// ROUND rounds half to even and DuckDB's half away from zero.
		if x.integral || isDecimalCol(x, e.cols) {
			return call(pick(g, "ROUND", "FLOOR", "CEIL"), cNum, x)
		}
	case 7:
		if dc, ok := e.colOf(cDate); ok && g.chance(0.7) {
			return expr{my: pick(g, "YEAR(", "MONTH(", "DAY(") + dc.sql + ")", cls: cNum, integral: true}.mirror()
		}
		var a, b expr
		if dt, ok := e.colOf(cDatetime); ok {
			a = dt.expr()
		} else if dc, ok := e.colOf(cDate); ok {
			a = dc.expr()
		} else {
			break
		}
		b = e.constant(pick(g, cDate, cDatetime), false)
		if g.chance(0.5) {
			a, b = b, a
		}
		// DATEDIFF(a, b) is a - b in days of the dates' parts.
		return expr{my: "DATEDIFF(" + a.my + ", " + b.my + ")", dk: "date_diff('day', CAST(" + b.dk + " AS DATE), CAST(" + a.dk + " AS DATE))", cls: cNum, integral: true}
	case 8:
		if s, ok := e.colOf(cStr); ok {
			return expr{my: "LENGTH(" + s.sql + ")", dk: "LENGTH(" + s.sql + ")", cls: cNum, integral: true}
		}
	case 9:
		if x.integral {
			return expr{my: "CAST(" + x.my + " AS " + pick(g, "DOUBLE", "DECIMAL(20, 2)", "BIGINT") + ")", cls: cNum}.castBoth(x)
		}
	}
	return x
}

// mirror copies Strata's rendering to DuckDB's.
func (x expr) mirror() expr {
	x.dk = x.my
	return x
}

// castBoth renders x's cast (already in x.my for Strata) for DuckDB too.
func (x expr) castBoth(in expr) expr {
	to := x.my[strings.LastIndex(x.my, " AS ")+4 : len(x.my)-1]
	x.dk = "CAST(" + in.dk + " AS " + to + ")"
	x.integral = to == "BIGINT"
	return x
}

func isDecimalCol(x expr, cols []colRef) bool {
	for _, c := range cols {
		if c.sql == x.my {
			return c.col.kind == kDecimal
		}
	}
	return false
}

// str is a string function.
func (e exprGen) str(d int) expr {
	g := e.g
	x := e.scalar(cStr, d)
	switch g.n(7) {
	case 0:
		// CONCAT is NULL when an argument is; DuckDB's concat skips NULLs,
		// its || does not.
		y := e.scalar(cStr, d)
		return expr{my: "CONCAT(" + x.my + ", " + y.my + ")", dk: "(" + x.dk + " || " + y.dk + ")", cls: cStr}
	case 1:
		return call(pick(g, "LOWER", "UPPER"), cStr, x)
	case 2:
		p, n := pick(g, "1", "2"), pick(g, "1", "2", "3")
		return wrap(cStr, func(a []string) string { return "SUBSTRING(" + a[0] + ", " + p + ", " + n + ")" }, x)
	case 3:
		return call(pick(g, "TRIM", "LTRIM", "RTRIM"), cStr, x)
	case 4:
		to := pick(g, "''", "'b'", "'aa'")
		return wrap(cStr, func(a []string) string { return "REPLACE(" + a[0] + ", 'a', " + to + ")" }, x)
	case 5:
		if c, ok := e.colOf(cNum); ok && c.col.kind == kInt || ok && c.col.kind == kBigint {
			return expr{my: "CAST(" + c.sql + " AS VARCHAR(30))", dk: "CAST(" + c.sql + " AS VARCHAR)", cls: cStr}
		}
	}
	return x
}

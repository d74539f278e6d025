package oracle

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// kind is a column's SQL type family as the generator sees it.
type kind int

const (
	kInt kind = iota
	kBigint
	kDouble
	kDecimal
	kString
	kDate
	kDatetime
	kBool
)

// class groups kinds that may be compared with each other.
func (k kind) class() int {
	switch k {
	case kInt, kBigint, kDouble, kDecimal:
		return 0
	case kString:
		return 1
	case kDate:
		return 2
	case kDatetime:
		return 3
	default:
		return 4
	}
}

type column struct {
	name        string
	kind        kind
	notNull     bool
	prec, scale int // DECIMAL
	width       int // VARCHAR
}

func (c column) sqlType() string {
	switch c.kind {
	case kInt:
		return "INT"
	case kBigint:
		return "BIGINT"
	case kDouble:
		return "DOUBLE"
	case kDecimal:
		return fmt.Sprintf("DECIMAL(%d, %d)", c.prec, c.scale)
	case kString:
		return fmt.Sprintf("VARCHAR(%d)", c.width)
	case kDate:
		return "DATE"
	case kDatetime:
		return "DATETIME"
	default:
		return "BOOLEAN"
	}
}

type table struct {
	name string
	cols []column
}

// gen is the seeded random generator of schemas, data and queries. All of
// its randomness comes from r, so a seed replays a run exactly.
type gen struct {
	r      *rand.Rand
	tables []table
	// ddl and dml are the statements that built the current database, kept
	// for the reproducer a failure prints.
	ddl, dml []string
}

func (g *gen) n(k int) int           { return g.r.IntN(k) }
func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *gen, xs ...T) T { return xs[g.r.IntN(len(xs))] }

// schema makes 1–3 tables. Every table has a key column c0 and an INT
// column c1, so that any two tables have a column pair to join on.
func (g *gen) schema() {
	g.tables = nil
	g.ddl = nil
	nt := 1 + g.n(3)
	for i := 0; i < nt; i++ {
		t := table{name: fmt.Sprintf("t%d", i)}
		unique := g.chance(0.25)
		key := column{name: "c0", kind: pick(g, kInt, kBigint, kString, kDate, kInt)}
		key.notNull = unique || g.chance(0.5)
		g.fill(&key)
		t.cols = append(t.cols, key, column{name: "c1", kind: kInt, notNull: g.chance(0.3)})
		for j, nc := 2, 2+g.n(5); j < nc; j++ {
			c := column{name: fmt.Sprintf("c%d", j), kind: kind(g.n(int(kBool) + 1)), notNull: g.chance(0.3)}
			g.fill(&c)
			t.cols = append(t.cols, c)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "CREATE TABLE %s (", t.name)
		for j, c := range t.cols {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %s", c.name, c.sqlType())
			if c.notNull {
				b.WriteString(" NOT NULL")
			} else {
				b.WriteString(" NULL")
			}
		}
		b.WriteString(")")
		if unique {
			b.WriteString(" UNIQUE KEY(c0)")
		} else {
			b.WriteString(" DUPLICATE KEY(c0)")
		}
		if key.notNull && g.chance(0.4) {
			switch key.kind {
			case kInt, kBigint:
				b.WriteString(` PARTITION BY RANGE(c0) (PARTITION p0 VALUES LESS THAN ("0"), PARTITION p1 VALUES LESS THAN ("100"), PARTITION p2 VALUES LESS THAN MAXVALUE)`)
			case kDate:
				b.WriteString(` PARTITION BY RANGE(c0) (PARTITION p0 VALUES LESS THAN ("2000-01-01"), PARTITION p1 VALUES LESS THAN ("2024-06-01"), PARTITION p2 VALUES LESS THAN MAXVALUE)`)
			}
		}
		if !unique && g.chance(0.2) {
			fmt.Fprintf(&b, " DISTRIBUTED BY RANDOM BUCKETS %d", 1+g.n(4))
		} else {
			fmt.Fprintf(&b, " DISTRIBUTED BY HASH(c0) BUCKETS %d", 1+g.n(8))
		}
		b.WriteString(` PROPERTIES ("replication_num" = "1")`)
		g.tables = append(g.tables, t)
		g.ddl = append(g.ddl, b.String())
	}
}

func (g *gen) fill(c *column) {
	switch c.kind {
	case kDecimal:
		c.prec = 1 + g.n(18)
		c.scale = g.n(c.prec + 1)
		if c.scale > 6 {
			c.scale = 6
		}
	case kString:
		c.width = pick(g, 1, 4, 16, 64)
	}
}

// data makes 2–4 INSERT statements per table, so each table has several
// rowsets. Rows repeat earlier ones now and then.
func (g *gen) data() {
	g.dml = nil
	for _, t := range g.tables {
		var prev []string
		for s, ns := 0, 2+g.n(3); s < ns; s++ {
			nr := g.n(12)
			if nr == 0 {
				continue
			}
			var rows []string
			for i := 0; i < nr; i++ {
				if len(prev) > 0 && g.chance(0.15) {
					rows = append(rows, pick(g, prev...))
					continue
				}
				vals := make([]string, len(t.cols))
				for j, c := range t.cols {
					vals[j] = g.value(c)
				}
				row := "(" + strings.Join(vals, ", ") + ")"
				rows = append(rows, row)
				prev = append(prev, row)
			}
			g.dml = append(g.dml, fmt.Sprintf("INSERT INTO %s VALUES %s", t.name, strings.Join(rows, ", ")))
			if g.chance(0.15) {
				// A delete between loads: delete predicates on duplicate
				// tables, delete bitmaps on unique ones.
				g.dml = append(g.dml, fmt.Sprintf("DELETE FROM %s WHERE c1 %s %s", t.name, pick(g, "=", "<", ">=", "!="), g.constant(column{kind: kInt})))
			}
		}
	}
}

// value is a literal that column c can hold: NULL when allowed, edge values
// often, small random values otherwise.
func (g *gen) value(c column) string {
	if !c.notNull && g.chance(0.15) {
		return "NULL"
	}
	return g.constant(c)
}

func (g *gen) constant(c column) string {
	switch c.kind {
	case kInt:
		return pick(g, "0", "-1", "1", "2", "7", "100", "2147483647", "-2147483648", strconv.Itoa(g.n(101)-50), strconv.Itoa(g.n(21)-10))
	case kBigint:
		// -9223372036854775808 is left out: its literal is a LARGEINT.
		return pick(g, "0", "-1", "1", "3", "4294967296", "9223372036854775807", "-9223372036854775807", strconv.Itoa(g.n(101)-50), strconv.Itoa(g.n(21)-10))
	case kDouble:
		return pick(g, "0", "-1", "1.5", "-0.5", "0.1", "1e10", "-2.25", "3", strconv.Itoa(g.n(21)-10), strconv.FormatFloat(float64(g.n(2001)-1000)/8, 'f', -1, 64))
	case kDecimal:
		return g.decimal(c.prec, c.scale)
	case kString:
		s := pick(g, "", "a", "ab", "abc", "A", "b", " a", "x_y", "b%c", "zz", "a%", "Ab", randWord(g))
		if len(s) > c.width {
			s = s[:c.width]
		}
		return "'" + s + "'"
	case kDate:
		return "'" + pick(g, "2024-01-01", "1970-01-01", "2000-02-29", "2024-06-01", "1999-12-31", "9999-12-31", fmt.Sprintf("2024-%02d-%02d", 1+g.n(12), 1+g.n(28))) + "'"
	case kDatetime:
		return "'" + pick(g, "2024-01-01 00:00:00", "1970-01-01 00:00:00", "2024-06-01 12:34:56", "2000-02-29 23:59:59", fmt.Sprintf("2024-%02d-%02d %02d:%02d:00", 1+g.n(12), 1+g.n(28), g.n(24), g.n(60))) + "'"
	default:
		return pick(g, "true", "false")
	}
}

func randWord(g *gen) string {
	b := make([]byte, 1+g.n(4))
	for i := range b {
		b[i] = "abcxyzAB"[g.n(8)]
	}
	return string(b)
}

// decimal is a literal that fits DECIMAL(p, s).
func (g *gen) decimal(p, s int) string {
	ip := p - s
	switch g.n(5) {
	case 0:
		return "0"
	case 1:
		if ip > 0 {
			return "-1"
		}
		return "0"
	case 2:
		// The largest value the type holds.
		v := strings.Repeat("9", max(ip, 1))
		if ip == 0 {
			v = "0"
		}
		if s > 0 {
			v += "." + strings.Repeat("9", s)
		}
		return v
	}
	var b strings.Builder
	if g.chance(0.4) {
		b.WriteByte('-')
	}
	digits := g.n(min(ip, 4) + 1)
	if digits == 0 {
		b.WriteByte('0')
	}
	for i := 0; i < digits; i++ {
		b.WriteByte(byte('1' + g.n(9)))
	}
	if s > 0 {
		b.WriteByte('.')
		for i := 0; i < s; i++ {
			b.WriteByte(byte('0' + g.n(10)))
		}
	}
	return b.String()
}

// colRef is a column as a query names it (alias.column).
type colRef struct {
	sql string
	col column
}

// from is a query's FROM clause and the columns it makes visible.
type from struct {
	sql  string
	cols []colRef
}

func refs(alias string, t table) []colRef {
	var out []colRef
	for _, c := range t.cols {
		out = append(out, colRef{sql: alias + "." + c.name, col: c})
	}
	return out
}

// fromClause is one table, or two or three joined (INNER or LEFT) on an
// equality between columns of the same class, sometimes with a second
// condition.
func (g *gen) fromClause() from {
	t0 := g.tables[g.n(len(g.tables))]
	f := from{sql: t0.name + " a", cols: refs("a", t0)}
	nj := 0
	if len(g.tables) > 1 && g.chance(0.5) {
		nj = 1 + g.n(min(2, len(g.tables)-1))
	}
	for i := 0; i < nj; i++ {
		alias := string(rune('b' + i))
		t := g.tables[g.n(len(g.tables))]
		right := refs(alias, t)
		var pairs [][2]colRef
		for _, l := range f.cols {
			for _, r := range right {
				if l.col.kind.class() == r.col.kind.class() && l.col.kind.class() != 4 {
					pairs = append(pairs, [2]colRef{l, r})
				}
			}
		}
		p := pick(g, pairs...)
		on := p[0].sql + " = " + p[1].sql
		if g.chance(0.2) {
			eg := exprGen{g: g, cols: append(append([]colRef{}, f.cols...), right...)}
			on += " AND " + eg.pred(1)
		}
		f.sql += fmt.Sprintf(" %s %s %s ON %s", pick(g, "JOIN", "INNER JOIN", "LEFT JOIN", "LEFT OUTER JOIN"), t.name, alias, on)
		f.cols = append(f.cols, right...)
	}
	return f
}

// exprGen makes typed expressions over cols.
type exprGen struct {
	g    *gen
	cols []colRef
}

func (e exprGen) colOf(class int) (colRef, bool) {
	var cs []colRef
	for _, c := range e.cols {
		if c.col.kind.class() == class {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return colRef{}, false
	}
	return pick(e.g, cs...), true
}

// pred is a boolean expression that may be NULL.
func (e exprGen) pred(depth int) string {
	g := e.g
	if depth > 0 && g.chance(0.4) {
		switch g.n(5) {
		case 0:
			return "(" + e.pred(depth-1) + " AND " + e.pred(depth-1) + ")"
		case 1:
			return "(" + e.pred(depth-1) + " OR " + e.pred(depth-1) + ")"
		case 2:
			return "(NOT " + e.pred(depth-1) + ")"
		case 3:
			return "(" + e.pred(depth-1) + " XOR " + e.pred(depth-1) + ")"
		default:
			return "((" + e.pred(depth-1) + ") IS " + pick(g, "TRUE", "FALSE", "NOT TRUE", "NOT FALSE") + ")"
		}
	}
	c := pick(g, e.cols...)
	cl := c.col.kind.class()
	x := e.scalar(cl, depth)
	switch g.n(9) {
	case 0, 1, 2:
		op := pick(g, "=", "!=", "<>", "<", "<=", ">", ">=", "<=>")
		y := e.scalar(cl, depth)
		if cl == 2 && g.chance(0.2) {
			// DATE against DATETIME compares as DATETIME.
			y = e.constOf(3)
		}
		return "(" + x + " " + op + " " + y + ")"
	case 3:
		return "(" + x + " IS " + pick(g, "NULL", "NOT NULL") + ")"
	case 4:
		if cl == 4 {
			return "(" + x + ")"
		}
		return "(" + x + pick(g, " ", " NOT ") + "BETWEEN " + e.constOf(cl) + " AND " + e.constOf(cl) + ")"
	case 5:
		n := 1 + g.n(4)
		var vs []string
		for i := 0; i < n; i++ {
			if g.chance(0.1) {
				vs = append(vs, "NULL")
				continue
			}
			vs = append(vs, e.constOf(cl))
		}
		return "(" + x + pick(g, " IN ", " NOT IN ") + "(" + strings.Join(vs, ", ") + "))"
	case 6:
		if cl != 1 {
			s, _ := e.colOf(1)
			if s.sql == "" {
				return "(" + x + " IS NULL)"
			}
			x = s.sql
		}
		return "(" + x + pick(g, " LIKE ", " NOT LIKE ") + "'" + pick(g, "%", "a%", "%b%", "_", "a_", "%c", "", "A%", "x\\_y", "%\\%%") + "')"
	case 7:
		if b, ok := e.colOf(4); ok {
			return b.sql
		}
		return "(" + x + " IS NOT NULL)"
	default:
		// A comparison between two columns of the same class.
		y, _ := e.colOf(cl)
		return "(" + c.sql + " " + pick(g, "=", "<", ">=", "!=") + " " + y.sql + ")"
	}
}

func (e exprGen) constOf(class int) string {
	switch class {
	case 0:
		return e.g.constant(column{kind: pick(e.g, kInt, kInt, kBigint, kDouble, kDecimal), prec: 9, scale: 2})
	case 1:
		return e.g.constant(column{kind: kString, width: 64})
	case 2:
		return e.g.constant(column{kind: kDate})
	case 3:
		return e.g.constant(column{kind: kDatetime})
	default:
		return e.g.constant(column{kind: kBool})
	}
}

// scalar is an expression of the given class: a column, a constant, or
// (while depth lasts) arithmetic, CASE, IF, COALESCE, a function or a cast.
func (e exprGen) scalar(class int, depth int) string {
	g := e.g
	if depth <= 0 || g.chance(0.5) {
		if c, ok := e.colOf(class); ok && g.chance(0.7) {
			return c.sql
		}
		return e.constOf(class)
	}
	d := depth - 1
	switch g.r.IntN(4) {
	case 0:
		// CASE and IF never have a bare NULL branch (that retypes the
		// expression: a known gap).
		return "(CASE WHEN " + e.pred(d) + " THEN " + e.scalar(class, d) + " ELSE " + e.scalar(class, d) + " END)"
	case 1:
		return "IF(" + e.pred(d) + ", " + e.scalar(class, d) + ", " + e.scalar(class, d) + ")"
	case 2:
		return "COALESCE(" + e.scalar(class, d) + ", " + e.scalar(class, d) + ")"
	}
	switch class {
	case 0:
		x := e.intish(d)
		switch g.n(10) {
		case 6:
			return pick(g, "ROUND(", "FLOOR(", "CEIL(") + x + ")"
		case 7:
			return "(" + x + pick(g, " % ", " DIV ", " / ") + pick(g, "2", "3", "-7") + ")"
		case 8:
			if dc, ok := e.colOf(2); ok {
				return pick(g, "YEAR(", "MONTH(", "DAY(") + dc.sql + ")"
			}
			if dc, ok := e.colOf(3); ok {
				return "DATEDIFF(" + dc.sql + ", '2024-01-01')"
			}
			return x
		case 9:
			return pick(g, "NULLIF(", "IFNULL(") + x + ", " + e.intish(d) + ")"
		case 0:
			return "(" + x + " + " + e.intish(d) + ")"
		case 1:
			return "(" + x + " - " + e.intish(d) + ")"
		case 2:
			return "(" + x + " * " + pick(g, "2", "-1", "0", "3") + ")"
		case 3:
			return "ABS(" + x + ")"
		case 4:
			return "CAST(" + x + " AS " + pick(g, "BIGINT", "DOUBLE", "DECIMAL(20, 2)", "INT") + ")"
		default:
			if s, ok := e.colOf(1); ok {
				return "LENGTH(" + s.sql + ")"
			}
			return x
		}
	case 1:
		x := e.scalar(1, d)
		switch g.n(6) {
		case 4:
			return pick(g, "TRIM(", "LTRIM(", "RTRIM(") + x + ")"
		case 5:
			return "REPLACE(" + x + ", 'a', " + pick(g, "''", "'b'", "'aa'") + ")"
		case 0:
			return "CONCAT(" + x + ", " + e.scalar(1, d) + ")"
		case 1:
			return pick(g, "LOWER(", "UPPER(") + x + ")"
		case 2:
			return "SUBSTRING(" + x + ", " + pick(g, "1", "2") + ", " + pick(g, "1", "2", "3") + ")"
		default:
			if c, ok := e.colOf(0); ok && c.col.kind == kInt {
				return "CAST(" + c.sql + " AS VARCHAR(20))"
			}
			return x
		}
	case 2:
		if c, ok := e.colOf(2); ok {
			switch g.n(3) {
			case 0:
				return "DATE_ADD(" + c.sql + ", INTERVAL " + pick(g, "1", "-1", "30") + " DAY)"
			case 1:
				if dt, ok := e.colOf(3); ok {
					return "CAST(" + dt.sql + " AS DATE)"
				}
			}
		}
	case 3:
		if c, ok := e.colOf(2); ok && g.chance(0.5) {
			return "CAST(" + c.sql + " AS DATETIME)"
		}
		if c, ok := e.colOf(3); ok {
			return "DATE_ADD(" + c.sql + ", INTERVAL " + pick(g, "1", "-1", "12") + " HOUR)"
		}
	}
	return e.scalar(class, 0)
}

// intish is a numeric operand for arithmetic: an INT column or a small
// constant. BIGINT columns hold values at the edge of the type, whose sums
// overflow.
func (e exprGen) intish(depth int) string {
	var cs []colRef
	for _, c := range e.cols {
		if c.col.kind == kInt || c.col.kind == kDecimal || c.col.kind == kDouble {
			cs = append(cs, c)
		}
	}
	if len(cs) > 0 && e.g.chance(0.7) {
		return pick(e.g, cs...).sql
	}
	return strconv.Itoa(e.g.n(21) - 10)
}

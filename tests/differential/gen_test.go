package differential

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// kind is a column's SQL type as the generator sees it.
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

// class groups the kinds that compare with each other and that CASE,
// COALESCE and UNION may mix; it is also how a result column is
// normalised before comparing.
type class int

const (
	cNum class = iota
	cStr
	cDate
	cDatetime
	cBool
)

func (k kind) class() class {
	switch k {
	case kInt, kBigint, kDouble, kDecimal:
		return cNum
	case kString:
		return cStr
	case kDate:
		return cDate
	case kDatetime:
		return cDatetime
	default:
		return cBool
	}
}

type column struct {
	name        string
	kind        kind
	notNull     bool
	prec, scale int // DECIMAL
	width       int // VARCHAR
}

// types returns the column's type in Strata's and in DuckDB's DDL.
func (c column) types() (my, dk string) {
	switch c.kind {
	case kInt:
		return "INT", "INTEGER"
	case kBigint:
		return "BIGINT", "BIGINT"
	case kDouble:
		return "DOUBLE", "DOUBLE"
	case kDecimal:
		d := fmt.Sprintf("DECIMAL(%d, %d)", c.prec, c.scale)
		return d, d
	case kString:
		return fmt.Sprintf("VARCHAR(%d)", c.width), "VARCHAR"
	case kDate:
		return "DATE", "DATE"
	case kDatetime:
		return "DATETIME", "TIMESTAMP"
	default:
		return "BOOLEAN", "BOOLEAN"
	}
}

type table struct {
	name string
	cols []column
}

// script is the statements that built one database, in both dialects.
type script struct {
	my, dk []string
}

func (s *script) add(my, dk string) {
	s.my = append(s.my, my)
	s.dk = append(s.dk, dk)
}

// gen is the seeded random generator of schemas, data and queries. All of
// its randomness comes from r, so a seed replays a run exactly.
type gen struct {
	r      *rand.Rand
	tables []table
	// setup builds the current database, kept for the reproducer a
	// failure prints.
	setup script
	// unionArm is set while the arms of a UNION are generated: their
	// numeric items are cast to DOUBLE (see union).
	unionArm bool
}

func newGen(seed uint64) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (g *gen) n(k int) int           { return g.r.IntN(k) }
func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *gen, xs ...T) T { return xs[g.r.IntN(len(xs))] }

// database makes 1–3 tables and their rows. Every table has a key column
// c0 and an INT column c1, so any two tables have a column pair to join on.
func (g *gen) database() {
	g.tables = nil
	g.setup = script{}
	for i, nt := 0, 1+g.n(3); i < nt; i++ {
		g.table(fmt.Sprintf("t%d", i))
	}
	for _, t := range g.tables {
		g.rows(t)
	}
}

func (g *gen) table(name string) {
	t := table{name: name}
	key := column{name: "c0", kind: pick(g, kInt, kBigint, kString, kDate, kInt), notNull: g.chance(0.5)}
	g.fill(&key)
	t.cols = append(t.cols, key, column{name: "c1", kind: kInt, notNull: g.chance(0.3)})
	for j, nc := 2, 3+g.n(5); j < nc; j++ {
		c := column{name: fmt.Sprintf("c%d", j), kind: kind(g.n(int(kBool) + 1)), notNull: g.chance(0.3)}
		g.fill(&c)
		t.cols = append(t.cols, c)
	}
	var my, dk strings.Builder
	fmt.Fprintf(&my, "CREATE TABLE %s (", t.name)
	fmt.Fprintf(&dk, "CREATE TABLE %s (", t.name)
	for j, c := range t.cols {
		if j > 0 {
			my.WriteString(", ")
			dk.WriteString(", ")
		}
		mt, dt := c.types()
		null := " NULL"
		if c.notNull {
			null = " NOT NULL"
		}
		fmt.Fprintf(&my, "%s %s%s", c.name, mt, null)
		fmt.Fprintf(&dk, "%s %s%s", c.name, dt, strings.TrimPrefix(null, " NULL"))
	}
	my.WriteString(") DUPLICATE KEY(c0)")
	dk.WriteString(")")
	if key.notNull && g.chance(0.3) {
		switch key.kind {
		case kInt, kBigint:
			my.WriteString(` PARTITION BY RANGE(c0) (PARTITION p0 VALUES LESS THAN ("0"), PARTITION p1 VALUES LESS THAN ("100"), PARTITION p2 VALUES LESS THAN MAXVALUE)`)
		case kDate:
			my.WriteString(` PARTITION BY RANGE(c0) (PARTITION p0 VALUES LESS THAN ("2000-01-01"), PARTITION p1 VALUES LESS THAN ("2024-06-01"), PARTITION p2 VALUES LESS THAN MAXVALUE)`)
		}
	}
	fmt.Fprintf(&my, ` DISTRIBUTED BY HASH(c0) BUCKETS %d PROPERTIES ("replication_num" = "1")`, 1+g.n(8))
	g.tables = append(g.tables, t)
	g.setup.add(my.String(), dk.String())
}

func (g *gen) fill(c *column) {
	switch c.kind {
	case kDecimal:
		c.prec = 1 + g.n(18)
		if g.chance(0.15) {
			// Wider than 64 bits.
			c.prec = 19 + g.n(20)
		}
		c.scale = min(g.n(c.prec+1), 6)
	case kString:
		c.width = pick(g, 1, 4, 16, 64)
	}
}

// rows makes 2–4 INSERT statements for t, so the table has several
// rowsets, rows repeating earlier ones now and then, and sometimes a
// DELETE between them.
func (g *gen) rows(t table) {
	var prev []string
	for s, ns := 0, 2+g.n(3); s < ns; s++ {
		nr := 1 + g.n(15)
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
		ins := fmt.Sprintf("INSERT INTO %s VALUES %s", t.name, strings.Join(rows, ", "))
		g.setup.add(ins, ins)
		if g.chance(0.1) {
			del := fmt.Sprintf("DELETE FROM %s WHERE c1 %s %s", t.name, pick(g, "=", "<", ">=", "!="), g.literal(column{kind: kInt}))
			g.setup.add(del, del)
		}
	}
}

// value is a literal column c can hold, written so both dialects read it
// alike: NULL when allowed, edge values often, small values otherwise.
func (g *gen) value(c column) string {
	if !c.notNull && g.chance(0.15) {
		return "NULL"
	}
	return g.literal(c)
}

// literal is a value of c's kind as an INSERT writes it. Strings hold no
// backslash (MySQL reads escapes in literals, DuckDB does not) and no
// trailing space (MySQL's PAD SPACE collations and Doris disagree on it);
// the latest date is 9999-12-30, so DATE_ADD of one day stays in range.
func (g *gen) literal(c column) string {
	switch c.kind {
	case kInt:
		return pick(g, "0", "-1", "1", "2", "7", "100", "2147483647", "-2147483648", strconv.Itoa(g.n(101)-50), strconv.Itoa(g.n(21)-10))
	case kBigint:
		// -9223372036854775808 is left out: in Doris its literal is a LARGEINT.
		return pick(g, "0", "-1", "1", "3", "4294967296", "9223372036854775807", "-9223372036854775807", strconv.Itoa(g.n(101)-50), strconv.Itoa(g.n(21)-10))
	case kDouble:
		return pick(g, "0", "-1", "1.5", "-0.5", "0.1", "1e10", "-2.25", "3", "-0.0", "1e-5", strconv.Itoa(g.n(21)-10), strconv.FormatFloat(float64(g.n(2001)-1000)/8, 'f', -1, 64))
	case kDecimal:
		return g.decimal(c.prec, c.scale)
	case kString:
		s := pick(g, "", "a", "ab", "abc", "A", "b", " a", "x_y", "b%c", "zz", "a%", "Ab", "B", randWord(g), randWord(g))
		if len(s) > c.width {
			s = s[:c.width]
		}
		return "'" + s + "'"
	case kDate:
		return "'" + g.date() + "'"
	case kDatetime:
		return "'" + g.datetime() + "'"
	default:
		return pick(g, "true", "false")
	}
}

func (g *gen) date() string {
	return pick(g, "2024-01-01", "1970-01-01", "2000-02-29", "2024-06-01", "1999-12-31", "9999-12-30", "2024-02-29",
		fmt.Sprintf("2024-%02d-%02d", 1+g.n(12), 1+g.n(28)), fmt.Sprintf("%d-%02d-%02d", 1990+g.n(40), 1+g.n(12), 1+g.n(28)))
}

func (g *gen) datetime() string {
	return pick(g, "2024-01-01 00:00:00", "1970-01-01 00:00:00", "2024-06-01 12:34:56", "2000-02-29 23:59:59", "2024-12-31 23:30:00",
		fmt.Sprintf("2024-%02d-%02d %02d:%02d:%02d", 1+g.n(12), 1+g.n(28), g.n(24), g.n(60), g.n(60)))
}

func randWord(g *gen) string {
	b := make([]byte, 1+g.n(4))
	for i := range b {
		b[i] = "abcxyzAB_"[g.n(9)]
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
		// The largest value the type holds, or its negative.
		v := strings.Repeat("9", max(ip, 1))
		if ip == 0 {
			v = "0"
		}
		if s > 0 {
			v += "." + strings.Repeat("9", s)
		}
		if g.chance(0.3) {
			v = "-" + v
		}
		return v
	}
	var b strings.Builder
	if g.chance(0.4) {
		b.WriteByte('-')
	}
	digits := g.n(min(ip, 4) + 1)
	if ip > 18 && g.chance(0.3) {
		digits = 19 + g.n(ip-18)
	}
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

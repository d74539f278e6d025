package oracle

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/tests/testbin"
)

var (
	// The default seed keeps the suite's runs alike; long runs on demand
	// pass their own, or 0 for one from the clock.
	seedFlag    = flag.Uint64("oracle.seed", 1, "seed of the random generator (0: pick one from the clock and print it)")
	queriesFlag = flag.Int("oracle.queries", 300, "number of oracle checks to run")
)

// queriesPerSchema is how many checks run against one random database
// before the generator makes a new one.
const queriesPerSchema = 60

// allowedErrors lists server errors the generator may legitimately provoke;
// a check that meets one is skipped. The generator avoids these shapes where
// it can, so the list stays short.
var allowedErrors = []string{
	// Nothing is known to need it yet; "not supported yet" (1235) is the
	// server's word for a shape it refuses rather than answers wrongly.
	"is not supported yet",
}

// counts tallies the checks by oracle.
type counts struct {
	tlpWhere, tlpDistinct, tlpAgg, norec, skipped int
}

func TestOracles(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("oracle seed %d (replay: go test ./tests/oracle -oracle.seed=%d -oracle.queries=%d)", seed, seed, *queriesFlag)
	s := testbin.StartServer(t, "../..")
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(127.0.0.1:%d)/", s.Query))
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)

	r := &runner{t: t, s: s, db: db, seed: seed, g: &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}}
	for i := 0; i < *queriesFlag; i++ {
		if i%queriesPerSchema == 0 {
			r.newDatabase(i / queriesPerSchema)
		}
		r.check()
	}
	t.Logf("checks: TLP where %d, TLP distinct %d, TLP aggregate %d, NoREC %d; skipped on allowed errors %d",
		r.n.tlpWhere, r.n.tlpDistinct, r.n.tlpAgg, r.n.norec, r.n.skipped)
}

type runner struct {
	t    *testing.T
	s    *testbin.Server
	db   *sql.DB
	seed uint64
	g    *gen
	dbn  string
	n    counts
}

func (r *runner) newDatabase(i int) {
	r.dbn = fmt.Sprintf("o%d", i)
	r.g.schema()
	r.g.data()
	r.exec("CREATE DATABASE " + r.dbn)
	r.exec("USE " + r.dbn)
	for _, st := range append(append([]string{}, r.g.ddl...), r.g.dml...) {
		r.exec(st)
	}
}

func (r *runner) exec(st string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := r.db.ExecContext(ctx, st); err != nil {
		r.fail(fmt.Sprintf("statement failed: %v", err), st)
	}
}

// fail ends the test with a reproducer: the seed, the statements that built
// the database and the queries that disagree.
func (r *runner) fail(why string, queries ...string) {
	r.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nseed %d (go test ./tests/oracle -oracle.seed=%d)\nreproducer:\n", why, r.seed, r.seed)
	fmt.Fprintf(&b, "CREATE DATABASE %s;\nUSE %s;\n", r.dbn, r.dbn)
	for _, st := range append(append([]string{}, r.g.ddl...), r.g.dml...) {
		b.WriteString(st + ";\n")
	}
	for _, q := range queries {
		b.WriteString("-- query\n" + q + ";\n")
	}
	if r.s.Exited() {
		fmt.Fprintf(&b, "server exited; its log:\n%s", r.s.Logs.String())
	}
	r.t.Fatal(b.String())
}

// errSkip is returned by query for an error on the allow-list.
var errSkip = errors.New("allowed error")

// query runs q and returns its rows as text, NULL as a marker no value
// prints as.
func (r *runner) query(q string, others ...string) ([][]string, error) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rs, err := r.db.QueryContext(ctx, q)
	if err == nil {
		defer rs.Close()
		var out [][]string
		var cols []string
		cols, err = rs.Columns()
		for err == nil && rs.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err = rs.Scan(ptrs...); err != nil {
				break
			}
			row := make([]string, len(cols))
			for i, v := range vals {
				row[i] = nullText
				if v.Valid {
					row[i] = v.String
				}
			}
			out = append(out, row)
		}
		if err == nil {
			err = rs.Err()
		}
		if err == nil {
			return out, nil
		}
	}
	msg := err.Error()
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		msg = fmt.Sprintf("%d %s", me.Number, me.Message)
	}
	for _, a := range allowedErrors {
		if strings.Contains(msg, a) {
			r.n.skipped++
			return nil, errSkip
		}
	}
	r.fail("query failed: "+msg, append([]string{q}, others...)...)
	return nil, err
}

const nullText = "\x00NULL"

// check runs one random oracle.
func (r *runner) check() {
	g := r.g
	f := g.fromClause()
	e := exprGen{g: g, cols: f.cols}
	p := e.pred(2)
	switch g.n(4) {
	case 0:
		r.norec(f, p)
	case 1:
		r.tlpAgg(f, e, p)
	default:
		r.tlpWhere(f, e, p)
	}
}

// partitions are the three TLP partitions of predicate p: every row makes
// exactly one of them true.
func partitions(p string) [3]string {
	return [3]string{p, "NOT " + p, "(" + p + ") IS NULL"}
}

// tlpWhere checks that SELECT [DISTINCT] cols FROM f returns the rows of
// the three partitions of p together (for DISTINCT, their union as sets).
func (r *runner) tlpWhere(f from, e exprGen, p string) {
	g := r.g
	var sel []string
	for _, c := range f.cols {
		if g.chance(0.4) {
			sel = append(sel, c.sql)
		}
	}
	if g.chance(0.3) {
		sel = append(sel, e.scalar(pick(g, 0, 0, 1), 1))
	}
	if len(sel) == 0 {
		sel = []string{f.cols[0].sql}
	}
	distinct := g.chance(0.3)
	groupBy := distinct && g.chance(0.3)
	head := "SELECT "
	if distinct && !groupBy {
		head += "DISTINCT "
	}
	head += strings.Join(sel, ", ") + " FROM " + f.sql
	tail := ""
	if groupBy {
		// GROUP BY without aggregates is DISTINCT by another path. It
		// names the select list by ordinal: an integer literal there would
		// be read as one.
		var ords []string
		for i := range sel {
			ords = append(ords, strconv.Itoa(i+1))
		}
		tail = " GROUP BY " + strings.Join(ords, ", ")
	}
	q := head + tail
	whole, err := r.query(q)
	if err != nil {
		return
	}
	parts := partitions(p)
	var got [][]string
	var qs []string
	if g.chance(0.5) {
		// One query with UNION [ALL].
		glue := " UNION ALL "
		if distinct {
			glue = " UNION "
		}
		u := head + " WHERE " + parts[0] + tail + glue + head + " WHERE " + parts[1] + tail + glue + head + " WHERE " + parts[2] + tail
		qs = []string{u}
		if got, err = r.query(u, q); err != nil {
			return
		}
	} else {
		for _, w := range parts {
			pq := head + " WHERE " + w + tail
			qs = append(qs, pq)
			rows, err := r.query(pq, q)
			if err != nil {
				return
			}
			got = append(got, rows...)
		}
	}
	if distinct {
		r.n.tlpDistinct++
		got = dedup(got)
	} else {
		r.n.tlpWhere++
	}
	if a, b := canon(whole), canon(got); !slices.Equal(a, b) {
		r.fail(fmt.Sprintf("TLP: %d rows without the predicate, %d in the partitions\n%s", len(a), len(b), diff(a, b)), append([]string{q}, qs...)...)
	}
}

// aggKinds are the aggregates TLP combines across partitions.
var aggKinds = []string{"COUNT", "SUM", "MIN", "MAX"}

// tlpAgg checks SELECT [g,] agg(x) FROM f [GROUP BY g] against the
// aggregate of the three partitions' results: COUNT and SUM add up, MIN and
// MAX take the least and greatest.
func (r *runner) tlpAgg(f from, e exprGen, p string) {
	g := r.g
	agg := pick(g, aggKinds...)
	var arg string
	var k kind
	switch {
	case agg == "COUNT" && g.chance(0.4):
		arg, k = "*", kBigint
	case agg == "SUM":
		// SUM over INT, DECIMAL and DOUBLE: BIGINT columns hold values at
		// the edge of the type, whose sums overflow.
		var cs []colRef
		for _, c := range f.cols {
			if c.col.kind == kInt || c.col.kind == kDecimal || c.col.kind == kDouble {
				cs = append(cs, c)
			}
		}
		c := pick(g, cs...)
		arg, k = c.sql, c.col.kind
		if exact := exactOperands(f); len(exact) > 0 && g.chance(0.3) {
			// A sum of INT and DECIMAL operands, exact whatever the order.
			// (DOUBLE operands next to INT edge values cancel, and the
			// rounding then differs by far more than any tolerance.)
			arg, k = "("+pick(g, exact...)+" + "+pick(g, exact...)+")", kDecimal
		}
	default:
		var cs []colRef
		for _, c := range f.cols {
			if c.col.kind != kBool {
				cs = append(cs, c)
			}
		}
		c := pick(g, cs...)
		arg, k = c.sql, c.col.kind
	}
	if agg == "COUNT" {
		k = kBigint
	}
	var groupBy string
	if g.chance(0.5) {
		groupBy = pick(g, f.cols...).sql
	}
	sel := agg + "(" + arg + ")"
	if groupBy != "" {
		sel = groupBy + ", " + sel
	}
	head := "SELECT " + sel + " FROM " + f.sql
	tail := ""
	if groupBy != "" {
		tail = " GROUP BY " + groupBy
	}
	q := head + tail
	whole, err := r.query(q)
	if err != nil {
		return
	}
	// key -> combined aggregate.
	comb := map[string]string{}
	var qs []string
	for _, w := range partitions(p) {
		pq := head + " WHERE " + w + tail
		qs = append(qs, pq)
		rows, err := r.query(pq, q)
		if err != nil {
			return
		}
		for _, row := range rows {
			key, v := "", row[len(row)-1]
			if groupBy != "" {
				key = row[0]
			}
			old, ok := comb[key]
			if !ok {
				comb[key] = v
				continue
			}
			comb[key] = combine(agg, k, old, v)
		}
	}
	r.n.tlpAgg++
	if groupBy == "" && len(comb) == 0 {
		// Without GROUP BY each partition returns one row even when it is
		// empty (COUNT 0, else NULL, which combine skips).
		r.fail("TLP aggregate: no partition returned a row", append([]string{q}, qs...)...)
	}
	want := map[string]string{}
	for _, row := range whole {
		key := ""
		if groupBy != "" {
			key = row[0]
		}
		want[key] = row[len(row)-1]
	}
	bad := len(want) != len(comb)
	for key, w := range want {
		if !sameValue(k, w, comb[key]) {
			bad = true
		}
	}
	if bad {
		r.fail(fmt.Sprintf("TLP aggregate %s: whole %v, partitions combined %v", agg, show(want), show(comb)), append([]string{q}, qs...)...)
	}
}

// exactOperands are the INT and DECIMAL columns of f and small integers.
func exactOperands(f from) []string {
	out := []string{"1", "-3"}
	for _, c := range f.cols {
		if c.col.kind == kInt || c.col.kind == kDecimal {
			out = append(out, c.sql)
		}
	}
	return out
}

// combine folds two partition results of agg over values of kind k.
func combine(agg string, k kind, a, b string) string {
	if a == nullText {
		return b
	}
	if b == nullText {
		return a
	}
	switch agg {
	case "COUNT", "SUM":
		x, y := rat(a), rat(b)
		if x == nil || y == nil {
			return a + "?" + b
		}
		return new(big.Rat).Add(x, y).RatString()
	}
	c := compareValues(k, a, b)
	if (agg == "MIN") == (c <= 0) {
		return a
	}
	return b
}

func compareValues(k kind, a, b string) int {
	if k.class() == 0 {
		x, y := rat(a), rat(b)
		if x != nil && y != nil {
			return x.Cmp(y)
		}
	}
	return strings.Compare(a, b)
}

func rat(s string) *big.Rat {
	x, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil
	}
	return x
}

// sameValue compares an aggregate over the whole input with the partitions'
// combination: numbers by value (DOUBLE within a relative 1e-9, since
// adding in another order rounds otherwise), the rest as text.
func sameValue(k kind, a, b string) bool {
	if a == b {
		return true
	}
	if a == nullText || b == nullText || k.class() != 0 {
		return false
	}
	x, y := rat(a), rat(b)
	if x == nil || y == nil {
		return false
	}
	if x.Cmp(y) == 0 {
		return true
	}
	if k != kDouble {
		return false
	}
	fx, _ := x.Float64()
	fy, _ := y.Float64()
	// DOUBLE values are at most 1e10 and a table holds tens of rows, so
	// rounding in another order moves a sum by far less than 1e-3.
	return math.Abs(fx-fy) <= max(1e-3, 1e-9*max(math.Abs(fx), math.Abs(fy)))
}

// norec checks that COUNT(*) ... WHERE p, which the planner may push into
// scans and joins, equals SUM(CASE WHEN p THEN 1 ELSE 0 END) over every row,
// which it cannot.
func (r *runner) norec(f from, p string) {
	q1 := "SELECT COUNT(*) FROM " + f.sql + " WHERE " + p
	q2 := "SELECT SUM(CASE WHEN " + p + " THEN 1 ELSE 0 END) FROM " + f.sql
	a, err := r.query(q1, q2)
	if err != nil {
		return
	}
	b, err := r.query(q2, q1)
	if err != nil {
		return
	}
	r.n.norec++
	x, y := a[0][0], b[0][0]
	if y == nullText {
		y = "0" // SUM over no rows
	}
	if x != y {
		r.fail(fmt.Sprintf("NoREC: COUNT(*) with the predicate is %s, the sum of CASE is %s", x, y), q1, q2)
	}
}

func canon(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, row := range rows {
		out[i] = strings.Join(row, "\x1f")
	}
	slices.Sort(out)
	return out
}

func dedup(rows [][]string) [][]string {
	seen := map[string]bool{}
	var out [][]string
	for _, row := range rows {
		k := strings.Join(row, "\x1f")
		if !seen[k] {
			seen[k] = true
			out = append(out, row)
		}
	}
	return out
}

// diff lists rows in one sorted multiset and not the other, a few of each.
func diff(a, b []string) string {
	var onlyA, onlyB []string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			onlyA = append(onlyA, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			onlyB = append(onlyB, b[j])
			j++
		default:
			i++
			j++
		}
	}
	pr := func(xs []string) string {
		if len(xs) > 10 {
			xs = xs[:10]
		}
		s := make([]string, len(xs))
		for i, x := range xs {
			s[i] = "  " + strings.ReplaceAll(strings.ReplaceAll(x, "\x1f", " | "), nullText, "NULL")
		}
		return strings.Join(s, "\n")
	}
	return fmt.Sprintf("only without the predicate (%d):\n%s\nonly in the partitions (%d):\n%s", len(onlyA), pr(onlyA), len(onlyB), pr(onlyB))
}

func show(m map[string]string) string {
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "[%s]=%s ", strings.ReplaceAll(k, nullText, "NULL"), strings.ReplaceAll(m[k], nullText, "NULL"))
	}
	return b.String()
}

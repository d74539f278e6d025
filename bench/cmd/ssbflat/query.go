package main

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/strata-db/strata/bench/ssb"
)

// result is one query's answer: the rows as text.
type result struct {
	columns []string
	rows    [][]string
}

// runQuery executes text and reads every row as text.
func runQuery(ctx context.Context, db queryer, text string) (*result, time.Duration, error) {
	start := time.Now()
	rows, err := db.QueryContext(ctx, text)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, 0, err
	}
	res := &result{columns: cols}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, 0, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = string(v)
		}
		res.rows = append(res.rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return res, time.Since(start), nil
}

// queryText returns the flat text of q as sent: without the trailing ';'.
func queryText(q ssb.Query) string {
	return strings.TrimSuffix(strings.TrimSpace(q.Flat), ";")
}

// parseAgg parses an aggregate value printed as an integer or a decimal.
func parseAgg(s string) (float64, error) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return float64(v), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("aggregate %q is not a number", s)
	}
	return v, nil
}

// check is the verdict on one query's answer.
type check struct {
	groups int
	sum    float64
	// errs are shape violations: the answer is wrong whatever the data.
	errs []string
	// notes compare with the SF 1 dbgen reference: plausibility only.
	notes []string
}

func (c *check) ok() bool { return len(c.errs) == 0 }

// broadTolerance is how far a broad query's SF 1 sum may stray from dbgen's
// before it is flagged: supplier-region counts vary by ±4.5 % (1σ) at SF 1
// in both data sets, and the sums move with them.
const broadTolerance = 0.20

// checkResult checks res against q's shape: column count, group count
// within the domain bound, numeric aggregates, distinct groups, ORDER BY
// order; against want, the exact answer over the generator's data, when
// given; and at SF 1 compares with the dbgen reference. The data are
// statistically equivalent to dbgen's, not identical, so a selective query's
// deviation is only noted; a broad query (BENCHMARKS.md §1.7) with another
// group count or a sum off by more than broadTolerance fails.
func checkResult(q ssb.Query, sf float64, res *result, want *ssb.Answer) check {
	var c check
	c.groups = len(res.rows)
	if len(res.columns) != q.Columns {
		c.errs = append(c.errs, fmt.Sprintf("%d columns, want %d", len(res.columns), q.Columns))
		return c
	}
	if c.groups == 0 && q.Broad {
		c.errs = append(c.errs, "no rows")
	}
	if c.groups > q.MaxGroups {
		c.errs = append(c.errs, fmt.Sprintf("%d groups, at most %d possible", c.groups, q.MaxGroups))
	}
	seen := map[string]bool{}
	canon := make([][]string, 0, len(res.rows))
	for _, row := range res.rows {
		if len(row) != q.Columns {
			c.errs = append(c.errs, "short row")
			return c
		}
		v, err := parseAgg(row[q.AggColumn])
		if err != nil {
			c.errs = append(c.errs, err.Error())
			return c
		}
		c.sum += v
		key := groupKey(row, q.AggColumn)
		if seen[key] && q.MaxGroups > 1 {
			c.errs = append(c.errs, fmt.Sprintf("duplicate group %q", strings.ReplaceAll(key, "\x00", ",")))
			return c
		}
		seen[key] = true
		r := append([]string(nil), row...)
		r[q.AggColumn] = strconv.FormatFloat(v, 'f', -1, 64)
		canon = append(canon, r)
	}
	if i := orderViolation(q.ID, canon); i > 0 {
		c.errs = append(c.errs, fmt.Sprintf("rows %d and %d out of ORDER BY order", i, i+1))
	}
	if want != nil {
		if diff := diffAnswer(q, canon, want.Rows); diff != "" {
			c.errs = append(c.errs, "differs from the generator's answer: "+diff)
		}
	}
	if sf == 1 {
		ref := q.FlatRef
		dev := c.sum/float64(ref.Sum) - 1
		note := fmt.Sprintf("groups %d (dbgen %d), sum %+.1f%% vs dbgen", c.groups, ref.Groups, 100*dev)
		if q.Broad && (c.groups != ref.Groups || math.Abs(dev) > broadTolerance) {
			c.errs = append(c.errs, "implausible: "+note)
		} else {
			c.notes = append(c.notes, note)
		}
	}
	return c
}

func groupKey(row []string, agg int) string {
	return strings.Join(append(append([]string(nil), row[:agg]...), row[agg+1:]...), "\x00")
}

// diffAnswer compares got (aggregates canonicalised) with want as sets of
// rows and describes the first difference, or returns "".
func diffAnswer(q ssb.Query, got, want [][]string) string {
	wantRows := map[string]string{}
	for _, r := range want {
		v, err := parseAgg(r[q.AggColumn])
		if err != nil {
			panic(fmt.Sprintf("BUG: generator answer %v", r))
		}
		wantRows[groupKey(r, q.AggColumn)] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	missing := len(wantRows)
	for _, r := range got {
		k := groupKey(r, q.AggColumn)
		w, ok := wantRows[k]
		switch {
		case !ok:
			return fmt.Sprintf("unexpected group (%s)", strings.ReplaceAll(k, "\x00", ","))
		case w != r[q.AggColumn]:
			return fmt.Sprintf("group (%s) = %s, want %s", strings.ReplaceAll(k, "\x00", ","), r[q.AggColumn], w)
		}
		missing--
	}
	if missing > 0 {
		return fmt.Sprintf("%d of %d groups missing", missing, len(wantRows))
	}
	return ""
}

// orderViolation returns i ≥ 1 when rows i-1 and i (0-based i) break the
// query's ORDER BY, else 0. Rows are canonicalised results.
func orderViolation(id string, rows [][]string) int {
	var cmpRows func(a, b []string) int
	switch id[:2] {
	case "Q2": // ORDER BY year, P_BRAND
		cmpRows = func(a, b []string) int { return cmp.Or(cmp.Compare(a[1], b[1]), cmp.Compare(a[2], b[2])) }
	case "Q3": // ORDER BY year ASC, revenue DESC
		cmpRows = func(a, b []string) int {
			ra, _ := strconv.ParseFloat(a[3], 64)
			rb, _ := strconv.ParseFloat(b[3], 64)
			return cmp.Or(cmp.Compare(a[2], b[2]), cmp.Compare(rb, ra))
		}
	case "Q4": // ORDER BY every grouping column, in order
		cmpRows = func(a, b []string) int {
			for i := 0; i < len(a)-1; i++ {
				if c := cmp.Compare(a[i], b[i]); c != 0 {
					return c
				}
			}
			return 0
		}
	default:
		return 0
	}
	for i := 1; i < len(rows); i++ {
		if cmpRows(rows[i-1], rows[i]) > 0 {
			return i
		}
	}
	return 0
}

// timing is one query's measurements.
type timing struct {
	id    string
	best  time.Duration
	runs  []time.Duration
	check check
	err   error
	// cpu are the CPU seconds each -cpu server spent per timed run.
	cpu []float64
}

// printCPU writes the Markdown table of the CPU time each server spent per
// query run, beside the mean wall time of the runs.
func printCPU(w io.Writer, sf float64, names []string, ts []timing) {
	fmt.Fprintf(w, "| query (SF %g) | mean wall ms |", sf)
	for _, n := range names {
		fmt.Fprintf(w, " %s CPU ms |", n)
	}
	fmt.Fprintln(w, " CPU ms, all |")
	fmt.Fprint(w, "|---|---:|")
	for range names {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w, "---:|")
	for _, t := range ts {
		if len(t.cpu) != len(names) || len(t.runs) == 0 {
			continue
		}
		var wall time.Duration
		for _, d := range t.runs {
			wall += d
		}
		fmt.Fprintf(w, "| %s | %.1f |", t.id, float64(wall.Microseconds())/1000/float64(len(t.runs)))
		sum := 0.0
		for _, c := range t.cpu {
			fmt.Fprintf(w, " %.0f |", c*1000)
			sum += c
		}
		fmt.Fprintf(w, " %.0f |\n", sum*1000)
	}
}

// printTable writes the Markdown table of per-query hot times and the total.
func printTable(w io.Writer, sf float64, ts []timing) {
	fmt.Fprintf(w, "| query (SF %g) | hot ms | runs ms | groups | check |\n", sf)
	fmt.Fprintln(w, "|---|---:|---|---:|---|")
	var total time.Duration
	failed := 0
	for _, t := range ts {
		if t.err != nil {
			failed++
			fmt.Fprintf(w, "| %s | – | – | – | error: %s |\n", t.id, oneLine(t.err.Error()))
			continue
		}
		runs := make([]string, len(t.runs))
		for i, r := range t.runs {
			runs[i] = ms(r)
		}
		verdict := "ok"
		if !t.check.ok() {
			failed++
			verdict = "WRONG: " + strings.Join(t.check.errs, "; ")
		}
		if len(t.check.notes) > 0 {
			verdict += "; " + strings.Join(t.check.notes, "; ")
		}
		total += t.best
		fmt.Fprintf(w, "| %s | %s | %s | %d | %s |\n", t.id, ms(t.best), strings.Join(runs, ", "), t.check.groups, verdict)
	}
	status := ""
	if failed > 0 {
		status = fmt.Sprintf("%d failed", failed)
	}
	fmt.Fprintf(w, "| **total** | **%s** | | | %s |\n", ms(total), status)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", "\\|")
}

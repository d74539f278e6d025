package main

// The -mv mode: SSB-flat queries with and without synchronous materialized
// views, side by side in one run.
//
// After the load (and -settle), runMV measures each kind of view of
// -mv-kinds in turn: "agg", views that pre-aggregate SUM(LO_REVENUE) by
// their keys, and "dup", views that keep every row, sorted on the same
// keys (a materialized view with ORDER BY and no aggregate). For a kind it
// creates the views of flatMVs that the selected queries need, one at a
// time, each built by the server's background job, and times each build
// from CREATE until SHOW ALTER TABLE MATERIALIZED VIEW shows it FINISHED.
// It then asks EXPLAIN which index every selected query reads, on two
// connections: one with the planner's routing on (the default) and one
// after SET use_rollup = false. A query that reads a view is run
// alternately on both connections, -runs times each after one warm-up on
// each; both answers must equal each other and the generator's exact
// answer (-verify). A query meant for a view (mvDef.queries) that EXPLAIN
// does not route there fails the run. The kind's views are dropped before
// the next kind, so each query has one candidate view at a time.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strata-db/strata/bench/ssb"
)

// The kinds of view -mv-kinds names.
const (
	mvAgg = "agg" // SUM(LO_REVENUE) grouped by the keys
	mvDup = "dup" // every row's keys and LO_REVENUE, sorted on the keys
)

// mvDef is one materialized view of lineorder_flat, keyed on keys in that
// order.
type mvDef struct {
	base string // the name of its agg kind; the dup kind adds "_dup"
	keys []string
	// values are the other columns of its dup kind (nil: LO_REVENUE); the
	// agg kind has SUM(LO_REVENUE).
	values []string
	// queries are the SSB-flat queries the view is meant to answer.
	queries []string
	// kinds are the kinds it is built in (nil: every kind).
	kinds []string
}

// flatMVs answer the SSB-flat queries whose aggregate is the sum of a
// column (Q2.x, Q3.x) and, keeping every row, Q4.1 and Q4.2. Every one
// keeps LO_ORDERDATE, which the queries filter by a date range and group
// by its year: a view can hold columns, not LO_ORDERDATE DIV 10000. The
// leading keys are what the queries' filters fix, so the zone maps skip the
// rest, and so that the planner, which first prefers the source whose sort
// key starts with the most filtered columns and keeps the base on a tie,
// picks the view: the base's sort key starts with LO_ORDERDATE, which Q3.x
// and Q4.2 bound by a range. That is why Q3.x need three views: one keyed
// first on what Q3.1 fixes (C_REGION, S_REGION) matches nothing of Q3.2's
// or Q3.3's filters, and the base would win those.
var flatMVs = []mvDef{
	{base: "mv_q2", keys: []string{"S_REGION", "P_CATEGORY", "P_BRAND", "LO_ORDERDATE"}, queries: []string{"Q2.1", "Q2.2", "Q2.3"}},
	{base: "mv_q31", keys: []string{"C_REGION", "S_REGION", "C_NATION", "S_NATION", "LO_ORDERDATE"}, queries: []string{"Q3.1"}},
	{base: "mv_q32", keys: []string{"C_NATION", "S_NATION", "C_CITY", "S_CITY", "LO_ORDERDATE"}, queries: []string{"Q3.2"}},
	{base: "mv_q33", keys: []string{"C_CITY", "S_CITY", "LO_ORDERDATE"}, queries: []string{"Q3.3", "Q3.4"}},
	{base: "mv_q4", keys: []string{"C_REGION", "S_REGION", "P_MFGR", "LO_ORDERDATE"},
		values: []string{"C_NATION", "S_NATION", "P_CATEGORY", "LO_REVENUE", "LO_SUPPLYCOST"}, queries: []string{"Q4.1", "Q4.2"},
		kinds: []string{mvDup}},
}

// builtAs reports whether d is built in kind.
func (d mvDef) builtAs(kind string) bool { return d.kinds == nil || slices.Contains(d.kinds, kind) }

// name is the view's name in kind.
func (d mvDef) name(kind string) string {
	if kind == mvDup {
		return d.base + "_dup"
	}
	return d.base
}

// createStatement is the CREATE MATERIALIZED VIEW statement of d in kind.
func (d mvDef) createStatement(kind string) string {
	keys := strings.Join(d.keys, ", ")
	if kind == mvDup {
		values := d.values
		if values == nil {
			values = []string{"LO_REVENUE"}
		}
		return fmt.Sprintf("CREATE MATERIALIZED VIEW %s AS SELECT %s, %s FROM lineorder_flat ORDER BY %s",
			d.name(kind), keys, strings.Join(values, ", "), keys)
	}
	return fmt.Sprintf("CREATE MATERIALIZED VIEW %s AS SELECT %s, SUM(LO_REVENUE) FROM lineorder_flat GROUP BY %s", d.name(kind), keys, keys)
}

// parseMVKinds checks a -mv-kinds list.
func parseMVKinds(list string) ([]string, error) {
	var kinds []string
	for _, k := range strings.Split(list, ",") {
		k = strings.ToLower(strings.TrimSpace(k))
		switch {
		case k == "":
		case k != mvAgg && k != mvDup:
			return nil, fmt.Errorf("-mv-kinds: unknown kind %q (want %s, %s)", k, mvAgg, mvDup)
		case !slices.Contains(kinds, k):
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return nil, errors.New("-mv-kinds names no kind")
	}
	return kinds, nil
}

// noMVReason says why no view of kind answers a query that none of
// flatMVs of that kind is meant for.
func noMVReason(id, kind string) string {
	switch {
	case kind == mvAgg && strings.HasPrefix(id, "Q1."):
		return "SUM(LO_EXTENDEDPRICE*LO_DISCOUNT) aggregates an expression; an aggregating view sums columns only"
	case kind == mvAgg && strings.HasPrefix(id, "Q4."):
		return "SUM(LO_REVENUE-LO_SUPPLYCOST) aggregates an expression; an aggregating view sums columns only, " +
			"and the planner does not rewrite it as SUM(LO_REVENUE)-SUM(LO_SUPPLYCOST)"
	case kind == mvDup && strings.HasPrefix(id, "Q1."):
		return "its filters are ranges only (LO_ORDERDATE, LO_DISCOUNT, LO_QUANTITY): a sort key uses one range at most, " +
			"as the base's (LO_ORDERDATE, LO_ORDERKEY) does, and on a tie the planner keeps the base"
	case kind == mvDup && id == "Q4.3":
		return "its filters fix C_REGION and S_NATION and bound LO_ORDERDATE: mv_q4_dup's sort key matches C_REGION only, " +
			"as many columns as the base's date range, and on a tie the planner keeps the base"
	}
	return "no view of this run is meant for it"
}

// mvFor returns the view of kind meant to answer query id, or nil.
func mvFor(id, kind string) *mvDef {
	for i := range flatMVs {
		if flatMVs[i].builtAs(kind) && slices.Contains(flatMVs[i].queries, id) {
			return &flatMVs[i]
		}
	}
	return nil
}

// mvsFor returns the views of kind some query of qs is meant for.
func mvsFor(qs []ssb.Query, kind string) []mvDef {
	var out []mvDef
	for _, d := range flatMVs {
		if d.builtAs(kind) && slices.ContainsFunc(qs, func(q ssb.Query) bool { return slices.Contains(d.queries, q.ID) }) {
			out = append(out, d)
		}
	}
	return out
}

// queryer is what runQuery needs: a *sql.DB or one *sql.Conn of it.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// mvBuild is how one view was built.
type mvBuild struct {
	def      mvDef
	kind     string
	took     time.Duration
	rollupID int64
	// bytes and rowsets of the view's tablets; bytes < 0: not known.
	bytes   int64
	rowsets int
}

// mvTiming is one query's figures with and without its view.
type mvTiming struct {
	id, index string
	on, off   []time.Duration
	groups    int
	check     check // both answers; errs also hold a disagreement
	err       error
}

// mvPhase is what one kind of view gave.
type mvPhase struct {
	kind      string
	builds    []mvBuild
	baseBytes int64
	timings   []mvTiming
	failed    []string
}

// runMV measures the kinds of view and prints the tables. It fails when a
// build fails, a query errs or answers wrong, or EXPLAIN does not route a
// query as flatMVs mean it to.
func runMV(ctx context.Context, db *sql.DB, qs []ssb.Query, answers map[string]ssb.Answer, c config, out io.Writer) error {
	kinds, err := parseMVKinds(c.mvKinds)
	if err != nil {
		return err
	}
	// Two connections of their own: the session variable sticks to one.
	on, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("opening a connection: %w", err)
	}
	defer on.Close()
	off, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("opening a connection: %w", err)
	}
	defer off.Close()
	if _, err := off.ExecContext(ctx, "SET use_rollup = false"); err != nil {
		return fmt.Errorf("turning routing off: %w", err)
	}
	// No view of an earlier run may compete.
	if err := dropMVs(ctx, on, flatMVs, []string{mvAgg, mvDup}); err != nil {
		return err
	}
	var phases []*mvPhase
	for _, kind := range kinds {
		fmt.Fprintf(out, "== %s views\n", kind)
		defs := mvsFor(qs, kind)
		ph, err := runMVPhase(ctx, on, off, kind, defs, qs, answers, c, out)
		if err != nil {
			return err
		}
		phases = append(phases, ph)
		if err := dropMVs(ctx, on, defs, []string{kind}); err != nil {
			return err
		}
	}
	for _, ph := range phases {
		fmt.Fprintln(out)
		printMVBuilds(out, c.sf, ph)
		fmt.Fprintln(out)
		printMVTable(out, c.sf, c.runs, ph)
	}
	if len(phases) > 1 {
		fmt.Fprintln(out)
		printMVSummary(out, c.sf, phases)
	}
	var failed []string
	for _, ph := range phases {
		failed = append(failed, ph.failed...)
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

// dropMVs drops the views of defs built in kinds that exist.
func dropMVs(ctx context.Context, conn *sql.Conn, defs []mvDef, kinds []string) error {
	for _, kind := range kinds {
		for _, d := range defs {
			if !d.builtAs(kind) {
				continue
			}
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("DROP MATERIALIZED VIEW IF EXISTS %s ON lineorder_flat", d.name(kind))); err != nil {
				return fmt.Errorf("dropping %s: %w", d.name(kind), err)
			}
		}
	}
	return nil
}

// runMVPhase builds the views defs of kind and compares the queries qs
// with and without them.
func runMVPhase(ctx context.Context, on, off *sql.Conn, kind string, defs []mvDef, qs []ssb.Query,
	answers map[string]ssb.Answer, c config, out io.Writer) (*mvPhase, error) {
	ph := &mvPhase{kind: kind}
	for _, d := range defs {
		b, err := buildMV(ctx, on, d, kind, c, out)
		if err != nil {
			return nil, err
		}
		ph.builds = append(ph.builds, b)
	}
	if c.settle > 0 {
		start := time.Now()
		if err := c.settleAll(ctx); err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "compaction settled after %.1fs\n", time.Since(start).Seconds())
	}
	ph.baseBytes = mvSizes(ctx, on, ph.builds, out)

	var compared []ssb.Query
	var none []string
	index := map[string]string{}
	for _, q := range qs {
		withMV, err := explainIndex(ctx, on, queryText(q))
		if err != nil {
			return nil, fmt.Errorf("EXPLAIN %s: %w", q.ID, err)
		}
		without, err := explainIndex(ctx, off, queryText(q))
		if err != nil {
			return nil, fmt.Errorf("EXPLAIN %s with use_rollup = false: %w", q.ID, err)
		}
		fmt.Fprintf(out, "EXPLAIN %s reads %s; with use_rollup = false %s\n", q.ID, withMV, without)
		if without != "lineorder_flat" {
			ph.failed = append(ph.failed, fmt.Sprintf("%s reads %s with use_rollup = false", q.ID, without))
			continue
		}
		want := mvFor(q.ID, kind)
		switch {
		case want != nil && withMV != want.name(kind):
			ph.failed = append(ph.failed, fmt.Sprintf("%s reads %s, not %s (%s)", q.ID, withMV, want.name(kind), want.createStatement(kind)))
		case withMV == "lineorder_flat":
			none = append(none, fmt.Sprintf("  %s: %s", q.ID, noMVReason(q.ID, kind)))
		default:
			index[q.ID] = withMV
			compared = append(compared, q)
		}
	}
	if len(none) > 0 {
		fmt.Fprintln(out, "queries no view answers:")
		fmt.Fprintln(out, strings.Join(none, "\n"))
	}

	for _, q := range compared {
		var want *ssb.Answer
		if a, ok := answers[q.ID]; ok {
			want = &a
		}
		t := compareQuery(ctx, on, off, q, want, c)
		t.index = index[q.ID]
		ph.timings = append(ph.timings, t)
		switch {
		case t.err != nil:
			fmt.Fprintf(out, "%s: %v\n", q.ID, t.err)
			ph.failed = append(ph.failed, fmt.Sprintf("%s (%s): %v", q.ID, t.index, t.err))
			continue
		case !t.check.ok():
			ph.failed = append(ph.failed, fmt.Sprintf("%s (%s) answered wrong", q.ID, t.index))
		}
		fmt.Fprintf(out, "%s (%s): best %s ms with, %s ms without (%d groups)\n", q.ID, t.index,
			ms(slices.Min(t.on)), ms(slices.Min(t.off)), t.groups)
	}
	return ph, nil
}

// mvPoll is how often a build's job is looked at.
const mvPoll = 250 * time.Millisecond

// buildMV creates the view d of kind and waits until its job is
// FINISHED, printing its progress.
func buildMV(ctx context.Context, conn *sql.Conn, d mvDef, kind string, c config, out io.Writer) (mvBuild, error) {
	b := mvBuild{def: d, kind: kind, bytes: -1}
	name := d.name(kind)
	// Jobs of a dropped view of the same name stay listed: the new one is
	// the one with the largest id.
	before, err := mvJob(ctx, conn, c.db, name)
	if err != nil {
		return b, err
	}
	fmt.Fprintf(out, "%s;\n", d.createStatement(kind))
	start := time.Now()
	if _, err := conn.ExecContext(ctx, d.createStatement(kind)); err != nil {
		return b, fmt.Errorf("creating %s: %w", name, err)
	}
	deadline := start.Add(c.mvWait)
	last := ""
	for {
		j, err := mvJob(ctx, conn, c.db, name)
		if err != nil {
			return b, err
		}
		if j.id > before.id {
			if s := j.state + " " + j.progress; s != last {
				fmt.Fprintf(out, "  %6.1fs  %s %s\n", time.Since(start).Seconds(), name, s)
				last = s
			}
			switch j.state {
			case "FINISHED":
				b.took, b.rollupID = time.Since(start), j.rollupID
				fmt.Fprintf(out, "%s built in %.1fs\n", name, b.took.Seconds())
				return b, nil
			case "CANCELLED":
				return b, fmt.Errorf("building %s: job %d cancelled: %s", name, j.id, j.msg)
			}
		}
		if time.Now().After(deadline) {
			return b, fmt.Errorf("building %s: not finished after %s (%s)", name, c.mvWait, last)
		}
		select {
		case <-ctx.Done():
			return b, ctx.Err()
		case <-time.After(mvPoll):
		}
	}
}

// alterJob is one row of SHOW ALTER TABLE MATERIALIZED VIEW.
type alterJob struct {
	id, rollupID         int64
	state, progress, msg string
}

// mvJob returns the newest job building a view named name, or a zero job.
func mvJob(ctx context.Context, conn *sql.Conn, db, name string) (alterJob, error) {
	res, _, err := runQuery(ctx, conn, fmt.Sprintf("SHOW ALTER TABLE MATERIALIZED VIEW FROM %s WHERE RollupIndexName = '%s'", db, name))
	if err != nil {
		return alterJob{}, fmt.Errorf("showing the job of %s: %w", name, err)
	}
	col := func(name string) int { return slices.Index(res.columns, name) }
	iID, iRollup, iState, iProgress, iMsg := col("JobId"), col("RollupId"), col("State"), col("Progress"), col("Msg")
	if min(iID, iRollup, iState, iProgress, iMsg) < 0 {
		return alterJob{}, fmt.Errorf("SHOW ALTER TABLE MATERIALIZED VIEW has columns %v", res.columns)
	}
	var newest alterJob
	for _, r := range res.rows {
		id, err1 := strconv.ParseInt(r[iID], 10, 64)
		rollup, err2 := strconv.ParseInt(r[iRollup], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return alterJob{}, fmt.Errorf("SHOW ALTER TABLE MATERIALIZED VIEW: %w", err)
		}
		if id > newest.id {
			newest = alterJob{id: id, rollupID: rollup, state: r[iState], progress: r[iProgress], msg: r[iMsg]}
		}
	}
	return newest, nil
}

// explainLine finds the scan of EXPLAIN's text and the index it reads:
// "TABLE: db.t(index)".
var explainLine = regexp.MustCompile(`TABLE: [^\s(]+\(([^)\s]+)\)`)

// explainIndex returns the index the scan of text reads: the table's name
// for the base, else the view's.
func explainIndex(ctx context.Context, conn queryer, text string) (string, error) {
	res, _, err := runQuery(ctx, conn, "EXPLAIN "+text)
	if err != nil {
		return "", err
	}
	var lines []string
	for _, r := range res.rows {
		lines = append(lines, strings.Join(r, " "))
	}
	return indexOfPlan(strings.Join(lines, "\n"))
}

// indexOfPlan returns the index the one scan of an EXPLAIN text reads.
func indexOfPlan(plan string) (string, error) {
	m := explainLine.FindAllStringSubmatch(plan, -1)
	if len(m) != 1 {
		return "", fmt.Errorf("%d scans in the plan, want 1:\n%s", len(m), plan)
	}
	return m[0][1], nil
}

// compareQuery runs q alternately on the connection with routing on and
// on the one with it off: one warm-up each, checked, then c.runs timed
// runs each, every answer the warm-up's.
func compareQuery(ctx context.Context, on, off *sql.Conn, q ssb.Query, want *ssb.Answer, c config) mvTiming {
	t := mvTiming{id: q.ID}
	text := queryText(q)
	first := map[bool]*result{}
	for _, routed := range []bool{true, false} {
		conn := map[bool]*sql.Conn{true: on, false: off}[routed]
		res, _, err := runQuery(ctx, conn, text)
		if err != nil {
			t.err = fmt.Errorf("%s: %w", routingName(routed), err)
			return t
		}
		first[routed] = res
		ch := checkResult(q, c.sf, res, want)
		for _, e := range ch.errs {
			t.check.errs = append(t.check.errs, routingName(routed)+": "+e)
		}
		if routed {
			t.groups, t.check.notes = ch.groups, ch.notes
		}
	}
	if !sameRows(first[true], first[false]) {
		t.check.errs = append(t.check.errs, fmt.Sprintf("the answers with and without the view differ (%d and %d rows)",
			len(first[true].rows), len(first[false].rows)))
	}
	for i := range c.runs {
		// Alternate which goes first, so that neither always follows the other.
		order := []bool{true, false}
		if i%2 == 1 {
			order = []bool{false, true}
		}
		for _, routed := range order {
			conn := map[bool]*sql.Conn{true: on, false: off}[routed]
			res, d, err := runQuery(ctx, conn, text)
			if err != nil {
				t.err = fmt.Errorf("%s: %w", routingName(routed), err)
				return t
			}
			if !sameResult(first[routed], res) {
				t.check.errs = append(t.check.errs, routingName(routed)+": answer changed between runs")
			}
			if routed {
				t.on = append(t.on, d)
			} else {
				t.off = append(t.off, d)
			}
		}
	}
	return t
}

func routingName(routed bool) string {
	if routed {
		return "with the view"
	}
	return "without (use_rollup = false)"
}

// sameRows reports whether a and b hold the same rows in any order: rows
// tied on a query's ORDER BY may come in either order.
func sameRows(a, b *result) bool {
	key := func(r *result) []string {
		ks := make([]string, len(r.rows))
		for i, row := range r.rows {
			ks[i] = strings.Join(row, "\x00")
		}
		slices.Sort(ks)
		return ks
	}
	return len(a.rows) == len(b.rows) && slices.Equal(key(a), key(b))
}

// median of ds, which is not empty.
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratio formats without/with: how many times faster the view is.
func ratio(without, with time.Duration) string {
	if with <= 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(without)/float64(with), 'f', 2, 64) + "×"
}

// printMVTable writes the Markdown table of one kind's comparison.
func printMVTable(w io.Writer, sf float64, runs int, ph *mvPhase) {
	fmt.Fprintf(w, "SSB-flat SF %g, with and without the %s views: ms, best and median of %d runs each, alternating "+
		"(ratio = without / with; above 1 means the view is faster)\n\n", sf, ph.kind, runs)
	fmt.Fprintln(w, "| query | view | with best | with median | without best | without median | ratio best | ratio median | groups | check |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
	var onTotal, offTotal time.Duration
	for _, t := range ph.timings {
		if t.err != nil {
			fmt.Fprintf(w, "| %s | %s | – | – | – | – | – | – | – | error: %s |\n", t.id, t.index, oneLine(t.err.Error()))
			continue
		}
		verdict := "ok"
		if !t.check.ok() {
			verdict = "WRONG: " + oneLine(strings.Join(t.check.errs, "; "))
		}
		bOn, bOff := slices.Min(t.on), slices.Min(t.off)
		mOn, mOff := median(t.on), median(t.off)
		onTotal += bOn
		offTotal += bOff
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |\n", t.id, t.index, ms(bOn), ms(mOn), ms(bOff), ms(mOff),
			ratio(bOff, bOn), ratio(mOff, mOn), t.groups, verdict)
	}
	fmt.Fprintf(w, "| **total** (best) | | **%s** | | **%s** | | **%s** | | | |\n", ms(onTotal), ms(offTotal), ratio(offTotal, onTotal))
}

// printMVSummary writes the best times of every kind next to each other:
// each kind's ratio is to the base times measured alongside it.
func printMVSummary(w io.Writer, sf float64, phases []*mvPhase) {
	fmt.Fprintf(w, "SSB-flat SF %g, best ms; each kind's base times were measured alternating with its views "+
		"(ratio = without / with)\n\n", sf)
	head, rule := "| query |", "|---|"
	for _, ph := range phases {
		head += fmt.Sprintf(" without (%s run) | with %s view | ratio |", ph.kind, ph.kind)
		rule += "---:|---:|---:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	var ids []string
	for _, ph := range phases {
		for _, t := range ph.timings {
			if !slices.Contains(ids, t.id) {
				ids = append(ids, t.id)
			}
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		line := "| " + id + " |"
		for _, ph := range phases {
			i := slices.IndexFunc(ph.timings, func(t mvTiming) bool { return t.id == id })
			if i < 0 || ph.timings[i].err != nil {
				line += " – | – | – |"
				continue
			}
			t := ph.timings[i]
			bOn, bOff := slices.Min(t.on), slices.Min(t.off)
			line += fmt.Sprintf(" %s | %s | %s |", ms(bOff), ms(bOn), ratio(bOff, bOn))
		}
		fmt.Fprintln(w, line)
	}
}

// printMVBuilds writes the Markdown table of one kind's views.
func printMVBuilds(w io.Writer, sf float64, ph *mvPhase) {
	what := "SUM(LO_REVENUE) grouped by its keys"
	if ph.kind == mvDup {
		what = "every row, sorted on its keys"
	}
	fmt.Fprintf(w, "The %s views of lineorder_flat, SF %g (each %s), built one after the other\n\n", ph.kind, sf, what)
	fmt.Fprintln(w, "| view | keys | for | build s | on disk MB | of the base | rowsets |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|")
	for _, b := range ph.builds {
		size, share, rowsets := "–", "–", "–"
		if b.bytes >= 0 {
			size = strconv.FormatFloat(float64(b.bytes)/1e6, 'f', 1, 64)
			rowsets = strconv.Itoa(b.rowsets)
			if ph.baseBytes > 0 {
				share = strconv.FormatFloat(100*float64(b.bytes)/float64(ph.baseBytes), 'f', 1, 64) + " %"
			}
		}
		keys := strings.Join(b.def.keys, ", ")
		if b.kind == mvDup && b.def.values != nil {
			keys += " (+ " + strings.Join(b.def.values, ", ") + ")"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.1f | %s | %s | %s |\n", b.def.name(b.kind), keys,
			strings.Join(b.def.queries, ", "), b.took.Seconds(), size, share, rowsets)
	}
	if ph.baseBytes > 0 {
		fmt.Fprintf(w, "\nlineorder_flat itself (38 columns): %.1f MB on disk\n", float64(ph.baseBytes)/1e6)
	}
}

// mvSizes fills in the bytes and rowsets of each build's tablets, read
// from the backend's /api/compaction/show, and returns the base's bytes
// (SHOW TABLETS), or -1. No statement lists a view's tablets (SHOW TABLETS
// shows the base's), so their ids are taken as the catalog numbers them
// (catalog.Table.NewIndexTablets via session addIndex): the view's id
// (RollupId) + 2 onwards, one per bucket per partition, partition by
// partition. A tablet the backend does not know leaves the size unknown.
// Sizes are for the report only: failures are printed, not returned.
func mvSizes(ctx context.Context, conn *sql.Conn, builds []mvBuild, out io.Writer) int64 {
	tablets, _, err := runQuery(ctx, conn, "SHOW TABLETS FROM lineorder_flat")
	if err != nil {
		fmt.Fprintf(out, "view sizes unknown: %v\n", err)
		return -1
	}
	iSize, iStatus := slices.Index(tablets.columns, "LocalDataSize"), slices.Index(tablets.columns, "CompactionStatus")
	if iSize < 0 || iStatus < 0 || len(tablets.rows) == 0 {
		fmt.Fprintln(out, "view sizes unknown: SHOW TABLETS lacks LocalDataSize or CompactionStatus")
		return -1
	}
	var base int64
	for _, r := range tablets.rows {
		n, _ := strconv.ParseInt(r[iSize], 10, 64)
		base += n
	}
	status, err := url.Parse(tablets.rows[0][iStatus])
	if err != nil || status.Host == "" {
		fmt.Fprintf(out, "view sizes unknown: compaction status URL %q\n", tablets.rows[0][iStatus])
		return base
	}
	n := int64(len(tablets.rows)) // base tablets: partitions × buckets, as every index has
	for i := range builds {
		b := &builds[i]
		var bytes int64
		rowsets := 0
		for id := b.rollupID + 2; id < b.rollupID+2+n; id++ {
			sz, rs, err := tabletSize(ctx, fmt.Sprintf("%s://%s/api/compaction/show?tablet_id=%d", status.Scheme, status.Host, id))
			if err != nil {
				fmt.Fprintf(out, "size of %s unknown: %v\n", b.def.name(b.kind), err)
				bytes = -1
				break
			}
			bytes += sz
			rowsets += rs
		}
		if bytes >= 0 {
			b.bytes, b.rowsets = bytes, rowsets
		}
	}
	return base
}

// tabletSize returns the bytes and the number of the visible rowsets at a
// tablet's compaction status URL.
func tabletSize(ctx context.Context, url string) (int64, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var st struct {
		Status  string   `json:"status"`
		Msg     string   `json:"msg"`
		Rowsets []string `json:"rowsets"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", url, err)
	}
	if st.Status != "" {
		return 0, 0, fmt.Errorf("%s: %s %s", url, st.Status, st.Msg)
	}
	var total int64
	for _, rs := range st.Rowsets {
		n, err := rowsetBytes(rs)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", url, err)
		}
		total += n
	}
	return total, len(st.Rowsets), nil
}

// rowsetBytes reads the size at the end of a rowset as Doris prints it:
// "[2-2] 1 DATA NONOVERLAPPING 57 34.44 KB" (or "... 57 0"). Two decimals
// of the unit: the size is approximate.
func rowsetBytes(s string) (int64, error) {
	f := strings.Fields(s)
	if len(f) < 2 {
		return 0, fmt.Errorf("rowset %q", s)
	}
	if f[len(f)-1] == "0" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(f[len(f)-2], 64)
	if err != nil {
		return 0, fmt.Errorf("rowset %q: %w", s, err)
	}
	unit := map[string]float64{"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}[f[len(f)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("rowset %q: unit %q", s, f[len(f)-1])
	}
	return int64(v * unit), nil
}

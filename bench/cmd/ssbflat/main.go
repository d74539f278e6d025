// Command ssbflat runs the SSB-flat benchmark (BENCHMARKS.md §1.5) against
// a running Strata server: it creates database ssb and table
// lineorder_flat over the MySQL protocol, generates the data and loads it
// by HTTP stream load in parallel chunks straight from the generator, then
// runs the 13 flat queries (one warm-up, best of -runs, hot), checks every
// answer exactly against the answer computed from the generator's data
// (and, at SF 1, reports how it compares with dbgen's reference figures),
// and prints a Markdown table of the times. With -mv it builds
// materialized views that answer SSB-flat queries instead and times each
// query they answer with and without them, side by side (mv.go).
//
//	ssbflat -addr 127.0.0.1:9030 -http 127.0.0.1:8030 -sf 1 -user root
//	ssbflat -skip-load -queries Q1.1,Q2.1 -runs 5
//	ssbflat -gen-only -out /tmp/ssb -sf 1
//	ssbflat -sf 1 -mv -runs 5
//
// The exit status is 1 when loading fails or a query errors or returns a
// wrong answer (with -mv, also when a view's build fails or EXPLAIN does
// not route a query to the view meant for it); deviations from dbgen's
// SF 1 figures are reported, not fatal.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"golang.org/x/sync/errgroup"

	"github.com/strata-db/strata/bench/ssb"
	"github.com/strata-db/strata/bench/strataload"
)

type config struct {
	addr, httpAddr, beHTTP    string
	metrics                   string
	cpu                       string
	user, password, db        string
	sf                        float64
	buckets                   int
	skipLoad, genOnly, verify bool
	out, tables               string
	queries                   string
	runs                      int
	rowsPerLoad               int64
	loadParallel, genWorkers  int
	sep                       string
	wait                      time.Duration
	model                     string
	updateFrac                float64
	settle                    time.Duration
	mv                        bool
	mvWait                    time.Duration
	mvKinds                   string
}

func main() {
	var c config
	flag.StringVar(&c.addr, "addr", "127.0.0.1:9030", "Strata MySQL protocol address")
	flag.StringVar(&c.httpAddr, "http", "127.0.0.1:8030", "Strata FE HTTP address (stream load, redirects to a BE)")
	flag.StringVar(&c.beHTTP, "be-http", "", "send stream loads straight to this BE HTTP address instead of -http")
	flag.StringVar(&c.user, "user", "root", "user")
	flag.StringVar(&c.password, "password", "", "password")
	flag.StringVar(&c.db, "db", "ssb", "database")
	flag.Float64Var(&c.sf, "sf", 1, "scale factor")
	flag.IntVar(&c.buckets, "buckets", 8, "hash buckets of lineorder_flat")
	flag.BoolVar(&c.skipLoad, "skip-load", false, "do not create or load the table; only run queries")
	flag.StringVar(&c.queries, "queries", "", "comma-separated query ids to run (default all), e.g. Q1.1,Q2.1")
	flag.BoolVar(&c.verify, "verify", true, "check every answer exactly against the generator's data "+
		"(turn off when the table holds other data, e.g. dbgen's)")
	flag.IntVar(&c.runs, "runs", 3, "timed runs per query after one warm-up; the best counts")
	flag.Int64Var(&c.rowsPerLoad, "rows-per-load", 1_500_000, "approximate rows per stream load")
	flag.IntVar(&c.loadParallel, "load-parallel", 2, "stream loads in flight")
	flag.IntVar(&c.genWorkers, "gen-workers", 1, "generator goroutines per stream load")
	flag.StringVar(&c.sep, "sep", "|", "column separator of the generated CSV")
	flag.DurationVar(&c.wait, "wait", 60*time.Second, "how long to wait for the server to accept connections")
	flag.StringVar(&c.model, "model", "dup", "data model of lineorder_flat: dup, mow (UNIQUE KEY, merge-on-write) or mor (merge-on-read)")
	flag.DurationVar(&c.settle, "settle", 0, "before the queries, wait up to this long for the server's compactions to finish "+
		"(its /metrics shows none running, queued or due); 0: do not wait")
	flag.StringVar(&c.cpu, "cpu", "", "comma-separated name=URL of /metrics pages (e.g. be0=http://127.0.0.1:8040/metrics): "+
		"report each server's CPU time per query run, from its process_cpu_seconds_total before and after the timed runs")
	flag.StringVar(&c.metrics, "metrics", "", "comma-separated /metrics URLs -settle watches (a cluster's backends); default the -http address's")
	flag.Float64Var(&c.updateFrac, "update-frac", 0, "after loading, load this share of the rows again (unique models: every one an update)")
	flag.BoolVar(&c.mv, "mv", false, "after loading, build materialized views that answer SSB-flat queries and time each "+
		"query they answer with and without them (SET use_rollup = false), alternating, instead of the 13-query table")
	flag.DurationVar(&c.mvWait, "mv-wait", 30*time.Minute, "how long -mv waits for each view's build")
	flag.StringVar(&c.mvKinds, "mv-kinds", "agg,dup", "the kinds of view -mv measures, in turn: agg (SUM(LO_REVENUE) by the keys), "+
		"dup (every row, sorted on the same keys)")
	flag.BoolVar(&c.genOnly, "gen-only", false, "only write the generated tables to -out")
	flag.StringVar(&c.out, "out", "", "output directory for -gen-only")
	flag.StringVar(&c.tables, "tables", strings.Join(ssb.Tables, ","), "tables for -gen-only")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ssbflat:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config, out io.Writer) error {
	if c.runs < 1 || c.buckets < 1 || c.loadParallel < 1 || c.rowsPerLoad < 1 || c.mv && c.mvWait <= 0 {
		return errors.New("-runs, -buckets, -load-parallel, -rows-per-load and -mv-wait must be positive")
	}
	switch c.model {
	case "":
		c.model = "dup"
	case "dup", "mow", "mor":
	default:
		return fmt.Errorf("-model %q: want dup, mow or mor", c.model)
	}
	if c.mv {
		if _, err := parseMVKinds(c.mvKinds); err != nil {
			return err
		}
	}
	g, err := ssb.New(c.sf)
	if err != nil {
		return err
	}
	if c.genOnly {
		return genOnly(ctx, g, c, out)
	}
	queries, err := selectQueries(c.queries)
	if err != nil {
		return err
	}
	db, err := connect(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	if !c.skipLoad {
		if err := createAndLoad(ctx, g, db, c, out); err != nil {
			return err
		}
	}
	var answers map[string]ssb.Answer
	if c.verify {
		start := time.Now()
		if answers, err = g.FlatAnswers(ctx, 0); err != nil {
			return err
		}
		fmt.Fprintf(out, "computed the exact answers over the generated data in %.1fs\n", time.Since(start).Seconds())
	}
	if c.settle > 0 {
		start := time.Now()
		if err := c.settleAll(ctx); err != nil {
			return err
		}
		fmt.Fprintf(out, "compaction settled after %.1fs\n", time.Since(start).Seconds())
	}
	if c.mv {
		return runMV(ctx, db, queries, answers, c, out)
	}
	ts := runQueries(ctx, db, queries, answers, c, out)
	printTable(out, c.sf, ts)
	if names, _ := c.cpuServers(); names != nil {
		fmt.Fprintln(out)
		printCPU(out, c.sf, names, ts)
	}
	for _, t := range ts {
		if t.err != nil || !t.check.ok() {
			return errors.New("some queries failed or returned wrong answers")
		}
	}
	return nil
}

// selectQueries resolves a comma-separated id list ("" = all).
func selectQueries(list string) ([]ssb.Query, error) {
	if strings.TrimSpace(list) == "" {
		return ssb.Queries(), nil
	}
	var qs []ssb.Query
	for _, id := range strings.Split(list, ",") {
		id = strings.ToUpper(strings.TrimSpace(id))
		if id != "" && id[0] != 'Q' {
			id = "Q" + id
		}
		q, ok := ssb.QueryByID(id)
		if !ok {
			return nil, fmt.Errorf("unknown query %q (want Q1.1 .. Q4.3)", id)
		}
		qs = append(qs, q)
	}
	return qs, nil
}

// connect opens the MySQL connection to the server, waiting up to c.wait
// for it to come up, creates the database unless only querying, and
// returns a handle whose default database is c.db.
func connect(ctx context.Context, c config) (*sql.DB, error) {
	dsn := func(db string) string {
		return fmt.Sprintf("%s:%s@tcp(%s)/%s?timeout=10s", c.user, c.password, c.addr, db)
	}
	root, err := sql.Open("mysql", dsn(""))
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", c.addr, err)
	}
	defer root.Close()
	deadline := time.Now().Add(c.wait)
	for {
		err = root.PingContext(ctx)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", c.addr, err)
	}
	if !c.skipLoad {
		if _, err := root.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+c.db); err != nil {
			return nil, fmt.Errorf("creating database %s: %w", c.db, err)
		}
	}
	db, err := sql.Open("mysql", dsn(c.db))
	if err != nil {
		return nil, fmt.Errorf("opening %s/%s: %w", c.addr, c.db, err)
	}
	db.SetMaxOpenConns(2)
	return db, nil
}

// newRunID returns a short random id that makes load labels unique per run.
func newRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405") + "_" + hex.EncodeToString(b[:])
}

// createAndLoad (re)creates lineorder_flat and loads the generated data.
func createAndLoad(ctx context.Context, g *ssb.Generator, db *sql.DB, c config, out io.Writer) error {
	cols := ssb.FlatColumnsKeyFirst()
	bigKeys := ssb.OrderKey(g.Sizes().Orders) > 1<<31-1
	if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS lineorder_flat"); err != nil {
		return fmt.Errorf("dropping lineorder_flat: %w", err)
	}
	if _, err := db.ExecContext(ctx, strataload.CreateFlatTableModel(cols, c.buckets, bigKeys, c.model)); err != nil {
		return fmt.Errorf("creating lineorder_flat: %w", err)
	}

	target := c.httpAddr
	if c.beHTTP != "" {
		target = c.beHTTP
	}
	// The CSV's columns are in table order (KeyFirst), so no "columns"
	// header is needed.
	hdr := http.Header{}
	hdr.Set("column_separator", escapeSeparator(c.sep))
	hdr.Set("format", "csv")
	hdr.Set("timeout", "3600")
	loader := newStreamLoader(target, c.db, "lineorder_flat", c.user, c.password, hdr)

	plan := loadPlan(g.LineorderChunks(), c.rowsPerLoad)
	runID := newRunID()
	fmt.Fprintf(out, "loading SF %g into a %s table: ~%d rows in %d stream loads of ~%d rows, %d at a time, to %s\n",
		c.sf, c.model, 4*g.Sizes().Orders, len(plan), c.rowsPerLoad, c.loadParallel, target)
	loaded, err := runLoads(ctx, g, loader, plan, runID, c, out)
	if err != nil {
		return err
	}
	if err := checkCount(ctx, db, loaded); err != nil {
		return err
	}
	if c.updateFrac <= 0 {
		return nil
	}
	// Updates: every k-th load again, the same rows, so the answers stay
	// those of the generator while every one of them replaces a row.
	k := max(1, int(1/c.updateFrac+0.5))
	var again [][2]int64
	for i := 0; i < len(plan); i += k {
		again = append(again, plan[i])
	}
	fmt.Fprintf(out, "updating: %d of the %d loads again (every %d-th)\n", len(again), len(plan), k)
	if _, err := runLoads(ctx, g, loader, again, runID+"_u", c, out); err != nil {
		return err
	}
	return checkCount(ctx, db, loaded)
}

// checkCount checks that lineorder_flat holds want rows.
func checkCount(ctx context.Context, db *sql.DB, want int64) error {
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM lineorder_flat").Scan(&n); err != nil {
		return fmt.Errorf("counting lineorder_flat: %w", err)
	}
	if n != want {
		return fmt.Errorf("lineorder_flat holds %d rows, loaded %d", n, want)
	}
	return nil
}

// runLoads sends the loads of plan, c.loadParallel at a time, reports
// progress and the load speed, and returns the rows loaded.
func runLoads(ctx context.Context, g *ssb.Generator, loader *streamLoader, plan [][2]int64, runID string, c config, out io.Writer) (int64, error) {
	var genRows, genBytes, loadedRows atomic.Int64
	start := time.Now()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				el := time.Since(start).Seconds()
				fmt.Fprintf(out, "  %6.1fs  sent %d rows, %.0f MB (%.1f MB/s, %.0f rows/s), committed %d rows\n",
					el, genRows.Load(), float64(genBytes.Load())/1e6, float64(genBytes.Load())/1e6/el,
					float64(genRows.Load())/el, loadedRows.Load())
			}
		}
	})

	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(c.loadParallel)
	for i, p := range plan {
		label := loadLabel(c.sf, runID, i)
		eg.Go(func() error {
			var lastRows, lastBytes int64
			produce := func(w io.Writer) error {
				lastRows, lastBytes = 0, 0
				return g.WriteFlat(ectx, w, ssb.FlatOptions{
					Options: ssb.Options{Workers: c.genWorkers, FirstChunk: p[0], Chunks: p[1],
						Progress: func(pr ssb.Progress) {
							genRows.Add(pr.Rows - lastRows)
							genBytes.Add(pr.Bytes - lastBytes)
							lastRows, lastBytes = pr.Rows, pr.Bytes
						}},
					Separator: c.sep,
					KeyFirst:  true,
				})
			}
			r, err := loader.load(ectx, label, produce)
			if err != nil {
				return err
			}
			if r.NumberLoadedRows != lastRows {
				return fmt.Errorf("stream load %s: loaded %d rows, sent %d", label, r.NumberLoadedRows, lastRows)
			}
			loadedRows.Add(r.NumberLoadedRows)
			return nil
		})
	}
	err := eg.Wait()
	close(done)
	wg.Wait()
	if err != nil {
		return 0, err
	}
	el := time.Since(start)
	fmt.Fprintf(out, "loaded %d rows, %.0f MB in %.1fs: %.1f MB/s, %.0f rows/s\n",
		loadedRows.Load(), float64(genBytes.Load())/1e6, el.Seconds(),
		float64(genBytes.Load())/1e6/el.Seconds(), float64(loadedRows.Load())/el.Seconds())
	return loadedRows.Load(), nil
}

// escapeSeparator spells a separator the way the column_separator header
// expects (see strataload.EscapeSeparator).
func escapeSeparator(sep string) string { return strataload.EscapeSeparator(sep) }

// runQueries runs each query once to warm up and check, then c.runs times.
// answers, if not nil, holds the exact expected answers.
func runQueries(ctx context.Context, db *sql.DB, qs []ssb.Query, answers map[string]ssb.Answer, c config, out io.Writer) []timing {
	var ts []timing
	for _, q := range qs {
		t := timing{id: q.ID}
		text := queryText(q)
		res, _, err := runQuery(ctx, db, text)
		if err != nil {
			t.err = err
			ts = append(ts, t)
			fmt.Fprintf(out, "%s: %v\n", q.ID, err)
			continue
		}
		var want *ssb.Answer
		if a, ok := answers[q.ID]; ok {
			want = &a
		}
		t.check = checkResult(q, c.sf, res, want)
		before := c.readCPU(ctx)
		for range c.runs {
			r, d, err := runQuery(ctx, db, text)
			if err != nil {
				t.err = err
				break
			}
			if !sameResult(res, r) {
				t.check.errs = append(t.check.errs, "answer changed between runs")
			}
			t.runs = append(t.runs, d)
			if t.best == 0 || d < t.best {
				t.best = d
			}
		}
		if before != nil && len(t.runs) > 0 {
			after := c.readCPU(ctx)
			for i := range before {
				t.cpu = append(t.cpu, (after[i]-before[i])/float64(len(t.runs)))
			}
		}
		fmt.Fprintf(out, "%s: %s ms (%d groups)\n", q.ID, ms(t.best), t.check.groups)
		ts = append(ts, t)
	}
	return ts
}

func sameResult(a, b *result) bool {
	if len(a.rows) != len(b.rows) {
		return false
	}
	for i := range a.rows {
		if strings.Join(a.rows[i], "\x00") != strings.Join(b.rows[i], "\x00") {
			return false
		}
	}
	return true
}

// genOnly writes the selected tables into c.out.
func genOnly(ctx context.Context, g *ssb.Generator, c config, out io.Writer) error {
	if c.out == "" {
		return errors.New("-gen-only needs -out")
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", c.out, err)
	}
	for _, name := range strings.Split(c.tables, ",") {
		name = strings.TrimSpace(name)
		file := name + ".tbl"
		if name == "lineorder_flat" {
			file = name + ".csv"
		}
		path := filepath.Join(c.out, file)
		start := time.Now()
		if err := writeFile(ctx, g, name, path, c.sep); err != nil {
			return err
		}
		st, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("checking %s: %w", path, err)
		}
		el := time.Since(start)
		fmt.Fprintf(out, "%s: %.1f MB in %.2fs (%.0f MB/s)\n", path, float64(st.Size())/1e6, el.Seconds(),
			float64(st.Size())/1e6/el.Seconds())
	}
	return nil
}

func writeFile(ctx context.Context, g *ssb.Generator, name, path, sep string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing %s: %w", path, cerr)
		}
	}()
	bw := bufio.NewWriterSize(f, 4<<20)
	if err := g.WriteTable(ctx, name, bw, ssb.FlatOptions{Separator: sep}); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// settleAll waits for the compactions of every server -settle watches.
func (c *config) settleAll(ctx context.Context) error {
	urls := []string{"http://" + c.httpAddr + "/metrics"}
	if c.metrics != "" {
		urls = strings.Split(c.metrics, ",")
	}
	for _, u := range urls {
		if err := strataload.Settle(ctx, u, c.settle); err != nil {
			return err
		}
	}
	return nil
}

// cpuServers are the servers -cpu names, as name and /metrics URL.
func (c *config) cpuServers() (names, urls []string) {
	if c.cpu == "" {
		return nil, nil
	}
	for _, nu := range strings.Split(c.cpu, ",") {
		name, url, ok := strings.Cut(nu, "=")
		if !ok {
			name, url = nu, nu
		}
		names, urls = append(names, name), append(urls, url)
	}
	return names, urls
}

// readCPU reads each -cpu server's CPU seconds; nil without -cpu. A page
// that cannot be read counts 0 (the table then shows nonsense for it, and
// the error is on stderr).
func (c *config) readCPU(ctx context.Context) []float64 {
	_, urls := c.cpuServers()
	if urls == nil {
		return nil
	}
	out := make([]float64, len(urls))
	for i, u := range urls {
		v, err := strataload.ProcessCPU(ctx, u)
		if err != nil {
			fmt.Fprintln(os.Stderr, "reading CPU time:", err)
		}
		out[i] = v
	}
	return out
}

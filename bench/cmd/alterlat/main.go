// Command alterlat measures light schema change (BENCHMARKS.md T10:
// "ADD/DROP COLUMN ≤ 10 ms regardless of size"). For each table size it
// creates a DUPLICATE KEY table of four columns, stream-loads that many
// rows, waits for the server's compactions to settle, and then runs
// -rounds rounds of
//
//	ALTER TABLE t ADD COLUMN cX INT DEFAULT "0"
//	ALTER TABLE t DROP COLUMN cX
//
// over the MySQL protocol on one connection, timing each statement from
// send to OK (the round trip a client sees). It prints the median, p99 and
// largest latency of each statement per size, so that sizes can be
// compared in one run. After the first ADD of each size it checks, outside
// the timing, that every row reads the new column's default.
//
//	alterlat -addr 127.0.0.1:9030 -http 127.0.0.1:8030 -sizes 100000,10000000 -rounds 100
//
// The exit status is 1 when a load, a statement or the check fails.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"golang.org/x/sync/errgroup"

	"github.com/strata-db/strata/bench/strataload"
)

type config struct {
	addr, httpAddr, user, password, db string
	sizes                              []int64
	rounds, buckets, loadParallel      int
	rowsPerLoad                        int64
	settle                             time.Duration
}

func main() {
	var c config
	var sizes string
	flag.StringVar(&c.addr, "addr", "127.0.0.1:9030", "Strata MySQL protocol address")
	flag.StringVar(&c.httpAddr, "http", "127.0.0.1:8030", "Strata FE HTTP address (stream load, redirects to a BE; /metrics)")
	flag.StringVar(&c.user, "user", "root", "user")
	flag.StringVar(&c.password, "password", "", "password")
	flag.StringVar(&c.db, "db", "alterlat", "database (created)")
	flag.StringVar(&sizes, "sizes", "100000,10000000", "comma-separated table sizes in rows, one table each")
	flag.IntVar(&c.rounds, "rounds", 100, "timed ADD/DROP rounds per table, after one untimed warm-up round")
	flag.IntVar(&c.buckets, "buckets", 8, "hash buckets of each table")
	flag.Int64Var(&c.rowsPerLoad, "rows-per-load", 1_000_000, "rows per stream load")
	flag.IntVar(&c.loadParallel, "load-parallel", 2, "stream loads in flight")
	flag.DurationVar(&c.settle, "settle", 5*time.Minute, "after loading, wait up to this long for compaction to finish (0: do not wait)")
	flag.Parse()
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "alterlat: bad -sizes entry %q\n", s)
			os.Exit(2)
		}
		c.sizes = append(c.sizes, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "alterlat:", err)
		os.Exit(1)
	}
}

// result is one table's latencies, sorted.
type result struct {
	rows      int64
	add, drop []time.Duration
	load      time.Duration
}

func run(ctx context.Context, c config, out io.Writer) error {
	db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/", c.user, c.password, c.addr))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+c.db); err != nil {
		return fmt.Errorf("creating database: %w", err)
	}
	var results []result
	for _, n := range c.sizes {
		r, err := measure(ctx, c, db, n, out)
		if err != nil {
			return fmt.Errorf("table of %d rows: %w", n, err)
		}
		results = append(results, r)
	}
	fmt.Fprintf(out, "\nALTER TABLE latency over the MySQL protocol, %d rounds per table (ms)\n\n", c.rounds)
	fmt.Fprintln(out, "| rows | ADD COLUMN median | ADD p99 | ADD max | DROP COLUMN median | DROP p99 | DROP max |")
	fmt.Fprintln(out, "|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		fmt.Fprintf(out, "| %d | %s | %s | %s | %s | %s | %s |\n", r.rows,
			ms(quantile(r.add, 0.5)), ms(quantile(r.add, 0.99)), ms(r.add[len(r.add)-1]),
			ms(quantile(r.drop, 0.5)), ms(quantile(r.drop, 0.99)), ms(r.drop[len(r.drop)-1]))
	}
	return nil
}

// measure creates and loads a table of n rows and times the ALTERs on it.
func measure(ctx context.Context, c config, db *sql.DB, n int64, out io.Writer) (result, error) {
	r := result{rows: n}
	table := fmt.Sprintf("t_%d", n)
	if _, err := db.ExecContext(ctx, fmt.Sprintf("DROP TABLE IF EXISTS %s.%s", c.db, table)); err != nil {
		return r, err
	}
	ddl := fmt.Sprintf("CREATE TABLE %s.%s (id BIGINT, k INT, v DOUBLE, s VARCHAR(32)) DUPLICATE KEY(id) "+
		"DISTRIBUTED BY HASH(id) BUCKETS %d PROPERTIES (\"replication_num\" = \"1\")", c.db, table, c.buckets)
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		return r, fmt.Errorf("creating: %w", err)
	}
	start := time.Now()
	if err := load(ctx, c, table, n); err != nil {
		return r, err
	}
	r.load = time.Since(start)
	var got int64
	if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s.%s", c.db, table)).Scan(&got); err != nil {
		return r, err
	}
	if got != n {
		return r, fmt.Errorf("count(*) is %d after loading %d rows", got, n)
	}
	fmt.Fprintf(out, "%s: loaded %d rows in %.1fs (%.0f rows/s)\n", table, n, r.load.Seconds(), float64(n)/r.load.Seconds())
	if c.settle > 0 {
		start := time.Now()
		if err := strataload.Settle(ctx, "http://"+c.httpAddr+"/metrics", c.settle); err != nil {
			return r, err
		}
		fmt.Fprintf(out, "%s: compaction settled after %.1fs\n", table, time.Since(start).Seconds())
	}

	conn, err := db.Conn(ctx)
	if err != nil {
		return r, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "USE "+c.db); err != nil {
		return r, err
	}
	timed := func(q string) (time.Duration, error) {
		start := time.Now()
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("%s: %w", q, err)
		}
		return time.Since(start), nil
	}
	for i := -1; i < c.rounds; i++ {
		col := fmt.Sprintf("c%d", i+1)
		add, err := timed(fmt.Sprintf(`ALTER TABLE %s ADD COLUMN %s INT DEFAULT "0"`, table, col))
		if err != nil {
			return r, err
		}
		if i == -1 {
			// Outside the timing: every row reads the default.
			var zeros int64
			q := fmt.Sprintf("SELECT count(*) FROM %s WHERE %s = 0", table, col)
			if err := conn.QueryRowContext(ctx, q).Scan(&zeros); err != nil {
				return r, err
			}
			if zeros != n {
				return r, fmt.Errorf("%s: %d rows, want %d", q, zeros, n)
			}
		}
		drop, err := timed(fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s", table, col))
		if err != nil {
			return r, err
		}
		if i >= 0 { // round -1 warms up
			r.add = append(r.add, add)
			r.drop = append(r.drop, drop)
		}
	}
	slices.Sort(r.add)
	slices.Sort(r.drop)
	fmt.Fprintf(out, "%s: ADD COLUMN median %s ms, DROP COLUMN median %s ms\n", table, ms(quantile(r.add, 0.5)), ms(quantile(r.drop, 0.5)))
	return r, nil
}

// load stream-loads n rows as CSV in loads of c.rowsPerLoad rows,
// c.loadParallel at a time.
func load(ctx context.Context, c config, table string, n int64) error {
	hdr := http.Header{}
	hdr.Set("column_separator", ",")
	l := strataload.New(c.httpAddr, c.db, table, c.user, c.password, hdr)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(c.loadParallel)
	for i, first := 0, int64(0); first < n; i, first = i+1, first+c.rowsPerLoad {
		rows := min(c.rowsPerLoad, n-first)
		label := fmt.Sprintf("alterlat_%s_%s_%d", table, run, i)
		g.Go(func() error {
			_, err := l.Load(ctx, label, func(w io.Writer) error { return writeRows(w, first, rows) })
			return err
		})
	}
	return g.Wait()
}

// writeRows writes rows first..first+n-1 as CSV: id, k, v, s.
func writeRows(w io.Writer, first, n int64) error {
	r := rand.New(rand.NewPCG(uint64(first), 1))
	buf := make([]byte, 0, 1<<16)
	for id := first; id < first+n; id++ {
		buf = strconv.AppendInt(buf, id, 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(r.IntN(1_000_000)), 10)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, float64(r.IntN(1_000_000))/100, 'f', 2, 64)
		buf = append(buf, ",s"...)
		buf = strconv.AppendInt(buf, int64(r.IntN(10_000)), 10)
		buf = append(buf, '\n')
		if len(buf) > 60<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}

// quantile is the nearest-rank q-quantile of sorted durations.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64)
}

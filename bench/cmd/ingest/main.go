// Command ingest measures small-batch ingestion (BENCHMARKS.md T8): several
// clients stream-load batches of a fixed size (100 KB by default) into one
// table as fast as the server takes them, each load a two-phase
// transaction committed right after its precommit, the way a Flink sink
// with a short checkpoint interval loads. It reports sustained rows/s and
// MB/s, the latency of the load and of the commit (the commit answers once
// the data is visible), checks a sample of commits by querying their rows
// right after the commit returns, and checks the final row count.
//
//	ingest -addr 127.0.0.1:9030 -http 127.0.0.1:8040 -clients 10 -batch 100KB -duration 60s
//	ingest -2pc=false        # one-phase loads: visible when the load answers
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

type config struct {
	addr, httpAddr, user, db, table string
	clients, buckets                int
	batchBytes                      int
	duration                        time.Duration
	twoPC                           bool
	checkEvery                      int
}

func main() {
	var cfg config
	var batch string
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:9030", "MySQL protocol address")
	flag.StringVar(&cfg.httpAddr, "http", "127.0.0.1:8040", "BE HTTP address for stream load")
	flag.StringVar(&cfg.user, "user", "root", "user (empty password)")
	flag.StringVar(&cfg.db, "db", "ingest", "database (created)")
	flag.StringVar(&cfg.table, "table", "orders", "table (re-created)")
	flag.IntVar(&cfg.clients, "clients", 10, "concurrent loading clients")
	flag.IntVar(&cfg.buckets, "buckets", 16, "buckets of the table")
	flag.StringVar(&batch, "batch", "100KB", "body size of one load (KB or MB suffix)")
	flag.DurationVar(&cfg.duration, "duration", 60*time.Second, "how long to load")
	flag.BoolVar(&cfg.twoPC, "2pc", true, "load with two-phase commit (precommit, then commit)")
	flag.IntVar(&cfg.checkEvery, "check-every", 20, "query every n-th committed batch right after its commit")
	flag.Parse()
	var err error
	if cfg.batchBytes, err = parseSize(batch); err != nil {
		fmt.Fprintln(os.Stderr, "ingest: bad -batch:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

func parseSize(s string) (int, error) {
	mult := 1
	u := strings.ToUpper(s)
	switch {
	case strings.HasSuffix(u, "KB"):
		mult, u = 1<<10, strings.TrimSuffix(u, "KB")
	case strings.HasSuffix(u, "MB"):
		mult, u = 1<<20, strings.TrimSuffix(u, "MB")
	}
	n, err := strconv.Atoi(u)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return n * mult, nil
}

// batchRows makes one batch of CSV rows with order ids from first, about
// size bytes; it returns the body and the number of rows.
func batchRows(r *rand.Rand, first int64, size int) ([]byte, int) {
	statuses := []string{"created", "paid", "shipped", "delivered", "cancelled", "refunded"}
	cities := []string{"Beijing", "Shanghai", "Hangzhou", "Shenzhen", "Chengdu", "Berlin", "Lisbon", "Austin", "Osaka", "Lagos"}
	var b bytes.Buffer
	b.Grow(size + 256)
	n := 0
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Len() < size {
		if n > 0 {
			b.WriteByte('\n')
		}
		id := first + int64(n)
		created := base.Add(time.Duration(r.Int64N(300*24*3600)) * time.Second)
		fmt.Fprintf(&b, "%d,%d,%s,%d.%02d,%d,%s,%s,%s,note %x,%d",
			id, r.IntN(5_000_000), statuses[r.IntN(len(statuses))], r.IntN(100_000), r.IntN(100), 1+r.IntN(20),
			cities[r.IntN(len(cities))], created.Format("2006-01-02 15:04:05"),
			created.Add(time.Duration(r.IntN(86400))*time.Second).Format("2006-01-02 15:04:05"), r.Uint64(), r.IntN(2))
		n++
	}
	return b.Bytes(), n
}

type result struct {
	TxnID   int64  `json:"TxnId"`
	Status  string `json:"Status"`
	Message string `json:"Message"`
	Loaded  int64  `json:"NumberLoadedRows"`
}

type client struct {
	cfg  config
	http *http.Client
	db   *sql.DB
}

func (c *client) put(ctx context.Context, path string, body []byte, headers map[string]string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+c.cfg.httpAddr+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(c.cfg.user, "")
	req.Header.Set("Expect", "100-continue")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s: %s", resp.Status, b)
	}
	return b, nil
}

// load runs one batch: the stream load, then (2PC) its commit. It returns
// the latencies of both.
func (c *client) load(ctx context.Context, label string, body []byte, rows int) (loadDur, commitDur time.Duration, err error) {
	h := map[string]string{"label": label, "column_separator": ","}
	if c.cfg.twoPC {
		h["two_phase_commit"] = "true"
	}
	t0 := time.Now()
	b, err := c.put(ctx, "/api/"+c.cfg.db+"/"+c.cfg.table+"/_stream_load", body, h)
	if err != nil {
		return 0, 0, err
	}
	loadDur = time.Since(t0)
	var res result
	if err := json.Unmarshal(b, &res); err != nil {
		return 0, 0, fmt.Errorf("load reply %q: %w", b, err)
	}
	if res.Status != "Success" || res.Loaded != int64(rows) {
		return 0, 0, fmt.Errorf("load %s: %s: %s (%d of %d rows)", label, res.Status, res.Message, res.Loaded, rows)
	}
	if !c.cfg.twoPC {
		return loadDur, 0, nil
	}
	t1 := time.Now()
	b, err = c.put(ctx, "/api/"+c.cfg.db+"/_stream_load_2pc", nil, map[string]string{"txn_id": strconv.FormatInt(res.TxnID, 10), "txn_operation": "commit"})
	if err != nil {
		return 0, 0, err
	}
	commitDur = time.Since(t1)
	var rep map[string]string
	if err := json.Unmarshal(b, &rep); err != nil || rep["status"] != "Success" {
		return 0, 0, fmt.Errorf("commit of %d: %s", res.TxnID, b)
	}
	return loadDur, commitDur, nil
}

func run(ctx context.Context, cfg config) error {
	db, err := sql.Open("mysql", cfg.user+"@tcp("+cfg.addr+")/?multiStatements=true&interpolateParams=true")
	if err != nil {
		return err
	}
	defer db.Close()
	ddl := fmt.Sprintf(`CREATE DATABASE IF NOT EXISTS %[1]s;
DROP TABLE IF EXISTS %[1]s.%[2]s;
CREATE TABLE %[1]s.%[2]s (
  order_id BIGINT NOT NULL, user_id INT NOT NULL, status VARCHAR(16) NOT NULL,
  amount DECIMAL(12, 2) NOT NULL, qty INT NOT NULL, city VARCHAR(20) NOT NULL,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, note VARCHAR(64), flag TINYINT
) DUPLICATE KEY(order_id) DISTRIBUTED BY HASH(order_id) BUCKETS %[3]d`, cfg.db, cfg.table, cfg.buckets)
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("creating the table: %w", err)
	}

	// Batches are made before the clock starts; each client cycles through
	// its own, with fresh order ids per load.
	const perClient = 8
	type prepared struct {
		body []byte
		rows int
	}
	pool := make([][]prepared, cfg.clients)
	for i := range pool {
		r := rand.New(rand.NewPCG(uint64(i), 1))
		for range perClient {
			b, n := batchRows(r, 0, cfg.batchBytes)
			pool[i] = append(pool[i], prepared{b, n})
		}
	}
	rowsPerBatch := pool[0][0].rows

	c := &client{cfg: cfg, db: db, http: &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: cfg.clients * 2, ExpectContinueTimeout: 10 * time.Second,
	}}}
	var (
		mu                      sync.Mutex
		loadLat, commitLat, all []time.Duration
		rows, bytesIn, checked  atomic.Int64
		nextID                  atomic.Int64
		firstErr                error
	)
	runCtx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range cfg.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; runCtx.Err() == nil; n++ {
				p := pool[i][n%perClient]
				first := nextID.Add(int64(p.rows)) - int64(p.rows)
				// Rewrite the order ids of the prepared batch: the first field
				// of each line.
				body := renumber(p.body, first)
				label := fmt.Sprintf("ingest_%d_%d_%d", start.UnixNano(), i, n)
				t0 := time.Now()
				ld, cd, err := c.load(ctx, label, body, p.rows)
				if err != nil {
					if runCtx.Err() != nil && errors.Is(err, context.Canceled) {
						return
					}
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
				total := time.Since(t0)
				rows.Add(int64(p.rows))
				bytesIn.Add(int64(len(body)))
				if cfg.checkEvery > 0 && n%cfg.checkEvery == 0 {
					// Committed means visible: the rows must be there now.
					var got int
					q := fmt.Sprintf("SELECT count(*) FROM %s.%s WHERE order_id BETWEEN ? AND ?", cfg.db, cfg.table)
					if err := db.QueryRowContext(ctx, q, first, first+int64(p.rows)-1).Scan(&got); err != nil || got != p.rows {
						mu.Lock()
						if firstErr == nil {
							firstErr = fmt.Errorf("batch %s: %d of %d rows visible after its commit (err %v)", label, got, p.rows, err)
						}
						mu.Unlock()
						cancel()
						return
					}
					checked.Add(1)
				}
				mu.Lock()
				loadLat = append(loadLat, ld)
				commitLat = append(commitLat, cd)
				all = append(all, total)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return firstErr
	}
	var final int64
	if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s.%s", cfg.db, cfg.table)).Scan(&final); err != nil {
		return err
	}
	if final != rows.Load() {
		return fmt.Errorf("table holds %d rows, %d were committed", final, rows.Load())
	}
	mode := "two-phase (precommit + commit)"
	if !cfg.twoPC {
		mode = "one-phase"
	}
	fmt.Printf("| clients | batch | rows/batch | loads | rows | seconds | rows/s | MB/s | load p50/p99 ms | commit p50/p99 ms | batch p50/p99 ms |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Printf("| %d | %d KB | %d | %d | %d | %.1f | %.0f | %.1f | %s | %s | %s |\n",
		cfg.clients, cfg.batchBytes>>10, rowsPerBatch, len(all), rows.Load(), elapsed.Seconds(),
		float64(rows.Load())/elapsed.Seconds(), float64(bytesIn.Load())/elapsed.Seconds()/1e6,
		pct(loadLat), pct(commitLat), pct(all))
	fmt.Printf("\nmode: %s; %d commits checked visible by a query right after they returned; final count %d = rows committed\n", mode, checked.Load(), final)
	return nil
}

// renumber replaces the first field of every line with consecutive ids
// from first.
func renumber(body []byte, first int64) []byte {
	out := make([]byte, 0, len(body)+len(body)/8)
	id := first
	for line := range bytes.SplitSeq(body, []byte{'\n'}) {
		if len(out) > 0 {
			out = append(out, '\n')
		}
		_, rest, _ := bytes.Cut(line, []byte{','})
		out = strconv.AppendInt(out, id, 10)
		out = append(out, ',')
		out = append(out, rest...)
		id++
	}
	return out
}

// pct formats the 50th and 99th percentiles in milliseconds.
func pct(ds []time.Duration) string {
	if len(ds) == 0 || ds[0] == 0 && slices.Max(ds) == 0 {
		return "-"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(p float64) float64 {
		return float64(s[min(len(s)-1, int(p*float64(len(s))))].Microseconds()) / 1000
	}
	return fmt.Sprintf("%.1f / %.1f", at(0.50), at(0.99))
}

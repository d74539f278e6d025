package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/tests/testbin"
)

// soakDuration is how long TestMixedSoak's workload runs after its
// warm-up. The default keeps the suite short; a long run
// (-soak.duration=10m -timeout 30m) is what finds slow leaks.
var soakDuration = flag.Duration("soak.duration", 15*time.Second,
	"how long TestMixedSoak runs its mixed workload after the warm-up")

// soakProfiles is a directory TestMixedSoak writes the server's heap
// profiles to, taken after the warm-up and after the run (after a GC), for
// go tool pprof -diff_base.
var soakProfiles = flag.String("soak.profiles", "", "directory for TestMixedSoak's heap profiles of the server")

// The mixed soak's shape.
const (
	soakDupLoaders  = 4    // clients stream-loading into the DUPLICATE KEY table
	soakDupInserter = 1    // clients INSERTing into it over MySQL
	soakUniqWriters = 3    // clients upserting into the UNIQUE KEY table, each its own key range
	soakUniqKeys    = 2000 // keys each UNIQUE writer owns
	soakQueriers    = 2    // clients running the checking queries
	soakRowsPerLoad = 1000 // DUPLICATE ids are load*soakRowsPerLoad + row
	soakWarmUp      = 3 * time.Second
)

const soakDDL = `CREATE DATABASE soak;
CREATE TABLE soak.dup (id BIGINT NOT NULL, kind INT NOT NULL, seq BIGINT NOT NULL, v BIGINT NOT NULL)
  DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 8;
CREATE TABLE soak.uniq (k BIGINT NOT NULL, w INT NOT NULL, seq BIGINT NOT NULL, v BIGINT NOT NULL)
  UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 8;
CREATE TABLE soak.dim (w INT NOT NULL, name VARCHAR(16) NOT NULL)
  DUPLICATE KEY(w) DISTRIBUTED BY HASH(w) BUCKETS 1;
INSERT INTO soak.dim VALUES (0,'w0'),(1,'w1'),(2,'w2'),(3,'w3'),(4,'w4'),(5,'w5'),(6,'w6'),(7,'w7'),(8,'w8'),(9,'w9');`

// TestMixedSoak runs, for -soak.duration, concurrent stream loads (plain,
// two-phase committed, two-phase aborted, failing, retried under the same
// label) into a DUPLICATE KEY and a UNIQUE KEY table, INSERTs over MySQL,
// checking queries (aggregations, point lookups, joins), the automatic
// compactions all this causes (the server has no API to start one), and
// an ADD COLUMN half way. Queries check
// that they see every acknowledged row and nothing beyond what is in
// flight; at the end every acknowledged row is present exactly once, no
// aborted or failed one is, every UNIQUE key holds its last acknowledged
// value, and tablet version counts are bounded. The server's metrics are
// sampled throughout: once the load stops, goroutines, open files and
// query memory return to what they were after the warm-up, and the live
// heap stays within a generous bound of the warm-up's. Speed is logged,
// never asserted.
//
// The default duration suits CI; look for slow leaks with
//
//	go test ./tests/e2e -run TestMixedSoak -soak.duration=10m -timeout 30m -v -soak.profiles=/tmp/soak
func TestMixedSoak(t *testing.T) {
	t0 := time.Now()
	pprof := testbin.FreePorts(t, 1)[0]
	s := startServer(t, "", "--pprof", fmt.Sprintf("127.0.0.1:%d", pprof))
	s.MustMySQL(soakDDL)
	r := newSoakRun(t, s, pprof)
	defer r.sampler()()

	// Warm-up: the same workload, shortly, so that pools, caches and
	// lazily started workers exist before the baseline is taken.
	r.phase(soakWarmUp, false)
	r.requireNoErr()
	r.quiesce()
	base := r.idle("after the warm-up")

	start := time.Now()
	before := r.counts()
	r.phase(*soakDuration, true)
	elapsed := time.Since(start)
	r.requireNoErr()
	r.quiesce()
	after := r.idle("after the run")

	r.report(elapsed, base, after, before)
	t1 := time.Now()
	r.verify()
	t.Logf("soak: set-up, warm-up and settling took %v, the final checks %v", t1.Sub(t0)-elapsed, time.Since(t1))

	// Leaks: what the load held is let go once it stops. The slack is for
	// the runtime's and etcd's own background work, not for anything that
	// grows with the number of loads or queries.
	require.LessOrEqual(t, after.goroutines, base.goroutines+max(25, base.goroutines/10),
		"goroutines: %v after the warm-up, %v after the run", base.goroutines, after.goroutines)
	require.LessOrEqual(t, after.fds, base.fds+25,
		"open fds: %v after the warm-up, %v after the run", base.fds, after.fds)
	// The live heap besides the page cache (bounded by its capacity, and
	// full of the pages of segments compactions replaced) may grow with
	// what the server legitimately keeps (load labels until their
	// retention ends, the catalog's versions), never by the size of
	// everything loaded or the number of queries.
	baseOwn, afterOwn := base.heap-base.cache, after.heap-after.cache
	require.LessOrEqual(t, afterOwn, 2*baseOwn+64<<20,
		"live heap after a GC, page cache aside: %s after the warm-up, %s after the run", mib(baseOwn), mib(afterOwn))
	require.LessOrEqual(t, after.cache, after.cacheCap, "the page cache holds more than its capacity")
}

// soakCounts are the workload's counters at one moment.
type soakCounts struct {
	acked, rows, bytes, queries, dropped, retries int64
}

func (r *soakRun) counts() soakCounts {
	return soakCounts{r.loadsAcked.Load(), r.rowsAcked.Load(), r.bytesAcked.Load(), r.queries.Load(), r.dropped.Load(), r.labelRetries.Load()}
}

// report logs the run's figures: speed is reported, never asserted.
func (r *soakRun) report(elapsed time.Duration, base, after soakSample, before soakCounts) {
	t := r.t
	now := r.counts()
	secs := elapsed.Seconds()
	rows, loaded, queries := now.rows-before.rows, now.bytes-before.bytes, now.queries-before.queries
	peak := r.peak()
	t.Logf("soak: %v (race detector: %v) after a %v warm-up", elapsed.Round(time.Second), raceEnabled, soakWarmUp)
	t.Logf("soak: %d loads and INSERTs acknowledged, %d rows, %.1f MB; %.0f rows/s, %.2f MB/s",
		now.acked-before.acked, rows, float64(loaded)/1e6, float64(rows)/secs, float64(loaded)/1e6/secs)
	t.Logf("soak: %d aborted or failed on purpose, %d label retries, %d schema changes",
		now.dropped-before.dropped, now.retries-before.retries, r.schemaChanges.Load())
	t.Logf("soak: %d queries checked, %.1f queries/s", queries, float64(queries)/secs)
	t.Logf("soak: %v compactions finished during the run, %v failed; most versions of a tablet seen %v, at the end %v",
		after.compactions-base.compactions, after.compactionFailures, peak.versions, after.versions)
	t.Logf("soak: peak RSS %s (VmHWM %s), peak heap in use %s, peak page cache %s, peak query memory %s",
		mib(peak.rss), mib(after.hwm), mib(peak.heapInuse), mib(peak.cache), mib(peak.queryMem))
	t.Logf("soak: live heap after GC %s → %s (page cache %s → %s); goroutines %v → %v (peak %v); open fds %v → %v; RSS %s → %s",
		mib(base.heap), mib(after.heap), mib(base.cache), mib(after.cache), base.goroutines, after.goroutines, peak.goroutines,
		base.fds, after.fds, mib(base.rss), mib(after.rss))
}

func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

// soakRun is one soak's workload and what it knows of the tables.
type soakRun struct {
	t     *testing.T
	s     *Server
	db    *sql.DB // the phase's MySQL clients, closed when it ends
	http  *http.Client
	pprof int

	nextLoad      atomic.Int64 // DUPLICATE load (and INSERT) numbers
	loadsAcked    atomic.Int64
	rowsAcked     atomic.Int64
	bytesAcked    atomic.Int64
	queries       atomic.Int64
	dropped       atomic.Int64 // loads aborted or failed on purpose
	labelRetries  atomic.Int64
	schemaChanges atomic.Int64
	altered       atomic.Bool

	dup     soakDupLedger
	writers []*soakWriter

	errMu  sync.Mutex // protects following fields
	err    error
	stop   chan struct{} // closed by haltLocked: the phase ended or a check failed
	halted bool

	sampleMu sync.Mutex // protects following fields
	samples  []soakSample
}

// soakDupLedger is what the DUPLICATE table must hold: the loads
// acknowledged, and bounds on what a query may see meanwhile.
type soakDupLedger struct {
	mu        sync.Mutex      // protects following fields
	acked     map[int64]int64 // load number → rows, of acknowledged loads
	later     map[int64]bool  // acknowledged loads whose publish timed out
	sums      map[int64]int64 // load number → sum(v)
	rows, sum int64           // of loads acknowledged visible
	maxRows   int64           // rows acknowledged or in flight
	maxSum    int64
}

// soakWriter is one UNIQUE writer: it alone writes keys
// [id*soakUniqKeys, (id+1)*soakUniqKeys), one write at a time, each with a
// higher seq, so the last acknowledged seq of each key is its value.
type soakWriter struct {
	id  int
	rng *rand.Rand // used by the writer's goroutine only

	mu       sync.Mutex      // protects following fields
	acked    map[int64]int64 // key → seq of the last acknowledged write
	ackedMax int64
	inflight []int64 // keys of the write in flight
	seq      int64   // seq of the latest write begun
}

func newSoakRun(t *testing.T, s *Server, pprof int) *soakRun {
	r := &soakRun{t: t, s: s, pprof: pprof,
		http: &http.Client{
			Timeout:   5 * time.Minute,
			Transport: &http.Transport{ExpectContinueTimeout: 60 * time.Second, DisableKeepAlives: true},
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		dup: soakDupLedger{acked: map[int64]int64{}, sums: map[int64]int64{}, later: map[int64]bool{}},
	}
	for w := range soakUniqWriters {
		r.writers = append(r.writers, &soakWriter{id: w, rng: rand.New(rand.NewPCG(uint64(w), 7)), acked: map[int64]int64{}})
	}
	return r
}

// fail records the first failed check and stops the workload.
func (r *soakRun) fail(format string, args ...any) {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
		r.haltLocked()
	}
}

// haltLocked stops the phase's clients from beginning anything new.
func (r *soakRun) haltLocked() {
	if !r.halted {
		r.halted = true
		close(r.stop)
	}
}

func (r *soakRun) failed() bool {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.err != nil
}

func (r *soakRun) requireNoErr() {
	r.t.Helper()
	r.errMu.Lock()
	err := r.err
	r.errMu.Unlock()
	if err != nil {
		r.t.Fatalf("%v\nserver log:\n%s", err, tail(r.s.logs.String(), 20000))
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func (r *soakRun) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// phase runs the workload for d and waits for every client to finish what
// it began; alter adds the schema change half way. Its MySQL connections
// are closed when it returns, so that the server is measured without them.
func (r *soakRun) phase(d time.Duration, alter bool) {
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(127.0.0.1:%d)/soak", r.s.Query))
	require.NoError(r.t, err)
	r.db = db
	defer func() { require.NoError(r.t, db.Close()) }()
	r.errMu.Lock()
	r.stop, r.halted = make(chan struct{}), false
	stop := r.stop
	r.errMu.Unlock()
	timer := time.AfterFunc(d, func() {
		r.errMu.Lock()
		defer r.errMu.Unlock()
		r.haltLocked()
	})
	defer timer.Stop()

	var wg sync.WaitGroup
	for i := range soakDupLoaders {
		rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
		wg.Go(func() {
			for !r.stopped() {
				r.dupLoad(rng)
			}
		})
	}
	for i := range soakDupInserter {
		rng := rand.New(rand.NewPCG(uint64(100+i), uint64(time.Now().UnixNano())))
		wg.Go(func() {
			for !r.stopped() {
				r.dupInsert(rng)
			}
		})
	}
	for _, w := range r.writers {
		wg.Go(func() {
			for !r.stopped() {
				r.uniqWrite(w)
			}
		})
	}
	for i := range soakQueriers {
		rng := rand.New(rand.NewPCG(uint64(200+i), uint64(time.Now().UnixNano())))
		wg.Go(func() {
			var lastCount int64
			for !r.stopped() {
				r.query(rng, &lastCount)
			}
		})
	}
	if alter {
		wg.Go(func() {
			select {
			case <-stop:
				return
			case <-time.After(d / 2):
			}
			r.alter()
		})
	}
	wg.Wait()
}

// --- DUPLICATE KEY loads --------------------------------------------------

// soakReply is the part of a stream load reply the soak reads.
type soakReply struct {
	TxnID             int64  `json:"TxnId"`
	Label             string `json:"Label"`
	Status            string `json:"Status"`
	ExistingJobStatus string `json:"ExistingJobStatus"`
	Message           string `json:"Message"`
	NumberLoadedRows  int64  `json:"NumberLoadedRows"`
}

// streamLoad PUTs body into soak.table, through the FE port (following its
// redirect to the BE port, as curl --location-trusted does) when viaFE. An
// error means no reply came, so the load's outcome is unknown.
func (r *soakRun) streamLoad(table string, body []byte, viaFE bool, headers ...string) (soakReply, error) {
	port := r.s.BEHTTP
	if viaFE {
		port = r.s.HTTP
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/api/soak/%s/_stream_load", port, table)
	for range 3 {
		req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
		if err != nil {
			return soakReply{}, err
		}
		req.Header.Set("Expect", "100-continue")
		req.SetBasicAuth("root", "")
		for _, h := range append([]string{"column_separator: ,"}, headers...) {
			name, value, _ := strings.Cut(h, ":")
			req.Header[name] = []string{strings.TrimSpace(value)}
		}
		resp, err := r.http.Do(req)
		if err != nil {
			return soakReply{}, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return soakReply{}, err
		}
		if resp.StatusCode == http.StatusTemporaryRedirect {
			url = resp.Header.Get("Location")
			continue
		}
		var rep soakReply
		if resp.StatusCode != http.StatusOK {
			return rep, fmt.Errorf("stream load: HTTP %d: %s", resp.StatusCode, b)
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			return rep, fmt.Errorf("stream load reply %q: %w", b, err)
		}
		return rep, nil
	}
	return soakReply{}, fmt.Errorf("stream load: too many redirects")
}

// twoPC sends a two-phase decision (op commit or abort) on the transaction
// id, or on the label when id is 0.
func (r *soakRun) twoPC(id int64, label, op string) (status, msg string, err error) {
	req, err := http.NewRequest(http.MethodPut, fmt.Sprintf("http://127.0.0.1:%d/api/soak/_stream_load_2pc", r.s.BEHTTP), http.NoBody)
	if err != nil {
		return "", "", err
	}
	req.SetBasicAuth("root", "")
	if id != 0 {
		req.Header["txn_id"] = []string{strconv.FormatInt(id, 10)}
	} else {
		req.Header["label"] = []string{label}
	}
	req.Header["txn_operation"] = []string{op}
	resp, err := r.http.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", "", err
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return "", "", fmt.Errorf("2PC reply %q: %w", b, err)
	}
	return m["status"], m["msg"], nil
}

// loadOnce runs a plain stream load; when no reply comes it asks again
// under the same label, which answers for the first attempt.
func (r *soakRun) loadOnce(table string, body []byte, viaFE bool, label string, headers ...string) (soakReply, error) {
	headers = append([]string{"label: " + label}, headers...)
	var lastErr error
	for attempt := range 5 {
		if attempt > 0 {
			r.labelRetries.Add(1)
			time.Sleep(time.Second)
		}
		rep, err := r.streamLoad(table, body, viaFE, headers...)
		if err != nil {
			lastErr = err
			continue
		}
		if attempt > 0 && rep.Status == "Label Already Exists" {
			switch rep.ExistingJobStatus {
			case "FINISHED":
				// Committed, perhaps not yet visible: as a publish
				// timeout.
				return soakReply{Status: "Publish Timeout", Label: label, Message: "FINISHED when asked again"}, nil
			case "RUNNING":
				lastErr = fmt.Errorf("label %s still running", label)
				continue
			}
		}
		return rep, nil
	}
	return soakReply{}, fmt.Errorf("stream load %s: no answer after 5 attempts: %w", label, lastErr)
}

// dupBody makes load n's rows as CSV (see dupRows); it returns the body
// and sum(v).
func dupBody(n int64, rows int) ([]byte, int64) {
	var b bytes.Buffer
	sum := dupRows(&b, n, rows, "%d,%d,%d,%d", "\n")
	return b.Bytes(), sum
}

// dupRows writes batch n's rows, ids n*soakRowsPerLoad+i, kind n%10, seq
// n and v in 1..97, each as format (of id, kind, seq, v) with sep between
// them; it returns sum(v).
func dupRows(w io.Writer, n int64, rows int, format, sep string) int64 {
	var sum int64
	for i := range rows {
		id := n*soakRowsPerLoad + int64(i)
		v := id%97 + 1
		sum += v
		if i > 0 {
			io.WriteString(w, sep)
		}
		fmt.Fprintf(w, format, id, n%10, n, v)
	}
	return sum
}

func (l *soakDupLedger) begin(rows, sum int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maxRows += rows
	l.maxSum += sum
}

// end settles load n: acknowledged (visible or, after a publish timeout,
// to be visible) or not.
func (l *soakDupLedger) end(n, rows, sum int64, acked, visible bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !acked {
		l.maxRows -= rows
		l.maxSum -= sum
		return
	}
	l.acked[n] = rows
	l.sums[n] = sum
	if !visible {
		l.later[n] = true
	}
	if visible {
		l.rows += rows
		l.sum += sum
	}
}

// bounds are the rows and sum(v) a query may see: at least the visible
// acknowledged ones, at most those plus the ones in flight.
func (l *soakDupLedger) bounds() (rows, sum, maxRows, maxSum int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rows, l.sum, l.maxRows, l.maxSum
}

// dupLoad runs one DUPLICATE stream load of a kind chosen by its number:
// plain (through the FE or the BE port), plain and sent again under its
// label, two-phase committed (by id or by label, and again), two-phase
// aborted, aborted and then loaded under the same label, or failing on a
// bad row.
func (r *soakRun) dupLoad(rng *rand.Rand) {
	n := r.nextLoad.Add(1)
	rows := 20 + rng.IntN(380)
	body, sum := dupBody(n, rows)
	label := fmt.Sprintf("soak_dup_%d", n)
	cols := "columns: id,kind,seq,v"
	r.dup.begin(int64(rows), sum)
	acked, visible := false, false
	defer func() {
		r.dup.end(n, int64(rows), sum, acked, visible)
		if acked {
			r.loadsAcked.Add(1)
			r.rowsAcked.Add(int64(rows))
			r.bytesAcked.Add(int64(len(body)))
		} else {
			r.dropped.Add(1)
		}
	}()

	loaded := func(rep soakReply) bool {
		switch {
		case rep.Status == "Success" && rep.NumberLoadedRows == int64(rows):
			acked, visible = true, true
		case rep.Status == "Publish Timeout":
			acked = true
		default:
			r.fail("load %s: %+v", label, rep)
			return false
		}
		return true
	}
	precommit := func() (int64, bool) {
		rep, err := r.streamLoad("dup", body, false, "label: "+label, "two_phase_commit: true", cols)
		if err != nil || rep.Status != "Success" || rep.TxnID == 0 {
			r.fail("two-phase load %s: %+v, %v", label, rep, err)
			return 0, false
		}
		return rep.TxnID, true
	}
	decide := func(id int64, label, op string) bool {
		status, msg, err := r.twoPC(id, label, op)
		if err != nil || status != "Success" {
			r.fail("%s of %s (txn %d): %s %s %v", op, label, id, status, msg, err)
			return false
		}
		return true
	}

	switch kind := n % 10; {
	case n%29 == 0:
		// A row that does not parse fails the load (max_filter_ratio 0):
		// none of its rows may show.
		bad := append(append([]byte{}, body...), "\nnot-a-number,0,0,0"...)
		rep, err := r.loadOnce("dup", bad, false, label, cols)
		if err != nil || rep.Status != "Fail" {
			r.fail("load %s with a bad row: %+v, %v", label, rep, err)
		}
	case kind <= 4:
		rep, err := r.loadOnce("dup", body, kind%2 == 0, label, cols)
		if err != nil {
			r.fail("%v", err)
			return
		}
		loaded(rep)
	case kind == 5:
		rep, err := r.loadOnce("dup", body, false, label, cols)
		if err != nil {
			r.fail("%v", err)
			return
		}
		if !loaded(rep) || !visible {
			return
		}
		// The client retries an acknowledged load: the label answers.
		again, err := r.streamLoad("dup", body, true, "label: "+label, cols)
		r.labelRetries.Add(1)
		if err != nil || again.Status != "Label Already Exists" || again.ExistingJobStatus != "FINISHED" {
			r.fail("load %s sent again: %+v, %v", label, again, err)
		}
	case kind == 6 || kind == 7:
		id, ok := precommit()
		if !ok {
			return
		}
		if kind == 6 {
			ok = decide(id, "", "commit")
		} else {
			ok = decide(0, label, "commit")
		}
		if !ok {
			return
		}
		acked, visible = true, true
		// A repeated commit is refused, naming the committed transaction.
		status, msg, err := r.twoPC(id, "", "commit")
		if err != nil || status == "Success" || !commitOK.MatchString(msg) {
			r.fail("second commit of %s (txn %d): %s %s %v", label, id, status, msg, err)
		}
	case kind == 8:
		if id, ok := precommit(); ok {
			decide(id, "", "abort")
		}
	case kind == 9:
		// Aborted, then loaded again under the same label, which an
		// aborted transaction does not hold.
		id, ok := precommit()
		if !ok || !decide(id, "", "abort") {
			return
		}
		r.labelRetries.Add(1)
		rep, err := r.loadOnce("dup", body, false, label, cols)
		if err != nil {
			r.fail("%v", err)
			return
		}
		loaded(rep)
	}
}

// dupInsert INSERTs one numbered batch of DUPLICATE rows over MySQL, with
// a label, so that a retry after an unanswered INSERT is safe.
func (r *soakRun) dupInsert(rng *rand.Rand) {
	n := r.nextLoad.Add(1)
	rows := 1 + rng.IntN(50)
	var b strings.Builder
	sum := dupRows(&b, n, rows, "(%d,%d,%d,%d)", ",")
	label := fmt.Sprintf("soak_ins_%d", n)
	stmt := fmt.Sprintf("INSERT INTO soak.dup WITH LABEL %s (id, kind, seq, v) VALUES %s", label, b.String())
	r.dup.begin(int64(rows), sum)
	err := r.insert(label, stmt)
	r.dup.end(n, int64(rows), sum, err == nil, err == nil)
	if err != nil {
		r.fail("%v", err)
		return
	}
	r.loadsAcked.Add(1)
	r.rowsAcked.Add(int64(rows))
	r.bytesAcked.Add(int64(len(stmt)))
}

// insert runs a labelled INSERT; when it errs it runs it again, and a
// "label already used" then means the first one committed.
func (r *soakRun) insert(label, stmt string) error {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			r.labelRetries.Add(1)
			time.Sleep(time.Second)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		_, err = r.db.ExecContext(ctx, stmt)
		cancel()
		if err == nil {
			return nil
		}
		if attempt > 0 && strings.Contains(err.Error(), "has already been used") {
			return nil
		}
	}
	return fmt.Errorf("INSERT %s: %w", label, err)
}

// --- UNIQUE KEY upserts -----------------------------------------------------

// begin starts the writer's next write, of keys, and returns its seq.
func (w *soakWriter) begin(keys []int64) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	w.inflight = keys
	return w.seq
}

// end settles the write in flight.
func (w *soakWriter) end(seq int64, acked bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if acked {
		for _, k := range w.inflight {
			w.acked[k] = seq
		}
		w.ackedMax = seq
	}
	w.inflight = nil
}

// low is what a query must see of the writer's keys: the number of keys
// acknowledged, the highest seq acknowledged.
func (w *soakWriter) low() (keys int, seq int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked), w.ackedMax
}

// high is the most a query may see: keys acknowledged or in flight, the
// seq of the latest write begun.
func (w *soakWriter) high() (keys int, seq int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(w.acked)
	for _, k := range w.inflight {
		if _, ok := w.acked[k]; !ok {
			n++
		}
	}
	return n, w.seq
}

// ackedKey picks a key the writer acknowledged and its seq; ok is false
// when there is none yet.
func (w *soakWriter) ackedKey(rng *rand.Rand) (k, seq int64, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for range 20 {
		k = int64(w.id*soakUniqKeys + rng.IntN(soakUniqKeys))
		if seq, ok = w.acked[k]; ok {
			return k, seq, true
		}
	}
	return 0, 0, false
}

func uniqValue(k, seq int64) int64 { return k*7 + seq }

// uniqWrite upserts a run of the writer's keys with its next seq, by a
// stream load (plain, sent again under its label, two-phase committed or
// aborted) or an INSERT.
func (r *soakRun) uniqWrite(w *soakWriter) {
	first := w.rng.IntN(soakUniqKeys)
	size := 20 + w.rng.IntN(280)
	keys := make([]int64, size)
	for i := range keys {
		keys[i] = int64(w.id*soakUniqKeys + (first+i)%soakUniqKeys)
	}
	seq := w.begin(keys)
	acked := false
	defer func() {
		w.end(seq, acked)
		if acked {
			r.loadsAcked.Add(1)
			r.rowsAcked.Add(int64(size))
		} else {
			r.dropped.Add(1)
		}
	}()
	label := fmt.Sprintf("soak_uniq_%d_%d", w.id, seq)
	cols := "columns: k,w,seq,v"

	switch mode := w.rng.IntN(10); {
	case mode < 2:
		var b strings.Builder
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "(%d,%d,%d,%d)", k, w.id, seq, uniqValue(k, seq))
		}
		stmt := fmt.Sprintf("INSERT INTO soak.uniq WITH LABEL %s (k, w, seq, v) VALUES %s", label, b.String())
		if err := r.insert(label, stmt); err != nil {
			r.fail("%v", err)
			return
		}
		r.bytesAcked.Add(int64(len(stmt)))
		acked = true
		return
	case mode < 8:
		var b bytes.Buffer
		for i, k := range keys {
			if i > 0 {
				b.WriteByte('\n')
			}
			fmt.Fprintf(&b, "%d,%d,%d,%d", k, w.id, seq, uniqValue(k, seq))
		}
		body := b.Bytes()
		if mode < 6 {
			rep, err := r.loadOnce("uniq", body, mode%2 == 0, label, cols)
			if err != nil || rep.Status != "Success" {
				r.fail("upsert %s: %+v, %v", label, rep, err)
				return
			}
			acked = true
			r.bytesAcked.Add(int64(len(body)))
			if mode == 5 {
				again, err := r.streamLoad("uniq", body, false, "label: "+label, cols)
				r.labelRetries.Add(1)
				if err != nil || again.Status != "Label Already Exists" || again.ExistingJobStatus != "FINISHED" {
					r.fail("upsert %s sent again: %+v, %v", label, again, err)
				}
			}
			return
		}
		rep, err := r.streamLoad("uniq", body, false, "label: "+label, "two_phase_commit: true", cols)
		if err != nil || rep.Status != "Success" || rep.TxnID == 0 {
			r.fail("two-phase upsert %s: %+v, %v", label, rep, err)
			return
		}
		op := "commit"
		if mode == 7 && w.rng.IntN(2) == 0 {
			op = "abort"
		}
		status, msg, err := r.twoPC(rep.TxnID, "", op)
		if err != nil || status != "Success" {
			r.fail("%s of %s: %s %s %v", op, label, status, msg, err)
			return
		}
		if op == "commit" {
			acked = true
			r.bytesAcked.Add(int64(len(body)))
		}
	default:
		// A bad row fails the whole upsert: no key may take its seq.
		var b bytes.Buffer
		for _, k := range keys {
			fmt.Fprintf(&b, "%d,%d,%d,%d\n", k, w.id, seq, uniqValue(k, seq))
		}
		b.WriteString("x,y,z,0")
		rep, err := r.loadOnce("uniq", b.Bytes(), false, label, cols)
		if err != nil || rep.Status != "Fail" {
			r.fail("upsert %s with a bad row: %+v, %v", label, rep, err)
		}
	}
}

// --- Checking queries -------------------------------------------------------

// queryRows runs a query and returns its rows as strings (NULL as "NULL").
func (r *soakRun) queryRows(q string) ([][]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rows, err := r.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = "NULL"
			if v.Valid {
				row[i] = v.String
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", q, err)
	}
	return out, nil
}

func atoi(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1 << 62 // fails every bound check
	}
	return n
}

// query runs one checking query of a random kind. lastCount is the
// client's previous count of the DUPLICATE table, which never goes down.
func (r *soakRun) query(rng *rand.Rand, lastCount *int64) {
	switch rng.IntN(6) {
	case 0, 1: // aggregation, alone or through a join
		q := "SELECT count(*), sum(v) FROM soak.dup"
		if rng.IntN(2) == 0 {
			q = "SELECT count(*), sum(d.v) FROM soak.dup d JOIN soak.dim m ON d.kind = m.w"
		}
		lo, loSum, _, _ := r.dup.bounds()
		rows, err := r.queryRows(q)
		_, _, hi, hiSum := r.dup.bounds()
		if err != nil {
			r.fail("%v", err)
			return
		}
		if len(rows) != 1 {
			r.fail("%s: %v, want one row", q, rows)
			return
		}
		n, sum := atoi(rows[0][0]), int64(0)
		if n > 0 {
			sum = atoi(rows[0][1])
		}
		if n < lo || n > hi || sum < loSum || sum > hiSum || n < *lastCount {
			r.fail("%s: count %d sum %d, want count in [%d, %d] (and at least the previous %d), sum in [%d, %d]",
				q, n, sum, lo, hi, *lastCount, loSum, hiSum)
			return
		}
		*lastCount = n
	case 2, 3: // per writer, alone or through a join
		q := "SELECT w, count(*), max(seq), count(DISTINCT k) FROM soak.uniq GROUP BY w"
		if rng.IntN(2) == 0 {
			q = "SELECT m.w, count(*), max(u.seq), count(DISTINCT u.k) FROM soak.uniq u JOIN soak.dim m ON u.w = m.w GROUP BY m.w"
		}
		type bound struct {
			keys int
			seq  int64
		}
		lows := make([]bound, len(r.writers))
		for i, w := range r.writers {
			lows[i].keys, lows[i].seq = w.low()
		}
		rows, err := r.queryRows(q)
		if err != nil {
			r.fail("%v", err)
			return
		}
		got := map[int64][]string{}
		for _, row := range rows {
			got[atoi(row[0])] = row
		}
		if len(got) > len(r.writers) {
			r.fail("%s: writers %v", q, rows)
			return
		}
		for i, w := range r.writers {
			hiKeys, hiSeq := w.high()
			var keys, seq, distinct int64
			if row, ok := got[int64(i)]; ok {
				keys, seq, distinct = atoi(row[1]), atoi(row[2]), atoi(row[3])
			}
			if keys != distinct || keys < int64(lows[i].keys) || keys > int64(hiKeys) ||
				(keys > 0 && (seq < lows[i].seq || seq > hiSeq)) {
				r.fail("%s: writer %d has %d keys (%d distinct), max seq %d; want keys in [%d, %d], max seq in [%d, %d]",
					q, i, keys, distinct, seq, lows[i].keys, hiKeys, lows[i].seq, hiSeq)
				return
			}
		}
	case 4: // UNIQUE point lookup
		w := r.writers[rng.IntN(len(r.writers))]
		k, lo, ok := w.ackedKey(rng)
		if !ok {
			return
		}
		q := fmt.Sprintf("SELECT seq, v FROM soak.uniq WHERE k = %d", k)
		rows, err := r.queryRows(q)
		_, hi := w.high()
		if err != nil {
			r.fail("%v", err)
			return
		}
		if len(rows) != 1 {
			r.fail("%s: %v, want one row", q, rows)
			return
		}
		seq, v := atoi(rows[0][0]), atoi(rows[0][1])
		if seq < lo || seq > hi || v != uniqValue(k, seq) {
			r.fail("%s: seq %d v %d; want seq in [%d, %d] and v %d", q, seq, v, lo, hi, uniqValue(k, seq))
			return
		}
	case 5: // DUPLICATE point lookup of an acknowledged visible row
		n, rows, ok := r.dup.pick(rng)
		if !ok {
			return
		}
		id := n*soakRowsPerLoad + rng.Int64N(rows)
		q := fmt.Sprintf("SELECT kind, seq, v FROM soak.dup WHERE id = %d", id)
		got, err := r.queryRows(q)
		if err != nil {
			r.fail("%v", err)
			return
		}
		want := []string{strconv.FormatInt(n%10, 10), strconv.FormatInt(n, 10), strconv.FormatInt(id%97+1, 10)}
		if len(got) != 1 || strings.Join(got[0], ",") != strings.Join(want, ",") {
			r.fail("%s: %v, want one row %v", q, got, want)
			return
		}
	}
	r.queries.Add(1)
}

// pick returns an acknowledged load whose rows are visible.
func (l *soakDupLedger) pick(rng *rand.Rand) (n, rows int64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for n, rows := range l.acked { // map order is random enough
		if rng.IntN(4) == 0 || len(l.acked) < 4 {
			return n, rows, rows > 0 && !l.later[n]
		}
	}
	return 0, 0, false
}

// alter adds a column to both tables while the loads run; the loads name
// their columns, so the new ones take their defaults.
func (r *soakRun) alter() {
	for _, stmt := range []string{
		"ALTER TABLE soak.dup ADD COLUMN note VARCHAR(16) DEFAULT 'none'",
		"ALTER TABLE soak.uniq ADD COLUMN tag INT DEFAULT '7'",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		_, err := r.db.ExecContext(ctx, stmt)
		cancel()
		if err != nil {
			r.fail("%s: %v", stmt, err)
			return
		}
		r.schemaChanges.Add(1)
	}
	r.altered.Store(true)
}

// --- The end ----------------------------------------------------------------

// verify checks the tables against everything acknowledged.
func (r *soakRun) verify() {
	t := r.t
	t.Helper()
	s := r.s

	// DUPLICATE: each acknowledged load (or INSERT) exactly once, with its
	// own rows only; nothing of an aborted or failed one.
	out := s.MustMySQL("SELECT seq, count(*), count(DISTINCT id), min(id), max(id), sum(v), min(kind), max(kind) FROM soak.dup GROUP BY seq ORDER BY seq")
	var want strings.Builder
	r.dup.mu.Lock()
	loads := make([]int64, 0, len(r.dup.acked))
	for n := range r.dup.acked {
		loads = append(loads, n)
	}
	slices.Sort(loads)
	var total int64
	for _, n := range loads {
		rows := r.dup.acked[n]
		total += rows
		fmt.Fprintf(&want, "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", n, rows, rows, n*soakRowsPerLoad, n*soakRowsPerLoad+rows-1, r.dup.sums[n], n%10, n%10)
	}
	r.dup.mu.Unlock()
	if out != want.String() {
		t.Fatalf("the DUPLICATE table does not hold the acknowledged loads exactly once:\n%s", diffLines(want.String(), out))
	}

	// UNIQUE: every key its last acknowledged value.
	out = s.MustMySQL("SELECT k, w, seq, v FROM soak.uniq ORDER BY k")
	want.Reset()
	var keys int
	for _, w := range r.writers {
		w.mu.Lock()
		ks := make([]int64, 0, len(w.acked))
		for k := range w.acked {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		for _, k := range ks {
			fmt.Fprintf(&want, "%d\t%d\t%d\t%d\n", k, w.id, w.acked[k], uniqValue(k, w.acked[k]))
		}
		keys += len(ks)
		w.mu.Unlock()
	}
	if out != want.String() {
		t.Fatalf("the UNIQUE table does not hold the last acknowledged value of each key:\n%s", diffLines(want.String(), out))
	}
	require.Positive(t, keys)
	require.Positive(t, total)

	// The columns added half way hold their defaults in every row.
	if r.altered.Load() {
		require.Equal(t, fmt.Sprintf("%d\n", total), s.MustMySQL("SELECT count(*) FROM soak.dup WHERE note = 'none'"))
		require.Equal(t, fmt.Sprintf("%d\n", keys), s.MustMySQL("SELECT count(*) FROM soak.uniq WHERE tag = 7"))
	}

	// Compaction kept the versions a read merges bounded.
	for _, table := range []string{"dup", "uniq"} {
		tablets := lines(s.MustMySQL("SHOW TABLETS FROM soak." + table))
		require.Len(t, tablets, 8)
		for _, line := range tablets {
			f := strings.Split(line, "\t")
			versions, err := strconv.Atoi(f[14]) // VersionCount
			require.NoError(t, err, line)
			require.LessOrEqual(t, versions, 50, "tablet %s of %s has %d versions", f[0], table, versions)
		}
	}
}

// diffLines shows the first lines where want and got differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	wi := map[string]bool{}
	for _, l := range w {
		wi[l] = true
	}
	gi := map[string]bool{}
	for _, l := range g {
		gi[l] = true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "want %d lines, got %d\n", len(w), len(g))
	n := 0
	for _, l := range w {
		if !gi[l] && n < 20 {
			fmt.Fprintf(&b, "missing: %s\n", l)
			n++
		}
	}
	n = 0
	for _, l := range g {
		if !wi[l] && n < 20 {
			fmt.Fprintf(&b, "unexpected: %s\n", l)
			n++
		}
	}
	return b.String()
}

// --- Metrics ---------------------------------------------------------------

// soakSample is one reading of the server's resource use.
type soakSample struct {
	goroutines, fds, rss, hwm, heap, heapInuse float64
	queryMem, versions, cache, cacheCap        float64
	compactions, compactionFailures            float64
	running, queued                            float64
}

// metrics reads the server's /metrics: each series by its full name with
// labels, and each name as the sum of its series.
func (r *soakRun) metrics() (map[string]float64, error) {
	resp, err := r.http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", r.s.HTTP))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: HTTP %d", resp.StatusCode)
	}
	return testbin.ParseMetrics(resp.Body)
}

// sample reads the metrics and the process's status.
func (r *soakRun) sample() (soakSample, error) {
	m, err := r.metrics()
	if err != nil {
		return soakSample{}, err
	}
	s := soakSample{
		goroutines: m["go_goroutines"],
		fds:        m["process_open_fds"],
		rss:        m["process_resident_memory_bytes"],
		heap:       m["go_memstats_heap_alloc_bytes"],
		heapInuse:  m["go_memstats_heap_inuse_bytes"],
		queryMem:   m["strata_query_memory_bytes"],
		cache:      m["strata_be_cache_usage"],
		cacheCap:   m["strata_be_cache_capacity"],
		versions:   m["strata_compaction_max_version_count"],
		running:    m["strata_compaction_running"],
		queued:     m["strata_compaction_queued"],
	}
	for k, v := range m {
		if strings.HasPrefix(k, "strata_compaction_runs_total{") {
			switch {
			case strings.Contains(k, `result="finished"`):
				s.compactions += v
			case strings.Contains(k, `result="failed"`):
				s.compactionFailures += v
			}
		}
	}
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.s.cmd.Process.Pid)); err == nil {
		for line := range strings.SplitSeq(string(st), "\n") {
			name, rest, ok := strings.Cut(line, ":")
			if !ok || (name != "VmRSS" && name != "VmHWM") {
				continue
			}
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				continue
			}
			if name == "VmRSS" {
				s.rss = max(s.rss, kb*1024)
			} else {
				s.hwm = kb * 1024
			}
		}
	}
	return s, nil
}

// sampler samples the server every second until the returned func is
// called.
func (r *soakRun) sampler() func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if s, err := r.sample(); err == nil {
				r.sampleMu.Lock()
				r.samples = append(r.samples, s)
				r.sampleMu.Unlock()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// peak is the highest of each figure over the samples so far.
func (r *soakRun) peak() soakSample {
	r.sampleMu.Lock()
	defer r.sampleMu.Unlock()
	var p soakSample
	for _, s := range r.samples {
		p.rss = max(p.rss, s.rss)
		p.heapInuse = max(p.heapInuse, s.heapInuse)
		p.queryMem = max(p.queryMem, s.queryMem)
		p.versions = max(p.versions, s.versions)
		p.goroutines = max(p.goroutines, s.goroutines)
		p.cache = max(p.cache, s.cache)
	}
	return p
}

// quiesce waits (boundedly) for the compactions the load left due to
// finish, so that what is measured next is the server at rest.
func (r *soakRun) quiesce() {
	deadline := time.Now().Add(2 * time.Minute)
	quiet := 0
	for time.Now().Before(deadline) && quiet < 2 {
		s, err := r.sample()
		require.NoError(r.t, err)
		if s.running == 0 && s.queued == 0 {
			quiet++
		} else {
			quiet = 0
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// idle measures the server at rest: it waits for query memory to return to
// zero and the goroutine and fd counts to stop falling, then forces a GC
// (through the pprof heap profile) and reads the live heap.
func (r *soakRun) idle(when string) soakSample {
	t := r.t
	t.Helper()
	var s soakSample
	var err error
	deadline := time.Now().Add(time.Minute)
	prev := soakSample{goroutines: 1 << 30, fds: 1 << 30}
	for {
		s, err = r.sample()
		require.NoError(t, err)
		// Settled: nothing held by queries, and goroutines and fds no
		// longer falling.
		settled := s.queryMem == 0 && s.goroutines >= prev.goroutines && s.fds >= prev.fds
		if settled || time.Now().After(deadline) {
			break
		}
		prev = s
		time.Sleep(time.Second)
	}
	require.Zero(t, s.queryMem, "strata_query_memory_bytes %s with no query running", when)
	for range 2 { // the second GC frees what the first one's finalizers let go
		resp, err := r.http.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/heap?gc=1", r.pprof))
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	if dir := *soakProfiles; dir != "" {
		resp, err := r.http.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/heap", r.pprof))
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, os.WriteFile(dir+"/heap-"+strings.ReplaceAll(when, " ", "_")+".pb.gz", b, 0o644))
	}
	s2, err := r.sample()
	require.NoError(t, err)
	s.heap, s.rss, s.hwm, s.cache, s.cacheCap = s2.heap, s2.rss, s2.hwm, s2.cache, s2.cacheCap
	r.t.Logf("soak: %s: %v goroutines, %v open fds, live heap %s (page cache %s of %s), RSS %s, %v compactions",
		when, s.goroutines, s.fds, mib(s.heap), mib(s.cache), mib(s.cacheCap), mib(s.rss), s.compactions)
	return s
}

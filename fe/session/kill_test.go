package session

import (
	"context"
	gosql "database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
)

// bigTable makes d.t with 10000 rows k = 0..9999 and returns a session
// using d.
func bigTable(t *testing.T, e *Engine) *Session {
	t.Helper()
	s := newTestSession(t, e, 1)
	query(t, s, "CREATE DATABASE d")
	query(t, s, "USE d")
	// g is 0 everywhere: joins on it are cross products.
	query(t, s, "CREATE TABLE ten (k INT NOT NULL, g INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
	query(t, s, "INSERT INTO ten VALUES (0,0),(1,0),(2,0),(3,0),(4,0),(5,0),(6,0),(7,0),(8,0),(9,0)")
	query(t, s, "CREATE TABLE t (k INT NOT NULL, g INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 3")
	query(t, s, "INSERT INTO t SELECT a.k*1000 + b.k*100 + c.k*10 + d.k, 0 FROM ten a JOIN ten b ON a.g = b.g JOIN ten c ON b.g = c.g JOIN ten d ON c.g = d.g")
	require.Equal(t, []string{"10000"}, query(t, s, "SELECT count(*) FROM t"))
	return s
}

// longQuery groups 10^7 rows by a string of each: seconds of work in
// batches of a page's rows times 10 (a batch is as far as cancellation
// waits). It reads big, which withBig makes.
const longQuery = "SELECT count(*) FROM (SELECT concat(a.k, '-', b.k) s, count(*) n " +
	"FROM big a JOIN ten b ON a.g = b.g GROUP BY s) x"

// withBig adds d.big, 10^6 rows.
func withBig(t *testing.T, s *Session) {
	t.Helper()
	query(t, s, "CREATE TABLE big (k INT NOT NULL, g INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4")
	query(t, s, "INSERT INTO big SELECT a.k*100 + b.k*10 + c.k, 0 FROM t a JOIN ten b ON a.g = b.g JOIN ten c ON b.g = c.g")
}

// runAll runs text and reads every row, returning the first error.
func runAll(s *Session, text string) error {
	rs, err := s.Query(context.Background(), text)
	for _, r := range rs {
		if r.Rows == nil {
			continue
		}
		for {
			_, _, rerr := r.Rows.Next()
			if rerr != nil {
				if err == nil && rerr.Error() != "EOF" {
					err = rerr
				}
				break
			}
		}
		r.Rows.Close()
	}
	return err
}

func requireMyErr(t *testing.T, err error, code uint16) *mysqlproto.Error {
	t.Helper()
	var me *mysqlproto.Error
	require.True(t, errors.As(err, &me), "error %v is not a MySQL error", err)
	require.Equal(t, code, me.Code, me.Message)
	return me
}

func TestQueryTimeout(t *testing.T) {
	e := newTestEngine(t)
	s := bigTable(t, e)
	withBig(t, s)
	query(t, s, "SET exec_mem_limit = 17179869184")
	query(t, s, "SET query_timeout = 1")
	err := runAll(s, longQuery)
	me := requireMyErr(t, err, 3024)
	require.Equal(t, "Query execution was interrupted, maximum statement execution time exceeded", me.Message)
	// The session goes on.
	require.Equal(t, []string{"10000"}, query(t, s, "SELECT count(*) FROM t"))
	query(t, s, "SET query_timeout = 900")

	// The SET_VAR hint sets it for one statement.
	err = runAll(s, strings.Replace(longQuery, "SELECT", "SELECT /*+ SET_VAR(query_timeout=1) */", 1))
	requireMyErr(t, err, 3024)
}

func TestExecMemLimit(t *testing.T) {
	e := newTestEngine(t)
	s := bigTable(t, e)
	const q = "SELECT a.k * 10 + b.k, count(*) FROM t a JOIN ten b ON a.g = b.g GROUP BY 1"
	query(t, s, "SET exec_mem_limit = 100000")
	err := runAll(s, q)
	me := requireMyErr(t, err, mysqlproto.ER_UNKNOWN_ERROR)
	require.Contains(t, me.Message, "MEM_LIMIT_EXCEEDED")
	require.Contains(t, me.Message, "limit 100000 bytes")
	require.Contains(t, me.Message, "exec_mem_limit")

	query(t, s, "SET exec_mem_limit = 1073741824")
	require.NoError(t, runAll(s, q))
	require.Len(t, query(t, s, q), 100000)
}

func TestKillQuery(t *testing.T) {
	e := newTestEngine(t)
	victim := bigTable(t, e)
	withBig(t, victim)
	killer := newTestSession(t, e, 2)
	query(t, victim, "SET exec_mem_limit = 17179869184")
	done := make(chan error, 1)
	go func() { done <- runAll(victim, longQuery) }()
	// Wait until the victim's statement shows in the process list.
	require.Eventually(t, func() bool {
		for _, row := range query(t, killer, "SHOW PROCESSLIST") {
			if strings.HasPrefix(row, "1\t") && strings.Contains(row, "GROUP BY s") {
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond)
	query(t, killer, "KILL QUERY 1")
	select {
	case err := <-done:
		me := requireMyErr(t, err, mysqlproto.ER_QUERY_INTERRUPTED)
		require.Equal(t, "Query execution was interrupted", me.Message)
	case <-time.After(30 * time.Second):
		t.Fatal("KILL QUERY did not interrupt the query")
	}
	// The victim's connection lives on.
	require.Equal(t, []string{"10000"}, query(t, victim, "SELECT count(*) FROM t"))
	for _, row := range query(t, killer, "SHOW PROCESSLIST") {
		if strings.HasPrefix(row, "1\t") {
			require.True(t, strings.HasSuffix(row, "\tNULL"), "idle connection shows no statement: %q", row)
		}
	}
}

func TestKillErrors(t *testing.T) {
	e := newTestEngine(t)
	s := newTestSession(t, e, 1)
	_, err := s.Query(context.Background(), "KILL 12345")
	me := requireMyErr(t, err, mysqlproto.ER_NO_SUCH_THREAD)
	require.Equal(t, "Unknown thread id: 12345", me.Message)
	_, err = s.Query(context.Background(), "KILL QUERY 999")
	requireMyErr(t, err, mysqlproto.ER_NO_SUCH_THREAD)

	// Another user's connection is not ours to kill; root may.
	other, err := e.NewSession(7, "bob", "127.0.0.1", "")
	require.NoError(t, err)
	defer other.Close()
	bob := other.(*Session)
	_, err = bob.Query(context.Background(), "KILL QUERY 1")
	requireMyErr(t, err, 1095)
	query(t, s, "KILL QUERY 7")

	// KILL CONNECTION closes the victim's connection through the server.
	var closed []uint32
	e.CloseConnection = func(id uint32) bool { closed = append(closed, id); return true }
	query(t, s, "KILL CONNECTION 7")
	require.Equal(t, []uint32{7}, closed)
}

func TestExplainAnalyzeAndProfile(t *testing.T) {
	e := newTestEngine(t)
	s := bigTable(t, e)
	rows := query(t, s, "EXPLAIN ANALYZE SELECT k % 10, count(*) FROM t WHERE k < 1234 GROUP BY 1 ORDER BY 1")
	text := strings.Join(rows, "\n")
	t.Log("\n" + text)
	require.True(t, strings.HasPrefix(rows[0], "Query\t10\t"), rows[0])
	// The sort outputs the 10 groups; the scans, over the workers, read the
	// rows passing the filter.
	require.Regexp(t, `(?m)^Sort\t10\t`, text)
	require.Regexp(t, `(?m)SegmentScan \(x\d+ workers\)\t1234\t`, text)

	// SHOW QUERY PROFILE lists the profiled queries and shows each.
	query(t, s, "SET enable_profile = true")
	require.Equal(t, []string{"1234"}, query(t, s, "SELECT count(*) FROM t WHERE k < 1234"))
	list := query(t, s, `SHOW QUERY PROFILE "/"`)
	require.NotEmpty(t, list)
	f := strings.Split(list[0], "\t")
	require.Len(t, f, 9)
	require.Equal(t, "root", f[1])
	require.Equal(t, "d", f[2])
	require.Equal(t, "SELECT count(*) FROM t WHERE k < 1234", f[3])
	require.Equal(t, "EOF", f[8])
	one := strings.Join(query(t, s, `SHOW QUERY PROFILE "/`+f[0]+`"`), "\n")
	require.Regexp(t, `SegmentScan \(x\d+ workers\)\t1234\t`, one)
	_, err := s.Query(context.Background(), `SHOW QUERY PROFILE "/nope"`)
	require.Error(t, err)
}

func TestHintVars(t *testing.T) {
	require.Equal(t, map[string]string{"query_timeout": "1", "exec_mem_limit": "100"},
		hintVars("SELECT /*+ SET_VAR(query_timeout = 1, exec_mem_limit='100') */ 1"))
	require.Nil(t, hintVars("SELECT 1 /* SET_VAR(query_timeout=1) */"))
}

// SET_VAR counts only in hint comments: not in string literals, quoted
// names or other comments, and not across the end of a hint comment.
func TestHintVarsOnlyInHints(t *testing.T) {
	for _, tc := range []struct {
		text string
		want map[string]string
	}{
		{"SELECT /*+ LEADING(t) */ * FROM t WHERE note = 'SET_VAR(query_timeout=0)'", nil},
		{"SELECT * FROM t WHERE note = '/*+ SET_VAR(query_timeout=0) */'", nil},
		{"SELECT * FROM t WHERE note = \"/*+ SET_VAR(query_timeout=0) */\"", nil},
		{"SELECT `/*+ SET_VAR(query_timeout=0) */` FROM t", nil},
		{"SELECT 'it''s /*+ SET_VAR(query_timeout=0) */', 'a\\' /*+ SET_VAR(query_timeout=0) */'", nil},
		{"SELECT 1 -- /*+ SET_VAR(query_timeout=0) */\n", nil},
		{"SELECT 1 # /*+ SET_VAR(query_timeout=0) */\n", nil},
		{"SELECT /* SET_VAR(query_timeout=0) */ 1 /*+ SET_VAR(exec_mem_limit=5) */", map[string]string{"exec_mem_limit": "5"}},
		{"SELECT /*+ SET_VAR(exec_mem_limit=5) */ * FROM t WHERE note = 'x */ SET_VAR(query_timeout=0)'",
			map[string]string{"exec_mem_limit": "5"}},
		{"SELECT /*+ SET_VAR(query_timeout = 1) SET_VAR(exec_mem_limit = 2) */ 1",
			map[string]string{"query_timeout": "1", "exec_mem_limit": "2"}},
		{"SELECT /*+ SET_VAR(query_timeout = 1) 1", nil}, // never closed
	} {
		require.Equal(t, tc.want, hintVars(tc.text), tc.text)
	}
}

// A SET_VAR value that is not a number leaves the session's value in
// force rather than lifting the limit.
func TestHintVarsBadValueFallsBack(t *testing.T) {
	e := newTestEngine(t)
	s := newTestSession(t, e, 1)
	query(t, s, "SET exec_mem_limit = 12345")
	query(t, s, "SET query_timeout = 77")
	for _, text := range []string{
		"SELECT /*+ SET_VAR(exec_mem_limit=8G, query_timeout=1h) */ 1",
		"SELECT 1",
	} {
		st, err := sql.Parse(text)
		require.NoError(t, err)
		start := time.Now()
		ctx, end := s.beginStatement(context.Background(), st)
		mt := exec.MemTrackerFrom(ctx)
		require.NotNil(t, mt, text)
		require.EqualValues(t, 12345, mt.Limit(), text)
		deadline, ok := ctx.Deadline()
		require.True(t, ok, text)
		require.WithinDuration(t, start.Add(77*time.Second), deadline, 5*time.Second, text)
		var res *mysqlproto.Result
		var serr error
		end(&res, &serr)
	}
}

// recordProfile reads the session's database under the engine's lock: a
// Flight SQL session may end a statement in one call while another runs
// USE.
func TestRecordProfileWhileUseDB(t *testing.T) {
	e := newTestEngine(t)
	s := newTestSession(t, e, 1)
	r := &runningStmt{text: "SELECT 1", start: time.Now(), queryID: newQueryID(), profile: true, kind: "Query"}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 200 {
			s.setDB(fmt.Sprint("db", i%2))
		}
	})
	for range 200 {
		e.recordProfile(s, r, nil, "EOF")
	}
	wg.Wait()
	require.NotEmpty(t, e.profiles.snapshot())
}

// A SELECT's latency covers sending its rows, and an error while they are
// sent (here KILL QUERY) counts as the statement's error.
func TestStatementMetricsCoverRows(t *testing.T) {
	e := newTestEngine(t)
	e.Metrics = NewMetrics(e)
	s := bigTable(t, e)
	killer := newTestSession(t, e, 2)
	read := func(m prometheus.Metric) *dto.Metric {
		var d dto.Metric
		require.NoError(t, m.Write(&d))
		return &d
	}
	errs := func() float64 { return read(e.Metrics.errs.WithLabelValues("select")).GetCounter().GetValue() }
	latencies := func() uint64 {
		return read(e.Metrics.latency.WithLabelValues("select").(prometheus.Metric)).GetHistogram().GetSampleCount()
	}

	// Rows read to their end: one latency, no error, once they ended.
	errs0, lat0 := errs(), latencies()
	rs, err := s.Query(context.Background(), "SELECT count(*) FROM t")
	require.NoError(t, err)
	require.Equal(t, lat0, latencies(), "recorded before the rows were sent")
	require.Len(t, rowsOf(t, rs[0]), 1)
	require.Equal(t, lat0+1, latencies())
	require.Equal(t, errs0, errs())

	// Rows killed on their way: one latency, one error.
	rs, err = s.Query(context.Background(), "SELECT a.k FROM t a JOIN ten b ON a.g = b.g")
	require.NoError(t, err)
	_, _, err = rs[0].Rows.Next()
	require.NoError(t, err)
	require.Equal(t, lat0+1, latencies())
	query(t, killer, "KILL QUERY 1")
	for err == nil {
		_, _, err = rs[0].Rows.Next()
	}
	requireMyErr(t, err, mysqlproto.ER_QUERY_INTERRUPTED)
	rs[0].Rows.Close()
	require.Equal(t, lat0+2, latencies())
	require.Equal(t, errs0+1, errs())
}

// A client that stops reading a large result does not keep its statement
// running past KILL QUERY or query_timeout: the blocked write is given a
// deadline, the statement ends and the connection is closed.
func TestStalledClientStatementEnds(t *testing.T) {
	e := newTestEngine(t)
	s := bigTable(t, e)
	srv := mysqlproto.NewServer(e, mysqlproto.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	// ~100 MB of rows: far more than the socket buffers hold.
	const big = "SELECT repeat('x', 1000), a.k FROM t a JOIN ten b ON a.g = b.g"

	running := func() (id string, ok bool) {
		for _, row := range query(t, s, "SHOW PROCESSLIST") {
			if strings.Contains(row, "repeat('x', 1000)") {
				return strings.SplitN(row, "\t", 2)[0], true
			}
		}
		return "", false
	}
	for _, how := range []string{"kill", "timeout"} {
		t.Run(how, func(t *testing.T) {
			db, err := gosql.Open("mysql", "root@tcp("+ln.Addr().String()+")/d")
			require.NoError(t, err)
			defer db.Close()
			conn, err := db.Conn(context.Background())
			require.NoError(t, err)
			defer conn.Close()
			if how == "timeout" {
				_, err = conn.ExecContext(context.Background(), "SET query_timeout = 1")
				require.NoError(t, err)
			}
			// The client reads the column definitions and no row.
			rows, err := conn.QueryContext(context.Background(), big)
			require.NoError(t, err)
			defer rows.Close()
			var id string
			require.Eventually(t, func() bool {
				var ok bool
				id, ok = running()
				return ok
			}, 10*time.Second, 10*time.Millisecond)
			if how == "kill" {
				// Long enough for the socket buffers to fill.
				time.Sleep(200 * time.Millisecond)
				query(t, s, "KILL QUERY "+id)
			}
			require.Eventually(t, func() bool {
				_, ok := running()
				return !ok
			}, 15*time.Second, 50*time.Millisecond, "the statement still runs")
		})
	}
}

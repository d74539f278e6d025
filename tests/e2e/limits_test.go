package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/tests/testbin"
)

// The limits tests push a real server against its limits (packet size,
// connections, statement time, query memory) and a full disk, and check
// that the one statement, connection or load at fault fails with the
// error a MySQL or Doris client expects while the server keeps serving.

// mysqlStdin runs the mysql client with the SQL read from the file at
// path (a statement too large for a command-line argument) and returns
// its stdout and stderr.
func (s *Server) mysqlStdin(path string, extra ...string) (stdout, stderr string, err error) {
	args := append([]string{"-h127.0.0.1", "-P" + strconv.Itoa(s.Query), "-uroot", "--batch", "--skip-column-names"}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, mysqlBinary(s.t), args...)
	var out, errb bytes.Buffer
	cmd.Stdin = f
	cmd.Stdout = &out
	cmd.Stderr = &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// mysqlForce runs sql with --force, so the client goes on with the next
// statement after an error, on the same connection: it returns the output
// of the statements that ran and the errors of those that failed.
func (s *Server) mysqlForce(sql string, extra ...string) (stdout, stderr string) {
	s.t.Helper()
	args := append([]string{"-h127.0.0.1", "-P" + strconv.Itoa(s.Query), "-uroot", "--batch", "--skip-column-names", "--force"}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, mysqlBinary(s.t), args...)
	cmd.Stdin = strings.NewReader(sql) // -e would turn --force off
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	_ = cmd.Run() // the exit status is 1 when a statement failed
	require.NoError(s.t, ctx.Err(), "sql: %s", sql)
	return out.String(), errb.String()
}

// metrics reads the server's /metrics: each series by its full name with
// labels, and each name as the sum of its series.
func (s *Server) metrics() map[string]float64 {
	s.t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", s.HTTP))
	require.NoError(s.t, err)
	defer resp.Body.Close()
	require.Equal(s.t, http.StatusOK, resp.StatusCode)
	m, err := testbin.ParseMetrics(resp.Body)
	require.NoError(s.t, err)
	return m
}

// TestLimitsMaxPacket sends, through the mysql client allowed far larger
// packets, a statement larger than the server takes: it gets ERROR 1153,
// and the server goes on serving, a statement of 15 MiB included.
func TestLimitsMaxPacket(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	dir := t.TempDir()
	stmt := func(name string, n int) string {
		path := filepath.Join(dir, name)
		var b bytes.Buffer
		b.Grow(n + 64)
		b.WriteString("SELECT length('")
		b.Write(bytes.Repeat([]byte{'x'}, n))
		b.WriteString("');\n")
		require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
		return path
	}

	// Larger than max_allowed_packet: the server refuses commands over
	// mysqlproto's MaxPacketSize, 64 MiB (what @@max_allowed_packet
	// reports), once it has read 64 MiB. Only
	// 64 KiB more follow, which the socket buffers take, so the client
	// finishes sending and reads the error rather than a reset.
	const over = 64<<20 + 64<<10
	require.Equal(t, strconv.Itoa(64<<20), strings.TrimSpace(s.MustMySQL("SELECT @@max_allowed_packet")))
	out, errOut, err := s.mysqlStdin(stmt("over.sql", over), "--max-allowed-packet=256M")
	require.Error(t, err, "a statement of 64 MiB + 64 KiB was accepted: %s", out)
	require.Contains(t, errOut, "ERROR 1153", "stdout: %s", out)
	require.Contains(t, errOut, "max_allowed_packet")

	require.Equal(t, "1\n", s.MustMySQL("SELECT 1"), "the server serves on after a packet too large")

	// Under the limit: 15 MiB of string literal.
	const under = 15 << 20
	out, errOut, err = s.mysqlStdin(stmt("under.sql", under), "--max-allowed-packet=64M")
	require.NoError(t, err, "%s", errOut)
	require.Equal(t, fmt.Sprintf("%d\n", under), out)
}

// heldConn is a mysql client kept connected: it reads statements from a
// pipe, one at a time, and answers each on its stdout.
type heldConn struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	errb  *testbin.LockedBuffer
}

// holdConn starts a mysql client that stays connected until closed (at
// the latest when the test ends).
func (s *Server) holdConn() *heldConn {
	s.t.Helper()
	cmd := exec.Command(mysqlBinary(s.t), "-h127.0.0.1", "-P"+strconv.Itoa(s.Query), "-uroot",
		"--batch", "--skip-column-names", "--unbuffered")
	stdin, err := cmd.StdinPipe()
	require.NoError(s.t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(s.t, err)
	h := &heldConn{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout), errb: &testbin.LockedBuffer{}}
	cmd.Stderr = h.errb
	require.NoError(s.t, cmd.Start())
	s.t.Cleanup(h.close)
	return h
}

// query sends one statement and returns the first line of its answer
// ("" when the client ended, e.g. refused).
func (h *heldConn) query(sql string) string {
	if _, err := io.WriteString(h.stdin, sql+";\n"); err != nil {
		return ""
	}
	line, _ := h.out.ReadString('\n')
	return strings.TrimSuffix(line, "\n")
}

// close ends the client (and with it its connection).
func (h *heldConn) close() {
	_ = h.stdin.Close()
	_ = h.cmd.Wait()
}

// TestLimitsMaxConnections runs a server with --max-connections 3: three
// connections are served, a fourth is refused with ERROR 1040 "Too many
// connections" once the bounded wait for a slot is over, the three keep
// working, and when one closes a new connection gets its slot.
func TestLimitsMaxConnections(t *testing.T) {
	t.Parallel()
	const maxConns = 3
	s := startServer(t, "", "--max-connections", strconv.Itoa(maxConns))
	held := make([]*heldConn, maxConns)
	for i := range held {
		held[i] = s.holdConn()
		want := fmt.Sprintf("conn%d", i)
		require.Equal(t, want, held[i].query("SELECT '"+want+"'"), "connection %d of %d: %s", i+1, maxConns, held[i].errb)
	}

	// --skip-ssl: a client asking for TLS reports an error packet that
	// comes before the TLS handshake as 2002, quoting it.
	_, err := s.MySQL("SELECT 1", "--skip-ssl")
	require.Error(t, err, "a connection past --max-connections was served")
	require.ErrorContains(t, err, "ERROR 1040")
	require.ErrorContains(t, err, "Too many connections")

	for i, h := range held {
		require.Equal(t, "2", h.query("SELECT 1 + 1"), "held connection %d after the refusal: %s", i, h.errb)
	}

	held[0].close()
	require.Equal(t, "ok\n", s.MustMySQL("SELECT 'ok'"), "a slot freed by a closed connection is taken")
	for i, h := range held[1:] {
		require.Equal(t, "3", h.query("SELECT 1 + 2"), "held connection %d: %s", i+1, h.errb)
	}
}

// limitsDDL is the table of the query-limit tests: ten rows, and 10^4
// rows of one group g = 0 built from them.
const limitsDDL = `CREATE DATABASE lim;
CREATE TABLE lim.ten (k INT NOT NULL, g INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1;
INSERT INTO lim.ten VALUES (0,0),(1,0),(2,0),(3,0),(4,0),(5,0),(6,0),(7,0),(8,0),(9,0);
CREATE TABLE lim.t (k INT NOT NULL, g INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 3;
INSERT INTO lim.t SELECT a.k*1000 + b.k*100 + c.k*10 + d.k, 0
FROM lim.ten a JOIN lim.ten b ON a.g = b.g JOIN lim.ten c ON b.g = c.g JOIN lim.ten d ON c.g = d.g;`

// limitsLong joins 10^4 x 10^4 x 10 rows (10^9) and evaluates a string
// function on each: minutes of work, in batches between which the
// statement's deadline is checked, with little memory held.
const limitsLong = "SELECT count(*) FROM lim.t a JOIN lim.t b ON a.g = b.g JOIN lim.ten c ON b.g = c.g " +
	"WHERE concat(a.k, '-', b.k, '-', c.k) <> ''"

// TestLimitsQuery checks the statement limits through the mysql client:
// query_timeout (by SET and by a SET_VAR hint) and exec_mem_limit each
// fail only the statement at fault, with MySQL's number and Doris's text,
// and the connection and the server go on; the memory the failed query
// held is all released.
func TestLimitsQuery(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	s.MustMySQL(limitsDDL)
	require.Equal(t, "10000\t49995000\n", s.MustMySQL("SELECT count(*), sum(k) FROM lim.t"))

	t.Run("query_timeout", func(t *testing.T) {
		out, errOut := s.mysqlForce("SET query_timeout = 1; " + limitsLong + "; SELECT 'alive', @@query_timeout")
		require.Contains(t, errOut, "ERROR 3024", "stdout: %s", out)
		require.Contains(t, errOut, "maximum statement execution time exceeded")
		require.Equal(t, "alive\t1\n", out, "the connection serves on after its statement timed out: %s", errOut)
	})

	t.Run("query_timeout hint", func(t *testing.T) {
		// --comments: the client would otherwise strip the hint.
		out, errOut := s.mysqlForce("SELECT /*+ SET_VAR(query_timeout = 1) */ count(*) FROM ("+limitsLong+") x; "+
			"SELECT 'alive', @@query_timeout", "--comments")
		require.Contains(t, errOut, "ERROR 3024", "stdout: %s", out)
		require.Equal(t, "alive\t900\n", out, "the hint sets the variable for its statement only")
	})

	t.Run("exec_mem_limit", func(t *testing.T) {
		const group = "SELECT a.k * 10 + b.k, count(*) FROM lim.t a JOIN lim.ten b ON a.g = b.g GROUP BY 1"
		const join = "SELECT count(*) FROM lim.t a JOIN lim.t b ON a.k = b.k + 1"
		for _, q := range []string{group, join} {
			out, errOut := s.mysqlForce("SET exec_mem_limit = 100000; " + q + "; SELECT 'alive', count(*) FROM lim.ten")
			require.Contains(t, errOut, "ERROR 1105", "%s\nstdout: %s", q, out)
			require.Contains(t, errOut, "MEM_LIMIT_EXCEEDED")
			require.Contains(t, errOut, "limit 100000 bytes")
			require.Equal(t, "alive\t10\n", out, "the connection serves on after %s", q)
		}
		require.Equal(t, "100000\n", s.MustMySQL("SELECT count(*) FROM ("+group+") x"))
		require.Equal(t, "9999\n", s.MustMySQL(join))
		// The failed queries released what they held: nothing runs now.
		require.Contains(t, s.metrics(), "strata_query_memory_bytes")
		require.Eventually(t, func() bool {
			return s.metrics()["strata_query_memory_bytes"] == 0
		}, 30*time.Second, 100*time.Millisecond, "strata_query_memory_bytes = %v with no query running",
			s.metrics()["strata_query_memory_bytes"])
	})

	require.Equal(t, "10000\n", s.MustMySQL("SELECT count(*) FROM lim.t"))
}

// storageFiles lists the segment and primary-key index files under the
// server's data dir.
func storageFiles(t *testing.T, dataDir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".seg") || strings.HasSuffix(path, ".pk") || strings.HasSuffix(path, ".tmp")) {
			out = append(out, path)
		}
		return nil
	})
	require.NoError(t, err)
	slices.Sort(out)
	return out
}

// armFailpoint arms a failpoint of the running server.
func armFailpoint(t *testing.T, s *Server, name, action string) {
	t.Helper()
	out, err := s.Curl("-X", "POST", "--fail-with-body",
		fmt.Sprintf("http://127.0.0.1:%d/api/debug/failpoints?name=%s&action=%s", s.BEHTTP, name, action))
	require.NoError(t, err, out)
	if action == "off" {
		require.NotContains(t, out, name+"=")
	} else {
		require.Contains(t, out, name+"="+action)
	}
}

// seriesSum sums the series of the metric name whose labels contain
// label.
func seriesSum(m map[string]float64, name, label string) float64 {
	var sum float64
	for series, v := range m {
		if strings.HasPrefix(series, name+"{") && strings.Contains(series, label) {
			sum += v
		}
	}
	return sum
}

// compactionIdle waits until no compaction runs, is queued or is due, so
// that the files of the tablets change only by what the test does (the
// inputs of a compaction stay on disk for the 300 s of
// tablet_rowset_stale_sweep_time_sec, longer than the test).
func compactionIdle(t *testing.T, s *Server) {
	t.Helper()
	require.Eventually(t, func() bool {
		m := s.metrics()
		return m["strata_compaction_running"] == 0 && m["strata_compaction_queued"] == 0 && m["strata_compaction_due_tablets"] == 0
	}, 60*time.Second, 100*time.Millisecond, "compactions did not settle")
}

// TestLimitsDiskFull fails the storage steps of loads as a full disk
// (enospc) or another error would, on a running server: each load and
// INSERT fails with the cause in its message, nothing of it is visible and
// no file of it stays, and the same label loads once the point is
// disarmed. A compaction failing the same way leaves the data as it was.
// After a clean restart and after kill -9, every acknowledged load is
// there exactly once.
func TestLimitsDiskFull(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--enable-failpoints")
	r := &fpRun{t: t, s: s, dir: t.TempDir(), acked: map[int]bool{}, tried: map[int]bool{}}
	s.MustMySQL(fpDDL)
	s.MustMySQL(`CREATE TABLE fp.ins (k BIGINT NOT NULL, v BIGINT NOT NULL) DUPLICATE KEY(k)
DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ("replication_num" = "1")`)
	const insert = "INSERT INTO fp.ins VALUES (1, 7), (2, 7), (3, 7)"
	inserts := 0 // INSERTs acknowledged
	checkInserts := func(when string) {
		t.Helper()
		require.Equal(t, fmt.Sprintf("%d\t%d\n", 3*inserts, 21*inserts), s.MustMySQL("SELECT count(*), ifnull(sum(v), 0) FROM fp.ins"), when)
	}
	next := 0
	for ; next < 2; next++ {
		require.True(t, r.load(next))
		require.True(t, r.acked[next], "setup load %d", next)
	}

	for _, tc := range []struct {
		point, action, cause string
	}{
		{"tabletstore/segment-before-fsync", "enospc", "no space left on device"},
		{"tabletstore/before-meta-commit", "enospc", "no space left on device"},
		{"tabletstore/after-meta-commit", "enospc", "no space left on device"},
		{"tabletstore/segment-before-fsync", "error", "injected error"},
		{"tabletstore/before-meta-commit", "error", "injected error"},
		{"tabletstore/after-meta-commit", "error", "injected error"},
	} {
		t.Run(tc.action+"_"+filepath.Base(tc.point), func(t *testing.T) {
			r.t = t
			compactionIdle(t, s)
			before := storageFiles(t, s.DataDir)
			armFailpoint(t, s, tc.point, tc.action)

			l := newFPLoad(t, r.dir, next)
			r.loads = append(r.loads, l)
			next++
			resp := s.StreamLoad("fp", "t", l.path, "label: "+l.label(), "column_separator: \t")
			require.Equal(t, "Fail", resp["Status"], "%v", resp)
			require.Contains(t, resp["Message"], tc.cause, "%v", resp)
			r.tried[l.i] = true

			_, err := s.MySQL(insert)
			require.Error(t, err, "an INSERT through a failing disk was acknowledged")
			require.ErrorContains(t, err, tc.cause)
			require.Regexp(t, `ERROR 1105 \(HY000\)`, err.Error())
			t.Logf("stream load: %s; INSERT: %v", resp["Message"], err)

			got := r.check("with " + tc.point + " failing")
			require.NotContains(t, got, l.i, "rows of the failed load are visible")
			checkInserts("after a failed INSERT")
			require.Equal(t, before, storageFiles(t, s.DataDir), "the failed load and INSERT left files behind")

			armFailpoint(t, s, tc.point, "off")
			resp = s.StreamLoad("fp", "t", l.path, "label: "+l.label(), "column_separator: \t")
			require.Equal(t, "Success", resp["Status"], "the label of a failed load is free again: %v", resp)
			delete(r.tried, l.i)
			r.acked[l.i] = true
			s.MustMySQL(insert)
			inserts++
			checkInserts("after an INSERT")
			got = r.check("after " + tc.point + " was disarmed")
			require.Contains(t, got, l.i)
		})
		r.t = t
	}

	t.Run("compaction", func(t *testing.T) {
		r.t = t
		compactionIdle(t, s)
		failedBefore := seriesSum(s.metrics(), "strata_compaction_runs_total", `result="failed"`)
		armFailpoint(t, s, "tabletstore/compaction-before-swap", "enospc")
		// Five rowsets in a tablet make a compaction: loads until one has
		// failed.
		deadline := time.Now().Add(60 * time.Second)
		for seriesSum(s.metrics(), "strata_compaction_runs_total", `result="failed"`) == failedBefore {
			require.True(t, time.Now().Before(deadline), "no compaction failed within 60s")
			require.True(t, r.load(next), "the server died:\n%s", s.logs.String())
			require.True(t, r.acked[next], "load %d, with only compaction failing", next)
			next++
			time.Sleep(100 * time.Millisecond)
		}
		require.Regexp(t, `compaction failed.*tabletstore/compaction-before-swap: no space left on device`, s.logs.String())
		r.check("after a failed compaction")
		require.Equal(t, fmt.Sprintf("%d\n", len(r.acked)*fpRows), s.MustMySQL("SELECT count(*) FROM fp.t"))

		armFailpoint(t, s, "tabletstore/compaction-before-swap", "off")
		finished := seriesSum(s.metrics(), "strata_compaction_runs_total", `result="finished"`)
		require.True(t, r.load(next))
		require.True(t, r.acked[next])
		next++
		require.Eventually(t, func() bool {
			return seriesSum(s.metrics(), "strata_compaction_runs_total", `result="finished"`) > finished
		}, 60*time.Second, 100*time.Millisecond, "no compaction finished after the point was disarmed")
		compactionIdle(t, s)
		r.check("after compaction succeeded")
	})
	r.t = t

	total := func() string { return fmt.Sprintf("%d\n", len(r.acked)*fpRows) }
	require.Empty(t, r.tried)
	require.Equal(t, total(), s.MustMySQL("SELECT count(*) FROM fp.t"))

	s.Stop()
	s.Restart()
	r.check("after a restart")
	require.Equal(t, total(), s.MustMySQL("SELECT count(*) FROM fp.t"))
	checkInserts("after a restart")

	s.Kill9()
	s.Restart()
	r.check("after kill -9 and a restart")
	require.Equal(t, total(), s.MustMySQL("SELECT count(*) FROM fp.t"))
	checkInserts("after kill -9 and a restart")

	require.True(t, r.load(next))
	require.True(t, r.acked[next], "a load after the restarts")
	r.check("after a new load")
}

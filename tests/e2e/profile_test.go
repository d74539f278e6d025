package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// EXPLAIN ANALYZE, SHOW QUERY PROFILE, query_timeout, exec_mem_limit and
// KILL QUERY through the real mysql client.
func TestProfile(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	s.MustMySQL(`CREATE DATABASE p;
CREATE TABLE p.ten (k INT NOT NULL, g INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1;
INSERT INTO p.ten VALUES (0,0),(1,0),(2,0),(3,0),(4,0),(5,0),(6,0),(7,0),(8,0),(9,0);
CREATE TABLE p.t (k INT NOT NULL, g INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 3;
INSERT INTO p.t SELECT a.k*1000 + b.k*100 + c.k*10 + d.k, 0 FROM p.ten a JOIN p.ten b ON a.g = b.g JOIN p.ten c ON b.g = c.g JOIN p.ten d ON c.g = d.g;`)
	require.Equal(t, "10000\n", s.MustMySQL("SELECT count(*) FROM p.t"))

	t.Run("explain analyze", func(t *testing.T) {
		out := s.MustMySQL("EXPLAIN ANALYZE SELECT k % 10, count(*) FROM p.t WHERE k < 1234 GROUP BY 1 ORDER BY 1")
		require.True(t, strings.HasPrefix(out, "Query\t10\t"), out)
		require.Regexp(t, `(?m)^Sort\t10\t`, out)
		require.Regexp(t, `(?m)SegmentScan \(x\d+ workers\)\t1234\t`, out)
	})

	t.Run("show query profile", func(t *testing.T) {
		out := s.MustMySQL("SET enable_profile = true; SELECT count(*) FROM p.t WHERE k < 1234; SHOW QUERY PROFILE '/'")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Equal(t, "1234", lines[0])
		f := strings.Split(lines[1], "\t")
		require.Len(t, f, 9, lines[1])
		require.Equal(t, "SELECT count(*) FROM p.t WHERE k < 1234", f[3])
		one := s.MustMySQL(`SHOW QUERY PROFILE "/` + f[0] + `"`)
		require.Regexp(t, `SegmentScan \(x\d+ workers\)\t1234\t`, one)
	})

	// long groups 10^7 rows by a string of each, in batches of a page's
	// rows times 10 (cancellation is checked between batches).
	s.MustMySQL(`CREATE TABLE p.big (k INT NOT NULL, g INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4;
INSERT INTO p.big SELECT a.k*100 + b.k*10 + c.k, 0 FROM p.t a JOIN p.ten b ON a.g = b.g JOIN p.ten c ON b.g = c.g;`)
	const long = "SELECT count(*) FROM (SELECT concat(a.k, '-', b.k) s, count(*) n " +
		"FROM p.big a JOIN p.ten b ON a.g = b.g GROUP BY s) x"

	t.Run("query_timeout", func(t *testing.T) {
		_, err := s.MySQL("SET exec_mem_limit = 17179869184; SET query_timeout = 1; " + long)
		require.ErrorContains(t, err, "ERROR 3024")
		require.ErrorContains(t, err, "maximum statement execution time exceeded")
	})

	t.Run("exec_mem_limit", func(t *testing.T) {
		const q = "SELECT a.k * 10 + b.k, count(*) FROM p.t a JOIN p.ten b ON a.g = b.g GROUP BY 1"
		_, err := s.MySQL("SET exec_mem_limit = 100000; " + q)
		require.ErrorContains(t, err, "MEM_LIMIT_EXCEEDED")
		require.ErrorContains(t, err, "limit 100000 bytes")
		out := s.MustMySQL("SET exec_mem_limit = 1073741824; SELECT count(*) FROM (" + q + ") x")
		require.Equal(t, "100000\n", out)
	})

	t.Run("kill query", func(t *testing.T) {
		done := make(chan error, 1)
		go func() {
			_, err := s.MySQL("SET exec_mem_limit = 17179869184; " + long)
			done <- err
		}()
		idRe := regexp.MustCompile(`(?m)^(\d+)\t.*GROUP BY s`)
		var id string
		require.Eventually(t, func() bool {
			out, err := s.MySQL("SHOW PROCESSLIST")
			if err != nil {
				return false
			}
			if m := idRe.FindStringSubmatch(out); m != nil {
				id = m[1]
				return true
			}
			return false
		}, 30*time.Second, 20*time.Millisecond)
		s.MustMySQL("KILL QUERY " + id)
		select {
		case err := <-done:
			require.ErrorContains(t, err, "ERROR 1317")
		case <-time.After(60 * time.Second):
			t.Fatal("KILL QUERY did not interrupt the query")
		}
		_, err := s.MySQL("KILL 999999")
		require.ErrorContains(t, err, "ERROR 1094")
		require.ErrorContains(t, err, "Unknown thread id: 999999")
	})
}

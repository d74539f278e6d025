package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/tests/testbin"
)

// fpDDL is the table of the failpoint tests: two partitions (every load
// writes both, half its rows each) of two buckets, so a load writes four
// tablets and an alter job converts two partitions.
const fpDDL = `
CREATE DATABASE fp;
CREATE TABLE fp.t (
    k BIGINT NOT NULL,
    b INT NOT NULL,
    v BIGINT NOT NULL
) ENGINE=OLAP
DUPLICATE KEY(k)
PARTITION BY RANGE(k) (
    PARTITION p0 VALUES LESS THAN ("1000000"),
    PARTITION p1 VALUES LESS THAN MAXVALUE
)
DISTRIBUTED BY HASH(k) BUCKETS 2
PROPERTIES ("replication_num" = "1");`

// fpRows is how many rows each load of the failpoint tests writes.
const fpRows = 100

// fpLoad is load i of the failpoint tests: rows k with b = i and v
// derived from both, so a load's rows are told apart by b and counted and
// summed per load.
type fpLoad struct {
	i    int
	path string
}

func (l fpLoad) label() string { return fmt.Sprintf("fp_%d", l.i) }

// sum is the sum of v over the load's rows.
func (l fpLoad) sum() int64 {
	var s int64
	for j := 0; j < fpRows; j++ {
		s += int64(l.i)*1_000_000 + int64(j)
	}
	return s
}

func newFPLoad(t *testing.T, dir string, i int) fpLoad {
	t.Helper()
	var b strings.Builder
	for j := 0; j < fpRows; j++ {
		k := int64(j%2)*1_000_000 + int64(i)*1000 + int64(j)
		fmt.Fprintf(&b, "%d\t%d\t%d\n", k, i, int64(i)*1_000_000+int64(j))
	}
	path := filepath.Join(dir, fmt.Sprintf("load_%d.tsv", i))
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return fpLoad{i: i, path: path}
}

// startServerEnv is startServer on a new data dir with further
// environment variables.
func startServerEnv(t *testing.T, env []string, flags ...string) *Server {
	t.Helper()
	p := testbin.FreePorts(t, 6)
	s := &Server{t: t, DataDir: t.TempDir(), ports: p, Query: p[0], HTTP: p[1], BEHTTP: p[2], extra: flags, Env: env}
	s.start()
	t.Cleanup(func() { s.Stop() })
	return s
}

// fpRun drives the loads of one failpoint test and remembers which were
// acknowledged.
type fpRun struct {
	t       *testing.T
	s       *Server
	dir     string
	loads   []fpLoad
	acked   map[int]bool
	tried   map[int]bool // sent, with no Success
	crashed bool
}

// load sends load i and records the answer. It reports false when the
// server is gone.
func (r *fpRun) load(i int) bool {
	l := newFPLoad(r.t, r.dir, i)
	r.loads = append(r.loads, l)
	out, err := r.s.Curl("--location-trusted", "-u", "root:", "-T", l.path, "-H", "Expect: 100-continue",
		"-H", "label: "+l.label(), "-H", "column_separator: \t",
		fmt.Sprintf("http://127.0.0.1:%d/api/fp/t/_stream_load", r.s.HTTP))
	if err == nil && decodeStatus(out) == "Success" {
		r.acked[i] = true
		return true
	}
	r.tried[i] = true
	return !r.dead()
}

func decodeStatus(out string) string {
	i := strings.Index(out, `"Status"`)
	if i < 0 {
		return ""
	}
	rest := out[i+len(`"Status"`):]
	rest = strings.TrimLeft(rest, ": ")
	rest = strings.TrimPrefix(rest, `"`)
	if j := strings.Index(rest, `"`); j >= 0 {
		return rest[:j]
	}
	return ""
}

// retry sends an unacknowledged load again with its label until it is
// loaded or visible: a label already taken belongs to a load committed
// before the crash (visible now or once published) or to one still
// running, which the leader aborts, after which a retry loads it.
func (r *fpRun) retry(l fpLoad) {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := r.s.Curl("--location-trusted", "-u", "root:", "-T", l.path, "-H", "Expect: 100-continue",
			"-H", "label: "+l.label(), "-H", "column_separator: \t",
			fmt.Sprintf("http://127.0.0.1:%d/api/fp/t/_stream_load", r.s.HTTP))
		require.NoError(r.t, err)
		switch st := decodeStatus(out); st {
		case "Success":
			return
		case "Label Already Exists":
			if _, ok := r.present()[l.i]; ok {
				return
			}
		default:
			r.t.Fatalf("retrying %s: status %q: %s", l.label(), st, out)
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("retrying %s: its label is taken, but its rows are not visible after 30s", l.label())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// dead reports whether the server process has exited.
func (r *fpRun) dead() bool {
	select {
	case <-r.s.waitDone:
		return true
	default:
		return false
	}
}

// waitCrash waits for the armed failpoint to kill the server.
func (r *fpRun) waitCrash(within time.Duration) {
	r.t.Helper()
	select {
	case <-r.s.waitDone:
	case <-time.After(within):
		r.t.Fatalf("the server did not crash within %v:\n%s", within, r.s.logs.String())
	}
	require.Contains(r.t, r.s.logs.String(), "failpoint ", "the server died, but not at a failpoint")
}

// present returns, per load, its visible row count and sum of v.
func (r *fpRun) present() map[int][2]int64 {
	r.t.Helper()
	got := map[int][2]int64{}
	for _, line := range lines(r.s.MustMySQL("SELECT b, count(*), sum(v) FROM fp.t GROUP BY b")) {
		f := strings.Split(line, "\t")
		require.Len(r.t, f, 3, line)
		b, err1 := strconv.Atoi(f[0])
		n, err2 := strconv.ParseInt(f[1], 10, 64)
		s, err3 := strconv.ParseInt(f[2], 10, 64)
		require.NoError(r.t, err1)
		require.NoError(r.t, err2)
		require.NoError(r.t, err3)
		got[b] = [2]int64{n, s}
	}
	return got
}

// check verifies that every acknowledged load is there exactly once, and
// every other load wholly or not at all. (A load committed before a crash
// but not yet visible is published after the restart, so it may appear
// between two queries: each check reads one query.)
func (r *fpRun) check(when string) map[int][2]int64 {
	r.t.Helper()
	got := r.present()
	for b, cs := range got {
		require.True(r.t, r.acked[b] || r.tried[b], "%s: rows of load %d, which was never sent", when, b)
		l := r.loads[b]
		require.Equal(r.t, [2]int64{fpRows, l.sum()}, cs, "%s: load %s is not there exactly once (count, sum)", when, l.label())
	}
	for i := range r.acked {
		_, ok := got[i]
		require.True(r.t, ok, "%s: acknowledged load fp_%d is missing", when, i)
	}
	return got
}

// TestFailpointCrash arms one failpoint with "crash", runs the workload
// that reaches it, and after the crash restarts the server without
// failpoints and checks what survived: every acknowledged load exactly
// once, no load half visible, new loads accepted, and a retried
// unacknowledged label loaded once or reported as already loaded.
func TestFailpointCrash(t *testing.T) {
	for _, tc := range []struct {
		point string
		// env arms the point at start through STRATA_FAILPOINTS; otherwise
		// arm (after setup loads) arms it through the HTTP endpoint.
		env    string
		setup  int // loads acknowledged before arming
		arm    string
		action func(r *fpRun)
	}{
		// Four tablets a load: count:6 fires in the second load, after two
		// of its tablets' rowsets.
		{point: "tabletstore/segment-before-fsync", env: "crash,count:6"},
		{point: "tabletstore/before-meta-commit", env: "crash,count:6"},
		{point: "tabletstore/after-meta-commit", env: "crash,count:7"},
		{point: "txn/mid-publish", env: "crash,count:3"},
		// Five rowsets in a tablet make a compaction.
		{point: "tabletstore/compaction-before-swap", setup: 2, arm: "crash"},
		{point: "alter/between-partitions", setup: 3, arm: "crash", action: func(r *fpRun) {
			r.s.MustMySQL("ALTER TABLE fp.t MODIFY COLUMN b BIGINT NOT NULL")
		}},
	} {
		t.Run(strings.ReplaceAll(tc.point, "/", "_"), func(t *testing.T) {
			t.Parallel() // most of the time is the restart's wait for the old lease
			var env []string
			if tc.env != "" {
				env = []string{"STRATA_FAILPOINTS=" + tc.point + "=" + tc.env}
			}
			s := startServerEnv(t, env, "--enable-failpoints")
			r := &fpRun{t: t, s: s, dir: t.TempDir(), acked: map[int]bool{}, tried: map[int]bool{}}
			s.MustMySQL(fpDDL)
			next := 0
			for ; next < tc.setup; next++ {
				require.True(t, r.load(next))
				require.True(t, r.acked[next], "setup load %d", next)
			}
			if tc.arm != "" {
				out, err := s.Curl("-X", "POST", "--fail-with-body",
					fmt.Sprintf("http://127.0.0.1:%d/api/debug/failpoints?name=%s&action=%s", s.BEHTTP, tc.point, tc.arm))
				require.NoError(t, err, out)
				require.Contains(t, out, tc.point+"="+tc.arm)
			}
			if tc.action != nil {
				tc.action(r)
			}
			// Loads until the failpoint kills the server.
			for next < 40 && r.load(next) {
				next++
				time.Sleep(20 * time.Millisecond)
			}
			r.waitCrash(30 * time.Second)
			require.NotEmpty(t, r.acked, "no load was acknowledged before the crash")

			s.Env = nil
			s.Restart()
			if tc.action != nil {
				require.Eventually(t, func() bool {
					out := s.MustMySQL("SHOW ALTER TABLE COLUMN FROM fp ORDER BY CreateTime DESC LIMIT 1")
					return strings.Contains(out, "FINISHED")
				}, 60*time.Second, 200*time.Millisecond, "%s", s.MustMySQL("SHOW ALTER TABLE COLUMN FROM fp"))
				require.Contains(t, s.MustMySQL("DESC fp.t"), "b\tBIGINT")
			}
			r.check("after restart")
			t.Logf("%s: %d loads acknowledged before the crash, %d not", tc.point, len(r.acked), len(r.tried))

			// Unacknowledged labels, retried with the same rows: loaded
			// once, or already loaded (and then visible once, a committed
			// load being published after the restart).
			for i := range r.tried {
				r.retry(r.loads[i])
				delete(r.tried, i)
				r.acked[i] = true
			}
			// New loads are accepted.
			next = len(r.loads)
			require.True(t, r.load(next))
			require.True(t, r.acked[next], "a new load after the restart")
			// Every load sent is now acknowledged, and visible exactly once.
			got := r.check("after retries and a new load")
			require.Len(t, got, len(r.loads))
			require.Equal(t, fmt.Sprintf("%d\n", len(r.loads)*fpRows), s.MustMySQL("SELECT count(*) FROM fp.t"))
		})
	}
}

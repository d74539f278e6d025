package main

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/bench/ssb"
)

func TestMVDefs(t *testing.T) {
	require.Equal(t, "CREATE MATERIALIZED VIEW mv_q33 AS SELECT C_CITY, S_CITY, LO_ORDERDATE, SUM(LO_REVENUE) FROM lineorder_flat "+
		"GROUP BY C_CITY, S_CITY, LO_ORDERDATE", mvFor("Q3.4", mvAgg).createStatement(mvAgg))
	require.Equal(t, "CREATE MATERIALIZED VIEW mv_q33_dup AS SELECT C_CITY, S_CITY, LO_ORDERDATE, LO_REVENUE FROM lineorder_flat "+
		"ORDER BY C_CITY, S_CITY, LO_ORDERDATE", mvFor("Q3.3", mvDup).createStatement(mvDup))
	require.Equal(t, "CREATE MATERIALIZED VIEW mv_q4_dup AS SELECT C_REGION, S_REGION, P_MFGR, LO_ORDERDATE, "+
		"C_NATION, S_NATION, P_CATEGORY, LO_REVENUE, LO_SUPPLYCOST FROM lineorder_flat ORDER BY C_REGION, S_REGION, P_MFGR, LO_ORDERDATE",
		mvFor("Q4.1", mvDup).createStatement(mvDup))

	// Which queries each kind means to answer.
	want := map[string][]string{
		mvAgg: {"Q2.1", "Q2.2", "Q2.3", "Q3.1", "Q3.2", "Q3.3", "Q3.4"},
		mvDup: {"Q2.1", "Q2.2", "Q2.3", "Q3.1", "Q3.2", "Q3.3", "Q3.4", "Q4.1", "Q4.2"},
	}
	for kind, ids := range want {
		var got []string
		names := map[string]bool{}
		for _, q := range ssb.Queries() {
			d := mvFor(q.ID, kind)
			if d == nil {
				require.NotEqual(t, "no view of this run is meant for it", noMVReason(q.ID, kind), q.ID)
				continue
			}
			got = append(got, q.ID)
			names[d.name(kind)] = true
			require.Contains(t, d.keys, "LO_ORDERDATE") // the queries group by its year
		}
		require.Equal(t, ids, got, kind)
		require.Len(t, mvsFor(ssb.Queries(), kind), len(names), kind)
	}
	require.Len(t, mvsFor([]ssb.Query{{ID: "Q2.2"}, {ID: "Q3.4"}, {ID: "Q1.1"}}, mvAgg), 2)

	kinds, err := parseMVKinds(" dup, AGG,dup ")
	require.NoError(t, err)
	require.Equal(t, []string{mvDup, mvAgg}, kinds)
	_, err = parseMVKinds("agg,rollup")
	require.ErrorContains(t, err, `unknown kind "rollup"`)
	_, err = parseMVKinds(" , ")
	require.Error(t, err)
}

func TestMVHelpers(t *testing.T) {
	plan := "Sort: year ASC\n  HashAggregate: group by [x]\n" +
		"      OlapScanNode TABLE: ssb.lineorder_flat(mv_q2), PREAGGREGATION: ON partitions=7/7 tablets=56 columns=[a, b]\n" +
		"        predicates: (S_REGION = 'AMERICA')"
	ix, err := indexOfPlan(plan)
	require.NoError(t, err)
	require.Equal(t, "mv_q2", ix)
	ix, err = indexOfPlan("OlapScanNode TABLE: ssb.lineorder_flat(lineorder_flat), PREAGGREGATION: ON")
	require.NoError(t, err)
	require.Equal(t, "lineorder_flat", ix)
	_, err = indexOfPlan("Project: 1")
	require.ErrorContains(t, err, "0 scans")

	for s, want := range map[string]int64{
		"[2-2] 1 DATA NONOVERLAPPING 57 34.44 KB": 35266,
		"[2-9] 3 DATA OVERLAPPING 12 1.50 MB":     1572864,
		"[3-3] 0 DATA NONOVERLAPPING 58 0":        0,
		"[3-3] 1 DATA NONOVERLAPPING 58 912.00 B": 912,
	} {
		n, err := rowsetBytes(s)
		require.NoError(t, err, s)
		require.Equal(t, want, n, s)
	}
	_, err = rowsetBytes("[2-2] 1 DATA NONOVERLAPPING 57 34.44 PB")
	require.Error(t, err)

	ms := func(v ...int) []time.Duration {
		var ds []time.Duration
		for _, x := range v {
			ds = append(ds, time.Duration(x)*time.Millisecond)
		}
		return ds
	}
	require.Equal(t, 3*time.Millisecond, median(ms(9, 3, 1)))
	require.Equal(t, 5*time.Millisecond, median(ms(9, 6, 1, 4)))
	require.Equal(t, "2.50×", ratio(5*time.Millisecond, 2*time.Millisecond))
	require.Equal(t, "–", ratio(5*time.Millisecond, 0))

	a := &result{rows: [][]string{{"1", "x"}, {"1", "y"}}}
	b := &result{rows: [][]string{{"1", "y"}, {"1", "x"}}}
	require.True(t, sameRows(a, b))
	require.False(t, sameResult(a, b))
	require.False(t, sameRows(a, &result{rows: [][]string{{"1", "y"}, {"1", "y"}}}))
}

// TestMVAgainstServer runs -mv against a real strata server at a tiny
// scale: every view builds, EXPLAIN routes each query to the view meant
// for it (run fails otherwise), and the answers with and without the
// views equal each other and the generator's.
func TestMVAgainstServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts a strata server")
	}
	srv := startStrata(t)
	c := config{addr: srv.query, httpAddr: srv.http, user: "root", db: "ssb", sf: 0.01, buckets: 2, runs: 2,
		rowsPerLoad: 30_000, loadParallel: 2, genWorkers: 1, sep: "|", wait: time.Minute, verify: true,
		mv: true, mvWait: 5 * time.Minute, mvKinds: "agg,dup", model: "dup",
		queries: "Q1.1,Q2.2,Q3.1,Q3.4,Q4.1,Q4.3"}
	var out bytes.Buffer
	err := run(context.Background(), c, &out)
	t.Log(out.String())
	require.NoError(t, err, srv.logs())
	text := out.String()
	for _, s := range []string{
		"EXPLAIN Q2.2 reads mv_q2; with use_rollup = false lineorder_flat",
		"EXPLAIN Q3.1 reads mv_q31; with use_rollup = false lineorder_flat",
		"EXPLAIN Q3.4 reads mv_q33; with use_rollup = false lineorder_flat",
		"EXPLAIN Q2.2 reads mv_q2_dup;",
		"EXPLAIN Q3.4 reads mv_q33_dup;",
		"EXPLAIN Q4.1 reads mv_q4_dup;",
		"EXPLAIN Q4.3 reads lineorder_flat;",
		"  Q1.1: SUM(LO_EXTENDEDPRICE*LO_DISCOUNT) aggregates an expression",
		"  Q4.1: SUM(LO_REVENUE-LO_SUPPLYCOST) aggregates an expression",
		"mv_q4_dup built in ",
		"| mv_q33 | C_CITY, S_CITY, LO_ORDERDATE | Q3.3, Q3.4 | ",
	} {
		require.Contains(t, text, s)
	}
	for _, row := range []string{"| Q2.2 | mv_q2 |", "| Q3.1 | mv_q31 |", "| Q3.4 | mv_q33 |",
		"| Q2.2 | mv_q2_dup |", "| Q3.4 | mv_q33_dup |", "| Q4.1 | mv_q4_dup |"} {
		i := strings.Index(text, row)
		require.GreaterOrEqual(t, i, 0, row)
		line := text[i : i+strings.Index(text[i:], "\n")]
		require.True(t, strings.HasSuffix(line, "| ok |"), line)
	}
	require.NotContains(t, text, "WRONG")
	require.NotContains(t, text, "unknown") // every view's size was read

	// The views of the last kind are gone, so a second run builds them again.
	c.skipLoad, c.mvKinds, c.queries = true, "dup", "Q3.3"
	out.Reset()
	require.NoError(t, run(context.Background(), c, &out), srv.logs())
	require.Contains(t, out.String(), "EXPLAIN Q3.3 reads mv_q33_dup;")
}

// strataServer is a strata server process a test started.
type strataServer struct {
	query, http string
	mu          sync.Mutex // protects log
	log         bytes.Buffer
}

func (s *strataServer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.Write(p)
}

func (s *strataServer) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// startStrata builds cmd/strata and starts it on free loopback ports with
// a temporary data directory; the test's cleanup stops it.
func startStrata(t *testing.T) *strataServer {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "strata")
	build := exec.Command("go", "build", "-o", bin, "github.com/strata-db/strata/cmd/strata")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	var ports []string
	var ls []net.Listener
	for range 6 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		ls = append(ls, l)
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	for _, l := range ls {
		l.Close()
	}
	s := &strataServer{query: "127.0.0.1:" + ports[0], http: "127.0.0.1:" + ports[1]}
	cmd := exec.Command(bin, "server", "--data-dir", filepath.Join(dir, "data"),
		"--query-port", ports[0], "--http-port", ports[1], "--be-http-port", ports[2], "--be-rpc-port", ports[3],
		"--etcd-client-port", ports[4], "--etcd-peer-port", ports[5], "--arrow-flight-sql-port", "0", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = s, s
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return s
}

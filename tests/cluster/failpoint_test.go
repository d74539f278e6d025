package cluster

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The failpoint trials crash (or fail) one process of a cluster at a
// named failpoint, restart it without the failpoint, and check what the
// cluster kept: every acknowledged load exactly once, no load partly
// visible, replicas that agree, and loads accepted after.

// createF is the table of the failpoint trials: four buckets, so each
// load writes every tablet, on three replicas.
const createF = `CREATE TABLE d.f (k INT, b INT, n BIGINT) DUPLICATE KEY(k)
DISTRIBUTED BY HASH(k) BUCKETS 4 PROPERTIES ("replication_num" = "3")`

// fpRows is how many rows each load of the trials writes.
const fpRows = 100

// fpBody is load i: rows with b = i, so a load's rows are counted and
// summed apart from the others'.
func fpBody(i int) string {
	var b strings.Builder
	for j := 0; j < fpRows; j++ {
		fmt.Fprintf(&b, "%d,%d,%d\n", i*1000+j, i, fpN(i, j))
	}
	return b.String()
}

func fpN(i, j int) int64 { return int64(i)*1_000_000 + int64(j) }

// fpSum is the sum of n over load i's rows.
func fpSum(i int) int64 {
	var s int64
	for j := 0; j < fpRows; j++ {
		s += fpN(i, j)
	}
	return s
}

func fpLabel(i int) string { return fmt.Sprintf("fp_%d", i) }

// fpLoads sends the labelled loads of a trial and remembers their
// outcomes. Its methods may be called from several goroutines.
type fpLoads struct {
	t *testing.T
	c *Cluster

	mu    sync.Mutex // protects following fields
	acked map[int]bool
	tried map[int]bool // sent, not acknowledged
	// first is the answer to each load's first try: its status, or the
	// error.
	first map[int]string
}

func newFPLoads(t *testing.T, c *Cluster) *fpLoads {
	return &fpLoads{t: t, c: c, acked: map[int]bool{}, tried: map[int]bool{}, first: map[int]string{}}
}

// send sends load i through frontend fe once. A load is acknowledged by
// Success or by Publish Timeout (committed, visible later).
func (l *fpLoads) send(fe, i int) (map[string]any, error) {
	res, err := l.c.StreamLoad(fe, "d", "f", fpLabel(i), fpBody(i))
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.first[i]; !ok {
		if err != nil {
			l.first[i] = err.Error()
		} else {
			l.first[i] = fmt.Sprint(res["Status"])
		}
	}
	if err == nil && (res["Status"] == "Success" || res["Status"] == "Publish Timeout") {
		l.acked[i] = true
		delete(l.tried, i)
	} else if !l.acked[i] {
		l.tried[i] = true
	}
	return res, err
}

// settle sends load i through frontend fe until it is acknowledged, or
// until its label turns out to belong to a committed load (which is then
// waited for to be visible). A label held by a running load is retried
// once the leader has aborted that load. It fails the test when the load
// is neither loaded nor visible after 90 s.
func (l *fpLoads) settle(fe, i int) {
	l.t.Helper()
	var last string
	ok := assertEventually(90*time.Second, func() bool {
		res, err := l.send(fe, i)
		switch {
		case err != nil:
			last = err.Error()
			return false
		case l.isAcked(i):
			return true
		case res["Status"] == "Label Already Exists" && res["ExistingJobStatus"] == "FINISHED":
			// Committed by an earlier try: visible now or once published.
			if _, ok := l.present(fe)[i]; ok {
				l.mu.Lock()
				l.acked[i] = true
				delete(l.tried, i)
				l.mu.Unlock()
				return true
			}
		}
		last = fmt.Sprint(res)
		return false
	})
	require.True(l.t, ok, "load %s was not loaded within 90s: %s", fpLabel(i), last)
}

func (l *fpLoads) isAcked(i int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked[i]
}

// present returns, per load, its visible row count and sum of n as
// frontend fe sees them.
func (l *fpLoads) present(fe int) map[int][2]int64 {
	l.t.Helper()
	got := map[int][2]int64{}
	for _, r := range l.c.Rows(fe, "SELECT b, count(*), sum(n) FROM d.f GROUP BY b") {
		b, err1 := strconv.Atoi(r[0])
		n, err2 := strconv.ParseInt(r[1], 10, 64)
		s, err3 := strconv.ParseInt(r[2], 10, 64)
		require.NoError(l.t, err1)
		require.NoError(l.t, err2)
		require.NoError(l.t, err3)
		got[b] = [2]int64{n, s}
	}
	return got
}

// check asserts that every load frontend fe sees is there exactly once
// (no load partly visible, none twice) and was sent, and that every
// acknowledged load is there. It returns what it saw.
func (l *fpLoads) check(fe int, when string) map[int][2]int64 {
	l.t.Helper()
	got := l.present(fe)
	l.mu.Lock()
	defer l.mu.Unlock()
	for b, cs := range got {
		require.True(l.t, l.acked[b] || l.tried[b], "%s: rows of load %d, which was never sent", when, b)
		require.Equal(l.t, [2]int64{fpRows, fpSum(b)}, cs, "%s: load %s is not there exactly once (count, sum)", when, fpLabel(b))
	}
	for i := range l.acked {
		_, ok := got[i]
		require.True(l.t, ok, "%s: acknowledged load %s is missing", when, fpLabel(i))
	}
	return got
}

// whole asserts that every load frontend fe sees is there exactly once:
// none partly visible, none twice. It returns what it saw.
func (l *fpLoads) whole(fe int, when string) map[int][2]int64 {
	l.t.Helper()
	got := l.present(fe)
	for b, cs := range got {
		require.Equal(l.t, [2]int64{fpRows, fpSum(b)}, cs, "%s: load %s is not there exactly once (count, sum)", when, fpLabel(b))
	}
	return got
}

// waitChecked waits until every acknowledged load is visible on frontend
// fe (a load acknowledged with Publish Timeout becomes visible once the
// leader publishes it), checking at each look that nothing is partly
// visible or there twice.
func (l *fpLoads) waitChecked(fe int, when string) {
	l.t.Helper()
	ok := assertEventually(60*time.Second, func() bool {
		got := l.whole(fe, when)
		l.mu.Lock()
		defer l.mu.Unlock()
		for i := range l.acked {
			if _, ok := got[i]; !ok {
				return false
			}
		}
		return true
	})
	if !ok {
		l.check(fe, when) // names the missing load
	}
}

// failpoints calls /api/debug/failpoints on an HTTP port: GET with no
// name, else POST arming name with action. It returns the status and body.
func failpoints(t *testing.T, port int, name, action string) (int, string) {
	t.Helper()
	u := fmt.Sprintf("http://127.0.0.1:%d/api/debug/failpoints", port)
	var resp *http.Response
	var err error
	if name == "" {
		resp, err = http.Get(u)
	} else {
		resp, err = http.Post(u+"?"+url.Values{"name": {name}, "action": {action}}.Encode(), "text/plain", nil)
	}
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// waitExit waits for a process a failpoint is to kill, and checks that it
// died at the failpoint named point.
func waitExit(t *testing.T, p *proc, point string, within time.Duration) {
	t.Helper()
	select {
	case <-p.waitDone:
	case <-time.After(within):
		t.Fatalf("%s did not crash at %s within %v:\n%s", p.name, point, within, tail(p.logs.String(), 60))
	}
	require.Contains(t, p.logs.String(), "failpoint "+point+": crash", "%s died, but not at the failpoint", p.name)
}

// backendAlive reports whether SHOW BACKENDS on frontend fe lists the
// backend on rpc port port as alive.
func backendAlive(c *Cluster, fe, port int) bool {
	for _, r := range c.Rows(fe, "SHOW BACKENDS") {
		if r[2] == fmt.Sprint(port) {
			return r[9] == "true"
		}
	}
	return false
}

// replicasAgree reports whether every replica of every tablet of d.f
// holds the visible version with the same rows.
func replicasAgree(c *Cluster, fe int) bool {
	cs, err := c.Checksums(fe, "d", "f")
	if err != nil {
		return false
	}
	for _, tc := range cs {
		for _, r := range tc.Replicas {
			if r.Error != "" || r.Sum != tc.Replicas[0].Sum || r.Rows != tc.Replicas[0].Rows {
				return false
			}
		}
	}
	return true
}

// A backend that missed loads while down is repaired by clones from the
// others. The clone first fails with an injected error at
// tabletstore/clone-before-meta-commit, again and again: the scheduler
// retries it, and nothing of the failed clones shows. Then the backend
// crashes at the same point; restarted without the failpoint, its clones
// are redone: the replicas agree, every acknowledged load is there once,
// and loads go on. Last, a backend that joins crashes there in the clone
// of a bucket the rebalance moves to it, and takes the bucket once
// restarted.
func TestFailpointMidClone(t *testing.T) {
	c := startCluster(t, clusterOptions{frontends: 1, backends: 3, beArgs: []string{"--enable-failpoints"}})
	const point = "tabletstore/clone-before-meta-commit"
	// A frontend started without --enable-failpoints refuses to arm.
	code, body := failpoints(t, c.FEs[0].HTTP, point, "crash")
	require.Equal(t, http.StatusForbidden, code, body)
	c.MustExec(0, "CREATE DATABASE d", createF)
	l := newFPLoads(t, c)
	next := 0
	for ; next < 3; next++ {
		l.settle(0, next)
	}

	// Backend 2 misses three loads.
	be := c.BEs[2]
	be.kill9()
	require.Eventually(t, func() bool { return !backendAlive(c, 0, be.RPC) }, 60*time.Second, 200*time.Millisecond,
		"the killed backend is still alive")
	for end := next + 3; next < end; next++ {
		l.settle(0, next)
	}

	// Back with every clone into it failing.
	be.env = []string{"STRATA_FAILPOINTS=" + point + "=error"}
	be.start()
	be.waitPort(be.HTTP)
	injected := func() int {
		return strings.Count(c.FEs[0].logs.String(), "failpoint "+point+": ")
	}
	// A failed repair logs the error at most twice (the incremental clone
	// refused, then the whole one failed): three logs are two attempts.
	require.Eventually(t, func() bool { return injected() >= 3 }, 60*time.Second, 200*time.Millisecond,
		"the failed clone was not retried: %d injected errors", injected())
	// A load while the clones fail is accepted, and the lagging replicas
	// stay behind.
	l.settle(0, next)
	next++
	require.False(t, replicasAgree(c, 0), "the lagging replicas agree although every clone failed")
	l.check(0, "while clones fail")

	// The same point crashes the backend now.
	code, body = failpoints(t, be.HTTP, point, "crash")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, point+"=crash")
	waitExit(t, &be.proc, point, 60*time.Second)
	for end := next + 2; next < end; next++ {
		l.settle(0, next)
	}

	be.env = nil
	be.start()
	be.waitPort(be.HTTP)
	c.waitAlive(3)
	requireReplicasAgree(t, c, 0, "d", "f")
	// The crashed clone's files, downloaded but never recorded, went at
	// the restart.
	require.Contains(t, be.logs.String(), "removed orphan segment files")
	got := l.check(0, "after the clones were redone")
	require.Len(t, got, next)
	for end := next + 2; next < end; next++ {
		l.settle(0, next)
	}
	got = l.check(0, "after new loads")
	require.Len(t, got, next)
	c.WaitInt(0, "SELECT count(*) FROM d.f", int64(next*fpRows))
	requireReplicasAgree(t, c, 0, "d", "f")

	// A fourth backend joins and crashes at the same point in the first
	// whole-tablet clone of a bucket the rebalance moves to it. Restarted
	// without the failpoint, it takes the bucket: the move is redone.
	nb := c.AddBackend("STRATA_FAILPOINTS=" + point + "=crash")
	waitExit(t, &nb.proc, point, 90*time.Second)
	id := backendID(c, 0, nb.RPC)
	require.NotEmpty(t, id)
	require.Zero(t, replicasByBackend(c, 0, "d.f")[id], "a bucket moved to a backend whose clone crashed")
	l.settle(0, next)
	next++
	nb.env = nil
	nb.start()
	nb.waitPort(nb.HTTP)
	c.waitAlive(4)
	require.Eventually(t, func() bool { return replicasByBackend(c, 0, "d.f")[id] > 0 }, 90*time.Second, 500*time.Millisecond,
		"no bucket moved to the restarted backend: %v", replicasByBackend(c, 0, "d.f"))
	requireReplicasAgree(t, c, 0, "d", "f")
	l.settle(0, next)
	next++
	got = l.check(0, "after the move")
	require.Len(t, got, next)
	c.WaitInt(0, "SELECT count(*) FROM d.f", int64(next*fpRows))
	requireReplicasAgree(t, c, 0, "d", "f")
	t.Logf("%d loads; %d logs of injected clone errors; replicas by backend %v", next, injected(), replicasByBackend(c, 0, "d.f"))
}

// The leader frontend crashes at txn/mid-publish, armed over HTTP on a
// frontend started with --enable-failpoints, while loads go on: the
// backends made a load visible and the leader had not recorded it. The
// other frontend takes over and finishes the publish: every acknowledged
// load is there exactly once, none partly, the replicas agree, a label
// that was in flight loads at most once when retried, and new loads go
// through both frontends, the restarted one too. Then the new leader
// crashes at alter/between-partitions in a schema change, and the
// restarted frontend takes over and finishes it.
func TestFailpointFrontendLeader(t *testing.T) {
	c := startCluster(t, clusterOptions{frontends: 2, backends: 3, feArgs: []string{"--enable-failpoints"}})
	const point = "txn/mid-publish"
	leader := c.Leader(0)
	require.GreaterOrEqual(t, leader, 0)
	other := 1 - leader
	code, body := failpoints(t, c.FEs[other].HTTP, "", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Empty(t, body, "no point is armed")
	c.MustExec(other, "CREATE DATABASE d", createF)
	l := newFPLoads(t, c)
	l.settle(other, 0)
	l.settle(other, 1)

	code, body = failpoints(t, c.FEs[leader].HTTP, point, "crash")
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, point+"=crash\n", body)
	// Three clients load until the leader dies, two through the other
	// frontend, one through the leader.
	var wg sync.WaitGroup
	var nextMu sync.Mutex
	next := 2
	for w := range 3 {
		via := other
		if w == 1 {
			via = leader
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c.FEs[leader].running() {
				nextMu.Lock()
				i := next
				next++
				nextMu.Unlock()
				if i >= 40 {
					return
				}
				_, _ = l.send(via, i)
			}
		}()
	}
	waitExit(t, &c.FEs[leader].proc, point, 60*time.Second)
	wg.Wait()
	// The backends made the load visible, the catalog did not: the
	// surviving frontend reads it wholly or not at all.
	l.whole(other, "before the takeover")
	require.Eventually(t, func() bool { return c.Leader(other) == other }, 60*time.Second, 200*time.Millisecond,
		"the other frontend did not take over")
	l.waitChecked(other, "after the takeover")
	requireReplicasAgree(t, c, other, "d", "f")
	cs, err := c.Checksums(other, "d", "f")
	require.NoError(t, err)
	for _, tc := range cs {
		require.Equal(t, cs[0].Version, tc.Version, "the tablets of one partition are at different versions: %+v", cs)
	}
	// The loads sent while the point was armed, one of them in flight
	// when the leader died, are retried with the same labels and rows:
	// one acknowledged (Success, or Publish Timeout: committed, its
	// publish unfinished) is found loaded, another loads once.
	l.mu.Lock()
	answers := fmt.Sprint(l.first)
	sent := next
	l.mu.Unlock()
	t.Logf("first answers: %s", answers)
	for i := 2; i < min(sent, 40); i++ {
		if !l.isAcked(i) {
			l.settle(other, i)
			continue
		}
		res, err := l.send(other, i)
		require.NoError(t, err)
		require.Equal(t, "Label Already Exists", res["Status"], "retrying %s, acknowledged before: %v", fpLabel(i), res)
		require.Equal(t, "FINISHED", res["ExistingJobStatus"], "%v", res)
	}
	l.check(other, "after retries")
	// The old leader comes back, without the failpoint (armed over HTTP,
	// it died with the process), and follows.
	fe := c.FEs[leader]
	fe.start()
	fe.waitPort(fe.Query)
	code, body = failpoints(t, fe.HTTP, "", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Empty(t, body, "a failpoint armed over HTTP outlived the process")
	require.Eventually(t, func() bool { return c.Leader(leader) == other }, 60*time.Second, 200*time.Millisecond)
	nextMu.Lock()
	n := next
	nextMu.Unlock()
	l.settle(leader, n)
	l.settle(other, n+1)
	for _, f := range []int{leader, other} {
		l.waitChecked(f, fmt.Sprintf("fe%d, after new loads", f))
		got := l.check(f, fmt.Sprintf("fe%d, after new loads", f))
		var rows int64
		for _, cs := range got {
			rows += cs[0]
		}
		c.WaitInt(f, "SELECT count(*) FROM d.f", rows)
	}
	requireReplicasAgree(t, c, other, "d", "f")

	// Now the new leader crashes at alter/between-partitions: a schema
	// change converted the partition and the job does not record it yet.
	// The restarted frontend takes over and finishes the job.
	const alterPoint = "alter/between-partitions"
	code, body = failpoints(t, c.FEs[other].HTTP, alterPoint, "crash")
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "INT", c.Rows(leader, "DESC d.f")[1][1])
	c.MustExec(leader, "ALTER TABLE d.f MODIFY COLUMN b BIGINT")
	waitExit(t, &c.FEs[other].proc, alterPoint, 90*time.Second)
	require.Eventually(t, func() bool { return c.Leader(leader) == leader }, 60*time.Second, 200*time.Millisecond,
		"the restarted frontend did not take over")
	require.Eventually(t, func() bool {
		rows := c.Rows(leader, "SHOW ALTER TABLE COLUMN FROM d")
		return len(rows) == 1 && strings.Contains(strings.Join(rows[0], " "), "FINISHED")
	}, 120*time.Second, 500*time.Millisecond, "the schema change did not finish: %v", c.Rows(leader, "SHOW ALTER TABLE COLUMN FROM d"))
	require.Equal(t, "BIGINT", c.Rows(leader, "DESC d.f")[1][1])
	l.settle(leader, n+2)
	got := l.check(leader, "after the schema change")
	require.Len(t, got, len(l.acked))
	requireReplicasAgree(t, c, leader, "d", "f")
}

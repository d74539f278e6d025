package cluster

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/tests/testbin"
)

// rowsCSV returns n rows "k,v,n" for keys from..from+n-1 and their sum of n.
func rowsCSV(from, n int) (string, int64) {
	var b strings.Builder
	var sum int64
	for k := from; k < from+n; k++ {
		fmt.Fprintf(&b, "%d,v%d,%d\n", k, k%7, 2*k)
		sum += int64(2 * k)
	}
	return b.String(), sum
}

const createT = `CREATE TABLE d.t (k INT, v VARCHAR(10), n BIGINT) DUPLICATE KEY(k)
DISTRIBUTED BY HASH(k) BUCKETS 4 PROPERTIES ("replication_num" = "3")`

// A stream load through any frontend is visible from every frontend; DDL
// sent to a follower is run by the leader; every replica holds the same
// rows.
func TestLoadsVisibleFromEveryFrontend(t *testing.T) {
	c := startCluster(t, clusterOptions{frontends: 3, backends: 3})
	leader := c.Leader(0)
	require.GreaterOrEqual(t, leader, 0)
	follower := (leader + 1) % 3
	c.MustExec(follower, "CREATE DATABASE d", createT)

	var total int64
	rows := 0
	for i := range c.FEs {
		body, sum := rowsCSV(i*1000, 1000)
		res, err := c.StreamLoad(i, "d", "t", fmt.Sprintf("fe%d_load", i), body)
		require.NoError(t, err)
		require.Equal(t, "Success", res["Status"], "%v", res)
		total += sum
		rows += 1000
	}
	// An INSERT through a follower goes through the leader's transactions
	// and straight to the backends.
	c.MustExec(follower, "INSERT INTO d.t VALUES (-1, 'x', 5), (-2, 'y', 7)")
	total += 12
	rows += 2
	for i := range c.FEs {
		c.WaitInt(i, "SELECT count(*) FROM d.t", int64(rows))
		s, err := c.QueryInt(i, "SELECT sum(n) FROM d.t")
		require.NoError(t, err)
		require.Equal(t, total, s, "fe%d", i)
		g := c.Rows(i, "SELECT v, count(*) FROM d.t WHERE k >= 0 GROUP BY v ORDER BY v")
		require.Len(t, g, 7)
	}
	// The frontends agree on who leads, and the backends are all alive.
	for i := range c.FEs {
		require.Equal(t, leader, c.Leader(i))
		require.Len(t, c.Rows(i, "SHOW BACKENDS"), 3)
	}
	_, err := c.DB(follower).Exec(fmt.Sprintf(`ALTER SYSTEM ADD BACKEND "127.0.0.1:%d"`, c.BEs[0].RPC))
	require.ErrorContains(t, err, "Same backend already exists")
	_, err = c.DB(follower).Exec(`CREATE TABLE d.x (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ("replication_num" = "4")`)
	require.ErrorContains(t, err, "Failed to find enough backend")
	requireReplicasAgree(t, c, follower, "d", "t")
}

// requireReplicasAgree waits until every replica of every tablet of the
// table has the same checksum at the visible version.
func requireReplicasAgree(t *testing.T, c *Cluster, fe int, db, table string) {
	t.Helper()
	var last string
	ok := assertEventually(60*time.Second, func() bool {
		cs, err := c.Checksums(fe, db, table)
		if err != nil {
			last = err.Error()
			return false
		}
		for _, tc := range cs {
			if len(tc.Replicas) == 0 {
				last = fmt.Sprintf("tablet %d has no replicas", tc.Tablet)
				return false
			}
			for _, r := range tc.Replicas {
				if r.Error != "" || r.Sum != tc.Replicas[0].Sum || r.Rows != tc.Replicas[0].Rows {
					last = fmt.Sprintf("tablet %d at version %d: %+v", tc.Tablet, tc.Version, tc.Replicas)
					return false
				}
			}
		}
		return true
	})
	require.True(t, ok, "replicas of %s.%s do not agree: %s", db, table, last)
}

func assertEventually(d time.Duration, f func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if f() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Loads and queries go on while a backend is killed with kill -9: loads
// commit on the two replicas left, queries read the others; once the
// backend is back its replicas are repaired and agree with the rest.
func TestBackendKilledDuringLoadsAndQueries(t *testing.T) {
	c := startCluster(t, clusterOptions{frontends: 2, backends: 3})
	c.MustExec(0, "CREATE DATABASE d", createT)

	type pendingLoad struct {
		label string
		rows  int64
		sum   int64
	}
	var (
		mu       sync.Mutex
		loaded   int64 // rows of successful loads
		sum      int64
		loads    int
		afterKil int           // loads that succeeded after the kill
		unsure   []pendingLoad // loads whose try on the dead backend still ran
	)
	var killed atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			body, s := rowsCSV(10_000+i*200, 200)
			label := fmt.Sprintf("crash_%d", i)
			// A load redirected to the backend just killed finds its port
			// closed; the client retries with the same label.
			var res map[string]any
			var err error
			for try := 0; try < 20; try++ {
				res, err = c.StreamLoad(i%2, "d", "t", label, body)
				if err == nil && res["Status"] != "Label Already Exists" {
					break
				}
				if err == nil && res["ExistingJobStatus"] == "FINISHED" {
					// An earlier try committed before its answer was lost.
					res["Status"] = "Success"
					break
				}
				if err == nil && try >= 2 {
					// An earlier try still runs, on the backend that died:
					// the leader aborts it once that backend's lease
					// lapses. Its outcome is settled at the end.
					mu.Lock()
					unsure = append(unsure, pendingLoad{label, 200, s})
					mu.Unlock()
					res["Status"] = "Unsure"
					break
				}
				// The port was closed: the client retries.
				time.Sleep(200 * time.Millisecond)
			}
			if res != nil && res["Status"] == "Unsure" {
				continue
			}
			if err != nil {
				t.Errorf("load %d: %v", i, err)
				return
			}
			if res["Status"] != "Success" {
				t.Errorf("load %d failed: %v", i, res)
				return
			}
			mu.Lock()
			loaded += 200
			sum += s
			loads++
			if killed.Load() {
				afterKil++
			}
			mu.Unlock()
		}
	}()
	var queries, queryErrs atomic.Int64
	var qerr atomic.Value
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := c.QueryInt(i%2, "SELECT count(*) FROM d.t"); err != nil {
				queryErrs.Add(1)
				qerr.Store(err.Error())
			}
			if err := c.Drain(i%2, "SELECT k, n FROM d.t WHERE k % 3 = 1 ORDER BY k DESC LIMIT 5"); err != nil {
				queryErrs.Add(1)
				qerr.Store(err.Error())
			}
			queries.Add(2)
			time.Sleep(50 * time.Millisecond)
		}
	}()
	time.Sleep(2 * time.Second)
	c.BEs[1].kill9()
	killed.Store(true)
	time.Sleep(8 * time.Second) // past the dead backend's lease
	close(stop)
	wg.Wait()
	mu.Lock()
	t.Logf("%d loads (%d after the kill), %d queries, %d query errors", loads, afterKil, queries.Load(), queryErrs.Load())
	require.Greater(t, afterKil, 5, "loads did not go on after the kill")
	require.Zero(t, queryErrs.Load(), "queries failed: %v", qerr.Load())
	wantRows, wantSum := loaded, sum
	mu.Unlock()
	// A load the dead backend was running ends ABORTED (the leader saw
	// its lease lapse); one that had committed ends VISIBLE.
	for _, p := range unsure {
		var st string
		require.Eventually(t, func() bool {
			out, err := curl("-u", "root:", fmt.Sprintf("http://127.0.0.1:%d/api/d/get_load_state?label=%s", c.FEs[0].HTTP, p.label))
			st = out
			return err == nil && (strings.Contains(out, "ABORTED") || strings.Contains(out, "VISIBLE"))
		}, 60*time.Second, 200*time.Millisecond, "load %s: %s", p.label, st)
		if strings.Contains(st, "VISIBLE") {
			wantRows += p.rows
			wantSum += p.sum
		}
	}
	t.Logf("%d loads of unsure outcome settled", len(unsure))
	for i := range c.FEs {
		c.WaitInt(i, "SELECT count(*) FROM d.t", wantRows)
		s, err := c.QueryInt(i, "SELECT sum(n) FROM d.t")
		require.NoError(t, err)
		require.Equal(t, wantSum, s)
	}

	// The backend comes back; the scheduler clones what it missed.
	c.BEs[1].start()
	c.BEs[1].waitPort(c.BEs[1].HTTP)
	c.waitAlive(3)
	requireReplicasAgree(t, c, 0, "d", "t")
	// And it serves again: with the other two gone, its replicas still
	// answer (reads need one replica).
	c.BEs[0].signal(syscall.SIGSTOP)
	c.BEs[2].signal(syscall.SIGSTOP)
	defer c.BEs[0].signal(syscall.SIGCONT)
	defer c.BEs[2].signal(syscall.SIGCONT)
	require.Eventually(t, func() bool {
		n, err := c.QueryInt(1, "SELECT count(*) FROM d.t")
		return err == nil && n == wantRows
	}, 60*time.Second, 500*time.Millisecond, "the repaired backend does not answer alone")
}

// Killing the leader frontend: another takes over within the lease, and a
// two-phase load precommitted through the old leader's cluster can still
// be committed through another frontend.
func TestLeaderKilledTwoPhaseCommitSurvives(t *testing.T) {
	c := startCluster(t, clusterOptions{frontends: 3, backends: 3})
	c.MustExec(0, "CREATE DATABASE d", createT)
	leader := c.Leader(0)
	require.GreaterOrEqual(t, leader, 0)
	body, sum := rowsCSV(0, 500)
	res, err := c.StreamLoad(leader, "d", "t", "tpc", body, "two_phase_commit: true")
	require.NoError(t, err)
	require.Equal(t, "Success", res["Status"], "%v", res)
	txnID := fmt.Sprint(int64(res["TxnId"].(float64)))
	n, err := c.QueryInt(leader, "SELECT count(*) FROM d.t")
	require.NoError(t, err)
	require.Zero(t, n, "a precommitted load is visible")

	c.FEs[leader].kill9()
	other := (leader + 1) % 3
	var out string
	require.Eventually(t, func() bool {
		out, err = curl("-X", "PUT", "--location-trusted", "-u", "root:", "-H", "txn_id: "+txnID, "-H", "txn_operation: commit",
			fmt.Sprintf("http://127.0.0.1:%d/api/d/_stream_load_2pc", c.FEs[other].HTTP))
		return err == nil && strings.Contains(out, `"status":"Success"`)
	}, 60*time.Second, 300*time.Millisecond, "commit after the leader died: %s %v", out, err)
	for i := range c.FEs {
		if i == leader {
			continue
		}
		c.WaitInt(i, "SELECT count(*) FROM d.t", 500)
		s, err := c.QueryInt(i, "SELECT sum(n) FROM d.t")
		require.NoError(t, err)
		require.Equal(t, sum, s)
		nl := c.Leader(i)
		require.NotEqual(t, leader, nl)
		require.GreaterOrEqual(t, nl, 0)
	}
	// The new leader runs DDL.
	c.MustExec(other, "CREATE TABLE d.after (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1", "INSERT INTO d.after VALUES (1)")
	n, err = c.QueryInt(other, "SELECT count(*) FROM d.after")
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
}

// A leader cut off from etcd loses the leadership once its lease lapses;
// a write it attempted while cut off reaches etcd after the partition
// heals and is refused there, because the write is fenced by the old
// leadership; the new leader's view never shows it.
func TestPartitionedLeaderCannotWrite(t *testing.T) {
	c := startCluster(t, clusterOptions{frontends: 2, backends: 1, proxied: []int{0, 1}})
	c.MustExec(0, "CREATE DATABASE d")
	leader := c.Leader(0)
	require.GreaterOrEqual(t, leader, 0)
	other := 1 - leader
	db := c.DB(leader)
	// The connection is opened before the partition (the session needs
	// nothing from etcd to open).
	conn, err := db.Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()

	c.proxies[leader].pause()
	done := make(chan error, 1)
	go func() {
		_, err := conn.ExecContext(t.Context(), "CREATE DATABASE fenced_db")
		done <- err
	}()
	// The other frontend takes over once the old leader's lease lapses.
	require.Eventually(t, func() bool { return c.Leader(other) == other }, 60*time.Second, 200*time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("the partitioned leader answered while cut off from etcd: %v", err)
	default:
	}
	c.proxies[leader].resume()
	select {
	case err := <-done:
		require.Error(t, err, "the deposed leader's write succeeded")
		require.Contains(t, err.Error(), "not the leader")
	case <-time.After(60 * time.Second):
		t.Fatal("the deposed leader's write never returned")
	}
	rows := c.Rows(other, "SHOW DATABASES LIKE 'fenced_db'")
	require.Empty(t, rows, "the deposed leader's write landed")
	// The old leader follows now: its DDL goes to the new leader.
	require.Eventually(t, func() bool { return c.Leader(leader) == other }, 30*time.Second, 200*time.Millisecond)
	c.MustExec(leader, "CREATE DATABASE after_heal")
	require.Len(t, c.Rows(other, "SHOW DATABASES LIKE 'after_heal'"), 1)
}

// replicasByBackend counts the replicas SHOW TABLETS places on each
// backend (by backend id).
func replicasByBackend(c *Cluster, fe int, table string) map[string]int {
	out := map[string]int{}
	for _, r := range c.Rows(fe, "SHOW TABLETS FROM "+table) {
		out[r[2]]++
	}
	return out
}

// backendID is the id SHOW BACKENDS gives the backend on rpc port port.
func backendID(c *Cluster, fe, port int) string {
	for _, r := range c.Rows(fe, "SHOW BACKENDS") {
		if r[2] == fmt.Sprint(port) {
			return r[0]
		}
	}
	return ""
}

// A backend that joins takes replicas from the others (rebalance); a
// decommissioned one gives all of them away and is dropped; loads and
// queries answer right throughout, and the replicas agree.
func TestRebalanceAndDecommission(t *testing.T) {
	c := startCluster(t, clusterOptions{frontends: 1, backends: 3})
	c.MustExec(0, "CREATE DATABASE d", `CREATE TABLE d.t (k INT, v VARCHAR(10), n BIGINT) DUPLICATE KEY(k)
DISTRIBUTED BY HASH(k) BUCKETS 6 PROPERTIES ("replication_num" = "2")`,
		// Two tables of one colocation group, whose buckets must stay
		// together through the moves.
		`CREATE TABLE d.c1 (k INT, a INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4
PROPERTIES ("replication_num" = "2", "colocate_with" = "g")`,
		`CREATE TABLE d.c2 (k INT, b INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4
PROPERTIES ("replication_num" = "2", "colocate_with" = "g")`,
		"INSERT INTO d.c1 VALUES (1, 10), (2, 20), (3, 30), (4, 40), (5, 50)",
		"INSERT INTO d.c2 VALUES (1, 100), (2, 200), (3, 300), (4, 400), (5, 500)")
	_, err := c.DB(0).Exec(`CREATE TABLE d.c3 (k INT) DISTRIBUTED BY HASH(k) BUCKETS 3 PROPERTIES ("replication_num" = "2", "colocate_with" = "g")`)
	require.ErrorContains(t, err, "Colocate tables must have same bucket num: 3 should be 4")
	_, err = c.DB(0).Exec(`CREATE TABLE d.c3 (k BIGINT) DISTRIBUTED BY HASH(k) BUCKETS 4 PROPERTIES ("replication_num" = "2", "colocate_with" = "g")`)
	require.ErrorContains(t, err, "Colocate tables distribution columns must have the same data type")
	colocated := func() {
		t.Helper()
		// SHOW TABLETS lists replicas by bucket: the group's tables have the
		// same backends, bucket by bucket.
		place := func(table string) []string {
			var out []string
			cur := ""
			var bes []string
			for _, r := range c.Rows(0, "SHOW TABLETS FROM "+table) {
				if r[0] != cur && cur != "" {
					slices.Sort(bes)
					out = append(out, strings.Join(bes, ","))
					bes = nil
				}
				cur = r[0]
				bes = append(bes, r[2])
			}
			slices.Sort(bes)
			return append(out, strings.Join(bes, ","))
		}
		require.Equal(t, place("d.c1"), place("d.c2"))
		require.Equal(t, [][]string{{"1", "10", "100"}, {"5", "50", "500"}},
			c.Rows(0, "SELECT c1.k, a, b FROM d.c1 JOIN d.c2 ON c1.k = c2.k WHERE c1.k IN (1, 5) ORDER BY c1.k"))
	}
	colocated()
	body, sum := rowsCSV(0, 3000)
	res, err := c.StreamLoad(0, "d", "t", "l0", body)
	require.NoError(t, err)
	require.Equal(t, "Success", res["Status"], "%v", res)
	check := func() {
		t.Helper()
		n, err := c.QueryInt(0, "SELECT count(*) FROM d.t")
		require.NoError(t, err)
		require.EqualValues(t, 3000, n)
		s, err := c.QueryInt(0, "SELECT sum(n) FROM d.t")
		require.NoError(t, err)
		require.Equal(t, sum, s)
	}
	// 12 replicas over 3 backends: 4 each. A fourth backend joins.
	be := c.AddBackend()
	c.waitAlive(4)
	id := backendID(c, 0, be.RPC)
	require.NotEmpty(t, id)
	// 28 replicas (12 of t, 8 of each colocated table, which move in
	// pairs) over 4 backends: balanced within a pair.
	all := func() map[string]int {
		out := map[string]int{}
		for _, table := range []string{"d.t", "d.c1", "d.c2"} {
			for be, n := range replicasByBackend(c, 0, table) {
				out[be] += n
			}
		}
		return out
	}
	require.Eventually(t, func() bool {
		byBE := all()
		lo, hi := 1<<30, 0
		for _, n := range byBE {
			lo, hi = min(lo, n), max(hi, n)
		}
		return byBE[id] >= 5 && len(byBE) == 4 && hi-lo <= 2
	}, 90*time.Second, 500*time.Millisecond, "no rebalance onto the new backend: %v", all())
	check()
	colocated()
	requireReplicasAgree(t, c, 0, "d", "t")

	// The first backend is decommissioned: its replicas move away and it
	// leaves the cluster.
	gone := backendID(c, 0, c.BEs[0].RPC)
	c.MustExec(0, fmt.Sprintf(`ALTER SYSTEM DECOMMISSION BACKEND "127.0.0.1:%d"`, c.BEs[0].RPC))
	require.Eventually(t, func() bool {
		return backendID(c, 0, c.BEs[0].RPC) == ""
	}, 120*time.Second, 500*time.Millisecond, "the decommissioned backend was not dropped: %v", replicasByBackend(c, 0, "d.t"))
	require.Zero(t, replicasByBackend(c, 0, "d.t")[gone])
	c.BEs[0].stop()
	check()
	colocated()
	requireReplicasAgree(t, c, 0, "d", "t")
	requireReplicasAgree(t, c, 0, "d", "c2")
	// Loads go on over the three left.
	body2, sum2 := rowsCSV(5000, 100)
	res, err = c.StreamLoad(0, "d", "t", "l1", body2)
	require.NoError(t, err)
	require.Equal(t, "Success", res["Status"], "%v", res)
	n, err := c.QueryInt(0, "SELECT sum(n) FROM d.t")
	require.NoError(t, err)
	require.Equal(t, sum+sum2, n)
}

// Joins across backends give the same answers whichever way they move the
// rows: broadcast, bucket shuffle, partitioned shuffle, or not at all
// (colocated tables); EXPLAIN names the strategy.
func TestJoinStrategiesAcrossBackends(t *testing.T) {
	c := startCluster(t, clusterOptions{frontends: 1, backends: 3})
	c.MustExec(0, "CREATE DATABASE d",
		`CREATE TABLE d.t (k INT, v VARCHAR(10), n BIGINT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 6 PROPERTIES ("replication_num" = "1")`,
		`CREATE TABLE d.u (k INT, v VARCHAR(10), n BIGINT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4 PROPERTIES ("replication_num" = "1")`,
		`CREATE TABLE d.c1 (k INT, v VARCHAR(10), n BIGINT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 6 PROPERTIES ("replication_num" = "2", "colocate_with" = "g")`,
		`CREATE TABLE d.c2 (k INT, v VARCHAR(10), n BIGINT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 6 PROPERTIES ("replication_num" = "2", "colocate_with" = "g")`)
	// t: keys 0..2999; u and c2: keys 1000..3999 (n = 2k); c1: as t.
	for i, load := range []struct {
		table    string
		from, to int
	}{{"t", 0, 3000}, {"u", 1000, 4000}, {"c1", 0, 3000}, {"c2", 1000, 4000}} {
		body, _ := rowsCSV(load.from, load.to-load.from)
		res, err := c.StreamLoad(0, "d", load.table, fmt.Sprintf("j%d", i), body)
		require.NoError(t, err)
		require.Equal(t, "Success", res["Status"], "%v", res)
	}
	// Keys 1000..2999 match: 2000 rows, sum of n on both sides 2*(2k) each.
	var sum int64
	for k := 1000; k < 3000; k++ {
		sum += 4 * int64(k)
	}
	queries := []struct {
		name, sql string
		want      [][]string
		strategy  map[string]string // forced strategy -> EXPLAIN word
	}{
		{"distribution keys", "SELECT count(*), sum(t.n + u.n) FROM d.t JOIN d.u ON t.k = u.k",
			[][]string{{"2000", fmt.Sprint(sum)}},
			map[string]string{"BROADCAST": "BROADCAST", "SHUFFLE": "PARTITIONED", "BUCKET": "BUCKET_SHUFFLE"}},
		{"other keys", "SELECT count(*), sum(t.n + u.n) FROM d.t JOIN d.u ON t.n = u.n",
			[][]string{{"2000", fmt.Sprint(sum)}},
			map[string]string{"BROADCAST": "BROADCAST", "SHUFFLE": "PARTITIONED"}},
		{"left join", "SELECT count(*), count(u.k) FROM d.t LEFT JOIN d.u ON t.k = u.k",
			[][]string{{"3000", "2000"}},
			map[string]string{"BROADCAST": "BROADCAST", "SHUFFLE": "PARTITIONED", "BUCKET": "BUCKET_SHUFFLE"}},
		{"colocated", "SELECT count(*), sum(c1.n + c2.n) FROM d.c1 JOIN d.c2 ON c1.k = c2.k",
			[][]string{{"2000", fmt.Sprint(sum)}},
			map[string]string{"COLOCATE": "COLOCATE", "BROADCAST": "BROADCAST", "SHUFFLE": "PARTITIONED"}},
		{"grouped", "SELECT t.v, count(*) FROM d.t JOIN d.u ON t.k = u.k GROUP BY t.v ORDER BY t.v",
			groupedWant(), map[string]string{"SHUFFLE": "PARTITIONED", "BUCKET": "BUCKET_SHUFFLE"}},
	}
	db := c.DB(0)
	conn, err := db.Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()
	rowsOf := func(q string) [][]string {
		t.Helper()
		rows, err := conn.QueryContext(t.Context(), q)
		require.NoError(t, err, q)
		defer rows.Close()
		cols, _ := rows.Columns()
		var out [][]string
		for rows.Next() {
			vals := make([]any, len(cols))
			strs := make([]string, len(cols))
			for i := range vals {
				vals[i] = &strs[i]
			}
			require.NoError(t, rows.Scan(vals...))
			out = append(out, strs)
		}
		require.NoError(t, rows.Err())
		return out
	}
	for _, mode := range []string{"AUTO", "BROADCAST", "SHUFFLE", "BUCKET", "COLOCATE"} {
		_, err := conn.ExecContext(t.Context(), "SET strata_join_strategy = '"+mode+"'")
		require.NoError(t, err)
		for _, q := range queries {
			require.Equal(t, q.want, rowsOf(q.sql), "%s, %s", q.name, mode)
			if word, ok := q.strategy[mode]; ok {
				plan := strings.Join(func() []string {
					var out []string
					for _, r := range rowsOf("EXPLAIN " + q.sql) {
						out = append(out, r[0])
					}
					return out
				}(), "\n")
				require.Contains(t, plan, "("+word+")", "%s, %s:\n%s", q.name, mode, plan)
			}
		}
	}
}

// groupedWant is the answer of the grouped join: keys 1000..2999 by k%7.
func groupedWant() [][]string {
	counts := map[string]int{}
	for k := 1000; k < 3000; k++ {
		counts[fmt.Sprintf("v%d", k%7)]++
	}
	var out [][]string
	for i := 0; i < 7; i++ {
		v := fmt.Sprintf("v%d", i)
		out = append(out, []string{v, fmt.Sprint(counts[v])})
	}
	return out
}

// A materialized view and a heavy schema change are built across the
// backends while loads go on, and read back the same answers.
func TestAlterJobsAcrossBackends(t *testing.T) {
	c := startCluster(t, clusterOptions{frontends: 2, backends: 3})
	c.MustExec(1, "CREATE DATABASE d", createT)
	var sum int64
	for i := 0; i < 3; i++ {
		body, s := rowsCSV(i*1000, 1000)
		res, err := c.StreamLoad(i%2, "d", "t", fmt.Sprintf("a%d", i), body)
		require.NoError(t, err)
		require.Equal(t, "Success", res["Status"], "%v", res)
		sum += s
	}
	c.MustExec(1, "CREATE MATERIALIZED VIEW mv AS SELECT v, sum(n) FROM d.t GROUP BY v")
	body, s := rowsCSV(5000, 500)
	res, err := c.StreamLoad(0, "d", "t", "during", body)
	require.NoError(t, err)
	require.Equal(t, "Success", res["Status"], "%v", res)
	sum += s
	done := func(kind string) func() bool {
		return func() bool {
			rows := c.Rows(0, "SHOW ALTER TABLE "+kind+" FROM d")
			return len(rows) > 0 && strings.Contains(strings.Join(rows[len(rows)-1], " "), "FINISHED")
		}
	}
	require.Eventually(t, done("MATERIALIZED VIEW"), 120*time.Second, 500*time.Millisecond, "%v", c.Rows(0, "SHOW ALTER TABLE MATERIALIZED VIEW FROM d"))
	plan := c.Rows(1, "EXPLAIN SELECT v, sum(n) FROM d.t GROUP BY v")
	require.Contains(t, fmt.Sprint(plan), "t(mv)")
	got, err := c.QueryInt(1, "SELECT sum(s) FROM (SELECT v, sum(n) AS s FROM d.t GROUP BY v) x")
	require.NoError(t, err)
	require.Equal(t, sum, got)
	requireReplicasAgree(t, c, 0, "d", "t")

	// A heavy schema change: n becomes a LARGEINT... widened, converted on
	// every replica.
	c.MustExec(0, "DROP MATERIALIZED VIEW mv ON d.t", "ALTER TABLE d.t MODIFY COLUMN v VARCHAR(20)")
	c.MustExec(0, "ALTER TABLE d.t ORDER BY (k, n, v)")
	require.Eventually(t, done("COLUMN"), 120*time.Second, 500*time.Millisecond, "%v", c.Rows(0, "SHOW ALTER TABLE COLUMN FROM d"))
	for i := range c.FEs {
		c.WaitInt(i, "SELECT count(*) FROM d.t", 3500)
		got, err := c.QueryInt(i, "SELECT sum(n) FROM d.t")
		require.NoError(t, err)
		require.Equal(t, sum, got)
	}
	requireReplicasAgree(t, c, 0, "d", "t")
}

// A load whose backend dies while it runs is aborted by the leader once
// that backend's lease lapses, which frees its label for a retry.
func TestLoadOfDeadBackendAborted(t *testing.T) {
	c := startCluster(t, clusterOptions{frontends: 1, backends: 3})
	c.MustExec(0, "CREATE DATABASE d", createT)
	state := func() string {
		out, err := curl("-u", "root:", fmt.Sprintf("http://127.0.0.1:%d/api/d/get_load_state?label=orphan", c.FEs[0].HTTP))
		require.NoError(t, err)
		return out
	}
	// A load straight to backend 2 whose body never ends: curl reading
	// from a pipe the test keeps open.
	cmd := exec.Command("curl", "-sS", "-u", "root:", "-H", "label: orphan", "-H", "column_separator: ,",
		"-H", "Transfer-Encoding: chunked", "-T", "-", fmt.Sprintf("http://127.0.0.1:%d/api/d/t/_stream_load", c.BEs[2].HTTP))
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	var out testbin.LockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	defer func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	_, err = stdin.Write([]byte("1,a,2\n"))
	require.NoError(t, err)
	var st string
	ok := assertEventually(30*time.Second, func() bool { st = state(); return strings.Contains(st, "PREPARE") })
	require.True(t, ok, "the load did not begin: %s; curl: %s", st, out.String())
	c.BEs[2].kill9()
	require.Eventually(t, func() bool { return strings.Contains(state(), "ABORTED") }, 60*time.Second, 200*time.Millisecond,
		"the dead backend's load was not aborted: %s", state())
	body, _ := rowsCSV(0, 10)
	res, err := c.StreamLoad(0, "d", "t", "orphan", body)
	require.NoError(t, err)
	require.Equal(t, "Success", res["Status"], "%v", res)
}

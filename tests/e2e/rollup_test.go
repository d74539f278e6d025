package e2e

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// routingOff turns the planner's choice of rollups and materialized views
// off for one mysql invocation.
const routingOff = "SET use_rollup = false; "

// TestRollupsAndMaterializedViews: rollups and materialized views of a
// duplicate, an aggregate and a merge-on-read unique table, built while
// loads run, then kept through loads, DELETEs, compaction and kill -9
// restarts. After every step each query that an index can answer gives
// the same rows with the planner's index choice on and off, and EXPLAIN
// names the index for the queries that fit one.
func TestRollupsAndMaterializedViews(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	s.MustMySQL(`CREATE DATABASE rv;
CREATE TABLE rv.d (k INT NOT NULL, dt DATE NOT NULL, g INT NOT NULL, v INT, s VARCHAR(8)) DUPLICATE KEY(k)
  PARTITION BY RANGE(dt) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), PARTITION p2 VALUES LESS THAN MAXVALUE)
  DISTRIBUTED BY HASH(k) BUCKETS 3;
CREATE TABLE rv.a (k INT, g INT, v BIGINT SUM, m INT MAX) AGGREGATE KEY(k, g) DISTRIBUTED BY HASH(k) BUCKETS 2;
CREATE TABLE rv.m (k INT, g INT, v INT, s VARCHAR(8)) UNIQUE KEY(k, g) DISTRIBUTED BY HASH(k) BUCKETS 2
  PROPERTIES ("enable_unique_key_merge_on_write" = "false");
CREATE TABLE rv.w (k INT, g INT, v INT, s VARCHAR(8)) UNIQUE KEY(k, g) DISTRIBUTED BY HASH(k) BUCKETS 2`)

	r := rand.New(rand.NewPCG(11, 23))
	var mu sync.Mutex // one INSERT batch generator at a time
	load := func(n int) {
		mu.Lock()
		var d, a, m, w []string
		for i := 0; i < n; i++ {
			v := "NULL"
			if r.IntN(6) > 0 {
				v = fmt.Sprint(r.IntN(2000) - 500)
			}
			d = append(d, fmt.Sprintf("(%d, '2024-0%d-%02d', %d, %s, 's%d')", r.IntN(1_000_000), 1+r.IntN(3), 1+r.IntN(28), r.IntN(8), v, r.IntN(40)))
			a = append(a, fmt.Sprintf("(%d, %d, %d, %d)", r.IntN(300), r.IntN(8), r.IntN(100), r.IntN(1000)))
			m = append(m, fmt.Sprintf("(%d, %d, %d, 's%d')", r.IntN(300), r.IntN(8), r.IntN(100), r.IntN(40)))
			w = append(w, fmt.Sprintf("(%d, %d, %d, 's%d')", r.IntN(300), r.IntN(8), r.IntN(100), r.IntN(40)))
		}
		mu.Unlock()
		s.MustMySQL("INSERT INTO rv.d VALUES " + strings.Join(d, ", ") + "; INSERT INTO rv.a VALUES " + strings.Join(a, ", ") +
			"; INSERT INTO rv.m VALUES " + strings.Join(m, ", ") + "; INSERT INTO rv.w VALUES " + strings.Join(w, ", "))
	}
	for i := 0; i < 8; i++ {
		load(200)
	}

	// Build the indexes while loads keep coming.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				load(50)
			}
		}
	}()
	s.MustMySQL(`CREATE MATERIALIZED VIEW rv.mv_g AS SELECT g, dt, sum(v), count(v), count(*), max(v), min(v),
  bitmap_union(to_bitmap(k)), hll_union(hll_hash(s)) FROM rv.d GROUP BY g, dt;
ALTER TABLE rv.d ADD ROLLUP r_s(s, g, v);
CREATE MATERIALIZED VIEW rv.mv_a AS SELECT g, sum(v), max(m) FROM rv.a GROUP BY g;
ALTER TABLE rv.m ADD ROLLUP r_m(g, k, v);
ALTER TABLE rv.w ADD ROLLUP r_w(g, k, v)`)
	require.Eventually(t, func() bool {
		out := s.MustMySQL("SHOW ALTER TABLE ROLLUP FROM rv")
		return strings.Count(out, "\tFINISHED\t") == 5
	}, 2*time.Minute, 200*time.Millisecond, "jobs: %s", s.MustMySQL("SHOW ALTER TABLE ROLLUP FROM rv"))
	close(stop)
	wg.Wait()

	queries := []struct {
		sql   string
		index string // EXPLAIN names it; "" when no index fits
	}{
		{"SELECT g, dt, sum(v), count(v), count(*), max(v), min(v) FROM rv.d GROUP BY g, dt", "mv_g"},
		{"SELECT g, count(DISTINCT k), approx_count_distinct(s) FROM rv.d WHERE dt >= '2024-02-01' GROUP BY g", "mv_g"},
		{"SELECT sum(v), count(*) FROM rv.d WHERE g = 3", "mv_g"},
		{"SELECT s, g, v FROM rv.d WHERE s = 's7'", "r_s"},
		{"SELECT g, sum(v) FROM rv.d WHERE s = 's3' GROUP BY g", "r_s"},
		{"SELECT k, v FROM rv.d WHERE g = 2 AND v > 100", ""},
		{"SELECT g, sum(v), max(m) FROM rv.a GROUP BY g", "mv_a"},
		{"SELECT k, g, v, m FROM rv.a WHERE k < 50", ""},
		{"SELECT g, k, v FROM rv.m WHERE g = 4", "r_m"},
		{"SELECT k, g, v, s FROM rv.m WHERE k < 30", ""},
		{"SELECT g, k, v FROM rv.w WHERE g = 4", "r_w"},
		{"SELECT g, count(*), sum(v) FROM rv.w WHERE g IN (1, 6) GROUP BY g", "r_w"},
	}
	sortLines := func(out string) string {
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		slices.Sort(lines)
		return strings.Join(lines, "\n")
	}
	check := func(step string) {
		t.Helper()
		for _, q := range queries {
			on := sortLines(s.MustMySQL(q.sql))
			off := sortLines(s.MustMySQL(routingOff + q.sql))
			require.Equal(t, off, on, "%s: %s", step, q.sql)
			require.NotEmpty(t, on, "%s: %s", step, q.sql)
			plan := s.MustMySQL("EXPLAIN " + q.sql)
			if q.index != "" {
				require.Contains(t, plan, "("+q.index+")", "%s: EXPLAIN %s", step, q.sql)
			}
			offPlan := s.MustMySQL(routingOff + "EXPLAIN " + q.sql)
			for _, ix := range []string{"mv_g", "r_s", "mv_a", "r_m", "r_w"} {
				require.NotContains(t, offPlan, "("+ix+")", "%s: routing off: EXPLAIN %s", step, q.sql)
			}
		}
	}
	check("built")

	for i := 0; i < 12; i++ { // enough loads for compactions
		load(100)
	}
	check("loads")
	s.MustMySQL("DELETE FROM rv.d WHERE g = 5; DELETE FROM rv.a WHERE g = 1; DELETE FROM rv.m WHERE g = 2; DELETE FROM rv.w WHERE k < 40")
	check("deletes")
	s.MustMySQL("UPDATE rv.w SET v = v + 1000 WHERE g = 4")
	check("update")
	load(100)
	s.Kill9()
	s.Restart()
	check("restart")
	for i := 0; i < 6; i++ {
		load(100)
	}
	s.Kill9()
	s.Restart()
	load(50)
	check("second restart")
	require.NotContains(t, s.logs.String(), "panic")
}

// TestHeavySchemaChangeE2E: MODIFY COLUMN to another type on a duplicate
// and a merge-on-write table while a two-phase load has its body open
// and other loads keep coming, with a kill -9 in the middle: the jobs wait
// for the open load, finish, and every row loaded is there once in the
// new schema.
func TestHeavySchemaChangeE2E(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	s.MustMySQL(`CREATE DATABASE db;
CREATE TABLE db.hd (id BIGINT, name VARCHAR(32), age INT, ts BIGINT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 3;
CREATE TABLE db.hu (id BIGINT, name VARCHAR(32), age INT, ts BIGINT) UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 3`)
	c := newConnector(t, s)
	load := func(table, label string, body []byte) {
		t.Helper()
		requireSuccess(t, c.load("db", table, body, true, "label: "+label, "format: json", "read_json_by_line: true"))
	}
	dupIDs, uniq := 0, map[int]bool{}
	for i := 0; i < 5; i++ {
		load("hd", fmt.Sprintf("hd_base_%d", i), jsonRows(i*200, 200))
		load("hu", fmt.Sprintf("hu_base_%d", i), jsonRows(i*100, 200)) // overlapping ids: upserts
		dupIDs += 200
		for id := i * 100; id < i*100+200; id++ {
			uniq[id] = true
		}
	}
	open := startLoad(t, c, "hd", "hd_open", jsonRows(5000, 50))
	s.MustMySQL("ALTER TABLE db.hd MODIFY COLUMN age BIGINT; ALTER TABLE db.hu MODIFY COLUMN age BIGINT")
	state := func(table string) string {
		out := s.MustMySQL(fmt.Sprintf("SHOW ALTER TABLE COLUMN FROM db WHERE TableName = '%s' ORDER BY CreateTime DESC LIMIT 1", table))
		f := strings.Split(out, "\t")
		require.Len(t, f, 13, out)
		return f[9]
	}
	time.Sleep(time.Second)
	require.Equal(t, "WAITING_TXN", state("hd"), "the job waits for the open load")

	// Loads while the jobs run, and a crash.
	for i := 0; i < 4; i++ {
		load("hd", fmt.Sprintf("hd_mid_%d", i), jsonRows(10000+i*100, 100))
		load("hu", fmt.Sprintf("hu_mid_%d", i), jsonRows(300+i*150, 100))
		dupIDs += 100
		for id := 300 + i*150; id < 400+i*150; id++ {
			uniq[id] = true
		}
	}
	open.send(jsonRows(5050, 50))
	res := open.finish()
	requireSuccess(t, res)
	rep := c.commit("db", res.num("TxnId"))
	require.Equal(t, "Success", rep["status"], "%v", rep)
	dupIDs += 100
	s.Kill9()
	s.Restart()
	load("hu", "hu_after", jsonRows(900, 300))
	for id := 900; id < 1200; id++ {
		uniq[id] = true
	}
	require.Eventually(t, func() bool { return state("hd") == "FINISHED" && state("hu") == "FINISHED" },
		time.Minute, 100*time.Millisecond, "%s", s.MustMySQL("SHOW ALTER TABLE COLUMN FROM db"))
	load("hd", "hd_after", jsonRows(20000, 10))
	dupIDs += 10

	for _, table := range []string{"hd", "hu"} {
		require.Contains(t, s.MustMySQL("DESC db."+table), "age\tBIGINT", table)
	}
	require.Equal(t, fmt.Sprint(dupIDs), scalar(t, s, "SELECT count(*) FROM db.hd"))
	require.Equal(t, fmt.Sprint(dupIDs), scalar(t, s, "SELECT count(DISTINCT id) FROM db.hd"))
	require.Equal(t, fmt.Sprint(len(uniq)), scalar(t, s, "SELECT count(*) FROM db.hu"))
	require.Equal(t, fmt.Sprint(len(uniq)), scalar(t, s, "SELECT count(DISTINCT id) FROM db.hu"))
	// Every row holds what its id says (jsonRows: name n<id>, age id%90).
	for _, table := range []string{"hd", "hu"} {
		require.Equal(t, "0", scalar(t, s, fmt.Sprintf("SELECT count(*) FROM db.%s WHERE name <> concat('n', id) OR age <> id %% 90 OR ts <> id", table)), table)
	}
	require.NotContains(t, s.logs.String(), "panic")
}

// TestAlterJobsSurviveKill9: kill -9 while a materialized view and a heavy
// schema change are converting rows; after the restart both jobs finish,
// and every answer is the same with the view and without, and in the new
// schema as before.
func TestAlterJobsSurviveKill9(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	s.MustMySQL(`CREATE DATABASE kj;
CREATE TABLE kj.t (k BIGINT, g INT, v INT, s VARCHAR(16)) DUPLICATE KEY(k)
  PARTITION BY RANGE(g) (PARTITION p0 VALUES LESS THAN (4), PARTITION p1 VALUES LESS THAN MAXVALUE)
  DISTRIBUTED BY HASH(k) BUCKETS 4`)
	c := newConnector(t, s)
	const rows = 300_000
	for part := 0; part < 3; part++ {
		var b strings.Builder
		for i := part * rows / 3; i < (part+1)*rows/3; i++ {
			fmt.Fprintf(&b, "%d,%d,%d,s%d\n", i, i%8, i%1000, i%97)
		}
		requireSuccess(t, c.load("kj", "t", []byte(b.String()), false, "label: kj_"+fmt.Sprint(part), "column_separator: ,"))
	}
	query := "SELECT g, sum(v), count(*), max(v) FROM kj.t GROUP BY g"
	sortLines := func(out string) string {
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		slices.Sort(lines)
		return strings.Join(lines, "\n")
	}
	want := sortLines(s.MustMySQL(query))
	state := func(kind string) string {
		out := s.MustMySQL("SHOW ALTER TABLE " + kind + " FROM kj")
		f := strings.Split(strings.TrimSpace(out), "\t")
		if len(f) < 10 {
			return ""
		}
		if kind == "COLUMN" {
			return f[9]
		}
		return f[8]
	}
	s.MustMySQL("CREATE MATERIALIZED VIEW kj.mv AS SELECT g, sum(v), count(*), max(v) FROM kj.t GROUP BY g")
	require.Eventually(t, func() bool { return state("MATERIALIZED VIEW") == "RUNNING" }, time.Minute, 5*time.Millisecond)
	s.Kill9()
	s.Restart()
	require.Eventually(t, func() bool { return state("MATERIALIZED VIEW") == "FINISHED" }, 2*time.Minute, 50*time.Millisecond)
	require.Contains(t, s.MustMySQL("EXPLAIN "+query), "(mv)")
	require.Equal(t, want, sortLines(s.MustMySQL(query)))
	require.Equal(t, want, sortLines(s.MustMySQL(routingOff+query)))

	s.MustMySQL("ALTER TABLE kj.t MODIFY COLUMN s VARCHAR(16) DEFAULT 'x'")
	require.Eventually(t, func() bool { return state("COLUMN") == "RUNNING" }, time.Minute, 5*time.Millisecond)
	s.Kill9()
	s.Restart()
	require.Eventually(t, func() bool { return state("COLUMN") == "FINISHED" }, 2*time.Minute, 50*time.Millisecond)
	require.Equal(t, want, sortLines(s.MustMySQL(query)))
	require.Equal(t, fmt.Sprint(rows), scalar(t, s, "SELECT count(DISTINCT k) FROM kj.t"))
	require.Equal(t, "0", scalar(t, s, "SELECT count(*) FROM kj.t WHERE s <> concat('s', k % 97)"))
	require.NotContains(t, s.logs.String(), "panic")
}

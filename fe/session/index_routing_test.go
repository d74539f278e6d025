package session

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Queries on a table with a materialized view and a rollup read the index
// that answers them, and give the rows the base gives (use_rollup off),
// through loads and DELETEs. Uses rollupFixture, insertRandom and runJobs
// of rollup_test.go.
func TestQueriesReadIndexes(t *testing.T) {
	e, s := rollupFixture(t)
	insertRandom(t, s, rand.New(rand.NewPCG(21, 22)), 300)
	query(t, s, `CREATE MATERIALIZED VIEW mv1 AS SELECT k2, sum(v), count(v), count(*), max(v), min(d),
		bitmap_union(to_bitmap(k)), hll_union(hll_hash(s)) FROM t GROUP BY k2`)
	query(t, s, "ALTER TABLE t ADD ROLLUP r1(s, k2, v)")

	queries := []struct {
		sql, index string // index: the one EXPLAIN names, "t" for the base
	}{
		{"SELECT k2, sum(v), count(v), count(*), max(v), min(d) FROM t GROUP BY k2", "mv1"},
		{"SELECT k2, count(DISTINCT k), approx_count_distinct(s) FROM t WHERE k2 IN (1, 2) GROUP BY k2", "mv1"},
		{"SELECT count(*), sum(v) FROM t WHERE k2 = 4", "mv1"},
		{"SELECT count(*), count(v) FROM t WHERE k2 = 77", "mv1"},
		{"SELECT s, k2, v FROM t WHERE s = 's7'", "r1"},
		{"SELECT k2, sum(v) FROM t WHERE s = 's3' GROUP BY k2", "r1"},
		{"SELECT k, v FROM t WHERE k2 = 2 AND v > 100", "t"},
		{"SELECT k2, sum(v) FROM t WHERE v > 100 GROUP BY k2", "t"},
	}
	check := func(step string, built bool) {
		t.Helper()
		for _, q := range queries {
			query(t, s, "SET use_rollup = false")
			off := sorted(query(t, s, q.sql))
			plan := strings.Join(query(t, s, "EXPLAIN "+q.sql), "\n")
			require.Contains(t, plan, "TABLE: d.t(t)", "%s: %s", step, q.sql)
			query(t, s, "SET use_rollup = true")
			require.Equal(t, off, sorted(query(t, s, q.sql)), "%s: %s", step, q.sql)
			want := q.index
			if !built {
				want = "t" // SHADOW indexes are not read
			}
			plan = strings.Join(query(t, s, "EXPLAIN "+q.sql), "\n")
			require.Contains(t, plan, "TABLE: d.t("+want+")", "%s: %s", step, q.sql)
		}
	}
	check("building", false)
	runJobs(t, e, 50)
	check("built", true)
	insertRandom(t, s, rand.New(rand.NewPCG(23, 24)), 200)
	query(t, s, "DELETE FROM t WHERE k2 = 3")
	insertRandom(t, s, rand.New(rand.NewPCG(25, 26)), 50)
	check("loads and a delete", true)

	v := query(t, s, "SHOW VARIABLES LIKE 'use_rollup'")
	require.Len(t, v, 1)
	require.True(t, strings.HasPrefix(v[0], "use_rollup\t1\t1\t"), v[0])
}

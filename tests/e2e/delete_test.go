package e2e

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDeleteByCondition: DELETE on a partitioned DUPLICATE KEY table, an
// AGGREGATE KEY table and a merge-on-read UNIQUE KEY table, interleaved
// with loads, through compaction and a kill -9 restart, checked against a
// model after every statement.
func TestDeleteByCondition(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	s.MustMySQL(`CREATE DATABASE dl;
CREATE TABLE dl.d (k INT, dt DATE, s VARCHAR(4), n BIGINT) DUPLICATE KEY(k)
  PARTITION BY RANGE(dt) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), PARTITION p2 VALUES LESS THAN MAXVALUE)
  DISTRIBUTED BY HASH(k) BUCKETS 2;
CREATE TABLE dl.a (k INT, g VARCHAR(2), v BIGINT SUM) AGGREGATE KEY(k, g) DISTRIBUTED BY HASH(k) BUCKETS 2;
CREATE TABLE dl.m (k INT, v INT) UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2
  PROPERTIES ("enable_unique_key_merge_on_write" = "false")`)

	type drow struct {
		k  int
		dt string
		s  *string
		n  int
	}
	var dup []drow
	agg := map[[2]any]int{} // (k, g) -> sum
	mor := map[int]int{}
	r := rand.New(rand.NewPCG(5, 17))
	serial := 0

	render := func() (string, string, string) {
		var d []string
		for _, x := range dup {
			sv := "NULL"
			if x.s != nil {
				sv = *x.s
			}
			d = append(d, fmt.Sprintf("%d\t%s\t%s\t%d", x.k, x.dt, sv, x.n))
		}
		slices.Sort(d)
		var a []string
		for kg, v := range agg {
			a = append(a, fmt.Sprintf("%d\t%s\t%d", kg[0], kg[1], v))
		}
		slices.Sort(a)
		var m []string
		for k, v := range mor {
			m = append(m, fmt.Sprintf("%d\t%d", k, v))
		}
		slices.Sort(m)
		join := func(l []string) string {
			if len(l) == 0 {
				return ""
			}
			return strings.Join(l, "\n") + "\n"
		}
		return join(d), join(a), join(m)
	}
	sorted := func(out string) string {
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if out == "" {
			return ""
		}
		slices.Sort(lines)
		return strings.Join(lines, "\n") + "\n"
	}
	check := func(step string) {
		t.Helper()
		d, a, m := render()
		require.Equal(t, d, sorted(s.MustMySQL("SELECT k, dt, s, n FROM dl.d")), "%s: dup", step)
		require.Equal(t, a, sorted(s.MustMySQL("SELECT k, g, v FROM dl.a")), "%s: agg", step)
		require.Equal(t, m, sorted(s.MustMySQL("SELECT k, v FROM dl.m")), "%s: mor", step)
	}
	load := func() {
		var dv, av, mv []string
		for range 6 {
			serial++
			x := drow{k: r.IntN(20), dt: fmt.Sprintf("2024-0%d-%02d", 1+r.IntN(3), 1+r.IntN(28)), n: serial}
			sv := "NULL"
			if r.IntN(4) > 0 {
				v := string(rune('a' + r.IntN(4)))
				x.s, sv = &v, "'"+v+"'"
			}
			dup = append(dup, x)
			dv = append(dv, fmt.Sprintf("(%d, '%s', %s, %d)", x.k, x.dt, sv, x.n))
			k, g, v := r.IntN(20), string(rune('x'+r.IntN(2))), r.IntN(10)
			agg[[2]any{k, g}] += v
			av = append(av, fmt.Sprintf("(%d, '%s', %d)", k, g, v))
			mk := r.IntN(20)
			mor[mk] = serial
			mv = append(mv, fmt.Sprintf("(%d, %d)", mk, serial))
		}
		s.MustMySQL("INSERT INTO dl.d VALUES " + strings.Join(dv, ", ") + "; INSERT INTO dl.a VALUES " + strings.Join(av, ", ") +
			"; INSERT INTO dl.m VALUES " + strings.Join(mv, ", "))
	}
	del := func() string {
		lo := r.IntN(20)
		hi := lo + r.IntN(4)
		switch r.IntN(5) {
		case 0:
			dup = slices.DeleteFunc(dup, func(x drow) bool { return x.k >= lo && x.k <= hi })
			return fmt.Sprintf("DELETE FROM dl.d WHERE k >= %d AND k <= %d", lo, hi)
		case 1:
			v := string(rune('a' + r.IntN(4)))
			dup = slices.DeleteFunc(dup, func(x drow) bool { return x.dt < "2024-02-15" && x.s != nil && *x.s != v })
			return fmt.Sprintf("DELETE FROM dl.d WHERE dt < '2024-02-15' AND s != '%s'", v)
		case 2:
			dup = slices.DeleteFunc(dup, func(x drow) bool { return x.s == nil || x.dt < "2024-02-01" && x.k == lo })
			return fmt.Sprintf("DELETE FROM dl.d WHERE s IS NULL; DELETE FROM dl.d PARTITION (p1) WHERE k = %d", lo)
		case 3:
			for kg := range agg {
				if kg[0].(int) == lo || kg[0].(int) == hi {
					delete(agg, kg)
				}
			}
			return fmt.Sprintf("DELETE FROM dl.a WHERE k IN (%d, %d)", lo, hi)
		default:
			for k := range mor {
				if !(k < lo || k > hi) {
					delete(mor, k)
				}
			}
			return fmt.Sprintf("DELETE FROM dl.m WHERE NOT (k < %d) AND k <= %d", lo, hi)
		}
	}

	for step := range 40 {
		if step%2 == 0 {
			load()
			check(fmt.Sprintf("step %d: load", step))
			continue
		}
		stmt := del()
		s.MustMySQL(stmt)
		check(fmt.Sprintf("step %d: %s", step, stmt))
		if step == 21 {
			s.Kill9()
			s.Restart()
			check("after kill -9")
		}
	}

	// Compaction merges the versions, deleted rows and all, and the tables
	// still read the same.
	versions := func() int {
		out := s.MustMySQL("SHOW TABLETS FROM dl.d")
		most := 0
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Split(line, "\t")
			n, err := strconv.Atoi(f[14])
			if err == nil {
				most = max(most, n)
			}
		}
		return most
	}
	deadline := time.Now().Add(60 * time.Second)
	for versions() > 6 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	require.LessOrEqual(t, versions(), 6, "compaction did not merge the versions of dl.d")
	check("after compaction")
	s.Kill9()
	s.Restart()
	check("after compaction and kill -9")
	_, err := s.MySQL("DELETE FROM dl.d PARTITION (p9) WHERE k = 1")
	require.ErrorContains(t, err, "Partition does not exist")
}

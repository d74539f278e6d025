package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// An AGGREGATE KEY table with every aggregation, and a merge-on-read
// UNIQUE KEY table, against a running server: many small loads (so that
// compaction merges them), a kill -9 restart, and answers checked against
// a model kept here.
func TestAggregateKeyTable(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	s.MustMySQL(`CREATE DATABASE a;
CREATE TABLE a.agg (
  k INT, d DATE,
  s BIGINT SUM, mn INT MIN, mx VARCHAR(8) MAX, r INT REPLACE, rn INT REPLACE_IF_NOT_NULL,
  u BITMAP BITMAP_UNION, h HLL HLL_UNION
) AGGREGATE KEY(k, d) DISTRIBUTED BY HASH(k) BUCKETS 3;
CREATE TABLE a.mor (k INT, v INT, w VARCHAR(8))
  UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 3
  PROPERTIES ("enable_unique_key_merge_on_write" = "false")`)
	require.Contains(t, s.MustMySQL("SHOW CREATE TABLE a.agg"), "`s` BIGINT SUM NULL")

	type aggRow struct {
		s       int64
		mn      *int64
		mx      *string
		r, rn   *int64
		members map[int64]bool // BITMAP_UNION of to_bitmap(k * 100 + i)
		hashed  map[string]bool
	}
	type key struct {
		k int64
		d string
	}
	model := map[key]*aggRow{}
	morModel := map[int64][2]string{}
	r := rand.New(rand.NewPCG(9, 9))
	dir := t.TempDir()
	ptr := func(v int64) *int64 { return &v }
	nullable := func(v int64) *int64 {
		if r.IntN(5) == 0 {
			return nil
		}
		return ptr(v)
	}
	sqlOf := func(p *int64) string {
		if p == nil {
			return "NULL"
		}
		return fmt.Sprint(*p)
	}
	csvOf := func(p *int64) string {
		if p == nil {
			return `\N`
		}
		return fmt.Sprint(*p)
	}
	// Loads: stream loads of the plain columns, and INSERTs that also feed
	// the sketches.
	for round := range 12 {
		var b strings.Builder
		var ins []string
		for range 40 {
			k := key{r.Int64N(30), fmt.Sprintf("2024-01-%02d", 1+r.IntN(3))}
			sv, mn, r1, rn := r.Int64N(100), nullable(r.Int64N(1000)), nullable(r.Int64N(9)), nullable(r.Int64N(9))
			mx := fmt.Sprintf("m%03d", r.IntN(1000))
			row := model[k]
			if row == nil {
				row = &aggRow{members: map[int64]bool{}, hashed: map[string]bool{}}
				model[k] = row
			}
			row.s += sv
			if mn != nil && (row.mn == nil || *mn < *row.mn) {
				row.mn = mn
			}
			if row.mx == nil || mx > *row.mx {
				row.mx = &mx
			}
			row.r = r1
			if rn != nil {
				row.rn = rn
			}
			if round%2 == 0 {
				fmt.Fprintf(&b, "%d,%s,%d,%s,%s,%s,%s\n", k.k, k.d, sv, csvOf(mn), mx, csvOf(r1), csvOf(rn))
				continue
			}
			m := k.k*100 + r.Int64N(5)
			hv := fmt.Sprintf("h%d", r.IntN(20))
			row.members[m] = true
			row.hashed[hv] = true
			ins = append(ins, fmt.Sprintf("(%d, '%s', %d, %s, '%s', %s, %s, to_bitmap(%d), hll_hash('%s'))",
				k.k, k.d, sv, sqlOf(mn), mx, sqlOf(r1), sqlOf(rn), m, hv))
		}
		if b.Len() > 0 {
			path := filepath.Join(dir, fmt.Sprintf("agg%d.csv", round))
			require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
			res := s.StreamLoad("a", "agg", path, "column_separator: ,", "columns: k,d,s,mn,mx,r,rn")
			require.Equal(t, "Success", res["Status"], "%v", res)
		} else {
			s.MustMySQL("INSERT INTO a.agg VALUES " + strings.Join(ins, ", "))
		}
		// Merge-on-read: upserts and deletes.
		var mb strings.Builder
		for range 20 {
			k := r.Int64N(40)
			v, w := fmt.Sprint(r.IntN(100)), fmt.Sprintf("w%d", r.IntN(100))
			sign := 0
			if r.IntN(6) == 0 {
				sign = 1
				delete(morModel, k)
			} else {
				morModel[k] = [2]string{v, w}
			}
			fmt.Fprintf(&mb, "%d,%s,%s,%d\n", k, v, w, sign)
		}
		path := filepath.Join(dir, fmt.Sprintf("mor%d.csv", round))
		require.NoError(t, os.WriteFile(path, []byte(mb.String()), 0o644))
		res := s.StreamLoad("a", "mor", path, "column_separator: ,", "columns: k,v,w,__DORIS_DELETE_SIGN__")
		require.Equal(t, "Success", res["Status"], "%v", res)
	}

	check := func() {
		t.Helper()
		keys := make([]key, 0, len(model))
		for k := range model {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b key) int {
			if a.k != b.k {
				return int(a.k - b.k)
			}
			return strings.Compare(a.d, b.d)
		})
		var want strings.Builder
		for _, k := range keys {
			row := model[k]
			fmt.Fprintf(&want, "%d\t%s\t%d\t%s\t%s\t%s\t%s\t%d\t%d\n", k.k, k.d, row.s, sqlOf(row.mn), *row.mx, sqlOf(row.r), sqlOf(row.rn),
				len(row.members), len(row.hashed))
		}
		require.Equal(t, want.String(), s.MustMySQL(
			"SELECT k, d, s, mn, mx, r, rn, bitmap_count(u), hll_cardinality(h) FROM a.agg ORDER BY k, d"))
		// Aggregating the folded rows, and a filter on a value column.
		var total int64
		big := 0
		for _, row := range model {
			total += row.s
			if row.s > 150 {
				big++
			}
		}
		require.Equal(t, fmt.Sprintf("%d\t%d\n", len(model), total), s.MustMySQL("SELECT count(*), sum(s) FROM a.agg"))
		require.Equal(t, fmt.Sprintf("%d\n", big), s.MustMySQL("SELECT count(*) FROM a.agg WHERE s > 150"))

		mk := make([]int64, 0, len(morModel))
		for k := range morModel {
			mk = append(mk, k)
		}
		slices.Sort(mk)
		var mw strings.Builder
		for _, k := range mk {
			fmt.Fprintf(&mw, "%d\t%s\t%s\n", k, morModel[k][0], morModel[k][1])
		}
		require.Equal(t, mw.String(), s.MustMySQL("SELECT * FROM a.mor ORDER BY k"))
	}
	check()
	// Text is not a BITMAP: the row is rejected, the server stays up.
	path := filepath.Join(dir, "bitmap.csv")
	require.NoError(t, os.WriteFile(path, []byte("1,2024-01-01,1,1,a,1,1,xyz\n"), 0o644))
	res := s.StreamLoad("a", "agg", path, "column_separator: ,", "columns: k,d,s,mn,mx,r,rn,u")
	require.Equal(t, "Fail", res["Status"], "%v", res)
	require.Equal(t, float64(1), res["NumberFilteredRows"], "%v", res)
	check()
	s.Kill9()
	s.Restart()
	check()
}

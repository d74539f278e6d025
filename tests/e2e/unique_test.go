package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A UNIQUE KEY table (merge-on-write, the default) against a running
// server, through the mysql client and curl: DDL and its metadata, loads
// that upsert and delete, INSERT, and a kill -9 restart; every answer is
// checked against a model kept here.
func TestUniqueKeyTable(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	s.MustMySQL(`CREATE DATABASE u;
CREATE TABLE u.orders (id BIGINT, status VARCHAR(16), amt DECIMAL(10,2), qty INT)
  UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 4`)

	show := s.MustMySQL("SHOW CREATE TABLE u.orders")
	require.Contains(t, show, "UNIQUE KEY(`id`)")
	require.Contains(t, show, `"enable_unique_key_merge_on_write" = "true"`)
	require.NotContains(t, show, "__DORIS_")
	require.Equal(t, "id\nstatus\namt\nqty\n", s.MustMySQL("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'u' AND TABLE_NAME = 'orders' ORDER BY ORDINAL_POSITION"))
	desc := s.MustMySQL("DESC u.orders")
	require.NotContains(t, desc, "__DORIS_DELETE_SIGN__")
	require.Contains(t, s.MustMySQL("SET show_hidden_columns = true; DESC u.orders"), "__DORIS_DELETE_SIGN__")

	// The model: id -> (status, amt in cents, qty).
	type order struct {
		status string
		cents  int64
		qty    int64
	}
	model := map[int64]order{}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(5, 5))
	loadN := 0
	load := func(ids []int64, headers ...string) {
		t.Helper()
		var b strings.Builder
		for _, id := range ids {
			o := order{status: []string{"new", "paid", "shipped"}[r.IntN(3)], cents: r.Int64N(100_000), qty: r.Int64N(50)}
			fmt.Fprintf(&b, "%d,%s,%d.%02d,%d\n", id, o.status, o.cents/100, o.cents%100, o.qty)
			model[id] = o
		}
		loadN++
		path := filepath.Join(dir, fmt.Sprintf("load%d.csv", loadN))
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
		res := s.StreamLoad("u", "orders", path, append([]string{"column_separator: ,"}, headers...)...)
		require.Equal(t, "Success", res["Status"], "%v", res)
	}
	check := func() {
		t.Helper()
		var sum, qty int64
		for _, o := range model {
			sum += o.cents
			qty += o.qty
		}
		want := fmt.Sprintf("%d\t%d.%02d\t%d\n", len(model), sum/100, sum%100, qty)
		require.Equal(t, want, s.MustMySQL("SELECT count(*), sum(amt), sum(qty) FROM u.orders"))
		// Per status, through the parallel aggregation.
		byStatus := map[string]int{}
		for _, o := range model {
			byStatus[o.status]++
		}
		var rows strings.Builder
		for _, st := range []string{"done", "new", "paid", "shipped"} {
			if byStatus[st] > 0 {
				fmt.Fprintf(&rows, "%s\t%d\n", st, byStatus[st])
			}
		}
		require.Equal(t, rows.String(), s.MustMySQL("SELECT status, count(*) FROM u.orders GROUP BY status ORDER BY status"))
	}

	ids := func(lo, hi int64) []int64 {
		var out []int64
		for id := lo; id < hi; id++ {
			out = append(out, id)
		}
		return out
	}
	load(ids(0, 20_000))
	check()
	// Upserts: a tenth of the keys, twice, and some new ones.
	for range 2 {
		var some []int64
		for range 2_000 {
			some = append(some, r.Int64N(25_000))
		}
		load(some)
		check()
	}
	// One load holding a key twice: the later row wins.
	load([]int64{5, 6, 5})
	check()
	// Deletes: merge_type DELETE, and a MERGE whose condition picks rows.
	var gone []int64
	for range 500 {
		id := r.Int64N(20_000)
		gone = append(gone, id)
	}
	load(gone, "merge_type: DELETE")
	for _, id := range gone {
		delete(model, id)
	}
	check()
	mergeIDs := ids(30_000, 30_100)
	load(mergeIDs, "merge_type: MERGE", "delete: qty < 10")
	for _, id := range mergeIDs {
		if model[id].qty < 10 {
			delete(model, id)
		}
	}
	check()
	// INSERT upserts too.
	s.MustMySQL("INSERT INTO u.orders VALUES (1, 'paid', 10.50, 3), (30000000, 'new', 0.01, 1)")
	model[1] = order{"paid", 1050, 3}
	model[30000000] = order{"new", 1, 1}
	check()
	require.Equal(t, "1\tpaid\t10.50\t3\n", s.MustMySQL("SELECT * FROM u.orders WHERE id = 1"))

	// DELETE and UPDATE are loads too.
	s.MustMySQL("DELETE FROM u.orders WHERE id < 100 AND status = 'new'")
	for id, o := range model {
		if id < 100 && o.status == "new" {
			delete(model, id)
		}
	}
	check()
	s.MustMySQL("UPDATE u.orders SET status = 'done', qty = qty + 1 WHERE qty > 45")
	for id, o := range model {
		if o.qty > 45 {
			model[id] = order{"done", o.cents, o.qty + 1}
		}
	}
	check()
	_, err := s.MySQL("UPDATE u.orders SET id = 1 WHERE id = 2")
	require.ErrorContains(t, err, "Only value columns of unique table could be updated")

	s.Kill9()
	s.Restart()
	check()
	load(ids(0, 1_000))
	check()
}

// CREATE TABLE checks of the UNIQUE and AGGREGATE KEY models, with
// Doris's wording.
func TestKeysModelDDLErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	s.MustMySQL("CREATE DATABASE m")
	for _, tc := range []struct{ ddl, msg string }{
		{"CREATE TABLE m.t (k INT, v INT SUM) UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
			"UNIQUE_KEYS table should not specify aggregate type for non-key column[v]"},
		{"CREATE TABLE m.t (k INT, v INT) UNIQUE KEY(k) DISTRIBUTED BY HASH(v) BUCKETS 1",
			"Distribution column[v] is not key column"},
		{"CREATE TABLE m.t (k INT, v INT) UNIQUE KEY(k) DISTRIBUTED BY RANDOM BUCKETS 1",
			"Should not be distributed by random when keys type is unique"},
		{"CREATE TABLE m.t (k INT, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('enable_unique_key_merge_on_write' = 'true')",
			"enable_unique_key_merge_on_write property only support unique key table"},
		{"CREATE TABLE m.t (k INT, v INT) UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('function_column.sequence_col' = 'nope')",
			"The specified sequence column[nope] not exists"},
		{"CREATE TABLE m.t (k INT, v VARCHAR(3)) UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('function_column.sequence_col' = 'v')",
			"Sequence type only support integer types and date types"},
	} {
		out, err := s.MySQL(tc.ddl)
		require.Error(t, err, "%s: %s", tc.ddl, out)
		require.Contains(t, err.Error(), tc.msg, tc.ddl)
	}
}

// TestPartialUpdateSQL: INSERT with enable_unique_key_partial_update
// updates the listed columns of existing keys only, keeps the sequence
// value of the row it updates, appends new keys with defaults, refuses
// them with partial_update_new_key_behavior ERROR, and survives kill -9.
func TestPartialUpdateSQL(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	s.MustMySQL(`CREATE DATABASE pu;
CREATE TABLE pu.t (id BIGINT, name VARCHAR(16), qty INT NOT NULL DEFAULT "0", note VARCHAR(8) DEFAULT 'dflt', seq BIGINT)
  UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 3 PROPERTIES ('function_column.sequence_col' = 'seq');
CREATE TABLE pu.r (id BIGINT, v INT NOT NULL, w INT) UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1;
INSERT INTO pu.r VALUES (1, 1, 1);
INSERT INTO pu.t VALUES (1, 'a', 10, 'n1', 5), (2, 'b', 20, 'n2', 5), (3, 'c', 30, 'n3', 5);`)
	on := "SET enable_unique_key_partial_update = true; "
	s.MustMySQL(on + "INSERT INTO pu.t (id, name) VALUES (1, 'a2'), (2, 'b2'), (4, 'new')")
	rows := func() string { return s.MustMySQL("SELECT * FROM pu.t ORDER BY id") }
	want := "1\ta2\t10\tn1\t5\n2\tb2\t20\tn2\t5\n3\tc\t30\tn3\t5\n4\tnew\t0\tdflt\tNULL\n"
	require.Equal(t, want, rows())
	// A lower sequence value than the row's loses; an equal one wins.
	s.MustMySQL(on + "INSERT INTO pu.t (id, qty, seq) VALUES (1, 99, 4), (3, 33, 5)")
	want = "1\ta2\t10\tn1\t5\n2\tb2\t20\tn2\t5\n3\tc\t33\tn3\t5\n4\tnew\t0\tdflt\tNULL\n"
	require.Equal(t, want, rows())
	// Deleted keys are new keys.
	s.MustMySQL("DELETE FROM pu.t WHERE id = 2")
	_, err := s.MySQL(on + "SET partial_update_new_key_behavior = 'ERROR'; INSERT INTO pu.t (id, name) VALUES (1, 'x'), (2, 'y')")
	require.ErrorContains(t, err, "[E-7003]Can't append new rows in partial update when partial_update_new_key_behavior is ERROR. Row with key=[2] is not in table.")
	_, err = s.MySQL(on + "INSERT INTO pu.t VALUES (5, 'e', 1, 'x', 1)")
	require.ErrorContains(t, err, "You must explicitly specify the columns to be updated when updating partial columns using the INSERT statement.")
	_, err = s.MySQL(on + "INSERT INTO pu.t (name) VALUES ('e')")
	require.ErrorContains(t, err, "Partial update should include all key columns, missing: id")
	want = "1\ta2\t10\tn1\t5\n3\tc\t33\tn3\t5\n4\tnew\t0\tdflt\tNULL\n"
	require.Equal(t, want, rows())
	// A column left out without default or NULL: existing keys only.
	s.MustMySQL(on + "INSERT INTO pu.r (id, w) VALUES (1, 2)")
	_, err = s.MySQL(on + "INSERT INTO pu.r (id, w) VALUES (1, 3), (2, 3)")
	require.ErrorContains(t, err, "the unmentioned column `v` should have default value or be nullable for newly inserted rows in non-strict mode partial update")
	require.Equal(t, "1\t1\t2\n", s.MustMySQL("SELECT * FROM pu.r"))

	s.Kill9()
	s.Restart()
	require.Equal(t, want, rows())
	s.MustMySQL(on + "INSERT INTO pu.t (id, note) VALUES (4, 'after')")
	require.Equal(t, "4\tnew\t0\tafter\tNULL\n", s.MustMySQL("SELECT * FROM pu.t WHERE id = 4"))
}

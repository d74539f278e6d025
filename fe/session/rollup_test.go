package session

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/local"
	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/loader"
	"github.com/strata-db/strata/mysqlproto"
)

// testStores remembers the tablet store of each test engine, for the
// alter jobs' backend.
var testStores sync.Map // *Engine -> *tabletstore.Store

func alterBackend(t *testing.T, e *Engine) AlterBackend {
	t.Helper()
	v, ok := testStores.Load(e)
	require.True(t, ok, "engine without a tablet store")
	tabs := v.(*tabletstore.Store)
	return AlterBackend{Writers: local.Writers{S: tabs}, Rebuild: func(tablet, txn, v int64, _ sink.Placement) error {
		return tabs.PublishRebuild(tablet, txn, v)
	}}
}

// runJobs steps the engine's alter jobs until none is running, or until
// a job is stuck (for a test that expects it to wait) after rounds steps.
func runJobs(t *testing.T, e *Engine, rounds int) {
	t.Helper()
	be := alterBackend(t, e)
	for i := 0; i < rounds; i++ {
		jobs := e.runningJobs()
		if len(jobs) == 0 {
			return
		}
		for _, j := range jobs {
			require.NoError(t, e.stepJob(context.Background(), be, j))
		}
	}
}

// indexCatalog shows one index of a table as the table itself, so a query
// reads the index.
type indexCatalog struct {
	catalogView
	db, table, index string
}

func (c indexCatalog) Table(db, name string) (*catalog.Table, bool) {
	t, ok := c.catalogView.Table(db, name)
	if !ok || db != c.db || name != c.table {
		return t, ok
	}
	ix, found := t.IndexByName(c.index)
	if !found || ix == nil {
		return nil, false
	}
	return t.IndexTable(ix), true
}

// queryIndex runs a query with table db.table read from one of its
// indexes.
func queryIndex(t *testing.T, e *Engine, s *Session, db, table, index, text string) []string {
	t.Helper()
	stmt, err := sql.Parse(text)
	require.NoError(t, err)
	pl := planner.New(s, indexCatalog{catalogView{e.Catalog.Snapshot()}, db, table, index}, e.Tablets)
	plan, err := pl.PlanSelect(stmt.(*sql.SelectStmt), nil)
	require.NoError(t, err, text)
	x, err := pl.Build(plan)
	require.NoError(t, err)
	it, err := newRowIterator(context.Background(), x)
	require.NoError(t, err)
	rows := rowsOf(t, &mysqlproto.Result{Rows: it})
	sort.Strings(rows)
	return rows
}

func sorted(rows []string) []string {
	sort.Strings(rows)
	return rows
}

func TestRollupAndMaterializedView(t *testing.T) {
	e, s := rollupFixture(t)
	insertRandom(t, s, rand.New(rand.NewPCG(1, 2)), 200)
	query(t, s, `CREATE MATERIALIZED VIEW mv1 AS SELECT k2, sum(v), count(v), count(*), max(v), min(v), min(d),
		bitmap_union(to_bitmap(k)), hll_union(hll_hash(s)) FROM t GROUP BY k2`)
	query(t, s, "ALTER TABLE t ADD ROLLUP r1(k2, s, v)")
	tb := table(t, e, "d", "t")
	require.Len(t, tb.Indexes, 2)
	for _, ix := range tb.Indexes {
		require.Equal(t, catalog.IndexShadow, ix.State)
	}
	// Loads after the CREATE write the new indexes; the job converts the
	// rows loaded before.
	insertRandom(t, s, rand.New(rand.NewPCG(3, 4)), 100)
	runJobs(t, e, 50)
	tb = table(t, e, "d", "t")
	for _, ix := range tb.Indexes {
		require.Equal(t, catalog.IndexNormal, ix.State, ix.Name)
	}
	jobs := query(t, s, "SHOW ALTER TABLE ROLLUP")
	require.Len(t, jobs, 2)
	for _, j := range jobs {
		require.Contains(t, j, "\tFINISHED\t")
	}
	require.Len(t, query(t, s, "SHOW ALTER TABLE MATERIALIZED VIEW"), 1)
	require.Len(t, query(t, s, "SHOW ALTER TABLE ROLLUP WHERE RollupIndexName = 'r1'"), 1)
	checkIndexes(t, e, s)

	// More loads, a DELETE on a column both indexes hold, then more.
	insertRandom(t, s, rand.New(rand.NewPCG(5, 6)), 150)
	query(t, s, "DELETE FROM t WHERE k2 = 3")
	insertRandom(t, s, rand.New(rand.NewPCG(7, 8)), 50)
	checkIndexes(t, e, s)

	desc := query(t, s, "DESC t ALL")
	require.Contains(t, strings.Join(desc, "\n"), "mv_bitmap_union_k\tBITMAP")

	query(t, s, "ALTER TABLE t DROP ROLLUP r1")
	query(t, s, "DROP MATERIALIZED VIEW mv1 ON t")
	require.Empty(t, table(t, e, "d", "t").Indexes)
	insertRandom(t, s, rand.New(rand.NewPCG(9, 10)), 10)
}

// checkIndexes compares every index of d.t with what the base gives.
func checkIndexes(t *testing.T, e *Engine, s *Session) {
	t.Helper()
	query(t, s, "SET use_rollup = false")
	want := sorted(query(t, s, `SELECT k2, sum(v), count(v), count(*), max(v), min(v), min(d), bitmap_union_count(to_bitmap(k)), hll_union_agg(hll_hash(s)) FROM t GROUP BY k2`))
	got := queryIndex(t, e, s, "d", "t", "mv1", `SELECT k2, sum(mv_sum_v), sum(mv_count_v), sum(mv_count_star), max(mv_max_v), min(mv_min_v), min(mv_min_d),
		bitmap_union_count(mv_bitmap_union_k), hll_union_agg(mv_hll_union_s) FROM d.t GROUP BY k2`)
	require.Equal(t, want, got)
	want = sorted(query(t, s, "SELECT k2, s, v FROM t"))
	query(t, s, "SET use_rollup = true")
	got = queryIndex(t, e, s, "d", "t", "r1", "SELECT k2, s, v FROM d.t")
	require.Equal(t, want, got)
}

func rollupFixture(t *testing.T) (*Engine, *Session) {
	t.Helper()
	e := newTestEngine(t)
	s := newTestSession(t, e, 1)
	query(t, s, "CREATE DATABASE d")
	query(t, s, "USE d")
	query(t, s, `CREATE TABLE t (k INT NOT NULL, k2 INT NOT NULL, v INT, d DATE, s VARCHAR(8))
		DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 3`)
	return e, s
}

func insertRandom(t *testing.T, s *Session, r *rand.Rand, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("INSERT INTO t VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		v := "NULL"
		if r.IntN(5) > 0 {
			v = fmt.Sprint(r.IntN(1000) - 100)
		}
		fmt.Fprintf(&b, "(%d, %d, %s, '2024-01-%02d', 's%d')", r.IntN(100000), r.IntN(6), v, 1+r.IntN(28), r.IntN(30))
	}
	query(t, s, b.String())
}

// A load that began before the index existed does not write it: the job
// waits for it, then converts its rows too.
func TestRollupWaitsForEarlierLoads(t *testing.T) {
	e, s := rollupFixture(t)
	insertRandom(t, s, rand.New(rand.NewPCG(1, 1)), 20)
	ctx := context.Background()
	load, err := e.Loads.Begin(ctx, loader.BeginRequest{DB: "d", Table: "t", Label: "early", TwoPhaseCommit: true})
	require.NoError(t, err)
	require.NoError(t, load.Write(ctx, rowsOf5(load.Columns(), 5, 1_000_000)))
	query(t, s, "ALTER TABLE t ADD ROLLUP r1(k2, s, v)")
	runJobs(t, e, 5)
	require.Contains(t, query(t, s, "SHOW ALTER TABLE ROLLUP")[0], "\tWAITING_TXN\t")
	_, err = load.Commit(ctx) // precommits
	require.NoError(t, err)
	runJobs(t, e, 5)
	require.Contains(t, query(t, s, "SHOW ALTER TABLE ROLLUP")[0], "\tWAITING_TXN\t")
	require.NoError(t, e.Loads.(loader.TwoPhaseBackend).CommitTxn(ctx, loader.TxnRequest{DB: "d", TxnID: load.TxnID()}))
	runJobs(t, e, 50)
	require.Contains(t, query(t, s, "SHOW ALTER TABLE ROLLUP")[0], "\tFINISHED\t")
	query(t, s, "SET use_rollup = false")
	want := sorted(query(t, s, "SELECT k2, s, v FROM t"))
	require.Len(t, want, 25)
	require.Equal(t, want, queryIndex(t, e, s, "d", "t", "r1", "SELECT k2, s, v FROM d.t"))
}

// rowsOf5 makes n rows of d.t's five columns.
func rowsOf5(cols []catalog.Column, n, k int) []arrow.Array {
	mem := memory.DefaultAllocator
	var out []arrow.Array
	ib := func(f func(i int) int32) arrow.Array {
		b := array.NewInt32Builder(mem)
		for i := 0; i < n; i++ {
			b.Append(f(i))
		}
		return b.NewArray()
	}
	out = append(out, ib(func(i int) int32 { return int32(k + i) }), ib(func(i int) int32 { return int32(i % 3) }), ib(func(i int) int32 { return int32(i) }))
	db := array.NewDate32Builder(mem)
	sb := array.NewStringBuilder(mem)
	for i := 0; i < n; i++ {
		db.Append(arrow.Date32(19000 + i))
		sb.Append(fmt.Sprintf("e%d", i))
	}
	out = append(out, db.NewArray(), sb.NewArray())
	if len(cols) != len(out) {
		panic("rowsOf5: table changed")
	}
	return out
}

func TestRollupErrors(t *testing.T) {
	e, s := rollupFixture(t)
	query(t, s, `CREATE TABLE a (k1 INT, k2 VARCHAR(4), v BIGINT SUM, r INT REPLACE)
		AGGREGATE KEY(k1, k2) DISTRIBUTED BY HASH(k1) BUCKETS 1`)
	query(t, s, `CREATE TABLE u (k INT, v INT) UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1`)
	query(t, s, `CREATE TABLE m (k INT, k2 INT, v INT) UNIQUE KEY(k, k2) DISTRIBUTED BY HASH(k) BUCKETS 1
		PROPERTIES ("enable_unique_key_merge_on_write" = "false")`)
	query(t, s, "ALTER TABLE t ADD ROLLUP r1(k2, v)")
	runJobs(t, e, 50)
	for _, c := range []struct {
		stmt string
		code uint16
		msg  string
	}{
		{"ALTER TABLE t ADD ROLLUP r1(k2, s)", 1105, "Rollup name[r1] already exists"},
		{"ALTER TABLE t ADD ROLLUP t(k2, s)", 1105, "Rollup name[t] already exists"},
		{"ALTER TABLE t ADD ROLLUP r2(k, k2)", 1105, "Rollup contain the columns of the base table in prefix order for duplicate table is useless."},
		{"ALTER TABLE t ADD ROLLUP r2(nope)", 1105, "Column[nope] does not exist in base index"},
		{"ALTER TABLE t ADD ROLLUP r2(k2, k2)", 1060, "Duplicate column name 'k2'"},
		{"ALTER TABLE t ADD ROLLUP r2(v, k2) DUPLICATE KEY(k2)", 1105, "Duplicate keys should be the prefix of rollup columns"},
		{"ALTER TABLE a ADD ROLLUP r2(v, k1)", 1105, "Invalid column order. value should be after key"},
		{"ALTER TABLE a ADD ROLLUP r2(v)", 1105, "No key column is found"},
		{"ALTER TABLE a ADD ROLLUP r2(k2, r)", 1105, "Rollup should contains all keys if there is a REPLACE value"},
		{"ALTER TABLE a ADD ROLLUP r2(k1, k2, v)", 1105, "Rollup contains all keys in base table with same order for aggregation or unique table is useless."},
		{"ALTER TABLE m ADD ROLLUP r2(k2, v)", 1105, "Rollup should contains all unique keys in basetable"},
		{"ALTER TABLE u ADD ROLLUP r2(v, k)", 1105, "Invalid column order. value should be after key"},
		{"ALTER TABLE t DROP ROLLUP nope", 1105, "Rollup index[nope] does not exist in table[t]"},
		{"ALTER TABLE t DROP ROLLUP t", 1105, "Cannot drop base index"},
		{"ALTER TABLE t DROP COLUMN v", 1105, "Can not drop column v: rollup or materialized view r1 uses it"},
		{"ALTER TABLE t ADD ROLLUP r2(k2, s), ADD COLUMN c INT", 1105, "Alter operation SCHEMA_CHANGE conflicts with operation ADD_ROLLUP"},
		{"CREATE MATERIALIZED VIEW mv AS SELECT k2, sum(v) FROM t WHERE v > 1 GROUP BY k2", 1105, "The where clause is not supported"},
		{"CREATE MATERIALIZED VIEW mv AS SELECT k2, sum(v + 1) FROM t GROUP BY k2", 1105, "The materialized view does not support sum(v + 1)"},
		{"CREATE MATERIALIZED VIEW mv AS SELECT k2, v, sum(v) FROM t GROUP BY k2", 1055, "The select expr v is not in the GROUP BY clause"},
		{"CREATE MATERIALIZED VIEW mv AS SELECT sum(v), k2 FROM t GROUP BY k2", 1105, "The aggregate column should be after the single column"},
		{"CREATE MATERIALIZED VIEW mv AS SELECT k2, bitmap_union(to_bitmap(s)) FROM t GROUP BY k2", 1105, "needs an integer column"},
		{"CREATE MATERIALIZED VIEW mv AS SELECT k2, sum(v) FROM t, a GROUP BY k2", 1105, "only supports one table"},
		{"CREATE MATERIALIZED VIEW mv AS SELECT k1, max(v) FROM a GROUP BY k1", 1105, "The aggregation of v in the materialized view must be its aggregation in the table (SUM)"},
		{"CREATE MATERIALIZED VIEW mv AS SELECT k, sum(v) FROM m GROUP BY k", 1105, "can only reorder columns"},
		{"CREATE MATERIALIZED VIEW mv AS SELECT k2, k, v FROM t ORDER BY k", 1105, "The order of columns in order by clause must be same"},
		{"CREATE MATERIALIZED VIEW r1 AS SELECT k2, sum(v) FROM t GROUP BY k2", 1105, "Materialized view[r1] already exists"},
		{"DROP MATERIALIZED VIEW r1 ON t", 1105, "Materialized view [r1] does not exist in table [t]"},
		{"DELETE FROM t WHERE s = 'x'", 1105, "The column s of the DELETE condition is not a column of rollup or materialized view r1"},
		{"CANCEL ALTER TABLE ROLLUP FROM t", 1105, "No job to cancel for Table[t]"},
	} {
		me := alterError(t, s, c.stmt)
		require.Equal(t, c.code, me.Code, "%s: %s", c.stmt, me.Message)
		require.Contains(t, me.Message, c.msg, c.stmt)
	}
	query(t, s, "DROP MATERIALIZED VIEW IF EXISTS nope ON t")
	query(t, s, "CREATE MATERIALIZED VIEW mv2 AS SELECT k2, k, v FROM t ORDER BY k2")
	query(t, s, "CANCEL ALTER TABLE MATERIALIZED VIEW FROM t")
	_, ok := table(t, e, "d", "t").IndexByName("mv2")
	require.False(t, ok, "a cancelled job drops its index")
	require.Contains(t, strings.Join(query(t, s, "SHOW ALTER TABLE MATERIALIZED VIEW"), "\n"), "\tCANCELLED\tuser cancelled\t")
}

// A rollup of a merge-on-write table follows upserts, UPDATE, DELETE and
// partial updates of the base.
func TestRollupMergeOnWrite(t *testing.T) {
	e, s := rollupFixture(t)
	query(t, s, `CREATE TABLE u (k INT NOT NULL, k2 INT NOT NULL, v INT, w VARCHAR(8) DEFAULT 'dw')
		UNIQUE KEY(k, k2) DISTRIBUTED BY HASH(k) BUCKETS 2`)
	r := rand.New(rand.NewPCG(4, 4))
	upsert := func(n int) {
		var vals []string
		for i := 0; i < n; i++ {
			vals = append(vals, fmt.Sprintf("(%d, %d, %d, 'w%d')", r.IntN(60), r.IntN(3), r.IntN(1000), r.IntN(9)))
		}
		query(t, s, "INSERT INTO u VALUES "+strings.Join(vals, ", "))
	}
	upsert(50)
	upsert(50)
	query(t, s, "ALTER TABLE u ADD ROLLUP r(k2, k, v)")
	upsert(40) // written to the index before its conversion
	runJobs(t, e, 50)
	check := func(step string) {
		t.Helper()
		query(t, s, "SET use_rollup = false")
		want := sorted(query(t, s, "SELECT k2, k, v FROM u"))
		query(t, s, "SET use_rollup = true")
		require.Equal(t, want, queryIndex(t, e, s, "d", "u", "r", "SELECT k2, k, v FROM d.u"), step)
	}
	check("built")
	upsert(30)
	query(t, s, "UPDATE u SET v = v + 1 WHERE k2 = 1")
	query(t, s, "DELETE FROM u WHERE k < 10")
	check("update and delete")
	query(t, s, "SET enable_unique_key_partial_update = true")
	query(t, s, "INSERT INTO u (k, k2, v) VALUES (20, 0, -1), (21, 1, -2), (500, 2, -3)")
	query(t, s, "SET enable_unique_key_partial_update = false")
	check("partial update")
	require.Contains(t, query(t, s, "SELECT k, k2, v, w FROM u WHERE k = 500"), "500\t2\t-3\tdw")
}

// Heavy schema changes run as jobs: the rows are converted while loads
// go on, and the table ends with the same rows in the new schema.
func TestHeavySchemaChange(t *testing.T) {
	e, s := rollupFixture(t)
	insertRandom(t, s, rand.New(rand.NewPCG(1, 9)), 120)
	before := sorted(query(t, s, "SELECT k, k2, v, d, s FROM t"))

	query(t, s, "ALTER TABLE t MODIFY COLUMN v BIGINT")
	jobs := query(t, s, "SHOW ALTER TABLE COLUMN")
	require.Len(t, jobs, 1)
	require.Contains(t, jobs[0], "\t__doris_shadow_t\t")
	require.Contains(t, jobs[0], "\tWAITING_TXN\t")
	me := alterError(t, s, "ALTER TABLE t ADD COLUMN x INT")
	require.Equal(t, "Table[t]'s state(SCHEMA_CHANGE) is not NORMAL. Do not allow doing ALTER ops", me.Message)
	require.Equal(t, "INT", table(t, e, "d", "t").Schema.Columns[2].Type.String(), "the base keeps its schema until the job ends")
	// Loads meanwhile write both; queries read the old schema.
	query(t, s, "INSERT INTO t VALUES (1000001, 1, 5, '2024-02-02', 'mid')")
	before = append(before, "1000001\t1\t5\t2024-02-02\tmid")
	runJobs(t, e, 50)
	require.Contains(t, query(t, s, "SHOW ALTER TABLE COLUMN")[0], "\tFINISHED\t")
	tb := table(t, e, "d", "t")
	require.Equal(t, "BIGINT", tb.Schema.Columns[2].Type.String())
	require.Empty(t, tb.Indexes)
	require.Equal(t, sorted(before), sorted(query(t, s, "SELECT k, k2, v, d, s FROM t")))
	query(t, s, "INSERT INTO t VALUES (1000002, 2, 9000000000, '2024-02-03', 'big')")
	require.Equal(t, []string{"9000000000"}, query(t, s, "SELECT v FROM t WHERE k = 1000002"))

	// A key column added, the columns reordered, a key column dropped.
	query(t, s, "ALTER TABLE t ADD COLUMN k3 INT KEY DEFAULT '7' AFTER k")
	runJobs(t, e, 50)
	require.Equal(t, []string{"7"}, query(t, s, "SELECT DISTINCT k3 FROM t"))
	query(t, s, "ALTER TABLE t ORDER BY (k, k3, s, k2, v, d)")
	runJobs(t, e, 50)
	require.Equal(t, []string{"k", "k3", "s", "k2", "v", "d"}, columnNames(table(t, e, "d", "t")))
	query(t, s, "ALTER TABLE t DROP COLUMN k3")
	runJobs(t, e, 50)
	require.Equal(t, sorted(append(before, "1000002\t2\t9000000000\t2024-02-03\tbig")), sorted(query(t, s, "SELECT k, k2, v, d, s FROM t")))

	// A value that does not convert cancels the job; the table is unchanged.
	query(t, s, "INSERT INTO t (k, k2, v, d, s) VALUES (1000003, 1, 1, '2024-02-04', 'abc')")
	query(t, s, "ALTER TABLE t MODIFY COLUMN s INT")
	runJobs(t, e, 50)
	j := query(t, s, "SHOW ALTER TABLE COLUMN WHERE State = 'CANCELLED'")
	require.Len(t, j, 1)
	require.Regexp(t, "the value (abc|s[0-9]+) cannot be converted to INT", j[0])
	require.Equal(t, "VARCHAR(8)", table(t, e, "d", "t").Schema.Columns[1].Type.String())
	require.Empty(t, table(t, e, "d", "t").Indexes)

	// CANCEL ALTER TABLE COLUMN drops the shadow.
	query(t, s, "ALTER TABLE t MODIFY COLUMN k2 BIGINT")
	query(t, s, "CANCEL ALTER TABLE COLUMN FROM t")
	require.Empty(t, table(t, e, "d", "t").Indexes)
	_, k2 := table(t, e, "d", "t").Schema.ColumnByName("k2")
	require.Equal(t, "INT", k2.Type.String())
}

// A heavy schema change of a merge-on-write table keeps one row per key
// through upserts during the job.
func TestHeavySchemaChangeMergeOnWrite(t *testing.T) {
	e, s := rollupFixture(t)
	query(t, s, `CREATE TABLE u (k INT NOT NULL, v INT, w VARCHAR(8)) UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2`)
	r := rand.New(rand.NewPCG(2, 2))
	upsert := func(n int) {
		var vals []string
		for i := 0; i < n; i++ {
			vals = append(vals, fmt.Sprintf("(%d, %d, 'w%d')", r.IntN(80), r.IntN(1000), r.IntN(9)))
		}
		query(t, s, "INSERT INTO u VALUES "+strings.Join(vals, ", "))
	}
	upsert(60)
	upsert(60)
	query(t, s, "ALTER TABLE u MODIFY COLUMN w VARCHAR(8) DEFAULT 'x'")
	upsert(40)
	query(t, s, "DELETE FROM u WHERE k < 5")
	want := sorted(query(t, s, "SELECT k, v, w FROM u"))
	runJobs(t, e, 50)
	require.Contains(t, query(t, s, "SHOW ALTER TABLE COLUMN")[0], "\tFINISHED\t")
	require.Equal(t, want, sorted(query(t, s, "SELECT k, v, w FROM u")))
	upsert(40)
	require.Equal(t, query(t, s, "SELECT count(*) FROM u"), query(t, s, "SELECT count(DISTINCT k) FROM u"))
	query(t, s, "INSERT INTO u (k, v) VALUES (999, 1)")
	require.Equal(t, []string{"x"}, query(t, s, "SELECT w FROM u WHERE k = 999"))
}

// A deleted key's row stays in the converted rows: on a table ordered by
// a sequence column it still beats a later load of the key with a smaller
// sequence value, in the rollup and, after a heavy schema change, in the
// table.
func TestConversionKeepsDeletedKeys(t *testing.T) {
	for _, mow := range []string{"true", "false"} {
		t.Run("merge_on_write="+mow, func(t *testing.T) {
			e, s := rollupFixture(t)
			query(t, s, `CREATE TABLE u (k INT NOT NULL, k2 INT NOT NULL, v INT, sq INT) UNIQUE KEY(k, k2)
				DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ("function_column.sequence_col" = "sq", "enable_unique_key_merge_on_write" = "`+mow+`")`)
			query(t, s, "INSERT INTO u VALUES (1, 0, 10, 10), (2, 0, 20, 10)")
			query(t, s, "INSERT INTO u (k, k2, v, sq, __DORIS_DELETE_SIGN__) VALUES (1, 0, 10, 10, 1)")
			query(t, s, "SET skip_delete_sign = true")
			require.Equal(t, []string{"1\t0\t10\t10\t1", "2\t0\t20\t10\t0"},
				sorted(query(t, s, "SELECT k, k2, v, sq, __DORIS_DELETE_SIGN__ FROM u")))
			query(t, s, "SET skip_delete_sign = false")
			query(t, s, "ALTER TABLE u ADD ROLLUP r(k2, k, v, sq)")
			runJobs(t, e, 50)
			query(t, s, "INSERT INTO u VALUES (1, 0, 99, 5)") // loses to the delete
			require.Equal(t, []string{"0\t2\t20"}, queryIndex(t, e, s, "d", "u", "r", "SELECT k2, k, v FROM d.u"))
			require.Equal(t, []string{"2\t20"}, sorted(query(t, s, "SELECT k, v FROM u WHERE k2 = 0")))

			query(t, s, "ALTER TABLE u DROP ROLLUP r")
			query(t, s, "ALTER TABLE u MODIFY COLUMN v BIGINT")
			runJobs(t, e, 50)
			require.Contains(t, query(t, s, "SHOW ALTER TABLE COLUMN")[0], "\tFINISHED\t")
			query(t, s, "INSERT INTO u VALUES (1, 0, 98, 6)")
			require.Equal(t, []string{"2\t20"}, sorted(query(t, s, "SELECT k, v FROM u")))
		})
	}
}

// Until its job has converted the older rows, an index cannot fill a
// partial update: the update is refused with a clear error, and works
// once the job is done.
func TestPartialUpdateWaitsForJob(t *testing.T) {
	e, s := rollupFixture(t)
	query(t, s, `CREATE TABLE u (k INT NOT NULL, k2 INT NOT NULL, v INT, w VARCHAR(8) DEFAULT 'dw')
		UNIQUE KEY(k, k2) DISTRIBUTED BY HASH(k) BUCKETS 1`)
	query(t, s, "INSERT INTO u VALUES (1, 0, 10, 'old'), (2, 0, 20, 'old')")
	query(t, s, "ALTER TABLE u ADD ROLLUP r(k2, k, w)")
	query(t, s, "SET enable_unique_key_partial_update = true")
	me := alterError(t, s, "INSERT INTO u (k, k2, v) VALUES (1, 0, 11)")
	require.Contains(t, me.Message, "partial update of table u cannot run while the rollup, materialized view or schema change r is being built")
	runJobs(t, e, 50)
	query(t, s, "INSERT INTO u (k, k2, v) VALUES (1, 0, 11)")
	require.Equal(t, []string{"1\t0\t11\told", "2\t0\t20\told"}, sorted(query(t, s, "SELECT k, k2, v, w FROM u")))
	require.Equal(t, []string{"0\t1\told", "0\t2\told"}, queryIndex(t, e, s, "d", "u", "r", "SELECT k2, k, w FROM d.u"))
}

// Columns an ALTER adds never take the id of a materialized view's
// computed column, and changes of a base column reach the index columns
// that keep its type.
func TestIndexColumnIDs(t *testing.T) {
	e, s := rollupFixture(t)
	insertRandom(t, s, rand.New(rand.NewPCG(21, 22)), 30)
	query(t, s, "CREATE MATERIALIZED VIEW mv1 AS SELECT k2, sum(v), max(s) FROM t GROUP BY k2")
	runJobs(t, e, 50)
	query(t, s, "ALTER TABLE t ADD COLUMN x VARCHAR(10)")
	tb := table(t, e, "d", "t")
	_, x := tb.Schema.ColumnByName("x")
	ix, _ := tb.IndexByName("mv1")
	for _, c := range ix.Schema.Columns {
		require.NotEqual(t, x.ID, c.ID, "index column %s", c.Name)
	}
	query(t, s, "ALTER TABLE t RENAME COLUMN x y")
	query(t, s, "ALTER TABLE t MODIFY COLUMN s VARCHAR(20)")
	ix, _ = table(t, e, "d", "t").IndexByName("mv1")
	require.Equal(t, []string{"k2", "mv_sum_v", "mv_max_s"}, columnNames(&catalog.Table{Schema: ix.Schema}))
	require.Equal(t, "VARCHAR(20)", ix.Schema.Columns[2].Type.String())
	query(t, s, "INSERT INTO t (k, k2, v, d, s) VALUES (7, 1, 5, '2024-01-01', 'zzzzzzzzzzzzzzzzzz')")
	require.Equal(t, []string{"1\tzzzzzzzzzzzzzzzzzz"}, query(t, s, "SELECT k2, max(s) FROM t WHERE k2 = 1 GROUP BY k2"))
	require.Contains(t, strings.Join(query(t, s, "EXPLAIN SELECT k2, max(s) FROM t WHERE k2 = 1 GROUP BY k2"), "\n"), "d.t(mv1)")

	query(t, s, "CREATE TABLE l (k INT, v LARGEINT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
	me := alterError(t, s, "ALTER TABLE l MODIFY COLUMN v DECIMAL(38, 0)")
	require.Equal(t, "Can not change LARGEINT to DECIMAL(38, 0)", me.Message)
}

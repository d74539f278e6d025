package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/loader"
	"github.com/strata-db/strata/mysqlproto"
)

// alterFixture creates d.t, a range-partitioned DUPLICATE table with two
// key columns and two value columns, and three rows.
func alterFixture(t *testing.T) (*Engine, *Session) {
	t.Helper()
	e := newTestEngine(t)
	s := newTestSession(t, e, 1)
	query(t, s, "CREATE DATABASE d")
	query(t, s, "USE d")
	query(t, s, `CREATE TABLE t (dt DATE NOT NULL, k INT NOT NULL, v VARCHAR(8) COMMENT 'val', n INT)
		DUPLICATE KEY(dt, k)
		PARTITION BY RANGE(dt) (PARTITION p1 VALUES LESS THAN ("2024-01-01"), PARTITION p2 VALUES LESS THAN MAXVALUE)
		DISTRIBUTED BY HASH(k) BUCKETS 2`)
	query(t, s, "INSERT INTO t VALUES ('2023-05-01', 1, 'a', 10), ('2024-05-01', 2, 'b', 20), ('2024-06-01', 3, NULL, NULL)")
	return e, s
}

func table(t *testing.T, e *Engine, db, name string) *catalog.Table {
	t.Helper()
	tb, err := e.Catalog.Snapshot().Table(db, name)
	require.NoError(t, err)
	return tb
}

// columnIDs maps a table's column names to their ids.
func columnIDs(tb *catalog.Table) map[string]uint32 {
	m := map[string]uint32{}
	for _, c := range tb.Schema.Columns {
		m[c.Name] = c.ID
	}
	return m
}

func columnNames(tb *catalog.Table) []string {
	var out []string
	for _, c := range tb.Schema.Columns {
		out = append(out, c.Name)
	}
	return out
}

// alterError runs a statement that must fail and returns the MySQL error.
func alterError(t *testing.T, s *Session, text string) *mysqlproto.Error {
	t.Helper()
	_, err := s.Query(context.Background(), text)
	require.Error(t, err, text)
	var me *mysqlproto.Error
	require.True(t, errors.As(err, &me), "%s: %T %v", text, err, err)
	return me
}

func TestAlterAddColumn(t *testing.T) {
	e, s := alterFixture(t)
	before := table(t, e, "d", "t")
	require.Equal(t, uint32(5), before.NextColumnID)

	start := time.Now()
	query(t, s, "ALTER TABLE t ADD COLUMN c VARCHAR(4) NOT NULL DEFAULT 'x' COMMENT 'new' AFTER v")
	require.Less(t, time.Since(start), 2*time.Second)
	// The next statement sees the new schema: the ALTER waited for it.
	after := table(t, e, "d", "t")
	require.Equal(t, []string{"dt", "k", "v", "c", "n"}, columnNames(after))
	require.Equal(t, before.Schema.Version+1, after.Schema.Version)
	require.Equal(t, uint32(5), columnIDs(after)["c"])
	require.Equal(t, uint32(6), after.NextColumnID)
	c := after.Schema.Columns[3]
	require.False(t, c.Nullable)
	require.False(t, c.IsKey)
	require.Equal(t, "new", c.Comment)

	// Old rows read the default; new rows store their value.
	query(t, s, "INSERT INTO t (dt, k, v, c, n) VALUES ('2024-07-01', 4, 'd', 'yy', 40)")
	query(t, s, "INSERT INTO t (dt, k) VALUES ('2024-07-02', 5)")
	require.Equal(t, []string{"1\ta\tx\t10", "2\tb\tx\t20", "3\tNULL\tx\tNULL", "4\td\tyy\t40", "5\tNULL\tx\tNULL"},
		query(t, s, "SELECT k, v, c, n FROM t ORDER BY k"))
	require.Equal(t, []string{"2"}, query(t, s, "SELECT count(*) FROM t WHERE c = 'x' AND k < 3"))

	// Several at once, without a default (NULL for old rows), at the end.
	query(t, s, "ALTER TABLE t ADD COLUMN (a BIGINT, b DECIMAL(6, 2) DEFAULT '1.5')")
	after2 := table(t, e, "d", "t")
	require.Equal(t, after.Schema.Version+1, after2.Schema.Version)
	require.Equal(t, []string{"dt", "k", "v", "c", "n", "a", "b"}, columnNames(after2))
	require.Equal(t, uint32(6), columnIDs(after2)["a"])
	require.Equal(t, uint32(7), columnIDs(after2)["b"])
	require.Equal(t, []string{"1\tNULL", "4\tNULL"}, query(t, s, "SELECT k, a FROM t WHERE k IN (1, 4) ORDER BY k"))
	require.Equal(t, []string{"5"}, query(t, s, "SELECT count(*) FROM t WHERE b = 1.5"))

	// A default that is a function of the load time: rows loaded before
	// read NULL, rows loaded after get the time of their load.
	query(t, s, "ALTER TABLE t ADD COLUMN at DATETIME DEFAULT CURRENT_TIMESTAMP")
	query(t, s, "INSERT INTO t (dt, k) VALUES ('2024-07-03', 6)")
	require.Equal(t, []string{"1\ttrue", "6\tfalse"}, query(t, s, "SELECT k, at IS NULL FROM t WHERE k IN (1, 6) ORDER BY k"))
	query(t, s, "ALTER TABLE t DROP COLUMN at")

	// AFTER the last key column puts a value column first among the values.
	query(t, s, "ALTER TABLE t ADD COLUMN f INT AFTER k")
	require.Equal(t, []string{"dt", "k", "f", "v", "c", "n", "a", "b"}, columnNames(table(t, e, "d", "t")))

	// The ways of showing the schema read the new one.
	require.Contains(t, query(t, s, "DESC t"), "c\tVARCHAR(4)\tNo\tfalse\tx\t")
	require.Contains(t, query(t, s, "SHOW FULL COLUMNS FROM t"), "c\tvarchar(4)\tutf8mb4_0900_bin\tNO\t\tx\t\tselect,insert,update,references\tnew")
	require.Equal(t, []string{"c\tx\tnew"}, query(t, s,
		"SELECT COLUMN_NAME, COLUMN_DEFAULT, COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'd' AND TABLE_NAME = 't' AND COLUMN_NAME = 'c'"))
	create := query(t, s, "SHOW CREATE TABLE t")[0]
	require.Contains(t, create, "`c` VARCHAR(4) NOT NULL DEFAULT \"x\" COMMENT \"new\"")
	require.Contains(t, create, "`f` INT NULL,\n  `v`")
}

// Dropping a column and adding one of the same name gives the new column a
// new id: the old values never come back.
func TestAlterDropColumnThenAddSameName(t *testing.T) {
	e, s := alterFixture(t)
	oldID := columnIDs(table(t, e, "d", "t"))["n"]
	v0 := table(t, e, "d", "t").Schema.Version

	query(t, s, "ALTER TABLE t DROP COLUMN n")
	tb := table(t, e, "d", "t")
	require.Equal(t, []string{"dt", "k", "v"}, columnNames(tb))
	require.Equal(t, v0+1, tb.Schema.Version)
	require.Equal(t, []string{"2023-05-01\t1\ta", "2024-05-01\t2\tb", "2024-06-01\t3\tNULL"}, query(t, s, "SELECT * FROM t ORDER BY k"))
	require.Equal(t, uint16(mysqlproto.ER_BAD_FIELD_ERROR), alterError(t, s, "SELECT n FROM t").Code)

	query(t, s, "ALTER TABLE t ADD COLUMN n INT DEFAULT '7'")
	tb = table(t, e, "d", "t")
	require.Equal(t, v0+2, tb.Schema.Version)
	require.Greater(t, columnIDs(tb)["n"], oldID)
	require.Equal(t, []string{"1\t7", "2\t7", "3\t7"}, query(t, s, "SELECT k, n FROM t ORDER BY k"))

	// In one statement too; and the last value columns can all go.
	query(t, s, "ALTER TABLE t DROP COLUMN n, ADD COLUMN n INT")
	tb = table(t, e, "d", "t")
	require.Equal(t, v0+3, tb.Schema.Version)
	require.Equal(t, []string{"1\tNULL", "2\tNULL", "3\tNULL"}, query(t, s, "SELECT k, n FROM t ORDER BY k"))
	query(t, s, "ALTER TABLE t DROP COLUMN n, DROP COLUMN v")
	require.Equal(t, []string{"dt", "k"}, columnNames(table(t, e, "d", "t")))
	require.Equal(t, []string{"3"}, query(t, s, "SELECT count(*) FROM t"))
}

func TestAlterRenameColumn(t *testing.T) {
	e, s := alterFixture(t)
	before := table(t, e, "d", "t")
	ids := columnIDs(before)

	query(t, s, "ALTER TABLE t RENAME COLUMN v vv")
	query(t, s, "ALTER TABLE t RENAME COLUMN k TO kk")   // a key and distribution column
	query(t, s, "ALTER TABLE t RENAME COLUMN dt TO day") // a key and partition column
	tb := table(t, e, "d", "t")
	require.Equal(t, []string{"day", "kk", "vv", "n"}, columnNames(tb))
	require.Equal(t, ids["v"], columnIDs(tb)["vv"])
	require.Equal(t, ids["k"], columnIDs(tb)["kk"])
	require.Equal(t, before.Schema.Version+3, tb.Schema.Version)
	require.Equal(t, before.NextColumnID, tb.NextColumnID)
	require.Equal(t, []string{"day", "kk"}, tb.KeyColumns)
	require.Equal(t, []string{"day"}, tb.PartitionColumns)
	require.Equal(t, []string{"kk"}, tb.Distribution.Columns)

	require.Equal(t, []string{"1\ta", "2\tb", "3\tNULL"}, query(t, s, "SELECT kk, vv FROM t ORDER BY kk"))
	// Loads route by the renamed partition and distribution columns.
	query(t, s, "INSERT INTO t (day, kk, vv) VALUES ('2023-01-01', 9, 'z')")
	require.Equal(t, []string{"1", "9"}, query(t, s, "SELECT kk FROM t WHERE day < '2024-01-01' ORDER BY kk"))
	require.Contains(t, query(t, s, "SHOW CREATE TABLE t")[0], "DUPLICATE KEY(`day`, `kk`)")
}

func TestAlterModifyColumn(t *testing.T) {
	e, s := alterFixture(t)
	v0 := table(t, e, "d", "t").Schema.Version

	// The same definition: nothing to do, in the words Flink CDC looks for.
	me := alterError(t, s, "ALTER TABLE t MODIFY COLUMN v VARCHAR(8) COMMENT 'val'")
	require.Equal(t, "Nothing is changed. please check your alter stmt.", me.Message)
	me = alterError(t, s, "ALTER TABLE t MODIFY COLUMN k INT NOT NULL")
	require.Equal(t, "Nothing is changed. please check your alter stmt.", me.Message)
	me = alterError(t, s, "ALTER TABLE t MODIFY COLUMN n INT DEFAULT NULL AFTER v")
	require.Equal(t, "Nothing is changed. please check your alter stmt.", me.Message)

	// Only the comment: updated, the schema version stays.
	query(t, s, "ALTER TABLE t MODIFY COLUMN v VARCHAR(8) COMMENT 'value'")
	tb := table(t, e, "d", "t")
	require.Equal(t, "value", tb.Schema.Columns[2].Comment)
	require.Equal(t, v0, tb.Schema.Version)
	query(t, s, "ALTER TABLE t MODIFY COLUMN n COMMENT 'number', MODIFY COLUMN k COMMENT 'key'")
	tb = table(t, e, "d", "t")
	require.Equal(t, "number", tb.Schema.Columns[3].Comment)
	require.Equal(t, "key", tb.Schema.Columns[1].Comment)
	query(t, s, "ALTER TABLE t MODIFY COMMENT 'the table'")
	tb = table(t, e, "d", "t")
	require.Equal(t, "the table", tb.Comment)
	require.Equal(t, v0, tb.Schema.Version)
	require.Equal(t, []string{"t\tthe table"}, query(t, s,
		"SELECT TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'd'"))

	// A longer VARCHAR is light; a shorter one is refused as Doris does.
	query(t, s, "ALTER TABLE t MODIFY COLUMN v VARCHAR(16) COMMENT 'value'")
	tb = table(t, e, "d", "t")
	require.Equal(t, "VARCHAR(16)", tb.Schema.Columns[2].Type.String())
	require.Equal(t, v0+1, tb.Schema.Version)
	query(t, s, "INSERT INTO t (dt, k, v) VALUES ('2024-08-01', 8, 'sixteen-chars-ok')")
	require.Equal(t, []string{"sixteen-chars-ok"}, query(t, s, "SELECT v FROM t WHERE k = 8"))
	me = alterError(t, s, "ALTER TABLE t MODIFY COLUMN v VARCHAR(4)")
	require.Equal(t, "Shorten type length is prohibited, srcType=varchar(16), dstType=varchar(4)", me.Message)

	// Changes Doris refuses fail at once, nothing written.
	for _, c := range []struct{ stmt, msg string }{
		{"ALTER TABLE t MODIFY COLUMN n BIGINT NOT NULL DEFAULT '1'", "Can not change from nullable column to not nullable column: n"},
		{"ALTER TABLE t MODIFY COLUMN n INT KEY", "Changing column n into a key column is not supported yet"},
		{"ALTER TABLE t MODIFY COLUMN k BIGINT NOT NULL", "Can not modify partition or distribution column : k"},
		{"ALTER TABLE t MODIFY COLUMN n TINYINT", "Can not change INT to TINYINT"},
		{"ALTER TABLE t MODIFY COLUMN n DATE", "Can not change INT to DATE"},
		{"ALTER TABLE t MODIFY COLUMN v VARCHAR(4) AFTER n", "Shorten type length is prohibited"},
	} {
		me := alterError(t, s, c.stmt)
		require.Contains(t, me.Message, c.msg, c.stmt)
	}
	require.Equal(t, v0+1, table(t, e, "d", "t").Schema.Version)
	require.Empty(t, table(t, e, "d", "t").AlterJobs)
}

func TestAlterErrors(t *testing.T) {
	e, s := alterFixture(t)
	query(t, s, "CREATE TABLE off (k INT, s VARCHAR(4), v INT) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('light_schema_change' = 'false')")
	before := table(t, e, "d", "t")
	for _, tc := range []struct {
		sql  string
		code uint16
		msg  string
	}{
		// Names.
		{"ALTER TABLE nope ADD COLUMN c INT", 1051, "Unknown table 'nope'"},
		{"ALTER TABLE nodb.t ADD COLUMN c INT", 1049, "Unknown database 'nodb'"},
		{"ALTER TABLE information_schema.tables ADD COLUMN c INT", 1044, "Access denied for user 'root'@'127.0.0.1' to database 'information_schema'"},
		// ADD COLUMN.
		{"ALTER TABLE t ADD COLUMN v INT", 1060, "Can not add column which already exists in base table: v"},
		{"ALTER TABLE t ADD COLUMN V INT", 1060, "Can not add column which already exists in base table: V"},
		{"ALTER TABLE t ADD COLUMN v INT AFTER n", 1060, "column v already exists in table t"},
		{"ALTER TABLE t ADD COLUMN c INT, ADD COLUMN c BIGINT", 1060, "Repeatedly add same column with different definition: c"},
		{"ALTER TABLE t ADD COLUMN c INT NOT NULL", 1364, "Field 'c' is not null but doesn't have a default value"},
		{"ALTER TABLE t ADD COLUMN c INT DEFAULT 'abc'", 1105, "Invalid default value for 'c'"},
		{"ALTER TABLE t ADD COLUMN c DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP", 1235, "Adding NOT NULL column c with DEFAULT CURRENT_TIMESTAMP"},
		{"ALTER TABLE t ADD COLUMN c INT NOT NULL DEFAULT NULL", 1105, "Invalid default value for 'c': column is NOT NULL"},
		{"ALTER TABLE t ADD COLUMN c DECIMAL(50, 2)", 1235, "invalid type DECIMAL(50, 2)"},
		{"ALTER TABLE t ADD COLUMN __DORIS_X INT", 1105, "Column name '__DORIS_X' is reserved"},
		{"ALTER TABLE t ADD COLUMN c INT SUM", 1105, "Can not assign aggregation method on column in Duplicate data model table: c"},
		{"ALTER TABLE t ADD COLUMN c INT FIRST", 1105, "Can't add value column c as First column"},
		{"ALTER TABLE t ADD COLUMN c INT AFTER dt", 1105, "can't add value column c before key column k"},
		{"ALTER TABLE t ADD COLUMN c INT KEY AFTER v", 1105, "can't add key column c after value column v"},
		{"ALTER TABLE t ADD COLUMN c INT AFTER nope", 1054, "Column[nope] does not found"},
		{"ALTER TABLE t ADD COLUMN c INT TO r1", 1105, "Index[r1] does not exist in table[t]"},
		// DROP COLUMN.
		{"ALTER TABLE t DROP COLUMN nope", 1091, "Column does not exists: nope"},
		{"ALTER TABLE t DROP COLUMN dt", 1105, "Can not drop partition or distribution column : dt"},
		{"ALTER TABLE t DROP COLUMN K", 1105, "Can not drop partition or distribution column : K"},
		{"ALTER TABLE off DROP COLUMN k", 1105, "Can not drop partition or distribution column : k"},
		{"ALTER TABLE t DROP COLUMN n, DROP COLUMN n", 1091, "Column does not exists: n"},
		// RENAME COLUMN.
		{"ALTER TABLE t RENAME COLUMN v V", 1105, "Same column name"},
		{"ALTER TABLE t RENAME COLUMN v n", 1060, "Column name[n] is already used"},
		{"ALTER TABLE t RENAME COLUMN nope x", 1054, "Column[nope] does not exists"},
		{"ALTER TABLE t RENAME COLUMN v __doris_v", 1105, "Column name '__doris_v' is reserved"},
		{"ALTER TABLE off RENAME COLUMN v w", 1105, "not implemented for table without column unique id, which are created with property 'light_schema_change'."},
		// MODIFY COLUMN.
		{"ALTER TABLE t MODIFY COLUMN nope INT", 1054, "Column[nope] does not exists"},
		{"ALTER TABLE t MODIFY COLUMN n INT AFTER nope", 1054, "Column[nope] does not exists"},
		{"ALTER TABLE t MODIFY COLUMN n INT AFTER n", 1105, "Column[n] modify position is invalid"},
		{"ALTER TABLE t MODIFY COLUMN n INT MAX", 1105, "Can not assign aggregation method on column in Duplicate data model table: n"},
		{"ALTER TABLE t MODIFY COLUMN nope COMMENT 'x'", 1054, "Unknown column: nope"},
		{"ALTER TABLE t MODIFY COLUMN n COMMENT 'x', MODIFY COLUMN n COMMENT 'y'", 1105, "Duplicate column: n"},
		// Combinations Doris refuses, and what is not supported.
		{"ALTER TABLE t RENAME COLUMN v w, RENAME COLUMN n m", 1105, "Alter operation RENAME conflicts with operation RENAME"},
		{"ALTER TABLE t ADD COLUMN c INT, RENAME COLUMN v w", 1105, "Alter operation RENAME conflicts with operation SCHEMA_CHANGE"},
		{"ALTER TABLE t MODIFY COMMENT 'a', MODIFY COLUMN n COMMENT 'b'", 1105, "Alter operation MODIFY_COLUMN_COMMENT conflicts with operation MODIFY_TABLE_COMMENT"},
		{"ALTER TABLE t MODIFY COMMENT 'a', MODIFY COMMENT 'b'", 1105, "Alter operation MODIFY_TABLE_COMMENT conflicts with operation MODIFY_TABLE_COMMENT"},
		{"ALTER TABLE t RENAME t2", 1235, "ALTER TABLE ... RENAME is not supported yet"},
		{"ALTER TABLE t SET ('light_schema_change' = 'false')", 1235, "ALTER TABLE ... SET is not supported yet"},
		// A failing command fails the statement: the earlier ones are not
		// applied either.
		{"ALTER TABLE t ADD COLUMN c1 INT, DROP COLUMN n, ADD COLUMN c2 INT NOT NULL", 1364, "Field 'c2' is not null but doesn't have a default value"},
		{"ALTER TABLE t MODIFY COLUMN n COMMENT 'changed', MODIFY COLUMN nope COMMENT 'x'", 1054, "Unknown column: nope"},
	} {
		me := alterError(t, s, tc.sql)
		require.Equal(t, tc.code, me.Code, "%s: %s", tc.sql, me.Message)
		require.True(t, strings.HasPrefix(me.Message, tc.msg), "%s:\n got %q\nwant %q...", tc.sql, me.Message, tc.msg)
	}
	require.Equal(t, before, table(t, e, "d", "t"), "a refused ALTER changed the table")

	// Comments are metadata even without light schema change.
	query(t, s, "ALTER TABLE off MODIFY COLUMN v COMMENT 'c'")
	query(t, s, "ALTER TABLE off MODIFY COMMENT 'c'")
	query(t, s, "ALTER TABLE off MODIFY COLUMN v INT COMMENT 'd'")
	require.Equal(t, "d", table(t, e, "d", "off").Schema.Columns[2].Comment)
}

// Several sub-commands are one catalog write and one schema version.
func TestAlterSeveralCommands(t *testing.T) {
	e, s := alterFixture(t)
	v0 := table(t, e, "d", "t").Schema.Version
	query(t, s, "ALTER TABLE t ADD COLUMN a INT DEFAULT '1', DROP COLUMN v, ADD COLUMN b VARCHAR(3) DEFAULT 'q' AFTER a, "+
		"MODIFY COLUMN n INT COMMENT 'n!', ADD COLUMN a INT DEFAULT '1'")
	tb := table(t, e, "d", "t")
	require.Equal(t, v0+1, tb.Schema.Version)
	require.Equal(t, []string{"dt", "k", "n", "a", "b"}, columnNames(tb))
	require.Equal(t, "n!", tb.Schema.Columns[2].Comment)
	require.Equal(t, uint32(7), tb.NextColumnID)
	require.Equal(t, []string{"1\t10\t1\tq", "3\tNULL\t1\tq"}, query(t, s, "SELECT k, n, a, b FROM t WHERE k <> 2 ORDER BY k"))
}

// Concurrent ALTERs from several sessions all apply: each is a
// compare-and-swap that retries on the others' writes, and ids stay unique.
func TestAlterConcurrent(t *testing.T) {
	e, _ := alterFixture(t)
	v0 := table(t, e, "d", "t").Schema.Version
	const n = 16
	errc := make(chan error, n)
	for i := range n {
		sess := newTestSession(t, e, uint32(10+i))
		go func() {
			_, err := sess.Query(context.Background(), fmt.Sprintf("ALTER TABLE d.t ADD COLUMN c%d INT", i))
			errc <- err
		}()
	}
	for range n {
		require.NoError(t, <-errc)
	}
	tb := table(t, e, "d", "t")
	require.Len(t, tb.Schema.Columns, 4+n)
	require.Equal(t, v0+n, tb.Schema.Version)
	seen := map[uint32]bool{}
	for _, c := range tb.Schema.Columns {
		require.False(t, seen[c.ID], "id %d used twice", c.ID)
		seen[c.ID] = true
	}
}

// A load that began before the ALTER keeps the schema it began with and
// commits: the column dropped meanwhile is never read again, the column
// added meanwhile reads its default in that load's rows.
func TestAlterDuringLoad(t *testing.T) {
	e, s := alterFixture(t)
	ctx := context.Background()
	load, err := e.Loads.Begin(ctx, loader.BeginRequest{DB: "d", Table: "t", Label: "during_alter", Timeout: time.Minute})
	require.NoError(t, err)
	write := func(rows ...[]string) {
		t.Helper()
		bb, err := loader.NewBatchBuilder(load.Columns(), time.Now())
		require.NoError(t, err)
		for _, r := range rows {
			for i, v := range r {
				require.NoError(t, bb.Set(i, []byte(v)))
			}
			require.NoError(t, bb.EndRow())
		}
		cols := bb.Build()
		require.NoError(t, load.Write(ctx, cols))
		for _, a := range cols {
			a.Release()
		}
	}
	write([]string{"2024-09-01", "10", "x", "100"})
	query(t, s, "ALTER TABLE t ADD COLUMN c VARCHAR(4) DEFAULT 'def', DROP COLUMN n")
	query(t, s, "INSERT INTO t (dt, k, v, c) VALUES ('2024-09-02', 11, 'y', 'new')")
	write([]string{"2024-09-03", "12", "z", "120"})
	_, err = load.Commit(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"1\ta\tdef", "2\tb\tdef", "3\tNULL\tdef", "10\tx\tdef", "11\ty\tnew", "12\tz\tdef"},
		query(t, s, "SELECT k, v, c FROM t ORDER BY k"))
	query(t, s, "ALTER TABLE t ADD COLUMN n INT")
	require.Equal(t, []string{"6"}, query(t, s, "SELECT count(*) FROM t WHERE n IS NULL"))
}

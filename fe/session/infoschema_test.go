package session

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/mysqlproto"
)

// infoSchemaFixture creates d1.t (every kind of column), d1.u and d2.w.
func infoSchemaFixture(t *testing.T) (*Engine, *Session) {
	t.Helper()
	e := newTestEngine(t)
	s := newTestSession(t, e, 1)
	query(t, s, "CREATE DATABASE d1")
	query(t, s, "CREATE DATABASE d2")
	query(t, s, "CREATE TABLE d1.t (k INT NOT NULL COMMENT 'the key', v VARCHAR(32) DEFAULT 'x' COMMENT 'val', "+
		"amount DECIMAL(10, 2), at DATETIME(3), body STRING, flag BOOLEAN, big LARGEINT, day DATE, c CHAR(4), f DOUBLE) "+
		"DUPLICATE KEY(k) COMMENT 'facts' DISTRIBUTED BY HASH(k) BUCKETS 1")
	query(t, s, "CREATE TABLE d1.u (id BIGINT NOT NULL) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1")
	query(t, s, "CREATE TABLE d2.w (id BIGINT NOT NULL) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1")
	return e, s
}

// The statements Flink CDC sends before CREATE TABLE and ADD/DROP/MODIFY
// COLUMN (STREAMLOAD.md §7.4) answer whether the object exists.
func TestInfoSchemaFlinkCDCExistenceQueries(t *testing.T) {
	_, s := infoSchemaFixture(t)
	schemaQ := "SELECT `SCHEMA_NAME` FROM `INFORMATION_SCHEMA`.`SCHEMATA` WHERE SCHEMA_NAME = '%s'"
	require.Equal(t, []string{"d1"}, query(t, s, strings.Replace(schemaQ, "%s", "d1", 1)))
	require.Empty(t, query(t, s, strings.Replace(schemaQ, "%s", "nope", 1)))

	colQ := "SELECT COLUMN_NAME FROM information_schema.`COLUMNS` WHERE TABLE_SCHEMA = 'd1' AND TABLE_NAME = '%t' AND COLUMN_NAME = '%c'"
	q := func(table, col string) string {
		return strings.NewReplacer("%t", table, "%c", col).Replace(colQ)
	}
	require.Equal(t, []string{"v"}, query(t, s, q("t", "v")))
	require.Equal(t, []string{"body"}, query(t, s, q("t", "body")))
	require.Empty(t, query(t, s, q("t", "nope")))
	require.Empty(t, query(t, s, q("u", "v")))
	require.Empty(t, query(t, s, q("nope", "v")))

	// A table created later is found: each query reads the current catalog.
	query(t, s, "CREATE TABLE d1.later (v INT) DISTRIBUTED BY HASH(v) BUCKETS 1")
	require.Equal(t, []string{"v"}, query(t, s, q("later", "v")))
}

func TestInfoSchemaSchemata(t *testing.T) {
	_, s := infoSchemaFixture(t)
	require.Equal(t, []string{
		"internal\td1\tutf8mb4\tutf8mb4_0900_bin\tNULL\tNO",
		"internal\td2\tutf8mb4\tutf8mb4_0900_bin\tNULL\tNO",
		"internal\tinformation_schema\tutf8mb4\tutf8mb4_0900_bin\tNULL\tNO",
		"internal\tmysql\tutf8mb4\tutf8mb4_0900_bin\tNULL\tNO",
	}, query(t, s, "SELECT * FROM information_schema.schemata ORDER BY SCHEMA_NAME"))
	// DataGrip's probe.
	query(t, s, "USE d2")
	require.Equal(t, []string{"d2", "d1", "information_schema", "mysql"},
		query(t, s, "select schema_name from information_schema.schemata order by if(schema() = schema_name, 1, 2), schema_name"))
}

func TestInfoSchemaTables(t *testing.T) {
	e, s := infoSchemaFixture(t)
	require.Equal(t, []string{
		"d1\tt\tBASE TABLE\tDoris\tfacts",
		"d1\tu\tBASE TABLE\tDoris\t",
		"d2\tw\tBASE TABLE\tDoris\t",
	}, query(t, s, "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COMMENT FROM information_schema.tables "+
		"WHERE TABLE_SCHEMA IN ('d1', 'd2') ORDER BY TABLE_SCHEMA, TABLE_NAME"))
	var sysViews []string
	for _, st := range planner.SystemTables("information_schema") {
		sysViews = append(sysViews, st.Name+"\tSYSTEM VIEW")
	}
	require.Contains(t, sysViews, "check_constraints\tSYSTEM VIEW")
	require.Equal(t, sysViews,
		query(t, s, "SELECT table_name, table_type FROM INFORMATION_SCHEMA.TABLES WHERE table_schema = 'information_schema' ORDER BY table_name"))
	// Grafana's schema list.
	require.Equal(t, []string{"d1", "d2"},
		query(t, s, "SELECT DISTINCT TABLE_SCHEMA from information_schema.TABLES where TABLE_TYPE != 'SYSTEM VIEW' ORDER BY TABLE_SCHEMA"))
	// Every one of MySQL's 21 columns is there.
	rs, err := s.Query(context.Background(), "SELECT * FROM information_schema.tables WHERE TABLE_SCHEMA = 'd1' AND TABLE_NAME = 'u'")
	require.NoError(t, err)
	require.Len(t, rs[0].Fields, 21)
	require.Equal(t, "TABLE_CATALOG", rs[0].Fields[0].Name)
	require.Equal(t, "TABLE_COMMENT", rs[0].Fields[20].Name)
	rows := rowsOf(t, rs[0])
	require.Len(t, rows, 1)
	cells := strings.Split(rows[0], "\t")
	require.Equal(t, []string{"internal", "d1", "u", "BASE TABLE", "Doris"}, cells[:5])
	require.Equal(t, "NULL", cells[7], "TABLE_ROWS is unknown")

	// CREATE_TIME is the table's creation time in the session time zone.
	tb, err := e.Catalog.Snapshot().Table("d1", "t")
	require.NoError(t, err)
	query(t, s, "SET time_zone = '+08:00'")
	want := time.UnixMilli(tb.CreateTime).In(time.FixedZone("", 8*3600)).Format(time.DateTime)
	require.Equal(t, []string{want}, query(t, s,
		"SELECT date_format(CREATE_TIME, '%Y-%m-%d %H:%i:%s') FROM information_schema.tables WHERE TABLE_SCHEMA = 'd1' AND TABLE_NAME = 't'"))
}

func TestInfoSchemaColumns(t *testing.T) {
	_, s := infoSchemaFixture(t)
	require.Equal(t, []string{
		"k\t1\tNULL\tNO\tint\tNULL\t10\t0\tNULL\tint(11)\tDUP\tthe key",
		"v\t2\tx\tYES\tvarchar\t32\tNULL\tNULL\tNULL\tvarchar(32)\t\tval",
		"amount\t3\tNULL\tYES\tdecimal\tNULL\t10\t2\tNULL\tdecimal(10,2)\t\t",
		"at\t4\tNULL\tYES\tdatetime\tNULL\tNULL\tNULL\t3\tdatetime(3)\t\t",
		"body\t5\tNULL\tYES\tvarchar\t2147483643\tNULL\tNULL\tNULL\tstring\t\t",
		"flag\t6\tNULL\tYES\ttinyint\tNULL\t3\t0\tNULL\ttinyint(1)\t\t",
		"big\t7\tNULL\tYES\tbigint unsigned\tNULL\t39\t0\tNULL\tlargeint\t\t",
		"day\t8\tNULL\tYES\tdate\tNULL\tNULL\tNULL\tNULL\tdate\t\t",
		"c\t9\tNULL\tYES\tchar\t4\tNULL\tNULL\tNULL\tchar(4)\t\t",
		"f\t10\tNULL\tYES\tdouble\tNULL\t15\tNULL\tNULL\tdouble\t\t",
	}, query(t, s, "SELECT COLUMN_NAME, ORDINAL_POSITION, COLUMN_DEFAULT, IS_NULLABLE, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, "+
		"NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, COLUMN_TYPE, COLUMN_KEY, COLUMN_COMMENT "+
		"FROM information_schema.columns WHERE table_schema = 'd1' AND table_name = 't' ORDER BY ORDINAL_POSITION"))

	// DBeaver reads every column; MySQL's 20 come first, then Doris's four.
	rs, err := s.Query(context.Background(), "SELECT * FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='d1' AND TABLE_NAME='t' ORDER BY ORDINAL_POSITION")
	require.NoError(t, err)
	require.Len(t, rs[0].Fields, 24)
	require.Equal(t, "COLUMN_COMMENT", rs[0].Fields[19].Name)
	rows := rowsOf(t, rs[0])
	require.Len(t, rows, 10)
	require.Equal(t, "internal\td1\tt\tv\t2\tx\tYES\tvarchar\t32\t128\tNULL\tNULL\tNULL\tutf8mb4\tutf8mb4_0900_bin\tvarchar(32)\t\t\tselect,insert,update,references\tval\t32\tNULL\tNULL\tNULL", rows[1])

	// Grafana's column list, with a filter on the type.
	require.Equal(t, []string{"at", "day"}, query(t, s,
		"SELECT column_name FROM information_schema.columns WHERE table_schema = 'd1' AND table_name = 't' "+
			"AND data_type IN ('datetime', 'date') ORDER BY column_name"))

	// Filters on other columns, aggregates and joins go through the planner.
	require.Equal(t, []string{"d1\t11", "d2\t1"}, query(t, s,
		"SELECT TABLE_SCHEMA, count(*) FROM information_schema.columns WHERE TABLE_SCHEMA LIKE 'd%' GROUP BY TABLE_SCHEMA ORDER BY 1"))
	require.Equal(t, []string{"t\tfacts\t10", "u\t\t1"}, query(t, s,
		"SELECT t.TABLE_NAME, t.TABLE_COMMENT, count(*) FROM information_schema.tables t JOIN information_schema.columns c "+
			"ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME WHERE t.TABLE_SCHEMA = 'd1' "+
			"GROUP BY t.TABLE_NAME, t.TABLE_COMMENT ORDER BY 1"))
	require.Equal(t, []string{"k"}, query(t, s,
		"SELECT COLUMN_NAME FROM information_schema.columns WHERE TABLE_SCHEMA = 'd1' AND COLUMN_KEY = 'DUP' LIMIT 1"))

	// information_schema describes itself.
	require.Equal(t, []string{"CATALOG_NAME", "SCHEMA_NAME"}, query(t, s,
		"SELECT COLUMN_NAME FROM information_schema.columns WHERE TABLE_SCHEMA = 'information_schema' AND TABLE_NAME = 'schemata' LIMIT 2"))
}

// Names of information_schema and its tables are case-insensitive, also as
// the current database.
func TestInfoSchemaNames(t *testing.T) {
	_, s := infoSchemaFixture(t)
	for _, q := range []string{
		"SELECT count(*) FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = 'd1'",
		"SELECT count(*) FROM information_schema.`Schemata` WHERE schema_name = 'd1'",
		"SELECT count(*) FROM `information_schema`.schemata s WHERE s.SCHEMA_NAME = 'd1'",
	} {
		require.Equal(t, []string{"1"}, query(t, s, q), q)
	}
	query(t, s, "USE INFORMATION_SCHEMA")
	require.Equal(t, []string{"10"}, query(t, s, "SELECT count(*) FROM columns WHERE TABLE_SCHEMA = 'd1' AND TABLE_NAME = 't'"))
	var sysNames []string
	for _, st := range planner.SystemTables("information_schema") {
		sysNames = append(sysNames, st.Name)
	}
	require.Equal(t, sysNames, query(t, s, "SHOW TABLES"))
	require.Equal(t, []string{"tables\tSYSTEM VIEW"}, query(t, s, "SHOW FULL TABLES FROM information_schema LIKE 'tabl_s'"))
	require.Contains(t, query(t, s, "SHOW DATABASES"), "information_schema")
	require.Contains(t, query(t, s, "DESC schemata"), "SCHEMA_NAME\tVARCHAR(64)\tNo\tfalse\tNULL\t")
	require.Len(t, query(t, s, "SHOW TABLE STATUS FROM information_schema"), len(sysNames))

	_, err := s.Query(context.Background(), "SELECT * FROM information_schema.nope")
	var me *mysqlproto.Error
	require.True(t, errors.As(err, &me), "%v", err)
	require.Equal(t, uint16(1109), me.Code)
	require.Contains(t, me.Message, "Unknown table 'nope' in information_schema")
}

// SHOW FULL COLUMNS has MySQL's column order: Flink CDC reads Field at 0
// and Default at 5.
func TestShowFullColumnsOrder(t *testing.T) {
	_, s := infoSchemaFixture(t)
	rs, err := s.Query(context.Background(), "SHOW FULL COLUMNS FROM `d1`.`t`")
	require.NoError(t, err)
	var names []string
	for _, f := range rs[0].Fields {
		names = append(names, f.Name)
	}
	require.Equal(t, []string{"Field", "Type", "Collation", "Null", "Key", "Default", "Extra", "Privileges", "Comment"}, names)
	rows := rowsOf(t, rs[0])
	v := strings.Split(rows[1], "\t")
	require.Equal(t, "v", v[0])
	require.Equal(t, "x", v[5])
	require.Equal(t, "val", v[8])
}

// EXPLAIN shows the scan of a system table and the predicates it filters by.
func TestInfoSchemaExplain(t *testing.T) {
	_, s := infoSchemaFixture(t)
	got := strings.Join(query(t, s, "EXPLAIN SELECT COLUMN_NAME FROM information_schema.columns WHERE TABLE_SCHEMA = 'd1'"), "\n")
	require.Contains(t, got, "SchemaScanNode TABLE: information_schema.columns")
	require.Contains(t, got, "predicates: (columns.TABLE_SCHEMA = 'd1')")
}

// go-sql-driver sends its arguments through COM_STMT_PREPARE/EXECUTE; the
// equalities on placeholders filter as literals do.
func TestInfoSchemaPrepared(t *testing.T) {
	_, s := infoSchemaFixture(t)
	ctx := context.Background()
	p, err := s.Prepare(ctx, "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION")
	require.NoError(t, err)
	require.Len(t, p.Columns, 2)
	r, err := s.Execute(ctx, p, []any{"d1", "u"})
	require.NoError(t, err)
	require.Equal(t, []string{"id\tbigint"}, rowsOf(t, r))
	r, err = s.Execute(ctx, p, []any{"d2", "w"})
	require.NoError(t, err)
	require.Equal(t, []string{"id\tbigint"}, rowsOf(t, r))
}

// MariaDB Connector/J lists tables with this query (SQL.md §3.2).
func TestInfoSchemaMariaDBTableList(t *testing.T) {
	_, s := infoSchemaFixture(t)
	var want []string
	for _, db := range planner.SystemSchemas() {
		for _, st := range planner.SystemTables(db) {
			want = append(want, db+"\tNULL\t"+st.Name+"\tSYSTEM VIEW")
		}
	}
	want = append(want, "d1\tNULL\tt\tTABLE", "d1\tNULL\tu\tTABLE", "d2\tNULL\tw\tTABLE")
	require.Equal(t, want, query(t, s, "SELECT TABLE_SCHEMA TABLE_CAT, NULL TABLE_SCHEM, TABLE_NAME, IF(TABLE_TYPE='BASE TABLE' or "+
		"TABLE_TYPE='SYSTEM VERSIONED', 'TABLE', IF(TABLE_TYPE='TEMPORARY','LOCAL TEMPORARY', TABLE_TYPE)) as TABLE_TYPE "+
		"FROM INFORMATION_SCHEMA.TABLES ORDER BY TABLE_TYPE, TABLE_SCHEMA, TABLE_NAME"))
}

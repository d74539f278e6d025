package e2e

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
)

// The BI tools' connect and browse sequences (SQL.md §3), replayed through
// the client each tool uses: go-sql-driver/mysql stands in for the JDBC
// drivers (text protocol, as Connector/J and MariaDB Connector/J send
// these statements) and is Grafana's own driver; the mysql CLI is itself.
// Each step says what the tool relies on in the answer.

// biStep is one statement of a tool's sequence and what the tool reads.
type biStep struct {
	sql string
	// cols, when set, are the column names the answer must have.
	cols []string
	// rows, when set, is the whole answer (NULL as "NULL").
	rows [][]string
	// has, when set, is a row the answer must contain.
	has []string
	// check, when set, looks at the answer any other way.
	check func(t *testing.T, cols []string, rows [][]string)
}

// biFixture starts a server with a database app holding a table t and
// returns it with a DSN prefix for go-sql-driver.
func biFixture(t *testing.T) (*Server, string) {
	s := startServer(t, "")
	s.MustMySQL(`CREATE DATABASE app;
		CREATE TABLE app.t (k INT NOT NULL, v VARCHAR(8), d DATETIME, b BOOLEAN) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1;
		INSERT INTO app.t VALUES (1, 'a(b)', '2024-01-02 03:04:05', true), (2, NULL, NULL, NULL)`)
	return s, fmt.Sprintf("root@tcp(127.0.0.1:%d)/", s.Query)
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	// One connection, so session state carries from step to step.
	db.SetMaxOpenConns(1)
	require.NoError(t, db.Ping())
	return db
}

// queryText runs q without arguments (the text protocol) and returns the
// column names and the rows as text.
func queryText(t *testing.T, db *sql.DB, q string) ([]string, [][]string) {
	t.Helper()
	rs, err := db.Query(q)
	require.NoError(t, err, q)
	defer rs.Close()
	return readRows(t, rs, q)
}

func readRows(t *testing.T, rs *sql.Rows, q string) ([]string, [][]string) {
	t.Helper()
	cols, err := rs.Columns()
	require.NoError(t, err, q)
	var out [][]string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rs.Scan(ptrs...), q)
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = "NULL"
			if v.Valid {
				row[i] = v.String
			}
		}
		out = append(out, row)
	}
	require.NoError(t, rs.Err(), q)
	return cols, out
}

func replay(t *testing.T, db *sql.DB, steps []biStep) {
	t.Helper()
	for _, st := range steps {
		if st.cols == nil && st.rows == nil && st.has == nil && st.check == nil {
			_, err := db.Exec(st.sql)
			require.NoError(t, err, st.sql)
			continue
		}
		cols, rows := queryText(t, db, st.sql)
		if st.cols != nil {
			require.Equal(t, st.cols, cols, st.sql)
		}
		if st.rows != nil {
			if len(st.rows) == 0 {
				require.Empty(t, rows, st.sql)
			} else {
				require.Equal(t, st.rows, rows, st.sql)
			}
		}
		if st.has != nil {
			require.Contains(t, rows, st.has, st.sql)
		}
		if st.check != nil {
			st.check(t, cols, rows)
		}
	}
}

func atLeast(n int) func(*testing.T, []string, [][]string) {
	return func(t *testing.T, _ []string, rows [][]string) { require.GreaterOrEqual(t, len(rows), n) }
}

// Connector/J's bulk variable read (8.x against a 5.7 server).
const connectorJVariables = `/* mysql-connector-java-8.0.33 (Revision: 7d6b0800528b6b25c68b52dc10d6c1c8429c100c) */SELECT ` +
	`@@session.auto_increment_increment AS auto_increment_increment, @@character_set_client AS character_set_client, ` +
	`@@character_set_connection AS character_set_connection, @@character_set_results AS character_set_results, ` +
	`@@character_set_server AS character_set_server, @@collation_server AS collation_server, ` +
	`@@collation_connection AS collation_connection, @@init_connect AS init_connect, ` +
	`@@interactive_timeout AS interactive_timeout, @@license AS license, @@lower_case_table_names AS lower_case_table_names, ` +
	`@@max_allowed_packet AS max_allowed_packet, @@net_write_timeout AS net_write_timeout, ` +
	`@@performance_schema AS performance_schema, @@query_cache_size AS query_cache_size, @@query_cache_type AS query_cache_type, ` +
	`@@sql_mode AS sql_mode, @@system_time_zone AS system_time_zone, @@time_zone AS time_zone, ` +
	`@@transaction_isolation AS transaction_isolation, @@wait_timeout AS wait_timeout`

func checkConnectorJVariables(t *testing.T, cols []string, rows [][]string) {
	require.Len(t, cols, 21)
	require.Len(t, rows, 1)
	got := map[string]string{}
	for i, c := range cols {
		got[c] = rows[0][i]
	}
	require.Equal(t, "Apache License, Version 2.0", got["license"])
	require.Equal(t, "0", got["lower_case_table_names"])
	// SELECT @@ reads booleans as 0/1, as MySQL does.
	require.Equal(t, "0", got["performance_schema"])
}

func TestBIDBeaver(t *testing.T) {
	_, dsn := biFixture(t)
	db := openDB(t, dsn+"app")
	meta := "/* ApplicationName=DBeaver 24.0.0 - Metadata */ "
	replay(t, db, []biStep{
		{sql: connectorJVariables, check: checkConnectorJVariables},
		{sql: "SET character_set_results = NULL"},
		{sql: "SET autocommit=1"},
		{sql: "SET sql_mode='STRICT_TRANS_TABLES'"},
		{sql: "SELECT DATABASE()", rows: [][]string{{"app"}}},
		{sql: meta + "SHOW ENGINES", cols: []string{"Engine", "Support", "Comment", "Transactions", "XA", "Savepoints"},
			has: []string{"Olap engine", "DEFAULT", "Default storage engine of Strata", "YES", "NO", "NO"}},
		{sql: meta + "SHOW CHARSET", cols: []string{"Charset", "Description", "Default collation", "Maxlen"},
			has: []string{"utf8mb4", "UTF-8 Unicode", "utf8mb4_0900_bin", "4"}},
		{sql: meta + "SHOW COLLATION", has: []string{"utf8_general_ci", "utf8", "33", "Yes", "Yes", "1"}},
		{sql: "SELECT @@GLOBAL.character_set_server, @@GLOBAL.collation_server", check: atLeast(1)},
		{sql: meta + "SHOW PLUGINS", cols: []string{"Name", "Status", "Type", "Library", "License"},
			has: []string{"mysql_native_password", "ACTIVE", "AUTHENTICATION", "NULL", "GPL"}},
		{sql: "SHOW VARIABLES LIKE 'lower_case_table_names'", rows: [][]string{{"lower_case_table_names", "0", "0", "0"}}},
		{sql: meta + "show databases", has: []string{"app"}},
		// MySQL 5.7 and Doris answer the probe with nothing (their table
		// names differ); DBeaver then skips check constraints. The table
		// itself is there as a SYSTEM VIEW.
		{sql: meta + "SELECT * FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA='information_schema' AND t.TABLE_NAME='CHECK_CONSTRAINTS'",
			rows: [][]string{}},
		{sql: "SELECT TABLE_TYPE FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA='information_schema' AND t.TABLE_NAME='check_constraints'",
			rows: [][]string{{"SYSTEM VIEW"}}},
		{sql: "SELECT * FROM information_schema.CHECK_CONSTRAINTS",
			cols: []string{"CONSTRAINT_CATALOG", "CONSTRAINT_SCHEMA", "CONSTRAINT_NAME", "CHECK_CLAUSE"}, rows: [][]string{}},
		{sql: meta + "SHOW FULL PROCESSLIST", cols: []string{"Id", "User", "Host", "db", "Command", "Time", "State", "Info"},
			check: atLeast(1)},
		{sql: meta + "SHOW PRIVILEGES", cols: []string{"Privilege", "Context", "Comment"},
			has: []string{"Select_priv", "GLOBAL,DATABASE,TABLE", "Privilege for select data in tables"}},
		{sql: meta + "SHOW GRANTS FOR 'admin'@'%'", check: func(t *testing.T, cols []string, rows [][]string) {
			require.Equal(t, []string{"UserIdentity", "Comment", "Password", "Roles", "GlobalPrivs"}, cols[:5])
			require.Equal(t, [][]string{{"'admin'@'%'", "", "No", "admin", "Admin_priv,Grant_priv"}}, [][]string{rows[0][:5]})
		}},
		{sql: meta + "SHOW STATUS", cols: []string{"Variable_name", "Value"}, check: atLeast(1)},
		{sql: meta + "SHOW GLOBAL STATUS", cols: []string{"Variable_name", "Value"}, check: atLeast(1)},
		{sql: meta + "SHOW VARIABLES", check: atLeast(50)},
		{sql: meta + "SHOW GLOBAL VARIABLES", check: atLeast(50)},
		{sql: meta + "SHOW FULL TABLES FROM `app`", rows: [][]string{{"t", "BASE TABLE"}}},
		{sql: meta + "SHOW TABLE STATUS FROM `app`", check: func(t *testing.T, cols []string, rows [][]string) {
			require.Equal(t, "Name", cols[0])
			require.Len(t, rows, 1)
			require.Equal(t, []string{"t", "Doris"}, rows[0][:2])
		}},
		{sql: meta + "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY FROM information_schema.COLUMNS " +
			"WHERE TABLE_SCHEMA='app' AND TABLE_NAME='t' ORDER BY ORDINAL_POSITION", rows: [][]string{
			{"k", "int", "int(11)", "NO", "DUP"}, {"v", "varchar", "varchar(8)", "YES", ""},
			{"d", "datetime", "datetime", "YES", ""}, {"b", "tinyint", "tinyint(1)", "YES", ""}}},
		{sql: "SHOW FUNCTION STATUS WHERE Db LIKE 'app'", cols: []string{"Db", "Name", "Type", "Definer", "Modified", "Created",
			"Security_type", "Comment", "character_set_client", "collation_connection", "Database Collation"}, rows: [][]string{}},
		{sql: meta + "SELECT User, Host, Select_priv, Node_priv, plugin FROM mysql.user ORDER BY user", rows: [][]string{
			{"admin", "%", "Y", "N", "mysql_native_password"}, {"root", "%", "Y", "Y", "mysql_native_password"}}},
		{sql: "SELECT * FROM mysql.procs_priv", cols: []string{"Host", "Db", "User", "Routine_name", "Routine_type",
			"Grantor", "Proc_priv", "Timestamp"}, rows: [][]string{}},
	})
}

func TestBIGrafana(t *testing.T) {
	_, dsn := biFixture(t)
	db := openDB(t, dsn+"?collation=utf8mb4_unicode_ci&parseTime=true&loc=UTC&allowNativePasswords=true")
	replay(t, db, []biStep{
		{sql: "SELECT DISTINCT TABLE_SCHEMA from information_schema.TABLES where TABLE_TYPE != 'SYSTEM VIEW' ORDER BY TABLE_SCHEMA",
			rows: [][]string{{"app"}}},
		{sql: "SELECT table_name FROM information_schema.tables WHERE table_schema = 'app' ORDER BY table_name",
			rows: [][]string{{"t"}}},
		{sql: "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'app' AND table_name = 't' " +
			"AND data_type IN ('datetime','timestamp','date','bigint','int','tinyint','double','float','decimal') ORDER BY column_name",
			rows: [][]string{{"b", "tinyint"}, {"d", "datetime"}, {"k", "int"}}},
	})
	// Macros expanded as Grafana does: $__timeGroupAlias(d,'5m'), and
	// $__timeFilter(d) over 2024-01-02 00:00:00 .. 2024-01-03 00:00:00.
	rs, err := db.Query(`SELECT UNIX_TIMESTAMP(d) DIV 300 * 300 AS "time", count(k) AS value FROM app.t ` +
		`WHERE d BETWEEN FROM_UNIXTIME(1704153600) AND FROM_UNIXTIME(1704240000) GROUP BY 1 ORDER BY 1`)
	require.NoError(t, err)
	cols, rows := readRows(t, rs, "timeGroup")
	rs.Close()
	require.Equal(t, []string{"time", "value"}, cols)
	require.Equal(t, [][]string{{"1704164400", "1"}}, rows)
	// Raw time series with parseTime: DATETIME scans into time.Time; a
	// negative-epoch filter start uses DATE_ADD.
	var ts time.Time
	var v int64
	require.NoError(t, db.QueryRow(`SELECT d AS "time", k AS value FROM app.t WHERE `+
		`d BETWEEN DATE_ADD(FROM_UNIXTIME(0), INTERVAL -3600 SECOND) AND FROM_UNIXTIME(1704240000) ORDER BY d`).Scan(&ts, &v))
	require.Equal(t, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), ts)
	require.Equal(t, int64(1), v)
}

func TestBISuperset(t *testing.T) {
	_, dsn := biFixture(t)
	db := openDB(t, dsn+"app")
	replay(t, db, []biStep{
		{sql: "SHOW VARIABLES LIKE 'sql_mode'", check: atLeast(1)},
		{sql: "SHOW VARIABLES LIKE 'lower_case_table_names'", rows: [][]string{{"lower_case_table_names", "0", "0", "0"}}},
		{sql: "SHOW COLLATION", has: []string{"utf8mb4_general_ci", "utf8mb4", "45", "", "Yes", "1"}},
		{sql: "SELECT @@transaction_isolation", check: atLeast(1)},
		{sql: "SELECT CAST('test plain returns' AS CHAR(60)) AS anon_1", rows: [][]string{{"test plain returns"}}},
		{sql: "SELECT DATABASE()", rows: [][]string{{"app"}}},
		{sql: "SHOW FULL TABLES FROM `app`", rows: [][]string{{"t", "BASE TABLE"}}},
		{sql: "SHOW CREATE TABLE `app`.`t`", check: func(t *testing.T, _ []string, rows [][]string) {
			require.Contains(t, rows[0][1], "CREATE TABLE")
		}},
		{sql: "DESCRIBE `app`.`t`", check: atLeast(4)},
		// apache/superset#34996: catalog.db.table quoted as one name.
		{sql: "SELECT k, v FROM `internal.app.t` ORDER BY k LIMIT 100", rows: [][]string{{"1", "a(b)"}, {"2", "NULL"}}},
		{sql: "SELECT k FROM internal.app.t WHERE k = 1", rows: [][]string{{"1"}}},
	})
}

func TestBIMetabase(t *testing.T) {
	_, dsn := biFixture(t)
	db := openDB(t, dsn+"app")
	replay(t, db, []biStep{
		{sql: "set autocommit=1, sql_mode=CONCAT(@@sql_mode,',STRICT_TRANS_TABLES'), NAMES utf8mb4"},
		{sql: "SELECT @@time_zone, @@system_time_zone", rows: [][]string{{"UTC", "UTC"}}},
		{sql: "SELECT @@GLOBAL.time_zone AS global_tz, @@system_time_zone AS system_tz, time_format(timediff(now(), " +
			"convert_tz(now(), @@GLOBAL.time_zone, '+00:00')), '%H:%i') AS offset",
			cols: []string{"global_tz", "system_tz", "offset"}, rows: [][]string{{"UTC", "UTC", "00:00"}}},
		{sql: "SET @@session.time_zone = 'UTC'"},
		{sql: "SELECT TABLE_SCHEMA TABLE_CAT, NULL TABLE_SCHEM, TABLE_NAME, IF(TABLE_TYPE='BASE TABLE' or " +
			"TABLE_TYPE='SYSTEM VERSIONED', 'TABLE', IF(TABLE_TYPE='TEMPORARY','LOCAL TEMPORARY', TABLE_TYPE)) as TABLE_TYPE " +
			"FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'app' ORDER BY TABLE_TYPE, TABLE_SCHEMA, TABLE_NAME",
			rows: [][]string{{"app", "NULL", "t", "TABLE"}}},
		{sql: "SELECT COLUMN_NAME, CONVERT(ORDINAL_POSITION, UNSIGNED INTEGER) AS pos, IF(IS_NULLABLE='YES', 1, 0) AS nullable " +
			"FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 't' ORDER BY ORDINAL_POSITION",
			rows: [][]string{{"k", "1", "0"}, {"v", "2", "1"}, {"d", "3", "1"}, {"b", "4", "1"}}},
		// The functions Metabase generates, over d = 2024-01-02 03:04:05 (a Tuesday).
		{sql: "SELECT date_format(d, '%Y-%m-%d'), yearweek(d), week(d, 6), makedate(2024, 10), quarter(d), dayofweek(d), " +
			"convert_tz(d, 'UTC', 'Asia/Shanghai'), date_add(d, INTERVAL 1 day), from_unixtime(0), char_length(v), " +
			"regexp_substr(v, '[a-z]+'), regexp_substr(v, '[a-z]+', 1, 2) FROM app.t WHERE k = 1",
			rows: [][]string{{"2024-01-02", "202353", "1", "2024-01-10", "1", "3", "2024-01-02 11:04:05",
				"2024-01-03 03:04:05", "1970-01-01 00:00:00", "4", "a", "b"}}},
		{sql: "SELECT convert_tz(d, 'UTC', 'No/Such_Zone'), time_format('10:00:00', '%Y') FROM app.t WHERE k = 1",
			rows: [][]string{{"NULL", "NULL"}}},
		{sql: "SELECT TRIM(TRAILING ')' FROM v), TRIM(LEADING 'a' FROM v), TRIM(BOTH 'x' FROM 'xxyxx'), TRIM('  z ') FROM app.t WHERE k = 1",
			rows: [][]string{{"a(b", "(b)", "y", "z"}}},
	})
	// A session zone moves NOW() and the probe's offset.
	replay(t, db, []biStep{
		{sql: "SET @@session.time_zone = '+05:30'"},
		{sql: "SELECT time_format(timediff(now(), convert_tz(now(), @@session.time_zone, '+00:00')), '%H:%i')",
			rows: [][]string{{"05:30"}}},
	})
}

func TestBITableau(t *testing.T) {
	_, dsn := biFixture(t)
	db := openDB(t, dsn+"app")
	replay(t, db, []biStep{
		{sql: connectorJVariables, check: checkConnectorJVariables},
		{sql: "SET NAMES utf8mb4"},
		{sql: "SET character_set_results = NULL"},
		{sql: "SET autocommit=1"},
		{sql: "SELECT CONNECTION_ID()", check: atLeast(1)},
		{sql: "SHOW FULL TABLES FROM `app` LIKE '%'", rows: [][]string{{"t", "BASE TABLE"}}},
		{sql: "SHOW FULL COLUMNS FROM `t` FROM `app` LIKE '%'", check: atLeast(4)},
		{sql: "SHOW KEYS FROM `t` FROM `app`", check: func(t *testing.T, cols []string, _ [][]string) {
			require.Equal(t, "Key_name", cols[2])
		}},
		{sql: "SHOW FUNCTION STATUS WHERE Db LIKE 'app'", rows: [][]string{}},
		{sql: "SHOW PROCEDURE STATUS WHERE Db LIKE 'app'", rows: [][]string{}},
		// useInformationSchema=true metadata.
		{sql: "SELECT TABLE_SCHEMA, TABLE_NAME, NON_UNIQUE, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME FROM information_schema.STATISTICS " +
			"WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 't' ORDER BY NON_UNIQUE, INDEX_NAME, SEQ_IN_INDEX", rows: [][]string{}},
		{sql: "SELECT SPECIFIC_NAME, ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'app'",
			rows: [][]string{}},
		{sql: "SELECT * FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = 'app'", rows: [][]string{}},
	})
	// CONNECTION_ID() is integer-typed (apache/doris#26016), BOOLEAN is
	// TINY, and text columns carry a text charset: go-sql-driver names a
	// column of charset 63 VARBINARY or BLOB instead of VARCHAR or TEXT.
	for q, want := range map[string][]string{
		"SELECT CONNECTION_ID(), b, v FROM app.t WHERE k = 1": {"BIGINT", "TINYINT", "VARCHAR"},
		"SELECT DATA_TYPE, COLUMN_TYPE, TABLE_COMMENT FROM information_schema.COLUMNS c JOIN information_schema.TABLES t " +
			"ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME WHERE c.TABLE_SCHEMA = 'app'": {"VARCHAR", "VARCHAR", "VARCHAR"},
		"SELECT ENGINE, ID FROM information_schema.ENGINES, information_schema.COLLATIONS WHERE ENGINE = COLLATION_NAME": {"VARCHAR", "BIGINT"},
	} {
		rs, err := db.Query(q)
		require.NoError(t, err, q)
		cts, err := rs.ColumnTypes()
		require.NoError(t, err)
		var got []string
		for _, ct := range cts {
			got = append(got, ct.DatabaseTypeName())
		}
		rs.Close()
		require.Equal(t, want, got, q)
	}
}

func TestBINavicat(t *testing.T) {
	_, dsn := biFixture(t)
	db := openDB(t, dsn+"app?multiStatements=true")
	// Three statements in one COM_QUERY: three result sets.
	rs, err := db.Query("SHOW VARIABLES LIKE 'lower_case_%'; SHOW VARIABLES LIKE 'sql_mode'; " +
		"SELECT COUNT(*) AS support_ndb FROM information_schema.ENGINES WHERE Engine = 'ndbcluster'")
	require.NoError(t, err)
	_, first := readRows(t, rs, "lower_case")
	require.Contains(t, first, []string{"lower_case_table_names", "0", "0", "0"})
	require.True(t, rs.NextResultSet())
	_, second := readRows(t, rs, "sql_mode")
	require.Len(t, second, 1)
	require.True(t, rs.NextResultSet())
	cols, third := readRows(t, rs, "support_ndb")
	require.Equal(t, []string{"support_ndb"}, cols)
	require.Equal(t, [][]string{{"0"}}, third)
	require.False(t, rs.NextResultSet())
	rs.Close()
	replay(t, db, []biStep{
		{sql: "SHOW TABLE STATUS", check: atLeast(1)},
		{sql: "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE BINARY TABLE_SCHEMA = 'app' ORDER BY TABLE_NAME",
			rows: [][]string{{"t", "BASE TABLE"}}},
		{sql: "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'app'",
			rows: [][]string{{"app", "utf8mb4", "utf8mb4_0900_bin"}}},
		{sql: "SELECT * FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'app' ORDER BY ROUTINE_NAME", rows: [][]string{}},
		{sql: "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'app'", rows: [][]string{}},
		{sql: "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'app'", rows: [][]string{}},
		{sql: "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'app'", rows: [][]string{}},
		{sql: "SELECT QUERY_ID, SUM(DURATION) FROM information_schema.PROFILING GROUP BY QUERY_ID", rows: [][]string{}},
		{sql: "SELECT Id, User, Command FROM information_schema.PROCESSLIST WHERE CurrentConnected = 'Yes'",
			check: func(t *testing.T, _ []string, rows [][]string) {
				require.Len(t, rows, 1)
				require.Equal(t, []string{"root", "Query"}, rows[0][1:])
			}},
		{sql: "SELECT VARIABLE_VALUE FROM information_schema.SESSION_VARIABLES WHERE VARIABLE_NAME = 'lower_case_table_names'",
			rows: [][]string{{"0"}}},
		{sql: "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'time_zone'",
			rows: [][]string{{"UTC"}}},
	})
}

func TestBIDataGrip(t *testing.T) {
	_, dsn := biFixture(t)
	db := openDB(t, dsn+"app")
	replay(t, db, []biStep{
		{sql: connectorJVariables, check: checkConnectorJVariables},
		{sql: "select schema_name from information_schema.schemata order by if(schema() = schema_name, 1, 2), schema_name",
			check: func(t *testing.T, _ []string, rows [][]string) { require.Equal(t, []string{"app"}, rows[0]) }},
		{sql: "select @@event_scheduler", check: atLeast(1)},
		{sql: "select c.collation_name, c.character_set_name, c.id, c.is_default collate utf8_general_ci = 'Yes' as is_default " +
			"from information_schema.collations c order by c.id",
			rows: [][]string{{"utf8_general_ci", "utf8", "33", "1"}, {"utf8mb4_general_ci", "utf8mb4", "45", "0"},
				{"utf8mb4_0900_bin", "utf8mb4", "309", "1"}}},
		{sql: "select character_set_name, default_collate_name, maxlen from information_schema.character_sets order by 1",
			rows: [][]string{{"utf8", "utf8_general_ci", "3"}, {"utf8mb4", "utf8mb4_0900_bin", "4"}}},
		{sql: "select table_name, partition_name, partition_ordinal_position, partition_method, partition_description " +
			"from information_schema.partitions where table_schema = 'app'", rows: [][]string{{"t", "t", "1", "NULL", "NULL"}}},
		{sql: "select * from information_schema.table_constraints where constraint_schema = 'app'", rows: [][]string{}},
		{sql: "select * from information_schema.referential_constraints where constraint_schema = 'app'", rows: [][]string{}},
		{sql: "select * from information_schema.key_column_usage where table_schema = 'app'", rows: [][]string{}},
		{sql: "select * from information_schema.parameters where specific_schema = 'app'", rows: [][]string{}},
		{sql: "select * from information_schema.check_constraints where constraint_schema = 'app'", rows: [][]string{}},
		{sql: "select * from information_schema.column_statistics", rows: [][]string{}},
		{sql: "select * from mysql.procs_priv", rows: [][]string{}},
		{sql: "select table_name, table_type from information_schema.tables where table_schema = 'app'",
			rows: [][]string{{"t", "BASE TABLE"}}},
	})
}

// TestBIMySQLCLI replays what the mysql client sends: its start-up query,
// status, \G, several statements per line, warnings, and -D with
// auto-rehash (COM_INIT_DB, SHOW DATABASES, SHOW TABLES, COM_FIELD_LIST).
func TestBIMySQLCLI(t *testing.T) {
	s, _ := biFixture(t)
	out := s.MustMySQL("status")
	require.Contains(t, out, "Server version:")
	require.Contains(t, out, "5.7.99")
	require.Contains(t, out, "Current user:")
	out = s.MustMySQL("SELECT k, v FROM app.t WHERE k = 1\\G")
	require.Equal(t, "*************************** 1. row ***************************\n1\na(b)\n", out)
	out = s.MustMySQL("SELECT 1; SELECT 'two'; SELECT k FROM app.t ORDER BY k")
	require.Equal(t, "1\ntwo\n1\n2\n", out)
	// DROP TABLE IF EXISTS of a missing table warns (Note 1051).
	out = s.MustMySQL("DROP TABLE IF EXISTS app.nope; SHOW WARNINGS")
	require.Equal(t, "Note\t1051\tUnknown table 'app.nope'\n", out)
	out = s.MustMySQL("DROP TABLE IF EXISTS app.nope", "--show-warnings")
	require.Contains(t, out, "Unknown table 'app.nope'")
	out = s.MustMySQL("DROP TABLE IF EXISTS app.nope; SHOW COUNT(*) WARNINGS")
	require.Equal(t, "1\n", out)
	// -D app with auto-rehash: the client lists tables and their fields
	// with COM_FIELD_LIST before running the statement.
	out = s.MustMySQL("SELECT DATABASE(); SHOW TABLES", "-D", "app", "--auto-rehash")
	require.Equal(t, "app\nt\n", out)
	out = s.MustMySQL("USE app; SELECT COUNT(*) FROM t", "--auto-rehash")
	require.Equal(t, "2\n", out)
	out = s.MustMySQL("SELECT * FROM information_schema.ENGINES", "--column-names")
	require.Equal(t, "ENGINE\tSUPPORT\tCOMMENT\tTRANSACTIONS\tXA\tSAVEPOINTS\nOlap engine\tDEFAULT\tDefault storage engine of Strata\tYES\tNO\tNO\n", out)
}

package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// queryData posts one statement and returns the reply.
func (e *env) query(t *testing.T, db, body string) map[string]any {
	t.Helper()
	return e.call(t, http.MethodPost, "/api/query/default_cluster/"+db, body)
}

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// A statement without a result set: Doris's exec_status.
func TestQueryDDL(t *testing.T) {
	e := newEnv(t)
	db := uniq("q")
	r := e.query(t, "information_schema", stmtBody("CREATE DATABASE IF NOT EXISTS `"+db+"`"))
	require.Equal(t, "success", r["msg"])
	require.Equal(t, json.Number("0"), r["code"])
	require.Equal(t, json.Number("0"), r["count"])
	data := r["data"].(map[string]any)
	require.Equal(t, "exec_status", data["type"])
	require.Equal(t, map[string]any{}, data["status"])
	_, err := data["time"].(json.Number).Int64()
	require.NoError(t, err)
	require.Len(t, data, 3)
	_, err = e.cat.Snapshot().Database(db)
	require.NoError(t, err)
}

// A result set: Doris's result_set, cells as the MariaDB driver hands them
// to Jackson (numbers, strings, booleans, null).
func TestQueryResultSet(t *testing.T) {
	e := newEnv(t)
	db := uniq("q")
	e.sql(t, "information_schema", "CREATE DATABASE "+db)
	e.sql(t, db,
		"CREATE TABLE all_types (k INT, b BOOLEAN, ti TINYINT, si SMALLINT, bi BIGINT, li LARGEINT, "+
			"f FLOAT, dbl DOUBLE, dec DECIMAL(10, 2), d DATE, dt DATETIME(3), c CHAR(4), v VARCHAR(10), s STRING) "+
			"DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2",
		"INSERT INTO all_types VALUES "+
			"(1, true, -8, 300, 9007199254740993, '170141183460469231731687303715884105727', 1.5, 0.1, -12.30, '2024-02-29', '2024-02-29 13:14:15.678', 'ab', 'x<y>&\"', 'long text'), "+
			"(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
	)
	r := e.query(t, db, stmtBody("SELECT * FROM all_types ORDER BY k"))
	require.Equal(t, json.Number("0"), r["code"], r["data"])
	data := r["data"].(map[string]any)
	require.Equal(t, "result_set", data["type"])
	require.Equal(t, map[string]any{}, data["status"])
	require.Equal(t, `[{"name":"k","type":"INTEGER"},{"name":"b","type":"BIT"},{"name":"ti","type":"TINYINT"},`+
		`{"name":"si","type":"SMALLINT"},{"name":"bi","type":"BIGINT"},{"name":"li","type":"CHAR"},`+
		`{"name":"f","type":"FLOAT"},{"name":"dbl","type":"DOUBLE"},{"name":"dec","type":"DECIMAL"},`+
		`{"name":"d","type":"DATE"},{"name":"dt","type":"DATETIME"},{"name":"c","type":"CHAR"},`+
		`{"name":"v","type":"CHAR"},{"name":"s","type":"TEXT"}]`, marshal(t, data["meta"]))
	require.Equal(t, `[[1,true,-8,300,9007199254740993,"170141183460469231731687303715884105727",1.5,0.1,-12.30,`+
		`"2024-02-29","2024-02-29 13:14:15.678","ab","x\u003cy\u003e\u0026\"","long text"],`+
		`[2,null,null,null,null,null,null,null,null,null,null,null,null,null]]`, marshal(t, data["data"]))

	// HTML characters are not escaped on the wire.
	_, body := e.request(t, http.MethodPost, "/api/query/default_cluster/"+db, stmtBody("SELECT v FROM all_types WHERE k = 1"), true)
	require.Contains(t, body, `"data":[["x<y>&\""]]`)
}

func TestQueryLimit(t *testing.T) {
	e := newEnv(t)
	db := uniq("q")
	e.sql(t, "information_schema", "CREATE DATABASE "+db)
	e.sql(t, db,
		"CREATE TABLE t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 3",
		"INSERT INTO t VALUES (1), (2), (3), (4), (5)")
	rows := func(body string) int {
		r := e.query(t, db, body)
		require.Equal(t, json.Number("0"), r["code"], r["data"])
		return len(r["data"].(map[string]any)["data"].([]any))
	}
	require.Equal(t, 5, rows(stmtBody("SELECT k FROM t")))
	require.Equal(t, 2, rows(`{"stmt":"SELECT k FROM t","limit":2}`))
	require.Equal(t, 3, rows(`{"stmt":"SELECT k FROM t","limit":"3"}`))
	require.Equal(t, 0, rows(`{"stmt":"SELECT k FROM t","limit":0}`))
	require.Equal(t, 5, rows(`{"stmt":"SELECT k FROM t","limit":null,"is_sync":true}`))
}

// Several statements run in order; the reply describes the first.
func TestQueryMultipleStatements(t *testing.T) {
	e := newEnv(t)
	db := uniq("q")
	e.sql(t, "information_schema", "CREATE DATABASE "+db)
	r := e.query(t, db, stmtBody("CREATE TABLE t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1; SELECT 1"))
	require.Equal(t, "exec_status", r["data"].(map[string]any)["type"])
	r = e.query(t, db, stmtBody("SELECT 7; SELECT 8"))
	require.Equal(t, `[[7]]`, marshal(t, r["data"].(map[string]any)["data"]))
	_, err := e.cat.Snapshot().Table(db, "t")
	require.NoError(t, err)
}

func TestQueryErrors(t *testing.T) {
	e := newEnv(t)
	db := uniq("q")
	e.sql(t, "information_schema", "CREATE DATABASE "+db)
	exact := []struct{ db, body, want string }{
		{db, ``, `{"msg":"Bad Request","code":403,"data":"Missing statement request body","count":0}`},
		{db, `{}`, `{"msg":"Bad Request","code":403,"data":"Missing statement request body","count":0}`},
		{db, `{"stmt":""}`, `{"msg":"Bad Request","code":403,"data":"Missing statement request body","count":0}`},
		{db, `{"stmt":"  "}`, `{"msg":"Bad Request","code":403,"data":"Missing statement request body","count":0}`},
		{db, `{"stmt":"SELECT 1","is_sync":false}`, `{"msg":"Error","code":1,"data":"Not support async query execution","count":0}`},
		{db, `{"stmt":"SELECT 1","limit":"many"}`, `{"msg":"Bad Request","code":403,"data":"Invalid request body: limit: expected an integer, got \"many\"","count":0}`},
		{db, `{"stmt":["SELECT 1"]}`, `{"msg":"Bad Request","code":403,"data":"Invalid request body: stmt: expected a string, got [\"SELECT 1\"]","count":0}`},
		{"no_such_db", stmtBody("SELECT 1"), `{"msg":"Error","code":1,"data":"Unknown database 'no_such_db'","count":0}`},
		{db, stmtBody("SELECT * FROM nope"), ""},
	}
	for _, c := range exact {
		status, body := e.request(t, http.MethodPost, "/api/query/default_cluster/"+c.db, c.body, true)
		require.Equal(t, http.StatusOK, status, c.body)
		if c.want != "" {
			require.Equal(t, c.want, body, c.body)
		} else {
			r := decodeReply(t, body)
			require.Equal(t, json.Number("1"), r["code"], body)
			require.Equal(t, "Error", r["msg"], body)
		}
	}

	r := e.query(t, db, `{"stmt":"SELEC 1"`)
	require.Equal(t, json.Number("403"), r["code"])
	require.True(t, strings.HasPrefix(r["data"].(string), "Invalid request body: "), r["data"])

	// A syntax error is the statement's failure, reported with its text.
	r = e.query(t, db, stmtBody("SELEC 1"))
	require.Equal(t, json.Number("1"), r["code"])
	require.Equal(t, "Error", r["msg"])
	require.Contains(t, r["data"], "SELEC")

	// Only the internal catalog exists.
	r = e.query(t, db, stmtBody("SELECT 1"))
	require.Equal(t, json.Number("0"), r["code"])
	r = e.call(t, http.MethodPost, "/api/query/internal/"+db, stmtBody("SELECT 1"))
	require.Equal(t, json.Number("0"), r["code"])
	r = e.call(t, http.MethodPost, "/api/query/hive/"+db, stmtBody("SELECT 1"))
	require.Equal(t, `{"msg":"Error","code":1,"data":"errCode = 2, detailMessage = Unknown catalog 'hive'","count":0}`, marshalReply(t, r))
}

func marshalReply(t *testing.T, r map[string]any) string {
	t.Helper()
	return marshal(t, reply{Msg: r["msg"].(string), Code: atoi(t, r["code"]), Data: r["data"], Count: atoi(t, r["count"])})
}

func atoi(t *testing.T, v any) int {
	t.Helper()
	n, err := strconv.Atoi(string(v.(json.Number)))
	require.NoError(t, err)
	return n
}

// Every request's session is closed when it ends, and HTTP sessions have
// ids of their own.
func TestQuerySessionsAreClosed(t *testing.T) {
	e := newEnv(t)
	db := uniq("q")
	e.sql(t, "information_schema", "CREATE DATABASE "+db)
	for range 3 {
		e.sql(t, db, "SELECT 1")
	}
	e.query(t, db, stmtBody("SELEC 1"))
	r := e.query(t, db, stmtBody("SHOW PROCESSLIST"))
	rows := r["data"].(map[string]any)["data"].([]any)
	require.Len(t, rows, 1, "only the session running SHOW PROCESSLIST")
	meta := r["data"].(map[string]any)["meta"].([]any)
	for i, m := range meta {
		if m.(map[string]any)["name"] == "Id" {
			id, err := strconv.ParseUint(string(rows[0].([]any)[i].(json.Number)), 10, 32)
			require.NoError(t, err)
			require.GreaterOrEqual(t, id, uint64(httpConnBase))
		}
	}
}

// Scenario 38 of STREAMLOAD.md, the parts that need neither
// information_schema nor ALTER TABLE; and those two, which must fail
// cleanly until they exist.
func TestQueryScenario38(t *testing.T) {
	e := newEnv(t)
	db := uniq("s38")
	r := e.query(t, "information_schema", stmtBody("CREATE DATABASE IF NOT EXISTS `"+db+"`"))
	require.Equal(t, json.Number("0"), r["code"])

	// DATETIMEV2(6) and BUCKETS AUTO, as Flink CDC writes them.
	r = e.query(t, db, stmtBody("CREATE TABLE IF NOT EXISTS `"+db+"`.`dn`(`id` BIGINT COMMENT '',`v` DATETIMEV2(6) COMMENT '') "+
		"DUPLICATE KEY(`id`) DISTRIBUTED BY HASH(`id`) BUCKETS AUTO PROPERTIES ('replication_num'='1')"))
	require.Equal(t, json.Number("0"), r["code"], r["data"])
	require.Equal(t, "exec_status", r["data"].(map[string]any)["type"])
	s := e.call(t, http.MethodGet, "/api/"+db+"/dn/_schema", "")
	require.Equal(t, `[{"aggregation_type":"","column_uid":"1","comment":"","is_key":"Yes","is_nullable":"Yes","name":"id","type":"BIGINT"},`+
		`{"aggregation_type":"NONE","column_uid":"2","comment":"","is_key":"No","is_nullable":"Yes","name":"v","type":"DATETIMEV2"}]`,
		marshal(t, s["data"].(map[string]any)["properties"]))

	// SHOW FULL COLUMNS: Field at index 0, Default at index 5.
	r = e.query(t, db, stmtBody("SHOW FULL COLUMNS FROM `"+db+"`.`dn`"))
	require.Equal(t, json.Number("0"), r["code"], r["data"])
	rows := r["data"].(map[string]any)["data"].([]any)
	require.Len(t, rows, 2)
	require.Equal(t, "id", rows[0].([]any)[0])
	require.Nil(t, rows[0].([]any)[5])

	// The light schema change check of an ADD COLUMN.
	r = e.call(t, http.MethodGet, "/api/enable_light_schema_change/"+db+"/dn", `{"isDropColumn":false,"columnName":"c2"}`)
	require.Equal(t, json.Number("0"), r["code"])

	// The scenario's own CREATE TABLE is a UNIQUE KEY table.
	r = e.query(t, db, stmtBody("CREATE TABLE IF NOT EXISTS `"+db+"`.`n`(`id` BIGINT COMMENT '',`v` DATETIMEV2(6) COMMENT '') "+
		"UNIQUE KEY(`id`) DISTRIBUTED BY HASH(`id`) BUCKETS AUTO PROPERTIES ('replication_num'='1')"))
	if r["code"] == json.Number("0") {
		s := e.call(t, http.MethodGet, "/api/"+db+"/n/_schema", "")
		require.Equal(t, "UNIQUE_KEYS", s["data"].(map[string]any)["keysType"])
	} else {
		t.Logf("scenario 38 CREATE TABLE ... UNIQUE KEY: %v", r["data"])
	}

	// ALTER TABLE and information_schema are other engineers' work: until
	// they land the statements fail with code 1 and a message, which the
	// clients treat as "failed" and "does not exist".
	for _, stmt := range []string{
		"ALTER TABLE `" + db + "`.`dn` ADD COLUMN `c2` VARCHAR(10) DEFAULT 'x' COMMENT 'n'",
		"SELECT COLUMN_NAME FROM information_schema.`COLUMNS` WHERE TABLE_SCHEMA = '" + db + "' AND TABLE_NAME = 'dn' AND COLUMN_NAME = 'v'",
	} {
		for _, in := range []string{db, "information_schema"} {
			r = e.query(t, in, stmtBody(stmt))
			switch r["code"] {
			case json.Number("0"):
				if strings.HasPrefix(stmt, "SELECT") {
					require.Equal(t, `[["v"]]`, marshal(t, r["data"].(map[string]any)["data"]))
				}
			default:
				require.Equal(t, json.Number("1"), r["code"])
				require.NotEmpty(t, r["data"])
				t.Logf("%s (db %s): %v", stmt, in, r["data"])
			}
		}
	}
}

package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

// createTable writes a table definition straight into the catalog, for the
// table kinds CREATE TABLE does not take yet (UNIQUE, AGGREGATE).
func (e *env) createTable(t *testing.T, db string, tb *catalog.Table) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, e.cat.CreateDatabase(ctx, db, true))
	require.NoError(t, e.cat.CreateTable(ctx, db, tb, false))
}

func str(s string) *string { return &s }

// uniqueTable is scenario table u of STREAMLOAD.md with a decimal, dates
// and comments added.
func uniqueTable(name string, props map[string]string) *catalog.Table {
	return &catalog.Table{
		Name: name, KeysType: catalog.UniqueKeys, KeyColumns: []string{"id"},
		Schema: catalog.Schema{Columns: []catalog.Column{
			{Name: "id", Type: types.BigInt, IsKey: true},
			{Name: "name", Type: types.Varchar(32), Nullable: true, Comment: "the <name>"},
			{Name: "age", Type: types.Int, Nullable: true, Default: str("0")},
			{Name: "amt", Type: types.Decimal(10, 2), Nullable: true},
			{Name: "small", Type: types.Decimal(9, 0), Nullable: true},
			{Name: "big", Type: types.Decimal(38, 10), Nullable: true},
			{Name: "d", Type: types.Date, Nullable: true},
			{Name: "ts", Type: types.DateTime(6), Nullable: true},
			{Name: "s", Type: types.String, Nullable: true},
			{Name: "f", Type: types.Boolean, Nullable: true},
		}},
		Distribution: catalog.Distribution{Type: catalog.HashDistributed, Columns: []string{"id"}, Buckets: 1},
		Properties:   props,
	}
}

// Scenario 3 of STREAMLOAD.md, compared whole: Doris's type names,
// precision and scale as strings for decimals, Yes/No flags.
func TestSchemaUnique(t *testing.T) {
	e := newEnv(t)
	db := uniq("schema")
	e.createTable(t, db, uniqueTable("u", nil))
	tb, err := e.cat.Snapshot().Table(db, "u")
	require.NoError(t, err)
	want := `{"msg":"success","code":0,"data":{"status":200,"keysType":"UNIQUE_KEYS","schema_version":` + strconv.FormatInt(tb.Schema.Version, 10) + `,"properties":[` +
		`{"name":"id","type":"BIGINT","comment":"","aggregation_type":"","is_nullable":"No","is_key":"Yes","column_uid":"` + uid(tb, 0) + `"},` +
		`{"name":"name","type":"VARCHAR","comment":"the <name>","aggregation_type":"NONE","is_nullable":"Yes","is_key":"No","column_uid":"` + uid(tb, 1) + `"},` +
		`{"name":"age","type":"INT","comment":"","aggregation_type":"NONE","is_nullable":"Yes","is_key":"No","column_uid":"` + uid(tb, 2) + `"},` +
		`{"name":"amt","type":"DECIMAL64","comment":"","aggregation_type":"NONE","precision":"10","scale":"2","is_nullable":"Yes","is_key":"No","column_uid":"` + uid(tb, 3) + `"},` +
		`{"name":"small","type":"DECIMAL32","comment":"","aggregation_type":"NONE","precision":"9","scale":"0","is_nullable":"Yes","is_key":"No","column_uid":"` + uid(tb, 4) + `"},` +
		`{"name":"big","type":"DECIMAL128","comment":"","aggregation_type":"NONE","precision":"38","scale":"10","is_nullable":"Yes","is_key":"No","column_uid":"` + uid(tb, 5) + `"},` +
		`{"name":"d","type":"DATEV2","comment":"","aggregation_type":"NONE","is_nullable":"Yes","is_key":"No","column_uid":"` + uid(tb, 6) + `"},` +
		`{"name":"ts","type":"DATETIMEV2","comment":"","aggregation_type":"NONE","is_nullable":"Yes","is_key":"No","column_uid":"` + uid(tb, 7) + `"},` +
		`{"name":"s","type":"STRING","comment":"","aggregation_type":"NONE","is_nullable":"Yes","is_key":"No","column_uid":"` + uid(tb, 8) + `"},` +
		`{"name":"f","type":"BOOLEAN","comment":"","aggregation_type":"NONE","is_nullable":"Yes","is_key":"No","column_uid":"` + uid(tb, 9) + `"}` +
		`]},"count":0}`
	for _, path := range []string{
		"/api/" + db + "/u/_schema",
		"/api/internal/" + db + "/u/_schema",
		"/api/default_cluster:" + db + "/u/_schema",
	} {
		status, body := e.request(t, http.MethodGet, path, "", true)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, want, body, path)
	}
}

func uid(tb *catalog.Table, i int) string {
	return strconv.FormatUint(uint64(tb.Schema.Columns[i].ID), 10)
}

func TestSchemaKeysTypesAndAggregation(t *testing.T) {
	e := newEnv(t)
	db := uniq("schema")
	e.sql(t, "information_schema", "CREATE DATABASE "+db)
	e.sql(t, db, "CREATE TABLE d (id BIGINT, name VARCHAR(32), age INT, ts BIGINT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1")
	e.createTable(t, db, uniqueTable("mor", map[string]string{"enable_unique_key_merge_on_write": "false"}))
	e.createTable(t, db, &catalog.Table{
		Name: "agg", KeysType: catalog.AggKeys, KeyColumns: []string{"k"},
		Schema: catalog.Schema{Columns: []catalog.Column{
			{Name: "k", Type: types.Int, IsKey: true},
			{Name: "total", Type: types.BigInt, AggType: "SUM"},
			{Name: "last", Type: types.Varchar(8), Nullable: true, AggType: "replace"},
		}},
		Distribution: catalog.Distribution{Type: catalog.HashDistributed, Columns: []string{"k"}, Buckets: 1},
	})

	cases := []struct {
		table    string
		keysType string
		aggs     []string
	}{
		{"d", "DUP_KEYS", []string{"", "NONE", "NONE", "NONE"}},
		{"mor", "UNIQUE_KEYS", []string{"", "REPLACE", "REPLACE", "REPLACE", "REPLACE", "REPLACE", "REPLACE", "REPLACE", "REPLACE", "REPLACE"}},
		{"agg", "AGG_KEYS", []string{"", "SUM", "REPLACE"}},
	}
	for _, c := range cases {
		r := e.call(t, http.MethodGet, "/api/"+db+"/"+c.table+"/_schema", "")
		require.Equal(t, json.Number("0"), r["code"], c.table)
		data := r["data"].(map[string]any)
		require.Equal(t, json.Number("200"), data["status"], c.table)
		require.Equal(t, c.keysType, data["keysType"], c.table)
		props := data["properties"].([]any)
		require.Len(t, props, len(c.aggs), c.table)
		for i, p := range props {
			require.Equal(t, c.aggs[i], p.(map[string]any)["aggregation_type"], "%s column %d", c.table, i)
		}
	}
}

func TestSchemaErrors(t *testing.T) {
	e := newEnv(t)
	db := uniq("schema")
	e.sql(t, "information_schema", "CREATE DATABASE "+db)
	cases := []struct{ path, want string }{
		{"/api/" + db + "/nope/_schema", `{"msg":"Error","code":1,"data":"errCode = 7, detailMessage = unknown table, tableName=nope","count":0}`},
		{"/api/no_such_db/t/_schema", `{"msg":"Error","code":1,"data":"errCode = 7, detailMessage = unknown databases, dbName=no_such_db","count":0}`},
		{"/api/hive/" + db + "/t/_schema", `{"msg":"Error","code":1,"data":"errCode = 2, detailMessage = Unknown catalog 'hive'","count":0}`},
	}
	for _, c := range cases {
		status, body := e.request(t, http.MethodGet, c.path, "", true)
		require.Equal(t, http.StatusOK, status, c.path)
		require.Equal(t, c.want, body, c.path)
	}
	status, _ := e.request(t, http.MethodGet, "/api/"+db+"/t/_nothing", "", true)
	require.Equal(t, http.StatusNotFound, status)
}

// Scenario 38's check and Flink CDC's rules: adding anything and dropping a
// value column are allowed; dropping a key column, or any change on a table
// with light_schema_change off, is refused with Doris's text.
func TestLightSchemaChange(t *testing.T) {
	e := newEnv(t)
	db := uniq("lsc")
	e.createTable(t, db, uniqueTable("u", nil))
	e.createTable(t, db, uniqueTable("heavy", map[string]string{"light_schema_change": "FALSE"}))
	const okReply = `{"msg":"success","code":0,"data":null,"count":0}`
	cases := []struct {
		table, body, want string
	}{
		{"u", `{"isDropColumn":false,"columnName":"c2"}`, okReply},
		{"u", `{"isDropColumn":true,"columnName":"age"}`, okReply},
		{"u", `{"isDropColumn":true,"columnName":"not_there"}`, okReply},
		{"u", `{"isDropColumn":false,"columnName":"id"}`, okReply},
		{"u", `{"isDropColumn":"false","columnName":"id"}`, okReply},
		{"u", `{"columnName":"id"}`, okReply},
		{"u", `{"isDropColumn":true,"columnName":"id"}`,
			`{"msg":"Error","code":1,"data":"Column id is primary key in materializedIndex that can't do the light schema change","count":0}`},
		{"u", `{"isDropColumn":"TRUE","columnName":"ID"}`,
			`{"msg":"Error","code":1,"data":"Column ID is primary key in materializedIndex that can't do the light schema change","count":0}`},
		{"heavy", `{"isDropColumn":false,"columnName":"c2"}`,
			`{"msg":"Error","code":1,"data":"table heavy disable light schema change","count":0}`},
		{"nope", `{"isDropColumn":false,"columnName":"c2"}`,
			`{"msg":"Error","code":1,"data":"errCode = 7, detailMessage = unknown table, tableName=nope","count":0}`},
		{"u", ``, `{"msg":"Bad Request","code":403,"data":"Invalid request body: missing request body","count":0}`},
		{"u", `null`, `{"msg":"Bad Request","code":403,"data":"Invalid request body: missing request body","count":0}`},
		{"u", `{"isDropColumn":1}`, `{"msg":"Bad Request","code":403,"data":"Invalid request body: isDropColumn: expected a boolean, got 1","count":0}`},
		{"u", `{"isDropColumn":tru`, ""},
		{"u", `[1]`, ""},
	}
	for _, c := range cases {
		status, body := e.request(t, http.MethodGet, "/api/enable_light_schema_change/"+db+"/"+c.table, c.body, true)
		require.Equal(t, http.StatusOK, status, c.body)
		if c.want == "" {
			r := decodeReply(t, body)
			require.Equal(t, json.Number("403"), r["code"], c.body)
			require.Equal(t, "Bad Request", r["msg"], c.body)
			continue
		}
		require.Equal(t, c.want, body, "%s %s", c.table, c.body)
	}
}

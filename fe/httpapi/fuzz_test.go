package httpapi

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// bodySeeds are request bodies the clients send, and broken ones.
var bodySeeds = []string{
	`{"stmt":"SELECT 1"}`,
	`{"stmt":"CREATE TABLE t (k INT)","is_sync":true,"limit":10}`,
	`{"stmt":"SELECT 1","is_sync":"false","limit":"5"}`,
	`{"isDropColumn":false,"columnName":"c2"}`,
	`{"isDropColumn":"TRUE","columnName":7}`,
	`{"isDropColumn":1}`,
	`{"stmt":null,"limit":null}`,
	`{"stmt":["x"]}`,
	`{"limit":1e400}`,
	`{"limit":99999999999999999999}`,
	`null`, `[]`, `""`, `{`, ``, "\x00", `{"a":{"b":[1,2,{}]}}`,
}

// FuzzParseStmtRequest: any body parses or fails with an error, never a
// panic, and parsing is deterministic.
func FuzzParseStmtRequest(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseStmtRequest(body)
		again, err2 := parseStmtRequest(body)
		require.Equal(t, err == nil, err2 == nil)
		require.Equal(t, req, again)
	})
}

// FuzzParseLightSchemaChange: any body parses or fails with an error, never
// a panic, and parsing is deterministic.
func FuzzParseLightSchemaChange(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseLightSchemaChange(body)
		again, err2 := parseLightSchemaChange(body)
		require.Equal(t, err == nil, err2 == nil)
		require.Equal(t, req, again)
	})
}

func TestParseStmtRequest(t *testing.T) {
	cases := []struct {
		body string
		want stmtRequest
		err  bool
	}{
		{`{"stmt":"SELECT 1"}`, stmtRequest{Stmt: "SELECT 1", IsSync: true, Limit: defaultRowLimit}, false},
		{`{"stmt":"SELECT 1","is_sync":false,"limit":5}`, stmtRequest{Stmt: "SELECT 1", Limit: 5}, false},
		{`{"stmt":"SELECT 1","is_sync":"TRUE","limit":" 7 "}`, stmtRequest{Stmt: "SELECT 1", IsSync: true, Limit: 7}, false},
		{`{"stmt":12}`, stmtRequest{Stmt: "12", IsSync: true, Limit: defaultRowLimit}, false},
		// Keys are case-sensitive, as with Gson.
		{`{"STMT":"SELECT 1"}`, stmtRequest{IsSync: true, Limit: defaultRowLimit}, false},
		// The last of duplicate keys wins.
		{`{"stmt":"a","stmt":"b"}`, stmtRequest{Stmt: "b", IsSync: true, Limit: defaultRowLimit}, false},
		{`{"stmt":"SELECT 1","limit":1.5}`, stmtRequest{}, true},
		{`{"stmt":{}}`, stmtRequest{}, true},
		{`[]`, stmtRequest{}, true},
	}
	for _, c := range cases {
		got, err := parseStmtRequest([]byte(c.body))
		if c.err {
			require.Error(t, err, c.body)
			continue
		}
		require.NoError(t, err, c.body)
		require.Equal(t, c.want, got, c.body)
	}
}

func TestParseLightSchemaChange(t *testing.T) {
	cases := []struct {
		body string
		want lightSchemaChangeRequest
		err  bool
	}{
		{`{"isDropColumn":true,"columnName":"c"}`, lightSchemaChangeRequest{IsDropColumn: true, ColumnName: "c"}, false},
		{`{"isDropColumn":"yes","columnName":"c"}`, lightSchemaChangeRequest{ColumnName: "c"}, false},
		{`{"isDropColumn":null,"columnName":null}`, lightSchemaChangeRequest{}, false},
		{`{"columnName":true}`, lightSchemaChangeRequest{ColumnName: "true"}, false},
		{`{"isDropColumn":[]}`, lightSchemaChangeRequest{}, true},
		{` `, lightSchemaChangeRequest{}, true},
	}
	for _, c := range cases {
		got, err := parseLightSchemaChange([]byte(c.body))
		if c.err {
			require.Error(t, err, c.body)
			continue
		}
		require.NoError(t, err, c.body)
		require.Equal(t, c.want, got, c.body)
	}
}

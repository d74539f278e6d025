package planner

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/sql"
)

// serverSession is a session that also describes the server.
type serverSession struct{ fakeSession }

func (serverSession) Variables(global bool) []VariableRow {
	tz := VariableRow{Name: "time_zone", Value: "+08:00", Default: "UTC", Changed: true}
	if global {
		tz = VariableRow{Name: "time_zone", Value: "UTC", Default: "UTC"}
	}
	return []VariableRow{{Name: "autocommit", Value: "1", Default: "1"}, tz}
}

func (serverSession) Processes() []Process {
	return []Process{
		{ID: 3, User: "root", Host: "127.0.0.1", DB: "d", Command: "Query", TimeSeconds: 5},
		{ID: 7, User: "bi", Host: "10.0.0.2", Command: "Query", Current: true},
	}
}

func runWith(t *testing.T, sess Session, q string) [][]string {
	t.Helper()
	st, err := sql.Parse(q)
	require.NoError(t, err, q)
	p := New(sess, testCatalog(), noTablets{})
	pl, err := p.PlanSelect(st.(*sql.SelectStmt), nil)
	require.NoError(t, err, q)
	return collect(t, p, pl, q)
}

// The information_schema tables BI tools and drivers read: each exists
// with its column set, and the ones with rows have the right ones.
func TestInfoSchemaBITables(t *testing.T) {
	cat := testCatalog()
	columnCounts := map[string]int{
		"statistics": 16, "key_column_usage": 12, "table_constraints": 6, "referential_constraints": 11,
		"check_constraints": 4, "views": 10, "routines": 23, "parameters": 16, "triggers": 22, "events": 24,
		"column_statistics": 4, "partitions": 41, "engines": 6, "character_sets": 4, "collations": 6,
		"session_variables": 4, "global_variables": 4, "processlist": 15, "profiling": 18,
	}
	for name, n := range columnCounts {
		tbl, ok := LookupSystemTable(InformationSchema, name)
		require.True(t, ok, name)
		require.Len(t, tbl.Columns, n, name)
		// Tools spell them in upper case.
		_, ok = LookupSystemTable("INFORMATION_SCHEMA", name)
		require.True(t, ok, name)
	}
	for _, name := range []string{"statistics", "key_column_usage", "table_constraints", "referential_constraints",
		"check_constraints", "views", "routines", "parameters", "triggers", "events", "column_statistics", "profiling"} {
		require.Empty(t, runOn(t, cat, "SELECT * FROM information_schema."+name), name)
	}
	require.Empty(t, runOn(t, cat, "SELECT * FROM mysql.procs_priv"))
	// Sorting and grouping empty DATETIME and DOUBLE columns.
	require.Empty(t, runOn(t, cat, "SELECT * FROM information_schema.ROUTINES ORDER BY ROUTINE_NAME, CREATED"))
	require.Empty(t, runOn(t, cat, "SELECT QUERY_ID, SUM(DURATION) FROM information_schema.PROFILING GROUP BY QUERY_ID ORDER BY 1"))

	// Navicat's probe, and the engines SHOW ENGINES lists.
	require.Equal(t, [][]string{{"0"}}, runOn(t, cat,
		"SELECT COUNT(*) AS support_ndb FROM information_schema.ENGINES WHERE Engine = 'ndbcluster'"))
	require.Equal(t, [][]string{{"Olap engine", "DEFAULT"}}, runOn(t, cat, "SELECT ENGINE, SUPPORT FROM information_schema.ENGINES"))

	// Collation 33 is there, with its character set.
	require.Equal(t, [][]string{{"utf8_general_ci", "utf8", "Yes"}}, runOn(t, cat,
		"SELECT COLLATION_NAME, CHARACTER_SET_NAME, IS_DEFAULT FROM information_schema.COLLATIONS WHERE ID = 33"))
	require.Equal(t, [][]string{{"utf8", "utf8_general_ci", "3"}, {"utf8mb4", "utf8mb4_0900_bin", "4"}}, runOn(t, cat,
		"SELECT CHARACTER_SET_NAME, DEFAULT_COLLATE_NAME, MAXLEN FROM information_schema.CHARACTER_SETS ORDER BY 1"))
	require.Equal(t, [][]string{{"33"}, {"45"}, {"309"}}, runOn(t, cat,
		"SELECT c.ID FROM information_schema.COLLATIONS c JOIN information_schema.CHARACTER_SETS s ON c.CHARACTER_SET_NAME = s.CHARACTER_SET_NAME ORDER BY 1"))

	// One row per partition, with Doris's range text and positions.
	require.Equal(t, [][]string{
		{"sales", "p2023", "1", "RANGE", "dt", "[MINVALUE, (2024-01-01))", "2", "HASH(id)"},
		{"sales", "p2024", "2", "RANGE", "dt", "[(2024-01-01), (2025-01-01))", "2", "HASH(id)"},
		{"sales", "pmax", "3", "RANGE", "dt", "[(2025-01-01), MAXVALUE)", "2", "HASH(id)"},
		{"stores", "stores", "1", "NULL", "NULL", "NULL", "1", "HASH(id)"},
	}, runOn(t, cat, "SELECT TABLE_NAME, PARTITION_NAME, PARTITION_ORDINAL_POSITION, PARTITION_METHOD, "+
		"PARTITION_EXPRESSION, PARTITION_DESCRIPTION, BUCKET_NUM, DISTRIBUTION FROM information_schema.partitions "+
		"WHERE TABLE_SCHEMA = 'd' ORDER BY TABLE_NAME, PARTITION_ORDINAL_POSITION"))
	require.Empty(t, runOn(t, cat, "SELECT * FROM information_schema.partitions WHERE TABLE_SCHEMA = 'information_schema'"))
	require.Empty(t, runOn(t, cat, "SELECT * FROM information_schema.partitions WHERE TABLE_SCHEMA = 'd' AND TABLE_NAME = 'nope'"))

	// information_schema.TABLES lists the system tables themselves.
	require.Equal(t, [][]string{{"check_constraints", "SYSTEM VIEW"}}, runOn(t, cat,
		"SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'information_schema' AND TABLE_NAME = 'check_constraints'"))
	require.Equal(t, [][]string{{"procs_priv", "SYSTEM VIEW"}}, runOn(t, cat,
		"SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'procs_priv'"))
}

// The variable and connection tables read the session; a session that
// cannot describe the server sees them empty.
func TestInfoSchemaSessionTables(t *testing.T) {
	sess := serverSession{fakeSession{db: "d"}}
	require.Equal(t, [][]string{{"time_zone", "+08:00", "UTC", "1"}}, runWith(t, sess,
		"SELECT * FROM information_schema.SESSION_VARIABLES WHERE VARIABLE_NAME = 'time_zone'"))
	require.Equal(t, [][]string{{"time_zone", "UTC", "UTC", "0"}}, runWith(t, sess,
		"SELECT * FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'time_zone'"))
	require.Equal(t, [][]string{{"No", "3", "root", "d", "5"}, {"Yes", "7", "bi", "NULL", "0"}}, runWith(t, sess,
		"SELECT CurrentConnected, Id, User, Db, Time FROM information_schema.PROCESSLIST ORDER BY Id"))
	require.Empty(t, runOn(t, testCatalog(), "SELECT * FROM information_schema.SESSION_VARIABLES"))
	require.Empty(t, runOn(t, testCatalog(), "SELECT * FROM information_schema.PROCESSLIST"))
}

// Superset quotes catalog.db.table as one identifier.
func TestQuotedCatalogQualifiedTable(t *testing.T) {
	_, err := plan(t, "SELECT id FROM `internal.d.stores`")
	require.NoError(t, err)
	_, err = plan(t, "SELECT id FROM internal.d.stores")
	require.NoError(t, err)
	_, err = plan(t, "SELECT id FROM `other.d.stores`")
	require.Error(t, err)
}

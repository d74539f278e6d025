package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestClientConnectStatements replays what the mysql client and drivers
// send right after connecting.
func TestClientConnectStatements(t *testing.T) {
	s := startServer(t, "")
	s.MustMySQL("CREATE DATABASE app; CREATE TABLE app.t (k INT NOT NULL, v VARCHAR(8)) DISTRIBUTED BY HASH(k) BUCKETS 1")

	out := s.MustMySQL("select @@version_comment limit 1")
	require.True(t, strings.HasPrefix(out, "Strata version"), out)
	require.Equal(t, "5.7.99\n", s.MustMySQL("SELECT VERSION()"))
	require.Equal(t, "app\n", s.MustMySQL("SELECT DATABASE()", "-D", "app"))
	require.Equal(t, "NULL\n", s.MustMySQL("SELECT DATABASE()"))
	s.MustMySQL("SET NAMES utf8mb4; SET autocommit=1; SET sql_mode='STRICT_TRANS_TABLES'; SET character_set_results = NULL")
	s.MustMySQL("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; SET @x = 5")
	require.Equal(t, "0\t1\n", s.MustMySQL("SELECT @@lower_case_table_names, @@autocommit"))
	require.Equal(t, "STRICT_TRANS_TABLES\n", s.MustMySQL("SET sql_mode='STRICT_TRANS_TABLES'; SELECT @@sql_mode"))
	require.Equal(t, "t\n", s.MustMySQL("SHOW TABLES", "-D", "app"))
	// Without a KEY clause the leading columns up to the first string one are the sort key.
	require.Equal(t, "k\tINT\tNo\ttrue\tNULL\t\nv\tVARCHAR(8)\tYes\ttrue\tNULL\t\n", s.MustMySQL("DESC app.t"))
	// \G output and USE in one session.
	out = s.MustMySQL("USE app; SELECT 1 AS one\\G")
	require.Equal(t, "*************************** 1. row ***************************\n1\n", out)
	_, err := s.MySQL("SELECT @@no_such_variable")
	require.ErrorContains(t, err, "ERROR 1193")
}

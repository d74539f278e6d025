package session

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/auth"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/loader"
	"github.com/strata-db/strata/mysqlproto"
)

// newAuthEngine is newTestEngine with accounts kept in its etcd, and a
// load sink that checks stream loads against them.
func newAuthEngine(t *testing.T) *Engine {
	t.Helper()
	return buildTestEngine(t, nil, nil, true)
}

// login opens a session as user from host after checking password.
func login(t *testing.T, e *Engine, user, password, host string) (*Session, error) {
	t.Helper()
	if err := e.Authenticate(user, host, plainCred(password)); err != nil {
		return nil, err
	}
	ms, err := e.NewSession(uint32(len(user)+100), user, host, "")
	if err != nil {
		return nil, err
	}
	s := ms.(*Session)
	t.Cleanup(s.Close)
	return s, nil
}

type plainCred string

func (p plainCred) Match(hash []byte) bool {
	got := mysqlproto.NativeHash(string(p))
	return string(got) == string(hash)
}
func (p plainCred) Empty() bool { return p == "" }

// run runs one statement and returns its error.
func run(s *Session, text string) error {
	rs, err := s.Query(context.Background(), text)
	for _, r := range rs {
		if r.Rows != nil {
			r.Rows.Close()
		}
	}
	return err
}

// requireCode requires a MySQL error with code and, when msg is not "",
// that text.
func requireCode(t *testing.T, err error, code uint16, msg string) {
	t.Helper()
	var me *mysqlproto.Error
	require.True(t, errors.As(err, &me), "want error %d, got %v", code, err)
	require.Equal(t, code, me.Code, me.Message)
	if msg != "" {
		require.Equal(t, msg, me.Message)
	}
}

func TestPrivilegesOnStatements(t *testing.T) {
	e := newAuthEngine(t)
	root, err := login(t, e, "root", "", "127.0.0.1")
	require.NoError(t, err)
	for _, q := range []string{
		"CREATE DATABASE db1",
		"CREATE DATABASE db2",
		"CREATE TABLE db1.t (k INT, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES('replication_num'='1')",
		"CREATE TABLE db1.u (k INT, v INT) UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES('replication_num'='1')",
		"CREATE TABLE db2.s (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES('replication_num'='1')",
		"INSERT INTO db1.t VALUES (1, 10), (2, 20)",
		"INSERT INTO db1.u VALUES (1, 10)",
		"CREATE USER 'jack'@'%' IDENTIFIED BY 'pw1'",
	} {
		require.NoError(t, run(root, q), q)
	}

	// Wrong password, unknown user.
	_, err = login(t, e, "jack", "nope", "10.0.0.9")
	requireCode(t, err, 1045, "Access denied for user 'jack'@'10.0.0.9' (using password: YES)")
	_, err = login(t, e, "jill", "", "10.0.0.9")
	requireCode(t, err, 1045, "Access denied for user 'jill'@'10.0.0.9' (using password: NO)")
	// root's empty password only from loopback.
	_, err = login(t, e, "root", "", "10.0.0.9")
	requireCode(t, err, 1045, "")

	jack, err := login(t, e, "jack", "pw1", "10.0.0.9")
	require.NoError(t, err)
	requireCode(t, run(jack, "SELECT * FROM db1.t"), 1142, "SELECT command denied to user 'jack'@'10.0.0.9' for table 'db1.t'")
	requireCode(t, run(jack, "INSERT INTO db1.t VALUES (3, 30)"), 1142, "LOAD command denied to user 'jack'@'10.0.0.9' for table 'db1.t'")
	requireCode(t, run(jack, "USE db1"), 1044, "Access denied for user 'jack'@'10.0.0.9' to database 'db1'")
	_, err = e.NewSession(77, "jack", "10.0.0.9", "db1")
	requireCode(t, err, 1044, "")
	requireCode(t, run(jack, "CREATE DATABASE db3"), 1044, "")
	requireCode(t, run(jack, "DROP TABLE db1.t"), 1142, "DROP command denied to user 'jack'@'10.0.0.9' for table 'db1.t'")
	requireCode(t, run(jack, "ALTER TABLE db1.t ADD COLUMN w INT"), 1142, "")
	requireCode(t, run(jack, "CREATE MATERIALIZED VIEW mv AS SELECT k, sum(v) FROM db1.t GROUP BY k"), 1142,
		"ALTER command denied to user 'jack'@'10.0.0.9' for table 'db1.t'")
	requireCode(t, run(jack, "ALTER SYSTEM ADD BACKEND '1.2.3.4:9050'"), 1227,
		"Access denied; you need (at least one of) the (Node_priv) privilege(s) for this operation")
	requireCode(t, run(jack, "SHOW BACKENDS"), 1227, "")
	requireCode(t, run(jack, "CREATE USER 'x'@'%'"), 1227,
		"Access denied; you need (at least one of) the (Admin_priv,Grant_priv) privilege(s) for this operation")
	requireCode(t, run(jack, "GRANT SELECT_PRIV ON db1.* TO 'jack'@'%'"), 1227, "")
	requireCode(t, run(jack, "SET GLOBAL query_timeout = 10"), 1227, "")
	requireCode(t, run(jack, "SHOW ALL GRANTS"), 1227, "")
	requireCode(t, run(jack, "DESC db1.t"), 1142, "")
	require.Equal(t, []string{"information_schema", "mysql"}, query(t, jack, "SHOW DATABASES"))

	// Table-level SELECT.
	require.NoError(t, run(root, "GRANT SELECT_PRIV ON db1.t TO 'jack'@'%'"))
	require.Equal(t, []string{"1\t10", "2\t20"}, query(t, jack, "SELECT * FROM db1.t ORDER BY k"))
	requireCode(t, run(jack, "SELECT * FROM db1.t JOIN db1.u ON t.k = u.k"), 1142, "SELECT command denied to user 'jack'@'10.0.0.9' for table 'db1.u'")
	requireCode(t, run(jack, "SELECT * FROM (SELECT k FROM db1.u) x"), 1142, "")
	requireCode(t, run(jack, "EXPLAIN SELECT * FROM db1.u"), 1142, "")
	require.NoError(t, run(jack, "USE db1"))
	require.Equal(t, []string{"t"}, query(t, jack, "SHOW TABLES"))
	require.Equal(t, []string{"db1", "information_schema", "mysql"}, query(t, jack, "SHOW DATABASES"))
	require.Equal(t, []string{"db1\tt"}, query(t, jack,
		"SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.tables WHERE TABLE_SCHEMA NOT IN ('information_schema', 'mysql') ORDER BY 1, 2"))
	requireCode(t, run(jack, "INSERT INTO t VALUES (3, 30)"), 1142, "")

	// Load on the database: INSERT, INSERT ... SELECT (with SELECT on the
	// source), DELETE and UPDATE.
	require.NoError(t, run(root, "GRANT LOAD_PRIV ON db1.* TO 'jack'@'%'"))
	require.NoError(t, run(jack, "INSERT INTO t VALUES (3, 30)"))
	require.NoError(t, run(jack, "INSERT INTO t SELECT k + 10, v FROM t"))
	requireCode(t, run(jack, "INSERT INTO t SELECT k, v FROM db2.s"), 1142, "")
	require.NoError(t, run(jack, "UPDATE u SET v = 11 WHERE k = 1"))
	require.NoError(t, run(jack, "DELETE FROM u WHERE k = 1"))
	requireCode(t, run(jack, "INSERT INTO db2.s VALUES (1)"), 1142, "")

	// A stream load begins only with Load_priv on its table.
	_, err = e.Loads.Begin(context.Background(), loader.BeginRequest{DB: "db2", Table: "s", Label: "l1", User: "jack", Host: "10.0.0.9", CheckPrivilege: true})
	requireCode(t, err, 1142, "LOAD command denied to user 'jack'@'10.0.0.9' for table 'db2.s'")
	l, err := e.Loads.Begin(context.Background(), loader.BeginRequest{DB: "db1", Table: "t", Label: "l2", User: "jack", Host: "10.0.0.9", CheckPrivilege: true})
	require.NoError(t, err)
	require.NoError(t, l.Abort(context.Background(), "test"))

	// Roles.
	require.NoError(t, run(root, "CREATE ROLE 'r2'"))
	require.NoError(t, run(root, "GRANT SELECT_PRIV ON db2.* TO ROLE 'r2'"))
	requireCode(t, run(jack, "SELECT * FROM db2.s"), 1142, "")
	require.NoError(t, run(root, "GRANT 'r2' TO 'jack'@'%'"))
	require.Empty(t, query(t, jack, "SELECT * FROM db2.s"))
	require.Equal(t, []string{"'jack'@'%'\t\tYes\tr2\tNULL\tNULL\tinternal.db1: Load_priv; internal.db2: Select_priv\tinternal.db1.t: Select_priv\tNULL\tNULL\tNULL"},
		query(t, jack, "SHOW GRANTS"))
	require.NoError(t, run(root, "REVOKE 'r2' FROM 'jack'@'%'"))
	requireCode(t, run(jack, "SELECT * FROM db2.s"), 1142, "")

	// REVOKE takes a grant away at once.
	require.NoError(t, run(root, "REVOKE SELECT_PRIV ON db1.t FROM 'jack'@'%'"))
	requireCode(t, run(jack, "SELECT * FROM db1.t"), 1142, "")
	requireCode(t, run(root, "REVOKE SELECT_PRIV ON db1.t FROM 'jack'@'%'"), 1141, "")

	// Create and drop need their privileges.
	require.NoError(t, run(root, "GRANT CREATE_PRIV, DROP_PRIV, ALTER_PRIV ON db2.* TO 'jack'@'%'"))
	require.NoError(t, run(jack, "CREATE TABLE db2.n (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES('replication_num'='1')"))
	require.NoError(t, run(jack, "DROP TABLE db2.n"))
	requireCode(t, run(jack, "DROP DATABASE db1"), 1044, "")

	// Passwords: one's own, others' only with Grant_priv.
	require.NoError(t, run(jack, "SET PASSWORD = PASSWORD('pw2')"))
	_, err = login(t, e, "jack", "pw1", "10.0.0.9")
	requireCode(t, err, 1045, "")
	_, err = login(t, e, "jack", "pw2", "10.0.0.9")
	require.NoError(t, err)
	requireCode(t, run(jack, "SET PASSWORD FOR 'root'@'%' = PASSWORD('x')"), 1227, "")
	require.NoError(t, run(root, "SET PASSWORD FOR 'jack'@'%' = '"+auth.FormatHash(mysqlproto.NativeHash("pw3"))+"'"))
	_, err = login(t, e, "jack", "pw3", "10.0.0.9")
	require.NoError(t, err)
	require.NoError(t, run(root, "ALTER USER 'jack'@'%' IDENTIFIED BY 'pw4'"))
	_, err = login(t, e, "jack", "pw4", "10.0.0.9")
	require.NoError(t, err)

	// A user with Grant_priv manages accounts.
	require.NoError(t, run(root, "GRANT GRANT_PRIV ON *.* TO 'jack'@'%'"))
	require.NoError(t, run(jack, "CREATE USER 'jill'@'%' IDENTIFIED BY PASSWORD '"+auth.FormatHash(mysqlproto.NativeHash("j"))+"'"))
	_, err = login(t, e, "jill", "j", "10.0.0.8")
	require.NoError(t, err)
	requireCode(t, run(jack, "GRANT NODE_PRIV ON *.* TO 'jill'@'%'"), 1227, "")
	requireCode(t, run(jack, "CREATE USER 'jill'@'%'"), 1396, "Operation CREATE USER failed for 'jill'@'%'")
	require.NoError(t, run(jack, "CREATE USER IF NOT EXISTS 'jill'@'%'"))
	require.NoError(t, run(jack, "DROP USER 'jill'@'%'"))
	_, err = login(t, e, "jill", "j", "10.0.0.8")
	requireCode(t, err, 1045, "")
	require.NoError(t, run(jack, "DROP USER IF EXISTS 'jill'@'%'"))
	requireCode(t, run(jack, "DROP USER 'jill'@'%'"), 1396, "")
	require.NoError(t, run(root, "DROP ROLE 'r2'"))
	require.Contains(t, query(t, root, "SHOW ROLES")[0], "admin")

	// SHOW PRIVILEGES, information_schema and mysql.user.
	require.Len(t, query(t, jack, "SHOW PRIVILEGES"), 9)
	rows := query(t, root, "SELECT User, Host, Select_priv, Node_priv FROM mysql.user ORDER BY User")
	require.Equal(t, []string{"admin\t%\tY\tN", "jack\t%\tN\tN", "root\t%\tY\tY"}, rows)
	require.Equal(t, []string{"'jack'@'%'\tdb1\tLOAD", "'jack'@'%'\tdb2\tALTER", "'jack'@'%'\tdb2\tCREATE", "'jack'@'%'\tdb2\tDROP"},
		query(t, root, "SELECT GRANTEE, TABLE_SCHEMA, PRIVILEGE_TYPE FROM information_schema.schema_privileges WHERE GRANTEE = '''jack''@''%''' ORDER BY 2, 3"))
	require.Equal(t, []string{"'jack'@'%'\tGRANT"},
		query(t, root, "SELECT GRANTEE, PRIVILEGE_TYPE FROM information_schema.user_privileges WHERE GRANTEE LIKE '%jack%'"))
}

func TestForwardedAccountStatementsRunAsTheSender(t *testing.T) {
	e := newAuthEngine(t)
	root, err := login(t, e, "root", "", "127.0.0.1")
	require.NoError(t, err)
	require.NoError(t, run(root, "CREATE USER 'bob'@'%' IDENTIFIED BY 'b'"))
	require.True(t, forwarded(mustParse(t, "GRANT SELECT_PRIV ON *.* TO 'bob'@'%'")))
	require.True(t, forwarded(mustParse(t, "SET PASSWORD = PASSWORD('x')")))
	_, err = e.ExecuteForwarded(context.Background(), ForwardRequest{SQL: "CREATE USER 'eve'@'%'", User: "bob", Host: "10.1.1.1"})
	requireCode(t, err, 1227, "")
	resp, err := e.ExecuteForwarded(context.Background(), ForwardRequest{SQL: "CREATE USER 'eve'@'%'", User: "root", Host: "127.0.0.1"})
	require.NoError(t, err)
	require.GreaterOrEqual(t, resp.Revision, e.Auth.Revision())
	require.NotNil(t, e.Auth.State().User(auth.Identity{User: "eve", Host: "%"}))
}

func mustParse(t *testing.T, text string) sql.Stmt {
	t.Helper()
	st, err := sql.Parse(text)
	require.NoError(t, err)
	return st
}

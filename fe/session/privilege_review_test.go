package session

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/fe/auth"
	"github.com/strata-db/strata/loader"
)

var nextConnID atomic.Uint32

// loginAs is login with a connection id of its own, so that one user may
// hold several sessions.
func loginAs(t *testing.T, e *Engine, user, password, host string) *Session {
	t.Helper()
	require.NoError(t, e.Authenticate(user, host, plainCred(password)))
	ms, err := e.NewSession(1000+nextConnID.Add(1), user, host, "")
	require.NoError(t, err)
	s := ms.(*Session)
	t.Cleanup(s.Close)
	return s
}

// setupReview makes db1.t (duplicate), db1.u (unique), db2.s and the
// users jack (no privileges) and gina (Grant_priv on *.*).
func setupReview(t *testing.T) (*Engine, *Session) {
	t.Helper()
	e := newAuthEngine(t)
	root := loginAs(t, e, "root", "", "127.0.0.1")
	for _, q := range []string{
		"CREATE DATABASE db1",
		"CREATE DATABASE db2",
		"CREATE TABLE db1.t (k INT, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES('replication_num'='1')",
		"CREATE TABLE db1.u (k INT, v INT) UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES('replication_num'='1')",
		"CREATE TABLE db2.s (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES('replication_num'='1')",
		"CREATE USER 'jack'@'%' IDENTIFIED BY 'pw1'",
		"CREATE USER 'gina'@'%' IDENTIFIED BY 'pw2'",
		"GRANT GRANT_PRIV ON *.* TO 'gina'@'%'",
	} {
		require.NoError(t, run(root, q), q)
	}
	return e, root
}

func TestRolesCannotCarryNodePriv(t *testing.T) {
	e, root := setupReview(t)
	gina := loginAs(t, e, "gina", "pw2", "10.0.0.2")
	denied := "Access denied; you need (at least one of) the (Node_priv) privilege(s) for this operation"
	requireCode(t, run(gina, "GRANT 'operator' TO 'jack'@'%'"), 1227, denied)
	requireCode(t, run(gina, "GRANT 'operator' TO 'admin'@'%'"), 1227, denied)
	requireCode(t, run(gina, "CREATE USER 'x'@'%' DEFAULT ROLE 'operator'"), 1227, denied)
	// Not even root grants the operator role (Doris).
	requireCode(t, run(root, "GRANT 'operator' TO 'jack'@'%'"), 1105, "Can not granted/revoke role to user: operator")
	requireCode(t, run(root, "CREATE USER 'x'@'%' DEFAULT ROLE 'operator'"), 1105, "Can not granted user to role: operator")
	// A role given Node_priv by root is granted only by a holder of it.
	require.NoError(t, run(root, "CREATE ROLE 'ops'"))
	require.NoError(t, run(root, "GRANT NODE_PRIV ON *.* TO ROLE 'ops'"))
	requireCode(t, run(gina, "GRANT 'ops' TO 'jack'@'%'"), 1227, denied)
	requireCode(t, run(gina, "CREATE USER 'y'@'%' DEFAULT ROLE 'ops'"), 1227, denied)
	require.NoError(t, run(root, "GRANT 'ops' TO 'jack'@'%'"))
	// Other roles stay Grant_priv's business.
	require.NoError(t, run(gina, "GRANT 'admin' TO 'jack'@'%'"))
	eff := e.Auth.EffectiveOf(auth.Identity{User: "jack", Host: "%"})
	require.True(t, eff.GlobalHas(auth.NodePriv|auth.AdminPriv))
	require.False(t, e.Auth.EffectiveOf(auth.Identity{User: "admin", Host: "%"}).GlobalHas(auth.NodePriv))
}

func TestOnlyRootChangesRootsPassword(t *testing.T) {
	e, root := setupReview(t)
	gina := loginAs(t, e, "gina", "pw2", "10.0.0.2")
	requireCode(t, run(gina, "SET PASSWORD FOR 'root'@'%' = PASSWORD('x')"), 1227, "Can not set password for root user, except root itself")
	requireCode(t, run(gina, "ALTER USER 'root'@'%' IDENTIFIED BY 'x'"), 1227, "Only root user can modify root user")
	requireCode(t, run(gina, "ALTER USER root IDENTIFIED BY 'x'"), 1227, "Only root user can modify root user")
	require.False(t, e.Auth.State().User(auth.Identity{User: "root", Host: "%"}).HasPassword())
	// admin, with Admin_priv and Grant_priv, neither.
	adm := loginAs(t, e, "admin", "", "127.0.0.1")
	requireCode(t, run(adm, "SET PASSWORD FOR 'root'@'%' = PASSWORD('x')"), 1227, "")
	// Root itself may; other users' passwords stay Grant_priv's.
	require.NoError(t, run(gina, "SET PASSWORD FOR 'jack'@'%' = PASSWORD('j2')"))
	require.NoError(t, run(root, "SET PASSWORD FOR 'root'@'%' = PASSWORD('r')"))
	loginAs(t, e, "root", "r", "10.9.9.9")
}

func TestSystemUserNamesCannotBeCreated(t *testing.T) {
	e, root := setupReview(t)
	requireCode(t, run(root, "CREATE USER 'root'@'10.0.0.1' IDENTIFIED BY 'x'"), 1105, "Can not create system user")
	requireCode(t, run(root, "CREATE USER 'admin'@'localhost'"), 1105, "Can not create system user")
	require.Nil(t, e.Auth.State().User(auth.Identity{User: "root", Host: "10.0.0.1"}))
}

func TestProcesslistAndProfilesShowOwnStatements(t *testing.T) {
	e, root := setupReview(t)
	require.NoError(t, run(root, "GRANT SELECT_PRIV ON db1.* TO 'jack'@'%'"))
	jack := loginAs(t, e, "jack", "pw1", "10.0.0.1")
	jack2 := loginAs(t, e, "jack", "pw1", "10.0.0.1")
	gina := loginAs(t, e, "gina", "pw2", "10.0.0.2")
	users := func(s *Session) []string {
		var out []string
		for _, p := range s.Processes() {
			out = append(out, p.User)
		}
		return out
	}
	require.Equal(t, []string{"jack", "jack"}, users(jack))
	require.ElementsMatch(t, []string{"root", "jack", "jack", "gina"}, users(gina))
	require.Len(t, query(t, jack2, "SHOW PROCESSLIST"), 2)
	require.Len(t, query(t, jack, "SELECT ID FROM information_schema.processlist"), 2)

	// Profiles: passwords redacted, others' statements hidden.
	require.NoError(t, run(root, "SET enable_profile = true"))
	require.NoError(t, run(root, "CREATE USER 'pat'@'%' IDENTIFIED BY 'hunter2'"))
	require.NoError(t, run(root, "SET PASSWORD FOR 'pat'@'%' = PASSWORD('hunter3')"))
	require.NoError(t, run(jack, "SET enable_profile = true"))
	require.NoError(t, run(jack, "SELECT * FROM db1.t"))
	all := query(t, root, `SHOW QUERY PROFILE "/"`)
	text := strings.Join(all, "\n")
	require.NotContains(t, text, "hunter")
	require.Contains(t, text, "IDENTIFIED BY '*****'")
	require.Contains(t, text, "PASSWORD('*****')")
	own := query(t, jack, `SHOW QUERY PROFILE "/"`)
	require.Len(t, own, 1)
	require.Contains(t, own[0], "SELECT * FROM db1.t")
	rootID := strings.Split(all[len(all)-1], "\t")[0]
	requireCode(t, run(jack, `SHOW QUERY PROFILE "/`+rootID+`"`), 1227, "")
	jackID := strings.Split(own[0], "\t")[0]
	require.NotEmpty(t, query(t, jack, `SHOW QUERY PROFILE "/`+jackID+`"`))
	require.NotEmpty(t, query(t, root, `SHOW QUERY PROFILE "/`+jackID+`"`))
}

func TestRedactPasswords(t *testing.T) {
	for in, want := range map[string]string{
		"CREATE USER 'a'@'%' IDENTIFIED BY 'se''cr\\'et'":                "CREATE USER 'a'@'%' IDENTIFIED BY '*****'",
		"alter user a identified by password '*ABCDEF'":                  "alter user a identified by password '*****'",
		"SET PASSWORD FOR 'a'@'%' = PASSWORD(\"x\")":                     "SET PASSWORD FOR 'a'@'%' = PASSWORD('*****')",
		"SET PASSWORD = '*0123'":                                         "SET PASSWORD = '*****'",
		"SELECT * FROM t WHERE s = 'identified'":                         "SELECT * FROM t WHERE s = 'identified'",
		"CREATE USER IF NOT EXISTS b IDENTIFIED BY 'p' DEFAULT ROLE 'r'": "CREATE USER IF NOT EXISTS b IDENTIFIED BY '*****' DEFAULT ROLE 'r'",
	} {
		require.Equal(t, want, redactPasswords(in), in)
	}
}

func TestFieldListNeedsAVisibleTable(t *testing.T) {
	e, root := setupReview(t)
	jack := loginAs(t, e, "jack", "pw1", "10.0.0.1")
	require.NoError(t, run(root, "GRANT SELECT_PRIV ON db1.t TO 'jack'@'%'"))
	require.NoError(t, run(jack, "USE db1"))
	_, err := jack.FieldList(context.Background(), "u", "")
	requireCode(t, err, 1142, "SHOW command denied to user 'jack'@'10.0.0.1' for table 'db1.u'")
	fields, err := jack.FieldList(context.Background(), "t", "")
	require.NoError(t, err)
	require.Len(t, fields, 2)
}

func TestShowTableStatusListsVisibleTables(t *testing.T) {
	e, root := setupReview(t)
	jack := loginAs(t, e, "jack", "pw1", "10.0.0.1")
	require.NoError(t, run(root, "GRANT SELECT_PRIV ON db1.t TO 'jack'@'%'"))
	rows := query(t, jack, "SHOW TABLE STATUS FROM db1")
	require.Len(t, rows, 1)
	require.True(t, strings.HasPrefix(rows[0], "t\t"), rows[0])
}

func TestShowLoadsAndJobsNeedPrivileges(t *testing.T) {
	e, root := setupReview(t)
	require.NoError(t, run(root, "INSERT INTO db1.t VALUES (1, 1)"))
	require.NoError(t, run(root, "INSERT INTO db1.u VALUES (1, 1)"))
	require.NoError(t, run(root, "CREATE TABLE db1.d (k INT, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES('replication_num'='1')"))
	require.NoError(t, run(root, "ALTER TABLE db1.d ADD ROLLUP r1 (v, k)"))
	jack := loginAs(t, e, "jack", "pw1", "10.0.0.1")
	for _, q := range []string{"SHOW LOAD FROM db1", "SHOW STREAM LOAD FROM db1", "SHOW ALTER TABLE COLUMN FROM db1",
		"SHOW ALTER TABLE ROLLUP FROM db1", "SHOW ALTER TABLE MATERIALIZED VIEW FROM db1"} {
		requireCode(t, run(jack, q), 1044, "Access denied for user 'jack'@'10.0.0.1' to database 'db1'")
	}
	requireCode(t, run(jack, "SHOW TRANSACTION FROM db1 WHERE ID = 1"), 1227,
		"Access denied; you need (at least one of) the (Admin_priv) privilege(s) for this operation")
	require.NoError(t, run(root, "GRANT LOAD_PRIV ON db1.t TO 'jack'@'%'"))
	require.Len(t, query(t, root, "SHOW LOAD FROM db1"), 2)
	rows := query(t, jack, "SHOW LOAD FROM db1")
	require.Len(t, rows, 1)
	require.Empty(t, query(t, jack, "SHOW ALTER TABLE ROLLUP FROM db1"))
	require.Len(t, query(t, root, "SHOW ALTER TABLE ROLLUP FROM db1"), 1)
	requireCode(t, run(jack, "SHOW TRANSACTION FROM db1 WHERE ID = 1"), 1227, "")
}

func TestKillNeedsAdmin(t *testing.T) {
	e, root := setupReview(t)
	jack := loginAs(t, e, "jack", "pw1", "10.0.0.1")
	jack2 := loginAs(t, e, "jack", "pw1", "10.0.0.1")
	gina := loginAs(t, e, "gina", "pw2", "10.0.0.2")
	require.True(t, mayKill(jack, jack2))
	require.False(t, mayKill(jack, gina))
	require.False(t, mayKill(gina, jack), "Grant_priv is not Admin_priv")
	require.True(t, mayKill(root, jack))
	// A user named admin or root no longer matters: the privilege does.
	require.NoError(t, run(root, "GRANT ADMIN_PRIV ON *.* TO 'jack'@'%'"))
	require.True(t, mayKill(jack, gina))
	adm := loginAs(t, e, "admin", "", "127.0.0.1")
	require.True(t, mayKill(adm, gina))
	require.NoError(t, run(root, "REVOKE 'admin' FROM 'admin'@'%'"))
	require.False(t, mayKill(adm, gina))
}

func TestPrivilegesFollowTheLoginIdentity(t *testing.T) {
	e, root := setupReview(t)
	require.NoError(t, run(root, "GRANT SELECT_PRIV ON db1.* TO 'jack'@'%'"))
	jack := loginAs(t, e, "jack", "pw1", "10.0.0.1")
	require.NoError(t, run(jack, "SELECT * FROM db1.t"))
	// A more specific identity appearing later does not change what the
	// open session is.
	require.NoError(t, run(root, "CREATE USER 'jack'@'10.0.0.1' IDENTIFIED BY 'other'"))
	require.NoError(t, run(root, "GRANT SELECT_PRIV ON db2.* TO 'jack'@'10.0.0.1'"))
	require.NoError(t, run(jack, "SELECT * FROM db1.t"))
	requireCode(t, run(jack, "SELECT * FROM db2.s"), 1142, "")
	// SET PASSWORD without FOR changes the login identity's password.
	require.NoError(t, run(jack, "SET PASSWORD = PASSWORD('pw9')"))
	require.NoError(t, e.Authenticate("jack", "10.9.9.9", plainCred("pw9")))
	require.NoError(t, e.Authenticate("jack", "10.0.0.1", plainCred("other")))
	// Dropped: no privileges any more, even though a user named jack from
	// this host still exists.
	require.NoError(t, run(root, "DROP USER 'jack'@'%'"))
	requireCode(t, run(jack, "SELECT * FROM db1.t"), 1142, "")
	requireCode(t, run(jack, "USE db2"), 1044, "")

	// A forwarded statement runs as the identity the sender logged in as.
	require.NoError(t, run(root, "CREATE USER 'kim'@'%' IDENTIFIED BY 'k'"))
	require.NoError(t, run(root, "GRANT GRANT_PRIV ON *.* TO 'kim'@'%'"))
	require.NoError(t, run(root, "CREATE USER 'kim'@'10.0.0.1' IDENTIFIED BY 'k2'"))
	id := auth.Identity{User: "kim", Host: "10.0.0.1"}
	_, err := e.ExecuteForwarded(context.Background(), ForwardRequest{SQL: "CREATE USER 'eve'@'%'", User: "kim", Host: "10.0.0.1", Identity: &id})
	requireCode(t, err, 1227, "")
	id = auth.Identity{User: "kim", Host: "%"}
	_, err = e.ExecuteForwarded(context.Background(), ForwardRequest{SQL: "CREATE USER 'eve'@'%'", User: "kim", Host: "10.0.0.1", Identity: &id})
	require.NoError(t, err)
}

func TestWriteTargetEndsWithItsStatement(t *testing.T) {
	e, root := setupReview(t)
	require.NoError(t, run(root, "INSERT INTO db1.u VALUES (1, 1)"))
	require.NoError(t, run(root, "GRANT LOAD_PRIV ON db1.u TO 'jack'@'%'"))
	jack := loginAs(t, e, "jack", "pw1", "10.0.0.1")
	require.NoError(t, run(jack, "DELETE FROM db1.u WHERE k = 1"))
	require.Nil(t, jack.writeTarget)
	_, err := jack.Prepare(context.Background(), "SELECT * FROM db1.u")
	requireCode(t, err, 1142, "SELECT command denied to user 'jack'@'10.0.0.1' for table 'db1.u'")
}

func TestStreamLoadChecksFailClosed(t *testing.T) {
	e, root := setupReview(t)
	ctx := context.Background()
	// A stream load request that must be checked and has no address.
	_, err := e.Loads.Begin(ctx, loader.BeginRequest{DB: "db1", Table: "t", Label: "a", User: "jack", CheckPrivilege: true})
	require.ErrorContains(t, err, "privileges cannot be checked")
	_, err = e.Loads.Begin(ctx, loader.BeginRequest{DB: "db1", Table: "t", Label: "b", User: "jack", Host: "10.0.0.1", CheckPrivilege: true})
	requireCode(t, err, 1142, "")

	// Two-phase decisions need Load_priv on the transaction's table.
	sk := e.Loads.(*sink.Sink)
	l, err := sk.Begin(ctx, loader.BeginRequest{DB: "db1", Table: "t", Label: "two", User: "root", Host: "127.0.0.1",
		CheckPrivilege: true, TwoPhaseCommit: true})
	require.NoError(t, err)
	txnID := l.TxnID()
	_, err = l.Commit(ctx) // precommits
	require.NoError(t, err)
	req := loader.TxnRequest{DB: "db1", TxnID: txnID, User: "jack", Host: "10.0.0.1"}
	requireCode(t, sk.AbortTxn(ctx, req), 1142, "LOAD command denied to user 'jack'@'10.0.0.1' for table 'db1.t'")
	requireCode(t, sk.CommitTxn(ctx, req), 1142, "")
	req.Host = ""
	require.ErrorContains(t, sk.CommitTxn(ctx, req), "privileges cannot be checked")
	require.NoError(t, run(root, "GRANT LOAD_PRIV ON db1.t TO 'jack'@'%'"))
	req.Host = "10.0.0.1"
	require.NoError(t, sk.CommitTxn(ctx, req))
}

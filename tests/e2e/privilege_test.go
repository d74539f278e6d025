package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// nonLoopbackIPv4 is an IPv4 address of this machine that is not
// loopback, "" if it has none.
func nonLoopbackIPv4() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	return ""
}

// TestUsersAndPrivileges drives users, roles and grants with the real
// mysql client and curl: what a user may not do is refused with MySQL's
// error codes, on SQL and on stream load, until it is granted.
func TestUsersAndPrivileges(t *testing.T) {
	// Every address, so that root can also connect from a non-loopback one.
	s := startServer(t, "", "--bind", "0.0.0.0")
	s.MustMySQL(`CREATE DATABASE privdb;
		CREATE TABLE privdb.t (k INT, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1');
		INSERT INTO privdb.t VALUES (1, 10);
		CREATE USER 'jack'@'%' IDENTIFIED BY 'Secret1';`)
	jack := []string{"-ujack", "--password=Secret1"}

	data := filepath.Join(t.TempDir(), "rows.csv")
	require.NoError(t, os.WriteFile(data, []byte("2,20\n3,30\n"), 0o644))
	load := func(label, user string) map[string]any {
		t.Helper()
		out, err := s.Curl("--location-trusted", "-u", user, "-T", data, "-H", "Expect: 100-continue",
			"-H", "column_separator:,", "-H", "label:"+label,
			fmt.Sprintf("http://127.0.0.1:%d/api/privdb/t/_stream_load", s.HTTP))
		require.NoError(t, err)
		return decodeJSON(t, out)
	}

	// Wrong password.
	_, err := s.MySQL("SELECT 1", "-ujack", "--password=wrong")
	require.ErrorContains(t, err, "ERROR 1045")

	// No privileges yet: SELECT, INSERT and stream load are refused.
	_, err = s.MySQL("SELECT * FROM privdb.t", jack...)
	require.ErrorContains(t, err, "ERROR 1142")
	require.ErrorContains(t, err, "SELECT command denied to user 'jack'")
	_, err = s.MySQL("INSERT INTO privdb.t VALUES (9, 90)", jack...)
	require.ErrorContains(t, err, "ERROR 1142")
	_, err = s.MySQL("USE privdb", jack...)
	require.ErrorContains(t, err, "ERROR 1044")
	resp := load("denied1", "jack:Secret1")
	require.Equal(t, "Fail", resp["Status"], "%v", resp)
	require.Contains(t, resp["Message"], "LOAD command denied to user 'jack'")
	// A wrong password is refused already by the frontend's redirect.
	resp = load("badpw", "jack:nope")
	require.Contains(t, fmt.Sprint(resp), "Access denied for user 'jack'")
	require.NotContains(t, s.MustMySQL("SHOW DATABASES", jack...), "privdb")

	// Granted, both work.
	s.MustMySQL("GRANT SELECT_PRIV, LOAD_PRIV ON privdb.* TO 'jack'@'%'")
	require.Equal(t, "1\t10\n", s.MustMySQL("SELECT * FROM privdb.t", jack...))
	s.MustMySQL("INSERT INTO privdb.t VALUES (4, 40)", jack...)
	resp = load("granted1", "jack:Secret1")
	require.Equal(t, "Success", resp["Status"], "%v", resp)
	require.Equal(t, "1\n2\n3\n4\n", s.MustMySQL("SELECT k FROM privdb.t ORDER BY k", jack...))
	require.Contains(t, s.MustMySQL("SHOW GRANTS", jack...), "internal.privdb: Select_priv,Load_priv")

	// REVOKE takes them away again.
	s.MustMySQL("REVOKE SELECT_PRIV, LOAD_PRIV ON privdb.* FROM 'jack'@'%'")
	_, err = s.MySQL("SELECT * FROM privdb.t", jack...)
	require.ErrorContains(t, err, "ERROR 1142")
	resp = load("denied2", "jack:Secret1")
	require.Equal(t, "Fail", resp["Status"], "%v", resp)

	// A role's grants apply to its members, until the role is revoked.
	s.MustMySQL(`CREATE ROLE 'reader';
		GRANT SELECT_PRIV ON privdb.t TO ROLE 'reader';
		GRANT 'reader' TO 'jack'@'%';`)
	require.Equal(t, "4\n", s.MustMySQL("SELECT count(*) FROM privdb.t", jack...))
	_, err = s.MySQL("INSERT INTO privdb.t VALUES (5, 50)", jack...)
	require.ErrorContains(t, err, "ERROR 1142")
	s.MustMySQL("REVOKE 'reader' FROM 'jack'@'%'")
	_, err = s.MySQL("SELECT count(*) FROM privdb.t", jack...)
	require.ErrorContains(t, err, "ERROR 1142")

	// Account statements need Grant_priv.
	_, err = s.MySQL("CREATE USER 'eve'@'%'", jack...)
	require.ErrorContains(t, err, "ERROR 1227")
	require.Contains(t, s.MustMySQL("SELECT User FROM mysql.user ORDER BY User"), "jack")

	// root's empty password is for loopback only.
	ip := nonLoopbackIPv4()
	if ip == "" {
		t.Log("no non-loopback address: the loopback rule is covered by fe/auth's tests")
		return
	}
	_, err = s.MySQL("SELECT 1", "-h"+ip)
	require.ErrorContains(t, err, "ERROR 1045")
	require.True(t, strings.Contains(err.Error(), "root"), err.Error())
	// With a password, root logs in from anywhere.
	s.MustMySQL("SET PASSWORD FOR 'root'@'%' = PASSWORD('RootPw1')")
	require.Equal(t, "1\n", s.MustMySQL("SELECT 1", "-h"+ip, "--password=RootPw1"))
}

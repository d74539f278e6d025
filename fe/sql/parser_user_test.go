package sql

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseAccountStmts(t *testing.T) {
	cu := mustParse(t, "CREATE USER IF NOT EXISTS 'jack'@'192.168.%' IDENTIFIED BY 'secret' DEFAULT ROLE 'r1'").(*CreateUserStmt)
	require.True(t, cu.IfNotExists)
	require.Equal(t, UserIdent{User: "jack", Host: "192.168.%"}, cu.User)
	require.Equal(t, &Password{Text: "secret"}, cu.Password)
	require.Equal(t, "r1", cu.DefaultRole)

	cu = mustParse(t, "create user jack identified by password '*ABCD'").(*CreateUserStmt)
	require.Equal(t, UserIdent{User: "jack", Host: "%"}, cu.User)
	require.Equal(t, &Password{Text: "*ABCD", Hashed: true}, cu.Password)

	cu = mustParse(t, "CREATE USER `jill`@localhost").(*CreateUserStmt)
	require.Equal(t, UserIdent{User: "jill", Host: "localhost"}, cu.User)
	require.Nil(t, cu.Password)

	du := mustParse(t, "DROP USER IF EXISTS 'jack'@'%'").(*DropUserStmt)
	require.True(t, du.IfExists)
	require.Equal(t, "jack", du.User.User)

	au := mustParse(t, "ALTER USER 'jack' IDENTIFIED BY 'x'").(*AlterUserStmt)
	require.Equal(t, &Password{Text: "x"}, au.Password)

	sp := mustParse(t, "SET PASSWORD = PASSWORD('abc')").(*SetPasswordStmt)
	require.Nil(t, sp.User)
	require.Equal(t, Password{Text: "abc"}, sp.Password)
	sp = mustParse(t, "SET PASSWORD FOR 'jack'@'%' = '*ABC'").(*SetPasswordStmt)
	require.Equal(t, &UserIdent{User: "jack", Host: "%"}, sp.User)
	require.Equal(t, Password{Text: "*ABC", Hashed: true}, sp.Password)

	cr := mustParse(t, "CREATE ROLE 'analyst'").(*CreateRoleStmt)
	require.Equal(t, "analyst", cr.Name)
	dr := mustParse(t, "DROP ROLE IF EXISTS analyst").(*DropRoleStmt)
	require.True(t, dr.IfExists)
	require.Equal(t, "analyst", dr.Name)
}

func TestParseGrant(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want GrantStmt
	}{
		{"GRANT SELECT_PRIV, load_priv ON db1.* TO 'u'@'%'",
			GrantStmt{Privs: []string{"SELECT_PRIV", "load_priv"}, Level: PrivLevel{DB: "db1", Table: "*"}, ToUser: UserIdent{User: "u", Host: "%"}}},
		{"GRANT SELECT ON *.* TO u",
			GrantStmt{Privs: []string{"SELECT"}, Level: PrivLevel{DB: "*", Table: "*"}, ToUser: UserIdent{User: "u", Host: "%"}}},
		{"GRANT ALL PRIVILEGES ON internal.db1.t1 TO ROLE 'r'",
			GrantStmt{Privs: []string{"ALL"}, Level: PrivLevel{Catalog: "internal", DB: "db1", Table: "t1"}, ToRole: "r"}},
		{"GRANT Admin_priv ON *.*.* TO 'a'@'10.0.0.1'",
			GrantStmt{Privs: []string{"Admin_priv"}, Level: PrivLevel{Catalog: "*", DB: "*", Table: "*"}, ToUser: UserIdent{User: "a", Host: "10.0.0.1"}}},
		{"GRANT SELECT_PRIV ON t1 TO u",
			GrantStmt{Privs: []string{"SELECT_PRIV"}, Level: PrivLevel{Table: "t1"}, ToUser: UserIdent{User: "u", Host: "%"}}},
		{"GRANT 'r1', 'r2' TO 'u'@'%'",
			GrantStmt{Roles: []string{"r1", "r2"}, ToUser: UserIdent{User: "u", Host: "%"}}},
		{"REVOKE DROP_PRIV ON db1.t1 FROM ROLE r",
			GrantStmt{Revoke: true, Privs: []string{"DROP_PRIV"}, Level: PrivLevel{DB: "db1", Table: "t1"}, ToRole: "r"}},
		{"REVOKE 'r1' FROM 'u'",
			GrantStmt{Revoke: true, Roles: []string{"r1"}, ToUser: UserIdent{User: "u", Host: "%"}}},
	} {
		got := mustParse(t, tc.sql).(*GrantStmt)
		got.stmtBase = stmtBase{}
		require.Equal(t, tc.want, *got, tc.sql)
	}
	for _, bad := range []string{
		"GRANT SELECT_PRIV ON *.t1 TO u",
		"GRANT SELECT_PRIV db.* TO u",
		"GRANT SELECT_PRIV ON db.* u",
		"REVOKE SELECT_PRIV ON db.* TO u",
		"GRANT 'r' FROM u",
		"CREATE USER CURRENT_USER",
		"ALTER USER u",
	} {
		_, err := Parse(bad)
		require.Error(t, err, bad)
	}
}

func TestParseShowAllGrants(t *testing.T) {
	sh := mustParse(t, "SHOW ALL GRANTS").(*ShowStmt)
	require.Equal(t, "ALL GRANTS", sh.Kind)
	sh = mustParse(t, "SHOW GRANTS FOR 'u'@'%'").(*ShowStmt)
	require.Equal(t, "GRANTS", sh.Kind)
	require.Equal(t, "'u'@'%'", sh.Name)
}

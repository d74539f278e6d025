package auth

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/mysqlproto"
)

func TestHostMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, host string
		want          bool
	}{
		{"%", "1.2.3.4", true},
		{"1.2.3.4", "1.2.3.4", true},
		{"1.2.3.4", "1.2.3.5", false},
		{"192.168.%", "192.168.0.7", true},
		{"192.168.%", "10.168.0.7", false},
		{"10.0.0._", "10.0.0.7", true},
		{"10.0.0._", "10.0.0.17", false},
		{"localhost", "127.0.0.1", true},
		{"localhost", "::1", true},
		{"localhost", "10.0.0.1", false},
	} {
		require.Equal(t, tc.want, hostMatch(tc.pattern, tc.host), "%s %s", tc.pattern, tc.host)
	}
	require.True(t, IsLoopback("127.8.9.1"))
	require.True(t, IsLoopback("::1"))
	require.False(t, IsLoopback("10.0.0.1"))
}

func TestMatchPrefersSpecificHost(t *testing.T) {
	st := DefaultState()
	_, err := st.CreateUser(Identity{User: "u", Host: "%"}, nil, false, "")
	require.NoError(t, err)
	_, err = st.CreateUser(Identity{User: "u", Host: "10.0.%"}, nil, false, "")
	require.NoError(t, err)
	_, err = st.CreateUser(Identity{User: "u", Host: "10.0.0.1"}, nil, false, "")
	require.NoError(t, err)
	require.Equal(t, "10.0.0.1", st.Match("u", "10.0.0.1").Host)
	require.Equal(t, "10.0.%", st.Match("u", "10.0.0.2").Host)
	require.Equal(t, "%", st.Match("u", "11.0.0.2").Host)
	require.Nil(t, st.Match("v", "11.0.0.2"))
}

func TestGrantsRolesAndLevels(t *testing.T) {
	st := DefaultState()
	u := Identity{User: "u", Host: "%"}
	_, err := st.CreateUser(u, mysqlproto.NativeHash("pw"), false, "")
	require.NoError(t, err)
	_, err = st.CreateUser(u, nil, false, "")
	require.EqualError(t, err, "Operation CREATE USER failed for 'u'@'%'")
	created, err := st.CreateUser(u, nil, true, "")
	require.NoError(t, err)
	require.False(t, created)

	require.NoError(t, st.Grant(SelectPriv, Level{DB: "db", Table: "t"}, Grantee{User: u}))
	eff := st.Effective(st.User(u))
	require.True(t, eff.Table("db", "t", SelectPriv))
	require.False(t, eff.Table("db", "t2", SelectPriv))
	require.True(t, eff.CanSeeDB("db"))
	require.False(t, eff.CanSeeDB("other"))
	require.True(t, eff.CanSeeTable("db", "t"))
	require.False(t, eff.CanSeeTable("db", "t2"))

	// A role's grants reach its members, and leave with the role.
	_, err = st.CreateRole("loader", false)
	require.NoError(t, err)
	require.NoError(t, st.Grant(LoadPriv, Level{DB: "db"}, Grantee{Role: "loader"}))
	require.False(t, st.Effective(st.User(u)).Table("db", "t2", LoadPriv))
	require.NoError(t, st.GrantRole([]string{"loader"}, u))
	require.True(t, st.Effective(st.User(u)).Table("db", "t2", LoadPriv))
	require.NoError(t, st.RevokeRole([]string{"loader"}, u))
	require.False(t, st.Effective(st.User(u)).Table("db", "t2", LoadPriv))
	require.NoError(t, st.GrantRole([]string{"loader"}, u))
	_, err = st.DropRole("loader", false)
	require.NoError(t, err)
	require.False(t, st.Effective(st.User(u)).Table("db", "t2", LoadPriv))
	require.Empty(t, st.User(u).Roles)

	// Revoke what was granted; revoking it again is an error.
	require.NoError(t, st.Revoke(SelectPriv, Level{DB: "db", Table: "t"}, Grantee{User: u}))
	require.False(t, st.Effective(st.User(u)).Table("db", "t", SelectPriv))
	err = st.Revoke(SelectPriv, Level{DB: "db", Table: "t"}, Grantee{User: u})
	require.Equal(t, ErrNonexistingGrant, code(t, err))
	require.Empty(t, st.User(u).Grants.Tables)

	// Admin holds everything but Node; Node and Admin are global only.
	admin := st.Effective(st.Match("admin", "127.0.0.1"))
	require.True(t, admin.Table("any", "t", SelectPriv|LoadPriv|DropPriv))
	require.False(t, admin.GlobalHas(NodePriv))
	root := st.Effective(st.Match("root", "127.0.0.1"))
	require.True(t, root.GlobalHas(NodePriv|AdminPriv|GrantPriv))
	require.Error(t, st.Grant(AdminPriv, Level{DB: "db"}, Grantee{User: u}))

	// Built-ins stay.
	_, err = st.DropUser(Identity{User: "root", Host: "%"}, false)
	require.Error(t, err)
	_, err = st.DropRole(OperatorRole, false)
	require.Error(t, err)
	dropped, err := st.DropUser(u, false)
	require.NoError(t, err)
	require.True(t, dropped)
	dropped, err = st.DropUser(u, true)
	require.NoError(t, err)
	require.False(t, dropped)
}

func TestParsePrivAndHash(t *testing.T) {
	for _, n := range []string{"SELECT_PRIV", "select", "Select_priv"} {
		p, err := ParsePriv(n)
		require.NoError(t, err)
		require.Equal(t, SelectPriv, p)
	}
	p, err := ParsePriv("ALL")
	require.NoError(t, err)
	require.Equal(t, DataPrivs, p)
	_, err = ParsePriv("FLY_PRIV")
	require.Error(t, err)
	require.Equal(t, "Select_priv,Load_priv", (SelectPriv | LoadPriv).String())

	h := mysqlproto.NativeHash("pw")
	text := FormatHash(h)
	require.Len(t, text, 41)
	back, err := ParseHashHex(text)
	require.NoError(t, err)
	require.Equal(t, h, back)
	_, err = ParseHashHex("*12")
	require.Equal(t, ErrPasswordLength, code(t, err))
	_, err = ParseHashHex(text[1:])
	require.Error(t, err)
}

func TestBuiltinNamesAndOperatorRole(t *testing.T) {
	st := DefaultState()
	for _, id := range []Identity{{User: "root", Host: "10.0.0.1"}, {User: "admin", Host: "localhost"}, {User: "root", Host: "%"}} {
		_, err := st.CreateUser(id, nil, true, "")
		require.EqualError(t, err, "Can not create system user", id.String())
	}
	u := Identity{User: "u", Host: "%"}
	_, err := st.CreateUser(u, nil, false, OperatorRole)
	require.EqualError(t, err, "Can not granted user to role: operator")
	require.Nil(t, st.User(u))
	_, err = st.CreateUser(u, nil, false, "")
	require.NoError(t, err)
	require.EqualError(t, st.GrantRole([]string{OperatorRole}, u), "Can not granted/revoke role to user: operator")
	require.Empty(t, st.User(u).Roles)
	require.NoError(t, st.GrantRole([]string{AdminRole}, u))
}

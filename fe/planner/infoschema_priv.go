package planner

import (
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

// Privileges reach the planner through two optional interfaces: the
// Catalog may be a TableAuthorizer, which checks every table a query
// binds (and may hide tables from listings), and the Session may be a
// PrivilegeSource, which the privilege tables of information_schema and
// mysql.user read.

// TableAuthorizer is a Catalog that checks the session may read the
// tables its queries bind. Its Table, HasDatabase, Databases and Tables
// may leave out what the session may not see; LookupTable finds any
// table, so that a query naming a table it may not read fails with
// AuthorizeSelect's error rather than as a missing table.
type TableAuthorizer interface {
	Catalog
	LookupTable(db, name string) (*catalog.Table, bool)
	// AuthorizeSelect returns the error a query reading db.table fails
	// with, nil if it may read it.
	AuthorizeSelect(db, table string) error
}

// bindTable finds a table a query reads and checks it may be read.
func (p *Planner) bindTable(db, name string) (*catalog.Table, bool, error) {
	a, ok := p.cat.(TableAuthorizer)
	if !ok {
		t, ok := p.cat.Table(db, name)
		return t, ok, nil
	}
	t, ok := a.LookupTable(db, name)
	if !ok {
		return nil, false, nil
	}
	if p.expandingViews > 0 {
		// A view's tables are read with the view's rights: reading the
		// view was authorized, as Doris checks only the view.
		return t, true, nil
	}
	if err := a.AuthorizeSelect(db, t.Name); err != nil {
		return nil, false, err
	}
	return t, true, nil
}

// PrivilegeGrant is one privilege of a grantee at a level, as the
// information_schema privilege tables list them. DB and Table are "" at
// the levels above theirs.
type PrivilegeGrant struct {
	Grantee   string // 'user'@'host'
	DB, Table string
	Privilege string // SELECT, LOAD, ... (Doris's names without _priv, upper case)
	Grantable bool
}

// UserRow is one user identity for mysql.user: Privs are the Doris names
// of the global privileges it holds (its roles' included).
type UserRow struct {
	Host, User string
	// AuthString is the password hash as MySQL's authentication_string
	// ('*' and 40 hex digits, "" for none).
	AuthString string
	Privs      []string
}

// PrivilegeSource is a Session that describes the accounts to the
// system tables: only what the session's user may see (its own grants,
// or every account's for a user holding Grant_priv or Admin_priv).
type PrivilegeSource interface {
	PrivilegeGrants() []PrivilegeGrant
	UserRows() []UserRow
}

func privilegeSource(env *sysEnv) PrivilegeSource {
	ps, _ := env.sess.(PrivilegeSource)
	return ps
}

// privilegeTables are information_schema's USER_PRIVILEGES,
// SCHEMA_PRIVILEGES and TABLE_PRIVILEGES.
func privilegeTables() []*systemTable {
	vc := types.Varchar
	grantee := func(level int) *systemTable {
		names := []string{"user_privileges", "schema_privileges", "table_privileges"}
		cols := []catalog.Column{sysCol("GRANTEE", vc(81), false), sysCol("TABLE_CATALOG", vc(512), false)}
		if level >= 1 {
			cols = append(cols, sysCol("TABLE_SCHEMA", vc(64), false))
		}
		if level >= 2 {
			cols = append(cols, sysCol("TABLE_NAME", vc(64), false))
		}
		cols = append(cols, sysCol("PRIVILEGE_TYPE", vc(64), false), sysCol("IS_GRANTABLE", vc(3), false))
		return &systemTable{
			name:    names[level],
			columns: cols,
			rows: func(env *sysEnv, out *sysRows) error {
				ps := privilegeSource(env)
				if ps == nil {
					return nil
				}
				for _, g := range ps.PrivilegeGrants() {
					at := 0
					switch {
					case g.Table != "":
						at = 2
					case g.DB != "":
						at = 1
					}
					if at != level {
						continue
					}
					grantable := "NO"
					if g.Grantable {
						grantable = "YES"
					}
					row := []any{g.Grantee, sysCatalog}
					if level >= 1 {
						row = append(row, g.DB)
					}
					if level >= 2 {
						row = append(row, g.Table)
					}
					out.add(append(row, g.Privilege, grantable)...)
				}
				return nil
			},
		}
	}
	return []*systemTable{grantee(0), grantee(1), grantee(2)}
}

// mysqlSchema is the read-only mysql schema: its user table, which
// tools such as DBeaver read to list users.
func mysqlSchema() []*systemTable {
	vc := types.Varchar
	yn := func(name string) catalog.Column { return sysCol(name, types.Char(1), false) }
	privCols := []struct{ col, priv string }{
		{"Select_priv", "Select_priv"}, {"Insert_priv", "Load_priv"}, {"Update_priv", "Load_priv"},
		{"Delete_priv", "Load_priv"}, {"Create_priv", "Create_priv"}, {"Drop_priv", "Drop_priv"},
		{"Grant_priv", "Grant_priv"}, {"Alter_priv", "Alter_priv"}, {"Super_priv", "Admin_priv"},
		{"Node_priv", "Node_priv"}, {"Admin_priv", "Admin_priv"}, {"Load_priv", "Load_priv"},
	}
	cols := []catalog.Column{sysCol("Host", vc(255), false), sysCol("User", vc(32), false)}
	for _, pc := range privCols {
		cols = append(cols, yn(pc.col))
	}
	cols = append(cols, sysCol("plugin", vc(64), false), sysCol("authentication_string", vc(255), false),
		yn("account_locked"))
	user := &systemTable{
		name:    "user",
		comment: "the user identities (read only)",
		columns: cols,
		rows: func(env *sysEnv, out *sysRows) error {
			ps := privilegeSource(env)
			if ps == nil {
				return nil
			}
			for _, u := range ps.UserRows() {
				has := map[string]bool{}
				for _, p := range u.Privs {
					has[p] = true
				}
				row := []any{u.Host, u.User}
				for _, pc := range privCols {
					v := "N"
					if has[pc.priv] || has["Admin_priv"] && pc.priv != "Node_priv" {
						v = "Y"
					}
					row = append(row, v)
				}
				out.add(append(row, "mysql_native_password", u.AuthString, "N")...)
			}
			return nil
		},
	}
	return []*systemTable{user}
}

package sql

// AccountStmt is a statement about users, roles and privileges: CREATE,
// ALTER and DROP USER, CREATE and DROP ROLE, SET PASSWORD, GRANT and
// REVOKE. All of them write the accounts.
type AccountStmt interface {
	Stmt
	accountStmt()
}

// UserIdent names a user identity: 'user'@'host' (host '%' when
// omitted), or the current user (CURRENT_USER()).
type UserIdent struct {
	User, Host string
	Current    bool
}

// Password is the password of IDENTIFIED BY and SET PASSWORD: a password
// in clear, or (Hashed) its mysql_native_password hash written as '*'
// and 40 hex digits.
type Password struct {
	Text   string
	Hashed bool
}

// PrivLevel is what GRANT and REVOKE apply to: *.* (DB "*"), db.* (Table
// "*"), db.tbl; Catalog is "" or the catalog named (internal). DB "" is
// the current database (GRANT ... ON tbl or ON *).
type PrivLevel struct {
	Catalog, DB, Table string
}

// CreateUserStmt is CREATE USER [IF NOT EXISTS] user [IDENTIFIED BY
// [PASSWORD] 'pw'] [DEFAULT ROLE 'role'].
type CreateUserStmt struct {
	stmtBase
	IfNotExists bool
	User        UserIdent
	Password    *Password // nil: no password
	DefaultRole string
}

// AlterUserStmt is ALTER USER [IF EXISTS] user IDENTIFIED BY [PASSWORD]
// 'pw'.
type AlterUserStmt struct {
	stmtBase
	IfExists bool
	User     UserIdent
	Password *Password // nil: unchanged
}

// DropUserStmt is DROP USER [IF EXISTS] user.
type DropUserStmt struct {
	stmtBase
	IfExists bool
	User     UserIdent
}

// SetPasswordStmt is SET PASSWORD [FOR user] = PASSWORD('pw') | '*HEX'.
type SetPasswordStmt struct {
	stmtBase
	User     *UserIdent // nil: the current user
	Password Password
}

// CreateRoleStmt is CREATE ROLE [IF NOT EXISTS] 'role'.
type CreateRoleStmt struct {
	stmtBase
	IfNotExists bool
	Name        string
}

// DropRoleStmt is DROP ROLE [IF EXISTS] 'role'.
type DropRoleStmt struct {
	stmtBase
	IfExists bool
	Name     string
}

// GrantStmt is GRANT privs ON level TO user | ROLE 'r', or (Roles set)
// GRANT 'r', ... TO user. Revoke makes it REVOKE ... FROM.
type GrantStmt struct {
	stmtBase
	Revoke bool
	// Privs are the privilege names as written (SELECT_PRIV, ALL, ...).
	Privs []string
	Level PrivLevel
	// Roles are the roles granted (GRANT 'r' TO user); Privs is then empty.
	Roles []string
	// The grantee: ToRole when granting to a role, else ToUser.
	ToUser UserIdent
	ToRole string
}

func (*CreateUserStmt) accountStmt()  {}
func (*AlterUserStmt) accountStmt()   {}
func (*DropUserStmt) accountStmt()    {}
func (*SetPasswordStmt) accountStmt() {}
func (*CreateRoleStmt) accountStmt()  {}
func (*DropRoleStmt) accountStmt()    {}
func (*GrantStmt) accountStmt()       {}

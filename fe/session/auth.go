package session

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/strata-db/strata/fe/auth"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
)

// authenticate checks a login against the accounts. Without an auth
// store only root with an empty password is admitted.
func (e *Engine) authenticate(user, host string, cred mysqlproto.Credentials) error {
	if e.Auth == nil {
		if user == "root" && cred.Match(nil) {
			return nil
		}
		using := "YES"
		if cred.Empty() {
			using = "NO"
		}
		return mysqlproto.NewError(mysqlproto.ER_ACCESS_DENIED_ERROR, "Access denied for user '%s'@'%s' (using password: %s)", user, host, using)
	}
	_, err := e.Auth.Authenticate(user, host, cred)
	return err
}

// bindIdentity fixes the identity a login opened the session as: its
// privileges are that identity's, whatever identities are created or
// dropped later. A login whose identity went in the meantime is refused.
func (s *Session) bindIdentity() error {
	if s.eng.Auth == nil {
		return nil
	}
	id, ok := s.eng.Auth.Login(s.user, s.host)
	if !ok {
		return mysqlproto.NewError(mysqlproto.ER_ACCESS_DENIED_ERROR, "Access denied for user '%s'@'%s' (using password: YES)", s.user, s.host)
	}
	s.ident = &id
	return nil
}

// identity is the user identity the session logged in as. A session not
// opened by a login (an internal one, or a statement forwarded without
// its identity) takes the identity its user and host match when first
// asked.
func (s *Session) identity() auth.Identity {
	if s.eng.Auth == nil {
		return auth.Identity{User: s.user, Host: s.host}
	}
	if s.ident == nil {
		id, ok := s.eng.Auth.Login(s.user, s.host)
		if !ok {
			// No identity: one that exists nowhere, which holds nothing.
			id = auth.Identity{User: s.user, Host: s.host}
		}
		s.ident = &id
	}
	return *s.ident
}

// authorizeAccount checks the session may run an account statement:
// Grant_priv (or Admin_priv) for all but changing one's own password;
// granting privileges on a database or table needs Grant_priv there, and
// granting Node_priv needs Node_priv.
func (s *Session) authorizeAccount(e *auth.Effective, st sql.AccountStmt) error {
	self := func(u *sql.UserIdent) bool {
		if u == nil || u.Current {
			return true
		}
		id := s.identity()
		return u.User == id.User && u.Host == id.Host
	}
	// Only root itself changes root's password (Doris), or anyone with
	// Grant_priv could take over the one identity holding the operator
	// role.
	isRoot := s.identity() == auth.Identity{User: auth.RootUser, Host: "%"}
	switch x := st.(type) {
	case *sql.SetPasswordStmt:
		if x.User != nil && !x.User.Current && x.User.User == auth.RootUser && !isRoot {
			return mysqlproto.NewError(mysqlproto.ER_SPECIFIC_ACCESS_DENIED, "Can not set password for root user, except root itself")
		}
		if self(x.User) {
			return nil
		}
	case *sql.AlterUserStmt:
		if !x.User.Current && x.User.User == auth.RootUser && !isRoot {
			return mysqlproto.NewError(mysqlproto.ER_SPECIFIC_ACCESS_DENIED, "Only root user can modify root user")
		}
		if self(&x.User) {
			return nil
		}
	case *sql.CreateUserStmt:
		if err := s.checkRoleGrantable(e, x.DefaultRole); err != nil {
			return err
		}
	case *sql.GrantStmt:
		if len(x.Roles) > 0 {
			if x.Revoke {
				break
			}
			if err := s.checkRoleGrantable(e, x.Roles...); err != nil {
				return err
			}
			break
		}
		privs, err := grantPrivs(x.Privs)
		if err != nil {
			return err
		}
		l, err := s.privLevel(x.Level)
		if err != nil {
			return err
		}
		if privs&auth.NodePriv != 0 && !e.GlobalHas(auth.NodePriv) {
			return privDenied(auth.NodePriv)
		}
		switch {
		case l.Global() && e.GlobalHas(auth.GrantPriv):
			return nil
		case !l.Global() && l.Table == "" && e.DB(l.DB, auth.GrantPriv):
			return nil
		case l.Table != "" && e.Table(l.DB, l.Table, auth.GrantPriv):
			return nil
		}
		return privDenied(auth.GrantPriv | auth.AdminPriv)
	}
	return needGlobal(e, auth.GrantPriv|auth.AdminPriv)
}

// checkRoleGrantable refuses granting a role that holds Node_priv (the
// operator role, which the accounts refuse to grant anyway, or one that
// was given it) unless the grantor holds Node_priv: a role carries every
// privilege it holds, and granting one needs only Grant_priv.
func (s *Session) checkRoleGrantable(e *auth.Effective, roles ...string) error {
	if e.GlobalHas(auth.NodePriv) {
		return nil
	}
	st := s.eng.Auth.State()
	for _, name := range roles {
		if name == "" {
			continue
		}
		if r := st.Role(name); name == auth.OperatorRole || r != nil && r.Grants.Global&auth.NodePriv != 0 {
			return privDenied(auth.NodePriv)
		}
	}
	return nil
}

// grantPrivs resolves the privilege names of GRANT and REVOKE.
func grantPrivs(names []string) (auth.Priv, error) {
	var p auth.Priv
	for _, n := range names {
		x, err := auth.ParsePriv(n)
		if err != nil {
			return 0, &sqlError{Code: planner.ErrUnknown, Msg: err.Error()}
		}
		p |= x
	}
	return p, nil
}

// privLevel resolves ON *.*, db.*, db.tbl, tbl and * (the last two in the
// current database), with or without the internal catalog.
func (s *Session) privLevel(l sql.PrivLevel) (auth.Level, error) {
	if l.Catalog != "" && l.Catalog != "*" && !strings.EqualFold(l.Catalog, "internal") {
		return auth.Level{}, notSupported("privileges on catalog " + l.Catalog)
	}
	if l.Catalog == "*" && l.DB != "*" {
		return auth.Level{}, ddlError("Invalid privilege level %s.%s.%s", l.Catalog, l.DB, l.Table)
	}
	switch {
	case l.DB == "*":
		return auth.Level{}, nil
	case l.DB == "":
		if s.db == "" {
			return auth.Level{}, errNoDB()
		}
		l.DB = s.db
	}
	if l.Table == "*" {
		return auth.Level{DB: l.DB}, nil
	}
	return auth.Level{DB: l.DB, Table: l.Table}, nil
}

// userIdentity resolves a user named in an account statement.
func (s *Session) userIdentity(u sql.UserIdent) auth.Identity {
	if u.Current {
		return s.identity()
	}
	return auth.Identity{User: u.User, Host: u.Host}
}

// passwordHash is the hash of IDENTIFIED BY / SET PASSWORD's password.
func passwordHash(p *sql.Password) ([]byte, error) {
	if p == nil {
		return nil, nil
	}
	if p.Hashed {
		return auth.ParseHashHex(p.Text)
	}
	return mysqlproto.NativeHash(p.Text), nil
}

// account runs an account statement (on the leader).
func (s *Session) account(ctx context.Context, st sql.AccountStmt) (*mysqlproto.Result, error) {
	if s.eng.Auth == nil {
		return nil, notSupported("users and privileges without an account store")
	}
	var fn func(st *auth.State) (bool, error)
	switch x := st.(type) {
	case *sql.CreateUserStmt:
		hash, err := passwordHash(x.Password)
		if err != nil {
			return nil, err
		}
		id := s.userIdentity(x.User)
		fn = func(st *auth.State) (bool, error) { return st.CreateUser(id, hash, x.IfNotExists, x.DefaultRole) }
	case *sql.DropUserStmt:
		id := s.userIdentity(x.User)
		fn = func(st *auth.State) (bool, error) { return st.DropUser(id, x.IfExists) }
	case *sql.AlterUserStmt:
		hash, err := passwordHash(x.Password)
		if err != nil {
			return nil, err
		}
		id := s.userIdentity(x.User)
		fn = func(st *auth.State) (bool, error) {
			if x.IfExists && st.User(id) == nil {
				return false, nil
			}
			if st.User(id) == nil {
				return false, mysqlproto.NewError(auth.ErrCannotUser, "Operation ALTER USER failed for %s", id)
			}
			return true, st.SetPassword(id, hash)
		}
	case *sql.SetPasswordStmt:
		hash, err := passwordHash(&x.Password)
		if err != nil {
			return nil, err
		}
		id := s.identity()
		if x.User != nil {
			id = s.userIdentity(*x.User)
		}
		fn = func(st *auth.State) (bool, error) { return true, st.SetPassword(id, hash) }
	case *sql.CreateRoleStmt:
		fn = func(st *auth.State) (bool, error) { return st.CreateRole(x.Name, x.IfNotExists) }
	case *sql.DropRoleStmt:
		fn = func(st *auth.State) (bool, error) { return st.DropRole(x.Name, x.IfExists) }
	case *sql.GrantStmt:
		var err error
		if fn, err = s.grantFn(x); err != nil {
			return nil, err
		}
	default:
		return nil, notSupported("the statement " + firstWords(st.Text()))
	}
	if _, err := s.eng.Auth.Update(ctx, fn); err != nil {
		return nil, err
	}
	return ok(0), nil
}

// grantFn is the change of GRANT or REVOKE.
func (s *Session) grantFn(x *sql.GrantStmt) (func(*auth.State) (bool, error), error) {
	if len(x.Roles) > 0 {
		id := s.userIdentity(x.ToUser)
		if x.Revoke {
			return func(st *auth.State) (bool, error) { return true, st.RevokeRole(x.Roles, id) }, nil
		}
		return func(st *auth.State) (bool, error) { return true, st.GrantRole(x.Roles, id) }, nil
	}
	privs, err := grantPrivs(x.Privs)
	if err != nil {
		return nil, err
	}
	l, err := s.privLevel(x.Level)
	if err != nil {
		return nil, err
	}
	to := auth.Grantee{Role: x.ToRole}
	if x.ToRole == "" {
		to.User = s.userIdentity(x.ToUser)
	}
	if x.Revoke {
		return func(st *auth.State) (bool, error) { return true, st.Revoke(privs, l, to) }, nil
	}
	return func(st *auth.State) (bool, error) { return true, st.Grant(privs, l, to) }, nil
}

// showAccounts runs SHOW GRANTS [FOR user], SHOW ALL GRANTS, SHOW ROLES
// and SHOW PRIVILEGES.
func (s *Session) showAccounts(st *sql.ShowStmt) (*mysqlproto.Result, error) {
	if st.Kind == "PRIVILEGES" {
		var rows [][]any
		for _, p := range auth.Privileges {
			rows = append(rows, []any{p.Name, p.Context, p.Comment})
		}
		return mysqlproto.NewRowsResult(stringFields("Privilege", "Context", "Comment"), rows), nil
	}
	state := auth.DefaultState()
	if s.eng.Auth != nil {
		state = s.eng.Auth.State()
	}
	if st.Kind == "ROLES" {
		fields := stringFields("Name", "Comment", "Users", "GlobalPrivs", "CatalogPrivs", "DatabasePrivs", "TablePrivs", "ResourcePrivs")
		var rows [][]any
		for _, r := range state.Roles {
			var users []string
			for _, u := range state.Users {
				if slices.Contains(u.Roles, r.Name) {
					users = append(users, u.Identity.String())
				}
			}
			g, d, t := formatGrants(&r.Grants)
			rows = append(rows, []any{r.Name, "", nullIfEmpty(strings.Join(users, ", ")), g, nullIfEmpty(""), d, t, nil})
		}
		return mysqlproto.NewRowsResult(fields, rows), nil
	}
	var users []*auth.User
	switch {
	case st.Kind == "ALL GRANTS":
		users = state.Users
	case st.Name == "" || st.Name == "CURRENT_USER":
		if u := state.User(s.identity()); u != nil {
			users = []*auth.User{u}
		}
	default:
		for _, u := range state.Users {
			if u.Identity.String() == st.Name {
				users = append(users, u)
			}
		}
		if len(users) == 0 {
			return nil, mysqlproto.NewError(auth.ErrNonexistingGrant, "There is no such grant defined for user %s", st.Name)
		}
	}
	fields := stringFields("UserIdentity", "Comment", "Password", "Roles", "GlobalPrivs", "CatalogPrivs",
		"DatabasePrivs", "TablePrivs", "ColPrivs", "ResourcePrivs", "WorkloadGroupPrivs")
	var rows [][]any
	for _, u := range users {
		eff := state.Effective(u)
		g, d, t := formatGrants(&eff.Grants)
		pw := "No"
		if u.HasPassword() {
			pw = "Yes"
		}
		rows = append(rows, []any{u.Identity.String(), "", pw, nullIfEmpty(strings.Join(u.Roles, ",")), g, nil, d, t, nil, nil, nil})
	}
	return mysqlproto.NewRowsResult(fields, rows), nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// formatGrants prints grants as SHOW GRANTS does: the global privileges,
// then "internal.db: privs; ..." and "internal.db.tbl: privs; ...".
func formatGrants(g *auth.Grants) (global, dbs, tables any) {
	global = nullIfEmpty(g.Global.String())
	var ds, ts []string
	for db, p := range g.DBs {
		ds = append(ds, "internal."+db+": "+p.String())
	}
	for db, m := range g.Tables {
		for t, p := range m {
			ts = append(ts, "internal."+db+"."+t+": "+p.String())
		}
	}
	sort.Strings(ds)
	sort.Strings(ts)
	return global, nullIfEmpty(strings.Join(ds, "; ")), nullIfEmpty(strings.Join(ts, "; "))
}

var _ planner.PrivilegeSource = (*Session)(nil)

// seesAllAccounts reports whether the session may read every account
// (Grant_priv or Admin_priv), not only its own.
func (s *Session) seesAllAccounts() bool {
	e := s.effective()
	return e == nil || e.GlobalAny(auth.GrantPriv|auth.AdminPriv)
}

// visibleUsers are the accounts the session may read.
func (s *Session) visibleUsers() (*auth.State, []*auth.User) {
	if s.eng.Auth == nil {
		st := auth.DefaultState()
		return st, st.Users
	}
	st := s.eng.Auth.State()
	if s.seesAllAccounts() {
		return st, st.Users
	}
	if u := st.User(s.identity()); u != nil {
		return st, []*auth.User{u}
	}
	return st, nil
}

// PrivilegeGrants implements planner.PrivilegeSource: the privileges of
// the visible accounts (their roles' included), one row per privilege.
func (s *Session) PrivilegeGrants() []planner.PrivilegeGrant {
	st, users := s.visibleUsers()
	var out []planner.PrivilegeGrant
	add := func(grantee string, p auth.Priv, db, table string) {
		grantable := p&auth.GrantPriv != 0
		for _, n := range p.Names() {
			out = append(out, planner.PrivilegeGrant{Grantee: grantee, DB: db, Table: table,
				Privilege: strings.ToUpper(strings.TrimSuffix(n, "_priv")), Grantable: grantable})
		}
	}
	for _, u := range users {
		eff := st.Effective(u)
		grantee := u.Identity.String()
		add(grantee, eff.Global, "", "")
		dbs := make([]string, 0, len(eff.DBs))
		for db := range eff.DBs {
			dbs = append(dbs, db)
		}
		sort.Strings(dbs)
		for _, db := range dbs {
			add(grantee, eff.DBs[db], db, "")
		}
		tdbs := make([]string, 0, len(eff.Tables))
		for db := range eff.Tables {
			tdbs = append(tdbs, db)
		}
		sort.Strings(tdbs)
		for _, db := range tdbs {
			names := make([]string, 0, len(eff.Tables[db]))
			for t := range eff.Tables[db] {
				names = append(names, t)
			}
			sort.Strings(names)
			for _, t := range names {
				add(grantee, eff.Tables[db][t], db, t)
			}
		}
	}
	return out
}

// UserRows implements planner.PrivilegeSource.
func (s *Session) UserRows() []planner.UserRow {
	st, users := s.visibleUsers()
	out := make([]planner.UserRow, 0, len(users))
	for _, u := range users {
		out = append(out, planner.UserRow{Host: u.Host, User: u.User, AuthString: auth.FormatHash(u.PasswordHash()),
			Privs: st.Effective(u).Global.Names()})
	}
	return out
}

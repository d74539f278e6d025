package session

import (
	"context"
	"strings"

	"github.com/strata-db/strata/fe/auth"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
)

// Privileges are checked before a statement runs (authorize), following
// Doris: a query needs Select_priv on every table it reads, which the
// planner asks of its catalog view as it binds each table (privCatalog);
// INSERT, DELETE and UPDATE need Load_priv on their target; CREATE, DROP
// and ALTER of databases and tables need Create_priv, Drop_priv and
// Alter_priv, a materialized view Alter_priv on its base table; ALTER SYSTEM needs Node_priv, SHOW BACKENDS
// and SHOW FRONTENDS Node_priv or Admin_priv; account statements
// Grant_priv; SET GLOBAL Admin_priv. Admin_priv holds every privilege but
// Node_priv. Without an auth store (Engine.Auth nil) every session may do
// everything.
//
// The privileges are those the identity the session logged in as holds
// now, so a GRANT or REVOKE applies to open sessions at their next
// statement; a session whose identity was dropped holds none.

// effective is what the session's user may do now; nil when privileges
// are not checked.
func (s *Session) effective() *auth.Effective {
	if s.eng.Auth == nil {
		return nil
	}
	return s.eng.Auth.EffectiveOf(s.identity())
}

// isAdmin reports whether the session holds Admin_priv globally. Without
// an auth store, where only root logs in, root is the administrator.
func (s *Session) isAdmin() bool {
	e := s.effective()
	if e == nil {
		return s.user == auth.RootUser
	}
	return e.GlobalHas(auth.AdminPriv)
}

// tableDenied is ER_TABLEACCESS_DENIED_ERROR: "SELECT command denied to
// user 'u'@'h' for table 'db.t'".
func (s *Session) tableDenied(command, db, table string) error {
	return mysqlproto.NewError(mysqlproto.ER_TABLEACCESS_DENIED_ERROR, "%s command denied to user '%s'@'%s' for table '%s.%s'",
		command, s.user, s.host, db, table)
}

// dbDenied is ER_DBACCESS_DENIED_ERROR.
func (s *Session) dbDenied(db string) error {
	return mysqlproto.NewError(mysqlproto.ER_DBACCESS_DENIED_ERROR, "Access denied for user '%s'@'%s' to database '%s'", s.user, s.host, db)
}

// privDenied is ER_SPECIFIC_ACCESS_DENIED_ERROR, naming the privileges
// any one of which would do.
func privDenied(p auth.Priv) error {
	return mysqlproto.NewError(mysqlproto.ER_SPECIFIC_ACCESS_DENIED, "Access denied; you need (at least one of) the (%s) privilege(s) for this operation", p)
}

// commands name the privileges in table denials, as MySQL does.
var commands = map[auth.Priv]string{
	auth.SelectPriv: "SELECT", auth.LoadPriv: "LOAD", auth.AlterPriv: "ALTER",
	auth.CreatePriv: "CREATE", auth.DropPriv: "DROP",
}

// needTable checks want on db.table.
func (s *Session) needTable(e *auth.Effective, want auth.Priv, db, table string) error {
	if e == nil || e.Table(db, table, want) {
		return nil
	}
	return s.tableDenied(commands[want], db, table)
}

// needDB checks want on database db (global or database grants).
func (s *Session) needDB(e *auth.Effective, want auth.Priv, db string) error {
	if e == nil || e.DB(db, want) {
		return nil
	}
	return s.dbDenied(db)
}

// needGlobal checks that the session holds one of the privileges of any
// globally.
func needGlobal(e *auth.Effective, any auth.Priv) error {
	if e == nil || e.GlobalAny(any) {
		return nil
	}
	return privDenied(any)
}

// authorize checks the session may run st. Queries are checked further
// as they are planned (privCatalog).
func (s *Session) authorize(ctx context.Context, st sql.Stmt) error {
	s.writeTarget = nil
	e := s.effective()
	if e == nil {
		return nil
	}
	name := func(n sql.ObjectName) (string, string, error) {
		db, err := s.dbFor(n)
		return db, n.Name, err
	}
	table := func(n sql.ObjectName, want auth.Priv) error {
		db, t, err := name(n)
		if err != nil {
			return err
		}
		if _, sys := planner.IsSystemSchema(db); sys {
			return nil
		}
		return s.needTable(e, want, db, t)
	}
	switch x := st.(type) {
	case *sql.InsertStmt:
		return table(x.Table, auth.LoadPriv)
	case *sql.DeleteStmt, *sql.UpdateStmt:
		return s.authorizeWrite(x)
	case *sql.ExplainStmt:
		return s.authorize(ctx, x.Stmt)
	case *sql.CreateDatabaseStmt:
		return s.needDB(e, auth.CreatePriv, x.Name.Name)
	case *sql.DropDatabaseStmt:
		return s.needDB(e, auth.DropPriv, x.Name.Name)
	case *sql.CreateTableStmt:
		return table(x.Name, auth.CreatePriv)
	case *sql.CreateViewStmt:
		// Its query is bound as the creator, who must be able to read
		// its tables; readers of the view then need Select_priv on the
		// view only.
		return table(x.Name, auth.CreatePriv)
	case *sql.DropViewStmt:
		for _, n := range x.Names {
			if err := table(n, auth.DropPriv); err != nil {
				return err
			}
		}
	case *sql.DropTableStmt:
		for _, n := range x.Names {
			if err := table(n, auth.DropPriv); err != nil {
				return err
			}
		}
	case *sql.AlterTableStmt:
		return table(x.Table, auth.AlterPriv)
	case *sql.CancelAlterStmt:
		return table(x.Table, auth.AlterPriv)
	case *sql.CreateMaterializedViewStmt:
		// A synchronous materialized view is an index of its base table:
		// Alter_priv on it, as in Doris.
		_, src, err := mvSource(x.Query)
		if err != nil {
			return nil // the statement reports it
		}
		return table(src.Name, auth.AlterPriv)
	case *sql.DropMaterializedViewStmt:
		if x.Table != nil {
			return table(*x.Table, auth.AlterPriv)
		}
		db, _, err := name(x.Name)
		if err != nil {
			return err
		}
		return s.needDB(e, auth.DropPriv, db)
	case *sql.AlterSystemStmt:
		return needGlobal(e, auth.NodePriv)
	case *sql.DescribeStmt:
		return s.needVisibleTable(e, x.Table)
	case *sql.ShowStmt:
		return s.authorizeShow(e, x)
	case *sql.SetStmt:
		for _, it := range x.Items {
			if strings.EqualFold(it.Scope, "GLOBAL") && !it.User {
				if err := needGlobal(e, auth.AdminPriv); err != nil {
					return err
				}
			}
		}
	case sql.AccountStmt:
		return s.authorizeAccount(e, x)
	}
	return nil
}

// authorizeWrite checks Load_priv on the table a DELETE or UPDATE
// writes, and records it: the rows to change are read back through the
// planner, which then does not ask Select_priv on it.
func (s *Session) authorizeWrite(st sql.Stmt) error {
	var n sql.ObjectName
	switch x := st.(type) {
	case *sql.DeleteStmt:
		n = x.Table
	case *sql.UpdateStmt:
		n = x.Table
	default:
		return nil
	}
	e := s.effective()
	if e == nil {
		return nil
	}
	db, err := s.dbFor(n)
	if err != nil {
		return err
	}
	if err := s.needTable(e, auth.LoadPriv, db, n.Name); err != nil {
		return err
	}
	s.writeTarget = &tableRef{db: db, table: n.Name}
	return nil
}

type tableRef struct{ db, table string }

// endAuthorization forgets what authorize recorded for the statement that
// ends (the DELETE or UPDATE target), so that nothing planned after it
// (a prepared SELECT, the next statement) reads the table unchecked.
func (s *Session) endAuthorization() { s.writeTarget = nil }

// needVisibleTable checks the session holds some privilege on a table
// (DESC, SHOW CREATE TABLE, SHOW COLUMNS ...).
func (s *Session) needVisibleTable(e *auth.Effective, n sql.ObjectName) error {
	db, err := s.dbFor(n)
	if err != nil {
		return err
	}
	if _, sys := planner.IsSystemSchema(db); sys || e.CanSeeTable(db, n.Name) {
		return nil
	}
	return s.tableDenied("SHOW", db, n.Name)
}

func (s *Session) authorizeShow(e *auth.Effective, st *sql.ShowStmt) error {
	switch st.Kind {
	case "BACKENDS", "FRONTENDS":
		return needGlobal(e, auth.NodePriv|auth.AdminPriv)
	case "CREATE TABLE", "CREATE VIEW", "COLUMNS", "PARTITIONS", "TABLETS", "INDEX", "DATA":
		if st.Table.Name == "" {
			return nil
		}
		return s.needVisibleTable(e, st.Table)
	case "TABLES", "TABLE STATUS":
		db, err := s.showDB(st)
		if err != nil {
			return err
		}
		if _, sys := planner.IsSystemSchema(db); sys || e.CanSeeDB(db) {
			return nil
		}
		return s.dbDenied(db)
	case "CREATE DATABASE":
		if _, sys := planner.IsSystemSchema(st.DB); sys || e.CanSeeDB(st.DB) {
			return nil
		}
		return s.dbDenied(st.DB)
	case "ALL GRANTS", "ROLES":
		return needGlobal(e, auth.GrantPriv|auth.AdminPriv)
	case "GRANTS":
		if st.Name == "" || st.Name == "CURRENT_USER" {
			return nil
		}
		if st.Name == s.identity().String() {
			return nil
		}
		return needGlobal(e, auth.GrantPriv|auth.AdminPriv)
	}
	return nil
}

// canSeeDB reports whether SHOW DATABASES and information_schema list
// db for the session.
func (s *Session) canSeeDB(db string) bool {
	if _, sys := planner.IsSystemSchema(db); sys {
		return true
	}
	e := s.effective()
	return e == nil || e.CanSeeDB(db)
}

// canSeeTable reports whether SHOW TABLES and information_schema list
// db.table for the session.
func (s *Session) canSeeTable(db, table string) bool {
	if _, sys := planner.IsSystemSchema(db); sys {
		return true
	}
	e := s.effective()
	return e == nil || e.CanSeeTable(db, table)
}

// checkUseDB refuses USE (and COM_INIT_DB) of a database the session
// holds no privilege on.
func (s *Session) checkUseDB(db string) error {
	if s.canSeeDB(db) {
		return nil
	}
	return s.dbDenied(db)
}

// catalogFor is the planner's view of snap for sess: for a session whose
// privileges are checked, one that asks Select_priv of every table a
// query binds and lists only what the session can see.
func (e *Engine) catalogFor(sess planner.Session, snap *catalog.Snapshot) planner.Catalog {
	view := catalogView{snap}
	s, ok := sess.(*Session)
	if !ok || e.Auth == nil {
		return view
	}
	eff := s.effective()
	if eff == nil {
		return view
	}
	return &privCatalog{catalogView: view, s: s, eff: eff}
}

// privCatalog is a catalogView for a session whose privileges are
// checked.
type privCatalog struct {
	catalogView
	s   *Session
	eff *auth.Effective
}

var _ planner.TableAuthorizer = (*privCatalog)(nil)

// AuthorizeSelect implements planner.TableAuthorizer.
func (c *privCatalog) AuthorizeSelect(db, table string) error {
	if t := c.s.writeTarget; t != nil && t.db == db && t.table == table {
		return nil
	}
	return c.s.needTable(c.eff, auth.SelectPriv, db, table)
}

// LookupTable implements planner.TableAuthorizer.
func (c *privCatalog) LookupTable(db, name string) (*catalog.Table, bool) {
	return c.catalogView.Table(db, name)
}

// Table finds only the tables the session can see.
func (c *privCatalog) Table(db, name string) (*catalog.Table, bool) {
	t, ok := c.catalogView.Table(db, name)
	if !ok || !c.eff.CanSeeTable(db, t.Name) {
		return nil, false
	}
	return t, true
}

// HasDatabase reports only the databases the session can see.
func (c *privCatalog) HasDatabase(db string) bool {
	return c.catalogView.HasDatabase(db) && c.eff.CanSeeDB(db)
}

func (c *privCatalog) Databases() []*catalog.Database {
	var out []*catalog.Database
	for _, db := range c.catalogView.Databases() {
		if c.eff.CanSeeDB(db.Name) {
			out = append(out, db)
		}
	}
	return out
}

func (c *privCatalog) Tables(db string) []*catalog.Table {
	var out []*catalog.Table
	for _, t := range c.catalogView.Tables(db) {
		if c.eff.CanSeeTable(db, t.Name) {
			out = append(out, t)
		}
	}
	return out
}

// Package session executes SQL statements for one client connection: it
// keeps the connection's state (current database, variables, prepared
// statements), dispatches each statement to DDL, the planner or the write
// path, and shapes the results for the MySQL protocol.
package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-db/strata/fe/auth"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/cluster"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/loader"
	"github.com/strata-db/strata/mysqlproto"
)

// Engine is what every session shares: the catalog, the read and write
// paths, and the registry of live connections. It implements
// mysqlproto.Handler.
type Engine struct {
	Catalog *catalog.Catalog
	// Tablets reads tablets for queries.
	Tablets planner.TabletReader
	// Loads begins write transactions for INSERT (the same path stream
	// load uses).
	Loads loader.Backend
	// Txns is the load transaction service SHOW TRANSACTION and SHOW
	// [STREAM] LOAD read; nil makes them unsupported.
	Txns *txn.Manager
	// TabletStats describes the replicas of tablets (the keys of the
	// map, each with the backends holding it; none: the only backend),
	// for SHOW TABLETS; nil shows one replica of zeros each.
	TabletStats func(tablets map[int64][]int64) map[int64][]TabletStats
	Logger      *slog.Logger
	// Cluster is the view of the backends and frontends (ALTER SYSTEM,
	// SHOW BACKENDS, SHOW FRONTENDS); nil shows none and refuses ALTER
	// SYSTEM. FrontendName is this frontend's name in it, and LeaderName
	// reports the leader's.
	Cluster      *cluster.Registry
	FrontendName string
	LeaderName   func() string
	// Remote, when set, runs the scans of queries as fragments on the
	// backends holding the tablets (a frontend of a cluster); Tablets is
	// then unused.
	Remote planner.Remote
	// Leading reports whether this frontend leads (nil: it always does).
	// One that does not sends the statements that write the catalog to
	// the leader through Forward.
	Leading func() bool
	Forward func(ctx context.Context, req ForwardRequest) (ForwardResponse, error)
	// Auth holds the users and their privileges (privilege.go); nil admits
	// root with an empty password only, and checks no privilege.
	Auth *auth.Store
	// Metrics, when set, counts statements and connections (NewMetrics).
	Metrics *Metrics

	mu    sync.Mutex // protects conns
	conns map[uint32]*Session

	queries atomic.Int64

	// CloseConnection, when set, closes the client connection with the
	// given id (KILL CONNECTION); see mysqlproto.Server.CloseConnection.
	CloseConnection func(id uint32) bool
	profiles        profileStore // recent profiled queries (profile.go)

	convertingMu sync.Mutex     // protects converting
	converting   map[int64]bool // tablets alter jobs are converting rows into
}

var _ mysqlproto.Handler = (*Engine)(nil)

// Authenticate admits root with an empty password. Users and privileges
// arrive with their own release; until then every other user is refused.
func (e *Engine) Authenticate(user, host string, cred mysqlproto.Credentials) error {
	return e.authenticate(user, host, cred)
}

// NewSession starts the state of a new connection.
func (e *Engine) NewSession(connID uint32, user, host, db string) (mysqlproto.Session, error) {
	s := &Session{eng: e, connID: connID, user: user, host: host, vars: map[string]string{}, userVars: map[string]any{}, start: time.Now()}
	if err := s.bindIdentity(); err != nil {
		return nil, err
	}
	if db != "" {
		if err := s.UseDB(context.Background(), db); err != nil {
			return nil, err
		}
	}
	e.mu.Lock()
	if e.conns == nil {
		e.conns = map[uint32]*Session{}
	}
	e.conns[connID] = s
	e.mu.Unlock()
	e.Metrics.connected()
	return s, nil
}

// TabletStats is what a backend holds of one tablet.
type TabletStats struct {
	// Backend holds the replica; Version is the replica's version (every
	// version up to it is there; 0: unknown); Err says why the backend
	// could not tell.
	Backend  int64
	Version  int64
	Err      string
	Rowsets  int   // visible rowsets: the versions a read merges
	Rows     int64 // rows in them
	DataSize int64 // bytes of their segment files
	// CompactionStatus is the URL of the tablet's compaction status on its
	// backend (Doris's /api/compaction/show?tablet_id=N); "": none.
	CompactionStatus string
}

// Session is one connection. Its methods are called by one goroutine at a
// time (mysqlproto serializes a connection's commands).
type Session struct {
	eng    *Engine
	connID uint32
	user   string
	host   string
	start  time.Time

	db       string            // written under eng.mu (see setDB)
	vars     map[string]string // session values of system variables that were SET
	userVars map[string]any
	warnings []warning
	stmts    stmtState // running statements, for KILL and SHOW PROCESSLIST (kill.go)

	// writeTarget is the table the running DELETE or UPDATE writes
	// (privilege.go).
	writeTarget *tableRef
	// ident is the identity the session logged in as, whose privileges
	// it has (auth.go); nil until first needed when the session was not
	// opened by a login.
	ident *auth.Identity
}

type warning struct {
	level string
	code  uint16
	msg   string
}

var _ mysqlproto.Session = (*Session)(nil)

// CurrentDB implements planner.Session.
func (s *Session) CurrentDB() string { return s.db }

// User implements planner.Session.
func (s *Session) User() string { return s.user + "@" + s.host }

// ConnectionID implements planner.Session.
func (s *Session) ConnectionID() uint32 { return s.connID }

// boolVariable reports whether a boolean variable is on.
func (s *Session) boolVariable(name string) bool {
	v := s.Variable(name)
	return v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "on")
}

// Variable returns the session value of a system variable, "" if unknown.
func (s *Session) Variable(name string) string {
	v, err := lookupVar(name)
	if err != nil {
		return ""
	}
	if val, ok := s.vars[v.name]; ok {
		return val
	}
	return globalValue(v)
}

// SystemVariable implements planner.Session.
func (s *Session) SystemVariable(name, scope string) (string, bool, error) {
	v, err := lookupVar(name)
	if err != nil {
		return "", false, err
	}
	switch v.name {
	case "warning_count":
		return strconv.Itoa(len(s.warnings)), true, nil
	case "error_count":
		return "0", true, nil
	}
	val := globalValue(v)
	if !strings.EqualFold(scope, "GLOBAL") {
		if sv, ok := s.vars[v.name]; ok {
			val = sv
		}
	}
	return val, v.kind != varString, nil
}

// UserVariable implements planner.Session.
func (s *Session) UserVariable(name string) any { return s.userVars[strings.ToLower(name)] }

// Close forgets the connection.
func (s *Session) Close() {
	s.eng.mu.Lock()
	delete(s.eng.conns, s.connID)
	s.eng.mu.Unlock()
}

// UseDB implements COM_INIT_DB and USE.
func (s *Session) UseDB(_ context.Context, db string) error {
	// Tolerate the internal catalog prefix tools send (internal.db).
	if i := strings.IndexByte(db, '.'); i >= 0 && strings.EqualFold(db[:i], "internal") {
		db = db[i+1:]
	}
	if strings.EqualFold(db, "information_schema") {
		s.setDB("information_schema")
		return nil
	}
	if _, err := s.eng.Catalog.Snapshot().Database(db); err != nil {
		return toMySQL(err)
	}
	if err := s.checkUseDB(db); err != nil {
		return err
	}
	s.setDB(db)
	return nil
}

// setDB changes the current database. The session's own goroutine reads
// s.db freely; other sessions (SHOW PROCESSLIST) read it under eng.mu, so
// writes take that lock.
func (s *Session) setDB(db string) {
	s.eng.mu.Lock()
	s.db = db
	s.eng.mu.Unlock()
}

// Query runs every statement of a COM_QUERY packet and returns one result
// per statement; on error it returns the results of the statements before
// the failing one, and the error.
func (s *Session) Query(ctx context.Context, text string) ([]*mysqlproto.Result, error) {
	stmts, err := sql.ParseMulti(text)
	if err != nil {
		return nil, toMySQL(err)
	}
	var results []*mysqlproto.Result
	for _, st := range stmts {
		r, err := s.execute(ctx, st, nil)
		if err != nil {
			return results, toMySQL(err)
		}
		results = append(results, r)
	}
	if len(results) == 0 {
		// An empty query (only comments): MySQL answers with an error.
		return nil, mysqlproto.NewError(1065, "Query was empty")
	}
	return results, nil
}

// execute runs one statement; params are the values of its placeholders.
func (s *Session) execute(ctx context.Context, st sql.Stmt, params []any) (res *mysqlproto.Result, err error) {
	s.eng.queries.Add(1)
	defer s.eng.Metrics.statement(st, time.Now(), &res, &err)
	ctx, endStatement := s.beginStatement(ctx, st)
	defer endStatement(&res, &err)
	if _, isShowWarnings := st.(*sql.ShowStmt); !isShowWarnings {
		s.warnings = s.warnings[:0]
	}
	defer s.endAuthorization()
	if err := s.authorize(ctx, st); err != nil {
		return nil, err
	}
	if forwarded(st) && s.eng.Leading != nil && !s.eng.Leading() && s.eng.Forward != nil {
		return s.forward(ctx, st)
	}
	switch x := st.(type) {
	case *sql.SelectStmt:
		return s.runSelect(ctx, x, params)
	case *sql.ExplainStmt:
		if x.Level == "ANALYZE" {
			return s.explainAnalyze(ctx, x)
		}
		return s.explain(x)
	case *sql.InsertStmt:
		return s.insert(ctx, x, params)
	case *sql.DeleteStmt:
		return s.deleteFrom(ctx, x, params)
	case *sql.UpdateStmt:
		return s.update(ctx, x, params)
	case *sql.CreateDatabaseStmt:
		if err := s.eng.Catalog.CreateDatabase(ctx, x.Name.Name, x.IfNotExists); err != nil {
			return nil, err
		}
		return ok(0), nil
	case *sql.DropDatabaseStmt:
		if err := s.eng.Catalog.DropDatabase(ctx, x.Name.Name, x.IfExists); err != nil {
			return nil, err
		}
		if s.db == x.Name.Name {
			s.setDB("")
		}
		return ok(0), nil
	case *sql.CreateTableStmt:
		return s.createTable(ctx, x)
	case *sql.CreateViewStmt:
		return s.createView(ctx, x)
	case *sql.DropViewStmt:
		return s.dropView(ctx, x)
	case *sql.AlterTableStmt:
		return s.alterTable(ctx, x)
	case *sql.CreateMaterializedViewStmt:
		return s.createMaterializedView(ctx, x)
	case *sql.DropMaterializedViewStmt:
		return s.dropMaterializedView(ctx, x)
	case *sql.CancelAlterStmt:
		return s.cancelAlter(ctx, x)
	case *sql.AlterSystemStmt:
		return s.alterSystem(ctx, x)
	case *sql.DropTableStmt:
		for _, n := range x.Names {
			db, err := s.dbFor(n)
			if err != nil {
				return nil, err
			}
			if t, err := s.eng.Catalog.Snapshot().Table(db, n.Name); err == nil && t.IsView() {
				return nil, notBaseTable(db, n.Name)
			}
			if x.IfExists {
				if _, err := s.eng.Catalog.Snapshot().Table(db, n.Name); err != nil {
					s.warnings = append(s.warnings, warning{level: "Note", code: 1051, msg: fmt.Sprintf("Unknown table '%s.%s'", db, n.Name)})
				}
			}
			if err := s.eng.Catalog.DropTable(ctx, db, n.Name, x.IfExists); err != nil {
				return nil, err
			}
		}
		res := ok(0)
		res.Warnings = uint16(len(s.warnings))
		return res, nil
	case *sql.UseStmt:
		if err := s.UseDB(ctx, x.DB); err != nil {
			return nil, err
		}
		return ok(0), nil
	case *sql.ShowStmt:
		if x.Kind == "QUERY PROFILE" {
			return s.showQueryProfile(x)
		}
		return s.show(ctx, x)
	case *sql.DescribeStmt:
		return s.describe(x)
	case *sql.SetStmt:
		return s.set(x)
	case *sql.TxnStmt, *sql.SyncStmt:
		return ok(0), nil
	case sql.AccountStmt:
		return s.account(ctx, x)
	case *sql.KillStmt:
		return s.kill(x)
	}
	return nil, notSupported(fmt.Sprintf("the statement %q", firstWords(st.Text())))
}

func firstWords(s string) string {
	f := strings.Fields(redactPasswords(s))
	if len(f) > 3 {
		f = f[:3]
	}
	return strings.Join(f, " ")
}

func ok(affected uint64) *mysqlproto.Result { return &mysqlproto.Result{AffectedRows: affected} }

// dbFor returns the database an object name refers to.
func (s *Session) dbFor(n sql.ObjectName) (string, error) {
	if n.DB != "" {
		return n.DB, nil
	}
	if s.db == "" {
		return "", errNoDB()
	}
	return s.db, nil
}

func (s *Session) createTable(ctx context.Context, st *sql.CreateTableStmt) (*mysqlproto.Result, error) {
	db, err := s.dbFor(st.Name)
	if err != nil {
		return nil, err
	}
	t, err := tableFromDDL(st)
	if err != nil {
		return nil, err
	}
	if s.eng.Cluster == nil {
		// Without a cluster view the one backend holds everything.
		if n, err := cluster.ReplicationNum(t, 1); err == nil && n > 1 {
			return nil, ddlError("%s", (&cluster.NotEnoughBackendsError{Need: n, Have: 1}).Error())
		}
	}
	if err := s.eng.Catalog.CreateTable(ctx, db, t, st.IfNotExists); err != nil {
		var nb *cluster.NotEnoughBackendsError
		if errors.As(err, &nb) {
			return nil, ddlError("%s", nb.Error())
		}
		var ce *cluster.ColocateError
		if errors.As(err, &ce) {
			return nil, ddlErrorCode(5063, "%s", ce.Error())
		}
		return nil, err
	}
	return ok(0), nil
}

// catalogView adapts a catalog snapshot to planner.Catalog.
type catalogView struct{ snap *catalog.Snapshot }

func (c catalogView) Table(db, name string) (*catalog.Table, bool) {
	t, err := c.snap.Table(db, name)
	return t, err == nil
}

func (c catalogView) HasDatabase(db string) bool {
	_, err := c.snap.Database(db)
	return err == nil
}

func (c catalogView) Databases() []*catalog.Database { return c.snap.Databases() }

func (c catalogView) Tables(db string) []*catalog.Table {
	ts, err := c.snap.Tables(db)
	if err != nil {
		return nil
	}
	return ts
}

func (s *Session) planner() *planner.Planner {
	return s.eng.newPlanner(s, s.eng.Catalog.Snapshot())
}

// newPlanner plans for sess against snap: over the local tablets, or as
// fragments on the backends when the engine has a Remote.
func (e *Engine) newPlanner(sess planner.Session, snap *catalog.Snapshot) *planner.Planner {
	pl := planner.New(sess, e.catalogFor(sess, snap), e.Tablets)
	if e.Remote != nil {
		pl.SetRemote(e.Remote)
	}
	return pl
}

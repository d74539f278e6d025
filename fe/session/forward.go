package session

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/strata-db/strata/fe/auth"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
)

// ForwardRequest is a statement a frontend that does not lead sends the
// leader to run: only the leader writes the catalog.
type ForwardRequest struct {
	SQL  string            `json:"sql"`
	DB   string            `json:"db"`
	User string            `json:"user"`
	Host string            `json:"host"`
	Vars map[string]string `json:"vars,omitempty"`
	// Identity is the identity the sender's session logged in as, whose
	// privileges the statement runs with; nil: the one User and Host
	// match on the leader.
	Identity *auth.Identity `json:"identity,omitempty"`
}

// ForwardResponse is the OK result of a forwarded statement, and the
// leader's catalog revision after it, which the follower waits for so
// that its next statement sees the change.
type ForwardResponse struct {
	AffectedRows uint64 `json:"affected_rows"`
	LastInsertID uint64 `json:"last_insert_id"`
	Warnings     uint16 `json:"warnings"`
	Info         string `json:"info,omitempty"`
	Revision     int64  `json:"revision"`
}

// forwarded reports whether st writes the catalog, so that a frontend that
// does not lead must send it to the leader. Loads (INSERT, DELETE, UPDATE)
// run where they are received: their transactions go to the leader
// through the load sink, and their rows straight to the backends.
func forwarded(st sql.Stmt) bool {
	if _, account := st.(sql.AccountStmt); account {
		return true
	}
	switch st.(type) {
	case *sql.CreateDatabaseStmt, *sql.DropDatabaseStmt, *sql.CreateTableStmt, *sql.DropTableStmt,
		*sql.AlterTableStmt, *sql.CreateMaterializedViewStmt, *sql.DropMaterializedViewStmt,
		*sql.CancelAlterStmt, *sql.AlterSystemStmt, *sql.CreateViewStmt, *sql.DropViewStmt:
		return true
	}
	return false
}

// forward runs st on the leader.
func (s *Session) forward(ctx context.Context, st sql.Stmt) (*mysqlproto.Result, error) {
	req := ForwardRequest{SQL: st.Text(), DB: s.db, User: s.user, Host: s.host, Vars: maps.Clone(s.vars)}
	if s.eng.Auth != nil {
		id := s.identity()
		req.Identity = &id
	}
	resp, err := s.eng.Forward(ctx, req)
	if err != nil {
		return nil, err
	}
	// Read-your-writes: the view the statement changed shows the change
	// here before the client's next statement runs. (Each view reaches
	// only the revisions of its own keys: the catalog never sees an ALTER
	// SYSTEM's.) The wait is bounded and best-effort: a statement that
	// wrote nothing
	// (IF NOT EXISTS) answers with the leader's snapshot revision, which
	// may be one no event here ever carries.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, system := st.(*sql.AlterSystemStmt); system {
		if s.eng.Cluster != nil {
			err = s.eng.Cluster.WaitRevision(wctx, resp.Revision)
		}
	} else if _, account := st.(sql.AccountStmt); account {
		if s.eng.Auth != nil {
			err = s.eng.Auth.WaitRevision(wctx, resp.Revision)
		}
	} else {
		err = s.eng.Catalog.WaitRevision(wctx, resp.Revision)
	}
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return &mysqlproto.Result{AffectedRows: resp.AffectedRows, LastInsertID: resp.LastInsertID, Warnings: resp.Warnings, Info: resp.Info}, nil
}

// ExecuteForwarded runs a statement another frontend forwarded, as the
// user who sent it there, and returns its OK result. A failure is a
// *mysqlproto.Error, as the client would have seen it here.
func (e *Engine) ExecuteForwarded(ctx context.Context, req ForwardRequest) (ForwardResponse, error) {
	if e.Leading != nil && !e.Leading() {
		return ForwardResponse{}, meta.ErrNotLeader
	}
	vars := map[string]string{}
	maps.Copy(vars, req.Vars)
	s := &Session{eng: e, user: req.User, host: req.Host, db: req.DB, vars: vars, userVars: map[string]any{}, start: time.Now(),
		ident: req.Identity}
	st, err := sql.Parse(req.SQL)
	if err != nil {
		return ForwardResponse{}, toMySQL(err)
	}
	if !forwarded(st) {
		return ForwardResponse{}, mysqlproto.NewError(mysqlproto.ER_UNKNOWN_ERROR, "statement %q is not one a frontend forwards", firstWords(req.SQL))
	}
	r, err := s.execute(ctx, st, nil)
	if err != nil {
		if errors.Is(err, meta.ErrNotLeader) {
			return ForwardResponse{}, err
		}
		return ForwardResponse{}, toMySQL(err)
	}
	if r.Rows != nil {
		r.Rows.Close()
	}
	rev := e.Catalog.Snapshot().Revision()
	if _, system := st.(*sql.AlterSystemStmt); system && e.Cluster != nil {
		rev = e.Cluster.Revision()
	}
	if _, account := st.(sql.AccountStmt); account && e.Auth != nil {
		rev = e.Auth.Revision()
	}
	return ForwardResponse{AffectedRows: r.AffectedRows, LastInsertID: r.LastInsertID, Warnings: r.Warnings, Info: r.Info,
		Revision: rev}, nil
}

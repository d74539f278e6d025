package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
)

// The errors of a statement that did not end on its own. MySQL's: KILL
// QUERY gives ER_QUERY_INTERRUPTED (Doris sends the same text), a
// statement past its time ER_QUERY_TIMEOUT, which is what MySQL's
// max_execution_time gives (Doris's query_timeout says "Timeout" in an
// errCode = 2 message; clients that look at numbers know 3024).
const erQueryTimeout uint16 = 3024

var (
	errStmtKilled  = mysqlproto.NewError(mysqlproto.ER_QUERY_INTERRUPTED, "Query execution was interrupted")
	errStmtTimeout = mysqlproto.NewError(erQueryTimeout, "Query execution was interrupted, maximum statement execution time exceeded")
)

// erKillDenied is ER_KILL_DENIED_ERROR: KILL of another user's connection.
const erKillDenied uint16 = 1095

// runningStmt is a statement of a session from its start until its result
// was sent (or it failed): what SHOW PROCESSLIST shows and what KILL
// cancels.
type runningStmt struct {
	// Immutable after beginStatement.
	text    string
	start   time.Time
	queryID string
	cancel  context.CancelCauseFunc
	mem     *exec.MemTracker
	profile bool // enable_profile: record the profile when it ends
	kind    string
}

// stmtState is a session's running statements: a COM_QUERY of several
// statements has each one's result open until it was sent.
type stmtState struct {
	mu      sync.Mutex // protects running
	running []*runningStmt
}

func (st *stmtState) add(r *runningStmt) {
	st.mu.Lock()
	st.running = append(st.running, r)
	st.mu.Unlock()
}

func (st *stmtState) remove(r *runningStmt) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for i, x := range st.running {
		if x == r {
			st.running = append(st.running[:i], st.running[i+1:]...)
			return
		}
	}
}

// cancelAll cancels every running statement with cause.
func (st *stmtState) cancelAll(cause error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, r := range st.running {
		r.cancel(cause)
	}
}

// current is the oldest running statement (nil: idle).
func (st *stmtState) current() *runningStmt {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.running) == 0 {
		return nil
	}
	return st.running[0]
}

// Statement describes the statement a connection is running, for SHOW
// PROCESSLIST: its text and how long it has run; ok is false when the
// connection is idle. It is safe to call from any goroutine.
func (s *Session) Statement() (text string, running time.Duration, ok bool) {
	r := s.stmts.current()
	if r == nil {
		return "", 0, false
	}
	return r.text, time.Since(r.start), true
}

// setVarHint matches the SET_VAR optimizer hint Doris (and MySQL 8) read
// in the body of a hint comment:
// SELECT /*+ SET_VAR(query_timeout = 1, exec_mem_limit = 1000) */ ...
var setVarHint = regexp.MustCompile(`(?is)\bSET_VAR\s*\(([^)]*)\)`)

// hintVars returns the name=value pairs of the statement's SET_VAR hints,
// names in lower case. Only hint comments count: text in string literals,
// quoted names and other comments does not.
func hintVars(text string) map[string]string {
	if !strings.Contains(text, "/*+") {
		return nil
	}
	var out map[string]string
	for _, body := range hintComments(text) {
		for _, m := range setVarHint.FindAllStringSubmatch(body, -1) {
			for _, kv := range strings.Split(m[1], ",") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					continue
				}
				if out == nil {
					out = map[string]string{}
				}
				out[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `'"`)
			}
		}
	}
	return out
}

// hintComments returns the bodies of the /*+ ... */ comments of a
// statement's text, skipping string literals, quoted identifiers and
// other comments. An unterminated hint comment is no hint.
func hintComments(text string) []string {
	var out []string
	for i := 0; i < len(text); {
		switch c := text[i]; {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(text, i)
		case c == '#' || (c == '-' && i+2 < len(text) && text[i+1] == '-' && strings.IndexByte(" \t\r\n", text[i+2]) >= 0):
			if j := strings.IndexByte(text[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(text)
			}
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			j := strings.Index(text[i+2:], "*/")
			if j < 0 {
				return out
			}
			if body := text[i+2 : i+2+j]; strings.HasPrefix(body, "+") {
				out = append(out, body[1:])
			}
			i += 2 + j + 2
		default:
			i++
		}
	}
	return out
}

// skipQuoted returns the index after the quoted text starting at text[i]:
// a doubled quote, and in string literals a backslash, escape the next
// character.
func skipQuoted(text string, i int) int {
	q := text[i]
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '\\':
			if q != '`' {
				j++
			}
		case q:
			if j+1 < len(text) && text[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(text)
}

// stmtVariable is a variable's value for one statement: its SET_VAR hint,
// else the session's value.
func (s *Session) stmtVariable(hints map[string]string, name string) string {
	if v, ok := hints[name]; ok {
		return v
	}
	return s.Variable(name)
}

// stmtInt is an integer variable's value for one statement: its SET_VAR
// hint when that is an integer, else the session's value; ok is false
// when neither is.
func (s *Session) stmtInt(hints map[string]string, name string) (n int64, ok bool) {
	if v, hinted := hints[name]; hinted {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			return n, true
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s.Variable(name)), 10, 64)
	return n, err == nil
}

func newQueryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:16] + "-" + h[16:]
}

// beginStatement starts the bookkeeping of one statement: a context
// canceled by KILL and by the statement's timeout (query_timeout, or
// insert_timeout for INSERT), the query's memory tracker (exec_mem_limit)
// and, with enable_profile, profiling. end must be called with the
// statement's result and error; it maps an interruption to its MySQL
// error and, for a result set, keeps the statement running until the
// rows were sent.
func (s *Session) beginStatement(ctx context.Context, st sql.Stmt) (context.Context, func(*(*mysqlproto.Result), *error)) {
	text := st.Text()
	hints := hintVars(text)
	r := &runningStmt{text: text, start: time.Now(), queryID: newQueryID(), kind: "Query"}
	timeoutVar := "query_timeout"
	switch st.(type) {
	case *sql.InsertStmt:
		timeoutVar, r.kind = "insert_timeout", "Load"
	case *sql.KillStmt, *sql.SetStmt, *sql.UseStmt:
		timeoutVar = "" // statements that return at once
	}
	ctx, cancel := context.WithCancelCause(ctx)
	r.cancel = cancel
	stop := func() {}
	if timeoutVar != "" {
		if secs, ok := s.stmtInt(hints, timeoutVar); ok && secs > 0 {
			var c context.CancelFunc
			ctx, c = context.WithTimeoutCause(ctx, time.Duration(secs)*time.Second, errStmtTimeout)
			stop = c
		}
	}
	if limit, ok := s.stmtInt(hints, "exec_mem_limit"); ok && limit > 0 {
		r.mem = exec.NewMemTracker(limit, "exec_mem_limit")
		ctx = exec.WithMemTracker(ctx, r.mem)
	}
	if v := s.stmtVariable(hints, "enable_profile"); v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "on") {
		r.profile = true
		ctx = planner.WithProfiling(ctx)
	}
	s.stmts.add(r)
	finish := func(state string) {
		stop()
		cancel(nil)
		s.stmts.remove(r)
		_ = state
	}
	end := func(res **mysqlproto.Result, errp *error) {
		if *errp != nil {
			*errp = interruption(ctx, *errp)
			s.eng.recordProfile(s, r, nil, "ERR")
			finish("ERR")
			return
		}
		if *res != nil && (*res).Rows != nil {
			// The statement runs on while its rows are sent.
			(*res).Rows = &stmtRows{RowIterator: (*res).Rows, ctx: ctx, done: func(rows mysqlproto.RowIterator, failed bool) {
				state := "EOF"
				if failed {
					state = "ERR"
				}
				var x *planner.Execution
				if ri, ok := rows.(*rowIterator); ok {
					x = ri.x
				}
				s.eng.recordProfile(s, r, x, state)
				finish(state)
			}}
			return
		}
		s.eng.recordProfile(s, r, nil, "EOF")
		finish("EOF")
	}
	return ctx, end
}

// interruption returns the error a client gets for err, a statement's
// failure under ctx: the statement's timeout or its KILL when ctx ended
// for one of them, else err.
func interruption(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, errStmtTimeout):
			return errStmtTimeout
		case errors.Is(cause, errStmtKilled):
			return errStmtKilled
		}
	}
	return err
}

// stmtRows is a result's rows whose errors become the statement's
// interruption and whose Close ends the statement. The statement failed
// when Next returned an error other than io.EOF, or when it was
// interrupted (KILL, its timeout, its connection closing) before its rows
// ended, e.g. while a write to a client that stopped reading was blocked.
type stmtRows struct {
	mysqlproto.RowIterator
	ctx    context.Context
	failed bool
	eof    bool
	closed bool
	done   func(rows mysqlproto.RowIterator, failed bool)
	// ended, when set, is called last by Close (the statement metrics).
	ended func(failed bool)
}

var _ mysqlproto.StatementRows = (*stmtRows)(nil)

func (r *stmtRows) Next() ([]arrow.Array, []int32, error) {
	cols, sel, err := r.RowIterator.Next()
	if errors.Is(err, io.EOF) {
		r.eof = true
	} else if err != nil {
		r.failed = true
		err = interruption(r.ctx, err)
	}
	return cols, sel, err
}

// StatementContext is the statement's context, canceled by KILL and its
// timeout: the protocol stops waiting on a client that does not read.
func (r *stmtRows) StatementContext() context.Context { return r.ctx }

func (r *stmtRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	if !r.eof && r.ctx.Err() != nil {
		r.failed = true // interrupted while its rows were sent
	}
	r.RowIterator.Close()
	r.done(r.RowIterator, r.failed)
	if r.ended != nil {
		r.ended(r.failed)
	}
}

// kill runs KILL [CONNECTION | QUERY] id.
func (s *Session) kill(st *sql.KillStmt) (*mysqlproto.Result, error) {
	lit, ok := st.ID.(*sql.IntLit)
	if !ok || lit.Big || lit.Val < 0 || lit.Val > int64(^uint32(0)) {
		return nil, mysqlproto.NewError(mysqlproto.ER_NO_SUCH_THREAD, "Unknown thread id: %v", st.ID)
	}
	id := uint32(lit.Val)
	s.eng.mu.Lock()
	victim := s.eng.conns[id]
	s.eng.mu.Unlock()
	if victim == nil {
		return nil, mysqlproto.NewError(mysqlproto.ER_NO_SUCH_THREAD, "Unknown thread id: %d", id)
	}
	if !mayKill(s, victim) {
		return nil, mysqlproto.NewError(erKillDenied, "You are not owner of thread %d", id)
	}
	if st.Query {
		if victim != s {
			victim.stmts.cancelAll(errStmtKilled)
		}
		return ok0(), nil
	}
	if victim != s {
		victim.stmts.cancelAll(errStmtKilled)
	}
	if s.eng.CloseConnection != nil {
		s.eng.CloseConnection(id)
	}
	return ok0(), nil
}

func ok0() *mysqlproto.Result { return ok(0) }

// mayKill reports whether killer may KILL victim's connection or query:
// its own user's connections, or any when it holds Admin_priv globally
// (Doris's KILL checks ADMIN).
func mayKill(killer, victim *Session) bool {
	if killer == victim || killer.user == victim.user {
		return true
	}
	return killer.isAdmin()
}

// processInfo is SHOW PROCESSLIST's Info: the running statement's text,
// NULL when idle.
func processInfo(p planner.Process) any {
	if p.Info == "" {
		return nil
	}
	return p.Info
}

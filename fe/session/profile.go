package session

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/auth"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
	"github.com/strata-db/strata/types"
)

// maxProfiles is how many query profiles a frontend keeps (Doris's
// max_query_profile_num defaults to 100).
const maxProfiles = 100

// queryProfile is one profiled statement, as SHOW QUERY PROFILE lists it.
type queryProfile struct {
	id         string
	user, db   string
	sql        string
	kind       string // Doris's QueryType: Query or Load
	start, end time.Time
	state      string // EOF or ERR
	memPeak    int64
	lines      []exec.ProfileLine
}

// profileStore keeps the last maxProfiles profiles, oldest first.
type profileStore struct {
	mu   sync.Mutex // protects list
	list []*queryProfile
}

func (ps *profileStore) add(p *queryProfile) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if len(ps.list) >= maxProfiles {
		ps.list = append(ps.list[:0], ps.list[1:]...)
	}
	ps.list = append(ps.list, p)
}

func (ps *profileStore) snapshot() []*queryProfile {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]*queryProfile(nil), ps.list...)
}

// recordProfile keeps the profile of a statement run with enable_profile;
// x is its execution (nil: it ran no operators).
func (e *Engine) recordProfile(s *Session, r *runningStmt, x *planner.Execution, state string) {
	if !r.profile {
		return
	}
	// A Flight SQL session may end a statement while another call changes
	// its database: read it under the lock setDB writes it under.
	e.mu.Lock()
	db := s.db
	e.mu.Unlock()
	p := &queryProfile{id: r.queryID, user: s.user, db: db, sql: redactPasswords(r.text), kind: r.kind,
		start: r.start, end: time.Now(), state: state}
	if r.mem != nil {
		p.memPeak = r.mem.Peak()
	}
	if x != nil {
		p.lines = x.Profile().Lines()
	}
	e.profiles.add(p)
}

// profileFields are the columns of EXPLAIN ANALYZE and SHOW QUERY PROFILE
// "/<id>": one row per operator, indented as EXPLAIN indents the plan.
func profileFields() []mysqlproto.Field {
	return []mysqlproto.Field{
		{Name: "Operator", Type: types.Varchar(256)},
		{Name: "Rows", Type: types.BigInt},
		{Name: "Batches", Type: types.BigInt},
		{Name: "TotalTime", Type: types.Varchar(32)},
		{Name: "SelfTime", Type: types.Varchar(32)},
		{Name: "Detail", Type: types.Varchar(256), Nullable: true},
	}
}

func profileRows(lines []exec.ProfileLine) [][]any {
	rows := make([][]any, len(lines))
	for i, l := range lines {
		self := "-"
		if l.Exclusive >= 0 {
			self = fmtDuration(l.Exclusive)
		}
		var detail any
		if l.Detail != "" {
			detail = l.Detail
		}
		rows[i] = []any{l.Operator, l.Rows, l.Batches, fmtDuration(l.Inclusive), self, detail}
	}
	return rows
}

// fmtDuration prints a duration the way Doris's profiles do: 1s234ms,
// 12.345ms, 678.901us.
func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%ds%dms", d/time.Second, d%time.Second/time.Millisecond)
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.3fus", float64(d)/float64(time.Microsecond))
	}
}

// explainAnalyze runs the query of EXPLAIN ANALYZE to its end, dropping
// its rows, and returns what each operator did.
func (s *Session) explainAnalyze(ctx context.Context, st *sql.ExplainStmt) (*mysqlproto.Result, error) {
	sel, ok := st.Stmt.(*sql.SelectStmt)
	if !ok {
		return nil, notSupported("EXPLAIN ANALYZE of this statement")
	}
	pl := s.planner()
	plan, err := pl.PlanSelect(sel, nil)
	if err != nil {
		return nil, err
	}
	x, err := pl.Build(plan)
	if err != nil {
		return nil, err
	}
	defer x.Release()
	ctx = planner.WithProfiling(ctx)
	ec := exec.NewEvalContext()
	ctx = exec.WithEvalContext(ctx, ec)
	start := time.Now()
	rows := int64(0)
	if err := exec.Drain(ctx, x.Root, func(b *exec.Batch) error {
		rows += int64(b.NumRows())
		return nil
	}); err != nil {
		return nil, err
	}
	total := time.Since(start)
	lines := x.Profile().Lines()
	out := profileRows(lines)
	detail := fmt.Sprintf("rows=%d", rows)
	if t := exec.MemTrackerFrom(ctx); t != nil {
		detail += fmt.Sprintf(" peak_memory=%d", t.Peak())
	}
	out = append([][]any{{"Query", rows, nil, fmtDuration(total), nil, detail}}, out...)
	return mysqlproto.NewRowsResult(profileFields(), out), nil
}

// showQueryProfile runs SHOW QUERY PROFILE "/" (the profiles kept, newest
// first, with Doris's columns) and SHOW QUERY PROFILE "/<query id>" (that
// query's operators).
func (s *Session) showQueryProfile(st *sql.ShowStmt) (*mysqlproto.Result, error) {
	path := strings.Trim(st.Name, "/")
	all := s.eng.profiles.snapshot()
	if path == "" {
		seeAll := s.seesAllStatements()
		rows := make([][]any, 0, len(all))
		for i := len(all) - 1; i >= 0; i-- {
			p := all[i]
			if !seeAll && p.user != s.user {
				continue
			}
			rows = append(rows, []any{p.id, p.user, p.db, p.sql, p.kind,
				p.start.Format("2006-01-02 15:04:05"), p.end.Format("2006-01-02 15:04:05"),
				fmtDuration(p.end.Sub(p.start)), p.state})
		}
		return mysqlproto.NewRowsResult(stringFields("QueryId", "User", "DefaultDb", "SQL", "QueryType",
			"StartTime", "EndTime", "TotalTime", "QueryState"), rows), nil
	}
	id, _, _ := strings.Cut(path, "/")
	for _, p := range all {
		if p.id == id {
			if p.user != s.user {
				if e := s.effective(); e != nil && !e.GlobalHas(auth.AdminPriv) {
					return nil, privDenied(auth.AdminPriv)
				}
			}
			out := profileRows(p.lines)
			detail := fmt.Sprintf("state=%s", p.state)
			if p.memPeak > 0 {
				detail += fmt.Sprintf(" peak_memory=%d", p.memPeak)
			}
			out = append([][]any{{"Query " + p.id, nil, nil, fmtDuration(p.end.Sub(p.start)), nil, detail}}, out...)
			return mysqlproto.NewRowsResult(profileFields(), out), nil
		}
	}
	return nil, mysqlproto.NewError(mysqlproto.ER_UNKNOWN_ERROR, "query id %s not found", id)
}

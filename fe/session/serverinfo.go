package session

import (
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/strata-db/strata/fe/auth"
	"github.com/strata-db/strata/fe/planner"
)

var _ planner.ServerInfo = (*Session)(nil)

// Variables implements planner.ServerInfo: every system variable with its
// global value, or this session's when global is false.
func (s *Session) Variables(global bool) []planner.VariableRow {
	scope := ""
	if global {
		scope = "GLOBAL"
	}
	names := sortedVarNames()
	out := make([]planner.VariableRow, 0, len(names))
	for _, n := range names {
		r := s.variableRow(n, scope)
		out = append(out, planner.VariableRow{
			Name: r[0].(string), Value: r[1].(string), Default: r[2].(string), Changed: r[3] == "1",
		})
	}
	return out
}

// Processes implements planner.ServerInfo: the open connections by id;
// only the session user's own unless it may see every statement.
func (s *Session) Processes() []planner.Process {
	all := s.seesAllStatements()
	s.eng.mu.Lock()
	defer s.eng.mu.Unlock()
	ids := make([]uint32, 0, len(s.eng.conns))
	for id, c := range s.eng.conns {
		if all || c == s || c.user == s.user {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]planner.Process, 0, len(ids))
	for _, id := range ids {
		c := s.eng.conns[id]
		out = append(out, planner.Process{
			ID: int64(id), User: c.user, Host: c.host, DB: c.db, Command: "Query",
			LoginMillis: c.start.UnixMilli(), TimeSeconds: int64(time.Since(c.start).Seconds()),
			Current: c == s,
		})
		if text, d, ok := c.Statement(); ok {
			out[len(out)-1].Info, out[len(out)-1].TimeSeconds = redactPasswords(text), int64(d.Seconds())
		}
	}
	return out
}

// seesAllStatements reports whether the session may see the statements
// of other users' connections and queries (SHOW PROCESSLIST,
// information_schema.processlist, SHOW QUERY PROFILE): with global
// Admin_priv or Grant_priv, as MySQL's PROCESS privilege; else only its
// user's own.
func (s *Session) seesAllStatements() bool {
	e := s.effective()
	return e == nil || e.GlobalAny(auth.AdminPriv|auth.GrantPriv)
}

// secretLiteral is a quoted SQL string: '...' or "..." with backslash
// escapes and doubled quotes.
const secretLiteral = `'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"`

// passwordPatterns find the passwords account statements carry in clear:
// IDENTIFIED BY 'x' (and BY PASSWORD '*hash'), PASSWORD('x'), and SET
// PASSWORD [FOR u] = 'x'. The first group is kept, the literal replaced.
var passwordPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?is)(\bIDENTIFIED\s+BY\s+(?:PASSWORD\s+)?)(?:` + secretLiteral + `)`),
	regexp.MustCompile(`(?is)(\bPASSWORD\s*\(\s*)(?:` + secretLiteral + `)`),
	regexp.MustCompile(`(?is)(\bSET\s+PASSWORD\b[^=]*=\s*)(?:` + secretLiteral + `)`),
}

// redactPasswords replaces the passwords in a statement's text with
// '*****', for every place the text is kept or shown after the statement
// was parsed: the running statement, query profiles, error messages.
func redactPasswords(text string) string {
	if !strings.Contains(strings.ToUpper(text), "PASSWORD") && !strings.Contains(strings.ToUpper(text), "IDENTIFIED") {
		return text
	}
	for _, re := range passwordPatterns {
		text = re.ReplaceAllString(text, "${1}'*****'")
	}
	return text
}

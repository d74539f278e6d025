package session

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strata-db/strata/fe/auth"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/mysqlproto"
)

// SHOW TRANSACTION, SHOW LOAD and SHOW STREAM LOAD read the load
// transactions of fe/txn and show them with Doris's columns
// (TransProcDir, ShowLoadCommand). Strata keeps no load jobs apart from
// their transactions: a load job is its transaction, and its JobId is the
// transaction id.

// nullString is what Doris shows for an unset time or message
// (FeConstants.null_string): the text NULL, not SQL NULL.
const nullString = "NULL"

// transactionTitles are SHOW TRANSACTION's columns (TransProcDir).
var transactionTitles = []string{
	"TransactionId", "Label", "Coordinator", "TransactionStatus", "LoadJobSourceType",
	"PrepareTime", "PreCommitTime", "CommitTime", "PublishTime", "FinishTime",
	"Reason", "ErrorReplicasCount", "ListenerId", "TimeoutMs", "ErrMsg",
}

// showTransaction is SHOW TRANSACTION [FROM db] WHERE ID = n | LABEL = 'l' |
// STATUS = 's'.
func (s *Session) showTransaction(ctx context.Context, st *sql.ShowStmt) (*mysqlproto.Result, error) {
	// Doris: transactions are an administrator's business.
	if err := needGlobal(s.effective(), auth.AdminPriv); err != nil {
		return nil, err
	}
	db, err := s.loadDB(st, "SHOW TRANSACTION")
	if err != nil {
		return nil, err
	}
	var (
		id     int64 = -1
		label  string
		status txn.Status
	)
	switch {
	case st.Name != "":
		// SHOW TRANSACTION <id>, which the parser also accepts.
		if id, err = strconv.ParseInt(st.Name, 10, 64); err != nil {
			return nil, ddlError("Invalid transaction id: %s", st.Name)
		}
	case st.Where == nil:
		return nil, ddlError("Missing transaction id")
	default:
		if id, label, status, err = transactionWhere(st.Where); err != nil {
			return nil, err
		}
	}
	loc := s.location()
	var txns []*txn.Txn
	switch {
	case status != txn.StatusUnknown:
		all, err := s.eng.Txns.List(ctx, db.ID)
		if err != nil {
			return nil, err
		}
		for _, t := range all {
			if t.Status == status {
				txns = append(txns, t)
			}
		}
		// Newest first, as Doris lists them.
		slices.SortFunc(txns, func(a, b *txn.Txn) int { return cmp.Compare(b.ID, a.ID) })
	case label != "":
		t, err := s.txnByLabel(ctx, db.ID, label)
		if err != nil {
			return nil, err
		}
		txns = append(txns, t)
	default:
		t, err := s.eng.Txns.Get(ctx, id)
		switch {
		case errors.Is(err, txn.ErrNotFound) || err == nil && t.DBID != db.ID:
			return nil, ddlError("transaction with id %d does not exist", id)
		case err != nil:
			return nil, err
		}
		txns = append(txns, t)
	}
	rows := make([][]any, len(txns))
	for i, t := range txns {
		rows[i] = transactionRow(t, loc)
	}
	return mysqlproto.NewRowsResult(stringFields(transactionTitles...), rows), nil
}

// transactionWhere reads SHOW TRANSACTION's WHERE: one of id = 123,
// label = 'l' or status = 'visible'.
func transactionWhere(e sql.Expr) (id int64, label string, status txn.Status, err error) {
	id = -1
	bad := ddlError("Where clause should looks like one of them: id = 123 or label = 'label' " +
		"or status = 'prepare/precommitted/committed/visible/aborted'")
	b, ok := e.(*sql.BinaryExpr)
	if !ok || b.Op != "=" {
		return 0, "", 0, bad
	}
	col, ok := b.L.(*sql.ColumnRef)
	if !ok || col.Table != "" {
		return 0, "", 0, bad
	}
	switch strings.ToLower(col.Column) {
	case "id":
		if n, ok := b.R.(*sql.IntLit); ok && !n.Big {
			return n.Val, "", 0, nil
		}
	case "label":
		if s, ok := b.R.(*sql.StringLit); ok {
			return id, s.Val, 0, nil
		}
	case "status":
		if s, ok := b.R.(*sql.StringLit); ok {
			var st txn.Status
			if st.UnmarshalText([]byte(strings.ToUpper(s.Val))) != nil || st == txn.StatusUnknown {
				return 0, "", 0, ddlError("status should be prepare/precommitted/committed/visible/aborted")
			}
			return id, "", st, nil
		}
	}
	return 0, "", 0, bad
}

// txnByLabel finds the transaction of a label: the one holding it, else
// the newest that had it (an aborted one no longer holds its label).
func (s *Session) txnByLabel(ctx context.Context, dbID int64, label string) (*txn.Txn, error) {
	t, err := s.eng.Txns.GetByLabel(ctx, dbID, label)
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, txn.ErrNotFound) {
		return nil, err
	}
	all, err := s.eng.Txns.List(ctx, dbID)
	if err != nil {
		return nil, err
	}
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Label == label {
			return all[i], nil
		}
	}
	return nil, ddlError("transaction with label %s does not exist", label)
}

func transactionRow(t *txn.Txn, loc *time.Location) []any {
	var publish int64
	if t.Status == txn.StatusVisible {
		publish = t.FinishTime // publishing is what made it visible
	}
	return []any{
		strconv.FormatInt(t.ID, 10), t.Label, coordinatorText(t), t.Status.String(), sourceType(t.Source),
		timeText(t.PrepareTime, loc), timeText(t.PrecommitTime, loc), timeText(t.CommitTime, loc),
		timeText(publish, loc), timeText(t.FinishTime, loc), t.Reason, "0", "-1",
		strconv.FormatInt(t.TimeoutMs, 10), "",
	}
}

// coordinatorText is Doris's TxnCoordinator text: the kind of node that
// runs the load and the node.
func coordinatorText(t *txn.Txn) string {
	kind := "FE"
	if t.Source == "STREAM_LOAD" {
		kind = "BE"
	}
	return kind + ": " + t.Coordinator.Node
}

// sourceType is Doris's LoadJobSourceType of a transaction source.
func sourceType(source string) string {
	switch source {
	case "STREAM_LOAD":
		return "BACKEND_STREAMING"
	case "INSERT":
		return "INSERT_STREAMING"
	case "":
		return "FRONTEND"
	}
	return source
}

// timeText renders a unix time in milliseconds as Doris's
// TimeUtils.longToTimeString does; NULL (the text) when unset.
func timeText(ms int64, loc *time.Location) string {
	if ms <= 0 {
		return nullString
	}
	return time.UnixMilli(ms).In(loc).Format(time.DateTime)
}

// timeTextMs is timeText with milliseconds, as SHOW STREAM LOAD shows its
// times.
func timeTextMs(ms int64, loc *time.Location) string {
	if ms <= 0 {
		return nullString
	}
	return time.UnixMilli(ms).In(loc).Format("2006-01-02 15:04:05.000")
}

// location is the session time zone.
func (s *Session) location() *time.Location {
	return planner.TimeZone(s.Variable("time_zone"))
}

// loadDB resolves the database of SHOW TRANSACTION/LOAD/STREAM LOAD.
func (s *Session) loadDB(st *sql.ShowStmt, what string) (*catalog.Database, error) {
	if s.eng.Txns == nil {
		return nil, notSupported(what)
	}
	name, err := s.showDB(st)
	if err != nil {
		return nil, err
	}
	if err := s.checkUseDB(name); err != nil {
		return nil, err
	}
	return s.eng.Catalog.Snapshot().Database(name)
}

// canSeeTableIDs reports whether the session can see every table of
// database db among ids (a transaction's, a job's); a table dropped
// since is judged by the privileges on the database.
func (s *Session) canSeeTableIDs(snap *catalog.Snapshot, db *catalog.Database, ids ...int64) bool {
	for _, id := range ids {
		name := ""
		if t, ok := snap.TableByID(db.ID, id); ok {
			name = t.Name
		}
		if !s.canSeeTable(db.Name, name) {
			return false
		}
	}
	return true
}

// loadTitles are SHOW LOAD's columns, streamLoadTitles SHOW STREAM LOAD's
// (ShowLoadCommand).
var (
	loadTitles = []string{
		"JobId", "Label", "State", "Progress", "Type", "EtlInfo", "TaskInfo", "ErrorMsg", "CreateTime",
		"EtlStartTime", "EtlFinishTime", "LoadStartTime", "LoadFinishTime", "URL", "JobDetails",
		"TransactionId", "ErrorTablets", "User", "Comment",
	}
	streamLoadTitles = []string{
		"Label", "Db", "Table", "ClientIp", "Status", "Message", "Url", "TotalRows", "LoadedRows",
		"FilteredRows", "UnselectedRows", "LoadBytes", "StartTime", "FinishTime", "User", "Comment",
	}
)

// loadState is the SHOW LOAD state of a transaction: a running load is
// LOADING (a precommitted two-phase load too: it is neither committed nor
// cancelled), a committed one COMMITTED until it is visible, then FINISHED;
// an aborted one is CANCELLED.
func loadState(s txn.Status) string {
	switch s {
	case txn.StatusCommitted:
		return "COMMITTED"
	case txn.StatusVisible:
		return "FINISHED"
	case txn.StatusAborted:
		return "CANCELLED"
	}
	return "LOADING"
}

// loadStates are the states SHOW LOAD WHERE STATE = accepts: Doris's job
// states, and COMMITTED, which Strata shows.
var loadStates = []string{"UNKNOWN", "PENDING", "ETL", "LOADING", "COMMITTED", "FINISHED", "QUORUM_FINISHED", "CANCELLED"}

// loadFilter is a parsed SHOW [STREAM] LOAD WHERE.
type loadFilter struct {
	label   string
	pattern bool // label is a LIKE pattern
	state   string
}

func (f *loadFilter) match(label, state string) bool {
	if f.state != "" && !strings.EqualFold(f.state, state) {
		return false
	}
	switch {
	case f.label == "":
		return true
	case f.pattern:
		return likeMatchCase(f.label, label)
	}
	return label == f.label
}

// parseLoadWhere reads LABEL = 'x', LABEL LIKE 'x', STATE = 'S' and their
// conjunction, as Doris allows them. For SHOW STREAM LOAD the state is
// SUCCESS or FAIL, also written STATUS = .
func parseLoadWhere(e sql.Expr, stream bool) (*loadFilter, error) {
	f := &loadFilter{}
	if e == nil {
		return f, nil
	}
	bad := ddlError(`Where clause should looks like: LABEL = "your_load_label", or LABEL LIKE "matcher",  or STATE = "PENDING|ETL|LOADING|FINISHED|CANCELLED",  or compound predicate with operator AND`)
	if stream {
		bad = ddlError(`Where clause should looks like: LABEL = "your_load_label", or LABEL LIKE "matcher",  or STATUS = "SUCCESS|FAIL",  or compound predicate with operator AND`)
	}
	var one func(e sql.Expr) error
	one = func(e sql.Expr) error {
		var key, val string
		like := false
		switch x := e.(type) {
		case *sql.BinaryExpr:
			if x.Op != "=" {
				return bad
			}
			c, ok1 := x.L.(*sql.ColumnRef)
			v, ok2 := x.R.(*sql.StringLit)
			if !ok1 || !ok2 {
				return bad
			}
			key, val = strings.ToLower(c.Column), v.Val
		case *sql.LikeExpr:
			c, ok1 := x.X.(*sql.ColumnRef)
			v, ok2 := x.Pattern.(*sql.StringLit)
			if x.Not || x.Regexp || x.Escape != nil || !ok1 || !ok2 {
				return bad
			}
			key, val, like = strings.ToLower(c.Column), v.Val, true
		default:
			return bad
		}
		if val == "" {
			return bad
		}
		switch {
		case key == "label":
			if f.label != "" {
				return ddlError("column names on both sides of operator AND should be different")
			}
			f.label, f.pattern = val, like
			if like && !strings.Contains(val, "%") {
				f.label = "%" + val + "%"
			}
		case !like && (key == "state" || stream && key == "status"):
			if f.state != "" {
				return ddlError("column names on both sides of operator AND should be different")
			}
			f.state = strings.ToUpper(val)
			valid := loadStates
			if stream {
				valid = []string{"SUCCESS", "FAIL"}
			}
			if !slices.Contains(valid, f.state) {
				return bad
			}
		default:
			return bad
		}
		return nil
	}
	if b, ok := e.(*sql.BinaryExpr); ok && (b.Op == "AND" || b.Op == "OR") {
		if b.Op == "OR" {
			return nil, ddlError("Only allow compound predicate with operator AND")
		}
		if err := one(b.L); err != nil {
			return nil, err
		}
		return f, one(b.R)
	}
	return f, one(e)
}

// showLoad is SHOW LOAD and SHOW STREAM LOAD [FROM db] [WHERE ...]
// [ORDER BY column, ...] [LIMIT [offset,] n].
func (s *Session) showLoad(ctx context.Context, st *sql.ShowStmt) (*mysqlproto.Result, error) {
	stream := st.Kind == "STREAM LOAD"
	db, err := s.loadDB(st, "SHOW "+st.Kind)
	if err != nil {
		return nil, err
	}
	filter, err := parseLoadWhere(st.Where, stream)
	if err != nil {
		return nil, err
	}
	titles := loadTitles
	if stream {
		titles = streamLoadTitles
	}
	order, err := orderPairs(st.OrderBy, titles)
	if err != nil {
		return nil, err
	}
	limit, offset, err := showLimit(st.Limit)
	if err != nil {
		return nil, err
	}
	all, err := s.eng.Txns.List(ctx, db.ID)
	if err != nil {
		return nil, err
	}
	snap := s.eng.Catalog.Snapshot()
	loc := s.location()
	var rows [][]any
	for _, t := range all {
		if !s.canSeeTableIDs(snap, db, t.TableIDs...) {
			continue
		}
		if stream {
			if t.Source != "STREAM_LOAD" || t.Status == txn.StatusPrepare {
				// Doris records a stream load when its request ends.
				continue
			}
			status := "Success"
			if t.Status == txn.StatusAborted {
				status = "Fail"
			}
			if filter.match(t.Label, status) {
				rows = append(rows, streamLoadRow(t, db.Name, tableNames(snap, t), status, loc))
			}
			continue
		}
		if filter.match(t.Label, loadState(t.Status)) {
			rows = append(rows, loadRow(t, loc))
		}
	}
	// Sort on the typed values, then render: ids sort as numbers.
	slices.SortStableFunc(rows, func(a, b []any) int {
		for _, o := range order {
			if c := compareCells(a[o.col], b[o.col]); c != 0 {
				if o.desc {
					return -c
				}
				return c
			}
		}
		return 0
	})
	if offset >= int64(len(rows)) {
		rows = nil
	} else {
		rows = rows[offset:]
		if limit >= 0 && limit < int64(len(rows)) {
			rows = rows[:limit]
		}
	}
	for _, r := range rows {
		for i, v := range r {
			if n, ok := v.(int64); ok {
				r[i] = strconv.FormatInt(n, 10)
			}
		}
	}
	return mysqlproto.NewRowsResult(stringFields(titles...), rows), nil
}

func loadRow(t *txn.Txn, loc *time.Location) []any {
	state := loadState(t.Status)
	progress := "ETL:100%; LOAD:0%"
	switch state {
	case "CANCELLED":
		progress = "ETL:N/A; LOAD:N/A"
	case "COMMITTED", "FINISHED":
		progress = "ETL:100%; LOAD:100%"
	}
	errMsg := nullString
	if t.Status == txn.StatusAborted {
		errMsg = "type:LOAD_RUN_FAIL; msg:" + t.Reason
	}
	var finish int64
	if t.Status.Final() {
		finish = t.FinishTime
	}
	start := timeText(t.PrepareTime, loc)
	return []any{
		t.ID, t.Label, state, progress, t.Source, nullString,
		fmt.Sprintf("cluster:N/A; timeout(s):%d", t.TimeoutMs/1000), errMsg,
		start, start, start, start, timeText(finish, loc),
		nil, "{}", t.ID, "{}", nil, "",
	}
}

func streamLoadRow(t *txn.Txn, db, table, status string, loc *time.Location) []any {
	msg := "OK"
	if t.Status == txn.StatusAborted {
		msg = t.Reason
	}
	// The request ended at precommit, commit or abort.
	end := t.FinishTime
	switch {
	case t.PrecommitTime > 0:
		end = t.PrecommitTime
	case t.CommitTime > 0:
		end = t.CommitTime
	}
	return []any{
		t.Label, db, table, nil, status, msg, nil, nil, nil, nil, nil, nil,
		timeTextMs(t.PrepareTime, loc), timeTextMs(end, loc), nil, "",
	}
}

// tableNames names the tables a transaction loads.
func tableNames(snap *catalog.Snapshot, t *txn.Txn) string {
	var names []string
	for _, id := range t.TableIDs {
		if tb, ok := snap.TableByID(t.DBID, id); ok {
			names = append(names, tb.Name)
		}
	}
	return strings.Join(names, ",")
}

type orderPair struct {
	col  int
	desc bool
}

// orderPairs maps SHOW ... ORDER BY columns to result columns by title;
// without ORDER BY, rows are in the order of the first column.
func orderPairs(items []*sql.OrderItem, titles []string) ([]orderPair, error) {
	if len(items) == 0 {
		return []orderPair{{col: 0}}, nil
	}
	out := make([]orderPair, 0, len(items))
	for _, it := range items {
		c, ok := it.Expr.(*sql.ColumnRef)
		if !ok {
			return nil, ddlError("Should order by column")
		}
		i := slices.IndexFunc(titles, func(t string) bool { return strings.EqualFold(t, c.Column) })
		if i < 0 {
			return nil, ddlError("Title name[%s] does not exist", c.Column)
		}
		out = append(out, orderPair{col: i, desc: it.Desc})
	}
	return out, nil
}

// compareCells orders SHOW cells: NULL first, numbers as numbers, text as
// bytes.
func compareCells(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y)
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// showLimit reads SHOW's LIMIT [offset,] n; limit is -1 without one.
func showLimit(l *sql.Limit) (limit, offset int64, err error) {
	if l == nil {
		return -1, 0, nil
	}
	num := func(e sql.Expr) (int64, error) {
		if n, ok := e.(*sql.IntLit); ok && !n.Big && n.Val >= 0 {
			return n.Val, nil
		}
		return 0, &sqlError{Code: planner.ErrParse, Msg: fmt.Sprintf("LIMIT must be a non-negative integer, got %s", e)}
	}
	if limit, err = num(l.Count); err != nil {
		return 0, 0, err
	}
	if l.Offset != nil {
		if offset, err = num(l.Offset); err != nil {
			return 0, 0, err
		}
	}
	return limit, offset, nil
}

// likeMatchCase is LIKE with % and _ and byte-exact comparison, as Doris
// matches labels.
func likeMatchCase(pattern, s string) bool { return sql.MatchLike(pattern, s) }

package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/mysqlproto"
)

// stepClock is a txn.Clock that moves a second forward each time it is read.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

// loadsFixture runs transactions in every state against d.t:
//
//	sl_visible   stream load, two-phase: precommitted, committed, published
//	sl_committed stream load, committed, not published
//	ins_aborted  INSERT, aborted
//	sl_running   stream load, PREPARE
//	sl_pre       stream load, PRECOMMITTED
//
// and one in another database. Clock reads start at 2024-05-06 07:08:10 UTC
// and advance a second each.
func loadsFixture(t *testing.T) (*Session, map[string]*txn.Txn) {
	t.Helper()
	clock := &stepClock{now: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
	// No backend: publishing only records the versions as visible.
	e := newTestEngineClock(t, func(txn.Publisher) txn.Publisher { return nil }, clock)
	s := newTestSession(t, e, 1)
	query(t, s, "CREATE DATABASE d")
	query(t, s, "CREATE DATABASE other")
	query(t, s, "CREATE TABLE d.t (k INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
	query(t, s, "CREATE TABLE other.o (k INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
	ctx := context.Background()
	snap := e.Catalog.Snapshot()
	db, err := snap.Database("d")
	require.NoError(t, err)
	tb, err := snap.Table("d", "t")
	require.NoError(t, err)
	parts := []txn.PartitionRef{{TableID: tb.ID, PartitionID: tb.Partitions[0].ID}}
	begin := func(label, source string, twoPC bool) *txn.Txn {
		x, err := e.Txns.Begin(ctx, txn.BeginRequest{DBID: db.ID, DBName: db.Name, Label: label,
			TableIDs: []int64{tb.ID}, Source: source, TwoPhaseCommit: twoPC, Timeout: 600 * time.Second})
		require.NoError(t, err)
		return x
	}
	m := e.Txns
	v := begin("sl_visible", "STREAM_LOAD", true)
	require.NoError(t, m.Precommit(ctx, v.ID, parts))
	_, err = m.Commit(ctx, v.ID, nil)
	require.NoError(t, err)
	require.NoError(t, m.Publish(ctx, v.ID))
	c := begin("sl_committed", "STREAM_LOAD", false)
	_, err = m.Commit(ctx, c.ID, parts)
	require.NoError(t, err)
	a := begin("ins_aborted", "INSERT", false)
	require.NoError(t, m.Abort(ctx, a.ID, "too many filtered rows"))
	r := begin("sl_running", "STREAM_LOAD", false)
	p := begin("sl_pre", "STREAM_LOAD", true)
	require.NoError(t, m.Precommit(ctx, p.ID, parts))

	odb, err := snap.Database("other")
	require.NoError(t, err)
	o, err := m.Begin(ctx, txn.BeginRequest{DBID: odb.ID, DBName: odb.Name, Label: "sl_visible", Source: "STREAM_LOAD"})
	require.NoError(t, err)

	byLabel := map[string]*txn.Txn{}
	for _, x := range []*txn.Txn{v, c, a, r, p} {
		got, err := m.Get(ctx, x.ID)
		require.NoError(t, err)
		byLabel[x.Label] = got
	}
	byLabel["other"] = o
	query(t, s, "USE d")
	return s, byLabel
}

func TestShowTransaction(t *testing.T) {
	s, txns := loadsFixture(t)
	v := txns["sl_visible"]
	// Begin at :10, precommit at :11, then commit and publish.
	rs, err := s.Query(context.Background(), fmt.Sprintf("SHOW TRANSACTION WHERE ID = %d", v.ID))
	require.NoError(t, err)
	var titles []string
	for _, f := range rs[0].Fields {
		titles = append(titles, f.Name)
	}
	require.Equal(t, []string{"TransactionId", "Label", "Coordinator", "TransactionStatus", "LoadJobSourceType",
		"PrepareTime", "PreCommitTime", "CommitTime", "PublishTime", "FinishTime", "Reason", "ErrorReplicasCount",
		"ListenerId", "TimeoutMs", "ErrMsg"}, titles)
	utc := func(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.DateTime) }
	require.Equal(t, []string{fmt.Sprintf("%d\tsl_visible\tBE: test\tVISIBLE\tBACKEND_STREAMING\t"+
		"2024-05-06 07:08:10\t2024-05-06 07:08:11\t%s\t%s\t%s\t\t0\t-1\t600000\t",
		v.ID, utc(v.CommitTime), utc(v.FinishTime), utc(v.FinishTime))},
		rowsOf(t, rs[0]))
	require.Less(t, v.PrecommitTime, v.CommitTime)
	require.Less(t, v.CommitTime, v.FinishTime)

	// Times follow the session time zone.
	query(t, s, "SET time_zone = '+08:00'")
	row := query(t, s, fmt.Sprintf("SHOW TRANSACTION FROM d WHERE id = %d", v.ID))
	require.Contains(t, row[0], "\t2024-05-06 15:08:10\t2024-05-06 15:08:11\t")
	query(t, s, "SET time_zone = 'UTC'")

	// By label, also for an aborted transaction that gave its label up.
	a := txns["ins_aborted"]
	require.Equal(t, []string{fmt.Sprintf("%d\tins_aborted\tFE: test\tABORTED\tINSERT_STREAMING\t%s\tNULL\tNULL\tNULL\t%s\ttoo many filtered rows\t0\t-1\t600000\t",
		a.ID, time.UnixMilli(a.PrepareTime).UTC().Format(time.DateTime), time.UnixMilli(a.FinishTime).UTC().Format(time.DateTime))},
		query(t, s, "SHOW TRANSACTION WHERE LABEL = 'ins_aborted'"))
	pre := query(t, s, "SHOW TRANSACTION WHERE label = 'sl_pre'")
	require.Len(t, pre, 1)
	require.Contains(t, pre[0], "\tPRECOMMITTED\t")
	require.Contains(t, pre[0], "\tNULL\tNULL\tNULL\t\t0", "commit, publish and finish times are unset")

	// By status.
	running := query(t, s, "SHOW TRANSACTION WHERE STATUS = 'prepare'")
	require.Len(t, running, 1)
	require.True(t, strings.HasPrefix(running[0], fmt.Sprintf("%d\tsl_running\t", txns["sl_running"].ID)))
	require.Len(t, query(t, s, "SHOW TRANSACTION WHERE STATUS = 'COMMITTED'"), 1)

	// The other database's txn is not d's.
	o := txns["other"]
	require.Len(t, query(t, s, fmt.Sprintf("SHOW TRANSACTION FROM other WHERE ID = %d", o.ID)), 1)

	for _, tc := range []struct {
		q    string
		code uint16
		msg  string
	}{
		{"SHOW TRANSACTION WHERE ID = 999999", 1105, "transaction with id 999999 does not exist"},
		{fmt.Sprintf("SHOW TRANSACTION WHERE ID = %d", o.ID), 1105, fmt.Sprintf("transaction with id %d does not exist", o.ID)},
		{"SHOW TRANSACTION WHERE LABEL = 'nope'", 1105, "transaction with label nope does not exist"},
		{"SHOW TRANSACTION FROM nodb WHERE ID = 1", 1049, "Unknown database 'nodb'"},
		{"SHOW TRANSACTION", 1105, "Missing transaction id"},
		{"SHOW TRANSACTION WHERE ID > 1", 1105, "Where clause should looks like one of them: id = 123 or label = 'label'"},
		{"SHOW TRANSACTION WHERE TxnId = 1", 1105, "Where clause should looks like"},
		{"SHOW TRANSACTION WHERE ID = 1 AND LABEL = 'x'", 1105, "Where clause should looks like"},
		{"SHOW TRANSACTION WHERE STATUS = 'running'", 1105, "status should be prepare/precommitted/committed/visible/aborted"},
	} {
		requireMySQLError(t, s, tc.q, tc.code, tc.msg)
	}
	query(t, s, "USE information_schema")
	requireMySQLError(t, s, "SHOW TRANSACTION WHERE ID = 1", 1049, "Unknown database 'information_schema'")
	s.setDB("")
	requireMySQLError(t, s, "SHOW TRANSACTION WHERE ID = 1", 1046, "No database selected")
}

func TestShowLoad(t *testing.T) {
	s, txns := loadsFixture(t)
	rs, err := s.Query(context.Background(), "SHOW LOAD")
	require.NoError(t, err)
	var titles []string
	for _, f := range rs[0].Fields {
		titles = append(titles, f.Name)
	}
	require.Equal(t, []string{"JobId", "Label", "State", "Progress", "Type", "EtlInfo", "TaskInfo", "ErrorMsg",
		"CreateTime", "EtlStartTime", "EtlFinishTime", "LoadStartTime", "LoadFinishTime", "URL", "JobDetails",
		"TransactionId", "ErrorTablets", "User", "Comment"}, titles)
	col := func(rows []string, i int) []string {
		var out []string
		for _, r := range rows {
			out = append(out, strings.Split(r, "\t")[i])
		}
		return out
	}
	rows := rowsOf(t, rs[0])
	// By JobId (the transaction id), which is the begin order.
	require.Equal(t, []string{"sl_visible", "sl_committed", "ins_aborted", "sl_running", "sl_pre"}, col(rows, 1))
	require.Equal(t, []string{"FINISHED", "COMMITTED", "CANCELLED", "LOADING", "LOADING"}, col(rows, 2))
	require.Equal(t, []string{"STREAM_LOAD", "STREAM_LOAD", "INSERT", "STREAM_LOAD", "STREAM_LOAD"}, col(rows, 4))
	v := txns["sl_visible"]
	require.Equal(t, fmt.Sprintf("%d\tsl_visible\tFINISHED\tETL:100%%; LOAD:100%%\tSTREAM_LOAD\tNULL\tcluster:N/A; timeout(s):600\tNULL\t"+
		"2024-05-06 07:08:10\t2024-05-06 07:08:10\t2024-05-06 07:08:10\t2024-05-06 07:08:10\t%s\tNULL\t{}\t%d\t{}\tNULL\t",
		v.ID, time.UnixMilli(v.FinishTime).UTC().Format(time.DateTime), v.ID), rows[0])
	require.Equal(t, "type:LOAD_RUN_FAIL; msg:too many filtered rows", strings.Split(rows[2], "\t")[7])
	require.Equal(t, "NULL", strings.Split(rows[1], "\t")[12], "a committed load has not finished")

	require.Equal(t, []string{"sl_visible"}, col(query(t, s, "SHOW LOAD WHERE STATE = 'finished'"), 1))
	require.Equal(t, []string{"ins_aborted"}, col(query(t, s, "SHOW LOAD FROM d WHERE LABEL = 'ins_aborted'"), 1))
	require.Equal(t, []string{"sl_running", "sl_pre"}, col(query(t, s, "SHOW LOAD WHERE STATE = 'LOADING' AND LABEL LIKE 'sl_%'"), 1))
	// LIKE without % matches anywhere in the label, as in Doris.
	require.Equal(t, []string{"sl_committed"}, col(query(t, s, "SHOW LOAD WHERE LABEL LIKE 'commit'"), 1))
	require.Empty(t, query(t, s, "SHOW LOAD WHERE LABEL = 'SL_VISIBLE'"), "labels are case-sensitive")
	require.Equal(t, []string{"sl_running", "sl_pre", "sl_committed"}, col(query(t, s, "SHOW LOAD ORDER BY Label DESC LIMIT 1, 3"), 1))
	require.Equal(t, []string{"ins_aborted", "sl_committed"}, col(query(t, s, "SHOW LOAD ORDER BY state, jobid LIMIT 2"), 1))
	require.Len(t, query(t, s, "SHOW LOAD FROM other"), 1)

	for _, tc := range []struct {
		q    string
		code uint16
		msg  string
	}{
		{"SHOW LOAD WHERE STATE LIKE 'F%'", 1105, `Where clause should looks like: LABEL = "your_load_label"`},
		{"SHOW LOAD WHERE STATE = 'DONE'", 1105, "Where clause should looks like"},
		{"SHOW LOAD WHERE JobId = '1'", 1105, "Where clause should looks like"},
		{"SHOW LOAD WHERE LABEL = 'a' OR LABEL = 'b'", 1105, "Only allow compound predicate with operator AND"},
		{"SHOW LOAD WHERE LABEL = 'a' AND LABEL = 'b'", 1105, "column names on both sides of operator AND should be different"},
		{"SHOW LOAD ORDER BY Nope", 1105, "Title name[Nope] does not exist"},
		{"SHOW LOAD FROM nodb", 1049, "Unknown database 'nodb'"},
	} {
		requireMySQLError(t, s, tc.q, tc.code, tc.msg)
	}
}

func TestShowStreamLoad(t *testing.T) {
	s, txns := loadsFixture(t)
	rs, err := s.Query(context.Background(), "SHOW STREAM LOAD")
	require.NoError(t, err)
	var titles []string
	for _, f := range rs[0].Fields {
		titles = append(titles, f.Name)
	}
	require.Equal(t, []string{"Label", "Db", "Table", "ClientIp", "Status", "Message", "Url", "TotalRows", "LoadedRows",
		"FilteredRows", "UnselectedRows", "LoadBytes", "StartTime", "FinishTime", "User", "Comment"}, titles)
	// Finished stream loads only (no INSERT, no running load), by label.
	require.Equal(t, []string{
		"sl_committed\td\tt\tNULL\tSuccess\tOK\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\t" +
			timeMs(txns["sl_committed"].PrepareTime) + "\t" + timeMs(txns["sl_committed"].CommitTime) + "\tNULL\t",
		"sl_pre\td\tt\tNULL\tSuccess\tOK\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\t" +
			timeMs(txns["sl_pre"].PrepareTime) + "\t" + timeMs(txns["sl_pre"].PrecommitTime) + "\tNULL\t",
		"sl_visible\td\tt\tNULL\tSuccess\tOK\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\t2024-05-06 07:08:10.000\t2024-05-06 07:08:11.000\tNULL\t",
	}, rowsOf(t, rs[0]))
	require.Len(t, query(t, s, "SHOW STREAM LOAD WHERE STATUS = 'success' AND LABEL LIKE 'sl_v%'"), 1)
	require.Empty(t, query(t, s, "SHOW STREAM LOAD WHERE STATUS = 'FAIL'"))
	requireMySQLError(t, s, "SHOW STREAM LOAD WHERE STATUS = 'FINISHED'", 1105, `STATUS = "SUCCESS|FAIL"`)
	require.Equal(t, "sl_pre", strings.Split(query(t, s, "SHOW STREAM LOAD ORDER BY FinishTime DESC LIMIT 1")[0], "\t")[0])
	require.Equal(t, "sl_visible", strings.Split(query(t, s, "SHOW STREAM LOAD ORDER BY FinishTime LIMIT 1")[0], "\t")[0])
}

// SHOW TRANSACTION finds what an INSERT did.
func TestShowTransactionOfInsert(t *testing.T) {
	e := newTestEngine(t)
	s := newTestSession(t, e, 1)
	query(t, s, "CREATE DATABASE d")
	query(t, s, "USE d")
	query(t, s, "CREATE TABLE t (k INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
	query(t, s, "INSERT INTO t WITH LABEL my_insert VALUES (1)")
	row := query(t, s, "SHOW TRANSACTION WHERE LABEL = 'my_insert'")
	require.Len(t, row, 1)
	require.Contains(t, row[0], "\tmy_insert\t")
	require.Contains(t, row[0], "\tVISIBLE\t")
	require.Equal(t, []string{"FINISHED"}, func() []string {
		r := query(t, s, "SHOW LOAD WHERE LABEL = 'my_insert'")
		require.Len(t, r, 1)
		return []string{strings.Split(r[0], "\t")[2]}
	}())
}

func timeMs(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000") }

// requireMySQLError runs q and checks the MySQL error it fails with.
func requireMySQLError(t *testing.T, s *Session, q string, code uint16, msg string) {
	t.Helper()
	_, err := s.Query(context.Background(), q)
	require.Error(t, err, q)
	var me *mysqlproto.Error
	require.True(t, errors.As(err, &me), "%s: %v", q, err)
	require.Equal(t, code, me.Code, "%s: %v", q, err)
	require.Contains(t, me.Message, msg, q)
}

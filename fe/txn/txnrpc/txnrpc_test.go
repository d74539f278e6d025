package txnrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/rpc"
)

// names turns the ids of one transcript into names, so that transcripts of
// different databases compare.
type names struct {
	txns, parts map[int64]string
	db, table   int64
}

var idRE = regexp.MustCompile(`(\[|txn |transaction |db |table |partition )(\d+)`)

func (n *names) txn(id int64) string {
	if s, ok := n.txns[id]; ok {
		return s
	}
	return strconv.FormatInt(id, 10)
}

// text replaces the ids in an error's text.
func (n *names) text(s string) string {
	return idRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := idRE.FindStringSubmatch(m)
		id, _ := strconv.ParseInt(sub[2], 10, 64)
		name := ""
		switch sub[1] {
		case "db ":
			if id == n.db {
				name = "DB"
			}
		case "table ":
			if id == n.table {
				name = "T"
			}
		case "partition ":
			name = n.parts[id]
		default:
			name = n.txns[id]
		}
		if name == "" {
			return m
		}
		return sub[1] + name
	})
}

func (n *names) err(err error) string {
	if err == nil {
		return "ok"
	}
	var b strings.Builder
	b.WriteString("error: " + n.text(err.Error()))
	var (
		le *txn.LabelExistsError
		nf *txn.NotFoundError
		se *txn.StateError
		tm *txn.TooManyTxnsError
	)
	if errors.As(err, &le) {
		fmt.Fprintf(&b, " | LabelExistsError{%s %s %s}", le.Label, n.txn(le.TxnID), le.Status)
	}
	if errors.As(err, &nf) {
		fmt.Fprintf(&b, " | NotFoundError{%s}", n.txn(nf.TxnID))
	}
	if errors.As(err, &se) {
		fmt.Fprintf(&b, " | StateError{%s op=%d %s %q}", n.txn(se.TxnID), se.Op, se.Status, se.Reason)
	}
	if errors.As(err, &tm) {
		fmt.Fprintf(&b, " | TooManyTxnsError{db=%v %d %d}", tm.DBID == n.db, tm.Running, tm.Limit)
	}
	for _, s := range []struct {
		name string
		err  error
	}{{"ErrNotFound", txn.ErrNotFound}, {"ErrState", txn.ErrState}, {"ErrInvalid", txn.ErrInvalid},
		{"ErrNotYourTurn", txn.ErrNotYourTurn}, {"ErrNotLeader", meta.ErrNotLeader}} {
		if errors.Is(err, s.err) {
			b.WriteString(" | is " + s.name)
		}
	}
	return b.String()
}

func (n *names) describe(t *txn.Txn) string {
	var parts []string
	for _, p := range t.Partitions {
		parts = append(parts, fmt.Sprintf("%s@%d", n.parts[p.PartitionID], p.Version))
	}
	return fmt.Sprintf("txn %s label=%s db=%v tables=%d status=%s 2pc=%v source=%s timeout=%d reason=%q coordinator=%s parts=%v",
		n.txn(t.ID), t.Label, t.DBID == n.db, len(t.TableIDs), t.Status, t.TwoPhaseCommit, t.Source, t.TimeoutMs, t.Reason,
		t.Coordinator.Node, parts)
}

func (n *names) versions(v map[int64]int64) string {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(v)) {
		out = append(out, fmt.Sprintf("%s@%d", n.parts[id], v[id]))
	}
	return fmt.Sprint(out)
}

// transcript runs one sequence of calls on svc, in database db with table
// tb, and writes what each returned. It expects the manager's limit of
// running transactions per database to be 5.
func transcript(t *testing.T, svc sink.TxnService, db *catalog.Database, tb *catalog.Table) []string {
	ctx := testCtx(t)
	n := &names{txns: map[int64]string{}, parts: map[int64]string{}, db: db.ID, table: tb.ID}
	for i, p := range tb.Partitions {
		n.parts[p.ID] = fmt.Sprint("P", i)
	}
	var out []string
	say := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	ids := map[string]int64{}
	begin := func(label string, twoPC bool) {
		x, err := svc.Begin(ctx, txn.BeginRequest{DBID: db.ID, DBName: db.Name, Label: label, TableIDs: []int64{tb.ID},
			TwoPhaseCommit: twoPC, Source: "STREAM_LOAD", Timeout: 90 * time.Second})
		if err == nil {
			name := label
			if _, ok := ids[label]; ok {
				name += "'" // the label's second transaction
			}
			ids[name] = x.ID
			n.txns[x.ID] = name
			say("begin %s: %s", label, n.describe(x))
			return
		}
		say("begin %s: %s", label, n.err(err))
	}
	get := func(step string, x *txn.Txn, err error) {
		if err != nil {
			say("%s: %s", step, n.err(err))
			return
		}
		say("%s: %s", step, n.describe(x))
	}
	commit := func(label string, parts []txn.PartitionRef) {
		v, err := svc.Commit(ctx, ids[label], parts)
		if err != nil {
			say("commit %s: %s", label, n.err(err))
			return
		}
		say("commit %s: %s", label, n.versions(v))
	}

	begin("", false)
	begin("A", true)
	begin("A", false)
	commit("A", allParts(tb)) // two-phase: precommit first
	say("precommit A: %s", n.err(svc.Precommit(ctx, ids["A"], allParts(tb))))
	say("precommit A again: %s", n.err(svc.Precommit(ctx, ids["A"], nil)))
	begin("A", false)
	commit("A", nil)
	commit("A", nil)
	say("abort A: %s", n.err(svc.Abort(ctx, ids["A"], "User Abort")))
	say("publish A: %s", n.err(svc.Publish(ctx, ids["A"])))
	say("publish A again: %s", n.err(svc.Publish(ctx, ids["A"])))
	x, err := svc.Get(ctx, ids["A"])
	get("get A", x, err)
	x, err = svc.GetByLabel(ctx, db.ID, "A")
	get("get label A", x, err)
	say("precommit A when visible: %s", n.err(svc.Precommit(ctx, ids["A"], nil)))

	begin("B", false)
	say("abort B: %s", n.err(svc.Abort(ctx, ids["B"], "User Abort")))
	say("abort B again: %s", n.err(svc.Abort(ctx, ids["B"], "again")))
	say("publish B: %s", n.err(svc.Publish(ctx, ids["B"])))
	commit("B", allParts(tb))
	x, err = svc.GetByLabel(ctx, db.ID, "B")
	get("get label B", x, err)
	begin("B", false) // an aborted label is free

	x, err = svc.Get(ctx, 987654321)
	get("get unknown", x, err)
	x, err = svc.GetByLabel(ctx, db.ID, "nope")
	get("get label nope", x, err)

	begin("C", false)
	commit("C", []txn.PartitionRef{{TableID: tb.ID, PartitionID: 424242}})
	commit("C", []txn.PartitionRef{}) // an empty load
	say("publish C: %s", n.err(svc.Publish(ctx, ids["C"])))
	x, err = svc.Get(ctx, ids["C"])
	get("get C", x, err)

	// B' runs; four more reach the limit of five.
	for i := range 5 {
		begin(fmt.Sprint("D", i), false)
	}
	say("publish D0: %s", n.err(svc.Publish(ctx, ids["D0"])))
	say("precommit D0 into an unknown partition: %s", n.err(svc.Precommit(ctx, ids["D0"], []txn.PartitionRef{{TableID: tb.ID, PartitionID: 424242}})))
	commit("D0", nil) // a 2PC decision on a load still running
	return out
}

// The client gives what a local call on the leader's manager gives: the
// same values, and the same typed errors with the same text.
func TestClientSameAsLocal(t *testing.T) {
	c := newCluster(t)
	leader := c.frontend(t, "fe1", txn.Config{MaxRunningPerDB: 5})
	leader.campaign(t)
	leader.awaitLeading(t)
	beCat := c.catalog(t)
	cli := c.client(t, beCat)

	db1, tb1 := c.fixture(t, leader.cat, beCat)
	db2, tb2 := c.fixture(t, leader.cat, beCat)
	local := transcript(t, leader.m, db1, tb1)
	remote := transcript(t, cli, db2, tb2)
	require.Equal(t, local, remote, "local:\n%s\n\nremote:\n%s", strings.Join(local, "\n"), strings.Join(remote, "\n"))

	// The transactions read back the same, field by field.
	ctx := testCtx(t)
	for _, label := range []string{"A", "B", "C", "D0"} {
		want, err := leader.m.GetByLabel(ctx, db2.ID, label)
		require.NoError(t, err)
		got, err := cli.GetByLabel(ctx, db2.ID, label)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}

	// The typed errors themselves, as the sink and the loader read them.
	_, berr := cli.Begin(ctx, txn.BeginRequest{DBID: db2.ID, DBName: db2.Name, Label: "A"})
	var le *txn.LabelExistsError
	require.ErrorAs(t, berr, &le)
	require.Equal(t, "FINISHED", le.Status.ExistingJobStatus())
	a, err := cli.GetByLabel(ctx, db2.ID, "A")
	require.NoError(t, err)
	require.Equal(t, &txn.LabelExistsError{Label: "A", TxnID: a.ID, Status: txn.StatusVisible}, berr)
	_, err = cli.Get(ctx, 987654321)
	require.Equal(t, &txn.NotFoundError{TxnID: 987654321}, err)
	_, err = cli.GetByLabel(ctx, db2.ID, "nope")
	require.ErrorIs(t, err, txn.ErrNotFound)
	require.EqualError(t, err, `txn: transaction not found: label "nope"`)
}

// A process that does not lead answers not_leader, which the client
// returns as meta.ErrNotLeader with the local text once it stops retrying.
func TestNotLeader(t *testing.T) {
	c := newCluster(t)
	follower := c.frontend(t, "fe1", txn.Config{})
	db, tb := c.fixture(t, follower.cat)
	cli := c.client(t, nil)
	cli.Leader = func(context.Context) (string, error) { return follower.addr, nil }
	cli.RetryFor = 300 * time.Millisecond
	ctx := testCtx(t)

	req := txn.BeginRequest{DBID: db.ID, DBName: db.Name, Label: "L", TableIDs: []int64{tb.ID}}
	_, want := follower.m.Begin(ctx, req)
	require.ErrorIs(t, want, meta.ErrNotLeader)
	start := time.Now()
	_, got := cli.Begin(ctx, req)
	require.ErrorIs(t, got, meta.ErrNotLeader)
	require.Equal(t, want.Error(), got.Error())
	require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "not retried")

	// No leader at all.
	cli.Leader = func(context.Context) (string, error) { return "", nil }
	_, err := cli.Get(ctx, 1)
	require.ErrorIs(t, err, ErrNoLeader)
}

// A client follows the leadership: to the new leader when the old one
// answers not_leader, and when it cannot be reached at all.
func TestLeaderChange(t *testing.T) {
	c := newCluster(t)
	fe1 := c.frontend(t, "fe1", txn.Config{})
	fe2 := c.frontend(t, "fe2", txn.Config{})
	fe3 := c.frontend(t, "fe3", txn.Config{})
	fe1.campaign(t)
	fe1.awaitLeading(t)
	beCat := c.catalog(t)
	db, tb := c.fixture(t, fe1.cat, fe2.cat, fe3.cat, beCat)
	cli := c.client(t, beCat)
	rec := &recorder{Caller: cli.RPC}
	cli.RPC = rec
	ctx := testCtx(t)

	t1, err := cli.Begin(ctx, txn.BeginRequest{DBID: db.ID, DBName: db.Name, Label: "t1", TableIDs: []int64{tb.ID}})
	require.NoError(t, err)
	require.Equal(t, "fe1", t1.Coordinator.Node)
	require.NoError(t, cli.Precommit(ctx, t1.ID, allParts(tb)))

	// fe1 steps down but keeps serving: it answers not_leader.
	fe2.campaign(t)
	fe1.resign()
	fe2.awaitLeading(t)
	require.False(t, fe1.store.IsLeader())
	versions, err := cli.Commit(ctx, t1.ID, nil)
	require.NoError(t, err)
	require.Len(t, versions, 2)
	require.Equal(t, []string{"txn.commit " + fe1.addr + ": not_leader"}, rec.take())
	require.NoError(t, cli.Publish(ctx, t1.ID))
	got, err := cli.Get(ctx, t1.ID)
	require.NoError(t, err)
	require.Equal(t, txn.StatusVisible, got.Status)
	// Publish waited for this process's catalog.
	snap := beCat.Snapshot()
	bt, ok := snap.TableByID(db.ID, tb.ID)
	require.True(t, ok)
	for _, p := range bt.Partitions {
		require.Equal(t, versions[p.ID], p.VisibleVersion)
	}

	// fe2's server goes away while it still leads; fe3 takes over a
	// little later. The calls in between are unavailable and retried.
	fe3.campaign(t)
	fe2.stop()
	go func() {
		time.Sleep(300 * time.Millisecond)
		fe2.resign()
	}()
	t2, err := cli.Begin(ctx, txn.BeginRequest{DBID: db.ID, DBName: db.Name, Label: "t2", TableIDs: []int64{tb.ID}})
	require.NoError(t, err)
	require.Equal(t, "fe3", t2.Coordinator.Node)
	failed := rec.take()
	require.NotEmpty(t, failed)
	for _, f := range failed {
		require.Equal(t, "txn.begin "+fe2.addr+": unavailable", f)
	}
	versions, err = cli.Commit(ctx, t2.ID, allParts(tb)[:1])
	require.NoError(t, err)
	require.Equal(t, map[int64]int64{tb.Partitions[0].ID: 3}, versions)
	require.NoError(t, cli.Publish(ctx, t2.ID))
	held, err := fe3.m.GetByLabel(ctx, db.ID, "t2")
	require.NoError(t, err)
	require.Equal(t, t2.ID, held.ID)
	require.Equal(t, txn.StatusVisible, held.Status)
}

// recorder records the calls that fail.
type recorder struct {
	Caller
	mu     sync.Mutex
	failed []string
}

func (r *recorder) Call(ctx context.Context, addr, name string, req, resp any) error {
	err := r.Caller.Call(ctx, addr, name, req, resp)
	if err != nil {
		r.mu.Lock()
		r.failed = append(r.failed, fmt.Sprintf("%s %s: %s", name, addr, rpc.CodeOf(err)))
		r.mu.Unlock()
	}
	return err
}

// take returns the failures recorded since the last take.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.failed
	r.failed = nil
	return out
}

// lossy makes each call of the given names for real, then reports it
// "unavailable" once, whatever it answered, as when the connection drops
// before the answer arrives.
type lossy struct {
	Caller
	mu   sync.Mutex
	lose map[string]int
}

func (l *lossy) Call(ctx context.Context, addr, name string, req, resp any) error {
	err := l.Caller.Call(ctx, addr, name, req, resp)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lose[name] > 0 {
		l.lose[name]--
		return fmt.Errorf("rpc: call %q on %s: %w", name, addr, &rpc.Error{Code: rpc.CodeUnavailable, Message: "connection reset"})
	}
	return err
}

// A call whose answer was lost after it ran on the leader is retried, and
// the retry recognises the first attempt's effect: Begin does not fail on
// its own label nor begin twice, Commit and Abort take "already done" as
// their own.
func TestRetryAfterLostAnswer(t *testing.T) {
	c := newCluster(t)
	leader := c.frontend(t, "fe1", txn.Config{})
	leader.campaign(t)
	leader.awaitLeading(t)
	beCat := c.catalog(t)
	db, tb := c.fixture(t, leader.cat, beCat)
	cli := c.client(t, beCat)
	l := &lossy{Caller: cli.RPC, lose: map[string]int{}}
	cli.RPC = l
	ctx := testCtx(t)
	lose := func(name string) {
		l.mu.Lock()
		l.lose[name] = 1
		l.mu.Unlock()
	}
	lost := func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, n := range l.lose {
			if n > 0 {
				return false
			}
		}
		return true
	}

	req := txn.BeginRequest{DBID: db.ID, DBName: db.Name, Label: "L", TableIDs: []int64{tb.ID}}
	lose(callBegin)
	x, err := cli.Begin(ctx, req)
	require.NoError(t, err)
	require.True(t, lost())
	held, err := leader.m.GetByLabel(ctx, db.ID, "L")
	require.NoError(t, err)
	require.Equal(t, held.ID, x.ID)
	require.NotEmpty(t, held.RequestID)
	running, err := leader.m.ListRunning(ctx, db.ID)
	require.NoError(t, err)
	require.Len(t, running, 1, "begun twice")

	// Another Begin of the label is refused: its request id differs.
	_, err = cli.Begin(ctx, req)
	var le *txn.LabelExistsError
	require.ErrorAs(t, err, &le)
	require.Equal(t, x.ID, le.TxnID)

	lose(callPrecommit)
	require.NoError(t, cli.Precommit(ctx, x.ID, allParts(tb)))
	lose(callCommit)
	versions, err := cli.Commit(ctx, x.ID, allParts(tb))
	require.NoError(t, err)
	require.True(t, lost())
	got, err := leader.m.Get(ctx, x.ID)
	require.NoError(t, err)
	require.Equal(t, txn.StatusCommitted, got.Status)
	want := map[int64]int64{}
	for _, p := range got.Partitions {
		want[p.PartitionID] = p.Version
	}
	require.Equal(t, want, versions)
	// A commit of other partitions is not mistaken for this one's.
	lose(callCommit)
	_, err = cli.Commit(ctx, x.ID, allParts(tb)[:1])
	var se *txn.StateError
	require.ErrorAs(t, err, &se)
	require.Equal(t, txn.StatusCommitted, se.Status)
	lose(callPublish)
	require.NoError(t, cli.Publish(ctx, x.ID))

	y, err := cli.Begin(ctx, txn.BeginRequest{DBID: db.ID, DBName: db.Name, Label: "M", TableIDs: []int64{tb.ID}})
	require.NoError(t, err)
	lose(callAbort)
	require.NoError(t, cli.Abort(ctx, y.ID, "User Abort"))
	require.True(t, lost())
	// Without a lost answer, aborting twice is the manager's error.
	err = cli.Abort(ctx, y.ID, "User Abort")
	require.ErrorAs(t, err, &se)
	require.EqualError(t, err, fmt.Sprintf("transaction [%d] is already aborted, abort reason: User Abort", y.ID))
}

// A body that is not the call's JSON object fails with invalid_argument
// naming the call, and the client does not retry it.
func TestMalformedRequest(t *testing.T) {
	c := newCluster(t)
	fe := c.frontend(t, "fe1", txn.Config{})
	rc := rpc.NewClient()
	defer rc.Close()
	ctx := testCtx(t)
	for _, tc := range []struct {
		call string
		body any
		msg  string
	}{
		{callCommit, json.RawMessage(`{"id":"seven"}`), `txnrpc: call "txn.commit": decoding the request: json: cannot unmarshal string into Go struct field partsRequest.id of type int64`},
		{callGet, json.RawMessage(`[1,2]`), `txnrpc: call "txn.get": the request must be a JSON object, got [1,2]`},
		{callBegin, nil, `txnrpc: call "txn.begin": the request must be a JSON object, got null`},
		{callAbort, json.RawMessage(`"` + strings.Repeat("x", 100) + `"`), `txnrpc: call "txn.abort": the request must be a JSON object, got "` + strings.Repeat("x", 63) + `...`},
		{callPrecommit, json.RawMessage(`{"id":1,"partitions":{"table_id":1}}`), `txnrpc: call "txn.precommit": decoding the request: json: cannot unmarshal object into Go struct field partsRequest.partitions of type []txn.PartitionRef`},
	} {
		err := rc.Call(ctx, fe.addr, tc.call, tc.body, nil)
		var re *rpc.Error
		require.ErrorAs(t, err, &re, tc.call)
		require.Equal(t, rpc.CodeInvalidArgument, re.Code, tc.call)
		require.Equal(t, tc.msg, re.Message, tc.call)
	}
	// Unknown fields are ignored: a newer client may send some.
	err := rc.Call(ctx, fe.addr, callGet, json.RawMessage(`{"id":5,"new_field":true}`), nil)
	require.Equal(t, &txn.NotFoundError{TxnID: 5}, FromRPC(err))
}

// Begin waits until this process's catalog shows the transaction's tables
// as the leader saw them; a catalog that never catches up fails the
// Begin, which aborts its transaction.
func TestBeginWaitsForCatalog(t *testing.T) {
	c := newCluster(t)
	leader := c.frontend(t, "fe1", txn.Config{})
	leader.campaign(t)
	leader.awaitLeading(t)
	ctx := testCtx(t)
	live := c.catalog(t)
	frozen := c.catalog(t)
	db, tb := c.fixture(t, leader.cat, live, frozen)
	frozen.Close() // its snapshot stays where it is

	// Another table moves the revision on; this table is unchanged, so a
	// catalog behind the revision may still begin.
	cli := c.client(t, frozen)
	cli.CatalogWait = 300 * time.Millisecond
	require.NoError(t, c.cat.CreateDatabase(ctx, "other", false))
	c.sync(t, leader.cat, live)
	require.Less(t, frozen.Snapshot().Revision(), leader.cat.Snapshot().Revision())
	req := txn.BeginRequest{DBID: db.ID, DBName: db.Name, Label: "L", TableIDs: []int64{tb.ID}}
	x, err := cli.Begin(ctx, req)
	require.NoError(t, err)
	require.NoError(t, cli.Abort(ctx, x.ID, "test"))

	// An index (and a schema version) the frozen catalog lacks.
	require.NoError(t, c.cat.UpdateTable(ctx, db.Name, tb.Name, func(t *catalog.Table) error {
		t.Schema.Version++
		t.Indexes = append(t.Indexes, catalog.Index{ID: 1 << 40, Name: "r1", State: catalog.IndexShadow, KeysType: t.KeysType, Schema: t.Schema})
		return nil
	}))
	c.sync(t, leader.cat)
	_, err = cli.Begin(ctx, req)
	require.ErrorContains(t, err, `txnrpc: begin "L": this process's catalog is at revision`)
	_, err = leader.m.GetByLabel(ctx, db.ID, "L")
	require.ErrorIs(t, err, txn.ErrNotFound, "the transaction of the failed begin holds its label")

	// A live catalog has the index by the time Begin returns.
	cli = c.client(t, live)
	x, err = cli.Begin(ctx, req)
	require.NoError(t, err)
	got, ok := live.Snapshot().TableByID(db.ID, tb.ID)
	require.True(t, ok)
	require.Len(t, got.Indexes, 1)
	require.NoError(t, cli.Abort(ctx, x.ID, "test"))
}

// countingCaller counts the calls it passes on.
type countingCaller struct {
	Caller
	mu    sync.Mutex
	calls int
}

func (c *countingCaller) Call(ctx context.Context, addr, name string, req, resp any) error {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.Caller.Call(ctx, addr, name, req, resp)
}

func (c *countingCaller) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// A Router calls its own manager while it leads, the leader's otherwise,
// and the leader's when its manager finds it does not lead after all.
func TestRouter(t *testing.T) {
	c := newCluster(t)
	fe1 := c.frontend(t, "fe1", txn.Config{})
	fe2 := c.frontend(t, "fe2", txn.Config{})
	fe1.campaign(t)
	fe1.awaitLeading(t)
	db, tb := c.fixture(t, fe1.cat, fe2.cat)
	ctx := testCtx(t)
	req := func(label string) txn.BeginRequest {
		return txn.BeginRequest{DBID: db.ID, DBName: db.Name, Label: label, TableIDs: []int64{tb.ID}}
	}
	routed := func(fe *frontend, leading func() bool) (*Router, *countingCaller) {
		cli := c.client(t, fe.cat)
		cc := &countingCaller{Caller: cli.RPC}
		cli.RPC = cc
		return &Router{Local: fe.m, Leading: leading, Remote: cli}, cc
	}

	// The leader: its own manager.
	r, cc := routed(fe1, fe1.store.IsLeader)
	x, err := r.Begin(ctx, req("a"))
	require.NoError(t, err)
	require.NoError(t, r.Precommit(ctx, x.ID, allParts(tb)))
	_, err = r.Commit(ctx, x.ID, nil)
	require.NoError(t, err)
	require.NoError(t, r.Publish(ctx, x.ID))
	require.Zero(t, cc.count())

	// A follower: the leader's.
	r, cc = routed(fe2, fe2.store.IsLeader)
	y, err := r.Begin(ctx, req("b"))
	require.NoError(t, err)
	require.Equal(t, "fe1", y.Coordinator.Node)
	_, err = r.Commit(ctx, y.ID, allParts(tb))
	require.NoError(t, err)
	require.NoError(t, r.Publish(ctx, y.ID))
	got, err := r.Get(ctx, y.ID)
	require.NoError(t, err)
	require.Equal(t, txn.StatusVisible, got.Status)
	require.Equal(t, 4, cc.count())

	// A follower that believes it leads: its fenced write fails, and the
	// call goes to the leader.
	r, cc = routed(fe2, func() bool { return true })
	z, err := r.Begin(ctx, req("c"))
	require.NoError(t, err)
	require.Equal(t, "fe1", z.Coordinator.Node)
	require.NoError(t, r.Abort(ctx, z.ID, "test"))
	require.Equal(t, 2, cc.count())

	// Without a Remote, the local error.
	r = &Router{Local: fe2.m, Leading: fe2.store.IsLeader}
	_, err = r.Begin(ctx, req("d"))
	require.ErrorIs(t, err, meta.ErrNotLeader)
}

package txn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/meta/metatest"
	"github.com/strata-db/strata/types"
)

var (
	testStore *meta.Store
	testCat   *catalog.Catalog
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "strata-txn-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	e, err := metatest.Start(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testStore = meta.NewStore(e.Client())
	testCat, err = catalog.Open(context.Background(), testStore, catalog.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	testCat.Close()
	e.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fakeClock is a Clock moved by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakePublisher fails its first `fail` calls, then records what it is asked
// to publish.
type fakePublisher struct {
	mu    sync.Mutex
	fail  int
	calls map[int64]map[int64]int64
}

func (p *fakePublisher) Publish(_ context.Context, txnID int64, tv map[int64]int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail > 0 {
		p.fail--
		return errors.New("backend unreachable")
	}
	if p.calls == nil {
		p.calls = map[int64]map[int64]int64{}
	}
	p.calls[txnID] = tv
	return nil
}

var seq atomic.Int64

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fixture creates a database with tables of the given partition counts
// (two buckets each).
func fixture(t *testing.T, partitions ...int) (*catalog.Database, []*catalog.Table) {
	t.Helper()
	ctx := testCtx(t)
	dbName := fmt.Sprintf("db_%d", seq.Add(1))
	require.NoError(t, testCat.CreateDatabase(ctx, dbName, false))
	db, err := testCat.Snapshot().Database(dbName)
	require.NoError(t, err)
	var tables []*catalog.Table
	for i, n := range partitions {
		tb := &catalog.Table{
			Name:     fmt.Sprint("t", i),
			KeysType: catalog.DupKeys,
			Schema: catalog.Schema{Columns: []catalog.Column{
				{Name: "k", Type: types.Type{Kind: types.KindInt}, IsKey: true},
			}},
			KeyColumns:   []string{"k"},
			Distribution: catalog.Distribution{Buckets: 2},
		}
		if n > 1 {
			tb.PartitionType = catalog.RangePartitioned
			tb.PartitionColumns = []string{"k"}
			for p := range n {
				tb.Partitions = append(tb.Partitions, catalog.Partition{
					Name:  fmt.Sprint("p", p),
					Lower: catalog.PartitionBound{Values: []string{fmt.Sprint(p * 10)}},
					Upper: catalog.PartitionBound{Values: []string{fmt.Sprint(p*10 + 10)}},
				})
			}
		}
		require.NoError(t, testCat.CreateTable(ctx, dbName, tb, false))
		tables = append(tables, tb)
	}
	return db, tables
}

func allParts(tables ...*catalog.Table) []PartitionRef {
	var out []PartitionRef
	for _, tb := range tables {
		for _, p := range tb.Partitions {
			out = append(out, PartitionRef{TableID: tb.ID, PartitionID: p.ID})
		}
	}
	return out
}

func newManager(cfg Config) *Manager {
	if cfg.Self.Node == "" {
		cfg.Self = Coordinator{Node: "node", Incarnation: "1"}
	}
	return NewManager(testStore, testCat, cfg)
}

func begin(t *testing.T, m *Manager, db *catalog.Database, label string, tables ...*catalog.Table) *Txn {
	t.Helper()
	var ids []int64
	for _, tb := range tables {
		ids = append(ids, tb.ID)
	}
	tx, err := m.Begin(testCtx(t), BeginRequest{DBID: db.ID, DBName: db.Name, Label: label, TableIDs: ids, Source: "STREAM_LOAD"})
	require.NoError(t, err)
	return tx
}

func TestLabelDedupAndReuse(t *testing.T) {
	ctx := testCtx(t)
	db, tables := fixture(t, 1)
	m := newManager(Config{})

	t1 := begin(t, m, db, "L", tables...)
	require.Equal(t, StatusPrepare, t1.Status)

	_, err := m.Begin(ctx, BeginRequest{DBID: db.ID, Label: "L"})
	var le *LabelExistsError
	require.ErrorAs(t, err, &le)
	require.Equal(t, t1.ID, le.TxnID)
	require.Equal(t, "RUNNING", le.Status.ExistingJobStatus())
	require.EqualError(t, err, fmt.Sprintf("Label [L] has already been used, relate to txn [%d]", t1.ID))

	// Another database may use the same label.
	other, _ := fixture(t)
	begin(t, m, other, "L")

	// An aborted label is reusable at once.
	require.NoError(t, m.Abort(ctx, t1.ID, "User Abort"))
	t2 := begin(t, m, db, "L", tables...)
	require.Greater(t, t2.ID, t1.ID)
	got, err := m.GetByLabel(ctx, db.ID, "L")
	require.NoError(t, err)
	require.Equal(t, t2.ID, got.ID)
	old, err := m.Get(ctx, t1.ID)
	require.NoError(t, err)
	require.Equal(t, StatusAborted, old.Status)
	require.Equal(t, "User Abort", old.Reason)

	// Precommitted, then finished: the label stays taken.
	require.NoError(t, m.Precommit(ctx, t2.ID, allParts(tables...)))
	require.NoError(t, m.Precommit(ctx, t2.ID, nil), "precommit is idempotent")
	_, err = m.Begin(ctx, BeginRequest{DBID: db.ID, Label: "L"})
	require.ErrorAs(t, err, &le)
	require.Equal(t, "PRECOMMITTED", le.Status.ExistingJobStatus())
	_, err = m.Commit(ctx, t2.ID, nil)
	require.NoError(t, err)
	require.NoError(t, m.Publish(ctx, t2.ID))
	_, err = m.Begin(ctx, BeginRequest{DBID: db.ID, Label: "L"})
	require.ErrorAs(t, err, &le)
	require.Equal(t, StatusVisible, le.Status)
	require.Equal(t, "FINISHED", le.Status.ExistingJobStatus())

	_, err = m.Get(ctx, 1)
	require.ErrorIs(t, err, ErrNotFound)
	require.EqualError(t, err, "transaction [1] not found")
	_, err = m.Begin(ctx, BeginRequest{DBID: db.ID})
	require.ErrorIs(t, err, ErrInvalid)

	list, err := m.List(ctx, db.ID)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, []int64{t1.ID, t2.ID}, []int64{list[0].ID, list[1].ID})
}

func TestConcurrentBeginSameLabel(t *testing.T) {
	db, _ := fixture(t)
	m1, m2 := newManager(Config{}), newManager(Config{})
	var wins, exists atomic.Int64
	var wg sync.WaitGroup
	for i := range 6 {
		m := m1
		if i%2 == 1 {
			m = m2
		}
		wg.Go(func() {
			_, err := m.Begin(testCtx(t), BeginRequest{DBID: db.ID, Label: "same"})
			var le *LabelExistsError
			switch {
			case err == nil:
				wins.Add(1)
			case errors.As(err, &le):
				exists.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(1), wins.Load())
	require.Equal(t, int64(5), exists.Load())
}

func TestTwoPhaseCommit(t *testing.T) {
	ctx := testCtx(t)
	db, tables := fixture(t, 2)
	m := newManager(Config{})
	tx, err := m.Begin(ctx, BeginRequest{DBID: db.ID, Label: "2pc", TwoPhaseCommit: true, TableIDs: []int64{tables[0].ID}})
	require.NoError(t, err)
	_, err = m.Commit(ctx, tx.ID, allParts(tables...))
	require.EqualError(t, err, fmt.Sprintf("transaction [%d] is prepare, not pre-committed.", tx.ID))
	require.NoError(t, m.Precommit(ctx, tx.ID, allParts(tables...)))
	vers, err := m.Commit(ctx, tx.ID, nil)
	require.NoError(t, err)
	require.Len(t, vers, 2)
	for _, v := range vers {
		require.Equal(t, int64(2), v)
	}
	_, err = m.Commit(ctx, tx.ID, nil)
	require.EqualError(t, err, fmt.Sprintf("transaction [%d] is already committed, not pre-committed.", tx.ID))
	require.NoError(t, m.Publish(ctx, tx.ID))
	_, err = m.Commit(ctx, tx.ID, nil)
	require.EqualError(t, err, fmt.Sprintf("transaction [%d] is already visible, not pre-committed.", tx.ID))

	ab := begin(t, m, db, "ab")
	require.NoError(t, m.Abort(ctx, ab.ID, "User Abort"))
	_, err = m.Commit(ctx, ab.ID, nil)
	require.EqualError(t, err, fmt.Sprintf("transaction [%d] is already aborted. abort reason: User Abort", ab.ID))
	err = m.Abort(ctx, ab.ID, "again")
	require.EqualError(t, err, fmt.Sprintf("transaction [%d] is already aborted, abort reason: User Abort", ab.ID))
}

func TestCommittedNeverAborted(t *testing.T) {
	ctx := testCtx(t)
	db, tables := fixture(t, 1)
	m := newManager(Config{})
	tx := begin(t, m, db, "c", tables...)
	_, err := m.Commit(ctx, tx.ID, allParts(tables...))
	require.NoError(t, err)
	err = m.Abort(ctx, tx.ID, "too late")
	require.ErrorIs(t, err, ErrState)
	require.EqualError(t, err, fmt.Sprintf("transaction [%d] is already COMMITTED, could not abort.", tx.ID))
	got, err := m.Get(ctx, tx.ID)
	require.NoError(t, err)
	require.Equal(t, StatusCommitted, got.Status)
	require.NoError(t, m.Publish(ctx, tx.ID))
	require.EqualError(t, m.Abort(ctx, tx.ID, "x"), fmt.Sprintf("transaction [%d] is already VISIBLE, could not abort.", tx.ID))
}

func TestCommitUnknownPartition(t *testing.T) {
	ctx := testCtx(t)
	db, tables := fixture(t, 1)
	m := newManager(Config{})
	tx := begin(t, m, db, "u", tables...)
	_, err := m.Commit(ctx, tx.ID, []PartitionRef{{TableID: tables[0].ID, PartitionID: 1}})
	require.ErrorIs(t, err, ErrInvalid)
	_, err = m.Commit(ctx, tx.ID, []PartitionRef{{TableID: 1, PartitionID: 1}})
	require.ErrorIs(t, err, ErrInvalid)
	got, err := m.Get(ctx, tx.ID)
	require.NoError(t, err)
	require.Equal(t, StatusPrepare, got.Status)
}

// A two-phase decision (no partitions given) commits only a precommitted
// txn: a load still running has recorded none.
func TestCommitDecisionOfRunningLoad(t *testing.T) {
	ctx := testCtx(t)
	db, tables := fixture(t)
	m := newManager(Config{})
	tx := begin(t, m, db, "running", tables...)
	_, err := m.Commit(ctx, tx.ID, nil)
	var se *StateError
	require.ErrorAs(t, err, &se)
	require.Contains(t, err.Error(), "is prepare, not pre-committed")
	got, err := m.Get(ctx, tx.ID)
	require.NoError(t, err)
	require.Equal(t, StatusPrepare, got.Status)
}

func TestEmptyLoad(t *testing.T) {
	ctx := testCtx(t)
	db, _ := fixture(t)
	m := newManager(Config{Publisher: &fakePublisher{fail: 100}})
	tx := begin(t, m, db, "empty")
	v, err := m.Commit(ctx, tx.ID, []PartitionRef{})
	require.NoError(t, err)
	require.Empty(t, v)
	require.NoError(t, m.Publish(ctx, tx.ID), "nothing to publish")
	got, err := m.Get(ctx, tx.ID)
	require.NoError(t, err)
	require.Equal(t, StatusVisible, got.Status)
}

// Publish waits for earlier versions; FinishPublish refuses to jump ahead.
func TestPublishInOrder(t *testing.T) {
	ctx := testCtx(t)
	db, tables := fixture(t, 1)
	pub := &fakePublisher{}
	m := newManager(Config{Publisher: pub})
	a := begin(t, m, db, "a", tables...)
	b := begin(t, m, db, "b", tables...)
	va, err := m.Commit(ctx, a.ID, allParts(tables...))
	require.NoError(t, err)
	vb, err := m.Commit(ctx, b.ID, allParts(tables...))
	require.NoError(t, err)
	pid := tables[0].Partitions[0].ID
	require.Equal(t, int64(2), va[pid])
	require.Equal(t, int64(3), vb[pid])

	require.ErrorIs(t, m.FinishPublish(ctx, b.ID), ErrNotYourTurn)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	require.ErrorIs(t, m.Publish(short, b.ID), context.DeadlineExceeded)
	cancel()

	done := make(chan error, 1)
	go func() { done <- m.Publish(ctx, b.ID) }() // waits for a
	require.NoError(t, m.Publish(ctx, a.ID))
	require.NoError(t, <-done)
	tb, err := testCat.Snapshot().Table(db.Name, tables[0].Name)
	require.NoError(t, err)
	require.Equal(t, int64(3), tb.Partitions[0].VisibleVersion)
	require.Equal(t, int64(4), tb.Partitions[0].NextVersion)

	// The publisher got every tablet of the partition at the txn's version.
	require.Len(t, pub.calls[a.ID], 2)
	for _, tablet := range tables[0].Partitions[0].Tablets {
		require.Equal(t, int64(2), pub.calls[a.ID][tablet])
		require.Equal(t, int64(3), pub.calls[b.ID][tablet])
	}
}

// Concurrent loads over several partitions of two tables: versions per
// partition are contiguous and in commit order, and no snapshot ever shows
// one partition ahead of another (each load touches all of them).
func TestConcurrentCommitsVersions(t *testing.T) {
	ctx := testCtx(t)
	db, tables := fixture(t, 3, 1)
	parts := allParts(tables...)
	m1, m2 := newManager(Config{Publisher: &fakePublisher{}}), newManager(Config{Publisher: &fakePublisher{}})

	stop := make(chan struct{})
	observed := make(chan error, 1)
	go func() { observed <- watchAtomicVisibility(db, tables, stop) }()

	const workers, perWorker = 4, 5
	var mu sync.Mutex
	versions := map[int64][]int64{} // partition -> versions handed out
	byTxn := map[int64]map[int64]int64{}
	var wg sync.WaitGroup
	for w := range workers {
		m := m1
		if w%2 == 1 {
			m = m2
		}
		wg.Go(func() {
			for i := range perWorker {
				tx, err := m.Begin(ctx, BeginRequest{DBID: db.ID, Label: fmt.Sprintf("w%d-%d", w, i)})
				if !assertNoError(t, err) {
					return
				}
				// Shuffle the order of the refs: commit sorts them.
				ps := slices.Clone(parts)
				slices.Reverse(ps[:i%len(ps)])
				v, err := m.Commit(ctx, tx.ID, ps)
				if !assertNoError(t, err) {
					return
				}
				mu.Lock()
				byTxn[tx.ID] = v
				for p, ver := range v {
					versions[p] = append(versions[p], ver)
				}
				mu.Unlock()
				if !assertNoError(t, m.Publish(ctx, tx.ID)) {
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	require.NoError(t, <-observed)

	n := workers * perWorker
	for _, p := range parts {
		vs := versions[p.PartitionID]
		slices.Sort(vs)
		require.Len(t, vs, n)
		for i, v := range vs {
			require.Equal(t, int64(i+2), v, "versions of partition %d contiguous from 2", p.PartitionID)
		}
	}
	// Commit order is one order: a txn has the same version everywhere
	// (every txn touched every partition).
	for id, v := range byTxn {
		first := v[parts[0].PartitionID]
		for _, ver := range v {
			require.Equal(t, first, ver, "txn %d", id)
		}
	}
	snap := testCat.Snapshot()
	for _, tb := range tables {
		got, ok := snap.TableByID(db.ID, tb.ID)
		require.True(t, ok)
		for _, p := range got.Partitions {
			require.Equal(t, int64(n+1), p.VisibleVersion)
			require.Equal(t, int64(n+2), p.NextVersion)
		}
	}
}

func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}

// watchAtomicVisibility checks every snapshot until stop: all partitions of
// the tables must have the same visible version.
func watchAtomicVisibility(db *catalog.Database, tables []*catalog.Table, stop <-chan struct{}) error {
	for {
		ch := testCat.Changed()
		snap := testCat.Snapshot()
		var want int64
		for _, tb := range tables {
			got, ok := snap.TableByID(db.ID, tb.ID)
			if !ok {
				return fmt.Errorf("table %d missing", tb.ID)
			}
			for _, p := range got.Partitions {
				if want == 0 {
					want = p.VisibleVersion
				}
				if p.VisibleVersion != want {
					return fmt.Errorf("snapshot %d: partition %d visible %d, another %d", snap.Revision(), p.ID, p.VisibleVersion, want)
				}
			}
		}
		select {
		case <-ch:
		case <-stop:
			return nil
		}
	}
}

func TestMultiPartitionVisibleAtomically(t *testing.T) {
	ctx := testCtx(t)
	db, tables := fixture(t, 4, 2)
	m := newManager(Config{})
	tx := begin(t, m, db, "multi", tables...)
	_, err := m.Commit(ctx, tx.ID, allParts(tables...))
	require.NoError(t, err)
	before := testCat.Snapshot()
	require.NoError(t, m.FinishPublish(ctx, tx.ID))
	after := testCat.Snapshot()
	for _, tb := range tables {
		b, _ := before.TableByID(db.ID, tb.ID)
		a, _ := after.TableByID(db.ID, tb.ID)
		for i := range a.Partitions {
			require.Equal(t, int64(1), b.Partitions[i].VisibleVersion)
			require.Equal(t, int64(3), b.Partitions[i].NextVersion)
			require.Equal(t, int64(2), a.Partitions[i].VisibleVersion)
		}
	}
	// One etcd revision made all six partitions visible: the snapshot
	// just before it shows none of them.
	var visibleRev int64
	resp, err := testStore.Client().Get(ctx, catalog.VersionsKey(db.ID, tables[0].ID))
	require.NoError(t, err)
	visibleRev = resp.Kvs[0].ModRevision
	resp, err = testStore.Client().Get(ctx, catalog.VersionsKey(db.ID, tables[1].ID))
	require.NoError(t, err)
	require.Equal(t, visibleRev, resp.Kvs[0].ModRevision)
	got, err := m.Get(ctx, tx.ID)
	require.NoError(t, err)
	require.Equal(t, StatusVisible, got.Status)
}

func TestRecovery(t *testing.T) {
	ctx := testCtx(t)
	db, tables := fixture(t, 2)
	clock := &fakeClock{now: time.Now()}
	pub := &fakePublisher{fail: 1}
	old := newManager(Config{Self: Coordinator{"fe1", "run1"}, Publisher: pub, Clock: clock})

	committed := begin(t, old, db, "committed", tables...)
	_, err := old.Commit(ctx, committed.ID, allParts(tables...))
	require.NoError(t, err)
	require.ErrorContains(t, old.Publish(ctx, committed.ID), "backend unreachable")
	got, err := old.Get(ctx, committed.ID)
	require.NoError(t, err)
	require.Equal(t, StatusCommitted, got.Status)

	orphan := begin(t, old, db, "orphan", tables...)
	pre := begin(t, old, db, "pre", tables...)
	require.NoError(t, old.Precommit(ctx, pre.ID, allParts(tables...)))
	elsewhere, err := newManager(Config{Self: Coordinator{"be7", "x"}, Clock: clock}).
		Begin(ctx, BeginRequest{DBID: db.ID, Label: "elsewhere", Timeout: time.Hour})
	require.NoError(t, err)

	// The process restarts.
	m := newManager(Config{Self: Coordinator{"fe1", "run2"}, Publisher: pub, Clock: clock})
	rep, err := m.Recover(ctx)
	require.NoError(t, err)
	require.Contains(t, rep.Published, committed.ID)
	require.Contains(t, rep.Aborted, orphan.ID)
	require.NotContains(t, rep.Aborted, pre.ID)
	require.NotContains(t, rep.Aborted, elsewhere.ID)
	require.Empty(t, rep.Pending)

	got, err = m.Get(ctx, committed.ID)
	require.NoError(t, err)
	require.Equal(t, StatusVisible, got.Status)
	tb, err := testCat.Snapshot().Table(db.Name, tables[0].Name)
	require.NoError(t, err)
	for _, p := range tb.Partitions {
		require.Equal(t, int64(2), p.VisibleVersion)
	}
	got, err = m.Get(ctx, orphan.ID)
	require.NoError(t, err)
	require.Equal(t, StatusAborted, got.Status)
	require.Equal(t, "coordinator restarted", got.Reason)

	// Recover is idempotent.
	rep, err = m.Recover(ctx)
	require.NoError(t, err)
	require.NotContains(t, rep.Published, committed.ID)

	// Within the precommit timeout the precommitted txn waits for its
	// client.
	clock.Advance(DefaultPrecommitTimeout - time.Minute)
	rep, err = m.Recover(ctx)
	require.NoError(t, err)
	require.NotContains(t, rep.Aborted, pre.ID)
	got, err = m.Get(ctx, pre.ID)
	require.NoError(t, err)
	require.Equal(t, StatusPrecommitted, got.Status)

	// After the timeouts the other node's PREPARE txn and the precommitted
	// one are aborted; after the label retention final txns and their
	// labels are gone.
	clock.Advance(time.Hour)
	rep, err = m.Recover(ctx)
	require.NoError(t, err)
	require.Contains(t, rep.Aborted, elsewhere.ID)
	require.Contains(t, rep.Aborted, pre.ID)
	got, err = m.Get(ctx, pre.ID)
	require.NoError(t, err)
	require.Equal(t, StatusAborted, got.Status)
	require.Equal(t, timeoutReason, got.Reason)
	clock.Advance(DefaultLabelKeep + time.Minute)
	rep, err = m.Recover(ctx)
	require.NoError(t, err)
	require.Subset(t, rep.Expired, []int64{committed.ID, orphan.ID, elsewhere.ID, pre.ID})
	_, err = m.Get(ctx, committed.ID)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = m.GetByLabel(ctx, db.ID, "committed")
	require.ErrorIs(t, err, ErrNotFound)
	again := begin(t, m, db, "committed", tables...)
	require.Greater(t, again.ID, committed.ID)
}

// A commit that waits behind a failed publish is pending until that one is
// published.
func TestRecoveryPendingBehindFailure(t *testing.T) {
	ctx := testCtx(t)
	db, tables := fixture(t, 1)
	pub := &fakePublisher{fail: 100}
	m := newManager(Config{Publisher: pub})
	a := begin(t, m, db, "a", tables...)
	b := begin(t, m, db, "b", tables...)
	_, err := m.Commit(ctx, a.ID, allParts(tables...))
	require.NoError(t, err)
	_, err = m.Commit(ctx, b.ID, allParts(tables...))
	require.NoError(t, err)
	rep, err := m.Recover(ctx)
	require.Error(t, err)
	require.Contains(t, rep.Pending, a.ID)
	require.Contains(t, rep.Pending, b.ID)
	pub.mu.Lock()
	pub.fail = 0
	pub.mu.Unlock()
	rep, err = m.Recover(ctx)
	require.NoError(t, err)
	require.Subset(t, rep.Published, []int64{a.ID, b.ID})
}

// A precommitted txn past its timeout is aborted when its client commits
// or reuses its label, without waiting for the periodic recovery.
func TestPrecommitTimeoutIsLazy(t *testing.T) {
	ctx := testCtx(t)
	db, tables := fixture(t, 1)
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	m := newManager(Config{Clock: clock, PrecommitTimeout: 5 * time.Second})

	a := begin(t, m, db, "p25", tables...)
	require.NoError(t, m.Precommit(ctx, a.ID, allParts(tables...)))
	clock.Advance(4 * time.Second)
	_, err := m.Begin(ctx, BeginRequest{DBID: db.ID, Label: "p25"})
	var le *LabelExistsError
	require.ErrorAs(t, err, &le)
	require.Equal(t, StatusPrecommitted, le.Status)

	clock.Advance(2 * time.Second)
	_, err = m.Commit(ctx, a.ID, nil)
	var se *StateError
	require.ErrorAs(t, err, &se)
	require.Equal(t, StatusAborted, se.Status)
	require.Equal(t, fmt.Sprintf("transaction [%d] is already aborted. abort reason: %s", a.ID, timeoutReason), err.Error())

	// The label is free again.
	b := begin(t, m, db, "p25", tables...)
	require.Greater(t, b.ID, a.ID)
	require.NoError(t, m.Precommit(ctx, b.ID, allParts(tables...)))

	// Begin retires a holder whose time ran out, too.
	clock.Advance(6 * time.Second)
	c := begin(t, m, db, "p25", tables...)
	got, err := m.Get(ctx, b.ID)
	require.NoError(t, err)
	require.Equal(t, StatusAborted, got.Status)
	require.Equal(t, timeoutReason, got.Reason)
	require.Equal(t, StatusPrepare, c.Status)
}

// A load past its timeout cannot be precommitted: it is aborted instead.
func TestPrecommitAfterTimeoutAborts(t *testing.T) {
	ctx := testCtx(t)
	db, tables := fixture(t, 1)
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	m := newManager(Config{Clock: clock})
	a, err := m.Begin(ctx, BeginRequest{DBID: db.ID, Label: "slow", TableIDs: []int64{tables[0].ID}, Timeout: 2 * time.Second, TwoPhaseCommit: true})
	require.NoError(t, err)
	clock.Advance(3 * time.Second)
	err = m.Precommit(ctx, a.ID, allParts(tables...))
	var se *StateError
	require.ErrorAs(t, err, &se)
	require.Equal(t, StatusAborted, se.Status)
	got, err := m.Get(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, timeoutReason, got.Reason)
}

// After the label retention a finished label is accepted again by Begin,
// before recovery has expired it; within the retention it is refused.
func TestLabelRetention(t *testing.T) {
	ctx := testCtx(t)
	db, tables := fixture(t, 1)
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	m := newManager(Config{Clock: clock, LabelKeep: time.Minute})

	a := begin(t, m, db, "r", tables...)
	_, err := m.Commit(ctx, a.ID, allParts(tables...))
	require.NoError(t, err)
	require.NoError(t, m.Publish(ctx, a.ID))
	clock.Advance(59 * time.Second)
	_, err = m.Begin(ctx, BeginRequest{DBID: db.ID, Label: "r"})
	var le *LabelExistsError
	require.ErrorAs(t, err, &le)
	require.Equal(t, "FINISHED", le.Status.ExistingJobStatus())

	clock.Advance(2 * time.Second)
	b := begin(t, m, db, "r", tables...)
	require.Greater(t, b.ID, a.ID)
	_, err = m.Get(ctx, a.ID)
	require.ErrorIs(t, err, ErrNotFound)
}

func TestRunningLimit(t *testing.T) {
	ctx := testCtx(t)
	db, tables := fixture(t, 1)
	m := newManager(Config{MaxRunningPerDB: 3})
	var ids []int64
	for i := range 3 {
		ids = append(ids, begin(t, m, db, fmt.Sprint("l", i), tables...).ID)
	}
	running, err := m.ListRunning(ctx, db.ID)
	require.NoError(t, err)
	require.Len(t, running, 3)

	_, err = m.Begin(ctx, BeginRequest{DBID: db.ID, Label: "l3"})
	var te *TooManyTxnsError
	require.ErrorAs(t, err, &te)
	require.Equal(t, fmt.Sprintf("current running txns on db %d is 3, larger than limit 3", db.ID), err.Error())

	// Precommitted txns still run; final ones do not.
	require.NoError(t, m.Precommit(ctx, ids[0], nil))
	_, err = m.Begin(ctx, BeginRequest{DBID: db.ID, Label: "l3"})
	require.ErrorAs(t, err, &te)
	require.NoError(t, m.Abort(ctx, ids[1], "test"))
	_, err = m.Commit(ctx, ids[2], allParts(tables...))
	require.NoError(t, err)
	require.NoError(t, m.Publish(ctx, ids[2]))
	begin(t, m, db, "l3", tables...)
	begin(t, m, db, "l4", tables...)
	running, err = m.ListRunning(ctx, db.ID)
	require.NoError(t, err)
	require.Len(t, running, 3)
	require.Equal(t, ids[0], running[0].ID)
}

// Transactions recorded without the running and final indexes get them at
// the first recovery, and are then timed out and expired like the others.
func TestIndexesBuiltForOldRecords(t *testing.T) {
	ctx := testCtx(t)
	db, _ := fixture(t, 1)
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	m := newManager(Config{Clock: clock, LabelKeep: time.Hour})
	old := []*Txn{
		{ID: 9_000_000_001, DBID: db.ID, Label: "old_prepare", Status: StatusPrepare, Coordinator: Coordinator{"gone", "x"}, TimeoutMs: 1000, PrepareTime: clock.Now().UnixMilli()},
		{ID: 9_000_000_002, DBID: db.ID, Label: "old_visible", Status: StatusVisible, FinishTime: clock.Now().UnixMilli()},
	}
	for _, tx := range old {
		_, ok, err := testStore.Txn().Put(txnKey(tx.ID), tx).Put(labelKey(tx.DBID, tx.Label), tx.ID).Delete(indexedKey).Commit(ctx)
		require.NoError(t, err)
		require.True(t, ok)
	}
	clock.Advance(2 * time.Hour)
	rep, err := m.Recover(ctx)
	require.NoError(t, err)
	require.Contains(t, rep.Aborted, old[0].ID)
	require.Contains(t, rep.Expired, old[1].ID)
	_, err = m.GetByLabel(ctx, db.ID, "old_visible")
	require.ErrorIs(t, err, ErrNotFound)
}

// A record that changes between the read and the write of its index key
// (a transaction finishing while the index is built) is read again: it
// gets the index of its new state, never a running key it no longer has.
func TestIndexRereadsChangedRecords(t *testing.T) {
	ctx := testCtx(t)
	db, _ := fixture(t, 1)
	m := newManager(Config{})
	tx := &Txn{ID: 9_000_000_101, DBID: db.ID, Label: "racing", Status: StatusPrepare, TimeoutMs: 60_000}
	_, ok, err := testStore.Txn().Put(txnKey(tx.ID), tx).Commit(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	kvs, _, err := testStore.List(ctx, txnKey(tx.ID))
	require.NoError(t, err)
	require.Len(t, kvs, 1)
	// It finishes after the read.
	tx.Status, tx.FinishTime = StatusAborted, 1_700_000_000_000
	_, ok, err = testStore.Txn().Put(txnKey(tx.ID), tx).Commit(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, m.index(ctx, kvs))
	n, err := testStore.Count(ctx, runningKey(db.ID, tx.ID))
	require.NoError(t, err)
	require.Zero(t, n, "a finished transaction got a running key")
	n, err = testStore.Count(ctx, finalKey(tx.FinishTime, tx.ID))
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
}

// Loads into many tables of one database publish concurrently; a chained
// publish stays within its etcd transaction's limits and every load
// becomes visible.
func TestConcurrentPublishManyTables(t *testing.T) {
	ctx := testCtx(t)
	parts := make([]int, 50)
	for i := range parts {
		parts[i] = 1
	}
	db, tables := fixture(t, parts...)
	m := newManager(Config{Publisher: &fakePublisher{}})
	var wg sync.WaitGroup
	for round := range 2 {
		for i, tb := range tables {
			wg.Go(func() {
				tx, err := m.Begin(ctx, BeginRequest{DBID: db.ID, Label: fmt.Sprintf("r%d-t%d", round, i), TableIDs: []int64{tb.ID}})
				if !assertNoError(t, err) {
					return
				}
				if _, err := m.Commit(ctx, tx.ID, allParts(tb)); !assertNoError(t, err) {
					return
				}
				assertNoError(t, m.Publish(ctx, tx.ID))
			})
		}
		wg.Wait()
	}
	snap := testCat.Snapshot()
	for _, tb := range tables {
		got, ok := snap.TableByID(db.ID, tb.ID)
		require.True(t, ok)
		require.Equal(t, int64(3), got.Partitions[0].VisibleVersion, "table %s", tb.Name)
	}
}

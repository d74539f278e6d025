package txn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-db/strata/failpoint"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/meta"
)

// Publisher makes committed versions visible on the backends.
//
// Publish asks every live replica of each tablet to make version v (the map
// value) of that tablet visible, and returns nil when they all did. It must
// be idempotent: recovery and retries publish the same txn again, and a
// replica that already has the version visible answers success. The manager
// calls Publish for a txn only after the previous version of each touched
// partition is visible, so a backend sees versions in order.
type Publisher interface {
	Publish(ctx context.Context, txnID int64, tabletVersions map[int64]int64) error
}

// TxnTablets is one transaction for ManyPublisher: tablet id -> version.
type TxnTablets struct {
	TxnID    int64
	Versions map[int64]int64
}

// ManyPublisher is a Publisher that can publish several transactions at
// once (in the order given), as a chained publish does.
type ManyPublisher interface {
	Publisher
	PublishMany(ctx context.Context, txns []TxnTablets) error
}

// TabletTarget is one tablet of a transaction to publish on replicated
// tablets: the version, whether the load wrote the tablet, and the
// backends holding its replicas (nil: not placed).
type TabletTarget struct {
	Version int64
	Written bool
	// Backends are the tablet's placement and the backends the load
	// wrote (the placement may have moved since); Need is how many must
	// hold the version: a majority of the placement (0: of Backends).
	Backends []int64
	Need     int
	// Lenient: the tablet belongs to an index being built, whose rows up
	// to some version its alter job will replace; a replica that has no
	// version of it, or a gap, takes the version anyway.
	Lenient bool
}

// TxnTargets is one transaction for a ReplicaPublisher: tablet -> target.
type TxnTargets struct {
	TxnID   int64
	Tablets map[int64]TabletTarget
}

// ReplicaPublisher is a Publisher that publishes on replicated tablets,
// knowing which tablets each transaction wrote. The manager uses it for
// transactions that recorded their tablets (every one committed since
// they do) and the plain Publish for the others.
type ReplicaPublisher interface {
	Publisher
	PublishReplicas(ctx context.Context, txns []TxnTargets) error
}

// Config configures a Manager.
type Config struct {
	// Self identifies this process; Begin records it, and Recover aborts
	// PREPARE txns of the same Node with another Incarnation.
	Self Coordinator
	// DefaultTimeout bounds PREPARE when BeginRequest.Timeout is 0
	// (stream_load_default_timeout_second, 259200 s).
	DefaultTimeout time.Duration
	// LabelKeep is how long final txns and their labels are kept
	// (streaming_label_keep_max_second, 43200 s).
	LabelKeep time.Duration
	// PrecommitTimeout bounds PRECOMMITTED: a two-phase load neither
	// committed nor aborted within it after its precommit is aborted
	// (stream_load_default_precommit_timeout_second, 3600 s).
	PrecommitTimeout time.Duration
	// MaxRunningPerDB bounds the transactions of a database that are not
	// final (max_running_txn_num_per_db, 1000); Begin refuses beyond it.
	MaxRunningPerDB int
	Clock           Clock     // nil: SystemClock
	Publisher       Publisher // nil: Publish only finishes (no backends)
	// IDs allocates txn ids; nil: the "txn" counter in blocks of 16.
	IDs    *meta.IDAllocator
	Logger *slog.Logger
}

// Defaults from Doris (STREAMLOAD.md §4.2).
const (
	DefaultTimeout          = 259200 * time.Second
	DefaultLabelKeep        = 43200 * time.Second
	DefaultPrecommitTimeout = 3600 * time.Second
	DefaultMaxRunningPerDB  = 1000
)

// timeoutReason is the abort reason of a transaction that ran out of time.
const timeoutReason = "timeout by txn manager"

// Manager runs load transactions. It is safe for concurrent use; every
// state change is one etcd transaction conditioned on what it read, so
// several managers over one etcd never corrupt each other (the FE leader is
// meant to be the only one).
type Manager struct {
	store *meta.Store
	cat   *catalog.Catalog
	cfg   Config
	ids   *meta.IDAllocator

	indexed atomic.Bool // the running and final indexes exist

	chainMus sync.Map      // database id -> *sync.Mutex, held by the call publishing a chain of it (see Publish)
	pubMu    sync.Mutex    // protects waiting
	waiting  map[int64]int // txns in Publish calls, by id: how many calls

	counters counters // see Counters
}

// NewManager returns a manager over the store. cat supplies partitions and
// tablets and is where commit and publish wait to see their writes.
func NewManager(store *meta.Store, cat *catalog.Catalog, cfg Config) *Manager {
	if cfg.DefaultTimeout <= 0 {
		cfg.DefaultTimeout = DefaultTimeout
	}
	if cfg.LabelKeep <= 0 {
		cfg.LabelKeep = DefaultLabelKeep
	}
	if cfg.PrecommitTimeout <= 0 {
		cfg.PrecommitTimeout = DefaultPrecommitTimeout
	}
	if cfg.MaxRunningPerDB <= 0 {
		cfg.MaxRunningPerDB = DefaultMaxRunningPerDB
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ids := cfg.IDs
	if ids == nil {
		ids = meta.NewIDAllocator(store, "txn", 16)
	}
	return &Manager{store: store, cat: cat, cfg: cfg, ids: ids, waiting: map[int64]int{}}
}

func txnKey(id int64) string { return meta.Key("txn", "rec", fmt.Sprintf("%020d", id)) }

var txnPrefix = meta.KeyPrefix("txn", "rec")

func labelKey(dbID int64, label string) string {
	return meta.Key("txn", "label", strconv.FormatInt(dbID, 10), label)
}

// The indexes: a running key for every txn that is not final, so Begin can
// count a database's running txns and Recover finds them without reading
// every record; a final key by finish time for every final txn, so expiry
// reads only what is due.
//
//	/strata/txn/running/<db id>/<txn id, 20 digits>      txn id
//	/strata/txn/final/<finish ms, 20 digits>/<txn id>    txn id
//	/strata/txn/indexed                                  true once built
func runningKey(dbID, id int64) string {
	return meta.Key("txn", "running", strconv.FormatInt(dbID, 10), fmt.Sprintf("%020d", id))
}

func runningPrefix(dbID int64) string {
	return meta.KeyPrefix("txn", "running", strconv.FormatInt(dbID, 10))
}

var (
	runningAll  = meta.KeyPrefix("txn", "running")
	finalAll    = meta.KeyPrefix("txn", "final")
	indexedKey  = meta.Key("txn", "indexed")
	expireBatch = int64(1000)
)

func finalKey(finishMs, id int64) string {
	return meta.Key("txn", "final", fmt.Sprintf("%020d", finishMs), fmt.Sprintf("%020d", id))
}

func (m *Manager) nowMs() int64 { return m.cfg.Clock.Now().UnixMilli() }

// Begin starts a transaction in PREPARE. If a transaction that is not
// ABORTED holds the label in the database, it returns *LabelExistsError;
// a holder whose time ran out (PREPARE or PRECOMMITTED past its timeout,
// VISIBLE past the label retention) is retired first and the label reused.
// Beyond Config.MaxRunningPerDB running transactions in the database it
// returns *TooManyTxnsError.
func (m *Manager) Begin(ctx context.Context, req BeginRequest) (*Txn, error) {
	if req.Label == "" {
		return nil, fmt.Errorf("%w: empty label", ErrInvalid)
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = m.cfg.DefaultTimeout
	}
	lkey := labelKey(req.DBID, req.Label)
	var id int64
	for {
		var holder int64
		lmod, _, err := m.store.Get(ctx, lkey, &holder)
		if err != nil {
			return nil, fmt.Errorf("txn: begin %q: %w", req.Label, err)
		}
		if lmod != 0 {
			h, _, err := m.getFresh(ctx, holder)
			switch {
			case errors.Is(err, ErrNotFound):
				// A dangling label key (record expired): free.
			case err != nil:
				return nil, fmt.Errorf("txn: begin %q: %w", req.Label, err)
			case h.Status != StatusAborted:
				if act, ok := m.lapse(h); ok {
					if err := m.apply(ctx, act); err != nil {
						return nil, fmt.Errorf("txn: begin %q: retiring transaction %d: %w", req.Label, h.ID, err)
					}
					continue
				}
				return nil, &LabelExistsError{Label: req.Label, TxnID: h.ID, Status: h.Status}
			}
		}
		if id == 0 {
			n, err := m.store.Count(ctx, runningPrefix(req.DBID))
			if err != nil {
				return nil, fmt.Errorf("txn: begin %q: %w", req.Label, err)
			}
			if n >= int64(m.cfg.MaxRunningPerDB) {
				m.counters.add(req.Source, CounterReject)
				return nil, &TooManyTxnsError{DBID: req.DBID, Running: n, Limit: m.cfg.MaxRunningPerDB}
			}
			if id, err = m.ids.NextIDs(ctx, 1); err != nil {
				return nil, fmt.Errorf("txn: begin %q: %w", req.Label, err)
			}
		}
		t := &Txn{
			ID: id, DBID: req.DBID, DBName: req.DBName, Label: req.Label,
			TableIDs: slices.Clone(req.TableIDs), Status: StatusPrepare,
			Source: req.Source, TwoPhaseCommit: req.TwoPhaseCommit,
			Coordinator: coordinatorOf(req, m.cfg.Self), TimeoutMs: timeout.Milliseconds(),
			PrepareTime: m.nowMs(), RequestID: req.RequestID,
		}
		_, ok, err := m.store.Txn().
			IfModRev(lkey, lmod).
			IfModRev(txnKey(id), 0).
			Put(lkey, id).
			Put(txnKey(id), t).
			Put(runningKey(req.DBID, id), id).
			Commit(ctx)
		if err != nil {
			return nil, fmt.Errorf("txn: begin %q: %w", req.Label, err)
		}
		if ok {
			m.counters.add(req.Source, CounterBegin)
			return t, nil
		}
	}
}

// lapse says what to do with a transaction whose time ran out, if it did.
func (m *Manager) lapse(t *Txn) (action, bool) { return m.lapseAt(t, m.cfg.Clock.Now()) }

// lapseAt is lapse at the time now.
func (m *Manager) lapseAt(t *Txn, now time.Time) (action, bool) {
	a := decide(now, m.recoveryConfig(), t)
	return a, a.kind == actAbort || a.kind == actExpire
}

func (m *Manager) recoveryConfig() RecoveryConfig {
	return RecoveryConfig{Self: m.cfg.Self, LabelKeep: m.cfg.LabelKeep, PrecommitTimeout: m.cfg.PrecommitTimeout}
}

// apply carries out an abort or expiry decided by lapse; a transaction that
// moved on meanwhile is left alone.
func (m *Manager) apply(ctx context.Context, a action) error {
	var err error
	switch a.kind {
	case actAbort:
		err = m.Abort(ctx, a.txnID, a.reason)
	case actExpire:
		err = m.expire(ctx, a.txnID)
	}
	if errors.Is(err, ErrState) || errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// get reads a transaction and its mod revision for a state change: the
// read is serializable (local and cheap), because the write that follows
// is conditioned on the mod revision and retries on a stale read.
func (m *Manager) get(ctx context.Context, id int64) (*Txn, int64, error) {
	return m.read(ctx, id, m.store.GetSerializable)
}

// getFresh reads a transaction linearizably, for decisions no conditioned
// write checks (what a caller is told, what recovery drops).
func (m *Manager) getFresh(ctx context.Context, id int64) (*Txn, int64, error) {
	return m.read(ctx, id, m.store.Get)
}

func (m *Manager) read(ctx context.Context, id int64, get func(context.Context, string, any) (int64, int64, error)) (*Txn, int64, error) {
	var t Txn
	mod, _, err := get(ctx, txnKey(id), &t)
	if err != nil {
		return nil, 0, fmt.Errorf("txn: reading transaction %d: %w", id, err)
	}
	if mod == 0 {
		return nil, 0, &NotFoundError{TxnID: id}
	}
	return &t, mod, nil
}

// Get reads a transaction; an unknown or expired id is a *NotFoundError.
func (m *Manager) Get(ctx context.Context, id int64) (*Txn, error) {
	t, _, err := m.getFresh(ctx, id)
	return t, err
}

// GetByLabel returns the transaction holding a label in a database (the
// latest one that is not ABORTED); ErrNotFound if none.
func (m *Manager) GetByLabel(ctx context.Context, dbID int64, label string) (*Txn, error) {
	var id int64
	mod, _, err := m.store.Get(ctx, labelKey(dbID, label), &id)
	if err != nil {
		return nil, fmt.Errorf("txn: reading label %q: %w", label, err)
	}
	if mod == 0 {
		return nil, fmt.Errorf("%w: label %q", ErrNotFound, label)
	}
	return m.Get(ctx, id)
}

// List returns the stored transactions of a database (all databases when
// dbID is 0), by id.
func (m *Manager) List(ctx context.Context, dbID int64) ([]*Txn, error) {
	kvs, _, err := m.store.List(ctx, txnPrefix)
	if err != nil {
		return nil, fmt.Errorf("txn: listing transactions: %w", err)
	}
	out := make([]*Txn, 0, len(kvs))
	for _, kv := range kvs {
		t, err := decodeTxn(kv.Value)
		if err != nil {
			m.cfg.Logger.Error("txn: skipping undecodable transaction", "key", kv.Key, "err", err)
			continue
		}
		if dbID == 0 || t.DBID == dbID {
			out = append(out, t)
		}
	}
	return out, nil
}

// Precommit moves a PREPARE txn to PRECOMMITTED (two-phase commit: data is
// durable but invisible until Commit), recording the partitions it wrote.
// It is idempotent.
func (m *Manager) Precommit(ctx context.Context, id int64, parts []PartitionRef) error {
	parts = normalizeParts(parts)
	for {
		t, mod, err := m.get(ctx, id)
		if err != nil {
			return err
		}
		now := m.cfg.Clock.Now()
		if a, ok := m.lapseAt(t, now); ok && a.kind == actAbort && t.Status == StatusPrepare {
			// Out of time, as at Commit: the load is aborted, not
			// precommitted for a client that has written it off.
			if err := m.apply(ctx, a); err != nil {
				return err
			}
			continue
		}
		done, err := checkPrecommit(t)
		if err != nil || done {
			return err
		}
		t.Status = StatusPrecommitted
		t.PrecommitTime = now.UnixMilli()
		t.Partitions = t.Partitions[:0]
		for _, p := range parts {
			t.Partitions = append(t.Partitions, PartitionVersion{TableID: p.TableID, PartitionID: p.PartitionID, Tablets: p.Tablets, Replicas: p.Replicas})
		}
		_, ok, err := m.store.Txn().IfModRev(txnKey(id), mod).Put(txnKey(id), t).Commit(ctx)
		if err != nil {
			return fmt.Errorf("txn: precommit %d: %w", id, err)
		}
		if ok {
			return nil
		}
	}
}

// readTables reads the versions values of the given tables of database
// dbID, with the partitions of their definitions in snap as defaults.
// Tables missing from snap are left out.
func (m *Manager) readTables(ctx context.Context, snap *catalog.Snapshot, dbID int64, tableIDs []int64) (tableSet, error) {
	ts := tableSet{}
	for _, tid := range tableIDs {
		if _, ok := ts[tid]; ok {
			continue
		}
		tb, ok := snap.TableByID(dbID, tid)
		if !ok {
			continue
		}
		tv := &tableVersions{dbID: dbID, tableID: tid, name: tb.Name, defaults: make(map[int64]catalog.PartitionVersion, len(tb.Partitions))}
		var stored catalog.TableVersions
		mod, _, err := m.store.GetSerializable(ctx, catalog.VersionsKey(dbID, tid), &stored)
		if err != nil {
			return nil, fmt.Errorf("txn: reading versions of table %d: %w", tid, err)
		}
		if mod != 0 {
			tv.modRev, tv.stored = mod, &stored
		}
		for _, p := range tb.Partitions {
			tv.defaults[p.ID] = catalog.PartitionVersion{Visible: p.VisibleVersion, VisibleTime: p.VisibleVersionTime, Next: p.NextVersion}
		}
		ts[tid] = tv
	}
	return ts, nil
}

func tableIDsOf[P any](parts []P, id func(P) int64) []int64 {
	out := make([]int64, 0, len(parts))
	for _, p := range parts {
		out = append(out, id(p))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Commit commits a txn: every partition in parts gets the partition's next
// version, the partition's next-version counter advances, and the txn becomes
// COMMITTED with those versions, all in one etcd transaction. parts nil
// means the partitions recorded at precommit. It returns partition id ->
// version. The data becomes visible with Publish.
//
// A txn with TwoPhaseCommit commits only from PRECOMMITTED. Errors:
// *NotFoundError, *StateError, ErrInvalid (unknown partition).
func (m *Manager) Commit(ctx context.Context, id int64, parts []PartitionRef) (map[int64]int64, error) {
	if parts != nil {
		parts = normalizeParts(parts)
	}
	for {
		snap := m.cat.Snapshot()
		t, mod, err := m.get(ctx, id)
		if err != nil {
			return nil, err
		}
		if a, ok := m.lapse(t); ok && a.kind == actAbort {
			// Out of time: abort it now rather than commit a load the
			// client may already have written off.
			if err := m.apply(ctx, a); err != nil {
				return nil, err
			}
			continue
		}
		if err := checkCommit(t); err != nil {
			return nil, err
		}
		if parts == nil && t.Status != StatusPrecommitted {
			// The commit of a two-phase decision: a load still running
			// (PREPARE) has recorded no partitions yet, and committing it
			// would make its label FINISHED with nothing published.
			return nil, &StateError{TxnID: t.ID, Op: OpCommit, Status: t.Status, Reason: t.Reason}
		}
		use := parts
		if use == nil {
			for _, p := range t.Partitions {
				use = append(use, PartitionRef{TableID: p.TableID, PartitionID: p.PartitionID, Tablets: p.Tablets, Replicas: p.Replicas})
			}
		}
		ts, err := m.readTables(ctx, snap, t.DBID, tableIDsOf(use, func(p PartitionRef) int64 { return p.TableID }))
		if err != nil {
			return nil, err
		}
		assigned, updated, err := assignVersions(id, use, ts)
		if err != nil {
			return nil, err
		}
		nowMs := m.nowMs()
		t.Status = StatusCommitted
		t.CommitTime = nowMs
		t.Partitions = assigned
		tx := m.store.Txn().IfModRev(txnKey(id), mod)
		for tid, v := range updated {
			tv := ts[tid]
			// The table must still exist, or the versions value would
			// outlive it.
			tx.IfExists(catalog.TableKey(tv.dbID, tv.name)).
				IfModRev(catalog.VersionsKey(tv.dbID, tid), tv.modRev).
				Put(catalog.VersionsKey(tv.dbID, tid), v)
		}
		tx.Put(txnKey(id), t)
		rev, ok, err := tx.Commit(ctx)
		if err != nil {
			return nil, fmt.Errorf("txn: commit %d: %w", id, err)
		}
		if !ok {
			continue
		}
		m.counters.add(t.Source, CounterSuccess)
		if len(updated) > 0 {
			// Read-your-writes: the next snapshot shows the new counters.
			if err := m.cat.WaitRevision(ctx, rev); err != nil {
				return nil, err
			}
		}
		out := make(map[int64]int64, len(assigned))
		for _, p := range assigned {
			out[p.PartitionID] = p.Version
		}
		return out, nil
	}
}

// Abort aborts a PREPARE or PRECOMMITTED txn and frees its label. Aborting
// a COMMITTED or VISIBLE txn is refused with *StateError, as is aborting an
// ABORTED one (the error then carries the earlier reason).
func (m *Manager) Abort(ctx context.Context, id int64, reason string) error {
	for {
		t, mod, err := m.get(ctx, id)
		if err != nil {
			return err
		}
		if err := checkAbort(t); err != nil {
			return err
		}
		lkey := labelKey(t.DBID, t.Label)
		var holder int64
		lmod, _, err := m.store.Get(ctx, lkey, &holder)
		if err != nil {
			return fmt.Errorf("txn: abort %d: %w", id, err)
		}
		t.Status = StatusAborted
		t.Reason = reason
		t.FinishTime = m.nowMs()
		tx := m.store.Txn().IfModRev(txnKey(id), mod).Put(txnKey(id), t).
			Delete(runningKey(t.DBID, id)).
			Put(finalKey(t.FinishTime, id), id)
		if lmod != 0 && holder == id {
			tx.IfModRev(lkey, lmod).Delete(lkey)
		}
		_, ok, err := tx.Commit(ctx)
		if err != nil {
			return fmt.Errorf("txn: abort %d: %w", id, err)
		}
		if ok {
			m.counters.add(t.Source, CounterFailed)
			return nil
		}
	}
}

// Publish makes a COMMITTED txn visible: it waits (until ctx ends) for the
// versions below its own to become visible, asks the Publisher to publish
// its tablets, then makes it VISIBLE. A VISIBLE txn is left alone. When
// the Publisher fails the txn stays COMMITTED and the error is returned;
// Publish or Recover may be called again.
//
// Concurrent Publish calls of one database share the work: the call whose
// txn is ready first publishes it together with every waiting txn that
// becomes ready after it (a chain of versions), and makes them all VISIBLE
// in one etcd transaction, so a partition that many small loads commit to
// is not limited to one etcd round trip per version.
func (m *Manager) Publish(ctx context.Context, id int64) error {
	m.pubMu.Lock()
	m.waiting[id]++
	m.pubMu.Unlock()
	defer func() {
		m.pubMu.Lock()
		if m.waiting[id]--; m.waiting[id] == 0 {
			delete(m.waiting, id)
		}
		m.pubMu.Unlock()
	}()
	return m.publish(ctx, id, true)
}

// maxChain bounds the txns one chained publish makes visible in one etcd
// transaction (each takes three operations; see meta.MaxTxnOps).
const maxChain = 30

// publishChain publishes the ready txn t and the waiting txns of its
// database that become ready once it is visible, in version order, and
// makes them VISIBLE in one etcd transaction. It returns false without
// doing anything when another call is publishing a chain.
func (m *Manager) publishChain(ctx context.Context, snap *catalog.Snapshot, t *Txn, mod int64) (bool, error) {
	mu, _ := m.chainMus.LoadOrStore(t.DBID, new(sync.Mutex))
	chainMu := mu.(*sync.Mutex)
	if !chainMu.TryLock() {
		return false, nil
	}
	defer chainMu.Unlock()
	m.pubMu.Lock()
	ids := make([]int64, 0, len(m.waiting))
	for id := range m.waiting {
		if id != t.ID {
			ids = append(ids, id)
		}
	}
	m.pubMu.Unlock()
	type member struct {
		t   *Txn
		mod int64
	}
	// Chain only txns within t's tables, so that the etcd transaction's
	// size is bounded by the chain length, not by how many tables of the
	// database are being loaded.
	tableIDs := tableIDsOf(t.Partitions, func(p PartitionVersion) int64 { return p.TableID })
	var others []member
	for _, id := range ids {
		o, omod, err := m.get(ctx, id)
		if err != nil || o.Status != StatusCommitted || o.DBID != t.DBID {
			continue
		}
		within := true
		for _, p := range o.Partitions {
			if _, ok := slices.BinarySearch(tableIDs, p.TableID); !ok {
				within = false
				break
			}
		}
		if within {
			others = append(others, member{o, omod})
		}
	}
	// Each txn takes one compare and three operations, each table two
	// compares and one operation (meta.MaxTxnOps bounds both lists).
	limit := min(maxChain, meta.MaxTxnOps-2*len(tableIDs), (meta.MaxTxnOps-len(tableIDs))/3)
	ts, err := m.readTables(ctx, snap, t.DBID, tableIDs)
	if err != nil {
		return true, err
	}
	// The chain: t, then repeatedly any waiting txn whose versions follow
	// what the chain makes visible.
	nowMs := m.nowMs()
	chain := []member{{t, mod}}
	advance := func(x *Txn) {
		for tid, v := range makeVisible(x.Partitions, ts, nowMs) {
			ts[tid].stored = v
		}
	}
	if ready, _ := publishOrder(t.Partitions, ts); !ready {
		return true, nil // moved on meanwhile; the caller re-checks
	}
	advance(t)
	for grew := true; grew && len(chain) < limit; {
		grew = false
		for i := 0; i < len(others) && len(chain) < limit; i++ {
			if ready, _ := publishOrder(others[i].t.Partitions, ts); !ready {
				continue
			}
			chain = append(chain, others[i])
			advance(others[i].t)
			others = slices.Delete(others, i, i+1)
			i--
			grew = true
		}
	}
	var targets []TxnTargets
	if rp, ok := m.cfg.Publisher.(ReplicaPublisher); ok {
		for _, c := range chain {
			tt, ok := tabletTargets(snap, c.t)
			if !ok {
				targets = nil
				break
			}
			targets = append(targets, tt)
		}
		if targets != nil {
			if err := rp.PublishReplicas(ctx, targets); err != nil {
				return true, fmt.Errorf("txn: publish %d and %d more: %w", t.ID, len(chain)-1, err)
			}
		}
	}
	if targets != nil {
		// Published above.
	} else if mp, ok := m.cfg.Publisher.(ManyPublisher); ok && len(chain) > 1 {
		batch := make([]TxnTablets, len(chain))
		for i, c := range chain {
			batch[i] = TxnTablets{TxnID: c.t.ID, Versions: tabletVersions(snap, c.t)}
		}
		if err := mp.PublishMany(ctx, batch); err != nil {
			return true, fmt.Errorf("txn: publish %d and %d more: %w", t.ID, len(chain)-1, err)
		}
	} else if m.cfg.Publisher != nil {
		for _, c := range chain {
			if err := m.cfg.Publisher.Publish(ctx, c.t.ID, tabletVersions(snap, c.t)); err != nil {
				return true, fmt.Errorf("txn: publish %d: %w", c.t.ID, err)
			}
		}
	}
	if err := failpoint.Inject("txn/mid-publish"); err != nil {
		return true, err
	}
	tx := m.store.Txn()
	for _, c := range chain {
		c.t.Status = StatusVisible
		c.t.FinishTime = nowMs
		tx.IfModRev(txnKey(c.t.ID), c.mod).Put(txnKey(c.t.ID), c.t).
			Delete(runningKey(c.t.DBID, c.t.ID)).
			Put(finalKey(c.t.FinishTime, c.t.ID), c.t.ID)
	}
	touched := false
	for _, tv := range ts {
		if tv.stored == nil {
			continue
		}
		touched = true
		tx.IfExists(catalog.TableKey(tv.dbID, tv.name)).
			IfModRev(catalog.VersionsKey(tv.dbID, tv.tableID), tv.modRev).
			Put(catalog.VersionsKey(tv.dbID, tv.tableID), tv.stored)
	}
	rev, ok, err := tx.Commit(ctx)
	if err != nil {
		return true, fmt.Errorf("txn: finishing publish of %d: %w", t.ID, err)
	}
	if ok && touched {
		return true, m.cat.WaitRevision(ctx, rev)
	}
	// A lost race (another writer moved a txn or a versions value): the
	// callers re-check and retry; the backends' publish is idempotent.
	return true, nil
}

// publish is Publish; with wait false it returns errNotReady instead of
// waiting for earlier versions.
func (m *Manager) publish(ctx context.Context, id int64, wait bool) error {
	for {
		changed := m.cat.Changed()
		snap := m.cat.Snapshot()
		t, mod, err := m.get(ctx, id)
		if err != nil {
			return err
		}
		switch t.Status {
		case StatusVisible:
			return m.awaitShown(ctx, t)
		case StatusCommitted:
		default:
			return &StateError{TxnID: id, Op: OpPublish, Status: t.Status, Reason: t.Reason}
		}
		ts, err := m.readTables(ctx, snap, t.DBID, tableIDsOf(t.Partitions, func(p PartitionVersion) int64 { return p.TableID }))
		if err != nil {
			return err
		}
		ready, done := publishOrder(t.Partitions, ts)
		if !ready {
			if !wait {
				return ErrNotYourTurn
			}
			// The catalog's change signal wakes it; the timer covers a read
			// served by an etcd member behind the watch.
			select {
			case <-changed:
				continue
			case <-time.After(time.Second):
				continue
			case <-ctx.Done():
				return fmt.Errorf("txn: publish %d: waiting for earlier versions: %w", id, ctx.Err())
			}
		}
		if !done && wait {
			chained, err := m.publishChain(ctx, snap, t, mod)
			if err != nil {
				return err
			}
			if chained {
				continue // re-read: VISIBLE now, or retry
			}
			// Another call is publishing a chain, maybe with this txn in
			// it: wait for it.
			select {
			case <-changed:
				continue
			case <-time.After(10 * time.Millisecond):
				continue
			case <-ctx.Done():
				return fmt.Errorf("txn: publish %d: %w", id, ctx.Err())
			}
		}
		if !done && m.cfg.Publisher != nil {
			var err error
			rp, isRP := m.cfg.Publisher.(ReplicaPublisher)
			if tt, ok := tabletTargets(snap, t); isRP && ok {
				err = rp.PublishReplicas(ctx, []TxnTargets{tt})
			} else {
				err = m.cfg.Publisher.Publish(ctx, id, tabletVersions(snap, t))
			}
			if err != nil {
				return fmt.Errorf("txn: publish %d: %w", id, err)
			}
		}
		err = m.FinishPublish(ctx, id)
		if errors.Is(err, ErrNotYourTurn) {
			continue // cannot happen unless versions moved back; re-check
		}
		return err
	}
}

// awaitShown waits until the catalog shows the versions of VISIBLE txn t.
// A txn another call made visible (a chain that took it in) is VISIBLE in
// etcd before the catalog's watch delivers the change; a publish that
// answered then would let the client's next query miss the rows it was
// just told are visible.
func (m *Manager) awaitShown(ctx context.Context, t *Txn) error {
	for {
		changed := m.cat.Changed()
		if shows(m.cat.Snapshot(), t) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("txn: publish %d: waiting for the catalog to show it: %w", t.ID, ctx.Err())
		}
	}
}

// shows reports whether snap shows t's versions: every partition t wrote
// visible at t's version or later. A dropped table or partition has
// nothing left to show.
func shows(snap *catalog.Snapshot, t *Txn) bool {
	for _, p := range t.Partitions {
		tb, ok := snap.TableByID(t.DBID, p.TableID)
		if !ok {
			continue
		}
		for i := range tb.Partitions {
			if tb.Partitions[i].ID == p.PartitionID && tb.Partitions[i].VisibleVersion < p.Version {
				return false
			}
		}
	}
	return true
}

// tabletVersions maps every tablet of the txn's partitions (of every
// index) to the partition's version. Dropped tables and partitions are skipped.
func tabletVersions(snap *catalog.Snapshot, t *Txn) map[int64]int64 {
	out := map[int64]int64{}
	for _, p := range t.Partitions {
		tb, ok := snap.TableByID(t.DBID, p.TableID)
		if !ok {
			continue
		}
		for i := range tb.Partitions {
			if tb.Partitions[i].ID == p.PartitionID {
				for _, tablet := range tb.Partitions[i].Tablets {
					out[tablet] = p.Version
				}
				for _, tablets := range tb.Partitions[i].IndexTablets {
					for _, tablet := range tablets {
						out[tablet] = p.Version
					}
				}
				break
			}
		}
	}
	return out
}

// tabletTargets is what a ReplicaPublisher publishes of t: every tablet
// of its partitions (of every index), whether t wrote it, and its
// replicas' backends. ok is false when t did not record the tablets it
// wrote in some partition.
func tabletTargets(snap *catalog.Snapshot, t *Txn) (TxnTargets, bool) {
	out := TxnTargets{TxnID: t.ID, Tablets: map[int64]TabletTarget{}}
	for _, p := range t.Partitions {
		if p.Tablets == nil {
			return out, false
		}
		tb, ok := snap.TableByID(t.DBID, p.TableID)
		if !ok {
			continue
		}
		for i := range tb.Partitions {
			part := &tb.Partitions[i]
			if part.ID != p.PartitionID {
				continue
			}
			add := func(b int, tablet int64, lenient bool) {
				_, written := slices.BinarySearch(p.Tablets, tablet)
				placed := part.BucketBackends(b)
				tt := TabletTarget{Version: p.Version, Written: written, Backends: placed, Lenient: lenient}
				if wrote := p.Replicas[tablet]; len(wrote) > 0 {
					tt.Need = len(placed)/2 + 1
					tt.Backends = slices.Clone(placed)
					for _, be := range wrote {
						if !slices.Contains(tt.Backends, be) {
							tt.Backends = append(tt.Backends, be)
						}
					}
				}
				out.Tablets[tablet] = tt
			}
			for b, tablet := range part.Tablets {
				add(b, tablet, false)
			}
			for ix, tablets := range part.IndexTablets {
				building := false
				if idx := tb.IndexByID(ix); idx != nil {
					building = idx.State == catalog.IndexShadow
				}
				for b, tablet := range tablets {
					add(b, tablet, building)
				}
			}
			break
		}
	}
	return out, true
}

// FinishPublish records that a COMMITTED txn's versions are published: in
// one etcd transaction the txn becomes VISIBLE and every touched partition's
// visible version becomes the txn's version. It returns ErrNotYourTurn when
// an earlier version of a touched partition is not visible yet, and nil for
// a txn that is already VISIBLE.
func (m *Manager) FinishPublish(ctx context.Context, id int64) error {
	for {
		snap := m.cat.Snapshot()
		t, mod, err := m.get(ctx, id)
		if err != nil {
			return err
		}
		switch t.Status {
		case StatusVisible:
			return m.awaitShown(ctx, t)
		case StatusCommitted:
		default:
			return &StateError{TxnID: id, Op: OpPublish, Status: t.Status, Reason: t.Reason}
		}
		ts, err := m.readTables(ctx, snap, t.DBID, tableIDsOf(t.Partitions, func(p PartitionVersion) int64 { return p.TableID }))
		if err != nil {
			return err
		}
		if ready, _ := publishOrder(t.Partitions, ts); !ready {
			return fmt.Errorf("txn: finishing publish of %d: %w", id, ErrNotYourTurn)
		}
		nowMs := m.nowMs()
		updated := makeVisible(t.Partitions, ts, nowMs)
		t.Status = StatusVisible
		t.FinishTime = nowMs
		tx := m.store.Txn().IfModRev(txnKey(id), mod)
		for tid, v := range updated {
			tv := ts[tid]
			tx.IfExists(catalog.TableKey(tv.dbID, tv.name)).
				IfModRev(catalog.VersionsKey(tv.dbID, tid), tv.modRev).
				Put(catalog.VersionsKey(tv.dbID, tid), v)
		}
		tx.Put(txnKey(id), t).
			Delete(runningKey(t.DBID, id)).
			Put(finalKey(t.FinishTime, id), id)
		rev, ok, err := tx.Commit(ctx)
		if err != nil {
			return fmt.Errorf("txn: finishing publish of %d: %w", id, err)
		}
		if ok {
			if len(updated) == 0 {
				return nil // no catalog key changed; nothing to wait for
			}
			return m.cat.WaitRevision(ctx, rev)
		}
	}
}

// RecoveryReport says what Recover did.
type RecoveryReport struct {
	Published []int64 // made VISIBLE
	Aborted   []int64
	Expired   []int64 // final txns removed after the label retention
	// Pending are COMMITTED txns still not visible (publish failed or an
	// earlier version is stuck); call Recover again later.
	Pending []int64
}

// Recover brings stored transactions up to date; call it at startup and
// then periodically. It publishes COMMITTED txns in commit order (publish is
// idempotent), aborts PREPARE txns whose coordinator was an earlier
// incarnation of this process (their loads died with it) or whose timeout
// passed, and removes final txns and their labels older than LabelKeep.
// Failures to publish leave txns pending and are returned joined.
func (m *Manager) Recover(ctx context.Context) (RecoveryReport, error) {
	var rep RecoveryReport
	if err := m.ensureIndexed(ctx); err != nil {
		return rep, err
	}
	txns, err := m.dueForRecovery(ctx)
	if err != nil {
		return rep, err
	}
	plan := planRecovery(m.cfg.Clock.Now(), m.recoveryConfig(), txns)
	var errs []error
	var pending []int64
	for _, a := range plan {
		switch a.kind {
		case actAbort:
			switch err := m.Abort(ctx, a.txnID, a.reason); {
			case err == nil:
				rep.Aborted = append(rep.Aborted, a.txnID)
			case errors.Is(err, ErrState), errors.Is(err, ErrNotFound):
				// Moved on meanwhile.
			default:
				errs = append(errs, err)
			}
		case actExpire:
			switch err := m.expire(ctx, a.txnID); {
			case err == nil:
				rep.Expired = append(rep.Expired, a.txnID)
			default:
				errs = append(errs, err)
			}
		case actPublish:
			pending = append(pending, a.txnID)
		}
	}
	// Publish in commit order; a txn that must wait for an earlier one is
	// retried after the others, as long as some txn makes progress.
	lastErr := map[int64]error{}
	for progress := true; progress && len(pending) > 0; {
		progress = false
		rest := pending[:0]
		for _, id := range pending {
			err := m.publish(ctx, id, false)
			switch {
			case err == nil:
				rep.Published = append(rep.Published, id)
				progress = true
			case errors.Is(err, ErrState), errors.Is(err, ErrNotFound):
				progress = true
			default:
				lastErr[id] = err
				rest = append(rest, id)
			}
		}
		pending = rest
	}
	for _, id := range pending {
		if err := lastErr[id]; err != nil && !errors.Is(err, ErrNotYourTurn) {
			errs = append(errs, err)
		}
	}
	rep.Pending = pending
	return rep, errors.Join(errs...)
}

// ListRunning returns the transactions of a database that are not final
// (all databases when dbID is 0), by id.
func (m *Manager) ListRunning(ctx context.Context, dbID int64) ([]*Txn, error) {
	prefix := runningAll
	if dbID != 0 {
		prefix = runningPrefix(dbID)
	}
	kvs, _, err := m.store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("txn: listing running transactions: %w", err)
	}
	out, err := m.readIndexed(ctx, kvs, make([]*Txn, 0, len(kvs)))
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *Txn) int { return cmpInt(a.ID, b.ID) })
	return out, nil
}

// readIndexed appends to out the transactions the index entries kvs name. An
// entry whose record is gone (it cannot be, but a stray entry must not stop
// recovery) is dropped.
func (m *Manager) readIndexed(ctx context.Context, kvs []meta.KV, out []*Txn) ([]*Txn, error) {
	for _, kv := range kvs {
		var id int64
		if err := json.Unmarshal(kv.Value, &id); err != nil {
			return nil, fmt.Errorf("txn: decoding %s: %w", kv.Key, err)
		}
		t, _, err := m.getFresh(ctx, id)
		if errors.Is(err, ErrNotFound) {
			if _, _, err := m.store.Txn().IfModRev(kv.Key, kv.ModRev).Delete(kv.Key).Commit(ctx); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// dueForRecovery reads what recovery looks at: every running transaction
// and the final ones past the label retention (a batch of them; the next
// pass takes the rest).
func (m *Manager) dueForRecovery(ctx context.Context) ([]*Txn, error) {
	out, err := m.ListRunning(ctx, 0)
	if err != nil {
		return nil, err
	}
	cutoff := m.nowMs() - m.cfg.LabelKeep.Milliseconds()
	if cutoff <= 0 {
		return out, nil
	}
	kvs, err := m.store.ListRange(ctx, finalAll, finalKey(cutoff, 0), expireBatch)
	if err != nil {
		return nil, fmt.Errorf("txn: listing expired transactions: %w", err)
	}
	return m.readIndexed(ctx, kvs, out)
}

// ensureIndexed builds the running and final indexes for transactions
// recorded before they existed; it runs once per store.
func (m *Manager) ensureIndexed(ctx context.Context) error {
	if m.indexed.Load() {
		return nil
	}
	var done bool
	mod, _, err := m.store.Get(ctx, indexedKey, &done)
	if err != nil {
		return fmt.Errorf("txn: reading index marker: %w", err)
	}
	if mod != 0 && done {
		m.indexed.Store(true)
		return nil
	}
	// Each index key is written only if its record is unchanged since it
	// was read: a transaction that finished meanwhile (and deleted its
	// running key) must not get that key back, which would count it as
	// running for good. A batch that lost such a race is read again.
	kvs, _, err := m.store.List(ctx, txnPrefix)
	if err != nil {
		return fmt.Errorf("txn: listing transactions: %w", err)
	}
	if err := m.index(ctx, kvs); err != nil {
		return err
	}
	if _, _, err := m.store.Txn().Put(indexedKey, true).Commit(ctx); err != nil {
		return fmt.Errorf("txn: writing index marker: %w", err)
	}
	m.indexed.Store(true)
	return nil
}

// index writes the running or final index key of every record read as
// kvs, each only if its record is still as read.
func (m *Manager) index(ctx context.Context, kvs []meta.KV) error {
	const perTxn = 100
	for len(kvs) > 0 {
		n := min(perTxn, len(kvs))
		tx := m.store.Txn()
		for _, kv := range kvs[:n] {
			t, err := decodeTxn(kv.Value)
			if err != nil {
				m.cfg.Logger.Error("txn: skipping undecodable transaction", "key", kv.Key, "err", err)
				continue
			}
			tx.IfModRev(kv.Key, kv.ModRev)
			if t.Status.Final() {
				tx.Put(finalKey(t.FinishTime, t.ID), t.ID)
			} else {
				tx.Put(runningKey(t.DBID, t.ID), t.ID)
			}
		}
		_, ok, err := tx.Commit(ctx)
		if err != nil {
			return fmt.Errorf("txn: indexing transactions: %w", err)
		}
		if !ok {
			if kvs, err = m.reread(ctx, kvs[:n], kvs[n:]); err != nil {
				return err
			}
			continue
		}
		kvs = kvs[n:]
	}
	return nil
}

// reread reads the records of batch again (dropping those now gone) and
// returns them followed by rest.
func (m *Manager) reread(ctx context.Context, batch, rest []meta.KV) ([]meta.KV, error) {
	out := make([]meta.KV, 0, len(batch)+len(rest))
	for _, kv := range batch {
		var raw json.RawMessage
		mod, _, err := m.store.Get(ctx, kv.Key, &raw)
		if err != nil {
			return nil, fmt.Errorf("txn: indexing transactions: %w", err)
		}
		if mod != 0 {
			out = append(out, meta.KV{Key: kv.Key, Value: raw, ModRev: mod})
		}
	}
	return append(out, rest...), nil
}

// expire removes a final txn and, if it still holds it, its label.
func (m *Manager) expire(ctx context.Context, id int64) error {
	for {
		t, mod, err := m.get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !t.Status.Final() {
			panic(fmt.Sprintf("BUG: txn: expiring transaction %d in status %s", id, t.Status))
		}
		lkey := labelKey(t.DBID, t.Label)
		var holder int64
		lmod, _, err := m.store.Get(ctx, lkey, &holder)
		if err != nil {
			return fmt.Errorf("txn: expiring %d: %w", id, err)
		}
		tx := m.store.Txn().IfModRev(txnKey(id), mod).Delete(txnKey(id)).
			Delete(finalKey(t.FinishTime, id))
		if lmod != 0 && holder == id {
			tx.IfModRev(lkey, lmod).Delete(lkey)
		}
		_, ok, err := tx.Commit(ctx)
		if err != nil {
			return fmt.Errorf("txn: expiring %d: %w", id, err)
		}
		if ok {
			return nil
		}
	}
}

// Watershed returns a transaction id above every one handed out so far:
// a transaction begun after it returns has a larger id. Background jobs
// use it to tell the loads that began before them from later ones.
func (m *Manager) Watershed(ctx context.Context) (int64, error) {
	id, err := m.ids.NextIDs(ctx, 1)
	if err != nil {
		return 0, fmt.Errorf("txn: watershed: %w", err)
	}
	return id, nil
}

// coordinatorOf is the process a Begin records as running the load.
func coordinatorOf(req BeginRequest, self Coordinator) Coordinator {
	if req.Coordinator != nil && req.Coordinator.Node != "" {
		return *req.Coordinator
	}
	return self
}

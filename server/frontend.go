package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/strata-db/strata/be/service"
	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/cluster"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/session"
	"github.com/strata-db/strata/fe/txn"
)

// TxnConfig configures load transactions (STREAMLOAD.md §4.2); zero takes
// Doris's default.
type TxnConfig struct {
	// StreamLoadTimeout bounds a load without a timeout header
	// (stream_load_default_timeout_second).
	StreamLoadTimeout time.Duration
	// PrecommitTimeout bounds a precommitted two-phase load
	// (stream_load_default_precommit_timeout_second).
	PrecommitTimeout time.Duration
	// LabelKeep is how long finished labels are kept
	// (streaming_label_keep_max_second).
	LabelKeep time.Duration
	// MaxRunningTxnsPerDB bounds the loads of a database not yet finished
	// (max_running_txn_num_per_db).
	MaxRunningTxnsPerDB int
}

// frontendNode is the frontend role's metadata side: the fenced store, the
// catalog, the cluster registry, the transaction manager and the
// leadership, whose holder runs the leader's work (transaction recovery
// and maintenance, alter jobs, the tablet scheduler).
type frontendNode struct {
	log   *slog.Logger
	name  string
	info  cluster.Frontend
	store *meta.Store
	cat   *catalog.Catalog
	reg   *cluster.Registry
	txns  *txn.Manager
	// txnIDs is the transaction id allocator, reset at each leadership
	// so that a leader's ids lie above every earlier leader's.
	txnIDs *meta.IDAllocator
	view   *clusterView
	eng    *session.Engine
	alive  *meta.Registration
	// leaseTTL is how long a process keeps its liveness key after it
	// stopped answering.
	leaseTTL time.Duration

	mu      sync.Mutex
	leading bool
}

// openFrontendMeta opens the metadata side on an etcd client.
func openFrontendMeta(ctx context.Context, fe *frontendNode, cli *meta.Store, tcfg TxnConfig, incarnation string, pub txn.Publisher) error {
	fe.store = cli
	var err error
	if fe.reg, err = cluster.Open(ctx, fe.store, fe.log); err != nil {
		return err
	}
	place := func(t *catalog.Table) error {
		n, err := cluster.ReplicationNum(t, len(fe.reg.Candidates()))
		if err != nil {
			return err
		}
		tables := allTables(fe.cat)
		if _, members := cluster.ColocateGroup(t, tables); t.Properties[cluster.PropColocateWith] != "" {
			if err := cluster.PlaceColocated(t, n, fe.reg.Candidates(), cluster.Load(tables), members); err != nil {
				return err
			}
		} else if err := cluster.Place(t, n, fe.reg.Candidates(), cluster.Load(tables)); err != nil {
			return err
		}
		// The count chosen for a table that named none is kept, so that
		// SHOW CREATE TABLE and the repair of lost replicas use it.
		if t.Properties == nil {
			t.Properties = map[string]string{}
		}
		t.Properties["replication_num"] = strconv.Itoa(n)
		return nil
	}
	if fe.cat, err = catalog.Open(ctx, fe.store, catalog.Options{Logger: fe.log, Place: place}); err != nil {
		fe.reg.Close()
		return err
	}
	fe.txnIDs = meta.NewIDAllocator(fe.store, "txn", 16)
	fe.txns = txn.NewManager(fe.store, fe.cat, txn.Config{
		Self:             txn.Coordinator{Node: fe.name, Incarnation: incarnation},
		Publisher:        pub,
		Logger:           fe.log,
		DefaultTimeout:   tcfg.StreamLoadTimeout,
		PrecommitTimeout: tcfg.PrecommitTimeout,
		LabelKeep:        tcfg.LabelKeep,
		MaxRunningPerDB:  tcfg.MaxRunningTxnsPerDB,
		IDs:              fe.txnIDs,
	})
	return nil
}

// allTables lists every table of the catalog's current snapshot.
func allTables(cat *catalog.Catalog) []*catalog.Table { return allTablesOf(cat.Snapshot()) }

// Leading reports whether this frontend holds the leadership now.
func (fe *frontendNode) Leading() bool { return fe.store.Fenced() != nil }

// leaderName is the name of the frontend that leads, "" when none does.
func (fe *frontendNode) leaderName() string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	val, err := meta.Leader(ctx, fe.store.Client())
	if err != nil || val == "" {
		return ""
	}
	var f cluster.Frontend
	if json.Unmarshal([]byte(val), &f) != nil {
		return ""
	}
	return f.Name
}

// leaderValue is what the leader publishes in the election.
func (fe *frontendNode) leaderValue() string {
	b, _ := json.Marshal(fe.info)
	return string(b)
}

// publisher publishes on the cluster's replicas; legacy transactions (no
// tablets recorded) go to legacy.
func newPublisher(view *clusterView, legacy txn.Publisher, log *slog.Logger) *service.Publisher {
	return &service.Publisher{C: view, Legacy: legacy, Log: log}
}

// lead is the leader's work, for as long as the leadership holds: recover
// transactions, then keep them moving (publish retries, timeouts, label
// expiry), run the alter jobs and the tablet scheduler.
func (fe *frontendNode) lead(ctx context.Context, alter session.AlterBackend, extra func(ctx context.Context)) {
	fe.txnIDs.Reset()
	if rep, err := fe.txns.Recover(ctx); err != nil {
		fe.log.Warn("transaction recovery incomplete", "err", err)
	} else if len(rep.Published)+len(rep.Aborted)+len(rep.Pending) > 0 {
		fe.log.Info("recovered load transactions", "published", rep.Published, "aborted", rep.Aborted, "still_pending", rep.Pending)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		fe.eng.RunAlterJobs(ctx, alter)
	}()
	if extra != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			extra(ctx)
		}()
	}
	t := time.NewTicker(maintainInterval)
	defer t.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-t.C:
			if _, err := fe.txns.Recover(ctx); err != nil && ctx.Err() == nil {
				fe.log.Warn("transaction maintenance", "err", err)
			}
			fe.abortOrphanLoads(ctx)
		}
	}
	wg.Wait()
}

// abortOrphanLoads aborts the loads whose coordinating process died: a
// PREPARE transaction recorded as run by a backend or frontend that holds
// no liveness lease any more will never commit (its rows went down with
// it), and holding it would keep its label taken until its timeout, days
// away. A process that only lost etcd for a while has its loads aborted
// too; their commits then fail, as Doris fails loads whose coordinating
// backend missed its heartbeats.
func (fe *frontendNode) abortOrphanLoads(ctx context.Context) {
	if fe.reg == nil {
		return
	}
	alive := map[string]bool{fe.name: true}
	for _, f := range fe.reg.Frontends() {
		alive[f.Name] = true
	}
	for _, b := range fe.reg.Backends() {
		if b.Alive {
			alive[fmt.Sprintf("be%d", b.ID)] = true
		}
	}
	running, err := fe.txns.ListRunning(ctx, 0)
	if err != nil {
		if ctx.Err() == nil {
			fe.log.Warn("listing running loads", "err", err)
		}
		return
	}
	for _, t := range running {
		if t.Status != txn.StatusPrepare || t.Coordinator.Node == "" || alive[t.Coordinator.Node] {
			continue
		}
		// A process that just started may not be registered yet; its
		// loads are younger than a lease.
		if time.Since(time.UnixMilli(t.PrepareTime)) < fe.leaseTTL {
			continue
		}
		reason := fmt.Sprintf("the process running the load (%s) is down", t.Coordinator.Node)
		if err := fe.txns.Abort(ctx, t.ID, reason); err != nil {
			fe.log.Warn("aborting a load whose coordinator died", "txn", t.ID, "err", err)
			continue
		}
		fe.log.Info("aborted a load whose coordinator died", "txn", t.ID, "label", t.Label, "coordinator", t.Coordinator.Node)
	}
}

// replicatedSink is the load sink of a process in a cluster: transactions
// through txns, rows to every replica.
func replicatedSink(cat *catalog.Catalog, txns sink.TxnService, view *clusterView, log *slog.Logger) *sink.Sink {
	return &sink.Sink{Catalog: cat, Txns: txns, Tablets: &service.Replicated{C: view, Log: log}}
}

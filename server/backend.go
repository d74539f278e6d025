package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/strata-db/strata/be/service"
	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/compaction"
	"github.com/strata-db/strata/failpoint"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/cluster"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/loader"
	"github.com/strata-db/strata/rpc"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/version"
)

// StorageConfig configures a backend's storage: the tablet store and its
// compaction.
type StorageConfig struct {
	// PageCacheBytes bounds the cache of decoded segment pages (Doris's
	// storage_page_cache_limit); 0 turns it off.
	PageCacheBytes int64
	// MaxTabletVersionNum bounds the visible rowsets of a tablet; a load
	// into a tablet past it fails (Doris's max_tablet_version_num). 0:
	// 2000.
	MaxTabletVersionNum int
	// TabletRowsetStaleSweepTime is how long the rowsets a compaction
	// replaced stay readable for queries planned before it (Doris's
	// tablet_rowset_stale_sweep_time_sec). 0: 300 s.
	TabletRowsetStaleSweepTime time.Duration
	// CompactionWorkers bounds the compactions that run at once. 0: one on
	// machines with at most 2 cores, else a quarter of the cores.
	CompactionWorkers int
	// EnableFailpoints serves /api/debug/failpoints, which arms the
	// failpoints of package failpoint (--enable-failpoints).
	EnableFailpoints bool
	// BaseCompactionWriteMBPerSec paces what base compactions write
	// (base_compaction_write_mbytes_per_sec); 0: no limit.
	BaseCompactionWriteMBPerSec int
	// CloneMBPerSec bounds what this backend sends to replicas being
	// repaired from it; 0: no limit.
	CloneMBPerSec int
	// strict: a tablet the store has no version of holds only a
	// partition's empty initial version (a backend of a cluster, where a
	// replica may have lost its data); the embedded server, whose tablets
	// predate version records, is not strict.
	strict bool
}

// backendNode is the backend role: tablets on disk, compaction, the data
// service over RPC and stream loads over HTTP. `strata be` runs one on
// its own; the embedded server runs one beside its frontend.
type backendNode struct {
	id    int64
	dir   string
	log   *slog.Logger
	host  string // as others reach it
	http  int
	rpcPt int
	fpAPI bool // serve /api/debug/failpoints (StorageConfig.EnableFailpoints)

	tabs  *tabletstore.Store
	cmpct *compaction.Scheduler
	svc   *service.Service
	clone *service.CloneSource

	rpcSrv *rpc.Server
	rpcCli *rpc.Client

	// The cluster, as this backend sees it.
	store *meta.Store
	cat   *catalog.Catalog
	reg   *cluster.Registry
	view  *clusterView
	txns  sink.TxnService
	// reader reads transactions' states (never writes: the store is
	// unfenced, and only the cleanup of pending rowsets reads).
	reader *txn.Manager
	sink   *sink.Sink
	alive  *meta.Registration

	// orphans are tablets the last maintenance pass found in no table.
	orphans map[int64]bool
}

// openBackendStorage opens the tablet store and starts compaction.
func openBackendStorage(dir string, cfg StorageConfig, log *slog.Logger) (*tabletstore.Store, *compaction.Scheduler, error) {
	tabs, err := tabletstore.OpenWithOptions(dir, tabletstore.Options{
		Logger: log, MaxVersions: cfg.MaxTabletVersionNum, StaleSweepTime: cfg.TabletRowsetStaleSweepTime,
		Strict: cfg.strict,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("opening tablets: %w", err)
	}
	if cfg.PageCacheBytes > 0 {
		tabs.SetPageCache(storage.NewPageCache(cfg.PageCacheBytes))
	}
	cmpct := compaction.NewScheduler(tabs, compaction.Config{Logger: log, Workers: cfg.CompactionWorkers,
		BaseWriteBytesPerSec: int64(cfg.BaseCompactionWriteMBPerSec) << 20})
	cmpct.Start()
	return tabs, cmpct, nil
}

// newCloneSource bounds what the backend sends to replicas it repairs.
func newCloneSource(svc *service.Service, mbPerSec int) *service.CloneSource {
	src := &service.CloneSource{S: svc}
	if mbPerSec > 0 {
		src.Limit = rate.NewLimiter(rate.Limit(mbPerSec<<20), 1<<20)
	}
	return src
}

// registerRPC serves the backend's calls on srv.
func (b *backendNode) registerRPC(srv *rpc.Server) {
	service.Register(srv, b.svc)
	service.RegisterReplicas(srv, b.svc, b.clone, b.rpcCli)
	service.RegisterFragments(srv, b.svc)
}

// status is what the backend publishes under its liveness key.
func (b *backendNode) status(start time.Time) cluster.BackendStatus {
	st := cluster.BackendStatus{
		ID: b.id, Host: b.host, HTTPPort: b.http, RPCPort: b.rpcPt, StartTime: start.UnixMilli(),
		Version: version.Version, ReportTime: time.Now().UnixMilli(), CPUCores: runtime.NumCPU(),
		MemoryBytes: physicalMemory(),
	}
	for _, ti := range b.tabs.TabletReport() {
		st.TabletNum++
		st.DataUsedBytes += ti.DataSize
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(b.dir, &fs); err == nil {
		st.TotalBytes = int64(fs.Blocks) * int64(fs.Bsize)
		st.AvailBytes = int64(fs.Bavail) * int64(fs.Bsize)
	}
	return st
}

// register takes the backend's liveness lease and refreshes its status.
func (b *backendNode) register(ctx context.Context, ttl time.Duration) error {
	start := time.Now()
	r, err := meta.Register(ctx, b.store.Client(), cluster.BackendAliveKey(b.id), b.status(start), ttl, b.log)
	if err != nil {
		return err
	}
	b.alive = r
	return nil
}

// refreshStatus updates the published status now and then until ctx ends.
func (b *backendNode) refreshStatus(ctx context.Context, start time.Time) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := b.alive.Update(ctx, b.status(start)); err != nil && ctx.Err() == nil {
			b.log.Warn("publishing the backend's status", "err", err)
		}
	}
}

// maintainBackend drops what will never be needed: pending rowsets of
// transactions that are gone or aborted, and tablets no table places here.
func (b *backendNode) maintainBackend(ctx context.Context, skip func() map[int64]bool) {
	if err := b.cleanupPending(ctx, skip); err != nil && ctx.Err() == nil {
		b.log.Warn("cleaning pending rowsets", "err", err)
	}
	b.dropOrphanTablets()
}

// cleanupPending aborts the pending rowsets of transactions that will never
// commit: unknown, expired or aborted ones. skip lists transaction ids
// alter jobs write converted rows under (nil: none).
func (b *backendNode) cleanupPending(ctx context.Context, skip func() map[int64]bool) error {
	var errs []error
	var jobs map[int64]bool
	if skip != nil {
		jobs = skip()
	}
	for _, id := range b.tabs.PendingTxns() {
		if jobs[id] {
			continue
		}
		t, err := b.reader.Get(ctx, id)
		var nf *txn.NotFoundError
		switch {
		case errors.As(err, &nf):
		case err != nil:
			errs = append(errs, err)
			continue
		case t.Status == txn.StatusAborted:
		default:
			continue
		}
		if err := b.tabs.AbortTxn(id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// placedHere calls fn with every tablet the catalog places on this backend
// (every tablet of every index, when partitions are not placed: the
// embedded server's only backend holds them all), until fn returns false.
func (b *backendNode) placedHere(fn func(tabletID int64) bool) {
	snap := b.cat.Snapshot()
	for _, db := range snap.Databases() {
		tables, err := snap.Tables(db.Name)
		if err != nil {
			continue
		}
		for _, t := range tables {
			for _, p := range t.Partitions {
				for bucket := range p.Tablets {
					if bes := p.BucketBackends(bucket); bes != nil && !containsID(bes, b.id) {
						continue
					}
					if !fn(p.Tablets[bucket]) {
						return
					}
					for _, ids := range p.IndexTablets {
						if bucket < len(ids) && !fn(ids[bucket]) {
							return
						}
					}
				}
			}
		}
	}
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// dropOrphanTablets deletes the tablets no table of the catalog places on
// this backend any more (their table was dropped, or the tablet scheduler
// moved the replica away). The store is listed before the catalog snapshot
// is taken, so a tablet created meanwhile is in the snapshot; and a tablet
// must be missing on two passes in a row before it goes. Only the
// maintenance goroutine calls it.
func (b *backendNode) dropOrphanTablets() {
	held := b.tabs.Tablets()
	// A tablet that moved away may still hold the rows of a load that
	// wrote it before the move and is not published yet: it stays until
	// its pending rowsets are published or aborted.
	pending := map[int64]bool{}
	for _, ti := range b.tabs.TabletReport() {
		if ti.Pending {
			pending[ti.TabletID] = true
		}
	}
	live := map[int64]bool{}
	b.placedHere(func(id int64) bool {
		live[id] = true
		return true
	})
	next := map[int64]bool{}
	for _, id := range held {
		switch {
		case live[id], pending[id]:
		case !b.orphans[id]:
			next[id] = true
		default:
			switch err := b.tabs.DropTablet(id); {
			case errors.Is(err, tabletstore.ErrTabletBusy):
				next[id] = true
			case err != nil:
				b.log.Warn("dropping a tablet no table places here", "tablet", id, "err", err)
			default:
				b.log.Info("dropped a tablet no table places here", "tablet", id)
			}
		}
	}
	b.orphans = next
}

// inCatalog reports whether a table of the catalog holds a tablet.
func (b *backendNode) inCatalog(tabletID int64) bool {
	found := false
	b.placedHere(func(id int64) bool {
		found = id == tabletID
		return !found
	})
	return found
}

// beRoutes adds the routes only the BE HTTP port serves to the loader's
// BE handler: Doris's compaction endpoints, and metrics.
func (b *backendNode) beRoutes(loader http.Handler, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /api/compaction/show", compaction.ShowHandler(b.cmpct, b.inCatalog))
	mux.Handle("GET /api/compaction_score", compaction.ScoreHandler(b.cmpct))
	mux.Handle("/api/debug/failpoints", failpoint.Handler(b.fpAPI))
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	mux.Handle("/", loader)
	return mux
}

// loaderConfig is the stream load configuration of a backend.
func (b *backendNode) loaderConfig(timeout time.Duration) loader.Config {
	return loader.Config{
		BEHost:         b.host,
		BEHTTPPort:     b.http,
		ErrorLogDir:    filepath.Join(b.dir, "error_log"),
		Logger:         b.log,
		DefaultTimeout: timeout,
		TwoPhaseCommit: loader.NewTwoPhaseHandler(b.sink, b.log),
		CompileWhere: func(cols []catalog.Column, where string) (loader.RowFilter, error) {
			f, err := planner.CompileRowFilter(cols, where)
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			return f, nil
		},
	}
}

// backendMetrics is the backend's metrics registry; loads are the metrics
// its stream loads count in.
func backendMetrics(b *backendNode, loads *loader.Metrics) *prometheus.Registry {
	reg := newRegistry(b.cmpct)
	registerBackend(reg, b.tabs, loads, b.svc.Stats)
	return reg
}

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// buildingTablets reports the tablets of indexes being built (SHADOW) in
// the catalog, which a cluster backend holds from compaction until their
// alter job finishes: the job replaces their rows up to the version it
// reads, which a compaction merging versions on both sides of it would
// prevent. (The embedded server holds only the partition being converted,
// knowing the job's progress.)
type buildingTablets struct {
	cat *catalog.Catalog
	mu  sync.Mutex
	rev int64
	ids map[int64]bool
}

func (b *buildingTablets) held(tabletID int64) bool {
	snap := b.cat.Snapshot()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ids == nil || b.rev != snap.Revision() {
		b.ids = map[int64]bool{}
		for _, t := range allTablesOf(snap) {
			for _, ix := range t.Indexes {
				if ix.State != catalog.IndexShadow {
					continue
				}
				for _, p := range t.Partitions {
					for _, id := range p.IndexTablets[ix.ID] {
						b.ids[id] = true
					}
				}
			}
		}
		b.rev = snap.Revision()
	}
	return b.ids[tabletID]
}

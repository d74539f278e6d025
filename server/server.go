// Package server assembles the embedded deployment: one process that runs
// an embedded etcd, the frontend (catalog, transactions, SQL over the MySQL
// protocol, the FE HTTP port) and the backend (tablets on disk, the BE HTTP
// port for stream load).
//
// Start-up order is etcd, catalog, BE storage, transaction recovery, then
// the listeners; Close stops them in the reverse order, so no request is
// served by a component that is already gone.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-db/strata/be/local"
	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/compaction"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/httpapi"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/session"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/loader"
	"github.com/strata-db/strata/mysqlproto"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/version"
)

// Config configures the embedded server.
type Config struct {
	DataDir        string
	Bind           string
	QueryPort      int
	HTTPPort       int
	BEHTTPPort     int
	BERPCPort      int
	EtcdClientPort int
	EtcdPeerPort   int
	Logger         *slog.Logger
	// MaxConnections bounds MySQL connections.
	MaxConnections int
	// EtcdLogLevel is the embedded etcd's own log level (zap: debug, info,
	// warn, error, fatal). It logs JSON to stderr; the default keeps it
	// quiet, because a fresh single member logs alarming but harmless
	// errors on every start.
	EtcdLogLevel string
	// PageCacheBytes bounds the cache of decoded segment pages (Doris's
	// storage_page_cache_limit); 0 turns it off.
	PageCacheBytes int64
	// Load transactions (STREAMLOAD.md §4.2); zero takes Doris's default.
	// StreamLoadTimeout bounds a load without a timeout header
	// (stream_load_default_timeout_second); PrecommitTimeout bounds a
	// precommitted two-phase load (stream_load_default_precommit_timeout_second);
	// LabelKeep is how long finished labels are kept
	// (streaming_label_keep_max_second); MaxRunningTxnsPerDB bounds the
	// loads of a database not yet finished (max_running_txn_num_per_db).
	StreamLoadTimeout   time.Duration
	PrecommitTimeout    time.Duration
	LabelKeep           time.Duration
	MaxRunningTxnsPerDB int
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
	// BaseCompactionWriteMBPerSec paces what base compactions write
	// (base_compaction_write_mbytes_per_sec); 0: no limit.
	BaseCompactionWriteMBPerSec int
}

// DefaultConfig returns Doris's default ports on loopback.
func DefaultConfig() Config {
	return Config{
		DataDir:        "./strata-data",
		Bind:           "127.0.0.1",
		QueryPort:      9030,
		HTTPPort:       8030,
		BEHTTPPort:     8040,
		BERPCPort:      8060,
		EtcdClientPort: 2379,
		EtcdPeerPort:   2380,
		MaxConnections: 1024,
		EtcdLogLevel:   "fatal",
		PageCacheBytes: physicalMemory() / 5, // Doris's default: 20%
	}
}

// Server is a running embedded server.
type Server struct {
	cfg   Config
	log   *slog.Logger
	etcd  *meta.Embedded
	cat   *catalog.Catalog
	txns  *txn.Manager
	tabs  *tabletstore.Store
	cmpct *compaction.Scheduler
	// metrics is the process's metrics registry (see newRegistry).
	metrics *prometheus.Registry
	// beAddr is host:port of the BE HTTP port, as clients reach it.
	beAddr string
	// orphans are tablets the last maintenance pass found in no table.
	orphans map[int64]bool
	mysql   *mysqlproto.Server
	feHTTP  *http.Server
	beHTTP  *http.Server
	rpc     net.Listener
	// eng runs SQL sessions and the alter jobs.
	eng    *session.Engine
	cancel context.CancelFunc
	done   chan struct{}
	// jobsDone is closed when the alter jobs' goroutine ends.
	jobsDone chan struct{}
}

// Start brings every component up and returns once all listeners accept.
func Start(ctx context.Context, cfg Config) (_ *Server, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating data dir: %w", err)
	}
	s := &Server{cfg: cfg, log: log, done: make(chan struct{})}
	// Until the listeners are handed to their servers at the very end, a
	// failure closes them here, and whatever else was started.
	var lnQuery, lnFE, lnBE net.Listener
	defer func() {
		if err == nil {
			return
		}
		for _, l := range []net.Listener{lnQuery, lnFE, lnBE} {
			if l != nil {
				l.Close()
			}
		}
		s.Close()
	}()

	// Listeners first, so a port clash fails fast, before anything is
	// recovered.
	if lnQuery, err = listen(cfg.Bind, cfg.QueryPort); err != nil {
		return nil, err
	}
	if lnFE, err = listen(cfg.Bind, cfg.HTTPPort); err != nil {
		return nil, err
	}
	if lnBE, err = listen(cfg.Bind, cfg.BEHTTPPort); err != nil {
		return nil, err
	}
	// The RPC port is reserved for the backend service of cluster mode.
	if s.rpc, err = listen(cfg.Bind, cfg.BERPCPort); err != nil {
		return nil, err
	}

	etcdStart := time.Now()
	s.etcd, err = meta.StartEmbedded(ctx, meta.EmbeddedConfig{
		DataDir: cfg.DataDir, Host: cfg.Bind, ClientPort: cfg.EtcdClientPort, PeerPort: cfg.EtcdPeerPort,
		LogLevel: cfg.EtcdLogLevel,
	})
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd: %w", err)
	}
	log.Debug("etcd started", "took", time.Since(etcdStart))
	store := meta.NewStore(s.etcd.Client())
	s.cat, err = catalog.Open(ctx, store, catalog.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("opening catalog: %w", err)
	}
	s.tabs, err = tabletstore.OpenWithOptions(filepath.Join(cfg.DataDir, "be"), tabletstore.Options{
		Logger: log, MaxVersions: cfg.MaxTabletVersionNum, StaleSweepTime: cfg.TabletRowsetStaleSweepTime,
	})
	if err != nil {
		return nil, fmt.Errorf("opening tablets: %w", err)
	}
	if cfg.PageCacheBytes > 0 {
		s.tabs.SetPageCache(storage.NewPageCache(cfg.PageCacheBytes))
	}
	s.cmpct = compaction.NewScheduler(s.tabs, compaction.Config{Logger: log, Workers: cfg.CompactionWorkers,
		BaseWriteBytesPerSec: int64(cfg.BaseCompactionWriteMBPerSec) << 20})
	s.cmpct.Start()
	s.metrics = newRegistry(s.cmpct)
	s.txns = txn.NewManager(store, s.cat, txn.Config{
		Self:             txn.Coordinator{Node: "embedded", Incarnation: uuid.NewString()},
		Publisher:        local.Publisher{S: s.tabs},
		Logger:           log,
		DefaultTimeout:   cfg.StreamLoadTimeout,
		PrecommitTimeout: cfg.PrecommitTimeout,
		LabelKeep:        cfg.LabelKeep,
		MaxRunningPerDB:  cfg.MaxRunningTxnsPerDB,
	})
	rep, err := s.txns.Recover(ctx)
	if err != nil {
		log.Warn("transaction recovery incomplete", "err", err)
	}
	if len(rep.Published)+len(rep.Aborted)+len(rep.Pending) > 0 {
		log.Info("recovered load transactions", "published", rep.Published, "aborted", rep.Aborted, "still_pending", rep.Pending)
	}
	// Pending rowsets whose transaction is gone or aborted are garbage.
	if err := s.cleanupPending(ctx); err != nil {
		log.Warn("cleaning pending rowsets", "err", err)
	}

	host := cfg.Bind
	if host == "" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	s.beAddr = net.JoinHostPort(host, strconv.Itoa(cfg.BEHTTPPort))
	backend := &sink.Sink{Catalog: s.cat, Txns: s.txns, Tablets: local.Writers{S: s.tabs}}
	eng := &session.Engine{Catalog: s.cat, Tablets: local.Reader{S: s.tabs}, Loads: backend, Txns: s.txns, Logger: log,
		TabletStats: s.tabletStats}
	s.eng = eng

	s.mysql = mysqlproto.NewServer(eng, mysqlproto.Options{Version: version.MySQLVersion, MaxConnections: cfg.MaxConnections, Logger: log})
	lcfg := loader.Config{
		BEHost:      host,
		BEHTTPPort:  cfg.BEHTTPPort,
		ErrorLogDir: filepath.Join(cfg.DataDir, "be", "error_log"),
		Logger:      log,

		DefaultTimeout: cfg.StreamLoadTimeout,
		TwoPhaseCommit: loader.NewTwoPhaseHandler(backend, log),
		CompileWhere: func(cols []catalog.Column, where string) (loader.RowFilter, error) {
			f, err := planner.CompileRowFilter(cols, where)
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			return f, nil
		},
	}
	api := httpapi.New(httpapi.Config{
		Catalog: s.cat, Txns: s.txns, Sessions: eng, Authenticate: backend.Authenticate,
		BackendHost: host, BackendHTTPPort: cfg.BEHTTPPort, Logger: log,
	})
	metrics := metricsHandler(s.metrics, log)
	lcfg.Extra = func(mux *http.ServeMux) {
		api.Register(mux)
		mux.Handle("GET /metrics", metrics)
	}
	feHandler, beHandler, err := loader.NewHandlers(backend, lcfg)
	if err != nil {
		return nil, err
	}
	s.feHTTP = &http.Server{Handler: feHandler, ReadHeaderTimeout: 60 * time.Second}
	s.beHTTP = &http.Server{Handler: s.beRoutes(beHandler), ReadHeaderTimeout: 60 * time.Second}

	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		defer close(s.done)
		s.maintain(runCtx)
	}()
	s.tabs.SetCompactionHold(eng.Converting)
	s.jobsDone = make(chan struct{})
	go func() {
		defer close(s.jobsDone)
		eng.RunAlterJobs(runCtx, session.AlterBackend{Writers: local.Writers{S: s.tabs}, Rebuild: s.tabs.PublishRebuild})
	}()
	go s.serve("mysql", func() error { return s.mysql.Serve(lnQuery) })
	go s.serve("fe http", func() error { return s.feHTTP.Serve(lnFE) })
	go s.serve("be http", func() error { return s.beHTTP.Serve(lnBE) })
	go s.acceptRPC()
	return s, nil
}

// beRoutes adds the routes only the BE HTTP port serves to the loader's
// BE handler: Doris's compaction endpoints.
func (s *Server) beRoutes(loader http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /api/compaction/show", compaction.ShowHandler(s.cmpct, s.inCatalog))
	mux.Handle("GET /api/compaction_score", compaction.ScoreHandler(s.cmpct))
	mux.Handle("/", loader)
	return mux
}

func listen(host string, port int) (net.Listener, error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return l, nil
}

func (s *Server) serve(name string, fn func() error) {
	if err := fn(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		s.log.Error("listener stopped", "listener", name, "err", err)
	}
}

// acceptRPC closes connections to the reserved RPC port until the backend
// service of cluster mode serves it.
func (s *Server) acceptRPC() {
	for {
		c, err := s.rpc.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// maintainInterval is how often transactions are checked for timeouts,
// label expiry and publishes to retry.
const maintainInterval = 10 * time.Second

// maintain runs transaction recovery periodically until ctx ends: it
// retries publishes that failed, aborts loads past their timeout and
// expires old labels, then drops the rowsets of aborted transactions.
func (s *Server) maintain(ctx context.Context) {
	t := time.NewTicker(maintainInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.txns.Recover(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("transaction maintenance", "err", err)
		}
		if err := s.cleanupPending(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("cleaning pending rowsets", "err", err)
		}
		s.dropOrphanTablets()
	}
}

// dropOrphanTablets deletes the tablets that no table of the catalog holds
// any more (their table was dropped). The store is listed before the
// catalog snapshot is taken, so a tablet created meanwhile is in the
// snapshot; and a tablet must be missing on two passes in a row before it
// goes. Only the maintenance goroutine calls it.
func (s *Server) dropOrphanTablets() {
	held := s.tabs.Tablets()
	live := map[int64]bool{}
	s.catalogTablets(func(id int64) bool {
		live[id] = true
		return true
	})
	next := map[int64]bool{}
	for _, id := range held {
		switch {
		case live[id]:
		case !s.orphans[id]:
			next[id] = true
		default:
			switch err := s.tabs.DropTablet(id); {
			case errors.Is(err, tabletstore.ErrTabletBusy):
				next[id] = true
			case err != nil:
				s.log.Warn("dropping the tablet of a dropped table", "tablet", id, "err", err)
			default:
				s.log.Info("dropped the tablet of a dropped table", "tablet", id)
			}
		}
	}
	s.orphans = next
}

// catalogTablets calls fn with every tablet of every index of every table
// in the current catalog snapshot, until fn returns false.
func (s *Server) catalogTablets(fn func(tabletID int64) bool) {
	snap := s.cat.Snapshot()
	for _, db := range snap.Databases() {
		tables, err := snap.Tables(db.Name)
		if err != nil {
			continue
		}
		for _, t := range tables {
			stop := false
			t.ForEachTablet(func(id int64) {
				stop = stop || !fn(id)
			})
			if stop {
				return
			}
		}
	}
}

// inCatalog reports whether a table of the catalog holds a tablet.
func (s *Server) inCatalog(tabletID int64) bool {
	found := false
	s.catalogTablets(func(id int64) bool {
		found = id == tabletID
		return !found
	})
	return found
}

// cleanupPending aborts the pending rowsets of transactions that will never
// commit: unknown, expired or aborted ones.
func (s *Server) cleanupPending(ctx context.Context) error {
	var errs []error
	var jobs map[int64]bool // ids alter jobs write converted rows under
	if s.eng != nil {
		jobs = s.eng.RunningJobTxns()
	}
	for _, id := range s.tabs.PendingTxns() {
		if jobs[id] {
			continue
		}
		t, err := s.txns.Get(ctx, id)
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
		if err := s.tabs.AbortTxn(id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// tabletStats sums what the tablet store holds of a tablet, and links its
// compaction status on the BE HTTP port.
func (s *Server) tabletStats(tabletID int64) session.TabletStats {
	st := session.TabletStats{
		CompactionStatus: fmt.Sprintf("http://%s/api/compaction/show?tablet_id=%d", s.beAddr, tabletID),
	}
	for _, rs := range s.tabs.Rowsets(tabletID) {
		st.Rowsets++
		st.Rows += rs.NumRows
		st.DataSize += rs.DataSize
	}
	return st
}

// Close stops the server: listeners, then storage, then etcd.
func (s *Server) Close() error {
	var errs []error
	if s.mysql != nil {
		errs = append(errs, s.mysql.Close())
	}
	shutdown := func(h *http.Server) {
		if h == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			// Long stream loads may still be sending; cut them.
			errs = append(errs, h.Close())
		}
	}
	shutdown(s.feHTTP)
	shutdown(s.beHTTP)
	if s.rpc != nil {
		s.rpc.Close()
	}
	if s.cancel != nil {
		s.cancel()
		<-s.done
		if s.jobsDone != nil {
			<-s.jobsDone
		}
	}
	if s.cat != nil {
		s.cat.Close()
	}
	if s.cmpct != nil {
		errs = append(errs, s.cmpct.Close())
	}
	if s.tabs != nil {
		errs = append(errs, s.tabs.Close())
	}
	if s.etcd != nil {
		s.etcd.Close()
	}
	return errors.Join(errs...)
}

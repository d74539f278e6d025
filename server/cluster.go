package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/strata-db/strata/be/service"
	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/failpoint"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/cluster"
	"github.com/strata-db/strata/fe/flightsql"
	"github.com/strata-db/strata/fe/httpapi"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/session"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/fe/txn/txnrpc"
	"github.com/strata-db/strata/loader"
	"github.com/strata-db/strata/mysqlproto"
	"github.com/strata-db/strata/rpc"
	"github.com/strata-db/strata/version"
)

// DefaultLeaseTTL is how long a process that stopped answering keeps its
// liveness key and, for the leader, the leadership.
const DefaultLeaseTTL = 10 * time.Second

// FrontendConfig configures `strata fe`.
type FrontendConfig struct {
	// Name identifies the frontend in the cluster (SHOW FRONTENDS); ""
	// means host_queryport.
	Name string
	// Bind is the address the listeners bind to; Host the one others
	// reach this frontend at ("" : Bind, or 127.0.0.1 for a wildcard).
	Bind, Host string
	QueryPort  int
	HTTPPort   int
	RPCPort    int
	// Etcd are the etcd cluster's client URLs.
	Etcd []string
	// DataDir holds what a frontend keeps on disk (error logs of loads it
	// runs, INSERTs).
	DataDir        string
	LeaseTTL       time.Duration
	MaxConnections int
	// MySQLTLS configures TLS on the MySQL port.
	MySQLTLS MySQLTLS
	Txn      TxnConfig
	// TabletCheckInterval is how often the leader checks the replicas;
	// ReplicaDeadGrace how long a backend may be down before its replicas
	// are made again elsewhere (0: the defaults).
	TabletCheckInterval time.Duration
	ReplicaDeadGrace    time.Duration
	Logger              *slog.Logger
	// AllowRemoteRootWithoutPassword admits root and admin with an empty
	// password from any address, not only from loopback.
	AllowRemoteRootWithoutPassword bool
	// FlightSQLPort serves Arrow Flight SQL (arrow_flight_sql_port); 0, as
	// in DefaultFrontendConfig, turns it off (`strata fe` defaults to 8070).
	FlightSQLPort int
	// EnableFailpoints serves /api/debug/failpoints on the HTTP port, which
	// arms the frontend's failpoints (txn/mid-publish,
	// alter/between-partitions) at run time; testing only.
	EnableFailpoints bool
}

// DefaultFrontendConfig returns Doris's default ports on loopback.
func DefaultFrontendConfig() FrontendConfig {
	return FrontendConfig{Bind: "127.0.0.1", QueryPort: 9030, HTTPPort: 8030, RPCPort: 9020, DataDir: "./strata-fe",
		Etcd: []string{"http://127.0.0.1:2379"}, LeaseTTL: DefaultLeaseTTL, MaxConnections: 1024}
}

// BackendConfig configures `strata be`.
type BackendConfig struct {
	DataDir    string
	Bind, Host string
	HTTPPort   int
	RPCPort    int
	// FE is host:port of a frontend's HTTP port, asked for the cluster's
	// etcd and this backend's id.
	FE       string
	LeaseTTL time.Duration
	Storage  StorageConfig
	// StreamLoadTimeout bounds a load without a timeout header.
	StreamLoadTimeout time.Duration
	Logger            *slog.Logger
	// AllowRemoteRootWithoutPassword admits stream loads of root and
	// admin with an empty password from any address, not only from
	// loopback.
	AllowRemoteRootWithoutPassword bool
}

// DefaultBackendConfig returns Doris's default ports on loopback.
func DefaultBackendConfig() BackendConfig {
	return BackendConfig{DataDir: "./strata-be", Bind: "127.0.0.1", HTTPPort: 8040, RPCPort: 8060, FE: "127.0.0.1:8030",
		LeaseTTL: DefaultLeaseTTL, Storage: StorageConfig{PageCacheBytes: physicalMemory() / 5}}
}

func advertised(bind, host string) string {
	if host != "" {
		return host
	}
	if bind == "" || bind == "0.0.0.0" || bind == "::" {
		return "127.0.0.1"
	}
	return bind
}

// Frontend is a running `strata fe`.
type Frontend struct {
	fe      *frontendNode
	log     *slog.Logger
	cli     *rpc.Client
	rpcSrv  *rpc.Server
	mysql   *mysqlproto.Server
	feHTTP  *http.Server
	closers []func()
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	// flightSQL serves Arrow Flight SQL; nil when its port is 0.
	flightSQL *flightsql.Server
}

// StartFrontend starts a frontend of a cluster: it joins the etcd cluster,
// serves SQL, HTTP and RPC, and campaigns for the leadership.
func StartFrontend(ctx context.Context, cfg FrontendConfig) (_ *Frontend, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	host := advertised(cfg.Bind, cfg.Host)
	if cfg.Name == "" {
		cfg.Name = fmt.Sprintf("%s_%d", host, cfg.QueryPort)
	}
	f := &Frontend{log: log}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	lnQuery, err := listen(cfg.Bind, cfg.QueryPort)
	if err != nil {
		return nil, err
	}
	f.closers = append(f.closers, func() { lnQuery.Close() })
	lnHTTP, err := listen(cfg.Bind, cfg.HTTPPort)
	if err != nil {
		return nil, err
	}
	f.closers = append(f.closers, func() { lnHTTP.Close() })
	lnRPC, err := listen(cfg.Bind, cfg.RPCPort)
	if err != nil {
		return nil, err
	}
	f.closers = append(f.closers, func() { lnRPC.Close() })
	var lnFlight net.Listener
	if cfg.FlightSQLPort > 0 {
		if lnFlight, err = listen(cfg.Bind, cfg.FlightSQLPort); err != nil {
			return nil, err
		}
		f.closers = append(f.closers, func() { lnFlight.Close() })
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating data dir: %w", err)
	}

	etcdCli, err := meta.Connect(cfg.Etcd)
	if err != nil {
		return nil, fmt.Errorf("connecting to etcd %v: %w", cfg.Etcd, err)
	}
	f.closers = append(f.closers, func() { etcdCli.Close() })
	cid, err := clusterID(ctx, etcdCli)
	if err != nil {
		return nil, err
	}
	f.cli = rpc.NewClient()
	info := cluster.Frontend{Name: cfg.Name, Host: host, HTTPPort: cfg.HTTPPort, QueryPort: cfg.QueryPort, RPCPort: cfg.RPCPort,
		StartTime: time.Now().UnixMilli(), Version: version.Version}
	fe := &frontendNode{log: log, name: cfg.Name, info: info, leaseTTL: cfg.LeaseTTL}
	f.fe = fe
	view := &clusterView{rpc: f.cli}
	incarnation := uuid.NewString()
	if err := openFrontendMeta(ctx, fe, meta.NewFencedStore(etcdCli), cfg.Txn, incarnation, newPublisher(view, nil, log)); err != nil {
		return nil, err
	}
	f.closers = append(f.closers, fe.reg.Close, fe.cat.Close)
	view.reg, view.cat = fe.reg, fe.cat
	fe.view = view

	txns := &txnrpc.Router{Local: fe.txns, Leading: fe.Leading, Remote: &txnrpc.Client{
		RPC: f.cli, Catalog: fe.cat, Logger: log,
		Leader: func(ctx context.Context) (string, error) { return leaderRPC(ctx, fe.store) },
	}}
	sk := replicatedSink(fe.cat, txns, view, log)
	accounts, err := openAuth(ctx, fe.store, cfg.AllowRemoteRootWithoutPassword, log)
	if err != nil {
		return nil, err
	}
	f.closers = append(f.closers, accounts.Close)
	authorizeLoads(sk, accounts)
	// The loads this frontend runs are recorded as its own, as the
	// manager records those it begins itself.
	self := txn.Coordinator{Node: cfg.Name, Incarnation: incarnation}
	sk.Coordinator = &self
	eng := &session.Engine{Catalog: fe.cat, Loads: sk, Txns: fe.txns, Logger: log,
		Cluster: fe.reg, FrontendName: cfg.Name, LeaderName: fe.leaderName, Leading: fe.Leading,
		Forward: forwarder(f.cli, fe.store), Remote: fragmentRunner(f.cli, view),
		TabletStats: clusterTabletStats(view)}
	eng.Auth = accounts
	fe.eng = eng

	f.rpcSrv = rpc.NewServer(log)
	txnrpc.Register(f.rpcSrv, fe.txns, fe.cat)
	registerForward(f.rpcSrv, eng)

	if f.mysql, err = mysqlServer(eng, mysqlproto.Options{Version: version.MySQLVersion, MaxConnections: cfg.MaxConnections, Logger: log}, cfg.MySQLTLS); err != nil {
		return nil, err
	}
	if lnFlight != nil {
		flightTLS, err := cfg.MySQLTLS.flightTLS()
		if err != nil {
			return nil, err
		}
		if f.flightSQL, err = flightsql.New(flightsql.Config{Sessions: eng, Authenticate: sk.Authenticate, Logger: log, TLSConfig: flightTLS}); err != nil {
			return nil, err
		}
	}
	eng.CloseConnection = f.mysql.CloseConnection
	lcfg := loader.Config{
		PickBackend:    view.pickHTTP,
		ErrorLogDir:    filepath.Join(cfg.DataDir, "error_log"),
		Logger:         log,
		DefaultTimeout: cfg.Txn.StreamLoadTimeout,
		TwoPhaseCommit: loader.NewTwoPhaseHandler(sk, log),
	}
	api := httpapi.New(httpapi.Config{
		Catalog: fe.cat, Txns: fe.txns, Sessions: eng, Authenticate: sk.Authenticate,
		Backends: func() []httpapi.Backend { return httpBackends(fe.reg) }, Logger: log,
	})
	reg := newRegistry(nil)
	registerFrontend(reg, fe)
	metrics := metricsHandler(reg, log)
	lcfg.Extra = func(mux *http.ServeMux) {
		api.Register(mux)
		mux.Handle("GET /metrics", metrics)
		mux.Handle("GET "+joinPath, joinHandler(cid, cfg.Etcd, fe.reg))
		mux.Handle("GET /api/cluster/checksum", checksumHandler(fe.cat, view))
		mux.Handle("/api/debug/failpoints", failpoint.Handler(cfg.EnableFailpoints))
	}
	feHandler, _, err := loader.NewHandlers(sk, lcfg)
	if err != nil {
		return nil, err
	}
	f.feHTTP = &http.Server{Handler: feHandler, ReadHeaderTimeout: 60 * time.Second}

	if fe.alive, err = meta.Register(ctx, etcdCli, cluster.FrontendAliveKey(cfg.Name), info, cfg.LeaseTTL, log); err != nil {
		return nil, err
	}
	f.closers = append(f.closers, fe.alive.Close)

	runCtx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	rep := &replicaScheduler{fe: fe, view: view, log: log, interval: cfg.TabletCheckInterval, deadGrace: cfg.ReplicaDeadGrace}
	if rep.interval <= 0 {
		rep.interval = DefaultCheckInterval
	}
	if rep.deadGrace <= 0 {
		rep.deadGrace = DefaultDeadGrace
	}
	alter := session.AlterBackend{Writers: &service.Replicated{C: view, Log: log}, Rebuild: replicatedRebuild(view)}
	el := meta.NewElector(fe.store, fe.leaderValue(), cfg.LeaseTTL, log)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		_ = el.Run(runCtx, func(lctx context.Context) { fe.lead(lctx, alter, rep.run) })
	}()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		abortStale(runCtx, fe.txns, txns, self, log)
	}()
	go serve(log, "rpc", func() error { return f.rpcSrv.Serve(lnRPC) })
	go serve(log, "mysql", func() error { return f.mysql.Serve(lnQuery) })
	if f.flightSQL != nil {
		go serve(log, "flight sql", func() error { return f.flightSQL.Serve(lnFlight) })
	}
	go serve(log, "fe http", func() error { return f.feHTTP.Serve(lnHTTP) })
	return f, nil
}

// Close stops the frontend: listeners, the leadership, then etcd.
func (f *Frontend) Close() error {
	var errs []error
	if f.mysql != nil {
		errs = append(errs, f.mysql.Close())
	}
	if f.flightSQL != nil {
		errs = append(errs, f.flightSQL.Close())
	}
	shutdownHTTP(f.feHTTP, &errs)
	if f.rpcSrv != nil {
		f.rpcSrv.Stop()
	}
	if f.cancel != nil {
		f.cancel()
		f.wg.Wait()
	}
	if f.cli != nil {
		errs = append(errs, f.cli.Close())
	}
	for i := len(f.closers) - 1; i >= 0; i-- {
		f.closers[i]()
	}
	return errors.Join(errs...)
}

// Backend is a running `strata be`.
type Backend struct {
	be      *backendNode
	log     *slog.Logger
	beHTTP  *http.Server
	closers []func()
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// StartBackend starts a backend of a cluster: it joins through the
// frontend at cfg.FE (waiting until ALTER SYSTEM ADD BACKEND added it),
// keeps its liveness lease in etcd, and serves its tablets over RPC and
// stream loads over HTTP.
func StartBackend(ctx context.Context, cfg BackendConfig) (_ *Backend, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	host := advertised(cfg.Bind, cfg.Host)
	b := &Backend{log: log}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating data dir: %w", err)
	}
	lnHTTP, err := listen(cfg.Bind, cfg.HTTPPort)
	if err != nil {
		return nil, err
	}
	b.closers = append(b.closers, func() { lnHTTP.Close() })
	lnRPC, err := listen(cfg.Bind, cfg.RPCPort)
	if err != nil {
		return nil, err
	}
	b.closers = append(b.closers, func() { lnRPC.Close() })

	jr, err := join(ctx, cfg.FE, host, cfg.RPCPort, cfg.DataDir, func(msg string, args ...any) { log.Info(msg, args...) })
	if err != nil {
		return nil, err
	}
	etcdCli, err := meta.Connect(jr.Etcd)
	if err != nil {
		return nil, fmt.Errorf("connecting to etcd %v: %w", jr.Etcd, err)
	}
	b.closers = append(b.closers, func() { etcdCli.Close() })

	node := &backendNode{id: jr.BackendID, dir: cfg.DataDir, log: log, host: host, http: cfg.HTTPPort, rpcPt: cfg.RPCPort, fpAPI: cfg.Storage.EnableFailpoints}
	b.be = node
	node.store = meta.NewStore(etcdCli)
	if node.reg, err = cluster.Open(ctx, node.store, log); err != nil {
		return nil, err
	}
	b.closers = append(b.closers, node.reg.Close)
	if node.cat, err = catalog.Open(ctx, node.store, catalog.Options{Logger: log}); err != nil {
		return nil, err
	}
	b.closers = append(b.closers, node.cat.Close)
	storage := cfg.Storage
	storage.strict = true
	if node.tabs, node.cmpct, err = openBackendStorage(filepath.Join(cfg.DataDir, "be"), storage, log); err != nil {
		return nil, err
	}
	b.closers = append(b.closers, func() { node.cmpct.Close(); node.tabs.Close() })
	node.tabs.SetCompactionHold((&buildingTablets{cat: node.cat}).held)
	node.svc = &service.Service{Store: node.tabs, Log: log, Stats: &service.Stats{}}
	node.clone = newCloneSource(node.svc, cfg.Storage.CloneMBPerSec)
	b.closers = append(b.closers, node.clone.Close)
	node.rpcCli = rpc.NewClient()
	b.closers = append(b.closers, func() { node.rpcCli.Close() })
	node.view = &clusterView{reg: node.reg, cat: node.cat, rpc: node.rpcCli, self: node.svc, selfID: node.id}
	node.reader = txn.NewManager(node.store, node.cat, txn.Config{})
	node.txns = &txnrpc.Client{RPC: node.rpcCli, Catalog: node.cat, Logger: log,
		Leader: func(ctx context.Context) (string, error) { return leaderRPC(ctx, node.store) }}
	node.sink = replicatedSink(node.cat, node.txns, node.view, log)
	accounts, err := openAuth(ctx, node.store, cfg.AllowRemoteRootWithoutPassword, log)
	if err != nil {
		return nil, err
	}
	b.closers = append(b.closers, accounts.Close)
	authorizeLoads(node.sink, accounts)
	self := txn.Coordinator{Node: fmt.Sprintf("be%d", node.id), Incarnation: uuid.NewString()}
	node.sink.Coordinator = &self

	node.rpcSrv = rpc.NewServer(log)
	node.registerRPC(node.rpcSrv)
	b.closers = append(b.closers, node.rpcSrv.Stop)

	lcfg := node.loaderConfig(cfg.StreamLoadTimeout)
	lcfg.Metrics = loader.NewMetrics()
	_, beHandler, err := loader.NewHandlers(node.sink, lcfg)
	if err != nil {
		return nil, err
	}
	b.beHTTP = &http.Server{Handler: node.beRoutes(beHandler, metricsHandler(backendMetrics(node, lcfg.Metrics), log)), ReadHeaderTimeout: 60 * time.Second}

	if err := node.register(ctx, cfg.LeaseTTL); err != nil {
		return nil, err
	}
	b.closers = append(b.closers, node.alive.Close)

	runCtx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	start := time.Now()
	b.wg.Add(2)
	go func() {
		defer b.wg.Done()
		node.refreshStatus(runCtx, start)
	}()
	go func() {
		defer b.wg.Done()
		abortStale(runCtx, node.reader, node.txns, self, log)
		t := time.NewTicker(maintainInterval)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
			}
			node.maintainBackend(runCtx, runningJobTxns(node.cat))
		}
	}()
	go serve(log, "rpc", func() error { return node.rpcSrv.Serve(lnRPC) })
	go serve(log, "be http", func() error { return b.beHTTP.Serve(lnHTTP) })
	log.Info("backend joined the cluster", "backend_id", node.id, "cluster", jr.ClusterID)
	return b, nil
}

// ID is the backend's id in the cluster.
func (b *Backend) ID() int64 { return b.be.id }

// Close stops the backend: listeners, its lease, then storage.
func (b *Backend) Close() error {
	var errs []error
	shutdownHTTP(b.beHTTP, &errs)
	if b.cancel != nil {
		b.cancel()
		b.wg.Wait()
	}
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
	return errors.Join(errs...)
}

func serve(log *slog.Logger, name string, fn func() error) {
	if err := fn(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) &&
		!strings.Contains(err.Error(), "use of closed network connection") {
		log.Error("listener stopped", "listener", name, "err", err)
	}
}

func shutdownHTTP(h *http.Server, errs *[]error) {
	if h == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Shutdown(ctx); err != nil {
		// Long stream loads may still be sending; cut them.
		*errs = append(*errs, h.Close())
	}
}

// httpBackends lists the backends for GET /api/backends.
func httpBackends(reg *cluster.Registry) []httpapi.Backend {
	var out []httpapi.Backend
	for _, b := range reg.Backends() {
		out = append(out, httpapi.Backend{Host: b.Host, HTTPPort: b.Status.HTTPPort, IsAlive: b.Alive && !b.Decommissioned})
	}
	return out
}

// fragmentRunner runs query fragments on the cluster's backends.
func fragmentRunner(cli *rpc.Client, view *clusterView) *service.FragmentRunner {
	idx := &replicaIndex{view: view}
	return &service.FragmentRunner{
		RPC:        cli,
		Addr:       view.addr,
		ReplicasOf: idx.replicas,
	}
}

// replicaIndex maps tablets to the backends holding them, rebuilt when the
// catalog's tables change.
type replicaIndex struct {
	view *clusterView
	mu   sync.Mutex
	rev  int64
	m    map[int64][]int64
}

// replicas lists the backends of a tablet that may serve reads, the alive
// ones first, starting at a different one for each tablet so that reads
// spread over the replicas.
func (x *replicaIndex) replicas(tabletID int64) []int64 {
	snap := x.view.cat.Snapshot()
	x.mu.Lock()
	if x.m == nil || x.rev != snap.Revision() {
		x.m = map[int64][]int64{}
		for _, t := range allTablesOf(snap) {
			for _, p := range t.Partitions {
				for b, id := range p.Tablets {
					x.m[id] = p.BucketBackends(b)
				}
				for _, ids := range p.IndexTablets {
					for b, id := range ids {
						x.m[id] = p.BucketBackends(b)
					}
				}
			}
		}
		x.rev = snap.Revision()
	}
	bes := x.m[tabletID]
	x.mu.Unlock()
	if len(bes) == 0 {
		return nil
	}
	out := make([]int64, 0, len(bes))
	start := int(tabletID % int64(len(bes)))
	for i := range bes {
		out = append(out, bes[(start+i)%len(bes)])
	}
	slices.SortStableFunc(out, func(a, b int64) int {
		aa, ba := x.view.reg.Alive(a), x.view.reg.Alive(b)
		switch {
		case aa == ba:
			return 0
		case aa:
			return -1
		}
		return 1
	})
	return out
}

// runningJobTxns lists, at each call, the ids under which the catalog's
// unfinished alter jobs write converted rows.
func runningJobTxns(cat *catalog.Catalog) func() map[int64]bool {
	return func() map[int64]bool { return cat.Snapshot().RunningJobTxns() }
}

func allTablesOf(snap *catalog.Snapshot) []*catalog.Table {
	var out []*catalog.Table
	for _, db := range snap.Databases() {
		ts, err := snap.Tables(db.Name)
		if err == nil {
			out = append(out, ts...)
		}
	}
	return out
}

// replicatedRebuild installs an alter job's converted rows on every replica
// of an index tablet; a majority must take them.
func replicatedRebuild(view *clusterView) func(tabletID, txnID, version int64, at sink.Placement) error {
	return func(tabletID, txnID, version int64, at sink.Placement) error {
		bes := at.Backends
		if len(bes) == 0 {
			bes = view.Alive()
		}
		var errs []error
		ok := 0
		for _, id := range bes {
			be, err := view.Backend(id)
			if err == nil {
				err = be.Rebuild(context.Background(), tabletID, txnID, version)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("backend %d: %w", id, err))
				continue
			}
			ok++
		}
		if ok < service.Majority(len(bes)) {
			return fmt.Errorf("rebuilding tablet %d: %w", tabletID, errors.Join(errs...))
		}
		return nil
	}
}

// clusterTabletStats describes each replica of the tablets for SHOW
// TABLETS from its backend's tablet report.
func clusterTabletStats(view *clusterView) func(map[int64][]int64) map[int64][]session.TabletStats {
	return func(tablets map[int64][]int64) map[int64][]session.TabletStats {
		reports := map[int64]map[int64]tabletstore.TabletInfo{}
		errs := map[int64]string{}
		for _, bes := range tablets {
			for _, id := range bes {
				if _, ok := reports[id]; ok {
					continue
				}
				if _, ok := errs[id]; ok {
					continue
				}
				be, err := view.Backend(id)
				var rep []tabletstore.TabletInfo
				if err == nil {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					rep, err = be.Report(ctx)
					cancel()
				}
				if err != nil {
					errs[id] = err.Error()
					continue
				}
				m := make(map[int64]tabletstore.TabletInfo, len(rep))
				for _, ti := range rep {
					m[ti.TabletID] = ti
				}
				reports[id] = m
			}
		}
		out := make(map[int64][]session.TabletStats, len(tablets))
		for tablet, bes := range tablets {
			for _, id := range bes {
				st := session.TabletStats{Backend: id, Err: errs[id]}
				if b, ok := view.reg.Backend(id); ok && b.Alive {
					st.CompactionStatus = fmt.Sprintf("http://%s/api/compaction/show?tablet_id=%d", b.HTTPAddr(), tablet)
				}
				if ti, ok := reports[id][tablet]; ok {
					st.Version, st.Rowsets, st.Rows, st.DataSize = ti.Version, ti.Rowsets, ti.Rows, ti.DataSize
				} else if st.Err == "" {
					st.Version = 1 // nothing held: a partition's empty initial version
				}
				out[tablet] = append(out[tablet], st)
			}
		}
		return out
	}
}

// ReplicaChecksum is one replica's checksum in GET /api/cluster/checksum.
type ReplicaChecksum struct {
	Backend int64  `json:"backend"`
	Sum     uint64 `json:"sum"`
	Rows    int64  `json:"rows"`
	Error   string `json:"error,omitempty"`
}

// TabletChecksums are a tablet's replicas' checksums at its partition's
// visible version.
type TabletChecksums struct {
	Tablet   int64             `json:"tablet"`
	Version  int64             `json:"version"`
	Replicas []ReplicaChecksum `json:"replicas"`
}

// checksumHandler serves GET /api/cluster/checksum?db=D&table=T: every
// replica of every tablet of the table (all indexes), checksummed by its
// backend at the partition's visible version, so that an operator (or a
// test) can see the replicas agree.
func checksumHandler(cat *catalog.Catalog, view *clusterView) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := cat.Snapshot().Table(r.URL.Query().Get("db"), r.URL.Query().Get("table"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		var out []TabletChecksums
		for _, p := range t.Partitions {
			add := func(b int, tablet int64) {
				tc := TabletChecksums{Tablet: tablet, Version: p.VisibleVersion}
				bes := p.BucketBackends(b)
				if len(bes) == 0 {
					bes = view.Alive()
				}
				for _, id := range bes {
					rc := ReplicaChecksum{Backend: id}
					be, err := view.Backend(id)
					var res service.ChecksumResult
					if err == nil {
						res, err = be.Checksum(r.Context(), tablet, p.VisibleVersion)
					}
					if err != nil {
						rc.Error = err.Error()
					}
					rc.Sum, rc.Rows = res.Sum, res.Rows
					tc.Replicas = append(tc.Replicas, rc)
				}
				out = append(out, tc)
			}
			for b, tablet := range p.Tablets {
				add(b, tablet)
			}
			for _, ids := range p.IndexTablets {
				for b, tablet := range ids {
					add(b, tablet)
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}

// abortStale aborts the loads an earlier run of this process began and
// could not finish: PREPARE transactions recorded with this node and
// another incarnation. (The leader's recovery does this for loads it ran
// itself; loads run by backends and followers are theirs to abort.)
func abortStale(ctx context.Context, reader *txn.Manager, txns sink.TxnService, self txn.Coordinator, log *slog.Logger) {
	running, err := reader.ListRunning(ctx, 0)
	if err != nil {
		log.Warn("listing the loads of an earlier run", "err", err)
		return
	}
	for _, t := range running {
		if t.Status != txn.StatusPrepare || t.Coordinator.Node != self.Node || t.Coordinator.Incarnation == self.Incarnation {
			continue
		}
		if err := txns.Abort(ctx, t.ID, "the process running the load restarted"); err != nil {
			log.Warn("aborting a load of an earlier run", "txn", t.ID, "err", err)
			continue
		}
		log.Info("aborted a load of an earlier run", "txn", t.ID, "label", t.Label)
	}
}

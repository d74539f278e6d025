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
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-db/strata/be/local"
	"github.com/strata-db/strata/be/service"
	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/compaction"
	"github.com/strata-db/strata/failpoint"
	"github.com/strata-db/strata/fe/auth"
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

// Config configures the embedded server.
type Config struct {
	DataDir        string
	Bind           string
	QueryPort      int
	HTTPPort       int
	BEHTTPPort     int
	BERPCPort      int
	FlightSQLPort  int // Arrow Flight SQL (arrow_flight_sql_port); 0: off, as in DefaultConfig
	EtcdClientPort int
	EtcdPeerPort   int
	Logger         *slog.Logger
	// MaxConnections bounds MySQL connections.
	MaxConnections int
	// MySQLTLS configures TLS on the MySQL port.
	MySQLTLS MySQLTLS
	// EtcdLogLevel is the embedded etcd's own log level (zap: debug, info,
	// warn, error, fatal). It logs JSON to stderr; the default keeps it
	// quiet, because a fresh single member logs alarming but harmless
	// errors on every start.
	EtcdLogLevel string
	// AllowRemoteRootWithoutPassword admits root and admin with an empty
	// password from any address, not only from loopback.
	AllowRemoteRootWithoutPassword bool
	// TxnConfig configures load transactions, StorageConfig the backend's
	// storage, as for `strata fe` and `strata be`.
	TxnConfig
	StorageConfig
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
		StorageConfig:  StorageConfig{PageCacheBytes: physicalMemory() / 5}, // Doris's default: 20%
	}
}

// Server is a running embedded server: a frontend and a backend in one
// process, over an embedded single-member etcd. They run the code of a
// cluster's `strata fe` and `strata be`: the frontend campaigns for (and
// wins) the leadership, its writes are fenced, the backend holds a
// liveness lease and is a backend of the registry; they call each other
// in process instead of over RPC.
type Server struct {
	cfg   Config
	log   *slog.Logger
	etcd  *meta.Embedded
	cat   *catalog.Catalog
	txns  *txn.Manager
	tabs  *tabletstore.Store
	cmpct *compaction.Scheduler
	fe    *frontendNode
	be    *backendNode
	// metrics is the process's metrics registry (see newRegistry).
	metrics *prometheus.Registry
	// beAddr is host:port of the BE HTTP port, as clients reach it.
	beAddr string
	mysql  *mysqlproto.Server
	feHTTP *http.Server
	beHTTP *http.Server
	rpc    net.Listener
	rpcCli *rpc.Client
	// eng runs SQL sessions and the alter jobs.
	eng    *session.Engine
	cancel context.CancelFunc
	done   chan struct{}
	// leadDone is closed when the leadership's goroutine ends.
	leadDone chan struct{}

	// auth holds the users and their privileges.
	auth *auth.Store

	// flightSQL serves Arrow Flight SQL; nil when its port is 0.
	flightSQL *flightsql.Server
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
	var lnQuery, lnFE, lnBE, lnFlight net.Listener
	defer func() {
		if err == nil {
			return
		}
		for _, l := range []net.Listener{lnQuery, lnFE, lnBE, lnFlight} {
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
	// The RPC port is the backend's address in the registry; the embedded
	// server's own calls do not go through it.
	if s.rpc, err = listen(cfg.Bind, cfg.BERPCPort); err != nil {
		return nil, err
	}
	if cfg.FlightSQLPort > 0 {
		if lnFlight, err = listen(cfg.Bind, cfg.FlightSQLPort); err != nil {
			return nil, err
		}
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
	host := advertised(cfg.Bind, "")
	s.beAddr = net.JoinHostPort(host, strconv.Itoa(cfg.BEHTTPPort))

	// The backend's storage, then the frontend's metadata over the fenced
	// store, whose publisher reaches the backend in process.
	s.tabs, s.cmpct, err = openBackendStorage(filepath.Join(cfg.DataDir, "be"), cfg.StorageConfig, log)
	if err != nil {
		return nil, err
	}
	s.metrics = newRegistry(s.cmpct)
	s.rpcCli = rpc.NewClient()
	svc := &service.Service{Store: s.tabs, Log: log, Stats: &service.Stats{}}
	view := &clusterView{rpc: s.rpcCli, self: svc}
	name := "embedded"
	fe := &frontendNode{log: log, name: name, leaseTTL: DefaultLeaseTTL, info: cluster.Frontend{Name: name, Host: host, HTTPPort: cfg.HTTPPort,
		QueryPort: cfg.QueryPort, RPCPort: cfg.BERPCPort, StartTime: time.Now().UnixMilli(), Version: version.Version}}
	s.fe = fe
	tcfg := cfg.TxnConfig
	if err := openFrontendMeta(ctx, fe, meta.NewFencedStore(s.etcd.Client()), tcfg, uuid.NewString(),
		newPublisher(view, local.Publisher{S: s.tabs}, log)); err != nil {
		return nil, fmt.Errorf("opening catalog: %w", err)
	}
	s.cat, s.txns = fe.cat, fe.txns
	view.reg, view.cat = fe.reg, fe.cat
	fe.view = view
	// Tablets written before the backend tracked versions take their
	// partition's visible version (a single backend holds every one),
	// before recovery publishes anything.
	if err := s.tabs.AdoptVersions(visibleVersions(fe.cat)); err != nil {
		return nil, fmt.Errorf("adopting tablet versions: %w", err)
	}

	txns := &txnrpc.Router{Local: fe.txns, Leading: fe.Leading}
	backend := &sink.Sink{Catalog: fe.cat, Txns: txns, Tablets: local.Writers{S: s.tabs}}
	if s.auth, err = openAuth(ctx, fe.store, cfg.AllowRemoteRootWithoutPassword, log); err != nil {
		return nil, fmt.Errorf("opening accounts: %w", err)
	}
	authorizeLoads(backend, s.auth)
	eng := &session.Engine{Catalog: fe.cat, Tablets: local.Reader{S: s.tabs}, Loads: backend, Txns: fe.txns, Logger: log,
		TabletStats: s.tabletStats, Cluster: fe.reg, FrontendName: name, LeaderName: fe.leaderName}
	eng.Auth = s.auth
	s.eng = eng
	fe.eng = eng
	s.tabs.SetCompactionHold(eng.Converting)

	// The leadership, at once: a single frontend wins its election as
	// soon as it campaigns. The leader's work starts with transaction
	// recovery, before any listener serves.
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	led := make(chan struct{})
	var ledOnce sync.Once
	el := meta.NewElector(fe.store, fe.leaderValue(), DefaultLeaseTTL, log)
	alterBE := session.AlterBackend{Writers: local.Writers{S: s.tabs}, Rebuild: func(tablet, txn, v int64, _ sink.Placement) error {
		return s.tabs.PublishRebuild(tablet, txn, v)
	}}
	s.leadDone = make(chan struct{})
	go func() {
		defer close(s.leadDone)
		_ = el.Run(runCtx, func(lctx context.Context) {
			ledOnce.Do(func() { close(led) })
			fe.lead(lctx, alterBE, func(ctx context.Context) {
				<-ctx.Done()
			})
		})
	}()
	select {
	case <-led:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		return nil, errors.New("the embedded frontend did not win its election")
	}
	id, err := s.embeddedBackend(ctx, host)
	if err != nil {
		return nil, err
	}
	view.selfID = id
	be := &backendNode{id: id, dir: filepath.Join(cfg.DataDir, "be"), log: log, host: host, http: cfg.BEHTTPPort, rpcPt: cfg.BERPCPort, fpAPI: cfg.EnableFailpoints,
		tabs: s.tabs, cmpct: s.cmpct, svc: svc, store: fe.store, cat: fe.cat, reg: fe.reg, view: view, reader: fe.txns}
	s.be = be
	if err := be.register(ctx, DefaultLeaseTTL); err != nil {
		return nil, err
	}
	// The registry's watch shows the backend alive a moment after its key
	// is written; until then CREATE TABLE would find no backend to place
	// replicas on.
	if err := waitAlive(ctx, fe.reg, id); err != nil {
		return nil, err
	}
	// Pending rowsets whose transaction is gone or aborted are garbage.
	if err := be.cleanupPending(ctx, nil); err != nil {
		log.Warn("cleaning pending rowsets", "err", err)
	}

	be.sink = backend

	if s.mysql, err = mysqlServer(eng, mysqlproto.Options{Version: version.MySQLVersion, MaxConnections: cfg.MaxConnections, Logger: log}, cfg.MySQLTLS); err != nil {
		return nil, err
	}
	if lnFlight != nil {
		flightTLS, err := cfg.MySQLTLS.flightTLS()
		if err != nil {
			return nil, err
		}
		if s.flightSQL, err = flightsql.New(flightsql.Config{Sessions: eng, Authenticate: backend.Authenticate, Logger: log, TLSConfig: flightTLS}); err != nil {
			return nil, err
		}
	}
	eng.CloseConnection = s.mysql.CloseConnection
	lcfg := be.loaderConfig(cfg.StreamLoadTimeout)
	lcfg.ErrorLogDir = filepath.Join(cfg.DataDir, "be", "error_log")
	lcfg.Metrics = registerEmbedded(s.metrics, fe, s.tabs, svc.Stats)
	api := httpapi.New(httpapi.Config{
		Catalog: fe.cat, Txns: fe.txns, Sessions: eng, Authenticate: backend.Authenticate,
		BackendHost: host, BackendHTTPPort: cfg.BEHTTPPort, Logger: log,
	})
	metrics := metricsHandler(s.metrics, log)
	lcfg.Extra = func(mux *http.ServeMux) {
		api.Register(mux)
		mux.Handle("GET /metrics", metrics)
		mux.Handle("/api/debug/failpoints", failpoint.Handler(cfg.EnableFailpoints))
	}
	feHandler, beHandler, err := loader.NewHandlers(backend, lcfg)
	if err != nil {
		return nil, err
	}
	s.feHTTP = &http.Server{Handler: feHandler, ReadHeaderTimeout: 60 * time.Second}
	s.beHTTP = &http.Server{Handler: be.beRoutes(beHandler, nil), ReadHeaderTimeout: 60 * time.Second}

	go func() {
		defer close(s.done)
		s.maintain(runCtx)
	}()
	go s.serve("mysql", func() error { return s.mysql.Serve(lnQuery) })
	if s.flightSQL != nil {
		go s.serve("flight sql", func() error { return s.flightSQL.Serve(lnFlight) })
	}
	go s.serve("fe http", func() error { return s.feHTTP.Serve(lnFE) })
	go s.serve("be http", func() error { return s.beHTTP.Serve(lnBE) })
	go s.acceptRPC()
	return s, nil
}

// embeddedBackend returns the id of the backend in this process, adding it
// to the registry at the first start. Its id is kept in the backend's data
// directory, and the registry follows a change of the RPC port.
func (s *Server) embeddedBackend(ctx context.Context, host string) (int64, error) {
	dir := filepath.Join(s.cfg.DataDir, "be")
	id, ok, err := readIdentity(dir)
	if err != nil {
		return 0, err
	}
	if ok {
		if b, found := s.fe.reg.Backend(id.BackendID); found && (b.Host != host || b.Port != s.cfg.BERPCPort) {
			if err := s.fe.reg.SetAddr(ctx, id.BackendID, host, s.cfg.BERPCPort); err != nil {
				return 0, err
			}
		}
		if _, found := s.fe.reg.Backend(id.BackendID); found {
			return id.BackendID, nil
		}
	}
	bid, err := s.fe.reg.AddBackend(ctx, host, s.cfg.BERPCPort)
	if errors.Is(err, cluster.ErrBackendExists) {
		b, _ := s.fe.reg.BackendByAddr(host, s.cfg.BERPCPort)
		bid, err = b.ID, nil
	}
	if err != nil {
		return 0, fmt.Errorf("adding the embedded backend: %w", err)
	}
	cid, err := clusterID(ctx, s.etcd.Client())
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	return bid, writeIdentity(dir, identity{ClusterID: cid, BackendID: bid})
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

// acceptRPC closes connections to the RPC port: the embedded server's
// frontend and backend call each other in process.
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

// maintain drops, periodically until ctx ends, the rowsets of aborted
// transactions and the tablets of dropped tables. (The leader's work
// retries publishes, aborts loads past their timeout and expires labels.)
func (s *Server) maintain(ctx context.Context) {
	t := time.NewTicker(maintainInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.be.maintainBackend(ctx, s.eng.RunningJobTxns)
	}
}

// dropOrphanTablets deletes the tablets no table of the catalog holds any
// more; see backendNode.dropOrphanTablets.
func (s *Server) dropOrphanTablets() { s.be.dropOrphanTablets() }

// tabletStats sums what the tablet store holds of each tablet, and links
// its compaction status on the BE HTTP port.
func (s *Server) tabletStats(tablets map[int64][]int64) map[int64][]session.TabletStats {
	out := make(map[int64][]session.TabletStats, len(tablets))
	for id := range tablets {
		st := session.TabletStats{
			Backend:          s.be.id,
			CompactionStatus: fmt.Sprintf("http://%s/api/compaction/show?tablet_id=%d", s.beAddr, id),
		}
		st.Version, _ = s.tabs.TabletVersion(id)
		for _, rs := range s.tabs.Rowsets(id) {
			st.Rowsets++
			st.Rows += rs.NumRows
			st.DataSize += rs.DataSize
			st.Version = max(st.Version, rs.EndVersion)
		}
		out[id] = []session.TabletStats{st}
	}
	return out
}

// Close stops the server: listeners, the leadership, then storage, then
// etcd.
func (s *Server) Close() error {
	var errs []error
	if s.mysql != nil {
		errs = append(errs, s.mysql.Close())
	}
	if s.flightSQL != nil {
		errs = append(errs, s.flightSQL.Close())
	}
	shutdownHTTP(s.feHTTP, &errs)
	shutdownHTTP(s.beHTTP, &errs)
	if s.rpc != nil {
		s.rpc.Close()
	}
	if s.cancel != nil {
		s.cancel()
		<-s.done
		if s.leadDone != nil {
			<-s.leadDone
		}
	}
	if s.be != nil && s.be.alive != nil {
		s.be.alive.Close()
	}
	if s.rpcCli != nil {
		s.rpcCli.Close()
	}
	if s.auth != nil {
		s.auth.Close()
	}
	if s.fe != nil {
		if s.fe.cat != nil {
			s.fe.cat.Close()
		}
		if s.fe.reg != nil {
			s.fe.reg.Close()
		}
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

// visibleVersions maps every tablet of the catalog to its partition's
// visible version.
func visibleVersions(cat *catalog.Catalog) map[int64]int64 {
	out := map[int64]int64{}
	for _, t := range allTables(cat) {
		for _, p := range t.Partitions {
			for _, id := range p.Tablets {
				out[id] = p.VisibleVersion
			}
			for _, ids := range p.IndexTablets {
				for _, id := range ids {
					out[id] = p.VisibleVersion
				}
			}
		}
	}
	return out
}

// waitAlive waits until the registry shows backend id alive.
func waitAlive(ctx context.Context, reg *cluster.Registry, id int64) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		ch := reg.Changed()
		if reg.Alive(id) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for backend %d to show alive: %w", id, ctx.Err())
		}
	}
}

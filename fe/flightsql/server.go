package flightsql

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	afs "github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/strata-db/strata/mysqlproto"
	"github.com/strata-db/strata/version"
)

// FirstConnID is the first connection id of a Flight SQL session. MySQL
// connections count up from 1, so the two ranges meet only after 2^31
// MySQL connections.
const FirstConnID uint32 = 1 << 31

// SessionFactory opens SQL sessions; session.Engine is one.
type SessionFactory interface {
	// NewSession opens the session of an authenticated client; db is its
	// first database ("" for none).
	NewSession(connID uint32, user, host, db string) (mysqlproto.Session, error)
}

// Config configures a [Server]. Sessions and Authenticate are required;
// every other zero value has a default.
type Config struct {
	Sessions SessionFactory
	// Authenticate checks the HTTP Basic credentials of a handshake; host is
	// the client's IP address. A non-nil error refuses the login.
	Authenticate func(user, password, host string) error
	// IdleTimeout closes a session that made no call for this long
	// (default 1h).
	IdleTimeout time.Duration
	// ResultTimeout closes a result whose ticket was not fetched within
	// this long of the statement (default 5m).
	ResultTimeout time.Duration
	// MaxSessions bounds the open sessions (default 1024); a handshake
	// beyond it fails with ResourceExhausted.
	MaxSessions int
	// MaxPendingResults bounds the results of one session that wait for
	// their DoGet (default 16).
	MaxPendingResults int
	// StopGrace is how long Close lets running calls finish before it
	// cancels them (default 5s).
	StopGrace time.Duration
	// Logger receives session events and recovered panics (default
	// slog.Default()).
	Logger *slog.Logger
	// Allocator allocates the metadata results and IPC buffers (default
	// memory.DefaultAllocator).
	Allocator memory.Allocator
	// TLSConfig, when set, makes the port serve TLS only (gRPC cannot
	// offer it alongside plain connections on one port).
	TLSConfig *tls.Config
}

// Server serves Flight SQL. Its methods are called by gRPC, concurrently.
type Server struct {
	afs.BaseServer

	// Immutable after New.
	cfg   Config
	log   *slog.Logger
	alloc memory.Allocator
	grpc  *grpc.Server
	// ctx is the parent of every statement's context; cancel ends them all.
	ctx    context.Context
	cancel context.CancelFunc
	stop   chan struct{} // closed by Close: ends the janitor
	wg     sync.WaitGroup

	nextConn atomic.Uint32

	mu       sync.Mutex // protects following fields
	closed   bool
	clients  map[string]*client // by bearer token
	opening  int                // handshakes holding a session slot, not yet in clients
	results  map[handle]*pending
	prepared map[handle]*prepared
}

// New returns a server; Serve it on a listener.
func New(cfg Config) (*Server, error) {
	if cfg.Sessions == nil || cfg.Authenticate == nil {
		return nil, errors.New("flightsql: Config.Sessions and Config.Authenticate are required")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = time.Hour
	}
	if cfg.ResultTimeout <= 0 {
		cfg.ResultTimeout = 5 * time.Minute
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 1024
	}
	if cfg.MaxPendingResults <= 0 {
		cfg.MaxPendingResults = 16
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Allocator == nil {
		cfg.Allocator = memory.DefaultAllocator
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		alloc:    cfg.Allocator,
		stop:     make(chan struct{}),
		clients:  map[string]*client{},
		results:  map[handle]*pending{},
		prepared: map[handle]*prepared{},
	}
	s.BaseServer.Alloc = cfg.Allocator
	s.nextConn.Store(FirstConnID - 1)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.registerSQLInfo(); err != nil {
		return nil, err
	}
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(s.unaryInterceptor),
		grpc.ChainStreamInterceptor(s.streamInterceptor),
	}
	if cfg.TLSConfig != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg.TLSConfig)))
	}
	s.grpc = grpc.NewServer(opts...)
	flight.RegisterFlightServiceServer(s.grpc, &service{FlightServer: afs.NewFlightServerWithAllocator(s, s.alloc), s: s})
	s.wg.Add(1)
	go s.janitor()
	return s, nil
}

func (s *Server) registerSQLInfo() error {
	infos := []struct {
		id  afs.SqlInfo
		val any
	}{
		{afs.SqlInfoFlightSqlServerName, "Strata"},
		{afs.SqlInfoFlightSqlServerVersion, version.Version},
		{afs.SqlInfoFlightSqlServerArrowVersion, "18"},
		{afs.SqlInfoFlightSqlServerReadOnly, false},
		{afs.SqlInfoFlightSqlServerSql, true},
		{afs.SqlInfoFlightSqlServerSubstrait, false},
		{afs.SqlInfoFlightSqlServerTransaction, int32(afs.SqlTransactionNone)},
		{afs.SqlInfoFlightSqlServerCancel, false},
		{afs.SqlInfoFlightSqlServerBulkIngestion, false},
		{afs.SqlInfoTransactionsSupported, false},
		{afs.SqlInfoDDLCatalog, false},
		{afs.SqlInfoDDLSchema, true},
		{afs.SqlInfoIdentifierQuoteChar, "`"},
	}
	for _, in := range infos {
		if err := s.RegisterSqlInfo(in.id, in.val); err != nil {
			return err
		}
	}
	return nil
}

// Serve accepts connections on l until l or the server is closed; it
// returns nil after Close.
func (s *Server) Serve(l net.Listener) error {
	err := s.grpc.Serve(l)
	if errors.Is(err, grpc.ErrServerStopped) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Close stops accepting calls, lets running ones finish for up to
// Config.StopGrace, cancels the rest, and closes every session and result.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	s.wg.Wait()

	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(stopped)
	}()
	t := time.NewTimer(s.cfg.StopGrace)
	defer t.Stop()
	select {
	case <-stopped:
	case <-t.C:
		s.cancel()
		s.grpc.Stop()
		<-stopped
	}
	s.cancel()

	s.mu.Lock()
	results, preps, clients := s.results, s.prepared, s.clients
	s.results, s.prepared, s.clients = map[handle]*pending{}, map[handle]*prepared{}, map[string]*client{}
	s.mu.Unlock()
	for _, p := range results {
		p.close()
	}
	for _, p := range preps {
		p.c.closePrepared(p)
	}
	for _, c := range clients {
		c.close()
	}
	return nil
}

// NumSessions returns the number of open sessions.
func (s *Server) NumSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// janitor closes, until Close, the results nobody fetched in time and
// the sessions idle for too long.
func (s *Server) janitor() {
	defer s.wg.Done()
	every := min(s.cfg.ResultTimeout, s.cfg.IdleTimeout) / 4
	every = min(max(every, 10*time.Millisecond), 10*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.sweep(time.Now())
	}
}

// sweep closes what expired by now.
func (s *Server) sweep(now time.Time) {
	var results []*pending
	var preps []*prepared
	var clients []*client
	s.mu.Lock()
	for h, p := range s.results {
		if now.After(p.expires) {
			delete(s.results, h)
			results = append(results, p)
		}
	}
	for tok, c := range s.clients {
		if c.active.Load() > 0 || now.Sub(time.Unix(0, c.lastUsed.Load())) < s.cfg.IdleTimeout || s.hasResultsLocked(c) {
			continue
		}
		delete(s.clients, tok)
		clients = append(clients, c)
		for h, p := range s.prepared {
			if p.c == c {
				delete(s.prepared, h)
				preps = append(preps, p)
			}
		}
	}
	s.mu.Unlock()
	for _, p := range results {
		s.log.Info("flight sql result expired unfetched", "conn", p.c.connID)
		p.close()
	}
	for _, p := range preps {
		p.c.closePrepared(p)
	}
	for _, c := range clients {
		s.log.Info("flight sql session expired", "conn", c.connID, "user", c.user)
		c.close()
	}
}

func (s *Server) hasResultsLocked(c *client) bool {
	for _, p := range s.results {
		if p.c == c {
			return true
		}
	}
	return false
}

package mysqlproto

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a [Server]. The zero value of every field has a default.
type Options struct {
	// Version is the server version of the handshake ("5.7.99").
	Version string
	// MaxConnections bounds the connections served at once (default 4096).
	MaxConnections int
	// ConnWait is how long an accepted connection waits for a free slot
	// before it is refused with "Too many connections" (default 5s).
	ConnWait time.Duration
	// MaxPacketSize bounds the payload of one client command (default 64 MiB,
	// MySQL's max_allowed_packet default).
	MaxPacketSize int
	// HandshakeTimeout bounds the time from accept to a finished login
	// (default 10s).
	HandshakeTimeout time.Duration
	// Logger receives connection errors and recovered panics (default
	// slog.Default()).
	Logger *slog.Logger

	// TLSConfig, when set, offers TLS: the handshake advertises CLIENT_SSL
	// and a client's SSLRequest is answered with a TLS handshake using this
	// configuration, which must provide a certificate. Nil offers no TLS.
	TLSConfig *tls.Config
	// RequireSecureTransport refuses logins over connections without TLS
	// with error 3159, like MySQL's require_secure_transport. Without
	// TLSConfig it refuses every login.
	RequireSecureTransport bool
	// AuthPlugin is the authentication plugin the handshake names:
	// "mysql_native_password" (the default) or "caching_sha2_password".
	// Clients answer with the plugin they prefer, and either is accepted
	// whatever is named here; naming caching_sha2_password makes clients
	// that follow the server's choice (go-sql-driver/mysql) use it.
	AuthPlugin string
	// RSAKey decrypts the passwords caching_sha2_password clients send
	// without TLS; clients may ask for its public half. The default is a
	// 2048-bit key generated once per Server, when it is first needed.
	RSAKey *rsa.PrivateKey
}

// Server accepts MySQL connections and serves them with a [Handler].
type Server struct {
	h    Handler
	opts Options
	log  *slog.Logger
	sem  chan struct{} // one token per live connection

	rsaKey func() (*rsaKey, error) // generates or wraps Options.RSAKey once

	nextID atomic.Uint32

	mu        sync.Mutex // protects following fields
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}

	wg sync.WaitGroup // live connection goroutines
}

// NewServer returns a server that serves connections with h.
func NewServer(h Handler, opts Options) *Server {
	if opts.Version == "" {
		opts.Version = "5.7.99"
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = 4096
	}
	if opts.ConnWait <= 0 {
		opts.ConnWait = 5 * time.Second
	}
	if opts.MaxPacketSize <= 0 {
		opts.MaxPacketSize = 64 << 20
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	switch opts.AuthPlugin {
	case nativePassword, cachingSha2Password:
	default:
		if opts.AuthPlugin != "" {
			opts.Logger.Warn("unsupported MySQL authentication plugin; using mysql_native_password", "plugin", opts.AuthPlugin)
		}
		opts.AuthPlugin = nativePassword
	}
	key := opts.RSAKey
	return &Server{
		h:         h,
		opts:      opts,
		log:       opts.Logger,
		sem:       make(chan struct{}, opts.MaxConnections),
		rsaKey:    sync.OnceValues(func() (*rsaKey, error) { return newRSAKey(key) }),
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
	}
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("mysqlproto: server closed")

// Serve accepts connections on l until l or the server is closed. It returns
// nil when l was closed (by Close or by the caller), else the accept error.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.isClosed() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("mysql accept error; retrying", "err", err, "delay", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		if !s.acquire() {
			go s.refuse(nc)
			continue
		}
		c := s.newConn(nc)
		if c == nil {
			<-s.sem
			_ = nc.Close()
			continue
		}
		go c.serve()
	}
}

// acquire takes a connection slot, waiting at most ConnWait.
func (s *Server) acquire() bool {
	select {
	case s.sem <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(s.opts.ConnWait)
	defer t.Stop()
	select {
	case s.sem <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

// refuse answers a connection for which no slot was free with the error
// packet MySQL sends instead of a handshake, then closes it.
func (s *Server) refuse(nc net.Conn) {
	defer nc.Close()
	e := NewError(ER_CON_COUNT_ERROR, "Too many connections")
	p := appendErrPayload([]byte{0, 0, 0, 0}, e, true)
	n := len(p) - 4
	p[0], p[1], p[2], p[3] = byte(n), byte(n>>8), byte(n>>16), 0
	_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = nc.Write(p)
	s.log.Warn("mysql connection refused: too many connections", "remote", nc.RemoteAddr().String())
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// newConn registers a connection; nil if the server is closed.
func (s *Server) newConn(nc net.Conn) *conn {
	id := s.nextID.Add(1)
	if id == 0 {
		id = s.nextID.Add(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		srv:    s,
		nc:     nc,
		id:     id,
		ctx:    ctx,
		cancel: cancel,
		log:    s.log.With("conn", id, "remote", nc.RemoteAddr().String()),
		stmts:  map[uint32]*stmt{},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		cancel()
		return nil
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return c
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	<-s.sem
	s.wg.Done()
}

// NumConnections returns the number of live connections.
func (s *Server) NumConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Close stops accepting on every listener passed to Serve, closes the live
// connections (cancelling their running statements) and waits until their
// goroutines have finished.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	var errs []error
	for l := range s.listeners {
		if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	for c := range s.conns {
		c.cancel()
		_ = c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return errors.Join(errs...)
}

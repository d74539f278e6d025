package flightsql

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	beexec "github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/mysqlproto"
)

// client is one authenticated token and its SQL session.
type client struct {
	// Immutable after the handshake.
	token  string
	connID uint32
	user   string
	host   string

	lastUsed atomic.Int64 // unix nanoseconds of the last call's start
	active   atomic.Int32 // calls running now

	mu     sync.Mutex // serializes the calls on sess; protects following fields
	sess   mysqlproto.Session
	closed bool
}

// touch marks a call's start; the returned function its end.
func (c *client) touch() func() {
	c.lastUsed.Store(time.Now().UnixNano())
	c.active.Add(1)
	return func() {
		c.lastUsed.Store(time.Now().UnixNano())
		c.active.Add(-1)
	}
}

// close ends the session; calls still waiting for c.mu then fail.
func (c *client) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	c.sess.Close()
}

// lock takes c.mu for a call on the session; it fails if the session was
// closed meanwhile.
func (c *client) lock() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return status.Error(codes.Unauthenticated, "the session is closed; authenticate again")
	}
	return nil
}

type clientKey struct{}

// clientFrom returns the client the interceptors found for the call.
func clientFrom(ctx context.Context) (*client, error) {
	c, ok := ctx.Value(clientKey{}).(*client)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "must authenticate first")
	}
	return c, nil
}

const (
	authHeader   = "authorization"
	basicPrefix  = "Basic "
	bearerPrefix = "Bearer "
	// dbHeader names the first database of the session a handshake opens,
	// as JDBC passes unknown connection properties as headers.
	dbHeader = "database"
)

// authenticate finds the client of a call's bearer token.
func (s *Server) authenticate(ctx context.Context) (*client, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	var tok string
	for _, v := range md.Get(authHeader) {
		if len(v) > len(bearerPrefix) && strings.EqualFold(v[:len(bearerPrefix)], bearerPrefix) {
			tok = strings.TrimSpace(v[len(bearerPrefix):])
			break
		}
	}
	if tok == "" {
		return nil, status.Error(codes.Unauthenticated, "must authenticate first: no bearer token")
	}
	s.mu.Lock()
	c := s.clients[tok]
	s.mu.Unlock()
	if c == nil {
		return nil, status.Error(codes.Unauthenticated, "invalid or expired bearer token")
	}
	return c, nil
}

func (s *Server) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (_ any, err error) {
	defer s.recoverCall(info.FullMethod, &err)
	c, err := s.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	defer c.touch()()
	return handler(context.WithValue(ctx, clientKey{}, c), req)
}

func (s *Server) streamInterceptor(srv any, stream grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer s.recoverCall(info.FullMethod, &err)
	if strings.HasSuffix(info.FullMethod, "/Handshake") {
		return handler(srv, stream)
	}
	c, err := s.authenticate(stream.Context())
	if err != nil {
		return err
	}
	defer c.touch()()
	return handler(srv, &authedStream{ServerStream: stream, ctx: context.WithValue(stream.Context(), clientKey{}, c)})
}

// recoverCall turns a panic of one call into an Internal error for that
// call only.
func (s *Server) recoverCall(method string, err *error) {
	if r := recover(); r != nil {
		s.log.Error("flight sql call panicked", "method", method, "panic", r, "stack", string(debug.Stack()))
		*err = status.Errorf(codes.Internal, "internal error in %s: %v", method, r)
	}
}

type authedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (a *authedStream) Context() context.Context { return a.ctx }

// handshake checks the Basic credentials of a Handshake call, opens the
// session and answers with its bearer token.
func (s *Server) handshake(stream flight.FlightService_HandshakeServer) error {
	ctx := stream.Context()
	md, _ := metadata.FromIncomingContext(ctx)
	user, password, ok := basicCredentials(md.Get(authHeader))
	if !ok {
		return status.Error(codes.Unauthenticated, "send the user and password as HTTP Basic credentials in the authorization header")
	}
	host := peerHost(ctx)
	if err := s.cfg.Authenticate(user, password, host); err != nil {
		return status.Error(codes.Unauthenticated, err.Error())
	}
	var db string
	if v := md.Get(dbHeader); len(v) > 0 {
		db = v[0]
	}
	c, err := s.newClient(user, host, db)
	if err != nil {
		return err
	}
	if err := stream.SetHeader(metadata.Pairs(authHeader, bearerPrefix+c.token)); err != nil {
		s.dropClient(c)
		return err
	}
	if err := stream.Send(&flight.HandshakeResponse{Payload: []byte(c.token)}); err != nil {
		s.dropClient(c)
		return err
	}
	s.log.Debug("flight sql session opened", "conn", c.connID, "user", user, "host", host)
	return nil
}

// basicCredentials decodes the first "Basic" authorization value.
func basicCredentials(vals []string) (user, password string, ok bool) {
	for _, v := range vals {
		v = strings.TrimSpace(v)
		if len(v) <= len(basicPrefix) || !strings.EqualFold(v[:len(basicPrefix)], basicPrefix) {
			continue
		}
		enc := strings.TrimSpace(v[len(basicPrefix):])
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			if raw, err = base64.RawStdEncoding.DecodeString(enc); err != nil {
				return "", "", false
			}
		}
		user, password, ok = strings.Cut(string(raw), ":")
		return user, password, ok
	}
	return "", "", false
}

// peerHost is the client's IP address.
func peerHost(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	if a, ok := p.Addr.(*net.TCPAddr); ok {
		return a.IP.String()
	}
	if h, _, err := net.SplitHostPort(p.Addr.String()); err == nil {
		return h
	}
	return p.Addr.String()
}

// newClient opens a session and registers its token. The session's slot
// under MaxSessions is taken (s.opening) in the same critical section that
// checks there is one, so concurrent handshakes cannot overshoot it.
func (s *Server) newClient(user, host, db string) (*client, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, status.Error(codes.Unavailable, "the server is shutting down")
	}
	if len(s.clients)+s.opening >= s.cfg.MaxSessions {
		s.mu.Unlock()
		return nil, status.Errorf(codes.ResourceExhausted, "too many Flight SQL sessions (%d)", s.cfg.MaxSessions)
	}
	s.opening++
	s.mu.Unlock()
	registered := false
	defer func() {
		if !registered {
			s.mu.Lock()
			s.opening--
			s.mu.Unlock()
		}
	}()
	id := s.nextConn.Add(1)
	if id < FirstConnID {
		// Wrapped around: start the range again.
		s.nextConn.CompareAndSwap(id, FirstConnID)
		id = s.nextConn.Add(1)
	}
	sess, err := s.cfg.Sessions.NewSession(id, user, host, db)
	if err != nil {
		return nil, toStatus(err)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		sess.Close()
		return nil, status.Errorf(codes.Internal, "making a token: %v", err)
	}
	c := &client{token: hex.EncodeToString(b[:]), connID: id, user: user, host: host, sess: sess}
	c.lastUsed.Store(time.Now().UnixNano())
	s.mu.Lock()
	s.opening--
	registered = true
	if s.closed {
		s.mu.Unlock()
		sess.Close()
		return nil, status.Error(codes.Unavailable, "the server is shutting down")
	}
	s.clients[c.token] = c
	s.mu.Unlock()
	return c, nil
}

// dropClient forgets a client's token and closes its session, results and
// prepared statements.
func (s *Server) dropClient(c *client) {
	var results []*pending
	var preps []*prepared
	s.mu.Lock()
	delete(s.clients, c.token)
	for h, p := range s.results {
		if p.c == c {
			delete(s.results, h)
			results = append(results, p)
		}
	}
	for h, p := range s.prepared {
		if p.c == c {
			delete(s.prepared, h)
			preps = append(preps, p)
		}
	}
	s.mu.Unlock()
	for _, p := range results {
		p.close()
	}
	for _, p := range preps {
		c.closePrepared(p)
	}
	c.close()
}

// toStatus maps an error to a gRPC status: SQL errors keep their MySQL
// message and carry their number and SQLSTATE as an ErrorInfo detail.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	var me *mysqlproto.Error
	var ml *beexec.MemLimitError
	switch {
	case errors.As(err, &ml):
		// A memory limit hit while rows streamed, not yet a SQL error:
		// the one MySQL clients get (Doris's, 1105).
		me = mysqlproto.NewError(mysqlproto.ER_UNKNOWN_ERROR, "%s", err.Error())
	case !errors.As(err, &me):
		return status.Error(codes.Internal, err.Error())
	}
	st := status.New(grpcCode(me), me.Message)
	if d, derr := st.WithDetails(errorInfo(me)); derr == nil {
		st = d
	}
	return st.Err()
}

// grpcCode is the gRPC code of a MySQL error.
func grpcCode(me *mysqlproto.Error) codes.Code {
	switch me.Code {
	case mysqlproto.ER_ACCESS_DENIED_ERROR, mysqlproto.ER_DBACCESS_DENIED_ERROR,
		mysqlproto.ER_TABLEACCESS_DENIED_ERROR, mysqlproto.ER_SPECIFIC_ACCESS_DENIED,
		1143: // ER_COLUMNACCESS_DENIED_ERROR
		return codes.PermissionDenied
	case mysqlproto.ER_QUERY_INTERRUPTED:
		return codes.Canceled
	case 3024: // ER_QUERY_TIMEOUT: query_timeout or max_execution_time
		return codes.DeadlineExceeded
	case mysqlproto.ER_CON_COUNT_ERROR:
		return codes.ResourceExhausted
	case mysqlproto.ER_UNKNOWN_ERROR:
		// The memory limit error is 1105 with its marker (see
		// beexec.MemLimitExceeded), wherever in the query it was hit.
		if strings.Contains(me.Message, beexec.MemLimitExceeded) {
			return codes.ResourceExhausted
		}
		return codes.Internal
	}
	return codes.InvalidArgument
}

// mysqlErrorDomain is the ErrorInfo domain of SQL errors.
const mysqlErrorDomain = "strata.mysql"

func errorInfo(me *mysqlproto.Error) *errdetails.ErrorInfo {
	return &errdetails.ErrorInfo{
		Reason:   fmt.Sprintf("ER_%d", me.Code),
		Domain:   mysqlErrorDomain,
		Metadata: map[string]string{"errno": fmt.Sprint(me.Code), "sqlstate": me.State},
	}
}

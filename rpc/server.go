package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// UnaryHandler serves a unary call. req is the request's JSON (the JSON
// null if the client sent none); the result is sent back JSON-encoded.
type UnaryHandler func(ctx context.Context, req json.RawMessage) (any, error)

// StreamHandler serves a stream call: it writes record batches to w and
// returns nil at the end of the stream, or an error, which the client reads
// after the batches already written.
type StreamHandler func(ctx context.Context, req json.RawMessage, w RecordWriter) error

// UploadHandler serves an upload: it reads r until io.EOF and returns a
// result, sent back JSON-encoded. r is released when the handler returns.
// A handler that returns before io.EOF ends the upload, and the client's
// later writes fail.
type UploadHandler func(ctx context.Context, req json.RawMessage, r RecordReader) (any, error)

// Server serves named calls over Arrow Flight.
//
// Handlers run on gRPC's goroutines, many at once; each gets a ctx that
// carries the client's deadline and is cancelled when the client cancels,
// goes away, or [Server.Stop] gives up waiting. A handler's panic is
// recovered, logged with its stack, and sent to the client as an "internal"
// error naming the call; panics on goroutines the handler starts are not.
type Server struct {
	log  *slog.Logger
	cfg  config
	grpc *grpc.Server

	mu       sync.RWMutex // protects following fields
	handlers map[string]handler
}

type kind int

const (
	unaryKind kind = iota + 1
	streamKind
	uploadKind
)

func (k kind) String() string {
	switch k {
	case unaryKind:
		return "unary"
	case streamKind:
		return "stream"
	case uploadKind:
		return "upload"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// handler is one registered call; the field of its kind is set.
type handler struct {
	kind   kind
	unary  UnaryHandler
	stream StreamHandler
	upload UploadHandler
}

// Keepalive settings. Servers ping clients and clients ping servers after
// keepaliveTime without traffic, so a peer that vanished without closing
// its connection (a crashed or partitioned host) is noticed within
// keepaliveTime+keepaliveTimeout: in-flight handlers get a cancelled ctx
// and client calls fail with "unavailable" instead of hanging. gRPC servers
// refuse pings more often than every 5 minutes by default, so the
// server's enforcement policy has to allow the client's rate.
const (
	keepaliveTime    = 30 * time.Second
	keepaliveTimeout = 10 * time.Second
	keepaliveMinTime = 10 * time.Second
)

// NewServer returns a server with no calls registered. log receives
// recovered panics, and handler errors at debug level. Options:
// [WithAllocator], [WithMaxMessageSize], [WithStopTimeout].
func NewServer(log *slog.Logger, opts ...Option) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		log:      log,
		cfg:      newConfig(opts),
		handlers: map[string]handler{},
	}
	s.grpc = grpc.NewServer(
		grpc.MaxRecvMsgSize(s.cfg.maxMsgSize),
		grpc.MaxSendMsgSize(s.cfg.maxMsgSize),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: keepaliveTime, Timeout: keepaliveTimeout}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveMinTime, PermitWithoutStream: true}),
		// Stop returns only once every handler has returned, so the
		// caller may close what the handlers use (the tablet store)
		// right after.
		grpc.WaitForHandlers(true),
	)
	flight.RegisterFlightServiceServer(s.grpc, &service{s: s})
	return s
}

// Handle registers a unary call: Flight DoAction with Action.Type = name.
// Registering a name twice, in any kind, panics.
func (s *Server) Handle(name string, h UnaryHandler) {
	s.register(name, handler{kind: unaryKind, unary: h})
}

// HandleStream registers a stream call: Flight DoGet.
func (s *Server) HandleStream(name string, h StreamHandler) {
	s.register(name, handler{kind: streamKind, stream: h})
}

// HandleUpload registers an upload call: Flight DoPut.
func (s *Server) HandleUpload(name string, h UploadHandler) {
	s.register(name, handler{kind: uploadKind, upload: h})
}

func (s *Server) register(name string, h handler) {
	if name == "" {
		panic("BUG: rpc: registering a call with an empty name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.handlers[name]; ok {
		panic(fmt.Sprintf("BUG: rpc: call %q registered twice (as %s, then as %s)", name, old.kind, h.kind))
	}
	s.handlers[name] = h
}

// lookup returns the handler of name, which the client called as kind k.
func (s *Server) lookup(name string, k kind) (handler, error) {
	s.mu.RLock()
	h, ok := s.handlers[name]
	s.mu.RUnlock()
	if !ok {
		return handler{}, errorf(CodeUnimplemented, "rpc: unknown call %q", name)
	}
	if h.kind != k {
		return handler{}, errorf(CodeUnimplemented, "rpc: call %q is a %s call, not a %s call", name, h.kind, k)
	}
	return h, nil
}

// Serve accepts connections on ln until [Server.Stop]; it then returns
// nil, also when Stop came first. It may be called for several listeners.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.grpc.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("rpc: serving on %s: %w", ln.Addr(), err)
	}
	return nil
}

// Stop stops accepting connections and calls, waits for the calls in
// flight up to the stop timeout ([WithStopTimeout]), then cancels the ctx
// of those still running and closes every connection; clients see
// "unavailable". Stop returns when every handler has returned, so handlers
// must honour ctx cancellation.
func (s *Server) Stop() {
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	timer := time.NewTimer(s.cfg.stopTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		s.log.Warn("rpc: calls still running after the stop timeout; cancelling them", "timeout", s.cfg.stopTimeout)
		s.grpc.Stop()
		<-done
	}
}

// run calls f, turning a panic into an "internal" error naming the call.
func (s *Server) run(name string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("rpc: handler panicked", "call", name, "panic", r, "stack", string(debug.Stack()))
			err = errorf(CodeInternal, "rpc: call %q panicked: %v", name, r)
		}
	}()
	return f()
}

// fail returns the status error that carries a handler's err to the
// client.
func (s *Server) fail(ctx context.Context, name string, err error) error {
	e := toError(err)
	if ctx.Err() == nil {
		s.log.Debug("rpc: call failed", "call", name, "code", e.Code, "err", e.Message)
	}
	return toStatus(e)
}

// service is the Flight service a Server registers with gRPC; it keeps the
// Flight methods off Server's own method set.
type service struct {
	flight.BaseFlightServer
	s *Server
}

func (svc *service) DoAction(action *flight.Action, stream flight.FlightService_DoActionServer) error {
	s := svc.s
	name := action.GetType()
	h, err := s.lookup(name, unaryKind)
	if err != nil {
		return toStatus(toError(err))
	}
	req, err := decodeBody(action.GetBody())
	if err != nil {
		return toStatus(errorf(CodeInvalidArgument, "rpc: call %q: %v", name, err))
	}
	ctx := stream.Context()
	var resp any
	err = s.run(name, func() error {
		var err error
		resp, err = h.unary(ctx, req)
		return err
	})
	if err != nil {
		return s.fail(ctx, name, err)
	}
	body, err := json.Marshal(resp)
	if err != nil {
		return s.fail(ctx, name, fmt.Errorf("rpc: call %q: encoding the response: %w", name, err))
	}
	return stream.Send(&flight.Result{Body: body})
}

func (svc *service) DoGet(ticket *flight.Ticket, stream flight.FlightService_DoGetServer) error {
	s := svc.s
	env, err := decodeEnvelope(ticket.GetTicket())
	if err != nil {
		return toStatus(errorf(CodeInvalidArgument, "rpc: decoding the DoGet ticket: %v", err))
	}
	h, err := s.lookup(env.Call, streamKind)
	if err != nil {
		return toStatus(toError(err))
	}
	ctx := stream.Context()
	w := &streamWriter{stream: stream, mem: s.cfg.mem, name: env.Call}
	err = s.run(env.Call, func() error { return h.stream(ctx, env.Req, w) })
	if err != nil {
		w.abort()
		return s.fail(ctx, env.Call, err)
	}
	if err := w.finish(); err != nil {
		return s.fail(ctx, env.Call, err)
	}
	return nil
}

func (svc *service) DoPut(stream flight.FlightService_DoPutServer) error {
	s := svc.s
	ctx := stream.Context()
	first, err := stream.Recv()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return toStatus(errorf(CodeInvalidArgument, "rpc: DoPut stream ended before its first message"))
		}
		return err // the client went away; nobody reads our answer
	}
	desc := first.GetFlightDescriptor()
	if desc == nil || desc.GetType() != flight.DescriptorCMD {
		return toStatus(errorf(CodeInvalidArgument, "rpc: the first message of a DoPut must carry a CMD FlightDescriptor naming the call"))
	}
	env, err := decodeEnvelope(desc.GetCmd())
	if err != nil {
		return toStatus(errorf(CodeInvalidArgument, "rpc: decoding the DoPut descriptor: %v", err))
	}
	h, err := s.lookup(env.Call, uploadKind)
	if err != nil {
		return toStatus(toError(err))
	}

	// The first message may carry the schema too (as other Flight clients
	// send it) or only the descriptor (as Client.Upload does); replay it
	// to the IPC reader in the first case.
	src := &replayReader{s: stream}
	if len(first.GetDataHeader()) > 0 {
		src.first = first
	}
	fr, err := newFlightReader(checkedStream{s: src, maxBuffer: s.cfg.maxUncompressedBuffer()}, ipc.WithAllocator(s.cfg.mem))
	if err != nil {
		if errors.Is(err, io.EOF) {
			return toStatus(errorf(CodeInvalidArgument, "rpc: upload %q ended before its schema", env.Call))
		}
		return s.fail(ctx, env.Call, fmt.Errorf("rpc: upload %q: reading the schema: %w", env.Call, readError(err, CodeInvalidArgument)))
	}
	r := &recordReader{r: fr, decodeCode: CodeInvalidArgument, context: fmt.Sprintf("rpc: upload %q", env.Call)}
	defer r.Close()

	var resp any
	err = s.run(env.Call, func() error {
		var err error
		resp, err = h.upload(ctx, env.Req, r)
		return err
	})
	if err != nil {
		return s.fail(ctx, env.Call, err)
	}
	body, err := json.Marshal(resp)
	if err != nil {
		return s.fail(ctx, env.Call, fmt.Errorf("rpc: upload %q: encoding the response: %w", env.Call, err))
	}
	return stream.Send(&flight.PutResult{AppMetadata: body})
}

// ListActions lists the unary calls, for generic Flight tools.
func (svc *service) ListActions(_ *flight.Empty, stream flight.FlightService_ListActionsServer) error {
	s := svc.s
	s.mu.RLock()
	var names []string
	for name, h := range s.handlers {
		if h.kind == unaryKind {
			names = append(names, name)
		}
	}
	s.mu.RUnlock()
	slices.Sort(names)
	for _, name := range names {
		if err := stream.Send(&flight.ActionType{Type: name, Description: "Strata unary call: JSON request in Body, one JSON Result"}); err != nil {
			return err
		}
	}
	return nil
}

// replayReader hands the IPC reader a message already received, then the
// rest of the stream.
type replayReader struct {
	first *flight.FlightData
	s     flight.DataStreamReader
}

func (r *replayReader) Recv() (*flight.FlightData, error) {
	if r.first != nil {
		fd := r.first
		r.first = nil
		return fd, nil
	}
	return r.s.Recv()
}

// newFlightReader is flight.NewRecordReader with a recover: it decodes
// untrusted bytes, and a panic there must fail the call, not the server.
func newFlightReader(src flight.DataStreamReader, opts ...ipc.Option) (r *flight.Reader, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("decoding the IPC schema: %v", p)
		}
	}()
	return flight.NewRecordReader(src, opts...)
}

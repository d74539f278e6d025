package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
)

// ErrClientClosed is returned by calls made after [Client.Close].
var ErrClientClosed = errors.New("rpc: client closed")

// Client makes calls to Servers. It keeps one gRPC connection per address,
// made on first use and reconnected by gRPC after failures, and is safe for
// concurrent use.
//
// Every call carries its ctx: the deadline reaches the handler, and
// cancelling ctx cancels the handler's ctx. Errors are wrapped with the call
// name and address; the [*Error] inside says what happened.
type Client struct {
	cfg      config
	dialOpts []grpc.DialOption

	mu     sync.Mutex // protects following fields
	conns  map[string]*grpc.ClientConn
	closed bool
}

// Reconnection backoff. gRPC's default grows to 120s, so a BE that restarts
// would be refused calls for up to two minutes after it is back; 5s keeps
// that short while still not hammering a host that is down.
var reconnectBackoff = backoff.Config{
	BaseDelay:  100 * time.Millisecond,
	Multiplier: 1.6,
	Jitter:     0.2,
	MaxDelay:   5 * time.Second,
}

// NewClient returns a client. Options: [WithAllocator],
// [WithMaxMessageSize].
func NewClient(opts ...Option) *Client {
	cfg := newConfig(opts)
	return &Client{
		cfg: cfg,
		dialOpts: []grpc.DialOption{
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(
				grpc.MaxCallRecvMsgSize(cfg.maxMsgSize),
				grpc.MaxCallSendMsgSize(cfg.maxMsgSize),
			),
			grpc.WithConnectParams(grpc.ConnectParams{Backoff: reconnectBackoff, MinConnectTimeout: 5 * time.Second}),
			grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: keepaliveTime, Timeout: keepaliveTimeout, PermitWithoutStream: true}),
		},
		conns: map[string]*grpc.ClientConn{},
	}
}

// flightClient returns the Flight client of addr's connection, making the
// connection if there is none yet. gRPC connects lazily, so this does no
// I/O.
func (c *Client) flightClient(addr string) (flight.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClientClosed
	}
	conn, ok := c.conns[addr]
	if !ok {
		var err error
		conn, err = grpc.NewClient(addr, c.dialOpts...)
		if err != nil {
			return nil, fmt.Errorf("rpc: connecting to %s: %w", addr, err)
		}
		c.conns[addr] = conn
	}
	return flight.NewClientFromConn(conn, nil), nil
}

// Close closes every connection; calls in flight fail with "canceled".
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	var errs []error
	for addr, conn := range c.conns {
		if err := conn.Close(); err != nil {
			errs = append(errs, fmt.Errorf("rpc: closing the connection to %s: %w", addr, err))
		}
	}
	c.conns = nil
	return errors.Join(errs...)
}

// Call makes a unary call: req is sent JSON-encoded (nil as null, a
// json.RawMessage as is) and the JSON result is decoded into resp, which
// may be nil to discard it.
func (c *Client) Call(ctx context.Context, addr, name string, req, resp any) error {
	where := fmt.Sprintf("rpc: call %q on %s", name, addr)
	body, err := encodeRequest(req)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	fc, err := c.flightClient(addr)
	if err != nil {
		return err
	}
	stream, err := fc.DoAction(ctx, &flight.Action{Type: name, Body: body})
	if err != nil {
		return fmt.Errorf("%s: %w", where, fromGRPC(err))
	}
	res, err := stream.Recv()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: %w", where, &Error{Code: CodeInternal, Message: "the server sent no result"})
		}
		return fmt.Errorf("%s: %w", where, fromGRPC(err))
	}
	// Read to the end: that frees the stream and surfaces an error the
	// server may have sent after the result.
	for {
		_, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", where, fromGRPC(err))
		}
		return fmt.Errorf("%s: %w", where, &Error{Code: CodeInternal, Message: "the server sent more than one result"})
	}
	if resp == nil {
		return nil
	}
	if err := json.Unmarshal(res.GetBody(), resp); err != nil {
		return fmt.Errorf("%s: decoding the response: %w", where, err)
	}
	return nil
}

// Stream makes a stream call and returns its batches once the schema has
// arrived. The caller must Close the reader; closing it before io.EOF, or
// cancelling ctx, cancels the call on the server.
func (c *Client) Stream(ctx context.Context, addr, name string, req any) (RecordReader, error) {
	where := fmt.Sprintf("rpc: stream %q from %s", name, addr)
	ticket, err := encodeEnvelope(name, req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	fc, err := c.flightClient(addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	stream, err := fc.DoGet(ctx, &flight.Ticket{Ticket: ticket})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%s: %w", where, fromGRPC(err))
	}
	fr, err := flight.NewRecordReader(checkedStream{s: stream, maxBuffer: c.cfg.maxUncompressedBuffer()}, ipc.WithAllocator(c.cfg.mem))
	if err != nil {
		cancel()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w", where, &Error{Code: CodeInternal, Message: "the stream ended before its schema"})
		}
		return nil, fmt.Errorf("%s: %w", where, readError(err, CodeInternal))
	}
	return &recordReader{r: fr, cancel: cancel, decodeCode: CodeInternal, context: where}, nil
}

// Uploader sends the record batches of an upload. Write and Close are
// called from one goroutine; Cancel from any.
type Uploader struct {
	where  string
	stream flight.FlightService_DoPutClient
	mem    memory.Allocator
	schema *arrow.Schema  // as given to Upload; nil: the first batch's
	w      *flight.Writer // nil until the first Write or Close
	cancel context.CancelFunc

	err    error // the first failure; every later call returns it
	closed bool
}

// Upload starts an upload call with batches of schema (nil: the first
// batch's). The call name and request go out at once, so an unknown call
// or a bad request fails the first Write or Close. The caller must end the
// upload with Close or Cancel.
func (c *Client) Upload(ctx context.Context, addr, name string, req any, schema *arrow.Schema) (*Uploader, error) {
	where := fmt.Sprintf("rpc: upload %q to %s", name, addr)
	cmd, err := encodeEnvelope(name, req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	fc, err := c.flightClient(addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	stream, err := fc.DoPut(ctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%s: %w", where, fromGRPC(err))
	}
	u := &Uploader{where: where, stream: stream, mem: c.cfg.mem, schema: schema, cancel: cancel}
	// The descriptor goes alone, ahead of the schema (which arrow-go's IPC
	// writer sends with the first batch), so the server checks the call
	// before the caller has produced a batch.
	desc := &flight.FlightData{FlightDescriptor: &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: cmd}}
	if err := stream.Send(desc); err != nil {
		return nil, u.fail(err)
	}
	return u, nil
}

// writer returns the IPC writer of the upload, made when the schema is
// known: the one given to Upload, else rec's, else (an upload without
// batches) the empty schema.
func (u *Uploader) writer(rec arrow.RecordBatch) *flight.Writer {
	if u.w == nil {
		schema := u.schema
		switch {
		case schema != nil:
		case rec != nil:
			schema = rec.Schema()
		default:
			schema = arrow.NewSchema(nil, nil)
		}
		u.w = flight.NewRecordWriter(u.stream, ipc.WithSchema(schema), ipc.WithAllocator(u.mem))
	}
	return u.w
}

// Write sends rec. It does not keep rec: the caller may release it as soon
// as Write returns. An error ends the upload (the call is cancelled); it is
// the server's error if the handler failed.
func (u *Uploader) Write(rec arrow.RecordBatch) error {
	if u.err != nil {
		return u.err
	}
	if u.closed {
		return fmt.Errorf("%s: write after close", u.where)
	}
	if err := u.writer(rec).Write(rec); err != nil {
		return u.fail(err)
	}
	return nil
}

// Close ends the upload, waits for the handler and decodes its JSON
// result into resp (nil discards it). It returns the handler's error, or
// the transport's.
func (u *Uploader) Close(resp any) error {
	if u.err != nil {
		return u.err
	}
	if u.closed {
		return fmt.Errorf("%s: closed twice", u.where)
	}
	u.closed = true
	defer u.cancel()
	if err := u.writer(nil).Close(); err != nil {
		return u.fail(err)
	}
	if err := u.stream.CloseSend(); err != nil {
		return u.fail(err)
	}
	res, err := u.stream.Recv()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = &Error{Code: CodeInternal, Message: "the server sent no result"}
		}
		return u.fail(err)
	}
	for {
		_, err := u.stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return u.fail(err)
		}
		return u.fail(&Error{Code: CodeInternal, Message: "the server sent more than one result"})
	}
	if resp == nil {
		return nil
	}
	if err := json.Unmarshal(res.GetAppMetadata(), resp); err != nil {
		return fmt.Errorf("%s: decoding the response: %w", u.where, err)
	}
	return nil
}

// Cancel abandons the upload: the handler's ctx is cancelled and later
// Write and Close calls fail with "canceled". It may be called from any
// goroutine, and after Close (then it does nothing).
func (u *Uploader) Cancel() { u.cancel() }

// fail records the upload's first failure, cancels the call and returns
// the error. A Send that fails with io.EOF means the server ended the call;
// its status, read from the receive side, is the real error.
func (u *Uploader) fail(err error) error {
	if u.err != nil {
		return u.err
	}
	if errors.Is(err, io.EOF) {
		err = u.serverEnded()
	}
	u.err = fmt.Errorf("%s: %w", u.where, fromGRPC(err))
	u.cancel()
	return u.err
}

// serverEnded reads the receive side of a call the server has ended, for
// the status it ended with.
func (u *Uploader) serverEnded() error {
	for {
		_, err := u.stream.Recv()
		if err == nil {
			continue // a result: the handler returned without reading all
		}
		if errors.Is(err, io.EOF) {
			return &Error{Code: CodeInternal, Message: "the server ended the upload before the client closed it"}
		}
		return err
	}
}

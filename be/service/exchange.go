package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/be/local"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/rpc"
	"github.com/strata-db/strata/types"
)

// Exchange calls: fragments that read or feed exchanges (shuffle and
// bucket-shuffle joins), the rows their senders push to the backends of
// the instances reading them, and the coordinator's release of a query.
//
//	be.fragment_exchange  stream  exchangeFragmentRequest → the rows of a
//	                              fragment without a sink; none with one
//	be.exchange_push      upload  exchangePushRequest + batches, then end of
//	                              stream → {}: one sender's stream to one
//	                              partition; a broken upload fails the
//	                              partition's reader
//	be.exchange_release   unary   exchangeReleaseRequest → {}
//
// Each backend keeps one exec.ExchangeHub for the partitions its
// instances read.
const (
	callFragmentExchange = "be.fragment_exchange"
	callExchangePush     = "be.exchange_push"
	callExchangeRelease  = "be.exchange_release"
)

// codeExchangeSender marks the error of an instance that failed because a
// sender of an exchange it read failed: an effect of another instance's
// failure, which the coordinator reports in its stead.
const codeExchangeSender = "exchange_sender"

type exchangeFragmentRequest struct {
	Fragment *planner.Fragment `json:"fragment"`
	// Inputs names the inputs uploaded before the fragment; "" without.
	Inputs string `json:"inputs,omitempty"`
	// Backend is the id of the backend the request goes to: its own
	// partitions are pushed without a call.
	Backend int64 `json:"backend"`
	// Addrs are the RPC addresses of the backends the fragment's sink
	// sends to, by id.
	Addrs map[int64]string `json:"addrs,omitempty"`
}

type exchangePushRequest struct {
	Query     string `json:"query"`
	Exchange  int    `json:"exchange"`
	Partition int    `json:"partition"`
	Sender    int    `json:"sender"`
	// From is the sending backend, for errors.
	From int64 `json:"from"`
}

type exchangeReleaseRequest struct {
	Query string `json:"query"`
}

// exchangeService serves a backend's exchanges.
type exchangeService struct {
	// Immutable after construction.
	s   *Service
	in  *inputs
	hub *exec.ExchangeHub
	// timeout is how long a reading instance waits without news from its
	// senders.
	timeout time.Duration

	mu  sync.Mutex // protects cli
	cli *rpc.Client
}

// registerExchange serves the exchange calls on srv; in holds the
// uploaded inputs of broadcast joins, which exchange fragments may read
// too.
func registerExchange(srv *rpc.Server, s *Service, in *inputs) *exchangeService {
	ex := &exchangeService{s: s, in: in, hub: exec.NewExchangeHub(exec.ExchangeHubOptions{}),
		timeout: exec.DefaultExchangeTimeout}
	srv.HandleStream(callFragmentExchange, ex.handleFragment)
	srv.HandleUpload(callExchangePush, ex.handlePush)
	srv.Handle(callExchangeRelease, func(ctx context.Context, body json.RawMessage) (any, error) {
		var req exchangeReleaseRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		ex.hub.ReleaseQuery(req.Query)
		return struct{}{}, nil
	})
	return ex
}

// client returns the client that pushes rows to other backends, made on
// first use. It lives as long as the process: the backend has no other
// client to lend (RegisterFragments is given none).
func (ex *exchangeService) client() *rpc.Client {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.cli == nil {
		ex.cli = rpc.NewClient()
	}
	return ex.cli
}

// close closes the push client, if any (tests).
func (ex *exchangeService) close() error {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.cli == nil {
		return nil
	}
	err := ex.cli.Close()
	ex.cli = nil
	return err
}

func (ex *exchangeService) handlePush(ctx context.Context, body json.RawMessage, r rpc.RecordReader) (any, error) {
	var req exchangePushRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	key := exec.ExchangeKey{Query: req.Query, Exchange: req.Exchange, Partition: req.Partition}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			ex.hub.Finish(key, req.Sender, nil)
			return struct{}{}, nil
		}
		if err != nil {
			ex.hub.Finish(key, req.Sender, fmt.Errorf("its stream from backend %d broke: %w", req.From, err))
			return nil, err
		}
		cols := make([]arrow.Array, rec.NumCols())
		for i := range cols {
			cols[i] = rec.Column(i)
			cols[i].Retain()
		}
		if err := ex.hub.Push(ctx, key, req.Sender, cols); err != nil {
			// Ignored if the partition is gone; else its reader must not
			// wait for this sender.
			ex.hub.Finish(key, req.Sender, fmt.Errorf("its stream from backend %d broke: %w", req.From, err))
			return nil, err
		}
	}
}

func (ex *exchangeService) handleFragment(ctx context.Context, body json.RawMessage, w rpc.RecordWriter) error {
	var req exchangeFragmentRequest
	if err := decode(body, &req); err != nil {
		return err
	}
	f := req.Fragment
	if f == nil {
		return invalid(errors.New("the request carries no fragment"))
	}
	var ins []planner.FragmentInput
	if req.Inputs != "" {
		var err error
		if ins, err = ex.in.take(req.Inputs); err != nil {
			return err
		}
		defer releaseInputs(ins)
	}
	env := &backendExchange{ex: ex, self: req.Backend, addrs: req.Addrs}
	op, err := planner.RunExchangeFragment(f, local.Reader{S: ex.s.Store}, ins, env)
	if err != nil {
		return exchangeErr(err)
	}
	return exchangeErr(sendRows(ctx, op, f.Output, w))
}

// sendRows opens op, sends its rows (of types ts) to w and closes it.
func sendRows(ctx context.Context, op exec.Operator, ts []types.Type, w rpc.RecordWriter) error {
	schema := typesSchema(ts)
	if err := w.Begin(schema); err != nil {
		_ = op.Close()
		return err
	}
	ctx = exec.WithEvalContext(ctx, exec.NewEvalContext())
	if err := op.Open(ctx); err != nil {
		_ = op.Close()
		return err
	}
	defer op.Close()
	var b exec.Batch
	for {
		b.Reset()
		err := exec.Next(ctx, op, &b)
		if errors.Is(err, io.EOF) {
			return sendProfile(op, w)
		}
		if err != nil {
			return err
		}
		if b.NumRows() == 0 {
			continue
		}
		cols := exec.DenseColumns(&b, ts)
		rec := array.NewRecordBatch(schema, cols, int64(b.NumRows()))
		err = w.Write(rec)
		rec.Release()
		for _, c := range cols {
			c.Release()
		}
		if err != nil {
			return err
		}
	}
}

// exchangeSenderErr carries exec.ErrExchangeSender across the wire.
type exchangeSenderErr struct{ err error }

func (e exchangeSenderErr) Error() string   { return e.err.Error() }
func (e exchangeSenderErr) Unwrap() error   { return e.err }
func (e exchangeSenderErr) RPCCode() string { return codeExchangeSender }

func exchangeErr(err error) error {
	if err != nil && errors.Is(err, exec.ErrExchangeSender) {
		return exchangeSenderErr{err}
	}
	return retryable(err)
}

// backendExchange is a fragment instance's view of its query's exchanges
// on this backend: the hub to read, and where its sink's partitions go.
type backendExchange struct {
	ex    *exchangeService
	self  int64
	addrs map[int64]string
}

var _ planner.Exchange = (*backendExchange)(nil)

func (b *backendExchange) Source(query string, id, part int, senders []int64, ts []types.Type) (exec.Operator, error) {
	names := make([]string, len(senders))
	for i, be := range senders {
		names[i] = "backend " + strconv.FormatInt(be, 10)
	}
	key := exec.ExchangeKey{Query: query, Exchange: id, Partition: part}
	return exec.NewExchangeSource(b.ex.hub, key, names, ts, b.ex.timeout), nil
}

func (b *backendExchange) Writer(ctx context.Context, query string, id, part, sender int, be int64) (exec.ExchangeWriter, error) {
	key := exec.ExchangeKey{Query: query, Exchange: id, Partition: part}
	if be == b.self {
		return &exec.HubWriter{Hub: b.ex.hub, Key: key, Sender: sender}, nil
	}
	addr, ok := b.addrs[be]
	if !ok {
		return nil, fmt.Errorf("no address for backend %d, which reads partition %d of exchange %d", be, part, id)
	}
	req := exchangePushRequest{Query: query, Exchange: id, Partition: part, Sender: sender, From: b.self}
	u, err := b.ex.client().Upload(ctx, addr, callExchangePush, req, nil)
	if err != nil {
		return nil, fmt.Errorf("backend %d (%s): %w", be, addr, err)
	}
	return &pushWriter{u: u, be: be, addr: addr}, nil
}

// pushWriter is one sender's stream to a partition on another backend.
type pushWriter struct {
	u      *rpc.Uploader
	be     int64
	addr   string
	schema *arrow.Schema
}

func (w *pushWriter) Write(_ context.Context, cols []arrow.Array) error {
	if w.schema == nil {
		fields := make([]arrow.Field, len(cols))
		for i, c := range cols {
			fields[i] = arrow.Field{Name: fmt.Sprint("c", i), Type: c.DataType(), Nullable: true}
		}
		w.schema = arrow.NewSchema(fields, nil)
	}
	n := 0
	if len(cols) > 0 {
		n = cols[0].Len()
	}
	rec := array.NewRecordBatch(w.schema, cols, int64(n))
	err := w.u.Write(rec)
	rec.Release()
	if err != nil {
		return fmt.Errorf("backend %d (%s): %w", w.be, w.addr, err)
	}
	return nil
}

func (w *pushWriter) Close() error {
	if err := w.u.Close(nil); err != nil {
		return fmt.Errorf("backend %d (%s): %w", w.be, w.addr, err)
	}
	return nil
}

func (w *pushWriter) Cancel(error) { w.u.Cancel() }

var _ planner.ExchangeRemote = (*FragmentRunner)(nil)

// RunExchange starts a fragment that reads or feeds exchanges on backend
// be (planner.ExchangeRemote): like Run, with the addresses of the
// backends its sink sends to.
func (r *FragmentRunner) RunExchange(ctx context.Context, be int64, f *planner.Fragment) (planner.FragmentStream, error) {
	addr, err := r.Addr(be)
	if err != nil {
		return nil, &remoteErr{err: err, retryable: true}
	}
	req := exchangeFragmentRequest{Fragment: f, Backend: be}
	if f.Sink != nil {
		req.Addrs = map[int64]string{}
		for _, d := range f.Sink.Dests {
			if _, ok := req.Addrs[d]; ok {
				continue
			}
			a, err := r.Addr(d)
			if err != nil {
				return nil, fmt.Errorf("backend %d, which fragment %d sends rows to: %w", d, f.ID, err)
			}
			req.Addrs[d] = a
		}
	}
	if req.Inputs, err = r.uploadInputs(ctx, be, addr, f); err != nil {
		return nil, err
	}
	rr, err := r.RPC.Stream(ctx, addr, callFragmentExchange, req)
	if err != nil {
		return nil, exchangeFragmentErr(be, addr, err)
	}
	return &exchangeStream{fragmentStream{rr: rr, be: be, addr: addr}}, nil
}

// ReleaseQuery asks backend be to drop what it holds of query's exchanges.
func (r *FragmentRunner) ReleaseQuery(ctx context.Context, be int64, query string) error {
	addr, err := r.Addr(be)
	if err != nil {
		return err
	}
	return r.RPC.Call(ctx, addr, callExchangeRelease, exchangeReleaseRequest{Query: query}, nil)
}

// exchangeStream reads the rows of an exchange fragment, keeping the mark
// of an instance that failed because one of its senders did.
type exchangeStream struct{ fragmentStream }

func (s *exchangeStream) Next(ctx context.Context) ([]arrow.Array, error) {
	rec, err := s.read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, exchangeFragmentErr(s.be, s.addr, err)
	}
	cols := make([]arrow.Array, rec.NumCols())
	for i := range cols {
		cols[i] = rec.Column(i)
		cols[i].Retain()
	}
	return cols, nil
}

// exchangeFragmentErr is fragmentErr, keeping exec.ErrExchangeSender and
// cancellation visible to the coordinator, which prefers the error of the
// instance that failed first.
func exchangeFragmentErr(be int64, addr string, err error) error {
	switch rpc.CodeOf(err) {
	case codeExchangeSender:
		var e *rpc.Error
		if errors.As(err, &e) {
			return fmt.Errorf("backend %d (%s): %w", be, addr, &senderFailed{msg: e.Message})
		}
	case rpc.CodeCanceled:
		return fmt.Errorf("backend %d (%s): %w: %w", be, addr, context.Canceled, err)
	}
	return fragmentErr(be, addr, err)
}

// senderFailed is a remote instance's error that wraps
// exec.ErrExchangeSender.
type senderFailed struct{ msg string }

func (e *senderFailed) Error() string { return e.msg }
func (e *senderFailed) Unwrap() error { return exec.ErrExchangeSender }

// newInputKey names a set of uploaded inputs.
func newInputKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

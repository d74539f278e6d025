package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// Fragment calls.
const (
	callFragment      = "be.fragment"
	callFragmentInput = "be.fragment_input"
)

// codeRetryable marks an error after which the request may succeed on
// another replica (planner.IsRetryable).
const codeRetryable = "retryable"

type fragmentRequest struct {
	Fragment *planner.Fragment `json:"fragment"`
	// Inputs names the inputs uploaded before the fragment; "" without.
	Inputs string `json:"inputs,omitempty"`
}

type inputRequest struct {
	Key   string `json:"key"`
	Index int    `json:"index"`
	Count int    `json:"count"`
}

// inputs are fragment inputs uploaded ahead of the fragments that read
// them (the build sides of broadcast joins), until their fragment takes
// them or they expire.
type inputs struct {
	mu   sync.Mutex
	sets map[string]*inputSet
}

type inputSet struct {
	in      []planner.FragmentInput
	filled  []bool
	expires time.Time
}

// inputTTL bounds how long uploaded inputs wait for their fragment.
const inputTTL = 10 * time.Minute

func (s *inputs) put(key string, index, count int, in planner.FragmentInput) error {
	if count < 1 || count > 1024 || index < 0 || index >= count {
		return invalid(fmt.Errorf("input %d of %d", index, count))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for k, set := range s.sets {
		if now.After(set.expires) {
			releaseInputs(set.in)
			delete(s.sets, k)
		}
	}
	if s.sets == nil {
		s.sets = map[string]*inputSet{}
	}
	set := s.sets[key]
	if set == nil {
		set = &inputSet{in: make([]planner.FragmentInput, count), filled: make([]bool, count), expires: now.Add(inputTTL)}
		s.sets[key] = set
		// Inputs whose fragment never comes go when they expire, even if
		// no other upload arrives to sweep them.
		time.AfterFunc(inputTTL, func() { s.expire(key, set) })
	}
	if len(set.in) != count {
		return invalid(fmt.Errorf("inputs %q: %d inputs, then %d", key, len(set.in), count))
	}
	releaseInputs(set.in[index : index+1])
	set.in[index] = in
	set.filled[index] = true
	return nil
}

// expire drops a set of inputs its fragment never took.
func (s *inputs) expire(key string, set *inputSet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sets[key] == set {
		releaseInputs(set.in)
		delete(s.sets, key)
	}
}

func (s *inputs) take(key string) ([]planner.FragmentInput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set, ok := s.sets[key]
	if !ok {
		return nil, invalid(fmt.Errorf("fragment inputs %q are unknown or expired", key))
	}
	for i, f := range set.filled {
		if !f {
			// A join against a missing build side would answer wrong.
			return nil, invalid(fmt.Errorf("fragment inputs %q: input %d of %d never arrived", key, i, len(set.in)))
		}
	}
	delete(s.sets, key)
	return set.in, nil
}

func releaseInputs(in []planner.FragmentInput) {
	for _, i := range in {
		for _, b := range i.Batches {
			for _, c := range b {
				c.Release()
			}
		}
	}
}

// RegisterFragments serves plan fragments on the local tablets.
func RegisterFragments(srv *rpc.Server, s *Service) {
	in := &inputs{}
	registerExchange(srv, s, in)
	srv.HandleUpload(callFragmentInput, func(ctx context.Context, body json.RawMessage, r rpc.RecordReader) (any, error) {
		var req inputRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		var fi planner.FragmentInput
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				releaseInputs([]planner.FragmentInput{fi})
				return nil, err
			}
			cols := make([]arrow.Array, rec.NumCols())
			for i := range cols {
				cols[i] = rec.Column(i)
				cols[i].Retain()
			}
			fi.Batches = append(fi.Batches, cols)
		}
		if err := in.put(req.Key, req.Index, req.Count, fi); err != nil {
			releaseInputs([]planner.FragmentInput{fi})
			return nil, err
		}
		return struct{}{}, nil
	})
	srv.HandleStream(callFragment, func(ctx context.Context, body json.RawMessage, w rpc.RecordWriter) error {
		var req fragmentRequest
		if err := decode(body, &req); err != nil {
			return err
		}
		if req.Fragment == nil {
			return invalid(errors.New("the request carries no fragment"))
		}
		var ins []planner.FragmentInput
		if req.Inputs != "" {
			var err error
			if ins, err = in.take(req.Inputs); err != nil {
				return err
			}
			defer releaseInputs(ins)
		}
		return retryable(s.runFragment(ctx, req.Fragment, ins, w))
	})
}

// runFragment runs f over the local tablets and sends its rows.
func (s *Service) runFragment(ctx context.Context, f *planner.Fragment, ins []planner.FragmentInput, w rpc.RecordWriter) (err error) {
	defer func() { s.Stats.fragment(err) }()
	op, err := planner.RunFragment(f, local.Reader{S: s.Store}, ins)
	if err != nil {
		return err
	}
	schema := typesSchema(f.Output)
	if err := w.Begin(schema); err != nil {
		op.Close()
		return err
	}
	ctx = exec.WithEvalContext(ctx, exec.NewEvalContext())
	if err := op.Open(ctx); err != nil {
		op.Close()
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
		cols := exec.DenseColumns(&b, f.Output)
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

// typesSchema is the Arrow schema of columns of the given types.
func typesSchema(ts []types.Type) *arrow.Schema {
	fields := make([]arrow.Field, len(ts))
	for i, t := range ts {
		fields[i] = arrow.Field{Name: fmt.Sprint("c", i), Type: t.Arrow(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// retryableErr carries planner.IsRetryable across the wire.
type retryableErr struct{ err error }

func (e retryableErr) Error() string   { return e.err.Error() }
func (e retryableErr) Unwrap() error   { return e.err }
func (e retryableErr) RPCCode() string { return codeRetryable }

func retryable(err error) error {
	if err != nil && planner.IsRetryable(err) {
		return retryableErr{err}
	}
	return err
}

// FragmentRunner runs fragments on the cluster's backends
// (planner.Remote): ReplicasOf says where a tablet's replicas are, best
// first, and Addr where a backend's RPC service is.
type FragmentRunner struct {
	RPC        *rpc.Client
	Addr       func(backend int64) (string, error)
	ReplicasOf func(tabletID int64) []int64
}

var _ planner.Remote = (*FragmentRunner)(nil)

func (r *FragmentRunner) Replicas(tabletID int64) []int64 { return r.ReplicasOf(tabletID) }

// remoteErr is a fragment's failure as the coordinator sees it.
type remoteErr struct {
	err       error
	retryable bool
}

func (e *remoteErr) Error() string   { return e.err.Error() }
func (e *remoteErr) Unwrap() error   { return e.err }
func (e *remoteErr) Retryable() bool { return e.retryable }

func fragmentErr(be int64, addr string, err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	switch rpc.CodeOf(err) {
	case codeRetryable, rpc.CodeUnavailable:
		return &remoteErr{err: fmt.Errorf("backend %d (%s): %w", be, addr, err), retryable: true}
	case rpc.CodeCanceled, rpc.CodeDeadlineExceeded:
		return err
	}
	var e *rpc.Error
	if errors.As(err, &e) {
		return &remoteErr{err: fmt.Errorf("backend %d (%s): %s", be, addr, e.Message)}
	}
	return err
}

func (r *FragmentRunner) Run(ctx context.Context, be int64, f *planner.Fragment) (planner.FragmentStream, error) {
	addr, err := r.Addr(be)
	if err != nil {
		return nil, &remoteErr{err: err, retryable: true}
	}
	req := fragmentRequest{Fragment: f}
	if req.Inputs, err = r.uploadInputs(ctx, be, addr, f); err != nil {
		return nil, err
	}
	rr, err := r.RPC.Stream(ctx, addr, callFragment, req)
	if err != nil {
		return nil, fragmentErr(be, addr, err)
	}
	return &fragmentStream{rr: rr, be: be, addr: addr}, nil
}

// uploadInputs sends a fragment's inputs ahead of it and returns the key
// the fragment names them by ("" without inputs).
func (r *FragmentRunner) uploadInputs(ctx context.Context, be int64, addr string, f *planner.Fragment) (string, error) {
	if len(f.Inputs) == 0 {
		return "", nil
	}
	key := newInputKey()
	for i, in := range f.Inputs {
		if err := r.upload(ctx, addr, key, i, len(f.Inputs), typesSchema(f.InputTypes[i]), in); err != nil {
			return "", fragmentErr(be, addr, err)
		}
	}
	return key, nil
}

func (r *FragmentRunner) upload(ctx context.Context, addr, key string, index, count int, schema *arrow.Schema, in planner.FragmentInput) error {
	u, err := r.RPC.Upload(ctx, addr, callFragmentInput, inputRequest{Key: key, Index: index, Count: count}, schema)
	if err != nil {
		return err
	}
	for _, cols := range in.Batches {
		n := 0
		if len(cols) > 0 {
			n = cols[0].Len()
		}
		rec := array.NewRecordBatch(schema, cols, int64(n))
		err := u.Write(rec)
		rec.Release()
		if err != nil {
			u.Cancel()
			return err
		}
	}
	return u.Close(nil)
}

// fragmentStream reads a fragment's rows.
type fragmentStream struct {
	rr      rpc.RecordReader
	be      int64
	addr    string
	profile *exec.ProfileNode // sent after the last batch, if asked for
}

func (s *fragmentStream) Next(ctx context.Context) ([]arrow.Array, error) {
	rec, err := s.read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, fragmentErr(s.be, s.addr, err)
	}
	cols := make([]arrow.Array, rec.NumCols())
	for i := range cols {
		cols[i] = rec.Column(i)
		cols[i].Retain()
	}
	return cols, nil
}

func (s *fragmentStream) Close() error { return s.rr.Close() }

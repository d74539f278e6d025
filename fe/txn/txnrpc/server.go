package txnrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/rpc"
)

// Call names.
const (
	callBegin      = "txn.begin"
	callGet        = "txn.get"
	callGetByLabel = "txn.get_by_label"
	callPrecommit  = "txn.precommit"
	callCommit     = "txn.commit"
	callAbort      = "txn.abort"
	callPublish    = "txn.publish"
)

// Request and response bodies (see the package doc).
type (
	beginResponse struct {
		Txn *txn.Txn `json:"txn"`
		// Revision is the leader's catalog snapshot revision, read after
		// the transaction got its id.
		Revision int64 `json:"revision"`
		// Tables are the transaction's tables in that snapshot.
		Tables []tableState `json:"tables,omitempty"`
	}
	// tableState is what a load must see of a table: its schema version
	// and its indexes (rollups, materialized views, shadow indexes of
	// schema changes).
	tableState struct {
		ID            int64   `json:"id"`
		SchemaVersion int64   `json:"schema_version"`
		Indexes       []int64 `json:"indexes,omitempty"`
	}
	idRequest struct {
		ID int64 `json:"id"`
	}
	labelRequest struct {
		DBID  int64  `json:"db_id"`
		Label string `json:"label"`
	}
	partsRequest struct {
		ID int64 `json:"id"`
		// Partitions nil (JSON null) and empty ([]) differ, as for
		// txn.Manager.Commit.
		Partitions []txn.PartitionRef `json:"partitions"`
	}
	abortRequest struct {
		ID     int64  `json:"id"`
		Reason string `json:"reason"`
	}
	commitResponse struct {
		Versions map[int64]int64 `json:"versions"`
		Revision int64           `json:"revision"`
	}
	publishResponse struct {
		Revision int64 `json:"revision"`
	}
	empty struct{}
)

// Register serves m, the transaction service of this frontend, to the
// other processes: the calls of the package doc. cat is the catalog m
// commits against; its revisions tell callers how far their own catalogs
// must have come.
//
// Every frontend may register: on one that does not lead, the writes fail
// with not_leader and the client goes to the leader.
func Register(srv *rpc.Server, m *txn.Manager, cat *catalog.Catalog) {
	h := &handlers{m: m, cat: cat}
	srv.Handle(callBegin, h.begin)
	srv.Handle(callGet, h.get)
	srv.Handle(callGetByLabel, h.getByLabel)
	srv.Handle(callPrecommit, h.precommit)
	srv.Handle(callCommit, h.commit)
	srv.Handle(callAbort, h.abort)
	srv.Handle(callPublish, h.publish)
}

type handlers struct {
	m   *txn.Manager
	cat *catalog.Catalog
}

func (h *handlers) begin(ctx context.Context, raw json.RawMessage) (any, error) {
	var req txn.BeginRequest
	if err := decodeRequest(callBegin, raw, &req); err != nil {
		return nil, err
	}
	t, err := h.m.Begin(ctx, req)
	if err != nil {
		held, ok := h.retried(ctx, req, err)
		if !ok {
			return nil, encodeError(err)
		}
		t = held
	}
	// After the id was assigned: an index whose alter job took its
	// watershed before it is in this snapshot (the job read it there).
	snap := h.cat.Snapshot()
	resp := beginResponse{Txn: t, Revision: snap.Revision()}
	for _, id := range t.TableIDs {
		tb, ok := snap.TableByID(t.DBID, id)
		if !ok {
			continue
		}
		ts := tableState{ID: id, SchemaVersion: tb.Schema.Version}
		for i := range tb.Indexes {
			ts.Indexes = append(ts.Indexes, tb.Indexes[i].ID)
		}
		resp.Tables = append(resp.Tables, ts)
	}
	return resp, nil
}

// retried returns the transaction an earlier attempt of the same Begin
// made, when err says its label is taken by it: a PREPARE transaction
// recorded with the request's id.
func (h *handlers) retried(ctx context.Context, req txn.BeginRequest, err error) (*txn.Txn, bool) {
	var le *txn.LabelExistsError
	if req.RequestID == "" || !errors.As(err, &le) {
		return nil, false
	}
	t, gerr := h.m.Get(ctx, le.TxnID)
	if gerr != nil || t.RequestID != req.RequestID || t.Status != txn.StatusPrepare {
		return nil, false
	}
	return t, true
}

func (h *handlers) get(ctx context.Context, raw json.RawMessage) (any, error) {
	var req idRequest
	if err := decodeRequest(callGet, raw, &req); err != nil {
		return nil, err
	}
	t, err := h.m.Get(ctx, req.ID)
	if err != nil {
		return nil, encodeError(err)
	}
	return t, nil
}

func (h *handlers) getByLabel(ctx context.Context, raw json.RawMessage) (any, error) {
	var req labelRequest
	if err := decodeRequest(callGetByLabel, raw, &req); err != nil {
		return nil, err
	}
	t, err := h.m.GetByLabel(ctx, req.DBID, req.Label)
	if err != nil {
		return nil, encodeError(err)
	}
	return t, nil
}

func (h *handlers) precommit(ctx context.Context, raw json.RawMessage) (any, error) {
	var req partsRequest
	if err := decodeRequest(callPrecommit, raw, &req); err != nil {
		return nil, err
	}
	if err := h.m.Precommit(ctx, req.ID, req.Partitions); err != nil {
		return nil, encodeError(err)
	}
	return empty{}, nil
}

func (h *handlers) commit(ctx context.Context, raw json.RawMessage) (any, error) {
	var req partsRequest
	if err := decodeRequest(callCommit, raw, &req); err != nil {
		return nil, err
	}
	versions, err := h.m.Commit(ctx, req.ID, req.Partitions)
	if err != nil {
		return nil, encodeError(err)
	}
	return commitResponse{Versions: versions, Revision: h.cat.Snapshot().Revision()}, nil
}

func (h *handlers) abort(ctx context.Context, raw json.RawMessage) (any, error) {
	var req abortRequest
	if err := decodeRequest(callAbort, raw, &req); err != nil {
		return nil, err
	}
	if err := h.m.Abort(ctx, req.ID, req.Reason); err != nil {
		return nil, encodeError(err)
	}
	return empty{}, nil
}

func (h *handlers) publish(ctx context.Context, raw json.RawMessage) (any, error) {
	var req idRequest
	if err := decodeRequest(callPublish, raw, &req); err != nil {
		return nil, err
	}
	if err := h.m.Publish(ctx, req.ID); err != nil {
		return nil, encodeError(err)
	}
	return publishResponse{Revision: h.cat.Snapshot().Revision()}, nil
}

// decodeRequest decodes the body of call name into v. The body comes from
// another process: anything but a JSON object of v's shape is an
// invalid_argument error naming the call. Unknown fields are ignored, so
// a newer client may add some.
func decodeRequest(name string, raw json.RawMessage, v any) error {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || b[0] != '{' {
		const show = 64 // bytes of the body quoted in the error
		if len(b) > show {
			b = append(b[:show:show], "..."...)
		}
		return &rpc.Error{Code: rpc.CodeInvalidArgument,
			Message: fmt.Sprintf("txnrpc: call %q: the request must be a JSON object, got %s", name, b)}
	}
	if err := json.Unmarshal(b, v); err != nil {
		return &rpc.Error{Code: rpc.CodeInvalidArgument,
			Message: fmt.Sprintf("txnrpc: call %q: decoding the request: %v", name, err)}
	}
	return nil
}

// encodeError gives a manager's error the code it crosses the call with
// (txn.ErrorCode), keeping its text. An error of none of txn's kinds is
// "internal" (or the code of the context error it wraps), even when it
// wraps an *rpc.Error of some other call: a backend that a publish could
// not reach must not read as the leader being unavailable.
func encodeError(err error) error {
	code, data := txn.ErrorCode(err)
	if code == "" {
		switch {
		case errors.Is(err, context.Canceled):
			code = rpc.CodeCanceled
		case errors.Is(err, context.DeadlineExceeded):
			code = rpc.CodeDeadlineExceeded
		default:
			code = rpc.CodeInternal
		}
	}
	return &codedError{err: err, code: code, data: data}
}

// codedError is a handler's error with the code and data it is sent with.
type codedError struct {
	err  error
	code string
	data any
}

func (e *codedError) Error() string   { return e.err.Error() }
func (e *codedError) Unwrap() error   { return e.err }
func (e *codedError) RPCCode() string { return e.code }
func (e *codedError) RPCData() any    { return e.data }

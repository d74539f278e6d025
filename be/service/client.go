package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/rpc"
	"github.com/strata-db/strata/storage"
)

// Backend is one backend's data service, wherever it runs.
type Backend interface {
	// OpenWriter starts writing a transaction's rows into a tablet replica.
	OpenWriter(ctx context.Context, tabletID, txnID int64, schema sink.TabletSchema) (ReplicaWriter, error)
	AddDelete(ctx context.Context, tabletID, txnID int64, schema sink.TabletSchema, pred storage.DeletePredicate) error
	AbortTxn(ctx context.Context, txnID int64) error
	// Publish publishes transactions on the replicas the backend holds.
	Publish(ctx context.Context, txns []tabletstore.TxnPublish) ([]map[int64]tabletstore.TabletPublishResult, error)
	// Report lists the tablets the backend holds.
	Report(ctx context.Context) ([]tabletstore.TabletInfo, error)
	// Checksum sums a tablet replica's rows at a version.
	Checksum(ctx context.Context, tabletID, version int64) (ChecksumResult, error)
	// Clone brings the backend's replica of a tablet up to date from
	// another backend's.
	Clone(ctx context.Context, req CloneRequest) (CloneResult, error)
	// Rebuild installs an alter job's converted rows of an index tablet.
	Rebuild(ctx context.Context, tabletID, txnID, version int64) error
}

// Local is a Service in this process; RPC reaches other backends (clone
// sources).
type Local struct {
	S   *Service
	RPC *rpc.Client
}

func (l Local) OpenWriter(_ context.Context, tabletID, txnID int64, schema sink.TabletSchema) (ReplicaWriter, error) {
	return l.S.OpenWriter(tabletID, txnID, schema)
}

func (l Local) AddDelete(_ context.Context, tabletID, txnID int64, schema sink.TabletSchema, pred storage.DeletePredicate) error {
	return l.S.AddDelete(tabletID, txnID, schema, pred)
}

func (l Local) AbortTxn(_ context.Context, txnID int64) error { return l.S.AbortTxn(txnID) }

func (l Local) Publish(_ context.Context, txns []tabletstore.TxnPublish) ([]map[int64]tabletstore.TabletPublishResult, error) {
	return l.S.Publish(txns)
}

func (l Local) Report(context.Context) ([]tabletstore.TabletInfo, error) { return l.S.Report(), nil }

func (l Local) Checksum(_ context.Context, tabletID, version int64) (ChecksumResult, error) {
	return l.S.Checksum(tabletID, version)
}

func (l Local) Rebuild(_ context.Context, tabletID, txnID, version int64) error {
	return l.S.Rebuild(tabletID, txnID, version)
}

// Clone needs the RPC client of the local process to reach the source.
func (l Local) Clone(ctx context.Context, req CloneRequest) (CloneResult, error) {
	if l.RPC == nil {
		return CloneResult{}, errors.New("this backend cannot reach other backends")
	}
	return l.S.Clone(ctx, l.RPC, req)
}

// Remote is a backend reached over RPC at Addr.
type Remote struct {
	RPC  *rpc.Client
	Addr string
	// ID is the backend's id, for error messages.
	ID int64
}

func (r Remote) OpenWriter(ctx context.Context, tabletID, txnID int64, schema sink.TabletSchema) (ReplicaWriter, error) {
	fields := make([]arrow.Field, len(schema.Columns))
	for i, c := range schema.Columns {
		fields[i] = arrow.Field{Name: fmt.Sprint("c", c.ID), Type: c.Type, Nullable: true}
	}
	ctx, cancel := context.WithCancel(ctx)
	u, err := r.RPC.Upload(ctx, r.Addr, callWrite, writeRequest{Tablet: tabletID, Txn: txnID, Schema: ToWire(schema)},
		arrow.NewSchema(fields, nil))
	if err != nil {
		cancel()
		return nil, r.err(err)
	}
	return &remoteWriter{r: r, u: u, cancel: cancel, schema: arrow.NewSchema(fields, nil)}, nil
}

func (r Remote) AddDelete(ctx context.Context, tabletID, txnID int64, schema sink.TabletSchema, pred storage.DeletePredicate) error {
	return r.err(r.RPC.Call(ctx, r.Addr, callDelete, deleteRequest{Tablet: tabletID, Txn: txnID, Schema: ToWire(schema), Predicate: pred}, nil))
}

func (r Remote) AbortTxn(ctx context.Context, txnID int64) error {
	return r.err(r.RPC.Call(ctx, r.Addr, callAbort, abortRequest{Txn: txnID}, nil))
}

func (r Remote) Publish(ctx context.Context, txns []tabletstore.TxnPublish) ([]map[int64]tabletstore.TabletPublishResult, error) {
	var resp publishResponse
	err := r.RPC.Call(ctx, r.Addr, callPublish, publishRequest{Txns: txns}, &resp)
	return resp.Results, r.err(err)
}

func (r Remote) Report(ctx context.Context) ([]tabletstore.TabletInfo, error) {
	var resp []tabletstore.TabletInfo
	err := r.RPC.Call(ctx, r.Addr, callReport, struct{}{}, &resp)
	return resp, r.err(err)
}

func (r Remote) Checksum(ctx context.Context, tabletID, version int64) (ChecksumResult, error) {
	var resp ChecksumResult
	err := r.RPC.Call(ctx, r.Addr, callChecksum, checksumRequest{Tablet: tabletID, Version: version}, &resp)
	return resp, r.err(err)
}

func (r Remote) Rebuild(ctx context.Context, tabletID, txnID, version int64) error {
	return r.err(r.RPC.Call(ctx, r.Addr, callRebuild, rebuildRequest{Tablet: tabletID, Txn: txnID, Version: version}, nil))
}

func (r Remote) Clone(ctx context.Context, req CloneRequest) (CloneResult, error) {
	var resp CloneResult
	err := r.RPC.Call(ctx, r.Addr, callClone, req, &resp)
	return resp, r.err(err)
}

// err gives a handler's error its own text back, naming the backend, and
// keeps transport failures recognizable (rpc.IsUnavailable).
func (r Remote) err(err error) error {
	if err == nil {
		return nil
	}
	var e *rpc.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code {
	case rpc.CodeUnavailable, rpc.CodeCanceled, rpc.CodeDeadlineExceeded:
		return fmt.Errorf("backend %d (%s): %w", r.ID, r.Addr, err)
	}
	return &BackendError{Backend: r.ID, Addr: r.Addr, Code: e.Code, Msg: e.Message, cause: e}
}

// BackendError is an error a remote backend's handler returned. Its text
// is the handler's, so what a client sees (a stream load's Message) reads
// as it would from a local backend.
type BackendError struct {
	Backend int64
	Addr    string
	Code    string
	Msg     string
	cause   *rpc.Error
}

func (e *BackendError) Error() string { return e.Msg }
func (e *BackendError) Unwrap() error { return e.cause }

// Temporary reports that a retry may succeed (a tablet past its version
// limit, as tabletstore.TooManyVersionsError says locally).
func (e *BackendError) Temporary() bool { return e.Code == codeTooManyVersions }

const codeTooManyVersions = "too_many_versions"

// remoteWriter streams rows to a replica on another backend.
type remoteWriter struct {
	r      Remote
	u      *rpc.Uploader
	cancel context.CancelFunc
	schema *arrow.Schema
}

func (w *remoteWriter) Write(cols []arrow.Array) error {
	n := 0
	if len(cols) > 0 {
		n = cols[0].Len()
	}
	rec := array.NewRecordBatch(w.schema, cols, int64(n))
	defer rec.Release()
	return w.r.err(w.u.Write(rec))
}

func (w *remoteWriter) Close() (int64, error) {
	defer w.cancel()
	var resp writeResponse
	if err := w.u.Close(&resp); err != nil {
		return 0, w.r.err(err)
	}
	return resp.Version, nil
}

func (w *remoteWriter) Cancel() {
	w.u.Cancel()
	w.cancel()
}

package txnrpc

import (
	"context"
	"errors"

	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/txn"
)

// Router is the transaction service of a process that may lead: while it
// leads, its own manager; otherwise, and when the manager finds it has
// lost the leadership (meta.ErrNotLeader: its write was fenced and did not
// happen), the leader's through Remote. It implements sink.TxnService.
//
// In the embedded server, which always leads and has no Remote, a Router
// is just its Local.
type Router struct {
	// Local is this process's manager, over its fenced store.
	Local *txn.Manager
	// Leading reports whether this process leads now (meta.Store.IsLeader);
	// nil means always.
	Leading func() bool
	// Remote reaches the leader; nil: Local's errors are returned as they
	// are, meta.ErrNotLeader included.
	Remote *Client
}

// route runs local while this process leads and remote otherwise, or when
// local found it does not lead after all.
func route[T any](r *Router, local, remote func() (T, error)) (T, error) {
	if r.Remote == nil || r.Leading == nil || r.Leading() {
		v, err := local()
		if r.Remote == nil || !errors.Is(err, meta.ErrNotLeader) {
			return v, err
		}
	}
	return remote()
}

// Begin implements sink.TxnService.
func (r *Router) Begin(ctx context.Context, req txn.BeginRequest) (*txn.Txn, error) {
	return route(r,
		func() (*txn.Txn, error) { return r.Local.Begin(ctx, req) },
		func() (*txn.Txn, error) { return r.Remote.Begin(ctx, req) })
}

// Get implements sink.TxnService.
func (r *Router) Get(ctx context.Context, id int64) (*txn.Txn, error) {
	return route(r,
		func() (*txn.Txn, error) { return r.Local.Get(ctx, id) },
		func() (*txn.Txn, error) { return r.Remote.Get(ctx, id) })
}

// GetByLabel implements sink.TxnService.
func (r *Router) GetByLabel(ctx context.Context, dbID int64, label string) (*txn.Txn, error) {
	return route(r,
		func() (*txn.Txn, error) { return r.Local.GetByLabel(ctx, dbID, label) },
		func() (*txn.Txn, error) { return r.Remote.GetByLabel(ctx, dbID, label) })
}

// Precommit implements sink.TxnService.
func (r *Router) Precommit(ctx context.Context, id int64, parts []txn.PartitionRef) error {
	_, err := route(r,
		func() (struct{}, error) { return struct{}{}, r.Local.Precommit(ctx, id, parts) },
		func() (struct{}, error) { return struct{}{}, r.Remote.Precommit(ctx, id, parts) })
	return err
}

// Commit implements sink.TxnService.
func (r *Router) Commit(ctx context.Context, id int64, parts []txn.PartitionRef) (map[int64]int64, error) {
	return route(r,
		func() (map[int64]int64, error) { return r.Local.Commit(ctx, id, parts) },
		func() (map[int64]int64, error) { return r.Remote.Commit(ctx, id, parts) })
}

// Abort implements sink.TxnService.
func (r *Router) Abort(ctx context.Context, id int64, reason string) error {
	_, err := route(r,
		func() (struct{}, error) { return struct{}{}, r.Local.Abort(ctx, id, reason) },
		func() (struct{}, error) { return struct{}{}, r.Remote.Abort(ctx, id, reason) })
	return err
}

// Publish implements sink.TxnService.
func (r *Router) Publish(ctx context.Context, id int64) error {
	_, err := route(r,
		func() (struct{}, error) { return struct{}{}, r.Local.Publish(ctx, id) },
		func() (struct{}, error) { return struct{}{}, r.Remote.Publish(ctx, id) })
	return err
}

package meta

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrNotLeader is returned by a fenced store's writes when this process
// does not hold the leadership, or lost it: the write did not happen. The
// caller sends the request to the leader instead.
var ErrNotLeader = errors.New("meta: this frontend is not the leader")

// Fence names a leadership: the election key this process created when it
// won, and that key's create revision. While the key exists with that
// revision the leadership holds; once its lease expires (the process
// stalled, or lost etcd) another process may win, and every write fenced
// by the old revision fails inside etcd, atomically with the check.
type Fence struct {
	Key string
	Rev int64
}

// NewFencedStore wraps a client for a frontend: its writes succeed only
// while SetFence has given it a leadership that etcd still holds. Until
// then they fail with ErrNotLeader without reaching etcd.
func NewFencedStore(cli *clientv3.Client) *Store {
	return &Store{cli: cli, fenced: true}
}

// SetFence gives the store the leadership its writes are conditioned on,
// or takes it away (nil).
func (s *Store) SetFence(f *Fence) { s.fence.Store(f) }

// Fenced reports the leadership the store writes under, or nil.
func (s *Store) Fenced() *Fence { return s.fence.Load() }

// IsLeader reports whether the store may write: it is unfenced, or holds
// a leadership (which etcd may still have taken away; a write tells).
func (s *Store) IsLeader() bool { return !s.fenced || s.fence.Load() != nil }

// commitFenced runs the transaction nested in one that checks the fence:
// the outer compare is the leadership, the inner ones the caller's.
func (t *Txn) commitFenced(ctx context.Context) (rev int64, ok bool, err error) {
	f := t.s.fence.Load()
	if f == nil {
		return 0, false, ErrNotLeader
	}
	resp, err := t.s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(f.Key), "=", f.Rev)).
		Then(clientv3.OpTxn(t.cmps, t.ops, nil)).
		Commit()
	if err != nil {
		return 0, false, fmt.Errorf("meta: etcd transaction: %w", err)
	}
	if !resp.Succeeded {
		// The election key is gone or belongs to a newer leadership.
		t.s.fence.CompareAndSwap(f, nil)
		return 0, false, ErrNotLeader
	}
	if len(resp.Responses) != 1 || resp.Responses[0].GetResponseTxn() == nil {
		return 0, false, fmt.Errorf("meta: etcd transaction: unexpected fenced response %v", resp.Responses)
	}
	return resp.Header.Revision, resp.Responses[0].GetResponseTxn().Succeeded, nil
}

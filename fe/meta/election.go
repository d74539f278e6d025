package meta

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// electionPrefix is where the frontends' election keys live: one per
// candidate, under its lease; the oldest is the leader (etcd's election
// recipe).
var electionPrefix = Key("election", "fe")

// Elector campaigns for the frontends' leadership through etcd's election
// API and runs the leader's work while it holds it.
//
// Winning sets the store's fence to the election key and its create
// revision, so every write of the store is conditioned on the leadership
// inside etcd: once the lease lapses (the process stalls, or loses etcd
// longer than the TTL) and another frontend wins, the old leader's writes
// fail with ErrNotLeader even if it has not noticed yet.
type Elector struct {
	store *Store
	// Value is what the leader publishes about itself (its address, for
	// followers and backends to reach it).
	Value string
	// TTL is the lease's time to live: how long a leader that stopped
	// answering keeps the leadership.
	TTL    time.Duration
	Logger *slog.Logger
}

// NewElector returns an elector that fences store's writes.
func NewElector(store *Store, value string, ttl time.Duration, log *slog.Logger) *Elector {
	if log == nil {
		log = slog.Default()
	}
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	return &Elector{store: store, Value: value, TTL: ttl, Logger: log}
}

// Run campaigns until ctx ends. Each time it wins it calls lead with a
// context that is cancelled when the leadership is lost, and waits for lead
// to return before it campaigns again.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context)) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := e.term(ctx, lead)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			e.Logger.Warn("leader election", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
	}
	return ctx.Err()
}

// term is one campaign and, if won, one leadership.
func (e *Elector) term(ctx context.Context, lead func(ctx context.Context)) error {
	sess, err := concurrency.NewSession(e.store.cli, concurrency.WithTTL(int((e.TTL+time.Second-1)/time.Second)),
		concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("opening an etcd session: %w", err)
	}
	defer sess.Close()
	el := concurrency.NewElection(sess, electionPrefix)
	// Campaign returns when this candidate's key is the oldest; if the
	// session expires meanwhile it would wait forever, so watch for that.
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-sess.Done():
			cancel()
		case <-cctx.Done():
		}
	}()
	err = el.Campaign(cctx, e.Value)
	cancel()
	if err != nil {
		return fmt.Errorf("campaigning: %w", err)
	}
	select {
	case <-sess.Done():
		return errors.New("the etcd session expired while campaigning")
	default:
	}
	f := &Fence{Key: el.Key(), Rev: el.Rev()}
	e.store.SetFence(f)
	e.Logger.Info("this frontend is the leader", "key", f.Key, "rev", f.Rev)
	lctx, lcancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		lead(lctx)
	}()
	select {
	case <-sess.Done():
		e.Logger.Warn("lost the leadership: the etcd session expired")
	case <-ctx.Done():
	case <-done:
	}
	e.store.fence.CompareAndSwap(f, nil)
	lcancel()
	<-done
	if ctx.Err() != nil {
		// Step down at once so that another frontend need not wait for
		// the lease to lapse.
		rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = el.Resign(rctx)
		rcancel()
	}
	return nil
}

// Leader returns the value the current leader published, or "" when no
// frontend leads.
func Leader(ctx context.Context, cli *clientv3.Client) (string, error) {
	resp, err := cli.Get(ctx, electionPrefix+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return "", fmt.Errorf("meta: reading the leader: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}

package meta

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// AliveKey is where a process of the given kind ("fe", "be") says it is
// alive, under a lease.
func AliveKey(kind, name string) string { return Key("alive", kind, name) }

// AlivePrefix is the prefix of every AliveKey of a kind.
func AlivePrefix(kind string) string { return KeyPrefix("alive", kind) }

// Registration keeps a key alive under an etcd lease for as long as the
// process runs: when the process dies or loses etcd for longer than the
// TTL, the key disappears, which is how others learn it is gone. A lease
// that lapsed while the process still runs (a long pause, a partition) is
// taken again with the key put back.
//
// These keys are not fenced: every process keeps its own.
type Registration struct {
	cli *clientv3.Client
	key string
	ttl time.Duration
	log *slog.Logger

	mu    sync.Mutex
	value []byte
	sess  *concurrency.Session

	cancel context.CancelFunc
	done   chan struct{}
}

// Register puts value (JSON) at key under a lease of ttl and keeps it
// there until Close. It returns once the key is written.
func Register(ctx context.Context, cli *clientv3.Client, key string, value any, ttl time.Duration, log *slog.Logger) (*Registration, error) {
	if log == nil {
		log = slog.Default()
	}
	b, err := json.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("meta: encoding %s: %w", key, err)
	}
	r := &Registration{cli: cli, key: key, ttl: ttl, log: log, value: b, done: make(chan struct{})}
	if err := r.grant(ctx); err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go r.keep(rctx)
	return r, nil
}

func (r *Registration) grant(ctx context.Context) error {
	sess, err := concurrency.NewSession(r.cli, concurrency.WithTTL(int((r.ttl+time.Second-1)/time.Second)))
	if err != nil {
		return fmt.Errorf("meta: lease for %s: %w", r.key, err)
	}
	r.mu.Lock()
	v := r.value
	r.mu.Unlock()
	if _, err := r.cli.Put(ctx, r.key, string(v), clientv3.WithLease(sess.Lease())); err != nil {
		sess.Close()
		return fmt.Errorf("meta: registering %s: %w", r.key, err)
	}
	r.mu.Lock()
	r.sess = sess
	r.mu.Unlock()
	return nil
}

// keep takes a new lease whenever the current one lapses.
func (r *Registration) keep(ctx context.Context) {
	defer close(r.done)
	for {
		r.mu.Lock()
		sess := r.sess
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-sess.Done():
		}
		r.log.Warn("liveness lease lapsed; registering again", "key", r.key)
		for ctx.Err() == nil {
			gctx, cancel := context.WithTimeout(ctx, r.ttl)
			err := r.grant(gctx)
			cancel()
			if err == nil {
				break
			}
			r.log.Warn("registering again", "key", r.key, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// Update replaces the value, keeping the lease.
func (r *Registration) Update(ctx context.Context, value any) error {
	b, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("meta: encoding %s: %w", r.key, err)
	}
	r.mu.Lock()
	r.value = b
	sess := r.sess
	r.mu.Unlock()
	if _, err := r.cli.Put(ctx, r.key, string(b), clientv3.WithLease(sess.Lease())); err != nil {
		return fmt.Errorf("meta: updating %s: %w", r.key, err)
	}
	return nil
}

// Close removes the key at once (revoking the lease) and stops keeping it.
func (r *Registration) Close() {
	r.cancel()
	<-r.done
	r.mu.Lock()
	sess := r.sess
	r.mu.Unlock()
	if sess != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if _, err := r.cli.Revoke(ctx, sess.Lease()); err != nil {
			sess.Orphan()
		}
		sess.Close()
	}
}

// ListAlive returns the values of the alive keys of a kind, by name.
func (s *Store) ListAlive(ctx context.Context, kind string) (map[string][]byte, error) {
	kvs, _, err := s.List(ctx, AlivePrefix(kind))
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(kvs))
	for _, kv := range kvs {
		name, err := UnescapeKeyPart(kv.Key[len(AlivePrefix(kind)):])
		if err != nil {
			continue
		}
		out[name] = kv.Value
	}
	return out, nil
}

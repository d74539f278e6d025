// Package cluster is the frontend's view of the processes of a cluster: the
// backends added with ALTER SYSTEM ADD BACKEND, which of them and of the
// frontends are alive, and where the replicas of a new table's buckets go.
//
// Backends are kept in etcd under /strata/backends/<id>, written by the
// leader (fenced like every catalog write). Liveness is each process's own
// lease key under /strata/alive/{fe,be}/<name> (meta.Register): a process
// that dies or loses etcd for longer than its lease disappears from there.
// A watch on both prefixes keeps every frontend's view current; a watch that
// falls behind etcd's compaction re-lists.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-db/strata/fe/meta"
)

// Backend is a backend added to the cluster.
type Backend struct {
	ID   int64  `json:"id"`
	Host string `json:"host"`
	// Port is the port ALTER SYSTEM ADD BACKEND named: the backend's RPC
	// port, which also identifies it.
	Port int `json:"port"`
	// Decommissioned: its replicas are being moved away, after which it is
	// dropped (ALTER SYSTEM DECOMMISSION BACKEND).
	Decommissioned bool  `json:"decommissioned,omitempty"`
	AddTime        int64 `json:"add_time"` // unix ms
}

// Addr is host:port of the backend's RPC service.
func (b *Backend) Addr() string { return joinHostPort(b.Host, b.Port) }

// BackendStatus is what a running backend publishes under its liveness
// key, and refreshes now and then.
type BackendStatus struct {
	ID        int64  `json:"id"`
	Host      string `json:"host"`
	HTTPPort  int    `json:"http_port"`
	RPCPort   int    `json:"rpc_port"`
	StartTime int64  `json:"start_time"` // unix ms
	Version   string `json:"version"`
	// ReportTime is when the figures below were taken (unix ms).
	ReportTime    int64 `json:"report_time"`
	TabletNum     int   `json:"tablet_num"`
	DataUsedBytes int64 `json:"data_used_bytes"`
	AvailBytes    int64 `json:"avail_bytes"`
	TotalBytes    int64 `json:"total_bytes"`
	CPUCores      int   `json:"cpu_cores"`
	MemoryBytes   int64 `json:"memory_bytes"`
}

// Frontend is what a running frontend publishes under its liveness key.
type Frontend struct {
	Name      string `json:"name"`
	Host      string `json:"host"`
	HTTPPort  int    `json:"http_port"`
	QueryPort int    `json:"query_port"`
	RPCPort   int    `json:"rpc_port"`
	StartTime int64  `json:"start_time"` // unix ms
	Version   string `json:"version"`
}

// RPCAddr is host:port of the frontend's RPC service.
func (f *Frontend) RPCAddr() string { return joinHostPort(f.Host, f.RPCPort) }

// HTTPAddr is host:port of the frontend's HTTP port.
func (f *Frontend) HTTPAddr() string { return joinHostPort(f.Host, f.HTTPPort) }

// BackendView is a backend with what is known of it now.
type BackendView struct {
	Backend
	Alive  bool
	Status BackendStatus // zero unless Alive
}

// HTTPAddr is host:port of the backend's HTTP port, "" while it is down.
func (b *BackendView) HTTPAddr() string {
	if !b.Alive {
		return ""
	}
	return joinHostPort(b.Host, b.Status.HTTPPort)
}

var (
	backendsPrefix = meta.KeyPrefix("backends")
	alivePrefix    = meta.KeyPrefix("alive")
)

func backendKey(id int64) string { return meta.Key("backends", strconv.FormatInt(id, 10)) }

// BackendAliveKey is where backend id keeps its liveness lease.
func BackendAliveKey(id int64) string { return meta.AliveKey("be", strconv.FormatInt(id, 10)) }

// FrontendAliveKey is where frontend name keeps its liveness lease.
func FrontendAliveKey(name string) string { return meta.AliveKey("fe", name) }

// Errors of the ALTER SYSTEM statements.
var (
	ErrBackendExists   = errors.New("backend already exists")
	ErrBackendNotFound = errors.New("backend does not exist")
)

// Registry is a frontend's (or a backend's) current view of the cluster's
// processes. Safe for concurrent use.
type Registry struct {
	store *meta.Store
	ids   *meta.IDAllocator
	log   *slog.Logger

	mu        sync.Mutex
	rev       int64
	backends  map[int64]Backend
	beStatus  map[int64]BackendStatus
	frontends map[string]Frontend
	changed   chan struct{}

	cancel context.CancelFunc
	done   chan struct{}
}

// Open lists the backends and the live processes and keeps them current
// until Close.
func Open(ctx context.Context, store *meta.Store, log *slog.Logger) (*Registry, error) {
	if log == nil {
		log = slog.Default()
	}
	r := &Registry{store: store, ids: meta.NewIDAllocator(store, "backends", 1), log: log, changed: make(chan struct{}), done: make(chan struct{})}
	rev, err := r.list(ctx)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go r.watch(wctx, rev)
	return r, nil
}

// Close stops the watch.
func (r *Registry) Close() {
	r.cancel()
	<-r.done
}

// list reads both prefixes at one revision and replaces the view.
func (r *Registry) list(ctx context.Context) (int64, error) {
	resp, err := r.store.Client().Txn(ctx).Then(
		clientv3.OpGet(backendsPrefix, clientv3.WithPrefix()),
		clientv3.OpGet(alivePrefix, clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return 0, fmt.Errorf("cluster: listing backends: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.backends = map[int64]Backend{}
	r.beStatus = map[int64]BackendStatus{}
	r.frontends = map[string]Frontend{}
	for _, op := range resp.Responses {
		for _, kv := range op.GetResponseRange().Kvs {
			r.applyLocked(string(kv.Key), kv.Value, false)
		}
	}
	r.rev = resp.Header.Revision
	r.notifyLocked()
	return r.rev, nil
}

// applyLocked applies one key's new value (or deletion) to the view.
func (r *Registry) applyLocked(key string, value []byte, deleted bool) {
	switch {
	case strings.HasPrefix(key, backendsPrefix):
		id, err := strconv.ParseInt(key[len(backendsPrefix):], 10, 64)
		if err != nil {
			return
		}
		if deleted {
			delete(r.backends, id)
			return
		}
		var b Backend
		if err := json.Unmarshal(value, &b); err != nil {
			r.log.Error("cluster: undecodable backend", "key", key, "err", err)
			return
		}
		r.backends[id] = b
	case strings.HasPrefix(key, meta.AlivePrefix("be")):
		id, err := strconv.ParseInt(key[len(meta.AlivePrefix("be")):], 10, 64)
		if err != nil {
			return
		}
		if deleted {
			delete(r.beStatus, id)
			return
		}
		var s BackendStatus
		if err := json.Unmarshal(value, &s); err != nil {
			r.log.Error("cluster: undecodable backend status", "key", key, "err", err)
			return
		}
		r.beStatus[id] = s
	case strings.HasPrefix(key, meta.AlivePrefix("fe")):
		name, err := meta.UnescapeKeyPart(key[len(meta.AlivePrefix("fe")):])
		if err != nil {
			return
		}
		if deleted {
			delete(r.frontends, name)
			return
		}
		var f Frontend
		if err := json.Unmarshal(value, &f); err != nil {
			r.log.Error("cluster: undecodable frontend", "key", key, "err", err)
			return
		}
		r.frontends[name] = f
	}
}

func (r *Registry) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *Registry) watch(ctx context.Context, rev int64) {
	defer close(r.done)
	cli := r.store.Client()
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		// One watch on /strata/ filtered here would see every catalog
		// write; two watches keep the traffic to what this view needs.
		bch := cli.Watch(wctx, backendsPrefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		ach := cli.Watch(wctx, alivePrefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		relist := false
		for !relist && ctx.Err() == nil {
			var resp clientv3.WatchResponse
			var ok bool
			select {
			case resp, ok = <-bch:
			case resp, ok = <-ach:
			case <-ctx.Done():
			}
			if !ok || ctx.Err() != nil {
				relist = ctx.Err() == nil
				break
			}
			if resp.CompactRevision != 0 || errors.Is(resp.Err(), rpctypes.ErrCompacted) || resp.Err() != nil {
				if resp.Err() != nil && resp.CompactRevision == 0 {
					r.log.Warn("cluster: watch error; re-listing", "err", resp.Err())
				}
				relist = true
				break
			}
			if len(resp.Events) == 0 {
				continue
			}
			r.mu.Lock()
			for _, ev := range resp.Events {
				r.applyLocked(string(ev.Kv.Key), ev.Kv.Value, ev.Type == mvccpb.DELETE)
			}
			// Two watches deliver independently; the view's revision is
			// only a lower bound for WaitRevision, kept monotonic.
			r.rev = max(r.rev, resp.Header.Revision)
			r.notifyLocked()
			r.mu.Unlock()
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
		for ctx.Err() == nil {
			lctx, lcancel := context.WithTimeout(ctx, 10*time.Second)
			var err error
			rev, err = r.list(lctx)
			lcancel()
			if err == nil {
				break
			}
			r.log.Warn("cluster: re-listing", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// WaitRevision waits until the view reflects etcd revision rev.
func (r *Registry) WaitRevision(ctx context.Context, rev int64) error {
	for {
		r.mu.Lock()
		cur, ch := r.rev, r.changed
		r.mu.Unlock()
		if cur >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Revision is the etcd revision the view reflects.
func (r *Registry) Revision() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rev
}

// Changed returns a channel closed at the view's next change.
func (r *Registry) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

// Backends lists the added backends by id, with their liveness.
func (r *Registry) Backends() []BackendView {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]BackendView, 0, len(r.backends))
	for id, b := range r.backends {
		st, alive := r.beStatus[id]
		out = append(out, BackendView{Backend: b, Alive: alive, Status: st})
	}
	slices.SortFunc(out, func(a, b BackendView) int { return int(a.ID - b.ID) })
	return out
}

// Backend returns one backend's view.
func (r *Registry) Backend(id int64) (BackendView, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.backends[id]
	if !ok {
		return BackendView{}, false
	}
	st, alive := r.beStatus[id]
	return BackendView{Backend: b, Alive: alive, Status: st}, true
}

// BackendByAddr finds the backend added as host:port.
func (r *Registry) BackendByAddr(host string, port int) (Backend, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.backends {
		if strings.EqualFold(b.Host, host) && b.Port == port {
			return b, true
		}
	}
	return Backend{}, false
}

// Alive reports whether a backend holds its liveness lease.
func (r *Registry) Alive(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.beStatus[id]
	return ok
}

// Frontends lists the live frontends by name.
func (r *Registry) Frontends() []Frontend {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Frontend, 0, len(r.frontends))
	for _, f := range r.frontends {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Frontend) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// AddBackend adds host:port (ALTER SYSTEM ADD BACKEND). It returns the new
// backend's id; a backend already added at that address is
// ErrBackendExists.
func (r *Registry) AddBackend(ctx context.Context, host string, port int) (int64, error) {
	for {
		kvs, _, err := r.store.List(ctx, backendsPrefix)
		if err != nil {
			return 0, err
		}
		for _, kv := range kvs {
			var b Backend
			if json.Unmarshal(kv.Value, &b) == nil && strings.EqualFold(b.Host, host) && b.Port == port {
				return 0, fmt.Errorf("%w: %s", ErrBackendExists, joinHostPort(host, port))
			}
		}
		id, err := r.ids.NextIDs(ctx, 1)
		if err != nil {
			return 0, err
		}
		b := Backend{ID: id, Host: host, Port: port, AddTime: time.Now().UnixMilli()}
		// The address is claimed by a key of its own, so two concurrent
		// ADDs of one address cannot both win.
		rev, ok, err := r.store.Txn().IfModRev(addrKey(host, port), 0).
			Put(addrKey(host, port), id).Put(backendKey(id), b).Commit(ctx)
		if err != nil {
			return 0, err
		}
		if ok {
			return id, r.WaitRevision(ctx, rev)
		}
	}
}

func addrKey(host string, port int) string {
	return meta.Key("backend_addrs", strings.ToLower(joinHostPort(host, port)))
}

// DropBackend removes host:port from the cluster at once (ALTER SYSTEM DROP
// BACKEND); its replicas are lost to the cluster and repaired elsewhere.
func (r *Registry) DropBackend(ctx context.Context, host string, port int) error {
	b, err := r.find(ctx, host, port)
	if err != nil {
		return err
	}
	rev, _, err := r.store.Txn().Delete(backendKey(b.ID)).Delete(addrKey(b.Host, b.Port)).Commit(ctx)
	if err != nil {
		return err
	}
	return r.WaitRevision(ctx, rev)
}

// Decommission marks host:port decommissioned (ALTER SYSTEM DECOMMISSION
// BACKEND): new replicas avoid it, the tablet scheduler moves its replicas
// away and then drops it.
func (r *Registry) Decommission(ctx context.Context, host string, port int) error {
	for {
		b, err := r.find(ctx, host, port)
		if err != nil {
			return err
		}
		var cur Backend
		mod, _, err := r.store.Get(ctx, backendKey(b.ID), &cur)
		if err != nil {
			return err
		}
		if mod == 0 {
			continue
		}
		cur.Decommissioned = true
		rev, ok, err := r.store.Txn().IfModRev(backendKey(b.ID), mod).Put(backendKey(b.ID), cur).Commit(ctx)
		if err != nil {
			return err
		}
		if ok {
			return r.WaitRevision(ctx, rev)
		}
	}
}

// DropDecommissioned drops backend id once it holds no replica; the tablet
// scheduler calls it.
func (r *Registry) DropDecommissioned(ctx context.Context, id int64) error {
	var cur Backend
	mod, _, err := r.store.Get(ctx, backendKey(id), &cur)
	if err != nil || mod == 0 {
		return err
	}
	if !cur.Decommissioned {
		return fmt.Errorf("cluster: backend %d is not decommissioned", id)
	}
	_, _, err = r.store.Txn().IfModRev(backendKey(id), mod).Delete(backendKey(id)).Delete(addrKey(cur.Host, cur.Port)).Commit(ctx)
	return err
}

func (r *Registry) find(ctx context.Context, host string, port int) (Backend, error) {
	kvs, _, err := r.store.List(ctx, backendsPrefix)
	if err != nil {
		return Backend{}, err
	}
	for _, kv := range kvs {
		var b Backend
		if json.Unmarshal(kv.Value, &b) == nil && strings.EqualFold(b.Host, host) && b.Port == port {
			return b, nil
		}
	}
	return Backend{}, fmt.Errorf("%w: %s", ErrBackendNotFound, joinHostPort(host, port))
}

func joinHostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// SetAddr moves backend id to host:port (the embedded server's backend,
// after its RPC port changed).
func (r *Registry) SetAddr(ctx context.Context, id int64, host string, port int) error {
	for {
		var cur Backend
		mod, _, err := r.store.Get(ctx, backendKey(id), &cur)
		if err != nil {
			return err
		}
		if mod == 0 {
			return fmt.Errorf("%w: id %d", ErrBackendNotFound, id)
		}
		old := addrKey(cur.Host, cur.Port)
		cur.Host, cur.Port = host, port
		rev, ok, err := r.store.Txn().IfModRev(backendKey(id), mod).IfModRev(addrKey(host, port), 0).
			Delete(old).Put(addrKey(host, port), id).Put(backendKey(id), cur).Commit(ctx)
		if err != nil {
			return err
		}
		if ok {
			return r.WaitRevision(ctx, rev)
		}
		if _, taken := r.BackendByAddr(host, port); taken {
			return fmt.Errorf("%w: %s", ErrBackendExists, joinHostPort(host, port))
		}
	}
}

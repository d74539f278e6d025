package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/strata-db/strata/be/service"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/cluster"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/rpc"
)

// clusterView is how a process reaches the others: backends by id (the
// local one in process, the rest over RPC), the partitions' visible
// versions, and the leader frontend. It implements service.Cluster.
type clusterView struct {
	reg *cluster.Registry
	cat *catalog.Catalog
	rpc *rpc.Client
	// self is the backend in this process (nil: none) and selfID its id.
	self   *service.Service
	selfID int64
	// rr spreads loads over the backends.
	rr atomic.Uint64
}

var _ service.Cluster = (*clusterView)(nil)

// Backend resolves a backend id.
func (v *clusterView) Backend(id int64) (service.Backend, error) {
	if v.self != nil && id == v.selfID {
		return service.Local{S: v.self, RPC: v.rpc}, nil
	}
	addr, err := v.addr(id)
	if err != nil {
		return nil, err
	}
	return service.Remote{RPC: v.rpc, Addr: addr, ID: id}, nil
}

// addr is the RPC address of a live backend.
func (v *clusterView) addr(id int64) (string, error) {
	b, ok := v.reg.Backend(id)
	if !ok {
		return "", fmt.Errorf("backend %d is not in the cluster", id)
	}
	if !b.Alive {
		return "", &backendDownError{id: id, addr: b.Addr()}
	}
	return b.Addr(), nil
}

// backendDownError is a backend without its liveness lease. It is
// retryable: another replica may serve the request.
type backendDownError struct {
	id   int64
	addr string
}

func (e *backendDownError) Error() string {
	return fmt.Sprintf("backend %d (%s) is down", e.id, e.addr)
}

func (e *backendDownError) Retryable() bool { return true }

// Alive lists the backends that hold their lease, the local one always.
func (v *clusterView) Alive() []int64 {
	var out []int64
	for _, b := range v.reg.Backends() {
		if b.Alive || (v.self != nil && b.ID == v.selfID) {
			out = append(out, b.ID)
		}
	}
	return out
}

// Visible reads a partition's visible version in the catalog snapshot.
func (v *clusterView) Visible(dbID, tableID, partitionID int64) int64 {
	t, ok := v.cat.Snapshot().TableByID(dbID, tableID)
	if !ok {
		return 0
	}
	for i := range t.Partitions {
		if t.Partitions[i].ID == partitionID {
			return t.Partitions[i].VisibleVersion
		}
	}
	return 0
}

// pickHTTP chooses the backend a stream load is redirected to: the alive
// ones in turn.
func (v *clusterView) pickHTTP() (string, error) {
	var alive []cluster.BackendView
	for _, b := range v.reg.Backends() {
		if b.Alive && !b.Decommissioned {
			alive = append(alive, b)
		}
	}
	if len(alive) == 0 {
		return "", errors.New("no backend is alive to load into")
	}
	// A backend that died keeps its lease for up to its TTL: try each in
	// turn, and redirect to the first that accepts a connection.
	start := v.rr.Add(1)
	for i := range alive {
		b := alive[(start+uint64(i))%uint64(len(alive))]
		c, err := net.DialTimeout("tcp", b.HTTPAddr(), 300*time.Millisecond)
		if err != nil {
			continue
		}
		c.Close()
		return b.HTTPAddr(), nil
	}
	return "", errors.New("no backend accepts loads: every one refused a connection")
}

// leaderRPC returns the RPC address of the leader frontend.
func leaderRPC(ctx context.Context, store *meta.Store) (string, error) {
	val, err := meta.Leader(ctx, store.Client())
	if err != nil {
		return "", err
	}
	if val == "" {
		return "", errors.New("no frontend is the leader")
	}
	var f cluster.Frontend
	if err := json.Unmarshal([]byte(val), &f); err != nil {
		return "", fmt.Errorf("decoding the leader's address: %w", err)
	}
	return f.RPCAddr(), nil
}

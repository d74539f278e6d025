package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-db/strata/fe/cluster"
	"github.com/strata-db/strata/fe/meta"
)

// JoinResponse is what a frontend tells a backend that starts with
// `strata be --fe HOST:PORT`: the cluster it belongs to, the etcd cluster
// to keep its lease in, and its id once ALTER SYSTEM ADD BACKEND added it
// (0 until then).
type JoinResponse struct {
	ClusterID string   `json:"cluster_id"`
	Etcd      []string `json:"etcd"`
	BackendID int64    `json:"backend_id"`
}

// joinPath is the FE HTTP endpoint backends join through.
const joinPath = "/api/cluster/join"

var clusterIDKey = meta.Key("cluster_id")

// clusterID returns the cluster's id, creating it on the first start. It
// is not fenced: the first frontend to start writes it, once, before any
// leadership exists.
func clusterID(ctx context.Context, cli *clientv3.Client) (string, error) {
	id := uuid.NewString()
	resp, err := cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(clusterIDKey), "=", 0)).
		Then(clientv3.OpPut(clusterIDKey, id)).
		Else(clientv3.OpGet(clusterIDKey)).
		Commit()
	if err != nil {
		return "", fmt.Errorf("reading the cluster id: %w", err)
	}
	if resp.Succeeded {
		return id, nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 {
		return "", errors.New("reading the cluster id: the key vanished")
	}
	return string(kvs[0].Value), nil
}

// joinHandler answers backends joining the cluster.
func joinHandler(clusterID string, etcd []string, reg *cluster.Registry) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.URL.Query().Get("host")
		port, err := strconv.Atoi(r.URL.Query().Get("port"))
		if host == "" || err != nil {
			http.Error(w, "join needs host and port", http.StatusBadRequest)
			return
		}
		resp := JoinResponse{ClusterID: clusterID, Etcd: etcd}
		if b, ok := reg.BackendByAddr(host, port); ok {
			resp.BackendID = b.ID
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	})
}

// identity is what a backend's data directory belongs to; it is written at
// the first join, and a later start against another cluster, or as another
// backend, is refused rather than mixing data.
type identity struct {
	ClusterID string `json:"cluster_id"`
	BackendID int64  `json:"backend_id"`
}

func identityPath(dir string) string { return filepath.Join(dir, "cluster.json") }

func readIdentity(dir string) (identity, bool, error) {
	b, err := os.ReadFile(identityPath(dir))
	if errors.Is(err, os.ErrNotExist) {
		return identity{}, false, nil
	}
	if err != nil {
		return identity{}, false, err
	}
	var id identity
	if err := json.Unmarshal(b, &id); err != nil {
		return identity{}, false, fmt.Errorf("reading %s: %w", identityPath(dir), err)
	}
	return id, true, nil
}

func writeIdentity(dir string, id identity) error {
	b, _ := json.Marshal(id)
	tmp := identityPath(dir) + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, identityPath(dir))
}

// join asks the frontend at fe (host:port of its HTTP port) about the
// cluster until this backend has been added, logging what to run.
func join(ctx context.Context, fe, host string, port int, dir string, logf func(msg string, args ...any)) (JoinResponse, error) {
	url := fmt.Sprintf("http://%s%s?host=%s&port=%d", fe, joinPath, host, port)
	var last string
	for {
		resp, err := joinOnce(ctx, url)
		switch {
		case err != nil:
			if msg := err.Error(); msg != last {
				logf("cannot reach the frontend; retrying", "fe", fe, "err", err)
				last = msg
			}
		case resp.BackendID == 0:
			if last != "add" {
				logf(fmt.Sprintf("waiting to be added: run ALTER SYSTEM ADD BACKEND \"%s\" on a frontend", hostPort(host, port)))
				last = "add"
			}
		default:
			id, ok, err := readIdentity(dir)
			if err != nil {
				return resp, err
			}
			if ok && (id.ClusterID != resp.ClusterID || id.BackendID != resp.BackendID) {
				return resp, fmt.Errorf("the data directory %s belongs to backend %d of cluster %s, not backend %d of cluster %s",
					dir, id.BackendID, id.ClusterID, resp.BackendID, resp.ClusterID)
			}
			if !ok {
				if err := writeIdentity(dir, identity{ClusterID: resp.ClusterID, BackendID: resp.BackendID}); err != nil {
					return resp, err
				}
			}
			return resp, nil
		}
		select {
		case <-ctx.Done():
			return JoinResponse{}, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func joinOnce(ctx context.Context, url string) (JoinResponse, error) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		return JoinResponse{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return JoinResponse{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return JoinResponse{}, fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	var jr JoinResponse
	if err := json.NewDecoder(resp.Body).Decode(&jr); err != nil {
		return JoinResponse{}, fmt.Errorf("%s: %w", url, err)
	}
	return jr, nil
}

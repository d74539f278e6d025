package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/storage"
)

// Cluster is what a replicated write needs to know of the cluster.
type Cluster interface {
	// Backend returns the service of a backend, or an error when it is
	// unknown or down.
	Backend(id int64) (Backend, error)
	// Alive lists the backends that are up.
	Alive() []int64
	// Visible is a partition's visible version now (0: unknown).
	Visible(dbID, tableID, partitionID int64) int64
}

// Replicated writes a load into every replica of each tablet it writes
// (sink.Tablets). A tablet's write succeeds when a majority of its replicas
// hold the rows durably and were not behind their partition's visible
// version when the load closed (a replica with a version gap does not
// count: it cannot publish the load until it is repaired). Replicas that
// fail are left behind; the load goes on while a majority is writing.
type Replicated struct {
	C   Cluster
	Log *slog.Logger
}

var _ sink.Tablets = (*Replicated)(nil)

// Majority is how many of n replicas must hold a load.
func Majority(n int) int { return n/2 + 1 }

// OpenWriter opens a writer on every replica of the tablet.
func (r *Replicated) OpenWriter(tabletID, txnID int64, schema sink.TabletSchema, at sink.Placement) (sink.TabletWriter, error) {
	if len(at.Backends) == 0 {
		return nil, fmt.Errorf("tablet %d has no replicas placed", tabletID)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &replicatedWriter{r: r, tablet: tabletID, at: at, cancel: cancel, replicas: make([]replica, len(at.Backends))}
	var wg sync.WaitGroup
	for i, id := range at.Backends {
		w.replicas[i].backend = id
		wg.Add(1)
		go func(rep *replica) {
			defer wg.Done()
			be, err := r.C.Backend(rep.backend)
			if err == nil {
				rep.w, err = be.OpenWriter(ctx, tabletID, txnID, schema)
			}
			rep.err = err
		}(&w.replicas[i])
	}
	wg.Wait()
	if err := w.check(); err != nil {
		w.Cancel()
		return nil, err
	}
	return w, nil
}

type replica struct {
	backend int64
	w       ReplicaWriter // nil once failed
	err     error
}

type replicatedWriter struct {
	r        *Replicated
	tablet   int64
	at       sink.Placement
	cancel   context.CancelFunc
	replicas []replica
}

// check fails the write when fewer than a majority of replicas are still
// writing.
func (w *replicatedWriter) check() error {
	live := 0
	var errs []error
	for i := range w.replicas {
		rep := &w.replicas[i]
		if rep.err != nil {
			if rep.w != nil {
				rep.w.Cancel()
				rep.w = nil
			}
			errs = append(errs, fmt.Errorf("backend %d: %w", rep.backend, rep.err))
			continue
		}
		live++
	}
	if live < Majority(len(w.replicas)) {
		return &QuorumError{Tablet: w.tablet, Have: live, Need: Majority(len(w.replicas)), Errs: errs}
	}
	return nil
}

func (w *replicatedWriter) Write(cols []arrow.Array) error {
	for i := range w.replicas {
		rep := &w.replicas[i]
		if rep.w == nil {
			continue
		}
		if err := rep.w.Write(cols); err != nil {
			rep.err = err
			w.r.log().Warn("a replica failed a write; the load goes on without it", "tablet", w.tablet, "backend", rep.backend, "err", err)
		}
	}
	return w.check()
}

// Close closes every replica at once and counts those that hold the rows
// and are up to date.
func (w *replicatedWriter) Close() error {
	defer w.cancel()
	visible := w.r.C.Visible(w.at.DBID, w.at.TableID, w.at.PartitionID)
	var wg sync.WaitGroup
	for i := range w.replicas {
		rep := &w.replicas[i]
		if rep.w == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := rep.w.Close()
			rep.w = nil
			switch {
			case err != nil:
				rep.err = err
			case v < visible && !w.at.Building:
				rep.err = fmt.Errorf("the replica is at version %d, behind the partition's %d", v, visible)
			}
		}()
	}
	wg.Wait()
	for _, rep := range w.replicas {
		if rep.err != nil {
			w.r.log().Warn("a replica does not hold the load", "tablet", w.tablet, "backend", rep.backend, "err", rep.err)
		}
	}
	return w.check()
}

// Replicas are the backends that hold the rows after Close.
func (w *replicatedWriter) Replicas() []int64 {
	var out []int64
	for _, rep := range w.replicas {
		if rep.err == nil {
			out = append(out, rep.backend)
		}
	}
	return out
}

func (w *replicatedWriter) Cancel() {
	for i := range w.replicas {
		if rep := &w.replicas[i]; rep.w != nil {
			rep.w.Cancel()
			rep.w = nil
		}
	}
	w.cancel()
}

// AddDelete records the condition on every replica; a majority must take it.
func (r *Replicated) AddDelete(tabletID, txnID int64, schema sink.TabletSchema, pred storage.DeletePredicate, at sink.Placement) error {
	if len(at.Backends) == 0 {
		return fmt.Errorf("tablet %d has no replicas placed", tabletID)
	}
	errs := make([]error, len(at.Backends))
	var wg sync.WaitGroup
	for i, id := range at.Backends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			be, err := r.C.Backend(id)
			if err == nil {
				err = be.AddDelete(context.Background(), tabletID, txnID, schema, pred)
			}
			if err != nil {
				errs[i] = fmt.Errorf("backend %d: %w", id, err)
			}
		}()
	}
	wg.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	if have := len(at.Backends) - len(failed); have < Majority(len(at.Backends)) {
		return &QuorumError{Tablet: tabletID, Have: have, Need: Majority(len(at.Backends)), Errs: failed}
	}
	return nil
}

// AbortTxn discards the transaction's pending rowsets on every backend that
// is up; one that is down drops them itself once it sees the transaction
// aborted.
func (r *Replicated) AbortTxn(txnID int64) error {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, id := range r.C.Alive() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			be, err := r.C.Backend(id)
			if err == nil {
				err = be.AbortTxn(context.Background(), txnID)
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("backend %d: %w", id, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (r *Replicated) log() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}

// QuorumError is a tablet write that fewer than a majority of its replicas
// took.
type QuorumError struct {
	Tablet     int64
	Have, Need int
	Errs       []error
}

func (e *QuorumError) Error() string {
	return fmt.Sprintf("tablet %d: only %d replicas took the load, %d needed: %v", e.Tablet, e.Have, e.Need, errors.Join(e.Errs...))
}

// Unwrap exposes the replicas' errors (a version limit stays recognizable).
func (e *QuorumError) Unwrap() []error { return e.Errs }

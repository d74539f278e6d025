package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-db/strata/fe/meta"
)

// Options configure a Catalog. The zero value is usable.
type Options struct {
	// IDs allocates database, table, partition and tablet ids. nil: an
	// allocator on the "catalog" counter with blocks of 256.
	IDs *meta.IDAllocator
	// Now is the clock for creation times; nil means time.Now.
	Now func() time.Time
	// Logger receives watch trouble (re-lists, reconnects); nil means
	// slog.Default().
	Logger *slog.Logger
	// Place chooses the backends of every bucket of a new table's
	// partitions (Partition.Backends), given the table with its ids
	// assigned; nil leaves them unplaced.
	Place func(t *Table) error
}

// Catalog owns the persisted databases and tables.
//
// Reads go to the current immutable [Snapshot], which a watch on the
// catalog keys keeps current, so any number of Catalogs (one per FE) over one
// etcd agree. Writes are etcd transactions that compare the mod revisions
// they read; a lost race re-reads and retries. A write returns only after the
// watch has applied its revision, so the caller's next Snapshot shows it.
//
// All methods are safe for concurrent use.
type Catalog struct {
	// Immutable after Open.
	store  *meta.Store
	ids    *meta.IDAllocator
	place  func(t *Table) error
	now    func() time.Time
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}

	snap atomic.Pointer[Snapshot]

	mu      sync.Mutex    // protects following fields
	changed chan struct{} // closed and replaced when a new snapshot is published
	closed  bool
}

// Open lists the catalog, publishes the first snapshot and starts the watch
// that keeps it current. Close stops the watch.
func Open(ctx context.Context, store *meta.Store, opts Options) (*Catalog, error) {
	c := &Catalog{
		store:   store,
		ids:     opts.IDs,
		place:   opts.Place,
		now:     opts.Now,
		log:     opts.Logger,
		done:    make(chan struct{}),
		changed: make(chan struct{}),
	}
	if c.ids == nil {
		c.ids = meta.NewIDAllocator(store, "catalog", 256)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	st, rev, err := c.list(ctx)
	if err != nil {
		return nil, err
	}
	c.publish(st.snapshot(emptySnapshot, rev))
	wctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.watch(wctx, st, rev)
	return c, nil
}

// Close stops the watch. Snapshots stay readable; writes fail.
func (c *Catalog) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	<-c.done
}

// Snapshot returns the current snapshot.
func (c *Catalog) Snapshot() *Snapshot { return c.snap.Load() }

// Changed returns a channel closed when a snapshot newer than the current
// one is published.
func (c *Catalog) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// WaitRevision waits until the snapshot reflects etcd revision rev.
func (c *Catalog) WaitRevision(ctx context.Context, rev int64) error {
	for {
		ch := c.Changed()
		if c.Snapshot().Revision() >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-c.done:
			return errors.New("catalog: closed")
		case <-ctx.Done():
			return fmt.Errorf("catalog: waiting for revision %d: %w", rev, ctx.Err())
		}
	}
}

func (c *Catalog) publish(s *Snapshot) {
	c.snap.Store(s)
	c.mu.Lock()
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// list reads the whole catalog at one revision.
func (c *Catalog) list(ctx context.Context) (*state, int64, error) {
	kvs, rev, err := c.store.List(ctx, catalogPrefix)
	if err != nil {
		return nil, 0, fmt.Errorf("catalog: listing: %w", err)
	}
	st := newState()
	for _, kv := range kvs {
		if err := st.apply(kv.Key, kv.Value, false); err != nil {
			// A value we cannot decode is skipped, not fatal: one bad
			// key must not take the whole catalog down.
			c.log.Error("catalog: skipping undecodable key", "key", kv.Key, "err", err)
		}
	}
	return st, rev, nil
}

// apply applies one put or delete to st.
func (st *state) apply(key string, value []byte, del bool) error {
	kind, dbID, name, tableID, err := parseKey(key)
	if err != nil {
		return err
	}
	switch kind {
	case keyDB:
		if del {
			st.deleteDB(name)
			return nil
		}
		var db Database
		if err := json.Unmarshal(value, &db); err != nil {
			return fmt.Errorf("catalog: decoding %s: %w", key, err)
		}
		st.putDB(name, &db)
	case keyTable:
		if del {
			st.deleteTable(dbID, name)
			return nil
		}
		var t Table
		if err := json.Unmarshal(value, &t); err != nil {
			return fmt.Errorf("catalog: decoding %s: %w", key, err)
		}
		st.putTable(dbID, name, &t)
	case keyVersions:
		if del {
			st.deleteVersions(dbID, tableID)
			return nil
		}
		var v TableVersions
		if err := json.Unmarshal(value, &v); err != nil {
			return fmt.Errorf("catalog: decoding %s: %w", key, err)
		}
		st.putVersions(dbID, tableID, &v)
	}
	return nil
}

// watch keeps the snapshot current from rev on. When etcd has compacted
// past the revision it needs, it re-lists and continues from the listing.
func (c *Catalog) watch(ctx context.Context, st *state, rev int64) {
	defer close(c.done)
	cli := c.store.Client()
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		wch := cli.Watch(wctx, catalogPrefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		relist := false
		for resp := range wch {
			if resp.CompactRevision != 0 || errors.Is(resp.Err(), rpctypes.ErrCompacted) {
				c.log.Warn("catalog: watch fell behind a compaction; re-listing", "rev", rev, "compacted", resp.CompactRevision)
				relist = true
				break
			}
			if err := resp.Err(); err != nil {
				c.log.Warn("catalog: watch error; re-watching", "rev", rev, "err", err)
				break
			}
			if len(resp.Events) == 0 {
				continue
			}
			for _, ev := range resp.Events {
				if err := st.apply(string(ev.Kv.Key), ev.Kv.Value, ev.Type == mvccpb.DELETE); err != nil {
					c.log.Error("catalog: skipping undecodable key", "key", string(ev.Kv.Key), "err", err)
				}
			}
			// Events of one revision arrive in one response, so the
			// snapshot never shows part of a transaction.
			rev = resp.Events[len(resp.Events)-1].Kv.ModRevision
			c.publish(st.snapshot(c.Snapshot(), rev))
		}
		cancel()
		if relist {
			for ctx.Err() == nil {
				nst, nrev, err := c.list(ctx)
				if err == nil {
					st, rev = nst, nrev
					c.publish(st.snapshot(emptySnapshot, rev))
					break
				}
				c.log.Warn("catalog: re-listing", "err", err)
				sleep(ctx, 200*time.Millisecond)
			}
			continue
		}
		sleep(ctx, 50*time.Millisecond)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

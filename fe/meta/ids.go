package meta

import (
	"context"
	"fmt"
	"sync"
)

// IDAllocator hands out int64 ids that are unique across every process
// sharing the etcd cluster. It reserves ids in blocks by a CAS on one counter
// key, so most calls touch no network.
//
// Ids from one allocator increase. Ids from two allocators on the same key
// are unique but interleave in blocks; a user that needs one global order
// (transaction ids) uses an allocator on the leader only, where each new
// leader's first block lies above everything handed out before.
//
// Reserved ids a process never uses (it exits mid-block) are skipped, never
// reused. Safe for concurrent use.
type IDAllocator struct {
	s     *Store
	key   string
	block int64

	mu   sync.Mutex // protects following fields
	next int64      // next id to hand out
	end  int64      // first id not reserved
}

// FirstID is the value of a fresh counter: ids start above the small numbers
// people type in tests and examples.
const FirstID = 10000

// NewIDAllocator returns an allocator on the counter Key("ids", name),
// reserving block ids per etcd round trip (at least 1).
func NewIDAllocator(s *Store, name string, block int64) *IDAllocator {
	if block < 1 {
		block = 1
	}
	return &IDAllocator{s: s, key: Key("ids", name), block: block}
}

// NextIDs reserves n consecutive ids and returns the first.
func (a *IDAllocator) NextIDs(ctx context.Context, n int64) (int64, error) {
	if n < 1 {
		panic(fmt.Sprintf("BUG: meta: NextIDs(%d)", n))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.end-a.next < n {
		// Reserve a fresh range; what is left of the old block is dropped
		// so that the n ids are consecutive.
		first, err := a.reserveLocked(ctx, max(n, a.block))
		if err != nil {
			return 0, err
		}
		a.next, a.end = first, first+max(n, a.block)
	}
	first := a.next
	a.next += n
	return first, nil
}

func (a *IDAllocator) reserveLocked(ctx context.Context, n int64) (int64, error) {
	for {
		var cur int64
		modRev, _, err := a.s.Get(ctx, a.key, &cur)
		if err != nil {
			return 0, fmt.Errorf("meta: reading id counter: %w", err)
		}
		if modRev == 0 {
			cur = FirstID
		}
		_, ok, err := a.s.Txn().IfModRev(a.key, modRev).Put(a.key, cur+n).Commit(ctx)
		if err != nil {
			return 0, fmt.Errorf("meta: advancing id counter: %w", err)
		}
		if ok {
			return cur, nil
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
}

// Reset drops what is left of the reserved block, so that the next id comes
// from a fresh reservation. A frontend that becomes the leader again calls
// it: ids another leader handed out meanwhile may lie above its old block.
func (a *IDAllocator) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.next, a.end = 0, 0
}

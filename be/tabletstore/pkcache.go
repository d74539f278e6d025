package tabletstore

import (
	"container/list"
	"sync"
)

// DefaultPKIndexMemory is Options.PKIndexMemory's default.
const DefaultPKIndexMemory = 512 << 20

// pkCache bounds the memory the primary-key indexes of merge-on-write
// rowsets hold. An index is read when a publish or a check first needs it
// and stays with its rowset; past the limit, the indexes used least
// recently are dropped (a user holding one keeps it until done) and read
// again when next needed.
type pkCache struct {
	mu    sync.Mutex // protects the fields below; taken before a rowset's mu
	limit int64
	used  int64
	lru   *list.List // pkEntry, most recently used first
	at    map[*rowset]*list.Element
	drops int64 // indexes dropped, for tests
}

func newPKCache(limit int64) *pkCache {
	return &pkCache{limit: limit, lru: list.New(), at: map[*rowset]*list.Element{}}
}

// touch records a use of rs's loaded indexes, of size bytes; a rowset not
// yet counted is added, unless its indexes were dropped meanwhile. It
// drops the least recently used others past the limit.
func (c *pkCache) touch(rs *rowset, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.at[rs]; ok {
		c.lru.MoveToFront(e)
		return
	}
	rs.mu.Lock()
	held := rs.pks != nil
	rs.mu.Unlock()
	if !held {
		return // dropped by another user's touch since this one read them
	}
	c.at[rs] = c.lru.PushFront(pkEntry{rs, size})
	c.used += size
	for c.used > c.limit && c.lru.Len() > 1 {
		e := c.lru.Back()
		victim := e.Value.(pkEntry)
		c.lru.Remove(e)
		delete(c.at, victim.rs)
		c.used -= victim.size
		victim.rs.mu.Lock()
		victim.rs.pks, victim.rs.pkBytes = nil, 0
		victim.rs.mu.Unlock()
		c.drops++
	}
}

// forget drops rs's indexes and stops counting them: rs is going away (a
// clone that was not installed, a swept compaction input, a dropped
// tablet) or was replaced by a compaction. The store's lock is not held.
func (c *pkCache) forget(rs *rowset) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.at[rs]; ok {
		c.lru.Remove(e)
		delete(c.at, rs)
		c.used -= e.Value.(pkEntry).size
	}
	rs.mu.Lock()
	rs.pks, rs.pkBytes = nil, 0
	rs.mu.Unlock()
}

// pkEntry is a rowset whose indexes the cache counts, and their size as
// counted.
type pkEntry struct {
	rs   *rowset
	size int64
}

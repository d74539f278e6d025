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
	lru   *list.List // *rowset, most recently used first
	at    map[*rowset]*list.Element
	drops int64 // indexes dropped, for tests
}

func newPKCache(limit int64) *pkCache {
	return &pkCache{limit: limit, lru: list.New(), at: map[*rowset]*list.Element{}}
}

// touch records a use of rs's loaded indexes, of size bytes; a rowset not
// yet counted is added. It drops the least recently used others past the
// limit.
func (c *pkCache) touch(rs *rowset, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.at[rs]; ok {
		c.lru.MoveToFront(e)
		return
	}
	c.at[rs] = c.lru.PushFront(rs)
	c.used += size
	for c.used > c.limit && c.lru.Len() > 1 {
		e := c.lru.Back()
		victim := e.Value.(*rowset)
		c.lru.Remove(e)
		delete(c.at, victim)
		victim.mu.Lock()
		c.used -= victim.pkBytes
		victim.pks, victim.pkBytes = nil, 0
		victim.mu.Unlock()
		c.drops++
	}
}

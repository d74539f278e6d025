package storage

import (
	"container/list"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// PageCache keeps decoded pages in memory, least recently used out first,
// within a byte budget: a hot query then reads no file, verifies no CRC and
// decompresses and decodes nothing. Segments opt in with [Segment.SetCache];
// one cache serves every segment of a process. It is safe for concurrent use.
//
// Cached arrays are immutable and shared: a read returns the cached array
// retained for the caller, and eviction drops only the cache's reference.
type PageCache struct {
	capacity int64
	shards   [pageCacheShards]cacheShard

	hits, misses atomic.Int64
}

const pageCacheShards = 16

type cacheShard struct {
	mu    sync.Mutex
	size  int64
	lru   list.List // of *cacheEntry, most recent first
	items map[pageKey]*list.Element
}

type pageKey struct {
	seg  uint64 // Segment.id
	col  uint32
	page int32
	dict bool
}

type cacheEntry struct {
	key  pageKey
	arr  arrow.Array
	size int64
}

// NewPageCache returns a cache holding at most capacity bytes of decoded
// pages (capacity <= 0 caches nothing).
func NewPageCache(capacity int64) *PageCache {
	c := &PageCache{capacity: capacity}
	for i := range c.shards {
		c.shards[i].items = map[pageKey]*list.Element{}
	}
	return c
}

// PageCacheStats are a cache's counters.
type PageCacheStats struct {
	Capacity, Bytes, Pages int64
	Hits, Misses           int64
}

// Stats returns the cache's current size and hit counters.
func (c *PageCache) Stats() PageCacheStats {
	st := PageCacheStats{Capacity: c.capacity, Hits: c.hits.Load(), Misses: c.misses.Load()}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		st.Bytes += s.size
		st.Pages += int64(len(s.items))
		s.mu.Unlock()
	}
	return st
}

func (c *PageCache) shard(k pageKey) *cacheShard {
	h := k.seg*0x9E3779B97F4A7C15 ^ uint64(k.col)*0xC2B2AE3D27D4EB4F ^ uint64(k.page)*0x165667B19E3779F9
	return &c.shards[(h>>32)%pageCacheShards]
}

// get returns the cached page retained, or nil.
func (c *PageCache) get(k pageKey) arrow.Array {
	s := c.shard(k)
	s.mu.Lock()
	el, ok := s.items[k]
	if !ok {
		s.mu.Unlock()
		c.misses.Add(1)
		return nil
	}
	s.lru.MoveToFront(el)
	arr := el.Value.(*cacheEntry).arr
	arr.Retain()
	s.mu.Unlock()
	c.hits.Add(1)
	return arr
}

// put caches arr (taking over the caller's reference) and returns the
// cached page retained for the caller: arr, or the copy another reader put
// first.
func (c *PageCache) put(k pageKey, arr arrow.Array) arrow.Array {
	size := arraySize(arr)
	shardCap := c.capacity / pageCacheShards
	if size > shardCap {
		return arr // never fits; the caller keeps it
	}
	if d, ok := arr.(*array.Dictionary); ok {
		d.Dictionary() // built lazily and unsynchronized: build it before sharing
	}
	s := c.shard(k)
	s.mu.Lock()
	if el, ok := s.items[k]; ok {
		s.lru.MoveToFront(el)
		cached := el.Value.(*cacheEntry).arr
		cached.Retain()
		s.mu.Unlock()
		arr.Release()
		return cached
	}
	arr.Retain() // the cache's reference
	s.items[k] = s.lru.PushFront(&cacheEntry{key: k, arr: arr, size: size})
	s.size += size
	var evicted []arrow.Array
	for s.size > shardCap {
		el := s.lru.Back()
		e := el.Value.(*cacheEntry)
		s.lru.Remove(el)
		delete(s.items, e.key)
		s.size -= e.size
		evicted = append(evicted, e.arr)
	}
	s.mu.Unlock()
	for _, a := range evicted {
		a.Release()
	}
	return arr
}

// remove evicts the page of k if it is cached.
func (c *PageCache) remove(k pageKey) {
	s := c.shard(k)
	s.mu.Lock()
	el, ok := s.items[k]
	if !ok {
		s.mu.Unlock()
		return
	}
	e := el.Value.(*cacheEntry)
	s.lru.Remove(el)
	delete(s.items, k)
	s.size -= e.size
	s.mu.Unlock()
	e.arr.Release()
}

// arraySize is the bytes of arr's buffers, its dictionary's included.
func arraySize(arr arrow.Array) int64 {
	return dataSize(arr.Data())
}

func dataSize(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, ch := range d.Children() {
		n += dataSize(ch)
	}
	if dd, ok := d.(*array.Data); ok {
		if dict, ok := dd.Dictionary().(*array.Data); ok && dict != nil {
			n += dataSize(dict)
		}
	}
	return n
}

// segmentIDs numbers open segments for cache keys.
var segmentIDs atomic.Uint64

// SetCache makes the segment read its pages through c (nil: no cache).
// Call it before the segment is shared.
func (s *Segment) SetCache(c *PageCache) { s.cache = c }

// DropCached evicts the pages the segment put in its cache. Call it when
// the segment will not be read again, as its file is closed: its pages are
// keyed by this open segment, so no reader would ever hit them again, yet
// they would hold their share of the cache, crowding out live pages, until
// the least-recently-used order reached them. The keys are worked out from
// the segment's columns and pages rather than recorded as pages are cached,
// so reads cost nothing extra and a long-lived segment keeps no list of
// every page ever read. A read after DropCached still works, and caches its
// page again.
func (s *Segment) DropCached() {
	if s.cache == nil {
		return
	}
	for _, c := range s.cols {
		for p := range c.pages {
			s.cache.remove(pageKey{seg: s.id, col: c.meta.ID, page: int32(p)})
			if c.pt == physString {
				s.cache.remove(pageKey{seg: s.id, col: c.meta.ID, page: int32(p), dict: true})
			}
		}
	}
}

// cachedRead returns page of c from the segment's cache, decoding and
// caching it on a miss. Cached pages are decoded with the Go allocator: they
// outlive the query whose allocator the caller passes.
func (c *ColumnReader) cachedRead(page int, dict bool) (arrow.Array, error) {
	if c.pt != physString {
		dict = false
	}
	k := pageKey{seg: c.seg.id, col: c.meta.ID, page: int32(page), dict: dict}
	cache := c.seg.cache
	if arr := cache.get(k); arr != nil {
		return arr, nil
	}
	arr, err := c.decode(page, memory.DefaultAllocator, dict)
	if err != nil {
		return nil, err
	}
	return cache.put(k, arr), nil
}

package storage

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// TestPageCache reads every page of a cached segment from several
// goroutines, in both forms, under a budget that forces evictions: every
// read must equal the uncached decode, held arrays must survive eviction,
// and the budget must hold.
func TestPageCache(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	const rows = 4000
	ints := genArray(t, memory.DefaultAllocator, rng, arrow.PrimitiveTypes.Int64, patRandom, 0.1, rows)
	strs := genArray(t, memory.DefaultAllocator, rng, arrow.BinaryTypes.String, patDict, 0.1, rows)
	defer ints.Release()
	defer strs.Release()
	metas := []ColumnMeta{{ID: 1, Type: ints.DataType(), Nullable: true}, {ID: 2, Type: strs.DataType(), Nullable: true}}
	file := writeSegment(t, metas, WriterOptions{PageRows: 250}, []arrow.Array{ints, strs}, 500)
	open := func() *Segment {
		seg, err := Open(bytes.NewReader(file), int64(len(file)))
		require.NoError(t, err)
		return seg
	}
	plain := open()
	cached := open()
	// Room for a few pages per shard only.
	cache := NewPageCache(pageCacheShards * 6 << 10)
	cached.SetCache(cache)

	type heldPage struct {
		col  uint32
		dict bool
		arr  arrow.Array
	}
	var held []heldPage
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 3 {
				for p := range cached.NumPages() {
					for _, id := range []uint32{1, 2} {
						dict := (p+w+round)%2 == 0
						want, err := plain.Column(id).readArray(p, memory.DefaultAllocator, dict)
						require.NoError(t, err)
						got, err := cached.Column(id).readArray(p, memory.DefaultAllocator, dict)
						require.NoError(t, err)
						require.True(t, sameArray(want, got), "page %d column %d dict %v", p, id, dict)
						want.Release()
						if p == 0 && round == 0 {
							mu.Lock()
							held = append(held, heldPage{id, dict, got}) // kept past eviction
							mu.Unlock()
						} else {
							got.Release()
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	st := cache.Stats()
	require.Positive(t, st.Hits)
	require.Positive(t, st.Misses)
	require.LessOrEqual(t, st.Bytes, st.Capacity)
	for _, h := range held {
		want, err := plain.Column(h.col).readArray(0, memory.DefaultAllocator, h.dict)
		require.NoError(t, err)
		require.True(t, sameArray(want, h.arr))
		want.Release()
		h.arr.Release()
	}
	// A zero budget caches nothing and still reads correctly.
	none := open()
	none.SetCache(NewPageCache(0))
	a, err := none.Column(2).ReadPage(1, memory.DefaultAllocator)
	require.NoError(t, err)
	b, err := plain.Column(2).ReadPage(1, memory.DefaultAllocator)
	require.NoError(t, err)
	require.True(t, array.Equal(a, b))
	a.Release()
	b.Release()
}

// sameArray compares two arrays of the same form (plain or dictionary).
func sameArray(a, b arrow.Array) bool {
	da, ok1 := a.(*array.Dictionary)
	db, ok2 := b.(*array.Dictionary)
	if ok1 != ok2 {
		return false
	}
	if !ok1 {
		return array.Equal(a, b)
	}
	return array.Equal(da.Indices(), db.Indices()) && array.Equal(da.Dictionary(), db.Dictionary())
}

// TestPageCacheDropCached evicts a closed segment's pages and only its
// own: another open of the same file keeps its pages cached, arrays
// readers still hold stay valid, and a read after the drop still works.
func TestPageCacheDropCached(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const rows = 2000
	ints := genArray(t, memory.DefaultAllocator, rng, arrow.PrimitiveTypes.Int64, patRandom, 0.1, rows)
	defer ints.Release()
	metas := []ColumnMeta{{ID: 1, Type: ints.DataType(), Nullable: true}}
	file := writeSegment(t, metas, WriterOptions{PageRows: 250}, []arrow.Array{ints}, 500)
	cache := NewPageCache(64 << 20)
	open := func() *Segment {
		seg, err := Open(bytes.NewReader(file), int64(len(file)))
		require.NoError(t, err)
		seg.SetCache(cache)
		return seg
	}
	readAll := func(seg *Segment) []arrow.Array {
		var out []arrow.Array
		for p := range seg.NumPages() {
			a, err := seg.Column(1).ReadPage(p, memory.DefaultAllocator)
			require.NoError(t, err)
			out = append(out, a)
		}
		return out
	}
	release := func(arrs []arrow.Array) {
		for _, a := range arrs {
			a.Release()
		}
	}
	closed, kept := open(), open()
	held := readAll(closed)
	release(readAll(closed)) // hits
	release(readAll(kept))
	st := cache.Stats()
	pages := int64(closed.NumPages())
	require.Equal(t, 2*pages, st.Pages)

	closed.DropCached()
	after := cache.Stats()
	require.Equal(t, pages, after.Pages, "the closed segment's pages left, the other's stayed")
	require.Equal(t, st.Bytes/2, after.Bytes)
	closed.DropCached() // nothing left to drop
	require.Equal(t, after, cache.Stats())

	// What readers hold outlives the drop.
	again := readAll(kept)
	for i := range held {
		require.True(t, array.Equal(again[i], held[i]), "page %d", i)
	}
	release(again)
	release(held)
	require.Equal(t, after.Hits+pages, cache.Stats().Hits, "the kept segment's pages were still cached")

	// A segment read after its drop caches its pages again.
	release(readAll(closed))
	require.Equal(t, 2*pages, cache.Stats().Pages)
}

package exec

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// pagePool is a memory.Allocator that recycles buffers by power-of-two size
// class. Scans decode every page into fresh buffers and release them a
// batch later; taking them from the Go heap each time makes the garbage
// collector, not the decoders, the largest cost of a scan. Buffers come back
// zeroed, as the Go allocator's do.
var pagePool = &poolAllocator{}

type poolAllocator struct {
	classes [48]sync.Pool // class c holds *[]byte of capacity 1<<c
}

var _ memory.Allocator = (*poolAllocator)(nil)

const minPoolClass = 6 // 64 bytes, arrow's buffer alignment

func sizeClass(n int) int {
	return max(bits.Len(uint(n-1)), minPoolClass)
}

func (p *poolAllocator) Allocate(size int) []byte {
	if size <= 0 {
		return []byte{}
	}
	c := sizeClass(size)
	if c >= len(p.classes) {
		return make([]byte, size)
	}
	if v := p.classes[c].Get(); v != nil {
		b := (*v.(*[]byte))[:size]
		clear(b)
		return b
	}
	return make([]byte, size, 1<<c)
}

func (p *poolAllocator) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		old := len(b)
		b = b[:size]
		if size > old {
			clear(b[old:])
		}
		return b
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

func (p *poolAllocator) Free(b []byte) {
	c := cap(b)
	if c == 0 || c&(c-1) != 0 || c < 1<<minPoolClass {
		return // not one of ours
	}
	k := bits.Len(uint(c - 1))
	if k >= len(p.classes) {
		return
	}
	b = b[:0]
	p.classes[k].Put(&b)
}

// int64Pool recycles the int64 slices that views widen narrower integer
// columns into (see EvalContext.endBatch).
var int64Pool = sync.Pool{New: func() any { return new([]int64) }}

func getInt64s(n int) []int64 {
	p := int64Pool.Get().(*[]int64)
	if cap(*p) < n {
		return make([]int64, n)
	}
	return (*p)[:n]
}

func putInt64s(s []int64) {
	if cap(s) < 64 {
		return
	}
	s = s[:0]
	int64Pool.Put(&s)
}

package keymodel

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Folder folds a stream of chunks, each sorted as Fold wants and
// continuing the order of the one before, in which the rows of one key
// may span chunks (a merge's output).
//
// A Folder runs one chunk behind: Push keeps the chunk it is given and
// returns the folded rows of the chunk before, whose keys the new chunk
// completes; Finish returns the last chunk's. Folded output is, as with
// Fold, the chunk's own arrays when no two of its rows share a key, so a
// stream without duplicate keys is folded without a copy. Only a key
// whose rows span chunks is copied, with the chunk it ends in; a key
// spanning many chunks is kept folded into one row, its rows thus folded
// in more than one step (see the package doc on associativity).
//
// A Folder is used by one goroutine. After an error it is unusable. A
// Folder dropped before Finish keeps its references to one chunk, which
// only an allocator that must balance (memory.CheckedAllocator) notices.
type Folder struct {
	m   *Model
	mem memory.Allocator
	// pending are the rows pushed and not yet returned: every key but the
	// last is complete. Retained; nil for none.
	pending []arrow.Array
	s       scratch
}

// NewFolder returns a Folder of m whose new arrays come from mem.
func (m *Model) NewFolder(mem memory.Allocator) *Folder {
	return &Folder{m: m, mem: mem}
}

// Push takes the next chunk and returns the folded rows of the keys it
// completes, or nil when there are none. The Folder keeps references to
// the chunk's arrays (Arrow arrays do not change) and may return them or
// slices of them; the caller keeps its own references, releases them as
// it likes, and releases the result.
func (f *Folder) Push(cols []arrow.Array) ([]arrow.Array, error) {
	n, err := f.m.check(cols)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	if f.m.Kind == Duplicate {
		return retained(cols), nil
	}
	if f.pending == nil {
		f.pending = retained(cols)
		return nil, nil
	}
	for c, a := range cols {
		if !arrow.TypeEqual(a.DataType(), f.pending[c].DataType()) {
			return nil, fmt.Errorf("keymodel: column %d is %s, was %s in the chunk before", c, a.DataType(), f.pending[c].DataType())
		}
	}
	p := f.pending[0].Len()
	if !f.m.sameKey(f.pending, p-1, cols, 0) {
		// The common case: the pending rows are complete.
		out, err := f.m.Fold(f.pending, f.mem)
		if err != nil {
			return nil, err
		}
		f.replace(retained(cols))
		return out, nil
	}

	// The chunk's first k rows continue the pending rows' last key.
	f.m.markGroups(cols, n, &f.s)
	k := int(groupBounds(n, &f.s)[1])
	if k < n {
		joined, err := f.concat(f.pending, cols, 0, k)
		if err != nil {
			return nil, err
		}
		defer releaseAll(joined)
		out, err := f.m.Fold(joined, f.mem)
		if err != nil {
			return nil, err
		}
		f.replace(slice(cols, k, n))
		return out, nil
	}

	// The whole chunk continues the last key: return the complete keys
	// before it, fold it with the chunk into one row and keep that.
	f.m.markGroups(f.pending, p, &f.s)
	b := groupBounds(p, &f.s)
	last := int(b[len(b)-2])
	var out []arrow.Array
	if last > 0 {
		done := slice(f.pending, 0, last)
		out, err = f.m.Fold(done, f.mem)
		releaseAll(done)
		if err != nil {
			return nil, err
		}
	}
	tail := slice(f.pending, last, p)
	joined, err := f.concat(tail, cols, 0, n)
	releaseAll(tail)
	if err != nil {
		releaseAll(out)
		return nil, err
	}
	defer releaseAll(joined)
	held, err := f.m.foldGroups(joined, []int32{0, int32(p - last + n)}, nil, f.mem, &f.s)
	if err != nil {
		releaseAll(out)
		return nil, err
	}
	f.replace(held)
	return out, nil
}

// Finish returns the folded rows pushed and not yet returned, or nil when
// there are none. The caller releases the result. The Folder may then
// take a new stream.
func (f *Folder) Finish() ([]arrow.Array, error) {
	if f.pending == nil {
		return nil, nil
	}
	out, err := f.m.Fold(f.pending, f.mem)
	f.replace(nil)
	return out, err
}

// replace lets go of the pending rows and keeps cols instead.
func (f *Folder) replace(cols []arrow.Array) {
	releaseAll(f.pending)
	f.pending = cols
}

// concat joins a and rows [lo, hi) of b, column by column.
func (f *Folder) concat(a, b []arrow.Array, lo, hi int) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(a))
	for c := range a {
		part := array.NewSlice(b[c], int64(lo), int64(hi))
		j, err := array.Concatenate([]arrow.Array{a[c], part}, f.mem)
		part.Release()
		if err != nil {
			releaseAll(out)
			return nil, fmt.Errorf("keymodel: joining column %d across chunks: %w", c, err)
		}
		out[c] = j
	}
	return out, nil
}

// slice returns rows [lo, hi) of cols.
func slice(cols []arrow.Array, lo, hi int) []arrow.Array {
	out := make([]arrow.Array, len(cols))
	for c, a := range cols {
		out[c] = array.NewSlice(a, int64(lo), int64(hi))
	}
	return out
}

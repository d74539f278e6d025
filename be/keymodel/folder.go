package keymodel

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Folder folds a stream of sorted chunks in which the rows of one key may
// span chunks (a merge's output): each Push returns the folded rows whose
// keys are complete and holds back the last key, which the next chunk may
// continue; Finish folds what is held.
type Folder struct {
	m    *Model
	mem  memory.Allocator
	tail []arrow.Array // the rows of the last key seen, not yet folded
}

// NewFolder returns a Folder of m.
func (m *Model) NewFolder(mem memory.Allocator) *Folder {
	return &Folder{m: m, mem: mem}
}

// Push takes the next chunk (not kept; the caller still owns it) and
// returns the folded rows of the keys it completes, or nil. The caller
// releases the result.
func (f *Folder) Push(cols []arrow.Array) ([]arrow.Array, error) {
	if len(cols) == 0 || cols[0].Len() == 0 {
		return nil, nil
	}
	in := cols
	if f.tail != nil {
		joined := make([]arrow.Array, len(cols))
		for c := range cols {
			a, err := array.Concatenate([]arrow.Array{f.tail[c], cols[c]}, f.mem)
			if err != nil {
				releaseAll(joined[:c])
				return nil, err
			}
			joined[c] = a
		}
		releaseAll(f.tail)
		f.tail = nil
		defer releaseAll(joined)
		in = joined
	}
	n := in[0].Len()
	starts, err := f.m.groupStarts(in, n)
	if err != nil {
		return nil, err
	}
	last := int64(starts[len(starts)-1])
	f.tail = slice(in, last, int64(n))
	if last == 0 {
		return nil, nil
	}
	done := slice(in, 0, last)
	defer releaseAll(done)
	return f.m.Fold(done, f.mem)
}

// Finish folds the rows held back and returns them (nil when none).
func (f *Folder) Finish() ([]arrow.Array, error) {
	if f.tail == nil {
		return nil, nil
	}
	defer func() {
		releaseAll(f.tail)
		f.tail = nil
	}()
	return f.m.Fold(f.tail, f.mem)
}

func slice(cols []arrow.Array, lo, hi int64) []arrow.Array {
	out := make([]arrow.Array, len(cols))
	for i, c := range cols {
		out[i] = array.NewSlice(c, lo, hi)
	}
	return out
}

func releaseAll(as []arrow.Array) {
	for _, a := range as {
		if a != nil {
			a.Release()
		}
	}
}

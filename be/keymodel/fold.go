package keymodel

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Fold folds one batch (one array per column) whose rows are sorted on
// the key with the rows of one key in arrival order, oldest first, and
// returns one row per key. New arrays come from mem. For Duplicate, and
// whenever no two adjacent rows share a key, it returns the input arrays
// themselves, retained, without copying. Fold neither keeps nor releases
// cols; the caller releases the result.
//
// Fold checks the columns against m (count, lengths, types) and returns
// an error when they do not fit, or when a Union fails.
func (m *Model) Fold(cols []arrow.Array, mem memory.Allocator) ([]arrow.Array, error) {
	n, err := m.check(cols)
	if err != nil {
		return nil, err
	}
	if m.Kind == Duplicate || n < 2 {
		return retained(cols), nil
	}
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	if m.markGroups(cols, n, s) {
		return retained(cols), nil
	}
	return m.foldGroups(cols, groupBounds(n, s), s.diff, mem, s)
}

// Winners returns, for the unique-key model, the row of cols (sorted as
// for Fold) that survives of each key, in key order: what Fold keeps. The
// slice is the caller's.
func (m *Model) Winners(cols []arrow.Array) ([]int32, error) {
	if m.Kind != Unique {
		return nil, fmt.Errorf("keymodel: winners of the %s model", m.Kind)
	}
	n, err := m.check(cols)
	if err != nil {
		return nil, err
	}
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	if m.markGroups(cols, n, s) {
		w := make([]int32, n)
		for i := range w {
			w[i] = int32(i)
		}
		return w, nil
	}
	b := groupBounds(n, s)
	w := make([]int32, len(b)-1)
	m.winners(cols, b, w)
	return w, nil
}

// foldGroups folds the groups b of cols (which may hold rows past the
// last group; they are ignored) into new arrays, one row per group.
// start, when not nil, marks the first row of each group with a 1 (see
// scratch.diff); it is given only when b[0] is 0.
func (m *Model) foldGroups(cols []arrow.Array, b []int32, start []byte, mem memory.Allocator, s *scratch) ([]arrow.Array, error) {
	if m.Kind == Unique {
		s.idx = grow(s.idx, len(b)-1)
		m.winners(cols, b, s.idx)
		return gatherAll(cols, s.idx, mem)
	}
	return m.aggregate(cols, b, start, mem, s)
}

// winners sets w[g] to the surviving row of group g of b: the last row,
// or with a sequence column the row with the largest sequence value
// (NULL smallest), the later of equal ones.
func (m *Model) winners(cols []arrow.Array, b []int32, w []int32) {
	if m.SeqCol < 0 {
		for g := range w {
			w[g] = b[g+1] - 1
		}
		return
	}
	bestBySeq(cols[m.SeqCol], b, w)
}

// aggregate folds every column of each group of b by its aggregation.
func (m *Model) aggregate(cols []arrow.Array, b []int32, start []byte, mem memory.Allocator, s *scratch) ([]arrow.Array, error) {
	ng := len(b) - 1
	first := b[:ng]
	var last []int32
	lasts := func() []int32 {
		if last == nil {
			last = lastRows(b, s)
		}
		return last
	}
	out := make([]arrow.Array, len(cols))
	for c, a := range cols {
		var err error
		switch agg := m.Aggs[c]; agg {
		case None:
			out[c], err = gather(a, first, false, mem)
		case Replace:
			out[c], err = gather(a, lasts(), false, mem)
		case ReplaceIfNotNull:
			if a.NullN() == 0 {
				out[c], err = gather(a, lasts(), false, mem)
				break
			}
			s.idx = grow(s.idx, ng)
			lastValid(a, b, s.idx)
			out[c], err = gather(a, s.idx, true, mem)
		case Min, Max:
			s.idx = grow(s.idx, ng)
			extremes(a, b, agg == Max, s.idx)
			out[c], err = gather(a, s.idx, a.NullN() > 0, mem)
		case Sum:
			out[c] = sum(a, b, start, mem)
		case BitmapUnion, HLLUnion:
			out[c], err = unionAll(m.union(), agg, a, b, mem)
		default:
			panic(fmt.Sprintf("BUG: keymodel: aggregation %s passed the check", agg))
		}
		if err != nil {
			releaseAll(out)
			return nil, fmt.Errorf("keymodel: %s of column %d: %w", m.Aggs[c], c, err)
		}
	}
	return out, nil
}

// gatherAll gathers the rows idx (no -1) of every column.
func gatherAll(cols []arrow.Array, idx []int32, mem memory.Allocator) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(cols))
	for c, a := range cols {
		var err error
		if out[c], err = gather(a, idx, false, mem); err != nil {
			releaseAll(out)
			return nil, fmt.Errorf("keymodel: column %d: %w", c, err)
		}
	}
	return out, nil
}

func retained(cols []arrow.Array) []arrow.Array {
	out := make([]arrow.Array, len(cols))
	for i, c := range cols {
		c.Retain()
		out[i] = c
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

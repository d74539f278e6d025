package storage

import "github.com/RoaringBitmap/roaring/v2"

// LiveRows returns the rows of a page (n rows from segment row first) that
// deleted does not hold, as page-relative row numbers appended to dst[:0];
// nil when it holds none of them, so that the caller can keep the page
// whole. A result of length 0 means every row is deleted.
func LiveRows(deleted *roaring.Bitmap, first int64, n int, dst []int32) []int32 {
	lo, hi := uint64(first), uint64(first)+uint64(n)
	if deleted == nil || !deleted.IntersectsWithInterval(lo, hi) {
		return nil
	}
	live := dst[:0]
	if cap(live) < n {
		live = make([]int32, 0, n)
	}
	next := int32(0)
	it := deleted.Iterator()
	it.AdvanceIfNeeded(uint32(lo))
	for it.HasNext() {
		d := uint64(it.PeekNext())
		if d >= hi {
			break
		}
		it.Next()
		for r := next; r < int32(d-lo); r++ {
			live = append(live, r)
		}
		next = int32(d-lo) + 1
	}
	for r := next; r < int32(n); r++ {
		live = append(live, r)
	}
	return live
}

package storage

import (
	"math/bits"

	"github.com/RoaringBitmap/roaring/v2"
)

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

// DeletedWords is a delete bitmap as 64-bit words, bit r%64 of word r/64
// set for deleted row r (roaring's ToDense): LiveRowsOf reads a page of it
// far faster than LiveRows iterates the bitmap, so a scan converts a
// segment's bitmap once and reads every page of it from the words.
type DeletedWords []uint64

// Words returns deleted as DeletedWords (nil for nil).
func Words(deleted *roaring.Bitmap) DeletedWords {
	if deleted == nil || deleted.IsEmpty() {
		return nil
	}
	return deleted.ToDense()
}

// LiveRowsOf is LiveRows over words.
func LiveRowsOf(words DeletedWords, first int64, n int, dst []int32) []int32 {
	lo, hi := first, first+int64(n)
	wlo, whi := lo>>6, (hi+63)>>6
	if wlo >= int64(len(words)) {
		return nil
	}
	any := false
	for w := wlo; w < min(whi, int64(len(words))); w++ {
		if words[w] != 0 {
			any = true
			break
		}
	}
	if !any {
		return nil
	}
	live := dst[:0]
	if cap(live) < n {
		live = make([]int32, 0, n)
	}
	live = live[:n]
	k := 0
	for r := lo; r < hi; {
		w := r >> 6
		var word uint64
		if w < int64(len(words)) {
			word = words[w]
		}
		end := min((w+1)<<6, hi)
		if word == 0 {
			for ; r < end; r++ {
				live[k] = int32(r - lo)
				k++
			}
			continue
		}
		// The live rows of the word from r to end: its clear bits.
		bitsLeft := ^word >> (uint(r) & 63)
		if span := end - r; span < 64 {
			bitsLeft &= 1<<uint(span) - 1
		}
		for bitsLeft != 0 {
			tz := bits.TrailingZeros64(bitsLeft)
			live[k] = int32(r + int64(tz) - lo)
			k++
			bitsLeft &= bitsLeft - 1
		}
		r = end
	}
	live = live[:k]
	if len(live) == n {
		return nil // the deleted rows of the words at its edges lie outside the page
	}
	return live
}

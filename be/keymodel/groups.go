package keymodel

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// A group is a run of rows with equal keys. Groups are passed around as
// bounds: the first row of every group, then the number of rows, so that
// group g is rows [b[g], b[g+1]) and b[:len(b)-1] are the first rows.

// scratch holds a fold's per-row work slices, reused across folds: a
// pool for Fold, one per Folder.
type scratch struct {
	diff   []byte  // 1 for the first row of each group, else 0
	bounds []int32 // see above
	last   []int32 // the last row of each group
	idx    []int32 // one row (or -1) per group, picked per column
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// grow returns s resliced to n, reallocated when short; the contents are
// undefined.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

// markGroups sets s.diff for n rows from the key columns and reports
// whether every row starts a group (no two adjacent rows share a key).
func (m *Model) markGroups(cols []arrow.Array, n int, s *scratch) (allDistinct bool) {
	s.diff = grow(s.diff, n)
	diff := s.diff
	clear(diff)
	for _, a := range cols[:m.NumKeys] {
		markDiffs(a, diff)
	}
	if n == 0 {
		return true
	}
	diff[0] = 1
	return bytes.IndexByte(diff, 0) < 0
}

// groupBounds returns the bounds of the groups markGroups marked in
// s.diff.
func groupBounds(n int, s *scratch) []int32 {
	b := grow(s.bounds, n+1)
	s.bounds = b
	if n == 0 {
		b[0] = 0
		return b[:1]
	}
	diff := s.diff[:n]
	b[0] = 0
	k := 1
	for i := 1; i < len(diff); i++ {
		// Branch-free: every row is written, kept when it starts a group.
		b[k] = int32(i)
		k += int(diff[i])
	}
	b[k] = int32(n)
	return b[:k+1]
}

// lastRows returns the last row of each group of b.
func lastRows(b []int32, s *scratch) []int32 {
	s.last = grow(s.last, len(b)-1)
	for g := range s.last {
		s.last[g] = b[g+1] - 1
	}
	return s.last
}

// validity returns a's validity bitmap and the bit of its row 0, or nil
// when a has no NULLs.
func validity(a arrow.Array) ([]byte, int) {
	if a.NullN() == 0 {
		return nil, 0
	}
	return a.NullBitmapBytes(), a.Data().Offset()
}

// b2u is 1 for true; it compiles to a SETcc, not a branch.
func b2u(b bool) byte {
	var x byte
	if b {
		x = 1
	}
	return x
}

// markDiffs sets diff[i] to 1 for every row i > 0 whose value in a
// differs from row i-1's, equality as the tablet store's comparator has
// it. a's type is one sortable accepts.
func markDiffs(a arrow.Array, diff []byte) {
	valid, off := validity(a)
	switch x := a.(type) {
	case *array.Int8:
		markDiffsOf(x.Int8Values(), valid, off, diff)
	case *array.Int16:
		markDiffsOf(x.Int16Values(), valid, off, diff)
	case *array.Int32:
		markDiffsOf(x.Int32Values(), valid, off, diff)
	case *array.Int64:
		markDiffsOf(x.Int64Values(), valid, off, diff)
	case *array.Date32:
		markDiffsOf(x.Date32Values(), valid, off, diff)
	case *array.Timestamp:
		markDiffsOf(x.TimestampValues(), valid, off, diff)
	case *array.Decimal128:
		markDiffsOf(x.Values(), valid, off, diff)
	case *array.Float32:
		markFloatDiffs(x.Float32Values(), valid, off, diff)
	case *array.Float64:
		markFloatDiffs(x.Float64Values(), valid, off, diff)
	case *array.String:
		markStringDiffs(x, valid, off, diff)
	case *array.Boolean:
		markBoolDiffs(x, valid, off, diff)
	default:
		panic(fmt.Sprintf("BUG: keymodel: key column of type %s passed the check", a.DataType()))
	}
}

// The markXxxDiffs functions are one loop in several copies: without
// NULLs, a value compare; with them, a row differs from the one before
// when exactly one is NULL or both are valid and differ. Keep them alike.

func markDiffsOf[T comparable](v []T, valid []byte, off int, diff []byte) {
	if valid == nil {
		for i := 1; i < len(v); i++ {
			diff[i] |= b2u(v[i] != v[i-1])
		}
		return
	}
	prev := bitutil.BitIsSet(valid, off)
	for i := 1; i < len(v); i++ {
		cur := bitutil.BitIsSet(valid, off+i)
		diff[i] |= b2u(cur != prev || cur && v[i] != v[i-1])
		prev = cur
	}
}

// floatNe is cmp.Compare(a, b) != 0: NaN equals NaN, -0 equals +0.
func floatNe[T float32 | float64](a, b T) bool {
	return a != b && (a == a || b == b)
}

func markFloatDiffs[T float32 | float64](v []T, valid []byte, off int, diff []byte) {
	if valid == nil {
		for i := 1; i < len(v); i++ {
			diff[i] |= b2u(floatNe(v[i], v[i-1]))
		}
		return
	}
	prev := bitutil.BitIsSet(valid, off)
	for i := 1; i < len(v); i++ {
		cur := bitutil.BitIsSet(valid, off+i)
		diff[i] |= b2u(cur != prev || cur && floatNe(v[i], v[i-1]))
		prev = cur
	}
}

// stringData returns the value offsets of x's rows (len+1 of them) and
// the data buffer they point into.
func stringData(x *array.String) ([]int32, []byte) {
	var data []byte
	if buf := x.Data().Buffers()[2]; buf != nil {
		data = buf.Bytes()
	}
	return x.ValueOffsets(), data
}

func markStringDiffs(x *array.String, valid []byte, off int, diff []byte) {
	offs, data := stringData(x)
	n := x.Len()
	if valid == nil {
		for i := 1; i < n; i++ {
			diff[i] |= b2u(!bytes.Equal(data[offs[i]:offs[i+1]], data[offs[i-1]:offs[i]]))
		}
		return
	}
	prev := bitutil.BitIsSet(valid, off)
	for i := 1; i < n; i++ {
		cur := bitutil.BitIsSet(valid, off+i)
		diff[i] |= b2u(cur != prev || cur && !bytes.Equal(data[offs[i]:offs[i+1]], data[offs[i-1]:offs[i]]))
		prev = cur
	}
}

func markBoolDiffs(x *array.Boolean, valid []byte, off int, diff []byte) {
	n := x.Len()
	if valid == nil {
		for i := 1; i < n; i++ {
			diff[i] |= b2u(x.Value(i) != x.Value(i-1))
		}
		return
	}
	prev := bitutil.BitIsSet(valid, off)
	for i := 1; i < n; i++ {
		cur := bitutil.BitIsSet(valid, off+i)
		diff[i] |= b2u(cur != prev || cur && x.Value(i) != x.Value(i-1))
		prev = cur
	}
}

// sameKey reports whether row i of a and row j of b (arrays of the same
// types) hold the same key. It is for a row or two per chunk, not a loop.
func (m *Model) sameKey(a []arrow.Array, i int, b []arrow.Array, j int) bool {
	for c := range m.NumKeys {
		if !sameValue(a[c], i, b[c], j) {
			return false
		}
	}
	return true
}

func sameValue(a arrow.Array, i int, b arrow.Array, j int) bool {
	na, nb := a.IsNull(i), b.IsNull(j)
	if na || nb {
		return na && nb
	}
	switch x := a.(type) {
	case *array.Int8:
		return x.Value(i) == b.(*array.Int8).Value(j)
	case *array.Int16:
		return x.Value(i) == b.(*array.Int16).Value(j)
	case *array.Int32:
		return x.Value(i) == b.(*array.Int32).Value(j)
	case *array.Int64:
		return x.Value(i) == b.(*array.Int64).Value(j)
	case *array.Date32:
		return x.Value(i) == b.(*array.Date32).Value(j)
	case *array.Timestamp:
		return x.Value(i) == b.(*array.Timestamp).Value(j)
	case *array.Decimal128:
		return x.Value(i) == b.(*array.Decimal128).Value(j)
	case *array.Float32:
		return !floatNe(x.Value(i), b.(*array.Float32).Value(j))
	case *array.Float64:
		return !floatNe(x.Value(i), b.(*array.Float64).Value(j))
	case *array.String:
		return x.Value(i) == b.(*array.String).Value(j)
	case *array.Boolean:
		return x.Value(i) == b.(*array.Boolean).Value(j)
	}
	panic(fmt.Sprintf("BUG: keymodel: key column of type %s passed the check", a.DataType()))
}

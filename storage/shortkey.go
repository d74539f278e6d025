package storage

import (
	"errors"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The short-key index holds the full sort key of every ShortKeyInterval-th
// row (rows 0, I, 2I, ...), so that a seek binary-searches the entries and
// then scans at most one block of I rows. Keys are stored whole, never
// truncated, so every entry is an exact sample of the sorted key sequence.
//
// Sort order, which the writer's caller must have used: columns compared
// left to right; NULL first; integers, decimals numerically; floats with
// cmp.Compare (NaN below every number); strings bytewise; false before true.

// ErrNoShortKeyIndex is returned by the seek functions of a segment written
// with NumSortKeys == 0.
var ErrNoShortKeyIndex = errors.New("storage: segment has no short-key index")

// parseShortKeys decodes the short-key index block (version byte stripped).
func (s *Segment) parseShortKeys(b []byte) error {
	d := &decbuf{b: b}
	iv := d.uvarintInt()
	n := d.uvarintLen()
	if d.err == nil {
		want := int64(0)
		if iv > 0 {
			want = (s.numRows + iv - 1) / iv
		}
		if iv < 1 || int64(n) != want || n*max(s.numSortKeys, 1) > d.len() {
			d.fail(fmt.Errorf("%d entries at interval %d for %d rows", n, iv, s.numRows))
		}
	}
	s.skInterval = iv
	k := s.numSortKeys
	if d.err == nil {
		s.skEntries = make([][]any, n)
		flat := make([]any, n*k)
		for i := range s.skEntries {
			s.skEntries[i] = flat[i*k : (i+1)*k : (i+1)*k]
		}
	}
	for i := 0; i < n && d.err == nil; i++ {
		for j, c := range s.cols[:k] {
			switch d.byte() {
			case 0:
				s.skEntries[i][j] = readValue(d, c.pt)
			case 1:
				if !c.meta.Nullable {
					d.fail(fmt.Errorf("entry %d: null in non-nullable column %d", i, c.meta.ID))
				}
			default:
				d.fail(fmt.Errorf("entry %d: bad null flag", i))
			}
		}
	}
	if d.err == nil && d.len() != 0 {
		d.fail(fmt.Errorf("%d trailing bytes", d.len()))
	}
	if d.err != nil {
		return fmt.Errorf("%v: %w", d.err, ErrCorrupt)
	}
	return nil
}

// normalizeKey converts a seek key to the ZoneMap value types, accepting
// the Go types callers naturally have (int, int32, string, float32, ...).
func (s *Segment) normalizeKey(key []any) ([]any, error) {
	if s.numSortKeys == 0 {
		return nil, ErrNoShortKeyIndex
	}
	if len(key) > s.numSortKeys {
		return nil, fmt.Errorf("storage: seek key of %d values for %d sort-key columns", len(key), s.numSortKeys)
	}
	out := make([]any, len(key))
	for i, v := range key {
		if v == nil {
			continue
		}
		pt := s.cols[i].pt
		var ok bool
		switch pt {
		case physBool:
			out[i], ok = v.(bool)
		case physFloat32, physFloat64:
			switch x := v.(type) {
			case float64:
				out[i], ok = x, true
			case float32:
				out[i], ok = float64(x), true
			}
		case physDecimal128:
			out[i], ok = v.(decimal128.Num)
		case physString:
			switch x := v.(type) {
			case []byte:
				out[i], ok = x, true
			case string:
				out[i], ok = []byte(x), true
			}
		default:
			switch x := v.(type) {
			case int64:
				out[i], ok = x, true
			case int:
				out[i], ok = int64(x), true
			case int32:
				out[i], ok = int64(x), true
			case int16:
				out[i], ok = int64(x), true
			case int8:
				out[i], ok = int64(x), true
			case arrow.Date32:
				out[i], ok = int64(x), true
			case arrow.Timestamp:
				out[i], ok = int64(x), true
			}
		}
		if !ok {
			return nil, fmt.Errorf("storage: seek key value %d is %T, column %d is %s",
				i, v, s.cols[i].meta.ID, s.cols[i].meta.Type)
		}
	}
	return out, nil
}

// compareKey compares a row key (len >= len(key); nil = NULL) with key over
// the first len(key) columns.
func (s *Segment) compareKey(row, key []any) int {
	for i, k := range key {
		r := row[i]
		switch {
		case r == nil && k == nil:
			continue
		case r == nil:
			return -1
		case k == nil:
			return 1
		}
		if c := compareValues(s.cols[i].pt, r, k); c != 0 {
			return c
		}
	}
	return 0
}

// SeekShortKey returns the first row whose sort key is >= key (key: a prefix of the sort-key columns, values typed as
// in ZoneMap, nil for NULL), using the sparse index plus a scan of the located block. It returns NumRows when
// every row is below key.
func (s *Segment) SeekShortKey(key []any) (int64, error) { return s.seek(key, false) }

// SeekShortKeyUpper returns the first row whose sort key is > key, like SeekShortKey.
func (s *Segment) SeekShortKeyUpper(key []any) (int64, error) { return s.seek(key, true) }

func (s *Segment) seek(key []any, upper bool) (int64, error) {
	key, err := s.normalizeKey(key)
	if err != nil {
		return 0, err
	}
	// after reports whether a row key is past the target: >= key, or > key
	// for the upper bound.
	after := func(row []any) bool {
		c := s.compareKey(row, key)
		if upper {
			return c > 0
		}
		return c >= 0
	}
	// First entry past the target; the answer lies in ((j-1)*I, j*I].
	j := sort.Search(len(s.skEntries), func(i int) bool { return after(s.skEntries[i]) })
	if j == 0 {
		return 0, nil
	}
	lo := int64(j-1)*s.skInterval + 1
	hi := min(int64(j)*s.skInterval, s.numRows)
	if lo >= hi {
		return hi, nil
	}
	sc := rowScanner{seg: s, k: len(key)}
	defer sc.release()
	// Binary search over rows [lo, hi): the answer is the first row past
	// the target, or hi.
	var serr error
	idx := sort.Search(int(hi-lo), func(i int) bool {
		if serr != nil {
			return true
		}
		row, err := sc.row(lo + int64(i))
		if err != nil {
			serr = err
			return true
		}
		return after(row)
	})
	if serr != nil {
		return 0, fmt.Errorf("storage: seeking short key: %w", serr)
	}
	return lo + int64(idx), nil
}

// rowScanner gives random access to the key columns of single rows, keeping
// the last decoded page of each column.
type rowScanner struct {
	seg  *Segment
	k    int
	page int
	arrs []arrow.Array
	buf  []any
}

func (sc *rowScanner) release() {
	for _, a := range sc.arrs {
		if a != nil {
			a.Release()
		}
	}
	sc.arrs = nil
}

func (sc *rowScanner) row(r int64) ([]any, error) {
	p := sc.seg.pageOf(r)
	if sc.arrs == nil || p != sc.page {
		sc.release()
		sc.arrs = make([]arrow.Array, sc.k)
		sc.page = p
		for i := range sc.k {
			a, err := sc.seg.cols[i].ReadPage(p, memory.DefaultAllocator)
			if err != nil {
				return nil, err
			}
			sc.arrs[i] = a
		}
	}
	if sc.buf == nil {
		sc.buf = make([]any, sc.k)
	}
	i := int(r - sc.seg.firstRow[p])
	for c, a := range sc.arrs {
		sc.buf[c] = arrayValue(a, i)
	}
	return sc.buf, nil
}

// arrayValue returns element i of a typed as in ZoneMap (nil for null).
// Strings alias the array's memory.
func arrayValue(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Date32:
		return int64(a.Value(i))
	case *array.Timestamp:
		return int64(a.Value(i))
	case *array.Float32:
		return float64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.Decimal128:
		return a.Value(i)
	case *array.String:
		return []byte(a.Value(i))
	}
	panic(fmt.Sprintf("BUG: arrayValue of %T", a))
}

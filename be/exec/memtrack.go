package exec

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// MemTracker accounts the memory one query holds in the operators that can
// grow without bound: hash aggregation tables, hash join build sides, sort
// buffers and the materialized results of parallel pipelines. Operators
// charge it a batch at a time through a [memAccount] (never per row) and give
// their charge back when they close, so a query that ends, well or badly,
// leaves nothing charged.
//
// The estimates count the Arrow buffers of the rows an operator keeps, plus a
// fixed cost per hash table entry; they are meant to stop a runaway query
// near its limit, not to match the Go heap byte for byte.
//
// A MemTracker is safe for concurrent use: the workers of a parallel
// pipeline charge one tracker.
type MemTracker struct {
	// Limit is the bytes the query may hold; 0 or less: unlimited (only
	// counted).
	limit int64
	// label names the limit in errors, e.g. "exec_mem_limit".
	label string

	used atomic.Int64
	peak atomic.Int64
}

// processMemory is what every tracker of the process holds now.
var processMemory atomic.Int64

// ProcessQueryMemory is the bytes all the queries of this process hold in
// their tracked operators now (the sum of the trackers' Used).
func ProcessQueryMemory() int64 { return processMemory.Load() }

// NewMemTracker returns a tracker with the given limit (<= 0: none); label
// names the setting the limit comes from in the error a query gets.
func NewMemTracker(limit int64, label string) *MemTracker {
	return &MemTracker{limit: limit, label: label}
}

// Limit is the tracker's limit (<= 0: none).
func (t *MemTracker) Limit() int64 { return t.limit }

// Used is the bytes charged now.
func (t *MemTracker) Used() int64 { return t.used.Load() }

// Peak is the most bytes charged at once.
func (t *MemTracker) Peak() int64 { return t.peak.Load() }

// Consume charges n bytes (n may be negative to give some back). When the
// charge takes the tracker past its limit it is undone and a
// [*MemLimitError] naming op is returned.
func (t *MemTracker) Consume(n int64, op string) error {
	if t == nil || n == 0 {
		return nil
	}
	used := t.used.Add(n)
	if n > 0 && t.limit > 0 && used > t.limit {
		t.used.Add(-n)
		return &MemLimitError{Limit: t.limit, Used: used - n, Request: n, Op: op, Label: t.label}
	}
	processMemory.Add(n)
	for {
		p := t.peak.Load()
		if used <= p || t.peak.CompareAndSwap(p, used) {
			break
		}
	}
	return nil
}

// Release gives back n bytes charged before.
func (t *MemTracker) Release(n int64) {
	if t != nil && n != 0 {
		t.used.Add(-n)
		processMemory.Add(-n)
	}
}

// MemLimitExceeded leads the text of a [MemLimitError]. Like Doris, Strata
// sends the error to MySQL clients as ER_UNKNOWN_ERROR (1105), so this
// marker is what tells it apart once it is text (from a backend, or
// converted to a protocol error).
const MemLimitExceeded = "MEM_LIMIT_EXCEEDED"

// MemLimitError is the error of a query whose operators would hold more
// than its memory limit. Its text follows Doris's MEM_LIMIT_EXCEEDED
// errors: what was held, what was asked for, the limit and how to change it.
type MemLimitError struct {
	Limit   int64  // the query's limit, bytes
	Used    int64  // bytes held when the charge failed
	Request int64  // bytes the failed charge asked for
	Op      string // the operator that asked
	Label   string // the setting the limit comes from
}

func (e *MemLimitError) Error() string {
	label := e.Label
	if label == "" {
		label = "exec_mem_limit"
	}
	return fmt.Sprintf("%s: query memory limit exceeded in %s: used %d bytes, failed to allocate %d bytes, limit %d bytes; change the limit with SET %s = <bytes>",
		MemLimitExceeded, e.Op, e.Used, e.Request, e.Limit, label)
}

type memTrackerKey struct{}

// WithMemTracker attaches the query's memory tracker to ctx; the operators
// opened under ctx charge it.
func WithMemTracker(ctx context.Context, t *MemTracker) context.Context {
	return context.WithValue(ctx, memTrackerKey{}, t)
}

// MemTrackerFrom returns the tracker attached to ctx, or nil.
func MemTrackerFrom(ctx context.Context) *MemTracker {
	t, _ := ctx.Value(memTrackerKey{}).(*MemTracker)
	return t
}

// memAccount is one operator's share of a query's tracker: what it charged,
// so Close can give it all back. The zero value (no tracker) charges
// nothing. An account is used by the goroutine driving its operator.
type memAccount struct {
	t    *MemTracker
	op   string
	held int64
	// dicts[c] is the dictionary column c of the last batch came with, so
	// batchBytes counts a dictionary the batches share once.
	dicts []arrow.ArrayData
}

// open binds the account to ctx's tracker, giving back whatever an earlier
// run of the operator still held.
func (a *memAccount) open(ctx context.Context, op string) {
	a.release()
	a.t, a.op = MemTrackerFrom(ctx), op
}

// grow charges n more bytes.
func (a *memAccount) grow(n int64) error {
	if a.t == nil || n <= 0 {
		return nil
	}
	if err := a.t.Consume(n, a.op); err != nil {
		return err
	}
	a.held += n
	return nil
}

// setTo charges or gives back the difference to a new total.
func (a *memAccount) setTo(total int64) error {
	if a.t == nil {
		return nil
	}
	if total < a.held {
		a.t.Release(a.held - total)
		a.held = total
		return nil
	}
	return a.grow(total - a.held)
}

// release gives everything back.
func (a *memAccount) release() {
	if a.t != nil {
		a.t.Release(a.held)
	}
	a.held = 0
	a.dicts = nil
}

// batchBytes estimates the bytes the live rows of b take once copied (see
// [ArraysBytes]), scaled by the share of rows the selection keeps. A
// dictionary column's dictionary is counted the first time the account
// sees it: the batches of one page, or of a join's build column, come
// with the same dictionary, which the operator holds once. It costs one
// pass over the columns' buffers, not over rows; without a tracker it is 0.
func (a *memAccount) batchBytes(b *Batch) int64 {
	if a.t == nil || b.Len == 0 {
		return 0
	}
	if len(a.dicts) < len(b.Cols) {
		a.dicts = append(a.dicts, make([]arrow.ArrayData, len(b.Cols)-len(a.dicts))...)
	}
	var rows, dicts int64
	for i, c := range b.Cols {
		if c == nil {
			continue
		}
		d := c.Data()
		rows += rangeBytes(d, d.Offset(), d.Len())
		if dict := d.Dictionary(); d.DataType().ID() == arrow.DICTIONARY && dict != nil && a.dicts[i] != dict {
			// Remember only the last dictionary of each column, so an
			// account keeps at most one page's dictionary alive.
			a.dicts[i] = dict
			dicts += rangeBytes(dict, dict.Offset(), dict.Len())
		}
	}
	if b.Sel != nil {
		rows = rows * int64(len(b.Sel)) / int64(b.Len)
	}
	return rows + dicts
}

// ArraysBytes estimates the bytes held by cols for accounting: for each
// column, the part of its buffers its own rows cover (a zero-copy slice
// counts its rows, not the whole buffers it shares), plus its dictionary's
// values.
func ArraysBytes(cols []arrow.Array) int64 {
	var n int64
	for _, c := range cols {
		if c == nil {
			continue
		}
		d := c.Data()
		n += rangeBytes(d, d.Offset(), d.Len())
		if dict := d.Dictionary(); d.DataType().ID() == arrow.DICTIONARY && dict != nil {
			n += rangeBytes(dict, dict.Offset(), dict.Len())
		}
	}
	return n
}

// rangeBytes estimates the bytes of d's rows [off, off+n), off counted in
// d's buffers (d.Offset() included): the validity bitmap's bits, fixed
// width × n for fixed-width values, the offsets and the bytes between the
// first and last offset for variable-width values, and the children's
// matching ranges for nested types. A dictionary's values are left to the
// caller. Each part is capped at its buffer's length.
func rangeBytes(d arrow.ArrayData, off, n int) int64 {
	if n <= 0 {
		return 0
	}
	bufs := d.Buffers()
	var total int64
	if len(bufs) > 0 && bufs[0] != nil {
		total += capped(bitutil.BytesForBits(int64(n)), bufs[0])
	}
	buf := func(i int) *memory.Buffer {
		if i < len(bufs) {
			return bufs[i]
		}
		return nil
	}
	children := d.Children()
	dt := d.DataType()
	switch dt.ID() {
	case arrow.NULL:
	case arrow.STRING, arrow.BINARY:
		lo, hi, ok := offsets32(buf(1), off, n)
		if !ok {
			return total + capped(int64(4*(n+1)), buf(1)) + capped(math.MaxInt64, buf(2))
		}
		total += capped(int64(4*(n+1)), buf(1)) + capped(hi-lo, buf(2))
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		lo, hi, ok := offsets64(buf(1), off, n)
		if !ok {
			return total + capped(int64(8*(n+1)), buf(1)) + capped(math.MaxInt64, buf(2))
		}
		total += capped(int64(8*(n+1)), buf(1)) + capped(hi-lo, buf(2))
	case arrow.LIST, arrow.MAP:
		total += capped(int64(4*(n+1)), buf(1))
		if lo, hi, ok := offsets32(buf(1), off, n); ok && len(children) == 1 {
			c := children[0]
			total += rangeBytes(c, c.Offset()+int(lo), int(hi-lo))
		}
	case arrow.LARGE_LIST:
		total += capped(int64(8*(n+1)), buf(1))
		if lo, hi, ok := offsets64(buf(1), off, n); ok && len(children) == 1 {
			c := children[0]
			total += rangeBytes(c, c.Offset()+int(lo), int(hi-lo))
		}
	case arrow.FIXED_SIZE_LIST:
		if w := dt.(*arrow.FixedSizeListType).Len(); len(children) == 1 {
			c := children[0]
			total += rangeBytes(c, c.Offset()+off*int(w), n*int(w))
		}
	case arrow.STRUCT:
		// A struct's children are indexed like the struct itself.
		for _, c := range children {
			total += rangeBytes(c, c.Offset()+off, n)
		}
	case arrow.DICTIONARY:
		if fw, ok := dt.(*arrow.DictionaryType).IndexType.(arrow.FixedWidthDataType); ok {
			total += capped(bitutil.BytesForBits(int64(fw.BitWidth())*int64(n)), buf(1))
		}
	default:
		if fw, ok := dt.(arrow.FixedWidthDataType); ok && len(bufs) == 2 {
			total += capped(bitutil.BytesForBits(int64(fw.BitWidth())*int64(n)), buf(1))
			break
		}
		// An unusual layout: its buffers and children scaled by the share
		// of rows the range covers.
		all := off + n
		for i, b := range bufs {
			if i > 0 && b != nil {
				total += int64(b.Len()) * int64(n) / int64(all)
			}
		}
		for _, c := range children {
			total += rangeBytes(c, c.Offset(), c.Len()) * int64(n) / int64(max(all, c.Len(), 1))
		}
	}
	return total
}

// capped is n, at most the length of b (0 for no buffer).
func capped(n int64, b *memory.Buffer) int64 {
	if b == nil {
		return 0
	}
	return min(n, int64(b.Len()))
}

// offsets32 reads the first and last of the int32 offsets of rows [off,
// off+n); ok is false when the buffer is too short.
func offsets32(b *memory.Buffer, off, n int) (lo, hi int64, ok bool) {
	if b == nil || b.Len() < 4*(off+n+1) {
		return 0, 0, false
	}
	o := arrow.Int32Traits.CastFromBytes(b.Bytes())
	return int64(o[off]), int64(o[off+n]), o[off+n] >= o[off]
}

// offsets64 is offsets32 for int64 offsets.
func offsets64(b *memory.Buffer, off, n int) (lo, hi int64, ok bool) {
	if b == nil || b.Len() < 8*(off+n+1) {
		return 0, 0, false
	}
	o := arrow.Int64Traits.CastFromBytes(b.Bytes())
	return o[off], o[off+n], o[off+n] >= o[off]
}

// hashEntryBytes is the accounted cost of one hash table entry (slot, group
// id, chain link), on top of the rows' own bytes.
const hashEntryBytes = 32

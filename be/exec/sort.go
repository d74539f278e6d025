package exec

import (
	"context"
	"io"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/types"
)

// NullOrder says where NULLs sort.
type NullOrder uint8

const (
	// NullsDefault is MySQL's order: NULLs first ascending, last descending.
	NullsDefault NullOrder = iota
	NullsFirst
	NullsLast
)

// SortKey is one ORDER BY item.
type SortKey struct {
	Expr  Expr
	Desc  bool
	Nulls NullOrder
}

func (k SortKey) nullsFirst() bool {
	switch k.Nulls {
	case NullsFirst:
		return true
	case NullsLast:
		return false
	}
	return !k.Desc
}

// sorter accumulates input rows plus evaluated keys and orders them.
type sorter struct {
	schema []types.Type
	keys   []SortKey
	tb     *tableBuilder
	tbl    *table
	perm   []int32
}

func newSorter(schema []types.Type, keys []SortKey) *sorter {
	s := &sorter{schema: schema, keys: keys}
	s.reset()
	return s
}

func (s *sorter) reset() {
	all := append([]types.Type(nil), s.schema...)
	for _, k := range s.keys {
		all = append(all, k.Expr.Type())
	}
	s.tb = newTableBuilder(all)
}

func (s *sorter) add(ectx *EvalContext, b *Batch) error {
	rows := rowsOf(b)
	vs := batchViews(b, s.schema)
	for _, k := range s.keys {
		v, err := evalView(ectx, k.Expr, b)
		if err != nil {
			return err
		}
		vs = append(vs, v)
	}
	s.tb.appendViews(vs, rows)
	return nil
}

// sort finishes the accumulated rows and orders them; it keeps at most limit
// rows (limit < 0: all).
func (s *sorter) sort(limit int) {
	if s.tbl != nil {
		// re-accumulate the previous survivors first
		s.tbl.release()
	}
	s.tbl = s.tb.finish()
	vs := s.tbl.views()
	kv := vs[len(s.schema):]
	n := s.tbl.n
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	cmp := func(a, b int32) int {
		for ki, k := range s.keys {
			v := kv[ki]
			an, bn := v.isNull(int(a)), v.isNull(int(b))
			if an || bn {
				if an && bn {
					continue
				}
				if an == k.nullsFirst() {
					return -1
				}
				return 1
			}
			c := compareRows(v, int(a), v, int(b))
			if c != 0 {
				if k.Desc {
					return -c
				}
				return c
			}
		}
		return int(a - b)
	}
	// Fast path: one non-NULL integer key.
	if len(kv) == 1 && kv[0].p == pInt && !kv[0].hasNulls() {
		x := kv[0].ints()
		desc := s.keys[0].Desc
		cmp = func(a, b int32) int {
			xa, xb := x[a], x[b]
			if desc {
				xa, xb = xb, xa
			}
			switch {
			case xa < xb:
				return -1
			case xa > xb:
				return 1
			}
			return int(a - b)
		}
	}
	slices.SortFunc(perm, cmp)
	if limit >= 0 && len(perm) > limit {
		perm = perm[:limit]
	}
	s.perm = perm
}

// compact keeps only the rows in perm, in order, as the new accumulation.
func (s *sorter) compact() {
	vs := s.tbl.views()
	s.reset()
	s.tb.appendViews(vs, s.perm)
	s.tbl.release()
	s.tbl = nil
	s.perm = nil
}

// emit writes rows perm[from:to] of the data columns into b.
func (s *sorter) emit(b *Batch, from, to int) {
	b.Reset()
	idx := s.perm[from:to]
	for i, c := range s.tbl.cols[:len(s.schema)] {
		b.Cols = append(b.Cols, take(newView(c, s.schema[i]), idx))
	}
	b.Len = to - from
}

// Sort orders its whole input by Keys (stable for ties).
type Sort struct {
	baseStats
	child Operator
	keys  []SortKey
	s     *sorter
	ectx  *EvalContext
	pos   int
	done  bool
	held  []arrow.Array
	mem   memAccount // the buffered rows
}

// NewSort returns child ORDER BY keys.
func NewSort(child Operator, keys []SortKey) *Sort {
	return &Sort{child: child, keys: keys}
}

func (s *Sort) Schema() []types.Type { return s.child.Schema() }
func (s *Sort) Open(ctx context.Context) error {
	s.ectx = evalCtxFrom(ctx)
	s.s = newSorter(s.child.Schema(), s.keys)
	s.pos, s.done = 0, false
	s.mem.open(ctx, "Sort")
	return s.child.Open(ctx)
}
func (s *Sort) Close() error {
	s.mem.release()
	s.held = releaseAll(s.held)
	if s.s != nil && s.s.tbl != nil {
		s.s.tbl.release()
	}
	return s.child.Close()
}

func (s *Sort) Next(ctx context.Context, b *Batch) error {
	s.held = releaseAll(s.held)
	if !s.done {
		s.done = true
		var in Batch
		for {
			in.Reset()
			err := Next(ctx, s.child, &in)
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			if err := s.s.add(s.ectx, &in); err != nil {
				return err
			}
			if err := s.mem.grow(s.mem.batchBytes(&in)); err != nil {
				return err
			}
		}
		s.s.sort(-1)
	}
	if s.pos >= len(s.s.perm) {
		b.Reset()
		return io.EOF
	}
	end := min(s.pos+BatchSize, len(s.s.perm))
	s.s.emit(b, s.pos, end)
	s.held = append(s.held, b.Cols...)
	s.pos = end
	return nil
}

// TopN is ORDER BY keys LIMIT limit OFFSET offset without sorting the whole
// input: it keeps the best limit+offset rows, re-sorting and truncating its
// buffer whenever it grows past twice that (or a batch).
type TopN struct {
	baseStats
	child         Operator
	keys          []SortKey
	limit, offset int
	s             *sorter
	ectx          *EvalContext
	pos, end      int
	done          bool
	held          []arrow.Array
	mem           memAccount // the buffered rows
}

// NewTopN returns child ORDER BY keys LIMIT limit OFFSET offset (limit >= 0).
func NewTopN(child Operator, keys []SortKey, limit, offset int64) *TopN {
	const maxKeep = 1 << 40
	return &TopN{child: child, keys: keys, limit: int(min(max(limit, 0), maxKeep)), offset: int(min(max(offset, 0), maxKeep))}
}

func (t *TopN) Schema() []types.Type { return t.child.Schema() }
func (t *TopN) Open(ctx context.Context) error {
	t.ectx = evalCtxFrom(ctx)
	t.s = newSorter(t.child.Schema(), t.keys)
	t.done = false
	t.mem.open(ctx, "TopN")
	return t.child.Open(ctx)
}
func (t *TopN) Close() error {
	t.mem.release()
	t.held = releaseAll(t.held)
	if t.s != nil && t.s.tbl != nil {
		t.s.tbl.release()
	}
	return t.child.Close()
}

func (t *TopN) Next(ctx context.Context, b *Batch) error {
	t.held = releaseAll(t.held)
	keep := t.limit + t.offset
	if !t.done {
		t.done = true
		var in Batch
		for {
			in.Reset()
			err := Next(ctx, t.child, &in)
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			if err := t.s.add(t.ectx, &in); err != nil {
				return err
			}
			if err := t.mem.grow(t.mem.batchBytes(&in)); err != nil {
				return err
			}
			if t.s.tb.n > max(2*keep, BatchSize) {
				t.s.sort(keep)
				// The buffer now holds the kept rows only.
				_ = t.mem.setTo(t.mem.held * int64(len(t.s.perm)) / int64(max(t.s.tbl.n, 1)))
				t.s.compact()
			}
		}
		t.s.sort(keep)
		t.pos = min(t.offset, len(t.s.perm))
		t.end = len(t.s.perm)
	}
	if t.pos >= t.end {
		b.Reset()
		return io.EOF
	}
	end := min(t.pos+BatchSize, t.end)
	t.s.emit(b, t.pos, end)
	t.held = append(t.held, b.Cols...)
	t.pos = end
	return nil
}

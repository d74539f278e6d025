package keymodel

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/be/sketch"
)

// Fold folds one batch whose rows are sorted on the key with the rows of
// a key in arrival order (oldest first), and returns one row per key. For
// Duplicate, and when no two adjacent rows share a key, it returns the
// input arrays, retained. The caller releases the result.
func (m *Model) Fold(cols []arrow.Array, mem memory.Allocator) ([]arrow.Array, error) {
	n := 0
	if len(cols) > 0 {
		n = cols[0].Len()
	}
	if m.Kind == Duplicate || n < 2 {
		return retained(cols), nil
	}
	starts, err := m.groupStarts(cols, n)
	if err != nil {
		return nil, err
	}
	if len(starts) == n {
		return retained(cols), nil
	}
	if m.Kind == Unique {
		w, err := m.winners(cols, starts, n)
		if err != nil {
			return nil, err
		}
		return takeAll(cols, w, mem)
	}
	return m.aggregate(cols, starts, n, mem)
}

// Winners returns, for a unique key model, the row that survives of each
// key of cols (sorted as for Fold), in order.
func (m *Model) Winners(cols []arrow.Array) ([]int32, error) {
	n := 0
	if len(cols) > 0 {
		n = cols[0].Len()
	}
	starts, err := m.groupStarts(cols, n)
	if err != nil {
		return nil, err
	}
	return m.winners(cols, starts, n)
}

func retained(cols []arrow.Array) []arrow.Array {
	out := make([]arrow.Array, len(cols))
	for i, c := range cols {
		c.Retain()
		out[i] = c
	}
	return out
}

// groupStarts returns the first row of every run of equal keys.
func (m *Model) groupStarts(cols []arrow.Array, n int) ([]int32, error) {
	if m.NumKeys > len(cols) {
		return nil, fmt.Errorf("keymodel: %d key columns of %d", m.NumKeys, len(cols))
	}
	eqs := make([]func(i, j int) bool, m.NumKeys)
	for k := range eqs {
		eq, err := equalFunc(cols[k])
		if err != nil {
			return nil, err
		}
		eqs[k] = eq
	}
	starts := make([]int32, 0, n)
	if n > 0 {
		starts = append(starts, 0)
	}
	for i := 1; i < n; i++ {
		for _, eq := range eqs {
			if !eq(i-1, i) {
				starts = append(starts, int32(i))
				break
			}
		}
	}
	return starts, nil
}

// winners picks the surviving row of each group: the largest sequence
// value (NULL smallest), the later of equal ones; without a sequence
// column the last row.
func (m *Model) winners(cols []arrow.Array, starts []int32, n int) ([]int32, error) {
	out := make([]int32, len(starts))
	var cmpSeq func(i, j int) int
	if m.SeqCol >= 0 {
		if m.SeqCol >= len(cols) {
			return nil, fmt.Errorf("keymodel: sequence column %d of %d", m.SeqCol, len(cols))
		}
		c, err := compareFunc(cols[m.SeqCol])
		if err != nil {
			return nil, err
		}
		a := cols[m.SeqCol]
		cmpSeq = func(i, j int) int {
			ni, nj := a.IsNull(i), a.IsNull(j)
			switch {
			case ni && nj:
				return 0
			case ni:
				return -1
			case nj:
				return 1
			}
			return c(i, j)
		}
	}
	for g, s := range starts {
		end := int32(n)
		if g+1 < len(starts) {
			end = starts[g+1]
		}
		best := end - 1
		if cmpSeq != nil {
			best = s
			for r := s + 1; r < end; r++ {
				if cmpSeq(int(r), int(best)) >= 0 {
					best = r
				}
			}
		}
		out[g] = best
	}
	return out, nil
}

// aggregate folds every column of each group by its aggregation.
func (m *Model) aggregate(cols []arrow.Array, starts []int32, n int, mem memory.Allocator) ([]arrow.Array, error) {
	if len(m.Aggs) != len(cols) {
		return nil, fmt.Errorf("keymodel: %d aggregations for %d columns", len(m.Aggs), len(cols))
	}
	out := make([]arrow.Array, len(cols))
	fail := func(err error) ([]arrow.Array, error) {
		for _, a := range out {
			if a != nil {
				a.Release()
			}
		}
		return nil, err
	}
	end := func(g int) int32 {
		if g+1 < len(starts) {
			return starts[g+1]
		}
		return int32(n)
	}
	for c, a := range cols {
		var err error
		switch agg := m.Aggs[c]; agg {
		case None:
			out[c], err = takeRows(a, starts, mem)
		case Replace:
			idx := make([]int32, len(starts))
			for g := range starts {
				idx[g] = end(g) - 1
			}
			out[c], err = takeRows(a, idx, mem)
		case ReplaceIfNotNull, Min, Max:
			var better func(i, j int) int
			if agg != ReplaceIfNotNull {
				if better, err = compareFunc(a); err != nil {
					return fail(err)
				}
			}
			idx := make([]int32, len(starts))
			for g, s := range starts {
				pick := int32(-1)
				for r := s; r < end(g); r++ {
					if a.IsNull(int(r)) {
						continue
					}
					switch {
					case pick < 0 || agg == ReplaceIfNotNull:
						pick = r
					case agg == Min && better(int(r), int(pick)) < 0, agg == Max && better(int(r), int(pick)) > 0:
						pick = r
					}
				}
				idx[g] = pick
			}
			out[c], err = takeRows(a, idx, mem)
		case Sum:
			out[c], err = sum(a, starts, n, mem)
		case BitmapUnion, HLLUnion:
			out[c], err = m.union(agg, a, starts, n, mem)
		default:
			err = fmt.Errorf("keymodel: aggregation %d", agg)
		}
		if err != nil {
			return fail(fmt.Errorf("keymodel: column %d: %w", c, err))
		}
	}
	return out, nil
}

// union merges the non-NULL sketch values of each group.
func (m *Model) union(agg Agg, a arrow.Array, starts []int32, n int, mem memory.Allocator) (arrow.Array, error) {
	s, ok := a.(*array.String)
	if !ok {
		return nil, fmt.Errorf("sketch column of type %s", a.DataType())
	}
	union := m.Union
	if union == nil {
		union = defaultUnion
	}
	b := array.NewStringBuilder(mem)
	defer b.Release()
	var vals []string
	for g, st := range starts {
		e := int32(n)
		if g+1 < len(starts) {
			e = starts[g+1]
		}
		vals = vals[:0]
		for r := st; r < e; r++ {
			if s.IsValid(int(r)) {
				vals = append(vals, s.Value(int(r)))
			}
		}
		switch len(vals) {
		case 0:
			b.AppendNull()
		case 1:
			b.Append(vals[0])
		default:
			v, err := union(agg, vals)
			if err != nil {
				return nil, err
			}
			b.Append(v)
		}
	}
	return b.NewArray(), nil
}

// sum adds the non-NULL values of each group in the column's own type
// (integers wrap); a group of NULLs sums to NULL.
func sum(a arrow.Array, starts []int32, n int, mem memory.Allocator) (arrow.Array, error) {
	b := array.NewBuilder(mem, a.DataType())
	defer b.Release()
	each := func(add func(r int), emit func()) {
		for g, s := range starts {
			e := int32(n)
			if g+1 < len(starts) {
				e = starts[g+1]
			}
			seen := false
			for r := s; r < e; r++ {
				if a.IsValid(int(r)) {
					add(int(r))
					seen = true
				}
			}
			if seen {
				emit()
			} else {
				b.AppendNull()
			}
		}
	}
	var i int64
	var f float64
	var d decimal128.Num
	switch x := a.(type) {
	case *array.Int8:
		each(func(r int) { i += int64(x.Value(r)) }, func() { b.(*array.Int8Builder).Append(int8(i)); i = 0 })
	case *array.Int16:
		each(func(r int) { i += int64(x.Value(r)) }, func() { b.(*array.Int16Builder).Append(int16(i)); i = 0 })
	case *array.Int32:
		each(func(r int) { i += int64(x.Value(r)) }, func() { b.(*array.Int32Builder).Append(int32(i)); i = 0 })
	case *array.Int64:
		each(func(r int) { i += x.Value(r) }, func() { b.(*array.Int64Builder).Append(i); i = 0 })
	case *array.Float32:
		each(func(r int) { f += float64(x.Value(r)) }, func() { b.(*array.Float32Builder).Append(float32(f)); f = 0 })
	case *array.Float64:
		each(func(r int) { f += x.Value(r) }, func() { b.(*array.Float64Builder).Append(f); f = 0 })
	case *array.Decimal128:
		each(func(r int) { d = d.Add(x.Value(r)) }, func() { b.(*array.Decimal128Builder).Append(d); d = decimal128.Num{} })
	default:
		return nil, fmt.Errorf("SUM of %s", a.DataType())
	}
	return b.NewArray(), nil
}

// takeRows returns the rows idx of a; -1 gives NULL.
func takeRows(a arrow.Array, idx []int32, mem memory.Allocator) (arrow.Array, error) {
	b := array.NewInt32Builder(mem)
	defer b.Release()
	b.Reserve(len(idx))
	for _, i := range idx {
		if i < 0 {
			b.UnsafeAppendBoolToBitmap(false)
		} else {
			b.UnsafeAppend(i)
		}
	}
	ix := b.NewArray()
	defer ix.Release()
	return compute.TakeArray(context.Background(), a, ix)
}

func takeAll(cols []arrow.Array, idx []int32, mem memory.Allocator) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(cols))
	for i, c := range cols {
		a, err := takeRows(c, idx, mem)
		if err != nil {
			for _, x := range out[:i] {
				x.Release()
			}
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// equalFunc reports whether two rows of a hold the same key value, NULL
// equal to NULL, floats equal as cmp.Compare has them (NaN = NaN, -0 =
// +0).
func equalFunc(a arrow.Array) (func(i, j int) bool, error) {
	c, err := compareFunc(a)
	if err != nil {
		return nil, err
	}
	if a.NullN() == 0 {
		return func(i, j int) bool { return c(i, j) == 0 }, nil
	}
	return func(i, j int) bool {
		ni, nj := a.IsNull(i), a.IsNull(j)
		if ni || nj {
			return ni && nj
		}
		return c(i, j) == 0
	}, nil
}

// compareFunc orders two non-NULL values of a as the tablet store sorts
// them.
func compareFunc(a arrow.Array) (func(i, j int) int, error) {
	switch x := a.(type) {
	case *array.Int8:
		v := x.Int8Values()
		return func(i, j int) int { return cmp.Compare(v[i], v[j]) }, nil
	case *array.Int16:
		v := x.Int16Values()
		return func(i, j int) int { return cmp.Compare(v[i], v[j]) }, nil
	case *array.Int32:
		v := x.Int32Values()
		return func(i, j int) int { return cmp.Compare(v[i], v[j]) }, nil
	case *array.Int64:
		v := x.Int64Values()
		return func(i, j int) int { return cmp.Compare(v[i], v[j]) }, nil
	case *array.Date32:
		v := x.Date32Values()
		return func(i, j int) int { return cmp.Compare(v[i], v[j]) }, nil
	case *array.Timestamp:
		v := x.TimestampValues()
		return func(i, j int) int { return cmp.Compare(v[i], v[j]) }, nil
	case *array.Float32:
		v := x.Float32Values()
		return func(i, j int) int { return cmp.Compare(v[i], v[j]) }, nil
	case *array.Float64:
		v := x.Float64Values()
		return func(i, j int) int { return cmp.Compare(v[i], v[j]) }, nil
	case *array.Decimal128:
		v := x.Values()
		return func(i, j int) int { return v[i].Cmp(v[j]) }, nil
	case *array.String:
		return func(i, j int) int { return strings.Compare(x.Value(i), x.Value(j)) }, nil
	case *array.Boolean:
		return func(i, j int) int {
			bi, bj := x.Value(i), x.Value(j)
			switch {
			case bi == bj:
				return 0
			case !bi:
				return -1
			}
			return 1
		}, nil
	}
	return nil, fmt.Errorf("keymodel: column of arrow type %s", a.DataType())
}

// defaultUnion merges sketches with be/sketch.
func defaultUnion(agg Agg, vals []string) (string, error) {
	if agg == BitmapUnion {
		return sketch.UnionBitmaps(vals)
	}
	return sketch.UnionHLLs(vals)
}

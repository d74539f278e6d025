package exec

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/types"
)

// RuntimeFilter is a scan predicate made at run time from the build side of
// an inner hash join: the probe column's value is one of the build keys.
// A join only keeps such rows, so the scan may drop the others before they
// are read further, joined and materialized. Keys within a span of
// maxBitmapSpan are tested against a bitmap over [lo, hi], others against
// the join's hash table. Its [lo, hi] range also prunes pages by zone map.
type RuntimeFilter struct {
	Col    *ColumnRef
	lo, hi int64
	bits   []uint64  // bit k-lo set for each key k; nil: probe set
	set    *intTable // the join's key table when bits is nil
	keys   int       // distinct keys
	name   string
}

// maxBitmapSpan bounds the bitmap of a runtime filter (8 MiB).
const maxBitmapSpan = 1 << 26

// NewRuntimeFilter returns the filter "col IN keys of jt" when jt has one
// integer key, and false otherwise. An empty build side gives a filter that
// passes nothing.
func NewRuntimeFilter(col *ColumnRef, jt *JoinTable) (*RuntimeFilter, bool) {
	if jt.intTbl == nil || len(jt.kviews) != 1 || physOf(col.T) != pInt {
		return nil, false
	}
	f := &RuntimeFilter{Col: col, set: jt.intTbl, lo: math.MaxInt64, hi: math.MinInt64}
	kv := jt.kviews[0]
	for i := range jt.tbl.n {
		if kv.isNull(i) {
			continue
		}
		k := kv.int(i)
		f.lo, f.hi = min(f.lo, k), max(f.hi, k)
	}
	f.keys = jt.intTbl.n
	if f.keys > 0 && uint64(f.hi-f.lo) < maxBitmapSpan {
		f.bits = make([]uint64, (f.hi-f.lo)/64+1)
		for i := range jt.tbl.n {
			if !kv.isNull(i) {
				k := uint64(kv.int(i) - f.lo)
				f.bits[k/64] |= 1 << (k % 64)
			}
		}
	}
	return f, true
}

// Range is the filter's key range for zone-map pruning; ok is false when
// the build side is empty.
func (f *RuntimeFilter) Range() (ColumnRange, bool) {
	if f.keys == 0 {
		return ColumnRange{}, false
	}
	return ColumnRange{Col: f.Col.Idx, Min: f.lo, Max: f.hi, HasMin: true, HasMax: true}, true
}

func (f *RuntimeFilter) Type() types.Type { return types.Boolean }
func (f *RuntimeFilter) String() string {
	kind := "hash"
	if f.bits != nil {
		kind = "bitmap"
	}
	return fmt.Sprintf("RF(%s IN %d keys [%d, %d] %s)", f.Col, f.keys, f.lo, f.hi, kind)
}

func (f *RuntimeFilter) Eval(ctx *EvalContext, b *Batch) (arrow.Array, error) {
	o := newOut(types.Boolean, b.Len)
	rows := rowsOf(b)
	sel, err := f.selectRows(ctx, b, rows, make([]int32, 0, len(rows)))
	if err != nil {
		return nil, err
	}
	for _, i := range sel {
		o.setBool(int(i), true)
	}
	v := ctx.columnView(b.Cols[f.Col.Idx], f.Col.T)
	for _, i := range rows {
		if !v.isNull(int(i)) {
			o.setValid(int(i))
		}
	}
	return o.finish(), nil
}

func (f *RuntimeFilter) selectRows(ctx *EvalContext, b *Batch, rows, out []int32) ([]int32, error) {
	if f.keys == 0 {
		return out, nil
	}
	v := ctx.columnView(b.Cols[f.Col.Idx], f.Col.T)
	start := len(out)
	switch {
	case f.bits != nil && v.i32 != nil:
		out = bitmapSelect(v.i32, f.lo, f.hi, f.bits, rows, out)
	case f.bits != nil:
		out = bitmapSelect(v.ints(), f.lo, f.hi, f.bits, rows, out)
	default:
		for _, r := range rows {
			if f.set.find(v.int(int(r))) >= 0 {
				out = append(out, r)
			}
		}
	}
	if v.hasNulls() {
		w := start
		for _, r := range out[start:] {
			if !v.isNull(int(r)) {
				out[w] = r
				w++
			}
		}
		out = out[:w]
	}
	return out, nil
}

func bitmapSelect[T int32 | int64](x []T, lo, hi int64, bits []uint64, rows, out []int32) []int32 {
	n := len(out)
	out = slices.Grow(out, len(rows))[:n+len(rows)]
	span := uint64(hi - lo)
	for _, r := range rows {
		k := uint64(int64(x[r]) - lo)
		out[n] = r
		if k <= span {
			n += int(bits[k/64] >> (k % 64) & 1)
		}
	}
	return out[:n]
}

// Pipeline describes the operators between a parallel scan and its
// partial aggregation when they include broadcast hash joins: the joins'
// build sides are computed once, before the workers start, and shared.
type Pipeline struct {
	Joins []PipelineJoin
	// Build makes one worker's operators over its scan; join(i, probe)
	// returns the worker's operator for Joins[i] over probe.
	Build func(scan Operator, join func(i int, probe Operator) (Operator, error)) (Operator, error)
}

// PipelineJoin is a hash join of a pipeline. ProbeKeys are over the
// schema of the join's probe input; RuntimeFilterCol, when >= 0, is the scan
// column the only probe key reads directly (its value is the key), for a
// runtime filter of an inner join.
type PipelineJoin struct {
	Build            Operator
	Kind             JoinKind
	BuildKeys        []Expr
	ProbeKeys        []Expr
	Other            Expr
	RuntimeFilterCol int
}

// buildJoins computes the build sides, then returns the scan spec with the
// runtime filters added and a factory for the workers' join operators.
func (p *ParallelScanAgg) buildJoins(ctx context.Context, spec ScanSpec) (ScanSpec, func(i int, probe Operator) (Operator, error), error) {
	pl := p.pipe
	p.runtimeFilters = nil
	tables := make([]*JoinTable, len(pl.Joins))
	probeKeys := make([][]Expr, len(pl.Joins))
	var rfs []Expr
	for i, j := range pl.Joins {
		bks, pks, err := JoinKeys(j.BuildKeys, j.ProbeKeys)
		if err != nil {
			p.releaseTables()
			return spec, nil, err
		}
		jt, err := BuildJoinTable(ctx, j.Build, bks)
		if err != nil {
			p.releaseTables()
			return spec, nil, err
		}
		tables[i], probeKeys[i] = jt, pks
		p.tables = append(p.tables, jt)
		if j.Kind != JoinInner || j.RuntimeFilterCol < 0 {
			continue
		}
		col, ok := pks[0].(*ColumnRef)
		if !ok || len(pks) != 1 || col.Idx != j.RuntimeFilterCol {
			continue
		}
		rf, ok := NewRuntimeFilter(col, jt)
		if !ok {
			continue
		}
		rfs = append(rfs, rf)
		p.runtimeFilters = append(p.runtimeFilters, rf)
		if r, ok := rf.Range(); ok {
			spec.Ranges = append(append([]ColumnRange(nil), spec.Ranges...), r)
		}
	}
	if len(rfs) > 0 {
		filter := NewAndN(rfs...)
		if spec.Filter != nil {
			filter = NewAnd(spec.Filter, filter)
		}
		spec.Filter = filter
	}
	join := func(i int, probe Operator) (Operator, error) {
		j := pl.Joins[i]
		return NewHashJoinOn(tables[i], probe, j.Kind, probeKeys[i], j.Other)
	}
	return spec, join, nil
}

func (p *ParallelScanAgg) releaseTables() {
	for _, jt := range p.tables {
		jt.Release()
	}
	p.tables = nil
}

// RuntimeFilters are the filters the last Open pushed into the scan.
func (p *ParallelScanAgg) RuntimeFilters() []*RuntimeFilter { return p.runtimeFilters }

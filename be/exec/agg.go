package exec

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/strata-db/strata/types"
)

// AggSpec is one aggregate of a [HashAgg]: Func is count, sum, min, max,
// avg, any_value, group_concat or one of the BITMAP and HLL aggregates
// (agg_sketch.go); count with no Args is COUNT(*).
type AggSpec struct {
	Func     string
	Distinct bool
	Args     []Expr
}

// AggResultType returns the result type of an aggregate, following Doris:
// COUNT is BIGINT; SUM of integers is BIGINT (LARGEINT stays LARGEINT), of
// floats DOUBLE, of DECIMAL(p,s) DECIMAL(38,s); AVG of integers and floats
// is DOUBLE, of DECIMAL(p,s) DECIMAL(38,s+4); MIN, MAX and ANY_VALUE keep the
// argument type; GROUP_CONCAT is STRING. The sketch aggregates are typed in
// agg_sketch.go. Only COUNT and ANY_VALUE take BITMAP or HLL arguments.
func AggResultType(fn string, args []types.Type) (types.Type, error) {
	fn = strings.ToLower(fn)
	if isSketchAggregate(fn) {
		return sketchAggResultType(fn, args)
	}
	switch fn {
	case "count":
		return types.BigInt, nil
	case "group_concat":
		if len(args) < 1 || len(args) > 2 {
			return types.Type{}, fmt.Errorf("group_concat expects 1 or 2 arguments")
		}
		for _, t := range args {
			if t.Kind.IsObject() {
				return types.Type{}, fmt.Errorf("group_concat does not accept %v", t)
			}
		}
		return types.String, nil
	}
	if len(args) != 1 {
		return types.Type{}, fmt.Errorf("%s expects 1 argument, got %d", fn, len(args))
	}
	t := args[0]
	switch fn {
	case "sum", "avg":
		switch {
		case t.Kind == types.KindLargeInt && fn == "sum":
			return types.LargeInt, nil
		case t.Kind == types.KindDecimal:
			if fn == "sum" {
				return types.Decimal(38, t.Scale), nil
			}
			return types.Decimal(38, min(t.Scale+DivPrecisionIncrement, 38)), nil
		case (t.Kind.IsInteger() || t.Kind == types.KindBoolean) && fn == "sum":
			return types.BigInt, nil
		case t.Kind.IsNumeric() || t.Kind == types.KindBoolean || t.Kind.IsString():
			return types.Double, nil
		}
		return types.Type{}, fmt.Errorf("%s does not accept %v", fn, t)
	case "min", "max":
		if t.Kind.IsObject() {
			return types.Type{}, fmt.Errorf("%s does not accept %v", fn, t)
		}
		return t, nil
	case "any_value", "any":
		return t, nil
	}
	return types.Type{}, fmt.Errorf("Unknown function '%s'", fn)
}

// IsAggregate reports whether name is an aggregate function [HashAgg]
// computes (case-insensitive).
func IsAggregate(name string) bool {
	switch n := strings.ToLower(name); n {
	case "count", "sum", "min", "max", "avg", "any_value", "any", "group_concat":
		return true
	default:
		return isSketchAggregate(n) && n != aggBitmapIntersectState && n != aggApproxDistinctState
	}
}

// aggState holds one aggregate's per-group states.
type aggState interface {
	// update folds rows (row k in group gids[k]) into the state, which
	// first grows to n groups. It fails only on values it cannot read
	// (a malformed BITMAP or HLL).
	update(n int, gids []int32, rows []int32, args []*view) error
	// result returns the values of groups 0..n-1.
	result(n int) arrow.Array
}

func growTo[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	if n <= cap(s) {
		return s[:n]
	}
	ns := make([]T, n, max(n, 2*cap(s)))
	copy(ns, s)
	return ns
}

type countAgg struct{ counts []int64 }

func (a *countAgg) update(n int, gids, rows []int32, args []*view) error {
	a.counts = growTo(a.counts, n)
	if len(args) == 0 || !anyHasNulls(args) {
		for _, g := range gids {
			a.counts[g]++
		}
		return nil
	}
	for k, r := range rows {
		if !anyNull(args, int(r)) {
			a.counts[gids[k]]++
		}
	}
	return nil
}

func anyHasNulls(vs []*view) bool {
	for _, v := range vs {
		if v.hasNulls() {
			return true
		}
	}
	return false
}

func (a *countAgg) result(n int) arrow.Array {
	a.counts = growTo(a.counts, n)
	o := newOut(types.BigInt, n)
	for i := 0; i < n; i++ {
		o.setInt(i, a.counts[i])
	}
	return o.finish()
}

// sumIntAgg sums integers into int64 (SUM, and the sum half of AVG).
type sumIntAgg struct {
	sums   []int64
	counts []int64
	avg    bool
}

func (a *sumIntAgg) update(n int, gids, rows []int32, args []*view) error {
	a.sums, a.counts = growTo(a.sums, n), growTo(a.counts, n)
	v := args[0]
	if n == 1 && !v.hasNulls() && v.step == 1 && (v.i32 != nil || v.i64 != nil) {
		// One group (no GROUP BY, or one key so far): a plain sum.
		if v.i32 != nil {
			a.sums[0] += sumAt(v.i32, rows)
		} else {
			a.sums[0] += sumAt(v.i64, rows)
		}
		a.counts[0] += int64(len(rows))
		return nil
	}
	if x := v.i32; x != nil && !v.hasNulls() && v.step == 1 {
		for k, r := range rows {
			g := gids[k]
			a.sums[g] += int64(x[r])
			a.counts[g]++
		}
		return nil
	}
	x := v.i64
	if x != nil && !v.hasNulls() && v.step == 1 {
		for k, r := range rows {
			g := gids[k]
			a.sums[g] += x[r]
			a.counts[g]++
		}
		return nil
	}
	for k, r := range rows {
		if !v.isNull(int(r)) {
			g := gids[k]
			a.sums[g] += v.int(int(r))
			a.counts[g]++
		}
	}
	return nil
}

// sumAt sums x at rows (ascending, distinct: all of x when as many).
func sumAt[T int32 | int64](x []T, rows []int32) int64 {
	var s0, s1, s2, s3 int64
	if len(rows) == len(x) {
		i := 0
		for ; i+4 <= len(x); i += 4 {
			s0 += int64(x[i])
			s1 += int64(x[i+1])
			s2 += int64(x[i+2])
			s3 += int64(x[i+3])
		}
		for ; i < len(x); i++ {
			s0 += int64(x[i])
		}
		return s0 + s1 + s2 + s3
	}
	for _, r := range rows {
		s0 += int64(x[r])
	}
	return s0
}

func (a *sumIntAgg) result(n int) arrow.Array {
	a.sums, a.counts = growTo(a.sums, n), growTo(a.counts, n)
	if a.avg {
		o := newOut(types.Double, n)
		for i := 0; i < n; i++ {
			if a.counts[i] > 0 {
				o.setFlt(i, float64(a.sums[i])/float64(a.counts[i]))
			}
		}
		return o.finish()
	}
	o := newOut(types.BigInt, n)
	for i := 0; i < n; i++ {
		if a.counts[i] > 0 {
			o.setInt(i, a.sums[i])
		}
	}
	return o.finish()
}

type sumFloatAgg struct {
	sums   []float64
	counts []int64
	avg    bool
}

func (a *sumFloatAgg) update(n int, gids, rows []int32, args []*view) error {
	a.sums, a.counts = growTo(a.sums, n), growTo(a.counts, n)
	v := args[0]
	for k, r := range rows {
		if !v.isNull(int(r)) {
			g := gids[k]
			a.sums[g] += toFloat(v, int(r))
			a.counts[g]++
		}
	}
	return nil
}

func (a *sumFloatAgg) result(n int) arrow.Array {
	a.sums, a.counts = growTo(a.sums, n), growTo(a.counts, n)
	o := newOut(types.Double, n)
	for i := 0; i < n; i++ {
		if a.counts[i] > 0 {
			if a.avg {
				o.setFlt(i, a.sums[i]/float64(a.counts[i]))
			} else {
				o.setFlt(i, a.sums[i])
			}
		}
	}
	return o.finish()
}

type sumDecAgg struct {
	sums   []decimal128.Num
	counts []int64
	in     types.Type
	out    types.Type
	avg    bool
}

func (a *sumDecAgg) update(n int, gids, rows []int32, args []*view) error {
	a.sums, a.counts = growTo(a.sums, n), growTo(a.counts, n)
	v := args[0]
	s := scaleOf(a.in)
	for k, r := range rows {
		if !v.isNull(int(r)) {
			g := gids[k]
			a.sums[g] = a.sums[g].Add(toDec(v, int(r), s))
			a.counts[g]++
		}
	}
	return nil
}

func (a *sumDecAgg) result(n int) arrow.Array {
	a.sums, a.counts = growTo(a.sums, n), growTo(a.counts, n)
	o := newOut(a.out, n)
	s := scaleOf(a.in)
	for i := 0; i < n; i++ {
		if a.counts[i] == 0 {
			continue
		}
		if !a.avg {
			o.setDec(i, a.sums[i])
			continue
		}
		if a.out.Kind != types.KindDecimal {
			// AVG of a LARGEINT is a DOUBLE, as in Doris.
			o.setFlt(i, decFloat(a.sums[i], s)/float64(a.counts[i]))
			continue
		}
		// avg at scale out.Scale: sum * 10^(os-s) / count, rounded half up
		os := scaleOf(a.out)
		if !a.sums[i].FitsInPrecision(decimal128.MaxPrecision - (os - s + 1)) {
			// sum * 10^(os-s+1) may overflow 128 bits though the average
			// fits; an average the output type cannot hold is NULL, as
			// a DECIMAL cast out of range is.
			if q := wideAvg(a.sums[i], a.counts[i], os-s); q.BitLen() <= 127 && fitsType(decimal128.FromBigInt(q), a.out) {
				o.setDec(i, decimal128.FromBigInt(q))
			}
			continue
		}
		x := a.sums[i].IncreaseScaleBy(os - s + 1)
		q, _ := x.Div(decimal128.FromI64(a.counts[i]))
		o.setDec(i, q.ReduceScaleBy(1, true))
	}
	return o.finish()
}

// wideAvg returns sum * 10^up / count, rounded half away from zero, for a
// sum too wide to scale up in 128 bits.
func wideAvg(sum decimal128.Num, count int64, up int32) *big.Int {
	return divRound(sum.BigInt(), up, big.NewInt(count))
}

// minMaxAgg keeps the smallest (or largest) value, or the first for any_value.
type minMaxAgg struct {
	t     types.Type
	max   bool
	first bool
	seen  []bool
	i64   []int64
	f64   []float64
	dec   []decimal128.Num
	str   []string
	boo   []bool
}

func (a *minMaxAgg) update(n int, gids, rows []int32, args []*view) error {
	a.seen = growTo(a.seen, n)
	v := args[0]
	switch v.p {
	case pInt:
		a.i64 = growTo(a.i64, n)
		for k, r := range rows {
			i := int(r)
			if v.isNull(i) {
				continue
			}
			g, x := gids[k], v.int(i)
			if !a.seen[g] || !a.first && (a.max && x > a.i64[g] || !a.max && x < a.i64[g]) {
				a.i64[g], a.seen[g] = x, true
			}
		}
	case pFloat:
		a.f64 = growTo(a.f64, n)
		for k, r := range rows {
			i := int(r)
			if v.isNull(i) {
				continue
			}
			g, x := gids[k], v.flt(i)
			if !a.seen[g] || !a.first && (a.max && x > a.f64[g] || !a.max && x < a.f64[g]) {
				a.f64[g], a.seen[g] = x, true
			}
		}
	case pDec:
		a.dec = growTo(a.dec, n)
		for k, r := range rows {
			i := int(r)
			if v.isNull(i) {
				continue
			}
			g, x := gids[k], v.decv(i)
			if !a.seen[g] || !a.first && (a.max && x.Greater(a.dec[g]) || !a.max && x.Less(a.dec[g])) {
				a.dec[g], a.seen[g] = x, true
			}
		}
	case pStr:
		a.str = growTo(a.str, n)
		for k, r := range rows {
			i := int(r)
			if v.isNull(i) {
				continue
			}
			g, x := gids[k], v.strv(i)
			if !a.seen[g] || !a.first && (a.max && x > a.str[g] || !a.max && x < a.str[g]) {
				a.str[g], a.seen[g] = strings.Clone(x), true
			}
		}
	case pBool:
		a.boo = growTo(a.boo, n)
		for k, r := range rows {
			i := int(r)
			if v.isNull(i) {
				continue
			}
			g, x := gids[k], v.boolv(i)
			if !a.seen[g] || !a.first && (a.max && x && !a.boo[g] || !a.max && !x && a.boo[g]) {
				a.boo[g], a.seen[g] = x, true
			}
		}
	}
	return nil
}

func (a *minMaxAgg) result(n int) arrow.Array {
	a.seen = growTo(a.seen, n)
	o := newOut(a.t, n)
	for i := 0; i < n; i++ {
		if !a.seen[i] {
			continue
		}
		switch o.p {
		case pInt:
			o.setInt(i, a.i64[i])
		case pFloat:
			o.setFlt(i, a.f64[i])
		case pDec:
			o.setDec(i, a.dec[i])
		case pStr:
			o.setStr(i, a.str[i])
		case pBool:
			o.setBool(i, a.boo[i])
		}
	}
	return o.finish()
}

// groupConcatAgg joins string values with a separator (default ",").
type groupConcatAgg struct {
	vals [][]byte
	seen []bool
}

func (a *groupConcatAgg) update(n int, gids, rows []int32, args []*view) error {
	a.vals, a.seen = growTo(a.vals, n), growTo(a.seen, n)
	v := args[0]
	for k, r := range rows {
		i := int(r)
		if v.isNull(i) {
			continue
		}
		g := gids[k]
		if a.seen[g] {
			sep := ","
			if len(args) > 1 && !args[1].isNull(i) {
				sep = args[1].strv(i)
			}
			a.vals[g] = append(a.vals[g], sep...)
		}
		a.vals[g] = append(a.vals[g], v.strv(i)...)
		a.seen[g] = true
	}
	return nil
}

func (a *groupConcatAgg) result(n int) arrow.Array {
	a.vals, a.seen = growTo(a.vals, n), growTo(a.seen, n)
	o := newOut(types.String, n)
	for i := 0; i < n; i++ {
		if a.seen[i] {
			o.setBytes(i, a.vals[i])
		}
	}
	return o.finish()
}

// distinctAgg passes each (group, argument values) combination to inner once.
type distinctAgg struct {
	inner aggState
	seen  *bytesTable
	buf   []byte
	gids  []int32
	rows  []int32
}

func (a *distinctAgg) update(n int, gids, rows []int32, args []*view) error {
	a.gids, a.rows = a.gids[:0], a.rows[:0]
	for k, r := range rows {
		i := int(r)
		if anyNull(args, i) {
			continue
		}
		a.buf = a.buf[:0]
		a.buf = append(a.buf, byte(gids[k]), byte(gids[k]>>8), byte(gids[k]>>16), byte(gids[k]>>24))
		a.buf, _ = encodeKey(a.buf, args, i)
		if _, inserted := a.seen.findOrInsert(a.buf); inserted {
			a.gids = append(a.gids, gids[k])
			a.rows = append(a.rows, r)
		}
	}
	return a.inner.update(n, a.gids, a.rows, args)
}

func (a *distinctAgg) result(n int) arrow.Array { return a.inner.result(n) }

// newAggState builds the state for one aggregate with argument types ats.
func newAggState(spec AggSpec, ats []types.Type) (aggState, types.Type, error) {
	fn := strings.ToLower(spec.Func)
	rt, err := AggResultType(fn, ats)
	if err != nil {
		return nil, rt, err
	}
	if spec.Distinct {
		for _, t := range ats {
			if t.Kind.IsObject() {
				// Doris's wording (the planner turns COUNT(DISTINCT) of one
				// BITMAP or HLL into bitmap_union_count or hll_union_agg).
				return nil, rt, fmt.Errorf("COUNT DISTINCT could not process type %s(DISTINCT %v)", fn, t)
			}
		}
	}
	if isSketchAggregate(fn) {
		// Sketches merge duplicates themselves: DISTINCT changes nothing.
		return newSketchAggState(fn, ats[0]), rt, nil
	}
	var st aggState
	switch fn {
	case "count":
		st = &countAgg{}
	case "sum", "avg":
		avg := fn == "avg"
		t := ats[0]
		switch {
		case t.Kind == types.KindDecimal || t.Kind == types.KindLargeInt:
			st = &sumDecAgg{in: t, out: rt, avg: avg}
		case t.Kind.IsInteger():
			st = &sumIntAgg{avg: avg}
		default:
			st = &sumFloatAgg{avg: avg}
		}
	case "min", "max":
		st = &minMaxAgg{t: rt, max: fn == "max"}
	case "any_value", "any":
		st = &minMaxAgg{t: rt, first: true}
	case "group_concat":
		st = &groupConcatAgg{}
	}
	if spec.Distinct && fn != "min" && fn != "max" {
		st = &distinctAgg{inner: st, seen: newBytesTable(1024)}
	}
	return st, rt, nil
}

// HashAgg groups its input by GroupBy and computes Aggs per group. The output
// is the group columns followed by one column per aggregate. Without GROUP BY
// it returns exactly one row (COUNT 0, other aggregates NULL on empty input).
//
// Groups are found through a purpose-built open-addressing table: int64 keys
// directly for a single integer or temporal key, an encoded byte key
// otherwise.
type HashAgg struct {
	baseStats
	child   Operator
	groupBy []Expr
	aggs    []AggSpec
	schema  []types.Type
	ectx    *EvalContext

	states  []aggState
	intTbl  *intTable
	nullGid int32
	bytTbl  *bytesTable
	// wordTbl groups keys of integer and string columns as fixed-width
	// words: integers as they are, strings as ids from intern (per key
	// column) + 1, 0 for NULL; with integer columns a last word holds their
	// NULL bits.
	wordTbl *wordTable
	intern  []*bytesTable
	kwords  []uint64
	// remaps[c] maps the codes of the dictionary remapOf[c] (the last one
	// key column c came with) to interned id + 1 (0: not yet looked up).
	// A join's build column comes back batch after batch as the same
	// dictionary, so its map is kept; a page's is rebuilt.
	remaps  [][]int32
	remapOf []arrow.ArrayData
	// direct maps the key word of a lone string key (dense: interned id
	// + 1, 0 for NULL) to group id + 1, skipping the hash table.
	direct  []int32
	ngroups int
	keys    *tableBuilder
	mem     memAccount // the groups' keys and states

	out  *table
	pos  int
	done bool
	held []arrow.Array // slices handed out by the last Next
}

// NewHashAgg returns the aggregation of child; it resolves the aggregate
// result types and rejects unknown aggregates.
func NewHashAgg(child Operator, groupBy []Expr, aggs []AggSpec) (*HashAgg, error) {
	aggs = normalizeAggs(aggs)
	h := &HashAgg{child: child, groupBy: groupBy, aggs: aggs}
	for _, g := range groupBy {
		if g.Type().Kind.IsObject() {
			return nil, ErrOnlyMetricType
		}
		h.schema = append(h.schema, g.Type())
	}
	for _, a := range aggs {
		ats := make([]types.Type, len(a.Args))
		for i, e := range a.Args {
			ats[i] = e.Type()
		}
		_, rt, err := newAggState(a, ats)
		if err != nil {
			return nil, err
		}
		h.schema = append(h.schema, rt)
	}
	return h, nil
}

func (h *HashAgg) Schema() []types.Type { return h.schema }

func (h *HashAgg) Open(ctx context.Context) error {
	h.ectx = evalCtxFrom(ctx)
	h.ectx.batchScoped = true
	h.states = h.states[:0]
	for _, a := range h.aggs {
		ats := make([]types.Type, len(a.Args))
		for i, e := range a.Args {
			ats[i] = e.Type()
		}
		st, _, err := newAggState(a, ats)
		if err != nil {
			return err
		}
		h.states = append(h.states, st)
	}
	gts := make([]types.Type, len(h.groupBy))
	for i, g := range h.groupBy {
		gts[i] = g.Type()
	}
	h.keys = newTableBuilder(gts)
	h.intTbl, h.bytTbl, h.wordTbl, h.intern, h.nullGid = nil, nil, nil, nil, -1
	switch {
	case len(h.groupBy) == 1 && physOf(gts[0]) == pInt:
		h.intTbl = newIntTable(1024)
	case wordKeys(gts):
		w := len(gts)
		for _, t := range gts {
			if physOf(t) == pInt {
				w++ // the NULL-bits word
				break
			}
		}
		h.wordTbl = newWordTable(w, 1024)
		h.direct = nil
		if w == 1 {
			h.direct = make([]int32, 0, 1024)
		}
		h.intern = make([]*bytesTable, len(gts))
		h.remaps = make([][]int32, len(gts))
		h.remapOf = make([]arrow.ArrayData, len(gts))
		for i, t := range gts {
			if physOf(t) == pStr {
				h.intern[i] = newBytesTable(256)
			}
		}
	case len(h.groupBy) > 0:
		h.bytTbl = newBytesTable(1024)
	}
	h.ngroups = 0
	if len(h.groupBy) == 0 {
		h.ngroups = 1
	}
	h.out, h.pos, h.done = nil, 0, false
	h.mem.open(ctx, "HashAgg")
	return h.child.Open(ctx)
}

func (h *HashAgg) Close() error {
	h.mem.release()
	h.held = releaseAll(h.held)
	if h.out != nil {
		h.out.release()
		h.out = nil
	}
	return h.child.Close()
}

// consume folds one input batch into the groups.
func (h *HashAgg) consume(b *Batch, gids []int32, newRows []int32, buf []byte) ([]int32, []int32, []byte, error) {
	defer h.ectx.endBatch()
	rows := rowsOf(b)
	gids = growTo(gids[:0], len(rows))
	newRows = newRows[:0]
	var kv []*view
	if len(h.groupBy) > 0 {
		kv = make([]*view, len(h.groupBy))
		for i, g := range h.groupBy {
			v, err := evalView(h.ectx, g, b)
			if err != nil {
				return gids, newRows, buf, err
			}
			kv[i] = v
		}
	}
	switch {
	case len(h.groupBy) == 0:
		for k := range gids {
			gids[k] = 0
		}
	case h.intTbl != nil:
		v := kv[0]
		for k, r := range rows {
			i := int(r)
			if v.isNull(i) {
				if h.nullGid < 0 {
					h.nullGid = int32(h.ngroups)
					h.ngroups++
					newRows = append(newRows, r)
				}
				gids[k] = h.nullGid
				continue
			}
			g, inserted := h.intTbl.findOrInsert(v.int(i))
			if inserted {
				// int table ids are dense in insertion order but share the id
				// space with the NULL group, so map through ngroups.
				newRows = append(newRows, r)
				h.ngroups++
			}
			gids[k] = g
		}
		if h.nullGid >= 0 {
			// Ids from intTbl count only non-NULL keys; shift ids at or past
			// the NULL group by one so both share one dense space.
			for k := range gids {
				if gids[k] >= h.nullGid && !kv[0].isNull(int(rows[k])) {
					gids[k]++
				}
			}
		}
	case h.wordTbl != nil:
		w := h.wordTbl.w
		h.kwords = growTo(h.kwords[:0], len(rows)*w)
		kw := h.kwords
		if w > len(kv) {
			for k := range rows {
				kw[k*w+w-1] = 0
			}
		}
		for c, v := range kv {
			if v.p == pStr {
				h.stringWords(c, v, rows, kw, w)
				continue
			}
			for k, r := range rows {
				kw[k*w+c] = uint64(v.int(int(r)))
			}
			if v.hasNulls() {
				for k, r := range rows {
					if v.isNull(int(r)) {
						kw[k*w+c] = 0
						kw[k*w+w-1] |= 1 << c
					}
				}
			}
		}
		if h.direct != nil {
			for k, r := range rows {
				word := int(kw[k])
				if word >= len(h.direct) {
					h.direct = growTo(h.direct, max(word+1, 2*len(h.direct)))
				}
				g := h.direct[word]
				if g == 0 {
					h.ngroups++
					g = int32(h.ngroups)
					h.direct[word] = g
					newRows = append(newRows, r)
				}
				gids[k] = g - 1
			}
			break
		}
		for k, r := range rows {
			g, inserted := h.wordTbl.findOrInsert(kw[k*w : k*w+w])
			if inserted {
				newRows = append(newRows, r)
				h.ngroups++
			}
			gids[k] = g
		}
	default:
		for k, r := range rows {
			buf, _ = encodeKey(buf[:0], kv, int(r))
			g, inserted := h.bytTbl.findOrInsert(buf)
			if inserted {
				newRows = append(newRows, r)
				h.ngroups++
			}
			gids[k] = g
		}
	}
	if len(newRows) > 0 {
		h.keys.appendViews(kv, newRows)
	}
	for ai, a := range h.aggs {
		args := make([]*view, len(a.Args))
		for i, e := range a.Args {
			v, err := evalView(h.ectx, e, b)
			if err != nil {
				return gids, newRows, buf, err
			}
			args[i] = v
		}
		if err := h.states[ai].update(h.ngroups, gids, rows, args); err != nil {
			return gids, newRows, buf, fmt.Errorf("%s: %w", a.Func, err)
		}
	}
	return gids, newRows, buf, nil
}

// wordKeys reports whether group keys of types ts go to a wordTable: all
// integers or strings, and not a lone integer (intTable's case). At most 63
// columns, for the NULL bits.
func wordKeys(ts []types.Type) bool {
	if len(ts) == 0 || len(ts) > 63 || len(ts) == 1 && physOf(ts[0]) == pInt {
		return false
	}
	for _, t := range ts {
		if p := physOf(t); p != pInt && p != pStr {
			return false
		}
	}
	return true
}

// stringWords writes word c of each row's key: the id of the string in key
// column c's interning table + 1, or 0 for NULL. A dictionary-coded column
// is interned once per dictionary entry the rows use.
func (h *HashAgg) stringWords(c int, v *view, rows []int32, kw []uint64, w int) {
	in := h.intern[c]
	same := v.codes != nil && v.str.Data() == h.remapOf[c]
	if v.codes == nil || !same && v.str.Len() > 1<<16 && v.str.Len() > 64*len(rows) {
		// Plain strings, or a new, large dictionary of which the rows use
		// a sliver: intern row by row.
		for k, r := range rows {
			if v.isNull(int(r)) {
				kw[k*w+c] = 0
				continue
			}
			kw[k*w+c] = uint64(in.internString(v.strv(int(r)))) + 1
		}
		return
	}
	if !same {
		h.remaps[c] = growTo(h.remaps[c][:0], v.str.Len())
		clear(h.remaps[c])
		h.remapOf[c] = v.str.Data()
	}
	remap := h.remaps[c]
	codes := v.codes
	word := func(code int32) uint64 {
		id := remap[code]
		if id == 0 {
			id = in.internString(v.str.Value(int(code))) + 1
			remap[code] = id
		}
		return uint64(id)
	}
	nulls := v.hasNulls()
	for k, r := range rows {
		if nulls && v.isNull(int(r)) {
			kw[k*w+c] = 0
			continue
		}
		kw[k*w+c] = word(codes[r])
	}
}

func (h *HashAgg) build(ctx context.Context) error {
	var b Batch
	var gids, newRows []int32
	var buf []byte
	for {
		b.Reset()
		err := Next(ctx, h.child, &b)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if b.NumRows() == 0 {
			continue
		}
		if gids, newRows, buf, err = h.consume(&b, gids, newRows, buf); err != nil {
			return err
		}
		if h.mem.t != nil && len(newRows) > 0 {
			// The new groups' share of the batch, plus their table
			// entries and aggregate states.
			n := int64(len(newRows))
			if err := h.mem.grow(h.mem.batchBytes(&b)*n/int64(b.NumRows()) + n*int64(hashEntryBytes+16*len(h.aggs))); err != nil {
				return err
			}
		}
	}
	keys := h.keys.finish()
	cols := keys.cols
	for _, st := range h.states {
		cols = append(cols, st.result(h.ngroups))
	}
	h.out = &table{types: h.schema, cols: cols, n: h.ngroups}
	h.states = nil
	return nil
}

func (h *HashAgg) Next(ctx context.Context, b *Batch) error {
	if !h.done {
		h.done = true
		if err := h.build(ctx); err != nil {
			return err
		}
	}
	b.Reset()
	h.held = releaseAll(h.held)
	if h.pos >= h.out.n {
		return io.EOF
	}
	end := min(h.pos+BatchSize, h.out.n)
	for _, c := range h.out.cols {
		if h.pos == 0 && end == h.out.n {
			b.Cols = append(b.Cols, c)
		} else {
			s := arraySlice(c, h.pos, end)
			h.held = append(h.held, s)
			b.Cols = append(b.Cols, s)
		}
	}
	b.Len = end - h.pos
	h.pos = end
	return nil
}

// normalizeAggs converts arguments the aggregates cannot take as they are:
// SUM/AVG of strings and booleans work on DOUBLE, GROUP_CONCAT on strings.
func normalizeAggs(aggs []AggSpec) []AggSpec {
	out := make([]AggSpec, len(aggs))
	for i, a := range aggs {
		a.Args = append([]Expr(nil), a.Args...)
		switch strings.ToLower(a.Func) {
		case "sum", "avg":
			if len(a.Args) == 1 {
				if k := a.Args[0].Type().Kind; k.IsString() || k == types.KindBoolean || k.IsTemporal() {
					a.Args[0] = Coerce(a.Args[0], types.Double)
				}
			}
		case "group_concat":
			for j, e := range a.Args {
				if k := e.Type().Kind; !k.IsString() && !k.IsObject() {
					a.Args[j] = Coerce(e, types.String)
				}
			}
		case "bitmap_agg", "bitmap_union_int":
			// Integers share the int64 view; booleans count as 0 and 1.
			if len(a.Args) == 1 && a.Args[0].Type().Kind == types.KindBoolean {
				a.Args[0] = Coerce(a.Args[0], types.TinyInt)
			}
		}
		out[i] = a
	}
	return out
}

// NewDistinct returns the distinct rows of child (a grouping on every column).
func NewDistinct(child Operator) *HashAgg {
	var keys []Expr
	for i, t := range child.Schema() {
		keys = append(keys, NewColumnRef(i, t))
	}
	h, err := NewHashAgg(child, keys, nil)
	if err != nil {
		panic("BUG: distinct without aggregates failed: " + err.Error())
	}
	return h
}

package planner

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

// Index selection: which of a table's indexes each scan reads.
//
// A table's rows are stored in its base index and again in each rollup and
// synchronous materialized view (fe/catalog/index.go), and a NORMAL index
// holds exactly the base's rows at the partition versions a query reads.
// After the rules have pushed the conjuncts into the scans, and before
// partitions are pruned, selectIndexes looks at every scan of a table and
// keeps the base or moves the scan to an index that gives the same answer
// and scans less. Two kinds of index can answer:
//
//   - A row-preserving index holds the base's rows (after the fold of an
//     aggregate or unique table): a duplicate-key index of a duplicate
//     table, or an index that keeps every key of an aggregate or unique
//     table. It answers any query whose columns it holds. The scan reads
//     the same column ids from the index; nothing above it changes.
//   - An aggregating index (a materialized view with GROUP BY over a
//     duplicate table; a rollup of an aggregate table on fewer keys) has
//     one row for many base rows. It answers an aggregation (GROUP BY,
//     aggregates, SELECT DISTINCT) reached from the scan through filters
//     and projections only, when every filter, group key and expression
//     outside the aggregates reads key columns of the index, and each
//     aggregate either reads key columns only and ignores duplicates (min,
//     max, DISTINCT, the sketch unions, ...) or maps onto a value column
//     that pre-aggregates it (valueRuleOf): sum(v) onto the SUM of v,
//     count(v) and count(*) onto mv_count_v and mv_count_star (summed, and
//     0 rather than NULL over no rows), count(DISTINCT v) onto
//     bitmap_union(to_bitmap(v)), approx_count_distinct(v) of a string
//     onto hll_union(hll_hash(v)). The scan then reads the index's key columns
//     and those value columns, the projections in between pass the value
//     columns up, and the aggregates are rewritten onto them.
//
// Among the sources that can answer, as Doris's rollup selection does, the
// planner prefers the one whose sort key starts with the most columns the
// scan's filters fix (equalities and IN lists, then one range), which the
// short-key index and the zone maps exploit; then the one with fewer rows
// (an aggregating index before a row-preserving one, fewer keys first:
// row counts are not read at planning time); then the base; then fewer
// columns.
//
// The same analysis run against the table read gives what EXPLAIN shows as
// PREAGGREGATION (Doris's term): ON when the aggregation above a scan of an
// aggregate table gives the same answer over its rows folded or not. The
// scan then reads the rows as stored, in parallel like a duplicate table's,
// instead of merging them by key (newMergeScan).
//
// The session variable use_rollup (on by default; Doris has no session
// variable for this, only the NO_USE_MV hint) turns the choice off. The
// alter jobs' conversion queries, which must read the base, set it off.

// routingVariable is the session variable that lets the planner read
// rollups and materialized views in place of the base index.
const routingVariable = "use_rollup"

// routingEnabled reports whether the session lets scans read indexes.
func (p *Planner) routingEnabled() bool {
	switch strings.ToLower(strings.TrimSpace(p.sess.Variable(routingVariable))) {
	case "0", "false", "off":
		return false
	}
	return true
}

// selectIndexes chooses the index every scan of n reads and returns the
// plan, whose aggregations may have been rewritten onto an index.
func (p *Planner) selectIndexes(n node) node {
	return p.route(n, p.routingEnabled())
}

func (p *Planner) route(n node, on bool) node {
	switch x := n.(type) {
	case *scanNode:
		p.routeScan(x, on)
		return x
	case *aggNode, *distinctNode:
		if mids, s := aggChain(n); s != nil {
			return p.routeAgg(n, mids, s, on)
		}
	}
	mapChildren(n, func(c node) node { return p.route(c, on) })
	return n
}

// mapChildren replaces every child c of n with f(c).
func mapChildren(n node, f func(node) node) {
	switch x := n.(type) {
	case *filterNode:
		x.child = f(x.child)
	case *projectNode:
		x.child = f(x.child)
	case *aggNode:
		x.child = f(x.child)
	case *joinNode:
		x.left = f(x.left)
		x.right = f(x.right)
	case *sortNode:
		x.child = f(x.child)
	case *limitNode:
		x.child = f(x.child)
	case *distinctNode:
		x.child = f(x.child)
	case *unionNode:
		for i, c := range x.children {
			x.children[i] = f(c)
		}
	}
}

// aggChain finds the scan below an aggregation or DISTINCT through filters
// and projections only; mids are the nodes in between, top first. The scan
// is nil when top has another shape.
func aggChain(top node) ([]node, *scanNode) {
	var n node
	switch x := top.(type) {
	case *aggNode:
		n = x.child
	case *distinctNode:
		n = x.child
	}
	s, mids := probeSpine(n)
	for _, m := range mids {
		if _, join := m.(*joinNode); join {
			return nil, nil
		}
	}
	return mids, s
}

// source is what a scan of a table may read: the base index or one of the
// table's indexes, with the definition of each column.
type source struct {
	ix      *catalog.Index // nil: the base index
	cols    []catalog.Column
	defines []catalog.ColumnDefine // parallel to cols
	keys    catalog.KeysType
	numKeys int
	// rowPreserving: the source has the base's rows (see above).
	rowPreserving bool
}

func baseSource(t *catalog.Table) *source {
	s := &source{cols: t.Schema.Columns, keys: t.KeysType, numKeys: t.Schema.NumKeys(), rowPreserving: true}
	s.defines = make([]catalog.ColumnDefine, len(s.cols))
	for i, c := range s.cols {
		s.defines[i] = catalog.ColumnDefine{Base: c.ID}
	}
	return s
}

// indexSource returns index ix of t as a source, or nil when a query may
// not read it: it is being built, or some partition has no tablets of it.
func indexSource(t *catalog.Table, ix *catalog.Index, base map[uint32]*catalog.Column) *source {
	if ix.State != catalog.IndexNormal || len(ix.Defines) != len(ix.Schema.Columns) || len(ix.Schema.Columns) == 0 {
		return nil
	}
	for _, p := range t.Partitions {
		if len(p.IndexTablets[ix.ID]) != len(p.Tablets) {
			return nil
		}
	}
	s := &source{ix: ix, cols: ix.Schema.Columns, defines: ix.Defines, keys: ix.KeysType, numKeys: ix.Schema.NumKeys()}
	switch {
	case t.KeysType == catalog.DupKeys:
		s.rowPreserving = s.keys == catalog.DupKeys
	case s.keys == t.KeysType:
		// Folded on the same keys (in any order) as the base, with the
		// columns the fold orders and drops rows by.
		s.rowPreserving = true
		seq, _ := t.SequenceColumn()
		sign, _ := t.DeleteSignColumn()
		for i, c := range t.Schema.Columns {
			if (c.IsKey || i == seq || i == sign) && s.copyOf(t, base, c.ID) < 0 {
				s.rowPreserving = false
			}
		}
	}
	return s
}

// copyOf returns the column of s that holds base column id as the base
// has it (after the fold, for an aggregate table), or -1.
func (s *source) copyOf(t *catalog.Table, base map[uint32]*catalog.Column, id uint32) int {
	bc := base[id]
	if bc == nil {
		return -1
	}
	for i, d := range s.defines {
		c := &s.cols[i]
		if d.Func != "" || d.Base != id || c.Type != bc.Type {
			continue
		}
		if t.KeysType == catalog.AggKeys && (c.IsKey != bc.IsKey || !c.IsKey && !strings.EqualFold(c.AggType, bc.AggType)) {
			continue
		}
		return i
	}
	return -1
}

// keyCopy returns the key column of s copied from base column id, or -1.
func (s *source) keyCopy(base map[uint32]*catalog.Column, id uint32) int {
	bc := base[id]
	if bc == nil {
		return -1
	}
	for i := 0; i < s.numKeys; i++ {
		if d := s.defines[i]; d.Func == "" && d.Base == id && s.cols[i].Type == bc.Type {
			return i
		}
	}
	return -1
}

// valueCol returns the value column of s that holds aggregation aggType
// of define applied to base column id, or -1.
func (s *source) valueCol(id uint32, define, aggType string) int {
	for i := s.numKeys; i < len(s.cols); i++ {
		d := s.defines[i]
		if s.cols[i].IsKey || d.Func != define || !strings.EqualFold(s.cols[i].AggType, aggType) {
			continue
		}
		if define == catalog.DefineCountStar || d.Base == id {
			return i
		}
	}
	return -1
}

// scanView is what the selection needs to know of one scan.
type scanView struct {
	s    *scanNode
	t    *catalog.Table
	base map[uint32]*catalog.Column // the table's columns by id
	// ids are the base column ids of the scan's outputs; 0 for the column
	// read only to count rows when the query reads none.
	ids []uint32
	// eq and rng mark the outputs the scan's filters fix to constants or
	// bound by a range.
	eq, rng map[int]bool
}

func (p *Planner) viewOf(s *scanNode) *scanView {
	t := s.table
	v := &scanView{s: s, t: t, base: map[uint32]*catalog.Column{}, ids: make([]uint32, len(s.colIdx))}
	for i := range t.Schema.Columns {
		v.base[t.Schema.Columns[i].ID] = &t.Schema.Columns[i]
	}
	for i, si := range s.colIdx {
		v.ids[i] = t.Schema.Columns[si].ID
	}
	if len(s.out) > 0 && len(p.usedCols[s.out[0].scanID]) == 0 {
		v.ids[0] = 0 // see scanColumns
	}
	v.eq, v.rng = filterShapes(s.filters, s.out)
	return v
}

// filterShapes marks the columns conjuncts compare with constants: eq for
// col = c and col IN (c, ...), rng for the comparisons and BETWEEN.
func filterShapes(filters []*ir, cols []column) (eq, rng map[int]bool) {
	eq, rng = map[int]bool{}, map[int]bool{}
	for _, f := range filters {
		switch f.op {
		case "=", "<", "<=", ">", ">=":
			if col, _, _, ok := colAndConst(f.args[0], f.args[1], cols); ok {
				if f.op == "=" {
					eq[col] = true
				} else {
					rng[col] = true
				}
			}
		case "BETWEEN":
			if col, _, _, ok := colAndConst(f.args[0], f.args[1], cols); ok && !f.not {
				rng[col] = true
			}
		case "IN":
			if f.not {
				continue
			}
			col, ok := -1, true
			for _, a := range f.args[1:] {
				c, _, _, good := colAndConst(f.args[0], a, cols)
				ok = ok && good && (col < 0 || c == col)
				col = c
			}
			if ok && col >= 0 {
				eq[col] = true
			}
		}
	}
	return eq, rng
}

// prefix counts the leading key columns of src the scan's filters fix,
// plus one for a range on the next: how much of the short-key index and
// of the zone maps of the sort key the scan can use.
func (v *scanView) prefix(src *source) int {
	at := map[uint32]int{}
	for i, id := range v.ids {
		if id != 0 {
			at[id] = i
		}
	}
	n := 0
	for i := 0; i < src.numKeys; i++ {
		d := src.defines[i]
		col, ok := at[d.Base]
		if d.Func != "" || !ok {
			break
		}
		if v.eq[col] {
			n++
			continue
		}
		if v.rng[col] {
			n++
		}
		break
	}
	return n
}

// holds reports whether a row-preserving source has every column the scan
// reads.
func (v *scanView) holds(src *source) bool {
	for _, id := range v.ids {
		if id != 0 && src.copyOf(v.t, v.base, id) < 0 {
			return false
		}
	}
	return true
}

// choice is a source that can answer a scan, and how well it would.
type choice struct {
	src    *source
	prefix int
	rows   int      // rank of the source's row count: fewer is smaller
	agg    *aggPlan // nil: the scan reads the same columns
}

// better reports whether a is to be read rather than b.
func (a *choice) better(b *choice) bool {
	if a.prefix != b.prefix {
		return a.prefix > b.prefix
	}
	if a.rows != b.rows {
		return a.rows < b.rows
	}
	if a.src.ix == nil || b.src.ix == nil {
		return a.src.ix == nil
	}
	return len(a.src.cols) < len(b.src.cols)
}

// routeScan chooses among the row-preserving sources for a scan that no
// aggregation reads directly.
func (p *Planner) routeScan(s *scanNode, on bool) {
	s.preAgg = ""
	if foldsOnRead(s.table) {
		s.preAgg = "no aggregation reads the scan"
	}
	if !on || len(s.table.Indexes) == 0 {
		return
	}
	v := p.viewOf(s)
	best := &choice{src: baseSource(v.t), rows: math.MaxInt}
	best.prefix = v.prefix(best.src)
	for i := range v.t.Indexes {
		src := indexSource(v.t, &v.t.Indexes[i], v.base)
		if src == nil || !src.rowPreserving || !v.holds(src) {
			continue
		}
		if c := (&choice{src: src, prefix: v.prefix(src), rows: math.MaxInt}); c.better(best) {
			best = c
		}
	}
	if best.src.ix != nil {
		v.readCopies(best.src)
	}
}

// routeAgg chooses the source of the scan at the bottom of an aggregation
// or DISTINCT (see aggChain) and returns what replaces top.
func (p *Planner) routeAgg(top node, mids []node, s *scanNode, on bool) node {
	v := p.viewOf(s)
	base := baseSource(v.t)
	best := &choice{src: base, prefix: v.prefix(base), rows: math.MaxInt}
	if on {
		for i := range v.t.Indexes {
			src := indexSource(v.t, &v.t.Indexes[i], v.base)
			if src == nil {
				continue
			}
			c := &choice{src: src, prefix: v.prefix(src), rows: math.MaxInt}
			switch {
			case src.rowPreserving && v.holds(src):
			case src.keys == catalog.AggKeys:
				pl, _ := v.analyzeAgg(top, mids, src)
				if pl == nil {
					continue
				}
				c.agg = pl
				if !src.rowPreserving {
					c.rows = src.numKeys
				}
			default:
				continue
			}
			if c.better(best) {
				best = c
			}
		}
	}
	s.preAgg = v.preAggregation(top, mids, best.src)
	// An aggregate source the aggregation reads as stored needs no merge:
	// partial rows of a key fold in the aggregation above.
	s.unfolded = s.preAgg == "" && best.src.keys == catalog.AggKeys
	switch {
	case best.src.ix == nil:
		return top
	case best.agg == nil:
		v.readCopies(best.src)
		return top
	}
	return v.readAggregated(top, mids, best.src, best.agg)
}

// preAggregation is the scan's PREAGGREGATION for EXPLAIN: "" (ON) when
// the source is not folded on read, or when the aggregation above gives
// the same answer over its rows unfolded; else why not.
func (v *scanView) preAggregation(top node, mids []node, src *source) string {
	switch {
	case src.keys == catalog.DupKeys || src.keys == catalog.UniqueKeys && v.t.MergeOnWrite():
		return ""
	case src.keys == catalog.UniqueKeys:
		return "the rows of a merge-on-read unique key are merged when read"
	}
	if src.ix != nil && !src.rowPreserving {
		return "" // chosen because the aggregation reads its rows as they are
	}
	_, why := v.analyzeAgg(top, mids, src)
	return why
}

// readCopies moves the scan to a source that holds every column it reads:
// it reads the same column ids there.
func (v *scanView) readCopies(src *source) {
	s := v.s
	s.base = v.t
	s.table = v.t.IndexTable(src.ix)
	s.index = src.ix.Name
	for i, id := range v.ids {
		if id != 0 {
			s.colIdx[i] = src.copyOf(v.t, v.base, id)
			continue
		}
		c := s.table.Schema.Columns[0]
		s.colIdx[i] = 0
		s.out[i].name, s.out[i].orgName, s.out[i].t, s.out[i].nullable, s.out[i].schemaIdx = c.Name, c.Name, c.Type, c.Nullable, 0
	}
}

// aggPlan says how an aggregation reads an aggregating source.
type aggPlan struct {
	// keyAt is, per scan output, the source's key column holding it, or
	// -1 when the scan stops reading it.
	keyAt []int
	// values are the source's value columns read, each once.
	values []int
	// calls is parallel to the aggNode's aggregates.
	calls []aggRewrite
}

// aggRewrite is how one aggregate reads an aggregating source.
type aggRewrite struct {
	keep  bool   // over key columns only: unchanged
	fn    string // else fn of value column values[value]
	value int
	zero  bool // a count turned into a sum: 0, not NULL, over no rows
}

// colInfo describes one column of a node between an aggregation and its
// scan, as an aggregating source would give it.
type colInfo struct {
	keyOnly bool // computed from key columns of the source only
	src     int  // the scan output it passes on unchanged, or -1
}

func readsKeys(e *ir, info []colInfo) bool {
	set := map[int]bool{}
	e.columns(set)
	for c := range set {
		if !info[c].keyOnly {
			return false
		}
	}
	return true
}

// analyzeAgg checks that the aggregation top, over the scan through mids,
// can read the aggregating source src, and says how; or why it cannot.
func (v *scanView) analyzeAgg(top node, mids []node, src *source) (*aggPlan, string) {
	s := v.s
	pl := &aggPlan{keyAt: make([]int, len(v.ids))}
	info := make([]colInfo, len(v.ids))
	for i, id := range v.ids {
		pl.keyAt[i], info[i] = -1, colInfo{src: i}
		switch {
		case id == 0:
			info[i] = colInfo{keyOnly: true, src: -1} // read by nothing
		case src.keyCopy(v.base, id) >= 0:
			pl.keyAt[i], info[i].keyOnly = src.keyCopy(v.base, id), true
		}
	}
	if top, ok := top.(*aggNode); ok && len(top.aggs) == 0 && len(top.groups) == 0 {
		return nil, "no aggregation reads the scan"
	}
	for _, f := range s.filters {
		if !readsKeys(f, info) {
			return nil, fmt.Sprintf("the predicate %s reads a value column", f.format(names(s.out)))
		}
	}
	cols := s.out
	for k := len(mids) - 1; k >= 0; k-- {
		switch x := mids[k].(type) {
		case *filterNode:
			if !readsKeys(x.pred, info) {
				return nil, fmt.Sprintf("the predicate %s reads a value column", x.pred.format(names(cols)))
			}
		case *projectNode:
			next := make([]colInfo, len(x.exprs))
			for j, e := range x.exprs {
				switch {
				case e.kind == irCol:
					next[j] = info[e.col]
				case readsKeys(e, info):
					next[j] = colInfo{keyOnly: true, src: -1}
				default:
					return nil, fmt.Sprintf("%s is computed from a value column", e.format(names(cols)))
				}
			}
			info, cols = next, x.out
		}
	}
	switch x := top.(type) {
	case *distinctNode:
		for j, c := range info {
			if !c.keyOnly {
				return nil, fmt.Sprintf("DISTINCT reads the value column %s", cols[j].name)
			}
		}
	case *aggNode:
		for _, g := range x.groups {
			if !readsKeys(g, info) {
				return nil, fmt.Sprintf("the group key %s reads a value column", g.format(names(cols)))
			}
		}
		for i, a := range x.aggs {
			r, why := v.rewriteAgg(a, x.out[len(x.groups)+i].t, info, src, pl)
			if why != "" {
				return nil, why
			}
			pl.calls = append(pl.calls, r)
		}
	}
	return pl, ""
}

// ignoresDuplicates reports whether an aggregate gives the same result
// when rows of its input repeat.
func ignoresDuplicates(a aggCall) bool {
	if a.distinct {
		return true
	}
	switch a.fn {
	case "min", "max", "any_value", "any", "approx_count_distinct", "bitmap_union", "bitmap_union_count",
		"bitmap_intersect", "bitmap_agg", "bitmap_union_int", "hll_union", "hll_raw_agg", "hll_union_agg":
		return true
	}
	return false
}

// valueRule is how an aggregate of a base column reads a value column of
// an aggregating source: fn of the column defined by define (a
// catalog.ColumnDefine.Func) and aggregated by aggType.
type valueRule struct {
	define, aggType, fn string
	zero                bool // NULL (no rows) means 0
}

// valueRuleOf gives the rule of aggregate fn (DISTINCT or not) of a base
// column, or of inner (to_bitmap or hll_hash) of it.
//
// count(DISTINCT v) reads bitmap_union(to_bitmap(v)), as Doris rewrites
// it: to_bitmap keeps non-negative integers only, so the materialized view
// counts the others as nothing (Doris documents the same limit).
// approx_count_distinct(v) (and ndv) reads hll_union(hll_hash(v)) only
// for a string v (rewriteAgg): hll_hash hashes a value's text and
// approx_count_distinct its bytes, which are the same for strings only, so
// that the estimate does not depend on the index read.
func valueRuleOf(fn string, distinct bool, inner string) (valueRule, bool) {
	switch inner {
	case "":
		switch {
		case fn == "count" && distinct:
			return valueRule{catalog.DefineToBitmap, "BITMAP_UNION", "bitmap_union_count", false}, true
		case fn == "count":
			return valueRule{catalog.DefineCount, "SUM", "sum", true}, true
		case fn == "min" || fn == "max":
			return valueRule{"", strings.ToUpper(fn), fn, false}, true
		case distinct:
		case fn == "sum":
			return valueRule{"", "SUM", "sum", false}, true
		case fn == "approx_count_distinct":
			return valueRule{catalog.DefineHLLHash, "HLL_UNION", "hll_union_agg", false}, true
		case fn == "bitmap_union" || fn == "bitmap_union_count":
			return valueRule{"", "BITMAP_UNION", fn, false}, true
		case fn == "hll_union" || fn == "hll_raw_agg":
			return valueRule{"", "HLL_UNION", "hll_union", false}, true
		case fn == "hll_union_agg":
			return valueRule{"", "HLL_UNION", "hll_union_agg", false}, true
		}
	case catalog.DefineToBitmap:
		if !distinct && (fn == "bitmap_union" || fn == "bitmap_union_count") {
			return valueRule{catalog.DefineToBitmap, "BITMAP_UNION", fn, false}, true
		}
	case catalog.DefineHLLHash:
		switch {
		case distinct:
		case fn == "hll_union_agg":
			return valueRule{catalog.DefineHLLHash, "HLL_UNION", "hll_union_agg", false}, true
		case fn == "hll_union" || fn == "hll_raw_agg":
			return valueRule{catalog.DefineHLLHash, "HLL_UNION", "hll_union", false}, true
		}
	}
	return valueRule{}, false
}

// rewriteAgg decides how aggregate a, of result type want, reads src;
// why says why it cannot.
func (v *scanView) rewriteAgg(a aggCall, want types.Type, info []colInfo, src *source, pl *aggPlan) (r aggRewrite, why string) {
	keys := true
	for _, arg := range a.args {
		keys = keys && readsKeys(arg, info)
	}
	if keys && ignoresDuplicates(a) {
		return aggRewrite{keep: true}, ""
	}
	cannot := fmt.Sprintf("no column of %s answers %s", sourceName(v.t, src), a.text)
	var tries []valueRule
	var id uint32
	switch {
	case a.fn == "count" && !a.distinct && (len(a.args) == 0 || len(a.args) == 1 && a.args[0].kind == irLit && !a.args[0].lit.IsNull()):
		tries = append(tries, valueRule{catalog.DefineCountStar, "SUM", "sum", true})
	case len(a.args) == 1:
		arg, inner := a.args[0], ""
		if arg.kind == irCall && len(arg.args) == 1 && (arg.name == catalog.DefineToBitmap || arg.name == catalog.DefineHLLHash) {
			arg, inner = arg.args[0], arg.name
		}
		if arg.kind != irCol || info[arg.col].src < 0 {
			return r, cannot
		}
		id = v.ids[info[arg.col].src]
		rule, ok := valueRuleOf(a.fn, a.distinct, inner)
		if c := v.base[id]; !ok || a.fn == "approx_count_distinct" && (c == nil || !c.Type.Kind.IsString()) {
			return r, cannot
		}
		tries = append(tries, rule)
		if c := v.base[id]; a.fn == "count" && !a.distinct && inner == "" && c != nil && !c.Nullable {
			tries = append(tries, valueRule{catalog.DefineCountStar, "SUM", "sum", true})
		}
	default:
		return r, cannot
	}
	for _, rule := range tries {
		col := src.valueCol(id, rule.define, rule.aggType)
		if col < 0 {
			continue
		}
		if t, err := exec.AggResultType(rule.fn, []types.Type{src.cols[col].Type}); err != nil || t != want {
			continue
		}
		k := slices.Index(pl.values, col)
		if k < 0 {
			k = len(pl.values)
			pl.values = append(pl.values, col)
		}
		return aggRewrite{fn: rule.fn, value: k, zero: rule.zero}, ""
	}
	return r, cannot
}

func sourceName(t *catalog.Table, src *source) string {
	if src.ix == nil {
		return t.Name
	}
	return src.ix.Name
}

// readAggregated moves the aggregation top over the scan through mids
// onto the aggregating source src as pl says, and returns what replaces
// top.
func (v *scanView) readAggregated(top node, mids []node, src *source, pl *aggPlan) node {
	s, t := v.s, v.t
	it := t.IndexTable(src.ix)
	// The scan: the key columns it read, then the value columns.
	m := make([]int, len(v.ids)) // old output -> new, -1: not read
	var colIdx []int
	var out []column
	for i := range v.ids {
		m[i] = -1
		if pl.keyAt[i] >= 0 {
			m[i] = len(out)
			colIdx = append(colIdx, pl.keyAt[i])
			c := s.out[i]
			c.schemaIdx = pl.keyAt[i]
			out = append(out, c)
		}
	}
	at := make([]int, len(pl.values)) // value column -> position in the current node
	for k, ci := range pl.values {
		c := it.Schema.Columns[ci]
		at[k] = len(out)
		colIdx = append(colIdx, ci)
		out = append(out, column{name: c.Name, table: s.alias, db: s.db, orgTable: t.Name, orgName: c.Name,
			t: c.Type, nullable: c.Nullable, scanID: -1, schemaIdx: ci})
	}
	if len(out) == 0 {
		// Only rows are counted (SELECT DISTINCT 1): read the first key.
		c := it.Schema.Columns[0]
		colIdx = []int{0}
		out = []column{{name: c.Name, table: s.alias, db: s.db, orgTable: t.Name, orgName: c.Name, t: c.Type, nullable: c.Nullable, scanID: -1}}
	}
	for i, f := range s.filters {
		s.filters[i] = f.remap(m)
	}
	s.base, s.table, s.index, s.colIdx, s.out = t, it, src.ix.Name, colIdx, out

	// The nodes in between pass the value columns up.
	for k := len(mids) - 1; k >= 0; k-- {
		switch x := mids[k].(type) {
		case *filterNode:
			x.pred = x.pred.remap(m)
		case *projectNode:
			in := x.child.columns()
			next := make([]int, len(x.exprs))
			var exprs []*ir
			var pout []column
			for j, e := range x.exprs {
				next[j] = -1
				if e.kind == irCol && m[e.col] < 0 {
					continue // a value column no longer read, and read by nothing
				}
				next[j] = len(exprs)
				exprs = append(exprs, e.remap(m))
				pout = append(pout, x.out[j])
			}
			for k2, p := range at {
				c := in[p]
				c.hidden = true
				at[k2] = len(exprs)
				exprs = append(exprs, colIR(p, c.t))
				pout = append(pout, c)
			}
			x.exprs, x.out, m = exprs, pout, next
		}
	}

	agg, ok := top.(*aggNode)
	if !ok {
		return top // DISTINCT of key columns
	}
	in := agg.child.columns()
	for i, g := range agg.groups {
		agg.groups[i] = g.remap(m)
	}
	zero := false
	for i, r := range pl.calls {
		a := &agg.aggs[i]
		if r.keep {
			for j, arg := range a.args {
				a.args[j] = arg.remap(m)
			}
			continue
		}
		a.fn, a.distinct, a.args = r.fn, false, []*ir{colIR(at[r.value], in[at[r.value]].t)}
		zero = zero || r.zero && len(agg.groups) == 0
	}
	if !zero {
		return agg
	}
	// A global count over no rows is 0; the sum it became is NULL.
	exprs := make([]*ir, len(agg.out))
	for j, c := range agg.out {
		exprs[j] = colIR(j, c.t)
	}
	for i, r := range pl.calls {
		if j := len(agg.groups) + i; r.zero {
			exprs[j] = zeroIfNull(exprs[j])
		}
	}
	return &projectNode{child: agg, exprs: exprs, out: slices.Clone(agg.out)}
}

// zeroIfNull is coalesce(e, 0) for a BIGINT e.
func zeroIfNull(e *ir) *ir {
	x, err := newCall("", "coalesce", []*ir{e, litIR(exec.NewLiteral(int64(0), types.BigInt))}, &callSpec{Kind: callCoalesce})
	if err != nil {
		panic("BUG: coalesce of a count: " + err.Error())
	}
	return x
}

package planner

import (
	"fmt"
	"strings"
)

// Explain renders the plan as an indented tree, one operator per line, with
// what each scan reads: the table and, as Doris shows it, the index read
// (the table's name for the base) and whether the aggregation above could
// read its rows unfolded (PREAGGREGATION), the partitions left after
// pruning out of all, the tablets, the predicates and the column ranges
// used to skip pages.
//
// With a Remote (see Planner.SetRemote), the parts of the plan that run on
// the backends show as fragments: "EXCHANGE: gather FRAGMENT n" where the
// coordinator takes in their rows (or their partial aggregates, which a
// final aggregation merges), "FRAGMENT n on k backends, t tablets" above
// what runs there. A join in a fragment shows its strategy (see
// [JoinStrategy]) and how its build side arrives: "EXCHANGE: broadcast"
// above a build side the coordinator computes and sends to every
// instance; nothing above a colocated scan; "EXCHANGE: bucket shuffle"
// and "EXCHANGE: hash partition" above the fragments that send their rows
// to the instances of another.
func (pl *Plan) Explain() []string {
	e := &explainer{remote: pl.remote, spine: map[node]int{}}
	if pl.remote != nil {
		e.joins = chooseJoins(pl.root, pl.remote, pl.joinOpts)
	}
	e.node(pl.root, 0)
	return e.out
}

// explainer renders a plan.
type explainer struct {
	remote Remote
	joins  map[*joinNode]*joinChoice
	out    []string
	frags  int
	// spine maps the nodes of the fragments rendered so far to their
	// fragment: they are not cut again.
	spine map[node]int
}

func (e *explainer) add(depth int, format string, args ...any) {
	e.out = append(e.out, strings.Repeat("  ", depth)+fmt.Sprintf(format, args...))
}

// fragment renders a part of the plan that runs on the backends and
// whose rows the coordinator gathers.
func (e *explainer) fragment(cut *fragmentCut, depth int) {
	id := e.frags + 1 // the stage rendered next
	if cut.agg == nil {
		e.add(depth, "EXCHANGE: gather FRAGMENT %d", id)
		e.stage(cut, depth+1, nil)
		return
	}
	e.add(depth, "HashAggregate (final): %s", aggText(cut.agg))
	e.add(depth+1, "EXCHANGE: gather partial aggregates of FRAGMENT %d", id)
	e.stage(cut, depth+2, func(d int) { e.add(d, "HashAggregate (partial): %s", aggText(cut.agg)) })
}

// stage renders the stage that runs the top of cut (see stageShape): a
// line saying where it runs, then its operators; above, when set,
// renders what the stage runs above cut.top. It returns the fragment's
// number.
func (e *explainer) stage(cut *fragmentCut, depth int, above func(depth int)) int {
	e.frags++
	id := e.frags
	sh := shapeOf(cut, e.joins)
	for _, n := range sh.spine {
		e.spine[n] = id
		if j, ok := n.(*joinNode); ok {
			if ch := e.joins[j]; ch != nil && ch.strategy == JoinColocate {
				e.spine[ch.buildScan] = id
				for _, b := range ch.buildSpine {
					e.spine[b] = id
				}
			}
		}
	}
	backends := "?"
	if bes, err := stageBackends(e.remote, sh, e.joins); err == nil {
		backends = fmt.Sprint(len(bes))
	}
	var where string
	if sh.scan == nil {
		where = fmt.Sprintf("FRAGMENT %d on %s backends, hash partitioned", id, backends)
	} else {
		e.spine[sh.scan] = id
		tablets := 0
		for _, s := range append([]*scanNode{sh.scan}, sh.colocatedScans(e.joins)...) {
			tablets += len(scanTablets(s))
		}
		where = fmt.Sprintf("FRAGMENT %d on %s backends, %d tablets", id, backends, tablets)
		if sh.bucketed {
			where += fmt.Sprintf(" by bucket of %s.%s", sh.scan.db, sh.scan.baseTable().Name)
		}
	}
	e.add(depth, "%s", where)
	depth++
	if above != nil {
		above(depth)
		depth++
	}
	e.node(cut.top, depth)
	return id
}

// aggText describes an aggregation: its group keys and aggregates.
func aggText(v *aggNode) string {
	in := names(v.child.columns())
	var aggs []string
	for _, a := range v.aggs {
		d := ""
		if a.distinct {
			d = "DISTINCT "
		}
		args := formatList(a.args, in)
		if len(a.args) == 0 {
			args = "*"
		}
		aggs = append(aggs, fmt.Sprintf("%s(%s%s)", a.fn, d, args))
	}
	return fmt.Sprintf("group by [%s] output [%s]", formatList(v.groups, in), strings.Join(aggs, ", "))
}

func names(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		if c.table != "" {
			out[i] = c.table + "." + c.name
		} else {
			out[i] = c.name
		}
	}
	return out
}

func formatList(es []*ir, cols []string) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.format(cols)
	}
	return strings.Join(parts, ", ")
}

func (e *explainer) node(n node, depth int) {
	if e.remote != nil && e.spine[n] == 0 {
		if cut := cutFragment(n); cut != nil {
			e.fragment(cut, depth)
			return
		}
	}
	add := func(format string, args ...any) { e.add(depth, format, args...) }
	switch v := n.(type) {
	case *scanNode:
		tablets := 0
		for _, pi := range v.partitions {
			tablets += len(v.table.Partitions[pi].Tablets)
		}
		index, preAgg := v.index, "ON"
		if index == "" {
			index = v.table.Name
		}
		if v.preAgg != "" {
			preAgg = "OFF"
		}
		add("OlapScanNode TABLE: %s.%s(%s), PREAGGREGATION: %s partitions=%d/%d tablets=%d columns=[%s]",
			v.db, v.table.Name, index, preAgg, len(v.partitions), len(v.table.Partitions), tablets, strings.Join(names(v.out), ", "))
		if v.preAgg != "" {
			add("  preaggregation off: %s", v.preAgg)
		}
		if len(v.partitions) > 0 && len(v.partitions) < len(v.table.Partitions) {
			var ps []string
			for _, pi := range v.partitions {
				ps = append(ps, v.table.Partitions[pi].Name)
			}
			add("  partitions: %s", strings.Join(ps, ", "))
		}
		if len(v.filters) > 0 {
			add("  predicates: %s", andAll(v.filters).format(names(v.out)))
		}
		for i, c := range v.out {
			r := v.ranges[i]
			if r == nil {
				continue
			}
			add("  range %s: %s", c.name, r)
		}
	case *sysScanNode:
		add("SchemaScanNode TABLE: %s.%s columns=[%s]", v.db, v.table.name, strings.Join(names(v.out), ", "))
		if len(v.filters) > 0 {
			add("  predicates: %s", andAll(v.filters).format(names(v.out)))
		}
	case *filterNode:
		add("Filter: %s", v.pred.format(names(v.child.columns())))
		e.node(v.child, depth+1)
	case *projectNode:
		add("Project: %s", formatList(v.exprs, names(v.child.columns())))
		e.node(v.child, depth+1)
	case *aggNode:
		add("HashAggregate: %s", aggText(v))
		if s, spine, workers := parallelAgg(v); s != nil {
			add("  parallel: %d workers over %s.%s%s", workers, s.db, s.table.Name, explainPipeline(s, spine))
		}
		e.node(v.child, depth+1)
	case *joinNode:
		e.join(v, depth)
	case *sortNode:
		add("Sort: %s", explainKeys(v.keys, names(v.child.columns())))
		e.node(v.child, depth+1)
	case *limitNode:
		if s, ok := v.child.(*sortNode); ok {
			add("TopN: limit %d offset %d order by %s", v.limit, v.offset, explainKeys(s.keys, names(s.child.columns())))
			e.node(s.child, depth+1)
			return
		}
		add("Limit: %d offset %d", v.limit, v.offset)
		e.node(v.child, depth+1)
	case *distinctNode:
		add("Distinct")
		e.node(v.child, depth+1)
	case *unionNode:
		add("UnionAll")
		for _, c := range v.children {
			e.node(c, depth+1)
		}
	case *valuesNode:
		add("Values: %d rows", len(v.rows))
	case *inputNode:
		add("Input %d: %d columns", v.idx, len(v.out))
	default:
		add("%T", n)
	}
}

func explainKeys(keys []sortKey, cols []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		dir := "ASC"
		if k.desc {
			dir = "DESC"
		}
		parts[i] = k.e.format(cols) + " " + dir
	}
	return strings.Join(parts, ", ")
}

func (r *colRange) String() string {
	if r.empty {
		return "empty"
	}
	lo, hi := "(-inf", "+inf)"
	if r.lo != nil {
		lo = "(" + r.lo.String()
		if r.loIncl {
			lo = "[" + r.lo.String()
		}
	}
	if r.hi != nil {
		hi = r.hi.String() + ")"
		if r.hiIncl {
			hi = r.hi.String() + "]"
		}
	}
	return lo + ", " + hi
}

// explainPipeline describes the joins of a parallel pipeline and the
// runtime filters they push into the scan.
func explainPipeline(s *scanNode, spine []node) string {
	joins := 0
	var rfs []string
	direct := true
	for k := len(spine) - 1; k >= 0; k-- {
		switch v := spine[k].(type) {
		case *projectNode:
			direct = false
		case *joinNode:
			joins++
			if c := runtimeFilterCol(v, s, direct); c >= 0 {
				rfs = append(rfs, s.out[c].name)
			}
		}
	}
	if joins == 0 {
		return ""
	}
	line := fmt.Sprintf(", %d broadcast joins", joins)
	if len(rfs) > 0 {
		line += ", runtime filters on " + strings.Join(rfs, ", ")
	}
	return line
}

// join renders a hash join and, in a fragment, how its build side
// arrives.
func (e *explainer) join(v *joinNode, depth int) {
	var conds []string
	ln, rn := names(v.left.columns()), names(v.right.columns())
	for i := range v.leftKeys {
		conds = append(conds, v.leftKeys[i].format(ln)+" = "+v.rightKeys[i].format(rn))
	}
	id, ch := e.spine[v], e.joins[v]
	strategy := ""
	if id != 0 && ch != nil {
		strategy = " (" + ch.strategy.String() + ")"
	}
	line := fmt.Sprintf("HashJoin %s%s (probe: left, build: right) ON %s", joinKind(v.kind), strategy, strings.Join(conds, " AND "))
	if v.other != nil {
		line += " OTHER " + v.other.format(names(v.out))
	}
	e.add(depth, "%s", line)
	if id == 0 {
		e.node(v.left, depth+1)
		e.node(v.right, depth+1)
		return
	}
	if ch == nil {
		ch = &joinChoice{strategy: JoinBroadcast}
	}
	switch ch.strategy {
	case JoinColocate:
		e.node(v.left, depth+1)
		e.node(v.right, depth+1)
	case JoinBucketShuffle:
		e.node(v.left, depth+1)
		keys := make([]string, len(ch.distKeys))
		for d, k := range ch.distKeys {
			keys[d] = v.rightKeys[k].format(rn)
		}
		t := ch.probeScan.baseTable()
		e.add(depth+1, "EXCHANGE: bucket shuffle by [%s] to the %d buckets of %s.%s in FRAGMENT %d",
			strings.Join(keys, ", "), t.Distribution.Buckets, ch.probeScan.db, t.Name, id)
		e.stage(cutFragment(v.right), depth+2, nil)
	case JoinShuffle:
		s, spine := probeSpine(v.left)
		e.add(depth+1, "EXCHANGE: hash partition by [%s] to FRAGMENT %d", formatList(v.leftKeys, ln), id)
		e.stage(&fragmentCut{top: v.left, scan: s, spine: spine}, depth+2, nil)
		e.add(depth+1, "EXCHANGE: hash partition by [%s] to FRAGMENT %d", formatList(v.rightKeys, rn), id)
		e.stage(cutFragment(v.right), depth+2, nil)
	default:
		e.node(v.left, depth+1)
		e.add(depth+1, "EXCHANGE: broadcast to FRAGMENT %d", id)
		e.node(v.right, depth+2)
	}
}

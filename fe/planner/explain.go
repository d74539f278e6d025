package planner

import (
	"fmt"
	"strings"

	"github.com/strata-db/strata/be/exec"
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
// what runs there, and "EXCHANGE: broadcast" above a join's build side,
// which the coordinator computes and sends to every instance.
func (pl *Plan) Explain() []string {
	e := &explainer{remote: pl.remote, spine: map[node]int{}}
	e.node(pl.root, 0)
	return e.out
}

// explainer renders a plan.
type explainer struct {
	remote Remote
	out    []string
	frags  int
	// spine maps the nodes of the fragments rendered so far to their
	// fragment: they are not cut again.
	spine map[node]int
}

func (e *explainer) add(depth int, format string, args ...any) {
	e.out = append(e.out, strings.Repeat("  ", depth)+fmt.Sprintf(format, args...))
}

// fragment renders a part of the plan that runs on the backends.
func (e *explainer) fragment(cut *fragmentCut, depth int) {
	e.frags++
	id := e.frags
	for _, n := range cut.spine {
		e.spine[n] = id
	}
	e.spine[cut.scan] = id
	tablets := scanTablets(cut.scan)
	backends := map[int64]bool{}
	for _, t := range tablets {
		if rs := e.remote.Replicas(t.ID); len(rs) > 0 {
			backends[rs[0]] = true
		}
	}
	where := fmt.Sprintf("FRAGMENT %d on %d backends, %d tablets", id, len(backends), len(tablets))
	if cut.agg == nil {
		e.add(depth, "EXCHANGE: gather FRAGMENT %d", id)
		e.add(depth+1, "%s", where)
		e.node(cut.top, depth+2)
		return
	}
	e.add(depth, "HashAggregate (final): %s", aggText(cut.agg))
	e.add(depth+1, "EXCHANGE: gather partial aggregates of FRAGMENT %d", id)
	e.add(depth+2, "%s", where)
	e.add(depth+3, "HashAggregate (partial): %s", aggText(cut.agg))
	e.node(cut.top, depth+4)
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
		kind := "INNER"
		if v.kind == exec.JoinLeft {
			kind = "LEFT OUTER"
		}
		var conds []string
		ln, rn := names(v.left.columns()), names(v.right.columns())
		for i := range v.leftKeys {
			conds = append(conds, v.leftKeys[i].format(ln)+" = "+v.rightKeys[i].format(rn))
		}
		line := fmt.Sprintf("HashJoin %s (probe: left, build: right) ON %s", kind, strings.Join(conds, " AND "))
		if v.other != nil {
			line += " OTHER " + v.other.format(names(v.out))
		}
		add("%s", line)
		e.node(v.left, depth+1)
		if id := e.spine[v]; id != 0 {
			e.add(depth+1, "EXCHANGE: broadcast to FRAGMENT %d", id)
			e.node(v.right, depth+2)
			return
		}
		e.node(v.right, depth+1)
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

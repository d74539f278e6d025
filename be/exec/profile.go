package exec

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// ProfileNode is what one operator did in a query, for EXPLAIN ANALYZE and
// SHOW QUERY PROFILE: the rows and batches it produced and the wall time
// spent in its Next calls. Inclusive time counts its children's Next calls
// made from inside its own; Exclusive is Inclusive minus the children's
// inclusive time, which is honest for the pull-model tree a single goroutine
// drives. Under a parallel pipeline the workers' operators run at once, so
// their times add up the workers' wall times (Parallel is then set and
// Exclusive is not computed).
//
// A ProfileNode is plain data: it is encoded as JSON when a backend sends
// the profile of a fragment back with its rows.
type ProfileNode struct {
	Name     string         `json:"name"`
	Detail   string         `json:"detail,omitempty"`
	Rows     int64          `json:"rows"`
	Batches  int64          `json:"batches"`
	Nanos    int64          `json:"nanos"`             // inclusive wall time
	Excl     int64          `json:"excl"`              // exclusive wall time, see the type's doc
	Workers  int            `json:"workers,omitempty"` // >0: summed over this many parallel workers
	Parallel bool           `json:"parallel,omitempty"`
	Children []*ProfileNode `json:"children,omitempty"`
}

// ProfileChildren is implemented by operators outside this package that
// have inputs, so [Profile] can walk through them. Profile may also be
// implemented (see [Profiler]) to describe an operator's work directly.
type ProfileChildren interface {
	ProfileChildren() []Operator
}

// Profiler is implemented by operators that build their own profile node,
// e.g. one that ran fragments on other processes and gathered their
// profiles.
type Profiler interface {
	Profile() *ProfileNode
}

// Profile returns the profile of the operator tree under op. Call it after
// the tree ran (before or after Close).
func Profile(op Operator) *ProfileNode {
	if op == nil {
		return nil
	}
	if p, ok := op.(Profiler); ok {
		return p.Profile()
	}
	n := &ProfileNode{Name: opName(op)}
	if sp, ok := op.(StatsProvider); ok {
		st := sp.OpStats()
		n.Rows, n.Batches, n.Nanos = st.Rows.Load(), st.Batches.Load(), st.Nanos.Load()
	}
	switch x := op.(type) {
	case *SegmentScan:
		c := &x.counters
		n.Detail = fmt.Sprintf("pages=%d pruned=%d filtered=%d rows_read=%d", c.PagesTotal.Load(), c.PagesPruned.Load(), c.PagesFiltered.Load(), c.RowsRead.Load())
	case *ParallelScanAgg:
		n.Detail = fmt.Sprintf("workers=%d", len(x.workerAggs))
		if x.final != nil {
			n.Children = append(n.Children, Profile(x.final))
		}
		if len(x.workerAggs) > 0 {
			w := mergeProfiles(x.workerAggs)
			n.Children = append(n.Children, w)
		}
		if x.pipe != nil {
			for _, j := range x.pipe.Joins {
				if j.Build != nil {
					b := Profile(j.Build)
					b.Name = "build: " + b.Name
					n.Children = append(n.Children, b)
				}
			}
		}
		n.computeExcl()
		return n
	}
	for _, c := range opChildren(op) {
		n.Children = append(n.Children, Profile(c))
	}
	n.computeExcl()
	return n
}

// mergeProfiles profiles the workers' trees, which have one shape, as one
// tree whose counters are the workers' sums.
func mergeProfiles(ops []Operator) *ProfileNode {
	var out *ProfileNode
	for _, op := range ops {
		p := Profile(op)
		if out == nil {
			out = p
			continue
		}
		addProfile(out, p)
	}
	markParallel(out, len(ops))
	return out
}

func addProfile(dst, src *ProfileNode) {
	dst.Rows += src.Rows
	dst.Batches += src.Batches
	dst.Nanos += src.Nanos
	if strings.HasPrefix(dst.Name, "SegmentScan") {
		dst.Detail = sumDetail(dst.Detail, src.Detail)
	}
	for i := range min(len(dst.Children), len(src.Children)) {
		addProfile(dst.Children[i], src.Children[i])
	}
}

// sumDetail adds the numbers of two "k=v k=v" details of the same keys.
func sumDetail(a, b string) string {
	fa, fb := strings.Fields(a), strings.Fields(b)
	if len(fa) != len(fb) {
		return a
	}
	out := make([]string, len(fa))
	for i := range fa {
		ka, va, _ := strings.Cut(fa[i], "=")
		_, vb, _ := strings.Cut(fb[i], "=")
		var x, y int64
		_, _ = fmt.Sscan(va, &x)
		_, _ = fmt.Sscan(vb, &y)
		out[i] = fmt.Sprintf("%s=%d", ka, x+y)
	}
	return strings.Join(out, " ")
}

func markParallel(n *ProfileNode, workers int) {
	n.Workers, n.Parallel, n.Excl = workers, true, 0
	for _, c := range n.Children {
		markParallel(c, workers)
	}
}

func (n *ProfileNode) computeExcl() {
	if n.Parallel {
		return
	}
	ex := n.Nanos
	for _, c := range n.Children {
		if c != nil && !c.Parallel {
			ex -= c.Nanos
		}
	}
	n.Excl = max(ex, 0)
}

// opChildren returns the inputs of the operators of this package, and
// those of others through [ProfileChildren].
func opChildren(op Operator) []Operator {
	var out []Operator
	add := func(ops ...Operator) {
		for _, o := range ops {
			if o != nil && !reflect.ValueOf(o).IsNil() {
				out = append(out, o)
			}
		}
	}
	switch x := op.(type) {
	case *Filter:
		add(x.child)
	case *Project:
		add(x.child)
	case *Limit:
		add(x.child)
	case *UnionAll:
		add(x.children...)
	case *HashAgg:
		add(x.child)
	case *HashJoin:
		if !x.shared {
			add(x.build)
		}
		add(x.probe)
	case *Sort:
		add(x.child)
	case *TopN:
		add(x.child)
	case *ExchangeSink:
		add(x.child)
	case ProfileChildren:
		add(x.ProfileChildren()...)
	}
	return out
}

// opName is the operator's type name without its package, e.g. "HashAgg".
func opName(op Operator) string {
	t := reflect.TypeOf(op)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// ProfileLine is one row of a profile as EXPLAIN ANALYZE prints it.
type ProfileLine struct {
	Operator  string // indented like EXPLAIN: "  |--HashAgg"
	Rows      int64
	Batches   int64
	Inclusive time.Duration
	Exclusive time.Duration // -1: not measured (parallel workers)
	Detail    string
}

// Lines flattens the tree, depth first, with EXPLAIN's indentation.
func (n *ProfileNode) Lines() []ProfileLine {
	var out []ProfileLine
	var walk func(n *ProfileNode, prefix string, last bool, root bool)
	walk = func(n *ProfileNode, prefix string, last bool, root bool) {
		if n == nil {
			return
		}
		label := n.Name
		if n.Workers > 0 {
			label += fmt.Sprintf(" (x%d workers)", n.Workers)
		}
		line := prefix
		childPrefix := prefix
		if !root {
			line += "|--"
			if last {
				childPrefix += "   "
			} else {
				childPrefix += "|  "
			}
		}
		excl := time.Duration(n.Excl)
		if n.Parallel {
			excl = -1
		}
		out = append(out, ProfileLine{Operator: line + label, Rows: n.Rows, Batches: n.Batches,
			Inclusive: time.Duration(n.Nanos), Exclusive: excl, Detail: n.Detail})
		for i, c := range n.Children {
			walk(c, childPrefix, i == len(n.Children)-1, false)
		}
	}
	walk(n, "", true, true)
	return out
}

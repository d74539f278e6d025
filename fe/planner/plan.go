package planner

import (
	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/catalog"
)

// node is a logical plan node. Expressions of a node are bound over the
// columns of its input (for joins: the left columns, then the right ones).
type node interface {
	columns() []column
}

// scanNode reads a table. It outputs the schema columns listed in colIdx,
// in that order.
type scanNode struct {
	db     string
	table  *catalog.Table
	alias  string
	colIdx []int // schema positions read
	out    []column
	// filters are conjuncts over out, pushed down by the rules.
	filters []*ir
	// partitions are the indexes into table.Partitions left after pruning
	// (nil until the pruning rule runs: then every partition).
	partitions []int
	pruned     bool
	ranges     map[int]*colRange // by output column
	// index is the rollup or materialized view read ("": the base), and
	// base the table as bound when table is that index's (index_select.go).
	index string
	base  *catalog.Table
	// preAgg is "" when EXPLAIN shows PREAGGREGATION: ON, else why not.
	preAgg string
	// unfolded: the table is folded on read (aggregate keys), but the
	// aggregation above gives the same answer over its rows as stored, so
	// the scan reads them without merging (set by routeAgg only).
	unfolded bool
	// tablets, when not nil, are the tablets the scan reads, instead of
	// those of its partitions (the scan of a fragment).
	tablets []FragmentTablet
}

// folds reports whether the scan must merge and fold the rows of a key.
func (n *scanNode) folds() bool { return foldsOnRead(n.table) && !n.unfolded }

// baseTable is the table the scan reads, as bound: its partitioning is
// the one every index shares.
func (n *scanNode) baseTable() *catalog.Table {
	if n.base != nil {
		return n.base
	}
	return n.table
}

func (n *scanNode) columns() []column { return n.out }

type filterNode struct {
	child node
	pred  *ir
}

func (n *filterNode) columns() []column { return n.child.columns() }

type projectNode struct {
	child node
	exprs []*ir
	out   []column
}

func (n *projectNode) columns() []column { return n.out }

// aggCall is one aggregate function of an aggNode.
type aggCall struct {
	fn       string
	distinct bool
	args     []*ir
	text     string
}

// aggNode groups its input; it outputs the group keys, then the aggregates.
type aggNode struct {
	child  node
	groups []*ir
	aggs   []aggCall
	out    []column
}

func (n *aggNode) columns() []column { return n.out }

// joinNode joins left and right; it outputs left's columns, then right's.
type joinNode struct {
	left, right node
	kind        exec.JoinKind
	// leftKeys are over left's columns, rightKeys over right's.
	leftKeys, rightKeys []*ir
	// other is a residual condition over the joined columns.
	other *ir
	// cross marks a join without condition (comma or CROSS JOIN) that the
	// rules must turn into an equi-join.
	cross bool
	out   []column
}

func (n *joinNode) columns() []column { return n.out }

type sortKey struct {
	e     *ir
	desc  bool
	nulls exec.NullOrder
}

type sortNode struct {
	child node
	keys  []sortKey
}

func (n *sortNode) columns() []column { return n.child.columns() }

type limitNode struct {
	child         node
	limit, offset int64 // limit < 0: none
}

func (n *limitNode) columns() []column { return n.child.columns() }

type unionNode struct {
	children []node
	out      []column
}

func (n *unionNode) columns() []column { return n.out }

// valuesNode produces constant rows.
type valuesNode struct {
	rows [][]*ir
	out  []column
}

func (n *valuesNode) columns() []column { return n.out }

// distinctNode removes duplicate rows.
type distinctNode struct {
	child node
}

func (n *distinctNode) columns() []column { return n.child.columns() }

func concatCols(a, b []column) []column {
	out := make([]column, 0, len(a)+len(b))
	out = append(out, a...)
	return append(out, b...)
}

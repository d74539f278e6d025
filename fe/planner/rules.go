package planner

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/partition"
	"github.com/strata-db/strata/types"
)

// optimize applies the rewrite rules in order.
func (p *Planner) optimize(n node) (node, error) {
	n, err := pushDown(n, nil)
	if err != nil {
		return nil, err
	}
	n = p.selectIndexes(n)
	if err := p.prune(n); err != nil {
		return nil, err
	}
	return n, nil
}

// pushDown moves the conjuncts preds (over n's columns) as far down as they
// can go: into scans, and through inner joins, where equalities across the
// two sides become hash-join keys. Whatever cannot move stays as a filter.
func pushDown(n node, preds []*ir) (node, error) {
	switch x := n.(type) {
	case *filterNode:
		return pushDown(x.child, append(preds, conjuncts(x.pred)...))
	case *scanNode:
		for _, pr := range preds {
			x.filters = append(x.filters, conjuncts(pr)...)
		}
		return x, nil
	case *sysScanNode:
		for _, pr := range preds {
			x.filters = append(x.filters, conjuncts(pr)...)
		}
		return x, nil
	case *joinNode:
		nl := len(x.left.columns())
		nAll := len(x.out)
		var leftPreds, rightPreds, keep []*ir
		for _, pr := range preds {
			switch {
			case pr.isConst():
				keep = append(keep, pr)
			case pr.onlyColumnsIn(0, nl):
				leftPreds = append(leftPreds, pr)
			case x.kind == exec.JoinInner && pr.onlyColumnsIn(nl, nAll):
				rightPreds = append(rightPreds, pr.shift(-nl))
			case x.kind == exec.JoinInner:
				if lk, rk, ok := equiKey(pr, nl, nAll); ok {
					x.leftKeys = append(x.leftKeys, lk)
					x.rightKeys = append(x.rightKeys, rk)
					x.cross = false
					continue
				}
				if x.cross {
					keep = append(keep, pr)
				} else {
					x.other = andOpt(x.other, pr)
				}
			default:
				keep = append(keep, pr)
			}
		}
		// The join's own residual condition may hold single-side conjuncts
		// of an inner join, which belong in the inputs.
		if x.kind == exec.JoinInner && x.other != nil {
			var rest []*ir
			for _, c := range conjuncts(x.other) {
				switch {
				case c.onlyColumnsIn(0, nl) && !c.isConst():
					leftPreds = append(leftPreds, c)
				case c.onlyColumnsIn(nl, nAll) && !c.isConst():
					rightPreds = append(rightPreds, c.shift(-nl))
				default:
					rest = append(rest, c)
				}
			}
			x.other = andAll(rest)
		}
		var err error
		if x.left, err = pushDown(x.left, leftPreds); err != nil {
			return nil, err
		}
		if x.right, err = pushDown(x.right, rightPreds); err != nil {
			return nil, err
		}
		if x.cross {
			return nil, unsupported("a join without an equality condition between its two sides")
		}
		return withFilter(x, keep), nil
	case *projectNode:
		child, err := pushDown(x.child, nil)
		if err != nil {
			return nil, err
		}
		x.child = child
	case *aggNode:
		child, err := pushDown(x.child, nil)
		if err != nil {
			return nil, err
		}
		x.child = child
	case *sortNode:
		child, err := pushDown(x.child, nil)
		if err != nil {
			return nil, err
		}
		x.child = child
	case *limitNode:
		child, err := pushDown(x.child, nil)
		if err != nil {
			return nil, err
		}
		x.child = child
	case *distinctNode:
		child, err := pushDown(x.child, nil)
		if err != nil {
			return nil, err
		}
		x.child = child
	case *unionNode:
		for i, c := range x.children {
			child, err := pushDown(c, nil)
			if err != nil {
				return nil, err
			}
			x.children[i] = child
		}
	case *valuesNode:
	default:
		return nil, fmt.Errorf("BUG: pushDown of %T", n)
	}
	return withFilter(n, preds), nil
}

func withFilter(n node, preds []*ir) node {
	if len(preds) == 0 {
		return n
	}
	return &filterNode{child: n, pred: andAll(preds)}
}

// colRange is the set of values a column may take under a scan's
// predicates: [lo, hi] with open or closed ends; nil ends are unbounded.
type colRange struct {
	lo, hi         *exec.Literal
	loIncl, hiIncl bool
	empty          bool
}

// prune extracts column ranges from every scan's predicates and drops the
// partitions they rule out.
func (p *Planner) prune(n node) error {
	var err error
	visit(n, func(x node) {
		s, ok := x.(*scanNode)
		if !ok || err != nil {
			return
		}
		s.ranges = extractRanges(s.filters, s.out)
		err = p.prunePartitions(s)
	})
	return err
}

func visit(n node, fn func(node)) {
	fn(n)
	switch x := n.(type) {
	case *filterNode:
		visit(x.child, fn)
	case *projectNode:
		visit(x.child, fn)
	case *aggNode:
		visit(x.child, fn)
	case *joinNode:
		visit(x.left, fn)
		visit(x.right, fn)
	case *sortNode:
		visit(x.child, fn)
	case *limitNode:
		visit(x.child, fn)
	case *distinctNode:
		visit(x.child, fn)
	case *unionNode:
		for _, c := range x.children {
			visit(c, fn)
		}
	}
}

// extractRanges reads col op constant, BETWEEN and IN conjuncts.
func extractRanges(filters []*ir, cols []column) map[int]*colRange {
	ranges := map[int]*colRange{}
	get := func(i int) *colRange {
		r := ranges[i]
		if r == nil {
			r = &colRange{}
			ranges[i] = r
		}
		return r
	}
	for _, f := range filters {
		switch f.op {
		case "=", "<", "<=", ">", ">=":
			col, lit, flipped, ok := colAndConst(f.args[0], f.args[1], cols)
			if !ok {
				continue
			}
			op := f.op
			if flipped {
				op = map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
			}
			r := get(col)
			switch op {
			case "=":
				r.tightenLo(lit, true)
				r.tightenHi(lit, true)
			case "<":
				r.tightenHi(lit, false)
			case "<=":
				r.tightenHi(lit, true)
			case ">":
				r.tightenLo(lit, false)
			case ">=":
				r.tightenLo(lit, true)
			}
		case "BETWEEN":
			if f.not {
				continue
			}
			col, lo, _, ok1 := colAndConst(f.args[0], f.args[1], cols)
			col2, hi, _, ok2 := colAndConst(f.args[0], f.args[2], cols)
			if !ok1 || !ok2 || col != col2 {
				continue
			}
			r := get(col)
			r.tightenLo(lo, true)
			r.tightenHi(hi, true)
		case "IN":
			if f.not {
				continue
			}
			var lo, hi *exec.Literal
			col := -1
			ok := true
			for _, a := range f.args[1:] {
				c, lit, _, good := colAndConst(f.args[0], a, cols)
				if !good || (col >= 0 && c != col) {
					ok = false
					break
				}
				col = c
				if lo == nil || compareLit(lit, lo) < 0 {
					lo = lit
				}
				if hi == nil || compareLit(lit, hi) > 0 {
					hi = lit
				}
			}
			if ok && col >= 0 {
				r := get(col)
				r.tightenLo(lo, true)
				r.tightenHi(hi, true)
			}
		}
	}
	return ranges
}

// colAndConst recognises (column, constant) in either order, with the
// constant converted to the column's type when that conversion is exact.
func colAndConst(a, b *ir, cols []column) (col int, lit *exec.Literal, flipped, ok bool) {
	if a.kind != irCol {
		a, b = b, a
		flipped = true
	}
	if a.kind != irCol || b.kind != irLit || b.lit.IsNull() {
		return 0, nil, false, false
	}
	ct := cols[a.col].t
	// CompareType, not CommonType: a DATE column against a datetime
	// constant compares as DATETIME, which bounds no DATE range.
	common, err := exec.CompareType(exec.NewColumnRef(a.col, ct), b.lit)
	if err != nil || !sameRangeDomain(common, ct) {
		return 0, nil, false, false
	}
	x := exec.Coerce(b.lit, ct)
	l, isLit := x.(*exec.Literal)
	if !isLit || l.IsNull() {
		return 0, nil, false, false
	}
	if s, isStr := b.lit.Value.(string); isStr && ct.Kind.IsString() && l.Value != s {
		// The cast cut the constant to the column's length; the comparison
		// itself runs on the whole constant, so the cut one would bound the
		// column too tightly ('abc' < 'abcdef' but not < 'abc'). Strings
		// order by bytes whatever their declared length: keep it whole.
		l = exec.NewLiteral(s, common)
	}
	return a.col, l, flipped, true
}

// sameRangeDomain reports whether comparing in type common orders values
// exactly as the column type ct does.
func sameRangeDomain(common, ct types.Type) bool {
	if common == ct {
		return true
	}
	if common.Kind.IsInteger() && ct.Kind.IsInteger() {
		return true
	}
	if common.Kind.IsString() && ct.Kind.IsString() {
		return true
	}
	return false
}

func (r *colRange) tightenLo(l *exec.Literal, incl bool) {
	if r.lo == nil {
		r.lo, r.loIncl = l, incl
	} else if c := compareLit(l, r.lo); c > 0 || (c == 0 && !incl) {
		r.lo, r.loIncl = l, incl
	}
	r.check()
}

func (r *colRange) tightenHi(l *exec.Literal, incl bool) {
	if r.hi == nil {
		r.hi, r.hiIncl = l, incl
	} else if c := compareLit(l, r.hi); c < 0 || (c == 0 && !incl) {
		r.hi, r.hiIncl = l, incl
	}
	r.check()
}

func (r *colRange) check() {
	if r.lo != nil && r.hi != nil {
		c := compareLit(r.lo, r.hi)
		if c > 0 || (c == 0 && !(r.loIncl && r.hiIncl)) {
			r.empty = true
		}
	}
}

// compareLit orders two non-NULL literals of the same type.
func compareLit(a, b *exec.Literal) int {
	if x, ok := a.Value.(float64); ok {
		return cmp.Compare(x, b.Value.(float64))
	}
	return partition.Compare(partValue(a), partValue(b))
}

// partValue converts a literal to the partition package's comparable value.
func partValue(l *exec.Literal) partition.Value {
	switch v := l.Value.(type) {
	case int64:
		return partition.Value{Kind: partition.KindInt, I: v}
	case bool:
		if v {
			return partition.Value{Kind: partition.KindInt, I: 1}
		}
		return partition.Value{Kind: partition.KindInt, I: 0}
	case decimal128.Num:
		return partition.Value{Kind: partition.KindInt128, D: v}
	case string:
		return partition.Value{Kind: partition.KindBytes, B: []byte(v)}
	}
	panic(fmt.Sprintf("BUG: literal value %T in a range", l.Value))
}

// prunePartitions keeps the partitions whose range can hold rows matching
// the range on the first partition column.
func (p *Planner) prunePartitions(s *scanNode) error {
	t := s.baseTable()
	if !s.pruned {
		s.partitions = make([]int, len(t.Partitions))
		for i := range s.partitions {
			s.partitions[i] = i
		}
		s.pruned = true
	}
	if len(t.PartitionColumns) == 0 {
		return nil
	}
	// Find the scan column of the first partition column.
	col := -1
	for i, c := range s.out {
		if strings.EqualFold(c.orgName, t.PartitionColumns[0]) {
			col = i
			break
		}
	}
	if col < 0 {
		return nil
	}
	r := s.ranges[col]
	if r == nil {
		return nil
	}
	if r.empty {
		s.partitions = nil
		return nil
	}
	_, _, ranges, err := partition.Ranges(t)
	if err != nil {
		return err
	}
	single := len(t.PartitionColumns) == 1
	var keep []int
	for _, i := range s.partitions {
		lo, hi := ranges[i].Lower[0], ranges[i].Upper[0]
		if r.hi != nil {
			v := partValue(r.hi)
			// Every matching value is <= v (or < v): the partition must start
			// at or below it.
			if c := partition.Compare(lo, v); c > 0 || (c == 0 && !r.hiIncl && single) {
				continue
			}
		}
		if r.lo != nil {
			v := partValue(r.lo)
			c := partition.Compare(v, hi)
			if single && c >= 0 || !single && c > 0 {
				continue
			}
		}
		keep = append(keep, i)
	}
	s.partitions = keep
	return nil
}

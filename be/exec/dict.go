package exec

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"slices"
)

// Dictionary-coded pages. A scan that reads pages with
// storage.ColumnReader.ReadPageDict gets string columns of dict- and
// constant-encoded pages as *array.Dictionary: a page's distinct values once,
// and an int32 code per row. Views read them through the codes (see view),
// so every kernel works on them unchanged; the kernels below go further and
// work per distinct value instead of per row.

// scanConjunct is one AND-ed term of a scan filter. col is the one column
// it reads when that is all it reads and it calls no volatile function,
// else -1: such a term's value depends on the column's value alone, so on a
// dictionary-coded page it is computed once per dictionary entry.
type scanConjunct struct {
	pred Expr
	col  int
	// rows in and out over the pages seen, for ordering the terms by how
	// much they filter (see SegmentScan.filter).
	in, out int64
	// optional marks a runtime filter: the join it comes from drops the
	// same rows, so the scan may stop applying it when it drops few.
	optional, off bool
}

// splitConjuncts flattens nested ANDs into their terms.
func splitConjuncts(e Expr, out []Expr) []Expr {
	if l, ok := e.(*Logic); ok && l.Op == LogicAnd {
		return splitConjuncts(l.R, splitConjuncts(l.L, out))
	}
	return append(out, e)
}

func newScanConjuncts(filter Expr) []scanConjunct {
	var cs []scanConjunct
	for _, p := range splitConjuncts(filter, nil) {
		c := scanConjunct{pred: p, col: -1}
		_, c.optional = p.(*RuntimeFilter)
		if cols, ok := ReferencedColumns(p); ok && len(cols) == 1 && !isVolatile(p) && cannotFail(p) {
			for idx := range cols {
				c.col = idx
			}
		}
		cs = append(cs, c)
	}
	return cs
}

// cannotFail reports whether e is built only of comparisons, IN, LIKE,
// IS NULL, boolean logic, CASE/COALESCE, columns and literals: evaluating it
// on a dictionary entry no live row holds can then raise no error or
// warning that the rows themselves would not.
func cannotFail(e Expr) bool {
	switch e.(type) {
	case *ColumnRef, *Literal, *Compare, *In, *Like, *IsNull, *Logic, *Not, *Case, *Coalesce:
	default:
		return false
	}
	if l, ok := e.(*Like); ok && l.Regexp && l.re == nil {
		return false // a pattern compiled per row can be invalid
	}
	kids, ok := Children(e)
	if !ok {
		return false
	}
	for _, k := range kids {
		if !cannotFail(k) {
			return false
		}
	}
	return true
}

// dictFilter holds the scratch space of per-entry filter evaluation.
type dictFilter struct {
	truth []uint8 // 1 where the dictionary entry passes
	sel   []int32
	cols  []arrow.Array
}

// selectDict appends to out the rows of rows for which pred, a predicate of
// column col alone, is TRUE, where b.Cols[col] is d: pred is evaluated over
// d's dictionary (and once over NULL when d has nulls), then looked up by
// code.
func (f *dictFilter) selectDict(ctx *EvalContext, pred Expr, col int, b *Batch, d *array.Dictionary, rows, out []int32) ([]int32, error) {
	dict := d.Dictionary()
	nd := dict.Len()
	if cap(f.cols) < len(b.Cols) {
		f.cols = make([]arrow.Array, len(b.Cols))
	}
	cols := f.cols[:len(b.Cols)]
	clear(cols)
	cols[col] = dict
	var err error
	f.sel, err = selectTrue(ctx, pred, &Batch{Cols: cols, Len: nd}, identRows(nd), f.sel[:0])
	if err != nil {
		return out, err
	}
	f.truth = growTo(f.truth[:0], nd)
	truth := f.truth
	clear(truth)
	for _, e := range f.sel {
		truth[e] = 1
	}
	nullTrue := uint8(0)
	if d.NullN() > 0 {
		c := array.MakeArrayOfNull(memory.DefaultAllocator, dict.DataType(), 1)
		cols[col] = c
		f.sel, err = selectTrue(ctx, pred, &Batch{Cols: cols, Len: 1}, identRows(1), f.sel[:0])
		c.Release()
		if err != nil {
			return out, err
		}
		if len(f.sel) > 0 {
			nullTrue = 1
		}
	} else {
		// Whole-page answers need no look at the rows.
		switch hits := len(f.sel); {
		case hits == 0:
			return out, nil
		case hits == nd:
			return append(out, rows...), nil
		}
	}
	codes := d.Indices().(*array.Int32).Int32Values()
	n := len(out)
	out = slices.Grow(out, len(rows))[:n+len(rows)]
	if d.NullN() == 0 {
		if len(rows) == len(codes) {
			// All rows of the page: rows[i] == i.
			for i, c := range codes {
				out[n] = int32(i)
				n += int(truth[c])
			}
			return out[:n], nil
		}
		for _, r := range rows {
			out[n] = r
			n += int(truth[codes[r]])
		}
		return out[:n], nil
	}
	valid, off := d.NullBitmapBytes(), d.Data().Offset()
	for _, r := range rows {
		out[n] = r
		if bitutil.BitIsSet(valid, off+int(r)) {
			n += int(truth[codes[r]])
		} else {
			n += int(nullTrue)
		}
	}
	return out[:n], nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

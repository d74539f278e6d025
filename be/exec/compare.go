package exec

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/strata-db/strata/types"
)

// CmpOp is a comparison operator.
type CmpOp uint8

const (
	CmpEQ     CmpOp = iota + 1 // =
	CmpNE                      // != and <>
	CmpLT                      // <
	CmpLE                      // <=
	CmpGT                      // >
	CmpGE                      // >=
	CmpNullEQ                  // <=> (NULL-safe equal, never NULL)
)

var cmpNames = [...]string{CmpEQ: "=", CmpNE: "!=", CmpLT: "<", CmpLE: "<=", CmpGT: ">", CmpGE: ">=", CmpNullEQ: "<=>"}

func (o CmpOp) String() string { return cmpNames[o] }

// Flip returns the operator with its operands swapped (a < b == b > a).
func (o CmpOp) Flip() CmpOp {
	switch o {
	case CmpLT:
		return CmpGT
	case CmpLE:
		return CmpGE
	case CmpGT:
		return CmpLT
	case CmpGE:
		return CmpLE
	}
	return o
}

// Compare is a comparison of two operands already converted to a common
// physical class (see [NewCompare]).
type Compare struct {
	Op   CmpOp
	L, R Expr
}

// NewCompare returns l op r, converting the operands to their [CommonType].
// Integer operands of different widths are compared without conversion.
func NewCompare(op CmpOp, l, r Expr) (Expr, error) {
	if err := checkNotObject(l, r); err != nil {
		return nil, err
	}
	lt, rt := l.Type(), r.Type()
	if sameClassNoCast(lt, rt) {
		return &Compare{Op: op, L: l, R: r}, nil
	}
	ct, err := CompareType(l, r)
	if err != nil {
		return nil, fmt.Errorf("comparison %s: %w", op, err)
	}
	return &Compare{Op: op, L: coerceCmp(l, ct), R: coerceCmp(r, ct)}, nil
}

// CompareType returns the type l and r are compared in: their
// [CommonType], except that a DATE against a string constant with a time
// of day compares as DATETIME, as in MySQL and Doris (DATE '2000-02-29' <
// '2000-02-29 23:59:59' is true); converted to a DATE, the constant would
// lose its time.
func CompareType(l, r Expr) (types.Type, error) {
	ct, err := CommonType(l.Type(), r.Type())
	if err != nil || ct.Kind != types.KindDate {
		return ct, err
	}
	if t, ok := datetimeText(l); ok {
		return t, nil
	}
	if t, ok := datetimeText(r); ok {
		return t, nil
	}
	return ct, nil
}

// datetimeText reports whether e is a string constant holding a datetime
// whose time of day is not midnight, and the DATETIME type that keeps it.
func datetimeText(e Expr) (types.Type, bool) {
	l, ok := e.(*Literal)
	if !ok || !l.T.Kind.IsString() {
		return types.Type{}, false
	}
	s, ok := l.Value.(string)
	if !ok {
		return types.Type{}, false
	}
	us, err := types.ParseDateTime(strings.TrimSpace(s))
	if err != nil || us%types.MicrosPerDay == 0 {
		return types.Type{}, false
	}
	if us%1000000 != 0 {
		return types.DateTime(6), true
	}
	return types.DateTime(0), true
}

// sameClassNoCast reports whether values of a and b compare directly.
func sameClassNoCast(a, b types.Type) bool {
	if a == b {
		return true
	}
	isI := func(t types.Type) bool { return t.Kind.IsInteger() && t.Kind != types.KindLargeInt }
	if isI(a) && isI(b) {
		return true
	}
	if a.Kind.IsString() && b.Kind.IsString() {
		return true
	}
	if a.Kind == types.KindDecimal && b.Kind == types.KindDecimal && a.Scale == b.Scale {
		return true
	}
	if isFloatKind(a.Kind) && isFloatKind(b.Kind) {
		return true
	}
	return false
}

func coerceCmp(e Expr, t types.Type) Expr {
	if sameClassNoCast(e.Type(), t) {
		return e
	}
	return Coerce(e, t)
}

func (c *Compare) Type() types.Type { return types.Boolean }
func (c *Compare) String() string   { return fmt.Sprintf("(%s %s %s)", c.L, c.Op, c.R) }

func (c *Compare) Eval(ctx *EvalContext, b *Batch) (arrow.Array, error) {
	lv, err := evalView(ctx, c.L, b)
	if err != nil {
		return nil, err
	}
	rv, err := evalView(ctx, c.R, b)
	if err != nil {
		return nil, err
	}
	o := newOut(types.Boolean, b.Len)
	rows := rowsOf(b)
	sel := make([]int32, 0, len(rows))
	sel = compareSelect(c.Op, lv, rv, rows, sel)
	for _, i := range sel {
		o.setBool(int(i), true)
	}
	if c.Op == CmpNullEQ {
		for _, i := range rows {
			o.setValid(int(i))
		}
	} else {
		setValidBoth(o, lv, rv, rows)
	}
	return o.finish(), nil
}

// selectRows implements [selecter]: the rows of rows where the comparison is
// TRUE, appended to out.
func (c *Compare) selectRows(ctx *EvalContext, b *Batch, rows, out []int32) ([]int32, error) {
	if res, ok := c.fastSelect(b, rows, out); ok {
		return res, nil
	}
	lv, err := evalView(ctx, c.L, withSel(b, rows))
	if err != nil {
		return nil, err
	}
	rv, err := evalView(ctx, c.R, withSel(b, rows))
	if err != nil {
		return nil, err
	}
	return compareSelect(c.Op, lv, rv, rows, out), nil
}

// fastSelect handles column op integer-constant on the column's native
// width, without widening it: the hot shape of scan filters.
func (c *Compare) fastSelect(b *Batch, rows, out []int32) ([]int32, bool) {
	cr, ok := c.L.(*ColumnRef)
	l, okl := c.R.(*Literal)
	op := c.Op
	if !ok || !okl {
		cr, ok = c.R.(*ColumnRef)
		l, okl = c.L.(*Literal)
		op = op.Flip()
	}
	if !ok || !okl || l.Value == nil || op == CmpNullEQ || physOf(cr.T) != pInt || physOf(l.T) != pInt {
		return nil, false
	}
	k := l.Value.(int64)
	arr := b.Cols[cr.Idx]
	start := len(out)
	switch a := arr.(type) {
	case *array.Int8:
		if k < math.MinInt8 || k > math.MaxInt8 {
			return nil, false
		}
		out = cmpConst(op, a.Int8Values(), int8(k), rows, out)
	case *array.Int16:
		if k < math.MinInt16 || k > math.MaxInt16 {
			return nil, false
		}
		out = cmpConst(op, a.Int16Values(), int16(k), rows, out)
	case *array.Int32:
		if k < math.MinInt32 || k > math.MaxInt32 {
			return nil, false
		}
		out = cmpConst(op, a.Int32Values(), int32(k), rows, out)
	case *array.Int64:
		out = cmpConst(op, a.Int64Values(), k, rows, out)
	case *array.Date32:
		if k < math.MinInt32 || k > math.MaxInt32 {
			return nil, false
		}
		out = cmpConst(op, fixedValues(arrow.Int32Traits.CastFromBytes, a.Data()), int32(k), rows, out)
	case *array.Timestamp:
		out = cmpConst(op, fixedValues(arrow.Int64Traits.CastFromBytes, a.Data()), k, rows, out)
	default:
		return nil, false
	}
	if arr.NullN() > 0 {
		w := start
		for _, i := range out[start:] {
			if arr.IsValid(int(i)) {
				out[w] = i
				w++
			}
		}
		out = out[:w]
	}
	return out, true
}

func withSel(b *Batch, rows []int32) *Batch {
	nb := *b
	nb.Sel = rows
	return &nb
}

// compareSelect appends to out the rows where l op r is TRUE.
func compareSelect(op CmpOp, l, r *view, rows, out []int32) []int32 {
	if op == CmpNullEQ {
		return nullEqSelect(l, r, rows, out)
	}
	if l.constNull() || r.constNull() {
		return out
	}
	if l.isConst() && r.isConst() {
		// Both sides are one value: decide once, for every row.
		var one [1]int32
		if len(compareSelectRows(op, l, r, one[:], one[:0])) == 0 {
			return out
		}
		return append(out, rows...)
	}
	return compareSelectRows(op, l, r, rows, out)
}

// compareSelectRows is compareSelect over rows, where a constant side is read at
// index 0 (so both sides constant only works for rows = [0]).
func compareSelectRows(op CmpOp, l, r *view, rows, out []int32) []int32 {
	start := len(out)
	switch l.p {
	case pInt:
		if l.isConst() && !r.isConst() {
			l, r, op = r, l, op.Flip()
		}
		switch {
		case r.isConst() && l.i32 != nil && r.int(0) >= math.MinInt32 && r.int(0) <= math.MaxInt32:
			out = cmpConst(op, l.i32, int32(r.int(0)), rows, out)
		case r.isConst():
			out = cmpConst(op, l.ints(), r.int(0), rows, out)
		default:
			out = cmpCols(op, l.ints(), r.ints(), rows, out)
		}
	case pFloat:
		if r.isConst() {
			out = cmpConst(op, l.f64, r.f64[0], rows, out)
		} else if l.isConst() {
			out = cmpConst(op.Flip(), r.f64, l.f64[0], rows, out)
		} else {
			out = cmpCols(op, l.f64, r.f64, rows, out)
		}
	case pStr:
		for _, i := range rows {
			if cmpResult(op, strings.Compare(l.strv(int(i)), r.strv(int(i)))) {
				out = append(out, i)
			}
		}
	case pDec:
		for _, i := range rows {
			if cmpResult(op, l.decv(int(i)).Cmp(r.decv(int(i)))) {
				out = append(out, i)
			}
		}
	case pBool:
		for _, i := range rows {
			if cmpResult(op, cmpBool(l.boolv(int(i)), r.boolv(int(i)))) {
				out = append(out, i)
			}
		}
	}
	if l.hasNulls() || r.hasNulls() {
		// drop rows where either side is NULL
		w := start
		for _, i := range out[start:] {
			if !l.isNull(int(i)) && !r.isNull(int(i)) {
				out[w] = i
				w++
			}
		}
		out = out[:w]
	}
	return out
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func cmpResult(op CmpOp, c int) bool {
	switch op {
	case CmpEQ, CmpNullEQ:
		return c == 0
	case CmpNE:
		return c != 0
	case CmpLT:
		return c < 0
	case CmpLE:
		return c <= 0
	case CmpGT:
		return c > 0
	case CmpGE:
		return c >= 0
	}
	panic(fmt.Sprintf("BUG: comparison op %d", op))
}

type ordered interface {
	~int64 | ~float64 | ~int32 | ~int16 | ~int8
}

// cmpConst is the hot filter kernel: a branch-free append of the rows where
// x[i] op k holds.
func cmpConst[T ordered](op CmpOp, x []T, k T, rows, out []int32) []int32 {
	n := len(out)
	out = slices.Grow(out, len(rows))[:n+len(rows)]
	switch op {
	case CmpEQ:
		for _, i := range rows {
			out[n] = i
			n += b2i(x[i] == k)
		}
	case CmpNE:
		for _, i := range rows {
			out[n] = i
			n += b2i(x[i] != k)
		}
	case CmpLT:
		for _, i := range rows {
			out[n] = i
			n += b2i(x[i] < k)
		}
	case CmpLE:
		for _, i := range rows {
			out[n] = i
			n += b2i(x[i] <= k)
		}
	case CmpGT:
		for _, i := range rows {
			out[n] = i
			n += b2i(x[i] > k)
		}
	case CmpGE:
		for _, i := range rows {
			out[n] = i
			n += b2i(x[i] >= k)
		}
	}
	return out[:n]
}

func cmpCols[T ordered](op CmpOp, x, y []T, rows, out []int32) []int32 {
	for _, i := range rows {
		a, b := x[i], y[i]
		var ok bool
		switch op {
		case CmpEQ:
			ok = a == b
		case CmpNE:
			ok = a != b
		case CmpLT:
			ok = a < b
		case CmpLE:
			ok = a <= b
		case CmpGT:
			ok = a > b
		case CmpGE:
			ok = a >= b
		}
		if ok {
			out = append(out, i)
		}
	}
	return out
}

func nullEqSelect(l, r *view, rows, out []int32) []int32 {
	for _, i := range rows {
		ii := int(i)
		ln, rn := l.isNull(ii), r.isNull(ii)
		if ln || rn {
			if ln && rn {
				out = append(out, i)
			}
			continue
		}
		if valuesEqual(l, ii, r, ii) {
			out = append(out, i)
		}
	}
	return out
}

// valuesEqual compares two non-NULL rows of views of the same class.
func valuesEqual(a *view, i int, b *view, j int) bool {
	switch a.p {
	case pInt:
		return a.int(i) == b.int(j)
	case pFloat:
		return a.flt(i) == b.flt(j)
	case pDec:
		return a.decv(i) == b.decv(j)
	case pStr:
		return a.strv(i) == b.strv(j)
	case pBool:
		return a.boolv(i) == b.boolv(j)
	}
	return false
}

// compareRows orders two non-NULL rows of views of the same class.
func compareRows(a *view, i int, b *view, j int) int {
	switch a.p {
	case pInt:
		x, y := a.int(i), b.int(j)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case pFloat:
		x, y := a.flt(i), b.flt(j)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case pDec:
		return a.decv(i).Cmp(b.decv(j))
	case pStr:
		return strings.Compare(a.strv(i), b.strv(j))
	case pBool:
		return cmpBool(a.boolv(i), b.boolv(j))
	}
	return 0
}

var _ = bytes.Compare
var _ = decimal128.Num{}

// fixedValues returns the values of a fixed-width array; an empty array
// may have no value buffer, and then there are none.
func fixedValues[T any](cast func([]byte) []T, d arrow.ArrayData) []T {
	buf := d.Buffers()[1]
	if buf == nil {
		return nil
	}
	return cast(buf.Bytes())[d.Offset():][:d.Len()]
}

package exec

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/strata-db/strata/types"
)

// Expr is a bound, typed expression over the columns of an input batch.
type Expr interface {
	Type() types.Type
	// Eval returns an array of length b.Len (values at rows outside b.Sel may
	// be garbage or NULL). The caller owns the result.
	Eval(ctx *EvalContext, b *Batch) (arrow.Array, error)
	String() string
}

// evalView evaluates e over b as a typed view; literals become constant views
// without materializing a column.
func evalView(ctx *EvalContext, e Expr, b *Batch) (*view, error) {
	switch x := e.(type) {
	case *Literal:
		return x.view(), nil
	case *ColumnRef:
		return ctx.columnView(b.Cols[x.Idx], x.T), nil
	}
	arr, err := e.Eval(ctx, b)
	if err != nil {
		return nil, err
	}
	return newView(arr, e.Type()), nil
}

// ColumnRef reads column Idx of the input batch.
type ColumnRef struct {
	Idx int
	T   types.Type
}

// NewColumnRef returns a reference to input column idx of type t.
func NewColumnRef(idx int, t types.Type) *ColumnRef { return &ColumnRef{Idx: idx, T: t} }

func (c *ColumnRef) Type() types.Type { return c.T }
func (c *ColumnRef) String() string   { return fmt.Sprintf("#%d", c.Idx) }
func (c *ColumnRef) Eval(_ *EvalContext, b *Batch) (arrow.Array, error) {
	if c.Idx < 0 || c.Idx >= len(b.Cols) {
		panic(fmt.Sprintf("BUG: column #%d of a %d-column batch", c.Idx, len(b.Cols)))
	}
	a := b.Cols[c.Idx]
	a.Retain()
	return a, nil
}

// Literal is a constant of type T; a nil Value is NULL.
//
// Value holds the normalized Go value: bool; int64 for integer kinds, DATE
// (days since 1970-01-01) and DATETIME (µs since 1970-01-01 00:00:00 as wall
// time); float64; decimal128.Num at the type's scale for DECIMAL and
// LARGEINT; string for string kinds.
type Literal struct {
	Value any
	T     types.Type
	v     *view
}

// NewLiteral returns a constant of type t. value may be nil (NULL), or any of:
// bool; Go integers; float32/64; decimal128.Num (already at t's scale);
// *big.Int; string (parsed as t, as CAST would; an unparsable string is an
// error); time.Time for DATE/DATETIME. It panics on a Go type it cannot use
// for t, which is a planner bug.
func NewLiteral(value any, t types.Type) *Literal {
	l, err := newLiteral(value, t)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return l
}

// NewLiteralChecked is NewLiteral returning an error on an unusable value,
// for literals that come from user text.
func NewLiteralChecked(value any, t types.Type) (*Literal, error) { return newLiteral(value, t) }

func newLiteral(value any, t types.Type) (*Literal, error) {
	if !t.Kind.IsValid() || t.Kind == types.KindDecimal && t.Validate() != nil {
		return nil, fmt.Errorf("literal of invalid type %v", t)
	}
	l := &Literal{T: t}
	if value == nil {
		l.v = constNullView(t, 1)
		return l, nil
	}
	norm, err := normalizeValue(value, t)
	if err != nil {
		return nil, err
	}
	l.Value = norm
	o := newOut(t, 1)
	switch x := norm.(type) {
	case int64:
		o.setInt(0, x)
	case float64:
		o.setFlt(0, x)
	case decimal128.Num:
		o.setDec(0, x)
	case bool:
		o.setBool(0, x)
	case string:
		o.setStr(0, x)
	}
	arr := o.finish()
	l.v = newView(arr, t)
	l.v.step = 0
	return l, nil
}

func (l *Literal) view() *view      { return l.v }
func (l *Literal) Type() types.Type { return l.T }
func (l *Literal) IsNull() bool     { return l.Value == nil }
func (l *Literal) String() string {
	if l.Value == nil {
		return "NULL"
	}
	if l.T.Kind.IsObject() {
		return sketchLiteralText(l.Value.(string), l.T)
	}
	s := formatValue(l.Value, l.T)
	if l.T.Kind.IsString() || l.T.Kind.IsTemporal() {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return s
}

// Eval materializes the constant as a column of b.Len rows.
func (l *Literal) Eval(_ *EvalContext, b *Batch) (arrow.Array, error) {
	n := b.Len
	o := newOut(l.T, n)
	if l.Value != nil {
		for i := 0; i < n; i++ {
			o.setFrom(i, l.v, 0)
		}
	}
	return o.finish(), nil
}

// normalizeValue converts a Go value to the Literal representation of t.
func normalizeValue(value any, t types.Type) (any, error) {
	if s, ok := value.([]byte); ok {
		value = string(s)
	}
	if t.Kind.IsObject() {
		// A BITMAP or HLL literal holds a serialized sketch, checked here
		// because literals come from user text and constant folding.
		s, ok := value.(string)
		if !ok {
			return nil, fmt.Errorf("cannot use %T as a %v literal", value, t)
		}
		if err := checkSketch(s, t); err != nil {
			return nil, err
		}
		return s, nil
	}
	if s, ok := value.(string); ok && !t.Kind.IsString() {
		v, ok := castString(s, t)
		if !ok {
			return nil, fmt.Errorf("invalid %v value %q", t, s)
		}
		return v, nil
	}
	if tm, ok := value.(time.Time); ok {
		switch t.Kind {
		case types.KindDate:
			return civilToDays(tm.Year(), int(tm.Month()), tm.Day()), nil
		case types.KindDateTime:
			return timeToMicros(tm), nil
		}
		return nil, fmt.Errorf("time value for %v literal", t)
	}
	switch physOf(t) {
	case pBool:
		switch x := value.(type) {
		case bool:
			return x, nil
		}
		if i, ok := asInt64(value); ok {
			return i != 0, nil
		}
	case pInt:
		if i, ok := asInt64(value); ok {
			if t.Kind.IsInteger() {
				lo, hi := intRange(t.Kind)
				if i < lo || i > hi {
					return nil, fmt.Errorf("value %d out of range for %v", i, t)
				}
			}
			return i, nil
		}
		if b, ok := value.(bool); ok {
			if b {
				return int64(1), nil
			}
			return int64(0), nil
		}
	case pFloat:
		switch x := value.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		}
		if i, ok := asInt64(value); ok {
			return float64(i), nil
		}
	case pDec:
		s := scaleOf(t)
		switch x := value.(type) {
		case decimal128.Num:
			return x, nil
		case *big.Int:
			return decimal128.FromBigInt(x).IncreaseScaleBy(s), nil
		case float64:
			n, err := decimal128.FromFloat64(x, 38, s)
			return n, err
		}
		if i, ok := asInt64(value); ok {
			return decimal128.FromI64(i).IncreaseScaleBy(s), nil
		}
	case pStr:
		return formatGo(value), nil
	}
	return nil, fmt.Errorf("cannot use %T as a %v literal", value, t)
}

func formatGo(v any) string {
	return fmt.Sprint(v)
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(x), true
	case uint:
		return int64(x), true
	}
	return 0, false
}

// formatValue renders a normalized value of type t as SQL text (no quotes).
func formatValue(v any, t types.Type) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "1"
		}
		return "0"
	case int64:
		switch t.Kind {
		case types.KindDate:
			return formatDate(int32(x))
		case types.KindDateTime:
			return formatDateTime(x, t.Precision)
		}
		return fmt.Sprint(x)
	case float64:
		return formatFloat(x)
	case decimal128.Num:
		return x.ToString(scaleOf(t))
	case string:
		return x
	}
	return fmt.Sprint(v)
}

package planner

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/types"
)

// Expr is a bound expression of a plan fragment. It is opaque outside the
// planner; it encodes to JSON and decodes into an identical expression: the
// same EXPLAIN text, compiling to the same be/exec expression.
//
// Encoding (one JSON object per node):
//
//	column    {"t": type, "col": index}
//	constant  {"t": type, "lit": literal}
//	call      {"t": type, "call": callSpec, "op": ..., "name": ..., "not": ..., "args": [node, ...]}
//	literal   {"t": type} for NULL, else exactly one of
//	          "bool": true|false, "int": int64 (integers, DATE days,
//	          DATETIME microseconds), "float": "strconv text" (NaN and
//	          infinities included), "dec": {"hi": int64, "lo": uint64}
//	          (DECIMAL, LARGEINT), "str": base64 bytes (strings, BITMAP and
//	          HLL in their serialized forms)
//
// A decoded call is checked as a bound one is, by compiling it against its
// argument types; a type that differs from the encoded one is an error.
type Expr struct{ x *ir }

// String renders the expression as EXPLAIN does, columns by position.
func (e Expr) String() string {
	if e.x == nil {
		return "<nil>"
	}
	return e.x.String()
}

// MarshalJSON encodes the expression.
func (e Expr) MarshalJSON() ([]byte, error) {
	if e.x == nil {
		return []byte("null"), nil
	}
	j, err := encodeIR(e.x)
	if err != nil {
		return nil, err
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes and checks an expression.
func (e *Expr) UnmarshalJSON(data []byte) error {
	var j *irJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	if j == nil {
		e.x = nil
		return nil
	}
	x, err := decodeIR(j, 0)
	if err != nil {
		return fmt.Errorf("decoding expression: %w", err)
	}
	e.x = x
	return nil
}

func exprOf(x *ir) Expr { return Expr{x: x} }

func exprsOf(xs []*ir) []Expr {
	if xs == nil {
		return nil
	}
	out := make([]Expr, len(xs))
	for i, x := range xs {
		out[i] = Expr{x: x}
	}
	return out
}

func irsOf(es []Expr) ([]*ir, error) {
	if es == nil {
		return nil, nil
	}
	out := make([]*ir, len(es))
	for i, e := range es {
		if e.x == nil {
			return nil, errors.New("missing expression")
		}
		out[i] = e.x
	}
	return out, nil
}

type irJSON struct {
	T    types.Type   `json:"t"`
	Col  *int         `json:"col,omitempty"`
	Lit  *literalJSON `json:"lit,omitempty"`
	Call *callSpec    `json:"call,omitempty"`
	Op   string       `json:"op,omitempty"`
	Name string       `json:"name,omitempty"`
	Not  bool         `json:"not,omitempty"`
	Args []*irJSON    `json:"args,omitempty"`
}

type literalJSON struct {
	Bool  *bool    `json:"bool,omitempty"`
	Int   *int64   `json:"int,omitempty"`
	Float *string  `json:"float,omitempty"`
	Dec   *decJSON `json:"dec,omitempty"`
	Str   *[]byte  `json:"str,omitempty"`
}

type decJSON struct {
	Hi int64  `json:"hi"`
	Lo uint64 `json:"lo"`
}

func encodeIR(e *ir) (*irJSON, error) {
	j := &irJSON{T: e.t}
	switch e.kind {
	case irCol:
		c := e.col
		j.Col = &c
	case irLit:
		l, err := encodeLiteral(e.lit)
		if err != nil {
			return nil, err
		}
		j.Lit = l
	case irCall:
		j.Call, j.Op, j.Name, j.Not = e.spec, e.op, e.name, e.not
		j.Args = make([]*irJSON, len(e.args))
		for i, a := range e.args {
			x, err := encodeIR(a)
			if err != nil {
				return nil, err
			}
			j.Args[i] = x
		}
	default:
		panic(fmt.Sprintf("BUG: ir kind %d", e.kind))
	}
	return j, nil
}

func encodeLiteral(l *exec.Literal) (*literalJSON, error) {
	j := &literalJSON{}
	switch v := l.Value.(type) {
	case nil:
	case bool:
		j.Bool = &v
	case int64:
		j.Int = &v
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		j.Float = &s
	case decimal128.Num:
		j.Dec = &decJSON{Hi: v.HighBits(), Lo: v.LowBits()}
	case string:
		b := []byte(v)
		j.Str = &b
	default:
		return nil, fmt.Errorf("BUG: literal %s holds a %T", l, l.Value)
	}
	return j, nil
}

// maxIRDepth bounds the nesting a decoder accepts.
const maxIRDepth = 1000

func decodeIR(j *irJSON, depth int) (*ir, error) {
	if depth > maxIRDepth {
		return nil, errors.New("expression nested too deeply")
	}
	set := 0
	for _, b := range []bool{j.Col != nil, j.Lit != nil, j.Call != nil} {
		if b {
			set++
		}
	}
	if set != 1 {
		return nil, errors.New("a node must be exactly one of column, literal and call")
	}
	switch {
	case j.Col != nil:
		if *j.Col < 0 {
			return nil, fmt.Errorf("column #%d", *j.Col)
		}
		if !j.T.Kind.IsValid() {
			return nil, fmt.Errorf("column #%d of invalid type %v", *j.Col, j.T)
		}
		return colIR(*j.Col, j.T), nil
	case j.Lit != nil:
		l, err := decodeLiteral(j.Lit, j.T)
		if err != nil {
			return nil, err
		}
		return litIR(l), nil
	}
	args := make([]*ir, len(j.Args))
	for i, a := range j.Args {
		if a == nil {
			return nil, fmt.Errorf("%s: argument %d missing", j.Name, i)
		}
		x, err := decodeIR(a, depth+1)
		if err != nil {
			return nil, err
		}
		args[i] = x
	}
	spec := *j.Call
	spec.fn = nil
	x, err := newCall(j.Op, j.Name, args, &spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", j.Name, err)
	}
	if x.t != j.T {
		return nil, fmt.Errorf("%s: type %v, encoded as %v", j.Name, x.t, j.T)
	}
	x.not = j.Not
	return x, nil
}

func decodeLiteral(j *literalJSON, t types.Type) (*exec.Literal, error) {
	var v any
	set := 0
	if j.Bool != nil {
		v, set = *j.Bool, set+1
	}
	if j.Int != nil {
		v, set = *j.Int, set+1
	}
	if j.Float != nil {
		f, err := strconv.ParseFloat(*j.Float, 64)
		if err != nil {
			return nil, fmt.Errorf("float literal %q: %w", *j.Float, err)
		}
		v, set = f, set+1
	}
	if j.Dec != nil {
		v, set = decimal128.New(j.Dec.Hi, j.Dec.Lo), set+1
	}
	if j.Str != nil {
		v, set = string(*j.Str), set+1
	}
	if set > 1 {
		return nil, errors.New("literal with more than one value")
	}
	l, err := exec.NewLiteralChecked(v, t)
	if err != nil {
		return nil, fmt.Errorf("literal: %w", err)
	}
	if v != nil && !sameLiteralValue(l.Value, v) {
		// The value is already in its physical form; a conversion means
		// the encoder and decoder disagree about the type.
		return nil, fmt.Errorf("literal %v of %v decodes as %v", v, t, l.Value)
	}
	return l, nil
}

func sameLiteralValue(a, b any) bool {
	if fa, ok := a.(float64); ok {
		fb, ok := b.(float64)
		return ok && (fa == fb || fa != fa && fb != fb)
	}
	if da, ok := a.(decimal128.Num); ok {
		db, ok := b.(decimal128.Num)
		return ok && da == db
	}
	if ba, ok := a.(*big.Int); ok {
		bb, ok := b.(*big.Int)
		return ok && ba.Cmp(bb) == 0
	}
	return a == b
}

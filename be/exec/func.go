package exec

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/types"
)

// kernel computes a function over the rows of a batch. For strict functions
// the rows passed contain only rows where every argument is non-NULL.
type kernel func(ctx *EvalContext, args []*view, o *outVec, rows []int32) error

// funcDef is one registry entry.
type funcDef struct {
	name    string
	minArgs int
	maxArgs int // -1: variadic
	// resolve picks the result type and the types arguments are converted to.
	resolve func(args []types.Type) (ret types.Type, argTypes []types.Type, err error)
	eval    kernel
	// nullable: the kernel sees every row and handles NULL arguments itself.
	nullable bool
	// build replaces the generic call with a dedicated expression.
	build func(args []Expr) (Expr, error)
	// volatile functions (rand, now) are never constant-folded.
	volatile bool
}

// Function is a resolved scalar function: the definition plus the argument
// types its arguments are converted to.
type Function struct {
	def      *funcDef
	argTypes []types.Type
	ret      types.Type
}

// Name returns the function's canonical name.
func (f Function) Name() string { return f.def.name }

var registry = map[string]*funcDef{}

func register(names []string, d funcDef) {
	d.name = names[0]
	for _, n := range names {
		dd := d
		registry[n] = &dd
	}
}

// FunctionNames lists the registered scalar function names, sorted.
func FunctionNames() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// LookupFunction resolves a scalar function by name (case-insensitive) and
// argument types, returning it and its result type. Errors read like
// Doris's: "Unknown function 'x'" and "function x(...) does not accept ...".
func LookupFunction(name string, args []types.Type) (Function, types.Type, error) {
	d, ok := registry[strings.ToLower(name)]
	if !ok {
		return Function{}, types.Type{}, fmt.Errorf("Unknown function '%s'", name)
	}
	if len(args) < d.minArgs || d.maxArgs >= 0 && len(args) > d.maxArgs {
		return Function{}, types.Type{}, fmt.Errorf("function %s expects %s, got %d", d.name, argCountText(d), len(args))
	}
	ret, ats, err := d.resolve(args)
	if err != nil {
		return Function{}, types.Type{}, fmt.Errorf("function %s(%s): %w", d.name, typeList(args), err)
	}
	return Function{def: d, argTypes: ats, ret: ret}, ret, nil
}

func argCountText(d *funcDef) string {
	switch {
	case d.maxArgs < 0:
		return fmt.Sprintf("at least %d arguments", d.minArgs)
	case d.minArgs == d.maxArgs:
		return fmt.Sprintf("%d arguments", d.minArgs)
	}
	return fmt.Sprintf("%d to %d arguments", d.minArgs, d.maxArgs)
}

func typeList(ts []types.Type) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, ", ")
}

// FuncCall is a call of a resolved scalar function.
type FuncCall struct {
	Fn   Function
	Args []Expr
}

// NewFuncCall returns a call of fn (from [LookupFunction] with the types of
// args), converting the arguments to the types fn expects.
func NewFuncCall(fn Function, args []Expr) (Expr, error) {
	if fn.def == nil {
		panic("BUG: NewFuncCall with a zero Function")
	}
	conv := make([]Expr, len(args))
	for i, a := range args {
		conv[i] = a
		if i < len(fn.argTypes) && fn.argTypes[i].Kind != types.KindInvalid {
			if !objectArgFits(a, fn.argTypes[i]) {
				ts := make([]types.Type, len(args))
				for k, x := range args {
					ts[k] = x.Type()
				}
				// Doris's wording when no signature takes the arguments.
				return nil, fmt.Errorf("Can not find the compatibility function signature: %s(%s)", fn.def.name, typeList(ts))
			}
			conv[i] = coerceArg(a, fn.argTypes[i])
		}
	}
	if fn.def.build != nil {
		return fn.def.build(conv)
	}
	return &FuncCall{Fn: fn, Args: conv}, nil
}

// objectArgFits reports whether argument e may be passed where type want is
// expected as far as BITMAP and HLL go: they convert to and from nothing but
// themselves, except that a NULL literal is a NULL of any type.
func objectArgFits(e Expr, want types.Type) bool {
	et := e.Type()
	if !et.Kind.IsObject() && !want.Kind.IsObject() || et.Kind == want.Kind {
		return true
	}
	l, ok := e.(*Literal)
	return ok && l.Value == nil && !et.Kind.IsObject()
}

// coerceArg converts an argument, letting integer kinds through unchanged
// when an integer is wanted (they share the int64 view).
func coerceArg(e Expr, t types.Type) Expr {
	et := e.Type()
	if et.Kind.IsInteger() && et.Kind != types.KindLargeInt && t.Kind == types.KindBigInt {
		return e
	}
	if et.Kind.IsString() && t.Kind.IsString() {
		return e
	}
	return Coerce(e, t)
}

// Call resolves and builds a function call in one step.
func Call(name string, args ...Expr) (Expr, error) {
	ts := make([]types.Type, len(args))
	for i, a := range args {
		ts[i] = a.Type()
	}
	fn, _, err := LookupFunction(name, ts)
	if err != nil {
		return nil, err
	}
	return NewFuncCall(fn, args)
}

func (f *FuncCall) Type() types.Type { return f.Fn.ret }
func (f *FuncCall) String() string {
	parts := make([]string, len(f.Args))
	for i, a := range f.Args {
		parts[i] = a.String()
	}
	return f.Fn.def.name + "(" + strings.Join(parts, ", ") + ")"
}

func (f *FuncCall) Eval(ctx *EvalContext, b *Batch) (arrow.Array, error) {
	views := make([]*view, len(f.Args))
	rows := rowsOf(b)
	for i, a := range f.Args {
		v, err := evalView(ctx, a, b)
		if err != nil {
			return nil, err
		}
		views[i] = v
	}
	o := newOut(f.Fn.ret, b.Len)
	if !f.Fn.def.nullable {
		var live []int32
		for _, v := range views {
			if v.hasNulls() {
				if live == nil {
					live = make([]int32, 0, len(rows))
					for _, r := range rows {
						if !anyNull(views, int(r)) {
							live = append(live, r)
						}
					}
				}
				break
			}
		}
		if live != nil {
			rows = live
		}
	}
	if err := f.Fn.def.eval(ctx, views, o, rows); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Fn.def.name, err)
	}
	return o.finish(), nil
}

func anyNull(vs []*view, i int) bool {
	for _, v := range vs {
		if v.isNull(i) {
			return true
		}
	}
	return false
}

// --- resolve helpers ---

// sig returns a resolver with a fixed result type converting arguments to
// argTypes (the last one repeats for variadic functions).
func sig(ret types.Type, argTypes ...types.Type) func([]types.Type) (types.Type, []types.Type, error) {
	return func(args []types.Type) (types.Type, []types.Type, error) {
		out := make([]types.Type, len(args))
		for i := range args {
			if i < len(argTypes) {
				out[i] = argTypes[i]
			} else {
				out[i] = argTypes[len(argTypes)-1]
			}
		}
		return ret, out, nil
	}
}

// temporalArg1 accepts DATE or DATETIME (strings become DATETIME) as the
// first argument, and returns ret.
func temporalArg1(ret types.Type, rest ...types.Type) func([]types.Type) (types.Type, []types.Type, error) {
	return func(args []types.Type) (types.Type, []types.Type, error) {
		out := make([]types.Type, len(args))
		switch {
		case args[0].Kind.IsTemporal():
			out[0] = args[0]
		case args[0].Kind.IsString() || args[0].Kind.IsNumeric():
			out[0] = types.DateTime(6)
		default:
			return ret, nil, fmt.Errorf("expects a date or datetime, got %v", args[0])
		}
		for i := 1; i < len(args); i++ {
			out[i] = rest[min(i-1, len(rest)-1)]
		}
		return ret, out, nil
	}
}

func numericArg(args []types.Type) (types.Type, error) {
	t := args[0]
	switch {
	case t.Kind.IsInteger() || t.Kind == types.KindDecimal || isFloatKind(t.Kind):
		if t.Kind == types.KindFloat {
			return types.Double, nil
		}
		return t, nil
	case t.Kind == types.KindBoolean:
		return types.TinyInt, nil
	}
	return types.Double, nil
}

package planner

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/types"
)

// column is one output column of a plan node, with the names a query can
// refer to it by and the metadata the MySQL protocol reports for it.
type column struct {
	name     string // output name (alias, or the expression's source text)
	table    string // qualifier: the table alias or name, "" for computed columns
	db       string
	orgTable string
	orgName  string
	t        types.Type
	nullable bool
	// hidden columns are carried for ORDER BY but not returned.
	hidden bool
	// scanID and schemaIdx name the table column this is, for column
	// pruning; scanID is -1 for computed columns.
	scanID    int
	schemaIdx int
	// foldCase marks a system table's string column, which compares
	// case-insensitively as MySQL's information_schema (utf8_general_ci)
	// does: clients test IS_NULLABLE = 'yes'.
	foldCase bool
}

// scope resolves column references against the columns of a plan node.
type scope struct {
	cols []column
	// outer is consulted when a name is not found here (correlated
	// subqueries are not supported; outer stays nil for now).
	outer *scope
}

// resolve finds the column a reference names.
func (s *scope) resolve(ref *sql.ColumnRef) (int, error) {
	found := -1
	for i, c := range s.cols {
		if c.hidden {
			continue
		}
		if !strings.EqualFold(c.name, ref.Column) {
			continue
		}
		if ref.Table != "" && !strings.EqualFold(c.table, ref.Table) {
			continue
		}
		if ref.DB != "" && !strings.EqualFold(c.db, ref.DB) {
			continue
		}
		if found >= 0 {
			return -1, &Error{Code: ErrNonUniq, Msg: fmt.Sprintf("Column '%s' in field list is ambiguous", ref.Column)}
		}
		found = i
	}
	if found < 0 {
		return -1, &Error{Code: ErrBadField, Msg: fmt.Sprintf("Unknown column '%s' in 'field list'", refText(ref))}
	}
	return found, nil
}

func refText(ref *sql.ColumnRef) string {
	if ref.Table != "" {
		return ref.Table + "." + ref.Column
	}
	return ref.Column
}

// exprBinder binds AST expressions against a scope.
type exprBinder struct {
	p     *Planner
	scope *scope
	// Above an aggregation, groupKeys maps the EXPLAIN text of each bound
	// GROUP BY expression (over aggInput) to its column in scope, and
	// aggCalls maps the canonical text of each aggregate call to its column.
	aggInput  *scope
	groupKeys map[string]int
	aggCalls  map[string]int
	// aliases are select-list aliases that HAVING and ORDER BY may name.
	aliases map[string]sql.Expr
	// params are the values of ? placeholders (nil when preparing).
	params []any
}

// untypedNull marks the NULL literal, whose type is taken from its context.
var untypedNullType = types.Boolean

func (b *exprBinder) bind(e sql.Expr) (*ir, error) {
	if b.groupKeys != nil {
		if f, ok := e.(*sql.FuncCall); ok && isAggregate(f.Name) && f.Over == nil {
			idx, ok := b.aggCalls[canonical(e)]
			if !ok {
				return nil, fmt.Errorf("BUG: aggregate %s was not collected", e)
			}
			return colIR(idx, b.scope.cols[idx].t), nil
		}
		inner := &exprBinder{p: b.p, scope: b.aggInput, params: b.params}
		if x, err := inner.bind(e); err == nil && x.kind != irLit {
			if idx, ok := b.groupKeys[x.String()]; ok {
				return colIR(idx, b.scope.cols[idx].t), nil
			}
		}
		if x, ok := e.(*sql.ColumnRef); ok {
			// A bare column above an aggregation must be a group key.
			if _, err := b.aggInput.resolve(x); err != nil {
				if a, ok := b.aliases[strings.ToLower(x.Column)]; ok && x.Table == "" {
					inner := *b
					inner.aliases = nil
					return inner.bind(a)
				}
				return nil, err
			}
			return nil, &Error{Code: ErrWrongFieldWithGroup, Msg: fmt.Sprintf("'%s' must be an aggregate expression or appear in GROUP BY clause", refText(x))}
		}
	}
	switch x := e.(type) {
	case *sql.NullLit:
		return litIR(exec.NewLiteral(nil, untypedNullType)), nil
	case *sql.BoolLit:
		return litIR(exec.NewLiteral(x.Val, types.Boolean)), nil
	case *sql.IntLit:
		return intLiteral(x)
	case *sql.DecimalLit:
		return decimalLiteral(x.Text)
	case *sql.FloatLit:
		return litIR(exec.NewLiteral(x.Val, types.Double)), nil
	case *sql.StringLit:
		return stringLiteral(x.Val), nil
	case *sql.TypedLit:
		t := types.DateTime(0)
		if x.Type == "DATE" {
			t = types.Date
		} else if i := strings.IndexByte(x.Val, '.'); i >= 0 {
			t = types.DateTime(min(6, len(x.Val)-i-1))
		}
		l, err := exec.NewLiteralChecked(x.Val, t)
		if err != nil {
			return nil, &Error{Code: ErrWrongArguments, Msg: fmt.Sprintf("invalid %s literal '%s'", x.Type, x.Val)}
		}
		return litIR(l), nil
	case *sql.Placeholder:
		if b.params == nil || x.Index >= len(b.params) {
			// Preparing: bind as an untyped NULL so types resolve.
			return litIR(exec.NewLiteral(nil, untypedNullType)), nil
		}
		return paramLiteral(b.params[x.Index])
	case *sql.ColumnRef:
		idx, err := b.scope.resolve(x)
		if err != nil {
			if a, ok := b.aliases[strings.ToLower(x.Column)]; ok && x.Table == "" {
				inner := *b
				inner.aliases = nil
				return inner.bind(a)
			}
			return nil, err
		}
		b.p.markUsed(b.scope.cols[idx])
		return colIR(idx, b.scope.cols[idx].t), nil
	case *sql.UnaryExpr:
		return b.bindUnary(x)
	case *sql.BinaryExpr:
		return b.bindBinary(x)
	case *sql.IsExpr:
		arg, err := b.bind(x.X)
		if err != nil {
			return nil, err
		}
		switch x.What {
		case "NULL", "UNKNOWN":
			r, err := newCall("ISNULL", "IS NULL", []*ir{arg}, &callSpec{Kind: callIsNull, Not: x.Not})
			if r != nil {
				r.not = x.Not
			}
			return r, err
		case "TRUE", "FALSE":
			return newCall("", "IS "+x.What, []*ir{arg}, &callSpec{Kind: callIsBool, Want: x.What == "TRUE", Not: x.Not})
		}
		return nil, unsupported("IS " + x.What)
	case *sql.InExpr:
		if x.Query != nil {
			return nil, unsupported("IN (subquery)")
		}
		args := make([]*ir, 0, len(x.List)+1)
		arg, err := b.bind(x.X)
		if err != nil {
			return nil, err
		}
		args = append(args, arg)
		for _, it := range x.List {
			a, err := b.bind(it)
			if err != nil {
				return nil, err
			}
			args = append(args, a)
		}
		retypeNulls(args)
		if args, err = b.foldCase(args); err != nil {
			return nil, err
		}
		r, err := newCall("IN", "IN", args, &callSpec{Kind: callIn, Not: x.Not})
		if err != nil {
			return nil, typeError(err)
		}
		r.not = x.Not
		return r, nil
	case *sql.BetweenExpr:
		args, err := b.bindAll(x.X, x.Lo, x.Hi)
		if err != nil {
			return nil, err
		}
		retypeNulls(args)
		r, err := newCall("BETWEEN", "BETWEEN", args, &callSpec{Kind: callBetween, Not: x.Not})
		if err != nil {
			return nil, typeError(err)
		}
		r.not = x.Not
		return r, nil
	case *sql.LikeExpr:
		args, err := b.bindAll(x.X, x.Pattern)
		if err != nil {
			return nil, err
		}
		if x.Regexp {
			return wrapType(newCall("", "REGEXP", args, &callSpec{Kind: callRegexp, Not: x.Not}))
		}
		esc := byte('\\')
		if x.Escape != nil {
			s, ok := x.Escape.(*sql.StringLit)
			if !ok || len(s.Val) != 1 {
				return nil, &Error{Code: ErrWrongArguments, Msg: "Incorrect arguments to ESCAPE"}
			}
			esc = s.Val[0]
		}
		return wrapType(newCall("", "LIKE", args, &callSpec{Kind: callLike, Esc: esc, Not: x.Not}))
	case *sql.CaseExpr:
		return b.bindCase(x)
	case *sql.CastExpr:
		t, err := castTarget(x.Type)
		if err != nil {
			return nil, err
		}
		arg, err := b.bind(x.X)
		if err != nil {
			return nil, err
		}
		return wrapType(newCall("", "CAST", []*ir{arg}, &callSpec{Kind: callCast, Type: &t}))
	case *sql.ConvertUsingExpr:
		return b.bind(x.X)
	case *sql.CollateExpr:
		return b.bind(x.X)
	case *sql.IntervalExpr:
		return nil, &Error{Code: ErrParse, Msg: "INTERVAL is only allowed in date arithmetic"}
	case *sql.TrimExpr:
		return b.bindTrim(x)
	case *sql.ExtractExpr:
		arg, err := b.bind(x.X)
		if err != nil {
			return nil, err
		}
		return b.callFunction(strings.ToLower(x.Unit), []*ir{arg})
	case *sql.FuncCall:
		return b.bindFunc(x)
	case *sql.VarRef:
		return b.p.bindVariable(x)
	case *sql.SubqueryExpr:
		return nil, unsupported("scalar subqueries")
	case *sql.ExistsExpr:
		return nil, unsupported("EXISTS (subquery)")
	case *sql.TupleExpr:
		if len(x.Items) == 1 {
			return b.bind(x.Items[0])
		}
		return nil, unsupported("row constructors")
	case *sql.StarExpr:
		return nil, &Error{Code: ErrParse, Msg: "'*' is only allowed in the select list and COUNT(*)"}
	case *sql.DefaultExpr:
		return nil, unsupported("DEFAULT here")
	}
	return nil, unsupported(fmt.Sprintf("expression %s", e))
}

func (b *exprBinder) bindAll(es ...sql.Expr) ([]*ir, error) {
	out := make([]*ir, len(es))
	for i, e := range es {
		x, err := b.bind(e)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

func (b *exprBinder) bindUnary(x *sql.UnaryExpr) (*ir, error) {
	arg, err := b.bind(x.X)
	if err != nil {
		return nil, err
	}
	switch x.Op {
	case "-":
		if arg.kind == irLit {
			if folded, ok := negateLiteral(arg.lit); ok {
				return litIR(folded), nil
			}
		}
		return wrapType(newCall("", "-", []*ir{arg}, &callSpec{Kind: callNeg}))
	case "+", "BINARY":
		return arg, nil
	case "NOT":
		return newCall("NOT", "NOT", []*ir{arg}, &callSpec{Kind: callNot})
	}
	return nil, unsupported("operator " + x.Op)
}

var cmpOps = map[string]exec.CmpOp{"=": exec.CmpEQ, "!=": exec.CmpNE, "<": exec.CmpLT, "<=": exec.CmpLE, ">": exec.CmpGT, ">=": exec.CmpGE, "<=>": exec.CmpNullEQ}
var arithOps = map[string]exec.ArithOp{"+": exec.OpAdd, "-": exec.OpSub, "*": exec.OpMul, "/": exec.OpDiv, "%": exec.OpMod, "DIV": exec.OpIntDiv}

func (b *exprBinder) bindBinary(x *sql.BinaryExpr) (*ir, error) {
	// date +/- INTERVAL n unit
	if iv, ok := x.R.(*sql.IntervalExpr); ok && (x.Op == "+" || x.Op == "-") {
		return b.bindDateAdd(x.L, iv, x.Op == "-")
	}
	if iv, ok := x.L.(*sql.IntervalExpr); ok && x.Op == "+" {
		return b.bindDateAdd(x.R, iv, false)
	}
	args, err := b.bindAll(x.L, x.R)
	if err != nil {
		return nil, err
	}
	retypeNulls(args)
	switch x.Op {
	case "AND":
		return newCall("AND", "AND", args, &callSpec{Kind: callAnd})
	case "OR":
		return newCall("OR", "OR", args, &callSpec{Kind: callOr})
	case "XOR":
		return newCall("XOR", "XOR", args, &callSpec{Kind: callXor})
	}
	if _, ok := cmpOps[x.Op]; ok {
		if args, err = b.foldCase(args); err != nil {
			return nil, err
		}
		return wrapType(newCall(x.Op, x.Op, args, &callSpec{Kind: callCompare, Op: x.Op}))
	}
	if _, ok := arithOps[x.Op]; ok {
		return wrapType(newCall(x.Op, x.Op, args, &callSpec{Kind: callArith, Op: x.Op}))
	}
	switch x.Op {
	case "|":
		return b.callFunction("bitor", args)
	case "&":
		return b.callFunction("bitand", args)
	case "^":
		return b.callFunction("bitxor", args)
	}
	return nil, unsupported("operator " + x.Op)
}

func (b *exprBinder) bindDateAdd(d sql.Expr, iv *sql.IntervalExpr, sub bool) (*ir, error) {
	if _, err := exec.ParseIntervalUnit(iv.Unit); err != nil {
		return nil, &Error{Code: ErrWrongArguments, Msg: err.Error()}
	}
	args, err := b.bindAll(d, iv.Value)
	if err != nil {
		return nil, err
	}
	name := "DATE_ADD"
	if sub {
		name = "DATE_SUB"
	}
	return wrapType(newCall("", name, args, &callSpec{Kind: callDateAdd, Unit: strings.ToUpper(strings.TrimSpace(iv.Unit)), Sub: sub}))
}

func (b *exprBinder) bindCase(x *sql.CaseExpr) (*ir, error) {
	var args []*ir
	hasOperand := x.Operand != nil
	if hasOperand {
		op, err := b.bind(x.Operand)
		if err != nil {
			return nil, err
		}
		args = append(args, op)
	}
	for _, w := range x.Whens {
		c, err := b.bind(w.Cond)
		if err != nil {
			return nil, err
		}
		r, err := b.bind(w.Result)
		if err != nil {
			return nil, err
		}
		args = append(args, c, r)
	}
	hasElse := x.Else != nil
	if hasElse {
		e, err := b.bind(x.Else)
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	// Give NULL branches the type of the other results.
	var results []*ir
	start := 0
	if hasOperand {
		start = 1
	}
	for i := start; i+1 < len(args); i += 2 {
		results = append(results, args[i+1])
	}
	if hasElse {
		results = append(results, args[len(args)-1])
	}
	retypeNulls(results)
	return wrapType(newCall("", "CASE", args, &callSpec{Kind: callCase, Operand: hasOperand, Else: hasElse}))
}

func (b *exprBinder) bindTrim(x *sql.TrimExpr) (*ir, error) {
	arg, err := b.bind(x.X)
	if err != nil {
		return nil, err
	}
	name := "trim"
	switch x.Direction {
	case "LEADING":
		name = "ltrim"
	case "TRAILING":
		name = "rtrim"
	}
	args := []*ir{arg}
	if x.Remove != nil {
		rem, err := b.bind(x.Remove)
		if err != nil {
			return nil, err
		}
		args = append(args, rem)
	}
	return b.callFunction(name, args)
}

func (b *exprBinder) bindFunc(x *sql.FuncCall) (*ir, error) {
	name := strings.ToLower(x.Name)
	if x.Over != nil {
		return nil, unsupported("window functions")
	}
	if isAggregate(name) {
		return nil, &Error{Code: ErrInvalidGroupFunc, Msg: fmt.Sprintf("aggregate function %s is not allowed here", x.Name)}
	}
	switch name {
	case "date_add", "adddate", "date_sub", "subdate", "days_add", "days_sub":
		if len(x.Args) == 2 {
			sub := strings.Contains(name, "sub")
			if iv, ok := x.Args[1].(*sql.IntervalExpr); ok {
				return b.bindDateAdd(x.Args[0], iv, sub)
			}
			return b.bindDateAdd(x.Args[0], &sql.IntervalExpr{Value: x.Args[1], Unit: "DAY"}, sub)
		}
	case "database", "schema":
		if b.p.sess.CurrentDB() == "" {
			return litIR(exec.NewLiteral(nil, types.Varchar(64))), nil
		}
		return stringLiteral(b.p.sess.CurrentDB()), nil
	case "user", "current_user", "session_user", "system_user":
		return stringLiteral(b.p.sess.User()), nil
	case "connection_id":
		return litIR(exec.NewLiteral(int64(b.p.sess.ConnectionID()), types.BigInt)), nil
	case "version":
		return stringLiteral(b.p.sess.Variable("version")), nil
	case "last_insert_id", "found_rows", "row_count":
		return litIR(exec.NewLiteral(int64(0), types.BigInt)), nil
	}
	args := make([]*ir, len(x.Args))
	for i, a := range x.Args {
		if iv, ok := a.(*sql.IntervalExpr); ok {
			// Functions other than DATE_ADD do not take intervals.
			return nil, &Error{Code: ErrParse, Msg: fmt.Sprintf("function %s does not accept INTERVAL %s", x.Name, iv.Unit)}
		}
		v, err := b.bind(a)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	if name == "coalesce" || name == "ifnull" || name == "nvl" || name == "if" || name == "nullif" || name == "greatest" || name == "least" {
		if name == "if" && len(args) == 3 {
			retypeNulls(args[1:])
		} else {
			retypeNulls(args)
		}
	}
	return b.callFunction(name, args)
}

// callFunction resolves a scalar function through be/exec's registry.
func (b *exprBinder) callFunction(name string, args []*ir) (*ir, error) {
	argTypes := make([]types.Type, len(args))
	for i, a := range args {
		argTypes[i] = a.t
	}
	fn, _, err := exec.LookupFunction(name, argTypes)
	if err != nil {
		if strings.Contains(err.Error(), "Unknown function") {
			return nil, &Error{Code: ErrSPDoesNotExist, Msg: err.Error()}
		}
		return nil, typeError(err)
	}
	r, err := newCall(volatileOp(name), name, args, &callSpec{Kind: callFunc, Name: name, fn: &fn})
	return r, typeError(err)
}

func volatileOp(name string) string {
	switch name {
	case "rand", "random", "uuid", "now", "current_timestamp", "sysdate", "localtime", "localtimestamp", "curdate", "current_date", "curtime", "current_time", "unix_timestamp", "utc_timestamp":
		return "volatile"
	}
	return ""
}

// retypeNulls gives untyped NULL literals the type of the first typed
// sibling, as MySQL types NULL from its context.
func retypeNulls(args []*ir) {
	var t *types.Type
	for _, a := range args {
		if !isUntypedNull(a) {
			t = &a.t
			break
		}
	}
	if t == nil {
		return
	}
	for i, a := range args {
		if isUntypedNull(a) {
			args[i] = litIR(exec.NewLiteral(nil, *t))
		}
	}
}

func isUntypedNull(e *ir) bool {
	return e.kind == irLit && e.lit.IsNull() && e.t == untypedNullType
}

func wrapType(e *ir, err error) (*ir, error) { return e, typeError(err) }

// typeError turns an error from be/exec's constructors into a user error.
func typeError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*Error); ok {
		return err
	}
	if errors.Is(err, exec.ErrOnlyMetricType) {
		return errOnlyMetricType()
	}
	return &Error{Code: ErrWrongArguments, Msg: err.Error()}
}

// errOnlyMetricType is Doris's error for a BITMAP or HLL value compared,
// sorted, grouped on or made DISTINCT.
func errOnlyMetricType() error {
	return &Error{Code: ErrUnknown, Msg: exec.OnlyMetricTypeMsg}
}

func intLiteral(x *sql.IntLit) (*ir, error) {
	if !x.Big {
		v := x.Val
		t := types.BigInt
		switch {
		case v >= -128 && v <= 127:
			t = types.TinyInt
		case v >= -32768 && v <= 32767:
			t = types.SmallInt
		case v >= -2147483648 && v <= 2147483647:
			t = types.Int
		}
		return litIR(exec.NewLiteral(v, t)), nil
	}
	n, ok := new(big.Int).SetString(x.Text, 10)
	if !ok {
		return nil, &Error{Code: ErrParse, Msg: fmt.Sprintf("invalid integer literal %s", x.Text)}
	}
	if n.BitLen() <= 127 { // up to 2^127-1, the largest LARGEINT
		l, err := exec.NewLiteralChecked(n, types.LargeInt)
		if err == nil {
			return litIR(l), nil
		}
	}
	f, _ := new(big.Float).SetInt(n).Float64()
	return litIR(exec.NewLiteral(f, types.Double)), nil
}

func decimalLiteral(text string) (*ir, error) {
	s := strings.TrimLeft(text, "+-")
	intPart, frac, _ := strings.Cut(s, ".")
	intPart = strings.TrimLeft(intPart, "0")
	scale := len(frac)
	prec := max(len(intPart)+scale, 1)
	if prec > types.MaxDecimalPrecision {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, &Error{Code: ErrParse, Msg: fmt.Sprintf("invalid number %s", text)}
		}
		return litIR(exec.NewLiteral(f, types.Double)), nil
	}
	l, err := exec.NewLiteralChecked(text, types.Decimal(max(prec, scale), scale))
	if err != nil {
		return nil, &Error{Code: ErrParse, Msg: fmt.Sprintf("invalid number %s", text)}
	}
	return litIR(l), nil
}

func stringLiteral(s string) *ir {
	t := types.Varchar(max(len(s), 1))
	if len(s) > types.MaxVarcharLength {
		t = types.String
	}
	return litIR(exec.NewLiteral(s, t))
}

func negateLiteral(l *exec.Literal) (*exec.Literal, bool) {
	switch v := l.Value.(type) {
	case int64:
		if v == -v && v != 0 {
			return nil, false
		}
		t := l.T
		if t.Kind == types.KindTinyInt && v == 128 {
			t = types.SmallInt
		}
		return exec.NewLiteral(-v, t), true
	case float64:
		return exec.NewLiteral(-v, l.T), true
	}
	return nil, false
}

// paramLiteral types a prepared-statement argument.
func paramLiteral(v any) (*ir, error) {
	switch x := v.(type) {
	case nil:
		return litIR(exec.NewLiteral(nil, untypedNullType)), nil
	case int64:
		return litIR(exec.NewLiteral(x, types.BigInt)), nil
	case uint64:
		if x > 1<<63-1 {
			return litIR(exec.NewLiteral(new(big.Int).SetUint64(x), types.LargeInt)), nil
		}
		return litIR(exec.NewLiteral(int64(x), types.BigInt)), nil
	case float64:
		return litIR(exec.NewLiteral(x, types.Double)), nil
	case float32:
		return litIR(exec.NewLiteral(float64(x), types.Double)), nil
	case bool:
		return litIR(exec.NewLiteral(x, types.Boolean)), nil
	case string:
		return stringLiteral(x), nil
	case []byte:
		return stringLiteral(string(x)), nil
	}
	if t, ok := v.(interface{ Format(string) string }); ok {
		return stringLiteral(t.Format("2006-01-02 15:04:05.999999")), nil
	}
	return nil, &Error{Code: ErrWrongArguments, Msg: fmt.Sprintf("unsupported parameter type %T", v)}
}

// castTarget maps CAST's target type, including MySQL's SIGNED/UNSIGNED.
func castTarget(tn *sql.TypeName) (types.Type, error) {
	switch strings.ToUpper(tn.Name) {
	case "SIGNED", "SIGNED INTEGER", "INTEGER SIGNED":
		return types.BigInt, nil
	case "UNSIGNED", "UNSIGNED INTEGER":
		return types.LargeInt, nil
	case "CHAR", "NCHAR", "BINARY":
		return types.String, nil
	}
	t, err := tn.Resolve()
	if err != nil {
		return types.Type{}, &Error{Code: ErrNotSupportedYet, Msg: err.Error()}
	}
	if t.Kind == types.KindVarchar || t.Kind == types.KindChar {
		return types.String, nil
	}
	return t, nil
}

// canonical is the text that identifies an expression for GROUP BY
// matching and for sharing one aggregate among the places that name it.
// Names are case-insensitive, so they are lowered; string literals are
// kept as written (MIN('B') and MIN('b') are two aggregates). The text is
// sql's rendering: literals in single quotes with \' and \\ escapes,
// identifiers that need it in backquotes.
func canonical(e sql.Expr) string {
	s := e.String()
	if !strings.ContainsRune(s, '\'') {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	from, inIdent := 0, false // s[from:] is not yet written
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '`':
			inIdent = !inIdent
		case s[i] == '\'' && !inIdent:
			b.WriteString(strings.ToLower(s[from:i]))
			j := i + 1
			for ; j < len(s) && s[j] != '\''; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			j = min(j+1, len(s))
			b.WriteString(s[i:j])
			from, i = j, j-1
		}
	}
	b.WriteString(strings.ToLower(s[from:]))
	return b.String()
}

// foldCase lowers both sides of a string comparison one of whose sides
// is a case-insensitive system table column (see column.foldCase).
func (b *exprBinder) foldCase(args []*ir) ([]*ir, error) {
	ci := false
	for _, a := range args {
		if !a.t.Kind.IsString() {
			return args, nil
		}
		if a.kind == irCol && a.col < len(b.scope.cols) && b.scope.cols[a.col].foldCase {
			ci = true
		}
	}
	if !ci {
		return args, nil
	}
	out := make([]*ir, len(args))
	for i, a := range args {
		l, err := b.callFunction("lower", []*ir{a})
		if err != nil {
			return nil, err
		}
		out[i] = l
	}
	return out, nil
}

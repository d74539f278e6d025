package sql

import (
	"strconv"
	"strings"
)

// Node is any syntax tree node. String renders it back as SQL in a canonical
// form (keywords upper case, identifiers back-quoted only when needed).
type Node interface {
	String() string
	format(b *strings.Builder)
}

// Expr is an expression node.
type Expr interface {
	Node
	exprNode()
}

// NullLit is NULL.
type NullLit struct{}

// BoolLit is TRUE or FALSE.
type BoolLit struct{ Val bool }

// IntLit is an integer literal. Text is the digits as written; when they do
// not fit an int64, Big is set and Val is 0 (the binder types them as
// LARGEINT or DECIMAL from Text).
type IntLit struct {
	Text string
	Val  int64
	Big  bool
}

// DecimalLit is a fixed-point literal such as 1.50 (kept as text).
type DecimalLit struct{ Text string }

// FloatLit is a literal with an exponent such as 1.5e3.
type FloatLit struct {
	Text string
	Val  float64
}

// StringLit is a quoted string; Val is decoded (escapes applied, adjacent
// literals concatenated).
type StringLit struct {
	Val string
	// DoubleQuoted is set for "..." literals.
	DoubleQuoted bool
}

// HexLit is 0x1F or X'1F'; Digits holds the hex digits. BitLit is b'01'.
type HexLit struct{ Digits string }

// BitLit is b'0101' or 0b0101; Digits holds the binary digits.
type BitLit struct{ Digits string }

// TypedLit is DATE '...', TIME '...', TIMESTAMP '...' or DATETIME '...'.
type TypedLit struct {
	Type string // upper case: DATE, TIME, TIMESTAMP, DATETIME
	Val  string
}

// Placeholder is a ? parameter; Index counts from 0 in order of appearance.
type Placeholder struct{ Index int }

// DefaultExpr is DEFAULT in an INSERT value list or an UPDATE assignment.
type DefaultExpr struct{}

// MaxValue is MAXVALUE in a partition bound.
type MaxValue struct{}

// ColumnRef is a possibly qualified column name: c, t.c or db.t.c.
type ColumnRef struct {
	DB, Table, Column string
}

// StarExpr is * or t.* in a select list.
type StarExpr struct {
	DB, Table string
}

// UnaryExpr is a prefix operator. Op is one of "-", "+", "~", "NOT" (also
// for !) and "BINARY".
type UnaryExpr struct {
	Op string
	X  Expr
}

// BinaryExpr is an infix operator. Op is normalised: "OR" (also ||), "XOR",
// "AND" (also &&), "=", "<=>", "!=" (also <>), "<", "<=", ">", ">=", "|",
// "&", "<<", ">>", "+", "-", "*", "/", "DIV", "%" (also MOD), "^".
type BinaryExpr struct {
	Op   string
	L, R Expr
}

// IsExpr is x IS [NOT] NULL|TRUE|FALSE|UNKNOWN. What is upper case.
type IsExpr struct {
	X    Expr
	Not  bool
	What string
}

// InExpr is x [NOT] IN (list) or x [NOT] IN (subquery); exactly one of List
// and Query is set.
type InExpr struct {
	X     Expr
	Not   bool
	List  []Expr
	Query *SelectStmt
}

// BetweenExpr is x [NOT] BETWEEN lo AND hi.
type BetweenExpr struct {
	X, Lo, Hi Expr
	Not       bool
}

// LikeExpr is x [NOT] LIKE pattern [ESCAPE e], or with Regexp set
// x [NOT] REGEXP|RLIKE pattern.
type LikeExpr struct {
	X, Pattern Expr
	Escape     Expr // nil when absent
	Not        bool
	Regexp     bool
}

// When is one WHEN cond THEN result arm of a CASE.
type When struct {
	Cond, Result Expr
}

// CaseExpr is CASE [operand] WHEN ... THEN ... [ELSE ...] END.
type CaseExpr struct {
	Operand Expr // nil for the searched form
	Whens   []When
	Else    Expr // nil when absent
}

// CastExpr is CAST(x AS type), or CONVERT(x, type) with Convert set.
type CastExpr struct {
	X       Expr
	Type    *TypeName
	Convert bool
}

// ConvertUsingExpr is CONVERT(x USING charset).
type ConvertUsingExpr struct {
	X       Expr
	Charset string
}

// CollateExpr is x COLLATE name.
type CollateExpr struct {
	X         Expr
	Collation string
}

// IntervalExpr is INTERVAL value unit, as in DATE_ADD(d, INTERVAL 1 DAY) or
// d + INTERVAL 1 DAY. Unit is upper case (DAY, HOUR, YEAR_MONTH, ...).
type IntervalExpr struct {
	Value Expr
	Unit  string
}

// TrimExpr is TRIM([BOTH|LEADING|TRAILING] [remove] FROM x) or TRIM(x).
type TrimExpr struct {
	Direction string // "", "BOTH", "LEADING", "TRAILING"
	Remove    Expr   // nil when absent
	X         Expr
}

// ExtractExpr is EXTRACT(unit FROM x).
type ExtractExpr struct {
	Unit string
	X    Expr
}

// FuncCall is a function call f(args). Name is as written (case preserved);
// compare it case-insensitively. Aggregates may carry DISTINCT; COUNT(*) has
// Star set and no Args. GROUP_CONCAT may carry ORDER BY and SEPARATOR.
type FuncCall struct {
	Name      string
	Args      []Expr
	Distinct  bool
	Star      bool
	OrderBy   []*OrderItem
	Separator Expr
	// NoParens is set for niladic keywords such as CURRENT_TIMESTAMP.
	NoParens bool
	Over     *WindowSpec
}

// WindowSpec is the OVER (...) clause of a window function.
type WindowSpec struct {
	PartitionBy []Expr
	OrderBy     []*OrderItem
	Frame       *WindowFrame
}

// WindowFrame is ROWS|RANGE BETWEEN start AND end (or a single start bound).
type WindowFrame struct {
	Unit       string // ROWS or RANGE
	Start, End FrameBound
	HasEnd     bool
}

// FrameBound is UNBOUNDED PRECEDING, n PRECEDING, CURRENT ROW, n FOLLOWING or
// UNBOUNDED FOLLOWING. Kind is the upper-case words after the offset.
type FrameBound struct {
	Kind   string // "UNBOUNDED PRECEDING", "PRECEDING", "CURRENT ROW", "FOLLOWING", "UNBOUNDED FOLLOWING"
	Offset Expr   // for n PRECEDING / n FOLLOWING
}

// VarRef is @name (user variable) or @@[GLOBAL.|SESSION.]name (system).
type VarRef struct {
	Name   string
	System bool
	// Scope is "GLOBAL", "SESSION" or "" for system variables.
	Scope string
}

// SubqueryExpr is a scalar subquery (SELECT ...).
type SubqueryExpr struct{ Query *SelectStmt }

// ExistsExpr is EXISTS (subquery); NOT EXISTS is a UnaryExpr around it.
type ExistsExpr struct{ Query *SelectStmt }

// TupleExpr is a parenthesised list (a, b), as in (a, b) IN ((1, 2)).
type TupleExpr struct{ Items []Expr }

func (*NullLit) exprNode()          {}
func (*BoolLit) exprNode()          {}
func (*IntLit) exprNode()           {}
func (*DecimalLit) exprNode()       {}
func (*FloatLit) exprNode()         {}
func (*StringLit) exprNode()        {}
func (*HexLit) exprNode()           {}
func (*BitLit) exprNode()           {}
func (*TypedLit) exprNode()         {}
func (*Placeholder) exprNode()      {}
func (*DefaultExpr) exprNode()      {}
func (*MaxValue) exprNode()         {}
func (*ColumnRef) exprNode()        {}
func (*StarExpr) exprNode()         {}
func (*UnaryExpr) exprNode()        {}
func (*BinaryExpr) exprNode()       {}
func (*IsExpr) exprNode()           {}
func (*InExpr) exprNode()           {}
func (*BetweenExpr) exprNode()      {}
func (*LikeExpr) exprNode()         {}
func (*CaseExpr) exprNode()         {}
func (*CastExpr) exprNode()         {}
func (*ConvertUsingExpr) exprNode() {}
func (*CollateExpr) exprNode()      {}
func (*IntervalExpr) exprNode()     {}
func (*TrimExpr) exprNode()         {}
func (*ExtractExpr) exprNode()      {}
func (*FuncCall) exprNode()         {}
func (*VarRef) exprNode()           {}
func (*SubqueryExpr) exprNode()     {}
func (*ExistsExpr) exprNode()       {}
func (*TupleExpr) exprNode()        {}

// ---- formatting ----

func nodeString(n Node) string {
	var b strings.Builder
	n.format(&b)
	return b.String()
}

func (e *NullLit) String() string          { return nodeString(e) }
func (e *BoolLit) String() string          { return nodeString(e) }
func (e *IntLit) String() string           { return nodeString(e) }
func (e *DecimalLit) String() string       { return nodeString(e) }
func (e *FloatLit) String() string         { return nodeString(e) }
func (e *StringLit) String() string        { return nodeString(e) }
func (e *HexLit) String() string           { return nodeString(e) }
func (e *BitLit) String() string           { return nodeString(e) }
func (e *TypedLit) String() string         { return nodeString(e) }
func (e *Placeholder) String() string      { return nodeString(e) }
func (e *DefaultExpr) String() string      { return nodeString(e) }
func (e *MaxValue) String() string         { return nodeString(e) }
func (e *ColumnRef) String() string        { return nodeString(e) }
func (e *StarExpr) String() string         { return nodeString(e) }
func (e *UnaryExpr) String() string        { return nodeString(e) }
func (e *BinaryExpr) String() string       { return nodeString(e) }
func (e *IsExpr) String() string           { return nodeString(e) }
func (e *InExpr) String() string           { return nodeString(e) }
func (e *BetweenExpr) String() string      { return nodeString(e) }
func (e *LikeExpr) String() string         { return nodeString(e) }
func (e *CaseExpr) String() string         { return nodeString(e) }
func (e *CastExpr) String() string         { return nodeString(e) }
func (e *ConvertUsingExpr) String() string { return nodeString(e) }
func (e *CollateExpr) String() string      { return nodeString(e) }
func (e *IntervalExpr) String() string     { return nodeString(e) }
func (e *TrimExpr) String() string         { return nodeString(e) }
func (e *ExtractExpr) String() string      { return nodeString(e) }
func (e *FuncCall) String() string         { return nodeString(e) }
func (e *VarRef) String() string           { return nodeString(e) }
func (e *SubqueryExpr) String() string     { return nodeString(e) }
func (e *ExistsExpr) String() string       { return nodeString(e) }
func (e *TupleExpr) String() string        { return nodeString(e) }

func (*NullLit) format(b *strings.Builder) { b.WriteString("NULL") }

func (e *BoolLit) format(b *strings.Builder) {
	if e.Val {
		b.WriteString("TRUE")
	} else {
		b.WriteString("FALSE")
	}
}

func (e *IntLit) format(b *strings.Builder)     { b.WriteString(e.Text) }
func (e *DecimalLit) format(b *strings.Builder) { b.WriteString(e.Text) }
func (e *FloatLit) format(b *strings.Builder)   { b.WriteString(e.Text) }

func (e *StringLit) format(b *strings.Builder) { writeQuoted(b, e.Val, '\'') }

// QuoteString renders s as a single-quoted SQL string literal.
func QuoteString(s string) string {
	var b strings.Builder
	writeQuoted(&b, s, '\'')
	return b.String()
}

func writeQuoted(b *strings.Builder, s string, q byte) {
	b.WriteByte(q)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case q:
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\\':
			// \% and \_ were kept escaped by the lexer; keep them as they are.
			if i+1 < len(s) && (s[i+1] == '%' || s[i+1] == '_') {
				b.WriteByte('\\')
			} else {
				b.WriteString(`\\`)
			}
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 26:
			b.WriteString(`\Z`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
}

func (e *HexLit) format(b *strings.Builder) { b.WriteString("0x" + e.Digits) }
func (e *BitLit) format(b *strings.Builder) { b.WriteString("b'" + e.Digits + "'") }

func (e *TypedLit) format(b *strings.Builder) {
	b.WriteString(e.Type)
	b.WriteByte(' ')
	writeQuoted(b, e.Val, '\'')
}

func (*Placeholder) format(b *strings.Builder) { b.WriteByte('?') }
func (*DefaultExpr) format(b *strings.Builder) { b.WriteString("DEFAULT") }
func (*MaxValue) format(b *strings.Builder)    { b.WriteString("MAXVALUE") }

func (e *ColumnRef) format(b *strings.Builder) {
	if e.DB != "" {
		writeIdent(b, e.DB)
		b.WriteByte('.')
	}
	if e.Table != "" {
		writeIdent(b, e.Table)
		b.WriteByte('.')
	}
	writeIdent(b, e.Column)
}

func (e *StarExpr) format(b *strings.Builder) {
	if e.DB != "" {
		writeIdent(b, e.DB)
		b.WriteByte('.')
	}
	if e.Table != "" {
		writeIdent(b, e.Table)
		b.WriteByte('.')
	}
	b.WriteByte('*')
}

// QuoteIdent returns name back-quoted when it is not a plain identifier.
func QuoteIdent(name string) string {
	var b strings.Builder
	writeIdent(&b, name)
	return b.String()
}

func writeIdent(b *strings.Builder, name string) {
	plain := name != "" && !isReserved(name)
	for i := 0; i < len(name) && plain; i++ {
		if !isIdentChar(name[i]) {
			plain = false
		}
	}
	if plain && isDigit(name[0]) {
		plain = false
	}
	if plain {
		b.WriteString(name)
		return
	}
	b.WriteByte('`')
	b.WriteString(strings.ReplaceAll(name, "`", "``"))
	b.WriteByte('`')
}

// Operand wrapping: binary operands are parenthesised when they are
// themselves operators, which keeps the canonical text unambiguous.
func formatOperand(b *strings.Builder, e Expr) {
	switch e.(type) {
	case *BinaryExpr, *IsExpr, *InExpr, *BetweenExpr, *LikeExpr, *UnaryExpr, *CollateExpr:
		b.WriteByte('(')
		e.format(b)
		b.WriteByte(')')
	default:
		e.format(b)
	}
}

func (e *UnaryExpr) format(b *strings.Builder) {
	switch e.Op {
	case "NOT", "BINARY":
		b.WriteString(e.Op)
		b.WriteByte(' ')
	default:
		b.WriteString(e.Op)
	}
	formatOperand(b, e.X)
}

func (e *BinaryExpr) format(b *strings.Builder) {
	formatOperand(b, e.L)
	b.WriteByte(' ')
	b.WriteString(e.Op)
	b.WriteByte(' ')
	formatOperand(b, e.R)
}

func (e *IsExpr) format(b *strings.Builder) {
	formatOperand(b, e.X)
	b.WriteString(" IS ")
	if e.Not {
		b.WriteString("NOT ")
	}
	b.WriteString(e.What)
}

func (e *InExpr) format(b *strings.Builder) {
	formatOperand(b, e.X)
	if e.Not {
		b.WriteString(" NOT")
	}
	b.WriteString(" IN (")
	if e.Query != nil {
		e.Query.format(b)
	} else {
		formatExprList(b, e.List)
	}
	b.WriteByte(')')
}

func formatExprList(b *strings.Builder, list []Expr) {
	for i, x := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		x.format(b)
	}
}

func (e *BetweenExpr) format(b *strings.Builder) {
	formatOperand(b, e.X)
	if e.Not {
		b.WriteString(" NOT")
	}
	b.WriteString(" BETWEEN ")
	formatOperand(b, e.Lo)
	b.WriteString(" AND ")
	formatOperand(b, e.Hi)
}

func (e *LikeExpr) format(b *strings.Builder) {
	formatOperand(b, e.X)
	if e.Not {
		b.WriteString(" NOT")
	}
	if e.Regexp {
		b.WriteString(" REGEXP ")
	} else {
		b.WriteString(" LIKE ")
	}
	formatOperand(b, e.Pattern)
	if e.Escape != nil {
		b.WriteString(" ESCAPE ")
		formatOperand(b, e.Escape)
	}
}

func (e *CaseExpr) format(b *strings.Builder) {
	b.WriteString("CASE")
	if e.Operand != nil {
		b.WriteByte(' ')
		e.Operand.format(b)
	}
	for _, w := range e.Whens {
		b.WriteString(" WHEN ")
		w.Cond.format(b)
		b.WriteString(" THEN ")
		w.Result.format(b)
	}
	if e.Else != nil {
		b.WriteString(" ELSE ")
		e.Else.format(b)
	}
	b.WriteString(" END")
}

func (e *CastExpr) format(b *strings.Builder) {
	if e.Convert {
		b.WriteString("CONVERT(")
		e.X.format(b)
		b.WriteString(", ")
	} else {
		b.WriteString("CAST(")
		e.X.format(b)
		b.WriteString(" AS ")
	}
	e.Type.format(b)
	b.WriteByte(')')
}

func (e *ConvertUsingExpr) format(b *strings.Builder) {
	b.WriteString("CONVERT(")
	e.X.format(b)
	b.WriteString(" USING ")
	writeIdent(b, e.Charset)
	b.WriteByte(')')
}

func (e *CollateExpr) format(b *strings.Builder) {
	formatOperand(b, e.X)
	b.WriteString(" COLLATE ")
	writeIdent(b, e.Collation)
}

func (e *IntervalExpr) format(b *strings.Builder) {
	b.WriteString("INTERVAL ")
	formatOperand(b, e.Value)
	b.WriteByte(' ')
	b.WriteString(e.Unit)
}

func (e *TrimExpr) format(b *strings.Builder) {
	b.WriteString("TRIM(")
	if e.Direction != "" {
		b.WriteString(e.Direction)
		b.WriteByte(' ')
	}
	if e.Remove != nil {
		e.Remove.format(b)
		b.WriteByte(' ')
	}
	if e.Direction != "" || e.Remove != nil {
		b.WriteString("FROM ")
	}
	e.X.format(b)
	b.WriteByte(')')
}

func (e *ExtractExpr) format(b *strings.Builder) {
	b.WriteString("EXTRACT(")
	b.WriteString(e.Unit)
	b.WriteString(" FROM ")
	e.X.format(b)
	b.WriteByte(')')
}

func (e *FuncCall) format(b *strings.Builder) {
	b.WriteString(e.Name)
	if e.NoParens {
		return
	}
	b.WriteByte('(')
	if e.Distinct {
		b.WriteString("DISTINCT ")
	}
	if e.Star {
		b.WriteByte('*')
	}
	formatExprList(b, e.Args)
	if len(e.OrderBy) > 0 {
		b.WriteString(" ORDER BY ")
		formatOrderBy(b, e.OrderBy)
	}
	if e.Separator != nil {
		b.WriteString(" SEPARATOR ")
		e.Separator.format(b)
	}
	b.WriteByte(')')
	if e.Over != nil {
		b.WriteString(" OVER (")
		e.Over.format(b)
		b.WriteByte(')')
	}
}

func (w *WindowSpec) format(b *strings.Builder) {
	sep := ""
	if len(w.PartitionBy) > 0 {
		b.WriteString("PARTITION BY ")
		formatExprList(b, w.PartitionBy)
		sep = " "
	}
	if len(w.OrderBy) > 0 {
		b.WriteString(sep)
		b.WriteString("ORDER BY ")
		formatOrderBy(b, w.OrderBy)
		sep = " "
	}
	if f := w.Frame; f != nil {
		b.WriteString(sep)
		b.WriteString(f.Unit)
		if f.HasEnd {
			b.WriteString(" BETWEEN ")
			f.Start.format(b)
			b.WriteString(" AND ")
			f.End.format(b)
		} else {
			b.WriteByte(' ')
			f.Start.format(b)
		}
	}
}

func (fb *FrameBound) format(b *strings.Builder) {
	if fb.Offset != nil {
		fb.Offset.format(b)
		b.WriteByte(' ')
	}
	b.WriteString(fb.Kind)
}

func (e *VarRef) format(b *strings.Builder) {
	if !e.System {
		b.WriteByte('@')
		plain := e.Name != ""
		for i := 0; i < len(e.Name) && plain; i++ {
			plain = isIdentChar(e.Name[i])
		}
		if plain {
			b.WriteString(e.Name)
		} else {
			b.WriteByte('`')
			b.WriteString(strings.ReplaceAll(e.Name, "`", "``"))
			b.WriteByte('`')
		}
		return
	}
	b.WriteString("@@")
	if e.Scope != "" {
		b.WriteString(strings.ToLower(e.Scope))
		b.WriteByte('.')
	}
	b.WriteString(e.Name)
}

func (e *SubqueryExpr) format(b *strings.Builder) {
	b.WriteByte('(')
	e.Query.format(b)
	b.WriteByte(')')
}

func (e *ExistsExpr) format(b *strings.Builder) {
	b.WriteString("EXISTS (")
	e.Query.format(b)
	b.WriteByte(')')
}

func (e *TupleExpr) format(b *strings.Builder) {
	b.WriteByte('(')
	formatExprList(b, e.Items)
	b.WriteByte(')')
}

// newIntLit builds an IntLit from its digits.
func newIntLit(text string) *IntLit {
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return &IntLit{Text: text, Big: true}
	}
	return &IntLit{Text: text, Val: v}
}

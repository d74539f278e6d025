package sql

import (
	"strconv"
	"strings"
)

// parseExpr parses a full expression (OR level).
func (p *parser) parseExpr() Expr {
	p.enter()
	defer p.leave()
	left := p.parseXor()
	for p.isKw("OR") || p.isOp("||") {
		p.i++
		left = &BinaryExpr{Op: "OR", L: left, R: p.parseXor()}
	}
	return left
}

func (p *parser) parseXor() Expr {
	left := p.parseAnd()
	for p.acceptKw("XOR") {
		left = &BinaryExpr{Op: "XOR", L: left, R: p.parseAnd()}
	}
	return left
}

func (p *parser) parseAnd() Expr {
	left := p.parseNot()
	for p.isKw("AND") || p.isOp("&&") {
		p.i++
		left = &BinaryExpr{Op: "AND", L: left, R: p.parseNot()}
	}
	return left
}

func (p *parser) parseNot() Expr {
	p.enter()
	defer p.leave()
	if p.isKw("NOT") && !p.isKwAt(1, "EXISTS") {
		p.i++
		return &UnaryExpr{Op: "NOT", X: p.parseNot()}
	}
	return p.parsePredicate()
}

var comparisonOps = map[string]string{
	"=": "=", "<=>": "<=>", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
}

// parsePredicate parses comparisons, IS, IN, BETWEEN, LIKE and REGEXP.
func (p *parser) parsePredicate() Expr {
	left := p.parseBinary(0)
	for {
		t := p.tok()
		if t.kind == tokOp {
			op, ok := comparisonOps[t.val]
			if !ok {
				return left
			}
			p.i++
			if p.isAnyKw("ANY", "ALL", "SOME") && p.isOpAt(1, "(") {
				p.unsupported("ANY/ALL subquery comparison")
			}
			left = &BinaryExpr{Op: op, L: left, R: p.parseBinary(0)}
			continue
		}
		if t.kind != tokIdent {
			return left
		}
		not := false
		save := p.i
		if p.isKw("NOT") {
			not = true
			p.i++
		}
		switch {
		case p.acceptKw("IS"):
			if not {
				p.i = save
				return left
			}
			is := &IsExpr{X: left}
			is.Not = p.acceptKw("NOT")
			switch {
			case p.acceptKw("NULL"):
				is.What = "NULL"
			case p.acceptKw("TRUE"):
				is.What = "TRUE"
			case p.acceptKw("FALSE"):
				is.What = "FALSE"
			case p.acceptKw("UNKNOWN"):
				is.What = "UNKNOWN"
			default:
				p.fail("expected NULL, TRUE, FALSE or UNKNOWN")
			}
			left = is
		case p.acceptKw("IN"):
			in := &InExpr{X: left, Not: not}
			p.expectOp("(")
			if p.startsQuery() {
				in.Query = p.parseSelectStmt()
			} else {
				in.List = p.parseExprList()
			}
			p.expectOp(")")
			left = in
		case p.acceptKw("BETWEEN"):
			lo := p.parseBinary(0)
			p.expectKw("AND")
			hi := p.parseBinary(0)
			left = &BetweenExpr{X: left, Lo: lo, Hi: hi, Not: not}
		case p.acceptKw("LIKE"):
			like := &LikeExpr{X: left, Not: not, Pattern: p.parseBinary(0)}
			if p.acceptKw("ESCAPE") {
				like.Escape = p.parseUnary()
			}
			left = like
		case p.acceptKw("REGEXP"), p.acceptKw("RLIKE"):
			left = &LikeExpr{X: left, Not: not, Regexp: true, Pattern: p.parseBinary(0)}
		default:
			p.i = save
			return left
		}
	}
}

// binaryLevels lists the bit and arithmetic operators from lowest to
// highest precedence.
var binaryLevels = [...][]string{
	{"|"},
	{"&"},
	{"<<", ">>"},
	{"+", "-"},
	{"*", "/", "%", "DIV", "MOD"},
	{"^"},
}

// binaryLevel classifies a token for binaryOpAt: 1 + its level in
// binaryLevels, or 0.
func binaryLevel(t *token) int8 {
	switch t.kind {
	case tokOp:
		for level, ops := range binaryLevels {
			for _, op := range ops {
				if t.val == op {
					return int8(level + 1)
				}
			}
		}
	case tokIdent:
		if len(t.val) == 3 && (strings.EqualFold(t.val, "DIV") || strings.EqualFold(t.val, "MOD")) {
			return mulLevel + 1
		}
	}
	return 0
}

// mulLevel is the level of * / % DIV MOD in binaryLevels.
const mulLevel = 4

// binaryOpAt returns the normalised operator at the current token if it
// belongs to the given precedence level.
func (p *parser) binaryOpAt(level int) (string, bool) {
	t := p.tok()
	if int(t.bin) != level+1 {
		return "", false
	}
	if t.kind == tokIdent {
		if strings.EqualFold(t.val, "MOD") {
			return "%", true
		}
		return "DIV", true
	}
	return t.val, true
}

func (p *parser) parseBinary(level int) Expr {
	if level == len(binaryLevels) {
		return p.parseUnary()
	}
	left := p.parseBinary(level + 1)
	for {
		op, ok := p.binaryOpAt(level)
		if !ok {
			return left
		}
		p.i++
		left = &BinaryExpr{Op: op, L: left, R: p.parseBinary(level + 1)}
	}
}

func (p *parser) parseUnary() Expr {
	p.enter()
	defer p.leave()
	t := p.tok()
	if t.kind == tokOp {
		switch t.val {
		case "-":
			p.i++
			return &UnaryExpr{Op: "-", X: p.parseUnary()}
		case "+":
			p.i++
			return p.parseUnary()
		case "~":
			p.i++
			return &UnaryExpr{Op: "~", X: p.parseUnary()}
		case "!":
			p.i++
			return &UnaryExpr{Op: "NOT", X: p.parseUnary()}
		}
	}
	if p.isKw("BINARY") && !p.isOpAt(1, ")") && !p.isOpAt(1, ",") && p.peekAt(1).kind != tokEOF {
		p.i++
		return &UnaryExpr{Op: "BINARY", X: p.parseUnary()}
	}
	e := p.parsePrimary()
	for p.acceptKw("COLLATE") {
		e = &CollateExpr{X: e, Collation: p.identOrString()}
	}
	return e
}

// startsQuery reports whether the tokens at the cursor begin a query,
// looking through opening parentheses.
func (p *parser) startsQuery() bool {
	n := 0
	for p.isOpAt(n, "(") {
		n++
	}
	return p.isKwAt(n, "SELECT") || p.isKwAt(n, "WITH")
}

func (p *parser) parseExprList() []Expr {
	list := []Expr{p.parseExpr()}
	for p.acceptOp(",") {
		list = append(list, p.parseExpr())
	}
	return list
}

func (p *parser) parsePrimary() Expr {
	t := p.tok()
	switch t.kind {
	case tokInt:
		p.i++
		return newIntLit(t.val)
	case tokDecimal:
		p.i++
		return &DecimalLit{Text: t.val}
	case tokFloat:
		p.i++
		v, err := strconv.ParseFloat(t.val, 64)
		if err != nil {
			// Out of range: keep the text; the binder reports it.
			return &FloatLit{Text: t.val}
		}
		return &FloatLit{Text: t.val, Val: v}
	case tokString, tokDQString:
		return p.parseStringLit()
	case tokHex:
		p.i++
		return &HexLit{Digits: t.val}
	case tokBit:
		p.i++
		return &BitLit{Digits: t.val}
	case tokParam:
		p.i++
		ph := &Placeholder{Index: p.params}
		p.params++
		return ph
	case tokUserVar:
		p.i++
		return &VarRef{Name: t.val}
	case tokSysVar:
		p.i++
		return sysVarRef(t.val)
	case tokQuotedID:
		return p.parseNameExpr()
	case tokOp:
		if t.val == "(" {
			p.i++
			if p.startsQuery() {
				q := p.parseSelectStmt()
				p.expectOp(")")
				return &SubqueryExpr{Query: q}
			}
			list := p.parseExprList()
			p.expectOp(")")
			if len(list) == 1 {
				return list[0]
			}
			return &TupleExpr{Items: list}
		}
		p.fail("expected expression")
	case tokIdent:
		return p.parseWordExpr()
	}
	p.fail("expected expression")
	return nil
}

// parseStringLit parses one or more adjacent string literals ('a' 'b' is 'ab').
func (p *parser) parseStringLit() Expr {
	t := p.advance()
	lit := &StringLit{Val: t.val, DoubleQuoted: t.kind == tokDQString}
	for k := p.tok().kind; k == tokString || k == tokDQString; k = p.tok().kind {
		lit.Val += p.advance().val
	}
	return lit
}

func sysVarRef(raw string) *VarRef {
	v := &VarRef{System: true, Name: raw}
	if dot := strings.IndexByte(raw, '.'); dot > 0 {
		switch scope := strings.ToUpper(raw[:dot]); scope {
		case "GLOBAL", "SESSION":
			v.Scope, v.Name = scope, raw[dot+1:]
		case "LOCAL":
			v.Scope, v.Name = "SESSION", raw[dot+1:]
		}
	}
	return v
}

// parseWordExpr parses an expression that starts with a bare word: a
// keyword construct, a literal keyword, a function call or a column.
func (p *parser) parseWordExpr() Expr {
	t := p.tok()
	upper := strings.ToUpper(t.val)
	next := p.peekAt(1)
	call := next.kind == tokOp && next.val == "("
	switch upper {
	case "NULL":
		p.i++
		return &NullLit{}
	case "TRUE":
		p.i++
		return &BoolLit{Val: true}
	case "FALSE":
		p.i++
		return &BoolLit{Val: false}
	case "DEFAULT":
		if !call {
			p.i++
			return &DefaultExpr{}
		}
	case "MAXVALUE":
		if !call {
			p.i++
			return &MaxValue{}
		}
	case "CASE":
		return p.parseCase()
	case "EXISTS":
		p.i++
		p.expectOp("(")
		q := p.parseSelectStmt()
		p.expectOp(")")
		return &ExistsExpr{Query: q}
	case "NOT":
		if p.isKwAt(1, "EXISTS") {
			p.i++
			return &UnaryExpr{Op: "NOT", X: p.parseWordExpr()}
		}
	case "INTERVAL":
		p.i++
		v := p.parseBinary(0)
		return &IntervalExpr{Value: v, Unit: p.intervalUnit()}
	case "DATE", "TIME", "TIMESTAMP", "DATETIME":
		if k := next.kind; k == tokString || k == tokDQString {
			p.i++
			return &TypedLit{Type: upper, Val: p.advance().val}
		}
	}
	if call {
		switch upper {
		case "CAST":
			return p.parseCast()
		case "CONVERT":
			return p.parseConvert()
		case "TRIM":
			return p.parseTrim()
		case "EXTRACT":
			return p.parseExtract()
		case "TIMESTAMPDIFF", "TIMESTAMPADD":
			return p.parseTimestampFunc(upper)
		}
		if !isReserved(t.val) || upper == "LEFT" || upper == "RIGHT" || upper == "MOD" || upper == "INSERT" ||
			upper == "IF" || upper == "REPLACE" || upper == "VALUES" {
			return p.parseFuncCall()
		}
	}
	if niladicFuncs[upper] {
		p.i++
		return &FuncCall{Name: t.val, NoParens: true}
	}
	return p.parseNameExpr()
}

// parseNameExpr parses a column reference c, t.c or db.t.c.
func (p *parser) parseNameExpr() Expr {
	parts := [3]string{p.ident()}
	n := 1
	for p.isOp(".") && n < 3 {
		p.i++
		parts[n] = p.anyName()
		n++
	}
	switch n {
	case 1:
		return &ColumnRef{Column: parts[0]}
	case 2:
		return &ColumnRef{Table: parts[0], Column: parts[1]}
	default:
		if p.isOp(".") {
			p.fail("too many name qualifiers")
		}
		return &ColumnRef{DB: parts[0], Table: parts[1], Column: parts[2]}
	}
}

func (p *parser) intervalUnit() string {
	t := p.tok()
	if t.kind == tokIdent {
		u := strings.ToUpper(t.val)
		if intervalUnits[u] {
			p.i++
			return u
		}
	}
	p.fail("expected interval unit")
	return ""
}

func (p *parser) parseCase() Expr {
	p.expectKw("CASE")
	c := &CaseExpr{}
	if !p.isKw("WHEN") {
		c.Operand = p.parseExpr()
	}
	for p.acceptKw("WHEN") {
		cond := p.parseExpr()
		p.expectKw("THEN")
		c.Whens = append(c.Whens, When{Cond: cond, Result: p.parseExpr()})
	}
	if len(c.Whens) == 0 {
		p.fail("expected WHEN")
	}
	if p.acceptKw("ELSE") {
		c.Else = p.parseExpr()
	}
	p.expectKw("END")
	return c
}

func (p *parser) parseCast() Expr {
	p.i += 2 // CAST (
	x := p.parseExpr()
	p.expectKw("AS")
	ty := p.parseCastType()
	p.expectOp(")")
	return &CastExpr{X: x, Type: ty}
}

func (p *parser) parseConvert() Expr {
	p.i += 2 // CONVERT (
	x := p.parseExpr()
	if p.acceptKw("USING") {
		cs := p.identOrString()
		p.expectOp(")")
		return &ConvertUsingExpr{X: x, Charset: cs}
	}
	p.expectOp(",")
	ty := p.parseCastType()
	p.expectOp(")")
	return &CastExpr{X: x, Type: ty, Convert: true}
}

// parseCastType parses a CAST/CONVERT target, including MySQL's
// SIGNED/UNSIGNED [INTEGER].
func (p *parser) parseCastType() *TypeName {
	if p.isKw("SIGNED") || p.isKw("UNSIGNED") {
		name := strings.ToUpper(p.advance().val)
		if !p.acceptKw("INTEGER") {
			p.acceptKw("INT")
		}
		return &TypeName{Name: name}
	}
	ty := p.parseTypeName()
	if p.acceptKws("CHARACTER", "SET") || p.acceptKw("CHARSET") {
		p.identOrString()
	}
	return ty
}

func (p *parser) parseTrim() Expr {
	p.i += 2 // TRIM (
	tr := &TrimExpr{}
	switch {
	case p.acceptKw("BOTH"):
		tr.Direction = "BOTH"
	case p.acceptKw("LEADING"):
		tr.Direction = "LEADING"
	case p.acceptKw("TRAILING"):
		tr.Direction = "TRAILING"
	}
	if tr.Direction != "" && p.acceptKw("FROM") {
		tr.X = p.parseExpr()
	} else {
		first := p.parseExpr()
		if p.acceptKw("FROM") {
			tr.Remove = first
			tr.X = p.parseExpr()
		} else if tr.Direction != "" {
			p.fail("expected FROM")
		} else {
			tr.X = first
		}
	}
	p.expectOp(")")
	return tr
}

func (p *parser) parseExtract() Expr {
	p.i += 2 // EXTRACT (
	unit := p.intervalUnit()
	p.expectKw("FROM")
	x := p.parseExpr()
	p.expectOp(")")
	return &ExtractExpr{Unit: unit, X: x}
}

// parseTimestampFunc parses TIMESTAMPDIFF(unit, a, b), which becomes
// Doris's <unit>s_diff(b, a), and TIMESTAMPADD(unit, n, x), which becomes
// date_add(x, n, 'unit').
func (p *parser) parseTimestampFunc(name string) Expr {
	p.i += 2 // name (
	unit := p.intervalUnit()
	p.expectOp(",")
	a := p.parseExpr()
	p.expectOp(",")
	b := p.parseExpr()
	p.expectOp(")")
	if name == "TIMESTAMPADD" {
		return &FuncCall{Name: "date_add", Args: []Expr{b, a, &StringLit{Val: unit}}}
	}
	diff := map[string]string{"YEAR": "years_diff", "QUARTER": "quarters_diff", "MONTH": "months_diff",
		"WEEK": "weeks_diff", "DAY": "days_diff", "HOUR": "hours_diff", "MINUTE": "minutes_diff",
		"SECOND": "seconds_diff", "MILLISECOND": "milliseconds_diff", "MICROSECOND": "microseconds_diff"}[unit]
	if diff == "" {
		p.fail("TIMESTAMPDIFF does not take the unit " + unit)
	}
	return &FuncCall{Name: diff, Args: []Expr{b, a}}
}

func (p *parser) parseFuncCall() Expr {
	name := p.advance().val
	p.expectOp("(")
	f := &FuncCall{Name: name}
	if p.acceptKw("DISTINCT") || p.acceptKw("DISTINCTROW") {
		f.Distinct = true
	} else {
		p.acceptKw("ALL")
	}
	switch {
	case p.isOp("*") && p.isOpAt(1, ")"):
		p.i++
		f.Star = true
	case p.isOp(")"):
	default:
		f.Args = p.parseExprList()
		if p.acceptKws("ORDER", "BY") {
			f.OrderBy = p.parseOrderItems()
		}
		if p.acceptKw("SEPARATOR") {
			f.Separator = p.parsePrimary()
		}
	}
	p.expectOp(")")
	if p.acceptKw("OVER") {
		f.Over = p.parseWindowSpec()
	}
	return f
}

func (p *parser) parseWindowSpec() *WindowSpec {
	p.expectOp("(")
	w := &WindowSpec{}
	if p.acceptKws("PARTITION", "BY") {
		w.PartitionBy = p.parseExprList()
	}
	if p.acceptKws("ORDER", "BY") {
		w.OrderBy = p.parseOrderItems()
	}
	if p.isKw("ROWS") || p.isKw("RANGE") {
		f := &WindowFrame{Unit: strings.ToUpper(p.advance().val)}
		if p.acceptKw("BETWEEN") {
			f.Start = p.parseFrameBound()
			p.expectKw("AND")
			f.End = p.parseFrameBound()
			f.HasEnd = true
		} else {
			f.Start = p.parseFrameBound()
		}
		w.Frame = f
	}
	p.expectOp(")")
	return w
}

func (p *parser) parseFrameBound() FrameBound {
	switch {
	case p.acceptKws("UNBOUNDED", "PRECEDING"):
		return FrameBound{Kind: "UNBOUNDED PRECEDING"}
	case p.acceptKws("UNBOUNDED", "FOLLOWING"):
		return FrameBound{Kind: "UNBOUNDED FOLLOWING"}
	case p.acceptKws("CURRENT", "ROW"):
		return FrameBound{Kind: "CURRENT ROW"}
	}
	off := p.parseBinary(0)
	switch {
	case p.acceptKw("PRECEDING"):
		return FrameBound{Kind: "PRECEDING", Offset: off}
	case p.acceptKw("FOLLOWING"):
		return FrameBound{Kind: "FOLLOWING", Offset: off}
	}
	p.fail("expected PRECEDING or FOLLOWING")
	return FrameBound{}
}

// parseTypeName parses a column type.
func (p *parser) parseTypeName() *TypeName {
	p.enter()
	defer p.leave()
	t := p.tok()
	if t.kind != tokIdent {
		p.fail("expected type name")
	}
	p.i++
	ty := &TypeName{Name: strings.ToUpper(t.val)}
	switch ty.Name {
	case "DOUBLE":
		p.acceptKw("PRECISION")
	case "CHARACTER":
		if p.acceptKw("VARYING") {
			ty.Name = "VARCHAR"
		} else {
			ty.Name = "CHAR"
		}
	case "ARRAY", "MAP":
		if p.acceptOp("<") {
			ty.Elems = append(ty.Elems, p.parseTypeName())
			for p.acceptOp(",") {
				ty.Elems = append(ty.Elems, p.parseTypeName())
			}
			p.expectCloseAngle()
		}
		return ty
	case "STRUCT":
		if p.acceptOp("<") {
			for {
				f := &StructField{Name: p.anyName()}
				p.expectOp(":")
				f.Type = p.parseTypeName()
				if p.acceptKw("COMMENT") {
					f.Comment = p.stringLit()
				}
				ty.Fields = append(ty.Fields, f)
				if !p.acceptOp(",") {
					break
				}
			}
			p.expectCloseAngle()
		}
		return ty
	case "AGG_STATE":
		if p.acceptOp("<") {
			// AGG_STATE<fn(type, ...)>: kept as a generic node.
			depth := 1
			for depth > 0 && p.tok().kind != tokEOF {
				switch {
				case p.isOp("<"):
					depth++
				case p.isOp(">"):
					depth--
				case p.isOp(">>"):
					depth -= 2
				}
				p.i++
			}
			if depth > 0 {
				p.fail("expected '>'")
			}
		}
		return ty
	}
	if p.acceptOp("(") {
		ty.Params = append(ty.Params, p.smallInt())
		for p.acceptOp(",") {
			ty.Params = append(ty.Params, p.smallInt())
		}
		p.expectOp(")")
	}
	return ty
}

package sql

import "strings"

// parseSelectStmt parses [WITH ...] body [ORDER BY ...] [LIMIT ...].
func (p *parser) parseSelectStmt() *SelectStmt {
	p.enter()
	defer p.leave()
	s := &SelectStmt{}
	if p.acceptKw("WITH") {
		p.acceptKw("RECURSIVE")
		for {
			cte := &CTE{Name: p.ident()}
			if p.isOp("(") {
				cte.Columns = p.identList()
			}
			p.expectKw("AS")
			p.expectOp("(")
			cte.Query = p.parseSelectStmt()
			p.expectOp(")")
			s.With = append(s.With, cte)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	s.Body = p.parseSetExpr()
	p.parseOrderLimit(&s.OrderBy, &s.Limit)
	return s
}

func (p *parser) parseOrderLimit(order *[]*OrderItem, limit **Limit) {
	if p.acceptKws("ORDER", "BY") {
		*order = p.parseOrderItems()
	}
	if p.acceptKw("LIMIT") {
		*limit = p.parseLimit()
	}
}

func (p *parser) parseLimit() *Limit {
	l := &Limit{Count: p.parseLimitValue()}
	if p.acceptOp(",") {
		l.Offset = l.Count
		l.Count = p.parseLimitValue()
	} else if p.acceptKw("OFFSET") {
		l.Offset = p.parseLimitValue()
	}
	return l
}

func (p *parser) parseLimitValue() Expr {
	t := p.tok()
	switch t.kind {
	case tokInt:
		p.i++
		return newIntLit(t.val)
	case tokParam:
		p.i++
		ph := &Placeholder{Index: p.params}
		p.params++
		return ph
	}
	p.fail("expected LIMIT value")
	return nil
}

func (p *parser) parseOrderItems() []*OrderItem {
	var items []*OrderItem
	for {
		it := &OrderItem{Expr: p.parseExpr()}
		if p.acceptKw("DESC") {
			it.Desc = true
		} else {
			p.acceptKw("ASC")
		}
		if p.acceptKw("NULLS") {
			switch {
			case p.acceptKw("FIRST"):
				it.Nulls = "FIRST"
			case p.acceptKw("LAST"):
				it.Nulls = "LAST"
			default:
				p.fail("expected FIRST or LAST")
			}
		}
		items = append(items, it)
		if !p.acceptOp(",") {
			return items
		}
	}
}

func (p *parser) parseSetExpr() QueryBody {
	left := p.parseQueryTerm()
	for {
		var op string
		switch {
		case p.acceptKw("UNION"):
			op = "UNION"
		case p.acceptKw("EXCEPT"), p.acceptKw("MINUS"):
			op = "EXCEPT"
		case p.acceptKw("INTERSECT"):
			op = "INTERSECT"
		default:
			return left
		}
		all := p.acceptKw("ALL")
		if !all {
			p.acceptKw("DISTINCT")
		}
		left = &SetOp{Op: op, All: all, Left: left, Right: p.parseQueryTerm()}
	}
}

func (p *parser) parseQueryTerm() QueryBody {
	if p.acceptOp("(") {
		inner := p.parseSelectStmt()
		p.expectOp(")")
		if len(inner.With) == 0 && len(inner.OrderBy) == 0 && inner.Limit == nil {
			return inner.Body
		}
		return inner
	}
	if !p.isKw("SELECT") {
		p.fail("expected SELECT")
	}
	return p.parseSelectBlock()
}

func (p *parser) parseSelectBlock() *SelectBlock {
	p.expectKw("SELECT")
	sel := &SelectBlock{}
	for {
		switch {
		case p.acceptKw("DISTINCT"), p.acceptKw("DISTINCTROW"):
			sel.Distinct = true
			continue
		case p.acceptKw("ALL"):
			continue
		case p.isAnyKw("SQL_CALC_FOUND_ROWS", "SQL_NO_CACHE", "SQL_CACHE", "HIGH_PRIORITY", "STRAIGHT_JOIN",
			"SQL_SMALL_RESULT", "SQL_BIG_RESULT", "SQL_BUFFER_RESULT"):
			p.i++
			continue
		}
		break
	}
	for {
		sel.Items = append(sel.Items, p.parseSelectItem())
		if !p.acceptOp(",") {
			break
		}
	}
	if p.isKw("INTO") {
		p.unsupported("SELECT ... INTO")
	}
	if p.acceptKw("FROM") {
		if p.isKw("DUAL") && !p.isOpAt(1, ".") {
			p.i++
		} else {
			sel.From = p.parseTableRefs()
		}
	}
	if p.acceptKw("WHERE") {
		sel.Where = p.parseExpr()
	}
	if p.acceptKws("GROUP", "BY") {
		switch {
		case (p.isKw("ROLLUP") || p.isKw("CUBE")) && p.isOpAt(1, "("):
			sel.GroupingKind = strings.ToUpper(p.advance().val)
			p.expectOp("(")
			sel.GroupBy = p.parseExprList()
			p.expectOp(")")
		case p.isKw("GROUPING") && p.isKwAt(1, "SETS"):
			p.unsupported("GROUPING SETS")
		default:
			sel.GroupBy = p.parseExprList()
			if p.acceptKws("WITH", "ROLLUP") {
				sel.GroupingKind = "ROLLUP"
			}
		}
	}
	if p.acceptKw("HAVING") {
		sel.Having = p.parseExpr()
	}
	return sel
}

func (p *parser) parseSelectItem() *SelectItem {
	t := p.tok()
	start := t.pos
	// *, t.*, db.t.*
	if t.kind == tokOp && t.val == "*" {
		p.i++
		return &SelectItem{Expr: &StarExpr{}, Text: "*"}
	}
	if (t.kind == tokIdent || t.kind == tokQuotedID) && p.isOpAt(1, ".") {
		if p.isOpAt(2, "*") {
			p.i += 3
			return &SelectItem{Expr: &StarExpr{Table: t.val}, Text: p.src[start:p.prevEnd()]}
		}
		if k := p.peekAt(2).kind; (k == tokIdent || k == tokQuotedID) && p.isOpAt(3, ".") && p.isOpAt(4, "*") {
			db, tbl := t.val, p.peekAt(2).val
			p.i += 5
			return &SelectItem{Expr: &StarExpr{DB: db, Table: tbl}, Text: p.src[start:p.prevEnd()]}
		}
	}
	item := &SelectItem{Expr: p.parseExpr()}
	item.Text = p.src[start:p.prevEnd()]
	item.Alias = p.parseAlias(false)
	return item
}

// parseAlias parses [AS] alias. For tables, fewer words may be aliases.
func (p *parser) parseAlias(table bool) string {
	if p.acceptKw("AS") {
		return p.identOrString()
	}
	t := p.tok()
	switch t.kind {
	case tokQuotedID:
		p.i++
		return t.val
	case tokString, tokDQString:
		if !table {
			p.i++
			return t.val
		}
	case tokIdent:
		if table && !isTableAliasStop(t.val) || !table && !isReserved(t.val) {
			p.i++
			return t.val
		}
	}
	return ""
}

// parseTableRefs parses a FROM list: joined tables separated by commas.
func (p *parser) parseTableRefs() TableRef {
	p.enter()
	defer p.leave()
	left := p.parseJoinedTable()
	for p.acceptOp(",") {
		left = &Join{Kind: JoinCross, Left: left, Right: p.parseJoinedTable(), Comma: true}
	}
	return left
}

func (p *parser) parseJoinedTable() TableRef {
	left := p.parseTableFactor()
	for {
		kind, ok := p.parseJoinKind()
		if !ok {
			return left
		}
		j := &Join{Kind: kind, Left: left, Right: p.parseTableFactor()}
		switch {
		case p.acceptKw("ON"):
			j.On = p.parseExpr()
		case p.acceptKw("USING"):
			j.Using = p.identList()
		}
		left = j
	}
}

// parseJoinKind consumes a join operator and reports its kind.
func (p *parser) parseJoinKind() (JoinKind, bool) {
	switch {
	case p.acceptKw("JOIN"), p.acceptKws("INNER", "JOIN"), p.acceptKw("STRAIGHT_JOIN"):
		return JoinInner, true
	case p.acceptKws("CROSS", "JOIN"):
		return JoinCross, true
	case p.acceptKws("LEFT", "SEMI", "JOIN"):
		return JoinLeftSemi, true
	case p.acceptKws("LEFT", "ANTI", "JOIN"):
		return JoinLeftAnti, true
	case p.acceptKws("RIGHT", "SEMI", "JOIN"):
		return JoinRightSemi, true
	case p.acceptKws("RIGHT", "ANTI", "JOIN"):
		return JoinRightAnti, true
	case p.acceptKws("LEFT", "JOIN"), p.acceptKws("LEFT", "OUTER", "JOIN"):
		return JoinLeft, true
	case p.acceptKws("RIGHT", "JOIN"), p.acceptKws("RIGHT", "OUTER", "JOIN"):
		return JoinRight, true
	case p.acceptKws("FULL", "JOIN"), p.acceptKws("FULL", "OUTER", "JOIN"):
		return JoinFull, true
	case p.isKw("NATURAL"):
		p.unsupported("NATURAL JOIN")
	}
	return 0, false
}

func (p *parser) parseTableFactor() TableRef {
	if p.isOp("(") {
		if p.startsQuery() {
			p.i++
			d := &DerivedTable{Query: p.parseSelectStmt()}
			p.expectOp(")")
			d.Alias = p.parseAlias(true)
			if d.Alias == "" {
				p.fail("every derived table must have its own alias")
			}
			return d
		}
		p.i++
		ref := p.parseTableRefs()
		p.expectOp(")")
		return ref
	}
	if p.isKw("LATERAL") {
		p.unsupported("LATERAL")
	}
	ts := &TableSource{Name: p.objectName()}
	switch {
	case p.acceptKw("PARTITION"), p.acceptKw("PARTITIONS"):
		if p.isOp("(") {
			ts.Partitions = p.identList()
		} else {
			ts.Partitions = []string{p.ident()}
		}
	case p.acceptKws("TEMPORARY", "PARTITION"):
		ts.Partitions = p.identList()
	}
	ts.Alias = p.parseAlias(true)
	// Index hints are accepted and ignored.
	for p.isAnyKw("USE", "FORCE", "IGNORE") && (p.isKwAt(1, "INDEX") || p.isKwAt(1, "KEY")) {
		p.i += 2
		if p.acceptKw("FOR") {
			switch {
			case p.acceptKw("JOIN"):
			case p.acceptKws("ORDER", "BY"), p.acceptKws("GROUP", "BY"):
			default:
				p.fail("expected JOIN, ORDER BY or GROUP BY")
			}
		}
		p.identList()
	}
	return ts
}

// ---- DML ----

func (p *parser) parseInsert() Stmt {
	p.expectKw("INSERT")
	s := &InsertStmt{}
	p.acceptKw("IGNORE")
	if p.acceptKw("OVERWRITE") {
		s.Overwrite = true
		p.acceptKw("TABLE")
	} else {
		p.expectKw("INTO")
		p.acceptKw("TABLE")
	}
	s.Table = p.objectName()
	switch {
	case p.acceptKws("TEMPORARY", "PARTITION"), p.acceptKw("PARTITION"), p.acceptKw("PARTITIONS"):
		if p.isOp("(") && p.isOpAt(1, "*") && p.isOpAt(2, ")") {
			p.i += 3
			s.Partitions = []string{"*"}
		} else if p.isOp("(") {
			s.Partitions = p.identList()
		} else {
			s.Partitions = []string{p.ident()}
		}
	}
	if p.acceptKws("WITH", "LABEL") {
		s.Label = p.identOrString()
	}
	if p.isOp("(") && !p.startsQuery() {
		s.Columns = p.identList()
	}
	switch {
	case p.acceptKw("VALUES"), p.acceptKw("VALUE"):
		for {
			p.expectOp("(")
			row := []Expr{}
			if !p.isOp(")") {
				row = p.parseExprList()
			}
			p.expectOp(")")
			s.Values = append(s.Values, row)
			if !p.acceptOp(",") {
				break
			}
		}
	case p.startsQuery():
		s.Select = p.parseSelectStmt()
	default:
		p.fail("expected VALUES or SELECT")
	}
	return s
}

func (p *parser) parseUpdate() Stmt {
	p.expectKw("UPDATE")
	s := &UpdateStmt{Table: p.objectName()}
	s.Alias = p.parseAlias(true)
	p.expectKw("SET")
	for {
		col, ok := p.parseNameExpr().(*ColumnRef)
		if !ok {
			p.fail("expected column")
		}
		p.expectOp("=")
		s.Set = append(s.Set, &Assignment{Column: col, Value: p.parseExpr()})
		if !p.acceptOp(",") {
			break
		}
	}
	if p.acceptKw("FROM") {
		s.From = p.parseTableRefs()
	}
	if p.acceptKw("WHERE") {
		s.Where = p.parseExpr()
	}
	return s
}

func (p *parser) parseDelete() Stmt {
	p.expectKw("DELETE")
	p.expectKw("FROM")
	s := &DeleteStmt{Table: p.objectName()}
	switch {
	case p.acceptKws("TEMPORARY", "PARTITION"), p.acceptKw("PARTITION"), p.acceptKw("PARTITIONS"):
		if p.isOp("(") {
			s.Partitions = p.identList()
		} else {
			s.Partitions = []string{p.ident()}
		}
	}
	s.Alias = p.parseAlias(true)
	if p.acceptKw("USING") {
		s.Using = p.parseTableRefs()
	}
	if p.acceptKw("WHERE") {
		s.Where = p.parseExpr()
	}
	return s
}

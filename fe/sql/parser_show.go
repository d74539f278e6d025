package sql

import "strings"

// showKinds maps the words after SHOW (and its modifiers) to ShowStmt.Kind.
// Longer phrases come first so that they win over their prefixes.
var showKinds = []struct {
	words []string
	kind  string
	// table is set when FROM names a table rather than a database.
	table bool
}{
	{[]string{"CREATE", "MATERIALIZED", "VIEW"}, "CREATE MATERIALIZED VIEW", false},
	{[]string{"CREATE", "TABLE"}, "CREATE TABLE", false},
	{[]string{"CREATE", "VIEW"}, "CREATE VIEW", false},
	{[]string{"CREATE", "DATABASE"}, "CREATE DATABASE", false},
	{[]string{"CREATE", "SCHEMA"}, "CREATE DATABASE", false},
	{[]string{"ALTER", "TABLE", "COLUMN"}, "ALTER TABLE COLUMN", false},
	{[]string{"ALTER", "TABLE", "ROLLUP"}, "ALTER TABLE ROLLUP", false},
	{[]string{"ALTER", "TABLE", "MATERIALIZED", "VIEW"}, "ALTER TABLE MATERIALIZED VIEW", false},
	{[]string{"TABLE", "STATUS"}, "TABLE STATUS", false},
	{[]string{"FUNCTION", "STATUS"}, "FUNCTION STATUS", false},
	{[]string{"PROCEDURE", "STATUS"}, "PROCEDURE STATUS", false},
	{[]string{"MASTER", "STATUS"}, "MASTER STATUS", false},
	{[]string{"OPEN", "TABLES"}, "OPEN TABLES", false},
	{[]string{"STORAGE", "ENGINES"}, "ENGINES", false},
	{[]string{"CHARACTER", "SET"}, "CHARSET", false},
	{[]string{"STREAM", "LOAD"}, "STREAM LOAD", false},
	{[]string{"ROUTINE", "LOAD"}, "ROUTINE LOAD", false},
	{[]string{"DYNAMIC", "PARTITION", "TABLES"}, "DYNAMIC PARTITION TABLES", false},
	{[]string{"DATABASES"}, "DATABASES", false},
	{[]string{"SCHEMAS"}, "DATABASES", false},
	{[]string{"TABLES"}, "TABLES", false},
	{[]string{"VIEWS"}, "VIEWS", false},
	{[]string{"COLUMNS"}, "COLUMNS", true},
	{[]string{"FIELDS"}, "COLUMNS", true},
	{[]string{"PARTITIONS"}, "PARTITIONS", true},
	{[]string{"VARIABLES"}, "VARIABLES", false},
	{[]string{"STATUS"}, "STATUS", false},
	{[]string{"WARNINGS"}, "WARNINGS", false},
	{[]string{"ERRORS"}, "ERRORS", false},
	{[]string{"PROCESSLIST"}, "PROCESSLIST", false},
	{[]string{"KEYS"}, "INDEX", true},
	{[]string{"INDEX"}, "INDEX", true},
	{[]string{"INDEXES"}, "INDEX", true},
	{[]string{"ENGINES"}, "ENGINES", false},
	{[]string{"CHARSET"}, "CHARSET", false},
	{[]string{"COLLATION"}, "COLLATION", false},
	{[]string{"PLUGINS"}, "PLUGINS", false},
	{[]string{"PRIVILEGES"}, "PRIVILEGES", false},
	{[]string{"ALL", "GRANTS"}, "ALL GRANTS", false},
	{[]string{"GRANTS"}, "GRANTS", false},
	{[]string{"TRANSACTION"}, "TRANSACTION", false},
	{[]string{"LOAD"}, "LOAD", false},
	{[]string{"BACKENDS"}, "BACKENDS", false},
	{[]string{"FRONTENDS"}, "FRONTENDS", false},
	{[]string{"CATALOGS"}, "CATALOGS", false},
	{[]string{"TABLETS"}, "TABLETS", true},
	{[]string{"DATA"}, "DATA", true},
	{[]string{"PROC"}, "PROC", false},
	{[]string{"QUERY", "PROFILE"}, "QUERY PROFILE", false},
	{[]string{"TRIGGERS"}, "TRIGGERS", false},
	{[]string{"EVENTS"}, "EVENTS", false},
	{[]string{"ROLES"}, "ROLES", false},
}

func (p *parser) parseShow() Stmt {
	p.expectKw("SHOW")
	s := &ShowStmt{}
	// Modifiers.
	for {
		switch {
		case p.acceptKw("FULL"):
			s.Full = true
			continue
		case p.acceptKw("GLOBAL"):
			s.Scope = "GLOBAL"
			continue
		case p.acceptKw("SESSION"), p.acceptKw("LOCAL"):
			s.Scope = "SESSION"
			continue
		case p.isKw("TEMPORARY") && p.isKwAt(1, "PARTITIONS"):
			p.i++
			s.Temporary = true
			continue
		}
		break
	}
	// SHOW COUNT(*) WARNINGS|ERRORS.
	if p.isKw("COUNT") && p.isOpAt(1, "(") && p.isOpAt(2, "*") && p.isOpAt(3, ")") {
		p.i += 4
		switch {
		case p.acceptKw("WARNINGS"):
			s.Kind = "COUNT WARNINGS"
		case p.acceptKw("ERRORS"):
			s.Kind = "COUNT ERRORS"
		default:
			p.fail("expected WARNINGS or ERRORS")
		}
		return s
	}
	table := false
	for _, k := range showKinds {
		if p.acceptKws(k.words...) {
			s.Kind, table = k.kind, k.table
			break
		}
	}
	if s.Kind == "" {
		t := p.tok()
		if t.kind == tokIdent {
			p.unsupported("SHOW " + strings.ToUpper(t.val))
		}
		p.fail("expected SHOW object")
	}
	switch s.Kind {
	case "CREATE TABLE", "CREATE VIEW":
		s.Table = p.objectName()
		return s
	case "CREATE DATABASE":
		p.acceptKws("IF", "NOT", "EXISTS")
		first := p.ident()
		if p.acceptOp(".") {
			s.Catalog, s.DB = first, p.anyName()
		} else {
			s.DB = first
		}
		return s
	case "CREATE MATERIALIZED VIEW":
		s.Name = p.ident()
		if p.acceptKw("ON") {
			s.Table = p.objectName()
		}
		return s
	case "PROC":
		s.Name = p.stringLit()
		return s
	case "QUERY PROFILE":
		// SHOW QUERY PROFILE "/" lists the profiles, "/<query id>" shows one.
		s.Name = "/"
		if k := p.tok().kind; k == tokString || k == tokDQString {
			s.Name = p.stringLit()
		}
		return s
	case "TRANSACTION":
		if p.isIdent() && !p.isAnyKw("WHERE", "FROM", "IN") {
			s.Name = p.ident() // SHOW TRANSACTION is also a MySQL-ish probe with an id.
		}
	}
	// Generic tail: FROM|IN name, ON name, FOR user, LIKE, WHERE, ORDER BY, LIMIT.
	haveTable := false
	for {
		switch {
		case p.acceptKw("FROM"), p.acceptKw("IN"):
			switch {
			case table && !haveTable:
				s.Table = p.objectName()
				haveTable = true
			case table:
				s.Table.DB = p.ident()
				s.DB = s.Table.DB
			case s.Kind == "DATABASES":
				s.Catalog = p.ident()
			default:
				first := p.ident()
				if p.acceptOp(".") {
					s.Catalog, s.DB = first, p.anyName()
				} else {
					s.DB = first
				}
			}
		case p.acceptKw("ON"):
			s.Table = p.objectName()
		case p.acceptKw("FOR"):
			s.Name = p.parseUserName()
		case p.acceptKw("LIKE"):
			like := p.stringLit()
			s.Like = &like
		case p.acceptKw("WHERE"):
			s.Where = p.parseExpr()
		case p.acceptKws("ORDER", "BY"):
			s.OrderBy = p.parseOrderItems()
		case p.acceptKw("LIMIT"):
			s.Limit = p.parseLimit()
		default:
			if table && !haveTable && s.Kind != "DATA" {
				p.fail("expected FROM")
			}
			return s
		}
	}
}

// parseUserName parses 'user'@'host', user@host or CURRENT_USER[()] and
// returns it as written in MySQL's canonical quoted form.
func (p *parser) parseUserName() string {
	if p.acceptKw("CURRENT_USER") {
		if p.acceptOp("(") {
			p.expectOp(")")
		}
		return "CURRENT_USER"
	}
	user := p.identOrString()
	host := "%"
	t := p.tok()
	switch t.kind {
	case tokUserVar:
		p.i++
		host = t.val
	case tokOp:
		if t.val == "@" {
			p.i++
			host = p.identOrString()
		}
	}
	return "'" + user + "'@'" + host + "'"
}

// ---- SET ----

func (p *parser) parseSet() Stmt {
	p.expectKw("SET")
	s := &SetStmt{}
	if p.isAnyKw("PASSWORD", "PROPERTY", "ROLE", "LDAP_ADMIN_PASSWORD") ||
		p.isKw("DEFAULT") && p.isKwAt(1, "ROLE") {
		p.unsupported("SET " + strings.ToUpper(p.tok().val))
	}
	for {
		s.Items = append(s.Items, p.parseSetItem())
		if !p.acceptOp(",") {
			return s
		}
	}
}

func (p *parser) parseSetItem() *SetItem {
	it := &SetItem{}
	switch {
	case p.acceptKw("NAMES"):
		it.Kind = SetNames
		if !p.acceptKw("DEFAULT") {
			it.Charset = p.identOrString()
		}
		if p.acceptKw("COLLATE") {
			it.Collation = p.identOrString()
		}
		return it
	case p.acceptKws("CHARACTER", "SET"), p.acceptKw("CHARSET"):
		it.Kind = SetCharset
		if !p.acceptKw("DEFAULT") {
			it.Charset = p.identOrString()
		}
		return it
	}
	switch {
	case p.isAnyKw("GLOBAL", "SESSION", "LOCAL") && p.peekAt(1).kind == tokIdent:
		it.Scope = strings.ToUpper(p.advance().val)
		if it.Scope == "LOCAL" {
			it.Scope = "SESSION"
		}
	}
	if p.acceptKw("TRANSACTION") {
		it.Kind = SetTransaction
		for {
			switch {
			case p.acceptKws("ISOLATION", "LEVEL"):
				switch {
				case p.acceptKws("READ", "UNCOMMITTED"):
					it.Isolation = "READ UNCOMMITTED"
				case p.acceptKws("READ", "COMMITTED"):
					it.Isolation = "READ COMMITTED"
				case p.acceptKws("REPEATABLE", "READ"):
					it.Isolation = "REPEATABLE READ"
				case p.acceptKw("SERIALIZABLE"):
					it.Isolation = "SERIALIZABLE"
				default:
					p.fail("expected isolation level")
				}
			case p.acceptKws("READ", "ONLY"):
				it.AccessMode = "READ ONLY"
			case p.acceptKws("READ", "WRITE"):
				it.AccessMode = "READ WRITE"
			default:
				p.fail("expected ISOLATION LEVEL or READ ONLY|WRITE")
			}
			// A second characteristic follows a comma.
			if p.isOp(",") && (p.isKwAt(1, "ISOLATION") || p.isKwAt(1, "READ")) {
				p.i++
				continue
			}
			return it
		}
	}
	t := p.tok()
	switch t.kind {
	case tokSysVar:
		p.i++
		v := sysVarRef(t.val)
		it.Name = v.Name
		if v.Scope != "" {
			it.Scope = v.Scope
		}
	case tokUserVar:
		p.i++
		it.Name, it.User = t.val, true
	case tokIdent, tokQuotedID:
		it.Name = p.anyName()
		// Dotted names such as dynamic_partition.enable are not session
		// variables, but names like `a`.`b` are accepted and joined.
		for p.acceptOp(".") {
			it.Name += "." + p.anyName()
		}
	default:
		p.fail("expected variable name")
	}
	if !p.acceptOp("=") && !p.acceptOp(":=") {
		p.fail("expected '='")
	}
	it.Value = p.parseSetValue()
	return it
}

// parseSetValue parses the right side of a SET assignment. Reserved words
// that MySQL accepts there (ON, ALL, BINARY, DEFAULT) become bare words.
func (p *parser) parseSetValue() Expr {
	t := p.tok()
	if t.kind == tokIdent {
		up := strings.ToUpper(t.val)
		next := p.peekAt(1)
		end := next.kind == tokEOF || next.kind == tokOp && (next.val == "," || next.val == ";")
		switch {
		case up == "DEFAULT" && end:
			p.i++
			return &DefaultExpr{}
		case (up == "ON" || up == "ALL" || up == "BINARY") && end:
			p.i++
			return &ColumnRef{Column: t.val}
		}
	}
	return p.parseExpr()
}

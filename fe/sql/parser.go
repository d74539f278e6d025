package sql

import (
	"errors"
	"strconv"
	"strings"
)

// ErrEmptyQuery is returned by Parse for input that holds no statement (only
// white space, comments or semicolons); MySQL answers it with error 1065.
var ErrEmptyQuery = errors.New("query was empty")

// Parse parses exactly one statement. A trailing semicolon is allowed; a
// second statement is a syntax error.
func Parse(sql string) (Stmt, error) {
	p, err := newParser(sql)
	if err != nil {
		return nil, err
	}
	var stmt Stmt
	err = p.run(func() {
		for p.acceptOp(";") {
		}
		if p.tok().kind == tokEOF {
			panic(parseAbort{ErrEmptyQuery})
		}
		stmt = p.parseStatement()
		for p.acceptOp(";") {
		}
		if p.tok().kind != tokEOF {
			p.fail("expected end of statement")
		}
	})
	if err != nil {
		return nil, err
	}
	return stmt, nil
}

// ParseMulti parses a script or a multi-statement packet: statements
// separated by semicolons (outside quotes and comments). Empty statements are
// skipped; input without any statement (only white space, comments or
// semicolons) gives an empty slice and no error, and the caller answers it
// as MySQL does (error 1065). On error no statements are returned.
func ParseMulti(sql string) ([]Stmt, error) {
	p, err := newParser(sql)
	if err != nil {
		return nil, err
	}
	var stmts []Stmt
	err = p.run(func() {
		for {
			for p.acceptOp(";") {
			}
			if p.tok().kind == tokEOF {
				break
			}
			stmts = append(stmts, p.parseStatement())
			if !p.isOp(";") && p.tok().kind != tokEOF {
				p.fail("expected ';' or end of input")
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return stmts, nil
}

// ParseExpr parses a single expression, such as a DEFAULT value or a
// partition expression stored in the catalog.
func ParseExpr(sql string) (Expr, error) {
	p, err := newParser(sql)
	if err != nil {
		return nil, err
	}
	var e Expr
	err = p.run(func() {
		e = p.parseExpr()
		if p.tok().kind != tokEOF {
			p.fail("expected end of expression")
		}
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// parser is a recursive-descent parser over a token slice.
type parser struct {
	src    string
	toks   []token
	i      int
	params int
	depth  int
}

// maxDepth bounds the nesting of expressions, queries and types, so that
// hostile input cannot exhaust the goroutine stack.
const maxDepth = 1000

// enter is called on entry to every recursive construct; the caller defers
// leave.
func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail("statement nested too deeply")
	}
}

func (p *parser) leave() { p.depth-- }

func newParser(sql string) (*parser, error) {
	toks, serr := tokenize(sql)
	if serr != nil {
		return nil, serr
	}
	return &parser{src: sql, toks: toks}, nil
}

// run calls f, turning a parseAbort panic into the returned error. Other
// panics are bugs and propagate.
func (p *parser) run(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			pa, ok := r.(parseAbort)
			if !ok {
				panic(r)
			}
			err = pa.err
		}
	}()
	f()
	return nil
}

// ---- token helpers ----

func (p *parser) tok() *token { return &p.toks[p.i] }

func (p *parser) peekAt(n int) *token {
	if p.i+n < len(p.toks) {
		return &p.toks[p.i+n]
	}
	return &p.toks[len(p.toks)-1]
}

func (p *parser) advance() *token {
	t := &p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// prevEnd is the end offset of the last consumed token.
func (p *parser) prevEnd() int {
	if p.i == 0 {
		return 0
	}
	return p.toks[p.i-1].end
}

func (p *parser) fail(detail string) {
	panic(parseAbort{newSyntaxError(p.src, p.tok().pos, detail)})
}

func (p *parser) unsupported(what string) {
	panic(parseAbort{&UnsupportedError{What: what}})
}

func isKwTok(t *token, kw string) bool {
	return t.kind == tokIdent && len(t.val) == len(kw) && strings.EqualFold(t.val, kw)
}

func (p *parser) isKw(kw string) bool { return isKwTok(p.tok(), kw) }

func (p *parser) isKwAt(n int, kw string) bool { return isKwTok(p.peekAt(n), kw) }

// isAnyKw reports whether the current token is one of kws.
func (p *parser) isAnyKw(kws ...string) bool {
	for _, kw := range kws {
		if p.isKw(kw) {
			return true
		}
	}
	return false
}

func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.i++
		return true
	}
	return false
}

// acceptKws accepts the whole keyword sequence or nothing.
func (p *parser) acceptKws(kws ...string) bool {
	for n, kw := range kws {
		if !p.isKwAt(n, kw) {
			return false
		}
	}
	p.i += len(kws)
	return true
}

func (p *parser) expectKw(kws ...string) {
	for _, kw := range kws {
		if !p.acceptKw(kw) {
			p.fail("expected " + kw)
		}
	}
}

func (p *parser) isOp(op string) bool {
	t := p.tok()
	return t.kind == tokOp && t.val == op
}

func (p *parser) isOpAt(n int, op string) bool {
	t := p.peekAt(n)
	return t.kind == tokOp && t.val == op
}

func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectOp(op string) {
	if !p.acceptOp(op) {
		p.fail("expected '" + op + "'")
	}
}

// expectCloseAngle accepts '>' and splits a '>>' token (ARRAY<ARRAY<INT>>).
func (p *parser) expectCloseAngle() {
	t := p.tok()
	if t.kind == tokOp && t.val == ">>" {
		t.val = ">"
		t.bin = 0
		t.pos++
		return
	}
	if t.kind == tokOp && t.val == ">=" {
		t.val = "="
		t.pos++
		return
	}
	p.expectOp(">")
}

// ---- names ----

// ident accepts an identifier: a back-quoted name or a bare word that is
// not reserved.
func (p *parser) ident() string {
	t := p.tok()
	switch t.kind {
	case tokQuotedID:
		p.i++
		return t.val
	case tokIdent:
		if !isReserved(t.val) {
			p.i++
			return t.val
		}
	}
	p.fail("expected identifier")
	return ""
}

// isIdent reports whether the current token can be an identifier.
func (p *parser) isIdent() bool {
	t := p.tok()
	return t.kind == tokQuotedID || t.kind == tokIdent && !isReserved(t.val)
}

// anyName accepts an identifier or any keyword (after a dot, reserved
// words are names: t.`select` may be written t.select).
func (p *parser) anyName() string {
	t := p.tok()
	if t.kind == tokQuotedID || t.kind == tokIdent {
		p.i++
		return t.val
	}
	p.fail("expected identifier")
	return ""
}

// identOrString accepts an identifier or a quoted string (aliases, labels,
// user names).
func (p *parser) identOrString() string {
	t := p.tok()
	if t.kind == tokString || t.kind == tokDQString {
		p.i++
		return t.val
	}
	return p.ident()
}

// objectName parses [catalog.][db.]name.
func (p *parser) objectName() ObjectName {
	parts := []string{p.ident()}
	for len(parts) < 3 && p.isOp(".") {
		p.i++
		parts = append(parts, p.anyName())
	}
	if len(parts) == 1 {
		// Superset quotes internal.db.t as one identifier; table names
		// cannot contain dots, so split it.
		if q := strings.Split(parts[0], "."); len(q) == 3 && strings.EqualFold(q[0], "internal") {
			parts = q
		}
	}
	switch len(parts) {
	case 1:
		return ObjectName{Name: parts[0]}
	case 2:
		return ObjectName{DB: parts[0], Name: parts[1]}
	default:
		return ObjectName{Catalog: parts[0], DB: parts[1], Name: parts[2]}
	}
}

// identList parses ( name, name, ... ).
func (p *parser) identList() []string {
	p.expectOp("(")
	var names []string
	if p.acceptOp(")") {
		return names
	}
	for {
		names = append(names, p.ident())
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return names
}

// stringLit accepts a quoted string (single or double quotes).
func (p *parser) stringLit() string {
	t := p.tok()
	if t.kind == tokString || t.kind == tokDQString {
		p.i++
		return t.val
	}
	p.fail("expected string literal")
	return ""
}

func (p *parser) intValue() int64 {
	t := p.tok()
	if t.kind != tokInt {
		p.fail("expected integer")
	}
	v, err := strconv.ParseInt(t.val, 10, 64)
	if err != nil {
		p.fail("integer out of range")
	}
	p.i++
	return v
}

func (p *parser) smallInt() int {
	v := p.intValue()
	if v > 1<<30 {
		p.i--
		p.fail("integer out of range")
	}
	return int(v)
}

// properties parses ( "k" = "v", ... ); keys and values may be quoted with
// either quote, and values may also be numbers or bare words.
func (p *parser) propertyList() []Property {
	p.expectOp("(")
	props := []Property{}
	if p.acceptOp(")") {
		return props
	}
	for {
		key := p.propertyToken()
		p.expectOp("=")
		val := p.propertyToken()
		props = append(props, Property{Key: key, Value: val})
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return props
}

func (p *parser) propertyToken() string {
	t := p.tok()
	switch t.kind {
	case tokString, tokDQString, tokInt, tokDecimal, tokFloat, tokIdent, tokQuotedID:
		p.i++
		return t.val
	case tokOp:
		if t.val == "-" && p.peekAt(1).kind == tokInt {
			p.i += 2
			return "-" + p.toks[p.i-1].val
		}
	}
	p.fail("expected property")
	return ""
}

// ---- statements ----

// parseStatement parses one statement and records its text.
func (p *parser) parseStatement() Stmt {
	start := p.i
	p.params = 0
	s := p.parseStatementBody()
	b := stmtBaseOf(s)
	b.text = p.src[p.toks[start].pos:p.prevEnd()]
	b.params = p.params
	return s
}

func stmtBaseOf(s Stmt) *stmtBase {
	type baser interface{ base() *stmtBase }
	return s.(baser).base()
}

func (p *parser) parseStatementBody() Stmt {
	t := p.tok()
	if t.kind == tokOp && t.val == "(" {
		return p.parseSelectStmt()
	}
	if t.kind != tokIdent {
		p.fail("expected statement")
	}
	if s := p.parseAccountStmt(); s != nil {
		return s
	}
	switch strings.ToUpper(t.val) {
	case "SELECT", "WITH":
		return p.parseSelectStmt()
	case "INSERT":
		return p.parseInsert()
	case "UPDATE":
		return p.parseUpdate()
	case "DELETE":
		return p.parseDelete()
	case "CREATE":
		return p.parseCreate()
	case "DROP":
		return p.parseDrop()
	case "ALTER":
		return p.parseAlter()
	case "TRUNCATE":
		return p.parseTruncate()
	case "USE":
		return p.parseUse()
	case "SHOW":
		return p.parseShow()
	case "DESC", "DESCRIBE", "EXPLAIN":
		return p.parseExplainOrDescribe()
	case "SET":
		return p.parseSet()
	case "BEGIN", "START", "COMMIT", "ROLLBACK":
		return p.parseTxn()
	case "KILL":
		return p.parseKill()
	case "SYNC":
		p.i++
		return &SyncStmt{}
	case "CANCEL":
		if p.isKwAt(1, "ALTER") {
			return p.parseCancelAlter()
		}
		p.unsupported(strings.ToUpper(t.val))
	case "ADMIN", "LOAD", "RECOVER", "SWITCH", "REFRESH", "ANALYZE", "EXPORT",
		"BACKUP", "RESTORE", "INSTALL", "UNINSTALL", "PAUSE", "RESUME", "STOP", "CLEAN", "WARM", "LOCK", "UNLOCK",
		"REPLACE", "CALL", "PREPARE", "EXECUTE", "DEALLOCATE", "HELP", "FLUSH", "OPTIMIZE", "REPAIR", "CHECK",
		"CHECKSUM", "HANDLER", "DO", "RENAME", "SAVEPOINT", "RELEASE", "XA", "COPY", "MERGE", "SOURCE":
		p.unsupported(strings.ToUpper(t.val))
	}
	p.fail("unknown statement")
	return nil
}

func (p *parser) parseUse() Stmt {
	p.expectKw("USE")
	first := p.ident()
	if p.acceptOp(".") {
		return &UseStmt{Catalog: first, DB: p.anyName()}
	}
	return &UseStmt{DB: first}
}

func (p *parser) parseTxn() Stmt {
	switch {
	case p.acceptKw("BEGIN"):
		s := &TxnStmt{Op: "BEGIN"}
		p.acceptKw("WORK")
		if p.acceptKws("WITH", "LABEL") {
			s.Label = p.identOrString()
		}
		return s
	case p.acceptKw("START"):
		p.expectKw("TRANSACTION")
		for {
			switch {
			case p.acceptKws("WITH", "CONSISTENT", "SNAPSHOT"), p.acceptKws("READ", "ONLY"), p.acceptKws("READ", "WRITE"):
			default:
				return &TxnStmt{Op: "BEGIN"}
			}
			if !p.acceptOp(",") {
				return &TxnStmt{Op: "BEGIN"}
			}
		}
	case p.acceptKw("COMMIT"):
		p.acceptKw("WORK")
		return &TxnStmt{Op: "COMMIT"}
	default:
		p.expectKw("ROLLBACK")
		p.acceptKw("WORK")
		return &TxnStmt{Op: "ROLLBACK"}
	}
}

func (p *parser) parseKill() Stmt {
	p.expectKw("KILL")
	s := &KillStmt{}
	if p.acceptKw("QUERY") {
		s.Query = true
	} else {
		p.acceptKw("CONNECTION")
	}
	t := p.tok()
	switch t.kind {
	case tokInt:
		p.i++
		s.ID = newIntLit(t.val)
	case tokString, tokDQString:
		p.i++
		s.ID = &StringLit{Val: t.val, DoubleQuoted: t.kind == tokDQString}
	default:
		p.fail("expected connection id")
	}
	return s
}

// parseCancelAlter parses CANCEL ALTER TABLE COLUMN|ROLLUP|MATERIALIZED VIEW
// FROM t [(job id, ...)].
func (p *parser) parseCancelAlter() Stmt {
	p.expectKw("CANCEL")
	p.expectKw("ALTER")
	p.expectKw("TABLE")
	s := &CancelAlterStmt{}
	switch {
	case p.acceptKw("COLUMN"):
		s.Kind = "COLUMN"
	case p.acceptKw("ROLLUP"):
		s.Kind = "ROLLUP"
	case p.acceptKws("MATERIALIZED", "VIEW"):
		s.Kind = "MATERIALIZED VIEW"
	default:
		p.fail("expected COLUMN, ROLLUP or MATERIALIZED VIEW")
	}
	p.expectKw("FROM")
	s.Table = p.objectName()
	if p.acceptOp("(") {
		for {
			t := p.tok()
			if t.kind != tokInt {
				p.fail("expected a job id")
			}
			p.i++
			s.JobIDs = append(s.JobIDs, newIntLit(t.val).Val)
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
	}
	return s
}

func (p *parser) parseExplainOrDescribe() Stmt {
	p.i++ // DESC, DESCRIBE or EXPLAIN
	// DESC t / EXPLAIN t describe a table; EXPLAIN stmt explains.
	if p.isIdent() && !p.isAnyKw("SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "VERBOSE", "GRAPH", "PLAN",
		"ANALYZE", "ANALYZED", "REWRITTEN", "LOGICAL", "OPTIMIZED", "PHYSICAL", "SHAPE", "MEMO", "DISTRIBUTED", "PARSED",
		"ALL", "DUMP", "PROCESS", "CREATE") {
		s := &DescribeStmt{Table: p.objectName()}
		if p.acceptKw("ALL") {
			s.All = true
		}
		return s
	}
	s := &ExplainStmt{}
	switch {
	case p.acceptKws("SHAPE", "PLAN"):
		s.Level = "SHAPE PLAN"
	case p.acceptKws("MEMO", "PLAN"):
		s.Level = "MEMO PLAN"
	case p.acceptKws("DISTRIBUTED", "PLAN"):
		s.Level = "DISTRIBUTED PLAN"
	case p.isAnyKw("VERBOSE", "GRAPH", "PLAN", "ANALYZE", "ANALYZED", "REWRITTEN", "LOGICAL", "OPTIMIZED", "PHYSICAL",
		"PARSED", "ALL", "DUMP"):
		s.Level = strings.ToUpper(p.advance().val)
		if s.Level != "PLAN" && p.acceptKw("PLAN") {
			s.Level += " PLAN"
		}
	}
	start := p.i
	inner := p.parseStatementBody()
	b := stmtBaseOf(inner)
	b.text = p.src[p.toks[start].pos:p.prevEnd()]
	b.params = p.params
	s.Stmt = inner
	return s
}

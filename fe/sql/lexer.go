package sql

import (
	"strings"
)

// tokKind is the lexical class of a token.
type tokKind uint8

const (
	tokEOF      tokKind = iota
	tokIdent            // bare word: identifier or keyword
	tokQuotedID         // `backticked` identifier; Val is the unquoted name
	tokString           // '...' literal; Val is the decoded value
	tokDQString         // "..." literal; Val is the decoded value
	tokInt              // 123
	tokDecimal          // 1.5, .5, 1.
	tokFloat            // 1e5, 1.5E-3
	tokHex              // 0x1F or X'1F'; Val is the hex digits
	tokBit              // 0b01 or B'01'; Val is the binary digits
	tokOp               // punctuation and operators; Val is the operator text
	tokParam            // ?
	tokUserVar          // @name; Val is the name
	tokSysVar           // @@[scope.]name; Val is the text after @@
)

// token is one lexeme. Pos and End are byte offsets into the source; Val is
// the decoded value (see tokKind).
type token struct {
	kind tokKind
	// bin is 1 + the precedence level of a bit or arithmetic operator
	// token (see binaryLevels), 0 for other tokens.
	bin int8
	pos int
	end int
	val string
}

// lexer splits SQL text into tokens. It understands MySQL comments, including
// executable comments (/*! ... */ and /*!50100 ... */) whose content is lexed
// as ordinary text.
type lexer struct {
	src    string
	pos    int
	inExec int // nesting depth of open /*! comments
	toks   []token
}

// tokenize lexes src completely. The last token is always tokEOF.
func tokenize(src string) ([]token, *SyntaxError) {
	lx := lexer{src: src, toks: make([]token, 0, len(src)/4+2)}
	for {
		if err := lx.skipSpace(); err != nil {
			return nil, err
		}
		if lx.pos >= len(lx.src) {
			lx.toks = append(lx.toks, token{kind: tokEOF, pos: len(src), end: len(src)})
			return lx.toks, nil
		}
		t, err := lx.next()
		if err != nil {
			return nil, err
		}
		t.bin = binaryLevel(&t)
		lx.toks = append(lx.toks, t)
	}
}

func (lx *lexer) errAt(pos int, detail string) *SyntaxError {
	return newSyntaxError(lx.src, pos, detail)
}

// skipSpace skips white space and comments.
func (lx *lexer) skipSpace() *SyntaxError {
	s := lx.src
	for lx.pos < len(s) {
		c := s[lx.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			lx.pos++
		case c == '#':
			lx.skipLine()
		case c == '-' && lx.pos+1 < len(s) && s[lx.pos+1] == '-' &&
			(lx.pos+2 == len(s) || s[lx.pos+2] <= ' '):
			lx.skipLine()
		case c == '/' && lx.pos+1 < len(s) && s[lx.pos+1] == '*':
			start := lx.pos
			if lx.pos+2 < len(s) && s[lx.pos+2] == '!' {
				// Executable comment: skip the marker and an optional
				// version number, then lex the content.
				lx.pos += 3
				for lx.pos < len(s) && s[lx.pos] >= '0' && s[lx.pos] <= '9' {
					lx.pos++
				}
				lx.inExec++
				continue
			}
			end := strings.Index(s[lx.pos+2:], "*/")
			if end < 0 {
				return lx.errAt(start, "unterminated comment")
			}
			lx.pos += 2 + end + 2
		case c == '*' && lx.inExec > 0 && lx.pos+1 < len(s) && s[lx.pos+1] == '/':
			lx.inExec--
			lx.pos += 2
		default:
			return nil
		}
	}
	return nil
}

func (lx *lexer) skipLine() {
	for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' {
		lx.pos++
	}
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$' || c >= 0x80
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// threeCharOps and twoCharOps are the multi-character operators, longest first.
var threeCharOps = [...]string{"<=>"}

var twoCharOps = [...]string{"<=", ">=", "<>", "!=", "<<", ">>", "&&", "||", ":="}

func (lx *lexer) next() (token, *SyntaxError) {
	s := lx.src
	start := lx.pos
	c := s[start]
	switch {
	case (c == 'x' || c == 'X' || c == 'b' || c == 'B') && start+1 < len(s) && s[start+1] == '\'':
		// X'1F' and B'01'.
		end := strings.IndexByte(s[start+2:], '\'')
		if end < 0 {
			return token{}, lx.errAt(start, "unterminated literal")
		}
		lx.pos = start + 2 + end + 1
		kind := tokHex
		if c == 'b' || c == 'B' {
			kind = tokBit
		}
		return token{kind: kind, pos: start, end: lx.pos, val: s[start+2 : start+2+end]}, nil
	case c == '0' && start+2 < len(s) && (s[start+1] == 'x' || s[start+1] == 'X') && isHexDigit(s[start+2]):
		p := start + 2
		for p < len(s) && isHexDigit(s[p]) {
			p++
		}
		if p == len(s) || !isIdentChar(s[p]) {
			lx.pos = p
			return token{kind: tokHex, pos: start, end: p, val: s[start+2 : p]}, nil
		}
		return lx.word(start), nil
	case isDigit(c) || c == '.' && start+1 < len(s) && isDigit(s[start+1]) && !lx.afterName():
		return lx.number(start), nil
	case isIdentStart(c):
		return lx.word(start), nil
	case c == '`':
		return lx.quoted(start, '`', tokQuotedID)
	case c == '\'':
		return lx.quoted(start, '\'', tokString)
	case c == '"':
		return lx.quoted(start, '"', tokDQString)
	case c == '?':
		lx.pos++
		return token{kind: tokParam, pos: start, end: lx.pos, val: "?"}, nil
	case c == '@':
		return lx.variable(start)
	}
	for _, op := range threeCharOps {
		if strings.HasPrefix(s[start:], op) {
			lx.pos += len(op)
			return token{kind: tokOp, pos: start, end: lx.pos, val: op}, nil
		}
	}
	for _, op := range twoCharOps {
		if strings.HasPrefix(s[start:], op) {
			lx.pos += len(op)
			return token{kind: tokOp, pos: start, end: lx.pos, val: op}, nil
		}
	}
	if strings.IndexByte("(),;.+-*/%=<>!~&|^:[]{}", c) >= 0 {
		lx.pos++
		return token{kind: tokOp, pos: start, end: lx.pos, val: s[start:lx.pos]}, nil
	}
	return token{}, lx.errAt(start, "unexpected character")
}

// afterName reports whether the previous token is a name or a closing
// parenthesis, in which case a '.' is a qualifier dot (t.5 is not a number).
func (lx *lexer) afterName() bool {
	if len(lx.toks) == 0 {
		return false
	}
	prev := lx.toks[len(lx.toks)-1]
	if prev.end != lx.pos {
		return false
	}
	return prev.kind == tokIdent || prev.kind == tokQuotedID
}

func (lx *lexer) word(start int) token {
	p := start
	for p < len(lx.src) && isIdentChar(lx.src[p]) {
		p++
	}
	lx.pos = p
	return token{kind: tokIdent, pos: start, end: p, val: lx.src[start:p]}
}

func (lx *lexer) number(start int) token {
	s := lx.src
	p := start
	kind := tokInt
	for p < len(s) && isDigit(s[p]) {
		p++
	}
	if p < len(s) && s[p] == '.' {
		kind = tokDecimal
		p++
		for p < len(s) && isDigit(s[p]) {
			p++
		}
	}
	if p < len(s) && (s[p] == 'e' || s[p] == 'E') {
		q := p + 1
		if q < len(s) && (s[q] == '+' || s[q] == '-') {
			q++
		}
		if q < len(s) && isDigit(s[q]) {
			for q < len(s) && isDigit(s[q]) {
				q++
			}
			p = q
			kind = tokFloat
		}
	}
	if kind == tokInt && p < len(s) && isIdentStart(s[p]) {
		// MySQL allows identifiers that start with digits (1col).
		return lx.word(start)
	}
	lx.pos = p
	return token{kind: kind, pos: start, end: p, val: s[start:p]}
}

// quoted lexes a quoted string or identifier. Quotes are escaped by doubling;
// strings (not identifiers) also take MySQL backslash escapes.
func (lx *lexer) quoted(start int, q byte, kind tokKind) (token, *SyntaxError) {
	s := lx.src
	p := start + 1
	// Fast path: no escapes.
	for p < len(s) && s[p] != q && (s[p] != '\\' || kind == tokQuotedID) {
		p++
	}
	if p < len(s) && s[p] == q && (p+1 >= len(s) || s[p+1] != q) {
		lx.pos = p + 1
		return token{kind: kind, pos: start, end: lx.pos, val: s[start+1 : p]}, nil
	}
	var b strings.Builder
	b.WriteString(s[start+1 : p])
	for p < len(s) {
		c := s[p]
		switch {
		case c == q:
			if p+1 < len(s) && s[p+1] == q {
				b.WriteByte(q)
				p += 2
				continue
			}
			lx.pos = p + 1
			return token{kind: kind, pos: start, end: lx.pos, val: b.String()}, nil
		case c == '\\' && kind != tokQuotedID && p+1 < len(s):
			p++
			switch e := s[p]; e {
			case '0':
				b.WriteByte(0)
			case 'b':
				b.WriteByte('\b')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'Z':
				b.WriteByte(26)
			case '%', '_':
				// Kept escaped so that LIKE patterns see them.
				b.WriteByte('\\')
				b.WriteByte(e)
			default:
				b.WriteByte(e)
			}
			p++
		default:
			b.WriteByte(c)
			p++
		}
	}
	what := "unterminated string"
	if kind == tokQuotedID {
		what = "unterminated quoted identifier"
	}
	return token{}, lx.errAt(start, what)
}

func (lx *lexer) variable(start int) (token, *SyntaxError) {
	s := lx.src
	p := start + 1
	kind := tokUserVar
	if p < len(s) && s[p] == '@' {
		kind = tokSysVar
		p++
	}
	if p < len(s) && (s[p] == '`' || s[p] == '\'' || s[p] == '"') && kind == tokUserVar {
		lx.pos = p
		t, err := lx.quoted(p, s[p], tokQuotedID)
		if err != nil {
			return token{}, err
		}
		return token{kind: kind, pos: start, end: lx.pos, val: t.val}, nil
	}
	q := p
	for q < len(s) && (isIdentChar(s[q]) || s[q] == '.' && kind == tokSysVar) {
		q++
	}
	if q == p {
		return token{}, lx.errAt(start, "missing variable name")
	}
	lx.pos = q
	return token{kind: kind, pos: start, end: q, val: s[p:q]}, nil
}

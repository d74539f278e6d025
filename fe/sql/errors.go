package sql

import (
	"fmt"
	"strings"
)

// nearLimit is how much of the remaining input a syntax error quotes; MySQL
// prints the rest of the statement with %.80s.
const nearLimit = 80

// SyntaxError is a parse failure. Its Error text has MySQL's shape for error
// 1064 (ER_PARSE_ERROR), so the session can send it unchanged:
//
//	You have an error in your SQL syntax; check the manual that corresponds to
//	your MySQL server version for the right syntax to use near 'FORM t' at line 1
type SyntaxError struct {
	// Line and Column are 1-based; Column counts bytes.
	Line, Column int
	// Offset is the byte offset of the offending token in the input.
	Offset int
	// Near is the input from the offending token on, at most 80 bytes.
	Near string
	// Detail says what the parser expected (for logs and tests); it is not
	// part of Error.
	Detail string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("You have an error in your SQL syntax; check the manual that corresponds to your "+
		"MySQL server version for the right syntax to use near '%s' at line %d", e.Near, e.Line)
}

func newSyntaxError(src string, pos int, detail string) *SyntaxError {
	if pos > len(src) {
		pos = len(src)
	}
	line := 1 + strings.Count(src[:pos], "\n")
	col := pos + 1
	if nl := strings.LastIndexByte(src[:pos], '\n'); nl >= 0 {
		col = pos - nl
	}
	near := src[pos:]
	if len(near) > nearLimit {
		near = near[:nearLimit]
	}
	return &SyntaxError{Line: line, Column: col, Offset: pos, Near: near, Detail: detail}
}

// UnsupportedError is returned for statements that are valid in Doris but
// that Strata does not implement (ADMIN, LOAD LABEL, ...).
type UnsupportedError struct {
	// What names the statement, e.g. "ADMIN".
	What string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("unsupported statement: %s", e.What)
}

// parseAbort is the private panic value the parser unwinds with; Parse
// recovers it and returns err.
type parseAbort struct{ err error }

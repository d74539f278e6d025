// Package sql is the lexer, parser and abstract syntax tree of the SQL dialect
// Strata speaks: the Doris dialect of MySQL, as Doris users' scripts, drivers
// and BI tools send it.
//
// The parser is hand written: a lexer turns the whole input into tokens, and a
// recursive-descent parser builds typed nodes, climbing MySQL's operator
// precedence for expressions (lowest first):
//
//	OR ||   XOR   AND &&   NOT   comparison, IS, IN, BETWEEN, LIKE, REGEXP
//	|   &   << >>   + -   * / DIV % MOD   ^   unary - ~ !   BINARY, COLLATE
//
// Entry points are [Parse] for one statement and [ParseMulti] for a packet
// that may hold several statements separated by semicolons. Both return
// statements that implement [Stmt]; every expression node implements [Expr].
// A statement keeps its source text ([Stmt.Text]) and a select item keeps the
// exact text of its expression ([SelectItem.Text]), which MySQL uses as the
// default column name.
//
// Errors are *[SyntaxError] values carrying the line and column of the
// offending token and a message in MySQL's 1064 shape, or *[UnsupportedError]
// for statements that are recognised but not implemented.
//
// The parser is not tied to a catalog: names are not resolved and types are
// kept as written ([TypeName]); [TypeName.Resolve] maps a type to the shared
// [types.Type] vocabulary where one exists.
//
// Parsing never panics on any input (FuzzParse checks this); internally the
// parser unwinds on the first error with a private panic value that [Parse]
// recovers, so that the grammar code reads straight.
package sql

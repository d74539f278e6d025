// Package differential runs random queries on a strata server and on an
// in-process DuckDB and reports every disagreement, with a script that
// replays it. Its tests are in _test files; README.md describes what they
// generate, how results are compared and how to run them long.
//
// It is a module of its own so that the main module never links DuckDB
// (cgo).
package differential

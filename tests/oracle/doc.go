// Package oracle checks Strata's query answers against themselves with the
// two metamorphic oracles of SQLancer: ternary logic partitioning (TLP) and
// non-optimizing reference engine construction (NoREC). Its tests start one
// `strata server`, create random tables, fill them with random rows and
// compare pairs of random queries that must agree whatever the data. See
// README.md for the oracles and for how to run long.
package oracle

// Package ssb generates Star Schema Benchmark data and holds the SSB query
// texts and reference answers (see BENCHMARKS.md §1).
//
// The generator produces data statistically equivalent to dbgen's: the same
// row counts, value domains and distributions, so query answers agree with
// dbgen's to within sampling noise and group counts and selectivities agree
// exactly. It is not byte-identical to dbgen, except for the dates table,
// which has no randomness.
//
// Output is deterministic: every chunk of rows is drawn from its own random
// stream seeded from (table, scale factor, chunk index), so the bytes written
// do not depend on the number of workers. Chunks are generated in parallel
// and written in order.
//
// Tables come in dbgen's form ('|' after every field, including the last;
// dates as yyyymmdd integers). The denormalised lineorder_flat table (38
// columns, BENCHMARKS.md §1.5) is written as CSV with a configurable
// separator and no trailing separator.
//
// FlatAnswers computes the exact answer of every flat query over the
// generated data, so a benchmark run can check a server's answers exactly at
// any scale factor; the dbgen SF 1 figures in Queries are only a
// plausibility check for our data.
//
// Deviations from dbgen, all chosen to keep values plain and loadable:
//   - c_address and s_address use letters, digits, space and '.', never ',' or '|'.
//   - Below SF 1 every table, including part, scales linearly with SF, and
//     lo_partkey ranges over the whole part table.
//   - dates spells "August" correctly and sets d_lastdayinmonthfl on the
//     last day of the month; d_dayofweek and d_daynuminweek keep dbgen's
//     formula (1992-01-01 is "Thursday", day 5).
package ssb

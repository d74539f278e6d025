// Package peers runs the Star Schema Benchmark side by side on Strata,
// DuckDB and ClickHouse 18.16 (BENCHMARKS.md §3, §4).
//
// It lives in its own Go module so that the strata binary never links
// DuckDB or cgo. One run, on one machine:
//
//  1. generates the SSB data once with bench/ssb into a temporary directory
//     ('|'-separated files, one per table, lineorder and lineorder_flat in
//     parts of about 1.5 M rows);
//  2. starts the systems on loopback ports with temporary data directories
//     (a strata server built from the main module, clickhouse-server with a
//     generated config, DuckDB in-process on a file-backed database) and
//     loads every file into each of them: Strata by HTTP stream load,
//     ClickHouse by HTTP INSERT … FORMAT CSV, DuckDB by COPY;
//  3. runs every query once on every system and compares the results with
//     each other and, for the flat queries, with the exact answers computed
//     from the generator; a system whose answer differs gets no time for
//     that query;
//  4. times the rest: hot = best of -runs after the warm-up, and optionally
//     cold = restart the system and drop the OS page cache before one run;
//  5. prints a Markdown table (ms per system and the ratio to Strata), the
//     geometric means, load times and on-disk sizes, and writes an SVG bar
//     chart per schema.
//
// Query texts come from bench/ssb unchanged except for dialect: DuckDB
// writes DIV as //, ClickHouse as intDiv(…), and ClickHouse 18.16, which
// allows one JOIN per SELECT, runs the star queries as nested joins of
// column-pruned subqueries (see clickhouseStar).
package peers

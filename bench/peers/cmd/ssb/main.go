// Command ssb runs the Star Schema Benchmark side by side on Strata, DuckDB
// and ClickHouse 18.16 on this machine (see package peers):
//
//	go run ./cmd/ssb -sf 1 -systems strata,duckdb,clickhouse -schema flat,star
//	go run ./cmd/ssb -sf 10 -cold -out /tmp/ssb-results
//
// It prints progress, then the Markdown report; -out also writes
// results.md and one SVG chart per schema. The exit status is 1 when the
// run could not be made; wrong answers and failed queries are reported in
// the table.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/strata-db/strata/bench/peers"
)

func main() {
	var (
		c                        peers.Config
		systems, schemas, querys string
	)
	flag.Float64Var(&c.SF, "sf", 1, "scale factor")
	flag.StringVar(&systems, "systems", strings.Join(peers.KnownSystems, ","), "systems to run; ratios are to the first")
	flag.StringVar(&schemas, "schema", "flat,star", "schemas: flat (lineorder_flat), star (five tables)")
	flag.StringVar(&querys, "queries", "", "query ids, e.g. Q1.1,Q3.4 (default all 13)")
	flag.IntVar(&c.Runs, "runs", 3, "hot runs after the warm-up; the best counts")
	flag.BoolVar(&c.Cold, "cold", false, "also time a cold run per query: restart each system and drop the page cache (root)")
	flag.StringVar(&c.WorkDir, "work", "", "directory for generated data and databases (default a new temp dir)")
	flag.BoolVar(&c.Keep, "keep", false, "keep the work directory")
	flag.StringVar(&c.OutDir, "out", "ssb-results", "directory for results.md and the SVG charts (\"\" for none)")
	flag.StringVar(&c.RepoRoot, "repo", "", "Strata repository root to build from (default: found above the working directory)")
	flag.StringVar(&c.StrataBin, "strata-bin", "", "prebuilt strata binary (default: go build ./cmd/strata)")
	flag.StringVar(&c.ClickHouseBin, "clickhouse-bin", "", "clickhouse-server binary (default: from PATH or /usr/sbin)")
	flag.Parse()
	c.Systems = splitList(systems)
	c.Schemas = splitList(schemas)
	c.Queries = splitList(querys)
	c.Log = os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := peers.Run(ctx, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ssb:", err)
		os.Exit(1)
	}
	rep.WriteMarkdown(os.Stdout)
	if c.OutDir != "" {
		fmt.Fprintf(os.Stderr, "wrote %s/results.md and the SVG charts\n", c.OutDir)
	}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

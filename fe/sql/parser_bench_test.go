package sql

import (
	"strings"
	"testing"
)

// Run with:
//
//	go test ./fe/sql -run '^$' -bench . -count 6 | tee new.txt && benchstat old.txt new.txt
func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, sql string }{
		{"query=point", "SELECT a, b FROM t WHERE id = 42"},
		{"query=ssb_q3.1", `SELECT c_nation, s_nation, d_year, SUM(lo_revenue) AS revenue FROM lineorder
  JOIN customer ON lo_custkey=c_custkey JOIN supplier ON lo_suppkey=s_suppkey JOIN dates ON lo_orderdate=d_datekey
WHERE c_region='ASIA' AND s_region='ASIA' AND d_year BETWEEN 1992 AND 1997
GROUP BY c_nation, s_nation, d_year ORDER BY d_year ASC, revenue DESC`},
		{"query=connector_j", connectorJProbe()},
		{"query=insert_values", "INSERT INTO t (a, b, c) VALUES (1, 'x', 1.5), (2, 'y', 2.5), (3, 'z', 3.5), (4, 'w', 4.5)"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.sql)))
			for b.Loop() {
				if _, err := Parse(bc.sql); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// connectorJProbe is the bulk variable SELECT Connector/J sends on connect.
func connectorJProbe() string {
	for _, tc := range corpus {
		if strings.HasPrefix(tc.sql, "/* mysql-connector-java") {
			return tc.sql
		}
	}
	panic("BUG: corpus lacks the Connector/J probe")
}

package peers

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/strata-db/strata/bench/ssb"
)

// queryText returns the query text system runs for q in schema ("flat" or
// "star"): bench/ssb's text without the trailing ';', with the dialect
// changes the system needs and nothing else.
func queryText(system, schema string, q ssb.Query) string {
	text := q.Flat
	if schema == "star" {
		text = q.Star
	}
	text = strings.TrimSuffix(strings.TrimSpace(text), ";")
	switch system {
	case "duckdb":
		return strings.ReplaceAll(text, " DIV ", " // ")
	case "clickhouse":
		text = divRE.ReplaceAllString(text, "intDiv($1, $2)")
		if schema == "star" {
			return clickhouseStar(text)
		}
	}
	return text
}

var divRE = regexp.MustCompile(`(\w+) DIV (\d+)`)

var (
	joinRE  = regexp.MustCompile(`(?is)\s+JOIN\s+(\w+)\s+ON\s+(\w+)\s*=\s*(\w+)`)
	fromRE  = regexp.MustCompile(`(?is)^(SELECT .*?)\s+FROM\s+lineorder\b(.*)$`)
	identRE = regexp.MustCompile(`\b(lo|c|s|p|d)_\w+\b`)
)

// dimPrefix maps a star dimension table to its column prefix.
var dimPrefix = map[string]string{"dates": "d_", "customer": "c_", "supplier": "s_", "part": "p_"}

// clickhouseStar rewrites a star query for ClickHouse 18.16, which allows
// one JOIN per SELECT: the joins become nested, each joining the previous
// level to a subquery that reads only the dimension columns the query uses,
// and every level passes on the columns later levels and the outer SELECT
// need. The outer WHERE, GROUP BY and ORDER BY are unchanged. A text that
// does not have the star queries' shape is returned as it is.
func clickhouseStar(text string) string {
	m := fromRE.FindStringSubmatch(text)
	if m == nil {
		return text
	}
	sel, rest := m[1], m[2]
	joins := joinRE.FindAllStringSubmatch(rest, -1)
	tail := joinRE.ReplaceAllString(rest, "")
	if len(joins) == 0 {
		return text
	}
	used := map[string]bool{}
	var usedOrder []string
	for _, id := range identRE.FindAllString(text, -1) {
		if !used[id] {
			used[id] = true
			usedOrder = append(usedOrder, id)
		}
	}
	colsWith := func(prefixes []string) []string {
		var out []string
		for _, c := range usedOrder {
			for _, p := range prefixes {
				if strings.HasPrefix(c, p) {
					out = append(out, c)
					break
				}
			}
		}
		return out
	}
	from := "lineorder"
	prefixes := []string{"lo_"}
	for _, j := range joins {
		dim, a, b := j[1], j[2], j[3]
		p := dimPrefix[dim]
		prefixes = append(prefixes, p)
		dimCols := colsWith([]string{p})
		from = fmt.Sprintf("(SELECT %s FROM %s ALL INNER JOIN (SELECT %s FROM %s) ON %s = %s)",
			strings.Join(colsWith(prefixes), ", "), from, strings.Join(dimCols, ", "), dim, a, b)
	}
	return sel + " FROM " + from + tail
}

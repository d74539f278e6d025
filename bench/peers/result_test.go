package peers

import (
	"bytes"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/bench/ssb"
)

func TestSameValue(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"446031203850", "446031203850", true},
		{"446031203850", "446031203851", false}, // integers are exact
		{"9223372036854775807", "9223372036854775806", false},
		{"123456789012345678901234567890", "123456789012345678901234567890", true},
		{"7", "7.0", true},
		{"7", "7.5", false},
		{"0.1", "0.1000000000001", true},
		{"0.1", "0.1001", false},
		{"1.5e3", "1500", true},
		{"MFGR#2239", "MFGR#2239", true},
		{"UNITED KI1", "UNITED KI5", false},
		{"", "0", false},
		{"NULL", "0", false},
	} {
		require.Equal(t, tc.want, sameValue(tc.a, tc.b), "%q vs %q", tc.a, tc.b)
		require.Equal(t, tc.want, sameValue(tc.b, tc.a), "%q vs %q", tc.b, tc.a)
	}
}

func TestFormatValue(t *testing.T) {
	require.Equal(t, "446031203850", formatValue(big.NewInt(446031203850)))
	require.Equal(t, "1993", formatValue(int64(1993)))
	require.Equal(t, "12", formatValue(int32(12)))
	require.Equal(t, "0.5", formatValue(0.5))
	require.Equal(t, "MFGR#12", formatValue([]byte("MFGR#12")))
	require.Equal(t, "ASIA", formatValue("ASIA"))
	require.Equal(t, "NULL", formatValue(nil))
}

func res(rows ...string) *Result {
	r := &Result{}
	for _, row := range rows {
		r.Rows = append(r.Rows, strings.Split(row, ","))
	}
	return r
}

func TestDiff(t *testing.T) {
	a := res("1993,CHINA,10", "1993,JAPAN,20")
	require.Empty(t, Diff(a, res("1993,CHINA,10", "1993,JAPAN,20")))
	require.Empty(t, Diff(a, res("1993,JAPAN,20", "1993,CHINA,10")), "order is not compared")
	require.Empty(t, Diff(res("10"), res("10.0")))
	require.Contains(t, Diff(a, res("1993,CHINA,10")), "2 rows, want 1")
	require.Contains(t, Diff(a, res("1993,CHINA,10", "1993,JAPAN,21")), "1993,JAPAN,20")
	require.Contains(t, Diff(a, res("1993,CHINA", "1993,JAPAN,20")), "values")
	require.Empty(t, Diff(&Result{}, &Result{}))
}

func TestJudge(t *testing.T) {
	order := []string{"strata", "duckdb", "clickhouse"}
	good, bad := res("1,2"), res("1,3")

	// The exact answer decides alone.
	v := judge(map[string]*Result{"strata": bad, "duckdb": good, "clickhouse": good}, order, good)
	require.Equal(t, []string{"strata"}, keys(v.wrong))
	require.Contains(t, v.wrong["strata"], "generator")

	// Without one, the majority.
	v = judge(map[string]*Result{"strata": good, "duckdb": bad, "clickhouse": good}, order, nil)
	require.Equal(t, []string{"duckdb"}, keys(v.wrong))
	require.Contains(t, v.wrong["duckdb"], "differs from strata")

	v = judge(map[string]*Result{"strata": good, "duckdb": good, "clickhouse": good}, order, nil)
	require.Empty(t, v.wrong)

	// Two systems that disagree: neither can be trusted.
	v = judge(map[string]*Result{"strata": good, "duckdb": bad}, order, nil)
	require.Len(t, v.wrong, 2)

	// One answer (the others failed): nothing to compare with.
	v = judge(map[string]*Result{"duckdb": good}, order, nil)
	require.Empty(t, v.wrong)
	require.Contains(t, v.note, "only duckdb")
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestTrimWriter(t *testing.T) {
	in := "1|a b|c.d|\n2|x|y|\n3|z|\n"
	for split := 0; split <= len(in); split++ {
		var b bytes.Buffer
		w := &trimWriter{w: &b}
		_, err := w.Write([]byte(in[:split]))
		require.NoError(t, err)
		_, err = w.Write(nil)
		require.NoError(t, err)
		_, err = w.Write([]byte(in[split:]))
		require.NoError(t, err)
		require.Equal(t, "1|a b|c.d\n2|x|y\n3|z\n", b.String(), "split at %d", split)
	}
}

func TestQueryText(t *testing.T) {
	q, _ := ssb.QueryByID("Q2.1")
	require.Contains(t, queryText("strata", "flat", q), "LO_ORDERDATE DIV 10000 AS year")
	require.NotContains(t, queryText("strata", "flat", q), ";")
	require.Contains(t, queryText("duckdb", "flat", q), "LO_ORDERDATE // 10000 AS year")
	require.Contains(t, queryText("clickhouse", "flat", q), "intDiv(LO_ORDERDATE, 10000) AS year")
	require.Equal(t, strings.TrimSuffix(q.Star, ";"), queryText("duckdb", "star", q))
}

func TestClickHouseStar(t *testing.T) {
	for _, q := range ssb.Queries() {
		text := queryText("clickhouse", "star", q)
		// One JOIN per SELECT, and the outer clauses kept.
		require.Equal(t, strings.Count(q.Star, " JOIN "), strings.Count(text, "ALL INNER JOIN"), q.ID)
		require.NotContains(t, strings.ReplaceAll(text, "ALL INNER JOIN", ""), " JOIN ", q.ID)
		_, where, _ := strings.Cut(q.Star, "WHERE")
		require.True(t, strings.HasSuffix(text, "WHERE"+strings.TrimSuffix(where, ";")), q.ID)
	}
	q, _ := ssb.QueryByID("Q1.1")
	require.Equal(t, "SELECT SUM(lo_extendedprice*lo_discount) AS revenue FROM "+
		"(SELECT lo_extendedprice, lo_discount, lo_orderdate, d_datekey, d_year, lo_quantity FROM lineorder "+
		"ALL INNER JOIN (SELECT d_datekey, d_year FROM dates) ON lo_orderdate = d_datekey)\n"+
		"WHERE d_year=1993 AND lo_discount BETWEEN 1 AND 3 AND lo_quantity<25",
		queryText("clickhouse", "star", q))
}

package ssb

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// naiveAnswers evaluates the 13 flat queries row by row over the text of
// lineorder_flat, with string predicates written from the SQL, as an
// independent check of FlatAnswers.
func naiveAnswers(t *testing.T, g *Generator) map[string]map[string]int64 {
	t.Helper()
	lines := table(t, g, "lineorder_flat", FlatOptions{})
	col := map[string]int{}
	for i, c := range FlatColumns {
		col[c] = i
	}
	out := map[string]map[string]int64{}
	add := func(id string, v int64, group ...string) {
		if out[id] == nil {
			out[id] = map[string]int64{}
		}
		out[id][strings.Join(group, ",")] += v
	}
	in := func(v string, set ...string) bool { return slices.Contains(set, v) }
	for _, line := range lines {
		f := strings.Split(line, "|")
		get := func(c string) string { return f[col[c]] }
		num := func(c string) int64 { return atoi(t, get(c)) }
		date, disc, qty := num("LO_ORDERDATE"), num("LO_DISCOUNT"), num("LO_QUANTITY")
		ext, rev := num("LO_EXTENDEDPRICE"), num("LO_REVENUE")
		profit := rev - num("LO_SUPPLYCOST")
		year := strconv.FormatInt(date/10000, 10)
		if date >= 19930101 && date <= 19931231 && disc >= 1 && disc <= 3 && qty < 25 {
			add("Q1.1", ext*disc)
		}
		if date >= 19940101 && date <= 19940131 && disc >= 4 && disc <= 6 && qty >= 26 && qty <= 35 {
			add("Q1.2", ext*disc)
		}
		if date >= 19940207 && date <= 19940213 && disc >= 5 && disc <= 7 && qty >= 26 && qty <= 35 {
			add("Q1.3", ext*disc)
		}
		brand, cat, sreg := get("P_BRAND"), get("P_CATEGORY"), get("S_REGION")
		if cat == "MFGR#12" && sreg == "AMERICA" {
			add("Q2.1", rev, year, brand)
		}
		if brand >= "MFGR#2221" && brand <= "MFGR#2228" && sreg == "ASIA" {
			add("Q2.2", rev, year, brand)
		}
		if brand == "MFGR#2239" && sreg == "EUROPE" {
			add("Q2.3", rev, year, brand)
		}
		ccity, scity := get("C_CITY"), get("S_CITY")
		if date <= 19971231 {
			if get("C_REGION") == "ASIA" && sreg == "ASIA" {
				add("Q3.1", rev, get("C_NATION"), get("S_NATION"), year)
			}
			if get("C_NATION") == "UNITED STATES" && get("S_NATION") == "UNITED STATES" {
				add("Q3.2", rev, ccity, scity, year)
			}
			if in(ccity, "UNITED KI1", "UNITED KI5") && in(scity, "UNITED KI1", "UNITED KI5") {
				add("Q3.3", rev, ccity, scity, year)
				if date >= 19971201 {
					add("Q3.4", rev, ccity, scity, year)
				}
			}
		}
		mfgr := get("P_MFGR")
		if get("C_REGION") == "AMERICA" && sreg == "AMERICA" && in(mfgr, "MFGR#1", "MFGR#2") {
			add("Q4.1", profit, year, get("C_NATION"))
			if date >= 19970101 && date <= 19981231 {
				add("Q4.2", profit, year, get("S_NATION"), cat)
			}
		}
		if get("S_NATION") == "UNITED STATES" && date >= 19970101 && date <= 19981231 && cat == "MFGR#14" {
			add("Q4.3", profit, year, scity, brand)
		}
	}
	return out
}

func TestFlatAnswers(t *testing.T) {
	g, err := New(0.05)
	require.NoError(t, err)
	got, err := g.FlatAnswers(context.Background(), 0)
	require.NoError(t, err)
	want := naiveAnswers(t, g)
	for _, q := range Queries() {
		ans, ok := got[q.ID]
		require.True(t, ok, q.ID)
		if q.Broad {
			require.NotEmpty(t, ans.Rows, q.ID)
		}
		require.LessOrEqual(t, len(ans.Rows), q.MaxGroups, q.ID)
		groups := map[string]int64{}
		for _, r := range ans.Rows {
			require.Len(t, r, q.Columns, q.ID)
			v := atoi(t, r[q.AggColumn])
			key := strings.Join(slices.Delete(slices.Clone(r), q.AggColumn, q.AggColumn+1), ",")
			groups[key] = v
		}
		if len(want[q.ID]) > 0 || len(groups) > 0 {
			require.Equal(t, want[q.ID], groups, q.ID)
		}
	}
	// ORDER BY: Q2 by year then brand; Q3 by year then revenue descending.
	q21 := got["Q2.1"].Rows
	require.True(t, slices.IsSortedFunc(q21, func(a, b []string) int {
		return cmp.Or(cmp.Compare(a[1], b[1]), cmp.Compare(a[2], b[2]))
	}))
	q31 := got["Q3.1"].Rows
	require.True(t, slices.IsSortedFunc(q31, func(a, b []string) int {
		return cmp.Or(cmp.Compare(a[2], b[2]), cmp.Compare(atoi(t, b[3]), atoi(t, a[3])))
	}))

	// Same answers with one worker; a cancelled context stops the work.
	one, err := g.FlatAnswers(context.Background(), 1)
	require.NoError(t, err)
	for id := range got {
		require.ElementsMatch(t, got[id].Rows, one[id].Rows, id)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = g.FlatAnswers(ctx, 2)
	require.ErrorIs(t, err, context.Canceled)
}

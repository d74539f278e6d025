package planner

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/types"
)

// A DATE column compared with a string constant that has a time of day
// compares as DATETIME, as in MySQL and Doris: dt < '2024-01-01 10:00:00'
// holds for 2024-01-01. The constant was cut to a DATE, in the filter and
// in the ranges that prune partitions and pages.
func TestDateAgainstDatetimeConstant(t *testing.T) {
	cat := testCatalog()
	sales := cat["d.sales"]
	d1, _ := types.ParseDate("2023-12-31")
	d2, _ := types.ParseDate("2024-01-01")
	tablets := memTablets{
		sales.Partitions[0].Tablets[0]: writeSegment(t, sales, []row{{dt: d1, id: 1, region: "a"}}),
		sales.Partitions[1].Tablets[0]: writeSegment(t, sales, []row{{dt: d2, id: 2, region: "b"}}),
	}
	count := func(where string) string {
		t.Helper()
		q := "SELECT count(*) FROM sales WHERE " + where
		st, err := sql.Parse(q)
		require.NoError(t, err)
		p := New(fakeSession{db: "d"}, cat, tablets)
		pl, err := p.PlanSelect(st.(*sql.SelectStmt), nil)
		require.NoError(t, err, q)
		rows := collect(t, p, pl, q)
		require.Len(t, rows, 1, q)
		return rows[0][0]
	}
	for _, c := range []struct{ where, want string }{
		{"dt < '2024-01-01 10:00:00'", "2"},
		{"dt <= '2024-01-01 00:00:00'", "2"},
		{"'2024-01-01 10:00:00' > dt", "2"},
		{"dt > '2023-12-31 10:00:00'", "1"},
		{"dt >= '2023-12-31 00:00:01'", "1"},
		{"dt = '2024-01-01 10:00:00'", "0"},
		{"dt = '2024-01-01 00:00:00'", "1"},
		{"dt BETWEEN '2023-12-31 12:00:00' AND '2024-01-01 12:00:00'", "1"},
		{"dt IN ('2024-01-01 10:00:00', '2023-12-31')", "1"},
		{"dt NOT IN ('2024-01-01 10:00:00')", "2"},
	} {
		require.Equal(t, c.want, count(c.where), c.where)
	}
}

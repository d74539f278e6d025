package planner

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/sql"
)

// Aggregates that differ only in the case of a string literal are two
// aggregates: MIN('b') was answered with MIN('B')'s value.
func TestAggregatesDifferingInStringCase(t *testing.T) {
	require.Equal(t, [][]string{{"B", "b", "b", "B", "2"}},
		run(t, "SELECT MIN('B'), MIN('b'), MAX('b'), max('B'), count(*) FROM (SELECT 1 AS a UNION ALL SELECT 2) t"))
	require.Equal(t, [][]string{{"xA", "xa"}},
		run(t, "SELECT MAX(concat(v, 'A')), max(CONCAT(v, 'a')) FROM (SELECT 'x' AS v) t"))
}

func TestCanonical(t *testing.T) {
	canon := func(q string) string {
		t.Helper()
		st, err := sql.Parse("SELECT " + q)
		require.NoError(t, err)
		return canonical(st.(*sql.SelectStmt).Body.(*sql.SelectBlock).Items[0].Expr)
	}
	require.Equal(t, canon("sum(a.x)"), canon("SUM(A.X)"))
	require.Equal(t, canon("concat(a.x, 'Ab')"), canon("CONCAT(A.X, 'Ab')"))
	require.NotEqual(t, canon("concat(a.x, 'Ab')"), canon("concat(a.x, 'ab')"))
	require.NotEqual(t, canon(`concat('It\'s', X)`), canon(`concat('it\'s', x)`))
	require.Equal(t, canon(`concat('It\'s', X)`), canon(`CONCAT('It\'s', x)`))
	require.Equal(t, canon("`Odd'Name` + 1"), canon("`odd'name` + 1"))
}

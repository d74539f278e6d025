package planner

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/types"
)

func viewOf(query string, cols ...string) *catalog.Table {
	v := &catalog.Table{View: &catalog.ViewDef{Query: query}}
	for _, c := range cols {
		v.Schema.Columns = append(v.Schema.Columns, catalog.Column{Name: c, Type: types.Int, Nullable: true})
	}
	return v
}

func TestViews(t *testing.T) {
	cat := testCatalog()
	add := func(name string, v *catalog.Table) {
		v.Name = name
		cat["d."+name] = v
	}
	add("consts", viewOf("SELECT 1 AS a, 2 AS b", "x", "y"))
	// Unqualified names in a view's query mean the view's database, not
	// the reader's.
	add("nested", viewOf("SELECT y + x AS s FROM consts WHERE x = 1", "s"))
	add("loop", viewOf("SELECT * FROM loop", "a"))
	add("stale", viewOf("SELECT no_such_column FROM consts", "a"))
	add("widened", viewOf("SELECT 1 AS a, 2 AS b", "a"))

	run := func(db, q string) ([][]string, error) {
		st, err := sql.Parse(q)
		require.NoError(t, err, q)
		p := New(fakeSession{db: db}, cat, noTablets{})
		pl, err := p.PlanSelect(st.(*sql.SelectStmt), nil)
		if err != nil {
			return nil, err
		}
		if pl.Fields[0].OrgName != "" {
			require.Equal(t, "d", pl.Fields[0].Schema, "a view's column reports the view's database")
		}
		return collect(t, p, pl, q), nil
	}
	rows, err := run("", "SELECT x, y FROM d.consts")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"1", "2"}}, rows)
	rows, err = run("", "SELECT v.s * 10 FROM d.nested v")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"30"}}, rows)
	rows, err = run("d", "SELECT c.y FROM consts c JOIN nested n ON c.x + 2 = n.s")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"2"}}, rows)

	_, err = run("d", "SELECT * FROM loop")
	require.ErrorContains(t, err, "nests views more than 32 deep")
	_, err = run("d", "SELECT * FROM stale")
	require.EqualValues(t, 1356, err.(*Error).Code)
	_, err = run("d", "SELECT * FROM widened")
	require.EqualValues(t, 1356, err.(*Error).Code, "a view whose query no longer has its columns' count")
	_, err = run("d", "SELECT * FROM consts PARTITION (p1)")
	require.ErrorContains(t, err, "is not BASE TABLE")

	// CREATE VIEW binds the query in the view's database too.
	st, err := sql.Parse("SELECT x AS first, y FROM consts")
	require.NoError(t, err)
	fields, err := New(fakeSession{db: ""}, cat, noTablets{}).ViewFields("d", st.(*sql.SelectStmt))
	require.NoError(t, err)
	require.Equal(t, "first", fields[0].Name)
	require.Equal(t, "y", fields[1].Name)
}

// information_schema's values compare without regard to case, as
// MySQL's do, but names keep theirs.
func TestSystemTableFoldCase(t *testing.T) {
	cat := testCatalog()
	upper := runOn(t, cat, "SELECT COUNT(*) FROM information_schema.columns WHERE TABLE_SCHEMA = 'd' AND IS_NULLABLE = 'YES'")
	lower := runOn(t, cat, "SELECT COUNT(*) FROM information_schema.columns WHERE TABLE_SCHEMA = 'd' AND IS_NULLABLE = 'yes'")
	require.Equal(t, upper, lower)
	require.NotEqual(t, "0", upper[0][0])
	in := runOn(t, cat, "SELECT COUNT(*) FROM information_schema.columns WHERE TABLE_SCHEMA = 'd' AND IS_NULLABLE IN ('yes', 'maybe')")
	require.Equal(t, upper, in)
	require.Equal(t, [][]string{{"0"}}, runOn(t, cat, "SELECT COUNT(*) FROM information_schema.columns WHERE TABLE_SCHEMA = 'D'"))
}

package planner

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/types"
)

// countingCatalog counts how often a system table lists all tables.
type countingCatalog struct {
	fakeCatalog
	listed int
}

func (c *countingCatalog) Tables(db string) []*catalog.Table {
	c.listed++
	return c.fakeCatalog.Tables(db)
}

func runOn(t *testing.T, cat Catalog, q string) [][]string {
	t.Helper()
	st, err := sql.Parse(q)
	require.NoError(t, err, q)
	p := New(fakeSession{db: "d"}, cat, noTablets{})
	pl, err := p.PlanSelect(st.(*sql.SelectStmt), nil)
	require.NoError(t, err, q)
	return collect(t, p, pl, q)
}

func TestSystemTableEqualityHints(t *testing.T) {
	cat := &countingCatalog{fakeCatalog: testCatalog()}
	// Equalities on the schema and table name columns lead the rows
	// function to the one table: nothing is listed.
	require.Equal(t, [][]string{{"city"}}, runOn(t, cat,
		"SELECT COLUMN_NAME FROM information_schema.columns WHERE TABLE_SCHEMA = 'd' AND TABLE_NAME = 'stores' AND COLUMN_NAME = 'city'"))
	require.Equal(t, [][]string{{"2"}}, runOn(t, cat,
		"SELECT ORDINAL_POSITION FROM information_schema.columns WHERE 'id' = COLUMN_NAME AND TABLE_NAME = 'sales' AND TABLE_SCHEMA = 'd'"))
	require.Zero(t, cat.listed)

	// Other shapes list, and the filter decides.
	require.Equal(t, [][]string{{"sales"}, {"stores"}}, runOn(t, cat,
		"SELECT TABLE_NAME FROM information_schema.tables WHERE TABLE_SCHEMA = 'd' ORDER BY 1"))
	require.Equal(t, [][]string{{"stores"}}, runOn(t, cat,
		"SELECT TABLE_NAME FROM information_schema.tables WHERE TABLE_SCHEMA = 'd' AND TABLE_NAME IN ('stores', 'nope')"))
	require.Equal(t, [][]string{{"d"}, {"information_schema"}}, runOn(t, cat,
		"SELECT DISTINCT TABLE_SCHEMA FROM information_schema.tables WHERE TABLE_SCHEMA = 'd' OR TABLE_SCHEMA = 'information_schema' ORDER BY 1"))
	require.Equal(t, 3, cat.listed)

	// An equality that matches nothing yields nothing.
	require.Empty(t, runOn(t, cat, "SELECT * FROM information_schema.columns WHERE TABLE_SCHEMA = 'nope'"))
	require.Empty(t, runOn(t, cat, "SELECT * FROM information_schema.columns WHERE TABLE_SCHEMA = 'd' AND TABLE_NAME = 'D'"))
}

// Doris's hidden columns are left out, and positions count visible columns.
func TestSystemTableHiddenColumns(t *testing.T) {
	cat := testCatalog()
	cat["d.u"] = &catalog.Table{
		Name: "u", KeysType: catalog.UniqueKeys, KeyColumns: []string{"id"},
		Schema: catalog.Schema{Columns: []catalog.Column{
			{ID: 1, Name: "id", Type: types.BigInt, IsKey: true},
			{ID: 3, Name: "__DORIS_DELETE_SIGN__", Type: types.TinyInt},
			{ID: 2, Name: "name", Type: types.Varchar(8), Nullable: true},
		}},
	}
	require.Equal(t, [][]string{{"id", "1", "UNI"}, {"name", "2", ""}}, runOn(t, cat,
		"SELECT COLUMN_NAME, ORDINAL_POSITION, COLUMN_KEY FROM information_schema.columns WHERE TABLE_NAME = 'u' ORDER BY 2"))
}

func TestSystemTableBindErrors(t *testing.T) {
	_, err := plan(t, "SELECT * FROM information_schema.nope")
	require.ErrorContains(t, err, "Unknown table 'nope' in information_schema")
	_, err = plan(t, "SELECT NOPE FROM information_schema.tables")
	require.ErrorContains(t, err, "Unknown column 'NOPE'")
	_, err = plan(t, "SELECT * FROM information_schema.tables PARTITION (p)")
	require.ErrorContains(t, err, "not supported")
}

func TestTimeZone(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int // offset in seconds at the unix epoch
	}{
		{"UTC", 0}, {"+08:00", 8 * 3600}, {"-05:30", -(5*3600 + 30*60)}, {"Asia/Shanghai", 8 * 3600},
	} {
		_, off := time.Unix(0, 0).In(TimeZone(tc.in)).Zone()
		require.Equal(t, tc.want, off, tc.in)
	}
}

package catalog

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/types"
)

func newView(name, query string, cols ...string) *Table {
	v := &Table{Name: name, View: &ViewDef{Query: query}}
	for _, c := range cols {
		v.Schema.Columns = append(v.Schema.Columns, Column{Name: c, Type: types.Int, Nullable: true})
	}
	return v
}

func TestViewCRUD(t *testing.T) {
	ctx := testCtx(t)
	c := openCatalog(t, testStore)
	dbName := uniq("db")
	require.NoError(t, c.CreateDatabase(ctx, dbName, false))
	require.NoError(t, c.CreateTable(ctx, dbName, newTable("base", 1), false))

	v := newView("v", "SELECT a FROM base", "a")
	require.NoError(t, c.CreateView(ctx, dbName, v, false, false))
	require.Positive(t, v.ID)
	got, err := c.Snapshot().Table(dbName, "v")
	require.NoError(t, err)
	require.True(t, got.IsView())
	require.Empty(t, got.Partitions)
	require.Equal(t, "SELECT a FROM base", got.View.Query)
	require.Equal(t, uint32(1), got.Schema.Columns[0].ID)

	// Views and tables share one namespace.
	require.ErrorIs(t, c.CreateView(ctx, dbName, newView("base", "SELECT 1", "x"), true, false), ErrTableExists)
	require.ErrorIs(t, c.CreateTable(ctx, dbName, newTable("v", 1), false), ErrTableExists)
	require.ErrorIs(t, c.CreateView(ctx, dbName, newView("v", "SELECT 2", "y"), false, false), ErrTableExists)

	// IF NOT EXISTS keeps the old definition; OR REPLACE swaps it, same id.
	require.NoError(t, c.CreateView(ctx, dbName, newView("v", "SELECT 2", "y"), false, true))
	got, _ = c.Snapshot().Table(dbName, "v")
	require.Equal(t, "SELECT a FROM base", got.View.Query)
	r := newView("v", "SELECT a, a AS b FROM base", "a", "b")
	require.NoError(t, c.CreateView(ctx, dbName, r, true, false))
	require.Equal(t, v.ID, r.ID)
	got, _ = c.Snapshot().Table(dbName, "v")
	require.Equal(t, "SELECT a, a AS b FROM base", got.View.Query)
	require.Len(t, got.Schema.Columns, 2)

	require.ErrorIs(t, c.CreateView(ctx, dbName, &Table{Name: "novalue"}, false, false), ErrInvalid)
	require.ErrorIs(t, c.CreateView(ctx, "no_such_db", newView("w", "SELECT 1", "x"), false, false), ErrDBNotFound)

	require.NoError(t, c.DropTable(ctx, dbName, "v", false))
	_, err = c.Snapshot().Table(dbName, "v")
	require.ErrorIs(t, err, ErrTableNotFound)
}

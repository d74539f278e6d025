package loader

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

func partialTable(mow bool) *catalog.Table {
	t := &catalog.Table{Name: "t", KeysType: catalog.UniqueKeys, Schema: catalog.Schema{Columns: []catalog.Column{
		{Name: "id", Type: types.BigInt, IsKey: true},
		{Name: "a", Type: types.Int, Nullable: true},
		{Name: "b", Type: types.Int, Default: strp("7")},
		{Name: "c", Type: types.Int},
		{Name: catalog.DeleteSignColumn, Type: types.TinyInt, Default: strp("0")},
		{Name: catalog.SequenceColumn, Type: types.BigInt, Nullable: true},
	}}}
	if !mow {
		t.Properties = map[string]string{catalog.PropMergeOnWrite: "false"}
	}
	return t
}

func TestPlanPartialUpdate(t *testing.T) {
	tbl := partialTable(true)
	p, err := PlanPartialUpdate(tbl, []int{0, 1}, false, false, true)
	require.NoError(t, err)
	require.Equal(t, &PartialUpdate{Columns: []int{0, 1}, NewKeyError: true, Unfillable: "c"}, p)

	// The sequence and the delete sign count when the load sets them.
	p, err = PlanPartialUpdate(tbl, []int{0, 3}, true, true, false)
	require.NoError(t, err)
	require.Equal(t, &PartialUpdate{Columns: []int{0, 3, 4, 5}}, p)

	// Every visible column given: an upsert.
	p, err = PlanPartialUpdate(tbl, []int{3, 2, 1, 0}, false, false, false)
	require.NoError(t, err)
	require.Nil(t, p)

	for _, tc := range []struct {
		tbl    *catalog.Table
		listed []int
		want   string
	}{
		{partialTable(false), []int{0, 1}, "Only unique key merge on write support partial update"},
		{&catalog.Table{KeysType: catalog.DupKeys, Schema: tbl.Schema}, []int{0, 1}, "Only unique key merge on write support partial update"},
		{tbl, []int{1, 2}, "Partial update should include all key columns, missing: id"},
		{tbl, []int{0, 5}, "Partial update should not include invisible column except delete sign column: " + catalog.SequenceColumn},
	} {
		_, err := PlanPartialUpdate(tc.tbl, tc.listed, false, false, false)
		require.EqualError(t, err, tc.want)
	}
}

func TestStreamLoadPartialUpdate(t *testing.T) {
	c := newTestCluster(t)
	res, raw := c.load(t, c.be.URL, "u", strings.NewReader("1,x\n2,y"), map[string]string{
		"label": "p1", "column_separator": ",", "partial_columns": "true", "columns": "id,name"})
	require.Equal(t, StatusSuccess, res.Status, raw)
	l := c.backend.loads["p1"]
	require.Equal(t, &PartialUpdate{Columns: []int{0, 1}}, l.partial)
	require.Equal(t, [][]string{{"1", "x", "NULL", "NULL", "0"}, {"2", "y", "NULL", "NULL", "0"}}, c.backend.rows("u"))

	// Without columns, or with all of them, a plain upsert.
	res, raw = c.load(t, c.be.URL, "u", strings.NewReader("3,z,1,1"), map[string]string{
		"label": "p2", "column_separator": ",", "partial_columns": "true"})
	require.Equal(t, StatusSuccess, res.Status, raw)
	require.Nil(t, c.backend.loads["p2"].partial)

	for label, tc := range map[string]struct {
		table string
		hdr   map[string]string
		want  string
	}{
		"p3": {"d", map[string]string{"columns": "id,name"}, "Only unique key merge on write support partial update"},
		"p4": {"u", map[string]string{"columns": "name"}, "Partial update should include all key columns, missing: id"},
		"p5": {"u", map[string]string{"columns": "id,name", "partial_update_new_key_behavior": "x"}, "Invalid partial_update_new_key_behavior X"},
	} {
		hdr := map[string]string{"label": label, "column_separator": ",", "partial_columns": "true"}
		for k, v := range tc.hdr {
			hdr[k] = v
		}
		res, raw := c.load(t, c.be.URL, tc.table, strings.NewReader("1,x"), hdr)
		require.Equal(t, StatusFail, res.Status, raw)
		require.Contains(t, res.Message, tc.want, label)
	}
}

// A placeholder lets a row leave out a NOT NULL column without a default:
// it holds the type's zero, valid.
func TestBatchBuilderPlaceholder(t *testing.T) {
	cols := []catalog.Column{{Name: "k", Type: types.BigInt}, {Name: "s", Type: types.Varchar(8)}, {Name: "d", Type: types.Date}}
	bb, err := NewBatchBuilder(cols, time.Now())
	require.NoError(t, err)
	require.NoError(t, bb.Set(0, []byte("1")))
	require.Error(t, bb.EndRow(), "no default, no placeholder")
	bb.DiscardRow()
	bb.Placeholder(1)
	bb.Placeholder(2)
	require.NoError(t, bb.Set(0, []byte("1")))
	require.NoError(t, bb.EndRow())
	arrs := bb.Build()
	defer func() {
		for _, a := range arrs {
			a.Release()
		}
	}()
	require.Equal(t, [][]string{{"1", "", "1970-01-01"}}, rowsOf(arrs))
	require.Zero(t, arrs[1].NullN()+arrs[2].NullN())
}

package planner

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// memTablets serves segments written in memory, one per tablet.
type memTablets map[int64]*storage.Segment

func (m memTablets) ReadTablet(id, _ int64) (TabletData, error) {
	if s, ok := m[id]; ok {
		return TabletData{Segments: []*storage.Segment{s}, Release: func() {}}, nil
	}
	return TabletData{Release: func() {}}, nil
}

type row struct {
	dt     int32
	id     int64
	region string
	qty    *int32
	cents  int64
}

// writeSegment writes rows (already in key order) of the sales schema.
func writeSegment(t *testing.T, tbl *catalog.Table, rows []row) *storage.Segment {
	t.Helper()
	mem := memory.DefaultAllocator
	dt := array.NewDate32Builder(mem)
	id := array.NewInt64Builder(mem)
	rg := array.NewStringBuilder(mem)
	qt := array.NewInt32Builder(mem)
	pr := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 10, Scale: 2})
	for _, r := range rows {
		dt.Append(arrow.Date32(r.dt))
		id.Append(r.id)
		rg.Append(r.region)
		if r.qty == nil {
			qt.AppendNull()
		} else {
			qt.Append(*r.qty)
		}
		pr.Append(decimal128.FromI64(r.cents))
	}
	cols := []arrow.Array{dt.NewArray(), id.NewArray(), rg.NewArray(), qt.NewArray(), pr.NewArray()}
	var meta []storage.ColumnMeta
	for _, c := range tbl.Schema.Columns {
		meta = append(meta, storage.ColumnMeta{ID: c.ID, Type: c.Type.Arrow(), Nullable: c.Nullable})
	}
	var buf bytes.Buffer
	w, err := storage.NewWriter(&buf, meta, storage.WriterOptions{PageRows: 512, NumSortKeys: 2})
	require.NoError(t, err)
	require.NoError(t, w.Append(cols))
	_, err = w.Finish()
	require.NoError(t, err)
	seg, err := storage.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	return seg
}

func TestQueriesOverSegments(t *testing.T) {
	cat := testCatalog()
	sales := cat["d.sales"]
	r := rand.New(rand.NewPCG(1, 2))
	regions := []string{"east", "west", "north"}
	byTablet := map[int64][]row{}
	var all []row
	for i := 0; i < 20000; i++ {
		d, _ := types.ParseDate(fmt.Sprintf("%d-%02d-%02d", 2023+r.IntN(3), 1+r.IntN(12), 1+r.IntN(28)))
		x := row{dt: d, id: int64(i), region: regions[r.IntN(3)], cents: int64(r.IntN(100000))}
		if r.IntN(5) > 0 {
			q := int32(r.IntN(50))
			x.qty = &q
		}
		part := 0
		if d >= 19723 { // 2024-01-01
			part = 1
		}
		if d >= 20089 { // 2025-01-01
			part = 2
		}
		tablet := sales.Partitions[part].Tablets[i%2]
		byTablet[tablet] = append(byTablet[tablet], x)
		all = append(all, x)
	}
	tablets := memTablets{}
	for id, rows := range byTablet {
		sort.Slice(rows, func(i, j int) bool {
			if rows[i].dt != rows[j].dt {
				return rows[i].dt < rows[j].dt
			}
			return rows[i].id < rows[j].id
		})
		tablets[id] = writeSegment(t, sales, rows)
	}
	query := func(q string) []string {
		st, err := sql.Parse(q)
		require.NoError(t, err)
		p := New(fakeSession{db: "d"}, cat, tablets)
		pl, err := p.PlanSelect(st.(*sql.SelectStmt), nil)
		require.NoError(t, err, q)
		var out []string
		for _, r := range collect(t, p, pl, q) {
			out = append(out, strings.Join(r, "|"))
		}
		return out
	}

	var n, qty int64
	for _, x := range all {
		if x.qty != nil {
			qty += int64(*x.qty)
		}
		n++
	}
	require.Equal(t, []string{fmt.Sprintf("%d|%d", n, qty)}, query("SELECT count(*), sum(qty) FROM sales"))

	lo, _ := types.ParseDate("2024-03-01")
	hi, _ := types.ParseDate("2024-06-15")
	counts := map[string]int{}
	for _, x := range all {
		if x.dt >= lo && x.dt < hi && x.qty != nil && *x.qty > 10 {
			counts[x.region]++
		}
	}
	var want []string
	for _, k := range []string{"east", "north", "west"} {
		want = append(want, fmt.Sprintf("%s|%d", k, counts[k]))
	}
	require.Equal(t, want, query("SELECT region, count(*) FROM sales WHERE dt >= '2024-03-01' AND dt < '2024-06-15' AND qty > 10 GROUP BY region ORDER BY region"))

	sort.Slice(all, func(i, j int) bool {
		if all[i].cents != all[j].cents {
			return all[i].cents > all[j].cents
		}
		return all[i].id < all[j].id
	})
	want = nil
	for _, x := range all[2:5] {
		want = append(want, fmt.Sprintf("%d", x.id))
	}
	require.Equal(t, want, query("SELECT id FROM sales ORDER BY price DESC, id LIMIT 3 OFFSET 2"))
}

package planner

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// routingSession is fakeSession with use_rollup set.
type routingSession struct {
	fakeSession
	useRollup string
}

func (s routingSession) Variable(name string) string {
	if name == routingVariable {
		return s.useRollup
	}
	return s.fakeSession.Variable(name)
}

func ptrTo(s string) *string { return &s }

// dupTable is a duplicate-key table sorted on (dt, id) with two rollups
// and two materialized views, one of them still being built:
//
//	r_region   DUP  region, dt | id, qty, price
//	r_id       DUP  id | region, qty
//	mv_agg     AGG  region, dt | sum, min, max and count of qty, count(*),
//	                bitmap_union(to_bitmap(uid)), hll_union(hll_hash(name)),
//	                sum(price), hll_union(hll_hash(qty))
//	mv_shadow  AGG  region | sum(qty)   (SHADOW)
func dupTable() *catalog.Table {
	col := func(id uint32, name string, t types.Type, key, null bool) catalog.Column {
		return catalog.Column{ID: id, Name: name, Type: t, IsKey: key, Nullable: null}
	}
	dt := col(1, "dt", types.Date, true, false)
	id := col(2, "id", types.BigInt, true, false)
	region := col(3, "region", types.Varchar(16), false, true)
	qty := col(4, "qty", types.Int, false, true)
	price := col(5, "price", types.Decimal(10, 2), false, true)
	uid := col(6, "uid", types.BigInt, false, true)
	name := col(7, "name", types.Varchar(16), false, true)
	t := &catalog.Table{
		Name: "t", KeysType: catalog.DupKeys, KeyColumns: []string{"dt", "id"},
		Schema:        catalog.Schema{Columns: []catalog.Column{dt, id, region, qty, price, uid, name}},
		PartitionType: catalog.RangePartitioned, PartitionColumns: []string{"dt"},
		Partitions: []catalog.Partition{
			{Name: "p2023", Upper: catalog.PartitionBound{Values: []string{"2024-01-01"}}, Tablets: []int64{1, 2}, VisibleVersion: 3},
			{Name: "p2024", Lower: catalog.PartitionBound{Values: []string{"2024-01-01"}}, Upper: catalog.PartitionBound{MaxValue: true}, Tablets: []int64{3, 4}, VisibleVersion: 3},
		},
		Distribution: catalog.Distribution{Type: catalog.HashDistributed, Columns: []string{"id"}, Buckets: 2},
	}
	key := func(c catalog.Column) catalog.Column { c.IsKey, c.AggType = true, ""; return c }
	val := func(c catalog.Column) catalog.Column { c.IsKey, c.AggType = false, ""; return c }
	agg := func(c catalog.Column, id uint32, name, aggType string, typ types.Type) catalog.Column {
		c.ID, c.Name, c.IsKey, c.AggType, c.Type = id, name, false, aggType, typ
		return c
	}
	copies := func(cols ...catalog.Column) []catalog.ColumnDefine {
		var d []catalog.ColumnDefine
		for _, c := range cols {
			d = append(d, catalog.ColumnDefine{Base: c.ID})
		}
		return d
	}
	rRegion := []catalog.Column{key(region), key(dt), val(id), val(qty), val(price)}
	rID := []catalog.Column{key(id), val(region), val(qty)}
	mvAgg := []catalog.Column{
		key(region), key(dt),
		agg(qty, 20, "mv_sum_qty", "SUM", types.BigInt),
		agg(qty, 4, "mv_min_qty", "MIN", types.Int),
		agg(qty, 21, "mv_max_qty", "MAX", types.Int),
		{ID: 22, Name: "mv_count_qty", Type: types.BigInt, AggType: "SUM", Default: ptrTo("0")},
		{ID: 23, Name: "mv_count_star", Type: types.BigInt, AggType: "SUM", Default: ptrTo("0")},
		{ID: 24, Name: "mv_bitmap_union_uid", Type: types.Bitmap, AggType: "BITMAP_UNION"},
		{ID: 25, Name: "mv_hll_union_name", Type: types.HLL, AggType: "HLL_UNION"},
		agg(price, 26, "mv_sum_price", "SUM", types.Decimal(38, 2)),
		{ID: 29, Name: "mv_hll_union_qty", Type: types.HLL, AggType: "HLL_UNION"},
	}
	mvAggDefines := append(copies(region, dt),
		catalog.ColumnDefine{Base: 4}, catalog.ColumnDefine{Base: 4}, catalog.ColumnDefine{Base: 4},
		catalog.ColumnDefine{Base: 4, Func: catalog.DefineCount}, catalog.ColumnDefine{Func: catalog.DefineCountStar},
		catalog.ColumnDefine{Base: 6, Func: catalog.DefineToBitmap}, catalog.ColumnDefine{Base: 7, Func: catalog.DefineHLLHash},
		catalog.ColumnDefine{Base: 5}, catalog.ColumnDefine{Base: 4, Func: catalog.DefineHLLHash})
	mvShadow := []catalog.Column{key(region), agg(qty, 27, "mv_sum_qty", "SUM", types.BigInt)}
	t.Indexes = []catalog.Index{
		{ID: 100, Name: "r_region", State: catalog.IndexNormal, KeysType: catalog.DupKeys,
			Schema: catalog.Schema{Columns: rRegion}, Defines: copies(rRegion...)},
		{ID: 101, Name: "r_id", State: catalog.IndexNormal, KeysType: catalog.DupKeys,
			Schema: catalog.Schema{Columns: rID}, Defines: copies(rID...)},
		{ID: 102, Name: "mv_agg", MV: true, State: catalog.IndexNormal, KeysType: catalog.AggKeys,
			Schema: catalog.Schema{Columns: mvAgg}, Defines: mvAggDefines},
		{ID: 103, Name: "mv_shadow", MV: true, State: catalog.IndexShadow, KeysType: catalog.AggKeys,
			Schema: catalog.Schema{Columns: mvShadow}, Defines: append(copies(region), catalog.ColumnDefine{Base: 4})},
	}
	t.NewIndexTablets(100, 100)
	t.NewIndexTablets(101, 200)
	t.NewIndexTablets(102, 300)
	t.NewIndexTablets(103, 400)
	return t
}

// aggTable is an aggregate-key table with a rollup on fewer keys, one with
// every key in another order, and a materialized view:
//
//	ra    k2 | vs SUM, vmax MAX
//	rall  k3, k1, k2 | vs SUM, vrep REPLACE
//	mva   k1 | mv_sum_vs SUM, mv_min_vmin MIN
func aggTable() *catalog.Table {
	k1 := catalog.Column{ID: 1, Name: "k1", Type: types.Int, IsKey: true}
	k2 := catalog.Column{ID: 2, Name: "k2", Type: types.Int, IsKey: true}
	k3 := catalog.Column{ID: 3, Name: "k3", Type: types.Varchar(8), IsKey: true}
	vs := catalog.Column{ID: 4, Name: "vs", Type: types.BigInt, AggType: "SUM", Default: ptrTo("0")}
	vmax := catalog.Column{ID: 5, Name: "vmax", Type: types.Int, AggType: "MAX", Nullable: true}
	vmin := catalog.Column{ID: 6, Name: "vmin", Type: types.Int, AggType: "MIN", Nullable: true}
	vrep := catalog.Column{ID: 7, Name: "vrep", Type: types.Int, AggType: "REPLACE", Nullable: true}
	t := &catalog.Table{
		Name: "a", KeysType: catalog.AggKeys, KeyColumns: []string{"k1", "k2", "k3"},
		Schema:       catalog.Schema{Columns: []catalog.Column{k1, k2, k3, vs, vmax, vmin, vrep}},
		Partitions:   []catalog.Partition{{Name: "a", Tablets: []int64{11, 12}, VisibleVersion: 2}},
		Distribution: catalog.Distribution{Type: catalog.HashDistributed, Columns: []string{"k1"}, Buckets: 2},
	}
	copies := func(cols ...catalog.Column) []catalog.ColumnDefine {
		var d []catalog.ColumnDefine
		for _, c := range cols {
			d = append(d, catalog.ColumnDefine{Base: c.ID})
		}
		return d
	}
	ra := []catalog.Column{k2, vs, vmax}
	rall := []catalog.Column{k3, k1, k2, vs, vrep}
	sumVS := vs
	sumVS.ID, sumVS.Name = 30, "mv_sum_vs"
	minV := vmin
	minV.Name = "mv_min_vmin"
	mva := []catalog.Column{k1, sumVS, minV}
	t.Indexes = []catalog.Index{
		{ID: 500, Name: "ra", State: catalog.IndexNormal, KeysType: catalog.AggKeys, Schema: catalog.Schema{Columns: ra}, Defines: copies(ra...)},
		{ID: 501, Name: "rall", State: catalog.IndexNormal, KeysType: catalog.AggKeys, Schema: catalog.Schema{Columns: rall}, Defines: copies(rall...)},
		{ID: 502, Name: "mva", MV: true, State: catalog.IndexNormal, KeysType: catalog.AggKeys, Schema: catalog.Schema{Columns: mva},
			Defines: []catalog.ColumnDefine{{Base: 1}, {Base: 4}, {Base: 6}}},
	}
	t.NewIndexTablets(500, 500)
	t.NewIndexTablets(501, 600)
	t.NewIndexTablets(502, 700)
	return t
}

// indexFixture is a catalog of d.t and d.a with data in every tablet of
// every index, the indexes' rows computed from the base's by
// sink.IndexProjection as a load computes them.
type indexFixture struct {
	cat     fakeCatalog
	tablets memTablets
}

func newIndexFixture(t *testing.T) *indexFixture {
	f := &indexFixture{cat: testCatalog(), tablets: memTablets{}}
	dup, agg := dupTable(), aggTable()
	f.cat["d.t"], f.cat["d.a"] = dup, agg
	r := rand.New(rand.NewPCG(7, 11))
	mem := memory.DefaultAllocator

	// d.t: 6000 rows over two partitions and two buckets.
	regions := []string{"east", "west", "north", "south"}
	type dupRow struct {
		dt           int32
		id           int64
		region, name *string
		qty          *int32
		price        *int64
		uid          *int64
	}
	byTablet := map[[2]int][]dupRow{} // partition, bucket
	for i := 0; i < 6000; i++ {
		d, err := types.ParseDate(fmt.Sprintf("%d-%02d-%02d", 2023+r.IntN(2), 1+r.IntN(12), 1+r.IntN(3)))
		require.NoError(t, err)
		x := dupRow{dt: d, id: int64(r.IntN(3000))}
		if r.IntN(10) > 0 {
			x.region = &regions[r.IntN(len(regions))]
		}
		if r.IntN(6) > 0 {
			q := int32(r.IntN(200) - 50)
			x.qty = &q
		}
		if r.IntN(6) > 0 {
			p := int64(r.IntN(1_000_000))
			x.price = &p
		}
		if r.IntN(6) > 0 {
			u := int64(r.IntN(500)) // to_bitmap keeps non-negative values only
			x.uid = &u
		}
		if r.IntN(6) > 0 {
			n := fmt.Sprintf("n%d", r.IntN(300))
			x.name = &n
		}
		part := 0
		if x.dt >= 19723 { // 2024-01-01
			part = 1
		}
		k := [2]int{part, testBucket(2, x.id)}
		byTablet[k] = append(byTablet[k], x)
	}
	for k, rows := range byTablet {
		dt, id := array.NewDate32Builder(mem), array.NewInt64Builder(mem)
		region, qty := array.NewStringBuilder(mem), array.NewInt32Builder(mem)
		price := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 10, Scale: 2})
		uid, name := array.NewInt64Builder(mem), array.NewStringBuilder(mem)
		for _, x := range rows {
			dt.Append(arrow.Date32(x.dt))
			id.Append(x.id)
			appendOpt(region, x.region, func(v string) { region.Append(v) })
			appendOpt(qty, x.qty, func(v int32) { qty.Append(v) })
			appendOpt(price, x.price, func(v int64) { price.Append(decimal128.FromI64(v)) })
			appendOpt(uid, x.uid, func(v int64) { uid.Append(v) })
			appendOpt(name, x.name, func(v string) { name.Append(v) })
		}
		cols := []arrow.Array{dt.NewArray(), id.NewArray(), region.NewArray(), qty.NewArray(), price.NewArray(), uid.NewArray(), name.NewArray()}
		f.store(t, dup, dup.Partitions[k[0]], k[1], cols)
	}

	// d.a: 3000 rows loaded as they come, several per key, folded when read.
	var k1, k2, vmax, vmin, vrep []int32
	var k3 []string
	var vs []int64
	nulls := map[string][]bool{}
	for i := 0; i < 3000; i++ {
		k1 = append(k1, int32(r.IntN(40)))
		k2 = append(k2, int32(r.IntN(6)))
		k3 = append(k3, fmt.Sprintf("x%d", r.IntN(5)))
		vs = append(vs, int64(r.IntN(100)))
		vmax = append(vmax, int32(r.IntN(1000)))
		vmin = append(vmin, int32(r.IntN(1000)))
		vrep = append(vrep, int32(r.IntN(1000)))
		for _, c := range []string{"vmax", "vmin", "vrep"} {
			nulls[c] = append(nulls[c], r.IntN(8) == 0)
		}
	}
	for b := 0; b < 2; b++ {
		ints := func(vals []int32, null []bool) arrow.Array {
			bld := array.NewInt32Builder(mem)
			for i, v := range vals {
				switch {
				case testBucket(2, int64(k1[i])) != b:
				case null != nil && null[i]:
					bld.AppendNull()
				default:
					bld.Append(v)
				}
			}
			return bld.NewArray()
		}
		s3, s4 := array.NewStringBuilder(mem), array.NewInt64Builder(mem)
		for i := range k1 {
			if testBucket(2, int64(k1[i])) == b {
				s3.Append(k3[i])
				s4.Append(vs[i])
			}
		}
		cols := []arrow.Array{ints(k1, nil), ints(k2, nil), s3.NewArray(), s4.NewArray(),
			ints(vmax, nulls["vmax"]), ints(vmin, nulls["vmin"]), ints(vrep, nulls["vrep"])}
		f.store(t, agg, agg.Partitions[0], b, cols)
	}
	return f
}

func appendOpt[T any](b array.Builder, v *T, app func(T)) {
	if v == nil {
		b.AppendNull()
		return
	}
	app(*v)
}

// store writes base rows (in load order) into the tablet of bucket b of
// partition p, and their projection into the same bucket of every index.
func (f *indexFixture) store(t *testing.T, tbl *catalog.Table, p catalog.Partition, b int, cols []arrow.Array) {
	t.Helper()
	f.tablets[p.Tablets[b]] = sortedSegment(t, tbl.Schema, cols)
	for i := range tbl.Indexes {
		ix := &tbl.Indexes[i]
		proj, err := sink.NewIndexProjection(tbl, ix)
		require.NoError(t, err)
		out, err := proj.Project(cols)
		require.NoError(t, err)
		f.tablets[p.IndexTablets[ix.ID][b]] = sortedSegment(t, ix.Schema, out)
	}
}

// sortedSegment writes the rows stably sorted on the schema's keys, as a
// memtable flush does (an aggregate index's rows are folded when read).
func sortedSegment(t *testing.T, schema catalog.Schema, cols []arrow.Array) *storage.Segment {
	t.Helper()
	n := cols[0].Len()
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	numKeys := schema.NumKeys()
	sort.SliceStable(perm, func(x, y int) bool {
		for _, c := range cols[:numKeys] {
			if v := compareCell(c, perm[x], perm[y]); v != 0 {
				return v < 0
			}
		}
		return false
	})
	idx := array.NewInt64Builder(memory.DefaultAllocator)
	for _, i := range perm {
		idx.Append(int64(i))
	}
	indices := idx.NewArray()
	sorted := make([]arrow.Array, len(cols))
	for i, c := range cols {
		a, err := compute.TakeArray(context.Background(), c, indices)
		require.NoError(t, err)
		sorted[i] = a
	}
	var meta []storage.ColumnMeta
	for _, c := range schema.Columns {
		meta = append(meta, storage.ColumnMeta{ID: c.ID, Type: c.Type.Arrow(), Nullable: c.Nullable})
	}
	var buf bytes.Buffer
	w, err := storage.NewWriter(&buf, meta, storage.WriterOptions{PageRows: 256, NumSortKeys: numKeys})
	require.NoError(t, err)
	require.NoError(t, w.Append(sorted))
	_, err = w.Finish()
	require.NoError(t, err)
	seg, err := storage.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	return seg
}

// compareCell orders two rows of a key column, NULLs first.
func compareCell(a arrow.Array, i, j int) int {
	switch {
	case a.IsNull(i) && a.IsNull(j):
		return 0
	case a.IsNull(i):
		return -1
	case a.IsNull(j):
		return 1
	}
	switch c := a.(type) {
	case *array.Int32:
		return cmpOrdered(c.Value(i), c.Value(j))
	case *array.Int64:
		return cmpOrdered(c.Value(i), c.Value(j))
	case *array.Date32:
		return cmpOrdered(c.Value(i), c.Value(j))
	case *array.String:
		return strings.Compare(c.Value(i), c.Value(j))
	}
	panic(fmt.Sprintf("compareCell: %T", a))
}

func cmpOrdered[T int32 | int64 | arrow.Date32](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// plan plans q with routing on or off.
func (f *indexFixture) plan(t *testing.T, q string, on bool) (*Planner, *Plan) {
	t.Helper()
	st, err := sql.Parse(q)
	require.NoError(t, err, q)
	use := "1"
	if !on {
		use = "0"
	}
	p := New(routingSession{fakeSession{db: "d"}, use}, f.cat, f.tablets)
	pl, err := p.PlanSelect(st.(*sql.SelectStmt), nil)
	require.NoError(t, err, q)
	return p, pl
}

func (f *indexFixture) explain(t *testing.T, q string, on bool) string {
	t.Helper()
	_, pl := f.plan(t, q, on)
	return strings.Join(pl.Explain(), "\n")
}

// rows runs q and returns its rows as sorted text.
func (f *indexFixture) rows(t *testing.T, q string, on bool) []string {
	t.Helper()
	p, pl := f.plan(t, q, on)
	var out []string
	for _, r := range collect(t, p, pl, q) {
		out = append(out, strings.Join(r, "|"))
	}
	sort.Strings(out)
	return out
}

var indexNames = []string{"r_region", "r_id", "mv_agg", "mv_shadow", "ra", "rall", "mva"}

// readsIndexes lists the indexes an EXPLAIN names, in order, with the base
// named by its table.
func readsIndexes(explain string) []string {
	var out []string
	for _, line := range strings.Split(explain, "\n") {
		_, rest, ok := strings.Cut(line, "OlapScanNode TABLE: ")
		if !ok {
			continue
		}
		_, rest, _ = strings.Cut(rest, "(")
		name, _, _ := strings.Cut(rest, ")")
		out = append(out, name)
	}
	return out
}

// TestIndexSelection plans queries that an index can answer and ones it
// cannot, checks which index each scan reads, and that the rows are the
// ones the base gives.
func TestIndexSelection(t *testing.T) {
	f := newIndexFixture(t)
	for _, tc := range []struct {
		q    string
		read []string // the index each scan reads, the table's name for the base
	}{
		// Aggregating materialized view: every mapped aggregate.
		{"SELECT region, sum(qty), min(qty), max(qty), count(qty), count(*) FROM t GROUP BY region", []string{"mv_agg"}},
		{"SELECT region, dt, count(DISTINCT uid), approx_count_distinct(name), ndv(name) FROM t GROUP BY region, dt", []string{"mv_agg"}},
		{"SELECT bitmap_union_count(to_bitmap(uid)), hll_union_agg(hll_hash(name)), bitmap_count(bitmap_union(to_bitmap(uid))) FROM t", []string{"mv_agg"}},
		{"SELECT sum(price), count(*) FROM t WHERE region = 'east'", []string{"mv_agg"}},
		{"SELECT count(*) FROM t", []string{"mv_agg"}},
		{"SELECT count(1), count(id), max(qty) FROM t WHERE dt >= '2024-01-01' AND region = 'south'", []string{"mv_agg"}},
		// The base's sort key starts with dt: it wins on the prefix.
		{"SELECT count(1), count(id), max(qty) FROM t WHERE dt >= '2024-01-01'", []string{"t"}},
		{"SELECT count(*), count(qty), sum(qty) FROM t WHERE region = 'nowhere'", []string{"mv_agg"}},
		{"SELECT DISTINCT region FROM t", []string{"mv_agg"}},
		{"SELECT region, max(dt), count(DISTINCT dt) FROM t GROUP BY region", []string{"mv_agg"}},
		{"SELECT x.r, sum(x.q) FROM (SELECT region AS r, qty AS q, dt FROM t WHERE region > 'e') x WHERE x.r <> 'north' AND x.dt < '2024-01-01' GROUP BY x.r", []string{"mv_agg"}},
		{"SELECT region FROM t GROUP BY region HAVING count(*) > 100 ORDER BY sum(qty) DESC", []string{"mv_agg"}},
		{"SELECT upper(region), sum(qty) + 1 FROM t WHERE region IN ('east', 'west') GROUP BY upper(region)", []string{"mv_agg"}},
		// Duplicate rollups by the prefix of their sort key.
		{"SELECT region, qty FROM t WHERE region = 'west'", []string{"r_region"}},
		{"SELECT id, qty FROM t WHERE id = 17", []string{"r_id"}},
		{"SELECT id, qty FROM t WHERE dt = '2024-02-03' AND id < 500", []string{"t"}},
		{"SELECT a.id, b.qty FROM t a JOIN t b ON a.id = b.id WHERE a.id IN (2, 5, 8, 17, 40, 41, 42, 43) AND b.region = 'east'", []string{"r_id", "r_region"}},
		{"SELECT region, sum(qty) FROM t WHERE region = 'north' AND qty > 10 GROUP BY region", []string{"r_region"}},
		// Refused by the aggregating view: a value column outside an
		// aggregate, a filter on one, aggregates it cannot answer.
		{"SELECT region, qty FROM t GROUP BY region, qty", []string{"t"}},
		{"SELECT region, sum(qty) FROM t WHERE qty > 10 GROUP BY region", []string{"t"}},
		{"SELECT region, avg(qty) FROM t GROUP BY region", []string{"t"}},
		{"SELECT region, sum(qty + 1) FROM t GROUP BY region", []string{"t"}},
		{"SELECT region, sum(uid) FROM t GROUP BY region", []string{"t"}},
		{"SELECT region, count(name) FROM t GROUP BY region", []string{"t"}},
		{"SELECT region, group_concat(name) FROM t GROUP BY region", []string{"t"}},
		{"SELECT region, sum(DISTINCT qty) FROM t GROUP BY region", []string{"t"}},
		// hll_hash hashes an INT's text, approx_count_distinct its bytes.
		{"SELECT region, approx_count_distinct(qty) FROM t GROUP BY region", []string{"t"}},
		{"SELECT region, hll_union_agg(hll_hash(qty)) FROM t GROUP BY region", []string{"mv_agg"}},
		{"SELECT region, id, sum(qty) FROM t GROUP BY region, id", []string{"t"}},
		// An aggregate table: its rollup on fewer keys answers aggregates
		// of its columns' own aggregation, the rollup with every key any
		// query of its columns.
		{"SELECT k2, sum(vs), max(vmax) FROM a GROUP BY k2", []string{"ra"}},
		{"SELECT DISTINCT k2 FROM a", []string{"ra"}},
		{"SELECT k1, sum(vs), min(vmin) FROM a GROUP BY k1", []string{"mva"}},
		{"SELECT k3, k1, k2, vrep, vs FROM a WHERE k3 = 'x3'", []string{"rall"}},
		{"SELECT k3, max(vrep) FROM a WHERE k3 = 'x1' GROUP BY k3", []string{"rall"}},
		{"SELECT k2, min(vmin) FROM a GROUP BY k2", []string{"a"}},
		{"SELECT k2, max(vs) FROM a GROUP BY k2", []string{"a"}},
		{"SELECT k2, count(*) FROM a GROUP BY k2", []string{"a"}},
		{"SELECT k2, sum(vs) FROM a WHERE vmax > 500 GROUP BY k2", []string{"a"}},
		{"SELECT k1, k2, vs FROM a WHERE k1 = 3", []string{"a"}},
	} {
		on := f.explain(t, tc.q, true)
		require.Equal(t, tc.read, readsIndexes(on), "%s\n%s", tc.q, on)
		off := f.explain(t, tc.q, false)
		for _, name := range readsIndexes(off) {
			require.NotContains(t, indexNames, name, "routing off: %s\n%s", tc.q, off)
		}
		want := f.rows(t, tc.q, false)
		require.NotEmpty(t, want, tc.q)
		require.Equal(t, want, f.rows(t, tc.q, true), "%s\n%s", tc.q, on)
	}
}

// A global count read from a materialized view is a sum of its counts,
// which over no rows is NULL: the count is still 0.
func TestIndexSelectionCountOfNothing(t *testing.T) {
	f := newIndexFixture(t)
	q := "SELECT count(*), count(qty), count(DISTINCT uid), sum(qty) FROM t WHERE region = 'nowhere'"
	require.Contains(t, f.explain(t, q, true), "(mv_agg)")
	require.Equal(t, []string{"0|0|0|NULL"}, f.rows(t, q, true))
	require.Equal(t, []string{"0|0|0|NULL"}, f.rows(t, q, false))
}

// A SHADOW index is never read, however well it would do.
func TestIndexSelectionSkipsShadow(t *testing.T) {
	f := newIndexFixture(t)
	q := "SELECT region, sum(qty) FROM t GROUP BY region"
	require.Equal(t, []string{"mv_agg"}, readsIndexes(f.explain(t, q, true)))
	f.cat["d.t"].Indexes[3].State = catalog.IndexNormal
	require.Equal(t, []string{"mv_shadow"}, readsIndexes(f.explain(t, q, true)), "fewer keys, fewer rows")
	// Nor an index some partition has no tablets of.
	delete(f.cat["d.t"].Partitions[1].IndexTablets, 103)
	require.Equal(t, []string{"mv_agg"}, readsIndexes(f.explain(t, q, true)))
}

// Random aggregations over random filters give the same rows with the
// choice of index on and off.
func TestIndexSelectionRandomQueries(t *testing.T) {
	f := newIndexFixture(t)
	r := rand.New(rand.NewPCG(3, 5))
	groups := []string{"region", "dt", "region, dt", ""}
	aggs := []string{"sum(qty)", "min(qty)", "max(qty)", "count(qty)", "count(*)", "count(DISTINCT uid)",
		"approx_count_distinct(name)", "sum(price)", "max(dt)", "min(region)", "count(DISTINCT region)", "avg(qty)", "sum(id)"}
	filters := []string{"", "region = 'east'", "region IN ('north', 'south')", "dt >= '2024-03-01'",
		"dt BETWEEN '2023-02-01' AND '2024-02-01' AND region <> 'west'", "region IS NULL", "qty > 20", "id < 1000"}
	hits := 0
	for i := 0; i < 60; i++ {
		g := groups[r.IntN(len(groups))]
		var items []string
		if g != "" {
			items = append(items, g)
		}
		for range 1 + r.IntN(3) {
			items = append(items, aggs[r.IntN(len(aggs))])
		}
		q := "SELECT " + strings.Join(items, ", ") + " FROM t"
		if w := filters[r.IntN(len(filters))]; w != "" {
			q += " WHERE " + w
		}
		if g != "" {
			q += " GROUP BY " + g
		}
		if strings.Contains(f.explain(t, q, true), "(mv_agg)") {
			hits++
		}
		require.Equal(t, f.rows(t, q, false), f.rows(t, q, true), q)
	}
	require.Greater(t, hits, 10)
}

// EXPLAIN names the index a scan reads and shows the aggregates rewritten
// onto its columns, with Doris's PREAGGREGATION.
func TestIndexSelectionExplain(t *testing.T) {
	f := newIndexFixture(t)
	got := f.explain(t, "SELECT region, sum(qty), count(*) FROM t WHERE region = 'east' GROUP BY region", true)
	require.Contains(t, got, "OlapScanNode TABLE: d.t(mv_agg), PREAGGREGATION: ON partitions=2/2 tablets=4 columns=[t.region, t.mv_sum_qty, t.mv_count_star]")
	require.Contains(t, got, "output [sum(t.mv_sum_qty), sum(t.mv_count_star)]")
	require.Contains(t, got, "predicates: (t.region = 'east')")

	got = f.explain(t, "SELECT sum(qty) FROM t WHERE dt >= '2024-05-01' AND region = 'east'", true)
	require.Contains(t, got, "TABLE: d.t(mv_agg), PREAGGREGATION: ON partitions=1/2", "partitions are pruned on the index too")

	got = f.explain(t, "SELECT region, sum(qty), count(*) FROM t WHERE region = 'east' GROUP BY region", false)
	require.Contains(t, got, "OlapScanNode TABLE: d.t(t), PREAGGREGATION: ON")

	got = f.explain(t, "SELECT k2, sum(vs) FROM a GROUP BY k2", true)
	require.Contains(t, got, "TABLE: d.a(ra), PREAGGREGATION: ON")
	got = f.explain(t, "SELECT k2, sum(vs) FROM a GROUP BY k2", false)
	require.Contains(t, got, "TABLE: d.a(a), PREAGGREGATION: ON")
	got = f.explain(t, "SELECT k2, count(*) FROM a GROUP BY k2", true)
	require.Contains(t, got, "TABLE: d.a(a), PREAGGREGATION: OFF")
	require.Contains(t, got, "preaggregation off: no column of a answers count(*)")
	got = f.explain(t, "SELECT k1, vs FROM a", true)
	require.Contains(t, got, "TABLE: d.a(a), PREAGGREGATION: OFF")
	require.Contains(t, got, "preaggregation off: no aggregation reads the scan")
}

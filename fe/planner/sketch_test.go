package planner

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/be/sketch"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// uvTable has a column of each sketch type, as a duplicate-key table (the
// aggregate-key tables that usually hold them are read the same way once
// folded).
func uvTable() *catalog.Table {
	return &catalog.Table{
		Name: "uv", KeysType: catalog.DupKeys, KeyColumns: []string{"dt", "id"},
		Schema: catalog.Schema{Columns: []catalog.Column{
			{ID: 1, Name: "dt", Type: types.Int, IsKey: true},
			{ID: 2, Name: "id", Type: types.BigInt, IsKey: true},
			{ID: 3, Name: "user", Type: types.BigInt, Nullable: true},
			{ID: 4, Name: "name", Type: types.Varchar(16), Nullable: true},
			{ID: 5, Name: "v", Type: types.Bitmap, Nullable: true},
			{ID: 6, Name: "h", Type: types.HLL, Nullable: true},
		}},
		Partitions:   []catalog.Partition{{Name: "uv", Tablets: []int64{21, 22}, VisibleVersion: 1}},
		Distribution: catalog.Distribution{Type: catalog.HashDistributed, Columns: []string{"id"}, Buckets: 2},
	}
}

type uvRow struct {
	dt, id int64
	user   *int64
	name   *string
	v      *sketch.Bitmap
	h      *sketch.HLL
}

func writeUVSegment(t *testing.T, tbl *catalog.Table, rows []uvRow) *storage.Segment {
	t.Helper()
	mem := memory.DefaultAllocator
	dt, id, user := array.NewInt32Builder(mem), array.NewInt64Builder(mem), array.NewInt64Builder(mem)
	name, v, h := array.NewStringBuilder(mem), array.NewStringBuilder(mem), array.NewStringBuilder(mem)
	for _, r := range rows {
		dt.Append(int32(r.dt))
		id.Append(r.id)
		if r.user != nil {
			user.Append(*r.user)
		} else {
			user.AppendNull()
		}
		if r.name != nil {
			name.Append(*r.name)
		} else {
			name.AppendNull()
		}
		if r.v != nil {
			v.Append(string(r.v.Serialize()))
		} else {
			v.AppendNull()
		}
		if r.h != nil {
			h.Append(string(r.h.Serialize()))
		} else {
			h.AppendNull()
		}
	}
	cols := []arrow.Array{dt.NewArray(), id.NewArray(), user.NewArray(), name.NewArray(), v.NewArray(), h.NewArray()}
	var meta []storage.ColumnMeta
	for _, c := range tbl.Schema.Columns {
		meta = append(meta, storage.ColumnMeta{ID: c.ID, Type: c.Type.Arrow(), Nullable: c.Nullable})
	}
	var buf bytes.Buffer
	w, err := storage.NewWriter(&buf, meta, storage.WriterOptions{PageRows: 256, NumSortKeys: 2})
	require.NoError(t, err)
	require.NoError(t, w.Append(cols))
	_, err = w.Finish()
	require.NoError(t, err)
	seg, err := storage.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	return seg
}

type uvFixture struct {
	cat     fakeCatalog
	tablets memTablets
	rows    []uvRow
}

func newUVFixture(t *testing.T) *uvFixture {
	tbl := uvTable()
	r := rand.New(rand.NewPCG(5, 6))
	byTablet := map[int64][]uvRow{}
	var all []uvRow
	for i := 0; i < 4000; i++ {
		x := uvRow{dt: int64(1 + r.IntN(3)), id: int64(i)}
		if r.IntN(8) > 0 {
			u := int64(r.IntN(700))
			if r.IntN(100) == 0 {
				u = math.MaxInt64
			}
			x.user = &u
		}
		if r.IntN(8) > 0 {
			n := "n" + strconv.Itoa(r.IntN(300))
			x.name = &n
		}
		if r.IntN(8) > 0 {
			x.v = sketch.BitmapOf(uint64(r.IntN(400)), uint64(r.IntN(400)))
			if r.IntN(30) == 0 {
				x.v.Add(math.MaxUint64)
			}
		}
		if r.IntN(8) > 0 {
			x.h = sketch.NewHLL()
			x.h.Add(sketch.HashString(strconv.Itoa(r.IntN(5000))))
		}
		tablet := tbl.Partitions[0].Tablets[i%2]
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
		tablets[id] = writeUVSegment(t, tbl, rows)
	}
	cat := testCatalog()
	cat["d.uv"] = tbl
	return &uvFixture{cat: cat, tablets: tablets, rows: all}
}

func (f *uvFixture) planner() *Planner { return New(fakeSession{db: "d"}, f.cat, f.tablets) }

func (f *uvFixture) query(t *testing.T, q string) [][]string {
	t.Helper()
	st, err := sql.Parse(q)
	require.NoError(t, err, q)
	p := f.planner()
	pl, err := p.PlanSelect(st.(*sql.SelectStmt), nil)
	require.NoError(t, err, q)
	return collect(t, p, pl, q)
}

func (f *uvFixture) planErr(t *testing.T, q string) *Error {
	t.Helper()
	st, err := sql.Parse(q)
	require.NoError(t, err, q)
	_, err = f.planner().PlanSelect(st.(*sql.SelectStmt), nil)
	require.Error(t, err, q)
	var pe *Error
	require.True(t, errors.As(err, &pe), "%s: %v", q, err)
	return pe
}

func TestSketchQueries(t *testing.T) {
	f := newUVFixture(t)
	type day struct {
		union, ints *sketch.Bitmap
		hll         *sketch.HLL
		names       map[string]bool
		users       map[int64]bool
	}
	days := map[int64]*day{}
	for _, r := range f.rows {
		d := days[r.dt]
		if d == nil {
			d = &day{union: sketch.NewBitmap(), ints: sketch.NewBitmap(), hll: sketch.NewHLL(), names: map[string]bool{}, users: map[int64]bool{}}
			days[r.dt] = d
		}
		if r.v != nil {
			d.union.Or(r.v)
		}
		if r.h != nil {
			d.hll.Union(r.h)
		}
		if r.name != nil {
			d.names[*r.name] = true
		}
		if r.user != nil {
			d.users[*r.user] = true
			d.ints.Add(uint64(*r.user))
		}
	}
	got := f.query(t, "SELECT dt, bitmap_count(bitmap_union(v)), bitmap_union_count(v), count(DISTINCT v), "+
		"hll_union_agg(h), count(DISTINCT h), hll_cardinality(hll_union(h)), hll_cardinality(hll_raw_agg(h)), "+
		"approx_count_distinct(name), ndv(user), bitmap_to_string(bitmap_agg(user)), bitmap_union_int(user) "+
		"FROM uv GROUP BY dt ORDER BY dt")
	require.Len(t, got, 3)
	for _, row := range got {
		dt, err := strconv.ParseInt(row[0], 10, 64)
		require.NoError(t, err)
		d := days[dt]
		card := strconv.FormatUint(d.union.Cardinality(), 10)
		est := strconv.FormatInt(d.hll.Estimate(), 10)
		require.Equal(t, []string{card, card, card, est, est, est, est}, row[1:8], "dt %d", dt)
		names, _ := strconv.Atoi(row[8])
		users, _ := strconv.Atoi(row[9])
		require.InEpsilon(t, len(d.names), names, 0.02)
		require.InEpsilon(t, len(d.users), users, 0.02)
		require.Equal(t, d.ints.ToString(), row[10])
		require.Equal(t, strconv.FormatUint(d.ints.Cardinality(), 10), row[11])
	}

	// Scalar functions over columns, in WHERE and the select list.
	var want int
	for _, r := range f.rows {
		if r.v != nil && r.v.Contains(math.MaxUint64) {
			want++
		}
	}
	got = f.query(t, "SELECT count(*) FROM uv WHERE bitmap_contains(v, -1)")
	require.Equal(t, [][]string{{strconv.Itoa(want)}}, got)
	got = f.query(t, "SELECT bitmap_to_string(bitmap_intersect(bitmap_or(v, to_bitmap(7)))) FROM uv WHERE v IS NOT NULL")
	require.Equal(t, [][]string{{"7"}}, got)
	got = f.query(t, "SELECT bitmap_count(bitmap_union(to_bitmap(user))), hll_union_agg(hll_hash(name)) FROM uv WHERE dt = 2")
	require.Equal(t, strconv.FormatUint(days[2].ints.Cardinality(), 10), got[0][0])

	// A raw sketch column reads back its bytes (the session shows NULL).
	got = f.query(t, "SELECT v, h FROM uv WHERE id = 0")
	r0 := f.rows[0]
	if r0.v != nil {
		require.Equal(t, string(r0.v.Serialize()), got[0][0])
	}

	// EXPLAIN: the sketch aggregates run in the parallel pipeline.
	st, err := sql.Parse("SELECT dt, bitmap_union_count(v), ndv(name) FROM uv GROUP BY dt")
	require.NoError(t, err)
	pl, err := f.planner().PlanSelect(st.(*sql.SelectStmt), nil)
	require.NoError(t, err)
	require.Contains(t, strings.Join(pl.Explain(), "\n"), "bitmap_union_count(")
}

func TestSketchMisuse(t *testing.T) {
	f := newUVFixture(t)
	for _, q := range []string{
		"SELECT v FROM uv GROUP BY v",
		"SELECT h, count(*) FROM uv GROUP BY 1",
		"SELECT v FROM uv ORDER BY v",
		"SELECT id FROM uv ORDER BY h",
		"SELECT DISTINCT v FROM uv",
		"SELECT DISTINCT id, h FROM uv",
		"SELECT v FROM uv UNION SELECT v FROM uv",
		"SELECT id FROM uv WHERE v = v",
		"SELECT id FROM uv WHERE h IN (h)",
		"SELECT id FROM uv WHERE v",
		"SELECT id FROM uv a JOIN uv b ON a.v = b.v",
		"SELECT v + 1 FROM uv",
		"SELECT id FROM uv WHERE v LIKE 'a%'",
		"SELECT greatest(v, v) FROM uv",
		"SELECT nullif(h, h) FROM uv",
	} {
		pe := f.planErr(t, q)
		require.Equal(t, ErrUnknown, pe.Code, q)
		require.Equal(t, exec.OnlyMetricTypeMsg, pe.Msg, q)
	}
	for _, tc := range []struct {
		q    string
		code uint16
		msg  string
	}{
		{"SELECT count(DISTINCT v, id) FROM uv", ErrUnknown, "COUNT DISTINCT could not process type count(DISTINCT "},
		{"SELECT sum(v) FROM uv", ErrWrongArguments, "sum does not accept BITMAP"},
		{"SELECT max(h) FROM uv", ErrWrongArguments, "max does not accept HLL"},
		{"SELECT bitmap_union(user) FROM uv", ErrWrongArguments, "Can not find the compatibility function signature: bitmap_union(BIGINT)"},
		{"SELECT hll_union_agg(v) FROM uv", ErrWrongArguments, "hll_union_agg(BITMAP)"},
		{"SELECT bitmap_count(name) FROM uv", ErrWrongArguments, "Can not find the compatibility function signature: bitmap_count(VARCHAR(16))"},
		{"SELECT length(v) FROM uv", ErrWrongArguments, "length(BITMAP)"},
		{"SELECT concat(v, 'x') FROM uv", ErrWrongArguments, "concat(BITMAP, VARCHAR(1))"},
		{"SELECT CAST(v AS STRING) FROM uv", ErrWrongArguments, "cannot cast BITMAP to TEXT"},
		{"SELECT CAST(name AS BITMAP) FROM uv", ErrWrongArguments, "cannot cast VARCHAR(16) to BITMAP"},
		{"SELECT bitmap_union(v) FROM uv WHERE bitmap_union(v) IS NULL", ErrInvalidGroupFunc, "group function"},
	} {
		pe := f.planErr(t, tc.q)
		require.Equal(t, tc.code, pe.Code, "%s: %s", tc.q, pe.Msg)
		require.Contains(t, pe.Msg, tc.msg, tc.q)
	}
	// What stays allowed: counting, IS NULL, IF/COALESCE, UNION ALL, CAST to
	// the same type or of NULL.
	for _, q := range []string{
		"SELECT count(v), count(h) FROM uv WHERE v IS NULL OR h IS NOT NULL",
		"SELECT bitmap_count(coalesce(v, bitmap_empty())), hll_cardinality(if(id > 5, h, hll_empty())) FROM uv",
		"SELECT bitmap_count(v) FROM (SELECT v FROM uv UNION ALL SELECT to_bitmap(1)) t",
		"SELECT bitmap_count(CAST(v AS BITMAP)), CAST(NULL AS HLL) FROM uv",
	} {
		f.query(t, q)
	}
}

// TestSketchConstants covers what INSERT ... VALUES evaluates: constant
// sketch expressions become literals of their type holding the serialized
// value, which exec.NewValues takes for a BITMAP or HLL column.
func TestSketchConstants(t *testing.T) {
	p := New(fakeSession{db: "d"}, testCatalog(), noTablets{})
	eval := func(q string) *exec.Literal {
		t.Helper()
		st, err := sql.Parse("SELECT " + q)
		require.NoError(t, err)
		e := st.(*sql.SelectStmt).Body.(*sql.SelectBlock).Items[0].Expr
		l, err := p.EvalConstant(e, nil)
		require.NoError(t, err, q)
		return l
	}
	for _, tc := range []struct {
		expr string
		t    types.Type
		text string // bitmap_to_string, or the HLL estimate
	}{
		{"to_bitmap(5)", types.Bitmap, "5"},
		{"to_bitmap('18446744073709551615')", types.Bitmap, "18446744073709551615"},
		{"to_bitmap(-1)", types.Bitmap, ""},
		{"to_bitmap(NULL)", types.Bitmap, ""},
		{"bitmap_from_string('3,1,2')", types.Bitmap, "1,2,3"},
		{"bitmap_or(to_bitmap(1), bitmap_hash('abc'))", types.Bitmap, "1,3409700625"},
		{"bitmap_empty()", types.Bitmap, ""},
		{"hll_hash('a')", types.HLL, "1"},
		{"hll_hash(NULL)", types.HLL, "0"},
		{"hll_empty()", types.HLL, "0"},
	} {
		l := eval(tc.expr)
		require.Equal(t, tc.t, l.Type(), tc.expr)
		raw := l.Value.(string)
		if tc.t == types.Bitmap {
			b, err := sketch.DeserializeBitmap(raw)
			require.NoError(t, err)
			require.Equal(t, tc.text, b.ToString(), tc.expr)
		} else {
			h, err := sketch.DeserializeHLL(raw)
			require.NoError(t, err)
			require.Equal(t, tc.text, fmt.Sprint(h.Estimate()), tc.expr)
		}
		// The value goes into a VALUES operator of the column's type.
		_, err := exec.NewValues([]types.Type{tc.t}, [][]any{{l.Value}})
		require.NoError(t, err)
	}
	require.True(t, eval("bitmap_from_string('x')").IsNull())
	require.Equal(t, [][]string{{"1,2", "3", "2"}}, run(t, "SELECT bitmap_to_string(bitmap_or(to_bitmap(1), to_bitmap(2))), "+
		"bitmap_count(bitmap_from_string('1,2,3')), bitmap_max(to_bitmap(2))"))
}

// TestInsertSelectSketchTypes checks what INSERT ... SELECT relies on: the
// select list reports BITMAP and HLL fields and produces their values.
func TestInsertSelectSketchTypes(t *testing.T) {
	f := newUVFixture(t)
	st, err := sql.Parse("SELECT id, to_bitmap(user), hll_hash(name), v FROM uv WHERE dt = 1")
	require.NoError(t, err)
	p := f.planner()
	pl, err := p.PlanSelect(st.(*sql.SelectStmt), nil)
	require.NoError(t, err)
	var ts []types.Type
	for _, fd := range pl.Fields {
		ts = append(ts, fd.Type)
	}
	require.Equal(t, []types.Type{types.BigInt, types.Bitmap, types.HLL, types.Bitmap}, ts)
	rows := collect(t, p, pl, "insert select")
	require.NotEmpty(t, rows)
	byID := map[string]uvRow{}
	for _, r := range f.rows {
		byID[strconv.FormatInt(r.id, 10)] = r
	}
	for _, row := range rows {
		r := byID[row[0]]
		b, err := sketch.DeserializeBitmap(row[1])
		require.NoError(t, err)
		if r.user != nil {
			require.Equal(t, strconv.FormatInt(*r.user, 10), b.ToString())
		} else {
			require.True(t, b.IsEmpty())
		}
		h, err := sketch.DeserializeHLL(row[2])
		require.NoError(t, err)
		if r.name != nil {
			require.Equal(t, int64(1), h.Estimate())
		}
	}
}

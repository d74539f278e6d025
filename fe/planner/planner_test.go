package planner

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/types"
)

type fakeSession struct{ db string }

func (f fakeSession) CurrentDB() string      { return f.db }
func (f fakeSession) User() string           { return "root@localhost" }
func (f fakeSession) ConnectionID() uint32   { return 7 }
func (f fakeSession) Variable(string) string { return "5.7.99" }
func (f fakeSession) SystemVariable(name, scope string) (string, bool, error) {
	if name == "nope" {
		return "", false, &Error{Code: ErrUnknownSysVar, Msg: "Unknown system variable 'nope'"}
	}
	return "42", true, nil
}
func (f fakeSession) UserVariable(string) any { return nil }

type fakeCatalog map[string]*catalog.Table

func (c fakeCatalog) Table(db, name string) (*catalog.Table, bool) {
	t, ok := c[db+"."+name]
	return t, ok
}
func (c fakeCatalog) HasDatabase(db string) bool { return db == "d" }
func (c fakeCatalog) Databases() []*catalog.Database {
	return []*catalog.Database{{ID: 1, Name: "d"}}
}
func (c fakeCatalog) Tables(db string) []*catalog.Table {
	var out []*catalog.Table
	for k, t := range c {
		if strings.HasPrefix(k, db+".") {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *catalog.Table) int { return strings.Compare(a.Name, b.Name) })
	return out
}

type noTablets struct{}

func (noTablets) ReadTablet(int64, int64) (TabletData, error) {
	return TabletData{Release: func() {}}, nil
}

func testCatalog() fakeCatalog {
	sales := &catalog.Table{
		Name: "sales", KeysType: catalog.DupKeys, KeyColumns: []string{"dt", "id"},
		Schema: catalog.Schema{Columns: []catalog.Column{
			{ID: 1, Name: "dt", Type: types.Date, IsKey: true},
			{ID: 2, Name: "id", Type: types.BigInt, IsKey: true},
			{ID: 3, Name: "region", Type: types.Varchar(16), Nullable: true},
			{ID: 4, Name: "qty", Type: types.Int, Nullable: true},
			{ID: 5, Name: "price", Type: types.Decimal(10, 2), Nullable: true},
		}},
		PartitionType: catalog.RangePartitioned, PartitionColumns: []string{"dt"},
		Partitions: []catalog.Partition{
			{Name: "p2023", Upper: catalog.PartitionBound{Values: []string{"2024-01-01"}}, Tablets: []int64{1, 2}, VisibleVersion: 1},
			{Name: "p2024", Lower: catalog.PartitionBound{Values: []string{"2024-01-01"}}, Upper: catalog.PartitionBound{Values: []string{"2025-01-01"}}, Tablets: []int64{3, 4}, VisibleVersion: 1},
			{Name: "pmax", Lower: catalog.PartitionBound{Values: []string{"2025-01-01"}}, Upper: catalog.PartitionBound{MaxValue: true}, Tablets: []int64{5, 6}, VisibleVersion: 1},
		},
		Distribution: catalog.Distribution{Type: catalog.HashDistributed, Columns: []string{"id"}, Buckets: 2},
	}
	stores := &catalog.Table{
		Name: "stores", KeysType: catalog.DupKeys, KeyColumns: []string{"id"},
		Schema: catalog.Schema{Columns: []catalog.Column{
			{ID: 1, Name: "id", Type: types.BigInt, IsKey: true},
			{ID: 2, Name: "city", Type: types.Varchar(32), Nullable: true},
		}},
		Partitions:   []catalog.Partition{{Name: "stores", Tablets: []int64{9}, VisibleVersion: 1}},
		Distribution: catalog.Distribution{Type: catalog.HashDistributed, Columns: []string{"id"}, Buckets: 1},
	}
	return fakeCatalog{"d.sales": sales, "d.stores": stores}
}

func plan(t *testing.T, q string) (*Plan, error) {
	t.Helper()
	st, err := sql.Parse(q)
	require.NoError(t, err, q)
	p := New(fakeSession{db: "d"}, testCatalog(), noTablets{})
	return p.PlanSelect(st.(*sql.SelectStmt), nil)
}

func explain(t *testing.T, q string) string {
	t.Helper()
	pl, err := plan(t, q)
	require.NoError(t, err, q)
	return strings.Join(pl.Explain(), "\n")
}

func TestPartitionPruning(t *testing.T) {
	for _, tc := range []struct {
		where string
		want  string
	}{
		{"dt >= '2024-03-01' AND dt < '2024-06-15'", "partitions=1/3"},
		{"dt < '2024-01-01'", "partitions=1/3"},
		{"dt <= '2024-01-01'", "partitions=2/3"},
		{"dt BETWEEN '2023-06-01' AND '2024-06-01'", "partitions=2/3"},
		{"dt IN ('2023-05-05', '2026-01-01')", "partitions=3/3"},
		{"dt = '2030-01-01'", "partitions=1/3"},
		{"'2024-02-02' = dt", "partitions=1/3"},
		{"dt > '2024-05-01' AND dt < '2024-04-01'", "partitions=0/3"},
		{"region = 'x'", "partitions=3/3"},
		{"dt >= '2024-03-01' OR id = 3", "partitions=3/3"},
	} {
		got := explain(t, "SELECT count(*) FROM sales WHERE "+tc.where)
		require.Contains(t, got, tc.want, tc.where)
	}
}

func TestColumnPruningAndPushdown(t *testing.T) {
	got := explain(t, "SELECT s.region, sum(s.qty) FROM sales s JOIN stores st ON s.id = st.id WHERE st.city = 'oslo' AND s.qty > 1 GROUP BY s.region")
	require.Contains(t, got, "TABLE: d.sales(sales), PREAGGREGATION: ON partitions=3/3 tablets=6 columns=[s.id, s.region, s.qty]")
	require.Contains(t, got, "predicates: (s.qty > 1)")
	require.Contains(t, got, "predicates: (st.city = 'oslo')")
	require.Contains(t, got, "HashJoin INNER (probe: left, build: right) ON s.id = st.id")

	// Comma joins become hash joins through WHERE equalities.
	got = explain(t, "SELECT count(*) FROM sales s, stores st WHERE s.id = st.id")
	require.Contains(t, got, "ON s.id = st.id")

	// count(*) reads one column.
	got = explain(t, "SELECT count(*) FROM sales")
	require.Contains(t, got, "columns=[sales.dt]")
}

func TestBindErrors(t *testing.T) {
	for _, tc := range []struct {
		q    string
		code uint16
		msg  string
	}{
		{"SELECT nope FROM sales", ErrBadField, "Unknown column 'nope'"},
		{"SELECT * FROM nope", ErrNoSuchTable, "Table 'd.nope' doesn't exist"},
		{"SELECT * FROM x.nope", ErrBadDB, "Unknown database 'x'"},
		{"SELECT id FROM sales s JOIN stores t ON s.id = t.id", ErrNonUniq, "ambiguous"},
		{"SELECT region, count(*) FROM sales", ErrWrongFieldWithGroup, "region"},
		{"SELECT region FROM sales GROUP BY id", ErrWrongFieldWithGroup, "region"},
		{"SELECT nosuchfn(1)", ErrSPDoesNotExist, "nosuchfn"},
		{"SELECT sum(qty) FROM sales WHERE sum(qty) > 1", ErrInvalidGroupFunc, "group function"},
		{"SELECT @@nope", ErrUnknownSysVar, "nope"},
		{"SELECT sum(qty, id) FROM sales", ErrWrongArguments, "sum"},
	} {
		_, err := plan(t, tc.q)
		require.Error(t, err, tc.q)
		var pe *Error
		require.True(t, errors.As(err, &pe), "%s: %v", tc.q, err)
		require.Equal(t, tc.code, pe.Code, "%s: %v", tc.q, err)
		require.Contains(t, pe.Msg, tc.msg, tc.q)
	}
}

// run plans and executes a query that reads no table.
func run(t *testing.T, q string) [][]string {
	t.Helper()
	pl, err := plan(t, q)
	require.NoError(t, err, q)
	return collect(t, New(fakeSession{db: "d"}, testCatalog(), noTablets{}), pl, q)
}

// collect builds and runs a plan and returns its rows as text cells. A
// plan built by a planner without a Remote runs again cut into fragments
// that run on the in-process backends of a memRemote over the same
// tablets, with the join strategies the planner picks and then with each
// strategy forced (JoinStrategyVariable) where joins can use it, which
// must give the same rows (in any order) and leave no stream open and no
// exchange data behind.
func collect(t *testing.T, p *Planner, pl *Plan, q string) [][]string {
	t.Helper()
	out, err := execute(p, pl, exec.NewEvalContext())
	require.NoError(t, err, q)
	if p.remote == nil && readsTables(pl) {
		want := out
		lists := strings.Contains(strings.ToLower(q), "group_concat")
		if lists {
			// The order of a group's values is the order rows come in.
			want = sortedLists(want)
		}
		sess := p.sess
		strategies := []string{""}
		if _, ok := sess.(strategySession); !ok && hasJoin(pl.root) {
			strategies = append(strategies, "broadcast", "shuffle", "bucket", "colocate")
		}
		for _, strategy := range strategies {
			if strategy != "" {
				p.sess = strategySession{sess, strategy}
			}
			r := newMemRemote(p.tablets)
			p.SetRemote(r)
			got, err := execute(p, pl, exec.NewEvalContext())
			p.SetRemote(nil)
			p.sess = sess
			require.NoError(t, err, "remote (%s): %s", strategy, q)
			if lists {
				got = sortedLists(got)
			}
			require.Equal(t, sortedRows(want), sortedRows(got), "remote (%s): %s", strategy, q)
			r.checkClosed(t)
			r.checkHubs(t)
		}
	}
	return out
}

// hasJoin reports whether a plan joins.
func hasJoin(n node) bool {
	found := false
	visit(n, func(n node) {
		if _, ok := n.(*joinNode); ok {
			found = true
		}
	})
	return found
}

// readsTables reports whether a plan scans tables (not only system ones).
func readsTables(pl *Plan) bool {
	found := false
	visit(pl.root, func(n node) {
		if _, ok := n.(*scanNode); ok {
			found = true
		}
	})
	return found
}

// sortedLists sorts the items of comma-separated cells.
func sortedLists(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = make([]string, len(r))
		for j, c := range r {
			items := strings.Split(c, ",")
			slices.Sort(items)
			out[i][j] = strings.Join(items, ",")
		}
	}
	return out
}

// execute builds and runs a plan with ec.
func execute(p *Planner, pl *Plan, ec *exec.EvalContext) (out [][]string, err error) {
	x, err := p.Build(pl)
	if err != nil {
		return nil, err
	}
	defer x.Release()
	ctx := exec.WithEvalContext(context.Background(), ec)
	if err := x.Root.Open(ctx); err != nil {
		x.Root.Close()
		return nil, err
	}
	defer func() {
		if cerr := x.Root.Close(); err == nil {
			err = cerr
		}
	}()
	var b exec.Batch
	for {
		b.Reset()
		err := exec.Next(ctx, x.Root, &b)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		for r := 0; r < b.NumRows(); r++ {
			row := r
			if b.Sel != nil {
				row = int(b.Sel[r])
			}
			var cells []string
			for _, c := range b.Cols {
				cells = append(cells, cell(c, row))
			}
			out = append(out, cells)
		}
	}
}

// sortedRows renders rows one per string, sorted.
func sortedRows(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, "|")
	}
	slices.Sort(out)
	return out
}

func cell(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	return a.ValueStr(i)
}

func TestConstantQueries(t *testing.T) {
	require.Equal(t, [][]string{{"7", "ABC", "42"}}, run(t, "SELECT 1 + 2 * 3, upper('abc'), @@x"))
	require.Equal(t, [][]string{{"1"}, {"2"}}, run(t, "SELECT 1 UNION ALL SELECT 2"))
	require.Equal(t, [][]string{{"2"}, {"1"}}, run(t, "SELECT a FROM (SELECT 1 AS a UNION ALL SELECT 2) t ORDER BY a DESC"))
	require.Equal(t, [][]string{{"3"}}, run(t, "SELECT count(*) FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT NULL) t"))
	require.Equal(t, [][]string{{"yes"}}, run(t, "SELECT CASE WHEN 1 = 1 THEN 'yes' ELSE NULL END"))
}

// A string constant longer than a CHAR/VARCHAR partition column must not be
// cut to the column's length for pruning: 'abc' < 'abcdef', so the partition
// that starts at 'abc' can hold matching rows.
func TestPartitionPruningLongStringConstant(t *testing.T) {
	cat := testCatalog()
	cat["d.codes"] = &catalog.Table{
		Name: "codes", KeysType: catalog.DupKeys, KeyColumns: []string{"code"},
		Schema: catalog.Schema{Columns: []catalog.Column{
			{ID: 1, Name: "code", Type: types.Varchar(3), IsKey: true},
		}},
		PartitionType: catalog.RangePartitioned, PartitionColumns: []string{"code"},
		Partitions: []catalog.Partition{
			{Name: "p1", Upper: catalog.PartitionBound{Values: []string{"abc"}}, Tablets: []int64{1}, VisibleVersion: 1},
			{Name: "p2", Lower: catalog.PartitionBound{Values: []string{"abc"}}, Upper: catalog.PartitionBound{Values: []string{"abd"}}, Tablets: []int64{2}, VisibleVersion: 1},
			{Name: "p3", Lower: catalog.PartitionBound{Values: []string{"abd"}}, Upper: catalog.PartitionBound{MaxValue: true}, Tablets: []int64{3}, VisibleVersion: 1},
		},
		Distribution: catalog.Distribution{Type: catalog.HashDistributed, Columns: []string{"code"}, Buckets: 1},
	}
	for _, tc := range []struct {
		where string
		want  string
	}{
		{"code < 'abcdef'", "partitions=2/3"},
		{"code < 'abc'", "partitions=1/3"},
		{"code BETWEEN 'a' AND 'abcdef'", "partitions=2/3"},
	} {
		st, err := sql.Parse("SELECT count(*) FROM codes WHERE " + tc.where)
		require.NoError(t, err)
		p := New(fakeSession{db: "d"}, cat, noTablets{})
		pl, err := p.PlanSelect(st.(*sql.SelectStmt), nil)
		require.NoError(t, err, tc.where)
		require.Contains(t, strings.Join(pl.Explain(), "\n"), tc.want, tc.where)
	}
}

// A partition named twice in FROM t PARTITION (...) is read once.
func TestExplicitPartitionsNamedTwice(t *testing.T) {
	got := explain(t, "SELECT count(*) FROM sales PARTITION (p2023, P2023, p2024)")
	require.Contains(t, got, "partitions=2/3 tablets=4")
}

package catalog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/meta/metatest"
	"github.com/strata-db/strata/types"
)

func TestErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		err      error
		sentinel error
		msg      string
	}{
		{dbExists("d"), ErrDBExists, "Can't create database 'd'; database exists"},
		{dbNotFound("d"), ErrDBNotFound, "Unknown database 'd'"},
		{dropDBNotFound("d"), ErrDBNotFound, "Can't drop database 'd'; database doesn't exist"},
		{tableExists("t"), ErrTableExists, "Table 't' already exists"},
		{tableNotFound("t"), ErrTableNotFound, "Unknown table 't'"},
	} {
		require.ErrorIs(t, tc.err, tc.sentinel)
		require.EqualError(t, tc.err, tc.msg)
		var ne *NameError
		require.ErrorAs(t, fmt.Errorf("wrapped: %w", tc.err), &ne)
	}
}

func TestPrepareTable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		table   *Table
		wantIDs int64
		wantErr error
	}{
		{"unpartitioned", newTable("u", 3), 1 + 1*(1+3), nil},
		{"range", newTable("r", 2, "p1", "p2", "p3"), 1 + 3*(1+2), nil},
		{"no buckets", newTable("z", 0), 0, ErrInvalid},
		{"range without partitions", &Table{Name: "x", PartitionType: RangePartitioned, Distribution: Distribution{Buckets: 1}}, 0, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := idsNeeded(tc.table)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantIDs, n)
			require.NoError(t, prepareTable(tc.table, 7, 1000, 42))
			tb := tc.table
			require.Equal(t, int64(1000), tb.ID)
			require.Equal(t, int64(7), tb.DBID)
			require.Equal(t, int64(42), tb.CreateTime)
			seen := map[int64]bool{tb.ID: true}
			for _, p := range tb.Partitions {
				require.Equal(t, int64(1), p.VisibleVersion)
				require.Equal(t, int64(2), p.NextVersion)
				require.Len(t, p.Tablets, tb.Distribution.Buckets)
				for _, id := range append([]int64{p.ID}, p.Tablets...) {
					require.False(t, seen[id])
					require.GreaterOrEqual(t, id, int64(1000))
					require.Less(t, id, 1000+n)
					seen[id] = true
				}
			}
			require.Len(t, seen, int(n))
			require.Equal(t, uint32(1), tb.Schema.Columns[0].ID)
			require.Equal(t, uint32(2), tb.Schema.Columns[1].ID)
			require.Equal(t, uint32(3), tb.NextColumnID)
		})
	}
}

func TestAssignColumnIDsKeepsGiven(t *testing.T) {
	tb := &Table{Name: "t", Schema: Schema{Columns: []Column{{Name: "a", ID: 5}, {Name: "b"}, {Name: "c", ID: 2}}}}
	require.NoError(t, assignColumnIDs(tb))
	require.Equal(t, []uint32{5, 6, 2}, []uint32{tb.Schema.Columns[0].ID, tb.Schema.Columns[1].ID, tb.Schema.Columns[2].ID})
	require.Equal(t, uint32(7), tb.NextColumnID)
	dup := &Table{Name: "t", Schema: Schema{Columns: []Column{{Name: "a", ID: 1}, {Name: "b", ID: 1}}}}
	require.ErrorIs(t, assignColumnIDs(dup), ErrInvalid)
}

func TestParseKey(t *testing.T) {
	for _, tc := range []struct {
		key     string
		kind    keyKind
		dbID    int64
		name    string
		tableID int64
	}{
		{dbKey("a/b c"), keyDB, 0, "a/b c", 0},
		{tableKey(12, "T%x"), keyTable, 12, "T%x", 0},
		{VersionsKey(3, 44), keyVersions, 3, "", 44},
		{"/strata/catalog/other", keyUnknown, 0, "", 0},
	} {
		kind, dbID, name, tid, err := parseKey(tc.key)
		require.NoError(t, err)
		require.Equal(t, tc.kind, kind, tc.key)
		require.Equal(t, tc.dbID, dbID)
		require.Equal(t, tc.name, name)
		require.Equal(t, tc.tableID, tid)
	}
	_, _, _, _, err := parseKey(tablePrefix + "x/y")
	require.Error(t, err)
}

func TestDatabaseCRUD(t *testing.T) {
	ctx := testCtx(t)
	c := openCatalog(t, testStore)
	name := uniq("Db")

	require.NoError(t, c.CreateDatabase(ctx, name, false))
	db, err := c.Snapshot().Database(name)
	require.NoError(t, err)
	require.Equal(t, name, db.Name)
	require.GreaterOrEqual(t, db.ID, int64(meta.FirstID))
	got, ok := c.Snapshot().DatabaseByID(db.ID)
	require.True(t, ok)
	require.Same(t, db, got)

	err = c.CreateDatabase(ctx, name, false)
	require.ErrorIs(t, err, ErrDBExists)
	require.NoError(t, c.CreateDatabase(ctx, name, true))

	// Names are case-sensitive (Doris default lower_case_table_names=0).
	_, err = c.Snapshot().Database(toLower(name))
	require.ErrorIs(t, err, ErrDBNotFound)

	require.NoError(t, c.DropDatabase(ctx, name, false))
	_, err = c.Snapshot().Database(name)
	require.ErrorIs(t, err, ErrDBNotFound)
	err = c.DropDatabase(ctx, name, false)
	require.ErrorIs(t, err, ErrDBNotFound)
	require.EqualError(t, err, fmt.Sprintf("Can't drop database '%s'; database doesn't exist", name))
	require.NoError(t, c.DropDatabase(ctx, name, true))
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func TestTableCRUD(t *testing.T) {
	ctx := testCtx(t)
	c := openCatalog(t, testStore)
	dbName := uniq("db")
	require.NoError(t, c.CreateDatabase(ctx, dbName, false))

	err := c.CreateTable(ctx, "no_such_db", newTable("t", 1), false)
	require.ErrorIs(t, err, ErrDBNotFound)

	tb := newTable("Orders", 4, "p1", "p2")
	require.NoError(t, c.CreateTable(ctx, dbName, tb, false))
	require.Positive(t, tb.ID)

	snap := c.Snapshot()
	got, err := snap.Table(dbName, "Orders")
	require.NoError(t, err)
	require.Equal(t, tb, got)
	db, err := snap.Database(dbName)
	require.NoError(t, err)
	require.Equal(t, db.ID, got.DBID)
	byID, ok := snap.TableByID(db.ID, tb.ID)
	require.True(t, ok)
	require.Same(t, got, byID)
	require.Len(t, got.Partitions, 2)
	for _, p := range got.Partitions {
		require.Len(t, p.Tablets, 4)
		require.Equal(t, int64(1), p.VisibleVersion)
		require.Equal(t, int64(2), p.NextVersion)
	}
	_, err = snap.Table(dbName, "orders")
	require.ErrorIs(t, err, ErrTableNotFound)

	err = c.CreateTable(ctx, dbName, newTable("Orders", 1), false)
	require.ErrorIs(t, err, ErrTableExists)
	require.EqualError(t, err, "Table 'Orders' already exists")
	again := newTable("Orders", 1)
	require.NoError(t, c.CreateTable(ctx, dbName, again, true))
	require.Zero(t, again.ID, "IF NOT EXISTS leaves the definition alone")

	u := newTable("single", 2)
	require.NoError(t, c.CreateTable(ctx, dbName, u, false))
	require.Len(t, u.Partitions, 1)
	require.Equal(t, "single", u.Partitions[0].Name)

	tables, err := c.Snapshot().Tables(dbName)
	require.NoError(t, err)
	require.Equal(t, []string{"Orders", "single"}, []string{tables[0].Name, tables[1].Name})

	require.NoError(t, c.DropTable(ctx, dbName, "Orders", false))
	err = c.DropTable(ctx, dbName, "Orders", false)
	require.ErrorIs(t, err, ErrTableNotFound)
	require.EqualError(t, err, "Unknown table 'Orders'")
	require.NoError(t, c.DropTable(ctx, dbName, "Orders", true))
	require.ErrorIs(t, c.DropTable(ctx, "no_such_db", "x", true), ErrDBNotFound)
	_, ok = c.Snapshot().TableByID(db.ID, tb.ID)
	require.False(t, ok)

	// Dropping the database drops its tables, in etcd too.
	require.NoError(t, c.DropDatabase(ctx, dbName, false))
	kvs, _, err := testStore.List(ctx, dbTablesPrefix(db.ID))
	require.NoError(t, err)
	require.Empty(t, kvs)
	require.NoError(t, c.CreateDatabase(ctx, dbName, false))
	tables, err = c.Snapshot().Tables(dbName)
	require.NoError(t, err)
	require.Empty(t, tables)
}

func TestIDsUnique(t *testing.T) {
	ctx := testCtx(t)
	c1 := openCatalog(t, testStore)
	c2 := openCatalog(t, testStore)
	dbName := uniq("ids")
	require.NoError(t, c1.CreateDatabase(ctx, dbName, false))
	require.NoError(t, c2.WaitRevision(ctx, c1.Snapshot().Revision()))
	var wg sync.WaitGroup
	for i := range 6 {
		c := c1
		if i%2 == 1 {
			c = c2
		}
		wg.Go(func() {
			require.NoError(t, c.CreateTable(ctx, dbName, newTable(fmt.Sprint("t", i), 3, "a", "b"), false))
		})
	}
	wg.Wait()
	require.NoError(t, c1.WaitRevision(ctx, c2.Snapshot().Revision()))
	tables, err := c1.Snapshot().Tables(dbName)
	require.NoError(t, err)
	require.Len(t, tables, 6)
	seen := map[int64]bool{}
	for _, tb := range tables {
		ids := []int64{tb.ID}
		for _, p := range tb.Partitions {
			ids = append(ids, p.ID)
			ids = append(ids, p.Tablets...)
		}
		for _, id := range ids {
			require.False(t, seen[id], "id %d used twice", id)
			seen[id] = true
		}
	}
	require.Len(t, seen, 6*(1+2*4))
}

func TestWatchKeepsSecondInstanceCurrent(t *testing.T) {
	ctx := testCtx(t)
	a := openCatalog(t, testStore)
	b := openCatalog(t, testStore)
	dbName := uniq("watch")
	ch := b.Changed()
	require.NoError(t, a.CreateDatabase(ctx, dbName, false))
	require.NoError(t, a.CreateTable(ctx, dbName, newTable("t", 2), false))
	<-ch
	require.NoError(t, b.WaitRevision(ctx, a.Snapshot().Revision()))
	tb, err := b.Snapshot().Table(dbName, "t")
	require.NoError(t, err)
	want, err := a.Snapshot().Table(dbName, "t")
	require.NoError(t, err)
	require.Equal(t, want, tb)

	require.NoError(t, a.UpdateTable(ctx, dbName, "t", func(t *Table) error {
		t.Comment = "changed"
		return nil
	}))
	require.NoError(t, b.WaitRevision(ctx, a.Snapshot().Revision()))
	tb, err = b.Snapshot().Table(dbName, "t")
	require.NoError(t, err)
	require.Equal(t, "changed", tb.Comment)

	require.NoError(t, a.DropDatabase(ctx, dbName, false))
	require.NoError(t, b.WaitRevision(ctx, a.Snapshot().Revision()))
	_, err = b.Snapshot().Database(dbName)
	require.ErrorIs(t, err, ErrDBNotFound)
}

// Two catalogs race to add columns to one table; every change must survive.
func TestConcurrentUpdateNoLostUpdate(t *testing.T) {
	ctx := testCtx(t)
	a := openCatalog(t, testStore)
	b := openCatalog(t, testStore)
	dbName := uniq("cas")
	require.NoError(t, a.CreateDatabase(ctx, dbName, false))
	require.NoError(t, a.CreateTable(ctx, dbName, newTable("t", 1), false))
	require.NoError(t, b.WaitRevision(ctx, a.Snapshot().Revision()))

	const perWorker = 8
	var wg sync.WaitGroup
	for w := range 4 {
		c := a
		if w%2 == 1 {
			c = b
		}
		wg.Go(func() {
			for i := range perWorker {
				err := c.UpdateTable(ctx, dbName, "t", func(t *Table) error {
					t.Schema.Columns = append(t.Schema.Columns, Column{
						ID: t.NextColumnID, Name: fmt.Sprintf("c%d_%d", w, i),
						Type: types.Type{Kind: types.KindInt}, Nullable: true,
					})
					t.NextColumnID++
					t.Schema.Version++
					return nil
				})
				require.NoError(t, err)
			}
		})
	}
	wg.Wait()
	require.NoError(t, a.WaitRevision(ctx, b.Snapshot().Revision()))
	tb, err := a.Snapshot().Table(dbName, "t")
	require.NoError(t, err)
	require.Len(t, tb.Schema.Columns, 2+4*perWorker)
	require.Equal(t, int64(4*perWorker), tb.Schema.Version)
	ids := map[uint32]bool{}
	for _, col := range tb.Schema.Columns {
		require.False(t, ids[col.ID])
		ids[col.ID] = true
	}
}

func TestConcurrentCreateSameName(t *testing.T) {
	ctx := testCtx(t)
	a := openCatalog(t, testStore)
	b := openCatalog(t, testStore)
	name := uniq("race")
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, c := range []*Catalog{a, b} {
		wg.Go(func() { errs[i] = c.CreateDatabase(ctx, name, false) })
	}
	wg.Wait()
	require.True(t, (errs[0] == nil) != (errs[1] == nil), "exactly one create wins: %v", errs)
	for _, err := range errs {
		if err != nil {
			require.ErrorIs(t, err, ErrDBExists)
		}
	}
}

func TestUpdateTable(t *testing.T) {
	ctx := testCtx(t)
	c := openCatalog(t, testStore)
	dbName := uniq("upd")
	require.NoError(t, c.CreateDatabase(ctx, dbName, false))
	require.NoError(t, c.CreateTable(ctx, dbName, newTable("t", 1), false))
	require.NoError(t, c.CreateTable(ctx, dbName, newTable("other", 1), false))

	boom := errors.New("boom")
	require.ErrorIs(t, c.UpdateTable(ctx, dbName, "t", func(*Table) error { return boom }), boom)
	require.ErrorIs(t, c.UpdateTable(ctx, dbName, "nope", func(*Table) error { return nil }), ErrTableNotFound)
	require.ErrorIs(t, c.UpdateTable(ctx, dbName, "t", func(t *Table) error { t.ID++; return nil }), ErrInvalid)
	require.ErrorIs(t, c.UpdateTable(ctx, dbName, "t", func(t *Table) error { t.Name = "other"; return nil }), ErrTableExists)

	before, err := c.Snapshot().Table(dbName, "t")
	require.NoError(t, err)
	require.NoError(t, c.UpdateTable(ctx, dbName, "t", func(t *Table) error {
		t.Name = "renamed"
		t.Partitions[0].Tablets[0] = -1 // a private copy: the snapshot must not change
		return nil
	}))
	require.Positive(t, before.Partitions[0].Tablets[0])
	_, err = c.Snapshot().Table(dbName, "t")
	require.ErrorIs(t, err, ErrTableNotFound)
	after, err := c.Snapshot().Table(dbName, "renamed")
	require.NoError(t, err)
	require.Equal(t, before.ID, after.ID)
}

func TestVersionsOverlay(t *testing.T) {
	ctx := testCtx(t)
	c := openCatalog(t, testStore)
	dbName := uniq("ver")
	require.NoError(t, c.CreateDatabase(ctx, dbName, false))
	tb := newTable("t", 1, "p1", "p2")
	require.NoError(t, c.CreateTable(ctx, dbName, tb, false))
	other := newTable("u", 1)
	require.NoError(t, c.CreateTable(ctx, dbName, other, false))
	before, err := c.Snapshot().Table(dbName, "u")
	require.NoError(t, err)

	p1 := tb.Partitions[0].ID
	v := TableVersions{Partitions: map[int64]PartitionVersion{p1: {Visible: 5, VisibleTime: 9, Next: 7}}}
	rev, ok, err := testStore.Txn().Put(VersionsKey(tb.DBID, tb.ID), v).Commit(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, c.WaitRevision(ctx, rev))
	got, err := c.Snapshot().Table(dbName, "t")
	require.NoError(t, err)
	require.Equal(t, int64(5), got.Partitions[0].VisibleVersion)
	require.Equal(t, int64(7), got.Partitions[0].NextVersion)
	require.Equal(t, int64(1), got.Partitions[1].VisibleVersion)
	// Untouched tables are shared between snapshots.
	after, err := c.Snapshot().Table(dbName, "u")
	require.NoError(t, err)
	require.Same(t, before, after)

	// DDL keeps the load versions.
	var seen int64
	require.NoError(t, c.UpdateTable(ctx, dbName, "t", func(tb *Table) error {
		seen = tb.Partitions[0].VisibleVersion
		tb.Comment = "x"
		return nil
	}))
	require.Equal(t, int64(5), seen)
	got, err = c.Snapshot().Table(dbName, "t")
	require.NoError(t, err)
	require.Equal(t, int64(5), got.Partitions[0].VisibleVersion)
}

func TestRestartPersistence(t *testing.T) {
	dir := t.TempDir()
	e, err := metatest.Start(dir)
	require.NoError(t, err)
	ctx := testCtx(t)
	c, err := Open(ctx, meta.NewStore(e.Client()), Options{})
	require.NoError(t, err)
	require.NoError(t, c.CreateDatabase(ctx, "a", false))
	require.NoError(t, c.CreateDatabase(ctx, "b", false))
	require.NoError(t, c.CreateTable(ctx, "a", newTable("t1", 2, "p1", "p2"), false))
	require.NoError(t, c.CreateTable(ctx, "b", newTable("t2", 3), false))
	before := c.Snapshot()
	c.Close()
	e.Close()

	e, err = metatest.Start(dir)
	require.NoError(t, err)
	defer e.Close()
	c, err = Open(ctx, meta.NewStore(e.Client()), Options{})
	require.NoError(t, err)
	defer c.Close()
	after := c.Snapshot()
	require.Equal(t, before.Databases(), after.Databases())
	for _, db := range []string{"a", "b"} {
		bt, err := before.Tables(db)
		require.NoError(t, err)
		at, err := after.Tables(db)
		require.NoError(t, err)
		require.Equal(t, bt, at)
	}
	// Ids keep increasing after a restart.
	require.NoError(t, c.CreateDatabase(ctx, "c", false))
	cdb, err := c.Snapshot().Database("c")
	require.NoError(t, err)
	for _, db := range before.Databases() {
		require.Greater(t, cdb.ID, db.ID)
	}
}

// A watch that needs a compacted revision re-lists and catches up.
func TestWatchRelistsAfterCompaction(t *testing.T) {
	ctx := testCtx(t)
	dbName := uniq("compact")
	st, rev, err := (&Catalog{store: testStore, log: nil}).listForTest(ctx)
	require.NoError(t, err)

	// Changes after rev, then compaction past them.
	w := openCatalog(t, testStore)
	require.NoError(t, w.CreateDatabase(ctx, dbName, false))
	require.NoError(t, w.CreateTable(ctx, dbName, newTable("t", 1), false))
	cur := w.Snapshot().Revision()
	_, err = testStore.Client().Compact(ctx, cur)
	require.NoError(t, err)

	c := &Catalog{store: testStore, ids: w.ids, now: w.now, log: w.log, done: make(chan struct{}), changed: make(chan struct{})}
	c.publish(st.snapshot(emptySnapshot, rev))
	wctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.watch(wctx, st, rev)
	defer c.Close()
	require.NoError(t, c.WaitRevision(ctx, cur))
	_, err = c.Snapshot().Table(dbName, "t")
	require.NoError(t, err)
}

func (c *Catalog) listForTest(ctx context.Context) (*state, int64, error) {
	if c.log == nil {
		c.log = discardLogger()
	}
	return c.list(ctx)
}

package catalog

import (
	"context"
	"fmt"
)

// ViewDef is what a view stores besides its columns: the text of its
// query, bound in the view's own database whenever the view is read (so
// an unqualified table name means a table of that database, whatever the
// reader's current one).
type ViewDef struct {
	Query string `json:"query"`
}

// IsView reports whether t is a view.
func (t *Table) IsView() bool { return t.View != nil }

// CreateView stores the view v in database dbName. v needs a name, a
// View and its output columns in Schema. An existing view of that name is
// replaced (keeping its id) when orReplace, left alone when ifNotExists,
// else an error wrapping ErrTableExists; a table of that name is always
// an error. On success v holds what was stored.
func (c *Catalog) CreateView(ctx context.Context, dbName string, v *Table, orReplace, ifNotExists bool) error {
	if v.Name == "" || v.View == nil {
		return fmt.Errorf("%w: a view needs a name and a query", ErrInvalid)
	}
	for {
		var db Database
		dbMod, _, err := c.store.Get(ctx, dbKey(dbName), &db)
		if err != nil {
			return fmt.Errorf("catalog: creating view %q: %w", v.Name, err)
		}
		if dbMod == 0 {
			return dbNotFound(dbName)
		}
		key := tableKey(db.ID, v.Name)
		var cur Table
		curMod, _, err := c.store.Get(ctx, key, &cur)
		if err != nil {
			return fmt.Errorf("catalog: creating view %q: %w", v.Name, err)
		}
		stored, err := cloneTable(v)
		if err != nil {
			return err
		}
		stored.DBID = db.ID
		stored.Partitions, stored.Indexes, stored.AlterJobs = nil, nil, nil
		switch {
		case curMod != 0 && !cur.IsView():
			return tableExists(v.Name)
		case curMod != 0 && ifNotExists:
			return c.WaitRevision(ctx, curMod)
		case curMod != 0 && !orReplace:
			return tableExists(v.Name)
		case curMod != 0:
			stored.ID, stored.CreateTime = cur.ID, cur.CreateTime
		default:
			if stored.ID, err = c.ids.NextIDs(ctx, 1); err != nil {
				return fmt.Errorf("catalog: creating view %q: %w", v.Name, err)
			}
			stored.CreateTime = c.now().UnixMilli()
		}
		for i := range stored.Schema.Columns {
			stored.Schema.Columns[i].ID = uint32(i + 1)
		}
		stored.NextColumnID = uint32(len(stored.Schema.Columns) + 1)
		rev, ok, err := c.store.Txn().
			IfModRev(dbKey(dbName), dbMod).
			IfModRev(key, curMod).
			Put(key, stored).
			Commit(ctx)
		if err != nil {
			return fmt.Errorf("catalog: creating view %q: %w", v.Name, err)
		}
		if ok {
			*v = *stored
			return c.WaitRevision(ctx, rev)
		}
	}
}

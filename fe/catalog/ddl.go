package catalog

import (
	"context"
	"encoding/json"
	"fmt"
)

// Each DDL operation below is one etcd transaction that compares the mod
// revisions of every key it read; when another writer got there first the
// operation re-reads and tries again. They return after the catalog's
// snapshot shows the result.

// CreateDatabase creates a database. An existing one is an error wrapping
// ErrDBExists unless ifNotExists.
func (c *Catalog) CreateDatabase(ctx context.Context, name string, ifNotExists bool) error {
	if name == "" {
		return fmt.Errorf("%w: empty database name", ErrInvalid)
	}
	key := dbKey(name)
	var id int64
	for {
		var cur Database
		mod, _, err := c.store.Get(ctx, key, &cur)
		if err != nil {
			return fmt.Errorf("catalog: creating database %q: %w", name, err)
		}
		if mod != 0 {
			if ifNotExists {
				return c.WaitRevision(ctx, mod)
			}
			return dbExists(name)
		}
		if id == 0 {
			if id, err = c.ids.NextIDs(ctx, 1); err != nil {
				return fmt.Errorf("catalog: creating database %q: %w", name, err)
			}
		}
		db := Database{ID: id, Name: name, CreateTime: c.now().UnixMilli()}
		rev, ok, err := c.store.Txn().IfModRev(key, 0).Put(key, db).Commit(ctx)
		if err != nil {
			return fmt.Errorf("catalog: creating database %q: %w", name, err)
		}
		if ok {
			return c.WaitRevision(ctx, rev)
		}
	}
}

// DropDatabase drops a database and all its tables. A missing one is an
// error wrapping ErrDBNotFound unless ifExists.
func (c *Catalog) DropDatabase(ctx context.Context, name string, ifExists bool) error {
	key := dbKey(name)
	for {
		var db Database
		mod, _, err := c.store.Get(ctx, key, &db)
		if err != nil {
			return fmt.Errorf("catalog: dropping database %q: %w", name, err)
		}
		if mod == 0 {
			if ifExists {
				return nil
			}
			return dropDBNotFound(name)
		}
		// Table creation compares the database key, so no table can
		// appear in the database after this transaction.
		rev, ok, err := c.store.Txn().IfModRev(key, mod).
			Delete(key).
			DeletePrefix(dbTablesPrefix(db.ID)).
			DeletePrefix(dbVersionsPrefix(db.ID)).
			Commit(ctx)
		if err != nil {
			return fmt.Errorf("catalog: dropping database %q: %w", name, err)
		}
		if ok {
			return c.WaitRevision(ctx, rev)
		}
	}
}

// CreateTable creates t in database dbName. It assigns the table id, ids to
// columns whose id is zero (and NextColumnID), partition ids, one tablet id
// per bucket per partition and the initial versions (visible 1, next 2); an
// unpartitioned table without partitions gets one named after the table. On
// success t holds what was stored. An existing table is an error wrapping
// ErrTableExists unless ifNotExists (t is then left alone).
func (c *Catalog) CreateTable(ctx context.Context, dbName string, t *Table, ifNotExists bool) error {
	if t.Name == "" {
		return fmt.Errorf("%w: empty table name", ErrInvalid)
	}
	need, err := idsNeeded(t)
	if err != nil {
		return err
	}
	var first int64
	var prepared *Table
	for {
		var db Database
		dbMod, _, err := c.store.Get(ctx, dbKey(dbName), &db)
		if err != nil {
			return fmt.Errorf("catalog: creating table %q: %w", t.Name, err)
		}
		if dbMod == 0 {
			return dbNotFound(dbName)
		}
		key := tableKey(db.ID, t.Name)
		var cur Table
		tMod, _, err := c.store.Get(ctx, key, &cur)
		if err != nil {
			return fmt.Errorf("catalog: creating table %q: %w", t.Name, err)
		}
		if tMod != 0 {
			if ifNotExists {
				return c.WaitRevision(ctx, tMod)
			}
			return tableExists(t.Name)
		}
		if first == 0 {
			if first, err = c.ids.NextIDs(ctx, need); err != nil {
				return fmt.Errorf("catalog: creating table %q: %w", t.Name, err)
			}
		}
		if prepared == nil || prepared.DBID != db.ID {
			prepared, err = cloneTable(t)
			if err != nil {
				return err
			}
			if err := prepareTable(prepared, db.ID, first, c.now().UnixMilli()); err != nil {
				return err
			}
			if c.place != nil {
				if err := c.place(prepared); err != nil {
					return err
				}
			}
		}
		rev, ok, err := c.store.Txn().
			IfModRev(dbKey(dbName), dbMod).
			IfModRev(key, 0).
			Put(key, prepared).
			Commit(ctx)
		if err != nil {
			return fmt.Errorf("catalog: creating table %q: %w", t.Name, err)
		}
		if ok {
			*t = *prepared
			return c.WaitRevision(ctx, rev)
		}
	}
}

// DropTable drops a table. A missing table is an error wrapping
// ErrTableNotFound unless ifExists; a missing database is always an error.
func (c *Catalog) DropTable(ctx context.Context, dbName, tableName string, ifExists bool) error {
	for {
		var db Database
		dbMod, _, err := c.store.Get(ctx, dbKey(dbName), &db)
		if err != nil {
			return fmt.Errorf("catalog: dropping table %q: %w", tableName, err)
		}
		if dbMod == 0 {
			return dbNotFound(dbName)
		}
		key := tableKey(db.ID, tableName)
		var cur Table
		tMod, _, err := c.store.Get(ctx, key, &cur)
		if err != nil {
			return fmt.Errorf("catalog: dropping table %q: %w", tableName, err)
		}
		if tMod == 0 {
			if ifExists {
				return nil
			}
			return tableNotFound(tableName)
		}
		rev, ok, err := c.store.Txn().
			IfModRev(dbKey(dbName), dbMod).
			IfModRev(key, tMod).
			Delete(key).
			Delete(VersionsKey(db.ID, cur.ID)).
			Commit(ctx)
		if err != nil {
			return fmt.Errorf("catalog: dropping table %q: %w", tableName, err)
		}
		if ok {
			return c.WaitRevision(ctx, rev)
		}
	}
}

// UpdateTable changes a table: it reads the stored table, calls fn with a
// private copy (partition versions as of the read) and writes the result if
// nobody changed the table meanwhile; otherwise it reads again and calls fn
// again, so fn must be a pure function of the table it gets. An error from
// fn is returned as is and nothing is written.
//
// fn may rename the table (t.Name); the new name must be free. It must not
// change the table or database id. Partition versions written by fn are
// ignored where loads have recorded their own (see VersionsKey); new
// partitions must come with their ids, tablets and versions (1 and 2).
func (c *Catalog) UpdateTable(ctx context.Context, dbName, tableName string, fn func(*Table) error) error {
	for {
		var db Database
		dbMod, _, err := c.store.Get(ctx, dbKey(dbName), &db)
		if err != nil {
			return fmt.Errorf("catalog: updating table %q: %w", tableName, err)
		}
		if dbMod == 0 {
			return dbNotFound(dbName)
		}
		key := tableKey(db.ID, tableName)
		var cur Table
		tMod, _, err := c.store.Get(ctx, key, &cur)
		if err != nil {
			return fmt.Errorf("catalog: updating table %q: %w", tableName, err)
		}
		if tMod == 0 {
			return tableNotFound(tableName)
		}
		var vers TableVersions
		if _, _, err := c.store.Get(ctx, VersionsKey(db.ID, cur.ID), &vers); err != nil {
			return fmt.Errorf("catalog: updating table %q: %w", tableName, err)
		}
		t := overlayVersions(&cur, &vers)
		if t == &cur {
			t, err = cloneTable(&cur)
			if err != nil {
				return err
			}
		}
		if err := fn(t); err != nil {
			return err
		}
		if t.ID != cur.ID || t.DBID != cur.DBID {
			return fmt.Errorf("%w: table %q: ids cannot change (%d/%d -> %d/%d)", ErrInvalid, tableName, cur.DBID, cur.ID, t.DBID, t.ID)
		}
		tx := c.store.Txn().IfModRev(dbKey(dbName), dbMod).IfModRev(key, tMod)
		if t.Name != tableName {
			if t.Name == "" {
				return fmt.Errorf("%w: empty table name", ErrInvalid)
			}
			newKey := tableKey(db.ID, t.Name)
			var other Table
			oMod, _, err := c.store.Get(ctx, newKey, &other)
			if err != nil {
				return fmt.Errorf("catalog: renaming table %q: %w", tableName, err)
			}
			if oMod != 0 {
				return tableExists(t.Name)
			}
			tx.IfModRev(newKey, 0).Delete(key).Put(newKey, t)
		} else {
			tx.Put(key, t)
		}
		rev, ok, err := tx.Commit(ctx)
		if err != nil {
			return fmt.Errorf("catalog: updating table %q: %w", tableName, err)
		}
		if ok {
			return c.WaitRevision(ctx, rev)
		}
	}
}

// cloneTable deep-copies t.
func cloneTable(t *Table) (*Table, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("catalog: copying table %q: %w", t.Name, err)
	}
	var c Table
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("catalog: copying table %q: %w", t.Name, err)
	}
	return &c, nil
}

package catalog

import (
	"slices"
	"strings"
)

// Snapshot is an immutable view of the catalog at one etcd revision. Every
// value reachable from it (databases, tables, partitions, tablet slices) is
// shared with other snapshots and must not be modified; copy before changing
// (UpdateTable hands its callback a private copy).
//
// Names are case-sensitive, as in Doris with its default
// lower_case_table_names = 0: databases `Sales` and `sales` are different, and
// so are tables. Column and partition names are case-insensitive
// ([Schema.ColumnByName], [Table.PartitionByName]).
//
// A snapshot never shows half of an etcd transaction: the watch applies all
// events of a revision before it publishes the next snapshot, so a load that
// made several partitions visible at once is seen whole or not at all.
type Snapshot struct {
	rev    int64
	dbs    map[string]*dbEntry
	dbByID map[int64]*dbEntry
}

type dbEntry struct {
	db     *Database
	tables map[string]*Table
	byID   map[int64]*Table
}

var emptySnapshot = &Snapshot{dbs: map[string]*dbEntry{}, dbByID: map[int64]*dbEntry{}}

// Revision is the etcd revision the snapshot reflects.
func (s *Snapshot) Revision() int64 { return s.rev }

// Databases lists the databases sorted by name.
func (s *Snapshot) Databases() []*Database {
	out := make([]*Database, 0, len(s.dbs))
	for _, e := range s.dbs {
		out = append(out, e.db)
	}
	slices.SortFunc(out, func(a, b *Database) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Database finds a database by name; the error is a *NameError wrapping
// ErrDBNotFound.
func (s *Snapshot) Database(name string) (*Database, error) {
	e, ok := s.dbs[name]
	if !ok {
		return nil, dbNotFound(name)
	}
	return e.db, nil
}

// DatabaseByID finds a database by id.
func (s *Snapshot) DatabaseByID(id int64) (*Database, bool) {
	e, ok := s.dbByID[id]
	if !ok {
		return nil, false
	}
	return e.db, true
}

// Tables lists the tables of a database sorted by name.
func (s *Snapshot) Tables(dbName string) ([]*Table, error) {
	e, ok := s.dbs[dbName]
	if !ok {
		return nil, dbNotFound(dbName)
	}
	out := make([]*Table, 0, len(e.tables))
	for _, t := range e.tables {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Table) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Table finds a table; errors wrap ErrDBNotFound or ErrTableNotFound.
func (s *Snapshot) Table(dbName, tableName string) (*Table, error) {
	e, ok := s.dbs[dbName]
	if !ok {
		return nil, dbNotFound(dbName)
	}
	t, ok := e.tables[tableName]
	if !ok {
		return nil, tableNotFound(tableName)
	}
	return t, nil
}

// TableByID finds a table by database and table id.
func (s *Snapshot) TableByID(dbID, tableID int64) (*Table, bool) {
	e, ok := s.dbByID[dbID]
	if !ok {
		return nil, false
	}
	t, ok := e.byID[tableID]
	return t, ok
}

// RunningJobTxns lists the ids under which the unfinished alter jobs write
// converted rows: their pending rowsets belong to no load transaction and
// wait for the job's rebuild, so a backend's cleanup of pending rowsets
// leaves them alone.
func (s *Snapshot) RunningJobTxns() map[int64]bool {
	out := map[int64]bool{}
	for _, e := range s.dbs {
		for _, t := range e.tables {
			for _, j := range t.AlterJobs {
				if !j.State.Finished() && j.Watershed != 0 {
					out[j.Watershed] = true
				}
			}
		}
	}
	return out
}

// state is the raw catalog as stored in etcd, owned by the watch goroutine.
// It turns into snapshots, rebuilding only what changed.
type state struct {
	dbs    map[string]*Database               // by name
	tables map[int64]map[string]*Table        // db id -> name -> stored table
	vers   map[int64]map[int64]*TableVersions // db id -> table id -> versions
	dirty  map[int64]map[int64]bool           // db id -> changed table ids (nil map: whole db)
}

func newState() *state {
	return &state{
		dbs:    map[string]*Database{},
		tables: map[int64]map[string]*Table{},
		vers:   map[int64]map[int64]*TableVersions{},
		dirty:  map[int64]map[int64]bool{},
	}
}

func (st *state) markDB(dbID int64) {
	st.dirty[dbID] = nil
}

func (st *state) markTable(dbID, tableID int64) {
	m, ok := st.dirty[dbID]
	if ok && m == nil {
		return // whole db already dirty
	}
	if !ok {
		m = map[int64]bool{}
		st.dirty[dbID] = m
	}
	m[tableID] = true
}

func (st *state) putDB(name string, db *Database) {
	if old, ok := st.dbs[name]; ok && old.ID != db.ID {
		st.markDB(old.ID)
	}
	st.dbs[name] = db
	st.markDB(db.ID)
}

func (st *state) deleteDB(name string) {
	if old, ok := st.dbs[name]; ok {
		delete(st.dbs, name)
		st.markDB(old.ID)
	}
}

func (st *state) putTable(dbID int64, name string, t *Table) {
	m := st.tables[dbID]
	if m == nil {
		m = map[string]*Table{}
		st.tables[dbID] = m
	}
	if old, ok := m[name]; ok && old.ID != t.ID {
		st.markTable(dbID, old.ID)
	}
	m[name] = t
	st.markTable(dbID, t.ID)
}

func (st *state) deleteTable(dbID int64, name string) {
	m := st.tables[dbID]
	if old, ok := m[name]; ok {
		delete(m, name)
		st.markTable(dbID, old.ID)
		if len(m) == 0 {
			delete(st.tables, dbID)
		}
	}
}

func (st *state) putVersions(dbID, tableID int64, v *TableVersions) {
	m := st.vers[dbID]
	if m == nil {
		m = map[int64]*TableVersions{}
		st.vers[dbID] = m
	}
	m[tableID] = v
	st.markTable(dbID, tableID)
}

func (st *state) deleteVersions(dbID, tableID int64) {
	if m := st.vers[dbID]; m != nil {
		delete(m, tableID)
		if len(m) == 0 {
			delete(st.vers, dbID)
		}
	}
	st.markTable(dbID, tableID)
}

// snapshot builds the snapshot at rev from prev, reusing every database entry
// and table that did not change, and clears the dirty marks.
func (st *state) snapshot(prev *Snapshot, rev int64) *Snapshot {
	s := &Snapshot{
		rev:    rev,
		dbs:    make(map[string]*dbEntry, len(st.dbs)),
		dbByID: make(map[int64]*dbEntry, len(st.dbs)),
	}
	for name, db := range st.dbs {
		dirty, isDirty := st.dirty[db.ID]
		var e *dbEntry
		if old, ok := prev.dbByID[db.ID]; ok && !isDirty && old.db == db {
			e = old
		} else {
			e = st.buildDB(db, prevEntry(prev, db.ID, isDirty && dirty == nil), dirty)
		}
		s.dbs[name] = e
		s.dbByID[db.ID] = e
	}
	clear(st.dirty)
	return s
}

func prevEntry(prev *Snapshot, dbID int64, wholeDB bool) *dbEntry {
	if wholeDB {
		return nil
	}
	return prev.dbByID[dbID]
}

// buildDB makes the entry of one database; tables not in dirty are taken
// from prev when it has them.
func (st *state) buildDB(db *Database, prev *dbEntry, dirty map[int64]bool) *dbEntry {
	raw := st.tables[db.ID]
	e := &dbEntry{db: db, tables: make(map[string]*Table, len(raw)), byID: make(map[int64]*Table, len(raw))}
	vers := st.vers[db.ID]
	for name, t := range raw {
		var eff *Table
		if prev != nil && !dirty[t.ID] {
			if p, ok := prev.byID[t.ID]; ok && p.Name == name {
				eff = p
			}
		}
		if eff == nil {
			eff = overlayVersions(t, vers[t.ID])
		}
		e.tables[name] = eff
		e.byID[t.ID] = eff
	}
	return e
}

// overlayVersions returns t with the partition versions from v; t itself is
// returned when v has nothing for it.
func overlayVersions(t *Table, v *TableVersions) *Table {
	if v == nil || len(v.Partitions) == 0 {
		return t
	}
	c := *t
	c.Partitions = slices.Clone(t.Partitions)
	for i := range c.Partitions {
		p := &c.Partitions[i]
		if pv, ok := v.Partitions[p.ID]; ok {
			p.VisibleVersion = pv.Visible
			p.VisibleVersionTime = pv.VisibleTime
			p.NextVersion = pv.Next
		}
	}
	return &c
}

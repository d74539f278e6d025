// Package planner turns parsed queries into executable operator trees.
//
// Planning runs in three steps:
//
//  1. Binding resolves names against the catalog and the scopes of the FROM
//     clause and produces a logical plan (scan, filter, project, aggregate,
//     join, sort, limit, union, values) whose expressions are [ir] trees.
//  2. Rules rewrite the plan: conjunctive predicates are pushed through
//     inner joins into the scans, equalities across the two sides of a join
//     become hash-join keys, each scan chooses the index of its table it
//     reads (index_select.go), column ranges are extracted from the scan
//     predicates, and partitions whose ranges cannot match are pruned.
//  3. The physical step pins each tablet's rowsets at its partition's
//     visible version and builds be/exec operators. With a [Remote]
//     (cluster mode), it cuts the plan instead: each scan, with the
//     filters, projections and join probe sides above it and the partial
//     phase of a splittable aggregation over them, becomes a [Fragment]
//     that runs on the backends holding the scan's tablets (fragment.go,
//     remote.go, gather.go); the coordinator keeps the rest and gathers
//     their Arrow batches. Each join in a fragment gets a strategy
//     (joinplan.go): broadcast, colocate, bucket shuffle or shuffle, the
//     last two moving rows between backends through exchanges (stage.go).
//
// Tables of the system schemas (information_schema) bind as scans of rows
// computed from the catalog snapshot when the plan is built (systable.go),
// so the rest of the planner treats them as any other input.
//
// Binding runs twice: the first pass records which columns of each table
// the query reads, the second binds against scans that read only those, so
// that no later step has to renumber columns.
package planner

import (
	"fmt"
	"github.com/RoaringBitmap/roaring/v2"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/storage"
)

// Session is what the planner needs from the connection it plans for.
type Session interface {
	CurrentDB() string
	User() string
	ConnectionID() uint32
	// Variable returns a system variable's session value as text, or "".
	Variable(name string) string
	// SystemVariable reads @@[scope.]name; numeric reports that drivers
	// expect an integer.
	SystemVariable(name, scope string) (value string, numeric bool, err error)
	// UserVariable reads @name; NULL (nil) when it was never set.
	UserVariable(name string) any
}

// Catalog is the planner's read-only view of the catalog snapshot it plans
// against.
type Catalog interface {
	// Table finds a table; ok is false when the database or table is absent.
	Table(db, name string) (t *catalog.Table, ok bool)
	HasDatabase(db string) bool
	// Databases lists the databases sorted by name.
	Databases() []*catalog.Database
	// Tables lists the tables of a database sorted by name; none when the
	// database is absent.
	Tables(db string) []*catalog.Table
}

// TabletReader opens tablets for reading.
type TabletReader interface {
	// ReadTablet pins the rowsets of a tablet visible at version and returns
	// their segments, the rows of them to skip, and a function that unpins
	// them. A tablet that was never written is empty.
	ReadTablet(tabletID, version int64) (TabletData, error)
}

// SignKeepingReader is a TabletReader that can also leave the rows whose
// delete sign is set in a tablet it pins (Doris's skip_delete_sign).
type SignKeepingReader interface {
	ReadTabletKeepingSigns(tabletID, version int64) (TabletData, error)
}

// TabletData is a pinned tablet: its segments, and parallel to them the
// rows of each that a reader skips (Deletes nil, or a nil entry: none) —
// rows replaced by later loads of a merge-on-write table, and deleted keys.
type TabletData struct {
	Segments []*storage.Segment
	Deletes  []*roaring.Bitmap
	Release  func()
	// Flat: the segments hold each key at most once (one rowset without
	// overlapping segments), so a table folded on read can be scanned as
	// it is, skipping FlatDeletes (parallel to Segments): Deletes and the
	// rows whose delete sign is set.
	Flat        bool
	FlatDeletes []*roaring.Bitmap
}

// Planner plans queries for one session against one catalog snapshot.
type Planner struct {
	sess    Session
	cat     Catalog
	tablets TabletReader
	params  []any
	// remote, when set, runs the scans of the plans it builds on the
	// backends holding their tablets (see Remote).
	remote Remote
	// frag is set on a backend building a fragment instance.
	frag *fragmentEnv

	// viewDBs are the databases of the views being expanded, innermost
	// last: their queries' unqualified table names resolve there.
	viewDBs []string
	// expandingViews counts the views being expanded for a query (not
	// those of CREATE VIEW, whose tables the creator must be able to read).
	expandingViews int

	// bind state: used columns per scan, filled by the first pass.
	pass     int
	scanSeq  int
	usedCols map[int]map[int]bool // scan ordinal -> schema column indexes
}

// New returns a planner.
func New(sess Session, cat Catalog, tablets TabletReader) *Planner {
	return &Planner{sess: sess, cat: cat, tablets: tablets}
}

// SetRemote makes the planner cut the plans it builds into fragments that
// r runs on the backends holding their tablets; nil (the default) builds
// every scan in this process, reading tablets through the TabletReader.
func (p *Planner) SetRemote(r Remote) { p.remote = r }

// Error is a planning error that maps to a MySQL error code.
type Error struct {
	Code uint16
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// MySQL error numbers the planner reports.
const (
	ErrParse               uint16 = 1064
	ErrBadField            uint16 = 1054
	ErrNonUniq             uint16 = 1052
	ErrWrongFieldWithGroup uint16 = 1055
	ErrInvalidGroupFunc    uint16 = 1111
	ErrWrongArguments      uint16 = 1210
	ErrSPDoesNotExist      uint16 = 1305
	ErrNotSupportedYet     uint16 = 1235
	ErrNoSuchTable         uint16 = 1146
	ErrUnknownTable        uint16 = 1109
	ErrBadDB               uint16 = 1049
	ErrNoDB                uint16 = 1046
	ErrUnknown             uint16 = 1105
	ErrUnknownSysVar       uint16 = 1193
	ErrWrongValueCount     uint16 = 1136
)

func unsupported(what string) error {
	return &Error{Code: ErrNotSupportedYet, Msg: fmt.Sprintf("%s is not supported yet", what)}
}

// Package tabletstore keeps the tablets of a backend on local disk: the
// segment files of each rowset, the rowset metadata in one bbolt file, and
// the in-memory view readers pin.
//
// A rowset is written by a delta writer under a load transaction. It is
// pending until the transaction is published, when it becomes visible with
// the version the frontend assigned its partition. A visible rowset covers
// a range of versions [StartVersion, EndVersion]: a load's rowset covers
// its one version, and a compaction (see [Compaction]) replaces a run of
// adjacent visible rowsets by one covering all their versions. A query
// reads a tablet at a version and sees the visible rowsets at or below it.
//
// A tablet also has a replica version, the highest version up to which
// this store holds all of its data (see replica.go): publishes move it,
// a replica that missed a load stays behind and refuses reads above it,
// and a clone from another replica (clone.go) catches it up.
//
// Layout under the store directory:
//
//	meta.db                                      bbolt: tablets, rowsets
//	data/<tabletID % 256>/<tabletID>/<rowsetID>_<n>.seg
//
// Durability order (DESIGN.md §9): segment files are written and fsynced,
// then their directory, then the rowset is recorded in one bbolt
// transaction, and only then is the write acknowledged. Publishing flips a
// transaction's pending rowsets to visible in one bbolt transaction, so a
// crash leaves each transaction all pending or all visible on this backend.
// A compaction deletes its inputs' records and adds its output's in one
// bbolt transaction, so a crash leaves either. At start-up, files no rowset
// references (a crash mid-write, or the inputs of a compaction) are deleted.
//
// Rowsets a compaction replaced become stale: readers that pinned them keep
// reading them, and a reader at a version inside the compacted range is
// given them instead of the output, until they are swept: after
// Options.StaleSweepTime, once no reader pins them. They are not recorded in
// bbolt, so a restart forgets them.
//
// INVARIANTS: a visible rowset has 1 <= StartVersion <= EndVersion, and the
// version ranges of a tablet's visible rowsets are disjoint; a load's
// rowset belongs to exactly one transaction, and a transaction has at most
// one rowset per tablet; a segment file is referenced by exactly one
// rowset. Versions of a tablet may skip numbers: a load that wrote nothing
// to a tablet gives it no rowset. No visible rowset of a tablet with a
// known replica version ends above it.
package tabletstore

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/strata-db/strata/failpoint"
	"github.com/strata-db/strata/storage"
)

// Schema is what a tablet's writers need: the columns by id and type, and
// the number of leading key columns that form the sort key.
type Schema struct {
	SchemaVersion int64
	Columns       []storage.ColumnMeta
	NumKeys       int
	Model         Model
	// Defaults are what rows written before a column existed read in it,
	// for the columns that have one (see ColumnDefault). The writer records
	// them with its rowset, so that a compaction merging it with rowsets
	// written before one of its columns was added can fill that column.
	Defaults []ColumnDefault
	// Partial: the writer's load updates some columns of existing rows
	// (merge-on-write tablets only).
	Partial *Partial
}

// ColumnDefault is the value a column takes in rows written before it was
// added, as readers fill it: its DEFAULT converted to the column's type, or
// NULL for a nullable column whose default is NULL (or is not a constant,
// such as CURRENT_TIMESTAMP). A NOT NULL column without a constant default
// has none.
//
// The value is in the column's physical form, as storage.DeleteCondition's
// literals are: exactly one of Null, Int and Str is set. Int holds integer
// (TINYINT to BIGINT), BOOLEAN (0, 1), DATE (days since 1970-01-01) and
// DATETIME (microseconds) values; Str holds string values, DECIMAL and
// LARGEINT values as the unscaled integer in decimal, and FLOAT and DOUBLE
// values as the shortest decimal text that reads back as the same float64
// (strconv 'g', -1: "0.1", "-2.5e-07", "NaN", "+Inf").
type ColumnDefault struct {
	Column uint32  `json:"column"`
	Null   bool    `json:"null,omitempty"`
	Int    *int64  `json:"int,omitempty"`
	Str    *string `json:"str,omitempty"`
}

// RowsetState is the life-cycle state of a rowset.
type RowsetState uint8

const (
	Pending RowsetState = iota + 1
	Visible
)

// SegmentMeta describes one segment file of a rowset.
type SegmentMeta struct {
	File    string `json:"file"` // name within the tablet directory
	Size    int64  `json:"size"`
	NumRows int64  `json:"num_rows"`
	// PKIndex is the file of the segment's primary-key index (merge-on-write
	// tablets), within the tablet directory.
	PKIndex string `json:"pk_index,omitempty"`
	// DeleteSigns are the rows whose delete sign is set (unique-key
	// tablets), a serialized roaring bitmap; empty: none.
	DeleteSigns []byte `json:"delete_signs,omitempty"`
}

// files lists the files of the segment.
func (sg *SegmentMeta) files() []string {
	if sg.PKIndex != "" {
		return []string{sg.File, sg.PKIndex}
	}
	return []string{sg.File}
}

// removeFiles deletes the files of segments in dir, ignoring those already
// gone, and returns the other failures.
func removeFiles(dir string, segs []SegmentMeta) error {
	var errs []error
	for i := range segs {
		for _, f := range segs[i].files() {
			if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// RowsetMeta is a rowset as recorded in bbolt (docs/format.md, "Rowset
// metadata").
type RowsetMeta struct {
	FormatVersion int         `json:"format_version"`
	ID            int64       `json:"id"`
	TabletID      int64       `json:"tablet_id"`
	TxnID         int64       `json:"txn_id"` // 0: written by a compaction
	State         RowsetState `json:"state"`
	// StartVersion and EndVersion are the versions a visible rowset
	// covers, both 0 while it is pending.
	StartVersion  int64         `json:"start_version,omitempty"`
	EndVersion    int64         `json:"end_version,omitempty"`
	NumRows       int64         `json:"num_rows"`
	SchemaVersion int64         `json:"schema_version"`
	NumKeys       int           `json:"num_keys"`        // leading sort-key columns; -1: unknown (format 1)
	Model         *ModelMeta    `json:"model,omitempty"` // nil: duplicate keys
	Segments      []SegmentMeta `json:"segments"`
	// Partial: a pending rowset of a partial column update, whose other
	// columns are filled when it is published (see "Partial column
	// update"); nil once visible.
	Partial *PartialMeta `json:"partial,omitempty"`
	// Delete: the rowset of a DELETE by condition, holding no rows (see
	// "Delete predicates").
	Delete *storage.DeletePredicate `json:"delete,omitempty"`
	// Defaults: the defaults of the rowset's columns that have one (format
	// 5; none in older records).
	Defaults   []ColumnDefault `json:"defaults,omitempty"`
	CreateTime int64           `json:"create_time"` // unix milliseconds
}

// DataSize is the total size of the rowset's segment files.
func (m *RowsetMeta) DataSize() int64 {
	var n int64
	for _, sg := range m.Segments {
		n += sg.Size
	}
	return n
}

// Rowset metadata formats, a ratchet: a reader accepts every format it
// knows and rejects the others; retired values are never reused.
const (
	// rowsetFormatV1: a visible rowset holds one version, "version"; no
	// "num_keys".
	rowsetFormatV1 = 1
	// rowsetFormatV2: a visible rowset covers [start_version, end_version];
	// "num_keys" is recorded.
	rowsetFormatV2 = 2
	// rowsetFormatV3: "model" records a unique- or aggregate-key tablet's
	// data model; segments may name a primary-key index and delete signs.
	rowsetFormatV3 = 3
	// rowsetFormatV4: a pending rowset of a partial column update records
	// the columns it gives in "partial".
	rowsetFormatV4 = 4
	// rowsetFormatV5: "defaults" records the defaults of the rowset's
	// columns, which a compaction fills into inputs written before a
	// column was added. Older records have none.
	rowsetFormatV5 = 5
	// rowsetFormatV6: bucket "tablets" records each tablet's replica
	// version (see replica.go), changed in the bbolt transactions that
	// publish, clone and rebuild. Rowset records are unchanged; the bump
	// makes a binary that does not keep the versions refuse a store whose
	// records say they are kept, rather than publish past them. A store
	// of an older format has no tablet records: its tablets have no known
	// version until AdoptVersions.
	rowsetFormatV6      = 6
	rowsetFormatCurrent = rowsetFormatV6
)

// decodeRowsetMeta reads a rowset record of any known format into the
// current form. A format-1 rowset becomes the range [version, version]
// with an unknown key count.
func decodeRowsetMeta(v []byte) (RowsetMeta, error) {
	var m RowsetMeta
	if err := json.Unmarshal(v, &m); err != nil {
		return m, err
	}
	switch m.FormatVersion {
	case rowsetFormatV1:
		var v1 struct {
			Version int64 `json:"version"`
		}
		if err := json.Unmarshal(v, &v1); err != nil {
			return m, err
		}
		m.StartVersion, m.EndVersion = v1.Version, v1.Version
		m.NumKeys = -1
	case rowsetFormatV2, rowsetFormatV3, rowsetFormatV4, rowsetFormatV5, rowsetFormatV6:
	default:
		return m, fmt.Errorf("rowset %d: unknown metadata format %d", m.ID, m.FormatVersion)
	}
	m.FormatVersion = rowsetFormatCurrent
	return m, nil
}

// encodeRowsetMeta writes a rowset record in the current format.
func encodeRowsetMeta(m RowsetMeta) ([]byte, error) {
	m.FormatVersion = rowsetFormatCurrent
	return json.Marshal(m)
}

var (
	bucketRowsets = []byte("rowsets") // tabletID(8) rowsetID(8) -> RowsetMeta JSON
)

// FS is the file-system hook tests use to inject failures.
type FS interface {
	// Sync flushes a file or directory to stable storage.
	Sync(f *os.File) error
}

type osFS struct{}

func (osFS) Sync(f *os.File) error { return f.Sync() }

// Defaults of Options.
const (
	// DefaultMaxVersions is Doris's max_tablet_version_num.
	DefaultMaxVersions = 2000
	// DefaultStaleSweepTime is Doris's tablet_rowset_stale_sweep_time_sec.
	DefaultStaleSweepTime = 300 * time.Second
)

// Options configure a Store. Zero fields take their defaults.
type Options struct {
	Logger *slog.Logger
	FS     FS // nil: the operating system's
	// MaxVersions bounds the visible rowsets of a tablet (Doris's
	// max_tablet_version_num): a writer into a tablet that has more is
	// refused with a *TooManyVersionsError, and past 80% of it writers are
	// slowed down. 0: DefaultMaxVersions.
	MaxVersions int
	// StaleSweepTime is how long the rowsets a compaction replaced stay
	// readable at the versions they held (Doris's
	// tablet_rowset_stale_sweep_time_sec): a query pins its tablets some
	// time after it took the catalog's visible version. They are deleted
	// after it, once no reader pins them. 0: DefaultStaleSweepTime;
	// negative: no grace, as soon as no reader pins them.
	StaleSweepTime time.Duration
	// Now is the clock of stale-rowset expiry. nil: time.Now.
	Now func() time.Time
	// PKIndexMemory bounds the memory of the merge-on-write primary-key
	// indexes kept between publishes (see pkCache). 0:
	// DefaultPKIndexMemory.
	PKIndexMemory int64
	// Strict: a tablet without a version record is at version 1, a
	// partition's empty one (see replica.go): reads above it are refused
	// with a *VersionMissingError, and a clone source holds nothing of it
	// but version 1. For the backends of a cluster, where a replica that
	// never received a tablet must not pass for an empty one. Otherwise
	// such a tablet is served unchecked, as a store of an older format or
	// the embedded server's (one backend, every tablet) needs.
	Strict bool
}

// Store is the tablet store of one backend. It is safe for concurrent use.
type Store struct {
	dir         string
	db          *bolt.DB
	log         *slog.Logger
	fs          FS
	maxVersions int
	strict      bool          // see Options.Strict
	staleSweep  time.Duration // <= 0: none
	now         func() time.Time
	sleep       func(time.Duration) // write back-pressure; tests replace it

	trigger atomic.Pointer[func(tabletID int64)] // see SetCompactionTrigger
	// hold, when set, says which tablets no compaction may take (see
	// SetCompactionHold).
	hold atomic.Pointer[func(tabletID int64) bool]

	mu      sync.Mutex // protects tablets, and every tablet and the rowset lists in it
	tablets map[int64]*tablet

	dirMu   sync.Mutex     // protects durable; held while creating tablet directories
	durable map[int64]bool // tablets whose directory is known to be durable

	idMu       sync.Mutex // protects the two below
	nextID     uint64     // next rowset id to hand out
	reservedID uint64     // highest id recorded as reserved in bbolt

	cache *storage.PageCache // decoded pages of every segment; nil: none
	pks   *pkCache           // primary-key indexes in memory

	written writeCounters // rowsets writers recorded (see Stats)
}

// SetPageCache makes every segment opened from now on read its pages
// through c (nil turns caching off for them). Call it before serving reads.
func (s *Store) SetPageCache(c *storage.PageCache) { s.cache = c }

// SetCompactionTrigger registers fn to be called with a tablet whose
// visible rowsets may need compacting: after a publish added to it, and
// when a writer into it was slowed down or refused. fn must not block (a
// scheduler queues the tablet); nil unregisters.
func (s *Store) SetCompactionTrigger(fn func(tabletID int64)) {
	if fn == nil {
		s.trigger.Store(nil)
		return
	}
	s.trigger.Store(&fn)
}

func (s *Store) requestCompaction(tabletID int64) {
	if fn := s.trigger.Load(); fn != nil {
		(*fn)(tabletID)
	}
}

// tablet is the in-memory state of one tablet; Store.mu guards it.
type tablet struct {
	id int64
	// version is the tablet's replica version: every version up to it is
	// held (see replica.go); 0: not known. Written under pubMu and
	// Store.mu, read under either, as is broken.
	version int64
	// broken: a lenient publish found a rowset missing (see replica.go's
	// "Lenient tablets"); recorded with the version.
	broken     bool
	visible    []*rowset         // ascending by version; ranges disjoint
	pending    map[int64]*rowset // by txn id
	stale      []*staleGroup     // compactions whose inputs are kept for readers
	compacting bool              // a Compaction holds the tablet

	// pubMu orders what changes the delete bitmaps of a merge-on-write
	// tablet: publishes, which compute them from the visible rowsets, and
	// the swap of a compaction, which carries them over. Taken before
	// Store.mu.
	pubMu sync.Mutex
}

// staleGroup is one compaction's inputs, kept until they are swept.
type staleGroup struct {
	output *rowset
	inputs []*rowset
	at     time.Time // when they were replaced
}

// rowset is a rowset's metadata plus its opened segments, shared by every
// reader that pinned it.
type rowset struct {
	meta RowsetMeta
	dir  string

	// inputs are the rowsets a compaction replaced by this one, in version
	// order, while they are kept (Store.mu guards it). A reader at a
	// version inside this rowset's range reads them instead.
	inputs []*rowset

	// publishAt is the version a replica publish found a pending rowset's
	// transaction at while the tablet lagged (Gap), 0 when unknown
	// (Store.mu guards it): a clone that brings the tablet to that version
	// or beyond drops the rowset. Not recorded: after a restart such a
	// rowset waits for its transaction's abort or publish.
	publishAt int64

	// Merge-on-write state (Store.mu guards marks, signs and delCache;
	// publishes also read marks under the tablet's pubMu, which every
	// writer of them holds).
	marks    [][]mark // per segment, ascending by version; nil: none
	signs    []*roaring.Bitmap
	delCache []deleteCache

	mu      sync.Mutex         // protects the fields below
	pks     []*storage.PKIndex // merge-on-write: loaded on first use; see pkCache
	pkBytes int64              // their size
	refs    int
	segs    []*storage.Segment
	files   []*os.File
	dead    bool // removed from the tablet: close when the last reader leaves
	// stale: replaced by a compaction but still readable at older
	// versions. Its files are closed whenever no reader holds it, and
	// opened again by a reader that needs them, so a tablet's stale
	// rowsets do not hold file descriptors through the grace period.
	stale bool
}

// retire marks a rowset replaced by a compaction and closes its files if
// no reader holds them.
func (rs *rowset) retire() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.stale = true
	if rs.refs == 0 {
		rs.closeLocked()
	}
}

// Open opens (creating if needed) the store in dir and recovers it.
func Open(dir string, log *slog.Logger) (*Store, error) {
	return OpenWithOptions(dir, Options{Logger: log})
}

// OpenWithFS is Open with a file-system hook.
func OpenWithFS(dir string, log *slog.Logger, fs FS) (*Store, error) {
	return OpenWithOptions(dir, Options{Logger: log, FS: fs})
}

// OpenWithOptions is Open with options.
func OpenWithOptions(dir string, opts Options) (*Store, error) {
	log, fs := opts.Logger, opts.FS
	if log == nil {
		log = slog.Default()
	}
	if fs == nil {
		fs = osFS{}
	}
	if opts.MaxVersions <= 0 {
		opts.MaxVersions = DefaultMaxVersions
	}
	if opts.StaleSweepTime == 0 {
		opts.StaleSweepTime = DefaultStaleSweepTime
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return nil, fmt.Errorf("tabletstore: %w", err)
	}
	// The entry of data/ (perhaps just created) must outlive a crash as
	// surely as the rowsets recorded under it.
	if err := syncDir(fs, dir); err != nil {
		return nil, err
	}
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("tabletstore: opening meta.db: %w", err)
	}
	// Concurrent loads record their rowsets through db.Batch, which
	// commits (and fsyncs) the writes that arrive within this delay as one
	// transaction.
	db.MaxBatchDelay = batchDelay
	s := &Store{
		dir: dir, db: db, log: log, fs: fs,
		maxVersions: opts.MaxVersions, strict: opts.Strict, staleSweep: opts.StaleSweepTime, now: opts.Now, sleep: time.Sleep,
		tablets: map[int64]*tablet{}, durable: map[int64]bool{},
		pks: newPKCache(cmp.Or(opts.PKIndexMemory, DefaultPKIndexMemory)),
	}
	if err := s.recover(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func rowsetKey(tabletID, rowsetID int64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(tabletID))
	binary.BigEndian.PutUint64(k[8:], uint64(rowsetID))
	return k
}

func (s *Store) tabletDir(id int64) string {
	return filepath.Join(s.dir, "data", strconv.FormatInt(id%256, 10), strconv.FormatInt(id, 10))
}

// makeTabletDir creates a tablet's directory if needed and makes its entry,
// and those of the directories above it up to the store's, durable, so that
// a crash cannot lose segment files a recorded rowset points at. The work is
// done once per tablet per process.
func (s *Store) makeTabletDir(id int64) (string, error) {
	dir := s.tabletDir(id)
	s.dirMu.Lock()
	defer s.dirMu.Unlock()
	if s.durable[id] {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("tabletstore: %w", err)
	}
	// data/<n>/<id>: sync data/<n> (holds <id>) and data (holds <n>).
	for _, d := range []string{filepath.Dir(dir), filepath.Join(s.dir, "data")} {
		if err := syncDir(s.fs, d); err != nil {
			return "", err
		}
	}
	s.durable[id] = true
	return dir, nil
}

// recover loads every rowset and deletes segment files none references.
func (s *Store) recover() error {
	referenced := map[string]bool{}
	byID := map[int64]*rowset{}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketRowsets)
		if err != nil {
			return err
		}
		err = b.ForEach(func(k, v []byte) error {
			m, err := decodeRowsetMeta(v)
			if err != nil {
				return fmt.Errorf("rowset %x: %w", k, err)
			}
			if m.State == Visible && (m.StartVersion < 1 || m.StartVersion > m.EndVersion) {
				return fmt.Errorf("rowset %d of tablet %d: bad version range [%d-%d]", m.ID, m.TabletID, m.StartVersion, m.EndVersion)
			}
			rs := &rowset{meta: m, dir: s.tabletDir(m.TabletID)}
			byID[m.ID] = rs
			t := s.tabletLocked(m.TabletID)
			if m.State == Visible {
				t.visible = append(t.visible, rs)
			} else {
				t.pending[m.TxnID] = rs
			}
			for i := range m.Segments {
				for _, f := range m.Segments[i].files() {
					referenced[filepath.Join(rs.dir, f)] = true
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := s.recoverMarks(tx, byID); err != nil {
			return err
		}
		return s.recoverVersions(tx)
	})
	if err != nil {
		return fmt.Errorf("tabletstore: recovering metadata: %w", err)
	}
	for _, t := range s.tablets {
		sort.Slice(t.visible, func(i, j int) bool { return t.visible[i].meta.StartVersion < t.visible[j].meta.StartVersion })
		for i := 1; i < len(t.visible); i++ {
			if a, b := &t.visible[i-1].meta, &t.visible[i].meta; b.StartVersion <= a.EndVersion {
				return fmt.Errorf("tabletstore: tablet %d: rowsets %d [%d-%d] and %d [%d-%d] overlap",
					t.id, a.ID, a.StartVersion, a.EndVersion, b.ID, b.StartVersion, b.EndVersion)
			}
		}
	}
	removed := 0
	err = filepath.WalkDir(filepath.Join(s.dir, "data"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".seg") && !strings.HasSuffix(path, ".pk") && !strings.HasSuffix(path, ".tmp") {
			return nil
		}
		if !referenced[path] {
			removed++
			return os.Remove(path)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("tabletstore: removing orphan files: %w", err)
	}
	if removed > 0 {
		s.log.Info("removed orphan segment files", "count", removed)
	}
	return nil
}

// tabletLocked returns the tablet's state, creating it; s.mu is held (or
// the store is not yet shared).
func (s *Store) tabletLocked(id int64) *tablet {
	t := s.tablets[id]
	if t == nil {
		t = &tablet{id: id, pending: map[int64]*rowset{}}
		s.tablets[id] = t
	}
	return t
}

// Close closes the metadata and every open segment file. Readers must have
// released their snapshots, and compactions must have ended. Stale rowsets
// not swept yet are left on disk: the next Open deletes their files, which
// no record references.
func (s *Store) Close() error {
	s.mu.Lock()
	for _, t := range s.tablets {
		for _, rs := range t.visible {
			rs.closeFiles()
		}
		for _, g := range t.stale {
			for _, rs := range g.inputs {
				rs.closeFiles()
			}
		}
	}
	s.mu.Unlock()
	return s.db.Close()
}

// PendingTxns lists the transactions that have pending rowsets.
func (s *Store) PendingTxns() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[int64]bool{}
	var out []int64
	for _, t := range s.tablets {
		for id := range t.pending {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// VersionCount is the number of visible rowsets of a tablet.
func (s *Store) VersionCount(tabletID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tablets[tabletID]; t != nil {
		return len(t.visible)
	}
	return 0
}

// batchDelay is how long a metadata write waits for others to share its
// bbolt commit: small next to a load, large next to an fsync.
const batchDelay = 2 * time.Millisecond

// addPending records a rowset written by a delta writer. Its files are
// already durable. The store's lock is not held during the write, so the
// rowsets of concurrent loads share commits.
//
// On error the rowset's files are not left unowned: when the record was
// not written (a full disk, say) they are removed at once, as nothing
// refers to them; when it was, the rowset is pending all the same, and the
// abort of the failed load (AbortTxn) removes record and files.
func (s *Store) addPending(m RowsetMeta) error {
	m.FormatVersion = rowsetFormatCurrent
	m.State = Pending
	v, err := encodeRowsetMeta(m)
	if err != nil {
		return err
	}
	s.mu.Lock()
	t := s.tabletLocked(m.TabletID)
	if old, ok := t.pending[m.TxnID]; ok {
		s.mu.Unlock()
		return fmt.Errorf("BUG: txn %d already has rowset %d in tablet %d", m.TxnID, old.meta.ID, m.TabletID)
	}
	s.mu.Unlock()
	err = failpoint.Inject("tabletstore/before-meta-commit")
	if err == nil {
		err = s.db.Batch(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketRowsets).Put(rowsetKey(m.TabletID, m.ID), v)
		})
	}
	if err != nil {
		if rerr := removeFiles(s.tabletDir(m.TabletID), m.Segments); rerr != nil {
			s.log.Warn("removing the files of an unrecorded rowset", "rowset", m.ID, "tablet", m.TabletID, "err", rerr)
		}
		return fmt.Errorf("tabletstore: recording rowset %d: %w", m.ID, err)
	}
	s.mu.Lock()
	// A transaction's writer for a tablet is one delta writer, so no other
	// rowset of the transaction can have appeared meanwhile; an abort that
	// ran meanwhile left this record to the cleanup of aborted
	// transactions, which finds it in pending.
	t.pending[m.TxnID] = &rowset{meta: m, dir: s.tabletDir(m.TabletID)}
	s.written.add(&m)
	s.mu.Unlock()
	if err := failpoint.Inject("tabletstore/after-meta-commit"); err != nil {
		return fmt.Errorf("tabletstore: recording rowset %d: %w", m.ID, err)
	}
	return nil
}

// rowsetIDBlock is how many rowset ids one bbolt write reserves.
const rowsetIDBlock = 1024

// nextRowsetID allocates a rowset id. Ids are reserved in blocks, the
// highest reserved one recorded as the bucket's sequence, so after a crash
// allocation resumes above every id that may have been handed out.
func (s *Store) nextRowsetID() (int64, error) {
	s.idMu.Lock()
	defer s.idMu.Unlock()
	if s.nextID == 0 || s.nextID > s.reservedID {
		var reserved uint64
		err := s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketRowsets)
			reserved = b.Sequence() + rowsetIDBlock
			return b.SetSequence(reserved)
		})
		if err != nil {
			return 0, fmt.Errorf("tabletstore: reserving rowset ids: %w", err)
		}
		s.nextID, s.reservedID = reserved-rowsetIDBlock+1, reserved
	}
	id := s.nextID
	s.nextID++
	return int64(id), nil
}

// PublishTxn makes a transaction's pending rowsets in the given tablets
// visible at the given versions, in one bbolt transaction. It is
// idempotent: a tablet whose rowset for the transaction is already visible,
// or that has none (the load wrote nothing there), is left alone. Each
// tablet that gained a rowset is handed to the compaction trigger.
//
// A tablet with a known version (see replica.go) counts as written when it
// has a pending rowset of the transaction, and otherwise advances its
// version with no rowset; one whose version is below the previous one
// stays behind, as PublishReplica's Gap, which is logged and not an
// error. PublishReplica is the form that knows what the load wrote.
func (s *Store) PublishTxn(txnID int64, versions map[int64]int64) error {
	return s.PublishTxns([]TxnVersions{{TxnID: txnID, Versions: versions}})
}

// TxnVersions is one transaction to publish: tablet id -> version.
type TxnVersions struct {
	TxnID    int64
	Versions map[int64]int64
}

// PublishTxns publishes several transactions, in the order given (a
// tablet's versions ascending), in one bbolt transaction; see PublishTxn.
func (s *Store) PublishTxns(txns []TxnVersions) error {
	batch := make([]TxnPublish, len(txns))
	for i, tx := range txns {
		tablets := make(map[int64]PublishTablet, len(tx.Versions))
		for id, v := range tx.Versions {
			tablets[id] = PublishTablet{Version: v}
		}
		batch[i] = TxnPublish{TxnID: tx.TxnID, Tablets: tablets}
	}
	_, err := s.publish(batch, false)
	return err
}

// flip is a pending rowset a publish makes visible, with its new record.
type flip struct {
	t     *tablet
	rs    *rowset
	m     RowsetMeta
	txnID int64
}

// putMarks records delete bitmaps.
func putMarks(tx *bolt.Tx, list []*newMark) error {
	b := tx.Bucket(bucketDeleteBitmaps)
	for _, m := range list {
		m.rows.RunOptimize()
		v, err := m.rows.ToBytes()
		if err != nil {
			return err
		}
		if err := b.Put(markKey(m.ref.rs.meta.TabletID, m.ref.rs.meta.ID, m.ref.seg, m.version), v); err != nil {
			return err
		}
	}
	return nil
}

// addMarks adds recorded delete bitmaps to their rowsets. Store.mu and the
// tablets' publish locks are held.
func addMarks(list []*newMark) {
	for _, m := range list {
		rs := m.ref.rs
		if rs.marks == nil {
			rs.marks = make([][]mark, len(rs.meta.Segments))
		}
		rs.marks[m.ref.seg] = append(rs.marks[m.ref.seg], mark{m.version, m.rows})
	}
}

// AbortTxn deletes a transaction's pending rowsets and their files. It is
// idempotent.
func (s *Store) AbortTxn(txnID int64) error {
	s.mu.Lock()
	var victims []*rowset
	var owners []*tablet
	for _, t := range s.tablets {
		if rs := t.pending[txnID]; rs != nil {
			victims = append(victims, rs)
			owners = append(owners, t)
		}
	}
	if len(victims) == 0 {
		s.mu.Unlock()
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRowsets)
		for _, rs := range victims {
			if err := b.Delete(rowsetKey(rs.meta.TabletID, rs.meta.ID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("tabletstore: aborting txn %d: %w", txnID, err)
	}
	for _, t := range owners {
		delete(t.pending, txnID)
	}
	s.mu.Unlock()
	var errs []error
	for _, rs := range victims {
		errs = append(errs, removeFiles(rs.dir, rs.meta.Segments))
	}
	return errors.Join(errs...)
}

// Snapshot is a pinned set of rowsets of one tablet at one version.
type Snapshot struct {
	rowsets []*rowset
	deletes [][]*roaring.Bitmap // per rowset, per segment: rows to skip
	cache   *storage.PageCache
	once    sync.Once
	// flat: see Flat; flatDeletes parallel to Segments.
	flat        bool
	flatDeletes []*roaring.Bitmap
}

// Acquire pins the rowsets that hold a tablet's data at version: the
// visible rowsets at or below it, where a rowset a compaction produced
// whose range straddles version is replaced by the rowsets it was merged
// from, as long as they are kept (Options.StaleSweepTime). When they are
// not, the error wraps ErrVersionsCompacted. A version above the tablet's
// replica version (see replica.go) is refused with a *VersionMissingError.
// A tablet never written is empty, but in a strict store (Options.Strict)
// only at version 1: a tablet without a version record is at 1 there.
func (s *Store) Acquire(tabletID, version int64) (*Snapshot, error) {
	return s.acquire(tabletID, version, false)
}

// AcquireKeepingSigns is Acquire for a reader that sees the rows whose
// delete sign is set (Doris's skip_delete_sign): its deletes hold only the
// rows later loads replaced and DELETE conditions matched.
func (s *Store) AcquireKeepingSigns(tabletID, version int64) (*Snapshot, error) {
	return s.acquire(tabletID, version, true)
}

func (s *Store) acquire(tabletID, version int64, keepSigns bool) (*Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := &Snapshot{cache: s.cache}
	t := s.tablets[tabletID]
	if held := s.heldLocked(t); held > 0 && held < version {
		return nil, &VersionMissingError{TabletID: tabletID, Version: version, Held: held}
	}
	if t == nil {
		snap.flat = true
		return snap, nil
	}
	rowsets, missing := collectAt(nil, t.visible, version)
	if missing != nil {
		m := &missing.meta
		return nil, fmt.Errorf("[E-230]versions are already compacted: tablet %d cannot be read at version %d: "+
			"rowset %d merged versions [%d-%d] and the rowsets it replaced were deleted: %w",
			tabletID, version, m.ID, m.StartVersion, m.EndVersion, ErrVersionsCompacted)
	}
	snap.deletes = make([][]*roaring.Bitmap, len(rowsets))
	for i, rs := range rowsets {
		d, err := rs.deletesAt(version, keepSigns)
		if err != nil {
			return nil, fmt.Errorf("tabletstore: tablet %d: %w", tabletID, err)
		}
		snap.deletes[i] = d
	}
	if err := snap.findFlat(rowsets, keepSigns); err != nil {
		return nil, fmt.Errorf("tabletstore: tablet %d: %w", tabletID, err)
	}
	pin(rowsets)
	snap.rowsets = rowsets
	return snap, nil
}

// findFlat decides Flat for the pinned rowsets. Store.mu is held.
func (sn *Snapshot) findFlat(rowsets []*rowset, keepSigns bool) error {
	var data *rowset
	at := -1
	for i, rs := range rowsets {
		if len(rs.meta.Segments) == 0 {
			continue // a DELETE's condition, already in the others' marks
		}
		if data != nil {
			return nil
		}
		data, at = rs, i
	}
	if data == nil {
		sn.flat = true
		return nil
	}
	// Only tablets folded on read need it: the others' readers never ask,
	// so queries of them do not pay for the deletes below.
	mm := data.meta.Model
	if mm == nil || mm.MergeOnWrite {
		return nil
	}
	// One load's segments may hold a key each; a compaction's output is
	// one sorted run cut into segments.
	if len(data.meta.Segments) > 1 && data.meta.TxnID != 0 {
		return nil
	}
	signs := make([]*roaring.Bitmap, len(data.meta.Segments))
	if mm.Kind == "unique" && !keepSigns {
		var err error
		if signs, err = data.signRows(); err != nil {
			return err
		}
	}
	for seg := range data.meta.Segments {
		var d *roaring.Bitmap
		if sn.deletes[at] != nil {
			d = sn.deletes[at][seg]
		}
		switch {
		case d == nil:
			d = signs[seg]
		case signs[seg] != nil:
			d = roaring.Or(d, signs[seg])
		}
		sn.flatDeletes = append(sn.flatDeletes, d)
	}
	sn.flat = true
	return nil
}

// Flat reports, for a merge-on-read or aggregate tablet, whether the
// pinned data holds each key at most once, as a reader would fold it: one
// rowset whose segments do not overlap (always false for other models). Such a tablet can be scanned as it is,
// skipping the rows FlatDeletes returns (parallel to Segments): the
// deleted rows and, merge-on-read, those whose delete sign is set.
func (sn *Snapshot) Flat() bool { return sn.flat }

// FlatDeletes: see Flat (nil entries: none; nil: no rows at all).
func (sn *Snapshot) FlatDeletes() []*roaring.Bitmap { return sn.flatDeletes }

// collectAt appends to dst the rowsets of list (ascending, disjoint ranges)
// that hold the versions up to v. A rowset whose range straddles v is
// replaced by the rowsets it was compacted from, recursively; when those
// are gone, collectAt returns it as missing. Store.mu is held.
func collectAt(dst, list []*rowset, v int64) (out []*rowset, missing *rowset) {
	for _, rs := range list {
		switch {
		case rs.meta.StartVersion > v:
			return dst, nil
		case rs.meta.EndVersion <= v:
			dst = append(dst, rs)
		case rs.inputs == nil:
			return dst, rs
		default:
			// The rowsets after a straddling one start above v.
			return collectAt(dst, rs.inputs, v)
		}
	}
	return dst, nil
}

// Segments opens (once per rowset, shared by all readers) and returns the
// segments of every pinned rowset.
func (sn *Snapshot) Segments() ([]*storage.Segment, error) {
	var out []*storage.Segment
	for _, rs := range sn.rowsets {
		segs, err := rs.open(sn.cache)
		if err != nil {
			return nil, err
		}
		out = append(out, segs...)
	}
	return out, nil
}

// Deletes returns, parallel to Segments, the rows of each segment a reader
// must skip (nil: none): rows a later load of a merge-on-write tablet
// replaced, and rows whose delete sign is set. The bitmaps are shared and
// must not be modified.
func (sn *Snapshot) Deletes() []*roaring.Bitmap {
	var out []*roaring.Bitmap
	for i, rs := range sn.rowsets {
		if d := sn.deletes[i]; d != nil {
			out = append(out, d...)
		} else {
			out = append(out, make([]*roaring.Bitmap, len(rs.meta.Segments))...)
		}
	}
	return out
}

// NumRows is the number of rows in the pinned rowsets.
func (sn *Snapshot) NumRows() int64 {
	var n int64
	for _, rs := range sn.rowsets {
		n += rs.meta.NumRows
	}
	return n
}

// Release unpins the rowsets; it is safe to call more than once.
func (sn *Snapshot) Release() {
	sn.once.Do(func() { unpin(sn.rowsets) })
}

// pin takes a reader's reference on each of rowsets. Store.mu is held, so
// that no sweep deletes them meanwhile.
func pin(rowsets []*rowset) {
	for _, rs := range rowsets {
		rs.mu.Lock()
		rs.refs++
		rs.mu.Unlock()
	}
}

// unpin lets go of references pin took, closing the files of rowsets that
// were removed or replaced once no reader holds them.
func unpin(rowsets []*rowset) {
	for _, rs := range rowsets {
		rs.mu.Lock()
		rs.refs--
		if rs.refs == 0 && (rs.dead || rs.stale) {
			// Under rs.mu, so a reader that pins the rowset again
			// reopens the files rather than getting closed ones.
			rs.closeLocked()
		}
		rs.mu.Unlock()
	}
}

func (rs *rowset) open(cache *storage.PageCache) ([]*storage.Segment, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.segs != nil || len(rs.meta.Segments) == 0 {
		return rs.segs, nil
	}
	var segs []*storage.Segment
	var files []*os.File
	for _, sg := range rs.meta.Segments {
		path := filepath.Join(rs.dir, sg.File)
		f, err := os.Open(path)
		if err != nil {
			closeAll(files)
			return nil, fmt.Errorf("opening segment of rowset %d: %w", rs.meta.ID, err)
		}
		files = append(files, f)
		seg, err := storage.Open(f, sg.Size)
		if err != nil {
			closeAll(files)
			return nil, fmt.Errorf("opening segment %s of tablet %d: %w", path, rs.meta.TabletID, err)
		}
		seg.SetCache(cache)
		segs = append(segs, seg)
	}
	rs.segs, rs.files = segs, files
	return segs, nil
}

func (rs *rowset) closeFiles() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.closeLocked()
}

// closeLocked closes the rowset's files and evicts the pages its segments
// put in the page cache: a reopened segment caches under new keys, so
// nothing would read those pages again. rs.mu is held.
func (rs *rowset) closeLocked() {
	for _, seg := range rs.segs {
		seg.DropCached()
	}
	closeAll(rs.files)
	rs.files, rs.segs = nil, nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

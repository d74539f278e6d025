// Package sink is the write side of a load: it runs one load transaction
// from begin to visibility. Rows arrive in table-schema order (from stream
// load or INSERT); the sink routes each row to its tablet (partition by
// range, bucket by hash), writes each tablet's rows through a delta writer,
// and at commit makes everything durable on the backend before asking the
// transaction service to commit and publish it, so that a query sees all of
// a load or none of it.
package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/partition"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/loader"
	"github.com/strata-db/strata/storage"
)

// TabletSchema is what a tablet writer needs to know about the table.
type TabletSchema struct {
	SchemaVersion int64
	Columns       []storage.ColumnMeta
	// NumKeys leading columns are the sort key.
	NumKeys int
	// The data model: KeysType, and for UNIQUE KEY tables whether they
	// merge on write and which columns (indexes, -1: none) hold the
	// sequence and the delete sign; for AGGREGATE KEY tables the
	// aggregation of every column ("" for keys).
	KeysType      catalog.KeysType
	MergeOnWrite  bool
	SeqCol        int
	DeleteSignCol int
	Aggs          []string
	// Defaults, parallel to Columns, are what rows written before a column
	// was added read in it, converted as readers convert it (fe/planner's
	// scanColumn): the DEFAULT, or NULL (a Literal whose IsNull) for a
	// nullable column whose default is NULL or not a constant; nil for a
	// NOT NULL column without a constant default. Rowsets record them, so
	// that compaction can merge rowsets of different schemas.
	Defaults []*exec.Literal
	// Partial: the load updates some columns of existing rows.
	Partial *loader.PartialUpdate
	// Source is the table (or index, as a table) the schema was derived
	// from: what a tablet writer on another backend derives it from again.
	Source *catalog.Table
}

// SchemaOf returns what tablet writers of t need to know.
func SchemaOf(t *catalog.Table) TabletSchema {
	schema := TabletSchema{
		SchemaVersion: t.Schema.Version, NumKeys: t.Schema.NumKeys(),
		KeysType: t.KeysType, MergeOnWrite: t.MergeOnWrite(), Source: t,
	}
	schema.SeqCol, _ = t.SequenceColumn()
	schema.DeleteSignCol, _ = t.DeleteSignColumn()
	for _, c := range t.Schema.Columns {
		schema.Columns = append(schema.Columns, storage.ColumnMeta{ID: c.ID, Type: c.Type.Arrow(), Nullable: c.Nullable})
		schema.Defaults = append(schema.Defaults, readDefault(&c))
	}
	if t.KeysType == catalog.AggKeys {
		for _, c := range t.Schema.Columns {
			schema.Aggs = append(schema.Aggs, c.AggType)
		}
	}
	return schema
}

// readDefault is TabletSchema.Defaults of column c. It must agree with
// what fe/planner's scanColumn gives readers.
func readDefault(c *catalog.Column) *exec.Literal {
	if c.Default != nil {
		if l, err := exec.NewLiteralChecked(*c.Default, c.Type); err == nil {
			return l
		}
	}
	if !c.Nullable {
		return nil
	}
	return exec.NewLiteral(nil, c.Type)
}

// TabletWriter writes one transaction's rows into one tablet.
type TabletWriter interface {
	// Write appends rows (one array per column, in schema order).
	Write(cols []arrow.Array) error
	// Close makes everything written durable and records it as pending
	// under the transaction; it returns only once that is on disk.
	Close() error
	// Cancel discards what was written.
	Cancel()
}

// ReplicaWriter is a TabletWriter of a replicated tablet: after Close it
// says which backends hold the rows, which the commit records so that the
// publish reaches them even if the tablet's replicas move meanwhile.
type ReplicaWriter interface {
	TabletWriter
	Replicas() []int64
}

// Tablets is the backend the sink writes into.
type Tablets interface {
	// OpenWriter starts writing a transaction's rows into a tablet, whose
	// replicas are where at says.
	OpenWriter(tabletID, txnID int64, schema TabletSchema, at Placement) (TabletWriter, error)
	// AddDelete records a DELETE's condition in a tablet under txnID.
	AddDelete(tabletID, txnID int64, schema TabletSchema, pred storage.DeletePredicate, at Placement) error
	// AbortTxn discards every pending rowset of a transaction.
	AbortTxn(txnID int64) error
}

// Placement is where a tablet's replicas are: the backends holding its
// bucket (none: the only backend holds every tablet), and the partition,
// whose visible version tells a replica that missed loads.
type Placement struct {
	DBID, TableID, PartitionID int64
	Bucket                     int
	Backends                   []int64
	// Building: the tablet belongs to an index being built, whose rows up
	// to some version its alter job replaces; its replicas' versions do
	// not tell whether they missed loads (see tabletstore's lenient
	// publish).
	Building bool
}

// PlacementOf is where bucket b of partition pi of t is.
func PlacementOf(t *catalog.Table, pi, b int) Placement {
	p := &t.Partitions[pi]
	return Placement{DBID: t.DBID, TableID: t.ID, PartitionID: p.ID, Bucket: b, Backends: p.BucketBackends(b)}
}

// TxnService is the load transaction service the sink runs its loads
// through: the *txn.Manager of the frontend that leads, in its process, or
// a client of it elsewhere (fe/txn/txnrpc). The methods are
// *txn.Manager's and mean the same; errors are its typed errors
// (*txn.LabelExistsError, *txn.StateError, *txn.NotFoundError, ...), which
// decide a stream load's Status and Message, so an implementation that
// calls another process must return them with the same type and text.
// Implementations are safe for concurrent use.
type TxnService interface {
	Begin(ctx context.Context, req txn.BeginRequest) (*txn.Txn, error)
	Get(ctx context.Context, id int64) (*txn.Txn, error)
	GetByLabel(ctx context.Context, dbID int64, label string) (*txn.Txn, error)
	Precommit(ctx context.Context, id int64, parts []txn.PartitionRef) error
	Commit(ctx context.Context, id int64, parts []txn.PartitionRef) (map[int64]int64, error)
	Abort(ctx context.Context, id int64, reason string) error
	Publish(ctx context.Context, id int64) error
}

var _ TxnService = (*txn.Manager)(nil)

// Sink begins loads. It implements loader.Backend.
type Sink struct {
	Catalog *catalog.Catalog
	Txns    TxnService
	Tablets Tablets
	// Coordinator, when set, is recorded in the loads' transactions as the
	// process running them (a backend of a cluster; see
	// txn.BeginRequest.Coordinator).
	Coordinator *txn.Coordinator
	// Authenticator checks HTTP Basic credentials; nil admits root with an
	// empty password only.
	Authenticator func(user, password, host string) error
	// CheckLoad, when set, checks that a stream load's user may load into
	// db.table (a request with CheckPrivilege), and that a two-phase
	// decision's user may load into the transaction's tables; its error
	// fails the load or the decision.
	CheckLoad func(user, host, db, table string) error
}

var _ loader.Backend = (*Sink)(nil)

// Authenticate implements loader.Backend.
func (s *Sink) Authenticate(user, password, host string) error {
	if s.Authenticator != nil {
		return s.Authenticator(user, password, host)
	}
	if user == "root" && password == "" {
		return nil
	}
	return fmt.Errorf("Access denied for user '%s'@'%s'", user, host)
}

// Begin starts a load transaction into db.table.
func (s *Sink) Begin(ctx context.Context, req loader.BeginRequest) (loader.Load, error) {
	if req.CheckPrivilege && s.CheckLoad != nil {
		if req.Host == "" {
			return nil, fmt.Errorf("stream load into %s.%s without the client's address: privileges cannot be checked", req.DB, req.Table)
		}
		if err := s.CheckLoad(req.User, req.Host, req.DB, req.Table); err != nil {
			return nil, err
		}
	}
	snap := s.Catalog.Snapshot()
	db, err := snap.Database(req.DB)
	if err != nil {
		return nil, err
	}
	t, err := snap.Table(req.DB, req.Table)
	if err != nil {
		return nil, err
	}
	if t.IsView() {
		return nil, fmt.Errorf("'%s.%s' is not BASE TABLE: a view cannot be loaded", req.DB, req.Table)
	}
	router, err := partition.NewRouter(t)
	if err != nil {
		return nil, err
	}
	source := "STREAM_LOAD"
	if strings.HasPrefix(req.Label, "insert_") {
		source = "INSERT"
	}
	tx, err := s.Txns.Begin(ctx, txn.BeginRequest{
		DBID: db.ID, DBName: db.Name, Label: req.Label, TableIDs: []int64{t.ID},
		Timeout: req.Timeout, TwoPhaseCommit: req.TwoPhaseCommit, Source: source, Coordinator: s.Coordinator,
	})
	if err != nil {
		var le *txn.LabelExistsError
		if errors.As(err, &le) {
			return nil, &loader.LabelExistsError{TxnID: le.TxnID, ExistingStatus: le.Status.ExistingJobStatus()}
		}
		return nil, err
	}
	// The table is read again now that the transaction has its id: an
	// index added before that id was handed out (see txn.Watershed) is in
	// this read, so the load writes it.
	if t2, err := s.Catalog.Snapshot().Table(req.DB, req.Table); err == nil && t2 != t && t2.ID == t.ID {
		t = t2
		if router, err = partition.NewRouter(t); err != nil {
			_ = s.Txns.Abort(ctx, tx.ID, err.Error())
			return nil, err
		}
	}
	l := &load{
		s: s, txn: tx, table: t, router: router, schema: SchemaOf(t),
		writers: map[int64]TabletWriter{}, touched: map[int]bool{}, written: map[int64][]int64{},
	}
	for i := range t.Indexes {
		p, err := NewIndexProjection(t, &t.Indexes[i])
		if err != nil {
			_ = s.Txns.Abort(ctx, tx.ID, err.Error())
			return nil, err
		}
		l.indexes = append(l.indexes, p)
	}
	return l, nil
}

// load is one running load transaction. Its methods are called from one
// goroutine (the loader's contract), except Abort, which another
// goroutine may call to cancel it; mu serializes them.
type load struct {
	s      *Sink
	txn    *txn.Txn
	table  *catalog.Table
	router *partition.Router
	schema TabletSchema
	// indexes are the table's rollups and materialized views, written
	// with the base in the same transaction.
	indexes []*IndexProjection

	mu      sync.Mutex // protects the fields below
	writers map[int64]TabletWriter
	touched map[int]bool // partition indexes written to
	// written are the tablets written (base and index), by partition id.
	written   map[int64][]int64
	finished  bool
	committed bool // committed or precommitted: Abort must leave the data

	part, bucket []int32
}

func (l *load) TxnID() int64              { return l.txn.ID }
func (l *load) Columns() []catalog.Column { return l.table.Schema.Columns }
func (l *load) Table() *catalog.Table     { return l.table }

// Delete implements loader.Load: the condition goes to every tablet of
// the partitions, each of which gets a version.
func (l *load) Delete(ctx context.Context, pred storage.DeletePredicate, partitions []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.finished {
		return fmt.Errorf("load %d is already finished", l.txn.ID)
	}
	if l.table.MergeOnWrite() {
		return fmt.Errorf("BUG: DELETE by condition on merge-on-write table %s", l.table.Name)
	}
	for pi, p := range l.table.Partitions {
		if len(partitions) > 0 && !slices.ContainsFunc(partitions, func(n string) bool { return strings.EqualFold(n, p.Name) }) {
			continue
		}
		for b, id := range p.Tablets {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := l.s.Tablets.AddDelete(id, l.txn.ID, l.schema, pred, PlacementOf(l.table, pi, b)); err != nil {
				return fmt.Errorf("tablet %d: %w", id, err)
			}
			l.written[p.ID] = append(l.written[p.ID], id)
		}
		// Every index holds the condition's columns (the DELETE was
		// checked against them; one added since is checked here): it
		// deletes the same rows there.
		for _, ix := range l.indexes {
			if err := CheckDelete(ix.Index, pred); err != nil {
				return err
			}
			for b, id := range p.IndexTablets[ix.Index.ID] {
				if err := l.s.Tablets.AddDelete(id, l.txn.ID, ix.Schema, pred, PlacementOf(l.table, pi, b)); err != nil {
					return fmt.Errorf("tablet %d of index %s: %w", id, ix.Index.Name, err)
				}
				l.written[p.ID] = append(l.written[p.ID], id)
			}
		}
		l.touched[pi] = true
	}
	return nil
}

// SetPartialUpdate implements loader.Load.
func (l *load) SetPartialUpdate(p *loader.PartialUpdate) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.writers) > 0 {
		return fmt.Errorf("BUG: load %d made a partial update after its first write", l.txn.ID)
	}
	if !l.table.MergeOnWrite() {
		return fmt.Errorf("Only unique key merge on write support partial update")
	}
	for _, ix := range l.indexes {
		// Until its job has converted the older rows, an index tablet
		// lacks the rows a partial update is filled from.
		if ix.Index.State == catalog.IndexShadow {
			return fmt.Errorf("partial update of table %s cannot run while the rollup, materialized view or schema change %s is being built; retry once SHOW ALTER TABLE shows it FINISHED", l.table.Name, ix.Index.Name)
		}
	}
	l.schema.Partial = p
	for _, ix := range l.indexes {
		ix.Schema.Partial = ix.partial(l.table, p)
	}
	return nil
}

// Write routes rows to tablets. A row that no partition holds fails the
// load with the row's values in the message.
func (l *load) Write(ctx context.Context, cols []arrow.Array) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.finished {
		return fmt.Errorf("load %d is already finished", l.txn.ID)
	}
	if len(cols) != len(l.table.Schema.Columns) {
		return fmt.Errorf("BUG: load got %d columns, table %s has %d", len(cols), l.table.Name, len(l.table.Schema.Columns))
	}
	n := cols[0].Len()
	if n == 0 {
		return nil
	}
	if cap(l.part) < n {
		l.part = make([]int32, n)
		l.bucket = make([]int32, n)
	}
	part, bucket := l.part[:n], l.bucket[:n]
	l.router.Route(cols, n, part, bucket)

	buckets := int32(l.table.Distribution.Buckets)
	// Group rows by tablet; the common cases (one partition, or one bucket
	// per batch) avoid any copying.
	first := part[0]*buckets + bucket[0]
	same := true
	for i := 0; i < n; i++ {
		if part[i] < 0 {
			return fmt.Errorf("no partition for this tuple: row %d of the batch has no partition in table %s", i, l.table.Name)
		}
		if part[i]*buckets+bucket[i] != first {
			same = false
		}
	}
	if same {
		return l.writeTablet(int(part[0]), int(bucket[0]), cols)
	}
	groups := map[int32][]int32{}
	for i := 0; i < n; i++ {
		k := part[i]*buckets + bucket[i]
		groups[k] = append(groups[k], int32(i))
	}
	for k, rows := range groups {
		sub, err := TakeRows(ctx, cols, rows)
		if err != nil {
			return err
		}
		err = l.writeTablet(int(k/buckets), int(k%buckets), sub)
		for _, a := range sub {
			a.Release()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeTablet writes rows of one partition and bucket to the base tablet
// and to the same bucket of every index.
func (l *load) writeTablet(pi, bucket int, cols []arrow.Array) error {
	p := &l.table.Partitions[pi]
	at := PlacementOf(l.table, pi, bucket)
	if err := l.writeTo(p.Tablets[bucket], l.schema, cols, at); err != nil {
		return err
	}
	for _, ix := range l.indexes {
		out, err := ix.Project(cols)
		if err != nil {
			return err
		}
		iat := at
		iat.Building = ix.Index.State == catalog.IndexShadow
		err = l.writeTo(p.IndexTablets[ix.Index.ID][bucket], ix.Schema, out, iat)
		for _, a := range out {
			a.Release()
		}
		if err != nil {
			return err
		}
	}
	l.touched[pi] = true
	return nil
}

func (l *load) writeTo(tabletID int64, schema TabletSchema, cols []arrow.Array, at Placement) error {
	w, ok := l.writers[tabletID]
	if !ok {
		var err error
		w, err = l.s.Tablets.OpenWriter(tabletID, l.txn.ID, schema, at)
		if err != nil {
			return fmt.Errorf("opening tablet %d: %w", tabletID, err)
		}
		l.writers[tabletID] = w
		l.written[at.PartitionID] = append(l.written[at.PartitionID], tabletID)
	}
	return w.Write(cols)
}

// TakeRows gathers the given rows of every column.
func TakeRows(ctx context.Context, cols []arrow.Array, rows []int32) ([]arrow.Array, error) {
	b := array.NewInt32Builder(memory.DefaultAllocator)
	b.AppendValues(rows, nil)
	idx := b.NewArray()
	defer idx.Release()
	out := make([]arrow.Array, len(cols))
	for i, c := range cols {
		a, err := compute.TakeArray(ctx, c, idx)
		if err != nil {
			for _, x := range out[:i] {
				x.Release()
			}
			return nil, fmt.Errorf("routing rows: %w", err)
		}
		out[i] = a
	}
	return out, nil
}

// Commit makes the load durable, then commits (or precommits) the
// transaction and publishes it.
func (l *load) Commit(ctx context.Context) (publishTimeout bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.finished {
		return false, fmt.Errorf("load %d is already finished", l.txn.ID)
	}
	if err := closeWriters(l.writers); err != nil {
		return false, err
	}
	parts := make([]txn.PartitionRef, 0, len(l.touched))
	for pi := range l.touched {
		id := l.table.Partitions[pi].ID
		tablets := slices.Clone(l.written[id])
		slices.Sort(tablets)
		ref := txn.PartitionRef{TableID: l.table.ID, PartitionID: id, Tablets: slices.Compact(tablets)}
		for _, tablet := range ref.Tablets {
			if rw, ok := l.writers[tablet].(ReplicaWriter); ok {
				if ref.Replicas == nil {
					ref.Replicas = map[int64][]int64{}
				}
				ref.Replicas[tablet] = rw.Replicas()
			}
		}
		parts = append(parts, ref)
	}
	l.finished = true
	if l.txn.TwoPhaseCommit {
		if err := l.s.Txns.Precommit(ctx, l.txn.ID, parts); err != nil {
			return false, err
		}
		l.committed = true
		return false, nil
	}
	if _, err := l.s.Txns.Commit(ctx, l.txn.ID, parts); err != nil {
		return false, err
	}
	l.committed = true
	// Committed: from here the load will become visible, now or after a
	// restart; a publish failure only delays it.
	if err := l.s.Txns.Publish(ctx, l.txn.ID); err != nil {
		return true, nil
	}
	return false, nil
}

// closeParallel bounds the tablet writers a commit flushes at once: each
// flush ends in fsyncs, which the device serves concurrently.
const closeParallel = 8

// closeWriters makes every writer's rows durable, several at a time, and
// returns the first failure.
func closeWriters(writers map[int64]TabletWriter) error {
	if len(writers) == 1 {
		for id, w := range writers {
			if err := w.Close(); err != nil {
				return fmt.Errorf("flushing tablet %d: %w", id, err)
			}
		}
		return nil
	}
	var g errgroup.Group
	g.SetLimit(closeParallel)
	for id, w := range writers {
		g.Go(func() error {
			if err := w.Close(); err != nil {
				return fmt.Errorf("flushing tablet %d: %w", id, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// Abort discards the load. It is safe after a failed Write or Commit and
// more than once; after a successful Commit it does nothing (a committed
// load is never undone, and a precommitted one is aborted through the
// transaction service).
func (l *load) Abort(ctx context.Context, reason string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.committed {
		return nil
	}
	for _, w := range l.writers {
		w.Cancel()
	}
	l.writers = map[int64]TabletWriter{}
	l.finished = true
	err := l.s.Txns.Abort(ctx, l.txn.ID, reason)
	var se *txn.StateError
	if errors.As(err, &se) && se.Status == txn.StatusAborted {
		err = nil
	}
	if err != nil {
		// The transaction may have committed after all (a commit whose reply
		// was lost); its rowsets must stay.
		return err
	}
	return l.s.Tablets.AbortTxn(l.txn.ID)
}

var _ loader.TwoPhaseBackend = (*Sink)(nil)

// publishWait bounds how long a 2PC commit waits for its data to become
// visible before answering; the commit stands either way, and a delayed
// publish is finished by recovery.
const publishWait = 30 * time.Second

// checkTxnLoad checks that the client deciding a two-phase transaction
// may load into every table it writes (Doris checks Load_priv on its
// database; a table grant does here too). A table dropped since is
// checked on the database alone. A request without the client's address
// is refused.
func (s *Sink) checkTxnLoad(req loader.TxnRequest, t *txn.Txn) error {
	if s.CheckLoad == nil {
		return nil
	}
	if req.Host == "" {
		return fmt.Errorf("transaction [%d]: the client's address is unknown, privileges cannot be checked", t.ID)
	}
	snap := s.Catalog.Snapshot()
	for _, id := range t.TableIDs {
		name := ""
		if tb, ok := snap.TableByID(t.DBID, id); ok {
			name = tb.Name
		}
		if err := s.CheckLoad(req.User, req.Host, req.DB, name); err != nil {
			return err
		}
	}
	if len(t.TableIDs) == 0 {
		return s.CheckLoad(req.User, req.Host, req.DB, "")
	}
	return nil
}

// lookupTxn finds the transaction of a 2PC decision in database db: by id,
// or by label among the statuses given.
func (s *Sink) lookupTxn(ctx context.Context, req loader.TxnRequest, statuses ...txn.Status) (*txn.Txn, error) {
	db, err := s.Catalog.Snapshot().Database(req.DB)
	if err != nil {
		return nil, fmt.Errorf("unknown database, database=%s", req.DB)
	}
	if req.TxnID != 0 {
		t, err := s.Txns.Get(ctx, req.TxnID)
		if err != nil {
			return nil, err
		}
		if t.DBID != db.ID {
			return nil, &txn.NotFoundError{TxnID: req.TxnID}
		}
		return t, nil
	}
	t, err := s.Txns.GetByLabel(ctx, db.ID, req.Label)
	if err != nil && !errors.Is(err, txn.ErrNotFound) {
		return nil, err
	}
	if err == nil && slices.Contains(statuses, t.Status) {
		return t, nil
	}
	return nil, fmt.Errorf("running transaction not found, label=%s", req.Label)
}

// CommitTxn implements loader.TwoPhaseBackend: it commits a precommitted
// load and publishes it.
func (s *Sink) CommitTxn(ctx context.Context, req loader.TxnRequest) error {
	t, err := s.lookupTxn(ctx, req, txn.StatusPrecommitted)
	if err != nil {
		return err
	}
	if err := s.checkTxnLoad(req, t); err != nil {
		return err
	}
	if _, err := s.Txns.Commit(ctx, t.ID, nil); err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishWait)
	defer cancel()
	if err := s.Txns.Publish(pctx, t.ID); err != nil {
		// Committed: recovery finishes the publish.
		slog.Warn("publish after 2PC commit delayed", "txn", t.ID, "err", err)
	}
	return nil
}

// AbortTxn implements loader.TwoPhaseBackend: it aborts a PREPARE or
// PRECOMMITTED load and drops what it wrote. A load still running under
// the transaction fails when it next reaches the transaction service.
func (s *Sink) AbortTxn(ctx context.Context, req loader.TxnRequest) error {
	t, err := s.lookupTxn(ctx, req, txn.StatusPrecommitted, txn.StatusPrepare)
	if err != nil {
		return err
	}
	if err := s.checkTxnLoad(req, t); err != nil {
		return err
	}
	if err := s.Txns.Abort(ctx, t.ID, "User Abort"); err != nil {
		return err
	}
	if err := s.Tablets.AbortTxn(t.ID); err != nil {
		// The transaction is aborted; its rowsets are dropped by the
		// periodic cleanup of pending rowsets.
		slog.Warn("dropping rowsets of aborted transaction", "txn", t.ID, "err", err)
	}
	return nil
}

package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"golang.org/x/sync/errgroup"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/failpoint"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/partition"
	"github.com/strata-db/strata/fe/sql"
)

// Alter jobs: building a rollup or materialized view for the rows loaded
// before it existed.
//
// A job starts in WAITING_TXN: loads that began before its watershed
// transaction id do not write the new index, so it waits for every one of
// them that writes the table to end. Then, RUNNING, it converts the table
// partition by partition: it reads the partition's rows at its visible
// version V with a query on the base index, routes them to their buckets,
// computes the index's rows, writes them into the index's tablets under
// the watershed id, and publishes them there as versions [2, V]
// (tabletstore PublishRebuild), in place of the loads up to V, which the
// conversion holds. Loads after V stay. When every partition is done the
// index becomes NORMAL and the planner may read it; past its timeout the
// job is CANCELLED and the index dropped.
//
// A crash loses nothing: a partition is marked done in the table's entry
// only after its rows are published, and converting one again replaces
// what the last conversion published. The job's state lives in the
// table's catalog entry, so any frontend can drive it; the embedded
// deployment runs RunAlterJobs in the one.

// AlterBackend is what alter jobs need from the backend.
type AlterBackend struct {
	// Writers opens tablet writers (the load sink's).
	Writers sink.Tablets
	// Rebuild publishes a tablet's converted rows (see
	// tabletstore.Store.PublishRebuild).
	Rebuild func(tabletID, txnID, version int64, at sink.Placement) error
}

// alterPoll is how often running jobs are looked at.
const alterPoll = 500 * time.Millisecond

// RunAlterJobs drives the catalog's alter jobs until ctx ends.
func (e *Engine) RunAlterJobs(ctx context.Context, be AlterBackend) {
	log := e.Logger
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(alterPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-e.Catalog.Changed():
		}
		for _, j := range e.runningJobs() {
			if err := e.stepJob(ctx, be, j); err != nil && ctx.Err() == nil {
				log.Warn("alter job", "job", j.job.ID, "table", j.table, "err", err)
			}
		}
	}
}

type jobRef struct {
	db, table string
	job       catalog.AlterJob
}

func (e *Engine) runningJobs() []jobRef {
	snap := e.Catalog.Snapshot()
	var out []jobRef
	for _, db := range snap.Databases() {
		tables, err := snap.Tables(db.Name)
		if err != nil {
			continue
		}
		for _, t := range tables {
			for _, j := range t.AlterJobs {
				if !j.State.Finished() {
					out = append(out, jobRef{db.Name, t.Name, j})
				}
			}
		}
	}
	return out
}

// RunningJobTxns lists the ids under which running alter jobs write
// converted rows (see catalog.Snapshot.RunningJobTxns).
func (e *Engine) RunningJobTxns() map[int64]bool { return e.Catalog.Snapshot().RunningJobTxns() }

// updateJob changes a job that is still in state from, with the table.
func (e *Engine) updateJob(ctx context.Context, ref jobRef, from catalog.JobState, fn func(t *catalog.Table, j *catalog.AlterJob) error) error {
	return e.Catalog.UpdateTable(ctx, ref.db, ref.table, func(t *catalog.Table) error {
		j := t.JobByID(ref.job.ID)
		if j == nil || j.State != from {
			return errNothing
		}
		return fn(t, j)
	})
}

func (e *Engine) stepJob(ctx context.Context, be AlterBackend, ref jobRef) error {
	j := ref.job
	if time.Since(time.UnixMilli(j.CreateTime)) > time.Duration(j.Timeout)*time.Second {
		err := e.updateJob(ctx, ref, j.State, func(t *catalog.Table, j *catalog.AlterJob) error {
			j.State, j.Msg, j.FinishTime = catalog.JobCancelled, fmt.Sprintf("timeout after %d seconds", j.Timeout), time.Now().UnixMilli()
			t.DropIndex(j.IndexID)
			return nil
		})
		if errors.Is(err, errNothing) {
			return nil
		}
		return err
	}
	var err error
	switch j.State {
	case catalog.JobWaitingTxn:
		err = e.waitTxns(ctx, ref)
	case catalog.JobRunning:
		err = e.convert(ctx, be, ref)
	}
	if errors.Is(err, errNothing) {
		return nil
	}
	return err
}

// waitTxns moves a job to RUNNING once no load of its table that began
// before its watershed is still running.
func (e *Engine) waitTxns(ctx context.Context, ref jobRef) error {
	if ref.job.Watershed == 0 {
		// The index is in this snapshot, so every load that begins from
		// now on reads it (the sink reads the table after its transaction
		// has an id) and gets a larger id than the watershed.
		w, err := e.Txns.Watershed(ctx)
		if err != nil {
			return err
		}
		return e.updateJob(ctx, ref, catalog.JobWaitingTxn, func(t *catalog.Table, j *catalog.AlterJob) error {
			if j.Watershed == 0 {
				j.Watershed = w
			}
			return nil
		})
	}
	snap := e.Catalog.Snapshot()
	db, err := snap.Database(ref.db)
	if err != nil {
		return err
	}
	t, err := snap.Table(ref.db, ref.table)
	if err != nil {
		return err
	}
	running, err := e.Txns.ListRunning(ctx, db.ID)
	if err != nil {
		return err
	}
	for _, tx := range running {
		if tx.ID < ref.job.Watershed && slices.Contains(tx.TableIDs, t.ID) {
			return nil // not yet
		}
	}
	return e.updateJob(ctx, ref, catalog.JobWaitingTxn, func(t *catalog.Table, j *catalog.AlterJob) error {
		j.State = catalog.JobRunning
		return nil
	})
}

// convert converts the next partition of a RUNNING job, or finishes it.
func (e *Engine) convert(ctx context.Context, be AlterBackend, ref jobRef) error {
	snap := e.Catalog.Snapshot()
	t, err := snap.Table(ref.db, ref.table)
	if err != nil {
		return err
	}
	ix := t.IndexByID(ref.job.IndexID)
	if ix == nil {
		return fmt.Errorf("the index %s of job %d is gone", ref.job.IndexName, ref.job.ID)
	}
	for pi := range t.Partitions {
		p := &t.Partitions[pi]
		if slices.Contains(ref.job.Done, p.ID) {
			continue
		}
		// Rows a conversion cut short (a crash, a failed round) wrote are
		// dropped first.
		if err := be.Writers.AbortTxn(ref.job.Watershed); err != nil {
			return err
		}
		if err := e.convertPartition(ctx, be, ref, snap, t, ix, pi); err != nil {
			// Whatever it wrote is dropped; the next round tries again,
			// unless the rows themselves cannot be converted.
			_ = be.Writers.AbortTxn(ref.job.Watershed)
			err = fmt.Errorf("converting partition %s: %w", p.Name, err)
			if errors.Is(err, sink.ErrConversion) {
				return e.updateJob(ctx, ref, catalog.JobRunning, func(t *catalog.Table, j *catalog.AlterJob) error {
					j.State, j.Msg, j.FinishTime = catalog.JobCancelled, err.Error(), time.Now().UnixMilli()
					t.DropIndex(j.IndexID)
					return nil
				})
			}
			return err
		}
		if err := failpoint.Inject("alter/between-partitions"); err != nil {
			return err
		}
		return e.updateJob(ctx, ref, catalog.JobRunning, func(t *catalog.Table, j *catalog.AlterJob) error {
			if !slices.Contains(j.Done, p.ID) {
				j.Done = append(j.Done, p.ID)
			}
			return nil
		})
	}
	return e.updateJob(ctx, ref, catalog.JobRunning, func(t *catalog.Table, j *catalog.AlterJob) error {
		for _, p := range t.Partitions {
			if !slices.Contains(j.Done, p.ID) {
				return errNothing // a partition was added meanwhile
			}
		}
		if j.Type == catalog.JobSchemaChange {
			return finishSchemaChange(t, j)
		}
		ix := t.IndexByID(j.IndexID)
		if ix == nil {
			return fmt.Errorf("the index %s of job %d is gone", j.IndexName, j.ID)
		}
		ix.State = catalog.IndexNormal
		j.State, j.FinishTime = catalog.JobFinished, time.Now().UnixMilli()
		return nil
	})
}

// convertPartition writes the index's rows of one partition at its
// visible version in snap and publishes them.
func (e *Engine) convertPartition(ctx context.Context, be AlterBackend, ref jobRef, snap *catalog.Snapshot, t *catalog.Table, ix *catalog.Index, pi int) error {
	p := &t.Partitions[pi]
	version := p.VisibleVersion
	if version < 2 {
		return nil // nothing was ever loaded
	}
	proj, err := sink.NewIndexProjection(t, ix)
	if err != nil {
		return err
	}
	router, err := partition.NewRouter(t)
	if err != nil {
		return err
	}
	// The rows: every base column, hidden ones too, at the version the
	// snapshot shows.
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range t.Schema.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.Name))
	}
	fmt.Fprintf(&b, " FROM %s.%s PARTITION (%s)", quoteIdent(ref.db), quoteIdent(t.Name), quoteIdent(p.Name))
	stmt, err := sql.Parse(b.String())
	if err != nil {
		return err
	}
	// The base as stored, deleted keys included: with a sequence column a
	// row whose delete sign is set still beats later loads of its key with
	// a smaller sequence value, so the index must hold it too.
	vars := map[string]string{"use_rollup": "false", "skip_delete_sign": "true"}
	sess := &Session{eng: e, user: "root", host: "localhost", vars: vars, userVars: map[string]any{}, start: time.Now()}
	pl := e.newPlanner(sess, snap)
	plan, err := pl.PlanSelect(stmt.(*sql.SelectStmt), nil)
	if err != nil {
		return err
	}
	x, err := pl.Build(plan)
	if err != nil {
		return err
	}
	defer x.Release()
	ectx := exec.WithEvalContext(ctx, exec.NewEvalContext())
	if err := x.Root.Open(ectx); err != nil {
		x.Root.Close()
		return err
	}
	defer x.Root.Close()

	writers := map[int64]sink.TabletWriter{}
	defer func() {
		for _, w := range writers {
			w.Cancel()
		}
	}()
	tablets := p.IndexTablets[ix.ID]
	at := func(b int) sink.Placement {
		return sink.Placement{DBID: t.DBID, TableID: t.ID, PartitionID: p.ID, Bucket: b, Backends: p.BucketBackends(b), Building: true}
	}
	// No compaction may merge versions on both sides of the one read:
	// the tablets are held from before the read until their rebuild.
	e.convertingMu.Lock()
	if e.converting == nil {
		e.converting = map[int64]bool{}
	}
	for _, id := range tablets {
		e.converting[id] = true
	}
	e.convertingMu.Unlock()
	defer func() {
		e.convertingMu.Lock()
		for _, id := range tablets {
			delete(e.converting, id)
		}
		e.convertingMu.Unlock()
	}()
	var part, bucket []int32
	var batch exec.Batch
	for {
		batch.Reset()
		err := exec.Next(ectx, x.Root, &batch)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		n := batch.NumRows()
		if n == 0 {
			continue
		}
		cols, err := compactBatch(ctx, &batch)
		if err != nil {
			return err
		}
		err = e.writeConverted(ctx, be, ref, proj, router, tablets, at, writers, cols, &part, &bucket)
		releaseArrays(cols)
		if err != nil {
			return err
		}
	}
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for id, w := range writers {
		delete(writers, id)
		g.Go(func() error {
			if err := w.Close(); err != nil {
				return fmt.Errorf("flushing tablet %d: %w", id, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for b, id := range tablets {
		if err := be.Rebuild(id, ref.job.Watershed, version, at(b)); err != nil {
			return err
		}
	}
	return nil
}

// writeConverted routes base rows to their buckets and writes their index
// rows.
func (e *Engine) writeConverted(ctx context.Context, be AlterBackend, ref jobRef, proj *sink.IndexProjection, router *partition.Router, tablets []int64,
	at func(bucket int) sink.Placement, writers map[int64]sink.TabletWriter, cols []arrow.Array, part, bucket *[]int32) error {
	n := cols[0].Len()
	if cap(*part) < n {
		*part, *bucket = make([]int32, n), make([]int32, n)
	}
	router.Route(cols, n, (*part)[:n], (*bucket)[:n])
	rows := map[int32][]int32{}
	for i := 0; i < n; i++ {
		rows[(*bucket)[i]] = append(rows[(*bucket)[i]], int32(i))
	}
	for bk, sel := range rows {
		sub := cols
		if len(rows) > 1 {
			var err error
			if sub, err = sink.TakeRows(ctx, cols, sel); err != nil {
				return err
			}
		}
		out, err := proj.Project(sub)
		if len(rows) > 1 {
			releaseArrays(sub)
		}
		if err != nil {
			return err
		}
		id := tablets[bk]
		w, ok := writers[id]
		if !ok {
			if w, err = be.Writers.OpenWriter(id, ref.job.Watershed, proj.Schema, at(int(bk))); err != nil {
				releaseArrays(out)
				return fmt.Errorf("opening tablet %d: %w", id, err)
			}
			w = newAsyncWriter(w)
			writers[id] = w
		}
		err = w.Write(out)
		releaseArrays(out)
		if err != nil {
			return err
		}
	}
	return nil
}

// Converting reports whether an alter job is converting rows into a
// tablet now: compaction must leave it alone (tabletstore
// SetCompactionHold).
func (e *Engine) Converting(tabletID int64) bool {
	e.convertingMu.Lock()
	defer e.convertingMu.Unlock()
	return e.converting[tabletID]
}

// asyncWriter runs a tablet writer's writes, and the sorts and flushes
// they cause, on a goroutine of its own: a conversion, which reads the
// base on one goroutine, then fills several tablets at once.
type asyncWriter struct {
	w      sink.TabletWriter
	ch     chan []arrow.Array
	done   chan struct{}
	err    error // the first write's failure; read after done is closed
	failed atomic.Bool
	closed bool // ch is closed
}

func newAsyncWriter(w sink.TabletWriter) *asyncWriter {
	a := &asyncWriter{w: w, ch: make(chan []arrow.Array, 4), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for cols := range a.ch {
			if a.err == nil {
				if a.err = a.w.Write(cols); a.err != nil {
					a.failed.Store(true)
				}
			}
			releaseArrays(cols)
		}
	}()
	return a
}

// Write queues the arrays (retained until written); a failure of an
// earlier write is returned here or by Close.
func (a *asyncWriter) Write(cols []arrow.Array) error {
	if a.failed.Load() {
		return a.wait()
	}
	for _, c := range cols {
		c.Retain()
	}
	a.ch <- cols
	return nil
}

// wait ends the queue and waits for the writes before it.
func (a *asyncWriter) wait() error {
	if !a.closed {
		close(a.ch)
		a.closed = true
	}
	<-a.done
	return a.err
}

func (a *asyncWriter) Close() error {
	if err := a.wait(); err != nil {
		a.w.Cancel()
		return err
	}
	return a.w.Close()
}

func (a *asyncWriter) Cancel() {
	_ = a.wait()
	a.w.Cancel()
}

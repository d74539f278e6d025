package compaction

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/time/rate"

	"github.com/strata-db/strata/be/keymodel"
	"github.com/strata-db/strata/be/rowset"
	"github.com/strata-db/strata/be/tabletstore"
)

func releaseArrays(as []arrow.Array) {
	for _, a := range as {
		a.Release()
	}
}

// waitBytes waits until limit allows n more bytes.
func waitBytes(ctx context.Context, limit *rate.Limiter, n int64) error {
	for n > 0 {
		step := min(n, int64(limit.Burst()))
		if err := limit.WaitN(ctx, int(step)); err != nil {
			return err
		}
		n -= step
	}
	return nil
}

// ErrNothingToCompact is returned by Compact when the policy finds no run
// worth merging in the tablet.
var ErrNothingToCompact = errors.New("compaction: nothing to compact")

// Result describes one finished compaction.
type Result struct {
	TabletID     int64
	Start, End   int64 // versions the output covers
	InputRowsets int
	InputRows    int64
	InputBytes   int64
	Output       tabletstore.RowsetInfo
	Took         time.Duration
}

// Compact merges the run the policy picks in a tablet. It returns
// ErrNothingToCompact when there is none.
func Compact(ctx context.Context, st *tabletstore.Store, tabletID int64, p Policy) (Result, error) {
	return compact(ctx, st, tabletID, p, nil)
}

// compact is Compact with a test hook.
func compact(ctx context.Context, st *tabletstore.Store, tabletID int64, p Policy, chunkHook func(context.Context)) (Result, error) {
	run, ok := p.Pick(st.Rowsets(tabletID), st.MaxVersions())
	if !ok {
		return Result{}, ErrNothingToCompact
	}
	return compactRange(ctx, st, tabletID, run.Start, run.End, runOptions{chunkHook: chunkHook})
}

// CompactRange merges the visible rowsets of a tablet that cover versions
// [start, end] into one (see tabletstore.Store.BeginCompaction for what
// the range must be), by the tablet's data model: duplicate keys keep
// every row; merge-on-write leaves out the rows later loads replaced;
// merge-on-read and aggregate keys fold the rows of each key. Inputs of
// different schema versions are written in the newest one. If ctx ends
// first, nothing changes.
func CompactRange(ctx context.Context, st *tabletstore.Store, tabletID, start, end int64) (Result, error) {
	return compactRange(ctx, st, tabletID, start, end, runOptions{})
}

// runOptions are the knobs of one compaction run.
type runOptions struct {
	chunkHook func(context.Context) // tests
	// limit, when set, paces the bytes the run writes.
	limit *rate.Limiter
}

func compactRange(ctx context.Context, st *tabletstore.Store, tabletID, start, end int64, opts runOptions) (Result, error) {
	began := time.Now()
	c, err := st.BeginCompaction(tabletID, start, end)
	if err != nil {
		return Result{}, err
	}
	defer c.Abort() // after Commit it does nothing
	res := Result{TabletID: tabletID, Start: start, End: end}
	for _, in := range c.Inputs() {
		res.InputRowsets++
		res.InputRows += in.NumRows
		res.InputBytes += in.DataSize
	}
	schema := c.Schema()
	m := rowset.NewMerger(schema.Columns, schema.NumKeys)
	// Inputs written before a light schema change may lack columns of the
	// output (they get the column's default) or hold dropped ones (not
	// read).
	m.Missing = c.Missing
	m.ChunkHook = opts.chunkHook
	segs := c.Segments()
	want := res.InputRows
	if dels := c.Deletes(); dels != nil {
		// Merge-on-write: rows replaced at versions up to end are left out,
		// and the marks of later versions follow the others to the output.
		m.Deletes = dels
		m.RowMap = make([][]uint32, len(segs))
		for i, seg := range segs {
			m.RowMap[i] = make([]uint32, seg.NumRows())
			if dels[i] != nil {
				want -= int64(dels[i].GetCardinality())
			}
		}
	}
	// appendOut writes output rows, paced by opts.limit.
	appendOut := c.Append
	var paced int64 // bytes the limiter has been asked for
	if opts.limit != nil {
		appendOut = func(cols []arrow.Array) error {
			if err := c.Append(cols); err != nil {
				return err
			}
			n := c.Written()
			err := waitBytes(ctx, opts.limit, n-paced)
			paced = n
			return err
		}
	}
	emit := appendOut
	fold, err := schema.Model.Folds(schema.NumKeys)
	if err != nil {
		return Result{}, fmt.Errorf("compaction: tablet %d: %w", tabletID, err)
	}
	var folder *keymodel.Folder
	if fold != nil {
		// Merge-on-read and aggregate keys: the rows of a key are folded
		// into one, oldest first (inputs are in version order).
		folder = fold.NewFolder(memory.DefaultAllocator)
		emit = func(cols []arrow.Array) error {
			out, err := folder.Push(cols)
			if err != nil || out == nil {
				return err
			}
			defer releaseArrays(out)
			return appendOut(out)
		}
		want = -1
	}
	rows, err := m.Run(ctx, segs, emit)
	if err == nil && folder != nil {
		var out []arrow.Array
		if out, err = folder.Finish(); err == nil && out != nil && out[0].Len() > 0 {
			err = appendOut(out)
		}
		releaseArrays(out)
	}
	if err != nil {
		return Result{}, fmt.Errorf("compaction: merging tablet %d versions [%d-%d]: %w", tabletID, start, end, err)
	}
	if want >= 0 && rows != want {
		return Result{}, fmt.Errorf("BUG: compaction: merging tablet %d versions [%d-%d] gave %d rows of %d",
			tabletID, start, end, rows, want)
	}
	c.SetRowMap(m.RowMap)
	// The last moment to give up without a trace.
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	out, err := c.Commit()
	if err != nil {
		return Result{}, err
	}
	res.Output = out
	if opts.limit != nil {
		// The rest: pages the writer held back, indexes and footers. The
		// run is done; the wait holds back the next paced one.
		_ = waitBytes(ctx, opts.limit, out.DataSize-paced)
	}
	res.Took = time.Since(began)
	return res, nil
}

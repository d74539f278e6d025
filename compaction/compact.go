package compaction

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/strata-db/strata/be/tabletstore"
)

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
	return compactRange(ctx, st, tabletID, run.Start, run.End, chunkHook)
}

// CompactRange merges the visible rowsets of a tablet that cover versions
// [start, end] into one (see tabletstore.Store.BeginCompaction for what
// the range must be). Every row is kept: today every table is read as
// duplicate-key. If ctx ends first, nothing changes.
func CompactRange(ctx context.Context, st *tabletstore.Store, tabletID, start, end int64) (Result, error) {
	return compactRange(ctx, st, tabletID, start, end, nil)
}

func compactRange(ctx context.Context, st *tabletstore.Store, tabletID, start, end int64, chunkHook func(context.Context)) (Result, error) {
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
	m := newMerger(schema.Columns, schema.NumKeys)
	m.chunkHook = chunkHook
	rows, err := m.run(ctx, c.Segments(), c.Append)
	if err != nil {
		return Result{}, fmt.Errorf("compaction: merging tablet %d versions [%d-%d]: %w", tabletID, start, end, err)
	}
	if rows != res.InputRows {
		return Result{}, fmt.Errorf("BUG: compaction: merging tablet %d versions [%d-%d] gave %d rows of %d",
			tabletID, start, end, rows, res.InputRows)
	}
	// The last moment to give up without a trace.
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	out, err := c.Commit()
	if err != nil {
		return Result{}, err
	}
	res.Output = out
	res.Took = time.Since(began)
	return res, nil
}

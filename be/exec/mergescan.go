package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/be/keymodel"
	"github.com/strata-db/strata/be/rowset"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// MergeTablet is one tablet of a MergeScan: its segments in version order
// and, parallel to them, the rows each leaves out (nil: none).
type MergeTablet struct {
	Segments []*storage.Segment
	Deletes  []*roaring.Bitmap
}

// MergeScanSpec describes a scan of tablets whose rows of one key must be
// folded into one before anything else reads them: merge-on-read unique
// keys and aggregate keys.
type MergeScanSpec struct {
	Tablets []MergeTablet
	// Columns are every column of the table, keys first (the fold needs
	// them all); Fold folds rows over them.
	Columns []ScanColumn
	NumKeys int
	Fold    *keymodel.Model
	// SignCol is the delete sign among Columns: a folded row with it set is
	// a deleted key and is left out. -1: none.
	SignCol int
	// Output are the columns the scan returns, indexes into Columns; Filter
	// (optional) is over them.
	Output []int
	Filter Expr
	// Parallel is how many tablets are merged at once (0: GOMAXPROCS).
	Parallel int
}

// MergeScan reads tablets by key, several tablets at once: the rows of a
// tablet's rowsets are merged on the key and the rows of each key folded
// (keymodel), then deleted keys are dropped, the output columns taken and
// the filter applied. Batches come out in no particular order. Predicates cannot go below the fold (a value
// predicate must see the folded value), so the scan reads every page.
type MergeScan struct {
	baseStats
	spec   MergeScanSpec
	schema []types.Type
	ectx   *EvalContext

	openCtx context.Context // the query's, from Open
	cancel  context.CancelFunc
	batches chan mergeBatch
	held    []arrow.Array
	sel     []int32
}

type mergeBatch struct {
	cols []arrow.Array
	err  error
}

// NewMergeScan returns a merge scan operator for spec.
func NewMergeScan(spec MergeScanSpec) (*MergeScan, error) {
	if spec.Fold == nil {
		return nil, errors.New("BUG: merge scan without a fold")
	}
	s := &MergeScan{spec: spec}
	for _, o := range spec.Output {
		if o < 0 || o >= len(spec.Columns) {
			return nil, fmt.Errorf("BUG: merge scan output column %d of %d", o, len(spec.Columns))
		}
		s.schema = append(s.schema, spec.Columns[o].Type)
	}
	return s, nil
}

func (s *MergeScan) Schema() []types.Type { return s.schema }

func (s *MergeScan) Open(ctx context.Context) error {
	s.ectx = evalCtxFrom(ctx)
	s.ectx.batchScoped = true
	s.openCtx = ctx
	mctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	workers := s.spec.Parallel
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(s.spec.Tablets)))
	s.batches = make(chan mergeBatch, 2*workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.produce(mctx, &next)
		}()
	}
	go func() {
		wg.Wait()
		close(s.batches)
	}()
	return nil
}

// produce takes tablets one after another (next counts those taken by
// every worker), merges them and sends their folded rows.
func (s *MergeScan) produce(ctx context.Context, next *atomic.Int64) {
	send := func(b mergeBatch) bool {
		select {
		case s.batches <- b:
			return true
		case <-ctx.Done():
			releaseAll(b.cols)
			return false
		}
	}
	cols := make([]storage.ColumnMeta, len(s.spec.Columns))
	for i, c := range s.spec.Columns {
		cols[i] = storage.ColumnMeta{ID: c.ID, Type: c.Type.Arrow(), Nullable: true}
	}
	for {
		ti := int(next.Add(1)) - 1
		if ti >= len(s.spec.Tablets) || ctx.Err() != nil {
			return
		}
		t := s.spec.Tablets[ti]
		m := rowset.NewMerger(cols, s.spec.NumKeys)
		m.Deletes = t.Deletes
		m.Missing = func(col, n int) (arrow.Array, error) { return s.spec.Columns[col].fill(n) }
		folder := s.spec.Fold.NewFolder(memory.DefaultAllocator)
		_, err := m.Run(ctx, t.Segments, func(in []arrow.Array) error {
			out, err := folder.Push(in)
			if err != nil || out == nil {
				return err
			}
			if !send(mergeBatch{cols: out}) {
				return ctx.Err()
			}
			return nil
		})
		if err == nil {
			var out []arrow.Array
			if out, err = folder.Finish(); err == nil && out != nil {
				if out[0].Len() == 0 {
					releaseAll(out)
				} else if !send(mergeBatch{cols: out}) {
					return
				}
			}
		}
		if err != nil {
			send(mergeBatch{err: err})
			return
		}
	}
}

func (s *MergeScan) Next(ctx context.Context, b *Batch) error {
	for {
		s.ectx.endBatch()
		s.held = releaseAll(s.held)
		mb, ok := <-s.batches
		if !ok {
			// Workers stop early when the query is cancelled: that is not
			// the end of the data.
			if err := s.openCtx.Err(); err != nil {
				return err
			}
			b.Reset()
			return io.EOF
		}
		if mb.err != nil {
			return mb.err
		}
		s.held = mb.cols
		n := mb.cols[0].Len()
		rows := identRows(n)
		if s.spec.SignCol >= 0 {
			rows = unsigned(mb.cols[s.spec.SignCol], s.sel[:0])
			s.sel = rows
		}
		b.Reset()
		b.Len = n
		for _, o := range s.spec.Output {
			b.Cols = append(b.Cols, mb.cols[o])
		}
		if s.spec.Filter != nil && len(rows) > 0 {
			out, err := selectTrue(s.ectx, s.spec.Filter, b, rows, make([]int32, 0, len(rows)))
			if err != nil {
				return err
			}
			rows = out
		}
		if len(rows) == 0 {
			continue
		}
		if len(rows) < n {
			b.Sel = rows
		}
		return nil
	}
}

// unsigned returns the rows whose delete sign is 0 (or NULL).
func unsigned(a arrow.Array, dst []int32) []int32 {
	v, ok := a.(*array.Int8)
	if !ok {
		return identRows(a.Len())
	}
	for i, x := range v.Int8Values() {
		if x == 0 || v.IsNull(i) {
			dst = append(dst, int32(i))
		}
	}
	return dst
}

func (s *MergeScan) Close() error {
	if s.cancel != nil {
		s.cancel()
		for mb := range s.batches {
			releaseAll(mb.cols)
		}
		s.cancel = nil
	}
	s.held = releaseAll(s.held)
	return nil
}

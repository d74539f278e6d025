// Package exec is Strata's vectorized execution engine: pull-model operators
// that move Arrow column batches carrying a selection vector, and bound, typed
// expressions evaluated a batch at a time.
//
// # Batches
//
// A [Batch] is a set of equal-length Arrow arrays plus an optional selection
// vector Sel listing the live rows in ascending order. Filters refine Sel
// instead of copying columns; operators that must compact (sort, join build,
// aggregation) read only the rows in Sel.
//
// # Operators
//
// An [Operator] is opened once, pulled with Next until io.EOF, and closed once.
// The arrays an operator puts in a batch belong to it and stay valid until its
// next Next or Close; a consumer that needs them longer must copy or Retain.
// Parents call [Next] rather than child.Next: the wrapper checks for
// cancellation, turns panics into errors and counts rows and batches.
//
// # Expressions
//
// An [Expr] evaluates to one array of length b.Len; values at rows outside
// b.Sel are unspecified. Type rules follow Doris (and MySQL where Doris does):
// see [CommonType], [Coerce], the arithmetic constructors and [LookupFunction].
// Hot kernels (comparisons against constants, integer and float arithmetic,
// conjunctions in filters) are typed loops per batch; the rest of the
// functions run a row loop over typed views of their arguments (see vec.go).
package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/types"
)

// BatchSize is the number of rows operators aim to put in one batch.
const BatchSize = 8192

// Batch is a set of equal-length columns and an optional selection vector.
type Batch struct {
	Cols []arrow.Array // typed per the producing operator's Schema()
	Len  int           // physical length of every column
	Sel  []int32       // nil: all Len rows are live; else the live row indexes, ascending
}

// NumRows returns the number of live rows: len(Sel), or Len without Sel.
func (b *Batch) NumRows() int {
	if b.Sel != nil {
		return len(b.Sel)
	}
	return b.Len
}

// Reset empties the batch for reuse; it does not release the arrays, which
// belong to the producer.
func (b *Batch) Reset() {
	b.Cols = b.Cols[:0]
	b.Len = 0
	b.Sel = nil
}

// Operator is a pull-model physical operator.
//
// Contract: Open is called once before Next; Next fills b with the next batch
// (the callee owns the arrays it puts in b; they stay valid until the next
// call to Next or Close on the same operator) and returns io.EOF, with
// b.NumRows()==0, once the input is exhausted. A batch that is not the last
// may have zero live rows. Close is called once, even after an error, and
// releases everything the operator holds. Operators are not safe for
// concurrent use; one goroutine drives a tree.
type Operator interface {
	Open(ctx context.Context) error
	Next(ctx context.Context, b *Batch) error
	Close() error
	Schema() []types.Type // SQL types of the output columns
}

// Stats are per-operator counters kept by [Next].
type Stats struct {
	Batches atomic.Int64
	Rows    atomic.Int64
	Nanos   atomic.Int64
}

// StatsProvider is implemented by operators that expose [Stats] for EXPLAIN
// ANALYZE. Every operator in this package embeds one.
type StatsProvider interface {
	OpStats() *Stats
}

type baseStats struct{ stats Stats }

func (s *baseStats) OpStats() *Stats { return &s.stats }

// ErrCanceled wraps the context error when a query is canceled between batches.
var ErrCanceled = errors.New("query canceled")

// Next pulls the next batch from op, checking ctx for cancellation first,
// recovering a panic in op into an error, and updating op's [Stats] when it
// has them. Operators call it instead of calling their child's Next directly.
func Next(ctx context.Context, op Operator, b *Batch) (err error) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%w: %w", ErrCanceled, ctxErr)
	}
	sp, _ := op.(StatsProvider)
	var start time.Time
	if sp != nil {
		start = time.Now()
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in %T: %v\n%s", op, r, debug.Stack())
		}
		if sp != nil {
			st := sp.OpStats()
			st.Nanos.Add(int64(time.Since(start)))
			if err == nil {
				st.Batches.Add(1)
				st.Rows.Add(int64(b.NumRows()))
			}
		}
	}()
	return op.Next(ctx, b)
}

// EvalContext carries per-query state expressions may need. An EvalContext
// is used by one goroutine at a time; operators take their own copy (see
// [WithEvalContext]) and warnings go to the query's root context, which is
// safe for concurrent use.
type EvalContext struct {
	Now      time.Time
	TimeZone *time.Location
	Mem      memory.Allocator

	root     *EvalContext // where warnings go; nil for a root
	mu       sync.Mutex   // protects warnings (root only)
	warnings []string
	// views caches the typed views of input columns, so a column read by
	// several expressions of a batch is widened once. The map holds a
	// reference to each array, so a key cannot be reused while cached.
	views map[arrow.Array]*view
	// batchScoped is set by operators that call endBatch after each input
	// batch; their cached views may then use pooled scratch memory.
	batchScoped bool
}

// endBatch drops the cached views of the batch just processed and recycles
// their scratch memory. The caller must hold no view from before the call.
func (c *EvalContext) endBatch() {
	for _, v := range c.views {
		if v.pooled {
			putInt64s(v.i64)
			v.i64, v.pooled = nil, false
		}
	}
	clear(c.views)
}

// maxCachedViews bounds the view cache; it is cleared when full.
const maxCachedViews = 64

func (c *EvalContext) columnView(a arrow.Array, t types.Type) *view {
	if c == nil {
		return newView(a, t)
	}
	if v, ok := c.views[a]; ok && v.t == t {
		return v
	}
	if c.views == nil || len(c.views) >= maxCachedViews {
		c.views = make(map[arrow.Array]*view, maxCachedViews)
	}
	v := newViewWith(a, t, c.batchScoped)
	c.views[a] = v
	return v
}

// NewEvalContext returns a context with Now set to the current time in the
// local time zone and the default allocator.
func NewEvalContext() *EvalContext {
	return &EvalContext{Now: time.Now(), TimeZone: time.Local, Mem: memory.DefaultAllocator}
}

// Warn records a warning (SHOW WARNINGS); at most 64 are kept.
func (c *EvalContext) Warn(format string, args ...any) {
	if c == nil {
		return
	}
	if c.root != nil {
		c = c.root
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.warnings) < 64 {
		c.warnings = append(c.warnings, fmt.Sprintf(format, args...))
	}
}

// Warnings returns the warnings recorded so far.
func (c *EvalContext) Warnings() []string {
	if c.root != nil {
		c = c.root
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.warnings...)
}

// fork returns a context for one operator: same settings, own view cache,
// warnings forwarded to c's root.
func (c *EvalContext) fork() *EvalContext {
	root := c
	if c.root != nil {
		root = c.root
	}
	return &EvalContext{Now: c.Now, TimeZone: c.TimeZone, Mem: c.Mem, root: root}
}

func (c *EvalContext) loc() *time.Location {
	if c == nil || c.TimeZone == nil {
		return time.Local
	}
	return c.TimeZone
}

func (c *EvalContext) now() time.Time {
	if c == nil || c.Now.IsZero() {
		return time.Now()
	}
	return c.Now
}

// Drain opens op, pulls every batch, calls fn on each and closes op. It is a
// convenience for tests, the result writer and subquery materialization.
func Drain(ctx context.Context, op Operator, fn func(b *Batch) error) (err error) {
	if err := op.Open(ctx); err != nil {
		_ = op.Close()
		return err
	}
	defer func() {
		if cerr := op.Close(); err == nil {
			err = cerr
		}
	}()
	var b Batch
	for {
		b.Reset()
		err := Next(ctx, op, &b)
		if errors.Is(err, io.EOF) {
			if b.NumRows() > 0 {
				return fn(&b)
			}
			return nil
		}
		if err != nil {
			return err
		}
		if b.NumRows() > 0 {
			if err := fn(&b); err != nil {
				return err
			}
		}
	}
}

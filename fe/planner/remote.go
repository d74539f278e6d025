package planner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/be/exec"
)

// Remote runs plan fragments on the backends that hold the tablets they
// read. A planner with a Remote (see Planner.SetRemote) cuts the plans it
// builds: each scan that reads tablets, with the operators above it that
// a backend can run over its rows alone (see [Fragment]), becomes one
// fragment instance per backend, each reading the tablets whose first
// replica that backend is (or, with colocate and bucket-shuffle joins,
// each reading whole buckets; see [JoinStrategy]); a gather operator at
// the coordinator takes their place and merges their output. Broadcast
// join build sides, sorts, limits, final and DISTINCT aggregations,
// unions and system tables run at the coordinator.
//
// An instance that fails before any of its rows went up the plan, with an
// error for which another replica may do better ([IsRetryable]), is run
// again on the next replicas of its tablets (grouped anew by backend;
// a colocate join's buckets move whole). Instances that read or feed
// exchanges do not run again: see [ExchangeRemote].
// The output of a partial aggregation is collected whole before the final
// phase reads it, and so are the rows of a fragment that become a join's
// build side, so such an instance can always run again; an instance whose
// rows stream up the plan and that fails after some went up fails the
// query, naming the backend.
//
// The methods may be called from several goroutines at once.
type Remote interface {
	// Replicas lists the backends holding a replica of the tablet that may
	// serve reads, best first.
	Replicas(tabletID int64) []int64
	// Run starts f on backend be and streams its output. The transport
	// sends f encoded as JSON and f.Inputs as Arrow streams, which the
	// backend hands to RunFragment; f and its inputs stay valid until the
	// stream is closed. Canceling ctx cancels the fragment.
	Run(ctx context.Context, be int64, f *Fragment) (FragmentStream, error)
}

// ExchangeRemote is a Remote that also runs fragments that exchange rows
// with each other across backends (bucket-shuffle and shuffle joins, see
// [JoinStrategy]); a planner whose Remote is not one uses broadcast and
// colocate joins only.
//
// A query's exchanges are named by a query id the coordinator draws for
// each run. It starts the instances that read an exchange before those
// that send to it, but the backends must accept rows for an exchange
// before its reader arrived (see exec.ExchangeHub). Instances of such
// fragments never run again elsewhere: any failure fails the query.
type ExchangeRemote interface {
	Remote
	// RunExchange starts f on backend be as Run does, for a fragment
	// that reads exchanges (Source, joins with an Exchange) from that
	// backend's hub, or sends its rows to the hubs of the backends its
	// Sink lists: the backend runs it with RunExchangeFragment. A
	// fragment with a sink streams no rows back; its stream ends once it
	// sent them all.
	RunExchange(ctx context.Context, be int64, f *Fragment) (FragmentStream, error)
	// ReleaseQuery drops whatever backend be still holds of query's
	// exchanges and makes it refuse their later rows. The coordinator
	// calls it on every backend that took part once the query ended,
	// whether or not it succeeded.
	ReleaseQuery(ctx context.Context, be int64, query string) error
}

// FragmentStream is the output of a running fragment instance.
type FragmentStream interface {
	// Next returns the next batch: equal-length dense columns (no
	// selection, no dictionary arrays) of the types f.Output lists, which
	// the caller owns and releases; nil at the end of the output.
	Next(ctx context.Context) ([]arrow.Array, error)
	// Close ends the stream, canceling the fragment if it still runs. It
	// is called once, whether or not Next reached the end.
	Close() error
}

// RetryableError is implemented by errors after which a fragment instance
// may succeed on another replica of its tablets: a backend that is down or
// unreachable, a replica that lacks a tablet's version. A transport keeps
// the mark across the wire.
type RetryableError interface {
	error
	Retryable() bool
}

// ErrVersionMissing is matched (errors.Is) by the error of a backend whose
// replica of a tablet does not hold the version a fragment reads; it is
// retryable.
var ErrVersionMissing = errors.New("tablet version missing on this replica")

// IsRetryable reports whether a fragment instance that failed with err may
// run again on other replicas.
func IsRetryable(err error) bool {
	if errors.Is(err, ErrVersionMissing) {
		return true
	}
	var r RetryableError
	return errors.As(err, &r) && r.Retryable()
}

// fragmentCut is a part of a plan that runs as a fragment: a scan, the
// spine above it (probeSpine's, top first, top the spine's top), and the
// aggregation over top whose partial phase runs with it, if any.
type fragmentCut struct {
	top   node
	scan  *scanNode
	spine []node
	agg   *aggNode
}

// cutFragment returns the fragment whose top n is, or nil. A node is the
// top of a fragment when a scan lies under it through filters,
// projections and the probe sides of joins; an aggregation over such a
// node is when its aggregates split into partial and final phases. Build
// and EXPLAIN walk the plan from the root, so the first node they meet on
// a path is the largest fragment there. A scan that reads no tablet is no
// fragment: it is built where it is planned.
func cutFragment(n node) *fragmentCut {
	switch v := n.(type) {
	case *aggNode:
		s, spine := probeSpine(v.child)
		if s == nil || !splitsAggregates(v) || !readsTablets(s) {
			return nil
		}
		return &fragmentCut{top: v.child, scan: s, spine: spine, agg: v}
	case *scanNode, *filterNode, *projectNode, *joinNode:
		s, spine := probeSpine(n)
		if s == nil || !readsTablets(s) || len(n.columns()) == 0 {
			return nil
		}
		return &fragmentCut{top: n, scan: s, spine: spine}
	}
	return nil
}

// splitsAggregates reports whether every aggregate of v has a partial
// phase (as parallelAgg requires).
func splitsAggregates(v *aggNode) bool {
	for _, a := range v.aggs {
		if !exec.PartialAggregate(a.fn) || a.distinct || a.fn == "group_concat" {
			return false
		}
	}
	return true
}

func readsTablets(s *scanNode) bool {
	for _, pi := range s.partitions {
		if len(s.table.Partitions[pi].Tablets) > 0 {
			return true
		}
	}
	return false
}

// querySettings are the query's start and time zone, from the
// EvalContext the query runs with.
func querySettings(ctx context.Context) (time.Time, string) {
	now, loc := time.Now(), time.Local
	if ec := exec.QueryEvalContext(ctx); ec != nil {
		if !ec.Now.IsZero() {
			now = ec.Now
		}
		if ec.TimeZone != nil {
			loc = ec.TimeZone
		}
	}
	return now, zoneName(loc, now)
}

// zoneName names loc as TimeZone resolves it: SYSTEM for the process's
// zone (backends are expected to share it), its name when that resolves
// to the same offset, else its offset at t.
func zoneName(loc *time.Location, t time.Time) string {
	if loc == time.Local {
		return "SYSTEM"
	}
	name := loc.String()
	_, off := t.In(loc).Zone()
	if r := TimeZone(name); r != time.Local {
		if _, roff := t.In(r).Zone(); roff == off {
			return name
		}
	}
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off%3600/60)
}

// collectDense runs op to the end and keeps its rows as dense columns.
func collectDense(ctx context.Context, op exec.Operator) (FragmentInput, error) {
	var in FragmentInput
	ts := op.Schema()
	err := exec.Drain(ctx, op, func(b *exec.Batch) error {
		in.Batches = append(in.Batches, exec.DenseColumns(b, ts))
		return nil
	})
	if err != nil {
		releaseBatches(in.Batches)
		return FragmentInput{}, err
	}
	return in, nil
}

func releaseAll(cols []arrow.Array) []arrow.Array {
	for _, c := range cols {
		c.Release()
	}
	return cols[:0]
}

func releaseBatches(bs [][]arrow.Array) {
	for _, cols := range bs {
		releaseAll(cols)
	}
}

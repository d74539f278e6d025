package planner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/partition"
	"github.com/strata-db/strata/types"
)

// A Fragment is the part of a plan that runs where a scan's tablets are,
// on a backend holding a replica of each tablet it lists: the scan, the
// operators above it that read its rows one by one (filters, projections,
// the probe side of hash joins), and, when the aggregation above allows
// it, the partial phase of that aggregation. A join's build side arrives
// as an input (a broadcast join), is a second scan of the same buckets of
// a colocated table (a colocate join), or arrives through an exchange
// from the instances of another fragment (bucket-shuffle and shuffle
// joins; see [JoinStrategy]). A fragment may also read its probe side
// from an exchange instead of a scan (Source: the part of a plan above a
// shuffle join), and send its output to an exchange instead of the
// coordinator (Sink). Otherwise its output goes back to the coordinator
// as Arrow batches, where a gather operator takes the place of the
// fragment in the plan (see [Remote]).
//
// A Fragment encodes to JSON and decodes into one that runs alike; only
// Inputs are left out of the encoding: they are rows, which the transport
// sends as Arrow streams beside it and hands to [RunFragment].
type Fragment struct {
	// ID numbers the fragment in its query (from 1), as EXPLAIN shows it.
	ID   int          `json:"id"`
	Scan FragmentScan `json:"scan"`
	// Steps are the operators above the scan, the first one reading the
	// scan's output and each the output of the step before.
	Steps []FragmentStep `json:"steps,omitempty"`
	// Agg, when set, is an aggregation over the last step's output (the
	// scan's without steps), of which the fragment runs the partial phase:
	// its rows are the group keys, then the partial aggregates of
	// exec.SplitAggregates, merged by the final phase at the coordinator.
	Agg *FragmentAgg `json:"agg,omitempty"`
	// InputTypes are the column types of each input, by input number.
	InputTypes [][]types.Type `json:"input_types,omitempty"`
	// Output are the column types of the fragment's rows; RunFragment
	// refuses a fragment it would build with other types.
	Output   []types.Type     `json:"output"`
	Settings FragmentSettings `json:"settings"`

	// Query names the query's exchanges on the backends; set per run, and
	// only for a fragment that reads or feeds an exchange.
	Query string `json:"query,omitempty"`
	// Source, when set, takes the place of the scan (Scan is then empty):
	// the fragment reads the rows an exchange routes to this instance,
	// the probe side of a shuffle join.
	Source *FragmentExchange `json:"source,omitempty"`
	// Partition is the partition this instance reads of every exchange
	// it reads (Source, and joins whose build rows come from one); set
	// per instance.
	Partition int `json:"partition,omitempty"`
	// Sink, when set, sends the fragment's rows to the instances of
	// another fragment through an exchange instead of to the coordinator;
	// Output is then empty.
	Sink *FragmentSink `json:"sink,omitempty"`

	// Inputs are the rows of each input (parallel to InputTypes), for the
	// transport to send; they are not encoded. The coordinator owns them
	// and keeps them until the stream of the Run they were passed to is
	// closed.
	Inputs []FragmentInput `json:"-"`
}

// FragmentScan is the scan of a fragment: which columns of which tablets
// it reads, at which versions, and the predicates it evaluates as it reads.
type FragmentScan struct {
	DB string `json:"db"`
	// Table is the table read, or the index read as a table
	// (catalog.Table.IndexTable): its model, schema and properties; its
	// partitions and indexes are left out.
	Table *catalog.Table `json:"table"`
	// Index is the rollup or materialized view read; "" for the base.
	Index string `json:"index,omitempty"`
	// Columns are the schema positions the scan outputs, in order.
	Columns []int `json:"columns"`
	// Filters are conjuncts over the scan's output. The column ranges a
	// scan skips pages by are derived from them (exec.ExtractRanges).
	Filters []Expr `json:"filters,omitempty"`
	// Unfolded: the table folds the rows of a key when read (aggregate keys,
	// merge-on-read unique keys) but the aggregation above gives the same
	// answer over its rows as stored (PREAGGREGATION ON), so they are read
	// without folding.
	Unfolded bool `json:"unfolded,omitempty"`
	// Tablets are the tablets this instance of the fragment reads, each at
	// the visible version of its partition. The rows of one key are all in
	// one tablet, so a scan that folds them folds each tablet on its own.
	Tablets []FragmentTablet `json:"tablets"`
}

// FragmentTablet is a tablet a fragment reads and the version it reads.
type FragmentTablet struct {
	ID      int64 `json:"id"`
	Version int64 `json:"version"`
}

// FragmentStep is one operator above a fragment's scan: Kind "filter"
// (Filter), "project" (Project, one expression per output column) or
// "join" (Join). Expressions are over the step's input.
type FragmentStep struct {
	Kind    string        `json:"kind"`
	Filter  *Expr         `json:"filter,omitempty"`
	Project []Expr        `json:"project,omitempty"`
	Join    *FragmentJoin `json:"join,omitempty"`
}

// Fragment step kinds.
const (
	StepFilter  = "filter"
	StepProject = "project"
	StepJoin    = "join"
)

// FragmentJoin is a hash join whose probe side is the step's input. Its
// build side is input number Input (a broadcast join), or, when set, the
// rows of Colocate's scan over this instance's buckets (a colocate join)
// or the rows Exchange routes to this instance (a bucket-shuffle or
// shuffle join). It outputs the probe columns, then the build columns;
// Other is over those.
type FragmentJoin struct {
	Kind      string             `json:"kind"` // "inner" or "left"
	Input     int                `json:"input"`
	Colocate  *FragmentBuildScan `json:"colocate,omitempty"`
	Exchange  *FragmentExchange  `json:"exchange,omitempty"`
	ProbeKeys []Expr             `json:"probe_keys"`
	BuildKeys []Expr             `json:"build_keys"`
	Other     *Expr              `json:"other,omitempty"`
}

// FragmentBuildScan is the build side of a colocate join: a scan of the
// tablets of the instance's buckets of the other table of the colocation
// group (Scan.Tablets set per instance), and the filters and projections
// over it.
type FragmentBuildScan struct {
	Scan  FragmentScan   `json:"scan"`
	Steps []FragmentStep `json:"steps,omitempty"`
}

// FragmentExchange is an exchange a fragment instance reads: the rows its
// senders route to the instance's partition (Fragment.Partition).
type FragmentExchange struct {
	// ID names the exchange in its query: the ID of the fragment whose
	// instances send to it.
	ID int `json:"id"`
	// Senders are the backends of the sending instances, by sender
	// number; the instance reads until each sent its end of stream.
	Senders []int64 `json:"senders"`
	// Types are the column types of the rows.
	Types []types.Type `json:"types"`
}

// FragmentSink sends a fragment's rows to the partitions of an exchange.
// Without Buckets, a row goes to partition hash(Keys) mod len(Dests)
// (exec.HashRoute: a shuffle join's sides, by its keys). With Buckets, a
// row goes to the partitions Fanout lists for its bucket under the
// bucket function of a table with Buckets buckets (partition.HashColumn
// over Keys, which are in the order of that table's distribution
// columns): the build side of a bucket-shuffle join, to the instances
// reading the probe table's buckets.
type FragmentSink struct {
	Exchange int     `json:"exchange"`
	Keys     []Expr  `json:"keys"`
	Buckets  int     `json:"buckets,omitempty"`
	Fanout   [][]int `json:"fanout,omitempty"`
	// Dests are the backends of the partitions, by partition.
	Dests []int64 `json:"dests"`
	// Sender is this instance's number among the exchange's senders; set
	// per instance.
	Sender int `json:"sender"`
}

// Exchange connects the fragment instances of a query on one backend to
// the exchanges between them (see [RunExchangeFragment]). Its methods may
// be called from several goroutines.
type Exchange interface {
	// Source returns an operator of schema ts reading partition part of
	// exchange id of query on this backend, until each of the senders
	// (backends, by sender number) ended its stream.
	Source(query string, id, part int, senders []int64, ts []types.Type) (exec.Operator, error)
	// Writer opens sender's stream to partition part of exchange id of
	// query, which is read on backend be.
	Writer(ctx context.Context, query string, id, part, sender int, be int64) (exec.ExchangeWriter, error)
}

// FragmentAgg is the aggregation whose partial phase a fragment runs.
type FragmentAgg struct {
	Groups []Expr            `json:"groups,omitempty"`
	Aggs   []FragmentAggCall `json:"aggs"`
}

// FragmentAggCall is one aggregate: a function exec.PartialAggregate
// accepts, over Args.
type FragmentAggCall struct {
	Func string `json:"func"`
	Args []Expr `json:"args,omitempty"`
}

// FragmentSettings are the session's settings a fragment's operators use.
type FragmentSettings struct {
	// TimeZone is the zone expressions evaluate in, as @@time_zone names
	// one (TimeZone resolves it); "SYSTEM" is the backend's own zone.
	TimeZone string `json:"time_zone"`
	// Now is the query's start, which now() and its kin return.
	Now time.Time `json:"now"`
	// SkipDeleteSign reads the rows whose delete sign is set (SET
	// skip_delete_sign = true).
	SkipDeleteSign bool `json:"skip_delete_sign,omitempty"`
	// MemLimit bounds the bytes the instance's operators hold
	// (exec_mem_limit; 0: none). A backend that predates it ignores it.
	MemLimit int64 `json:"mem_limit,omitempty"`
	// Profile asks the backend to send the instance's operator profile
	// back after its last batch (see FragmentProfiler). A backend that
	// predates it sends none.
	Profile bool `json:"profile,omitempty"`
}

// FragmentInput is the rows of one input of a fragment: batches of dense
// columns (no selection, no dictionary arrays) of the input's types.
type FragmentInput struct {
	Batches [][]arrow.Array
}

// TabletReadError is the error of a fragment that could not pin a tablet
// at its version on this backend (a replica that lags or lacks it, a read
// error). Another replica may serve it: the error is retryable.
type TabletReadError struct {
	TabletID, Version int64
	DB, Table         string
	Err               error
}

func (e *TabletReadError) Error() string {
	return fmt.Sprintf("reading tablet %d of %s.%s: %v", e.TabletID, e.DB, e.Table, e.Err)
}

func (e *TabletReadError) Unwrap() error { return e.Err }

// Retryable reports that another replica may serve the tablet.
func (e *TabletReadError) Retryable() bool { return true }

// RunFragment builds a fragment against the backend's tablets, pinning
// each tablet it reads at its version; inputs are the rows of its inputs,
// which the caller keeps until the operator is closed. The operator is
// used as any other: Open (with the fragment's settings in effect, whatever
// ctx carries), Next until io.EOF, Close, which also unpins the tablets.
// Its batches may carry a selection vector and dictionary arrays; see
// exec.DenseColumns for sending them. Partial aggregations run on a worker
// per core, as the coordinator would run them over local tablets.
func RunFragment(f *Fragment, tablets TabletReader, inputs []FragmentInput) (exec.Operator, error) {
	return RunExchangeFragment(f, tablets, inputs, nil)
}

// RunExchangeFragment is RunFragment for a fragment that may read
// exchanges and send its rows to one (Source, joins with an Exchange,
// Sink), through ex; ex may be nil for a fragment that does neither. A
// fragment with a Sink outputs no rows: its first Next sends them all,
// then ends every stream of the sink, and returns io.EOF.
func RunExchangeFragment(f *Fragment, tablets TabletReader, inputs []FragmentInput, ex Exchange) (exec.Operator, error) {
	fp, err := f.plan(inputs)
	if err != nil {
		return nil, fmt.Errorf("fragment %d: %w", f.ID, err)
	}
	if fp.exchanges && ex == nil {
		return nil, fmt.Errorf("fragment %d reads or feeds an exchange, which this backend cannot serve", f.ID)
	}
	p := &Planner{sess: fragmentSession{f.Settings}, tablets: tablets,
		frag: &fragmentEnv{ex: ex, query: f.Query, partition: f.Partition}}
	x := &Execution{}
	var op exec.Operator
	switch {
	case fp.agg != nil && fp.scan != nil:
		op, err = p.buildPartialAgg(fp.agg, fp.scan, fp.spine, x)
	case fp.agg != nil:
		var child exec.Operator
		if child, err = p.build(fp.top, x); err == nil {
			partial, _, _ := exec.SplitAggregates(aggSpecs(fp.agg))
			op, err = exec.NewHashAgg(child, compileAll(fp.agg.groups), partial)
		}
	default:
		op, err = p.build(fp.top, x)
	}
	if err == nil && fp.sink != nil {
		op, err = p.buildSink(f, fp, op)
	}
	if err != nil {
		x.Release()
		return nil, err
	}
	if !slices.Equal(op.Schema(), f.Output) {
		x.Release()
		return nil, fmt.Errorf("fragment %d outputs %v, the coordinator expects %v", f.ID, op.Schema(), f.Output)
	}
	return &fragmentOp{Operator: op, x: x, settings: f.Settings}, nil
}

// buildPartialAgg builds the partial phase of aggregation v over scan s
// and its spine: the parallel pipeline when the scan reads rows as stored,
// else a hash aggregation over the folding scan.
func (p *Planner) buildPartialAgg(v *aggNode, s *scanNode, spine []node, x *Execution) (exec.Operator, error) {
	aggs := aggSpecs(v)
	if s.folds() {
		child, err := p.build(v.child, x)
		if err != nil {
			return nil, err
		}
		partial, _, _ := exec.SplitAggregates(aggs)
		return exec.NewHashAgg(child, compileAll(v.groups), partial)
	}
	segs, err := p.pinScan(s, x)
	if err != nil {
		return nil, err
	}
	var pipe *exec.Pipeline
	if len(spine) > 0 {
		if pipe, err = p.pipeline(v.child, s, spine, x); err != nil {
			return nil, err
		}
	}
	return exec.NewParallelPipelinePartialAgg(scanSpec(s, segs), pipe, compileAll(v.groups), aggs, max(1, runtime.GOMAXPROCS(0)))
}

func aggSpecs(v *aggNode) []exec.AggSpec {
	aggs := make([]exec.AggSpec, len(v.aggs))
	for i, a := range v.aggs {
		aggs[i] = exec.AggSpec{Func: a.fn, Distinct: a.distinct, Args: compileAll(a.args)}
	}
	return aggs
}

// fragmentOp is a built fragment: its operators, with the fragment's
// settings in effect, and the tablets they pinned.
type fragmentOp struct {
	exec.Operator
	x        *Execution
	settings FragmentSettings
}

func (o *fragmentOp) Open(ctx context.Context) error {
	ec := exec.NewEvalContext()
	if !o.settings.Now.IsZero() {
		ec.Now = o.settings.Now
	}
	ec.TimeZone = TimeZone(o.settings.TimeZone)
	if o.settings.MemLimit > 0 {
		ctx = exec.WithMemTracker(ctx, exec.NewMemTracker(o.settings.MemLimit, "exec_mem_limit"))
	}
	return o.Operator.Open(exec.WithEvalContext(ctx, ec))
}

func (o *fragmentOp) Next(ctx context.Context, b *exec.Batch) error {
	return exec.Next(ctx, o.Operator, b)
}

func (o *fragmentOp) Close() error {
	err := o.Operator.Close()
	o.x.Release()
	return err
}

// fragmentSession gives a fragment's planner the settings it reads.
type fragmentSession struct{ s FragmentSettings }

func (f fragmentSession) CurrentDB() string    { return "" }
func (f fragmentSession) User() string         { return "" }
func (f fragmentSession) ConnectionID() uint32 { return 0 }
func (f fragmentSession) Variable(name string) string {
	switch name {
	case "skip_delete_sign":
		if f.s.SkipDeleteSign {
			return "1"
		}
		return "0"
	case "time_zone":
		return f.s.TimeZone
	}
	return ""
}
func (f fragmentSession) SystemVariable(name, _ string) (string, bool, error) {
	return "", false, &Error{Code: ErrUnknownSysVar, Msg: fmt.Sprintf("Unknown system variable '%s'", name)}
}
func (f fragmentSession) UserVariable(string) any { return nil }

// fragmentEnv is what a planner building a fragment instance on a
// backend needs besides its tablets: the exchanges of its query.
type fragmentEnv struct {
	ex        Exchange
	query     string
	partition int
}

// fragmentPlan is a decoded fragment as plan nodes: the top of the rows
// it outputs (before any aggregation), its scan and spine (probeSpine's,
// top first; nil for a fragment that reads an exchange), the aggregation
// over top, if any, and the keys its sink routes by (over top's columns).
type fragmentPlan struct {
	top       node
	scan      *scanNode
	spine     []node
	agg       *aggNode
	sink      []*ir
	exchanges bool // reads or feeds an exchange
}

// plan rebuilds a fragment's plan nodes, checking that every expression
// reads columns of the types its input has.
func (f *Fragment) plan(inputs []FragmentInput) (*fragmentPlan, error) {
	fp := &fragmentPlan{}
	var cur node
	var s *scanNode
	if src := f.Source; src != nil {
		ex, err := exchangeOf(src)
		if err != nil {
			return nil, fmt.Errorf("source: %w", err)
		}
		cur, fp.exchanges = ex, true
	} else {
		var err error
		if s, err = scanOf(&f.Scan); err != nil {
			return nil, err
		}
		cur = s
	}
	if len(inputs) != len(f.InputTypes) {
		return nil, fmt.Errorf("%d inputs, %d expected", len(inputs), len(f.InputTypes))
	}
	for i := range inputs {
		if err := checkInput(&inputs[i], f.InputTypes[i]); err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
	}
	for k, st := range f.Steps {
		in := cur.columns()
		switch st.Kind {
		case StepFilter, StepProject:
			var err error
			if cur, err = planStep(cur, st); err != nil {
				return nil, fmt.Errorf("step %d: %w", k, err)
			}
		case StepJoin:
			j := st.Join
			if j == nil {
				return nil, fmt.Errorf("step %d: a join step without its join", k)
			}
			var right node
			switch {
			case j.Colocate != nil && j.Exchange != nil:
				return nil, fmt.Errorf("step %d: join with both a colocated scan and an exchange", k)
			case j.Colocate != nil:
				bs, err := scanOf(&j.Colocate.Scan)
				if err != nil {
					return nil, fmt.Errorf("step %d: colocated scan: %w", k, err)
				}
				right = bs
				for bk, bst := range j.Colocate.Steps {
					if bst.Kind != StepFilter && bst.Kind != StepProject {
						return nil, fmt.Errorf("step %d: colocated step %d of kind %q", k, bk, bst.Kind)
					}
					if right, err = planStep(right, bst); err != nil {
						return nil, fmt.Errorf("step %d: colocated step %d: %w", k, bk, err)
					}
				}
			case j.Exchange != nil:
				ex, err := exchangeOf(j.Exchange)
				if err != nil {
					return nil, fmt.Errorf("step %d: %w", k, err)
				}
				right, fp.exchanges = ex, true
			default:
				if j.Input < 0 || j.Input >= len(inputs) {
					return nil, fmt.Errorf("step %d: join without an input", k)
				}
				var rcols []column
				for i, ty := range f.InputTypes[j.Input] {
					rcols = append(rcols, column{name: fmt.Sprintf("input%d.#%d", j.Input, i), t: ty, nullable: true, scanID: -1})
				}
				right = &inputNode{idx: j.Input, out: rcols, data: &inputs[j.Input]}
			}
			rcols := right.columns()
			var kind exec.JoinKind
			switch j.Kind {
			case "inner":
				kind = exec.JoinInner
			case "left":
				kind = exec.JoinLeft
			default:
				return nil, fmt.Errorf("step %d: join kind %q", k, j.Kind)
			}
			jn := &joinNode{left: cur, right: right, kind: kind, out: concatCols(in, rcols)}
			var err error
			if jn.leftKeys, err = checkedIRs(j.ProbeKeys, in); err != nil {
				return nil, fmt.Errorf("step %d: probe key: %w", k, err)
			}
			if jn.rightKeys, err = checkedIRs(j.BuildKeys, rcols); err != nil {
				return nil, fmt.Errorf("step %d: build key: %w", k, err)
			}
			if len(jn.leftKeys) != len(jn.rightKeys) || len(jn.leftKeys) == 0 {
				return nil, fmt.Errorf("step %d: %d probe keys, %d build keys", k, len(jn.leftKeys), len(jn.rightKeys))
			}
			if j.Other != nil {
				if jn.other, err = checkedIR(*j.Other, jn.out); err != nil {
					return nil, fmt.Errorf("step %d: join condition: %w", k, err)
				}
			}
			cur = jn
		default:
			return nil, fmt.Errorf("step %d: unknown kind %q", k, st.Kind)
		}
	}
	fp.top = cur
	fp.scan, fp.spine = probeSpine(cur)
	if fp.scan != s {
		return nil, errors.New("BUG: a fragment's steps do not form a spine")
	}
	if sk := f.Sink; sk != nil {
		if f.Agg != nil {
			return nil, errors.New("a fragment with both a partial aggregation and a sink")
		}
		if len(f.Output) != 0 {
			return nil, fmt.Errorf("a fragment with a sink outputs %v", f.Output)
		}
		var err error
		if fp.sink, err = checkedIRs(sk.Keys, cur.columns()); err != nil {
			return nil, fmt.Errorf("sink key: %w", err)
		}
		if len(fp.sink) == 0 || len(sk.Dests) == 0 {
			return nil, fmt.Errorf("a sink with %d keys to %d partitions", len(fp.sink), len(sk.Dests))
		}
		if sk.Buckets > 0 && len(sk.Fanout) != sk.Buckets {
			return nil, fmt.Errorf("a sink over %d buckets routes %d", sk.Buckets, len(sk.Fanout))
		}
		fp.exchanges = true
	}
	if a := f.Agg; a != nil {
		in := cur.columns()
		agg := &aggNode{child: cur}
		var err error
		if agg.groups, err = checkedIRs(a.Groups, in); err != nil {
			return nil, fmt.Errorf("group key: %w", err)
		}
		for _, c := range a.Aggs {
			if !exec.PartialAggregate(c.Func) || c.Func == "group_concat" {
				return nil, fmt.Errorf("aggregate %s has no partial phase", c.Func)
			}
			args, err := checkedIRs(c.Args, in)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.Func, err)
			}
			agg.aggs = append(agg.aggs, aggCall{fn: c.Func, args: args})
		}
		fp.agg = agg
	}
	return fp, nil
}

func checkedIRs(es []Expr, in []column) ([]*ir, error) {
	xs, err := irsOf(es)
	if err != nil {
		return nil, err
	}
	for _, x := range xs {
		if err := checkColumns(x, in); err != nil {
			return nil, fmt.Errorf("%s: %w", x, err)
		}
	}
	return xs, nil
}

func checkedIR(e Expr, in []column) (*ir, error) {
	xs, err := checkedIRs([]Expr{e}, in)
	if err != nil {
		return nil, err
	}
	return xs[0], nil
}

// checkColumns checks that every column x reads is one of in, of the type
// x reads it as.
func checkColumns(x *ir, in []column) error {
	switch x.kind {
	case irCol:
		if x.col >= len(in) {
			return fmt.Errorf("column #%d of %d", x.col, len(in))
		}
		if in[x.col].t != x.t {
			return fmt.Errorf("column #%d read as %v, is %v", x.col, x.t, in[x.col].t)
		}
	case irCall:
		for _, a := range x.args {
			if err := checkColumns(a, in); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkInput checks that an input's batches hold dense columns of ts.
func checkInput(in *FragmentInput, ts []types.Type) error {
	for bi, cols := range in.Batches {
		if len(cols) != len(ts) {
			return fmt.Errorf("batch %d has %d columns, want %d", bi, len(cols), len(ts))
		}
		for i, c := range cols {
			if !arrow.TypeEqual(c.DataType(), ts[i].Arrow()) {
				return fmt.Errorf("batch %d column %d is %v, want %v", bi, i, c.DataType(), ts[i].Arrow())
			}
			if c.Len() != cols[0].Len() {
				return fmt.Errorf("batch %d column %d has %d rows, column 0 %d", bi, i, c.Len(), cols[0].Len())
			}
		}
	}
	return nil
}

// inputNode is the rows of a fragment's input: the build side of a join,
// computed at the coordinator and sent to every instance of the fragment.
type inputNode struct {
	idx  int
	out  []column
	data *FragmentInput
}

func (n *inputNode) columns() []column { return n.out }

// batchesOp replays batches it does not own.
type batchesOp struct {
	schema  []types.Type
	batches [][]arrow.Array
	pos     int
}

func (o *batchesOp) Schema() []types.Type       { return o.schema }
func (o *batchesOp) Open(context.Context) error { o.pos = 0; return nil }
func (o *batchesOp) Close() error               { return nil }
func (o *batchesOp) Next(_ context.Context, b *exec.Batch) error {
	b.Reset()
	if o.pos >= len(o.batches) {
		return io.EOF
	}
	cols := o.batches[o.pos]
	o.pos++
	b.Cols = append(b.Cols, cols...)
	if len(cols) > 0 {
		b.Len = cols[0].Len()
	}
	return nil
}

func typesOf(cols []column) []types.Type {
	out := make([]types.Type, len(cols))
	for i, c := range cols {
		out[i] = c.t
	}
	return out
}

// scanOf is the scan node of a fragment's scan.
func scanOf(sc *FragmentScan) (*scanNode, error) {
	t := sc.Table
	if t == nil {
		return nil, errors.New("no table")
	}
	s := &scanNode{db: sc.DB, table: t, alias: t.Name, index: sc.Index, unfolded: sc.Unfolded, colIdx: sc.Columns}
	s.tablets = sc.Tablets
	if s.tablets == nil {
		s.tablets = []FragmentTablet{}
	}
	for _, si := range sc.Columns {
		if si < 0 || si >= len(t.Schema.Columns) {
			return nil, fmt.Errorf("scan of column %d of %d", si, len(t.Schema.Columns))
		}
		c := t.Schema.Columns[si]
		s.out = append(s.out, column{name: c.Name, table: t.Name, db: sc.DB, orgTable: t.Name, orgName: c.Name,
			t: c.Type, nullable: c.Nullable, scanID: -1, schemaIdx: si})
	}
	var err error
	if s.filters, err = checkedIRs(sc.Filters, s.out); err != nil {
		return nil, fmt.Errorf("scan filter: %w", err)
	}
	return s, nil
}

// planStep is a filter or projection step over cur.
func planStep(cur node, st FragmentStep) (node, error) {
	in := cur.columns()
	if st.Kind == StepFilter {
		if st.Filter == nil {
			return nil, errors.New("filter without a predicate")
		}
		pred, err := checkedIR(*st.Filter, in)
		if err != nil {
			return nil, err
		}
		return &filterNode{child: cur, pred: pred}, nil
	}
	exprs, err := checkedIRs(st.Project, in)
	if err != nil {
		return nil, err
	}
	out := make([]column, len(exprs))
	for i, e := range exprs {
		out[i] = column{name: fmt.Sprintf("#%d", i), t: e.t, nullable: true, scanID: -1}
	}
	return &projectNode{child: cur, exprs: exprs, out: out}, nil
}

// exchangeNode is the rows an exchange routes to a fragment instance:
// the probe side of a shuffle join, or the build side of a bucket-shuffle
// or shuffle join. It is built on the backend, from the fragment's
// Exchange.
type exchangeNode struct {
	id      int
	senders []int64
	out     []column
}

func (n *exchangeNode) columns() []column { return n.out }

func exchangeOf(fe *FragmentExchange) (*exchangeNode, error) {
	if len(fe.Senders) == 0 {
		return nil, fmt.Errorf("exchange %d without senders", fe.ID)
	}
	n := &exchangeNode{id: fe.ID, senders: fe.Senders}
	for i, t := range fe.Types {
		if !t.Kind.IsValid() {
			return nil, fmt.Errorf("exchange %d: column %d of invalid type", fe.ID, i)
		}
		n.out = append(n.out, column{name: fmt.Sprintf("exchange%d.#%d", fe.ID, i), t: t, nullable: true, scanID: -1})
	}
	return n, nil
}

// buildExchange builds the reading side of an exchange on a backend.
func (p *Planner) buildExchange(n *exchangeNode) (exec.Operator, error) {
	if p.frag == nil || p.frag.ex == nil {
		return nil, fmt.Errorf("BUG: exchange %d read outside a fragment", n.id)
	}
	return p.frag.ex.Source(p.frag.query, n.id, p.frag.partition, n.senders, typesOf(n.out))
}

// buildSink puts op's rows into the exchange of f's sink.
func (p *Planner) buildSink(f *Fragment, fp *fragmentPlan, op exec.Operator) (exec.Operator, error) {
	sk := f.Sink
	spec := exec.ExchangeSinkSpec{Keys: compileAll(fp.sink), Partitions: len(sk.Dests)}
	if sk.Buckets > 0 {
		spec.Route, spec.Fanout = bucketRoute(sk.Buckets), sk.Fanout
	}
	ex, query := p.frag.ex, p.frag.query
	spec.Open = func(ctx context.Context, part int) (exec.ExchangeWriter, error) {
		return ex.Writer(ctx, query, sk.Exchange, part, sk.Sender, sk.Dests[part])
	}
	return exec.NewExchangeSink(op, spec)
}

// bucketRoute routes rows by the bucket function of a table with the
// given number of buckets: the keys are the values of its distribution
// columns, in order (see partition.Router).
func bucketRoute(buckets int) exec.ExchangeRoute {
	var h []uint64
	return func(keys []arrow.Array, n int, bucket []int32) {
		h = slices.Grow(h[:0], n)[:n]
		clear(h)
		for _, k := range keys {
			partition.HashColumn(k, h)
		}
		for i, x := range h {
			bucket[i] = int32(x % uint64(buckets))
		}
	}
}

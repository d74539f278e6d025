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
	"github.com/strata-db/strata/types"
)

// A Fragment is the part of a plan that runs where a scan's tablets are,
// on a backend holding a replica of each tablet it lists: the scan, the
// operators above it that read its rows one by one (filters, projections,
// the probe side of hash joins whose build sides arrive as inputs: a
// broadcast join), and, when the aggregation above allows it, the partial
// phase of that aggregation. Its output goes back to the coordinator as
// Arrow batches, where a gather operator takes the place of the fragment
// in the plan (see [Remote]).
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

// FragmentJoin is a hash join whose probe side is the step's input and
// whose build side is input number Input. It outputs the probe columns,
// then the build columns; Other is over those.
type FragmentJoin struct {
	Kind      string `json:"kind"` // "inner" or "left"
	Input     int    `json:"input"`
	ProbeKeys []Expr `json:"probe_keys"`
	BuildKeys []Expr `json:"build_keys"`
	Other     *Expr  `json:"other,omitempty"`
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
	fp, err := f.plan(inputs)
	if err != nil {
		return nil, fmt.Errorf("fragment %d: %w", f.ID, err)
	}
	p := &Planner{sess: fragmentSession{f.Settings}, tablets: tablets}
	x := &Execution{}
	var op exec.Operator
	if fp.agg != nil {
		op, err = p.buildPartialAgg(fp.agg, fp.scan, fp.spine, x)
	} else {
		op, err = p.build(fp.top, x)
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

// fragmentPlan is a decoded fragment as plan nodes: the top of the rows
// it outputs (before any aggregation), its scan and spine (probeSpine's,
// top first), and the aggregation over top, if any.
type fragmentPlan struct {
	top   node
	scan  *scanNode
	spine []node
	agg   *aggNode
}

// plan rebuilds a fragment's plan nodes, checking that every expression
// reads columns of the types its input has.
func (f *Fragment) plan(inputs []FragmentInput) (*fragmentPlan, error) {
	sc := &f.Scan
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
	if len(inputs) != len(f.InputTypes) {
		return nil, fmt.Errorf("%d inputs, %d expected", len(inputs), len(f.InputTypes))
	}
	for i := range inputs {
		if err := checkInput(&inputs[i], f.InputTypes[i]); err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
	}
	var cur node = s
	for k, st := range f.Steps {
		in := cur.columns()
		switch st.Kind {
		case StepFilter:
			if st.Filter == nil {
				return nil, fmt.Errorf("step %d: filter without a predicate", k)
			}
			pred, err := checkedIR(*st.Filter, in)
			if err != nil {
				return nil, fmt.Errorf("step %d: %w", k, err)
			}
			cur = &filterNode{child: cur, pred: pred}
		case StepProject:
			exprs, err := checkedIRs(st.Project, in)
			if err != nil {
				return nil, fmt.Errorf("step %d: %w", k, err)
			}
			out := make([]column, len(exprs))
			for i, e := range exprs {
				out[i] = column{name: fmt.Sprintf("#%d", i), t: e.t, nullable: true, scanID: -1}
			}
			cur = &projectNode{child: cur, exprs: exprs, out: out}
		case StepJoin:
			j := st.Join
			if j == nil || j.Input < 0 || j.Input >= len(inputs) {
				return nil, fmt.Errorf("step %d: join without an input", k)
			}
			var kind exec.JoinKind
			switch j.Kind {
			case "inner":
				kind = exec.JoinInner
			case "left":
				kind = exec.JoinLeft
			default:
				return nil, fmt.Errorf("step %d: join kind %q", k, j.Kind)
			}
			var rcols []column
			for i, ty := range f.InputTypes[j.Input] {
				rcols = append(rcols, column{name: fmt.Sprintf("input%d.#%d", j.Input, i), t: ty, nullable: true, scanID: -1})
			}
			right := &inputNode{idx: j.Input, out: rcols, data: &inputs[j.Input]}
			jn := &joinNode{left: cur, right: right, kind: kind, out: concatCols(in, rcols)}
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
	fp := &fragmentPlan{top: cur}
	fp.scan, fp.spine = probeSpine(cur)
	if fp.scan != s {
		return nil, errors.New("BUG: a fragment's steps do not form a spine")
	}
	if a := f.Agg; a != nil {
		in := cur.columns()
		agg := &aggNode{child: cur}
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

package planner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/types"
)

// memRemote runs fragments on in-process backends 1..n that all read the
// same tablets. Every fragment goes through its JSON encoding and every
// batch, input or output, through Arrow IPC, as they would between
// processes. Failures are injected per backend.
type memRemote struct {
	tablets TabletReader
	n       int64

	mu sync.Mutex // protects the following fields
	// failRun: Run on the backend fails (retryable) this many more times.
	failRun map[int64]int
	// failAfterFirst: this many more streams of the backend fail
	// (retryable) after passing their first batch up.
	failAfterFirst map[int64]int
	// fatal: Run on the backend fails with an error that is not retryable.
	fatal map[int64]bool
	// lacks: the backend's replica of the tablet lacks its version.
	lacks map[[2]int64]bool
	// failPush: the exchange streams a producer on the backend writes
	// fail after this many more batches.
	failPush map[int64]int
	runs     []memRun
	open     int                // streams not closed
	released map[string][]int64 // backends each query was released on

	// hubs are the backends' exchange hubs (immutable map).
	hubs map[int64]*exec.ExchangeHub
	// replicasOf, when set, replaces Replicas' placement (set before use).
	replicasOf func(id int64) []int64
}

// memRun records a Run call.
type memRun struct {
	be       int64
	fragment int
	tablets  []int64
	agg      bool
	steps    []string
	settings FragmentSettings
	encoded  []byte // the fragment as JSON
	// source and sink: the fragment reads an exchange instead of a scan,
	// sends its rows to one; builds: where each join's build rows come
	// from ("input", "colocate" or "exchange").
	source, sink bool
	builds       []string
	partition    int
}

func newMemRemote(tablets TabletReader) *memRemote {
	r := &memRemote{tablets: tablets, n: 3, failRun: map[int64]int{}, failAfterFirst: map[int64]int{},
		fatal: map[int64]bool{}, lacks: map[[2]int64]bool{}, failPush: map[int64]int{},
		released: map[string][]int64{}, hubs: map[int64]*exec.ExchangeHub{}}
	for be := int64(1); be <= r.n; be++ {
		r.hubs[be] = exec.NewExchangeHub(exec.ExchangeHubOptions{})
	}
	return r
}

// RunExchange runs fragments that use exchanges as Run runs the others:
// every backend's fragments may use its hub.
func (r *memRemote) RunExchange(ctx context.Context, be int64, f *Fragment) (FragmentStream, error) {
	return r.Run(ctx, be, f)
}

func (r *memRemote) ReleaseQuery(_ context.Context, be int64, query string) error {
	r.mu.Lock()
	r.released[query] = append(r.released[query], be)
	r.mu.Unlock()
	r.hubs[be].ReleaseQuery(query)
	return nil
}

// checkHubs checks that no hub holds anything of a query.
func (r *memRemote) checkHubs(t *testing.T) {
	t.Helper()
	for be, h := range r.hubs {
		require.Zero(t, h.Entries(), "exchange entries left on backend %d", be)
	}
}

// memExchange is a backend's view of the exchanges: its own hub to read,
// the others' to push to, every batch through Arrow IPC.
type memExchange struct {
	r  *memRemote
	be int64
}

func (m *memExchange) Source(query string, id, part int, senders []int64, ts []types.Type) (exec.Operator, error) {
	names := make([]string, len(senders))
	for i, be := range senders {
		names[i] = fmt.Sprintf("backend %d", be)
	}
	key := exec.ExchangeKey{Query: query, Exchange: id, Partition: part}
	return exec.NewExchangeSource(m.r.hubs[m.be], key, names, ts, 30*time.Second), nil
}

func (m *memExchange) Writer(_ context.Context, query string, id, part, sender int, be int64) (exec.ExchangeWriter, error) {
	h, ok := m.r.hubs[be]
	if !ok {
		return nil, fmt.Errorf("no backend %d", be)
	}
	return &memWriter{r: m.r, from: m.be, w: exec.HubWriter{Hub: h, Key: exec.ExchangeKey{Query: query, Exchange: id, Partition: part}, Sender: sender}}, nil
}

type memWriter struct {
	r    *memRemote
	from int64
	w    exec.HubWriter
}

func (w *memWriter) Write(ctx context.Context, cols []arrow.Array) error {
	w.r.mu.Lock()
	fail := false
	if n, ok := w.r.failPush[w.from]; ok {
		if n == 0 {
			fail = true
		} else {
			w.r.failPush[w.from] = n - 1
		}
	}
	w.r.mu.Unlock()
	if fail {
		return &downErr{be: w.from, what: "connection reset while pushing"}
	}
	ts := make([]arrow.DataType, len(cols))
	for i, c := range cols {
		ts[i] = c.DataType()
	}
	out := ipcRoundTripArrow(cols, ts)
	err := w.w.Write(ctx, out)
	releaseAll(out)
	return err
}

func (w *memWriter) Close() error       { return w.w.Close() }
func (w *memWriter) Cancel(cause error) { w.w.Cancel(cause) }

// Replicas puts a replica of every tablet on every backend, first the one
// its id picks.
func (r *memRemote) Replicas(id int64) []int64 {
	if r.replicasOf != nil {
		return r.replicasOf(id)
	}
	out := make([]int64, r.n)
	for k := range r.n {
		out[k] = 1 + (id+k)%r.n
	}
	return out
}

// downErr is a retryable failure of a backend.
type downErr struct {
	be   int64
	what string
}

func (e *downErr) Error() string   { return fmt.Sprintf("backend %d: %s", e.be, e.what) }
func (e *downErr) Retryable() bool { return true }

func (r *memRemote) Run(ctx context.Context, be int64, f *Fragment) (FragmentStream, error) {
	if be < 1 || be > r.n {
		return nil, fmt.Errorf("no backend %d", be)
	}
	run := memRun{be: be, fragment: f.ID, agg: f.Agg != nil, settings: f.Settings}
	for _, t := range f.Scan.Tablets {
		run.tablets = append(run.tablets, t.ID)
	}
	for _, st := range f.Steps {
		run.steps = append(run.steps, st.Kind)
		if j := st.Join; j != nil {
			switch {
			case j.Colocate != nil:
				run.builds = append(run.builds, "colocate")
				for _, t := range j.Colocate.Scan.Tablets {
					run.tablets = append(run.tablets, t.ID)
				}
			case j.Exchange != nil:
				run.builds = append(run.builds, "exchange")
			default:
				run.builds = append(run.builds, "input")
			}
		}
	}
	run.source, run.sink, run.partition = f.Source != nil, f.Sink != nil, f.Partition
	r.mu.Lock()
	r.runs = append(r.runs, run)
	runIdx := len(r.runs) - 1
	failRun, fatal := r.failRun[be] > 0, r.fatal[be]
	if failRun {
		r.failRun[be]--
	}
	failAfter := r.failAfterFirst[be] > 0
	if failAfter {
		r.failAfterFirst[be]--
	}
	r.mu.Unlock()
	if fatal {
		return nil, fmt.Errorf("backend %d: disk on fire", be)
	}
	if failRun {
		return nil, &downErr{be: be, what: "connection refused"}
	}

	// The wire: JSON for the fragment, Arrow IPC for the inputs.
	data, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.runs[runIdx].encoded = data
	r.mu.Unlock()
	var g Fragment
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("decoding fragment: %w", err)
	}
	again, err := json.Marshal(&g)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(data, again) {
		return nil, fmt.Errorf("fragment does not survive its encoding:\n%s\n%s", data, again)
	}
	inputs := make([]FragmentInput, len(f.Inputs))
	for i, in := range f.Inputs {
		for _, cols := range in.Batches {
			inputs[i].Batches = append(inputs[i].Batches, ipcRoundTrip(cols, f.InputTypes[i]))
		}
	}
	releaseInputs := func() {
		for _, in := range inputs {
			releaseBatches(in.Batches)
		}
	}
	op, err := RunExchangeFragment(&g, &memBackendReader{r: r, be: be}, inputs, &memExchange{r: r, be: be})
	if err != nil {
		releaseInputs()
		return nil, err
	}
	if err := op.Open(ctx); err != nil {
		_ = op.Close()
		releaseInputs()
		return nil, err
	}
	r.mu.Lock()
	r.open++
	r.mu.Unlock()
	return &memStream{r: r, be: be, op: op, release: releaseInputs, failAfterFirst: failAfter}, nil
}

// checkClosed checks that every stream was closed.
func (r *memRemote) checkClosed(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Zero(t, r.open, "streams left open")
}

func (r *memRemote) recorded() []memRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.runs)
}

// memBackendReader is a backend's view of the tablets.
type memBackendReader struct {
	r  *memRemote
	be int64
}

func (m *memBackendReader) ReadTablet(id, version int64) (TabletData, error) {
	m.r.mu.Lock()
	lacks := m.r.lacks[[2]int64{m.be, id}]
	m.r.mu.Unlock()
	if lacks {
		return TabletData{}, fmt.Errorf("replica on backend %d holds version 1: %w", m.be, ErrVersionMissing)
	}
	return m.r.tablets.ReadTablet(id, version)
}

func (m *memBackendReader) ReadTabletKeepingSigns(id, version int64) (TabletData, error) {
	if sr, ok := m.r.tablets.(SignKeepingReader); ok {
		return sr.ReadTabletKeepingSigns(id, version)
	}
	return m.ReadTablet(id, version)
}

type memStream struct {
	r              *memRemote
	be             int64
	op             exec.Operator
	release        func()
	failAfterFirst bool
	sent           int
	b              exec.Batch
	closed         bool
}

func (s *memStream) Next(ctx context.Context) ([]arrow.Array, error) {
	if s.failAfterFirst && s.sent > 0 {
		return nil, &downErr{be: s.be, what: "connection reset"}
	}
	for {
		s.b.Reset()
		err := exec.Next(ctx, s.op, &s.b)
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if s.b.NumRows() == 0 {
			continue
		}
		dense := exec.DenseColumns(&s.b, s.op.Schema())
		out := ipcRoundTrip(dense, s.op.Schema())
		releaseAll(dense)
		s.sent++
		return out, nil
	}
}

func (s *memStream) Close() error {
	if s.closed {
		panic("stream closed twice")
	}
	s.closed = true
	err := s.op.Close()
	s.release()
	s.r.mu.Lock()
	s.r.open--
	s.r.mu.Unlock()
	return err
}

// ipcRoundTrip writes columns as an Arrow IPC stream and reads them back.
func ipcRoundTrip(cols []arrow.Array, ts []types.Type) []arrow.Array {
	ats := make([]arrow.DataType, len(ts))
	for i, t := range ts {
		ats[i] = t.Arrow()
	}
	return ipcRoundTripArrow(cols, ats)
}

func ipcRoundTripArrow(cols []arrow.Array, ts []arrow.DataType) []arrow.Array {
	fields := make([]arrow.Field, len(ts))
	for i, t := range ts {
		fields[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: t, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	n := 0
	if len(cols) > 0 {
		n = cols[0].Len()
	}
	rec := array.NewRecordBatch(schema, cols, int64(n))
	defer rec.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	if err := w.Write(rec); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	rd, err := ipc.NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		panic(err)
	}
	defer rd.Release()
	if !rd.Next() {
		panic(fmt.Sprintf("no record in the stream: %v", rd.Err()))
	}
	got := rd.RecordBatch()
	out := make([]arrow.Array, got.NumCols())
	for i := range out {
		out[i] = got.Column(i)
		out[i].Retain()
	}
	return out
}

// remoteQuery plans q on f's catalog and tablets and runs it with r.
func remoteQuery(t *testing.T, cat Catalog, tablets TabletReader, r Remote, q string) ([][]string, error) {
	t.Helper()
	p := New(fakeSession{db: "d"}, cat, tablets)
	st := mustParse(t, q)
	pl, err := p.PlanSelect(st, nil)
	require.NoError(t, err, q)
	p.SetRemote(r)
	return execute(p, pl, exec.NewEvalContext())
}

func localQuery(t *testing.T, cat Catalog, tablets TabletReader, q string) [][]string {
	t.Helper()
	p := New(fakeSession{db: "d"}, cat, tablets)
	pl, err := p.PlanSelect(mustParse(t, q), nil)
	require.NoError(t, err, q)
	out, err := execute(p, pl, exec.NewEvalContext())
	require.NoError(t, err, q)
	return out
}

func mustParse(t *testing.T, q string) *sql.SelectStmt {
	t.Helper()
	st, err := sql.Parse(q)
	require.NoError(t, err, q)
	return st.(*sql.SelectStmt)
}

// TestRemoteQueries runs queries whose fragments have joins (broadcast
// build sides, some of them fragments themselves), folding scans, partial
// and final aggregations, locally and cut into fragments (collect compares
// the two), and checks how they were cut.
func TestRemoteQueries(t *testing.T) {
	f := newIndexFixture(t)
	for _, tc := range []struct {
		q string
		// steps of each fragment's instances, by fragment; agg: which
		// fragments run a partial aggregation.
		steps map[int][]string
		agg   map[int]bool
	}{
		{q: "SELECT count(*), sum(qty), avg(qty), min(dt), max(name) FROM t",
			steps: map[int][]string{1: nil}, agg: map[int]bool{1: true}},
		{q: "SELECT region, count(*), sum(price) FROM t WHERE qty > 3 GROUP BY region",
			steps: map[int][]string{1: nil}, agg: map[int]bool{1: true}},
		{q: "SELECT a.region, count(*), sum(b.qty) FROM t a JOIN t b ON a.id = b.id AND a.dt = b.dt WHERE a.qty > 100 GROUP BY a.region",
			steps: map[int][]string{1: {StepJoin}, 2: nil}, agg: map[int]bool{1: true}},
		{q: "SELECT a.id, a.region, b.k2, b.vs FROM t a LEFT JOIN a b ON a.qty = b.k1 WHERE a.id < 100",
			steps: map[int][]string{1: {StepJoin, StepProject}, 2: nil}},
		{q: "SELECT a.id, b.k1, c.k2 FROM t a JOIN a b ON a.qty = b.k1 JOIN a c ON b.k1 = c.k1 AND c.vmax > a.qty WHERE a.id < 500",
			steps: map[int][]string{1: {StepJoin, StepJoin, StepProject}, 2: nil, 3: nil}},
		{q: "SELECT k1, k2, k3, vs, vmax, vmin, vrep FROM a WHERE vmax > 500",
			steps: map[int][]string{1: {StepProject}}},
		{q: "SELECT k2, sum(vs), max(vmax), count(*) FROM a GROUP BY k2",
			steps: map[int][]string{1: nil}, agg: map[int]bool{1: true}},
		{q: "SELECT k1, count(DISTINCT k2), sum(vs) FROM a GROUP BY k1",
			steps: map[int][]string{1: nil}},
		{q: "SELECT x.r, sum(x.q) FROM (SELECT region AS r, qty + 1 AS q, dt FROM t WHERE region > 'e') x WHERE x.r <> 'north' AND x.dt < '2024-01-01' GROUP BY x.r",
			steps: map[int][]string{1: {StepProject, StepProject, StepFilter}}, agg: map[int]bool{1: true}},
		{q: "SELECT id, qty FROM t WHERE qty IS NOT NULL ORDER BY qty DESC, id LIMIT 7",
			steps: map[int][]string{1: {StepProject}}},
		{q: "SELECT region, qty FROM t WHERE region = 'west' UNION ALL SELECT k3, vmax FROM a WHERE k1 < 3",
			steps: map[int][]string{1: {StepProject, StepProject}, 2: {StepProject, StepProject}}},
		{q: "SELECT DISTINCT region, dt FROM t WHERE id < 300"},
		{q: "SELECT region, group_concat(name) FROM t GROUP BY region"},
		{q: "SELECT s.region, count(*) FROM t s JOIN (SELECT k1, sum(vs) AS total FROM a GROUP BY k1) g ON s.qty = g.k1 GROUP BY s.region",
			steps: map[int][]string{1: {StepJoin}, 2: nil}, agg: map[int]bool{1: true, 2: true}},
	} {
		p, pl := f.plan(t, tc.q, true)
		p.sess = strategySession{p.sess, "broadcast"} // see TestJoinStrategies for the others
		collect(t, p, pl, tc.q)

		r := newMemRemote(f.tablets)
		p.SetRemote(r)
		_, err := execute(p, pl, exec.NewEvalContext())
		require.NoError(t, err, tc.q)
		r.checkClosed(t)
		runs := r.recorded()
		require.NotEmpty(t, runs, tc.q)
		seen := map[int]bool{}
		for _, run := range runs {
			seen[run.fragment] = true
			for _, id := range run.tablets {
				require.Equal(t, run.be, r.Replicas(id)[0], "%s: tablet %d on its first replica", tc.q, id)
			}
			if want, ok := tc.steps[run.fragment]; ok {
				require.Equal(t, want, run.steps, "%s: fragment %d", tc.q, run.fragment)
			}
			require.Equal(t, tc.agg[run.fragment], run.agg, "%s: fragment %d", tc.q, run.fragment)
		}
		for id := range tc.steps {
			require.True(t, seen[id], "%s: fragment %d never ran", tc.q, id)
		}
	}
}

// TestRemoteFailover runs fragments on backends that fail: instances that
// failed before passing rows up run again on the next replicas of their
// tablets; a row stream that already passed rows up fails the query.
func TestRemoteFailover(t *testing.T) {
	f := newIndexFixture(t)
	const aggQ = "SELECT region, count(*), sum(qty), min(name) FROM t WHERE id > 10 GROUP BY region"
	const rowQ = "SELECT id, region, qty FROM t WHERE id > 10"
	const joinQ = "SELECT a.region, count(*) FROM t a JOIN t b ON a.id = b.id AND a.dt = b.dt GROUP BY a.region"
	want := map[string][]string{}
	for _, q := range []string{aggQ, rowQ, joinQ} {
		_, pl := f.plan(t, q, false)
		want[q] = sortedRows(localQueryPlan(t, f, pl))
	}
	run := func(q string, setup func(r *memRemote)) (*memRemote, [][]string, error) {
		t.Helper()
		r := newMemRemote(f.tablets)
		setup(r)
		p, pl := f.plan(t, q, false)
		p.sess = strategySession{p.sess, "broadcast"}
		p.SetRemote(r)
		rows, err := execute(p, pl, exec.NewEvalContext())
		r.checkClosed(t)
		return r, rows, err
	}
	// runsOn counts the runs of a fragment on each backend.
	runsOn := func(r *memRemote, fragment int) map[int64]int {
		out := map[int64]int{}
		for _, run := range r.recorded() {
			if run.fragment == fragment {
				out[run.be]++
			}
		}
		return out
	}

	t.Run("run fails", func(t *testing.T) {
		for _, q := range []string{aggQ, rowQ, joinQ} {
			r, rows, err := run(q, func(r *memRemote) { r.failRun[2] = 1 })
			require.NoError(t, err, q)
			require.Equal(t, want[q], sortedRows(rows), q)
			// Backend 2's tablets went to backend 3, their next replica
			// (in the join, the build side runs first).
			fragment := 1
			if q == joinQ {
				fragment = 2
				require.Equal(t, map[int64]int{1: 1, 2: 1, 3: 1}, runsOn(r, 1), q)
			}
			require.Equal(t, map[int64]int{1: 1, 2: 1, 3: 2}, runsOn(r, fragment), q)
		}
	})
	t.Run("version missing", func(t *testing.T) {
		// Tablet 4 (first on backend 2) lacks its version there and on 3.
		r, rows, err := run(aggQ, func(r *memRemote) {
			r.lacks[[2]int64{2, 4}] = true
			r.lacks[[2]int64{3, 4}] = true
		})
		require.NoError(t, err)
		require.Equal(t, want[aggQ], sortedRows(rows))
		var last memRun
		for _, run := range r.recorded() {
			if slices.Contains(run.tablets, 4) {
				last = run
			}
		}
		require.Equal(t, int64(1), last.be, "tablet 4 read on its third replica")
	})
	t.Run("partial aggregation fails after its first batch", func(t *testing.T) {
		r, rows, err := run(aggQ, func(r *memRemote) { r.failAfterFirst[1] = 1 })
		require.NoError(t, err)
		require.Equal(t, want[aggQ], sortedRows(rows))
		require.Equal(t, map[int64]int{1: 1, 2: 2, 3: 1}, runsOn(r, 1), "backend 1's tablets ran again on backend 2")
	})
	t.Run("row stream fails after its first batch", func(t *testing.T) {
		_, _, err := run(rowQ, func(r *memRemote) { r.failAfterFirst[3] = 1 })
		require.Error(t, err)
		require.Contains(t, err.Error(), "fragment 1 on backend 3 failed after sending rows")
		require.Contains(t, err.Error(), "connection reset")
		require.True(t, IsRetryable(err), "the cause stays visible")
	})
	t.Run("build side fails after its first batch", func(t *testing.T) {
		// The build side (fragment 2, which runs first) is collected whole
		// before it is sent: it runs again.
		r, rows, err := run(joinQ, func(r *memRemote) { r.failAfterFirst[3] = 1 })
		require.NoError(t, err)
		require.Equal(t, want[joinQ], sortedRows(rows))
		require.Equal(t, map[int64]int{1: 2, 2: 1, 3: 1}, runsOn(r, 2))
	})
	t.Run("not retryable", func(t *testing.T) {
		_, _, err := run(aggQ, func(r *memRemote) { r.fatal[1] = true })
		require.Error(t, err)
		require.Contains(t, err.Error(), "fragment 1 on backend 1: backend 1: disk on fire")
	})
	t.Run("every replica fails", func(t *testing.T) {
		_, _, err := run(aggQ, func(r *memRemote) { r.failRun[1], r.failRun[2], r.failRun[3] = 9, 9, 9 })
		require.Error(t, err)
		require.Contains(t, err.Error(), "no replica of tablet")
		require.Contains(t, err.Error(), "connection refused")
	})
}

// localQueryPlan runs a plan of f without a Remote.
func localQueryPlan(t *testing.T, f *indexFixture, pl *Plan) [][]string {
	t.Helper()
	p := New(routingSession{fakeSession{db: "d"}, "0"}, f.cat, f.tablets)
	rows, err := execute(p, pl, exec.NewEvalContext())
	require.NoError(t, err)
	return rows
}

// TestRemoteExplain shows the fragments of a plan cut for a Remote.
func TestRemoteExplain(t *testing.T) {
	f := newIndexFixture(t)
	explainRemote := func(q string) string {
		t.Helper()
		p := New(strategySession{routingSession{fakeSession{db: "d"}, "1"}, "broadcast"}, f.cat, f.tablets)
		p.SetRemote(newMemRemote(f.tablets))
		pl, err := p.PlanSelect(mustParse(t, q), nil)
		require.NoError(t, err, q)
		return strings.Join(pl.Explain(), "\n")
	}
	got := explainRemote("SELECT a.region, count(*) FROM t a JOIN t b ON a.id = b.id WHERE b.qty > 5 GROUP BY a.region ORDER BY a.region")
	require.Equal(t, strings.Join([]string{
		"Sort: a.region ASC",
		"  Project: a.region, count(*)",
		"    HashAggregate (final): group by [a.region] output [count(*)]",
		"      EXCHANGE: gather partial aggregates of FRAGMENT 1",
		"        FRAGMENT 1 on 3 backends, 4 tablets",
		"          HashAggregate (partial): group by [a.region] output [count(*)]",
		"            HashJoin INNER (BROADCAST) (probe: left, build: right) ON a.id = b.id",
		"              OlapScanNode TABLE: d.t(t), PREAGGREGATION: ON partitions=2/2 tablets=4 columns=[a.id, a.region]",
		"              EXCHANGE: broadcast to FRAGMENT 1",
		"                EXCHANGE: gather FRAGMENT 2",
		"                  FRAGMENT 2 on 3 backends, 4 tablets",
		"                    OlapScanNode TABLE: d.t(t), PREAGGREGATION: ON partitions=2/2 tablets=4 columns=[b.id, b.qty]",
		"                      predicates: (b.qty > 5)",
		"                      range qty: (5, +inf)",
	}, "\n"), got)

	// A scan that reads no tablet, and a system table, run here.
	got = explainRemote("SELECT count(*) FROM t WHERE dt > '2025-01-01' AND dt < '2024-01-01'")
	require.NotContains(t, got, "FRAGMENT")
	got = explainRemote("SELECT count(*) FROM information_schema.tables")
	require.NotContains(t, got, "FRAGMENT")
	// DISTINCT aggregates are final at the coordinator over rows.
	got = explainRemote("SELECT k1, count(DISTINCT k2) FROM a GROUP BY k1")
	require.Contains(t, got, "HashAggregate: group by [a.k1] output [count(DISTINCT a.k2)]\n    EXCHANGE: gather FRAGMENT 1\n      FRAGMENT 1 on 2 backends, 2 tablets")
}

// TestRemoteSettings checks that fragments evaluate with the query's time
// zone and start, and read with its skip_delete_sign.
func TestRemoteSettings(t *testing.T) {
	f := newIndexFixture(t)
	q := "SELECT sum(unix_timestamp(dt)), count(*) FROM t WHERE dt < now() AND hour(from_unixtime(unix_timestamp(dt))) = 0"
	ec := func() *exec.EvalContext {
		ec := exec.NewEvalContext()
		ec.TimeZone = TimeZone("+08:00")
		ec.Now = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
		return ec
	}
	p, pl := f.plan(t, q, false)
	want, err := execute(p, pl, ec())
	require.NoError(t, err)
	r := newMemRemote(f.tablets)
	p.SetRemote(r)
	got, err := execute(p, pl, ec())
	require.NoError(t, err)
	require.Equal(t, want, got)
	for _, run := range r.recorded() {
		require.Equal(t, "+08:00", run.settings.TimeZone)
		require.True(t, run.settings.Now.Equal(ec().Now))
		require.False(t, run.settings.SkipDeleteSign)
	}
	require.Equal(t, "SYSTEM", zoneName(time.Local, time.Now()))
	require.Equal(t, "UTC", zoneName(time.UTC, time.Now()))
	require.Equal(t, "-03:30", zoneName(time.FixedZone("odd", -(3*3600+1800)), time.Now()))
}

// TestRunFragmentRefuses feeds RunFragment fragments that do not fit the
// backend's view of them: each is an error, none a panic.
func TestRunFragmentRefuses(t *testing.T) {
	f := newIndexFixture(t)
	q := "SELECT a.region, sum(a.qty) FROM t a JOIN t b ON a.id = b.id WHERE a.qty > 3 GROUP BY a.region"
	p, pl := f.plan(t, q, false)
	p.sess = strategySession{p.sess, "broadcast"}
	r := newMemRemote(f.tablets)
	p.SetRemote(r)
	_, err := execute(p, pl, exec.NewEvalContext())
	require.NoError(t, err)
	var enc []byte
	for _, run := range r.recorded() {
		if run.fragment == 1 {
			enc = run.encoded
		}
	}
	require.NotEmpty(t, enc)
	decode := func() *Fragment {
		var g Fragment
		require.NoError(t, json.Unmarshal(enc, &g))
		return &g
	}
	input := FragmentInput{}
	okInputs := func(g *Fragment) []FragmentInput { return []FragmentInput{input} }
	g := decode()
	op, err := RunFragment(g, f.tablets, okInputs(g))
	require.NoError(t, err, "the fragment as sent builds")
	require.NoError(t, op.Close())

	for name, tc := range map[string]struct {
		mutate func(g *Fragment) []FragmentInput
		msg    string
	}{
		"no table":        {func(g *Fragment) []FragmentInput { g.Scan.Table = nil; return okInputs(g) }, "no table"},
		"column past end": {func(g *Fragment) []FragmentInput { g.Scan.Columns[0] = 99; return okInputs(g) }, "scan of column 99"},
		"missing input":   {func(g *Fragment) []FragmentInput { return nil }, "0 inputs, 1 expected"},
		"input of other types": {func(g *Fragment) []FragmentInput {
			arr := array.NewNull(3)
			return []FragmentInput{{Batches: [][]arrow.Array{{arr, arr}}}}
		}, "input 0: batch 0 has 2 columns"},
		"unknown step":   {func(g *Fragment) []FragmentInput { g.Steps[0].Kind = "window"; return okInputs(g) }, `unknown kind "window"`},
		"join kind":      {func(g *Fragment) []FragmentInput { g.Steps[0].Join.Kind = "full"; return okInputs(g) }, `join kind "full"`},
		"key types":      {func(g *Fragment) []FragmentInput { g.Steps[0].Join.ProbeKeys[0].x.t = types.Int; return okInputs(g) }, "read as INT"},
		"other output":   {func(g *Fragment) []FragmentInput { g.Output = g.Output[1:]; return okInputs(g) }, "the coordinator expects"},
		"no partial agg": {func(g *Fragment) []FragmentInput { g.Agg.Aggs[0].Func = "group_concat"; return okInputs(g) }, "has no partial phase"},
		"version missing": {func(g *Fragment) []FragmentInput {
			g.Scan.Tablets[0].ID = 12345
			return okInputs(g)
		}, ""},
	} {
		g := decode()
		inputs := tc.mutate(g)
		reader := TabletReader(f.tablets)
		if name == "version missing" {
			reader = &memBackendReader{r: &memRemote{tablets: f.tablets, lacks: map[[2]int64]bool{{0, 12345}: true}}}
		}
		op, err := RunFragment(g, reader, inputs)
		require.Error(t, err, name)
		require.Nil(t, op)
		require.Contains(t, err.Error(), tc.msg, name)
		if name == "version missing" {
			require.True(t, IsRetryable(err))
			require.ErrorIs(t, err, ErrVersionMissing)
		}
	}
}

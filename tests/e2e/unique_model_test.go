package e2e

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestUniqueKeyModel is the model-based randomized test of merge-on-write
// UNIQUE KEY tables. A seeded generator picks steps — whole-row upserts
// (CSV and JSON, with keys repeated in one body), loads with delete signs,
// merge_type DELETE and MERGE loads, partial-column loads, SQL DELETE,
// UPDATE and INSERT, out-of-order sequence values, concurrent loads,
// bursts of small loads that make the server compact, and kill -9
// restarts with loads in flight — and applies each to an in-memory model
// of the two tables it writes, one plain and one ordered by a sequence
// column. After every step both tables must read exactly as the model
// says: every live key once with its newest values, no deleted or stale
// row, no key twice.
//
// Every step must be able to fail: a mismatch prints the seed, the step,
// the recent steps and, per differing key, what the table holds, what the
// model expects and the writes that led there.
//
// STRATA_UNIQUE_MODEL_SEED replays a run (its seed is logged);
// STRATA_UNIQUE_MODEL_STEPS sets the number of steps (the long mode, e.g.
// 2000). Steps are generated one at a time from the seed and the model, so
// a seed replays the same steps up to the first kill -9 whose in-flight
// loads end otherwise than in the logged run: where a kill lands is a
// matter of timing, and the model learns each load's fate from its label.
func TestUniqueKeyModel(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("STRATA_UNIQUE_MODEL_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("STRATA_UNIQUE_MODEL_SEED=%q: %v", v, err)
		}
	}
	steps := umDefaultSteps
	if raceEnabled {
		steps = umDefaultStepsRace
	}
	if v := os.Getenv("STRATA_UNIQUE_MODEL_STEPS"); v != "" {
		var err error
		if steps, err = strconv.Atoi(v); err != nil || steps < 1 {
			t.Fatalf("STRATA_UNIQUE_MODEL_STEPS=%q: want a positive number", v)
		}
	}
	t.Logf("seed %d, %d steps (replay with STRATA_UNIQUE_MODEL_SEED=%d STRATA_UNIQUE_MODEL_STEPS=%d)", seed, steps, seed, steps)

	start := time.Now()
	r := newUMRun(t, seed, steps)
	for i := 1; i <= steps; i++ {
		r.step(i)
	}
	r.requireCompaction(steps + 1)
	r.check(steps+1, "the end", true)
	r.checkServerLog(steps + 1)
	t.Logf("seed %d: %d steps, %d loads (%d refused as expected), %d statements, %d concurrent steps, %d kill -9 restarts (%d loads in flight, %d of them visible after), "+
		"%d compactions seen, at most %d rowsets and %d rows in a tablet, %d live keys at the end; %s",
		seed, steps, r.stats.loads, r.stats.refused, r.stats.statements, r.stats.concurrent, r.stats.kills, r.stats.inFlight, r.stats.inFlightVisible,
		r.tablets.drops, r.tablets.maxRowsets, r.tablets.maxRows, r.tables[0].live()+r.tables[1].live(), time.Since(start).Round(time.Millisecond))
}

const (
	// The default sizes keep the test under 20 s on a two-core machine,
	// also with the race-enabled server of scripts/test.sh, which takes
	// about twice as long a step.
	umDefaultSteps     = 200
	umDefaultStepsRace = 100
	// umKeys is the key space: small, so that writes collide often.
	umKeys = 200
	// Wide loads write keys umWideFirst.. umWideFirst+umWideKeys-1: enough
	// for more than a page (storage.DefaultPageRows) in a tablet.
	umWideFirst = 1000
	umWideKeys  = 40_000
	umDB        = "um"
)

// umDDL creates the two tables: value columns of each nullability and
// default, a few buckets, and in useq a visible sequence column.
const umDDL = `CREATE DATABASE um;
CREATE TABLE um.plain (id BIGINT, a INT NULL, b VARCHAR(16) NULL DEFAULT 'd', seq BIGINT NULL)
  UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 3;
CREATE TABLE um.useq (id BIGINT, a INT NULL, b VARCHAR(16) NULL DEFAULT 'd', seq BIGINT NULL)
  UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 4
  PROPERTIES ("function_column.sequence_col" = "seq")`

// umRow is the value columns of a row.
type umRow struct {
	a   sql.NullInt64
	b   sql.NullString
	seq sql.NullInt64
}

// umEntry is what a table holds for a key: a live row, or, in the table
// with a sequence column, the delete that still holds the key's sequence
// value (a later row with a smaller one loses to it).
type umEntry struct {
	row     umRow
	deleted bool
}

// umCols is a set of value columns.
type umCols uint8

const (
	umColA umCols = 1 << iota
	umColB
	umColSeq
	umAllCols = umColA | umColB | umColSeq
)

var umColNames = [...]string{"a", "b", "seq"}

// umChange is one row a load or statement writes: its key, the values of
// the columns the write gives, and whether it deletes the key.
type umChange struct {
	id  int64
	row umRow
	del bool
}

// umWrite is a load or statement as the model applies it.
type umWrite struct {
	cols    umCols // the value columns it gives; umAllCols: whole rows
	changes []umChange
}

// umTable is the model of one table.
type umTable struct {
	name    string
	seq     bool // rows of a key are ordered by the seq column
	rows    map[int64]umEntry
	history map[int64][]string // per key, the last writes that touched it
}

func (tb *umTable) live() int {
	n := 0
	for _, e := range tb.rows {
		if !e.deleted {
			n++
		}
	}
	return n
}

// liveIDs returns the keys with a live row, in order.
func (tb *umTable) liveIDs() []int64 {
	var ids []int64
	for id, e := range tb.rows {
		if !e.deleted {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// umCmpSeq orders sequence values, NULL first.
func umCmpSeq(x, y sql.NullInt64) int {
	switch {
	case !x.Valid && !y.Valid:
		return 0
	case !x.Valid:
		return -1
	case !y.Valid:
		return 1
	case x.Int64 < y.Int64:
		return -1
	case x.Int64 > y.Int64:
		return 1
	}
	return 0
}

// apply applies a write that became visible: first the rows of one key
// within the write are reduced to one (the last; with a given sequence
// column the largest value, the later of equal ones), then each survivor
// meets the key's current row.
func (tb *umTable) apply(w umWrite, step int, what string) {
	seqGiven := tb.seq && w.cols&umColSeq != 0
	win := map[int64]umChange{}
	var order []int64
	for _, c := range w.changes {
		prev, ok := win[c.id]
		if !ok {
			order = append(order, c.id)
		} else if seqGiven && umCmpSeq(c.row.seq, prev.row.seq) < 0 {
			continue
		}
		win[c.id] = c
	}
	for _, id := range order {
		tb.applyRow(win[id], w.cols, fmt.Sprintf("step %d %s", step, what))
	}
}

// applyRow applies the surviving row of one key. A partial row takes the
// columns it lacks from the key's live row, or their defaults when the key
// has none (a deleted key counts as new); in the sequence table it takes
// the current row's sequence value, deleted or not, when it gives none.
func (tb *umTable) applyRow(c umChange, cols umCols, what string) {
	cur, exists := tb.rows[c.id]
	row := c.row
	if cols != umAllCols {
		full := umRow{b: sql.NullString{String: "d", Valid: true}}
		if exists && !cur.deleted {
			full = cur.row
		}
		if cols&umColA != 0 {
			full.a = row.a
		}
		if cols&umColB != 0 {
			full.b = row.b
		}
		if cols&umColSeq != 0 {
			full.seq = row.seq
		} else if tb.seq && exists {
			full.seq = cur.row.seq
		}
		row = full
	}
	var outcome string
	switch {
	case tb.seq && exists && umCmpSeq(row.seq, cur.row.seq) < 0:
		outcome = "ignored (lower seq than " + umOut(cur.row.seq) + ")"
	case c.del && tb.seq:
		tb.rows[c.id] = umEntry{row: row, deleted: true}
		outcome = "deleted, holding seq " + umOut(row.seq)
	case c.del:
		delete(tb.rows, c.id)
		outcome = "deleted"
	default:
		tb.rows[c.id] = umEntry{row: row}
		outcome = umRowText(c.id, row)
	}
	change := umChangeText(c, cols)
	if c.del {
		change += " (delete)"
	}
	tb.note(c.id, fmt.Sprintf("%s: %s -> %s", what, change, outcome))
}

func (tb *umTable) note(id int64, s string) {
	h := append(tb.history[id], s)
	if len(h) > 8 {
		h = h[len(h)-8:]
	}
	tb.history[id] = h
}

// umLoad is a stream load: what is sent and what the model applies if it
// becomes visible.
type umLoad struct {
	table   *umTable
	label   string
	headers []string
	body    []byte
	w       umWrite
	what    string
	slow    bool // send the body in small pieces, slowly
}

// umSlowReader is a body that arrives 64 bytes at a time, every 5 ms, so
// that a kill -9 lands while it is read.
type umSlowReader struct{ b []byte }

func (s *umSlowReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	time.Sleep(5 * time.Millisecond)
	n := copy(p[:min(len(p), 64)], s.b)
	s.b = s.b[n:]
	return n, nil
}

// umRun is one run: the server, the model, the generator.
type umRun struct {
	t      *testing.T
	s      *Server
	seed   uint64
	steps  int
	rng    *rand.Rand
	hc     *http.Client
	tables [2]*umTable
	clock  int64 // sequence values are drawn around it; it moves forward
	recent []string
	labels int
	wide   bool // a wide load was made
	// restarted: the server restarted during the step, whose check then
	// lists every row.
	restarted bool

	tablets umTabletWatch
	stats   struct {
		loads, statements, concurrent, kills, inFlight, inFlightVisible, bursts, refused int
	}
}

func newUMRun(t *testing.T, seed uint64, steps int) *umRun {
	r := &umRun{
		t: t, seed: seed, steps: steps,
		rng: rand.New(rand.NewPCG(seed, seed^0x5eed)),
		hc: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
			DisableKeepAlives: true, ExpectContinueTimeout: 30 * time.Second,
		}},
		clock: 100,
	}
	r.s = startServer(t, "")
	r.s.MustMySQL(umDDL)
	r.tables[0] = &umTable{name: "plain", rows: map[int64]umEntry{}, history: map[int64][]string{}}
	r.tables[1] = &umTable{name: "useq", seq: true, rows: map[int64]umEntry{}, history: map[int64][]string{}}
	r.tablets.last = map[string]int{}
	r.check(0, "empty tables", true)
	return r
}

// fatalf fails the run with the seed, the step and the recent steps.
func (r *umRun) fatalf(step int, format string, args ...any) {
	r.t.Helper()
	logs := r.s.logs.String()
	if len(logs) > 6000 {
		logs = "..." + logs[len(logs)-6000:]
	}
	r.t.Fatalf("seed %d, step %d: %s\n\nrecent steps:\n  %s\n\nserver log (tail):\n%s\nreplay: STRATA_UNIQUE_MODEL_SEED=%d STRATA_UNIQUE_MODEL_STEPS=%d go test ./tests/e2e/ -run TestUniqueKeyModel -count=1 -v",
		r.seed, step, fmt.Sprintf(format, args...), strings.Join(r.recent, "\n  "), logs, r.seed, r.steps)
}

func (r *umRun) record(step int, what string) {
	r.recent = append(r.recent, fmt.Sprintf("%d: %s", step, what))
	if len(r.recent) > 12 {
		r.recent = r.recent[len(r.recent)-12:]
	}
}

// step runs one randomly chosen step and checks both tables after it.
func (r *umRun) step(i int) {
	r.clock += 3
	tb := r.tables[r.rng.IntN(2)]
	var what string
	switch p := r.rng.IntN(100); {
	case i == r.steps/2 && r.stats.kills == 0:
		what = r.killStep(i)
		r.t.Logf("step %d: %s", i, what)
	case i == r.steps/4 && r.stats.bursts == 0:
		what = r.burstStep(i, tb)
	case p < 15:
		what = r.loadStep(i, r.genLoad(i, tb, umUpsert, r.rowCount(), r.anyKey, nil))
	case p < 24:
		what = r.loadStep(i, r.genLoad(i, tb, umSigns, r.rowCount(), r.anyKey, nil))
	case p < 28:
		what = r.loadStep(i, r.genLoad(i, tb, umDeleteLoad, 1+r.rng.IntN(8), r.anyKey, nil))
	case p < 34:
		what = r.loadStep(i, r.genLoad(i, tb, umMerge, r.rowCount(), r.anyKey, nil))
	case p < 44:
		what = r.loadStep(i, r.genLoad(i, tb, umPartial, r.rowCount(), r.anyKey, nil))
	case p < 47:
		what = r.newKeyErrorStep(i, tb)
	case p < 54:
		what = r.deleteStep(i, tb)
	case p < 61:
		what = r.updateStep(i, tb)
	case p < 70:
		what = r.insertStep(i, tb)
	case p < 82:
		what = r.concurrentStep(i)
	case p < 89:
		what = r.burstStep(i, tb)
	case p < 92:
		what = r.killStep(i)
		r.t.Logf("step %d: %s", i, what)
	case p < 93:
		r.s.Stop()
		r.checkServerLog(i)
		r.s.Restart()
		r.restarted = true
		r.tablets.reset()
		what = "restart (SIGTERM)"
	case p < 98:
		what = r.loadStep(i, r.genLoad(i, tb, umUpsert, 200+r.rng.IntN(800), r.anyKey, nil))
	default:
		what = r.wideStep(i, tb)
	}
	r.record(i, what)
	r.check(i, what, i%10 == 0 || r.restarted)
	r.restarted = false
	r.observeTablets(i)
}

// rowCount is the size of an ordinary load: mostly a few rows, sometimes
// enough to repeat many keys.
func (r *umRun) rowCount() int {
	if r.rng.IntN(5) == 0 {
		return 20 + r.rng.IntN(100)
	}
	return 1 + r.rng.IntN(12)
}

// anyKey draws a key: mostly from the small key space, and once a wide
// load has been made, sometimes from the wide one.
func (r *umRun) anyKey() int64 {
	if r.wide && r.rng.IntN(20) == 0 {
		return r.wideKey()
	}
	return int64(r.rng.IntN(umKeys))
}

func (r *umRun) wideKey() int64 { return umWideFirst + int64(r.rng.IntN(umWideKeys)) }

// wideStep loads many rows over the wide key space, so that tablets hold
// segments of several pages, which lookups, partial updates and
// compactions then cross.
func (r *umRun) wideStep(step int, tb *umTable) string {
	r.wide = true
	kind := []umKind{umUpsert, umUpsert, umSigns, umMerge, umPartial}[r.rng.IntN(5)]
	return r.loadStep(step, r.genLoad(step, tb, kind, umWideKeys/3+r.rng.IntN(umWideKeys/2), r.wideKey, nil))
}

// genRow draws values: small ranges so that conditions match some rows,
// NULLs and empty strings among them. Sequence values of the sequence
// table are drawn around the clock, so that they arrive out of order.
func (r *umRun) genRow(tb *umTable) umRow {
	var row umRow
	if r.rng.IntN(10) > 0 {
		row.a = sql.NullInt64{Int64: int64(r.rng.IntN(1000)), Valid: true}
	}
	switch p := r.rng.IntN(10); {
	case p == 0:
	case p == 1:
		row.b = sql.NullString{Valid: true}
	default:
		row.b = sql.NullString{String: fmt.Sprintf("v%d", r.rng.IntN(20)), Valid: true}
	}
	switch {
	case tb.seq && r.rng.IntN(20) > 0:
		row.seq = sql.NullInt64{Int64: r.clock - 40 + int64(r.rng.IntN(50)), Valid: true}
	case !tb.seq && r.rng.IntN(10) > 0:
		row.seq = sql.NullInt64{Int64: int64(r.rng.IntN(100)), Valid: true}
	}
	return row
}

// Kinds of generated stream loads.
type umKind int

const (
	umUpsert      umKind = iota // whole rows
	umSigns                     // whole rows, some with the delete sign set
	umDeleteLoad                // merge_type: DELETE
	umMerge                     // merge_type: MERGE with a delete condition
	umPartial                   // partial_columns
	umPartialSome               // partial_columns, never every column
)

// genLoad generates a stream load of a kind with n rows into tb, keys
// drawn by key and, if seqs is not nil, sequence values by seqs.
func (r *umRun) genLoad(step int, tb *umTable, kind umKind, n int, key func() int64, seqs func() sql.NullInt64) *umLoad {
	r.labels++
	l := &umLoad{table: tb, label: fmt.Sprintf("um_%d_%d", step, r.labels), w: umWrite{cols: umAllCols}}
	l.headers = []string{"label: " + l.label}
	for range n {
		c := umChange{id: key(), row: r.genRow(tb)}
		if seqs != nil {
			c.row.seq = seqs()
		}
		l.w.changes = append(l.w.changes, c)
	}
	asJSON := false
	order := []int{0, 1, 2} // value columns in the body, by index into umColNames
	sign := false
	switch kind {
	case umUpsert:
		asJSON = r.rng.IntN(4) == 0
		l.what = "upsert"
	case umSigns:
		for i := range l.w.changes {
			l.w.changes[i].del = r.rng.IntN(5) < 2
		}
		asJSON = r.rng.IntN(3) == 0
		sign = true
		l.what = "upsert/delete by sign"
	case umDeleteLoad:
		for i := range l.w.changes {
			l.w.changes[i].del = true
		}
		l.headers = append(l.headers, "merge_type: DELETE")
		l.what = "merge_type DELETE"
	case umMerge:
		cond, match := r.genCondition()
		for i := range l.w.changes {
			l.w.changes[i].del = match(l.w.changes[i].row)
		}
		l.headers = append(l.headers, "merge_type: MERGE", "delete: "+cond)
		l.what = "merge_type MERGE, delete: " + cond
	case umPartial, umPartialSome:
		if kind == umPartial {
			l.w.cols = umCols(1 + r.rng.IntN(int(umAllCols)))
		} else {
			l.w.cols = umCols(1 + r.rng.IntN(int(umAllCols)-1))
		}
		order = order[:0]
		for i := range umColNames {
			if l.w.cols&(1<<i) != 0 {
				order = append(order, i)
			}
		}
		if r.rng.IntN(3) == 0 {
			l.headers = append(l.headers, "unique_key_update_mode: UPDATE_FIXED_COLUMNS")
		} else {
			l.headers = append(l.headers, "partial_columns: true")
		}
		l.what = "partial update of " + umColsText(l.w.cols)
	}
	r.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	var b bytes.Buffer
	if asJSON {
		l.headers = append(l.headers, "format: json", "read_json_by_line: true")
		if sign {
			l.headers = append(l.headers, "hidden_columns: __DORIS_DELETE_SIGN__")
		}
		for _, c := range l.w.changes {
			fmt.Fprintf(&b, `{"id":%d,"a":%s,"b":%s,"seq":%s`, c.id, umJSONInt(c.row.a), umJSONStr(c.row.b), umJSONInt(c.row.seq))
			if sign {
				fmt.Fprintf(&b, `,"__DORIS_DELETE_SIGN__":%d`, umSign(c.del))
			}
			b.WriteString("}\n")
		}
		l.what += ", json"
	} else {
		l.headers = append(l.headers, "column_separator: ,")
		cols := []string{"id"}
		for _, i := range order {
			cols = append(cols, umColNames[i])
		}
		if sign {
			cols = append(cols, "__DORIS_DELETE_SIGN__")
		}
		// Without a columns header the body holds every column in order.
		if sign || l.w.cols != umAllCols || !slices.Equal(order, []int{0, 1, 2}) || r.rng.IntN(2) == 0 {
			l.headers = append(l.headers, "columns: "+strings.Join(cols, ","))
		}
		for _, c := range l.w.changes {
			fmt.Fprintf(&b, "%d", c.id)
			for _, i := range order {
				b.WriteByte(',')
				switch i {
				case 0:
					b.WriteString(umCSVInt(c.row.a))
				case 1:
					b.WriteString(umCSVStr(c.row.b))
				case 2:
					b.WriteString(umCSVInt(c.row.seq))
				}
			}
			if sign {
				fmt.Fprintf(&b, ",%d", umSign(c.del))
			}
			b.WriteByte('\n')
		}
	}
	l.body = b.Bytes()
	l.what = fmt.Sprintf("load %s into %s (%s), %d rows", l.label, tb.name, l.what, n)
	return l
}

// genCondition returns a MERGE delete condition and its meaning.
func (r *umRun) genCondition() (string, func(umRow) bool) {
	switch r.rng.IntN(3) {
	case 0:
		n := int64(r.rng.IntN(600))
		return fmt.Sprintf("a < %d", n), func(row umRow) bool { return row.a.Valid && row.a.Int64 < n }
	case 1:
		v := fmt.Sprintf("v%d", r.rng.IntN(20))
		return fmt.Sprintf("b = '%s'", v), func(row umRow) bool { return row.b.Valid && row.b.String == v }
	}
	n := int64(r.rng.IntN(300))
	return fmt.Sprintf("a IS NULL OR a > %d", 1000-n), func(row umRow) bool { return !row.a.Valid || row.a.Int64 > 1000-n }
}

// loadStep runs one load and applies it.
func (r *umRun) loadStep(step int, l *umLoad) string {
	rep, err := r.streamLoad(l)
	if err != nil {
		r.fatalf(step, "%s: %v", l.what, err)
	}
	r.requireLoaded(step, l, rep)
	l.table.apply(l.w, step, l.what)
	return l.what
}

func (r *umRun) requireLoaded(step int, l *umLoad, rep map[string]any) {
	if rep["Status"] != "Success" {
		r.fatalf(step, "%s: status %v, want Success\nreply: %v\nheaders: %q\nbody:\n%s", l.what, rep["Status"], rep, l.headers, umClip(l.body))
	}
	if got, ok := rep["NumberLoadedRows"].(json.Number); !ok || got.String() != strconv.Itoa(len(l.w.changes)) {
		r.fatalf(step, "%s: NumberLoadedRows %v, want %d\nreply: %v", l.what, rep["NumberLoadedRows"], len(l.w.changes), rep)
	}
	r.stats.loads++
}

// streamLoad sends a load to the BE HTTP port as the Flink connector
// does, and decodes the reply. It may run on any goroutine.
func (r *umRun) streamLoad(l *umLoad) (map[string]any, error) {
	var body io.Reader = bytes.NewReader(l.body)
	if l.slow {
		body = &umSlowReader{b: l.body}
	}
	req, err := http.NewRequest(http.MethodPut, fmt.Sprintf("http://127.0.0.1:%d/api/%s/%s/_stream_load", r.s.BEHTTP, umDB, l.table.name), body)
	if err != nil {
		return nil, err
	}
	if l.slow && len(l.body)%2 == 0 {
		req.ContentLength = int64(len(l.body)) // else chunked
	}
	req.SetBasicAuth("root", "")
	req.Header.Set("Expect", "100-continue")
	for _, h := range l.headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Add(name, strings.TrimSpace(value))
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decoding reply %q: %w", b, err)
	}
	return m, nil
}

// loadState asks the FE for the state of a label (get_load_state).
func (r *umRun) loadState(label string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/api/%s/get_load_state?label=%s", r.s.HTTP, umDB, label), nil)
	if err != nil {
		return "", err
	}
	req.SetBasicAuth("root", "")
	resp, err := r.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var rep struct {
		Code int    `json:"code"`
		Data string `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return "", err
	}
	if rep.Code != 0 {
		return "", fmt.Errorf("get_load_state?label=%s: code %d, %s", label, rep.Code, rep.Data)
	}
	return rep.Data, nil
}

// newKeyErrorStep runs a partial update with
// partial_update_new_key_behavior ERROR, mostly of live keys: it fails,
// changing nothing, if one of its keys has no live row.
func (r *umRun) newKeyErrorStep(step int, tb *umTable) string {
	live := tb.liveIDs()
	n := 1 + r.rng.IntN(10)
	bad := -1 // the row given a key without a live row
	if len(live) == 0 || r.rng.IntN(2) == 0 {
		bad = r.rng.IntN(n)
	}
	i := 0
	key := func() int64 {
		i++
		if i-1 == bad || len(live) == 0 {
			return r.deadKey(tb)
		}
		return live[r.rng.IntN(len(live))]
	}
	l := r.genLoad(step, tb, umPartialSome, n, key, nil)
	l.headers = append(l.headers, "partial_update_new_key_behavior: ERROR")
	l.what += ", partial_update_new_key_behavior ERROR"
	newKey := int64(-1)
	for _, c := range l.w.changes {
		if e, ok := tb.rows[c.id]; !ok || e.deleted {
			newKey = c.id
			break
		}
	}
	if newKey < 0 {
		return r.loadStep(step, l)
	}
	rep, err := r.streamLoad(l)
	if err != nil {
		r.fatalf(step, "%s: %v", l.what, err)
	}
	const msg = "Can't append new rows in partial update when partial_update_new_key_behavior is ERROR"
	if rep["Status"] != "Fail" || !strings.Contains(fmt.Sprint(rep["Message"]), msg) {
		r.fatalf(step, "%s: key %d has no live row; want status Fail with %q, got reply %v\nbody:\n%s", l.what, newKey, msg, rep, umClip(l.body))
	}
	r.stats.refused++
	return l.what + " (refused: new key)"
}

// deadKey returns a key without a live row: absent, or deleted.
func (r *umRun) deadKey(tb *umTable) int64 {
	for {
		id := r.anyKey()
		if e, ok := tb.rows[id]; !ok || e.deleted {
			return id
		}
		if r.rng.IntN(8) == 0 {
			id = r.wideKey()
			if e, ok := tb.rows[id]; !ok || e.deleted {
				return id
			}
		}
	}
}

// mysql runs SQL and fails the run on error.
func (r *umRun) mysql(step int, q string) string {
	r.t.Helper()
	out, err := r.s.MySQL(q)
	if err != nil {
		r.fatalf(step, "%s: %v", q, err)
	}
	return out
}

// pickIDs draws n keys, mostly of live rows.
func (r *umRun) pickIDs(tb *umTable, n int) []int64 {
	live := tb.liveIDs()
	var ids []int64
	for range n {
		if len(live) > 0 && r.rng.IntN(4) > 0 {
			ids = append(ids, live[r.rng.IntN(len(live))])
		} else {
			ids = append(ids, r.anyKey())
		}
	}
	return ids
}

// deleteStep runs DELETE FROM ... WHERE with a random condition. It
// writes the matching live rows back with the delete sign, so in the
// sequence table each delete holds the row's sequence value.
func (r *umRun) deleteStep(step int, tb *umTable) string {
	where, match := r.genWhere(tb)
	q := fmt.Sprintf("DELETE FROM %s.%s WHERE %s", umDB, tb.name, where)
	r.mysql(step, q)
	w := umWrite{cols: umAllCols}
	for _, id := range tb.liveIDs() {
		if row := tb.rows[id].row; match(id, row) {
			w.changes = append(w.changes, umChange{id: id, row: row, del: true})
		}
	}
	tb.apply(w, step, q)
	r.stats.statements++
	return q
}

// genWhere returns a WHERE condition over the rows and its meaning.
func (r *umRun) genWhere(tb *umTable) (string, func(int64, umRow) bool) {
	switch r.rng.IntN(4) {
	case 0:
		ids := r.pickIDs(tb, 1+r.rng.IntN(6))
		return "id IN (" + umJoinIDs(ids) + ")", func(id int64, _ umRow) bool { return slices.Contains(ids, id) }
	case 1:
		lo := int64(r.rng.IntN(umKeys))
		hi := lo + int64(r.rng.IntN(15))
		return fmt.Sprintf("id BETWEEN %d AND %d", lo, hi), func(id int64, _ umRow) bool { return id >= lo && id <= hi }
	case 2:
		n := int64(r.rng.IntN(60))
		return fmt.Sprintf("a < %d", n), func(_ int64, row umRow) bool { return row.a.Valid && row.a.Int64 < n }
	}
	v := fmt.Sprintf("v%d", r.rng.IntN(20))
	x := int64(r.rng.IntN(umKeys))
	return fmt.Sprintf("b = '%s' AND id >= %d", v, x), func(id int64, row umRow) bool {
		return row.b.Valid && row.b.String == v && id >= x
	}
}

// updateStep runs UPDATE ... SET ... WHERE: the matching live rows are
// written back with new values. In the sequence table an UPDATE that
// lowers seq loses to the row it would replace.
func (r *umRun) updateStep(step int, tb *umTable) string {
	where, match := r.genWhere(tb)
	var set string
	var f func(umRow) umRow
	switch p := r.rng.IntN(3); {
	case p == 0:
		set = "a = a + 1"
		f = func(row umRow) umRow {
			if row.a.Valid {
				row.a.Int64++
			}
			return row
		}
	case p == 1:
		v := fmt.Sprintf("u%d", r.rng.IntN(100))
		set = fmt.Sprintf("b = '%s', a = NULL", v)
		f = func(row umRow) umRow {
			row.b = sql.NullString{String: v, Valid: true}
			row.a = sql.NullInt64{}
			return row
		}
	default:
		k := int64(r.rng.IntN(7)) - 3
		n := int64(r.rng.IntN(1000))
		set = fmt.Sprintf("seq = seq + %d, a = %d", k, n)
		f = func(row umRow) umRow {
			if row.seq.Valid {
				row.seq.Int64 += k
			}
			row.a = sql.NullInt64{Int64: n, Valid: true}
			return row
		}
	}
	q := fmt.Sprintf("UPDATE %s.%s SET %s WHERE %s", umDB, tb.name, set, where)
	r.mysql(step, q)
	w := umWrite{cols: umAllCols}
	for _, id := range tb.liveIDs() {
		if row := tb.rows[id].row; match(id, row) {
			w.changes = append(w.changes, umChange{id: id, row: f(row)})
		}
	}
	tb.apply(w, step, q)
	r.stats.statements++
	return q
}

// insertStep runs INSERT ... VALUES: whole rows (keys may repeat), rows
// with the delete sign named, a column list whose other columns take
// their defaults, or a partial update (enable_unique_key_partial_update).
func (r *umRun) insertStep(step int, tb *umTable) string {
	n := 1 + r.rng.IntN(6)
	w := umWrite{cols: umAllCols}
	for range n {
		w.changes = append(w.changes, umChange{id: r.pickIDs(tb, 1)[0], row: r.genRow(tb)})
	}
	var vals []string
	var q string
	switch p := r.rng.IntN(4); {
	case p == 0:
		for _, c := range w.changes {
			vals = append(vals, fmt.Sprintf("(%d, %s, %s, %s)", c.id, umSQLInt(c.row.a), umSQLStr(c.row.b), umSQLInt(c.row.seq)))
		}
		q = fmt.Sprintf("INSERT INTO %s.%s VALUES %s", umDB, tb.name, strings.Join(vals, ", "))
	case p == 1:
		for i := range w.changes {
			c := &w.changes[i]
			c.del = r.rng.IntN(3) == 0
			vals = append(vals, fmt.Sprintf("(%d, %s, %s, %s, %d)", c.id, umSQLInt(c.row.a), umSQLStr(c.row.b), umSQLInt(c.row.seq), umSign(c.del)))
		}
		q = fmt.Sprintf("INSERT INTO %s.%s (id, a, b, seq, __DORIS_DELETE_SIGN__) VALUES %s", umDB, tb.name, strings.Join(vals, ", "))
	case p == 2:
		// Not a partial update: b and seq take their defaults.
		for i := range w.changes {
			c := &w.changes[i]
			c.row.b = sql.NullString{String: "d", Valid: true}
			c.row.seq = sql.NullInt64{}
			vals = append(vals, fmt.Sprintf("(%d, %s)", c.id, umSQLInt(c.row.a)))
		}
		q = fmt.Sprintf("INSERT INTO %s.%s (id, a) VALUES %s", umDB, tb.name, strings.Join(vals, ", "))
	default:
		w.cols = umColA
		list := "id, a"
		if r.rng.IntN(2) == 0 {
			w.cols |= umColSeq
			list += ", seq"
		}
		for _, c := range w.changes {
			if w.cols&umColSeq != 0 {
				vals = append(vals, fmt.Sprintf("(%d, %s, %s)", c.id, umSQLInt(c.row.a), umSQLInt(c.row.seq)))
			} else {
				vals = append(vals, fmt.Sprintf("(%d, %s)", c.id, umSQLInt(c.row.a)))
			}
		}
		q = fmt.Sprintf("SET enable_unique_key_partial_update = true; INSERT INTO %s.%s (%s) VALUES %s", umDB, tb.name, list, strings.Join(vals, ", "))
	}
	r.mysql(step, q)
	tb.apply(w, step, q)
	r.stats.statements++
	return q
}

// concurrentStep runs several loads at once, into both tables, while a
// reader checks that no key shows twice. The outcome does not depend on
// the order the loads publish in: each load has keys of its own, or, in
// the sequence table, whole rows with sequence values no other row of the
// step has.
// startLoads sends loads at once; wait returns their replies and errors
// once all have ended.
func (r *umRun) startLoads(loads []*umLoad) (wait func() ([]map[string]any, []error)) {
	replies := make([]map[string]any, len(loads))
	errs := make([]error, len(loads))
	var wg sync.WaitGroup
	for i, l := range loads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i], errs[i] = r.streamLoad(l)
		}()
	}
	return func() ([]map[string]any, []error) {
		wg.Wait()
		return replies, errs
	}
}

func (r *umRun) concurrentStep(step int) string {
	loads := r.genConcurrent(step)
	stop := make(chan struct{})
	readerErr := make(chan error, 1)
	go func() { readerErr <- r.readDuringLoads(stop) }()
	replies, errs := r.startLoads(loads)()
	close(stop)
	var what []string
	for i, l := range loads {
		if errs[i] != nil {
			r.fatalf(step, "%s: %v", l.what, errs[i])
		}
		r.requireLoaded(step, l, replies[i])
		l.table.apply(l.w, step, l.what)
		what = append(what, l.what)
	}
	if err := <-readerErr; err != nil {
		r.fatalf(step, "a query during concurrent loads: %v", err)
	}
	r.stats.concurrent++
	return fmt.Sprintf("%d concurrent loads: %s", len(loads), strings.Join(what, "; "))
}

// genConcurrent generates 2 to 5 loads whose outcome does not depend on
// the order they publish in.
func (r *umRun) genConcurrent(step int) []*umLoad {
	n := 2 + r.rng.IntN(4)
	var loads []*umLoad
	if r.rng.IntN(2) == 0 {
		// Keys of their own, any kind, into either table.
		perm := r.rng.Perm(umKeys)
		per := umKeys / n
		for i := range n {
			mine := perm[i*per : (i+1)*per]
			key := func() int64 { return int64(mine[r.rng.IntN(len(mine))]) }
			kind := umKind(r.rng.IntN(5))
			loads = append(loads, r.genLoad(step, r.tables[r.rng.IntN(2)], kind, r.rowCount(), key, nil))
		}
		return loads
	}
	// The sequence table: shared keys, whole rows, distinct sequence values.
	total := 0
	sizes := make([]int, n)
	for i := range sizes {
		sizes[i] = r.rowCount()
		total += sizes[i]
	}
	seqs := r.rng.Perm(total + 40)
	next := 0
	seq := func() sql.NullInt64 {
		next++
		return sql.NullInt64{Int64: r.clock - 40 + int64(seqs[next-1]), Valid: true}
	}
	for i := range n {
		kind := []umKind{umUpsert, umSigns, umDeleteLoad, umMerge}[r.rng.IntN(4)]
		loads = append(loads, r.genLoad(step, r.tables[1], kind, sizes[i], r.anyKey, seq))
	}
	return loads
}

// readDuringLoads queries both tables until stop is closed: a key is never
// seen twice, whatever is being published.
func (r *umRun) readDuringLoads(stop <-chan struct{}) error {
	q := fmt.Sprintf("SELECT count(*) - count(DISTINCT id) FROM %s.plain; SELECT count(*) - count(DISTINCT id) FROM %s.useq", umDB, umDB)
	for {
		out, err := r.s.MySQL(q)
		if err != nil {
			return err
		}
		if out != "0\n0\n" {
			return fmt.Errorf("%s: %q, want no duplicate keys", q, out)
		}
		select {
		case <-stop:
			return nil
		default:
		}
	}
}

// burstStep runs many small loads one after the other, enough for the
// server to compact the tablets they touch, watching the rowset counts.
func (r *umRun) burstStep(step int, tb *umTable) string {
	n := 8 + r.rng.IntN(12)
	for range n {
		kind := []umKind{umUpsert, umUpsert, umSigns, umPartial}[r.rng.IntN(4)]
		l := r.genLoad(step, tb, kind, 1+r.rng.IntN(4), r.anyKey, nil)
		r.loadStep(step, l)
		r.observeTablets(step)
	}
	r.stats.bursts++
	return fmt.Sprintf("burst of %d small loads into %s", n, tb.name)
}

// killStep starts loads, kills the server with SIGKILL while they may be
// in flight, restarts it, and applies the loads the server made visible
// (a load whose reply did not arrive is resolved by its label's state).
func (r *umRun) killStep(step int) string {
	var loads []*umLoad
	if r.rng.IntN(2) == 0 {
		tb := r.tables[r.rng.IntN(2)]
		n := r.rowCount()
		if r.rng.IntN(2) == 0 {
			n = 500 + r.rng.IntN(3000)
		}
		loads = append(loads, r.genLoad(step, tb, umKind(r.rng.IntN(5)), n, r.anyKey, nil))
	} else {
		loads = r.genConcurrent(step)
	}
	// Either the bodies trickle in and the kill lands while they are
	// read, or they are sent at once and it lands anywhere from the
	// first byte to the publish.
	slow := r.rng.IntN(2) == 0
	delay := time.Duration(r.rng.IntN(15_000)) * time.Microsecond
	if slow {
		delay = time.Duration(r.rng.IntN(300)) * time.Millisecond
		for _, l := range loads {
			l.slow = true
		}
	}
	wait := r.startLoads(loads)
	time.Sleep(delay)
	r.s.Kill9()
	replies, errs := wait()
	r.checkServerLog(step)
	r.s.Restart()
	r.restarted = true
	r.tablets.reset()
	var what []string
	for i, l := range loads {
		outcome := "reply " + fmt.Sprint(errs[i])
		applied := false
		if errs[i] == nil && replies[i]["Status"] == "Success" {
			applied, outcome = true, "acknowledged"
		} else {
			if errs[i] == nil {
				outcome = fmt.Sprintf("reply %v", replies[i])
			}
			state := r.awaitFinalState(step, l.label)
			applied = state == "VISIBLE"
			outcome += ", then " + state
			r.stats.inFlight++
			if applied {
				r.stats.inFlightVisible++
			}
		}
		if applied {
			l.table.apply(l.w, step, l.what+" (before kill -9)")
		}
		what = append(what, fmt.Sprintf("%s [%s]", l.what, outcome))
	}
	r.stats.kills++
	return fmt.Sprintf("kill -9 after %s with %d loads started (slow bodies: %t): %s", delay, len(loads), slow, strings.Join(what, "; "))
}

// awaitFinalState waits until a label's transaction is VISIBLE, ABORTED
// or unknown: after a restart a committed one is published, and a
// prepared one of the dead process aborted.
func (r *umRun) awaitFinalState(step int, label string) string {
	deadline := time.Now().Add(60 * time.Second)
	for {
		state, err := r.loadState(label)
		if err != nil {
			r.fatalf(step, "state of load %s after restart: %v", label, err)
		}
		switch state {
		case "VISIBLE", "ABORTED", "UNKNOWN":
			return state
		}
		if time.Now().After(deadline) {
			r.fatalf(step, "load %s is still %s 60s after the restart", label, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// check compares both tables with the model, in one mysql run: the rows
// (listed without ORDER BY, which would cost more than everything else
// on a big table, and sorted here), count(*) against count(DISTINCT id),
// sums, a few point lookups and a filtered count. Once there are wide
// keys, their rows are listed whole and counted distinct only when all is
// set (every tenth step, after restarts, at the end); other steps list
// one slice of them (id % 97) and compare sums over all of them.
func (r *umRun) check(step int, what string, all bool) {
	r.t.Helper()
	type query struct {
		tb    *umTable
		sql   string
		want  string
		scope func(id int64) bool // a listing of these keys, diffed key by key; nil: another query
	}
	all = all || !r.wide
	slice := int64(r.rng.IntN(97))
	scope := func(id int64) bool { return all || id < umWideFirst || id%97 == slice }
	listWhere, distinctWhere := "", ""
	if !all {
		listWhere = fmt.Sprintf(" WHERE id < %d OR id %% 97 = %d", umWideFirst, slice)
		distinctWhere = fmt.Sprintf(" WHERE id < %d", umWideFirst)
	}
	var qs []query
	for _, tb := range r.tables {
		var listed, point strings.Builder
		var distinct, n, sumA, sumSeq, filtered int64
		probe := r.pickIDs(tb, 4)
		slices.Sort(probe)
		probe = slices.Compact(probe)
		minA := int64(r.rng.IntN(1000))
		for _, id := range tb.liveIDs() {
			row := tb.rows[id].row
			if scope(id) {
				listed.WriteString(umRowText(id, row) + "\n")
			}
			if all || id < umWideFirst {
				distinct++
			}
			n++
			sumA += row.a.Int64 // 0 when NULL
			sumSeq += row.seq.Int64
			if row.a.Valid && row.a.Int64 >= minA {
				filtered++
			}
			if slices.Contains(probe, id) {
				point.WriteString(umRowText(id, row) + "\n")
			}
		}
		name := umDB + "." + tb.name
		qs = append(qs,
			query{tb, fmt.Sprintf("SELECT id, a, b, seq FROM %s%s", name, listWhere), listed.String(), scope},
			query{tb, fmt.Sprintf("SELECT count(*), count(DISTINCT id) FROM %s%s", name, distinctWhere), fmt.Sprintf("%d\t%d\n", distinct, distinct), nil},
			query{tb, fmt.Sprintf("SELECT count(*), ifnull(sum(a), 0), ifnull(sum(seq), 0) FROM %s", name), fmt.Sprintf("%d\t%d\t%d\n", n, sumA, sumSeq), nil},
			query{tb, fmt.Sprintf("SELECT id, a, b, seq FROM %s WHERE id IN (%s) ORDER BY id", name, umJoinIDs(probe)), point.String(), nil},
			query{tb, fmt.Sprintf("SELECT count(*) FROM %s WHERE a >= %d", name, minA), fmt.Sprintf("%d\n", filtered), nil},
		)
	}
	var q strings.Builder
	for _, x := range qs {
		q.WriteString(x.sql + "; SELECT '#';\n")
	}
	out := r.mysql(step, q.String())
	parts := strings.Split(out, "#\n")
	if len(parts) != len(qs)+1 {
		r.fatalf(step, "after %s: %d results, want %d:\n%s", what, len(parts)-1, len(qs), out)
	}
	var bad []string
	for i, x := range qs {
		got := parts[i]
		if x.scope != nil {
			got = umSortRows(got)
		}
		if got == x.want {
			continue
		}
		if x.scope != nil {
			bad = append(bad, fmt.Sprintf("%s differs from the model:\n%s", x.sql, r.diff(x.tb, got, x.scope)))
			continue
		}
		bad = append(bad, fmt.Sprintf("%s:\n  got:\n%s  want:\n%s", x.sql, umIndent(got), umIndent(x.want)))
	}
	if len(bad) > 0 {
		r.fatalf(step, "after %s:\n%s", what, strings.Join(bad, "\n"))
	}
}

// umSortRows sorts mysql --batch rows by their first field, a number
// (rows that do not start with one go last, as they are).
func umSortRows(out string) string {
	rows := lines(out)
	key := func(row string) int64 {
		f, _, _ := strings.Cut(row, "\t")
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 1<<63 - 1
		}
		return id
	}
	slices.SortStableFunc(rows, func(x, y string) int {
		kx, ky := key(x), key(y)
		switch {
		case kx < ky:
			return -1
		case kx > ky:
			return 1
		}
		return 0
	})
	if len(rows) == 0 {
		return ""
	}
	return strings.Join(rows, "\n") + "\n"
}

// diff describes, key by key, how a table's rows differ from the model,
// with the model's history of each differing key.
func (r *umRun) diff(tb *umTable, out string, scope func(int64) bool) string {
	got := map[int64][]string{}
	var keys []int64
	for _, line := range lines(out) {
		f := strings.SplitN(line, "\t", 2)
		id, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return fmt.Sprintf("unparsable row %q in:\n%s", line, out)
		}
		if got[id] == nil {
			keys = append(keys, id)
		}
		got[id] = append(got[id], line)
	}
	for _, id := range tb.liveIDs() {
		if got[id] == nil && scope(id) {
			keys = append(keys, id)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	shown := 0
	for _, id := range keys {
		e, ok := tb.rows[id]
		want := ""
		switch {
		case ok && !e.deleted:
			want = umRowText(id, e.row)
		case ok:
			want = "deleted (seq " + umOut(e.row.seq) + ")"
		default:
			want = "absent"
		}
		var line string
		switch g := got[id]; {
		case len(g) > 1:
			line = fmt.Sprintf("key %d: %d rows %q, want %s", id, len(g), g, want)
		case len(g) == 0:
			line = fmt.Sprintf("key %d: missing, want %q", id, want)
		case ok && !e.deleted && g[0] == want:
			continue
		default:
			line = fmt.Sprintf("key %d: got %q, want %q", id, g[0], want)
		}
		if shown++; shown > 20 {
			b.WriteString("  ...\n")
			break
		}
		fmt.Fprintf(&b, "  %s\n", line)
		for _, h := range tb.history[id] {
			fmt.Fprintf(&b, "      %s\n", h)
		}
	}
	return b.String()
}

// umTabletWatch follows the rowset count (VersionCount) of every tablet:
// only a compaction lowers it.
type umTabletWatch struct {
	last       map[string]int
	drops      int
	maxRowsets int
	maxRows    int // the most rows a tablet held (RowCount, replaced rows included)
}

// reset forgets the counts (after a restart).
func (w *umTabletWatch) reset() { clear(w.last) }

// observeTablets reads SHOW TABLETS of both tables and counts the tablets
// whose rowset count fell since the last look.
func (r *umRun) observeTablets(step int) {
	out, err := r.s.MySQL(fmt.Sprintf("SHOW TABLETS FROM %s.plain; SHOW TABLETS FROM %s.useq", umDB, umDB), "--column-names")
	if err != nil {
		r.fatalf(step, "SHOW TABLETS: %v", err)
	}
	col, rowsCol := -1, -1
	for _, line := range lines(out) {
		f := strings.Split(line, "\t")
		if f[0] == "TabletId" {
			col, rowsCol = slices.Index(f, "VersionCount"), slices.Index(f, "RowCount")
			continue
		}
		if col < 0 || col >= len(f) || rowsCol < 0 || rowsCol >= len(f) {
			r.fatalf(step, "SHOW TABLETS has no VersionCount or RowCount column:\n%s", out)
		}
		n, err := strconv.Atoi(f[col])
		if err != nil {
			r.fatalf(step, "SHOW TABLETS: VersionCount %q: %v", f[col], err)
		}
		rows, err := strconv.Atoi(f[rowsCol])
		if err != nil {
			r.fatalf(step, "SHOW TABLETS: RowCount %q: %v", f[rowsCol], err)
		}
		if prev, ok := r.tablets.last[f[0]]; ok && n < prev {
			r.tablets.drops++
		}
		r.tablets.last[f[0]] = n
		r.tablets.maxRowsets = max(r.tablets.maxRowsets, n)
		r.tablets.maxRows = max(r.tablets.maxRows, rows)
	}
}

// requireCompaction makes sure the run saw a compaction: if none was seen
// yet it runs bursts of small loads until one is, checking the tables
// after each, for up to a minute.
func (r *umRun) requireCompaction(step int) {
	deadline := time.Now().Add(time.Minute)
	for r.tablets.drops == 0 {
		if time.Now().After(deadline) {
			r.fatalf(step, "no tablet's rowset count ever fell: no compaction in the whole run (at most %d rowsets in a tablet)", r.tablets.maxRowsets)
		}
		what := r.burstStep(step, r.tables[r.rng.IntN(2)])
		r.record(step, what)
		r.check(step, what, false)
		time.Sleep(200 * time.Millisecond)
		r.observeTablets(step)
		step++
	}
}

// checkServerLog fails the run if the server process (race-enabled in
// the race build) reported a data race or a panic.
func (r *umRun) checkServerLog(step int) {
	logs := r.s.logs.String()
	for _, bad := range []string{"WARNING: DATA RACE", "panic:"} {
		if i := strings.Index(logs, bad); i >= 0 {
			r.fatalf(step, "the server reported %q:\n%s", bad, logs[i:min(len(logs), i+8000)])
		}
	}
}

// Formatting.

func umOut(v sql.NullInt64) string {
	if !v.Valid {
		return "NULL"
	}
	return strconv.FormatInt(v.Int64, 10)
}

// umRowText is a row as mysql --batch prints it.
func umRowText(id int64, row umRow) string {
	b := "NULL"
	if row.b.Valid {
		b = row.b.String
	}
	return fmt.Sprintf("%d\t%s\t%s\t%s", id, umOut(row.a), b, umOut(row.seq))
}

func umChangeText(c umChange, cols umCols) string {
	var parts []string
	if cols&umColA != 0 {
		parts = append(parts, "a="+umOut(c.row.a))
	}
	if cols&umColB != 0 {
		parts = append(parts, "b="+umSQLStr(c.row.b))
	}
	if cols&umColSeq != 0 {
		parts = append(parts, "seq="+umOut(c.row.seq))
	}
	return fmt.Sprintf("id=%d %s", c.id, strings.Join(parts, " "))
}

func umColsText(cols umCols) string {
	var names []string
	for i, n := range umColNames {
		if cols&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

func umCSVInt(v sql.NullInt64) string {
	if !v.Valid {
		return `\N`
	}
	return strconv.FormatInt(v.Int64, 10)
}

func umCSVStr(v sql.NullString) string {
	if !v.Valid {
		return `\N`
	}
	return v.String
}

func umJSONInt(v sql.NullInt64) string {
	if !v.Valid {
		return "null"
	}
	return strconv.FormatInt(v.Int64, 10)
}

func umJSONStr(v sql.NullString) string {
	if !v.Valid {
		return "null"
	}
	return strconv.Quote(v.String)
}

func umSQLInt(v sql.NullInt64) string { return umOut(v) }

func umSQLStr(v sql.NullString) string {
	if !v.Valid {
		return "NULL"
	}
	return "'" + v.String + "'"
}

func umSign(del bool) int {
	if del {
		return 1
	}
	return 0
}

func umJoinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

func umIndent(s string) string {
	if s == "" {
		return "    (no rows)\n"
	}
	return "    " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n    ") + "\n"
}

func umClip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "..."
	}
	return string(b)
}

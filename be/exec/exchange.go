package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/cespare/xxhash/v2"

	"github.com/strata-db/strata/types"
)

// Exchanges move rows between the fragment instances of a query that run
// on different backends (shuffle and bucket-shuffle joins): every
// instance of a producing fragment splits its output into partitions
// ([ExchangeSink]) and streams each partition to the backend of the
// consuming instance that reads it, whose [ExchangeHub] buffers the
// batches until the consuming instance reads them ([ExchangeSource]).
//
//	producer instance 0 ─┬─ partition 0 ──▶ hub of backend A ──▶ consumer 0
//	                     └─ partition 1 ─┐
//	producer instance 1 ─┬─ partition 0 ─┼▶ hub of backend A
//	                     └─ partition 1 ─┴▶ hub of backend B ──▶ consumer 1
//
// Each sender ends each of its partition streams with an end of stream
// (possibly without a batch), or fails it; a consumer reads its partition
// until every sender it expects ended, and fails as soon as one failed.
// Nothing here knows about the transport: the hub is fed by whatever
// receives the streams (an RPC handler, or a test pushing in-process).

// ExchangeKey names one partition of one exchange of a query.
type ExchangeKey struct {
	Query     string
	Exchange  int
	Partition int
}

func (k ExchangeKey) String() string {
	return fmt.Sprintf("exchange %d partition %d of query %s", k.Exchange, k.Partition, k.Query)
}

// Exchange errors, for errors.Is.
var (
	// ErrExchangeClosed: the partition no longer takes rows: its
	// consumer ended, its query was released, or its data expired.
	ErrExchangeClosed = errors.New("exchange closed")
	// ErrExchangeSender: a sender of the partition failed or went away.
	// A consumer's error wraps it: the sender's own error is the cause.
	ErrExchangeSender = errors.New("exchange sender failed")
	// ErrExchangeTimeout: nothing arrived from the senders for too long.
	ErrExchangeTimeout = errors.New("exchange timed out")
)

// Exchange hub defaults.
const (
	// DefaultExchangeTTL is how long a hub keeps rows nobody claimed and
	// remembers ended partitions and queries (so that late rows of a
	// query that already ended are refused rather than kept). It is the
	// same order as a fragment's upload TTL: a consumer starts before its
	// producers, so its rows are normally claimed within milliseconds.
	DefaultExchangeTTL = 5 * time.Minute
	// DefaultExchangeBuffer bounds the bytes one partition buffers before
	// pushes wait for its consumer: a few batches of wide rows.
	DefaultExchangeBuffer = 64 << 20
	// DefaultExchangeTimeout is how long a consumer waits for the next
	// batch or end of stream before it gives up on its senders: a last
	// resort, since the coordinator cancels the query as soon as an
	// instance fails or its backend goes away, so it is long, the order of
	// Doris's query_timeout (a sender may scan long before its first
	// batch of a partition fills).
	DefaultExchangeTimeout = 15 * time.Minute
)

// ExchangeHubOptions configure an [ExchangeHub]; zero values take the
// defaults.
type ExchangeHubOptions struct {
	TTL            time.Duration
	MaxBufferBytes int64
}

// ExchangeHub buffers the batches pushed to the exchange partitions a
// backend's consuming instances read, keyed by [ExchangeKey]. Senders may
// push before the consumer claims its partition (the coordinator starts
// consumers first, but nothing orders their arrival); a partition nobody
// claims within the TTL is dropped. Claimed partitions are dropped when
// their receiver closes, and every partition of a query when the
// coordinator releases it ([ExchangeHub.ReleaseQuery]); rows that arrive
// for a dropped partition or a released query afterwards are refused
// with [ErrExchangeClosed] for another TTL.
//
// The hub is safe for concurrent use.
type ExchangeHub struct {
	// Immutable after construction.
	ttl      time.Duration
	maxBytes int64

	mu      sync.Mutex // protects the following fields
	entries map[ExchangeKey]*exchangeEntry
	// ended are partitions and queries that take no more rows, until the
	// time each maps to.
	ended        map[ExchangeKey]time.Time
	endedQueries map[string]time.Time
	sweep        *time.Timer // pending sweep while anything is held
	swept        time.Time   // when the last sweep ran
}

// exchangeEntry is one partition's buffer. Its fields are guarded by the
// hub's mu.
type exchangeEntry struct {
	queue   [][]arrow.Array
	bytes   int64
	done    map[int]error // senders that ended: nil at end of stream, else their failure
	claimed bool
	touched time.Time
	// wake is closed, and replaced, whenever the entry changes or is
	// dropped: waiting pushers and the receiver select on it.
	wake chan struct{}
}

func (e *exchangeEntry) signal() {
	close(e.wake)
	e.wake = make(chan struct{})
}

func (e *exchangeEntry) release() {
	for _, cols := range e.queue {
		releaseAll(cols)
	}
	e.queue, e.bytes = nil, 0
}

// NewExchangeHub returns an empty hub.
func NewExchangeHub(opts ExchangeHubOptions) *ExchangeHub {
	h := &ExchangeHub{ttl: opts.TTL, maxBytes: opts.MaxBufferBytes,
		entries: map[ExchangeKey]*exchangeEntry{}, ended: map[ExchangeKey]time.Time{}, endedQueries: map[string]time.Time{}}
	if h.ttl <= 0 {
		h.ttl = DefaultExchangeTTL
	}
	if h.maxBytes <= 0 {
		h.maxBytes = DefaultExchangeBuffer
	}
	return h
}

// Entries returns the number of partitions the hub holds (claimed or
// not): zero once every query ended and was released.
func (h *ExchangeHub) Entries() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.entries)
}

// closedLocked returns why key takes no rows, or nil.
func (h *ExchangeHub) closedLocked(key ExchangeKey) error {
	if _, ok := h.endedQueries[key.Query]; ok {
		return fmt.Errorf("%w: %s: the query ended", ErrExchangeClosed, key)
	}
	if _, ok := h.ended[key]; ok {
		return fmt.Errorf("%w: %s: its consumer ended or its rows expired", ErrExchangeClosed, key)
	}
	return nil
}

func (h *ExchangeHub) entryLocked(key ExchangeKey, now time.Time) *exchangeEntry {
	e := h.entries[key]
	if e == nil {
		e = &exchangeEntry{done: map[int]error{}, touched: now, wake: make(chan struct{})}
		h.entries[key] = e
		h.scheduleSweepLocked()
	}
	return e
}

// dropLocked drops key's entry (if it is e) and refuses its rows for a TTL.
func (h *ExchangeHub) dropLocked(key ExchangeKey, e *exchangeEntry, now time.Time) {
	if h.entries[key] == e {
		delete(h.entries, key)
	}
	e.release()
	e.signal()
	h.ended[key] = now.Add(h.ttl)
	h.scheduleSweepLocked()
}

// maybeSweepLocked sweeps if the last sweep is an eighth of a TTL old:
// calls sweep as they go, without walking every entry each time.
func (h *ExchangeHub) maybeSweepLocked(now time.Time) {
	if now.Sub(h.swept) >= h.ttl/8 {
		h.sweepLocked(now)
	}
}

// sweepLocked drops unclaimed partitions untouched for a TTL and forgets
// ended partitions and queries whose time is up.
func (h *ExchangeHub) sweepLocked(now time.Time) {
	h.swept = now
	for k, e := range h.entries {
		if !e.claimed && now.Sub(e.touched) >= h.ttl {
			h.dropLocked(k, e, now)
		}
	}
	for k, until := range h.ended {
		if now.After(until) {
			delete(h.ended, k)
		}
	}
	for q, until := range h.endedQueries {
		if now.After(until) {
			delete(h.endedQueries, q)
		}
	}
}

// scheduleSweepLocked makes sure a sweep runs while the hub holds
// anything, so that data of a query whose coordinator vanished goes away
// even if the hub sees no other call.
func (h *ExchangeHub) scheduleSweepLocked() {
	if h.sweep != nil || len(h.entries)+len(h.ended)+len(h.endedQueries) == 0 {
		return
	}
	h.sweep = time.AfterFunc(h.ttl/2+time.Millisecond, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.sweep = nil
		h.sweepLocked(time.Now())
		h.scheduleSweepLocked()
	})
}

// Push appends a batch (dense columns) to key's partition from sender.
// The hub takes over cols (one reference each), also when Push fails. It
// waits while the partition holds more than its buffer bound, until the
// consumer reads, ctx ends or the partition is dropped.
func (h *ExchangeHub) Push(ctx context.Context, key ExchangeKey, sender int, cols []arrow.Array) error {
	size := arraysSize(cols)
	h.mu.Lock()
	now := time.Now()
	h.maybeSweepLocked(now)
	for {
		if err := h.closedLocked(key); err != nil {
			h.mu.Unlock()
			releaseAll(cols)
			return err
		}
		e := h.entryLocked(key, now)
		if _, ok := e.done[sender]; ok {
			h.mu.Unlock()
			releaseAll(cols)
			return fmt.Errorf("%s: sender %d pushed rows after it ended", key, sender)
		}
		if e.bytes == 0 || e.bytes+size <= h.maxBytes {
			e.queue = append(e.queue, cols)
			e.bytes += size
			e.touched = now
			e.signal()
			h.mu.Unlock()
			return nil
		}
		// Full: wait for the consumer, rechecking now and then whether
		// the entry expired unclaimed.
		wake := e.wake
		h.mu.Unlock()
		t := time.NewTimer(h.ttl / 4)
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			releaseAll(cols)
			return fmt.Errorf("%s: %w", key, ctx.Err())
		}
		t.Stop()
		h.mu.Lock()
		now = time.Now()
		h.maybeSweepLocked(now)
	}
}

// Finish ends sender's stream to key's partition: cause nil is its end of
// stream, another error its failure, which fails the consumer. A Finish
// for a partition or query that ended is ignored, and so is a second
// Finish of one sender.
func (h *ExchangeHub) Finish(key ExchangeKey, sender int, cause error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	h.maybeSweepLocked(now)
	if h.closedLocked(key) != nil {
		return
	}
	e := h.entryLocked(key, now)
	if _, ok := e.done[sender]; ok {
		return
	}
	e.done[sender] = cause
	e.touched = now
	e.signal()
}

// ReleaseQuery drops every partition of query and refuses its rows for a
// TTL. Receivers of the query fail with [ErrExchangeClosed]; waiting
// pushers too.
func (h *ExchangeHub) ReleaseQuery(query string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	for k, e := range h.entries {
		if k.Query == query {
			h.dropLocked(k, e, now)
			delete(h.ended, k)
		}
	}
	h.endedQueries[query] = now.Add(h.ttl)
	h.scheduleSweepLocked()
}

// Receive claims key's partition for its consumer, which expects an end
// of stream from each of senders (named in errors, e.g. "backend 3").
// A partition is claimed once.
func (h *ExchangeHub) Receive(key ExchangeKey, senders []string) (*ExchangeReceiver, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	h.maybeSweepLocked(now)
	if err := h.closedLocked(key); err != nil {
		return nil, err
	}
	e := h.entryLocked(key, now)
	if e.claimed {
		return nil, fmt.Errorf("%s is already being read", key)
	}
	e.claimed = true
	return &ExchangeReceiver{h: h, key: key, e: e, senders: senders}, nil
}

// ExchangeReceiver reads a claimed partition. It is used by one goroutine.
type ExchangeReceiver struct {
	h       *ExchangeHub
	key     ExchangeKey
	e       *exchangeEntry
	senders []string
	closed  bool
}

// Next returns the partition's next batch, which the caller owns, or nil
// once every sender ended. It fails when a sender failed
// ([ErrExchangeSender]), ctx ends, the partition was dropped (its query
// released), or nothing arrived for timeout ([ErrExchangeTimeout]).
func (r *ExchangeReceiver) Next(ctx context.Context, timeout time.Duration) ([]arrow.Array, error) {
	if r.closed {
		return nil, fmt.Errorf("%s: read after close", r.key)
	}
	if timeout <= 0 {
		timeout = DefaultExchangeTimeout
	}
	h, e := r.h, r.e
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		h.mu.Lock()
		if h.entries[r.key] != e {
			err := h.closedLocked(r.key)
			h.mu.Unlock()
			if err == nil {
				err = fmt.Errorf("%w: %s was dropped", ErrExchangeClosed, r.key)
			}
			return nil, err
		}
		if err := r.failedLocked(); err != nil {
			h.mu.Unlock()
			return nil, err
		}
		if len(e.queue) > 0 {
			cols := e.queue[0]
			e.queue[0] = nil
			e.queue = e.queue[1:]
			e.bytes -= arraysSize(cols)
			e.signal() // wake pushers waiting for room
			h.mu.Unlock()
			return cols, nil
		}
		if len(e.done) >= len(r.senders) {
			h.mu.Unlock()
			return nil, nil
		}
		wake := e.wake
		h.mu.Unlock()
		select {
		case <-wake:
			timer.Reset(timeout) // Go 1.23 timers: no stale tick to drain
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %s: %w", ErrCanceled, r.key, ctx.Err())
		case <-timer.C:
			return nil, fmt.Errorf("%w: %s: nothing from %s for %s", ErrExchangeTimeout, r.key, r.pending(), timeout)
		}
	}
}

// failedLocked returns the failure of the first sender that failed, or a
// sender the consumer does not know.
func (r *ExchangeReceiver) failedLocked() error {
	senders := make([]int, 0, len(r.e.done))
	for s := range r.e.done {
		senders = append(senders, s)
	}
	slices.Sort(senders)
	for _, s := range senders {
		if s < 0 || s >= len(r.senders) {
			return fmt.Errorf("%s: unknown sender %d (of %d)", r.key, s, len(r.senders))
		}
		if err := r.e.done[s]; err != nil {
			return fmt.Errorf("%w: %s: sender %d on %s: %w", ErrExchangeSender, r.key, s, r.senders[s], err)
		}
	}
	return nil
}

// pending names the senders that have not ended.
func (r *ExchangeReceiver) pending() string {
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	var names []string
	for i, name := range r.senders {
		if _, ok := r.e.done[i]; !ok {
			names = append(names, fmt.Sprintf("sender %d on %s", i, name))
		}
	}
	return strings.Join(names, ", ")
}

// Close drops the partition and whatever it still buffers; later rows
// for it are refused. Close is idempotent.
func (r *ExchangeReceiver) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	if r.h.entries[r.key] == r.e {
		r.h.dropLocked(r.key, r.e, time.Now())
	}
}

// arraysSize is the bytes held by the buffers of cols.
func arraysSize(cols []arrow.Array) int64 {
	var n int64
	for _, c := range cols {
		n += dataSize(c.Data())
	}
	return n
}

func dataSize(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataSize(c)
	}
	if d.DataType().ID() == arrow.DICTIONARY {
		n += dataSize(d.Dictionary())
	}
	return n
}

// ExchangeSource reads one partition of an exchange from a hub: the
// batches its senders pushed, dense columns of its schema, until every
// sender ended. It fails with the first sender's failure, when its query
// is released or canceled, or after timeout without news.
type ExchangeSource struct {
	baseStats
	hub     *ExchangeHub
	key     ExchangeKey
	senders []string
	schema  []types.Type
	timeout time.Duration

	rcv  *ExchangeReceiver
	held []arrow.Array
}

// NewExchangeSource returns the source of key's partition on hub, which
// expects an end of stream from each of senders (named in errors).
func NewExchangeSource(hub *ExchangeHub, key ExchangeKey, senders []string, schema []types.Type, timeout time.Duration) *ExchangeSource {
	return &ExchangeSource{hub: hub, key: key, senders: senders, schema: schema, timeout: timeout}
}

func (s *ExchangeSource) Schema() []types.Type { return s.schema }

func (s *ExchangeSource) Open(context.Context) error {
	if s.rcv != nil {
		return fmt.Errorf("%s opened twice", s.key)
	}
	rcv, err := s.hub.Receive(s.key, s.senders)
	if err != nil {
		return err
	}
	s.rcv = rcv
	return nil
}

func (s *ExchangeSource) Next(ctx context.Context, b *Batch) error {
	b.Reset()
	s.held = releaseAll(s.held)
	cols, err := s.rcv.Next(ctx, s.timeout)
	if err != nil {
		return err
	}
	if cols == nil {
		return io.EOF
	}
	s.held = append(s.held, cols...)
	if len(cols) != len(s.schema) {
		return fmt.Errorf("%s: a batch of %d columns, want %d", s.key, len(cols), len(s.schema))
	}
	for i, c := range cols {
		if !arrow.TypeEqual(c.DataType(), s.schema[i].Arrow()) || c.Len() != cols[0].Len() {
			return fmt.Errorf("%s: column %d is %v of %d rows, want %v of %d", s.key, i, c.DataType(), c.Len(), s.schema[i].Arrow(), cols[0].Len())
		}
	}
	b.Cols = append(b.Cols, cols...)
	if len(cols) > 0 {
		b.Len = cols[0].Len()
	}
	return nil
}

func (s *ExchangeSource) Close() error {
	s.held = releaseAll(s.held)
	if s.rcv != nil {
		s.rcv.Close()
	}
	return nil
}

// ExchangeWriter is one sender's stream to one partition of an exchange.
// It is used by one goroutine; Cancel may come from any.
type ExchangeWriter interface {
	// Write sends a batch of dense columns. It does not keep cols: the
	// caller still owns them.
	Write(ctx context.Context, cols []arrow.Array) error
	// Close ends the stream (end of stream) and waits until the
	// partition's hub took it.
	Close() error
	// Cancel abandons the stream: the consumer fails with cause. It does
	// nothing after Close.
	Cancel(cause error)
}

// HubWriter is an [ExchangeWriter] into a hub of this process.
type HubWriter struct {
	Hub    *ExchangeHub
	Key    ExchangeKey
	Sender int
}

func (w *HubWriter) Write(ctx context.Context, cols []arrow.Array) error {
	for _, c := range cols {
		c.Retain()
	}
	return w.Hub.Push(ctx, w.Key, w.Sender, cols)
}

func (w *HubWriter) Close() error {
	w.Hub.Finish(w.Key, w.Sender, nil)
	return nil
}

func (w *HubWriter) Cancel(cause error) { w.Hub.Finish(w.Key, w.Sender, cause) }

// ExchangeRoute assigns each of n rows a bucket from the row's keys
// (dense columns of n rows), writing it to bucket[i].
type ExchangeRoute func(keys []arrow.Array, n int, bucket []int32)

// ExchangeSinkSpec describes how an [ExchangeSink] splits its rows.
type ExchangeSinkSpec struct {
	// Keys are the expressions rows are routed by, over the child's
	// output.
	Keys []Expr
	// Partitions is the number of partitions, each a stream Open opens.
	Partitions int
	// Route gives each row its bucket; nil hashes the keys into
	// Partitions buckets ([HashRoute]), rows with a NULL key spread
	// round-robin (they match nothing, so any partition will do).
	Route ExchangeRoute
	// Fanout lists the partitions each bucket goes to (a bucket read by
	// several instances goes to each); nil: bucket b is partition b.
	Fanout [][]int
	// Open opens the stream to partition p.
	Open func(ctx context.Context, p int) (ExchangeWriter, error)
}

// ExchangeSink sends its child's rows to the partitions of an exchange
// and outputs none: its first Next runs the child to the end, sending
// rows as they come (in batches of up to [BatchSize] rows per partition),
// ends every partition's stream and returns io.EOF. On any failure, and
// when it is closed before it finished, it cancels the streams, so that
// their consumers fail rather than wait.
type ExchangeSink struct {
	baseStats
	child Operator
	spec  ExchangeSinkSpec
	ts    []types.Type

	ectx    *EvalContext
	writers []ExchangeWriter
	blds    []*tableBuilder
	done    bool
	err     error
	nulls   int // rows with a NULL key so far, for round-robin
}

// NewExchangeSink returns the sink of child's rows.
func NewExchangeSink(child Operator, spec ExchangeSinkSpec) (*ExchangeSink, error) {
	if spec.Partitions < 1 {
		return nil, fmt.Errorf("exchange sink with %d partitions", spec.Partitions)
	}
	if len(spec.Keys) == 0 {
		return nil, errors.New("exchange sink without keys")
	}
	for b, ps := range spec.Fanout {
		for _, p := range ps {
			if p < 0 || p >= spec.Partitions {
				return nil, fmt.Errorf("bucket %d goes to partition %d of %d", b, p, spec.Partitions)
			}
		}
	}
	return &ExchangeSink{child: child, spec: spec, ts: child.Schema()}, nil
}

// Schema is empty: the rows go to the exchange.
func (s *ExchangeSink) Schema() []types.Type { return nil }

func (s *ExchangeSink) Open(ctx context.Context) error {
	s.ectx = evalCtxFrom(ctx)
	if err := s.child.Open(ctx); err != nil {
		return err
	}
	for p := range s.spec.Partitions {
		w, err := s.spec.Open(ctx, p)
		if err != nil {
			s.err = err
			return fmt.Errorf("opening the stream to partition %d: %w", p, err)
		}
		s.writers = append(s.writers, w)
		s.blds = append(s.blds, newTableBuilder(s.ts))
	}
	return nil
}

func (s *ExchangeSink) Next(ctx context.Context, b *Batch) error {
	b.Reset()
	if s.done {
		return io.EOF
	}
	if err := s.run(ctx); err != nil {
		s.err = err
		return err
	}
	s.done = true
	return io.EOF
}

func (s *ExchangeSink) run(ctx context.Context) error {
	var in Batch
	var bucket []int32
	parts := make([][]int32, s.spec.Partitions) // rows of the batch, by partition
	for {
		in.Reset()
		err := Next(ctx, s.child, &in)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		n := in.NumRows()
		if n == 0 {
			continue
		}
		rows := rowsOf(&in)
		keys := make([]arrow.Array, len(s.spec.Keys))
		for i, k := range s.spec.Keys {
			v, err := evalView(s.ectx, k, &in)
			if err != nil {
				releaseAll(keys[:i])
				return err
			}
			keys[i] = take(v, rows)
		}
		bucket = slices.Grow(bucket[:0], n)[:n]
		route := s.spec.Route
		if route == nil {
			route = s.hashRoute
		}
		route(keys, n, bucket)
		releaseAll(keys)
		for p := range parts {
			parts[p] = parts[p][:0]
		}
		for i, r := range rows {
			bk := int(bucket[i])
			if s.spec.Fanout == nil {
				if bk < 0 || bk >= s.spec.Partitions {
					return fmt.Errorf("BUG: row routed to bucket %d of %d", bk, s.spec.Partitions)
				}
				parts[bk] = append(parts[bk], r)
				continue
			}
			if bk < 0 || bk >= len(s.spec.Fanout) {
				return fmt.Errorf("BUG: row routed to bucket %d of %d", bk, len(s.spec.Fanout))
			}
			for _, p := range s.spec.Fanout[bk] {
				parts[p] = append(parts[p], r)
			}
		}
		vs := batchViews(&in, s.ts)
		for p, rs := range parts {
			if len(rs) == 0 {
				continue
			}
			s.blds[p].appendViews(vs, rs)
			if s.blds[p].n >= BatchSize {
				if err := s.flush(ctx, p); err != nil {
					return err
				}
			}
		}
	}
	for p := range s.blds {
		if err := s.flush(ctx, p); err != nil {
			return err
		}
	}
	for p, w := range s.writers {
		if err := w.Close(); err != nil {
			return fmt.Errorf("ending the stream to partition %d: %w", p, err)
		}
	}
	return nil
}

// flush sends what partition p accumulated.
func (s *ExchangeSink) flush(ctx context.Context, p int) error {
	if s.blds[p].n == 0 {
		return nil
	}
	t := s.blds[p].finish()
	s.blds[p] = newTableBuilder(s.ts)
	defer t.release()
	if err := s.writers[p].Write(ctx, t.cols); err != nil {
		return fmt.Errorf("sending to partition %d: %w", p, err)
	}
	return nil
}

// hashRoute is the default route: see [HashRoute].
func (s *ExchangeSink) hashRoute(keys []arrow.Array, n int, bucket []int32) {
	s.nulls = hashRoute(keys, s.keyTypes(), n, s.spec.Partitions, bucket, s.nulls)
}

func (s *ExchangeSink) keyTypes() []types.Type {
	ts := make([]types.Type, len(s.spec.Keys))
	for i, k := range s.spec.Keys {
		ts[i] = k.Type()
	}
	return ts
}

// HashRoute returns a route into n buckets by a hash of the keys (of
// types ts) that is the same in every process and equal for keys the hash
// join finds equal (same types: the planner converts both sides' keys to
// their common type). Rows with a NULL key spread round-robin.
func HashRoute(ts []types.Type, n int) ExchangeRoute {
	nulls := 0
	return func(keys []arrow.Array, rows int, bucket []int32) {
		nulls = hashRoute(keys, ts, rows, n, bucket, nulls)
	}
}

func hashRoute(keys []arrow.Array, ts []types.Type, rows, n int, bucket []int32, nulls int) int {
	vs := make([]*view, len(keys))
	for i, k := range keys {
		vs[i] = newView(k, ts[i])
	}
	var buf []byte
	for i := range rows {
		var null bool
		buf, null = encodeKey(buf[:0], vs, i)
		if null {
			bucket[i] = int32(nulls % n)
			nulls++
			continue
		}
		bucket[i] = int32(xxhash.Sum64(buf) % uint64(n))
	}
	return nulls
}

func (s *ExchangeSink) Close() error {
	if !s.done {
		cause := s.err
		if cause == nil {
			cause = errors.New("the sending fragment ended early")
		}
		for _, w := range s.writers {
			w.Cancel(cause)
		}
	}
	for _, b := range s.blds {
		if b.blds != nil {
			b.finish().release()
		}
	}
	s.blds = nil
	return s.child.Close()
}

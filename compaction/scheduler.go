package compaction

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/strata-db/strata/be/tabletstore"
)

// Config configures a Scheduler. Zero fields take their defaults.
type Config struct {
	// Workers bounds the compactions that run at once. Default: 1 on
	// machines with at most 2 cores, else a quarter of the cores, so that
	// compaction never takes the CPU from queries and loads.
	Workers int
	// ScanInterval is how often every tablet is looked at (and stale
	// rowsets swept), besides the tablets the store hands over after each
	// publish. Default 10 s.
	ScanInterval time.Duration
	// BaseWriteBytesPerSec paces what base compactions write, all
	// together (Doris's base_compaction_write_mbytes_per_sec): they
	// rewrite a tablet's oldest data, which can wait, and must not take
	// the disk from loads and queries. Cumulative compactions, which keep
	// the version count of loading tablets down, are not paced. 0: no
	// limit.
	BaseWriteBytesPerSec int64
	Policy               Policy
	Logger               *slog.Logger
}

// DefaultScanInterval is Config.ScanInterval's default.
const DefaultScanInterval = 10 * time.Second

// DefaultWorkers is Config.Workers's default on this machine.
func DefaultWorkers() int {
	n := runtime.NumCPU()
	if n <= 2 {
		return 1
	}
	return max(1, n/4)
}

// Stats are the scheduler's counters since it started.
type Stats struct {
	Compactions int64 // finished
	Failures    int64
	Skipped     int64 // refused: inputs of different schemas
	RowsMerged  int64 // rows of the inputs of finished compactions
	BytesMerged int64 // bytes of the inputs of finished compactions
	RowsWritten int64 // rows of the outputs of finished compactions
	Running     int   // compactions running now
	// Queued is the tablets waiting to be looked at: those poked by a
	// publish, and for a moment after each periodic scan every tablet.
	Queued int
	// MaxVersionCount is the most visible rowsets any tablet has now, and
	// MaxVersionTablet that tablet.
	MaxVersionCount  int
	MaxVersionTablet int64
	// Kinds splits the counters above by kind of compaction, indexed by
	// Kind; each of the totals above is the sum over them.
	Kinds [numKinds]KindStats
}

// KindStats are the counters of one kind of compaction.
type KindStats struct {
	Compactions int64 // finished
	Failures    int64
	Skipped     int64
	Rowsets     int64 // inputs of finished compactions (Doris's deltas)
	RowsMerged  int64
	BytesMerged int64
	RowsWritten int64
}

// kindCounters are the live KindStats.
type kindCounters struct {
	compactions, failures, skipped    atomic.Int64
	rowsets, rows, bytes, rowsWritten atomic.Int64
}

// tabletLog is what the scheduler remembers of one tablet's compactions,
// by kind, for its status (Doris's "last ... time" fields). Zero times:
// never.
type tabletLog struct {
	scheduled, succeeded, failed [numKinds]time.Time
	status                       [numKinds]string // of the last one that ended: "[OK]" or the error
}

// Scheduler runs compactions in the background: it takes the tablets the
// store hands over after each publish (and every tablet, every
// ScanInterval), and gives them to a bounded pool of workers, the tablet
// whose cumulative run is longest first. A tablet is never compacted by two
// workers at once. Its methods are safe for concurrent use.
type Scheduler struct {
	st     *tabletstore.Store
	cfg    Config
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   chan struct{} // a tablet was queued; capacity Workers

	mu      sync.Mutex           // protects the fields below
	queued  map[int64]uint64     // tablets to look at -> the poke that queued them
	pokes   uint64               // numbers the pokes
	running map[int64]struct{}   // tablets being compacted
	logs    map[int64]*tabletLog // tablets compacted since the start; dropped ones are forgotten by scan
	started bool
	closed  bool

	counts [numKinds]kindCounters // by Kind; atomics, not under mu

	chunkHook func(context.Context) // runs before each merged chunk is written (tests)
	baseLimit *rate.Limiter         // nil: base compactions are not paced
}

// NewScheduler returns a scheduler of st's compactions. Start starts it.
func NewScheduler(st *tabletstore.Store, cfg Config) *Scheduler {
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers()
	}
	if cfg.ScanInterval <= 0 {
		cfg.ScanInterval = DefaultScanInterval
	}
	cfg.Policy = cfg.Policy.withDefaults()
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{
		st: st, cfg: cfg, log: log, ctx: ctx, cancel: cancel,
		wake:   make(chan struct{}, cfg.Workers),
		queued: map[int64]uint64{}, running: map[int64]struct{}{}, logs: map[int64]*tabletLog{},
	}
	if bps := cfg.BaseWriteBytesPerSec; bps > 0 {
		// A burst of a quarter second's bytes (at least 1 MiB, a write
		// buffer), so that pacing is smooth without a wait per chunk.
		s.baseLimit = rate.NewLimiter(rate.Limit(bps), int(max(bps/4, 1<<20)))
	}
	return s
}

// Start registers the scheduler as the store's compaction trigger, queues
// every tablet (a backlog from before a restart) and starts the workers.
func (s *Scheduler) Start() {
	s.mu.Lock()
	if s.started || s.closed {
		s.mu.Unlock()
		return
	}
	s.started = true
	s.mu.Unlock()
	s.st.SetCompactionTrigger(s.Notify)
	s.wg.Add(s.cfg.Workers + 1)
	for range s.cfg.Workers {
		go s.worker()
	}
	go s.scanner()
	s.scan()
}

// Notify queues a tablet to be looked at. It never blocks.
func (s *Scheduler) Notify(tabletID int64) {
	s.mu.Lock()
	s.queueLocked(tabletID)
	s.mu.Unlock()
	s.signal()
}

func (s *Scheduler) queueLocked(tabletID int64) {
	s.pokes++
	s.queued[tabletID] = s.pokes
}

func (s *Scheduler) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Close stops the scheduler: running compactions are abandoned (their
// tablets keep their inputs) and Close waits for them. It is idempotent.
func (s *Scheduler) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	started := s.started
	s.mu.Unlock()
	if started {
		s.st.SetCompactionTrigger(nil)
	}
	s.cancel()
	s.wg.Wait()
	return nil
}

// Stats returns the counters.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	running, queued := len(s.running), len(s.queued)
	s.mu.Unlock()
	tablet, count := s.st.MaxVersionCount()
	st := Stats{Running: running, Queued: queued, MaxVersionCount: count, MaxVersionTablet: tablet}
	for k := range st.Kinds {
		c := &s.counts[k]
		ks := KindStats{
			Compactions: c.compactions.Load(), Failures: c.failures.Load(), Skipped: c.skipped.Load(),
			Rowsets: c.rowsets.Load(), RowsMerged: c.rows.Load(), BytesMerged: c.bytes.Load(),
			RowsWritten: c.rowsWritten.Load(),
		}
		st.Kinds[k] = ks
		st.Compactions += ks.Compactions
		st.Failures += ks.Failures
		st.Skipped += ks.Skipped
		st.RowsMerged += ks.RowsMerged
		st.BytesMerged += ks.BytesMerged
		st.RowsWritten += ks.RowsWritten
	}
	return st
}

// scanner queues every tablet and sweeps stale rowsets every ScanInterval.
func (s *Scheduler) scanner() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.ScanInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.scan()
		if n := s.st.SweepStale(); n > 0 {
			s.log.Debug("swept stale rowsets", "count", n)
		}
	}
}

func (s *Scheduler) scan() {
	ids := s.st.TabletIDs()
	s.mu.Lock()
	for _, id := range ids {
		s.queueLocked(id)
	}
	for id := range s.logs {
		if _, live := slices.BinarySearch(ids, id); !live {
			delete(s.logs, id) // dropped, or emptied
		}
	}
	s.mu.Unlock()
	for range s.cfg.Workers {
		s.signal()
	}
}

func (s *Scheduler) worker() {
	defer s.wg.Done()
	for {
		id, ok := s.next()
		if !ok {
			select {
			case <-s.ctx.Done():
				return
			case <-s.wake:
			}
			continue
		}
		s.compact(id)
	}
}

// next takes the queued tablet with the highest score that no worker is
// compacting, and marks it running. Queued tablets with nothing to merge
// are dropped; those being compacted stay queued for after. Scores are
// computed without holding s.mu, so that publishes never wait for them; a
// tablet poked again meanwhile stays queued.
func (s *Scheduler) next() (int64, bool) {
	if s.ctx.Err() != nil {
		return 0, false
	}
	type candidate struct {
		id    int64
		poke  uint64
		score int
	}
	s.mu.Lock()
	cands := make([]candidate, 0, len(s.queued))
	for id, poke := range s.queued {
		if _, busy := s.running[id]; !busy {
			cands = append(cands, candidate{id: id, poke: poke})
		}
	}
	s.mu.Unlock()
	maxVersions := s.st.MaxVersions()
	for i := range cands {
		cands[i].score = s.cfg.Policy.Score(s.st.Rowsets(cands[i].id), maxVersions)
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})

	s.mu.Lock()
	defer s.mu.Unlock()
	picked, left := int64(0), 0
	found := false
	for _, c := range cands {
		poke, queued := s.queued[c.id]
		_, busy := s.running[c.id]
		switch {
		case !queued || busy:
		case c.score == 0:
			if poke == c.poke {
				delete(s.queued, c.id)
			}
		case !found:
			picked, found = c.id, true
			delete(s.queued, c.id)
			s.running[c.id] = struct{}{}
		default:
			left++
		}
	}
	if left > 0 {
		s.signal() // another worker may take the next one
	}
	return picked, found
}

// compact runs one compaction of a tablet and queues it again if that
// merged something: more may be due (a capped run, loads meanwhile).
func (s *Scheduler) compact(id int64) {
	kind, res, err := s.compactSafely(id)
	c := &s.counts[kind]
	var outcome string // for the tablet's log; "": nothing to remember
	switch {
	case err == nil:
		c.compactions.Add(1)
		c.rowsets.Add(int64(res.InputRowsets))
		c.rows.Add(res.InputRows)
		c.bytes.Add(res.InputBytes)
		c.rowsWritten.Add(res.Output.NumRows)
		outcome = statusOK
		s.log.Debug("compacted tablet", "tablet", id, "kind", kind, "versions", [2]int64{res.Start, res.End},
			"rowsets", res.InputRowsets, "rows", res.InputRows, "bytes", res.InputBytes, "took", res.Took)
	case errors.Is(err, ErrNothingToCompact), errors.Is(err, tabletstore.ErrCompactionConflict):
	case errors.Is(err, tabletstore.ErrSchemaMismatch):
		c.skipped.Add(1)
		outcome = statusError(err)
		s.log.Info("compaction skipped", "tablet", id, "kind", kind, "reason", err)
	case s.ctx.Err() != nil:
		// Closing: the compaction was abandoned.
	default:
		c.failures.Add(1)
		outcome = statusError(err)
		s.log.Warn("compaction failed", "tablet", id, "kind", kind, "err", err)
	}
	now := time.Now()
	s.mu.Lock()
	delete(s.running, id)
	if err == nil {
		s.queueLocked(id)
	}
	if outcome != "" {
		l := s.logLocked(id)
		l.status[kind] = outcome
		if err == nil {
			l.succeeded[kind] = now
		} else {
			l.failed[kind] = now
		}
	}
	s.mu.Unlock()
	if err == nil {
		s.signal()
	}
}

// logLocked returns the log of a tablet, making it if need be.
func (s *Scheduler) logLocked(id int64) *tabletLog {
	l := s.logs[id]
	if l == nil {
		l = &tabletLog{}
		s.logs[id] = l
	}
	return l
}

// compactSafely picks the run to merge and merges it, turning a panic (a
// bug) into a failure of this tablet's compaction rather than of the
// process: the compaction's deferred Abort has already put the tablet back
// as it was. kind is that of the run picked (Cumulative if none was).
func (s *Scheduler) compactSafely(id int64) (kind Kind, res Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("BUG: compaction of tablet %d panicked: %v\n%s", id, r, debug.Stack())
		}
	}()
	rowsets := s.st.Rowsets(id)
	run, ok := s.cfg.Policy.Pick(rowsets, s.st.MaxVersions())
	if !ok {
		return Cumulative, Result{}, ErrNothingToCompact
	}
	kind = s.cfg.Policy.kindOf(rowsets, run)
	s.mu.Lock()
	s.logLocked(id).scheduled[kind] = time.Now()
	s.mu.Unlock()
	opts := runOptions{chunkHook: s.chunkHook}
	if kind == Base {
		opts.limit = s.baseLimit
	}
	res, err = compactRange(s.ctx, s.st, id, run.Start, run.End, opts)
	return kind, res, err
}

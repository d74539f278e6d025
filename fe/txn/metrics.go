package txn

import (
	"sort"
	"sync"
)

// CounterType is what a transaction counter counts, after Doris's
// doris_fe_txn_counter{type}.
type CounterType uint8

const (
	CounterBegin   CounterType = iota // transactions begun
	CounterSuccess                    // committed (a two-phase load at its commit, not its precommit)
	CounterFailed                     // aborted
	CounterReject                     // refused at begin: too many running in the database
	numCounterTypes
)

func (c CounterType) String() string {
	switch c {
	case CounterBegin:
		return "begin"
	case CounterSuccess:
		return "success"
	case CounterFailed:
		return "failed"
	case CounterReject:
		return "reject"
	}
	return "unknown"
}

// Counts are the transactions one source (BeginRequest.Source: STREAM_LOAD,
// INSERT, ...) went through this manager, by CounterType.
type Counts struct {
	Source string
	N      [numCounterTypes]int64
}

// counters count the state changes this manager made since it was created,
// by source. A change is counted once its etcd transaction succeeded, so a
// retried conflict counts once. Begin, commit and abort are per load, not
// per row, so a mutex is cheap enough.
type counters struct {
	mu       sync.Mutex // protects bySource
	bySource map[string]*[numCounterTypes]int64
}

func (c *counters) add(source string, typ CounterType) {
	if source == "" {
		source = "OTHER"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bySource == nil {
		c.bySource = map[string]*[numCounterTypes]int64{}
	}
	n := c.bySource[source]
	if n == nil {
		n = new([numCounterTypes]int64)
		c.bySource[source] = n
	}
	n[typ]++
}

// Counters returns the transactions begun, committed, aborted and
// rejected by this manager since it was created, by source in name order.
// Only the manager of the leading frontend changes transactions, so the
// other frontends' counts stay at zero.
func (m *Manager) Counters() []Counts {
	m.counters.mu.Lock()
	defer m.counters.mu.Unlock()
	out := make([]Counts, 0, len(m.counters.bySource))
	for src, n := range m.counters.bySource {
		out = append(out, Counts{Source: src, N: *n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

// NumCounterTypes is the number of CounterType values (for ranging over
// Counts.N).
const NumCounterTypes = int(numCounterTypes)

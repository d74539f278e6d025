package service

import "sync/atomic"

// Stats counts what a backend's service did since it started, for its
// metrics. The zero value is ready; a Service without Stats counts
// nothing.
type Stats struct {
	fragments, fragmentErrors atomic.Int64
	publishedTxns             atomic.Int64
	clones, cloneErrors       atomic.Int64
	cloneBytes                atomic.Int64
}

// StatsSnapshot is Stats read at one moment.
type StatsSnapshot struct {
	Fragments, FragmentErrors int64 // fragment instances run, and those that failed
	PublishedTxns             int64 // transactions published to local replicas
	Clones, CloneErrors       int64 // replicas cloned here from another backend, and failures
	CloneBytes                int64 // bytes those clones fetched
}

// Snapshot reads the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	if s == nil {
		return StatsSnapshot{}
	}
	return StatsSnapshot{
		Fragments: s.fragments.Load(), FragmentErrors: s.fragmentErrors.Load(),
		PublishedTxns: s.publishedTxns.Load(),
		Clones:        s.clones.Load(), CloneErrors: s.cloneErrors.Load(), CloneBytes: s.cloneBytes.Load(),
	}
}

func (s *Stats) fragment(err error) {
	if s == nil {
		return
	}
	s.fragments.Add(1)
	if err != nil {
		s.fragmentErrors.Add(1)
	}
}

func (s *Stats) published(n int) {
	if s != nil {
		s.publishedTxns.Add(int64(n))
	}
}

func (s *Stats) cloned(bytes int64, err error) {
	if s == nil {
		return
	}
	s.clones.Add(1)
	s.cloneBytes.Add(bytes)
	if err != nil {
		s.cloneErrors.Add(1)
	}
}

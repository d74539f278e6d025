package service

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/fe/txn"
)

// Publisher makes committed transactions visible on the replicas: every
// live backend gets, in one call, the tablets of the transactions it holds
// replicas of. A transaction is published when a majority of each of its
// tablets' replicas hold its version; a replica that could not (down,
// missing the load's rows, or behind) is left behind for the tablet
// checker to repair.
type Publisher struct {
	C Cluster
	// Legacy publishes transactions that did not record the tablets they
	// wrote (committed by an older version), on a single backend; nil
	// refuses them.
	Legacy txn.Publisher
	Log    *slog.Logger
}

var _ txn.ReplicaPublisher = (*Publisher)(nil)

// Publish publishes a transaction that did not record its tablets.
func (p *Publisher) Publish(ctx context.Context, txnID int64, versions map[int64]int64) error {
	if p.Legacy == nil {
		return fmt.Errorf("txn %d did not record the tablets it wrote; it cannot be published on replicas", txnID)
	}
	return p.Legacy.Publish(ctx, txnID, versions)
}

// PublishReplicas publishes txns in order (a tablet's versions ascending).
func (p *Publisher) PublishReplicas(ctx context.Context, txns []txn.TxnTargets) error {
	per := map[int64][]tabletstore.TxnPublish{} // backend -> its share, parallel to txns
	for ti, t := range txns {
		for tablet, tt := range t.Tablets {
			for _, be := range p.backends(tt) {
				share := per[be]
				if share == nil {
					share = make([]tabletstore.TxnPublish, len(txns))
					for i := range share {
						share[i] = tabletstore.TxnPublish{TxnID: txns[i].TxnID, Tablets: map[int64]tabletstore.PublishTablet{}}
					}
					per[be] = share
				}
				share[ti].Tablets[tablet] = tabletstore.PublishTablet{Version: tt.Version, Written: tt.Written, Lenient: tt.Lenient}
			}
		}
	}
	type outcome struct {
		be      int64
		results []map[int64]tabletstore.TabletPublishResult
		err     error
	}
	out := make(chan outcome, len(per))
	var wg sync.WaitGroup
	for be, share := range per {
		// A backend's share leaves out the transactions it holds none of.
		var sent []tabletstore.TxnPublish
		var idx []int
		for i, s := range share {
			if len(s.Tablets) > 0 {
				sent = append(sent, s)
				idx = append(idx, i)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := p.C.Backend(be)
			var res []map[int64]tabletstore.TabletPublishResult
			if err == nil {
				res, err = b.Publish(ctx, sent)
			}
			full := make([]map[int64]tabletstore.TabletPublishResult, len(txns))
			if err == nil {
				if len(res) != len(sent) {
					err = fmt.Errorf("backend %d answered %d results for %d transactions", be, len(res), len(sent))
				} else {
					for k, i := range idx {
						full[i] = res[k]
					}
				}
			}
			out <- outcome{be: be, results: full, err: err}
		}()
	}
	wg.Wait()
	close(out)
	held := make([]map[int64]int, len(txns)) // per txn: tablet -> replicas at the version
	for i := range held {
		held[i] = map[int64]int{}
	}
	for o := range out {
		if o.err != nil {
			p.log().Warn("publish: a backend did not publish; its replicas stay behind", "backend", o.be, "err", o.err)
			continue
		}
		for i, res := range o.results {
			for tablet, r := range res {
				switch r {
				case tabletstore.Published, tabletstore.AlreadyVisible:
					held[i][tablet]++
				default:
					p.log().Warn("publish: a replica stays behind", "txn", txns[i].TxnID, "tablet", tablet, "backend", o.be, "result", r.String())
				}
			}
		}
	}
	for i, t := range txns {
		for tablet, tt := range t.Tablets {
			bes := p.backends(tt)
			need := tt.Need
			if need <= 0 {
				need = Majority(len(bes))
			}
			if n := held[i][tablet]; n < need {
				return fmt.Errorf("publishing txn %d: tablet %d is at version %d on %d of %d replicas, %d needed",
					t.TxnID, tablet, tt.Version, n, len(bes), need)
			}
		}
	}
	return nil
}

// backends are the backends holding a tablet's replicas: those placed, or
// for a tablet not placed (a catalog from before placement, whose only
// backend holds every tablet) the live ones.
func (p *Publisher) backends(tt txn.TabletTarget) []int64 {
	if len(tt.Backends) > 0 {
		return tt.Backends
	}
	return p.C.Alive()
}

func (p *Publisher) log() *slog.Logger {
	if p.Log == nil {
		return slog.Default()
	}
	return p.Log
}

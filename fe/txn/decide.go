package txn

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/strata-db/strata/fe/catalog"
)

// checkPrecommit: only PREPARE may precommit. done is true when the txn is
// already PRECOMMITTED (precommit is idempotent).
func checkPrecommit(t *Txn) (done bool, err error) {
	switch t.Status {
	case StatusPrepare:
		return false, nil
	case StatusPrecommitted:
		return true, nil
	}
	return false, &StateError{TxnID: t.ID, Op: OpPrecommit, Status: t.Status, Reason: t.Reason}
}

// checkCommit: PRECOMMITTED may commit; so may PREPARE unless the load asked
// for two-phase commit (then the client's commit must wait for precommit).
func checkCommit(t *Txn) error {
	switch {
	case t.Status == StatusPrecommitted:
		return nil
	case t.Status == StatusPrepare && !t.TwoPhaseCommit:
		return nil
	}
	return &StateError{TxnID: t.ID, Op: OpCommit, Status: t.Status, Reason: t.Reason}
}

// checkAbort: only PREPARE and PRECOMMITTED may abort. COMMITTED never
// becomes ABORTED.
func checkAbort(t *Txn) error {
	if t.Status == StatusPrepare || t.Status == StatusPrecommitted {
		return nil
	}
	return &StateError{TxnID: t.ID, Op: OpAbort, Status: t.Status, Reason: t.Reason}
}

// normalizeParts sorts and de-duplicates partition references.
func normalizeParts(parts []PartitionRef) []PartitionRef {
	out := slices.Clone(parts)
	slices.SortFunc(out, func(a, b PartitionRef) int {
		if a.TableID != b.TableID {
			return cmpInt(a.TableID, b.TableID)
		}
		return cmpInt(a.PartitionID, b.PartitionID)
	})
	// One entry per partition, with the tablets of its duplicates.
	merged := out[:0]
	for _, p := range out {
		if n := len(merged); n > 0 && merged[n-1].TableID == p.TableID && merged[n-1].PartitionID == p.PartitionID {
			if p.Tablets != nil {
				ts := append(slices.Clone(merged[n-1].Tablets), p.Tablets...)
				slices.Sort(ts)
				merged[n-1].Tablets = slices.Compact(ts)
			}
			if p.Replicas != nil {
				rs := maps.Clone(merged[n-1].Replicas)
				if rs == nil {
					rs = map[int64][]int64{}
				}
				maps.Copy(rs, p.Replicas)
				merged[n-1].Replicas = rs
			}
			continue
		}
		merged = append(merged, p)
	}
	return merged
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// tableSet is the version state of the tables a transaction touches, as
// read from etcd: the stored versions value (nil when absent) and the
// defaults of partitions that value does not mention yet.
type tableSet map[int64]*tableVersions

type tableVersions struct {
	dbID, tableID int64
	name          string
	modRev        int64 // of the versions key; 0 when absent
	stored        *catalog.TableVersions
	defaults      map[int64]catalog.PartitionVersion // partitions of the table definition
}

func (tv *tableVersions) get(partID int64) (catalog.PartitionVersion, bool) {
	if tv.stored != nil {
		if v, ok := tv.stored.Partitions[partID]; ok {
			return v, true
		}
	}
	v, ok := tv.defaults[partID]
	return v, ok
}

// assignVersions gives each partition its next version and returns the
// assignment and the new versions values of the touched tables. It fails on
// an unknown table or partition.
func assignVersions(txnID int64, parts []PartitionRef, ts tableSet) ([]PartitionVersion, map[int64]*catalog.TableVersions, error) {
	out := make([]PartitionVersion, 0, len(parts))
	updated := map[int64]*catalog.TableVersions{}
	for _, p := range parts {
		tv, ok := ts[p.TableID]
		if !ok {
			return nil, nil, fmt.Errorf("%w: transaction [%d]: table %d does not exist", ErrInvalid, txnID, p.TableID)
		}
		cur, ok := tv.get(p.PartitionID)
		if !ok {
			return nil, nil, fmt.Errorf("%w: transaction [%d]: partition %d of table %d does not exist", ErrInvalid, txnID, p.PartitionID, p.TableID)
		}
		if cur.Next <= cur.Visible {
			panic(fmt.Sprintf("BUG: txn: partition %d has next version %d <= visible %d", p.PartitionID, cur.Next, cur.Visible))
		}
		nv := updated[p.TableID]
		if nv == nil {
			nv = cloneVersions(tv.stored)
			updated[p.TableID] = nv
		}
		out = append(out, PartitionVersion{TableID: p.TableID, PartitionID: p.PartitionID, Version: cur.Next, Tablets: p.Tablets, Replicas: p.Replicas})
		cur.Next++
		nv.Partitions[p.PartitionID] = cur
	}
	return out, updated, nil
}

func cloneVersions(v *catalog.TableVersions) *catalog.TableVersions {
	c := &catalog.TableVersions{Partitions: map[int64]catalog.PartitionVersion{}}
	if v != nil {
		maps.Copy(c.Partitions, v.Partitions)
	}
	return c
}

// publishOrder says whether a committed transaction may be made visible:
// ready when, in every partition, the version below its own is visible;
// done when its versions are visible already. A partition or table that is
// gone (dropped since commit) does not hold anything up.
func publishOrder(parts []PartitionVersion, ts tableSet) (ready, done bool) {
	ready, done = true, true
	for _, p := range parts {
		tv, ok := ts[p.TableID]
		if !ok {
			continue
		}
		cur, ok := tv.get(p.PartitionID)
		if !ok {
			continue
		}
		if cur.Visible < p.Version {
			done = false
		}
		if cur.Visible < p.Version-1 {
			ready = false
		}
	}
	return ready, done
}

// makeVisible returns the versions values with each partition's visible
// version raised to the transaction's version (never lowered).
func makeVisible(parts []PartitionVersion, ts tableSet, nowMs int64) map[int64]*catalog.TableVersions {
	updated := map[int64]*catalog.TableVersions{}
	for _, p := range parts {
		tv, ok := ts[p.TableID]
		if !ok {
			continue
		}
		cur, ok := tv.get(p.PartitionID)
		if !ok || cur.Visible >= p.Version {
			continue
		}
		nv := updated[p.TableID]
		if nv == nil {
			nv = cloneVersions(tv.stored)
			updated[p.TableID] = nv
		}
		cur.Visible = p.Version
		cur.VisibleTime = nowMs
		if cur.Next <= cur.Visible {
			panic(fmt.Sprintf("BUG: txn: making version %d of partition %d visible, next is %d", p.Version, p.PartitionID, cur.Next))
		}
		nv.Partitions[p.PartitionID] = cur
	}
	return updated
}

// RecoveryConfig is what recovery decides by.
type RecoveryConfig struct {
	Self             Coordinator
	LabelKeep        time.Duration
	PrecommitTimeout time.Duration // 0: PRECOMMITTED never times out
}

// actionKind is what recovery does with one transaction.
type actionKind uint8

const (
	actNone actionKind = iota
	actPublish
	actAbort
	actExpire
)

type action struct {
	kind   actionKind
	txnID  int64
	reason string
}

// decide says what recovery does with one transaction: publish it
// (COMMITTED), abort it (PREPARE whose coordinator was an earlier
// incarnation of this process or whose timeout passed; PRECOMMITTED whose
// precommit timeout passed), expire it (final and older than the label
// retention), or nothing.
func decide(now time.Time, cfg RecoveryConfig, t *Txn) action {
	nowMs := now.UnixMilli()
	switch t.Status {
	case StatusCommitted:
		return action{actPublish, t.ID, ""}
	case StatusPrepare:
		switch {
		case t.Coordinator.Node == cfg.Self.Node && t.Coordinator.Incarnation != cfg.Self.Incarnation:
			return action{actAbort, t.ID, "coordinator restarted"}
		case t.TimeoutMs > 0 && t.PrepareTime+t.TimeoutMs < nowMs:
			return action{actAbort, t.ID, timeoutReason}
		}
	case StatusPrecommitted:
		if cfg.PrecommitTimeout > 0 && t.PrecommitTime+cfg.PrecommitTimeout.Milliseconds() < nowMs {
			return action{actAbort, t.ID, timeoutReason}
		}
	case StatusVisible, StatusAborted:
		if t.FinishTime+cfg.LabelKeep.Milliseconds() < nowMs {
			return action{actExpire, t.ID, ""}
		}
	}
	return action{}
}

// planRecovery decides, from the stored transactions, what to do at startup
// (and periodically), by decide; COMMITTED txns are published in commit
// order.
func planRecovery(now time.Time, cfg RecoveryConfig, txns []*Txn) []action {
	var publish []*Txn
	var out []action
	for _, t := range txns {
		switch a := decide(now, cfg, t); a.kind {
		case actPublish:
			publish = append(publish, t)
		case actAbort, actExpire:
			out = append(out, a)
		}
	}
	slices.SortFunc(publish, func(a, b *Txn) int {
		if a.CommitTime != b.CommitTime {
			return cmpInt(a.CommitTime, b.CommitTime)
		}
		return cmpInt(a.ID, b.ID)
	})
	for _, t := range publish {
		out = append(out, action{actPublish, t.ID, ""})
	}
	return out
}

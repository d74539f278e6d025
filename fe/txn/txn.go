// Package txn is the load transaction service: labels, the transaction state
// machine, partition version assignment and publish (STREAMLOAD.md §4).
//
//	begin ─► PREPARE ──commit──────────────────► COMMITTED ──publish──► VISIBLE
//	            └──precommit──► PRECOMMITTED ──commit──┘
//	PREPARE | PRECOMMITTED ──abort / timeout / coordinator died──► ABORTED
//
// COMMITTED never becomes ABORTED: once a commit has assigned versions, the
// load is published, however long it takes.
//
// Persistence (values are JSON):
//
//	/strata/txn/rec/<txn id, 20 digits>   Txn
//	/strata/txn/label/<db id>/<label>     id of the txn holding the label
//
// A label key names the one non-aborted transaction that holds it; abort
// deletes the key (in the same etcd transaction) so the label can be reused
// at once, and expiry deletes record and key together once a final
// transaction is older than the retention.
//
// Versions: commit gives every touched partition its next version and bumps
// the partition's next-version counter, for all partitions in one etcd
// transaction, so versions of a partition are contiguous and in commit
// order. The counters live in the catalog's per-table versions value
// ([catalog.VersionsKey]). Publish makes a version visible only after the
// version before it is visible, and sets every touched partition's visible
// version and the transaction's VISIBLE state in one etcd transaction, so a
// query sees all of a load or none of it.
//
// The decisions (may this txn commit, which versions, is it its turn to
// publish, what does recovery do) are pure functions in decide.go; manager.go
// does the etcd I/O around them.
package txn

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Status is the state of a load transaction.
type Status uint8

const (
	StatusUnknown Status = iota
	StatusPrepare
	StatusPrecommitted
	StatusCommitted
	StatusVisible
	StatusAborted
)

var statusNames = [...]string{
	StatusUnknown:      "UNKNOWN",
	StatusPrepare:      "PREPARE",
	StatusPrecommitted: "PRECOMMITTED",
	StatusCommitted:    "COMMITTED",
	StatusVisible:      "VISIBLE",
	StatusAborted:      "ABORTED",
}

// String is the name Doris shows (PREPARE, PRECOMMITTED, ...).
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Final reports whether the status can no longer change.
func (s Status) Final() bool { return s == StatusVisible || s == StatusAborted }

// ExistingJobStatus is the stream-load response's ExistingJobStatus for a
// label held by a transaction in this status: RUNNING, PRECOMMITTED or
// FINISHED (and "" for ABORTED, which never holds a label).
func (s Status) ExistingJobStatus() string {
	switch s {
	case StatusPrepare, StatusUnknown:
		return "RUNNING"
	case StatusPrecommitted:
		return "PRECOMMITTED"
	case StatusCommitted, StatusVisible:
		return "FINISHED"
	}
	return ""
}

// MarshalText encodes the status by name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a status name.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if n == string(b) {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("txn: unknown status %q", b)
}

// PartitionRef names a partition a load wrote to.
type PartitionRef struct {
	TableID     int64 `json:"table_id"`
	PartitionID int64 `json:"partition_id"`
	// Tablets are the tablets of the partition (the base's and every
	// index's) the load wrote, sorted; nil when not recorded.
	Tablets []int64 `json:"tablets,omitempty"`
	// Replicas are, per tablet written, the backends that hold the load's
	// rows (a replicated load); publish goes to them as well as to the
	// tablet's placement, which may have moved since.
	Replicas map[int64][]int64 `json:"replicas,omitempty"`
}

// PartitionVersion is the version a committed load has in a partition.
type PartitionVersion struct {
	TableID     int64 `json:"table_id"`
	PartitionID int64 `json:"partition_id"`
	Version     int64 `json:"version,omitempty"` // 0 until commit
	// Tablets are the tablets the load wrote (see PartitionRef.Tablets):
	// a replica of one of them that lacks the load's rows cannot publish
	// it, while the partition's other tablets just advance their version.
	Tablets []int64 `json:"tablets,omitempty"`
	// Replicas: see PartitionRef.Replicas.
	Replicas map[int64][]int64 `json:"replicas,omitempty"`
}

// Coordinator identifies the process that runs a load. Incarnation differs
// each time the process starts, so recovery can tell loads that died with a
// previous run from loads still running.
type Coordinator struct {
	Node        string `json:"node"`
	Incarnation string `json:"incarnation"`
}

// Txn is a load transaction as stored. Times are unix milliseconds.
type Txn struct {
	ID             int64       `json:"id"`
	DBID           int64       `json:"db_id"`
	DBName         string      `json:"db_name"`
	Label          string      `json:"label"`
	TableIDs       []int64     `json:"table_ids"`
	Status         Status      `json:"status"`
	Source         string      `json:"source,omitempty"` // e.g. STREAM_LOAD, INSERT
	TwoPhaseCommit bool        `json:"two_phase_commit,omitempty"`
	Coordinator    Coordinator `json:"coordinator"`
	TimeoutMs      int64       `json:"timeout_ms"`
	PrepareTime    int64       `json:"prepare_time"`
	PrecommitTime  int64       `json:"precommit_time,omitempty"`
	CommitTime     int64       `json:"commit_time,omitempty"`
	FinishTime     int64       `json:"finish_time,omitempty"` // VISIBLE or ABORTED
	Reason         string      `json:"reason,omitempty"`      // abort reason
	// RequestID is BeginRequest.RequestID: which Begin call made the
	// transaction, for a retried call to recognise it.
	RequestID string `json:"request_id,omitempty"`
	// Partitions are the partitions the load wrote, recorded at precommit
	// or commit, with their versions from commit on.
	Partitions []PartitionVersion `json:"partitions,omitempty"`
}

func decodeTxn(b []byte) (*Txn, error) {
	var t Txn
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("txn: decoding transaction: %w", err)
	}
	return &t, nil
}

// BeginRequest starts a transaction. The JSON form is what a frontend
// that does not lead sends the leader (fe/txn/txnrpc).
type BeginRequest struct {
	DBID   int64  `json:"db_id"`
	DBName string `json:"db_name"`
	// Label is the client's idempotency key, unique per database among
	// transactions that are not ABORTED.
	Label    string  `json:"label"`
	TableIDs []int64 `json:"table_ids"`
	// Timeout bounds PREPARE; 0 means Config.DefaultTimeout.
	Timeout        time.Duration `json:"timeout_ns,omitempty"`
	TwoPhaseCommit bool          `json:"two_phase_commit,omitempty"`
	Source         string        `json:"source,omitempty"`
	// RequestID, when set, is recorded in the transaction (Txn.RequestID):
	// a caller that retries a Begin whose answer it lost finds the label
	// taken and tells its own transaction by it. Local callers leave it
	// empty.
	RequestID string `json:"request_id,omitempty"`
	// Coordinator, when set, is the process that runs the load (a backend
	// receiving a stream load); it is recorded instead of the manager's own
	// Self, so that the recovery of the process that dies is what aborts
	// the load, not a restart of the leader that began it.
	Coordinator *Coordinator `json:"coordinator,omitempty"`
}

// Clock tells the time; tests drive it by hand.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// SystemClock is the wall clock.
var SystemClock Clock = systemClock{}

// Errors. Operations return them wrapped; test with errors.Is / errors.As.
var (
	// ErrNotFound: no such transaction (never existed, or expired).
	ErrNotFound = errors.New("txn: transaction not found")
	// ErrState: the transaction is in a state that does not allow the
	// operation; the error is a *StateError.
	ErrState = errors.New("txn: wrong transaction state")
	// ErrNotYourTurn: FinishPublish was called before the versions below
	// the transaction's versions are visible; retry later.
	ErrNotYourTurn = errors.New("txn: earlier versions not yet visible")
	// ErrInvalid: a request the manager refuses (no label, unknown
	// partition, ...).
	ErrInvalid = errors.New("txn: invalid request")
)

// NotFoundError is ErrNotFound with Doris's text.
type NotFoundError struct {
	TxnID int64 `json:"txn_id"`
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("transaction [%d] not found", e.TxnID) }
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// LabelExistsError: Begin found the label held by a transaction that is not
// ABORTED.
type LabelExistsError struct {
	Label  string `json:"label"`
	TxnID  int64  `json:"txn_id"`
	Status Status `json:"status"`
}

// Error is Doris's text, which the Flink and Spark connectors parse.
func (e *LabelExistsError) Error() string {
	return fmt.Sprintf("Label [%s] has already been used, relate to txn [%d]", e.Label, e.TxnID)
}

// TooManyTxnsError: Begin found Config.MaxRunningPerDB transactions of the
// database running. The client should retry later.
type TooManyTxnsError struct {
	DBID    int64 `json:"db_id"`
	Running int64 `json:"running"`
	Limit   int   `json:"limit"`
}

// Error is Doris's text.
func (e *TooManyTxnsError) Error() string {
	return fmt.Sprintf("current running txns on db %d is %d, larger than limit %d", e.DBID, e.Running, e.Limit)
}

// Op is an operation on a transaction, for StateError.
type Op uint8

const (
	OpPrecommit Op = iota + 1
	OpCommit
	OpAbort
	OpPublish
)

// StateError: the operation is not allowed in the transaction's status. Its
// message is the text of the 2PC API (STREAMLOAD.md §3).
type StateError struct {
	TxnID  int64  `json:"txn_id"`
	Op     Op     `json:"op"`
	Status Status `json:"status"`
	Reason string `json:"reason,omitempty"` // abort reason, for ABORTED
}

func (e *StateError) Error() string {
	switch e.Op {
	case OpAbort:
		if e.Status == StatusAborted {
			return fmt.Sprintf("transaction [%d] is already aborted, abort reason: %s", e.TxnID, e.Reason)
		}
		return fmt.Sprintf("transaction [%d] is already %s, could not abort.", e.TxnID, e.Status)
	default:
		switch e.Status {
		case StatusAborted:
			return fmt.Sprintf("transaction [%d] is already aborted. abort reason: %s", e.TxnID, e.Reason)
		case StatusVisible:
			return fmt.Sprintf("transaction [%d] is already visible, not pre-committed.", e.TxnID)
		case StatusCommitted:
			return fmt.Sprintf("transaction [%d] is already committed, not pre-committed.", e.TxnID)
		case StatusPrepare:
			return fmt.Sprintf("transaction [%d] is prepare, not pre-committed.", e.TxnID)
		}
		return fmt.Sprintf("transaction [%d] is %s", e.TxnID, e.Status)
	}
}

func (e *StateError) Unwrap() error { return ErrState }

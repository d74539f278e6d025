package loader

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/storage"
)

// Backend is what a stream load writes into. The server implements it over
// the transaction manager and the tablet writers.
type Backend interface {
	// Authenticate checks HTTP Basic credentials; it returns an error
	// (typically *AuthError) when access is denied.
	Authenticate(user, password, host string) error
	// Begin starts a load transaction for db.table: it checks the label
	// (unique per database among non-aborted transactions) and returns the
	// target schema. A label held by another transaction is reported as
	// *LabelExistsError; any other error fails the load with its text.
	Begin(ctx context.Context, req BeginRequest) (Load, error)
}

// BeginRequest describes the load transaction to start.
type BeginRequest struct {
	DB, Table string
	Label     string
	// TwoPhaseCommit makes Commit precommit: the data is durable but stays
	// invisible until a later 2PC commit.
	TwoPhaseCommit bool
	// Timeout bounds the transaction from begin to commit.
	Timeout time.Duration
	User    string
	// CheckPrivilege asks the backend to check that User connecting from
	// Host may load into the table (a stream load); a request with it and
	// no Host is refused. Without it the caller checked (INSERT).
	CheckPrivilege bool
	// Host is the address of the client a stream load came from.
	Host string
}

// Load is one load transaction. Its methods are called from one goroutine,
// one at a time.
type Load interface {
	TxnID() int64
	// Columns is the table's full schema at begin, key columns first. The
	// slice must not change while the load runs.
	Columns() []catalog.Column
	// Table is the table as it was at begin.
	Table() *catalog.Table
	// SetPartialUpdate makes the load a partial column update (see
	// PlanPartialUpdate). It is called before the first Write.
	SetPartialUpdate(p *PartialUpdate) error
	// Delete makes the transaction a DELETE by condition of the table's
	// rows (of the partitions named; none: all), on a table that does not
	// merge on write. It is called instead of Write.
	Delete(ctx context.Context, pred storage.DeletePredicate, partitions []string) error
	// Write appends rows: one array per column of Columns(), in that order,
	// all of equal length, typed as Column.Type.Arrow(). The caller releases
	// its references when Write returns; a Load that keeps the arrays must
	// Retain them. Rows become visible only at Commit.
	Write(ctx context.Context, cols []arrow.Array) error
	// Commit makes everything written visible atomically, or precommits when
	// the load was begun with TwoPhaseCommit. publishTimeout reports that the
	// commit succeeded but visibility is delayed.
	Commit(ctx context.Context) (publishTimeout bool, err error)
	// Abort discards everything written. It is safe after a failed Write or
	// Commit, and more than once.
	Abort(ctx context.Context, reason string) error
}

// LabelExistsError is returned by Backend.Begin when a transaction that is
// not aborted holds the label.
type LabelExistsError struct {
	TxnID int64
	// ExistingStatus is RUNNING, PRECOMMITTED or FINISHED.
	ExistingStatus string
}

func (e *LabelExistsError) Error() string {
	return fmt.Sprintf("label already used by txn %d (%s)", e.TxnID, e.ExistingStatus)
}

// AuthError is returned by Backend.Authenticate when access is denied.
type AuthError struct {
	Msg string
}

func (e *AuthError) Error() string { return e.Msg }

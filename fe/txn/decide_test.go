package txn

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/catalog"
)

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		s        Status
		name     string
		existing string
		final    bool
	}{
		{StatusPrepare, "PREPARE", "RUNNING", false},
		{StatusPrecommitted, "PRECOMMITTED", "PRECOMMITTED", false},
		{StatusCommitted, "COMMITTED", "FINISHED", false},
		{StatusVisible, "VISIBLE", "FINISHED", true},
		{StatusAborted, "ABORTED", "", true},
	} {
		require.Equal(t, tc.name, tc.s.String())
		require.Equal(t, tc.existing, tc.s.ExistingJobStatus())
		require.Equal(t, tc.final, tc.s.Final())
		b, err := json.Marshal(tc.s)
		require.NoError(t, err)
		require.Equal(t, `"`+tc.name+`"`, string(b))
		var back Status
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, tc.s, back)
	}
	var s Status
	require.Error(t, json.Unmarshal([]byte(`"NOPE"`), &s))
}

func TestErrorTexts(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&LabelExistsError{Label: "l1", TxnID: 7, Status: StatusPrepare}, "Label [l1] has already been used, relate to txn [7]"},
		{&NotFoundError{TxnID: 9}, "transaction [9] not found"},
		{&StateError{TxnID: 1, Op: OpCommit, Status: StatusAborted, Reason: "User Abort"}, "transaction [1] is already aborted. abort reason: User Abort"},
		{&StateError{TxnID: 1, Op: OpCommit, Status: StatusVisible}, "transaction [1] is already visible, not pre-committed."},
		{&StateError{TxnID: 1, Op: OpCommit, Status: StatusCommitted}, "transaction [1] is already committed, not pre-committed."},
		{&StateError{TxnID: 1, Op: OpCommit, Status: StatusPrepare}, "transaction [1] is prepare, not pre-committed."},
		{&StateError{TxnID: 1, Op: OpAbort, Status: StatusAborted, Reason: "User Abort"}, "transaction [1] is already aborted, abort reason: User Abort"},
		{&StateError{TxnID: 1, Op: OpAbort, Status: StatusCommitted}, "transaction [1] is already COMMITTED, could not abort."},
		{&StateError{TxnID: 1, Op: OpAbort, Status: StatusVisible}, "transaction [1] is already VISIBLE, could not abort."},
	} {
		require.EqualError(t, tc.err, tc.want)
	}
	require.ErrorIs(t, &StateError{}, ErrState)
	require.ErrorIs(t, &NotFoundError{}, ErrNotFound)
}

func TestStateChecks(t *testing.T) {
	for _, tc := range []struct {
		s                      Status
		twoPC                  bool
		commit, abort, precomm bool // allowed
	}{
		{StatusPrepare, false, true, true, true},
		{StatusPrepare, true, false, true, true},
		{StatusPrecommitted, true, true, true, true}, // precommit again: idempotent
		{StatusCommitted, false, false, false, false},
		{StatusVisible, false, false, false, false},
		{StatusAborted, false, false, false, false},
	} {
		tx := &Txn{ID: 1, Status: tc.s, TwoPhaseCommit: tc.twoPC}
		require.Equal(t, tc.commit, checkCommit(tx) == nil, "commit from %s", tc.s)
		require.Equal(t, tc.abort, checkAbort(tx) == nil, "abort from %s", tc.s)
		_, err := checkPrecommit(tx)
		require.Equal(t, tc.precomm, err == nil, "precommit from %s", tc.s)
	}
}

func testTables() tableSet {
	return tableSet{
		1: {dbID: 9, tableID: 1, name: "a",
			stored:   &catalog.TableVersions{Partitions: map[int64]catalog.PartitionVersion{10: {Visible: 4, Next: 6}}},
			defaults: map[int64]catalog.PartitionVersion{10: {Visible: 1, Next: 2}, 11: {Visible: 1, Next: 2}}},
		2: {dbID: 9, tableID: 2, name: "b",
			defaults: map[int64]catalog.PartitionVersion{20: {Visible: 1, Next: 2}}},
	}
}

func TestAssignVersions(t *testing.T) {
	ts := testTables()
	parts := normalizeParts([]PartitionRef{{TableID: 2, PartitionID: 20}, {TableID: 1, PartitionID: 11}, {TableID: 1, PartitionID: 10}, {TableID: 1, PartitionID: 10}})
	got, updated, err := assignVersions(5, parts, ts)
	require.NoError(t, err)
	require.Equal(t, []PartitionVersion{{TableID: 1, PartitionID: 10, Version: 6}, {TableID: 1, PartitionID: 11, Version: 2}, {TableID: 2, PartitionID: 20, Version: 2}}, got)
	require.Equal(t, catalog.PartitionVersion{Visible: 4, Next: 7}, updated[1].Partitions[10])
	require.Equal(t, catalog.PartitionVersion{Visible: 1, Next: 3}, updated[1].Partitions[11])
	require.Equal(t, catalog.PartitionVersion{Visible: 1, Next: 3}, updated[2].Partitions[20])
	require.Equal(t, int64(6), ts[1].stored.Partitions[10].Next, "input untouched")

	_, _, err = assignVersions(5, []PartitionRef{{TableID: 3, PartitionID: 1}}, ts)
	require.ErrorIs(t, err, ErrInvalid)
	_, _, err = assignVersions(5, []PartitionRef{{TableID: 1, PartitionID: 99}}, ts)
	require.ErrorIs(t, err, ErrInvalid)
}

func TestPublishOrder(t *testing.T) {
	ts := testTables() // partition 10: visible 4
	for _, tc := range []struct {
		parts       []PartitionVersion
		ready, done bool
	}{
		{[]PartitionVersion{{TableID: 1, PartitionID: 10, Version: 5}}, true, false},
		{[]PartitionVersion{{TableID: 1, PartitionID: 10, Version: 5}, {TableID: 2, PartitionID: 20, Version: 2}}, true, false},
		{[]PartitionVersion{{TableID: 1, PartitionID: 10, Version: 6}}, false, false},
		{[]PartitionVersion{{TableID: 1, PartitionID: 10, Version: 4}}, true, true},
		{[]PartitionVersion{{TableID: 1, PartitionID: 10, Version: 5}, {TableID: 2, PartitionID: 20, Version: 3}}, false, false},
		{[]PartitionVersion{{TableID: 7, PartitionID: 70, Version: 9}}, true, true}, // dropped table
		{nil, true, true},
	} {
		ready, done := publishOrder(tc.parts, ts)
		require.Equal(t, tc.ready, ready, "%v", tc.parts)
		require.Equal(t, tc.done, done, "%v", tc.parts)
	}
	// Version 2 of partition 20 committed (next 3), then both made visible.
	ts[2].stored = &catalog.TableVersions{Partitions: map[int64]catalog.PartitionVersion{20: {Visible: 1, Next: 3}}}
	up := makeVisible([]PartitionVersion{{TableID: 1, PartitionID: 10, Version: 5}, {TableID: 2, PartitionID: 20, Version: 2}, {TableID: 1, PartitionID: 10, Version: 3}}, ts, 77)
	require.Equal(t, catalog.PartitionVersion{Visible: 5, VisibleTime: 77, Next: 6}, up[1].Partitions[10])
	require.Equal(t, catalog.PartitionVersion{Visible: 2, VisibleTime: 77, Next: 3}, up[2].Partitions[20])
}

func TestPlanRecovery(t *testing.T) {
	now := time.UnixMilli(1_000_000_000)
	self := Coordinator{Node: "n1", Incarnation: "b"}
	keep := time.Hour
	ms := now.UnixMilli()
	txns := []*Txn{
		{ID: 1, Status: StatusPrepare, Coordinator: Coordinator{"n1", "a"}, PrepareTime: ms, TimeoutMs: 1e9},
		{ID: 2, Status: StatusPrepare, Coordinator: Coordinator{"n1", "b"}, PrepareTime: ms, TimeoutMs: 1e9},
		{ID: 3, Status: StatusPrepare, Coordinator: Coordinator{"n2", "x"}, PrepareTime: ms - 2000, TimeoutMs: 1000},
		{ID: 4, Status: StatusPrecommitted, Coordinator: Coordinator{"n1", "a"}},
		{ID: 5, Status: StatusCommitted, CommitTime: 20},
		{ID: 6, Status: StatusCommitted, CommitTime: 10},
		{ID: 7, Status: StatusVisible, FinishTime: ms - 2*keep.Milliseconds()},
		{ID: 8, Status: StatusAborted, FinishTime: ms - keep.Milliseconds()/2},
		{ID: 9, Status: StatusAborted, FinishTime: ms - 2*keep.Milliseconds()},
	}
	got := planRecovery(now, RecoveryConfig{Self: self, LabelKeep: keep}, txns)
	require.Equal(t, []action{
		{actAbort, 1, "coordinator restarted"},
		{actAbort, 3, timeoutReason},
		{actExpire, 7, ""},
		{actExpire, 9, ""},
		{actPublish, 6, ""},
		{actPublish, 5, ""},
	}, got)
}

package txn

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/meta"
)

// Every error a transaction call returns crosses a call as ErrorCode and
// DecodeRPCError carry it: the same text, errors.As and errors.Is.
func TestRPCErrorRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code string
		same bool // DecodeRPCError returns the typed error itself
	}{
		{"label exists", &LabelExistsError{Label: "L", TxnID: 7, Status: StatusPrecommitted}, CodeLabelExists, true},
		{"not found", &NotFoundError{TxnID: 9}, CodeNotFound, true},
		{"not found by label", fmt.Errorf("%w: label %q", ErrNotFound, "L"), CodeNotFound, false},
		{"state", &StateError{TxnID: 3, Op: OpAbort, Status: StatusAborted, Reason: "User Abort"}, CodeState, true},
		{"state publish", &StateError{TxnID: 3, Op: OpPublish, Status: StatusPrepare}, CodeState, true},
		{"too many", &TooManyTxnsError{DBID: 2, Running: 1000, Limit: 1000}, CodeTooManyTxns, true},
		{"invalid", fmt.Errorf("%w: empty label", ErrInvalid), CodeInvalid, false},
		{"invalid partition", fmt.Errorf("%w: transaction [4]: partition 5 of table 6 does not exist", ErrInvalid), CodeInvalid, false},
		{"not your turn", fmt.Errorf("txn: finishing publish of %d: %w", 4, ErrNotYourTurn), CodeNotYourTurn, false},
		{"bare sentinel", ErrNotYourTurn, CodeNotYourTurn, true},
		{"not leader", fmt.Errorf("txn: begin %q: %w", "L", meta.ErrNotLeader), CodeNotLeader, false},
		{"wrapped typed", fmt.Errorf("txn: begin %q: retiring transaction 5: %w", "L", &StateError{TxnID: 5, Op: OpAbort, Status: StatusVisible}), CodeState, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, data := ErrorCode(tc.err)
			require.Equal(t, tc.code, code)
			var raw json.RawMessage
			if data != nil {
				b, err := json.Marshal(data)
				require.NoError(t, err)
				raw = b
			}
			got, ok := DecodeRPCError(code, tc.err.Error(), raw)
			require.True(t, ok)
			require.EqualError(t, got, tc.err.Error())
			if tc.same {
				require.Equal(t, tc.err, got)
			}
			for _, target := range []error{ErrNotFound, ErrState, ErrInvalid, ErrNotYourTurn, meta.ErrNotLeader} {
				require.Equal(t, errors.Is(tc.err, target), errors.Is(got, target), "errors.Is %v", target)
			}
			requireSameAs[*LabelExistsError](t, tc.err, got)
			requireSameAs[*NotFoundError](t, tc.err, got)
			requireSameAs[*StateError](t, tc.err, got)
			requireSameAs[*TooManyTxnsError](t, tc.err, got)

			// Passed on by a process that got it (a follower forwarding
			// to the leader), it keeps its code.
			code2, _ := ErrorCode(got)
			require.Equal(t, code, code2)
		})
	}
}

// requireSameAs checks that errors.As finds an E in got exactly when it
// finds one in want, with the same fields.
func requireSameAs[E error](t *testing.T, want, got error) {
	t.Helper()
	var w, g E
	wok, gok := errors.As(want, &w), errors.As(got, &g)
	require.Equal(t, wok, gok, "errors.As %T", w)
	if wok {
		require.Equal(t, w, g)
	}
}

func TestRPCErrorOthers(t *testing.T) {
	code, _ := ErrorCode(errors.New("meta: etcd transaction: boom"))
	require.Empty(t, code)
	code, _ = ErrorCode(nil)
	require.Empty(t, code)
	_, ok := DecodeRPCError("internal", "boom", nil)
	require.False(t, ok)

	// Data a peer of another version sent that does not decode: the code
	// and text still arrive.
	got, ok := DecodeRPCError(CodeState, "transaction [1] is prepare, not pre-committed.", json.RawMessage(`{"txn_id":"x"}`))
	require.True(t, ok)
	require.EqualError(t, got, "transaction [1] is prepare, not pre-committed.")
	require.ErrorIs(t, got, ErrState)
	got, ok = DecodeRPCError(CodeLabelExists, "Label [L] has already been used, relate to txn [1]", nil)
	require.True(t, ok)
	require.EqualError(t, got, "Label [L] has already been used, relate to txn [1]")
	code, _ = ErrorCode(got)
	require.Equal(t, CodeLabelExists, code)
}

package txn

import (
	"encoding/json"
	"errors"

	"github.com/strata-db/strata/fe/meta"
)

// Errors across a call.
//
// Only the leader frontend runs the transaction service; the other
// frontends and the backends reach it over RPC (fe/txn/txnrpc). The errors
// their callers act on must arrive as a local call gives them: the same
// type for errors.As, the same sentinel for errors.Is, and the same text,
// which becomes a stream load's Message and which connectors parse. So
// each travels as a code (the rpc package's error code), its text, and
// its fields as JSON data, and [DecodeRPCError] rebuilds it:
//
//	code                error                          data
//	txn_label_exists    *LabelExistsError              its fields
//	txn_not_found       *NotFoundError | ErrNotFound   its fields | none
//	txn_state           *StateError | ErrState         its fields | none
//	txn_too_many_txns   *TooManyTxnsError              its fields
//	txn_invalid         ErrInvalid                     none
//	txn_not_your_turn   ErrNotYourTurn                 none
//	not_leader          meta.ErrNotLeader              none
//
// not_leader means the process that served the call does not lead (or
// lost the leadership during it): its fenced write did not happen, and the
// caller may send the call to the leader.
const (
	CodeLabelExists = "txn_label_exists"
	CodeNotFound    = "txn_not_found"
	CodeState       = "txn_state"
	CodeTooManyTxns = "txn_too_many_txns"
	CodeInvalid     = "txn_invalid"
	CodeNotYourTurn = "txn_not_your_turn"
	CodeNotLeader   = "not_leader"
)

// RPCCode is the error's code across a call.
func (e *LabelExistsError) RPCCode() string { return CodeLabelExists }

// RPCData is what DecodeRPCError rebuilds the error from.
func (e *LabelExistsError) RPCData() any { return e }

// RPCCode is the error's code across a call.
func (e *NotFoundError) RPCCode() string { return CodeNotFound }

// RPCData is what DecodeRPCError rebuilds the error from.
func (e *NotFoundError) RPCData() any { return e }

// RPCCode is the error's code across a call.
func (e *StateError) RPCCode() string { return CodeState }

// RPCData is what DecodeRPCError rebuilds the error from.
func (e *StateError) RPCData() any { return e }

// RPCCode is the error's code across a call.
func (e *TooManyTxnsError) RPCCode() string { return CodeTooManyTxns }

// RPCData is what DecodeRPCError rebuilds the error from.
func (e *TooManyTxnsError) RPCData() any { return e }

// sentinels are the plain errors of the table above but not_leader.
var sentinels = []struct {
	err  error
	code string
}{
	{ErrNotFound, CodeNotFound},
	{ErrState, CodeState},
	{ErrInvalid, CodeInvalid},
	{ErrNotYourTurn, CodeNotYourTurn},
}

// ErrorCode returns the code and data that carry err across a call, or ""
// when err is none of this package's errors nor meta.ErrNotLeader (then
// only its text can travel). not_leader wins over the others: a caller
// retries on it whatever else went wrong.
func ErrorCode(err error) (code string, data any) {
	if err == nil {
		return "", nil
	}
	if errors.Is(err, meta.ErrNotLeader) {
		return CodeNotLeader, nil
	}
	var (
		le *LabelExistsError
		nf *NotFoundError
		se *StateError
		tm *TooManyTxnsError
		re *remoteError
	)
	switch {
	case errors.As(err, &le):
		return le.RPCCode(), le.RPCData()
	case errors.As(err, &nf):
		return nf.RPCCode(), nf.RPCData()
	case errors.As(err, &se):
		return se.RPCCode(), se.RPCData()
	case errors.As(err, &tm):
		return tm.RPCCode(), tm.RPCData()
	case errors.As(err, &re):
		return re.RPCCode(), re.RPCData()
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.code, nil
		}
	}
	return "", nil
}

// DecodeRPCError rebuilds the error a call failed with from its code,
// text and data, as ErrorCode encoded it on the other side: errors.As,
// errors.Is and Error() give what they gave there. It returns false for a
// code that is none of ErrorCode's. The error is the typed error itself
// when the text is that error's own, else an error with the text that
// wraps it (a local call returns, say, ErrInvalid wrapped with what was
// invalid).
func DecodeRPCError(code, message string, data json.RawMessage) (error, bool) {
	var typed, base error
	switch code {
	case CodeNotLeader:
		base = meta.ErrNotLeader
	case CodeLabelExists:
		if e := decodeData[LabelExistsError](data); e != nil {
			typed = e
		}
	case CodeNotFound:
		base = ErrNotFound
		if e := decodeData[NotFoundError](data); e != nil {
			typed = e
		}
	case CodeState:
		base = ErrState
		if e := decodeData[StateError](data); e != nil {
			typed = e
		}
	case CodeTooManyTxns:
		if e := decodeData[TooManyTxnsError](data); e != nil {
			typed = e
		}
	case CodeInvalid:
		base = ErrInvalid
	case CodeNotYourTurn:
		base = ErrNotYourTurn
	default:
		return nil, false
	}
	inner := base
	if typed != nil {
		inner = typed
	}
	if inner != nil && inner.Error() == message {
		return inner, true
	}
	// inner is nil only when the data of a typed error was missing or
	// undecodable (a peer of another version): the code and text still
	// arrive.
	return &remoteError{msg: message, err: inner, code: code, data: data}, true
}

// decodeData decodes a typed error's data; nil if there is none or it
// does not decode.
func decodeData[T any](data json.RawMessage) *T {
	if len(data) == 0 {
		return nil
	}
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil
	}
	return v
}

// remoteError is an error that came over a call: the text the other side
// gave, and the error of this package it wraps there. It keeps its code
// and data, so a process that passes it on (a follower forwarding to the
// leader) sends it on unchanged.
type remoteError struct {
	msg  string
	err  error // nil when the other side's data could not be decoded
	code string
	data json.RawMessage
}

func (e *remoteError) Error() string   { return e.msg }
func (e *remoteError) Unwrap() error   { return e.err }
func (e *remoteError) RPCCode() string { return e.code }

func (e *remoteError) RPCData() any {
	if len(e.data) == 0 {
		return nil
	}
	return e.data
}

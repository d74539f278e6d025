package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error codes. A handler may use any other lower_snake_case code through
// RPCCode; these are the ones this package produces itself, plus the gRPC
// canonical codes a non-Strata peer may send.
const (
	// CodeInternal is a handler error without a code of its own, a
	// recovered handler panic, or a failure of this package on the server.
	CodeInternal = "internal"
	// CodeUnavailable means the server could not be reached or went away
	// (connection refused, reset, server stopping). The call may or may
	// not have run; see [IsUnavailable].
	CodeUnavailable = "unavailable"
	// CodeDeadlineExceeded means the ctx deadline passed before the call
	// finished.
	CodeDeadlineExceeded = "deadline_exceeded"
	// CodeCanceled means the ctx was cancelled before the call finished.
	CodeCanceled = "canceled"
	// CodeUnimplemented means the server has no call of that name and kind.
	CodeUnimplemented = "unimplemented"
	// CodeInvalidArgument means the server could not decode the request:
	// a body that is not JSON, a garbage ticket, a missing descriptor.
	CodeInvalidArgument = "invalid_argument"
	// CodeResourceExhausted is what gRPC reports for a message over the
	// size limit (see [DefaultMaxMessageSize]).
	CodeResourceExhausted = "resource_exhausted"
)

// errorDomain marks the ErrorInfo detail that carries a Strata error, so a
// detail some other gRPC layer attached is never mistaken for one.
const errorDomain = "strata.rpc"

// dataKey is the ErrorInfo metadata key holding the error's JSON data.
const dataKey = "data"

// Error is a failed call as the client sees it: a handler's error, with its
// code and data, or a transport failure. Client methods return it wrapped
// with the call name and address; use errors.As, [IsUnavailable] or
// [CodeOf] to inspect it.
type Error struct {
	Code    string          // lower_snake_case, e.g. "internal", "unavailable"
	Message string          // the handler error's text, or the transport's
	Data    json.RawMessage // the handler error's RPCData as JSON, or nil
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// RPCCode returns e.Code, so a handler that returns an *Error it got from
// another call (a follower forwarding to the leader) passes the code on.
func (e *Error) RPCCode() string { return e.Code }

// RPCData returns e.Data, passed on like RPCCode.
func (e *Error) RPCData() any {
	if len(e.Data) == 0 {
		return nil
	}
	return e.Data
}

// Is makes errors.Is(err, context.Canceled) and
// errors.Is(err, context.DeadlineExceeded) hold for the matching codes, so
// code that checks for a context error keeps working across a call.
func (e *Error) Is(target error) bool {
	switch target {
	case context.Canceled:
		return e.Code == CodeCanceled
	case context.DeadlineExceeded:
		return e.Code == CodeDeadlineExceeded
	}
	return false
}

// IsUnavailable reports whether err is (or wraps) an [*Error] with code
// [CodeUnavailable]: the server could not be reached or went away, so the
// caller may try another replica. The call may have run in part (the
// connection can drop after the request was sent), so fail over only to
// calls that are safe to repeat or whose partial effects the caller can
// tell apart.
func IsUnavailable(err error) bool {
	return CodeOf(err) == CodeUnavailable
}

// CodeOf returns the code of the [*Error] in err's chain, or "" if there is
// none (err is nil, or a local error such as a request that could not be
// encoded).
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// errorf returns an *Error with code and a formatted message, for errors
// this package raises on the server.
func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// grpcCodes maps the Strata codes named after gRPC's canonical codes to
// those codes and back. Other codes travel as codes.Unknown on the wire
// (their own code is in the details).
var grpcCodes = map[string]codes.Code{
	CodeCanceled:          codes.Canceled,
	"unknown":             codes.Unknown,
	CodeInvalidArgument:   codes.InvalidArgument,
	CodeDeadlineExceeded:  codes.DeadlineExceeded,
	"not_found":           codes.NotFound,
	"already_exists":      codes.AlreadyExists,
	"permission_denied":   codes.PermissionDenied,
	CodeResourceExhausted: codes.ResourceExhausted,
	"failed_precondition": codes.FailedPrecondition,
	"aborted":             codes.Aborted,
	"out_of_range":        codes.OutOfRange,
	CodeUnimplemented:     codes.Unimplemented,
	CodeInternal:          codes.Internal,
	CodeUnavailable:       codes.Unavailable,
	"data_loss":           codes.DataLoss,
	"unauthenticated":     codes.Unauthenticated,
}

var codeNames = func() map[codes.Code]string {
	m := make(map[codes.Code]string, len(grpcCodes))
	for name, c := range grpcCodes {
		m[c] = name
	}
	return m
}()

// toError turns a handler's error into the *Error sent to the client.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) && e == err {
		// Returned as is (not wrapped): pass it on unchanged rather than
		// prefixing its message with its own code.
		if e.Code == "" {
			return &Error{Code: CodeInternal, Message: e.Message, Data: e.Data}
		}
		return e
	}
	out := &Error{Code: CodeInternal, Message: err.Error()}
	var coded interface{ RPCCode() string }
	switch {
	case errors.As(err, &coded):
		out.Code = coded.RPCCode()
		if withData, ok := coded.(interface{ RPCData() any }); ok {
			if d := withData.RPCData(); d != nil {
				// A marshalling failure leaves the data out: the code
				// and message still reach the client.
				out.Data, _ = json.Marshal(d)
			}
		}
	case errors.Is(err, context.Canceled):
		out.Code = CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		out.Code = CodeDeadlineExceeded
	}
	if out.Code == "" {
		out.Code = CodeInternal
	}
	return out
}

// toStatus encodes e as the gRPC status error a handler returns.
func toStatus(e *Error) error {
	gc, ok := grpcCodes[e.Code]
	if !ok {
		gc = codes.Unknown
	}
	// Protobuf strings must be valid UTF-8, or the status details fail to
	// marshal and the client would get a bare "internal" instead.
	st := status.New(gc, strings.ToValidUTF8(e.Message, "\uFFFD"))
	info := &errdetails.ErrorInfo{Domain: errorDomain, Reason: strings.ToValidUTF8(e.Code, "\uFFFD")}
	if len(e.Data) > 0 {
		info.Metadata = map[string]string{dataKey: strings.ToValidUTF8(string(e.Data), "\uFFFD")}
	}
	withDetails, err := st.WithDetails(info)
	if err != nil {
		return st.Err()
	}
	return withDetails.Err()
}

// fromGRPC turns an error from a gRPC client call into an *Error: a
// Strata error from the details if the status has one, else one mapped
// from the gRPC code. Errors that carry no status (local failures) come
// back unchanged.
func fromGRPC(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	// Not status.FromError: for a wrapped status it replaces the message
	// with the wrapper's text, and the message must arrive verbatim.
	var gs interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &gs) || gs.GRPCStatus() == nil {
		switch {
		case errors.Is(err, context.Canceled):
			return &Error{Code: CodeCanceled, Message: err.Error()}
		case errors.Is(err, context.DeadlineExceeded):
			return &Error{Code: CodeDeadlineExceeded, Message: err.Error()}
		}
		return err
	}
	st := gs.GRPCStatus()
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == errorDomain {
			out := &Error{Code: info.GetReason(), Message: st.Message()}
			if data, ok := info.GetMetadata()[dataKey]; ok {
				out.Data = json.RawMessage(data)
			}
			return out
		}
	}
	name, ok := codeNames[st.Code()]
	if !ok {
		name = CodeInternal
	}
	return &Error{Code: name, Message: st.Message()}
}

package server

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/session"
	"github.com/strata-db/strata/mysqlproto"
	"github.com/strata-db/strata/rpc"
)

// callForward runs a statement a follower forwards on the leader.
const callForward = "fe.forward"

// codeMySQL carries a *mysqlproto.Error across the wire; codeNotLeader
// says the frontend asked does not lead (any more).
const (
	codeMySQL     = "mysql"
	codeNotLeader = "not_leader"
)

type mysqlErr struct{ e *mysqlproto.Error }

func (m mysqlErr) Error() string   { return m.e.Message }
func (m mysqlErr) RPCCode() string { return codeMySQL }
func (m mysqlErr) RPCData() any    { return m.e }

type notLeaderErr struct{}

func (notLeaderErr) Error() string   { return meta.ErrNotLeader.Error() }
func (notLeaderErr) RPCCode() string { return codeNotLeader }

// registerForward serves forwarded statements on the leader.
func registerForward(srv *rpc.Server, eng *session.Engine) {
	srv.Handle(callForward, func(ctx context.Context, body json.RawMessage) (any, error) {
		var req session.ForwardRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, &rpc.Error{Code: rpc.CodeInvalidArgument, Message: "decoding the forwarded statement: " + err.Error()}
		}
		resp, err := eng.ExecuteForwarded(ctx, req)
		var me *mysqlproto.Error
		switch {
		case err == nil:
			return resp, nil
		case errors.Is(err, meta.ErrNotLeader):
			return nil, notLeaderErr{}
		case errors.As(err, &me):
			return nil, mysqlErr{me}
		}
		return nil, err
	})
}

// forwarder sends statements to the leader, finding it again when it
// changes, for up to a bound.
func forwarder(cli *rpc.Client, store *meta.Store) func(ctx context.Context, req session.ForwardRequest) (session.ForwardResponse, error) {
	return func(ctx context.Context, req session.ForwardRequest) (session.ForwardResponse, error) {
		deadline := time.Now().Add(30 * time.Second)
		backoff := 100 * time.Millisecond
		for {
			var resp session.ForwardResponse
			addr, err := leaderRPC(ctx, store)
			if err == nil {
				err = cli.Call(ctx, addr, callForward, req, &resp)
				if err == nil {
					return resp, nil
				}
				var re *rpc.Error
				if errors.As(err, &re) && re.Code == codeMySQL {
					var me mysqlproto.Error
					if json.Unmarshal(re.Data, &me) == nil {
						return resp, &me
					}
				}
			}
			retry := err != nil && (rpc.CodeOf(err) == codeNotLeader || rpc.IsUnavailable(err) || rpc.CodeOf(err) == "")
			if !retry || time.Now().After(deadline) || ctx.Err() != nil {
				return resp, mysqlproto.NewError(mysqlproto.ER_UNKNOWN_ERROR, "forwarding to the leader frontend: %v", err)
			}
			select {
			case <-ctx.Done():
				return resp, ctx.Err()
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Second)
		}
	}
}

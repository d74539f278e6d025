package rpc

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestStopWaitsForCalls stops a server while a call is running: the call
// finishes, and Stop returns after it.
func TestStopWaitsForCalls(t *testing.T) {
	s := startServer(t)
	c := newClient(t)
	started := make(chan struct{})
	s.Handle("slow", func(context.Context, json.RawMessage) (any, error) {
		close(started)
		time.Sleep(200 * time.Millisecond)
		return "done", nil
	})
	result := make(chan error, 1)
	go func() {
		var got string
		err := c.Call(context.Background(), s.addr, "slow", nil, &got)
		if err == nil && got != "done" {
			err = errAssert("got " + got)
		}
		result <- err
	}()
	<-started
	begin := time.Now()
	s.Stop()
	require.GreaterOrEqual(t, time.Since(begin), 100*time.Millisecond, "Stop waited for the call")
	require.NoError(t, <-result)

	err := c.Call(context.Background(), s.addr, "slow", nil, nil)
	require.True(t, IsUnavailable(err), "%v", err)
}

// TestStopIsBounded stops a server whose handler runs until cancelled: Stop
// cancels it after the stop timeout and returns once it has returned.
func TestStopIsBounded(t *testing.T) {
	s := startServer(t, WithStopTimeout(100*time.Millisecond))
	c := newClient(t)
	started := make(chan struct{})
	handlerDone := make(chan struct{})
	s.HandleStream("forever", func(ctx context.Context, _ json.RawMessage, _ RecordWriter) error {
		defer close(handlerDone)
		close(started)
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // cleaning up
		return ctx.Err()
	})
	go func() {
		r, err := c.Stream(context.Background(), s.addr, "forever", nil)
		if err == nil {
			r.Close()
		}
	}()
	<-started
	begin := time.Now()
	s.Stop()
	require.Less(t, time.Since(begin), 5*time.Second)
	select {
	case <-handlerDone:
	default:
		t.Fatal("Stop returned before the handler did")
	}
	require.Contains(t, s.logs.String(), "still running after the stop timeout")
}

type errAssert string

func (e errAssert) Error() string { return string(e) }

package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type echoReq struct {
	Name  string  `json:"name"`
	Count int     `json:"count"`
	Tags  []int64 `json:"tags"`
}

type echoResp struct {
	Greeting string `json:"greeting"`
	Sum      int64  `json:"sum"`
}

func TestCall(t *testing.T) {
	s := startServer(t)
	s.Handle("echo", func(_ context.Context, raw json.RawMessage) (any, error) {
		var req echoReq
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, err
		}
		var sum int64
		for _, v := range req.Tags {
			sum += v
		}
		return echoResp{Greeting: strings.Repeat("hello "+req.Name+" ", req.Count), Sum: sum}, nil
	})
	s.Handle("raw", func(_ context.Context, raw json.RawMessage) (any, error) {
		return raw, nil // a json.RawMessage result is sent as is
	})
	s.Handle("nothing", func(context.Context, json.RawMessage) (any, error) { return nil, nil })
	c := newClient(t)
	ctx := context.Background()

	var resp echoResp
	require.NoError(t, c.Call(ctx, s.addr, "echo", echoReq{Name: "Zoë", Count: 2, Tags: []int64{1, 2, 1 << 60}}, &resp))
	require.Equal(t, echoResp{Greeting: "hello Zoë hello Zoë ", Sum: 1<<60 + 3}, resp)

	var raw json.RawMessage
	require.NoError(t, c.Call(ctx, s.addr, "raw", nil, &raw))
	require.Equal(t, "null", string(raw), "a nil request is the JSON null")
	require.NoError(t, c.Call(ctx, s.addr, "raw", json.RawMessage(`{"a": [1, 2]}`), &raw))
	require.JSONEq(t, `{"a":[1,2]}`, string(raw))

	require.NoError(t, c.Call(ctx, s.addr, "nothing", 1, nil), "a nil resp discards the result")
	var p *echoResp
	require.NoError(t, c.Call(ctx, s.addr, "nothing", 1, &p))
	require.Nil(t, p)

	err := c.Call(ctx, s.addr, "echo", func() {}, nil)
	require.ErrorContains(t, err, "encoding request")
	require.Empty(t, CodeOf(err), "a local encoding error is no *rpc.Error")

	err = c.Call(ctx, s.addr, "echo", echoReq{}, &[]int{})
	require.ErrorContains(t, err, "decoding the response")
}

func TestCallCarriesDeadline(t *testing.T) {
	s := startServer(t)
	s.Handle("deadline", func(ctx context.Context, _ json.RawMessage) (any, error) {
		d, ok := ctx.Deadline()
		if !ok {
			return nil, errors.New("no deadline")
		}
		return time.Until(d).Milliseconds(), nil
	})
	c := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var left int64
	require.NoError(t, c.Call(ctx, s.addr, "deadline", nil, &left))
	require.Greater(t, left, int64(25_000))
	require.LessOrEqual(t, left, int64(30_000))
}

// tabletError is a typed handler error with a code and data, as the BE's
// "version missing" error will be.
type tabletError struct {
	TabletID int64  `json:"tablet_id"`
	Have     int64  `json:"have"`
	Want     int64  `json:"want"`
	Note     string `json:"note"`
}

func (e *tabletError) Error() string {
	return fmt.Sprintf("tablet %d: version %d missing\n  have %d — réplica «en retard» 副本", e.TabletID, e.Want, e.Have)
}
func (e *tabletError) RPCCode() string { return "version_missing" }
func (e *tabletError) RPCData() any    { return e }

type codeOnlyError struct{}

func (codeOnlyError) Error() string   { return "not the leader" }
func (codeOnlyError) RPCCode() string { return "not_leader" }

func TestCallErrors(t *testing.T) {
	s := startServer(t)
	typed := &tabletError{TabletID: 10042, Have: 7, Want: 9, Note: "line1\nline2\t\"quoted\" ✓"}
	s.Handle("typed", func(context.Context, json.RawMessage) (any, error) { return nil, typed })
	s.Handle("wrapped", func(context.Context, json.RawMessage) (any, error) {
		return nil, fmt.Errorf("publishing txn 5: %w", typed)
	})
	s.Handle("code-only", func(context.Context, json.RawMessage) (any, error) { return nil, codeOnlyError{} })
	s.Handle("plain", func(context.Context, json.RawMessage) (any, error) {
		return nil, errors.New("disk full\non /data — ☹")
	})
	s.Handle("bad-utf8", func(context.Context, json.RawMessage) (any, error) {
		return nil, errors.New("bad \xff\xfe bytes")
	})
	s.Handle("passthrough", func(context.Context, json.RawMessage) (any, error) {
		return nil, &Error{Code: "not_leader", Message: "leader is fe2:9020", Data: json.RawMessage(`{"leader":"fe2:9020"}`)}
	})
	s.Handle("ctx-canceled", func(context.Context, json.RawMessage) (any, error) {
		return nil, fmt.Errorf("scanning: %w", context.Canceled)
	})
	s.Handle("bad-response", func(context.Context, json.RawMessage) (any, error) { return make(chan int), nil })
	c := newClient(t)
	ctx := context.Background()

	t.Run("typed", func(t *testing.T) {
		err := c.Call(ctx, s.addr, "typed", nil, nil)
		e := requireCode(t, err, "version_missing")
		require.Equal(t, typed.Error(), e.Message, "the message arrives verbatim, newlines and non-ASCII included")
		var got tabletError
		require.NoError(t, json.Unmarshal(e.Data, &got))
		require.Equal(t, *typed, got)
		require.Contains(t, err.Error(), `rpc: call "typed" on `+s.addr)
		require.False(t, IsUnavailable(err))
	})
	t.Run("wrapped typed error keeps code and data", func(t *testing.T) {
		e := requireCode(t, c.Call(ctx, s.addr, "wrapped", nil, nil), "version_missing")
		require.Equal(t, "publishing txn 5: "+typed.Error(), e.Message)
		var got tabletError
		require.NoError(t, json.Unmarshal(e.Data, &got))
		require.Equal(t, *typed, got)
	})
	t.Run("code without data", func(t *testing.T) {
		e := requireCode(t, c.Call(ctx, s.addr, "code-only", nil, nil), "not_leader")
		require.Equal(t, "not the leader", e.Message)
		require.Nil(t, e.Data)
	})
	t.Run("plain error is internal", func(t *testing.T) {
		e := requireCode(t, c.Call(ctx, s.addr, "plain", nil, nil), CodeInternal)
		require.Equal(t, "disk full\non /data — ☹", e.Message)
	})
	t.Run("invalid UTF-8 is replaced", func(t *testing.T) {
		e := requireCode(t, c.Call(ctx, s.addr, "bad-utf8", nil, nil), CodeInternal)
		require.Equal(t, "bad \uFFFD bytes", e.Message)
	})
	t.Run("an *Error passes through unchanged", func(t *testing.T) {
		e := requireCode(t, c.Call(ctx, s.addr, "passthrough", nil, nil), "not_leader")
		require.Equal(t, "leader is fe2:9020", e.Message)
		require.JSONEq(t, `{"leader":"fe2:9020"}`, string(e.Data))
	})
	t.Run("context error keeps its code", func(t *testing.T) {
		err := c.Call(ctx, s.addr, "ctx-canceled", nil, nil)
		requireCode(t, err, CodeCanceled)
		require.ErrorIs(t, err, context.Canceled)
	})
	t.Run("unencodable response", func(t *testing.T) {
		e := requireCode(t, c.Call(ctx, s.addr, "bad-response", nil, nil), CodeInternal)
		require.Contains(t, e.Message, "encoding the response")
	})
}

func TestCallTransportErrors(t *testing.T) {
	c := newClient(t)

	t.Run("connection refused", func(t *testing.T) {
		s := startServer(t)
		addr := s.addr
		s.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := c.Call(ctx, addr, "echo", nil, nil)
		requireCode(t, err, CodeUnavailable)
		require.True(t, IsUnavailable(err))
		_, err = c.Stream(ctx, addr, "scan", nil)
		require.True(t, IsUnavailable(err), "%v", err)
	})

	t.Run("deadline", func(t *testing.T) {
		s := startServer(t)
		handlerDone := make(chan error, 1)
		s.Handle("slow", func(ctx context.Context, _ json.RawMessage) (any, error) {
			<-ctx.Done()
			handlerDone <- ctx.Err()
			return nil, ctx.Err()
		})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := c.Call(ctx, s.addr, "slow", nil, nil)
		requireCode(t, err, CodeDeadlineExceeded)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.False(t, IsUnavailable(err))
		// The handler's ctx ends by its own copy of the deadline or by the
		// client's reset when the client's deadline passes, whichever is
		// first.
		require.Error(t, <-handlerDone)
	})

	t.Run("cancel", func(t *testing.T) {
		s := startServer(t)
		started := make(chan struct{})
		handlerDone := make(chan error, 1)
		s.Handle("slow", func(ctx context.Context, _ json.RawMessage) (any, error) {
			close(started)
			<-ctx.Done()
			handlerDone <- ctx.Err()
			return nil, ctx.Err()
		})
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-started
			cancel()
		}()
		err := c.Call(ctx, s.addr, "slow", nil, nil)
		requireCode(t, err, CodeCanceled)
		require.ErrorIs(t, <-handlerDone, context.Canceled, "cancelling the call cancels the handler")
	})

	t.Run("server stops during the call", func(t *testing.T) {
		s := startServer(t, WithStopTimeout(50*time.Millisecond))
		started := make(chan struct{})
		s.Handle("stuck", func(ctx context.Context, _ json.RawMessage) (any, error) {
			close(started)
			<-ctx.Done()
			return nil, ctx.Err()
		})
		go func() {
			<-started
			s.Stop()
		}()
		err := c.Call(context.Background(), s.addr, "stuck", nil, nil)
		require.True(t, IsUnavailable(err), "%v", err)
	})

	t.Run("client closed", func(t *testing.T) {
		c2 := NewClient()
		require.NoError(t, c2.Close())
		require.ErrorIs(t, c2.Call(context.Background(), "127.0.0.1:1", "x", nil, nil), ErrClientClosed)
		require.NoError(t, c2.Close(), "Close is idempotent")
	})
}

func TestUnknownCalls(t *testing.T) {
	s := startServer(t)
	s.Handle("unary", func(context.Context, json.RawMessage) (any, error) { return nil, nil })
	s.HandleStream("stream", func(context.Context, json.RawMessage, RecordWriter) error { return nil })
	c := newClient(t)
	ctx := context.Background()

	e := requireCode(t, c.Call(ctx, s.addr, "no.such.call", nil, nil), CodeUnimplemented)
	require.Contains(t, e.Message, `"no.such.call"`)

	_, err := c.Stream(ctx, s.addr, "no.such.stream", nil)
	e = requireCode(t, err, CodeUnimplemented)
	require.Contains(t, e.Message, `"no.such.stream"`)

	u, err := c.Upload(ctx, s.addr, "no.such.upload", nil, int64StringSchema)
	require.NoError(t, err, "Upload itself does not wait for the server")
	e = requireCode(t, u.Close(nil), CodeUnimplemented)
	require.Contains(t, e.Message, `"no.such.upload"`)

	e = requireCode(t, c.Call(ctx, s.addr, "stream", nil, nil), CodeUnimplemented)
	require.Contains(t, e.Message, `call "stream" is a stream call, not a unary call`)
	_, err = c.Stream(ctx, s.addr, "unary", nil)
	e = requireCode(t, err, CodeUnimplemented)
	require.Contains(t, e.Message, `call "unary" is a unary call, not a stream call`)
}

func TestRegisterTwicePanics(t *testing.T) {
	s := NewServer(nil)
	s.Handle("x", func(context.Context, json.RawMessage) (any, error) { return nil, nil })
	require.PanicsWithValue(t, `BUG: rpc: call "x" registered twice (as unary, then as stream)`, func() {
		s.HandleStream("x", func(context.Context, json.RawMessage, RecordWriter) error { return nil })
	})
}

// TestConcurrentCalls shares one client between goroutines calling two
// servers, for the race detector.
func TestConcurrentCalls(t *testing.T) {
	mem := checkedAlloc(t)
	c := newClient(t, WithAllocator(mem))
	var addrs []string
	for range 2 {
		s := startServer(t, WithAllocator(mem))
		s.Handle("add", func(_ context.Context, raw json.RawMessage) (any, error) {
			var xy [2]int
			if err := json.Unmarshal(raw, &xy); err != nil {
				return nil, err
			}
			return xy[0] + xy[1], nil
		})
		s.HandleStream("rows", func(ctx context.Context, raw json.RawMessage, w RecordWriter) error {
			var n int
			if err := json.Unmarshal(raw, &n); err != nil {
				return err
			}
			rec := int64StringBatch(mem, 0, n)
			defer rec.Release()
			return w.Write(rec)
		})
		addrs = append(addrs, s.addr)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				addr := addrs[(g+i)%2]
				var sum int
				if err := c.Call(context.Background(), addr, "add", [2]int{g, i}, &sum); err != nil || sum != g+i {
					errs <- fmt.Errorf("add(%d, %d) = %d, %v", g, i, sum, err)
					return
				}
				r, err := c.Stream(context.Background(), addr, "rows", i+1)
				if err != nil {
					errs <- err
					return
				}
				rec, err := r.Read()
				if err != nil || rec.NumRows() != int64(i+1) {
					errs <- fmt.Errorf("rows(%d): %v", i+1, err)
				}
				r.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

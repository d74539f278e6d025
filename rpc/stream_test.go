package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"
)

func TestStreamAllTypes(t *testing.T) {
	mem := checkedAlloc(t)
	s := startServer(t, WithAllocator(mem))
	c := newClient(t, WithAllocator(mem))
	sizes := []int{1000, 1, 0, 4096}
	s.HandleStream("scan", func(ctx context.Context, raw json.RawMessage, w RecordWriter) error {
		var req struct{ Sizes []int }
		if err := json.Unmarshal(raw, &req); err != nil {
			return err
		}
		base := 0
		for _, n := range req.Sizes {
			rec := allTypesBatch(mem, base, n)
			err := w.Write(rec)
			rec.Release()
			if err != nil {
				return err
			}
			base += n
		}
		return nil
	})

	r, err := c.Stream(context.Background(), s.addr, "scan", map[string]any{"Sizes": sizes})
	require.NoError(t, err)
	defer r.Close()
	require.True(t, r.Schema().Equal(allTypesSchema), "schema %s", r.Schema())
	got := readAll(t, r)
	defer releaseAll(got)
	require.Len(t, got, len(sizes))
	base := 0
	for i, n := range sizes {
		want := allTypesBatch(mem, base, n)
		require.True(t, array.RecordEqual(want, got[i]), "batch %d:\nwant %v\ngot  %v", i, want, got[i])
		want.Release()
		base += n
	}
	// Reading past the end keeps returning io.EOF.
	_, err = r.Read()
	require.ErrorIs(t, err, io.EOF)
}

func TestStreamEmpty(t *testing.T) {
	mem := checkedAlloc(t)
	s := startServer(t, WithAllocator(mem))
	c := newClient(t, WithAllocator(mem))
	s.HandleStream("begin-only", func(_ context.Context, _ json.RawMessage, w RecordWriter) error {
		if err := w.Begin(int64StringSchema); err != nil {
			return err
		}
		return w.Begin(int64StringSchema) // the same schema again is fine
	})
	s.HandleStream("nothing", func(context.Context, json.RawMessage, RecordWriter) error { return nil })
	s.HandleStream("begin-other", func(_ context.Context, _ json.RawMessage, w RecordWriter) error {
		if err := w.Begin(int64StringSchema); err != nil {
			return err
		}
		rec := allTypesBatch(mem, 0, 1)
		defer rec.Release()
		return w.Write(rec)
	})
	ctx := context.Background()

	r, err := c.Stream(ctx, s.addr, "begin-only", nil)
	require.NoError(t, err)
	require.True(t, r.Schema().Equal(int64StringSchema))
	_, err = r.Read()
	require.ErrorIs(t, err, io.EOF)
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "Close is idempotent")
	_, err = r.Read()
	require.ErrorContains(t, err, "read after close")

	r, err = c.Stream(ctx, s.addr, "nothing", nil)
	require.NoError(t, err)
	require.Equal(t, 0, r.Schema().NumFields(), "a stream with no schema has the empty one")
	_, err = r.Read()
	require.ErrorIs(t, err, io.EOF)
	require.NoError(t, r.Close())

	_, err = c.Stream(ctx, s.addr, "begin-other", nil)
	e := requireCode(t, err, CodeInternal)
	require.Contains(t, e.Message, "differs from the stream's")
}

func TestStreamErrorAfterBatches(t *testing.T) {
	mem := checkedAlloc(t)
	s := startServer(t, WithAllocator(mem))
	c := newClient(t, WithAllocator(mem))
	s.HandleStream("scan", func(_ context.Context, _ json.RawMessage, w RecordWriter) error {
		for i := range 2 {
			rec := allTypesBatch(mem, i*10, 10)
			err := w.Write(rec)
			rec.Release()
			if err != nil {
				return err
			}
		}
		return &tabletError{TabletID: 3, Have: 1, Want: 2}
	})
	s.HandleStream("fail-first", func(context.Context, json.RawMessage, RecordWriter) error {
		return &tabletError{TabletID: 4, Have: 1, Want: 2}
	})

	r, err := c.Stream(context.Background(), s.addr, "scan", nil)
	require.NoError(t, err)
	defer r.Close()
	for range 2 {
		rec, err := r.Read()
		require.NoError(t, err)
		require.EqualValues(t, 10, rec.NumRows())
	}
	_, err = r.Read()
	e := requireCode(t, err, "version_missing")
	require.Contains(t, e.Message, "tablet 3: version 2 missing")
	require.Contains(t, err.Error(), `rpc: stream "scan" from `+s.addr)

	// An error before any batch comes back from Stream itself.
	_, err = c.Stream(context.Background(), s.addr, "fail-first", nil)
	requireCode(t, err, "version_missing")
}

// TestStreamClientCutsOff closes the reader in the middle of an endless
// stream: the handler's ctx is cancelled, its Write fails, and the server
// goes on serving.
func TestStreamClientCutsOff(t *testing.T) {
	mem := checkedAlloc(t)
	s := startServer(t, WithAllocator(mem))
	c := newClient(t, WithAllocator(mem))
	handlerErr := make(chan error, 1)
	s.HandleStream("endless", func(ctx context.Context, _ json.RawMessage, w RecordWriter) error {
		for i := 0; ; i++ {
			rec := int64StringBatch(mem, i*1024, 1024)
			err := w.Write(rec)
			rec.Release()
			if err != nil {
				handlerErr <- err
				if ctx.Err() == nil {
					return errors.New("BUG: Write failed but ctx is not cancelled")
				}
				return err
			}
		}
	})
	s.Handle("ping", func(context.Context, json.RawMessage) (any, error) { return "pong", nil })

	for _, how := range []string{"close", "cancel"} {
		t.Run(how, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r, err := c.Stream(ctx, s.addr, "endless", nil)
			require.NoError(t, err)
			for range 3 {
				_, err := r.Read()
				require.NoError(t, err)
			}
			if how == "close" {
				require.NoError(t, r.Close())
			} else {
				cancel()
				var err error
				for err == nil { // batches already received may still be read
					_, err = r.Read()
				}
				requireCode(t, err, CodeCanceled)
				require.NoError(t, r.Close())
			}
			select {
			case err := <-handlerErr:
				require.Equal(t, CodeCanceled, CodeOf(err), "handler's Write error: %v", err)
			case <-time.After(10 * time.Second):
				t.Fatal("the handler did not see the client go")
			}
			var pong string
			require.NoError(t, c.Call(context.Background(), s.addr, "ping", nil, &pong))
			require.Equal(t, "pong", pong)
		})
	}
}

// TestStreamServerStops stops the server in the middle of a stream: the
// client's Read fails with "unavailable", the error a caller fails over on.
func TestStreamServerStops(t *testing.T) {
	mem := checkedAlloc(t)
	s := startServer(t, WithAllocator(mem), WithStopTimeout(50*time.Millisecond))
	c := newClient(t, WithAllocator(mem))
	s.HandleStream("stuck", func(ctx context.Context, _ json.RawMessage, w RecordWriter) error {
		rec := int64StringBatch(mem, 0, 10)
		defer rec.Release()
		if err := w.Write(rec); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	})
	r, err := c.Stream(context.Background(), s.addr, "stuck", nil)
	require.NoError(t, err)
	defer r.Close()
	_, err = r.Read()
	require.NoError(t, err)
	s.Stop()
	_, err = r.Read()
	require.True(t, IsUnavailable(err), "%v", err)
}

// TestLargeMessages sends a batch, an upload and a response of tens of MiB,
// above gRPC's 4 MiB default.
func TestLargeMessages(t *testing.T) {
	mem := checkedAlloc(t)
	s := startServer(t, WithAllocator(mem))
	c := newClient(t, WithAllocator(mem))
	const size = 24 << 20
	big := func() arrow.RecordBatch {
		b := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
		defer b.Release()
		b.Append(make([]byte, size))
		col := b.NewArray()
		defer col.Release()
		return array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "blob", Type: arrow.BinaryTypes.Binary}}, nil), []arrow.Array{col}, 1)
	}
	s.HandleStream("big", func(_ context.Context, _ json.RawMessage, w RecordWriter) error {
		rec := big()
		defer rec.Release()
		return w.Write(rec)
	})
	s.HandleUpload("big-upload", func(_ context.Context, _ json.RawMessage, r RecordReader) (any, error) {
		n := 0
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			if err != nil {
				return nil, err
			}
			n += len(rec.Column(0).(*array.Binary).Value(0))
		}
	})
	s.Handle("big-call", func(context.Context, json.RawMessage) (any, error) {
		return make([]byte, size), nil
	})
	ctx := context.Background()

	r, err := c.Stream(ctx, s.addr, "big", nil)
	require.NoError(t, err)
	rec, err := r.Read()
	require.NoError(t, err)
	require.Len(t, rec.Column(0).(*array.Binary).Value(0), size)
	require.NoError(t, r.Close())

	u, err := c.Upload(ctx, s.addr, "big-upload", nil, nil)
	require.NoError(t, err)
	rec = big()
	require.NoError(t, u.Write(rec))
	rec.Release()
	var n int
	require.NoError(t, u.Close(&n))
	require.Equal(t, size, n)

	var resp []byte
	require.NoError(t, c.Call(ctx, s.addr, "big-call", nil, &resp))
	require.Len(t, resp, size)

	// Over the limit: the call fails cleanly.
	small := NewClient(WithMaxMessageSize(1<<20), WithAllocator(mem))
	defer small.Close()
	r, err = small.Stream(ctx, s.addr, "big", nil)
	require.NoError(t, err, "the schema is small")
	_, err = r.Read()
	requireCode(t, err, CodeResourceExhausted)
	require.NoError(t, r.Close())
}

// TestStreamReleasesDictionaries checks a handler failing after a
// dictionary batch leaves nothing allocated (the writer keeps the last
// dictionaries it sent).
func TestStreamReleasesDictionaries(t *testing.T) {
	mem := checkedAlloc(t)
	s := startServer(t, WithAllocator(mem))
	c := newClient(t, WithAllocator(mem))
	s.HandleStream("dict", func(_ context.Context, _ json.RawMessage, w RecordWriter) error {
		rec := allTypesBatch(mem, 0, 50)
		defer rec.Release()
		if err := w.Write(rec); err != nil {
			return err
		}
		return errors.New("stop here")
	})
	r, err := c.Stream(context.Background(), s.addr, "dict", nil)
	require.NoError(t, err)
	_, err = r.Read()
	require.NoError(t, err)
	_, err = r.Read()
	requireCode(t, err, CodeInternal)
	require.NoError(t, r.Close())
}

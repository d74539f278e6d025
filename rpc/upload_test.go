package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

type writeReq struct {
	TabletID int64 `json:"tablet_id"`
	Batches  int   `json:"batches"`
}

type writeResp struct {
	TabletID int64 `json:"tablet_id"`
	Rows     int64 `json:"rows"`
}

// checkAllTypes is an upload handler that compares what it reads with
// allTypesBatch(mem, i*100, 100) for i < req.Batches.
func checkAllTypes(mem memory.Allocator) UploadHandler {
	return func(_ context.Context, raw json.RawMessage, r RecordReader) (any, error) {
		var req writeReq
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, err
		}
		if !r.Schema().Equal(allTypesSchema) {
			return nil, fmt.Errorf("schema %s", r.Schema())
		}
		var rows int64
		for i := 0; ; i++ {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				if i != req.Batches {
					return nil, fmt.Errorf("got %d batches, want %d", i, req.Batches)
				}
				return writeResp{TabletID: req.TabletID, Rows: rows}, nil
			}
			if err != nil {
				return nil, err
			}
			want := allTypesBatch(mem, i*100, 100)
			equal := array.RecordEqual(want, rec)
			want.Release()
			if !equal {
				return nil, fmt.Errorf("batch %d differs: %v", i, rec)
			}
			rows += rec.NumRows()
		}
	}
}

func TestUpload(t *testing.T) {
	mem := checkedAlloc(t)
	s := startServer(t, WithAllocator(mem))
	c := newClient(t, WithAllocator(mem))
	s.HandleUpload("tablet.write", checkAllTypes(mem))
	ctx := context.Background()

	for _, tc := range []struct {
		name    string
		schema  *arrow.Schema
		batches int
	}{
		{"schema given", allTypesSchema, 3},
		{"schema from first batch", nil, 2},
		{"no batches", allTypesSchema, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := c.Upload(ctx, s.addr, "tablet.write", writeReq{TabletID: 7, Batches: tc.batches}, tc.schema)
			require.NoError(t, err)
			for i := range tc.batches {
				rec := allTypesBatch(mem, i*100, 100)
				require.NoError(t, u.Write(rec))
				rec.Release() // Write does not keep the batch
			}
			var resp writeResp
			require.NoError(t, u.Close(&resp))
			require.Equal(t, writeResp{TabletID: 7, Rows: int64(tc.batches) * 100}, resp)
			u.Cancel() // after Close: nothing happens
			require.ErrorContains(t, u.Close(nil), "closed twice")
		})
	}

	t.Run("no batches and no schema", func(t *testing.T) {
		s.HandleUpload("count-fields", func(_ context.Context, _ json.RawMessage, r RecordReader) (any, error) {
			if _, err := r.Read(); !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("read: %v", err)
			}
			return r.Schema().NumFields(), nil
		})
		u, err := c.Upload(ctx, s.addr, "count-fields", nil, nil)
		require.NoError(t, err)
		n := -1
		require.NoError(t, u.Close(&n))
		require.Equal(t, 0, n)
	})
}

func TestUploadHandlerError(t *testing.T) {
	mem := checkedAlloc(t)
	s := startServer(t, WithAllocator(mem))
	c := newClient(t, WithAllocator(mem))
	s.HandleUpload("reject", func(context.Context, json.RawMessage, RecordReader) (any, error) {
		return nil, &tabletError{TabletID: 9, Have: 1, Want: 3}
	})
	s.HandleUpload("fail-after-one", func(_ context.Context, _ json.RawMessage, r RecordReader) (any, error) {
		if _, err := r.Read(); err != nil {
			return nil, err
		}
		return nil, errors.New("tablet writer: disk full")
	})
	s.HandleUpload("done-early", func(_ context.Context, _ json.RawMessage, r RecordReader) (any, error) {
		_, err := r.Read()
		return "enough", err
	})
	ctx := context.Background()

	t.Run("error at Close", func(t *testing.T) {
		u, err := c.Upload(ctx, s.addr, "reject", nil, int64StringSchema)
		require.NoError(t, err)
		err = u.Close(nil)
		e := requireCode(t, err, "version_missing")
		require.Contains(t, e.Message, "tablet 9: version 3 missing")
		require.Contains(t, err.Error(), `rpc: upload "reject" to `+s.addr)
	})

	// The handler fails while the client still writes: a later Write
	// returns the handler's error (writes are buffered, so not the very
	// next one), and so does Close.
	for _, name := range []string{"fail-after-one", "done-early"} {
		t.Run(name, func(t *testing.T) {
			u, err := c.Upload(ctx, s.addr, name, nil, int64StringSchema)
			require.NoError(t, err)
			rec := int64StringBatch(mem, 0, 4096)
			defer rec.Release()
			deadline := time.Now().Add(10 * time.Second)
			for err == nil && time.Now().Before(deadline) {
				err = u.Write(rec)
			}
			require.Equal(t, err, u.Write(rec), "the error sticks")
			require.Equal(t, err, u.Close(nil))
			if name == "fail-after-one" {
				e := requireCode(t, err, CodeInternal)
				require.Equal(t, "tablet writer: disk full", e.Message)
			} else {
				e := requireCode(t, err, CodeInternal)
				require.Contains(t, e.Message, "ended the upload before the client closed it")
			}
		})
	}
}

func TestUploadCancel(t *testing.T) {
	mem := checkedAlloc(t)
	s := startServer(t, WithAllocator(mem))
	c := newClient(t, WithAllocator(mem))
	firstRead := make(chan struct{})
	handlerErr := make(chan error, 1)
	s.HandleUpload("drain", func(ctx context.Context, _ json.RawMessage, r RecordReader) (any, error) {
		for i := 0; ; i++ {
			_, err := r.Read()
			if err != nil {
				handlerErr <- err
				return nil, err
			}
			if i == 0 {
				close(firstRead)
			}
		}
	})
	u, err := c.Upload(context.Background(), s.addr, "drain", nil, int64StringSchema)
	require.NoError(t, err)
	rec := int64StringBatch(mem, 0, 100)
	defer rec.Release()
	require.NoError(t, u.Write(rec))
	<-firstRead
	u.Cancel()
	select {
	case err := <-handlerErr:
		requireCode(t, err, CodeCanceled)
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not see the cancel")
	}
	requireCode(t, u.Close(nil), CodeCanceled)
	requireCode(t, u.Write(rec), CodeCanceled)
}

// TestUploadSchemaMismatch writes a batch whose schema is not the upload's:
// a local error that ends the upload, and the handler sees it cancelled.
func TestUploadSchemaMismatch(t *testing.T) {
	mem := checkedAlloc(t)
	s := startServer(t, WithAllocator(mem))
	c := newClient(t, WithAllocator(mem))
	firstRead := make(chan struct{})
	handlerErr := make(chan error, 1)
	s.HandleUpload("w", func(_ context.Context, _ json.RawMessage, r RecordReader) (any, error) {
		for i := 0; ; i++ {
			if _, err := r.Read(); err != nil {
				handlerErr <- err
				return nil, err
			}
			if i == 0 {
				close(firstRead)
			}
		}
	})
	u, err := c.Upload(context.Background(), s.addr, "w", nil, int64StringSchema)
	require.NoError(t, err)
	good := int64StringBatch(mem, 0, 3)
	defer good.Release()
	require.NoError(t, u.Write(good))
	<-firstRead
	bad := allTypesBatch(mem, 0, 3)
	defer bad.Release()
	err = u.Write(bad)
	require.ErrorContains(t, err, "different schema")
	require.Equal(t, err, u.Close(nil))
	select {
	case err := <-handlerErr:
		requireCode(t, err, CodeCanceled)
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not see the upload end")
	}
}

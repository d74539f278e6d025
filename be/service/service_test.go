package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/service"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/rpc"
	"github.com/strata-db/strata/storage"
)

// The wire form of the be.write request, as the tests send it by hand.
type writeRequest struct {
	Tablet int64              `json:"tablet"`
	Txn    int64              `json:"txn"`
	Schema service.WireSchema `json:"schema"`
}

// wireSchema is the Arrow schema Remote uploads the test table's rows
// with.
var wireSchema = arrow.NewSchema([]arrow.Field{
	{Name: "c1", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "c2", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// A remote writer's batches become one pending rowset that, published,
// reads back exactly; Close returns the replica's version.
func TestRemoteWriter(t *testing.T) {
	ctx := testCtx(t)
	cli := newClient(t)
	b := newBackend(t, 1, cli)
	r := b.remote()
	const tablet = 7

	w, err := r.OpenWriter(ctx, tablet, 100, testSchema())
	require.NoError(t, err)
	writeRows(t, w, makeRows(0, 100), makeRows(100, 0), makeRows(100, 1), makeRows(101, 4000))
	v, err := w.Close()
	require.NoError(t, err)
	require.Equal(t, int64(1), v, "a tablet the backend never saw is at version 1")
	require.Equal(t, []int64{100}, b.store.PendingTxns())
	require.Equal(t, []tabletstore.TabletInfo{{TabletID: tablet, Pending: true}}, b.store.TabletReport())

	publishOn(t, 100, 2, map[int64]bool{tablet: true}, b)
	require.Equal(t, makeRows(0, 4101), readRows(t, b.store, tablet, 2))
	require.Equal(t, 1, b.store.TabletReport()[0].Rowsets, "the batches make one rowset")

	// The next load's writer says the replica is at version 2 now; the
	// batches arrive in any key order and are sorted.
	w, err = r.OpenWriter(ctx, tablet, 101, testSchema())
	require.NoError(t, err)
	writeRows(t, w, makeRows(5000, 10), makeRows(4101, 899))
	v, err = w.Close()
	require.NoError(t, err)
	require.Equal(t, int64(2), v)
	publishOn(t, 101, 3, map[int64]bool{tablet: true}, b)
	require.Equal(t, makeRows(0, 5010), readRows(t, b.store, tablet, 3))
	require.Equal(t, makeRows(0, 4101), readRows(t, b.store, tablet, 2))

	// Report over RPC says the same as the store.
	report, err := r.Report(ctx)
	require.NoError(t, err)
	require.Equal(t, b.store.TabletReport(), report)
	require.Equal(t, int64(3), report[0].Version)
	require.Equal(t, int64(5010), report[0].Rows)
}

// A writer cancelled in the middle of its upload, or whose client goes
// away (its ctx cancelled), leaves nothing pending and no files.
func TestRemoteWriterCancel(t *testing.T) {
	const tablet = 7
	check := func(t *testing.T, b *backend, txn int64) {
		t.Helper()
		// Stop waits for the handler to return: whatever it left is
		// left for good.
		b.stop(t)
		require.Empty(t, b.store.PendingTxns())
		require.Empty(t, b.segFiles(t, tablet))
		res, err := b.store.PublishReplica([]tabletstore.TxnPublish{{TxnID: txn,
			Tablets: map[int64]tabletstore.PublishTablet{tablet: {Version: 2, Written: true}}}})
		require.NoError(t, err)
		require.Equal(t, tabletstore.Missing, res[0][tablet])
	}

	t.Run("cancel", func(t *testing.T) {
		ctx := testCtx(t)
		mem := checkedAlloc(t)
		b := newBackend(t, 1, newClient(t, rpc.WithAllocator(mem)), backendOpts{mem: mem})
		w, err := b.remote().OpenWriter(ctx, tablet, 100, testSchema())
		require.NoError(t, err)
		writeRows(t, w, makeRows(0, 1000), makeRows(1000, 1000))
		w.Cancel()
		_, err = w.Close()
		require.Error(t, err, "a cancelled writer does not close")
		check(t, b, 100)
	})

	t.Run("client goes away", func(t *testing.T) {
		ctx, cancel := context.WithCancel(testCtx(t))
		mem := checkedAlloc(t)
		b := newBackend(t, 1, newClient(t, rpc.WithAllocator(mem)), backendOpts{mem: mem})
		w, err := b.remote().OpenWriter(ctx, tablet, 100, testSchema())
		require.NoError(t, err)
		writeRows(t, w, makeRows(0, 1000))
		cancel()
		_, err = w.Close()
		require.Error(t, err)
		require.True(t, errors.Is(err, context.Canceled), "%v", err)
		check(t, b, 100)
	})

	// The backend stops with the upload under way (its stop timeout
	// cancels the handler): nothing stays either, and the client learns
	// that the backend is gone.
	t.Run("backend stops", func(t *testing.T) {
		ctx := testCtx(t)
		mem := checkedAlloc(t)
		b := newBackend(t, 1, newClient(t, rpc.WithAllocator(mem)), backendOpts{mem: mem})
		w, err := b.remote().OpenWriter(ctx, tablet, 100, testSchema())
		require.NoError(t, err)
		writeRows(t, w, makeRows(0, 1000))
		check(t, b, 100)
		cols := arrays(t, makeRows(1000, 10))
		defer release(cols)
		err = w.Write(cols)
		if err == nil {
			_, err = w.Close()
		} else {
			w.Cancel()
		}
		require.True(t, rpc.IsUnavailable(err), "%v", err)
	})
}

// uploadRaw uploads batches to be.write with a request the test writes
// itself and returns the error of the upload.
func uploadRaw(ctx context.Context, cli *rpc.Client, addr string, req any, recs ...arrow.RecordBatch) error {
	var schema *arrow.Schema
	if len(recs) > 0 {
		schema = recs[0].Schema()
	}
	u, err := cli.Upload(ctx, addr, "be.write", req, schema)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if err := u.Write(rec); err != nil {
			u.Cancel()
			return err
		}
	}
	return u.Close(nil)
}

func testBatch(t *testing.T, rows [][]any) arrow.RecordBatch {
	t.Helper()
	cols := arrays(t, rows)
	defer release(cols)
	return array.NewRecordBatch(wireSchema, cols, int64(len(rows)))
}

// Requests the backend cannot make sense of are refused with
// invalid_argument and a message that says why, and leave nothing.
func TestWriteMalformed(t *testing.T) {
	ctx := testCtx(t)
	cli := newClient(t)
	b := newBackend(t, 1, cli)
	good := writeRequest{Tablet: 7, Txn: 100, Schema: service.ToWire(testSchema())}

	oneCol := func() arrow.RecordBatch {
		bld := array.NewInt64Builder(memory.DefaultAllocator)
		defer bld.Release()
		bld.AppendValues([]int64{1, 2, 3}, nil)
		col := bld.NewArray()
		defer col.Release()
		return array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}}, nil),
			[]arrow.Array{col}, 3)
	}
	for _, tc := range []struct {
		name string
		req  any
		recs func() []arrow.RecordBatch
		msg  string
	}{
		{name: "not an object", req: json.RawMessage(`"write tablet 7"`), msg: "decoding the request"},
		{name: "wrong field type", req: json.RawMessage(`{"tablet":"seven","txn":1}`), msg: "decoding the request"},
		{name: "null", req: nil, msg: "the request carries no table schema"},
		{name: "no schema", req: writeRequest{Tablet: 7, Txn: 100}, msg: "the request carries no table schema"},
		{name: "no columns", req: json.RawMessage(`{"tablet":7,"txn":100,"schema":{"table":{"id":10,"schema":{"columns":[]}}}}`),
			msg: "the request carries no table schema"},
		{name: "invalid column type", req: json.RawMessage(`{"tablet":7,"txn":100,"schema":{"table":{"id":10,"schema":{"columns":[{"id":1,"name":"k","type":{"Kind":99}}]}}}}`),
			msg: `column "k" of the request's table has an invalid type`},
		{name: "wrong column count", req: good, recs: func() []arrow.RecordBatch { return []arrow.RecordBatch{oneCol()} },
			msg: "a batch of 1 columns for a tablet of 2"},
		{name: "control: a good request", req: good,
			recs: func() []arrow.RecordBatch {
				return []arrow.RecordBatch{testBatch(t, makeRows(0, 10)), testBatch(t, makeRows(10, 10))}
			},
			msg: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var recs []arrow.RecordBatch
			if tc.recs != nil {
				recs = tc.recs()
			}
			defer func() {
				for _, r := range recs {
					r.Release()
				}
			}()
			err := uploadRaw(ctx, cli, b.addr, tc.req, recs...)
			if tc.msg == "" {
				require.NoError(t, err) // the control: the request is good
				require.NoError(t, b.store.AbortTxn(100))
				return
			}
			msg := requireCode(t, err, rpc.CodeInvalidArgument)
			require.Contains(t, msg, tc.msg)
			require.Empty(t, b.store.PendingTxns())
		})
	}
	// A batch of the right width whose columns have other types than the
	// tablet's is refused as well, rather than written.
	t.Run("wrong column types", func(t *testing.T) {
		swapped := arrow.NewSchema([]arrow.Field{
			{Name: "c1", Type: arrow.BinaryTypes.String, Nullable: true},
			{Name: "c2", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		}, nil)
		sb := array.NewStringBuilder(memory.DefaultAllocator)
		sb.AppendValues([]string{"b", "a"}, nil)
		s := sb.NewArray()
		sb.Release()
		ib := array.NewInt64Builder(memory.DefaultAllocator)
		ib.AppendValues([]int64{2, 1}, nil)
		i := ib.NewArray()
		ib.Release()
		rec := array.NewRecordBatch(swapped, []arrow.Array{s, i}, 2)
		s.Release()
		i.Release()
		defer rec.Release()
		err := uploadRaw(ctx, cli, b.addr, good, rec)
		msg := requireCode(t, err, rpc.CodeInvalidArgument)
		require.Contains(t, msg, "column 0 of the batch is of type utf8, the tablet's column 1 of type int64")
		require.Empty(t, b.store.PendingTxns())
		require.Empty(t, b.segFiles(t, 7))
	})
	require.NotContains(t, b.logs.String(), "panicked")
}

// A handler's error (a tablet past the version limit) reaches the client
// as a *service.BackendError whose text is the store's own.
func TestWriteTooManyVersions(t *testing.T) {
	ctx := testCtx(t)
	cli := newClient(t)
	b := newBackend(t, 4, cli, backendOpts{store: tabletstore.Options{MaxVersions: 1}})
	const tablet = 7
	for txn := int64(1); txn <= 2; txn++ {
		loadOn(t, txn, tablet, makeRows(int(txn)*10, 10), b)
		publishOn(t, txn, txn+1, map[int64]bool{tablet: true}, b)
	}
	want := (&tabletstore.TooManyVersionsError{TabletID: tablet, Count: 2, Limit: 1}).Error()

	// Locally: the store's error.
	_, err := b.svc.OpenWriter(tablet, 3, testSchema())
	require.ErrorIs(t, err, tabletstore.ErrTooManyVersions)
	require.Equal(t, want, err.Error())

	w, err := b.remote().OpenWriter(ctx, tablet, 3, testSchema())
	require.NoError(t, err, "the upload starts before the backend opens its writer")
	cols := arrays(t, makeRows(100, 10))
	err = w.Write(cols)
	release(cols)
	if err == nil {
		_, err = w.Close()
	} else {
		w.Cancel()
	}
	var be *service.BackendError
	require.True(t, errors.As(err, &be), "%v (%T)", err, err)
	require.Equal(t, want, be.Error())
	require.Equal(t, int64(4), be.Backend)
	require.Equal(t, b.addr, be.Addr)
	require.True(t, be.Temporary(), "a tablet past its version limit may take the load later (code %q)", be.Code)
	require.Empty(t, b.store.PendingTxns())
}

// DELETE conditions and aborts over RPC.
func TestRemoteDeleteAndAbort(t *testing.T) {
	ctx := testCtx(t)
	cli := newClient(t)
	b := newBackend(t, 1, cli)
	r := b.remote()
	const tablet = 7
	loadOn(t, 1, tablet, makeRows(0, 100), b)
	publishOn(t, 1, 2, map[int64]bool{tablet: true}, b)

	pred := storage.DeletePredicate{Conditions: []storage.DeleteCondition{{Column: 1, Op: "<", Ints: []int64{40}}}}
	require.NoError(t, r.AddDelete(ctx, tablet, 2, testSchema(), pred))
	require.Equal(t, []int64{2}, b.store.PendingTxns())
	publishOn(t, 2, 3, map[int64]bool{tablet: true}, b)
	require.Equal(t, makeRows(40, 60), readRows(t, b.store, tablet, 3))

	// An abort drops what a transaction left pending, on every tablet.
	loadOn(t, 3, tablet, makeRows(100, 10), b)
	loadOn(t, 3, tablet+1, makeRows(100, 10), b)
	require.NoError(t, r.AddDelete(ctx, tablet+2, 3, testSchema(), pred))
	require.Equal(t, []int64{3}, b.store.PendingTxns())
	require.NoError(t, r.AbortTxn(ctx, 3))
	require.Empty(t, b.store.PendingTxns())

	// A DELETE without a schema, or on a column the tablet has not.
	err := cli.Call(ctx, b.addr, "be.delete", json.RawMessage(`{"tablet":7,"txn":4,"predicate":{"conditions":[]}}`), nil)
	require.Contains(t, requireCode(t, err, rpc.CodeInvalidArgument), "the request carries no table schema")
	err = cli.Call(ctx, b.addr, "be.delete", json.RawMessage(`{"tablet":7,"txn":4,"schema":{"table":{"schema":{"columns":[{"id":1,"type":{"Kind":0}}]}}}}`), nil)
	require.Contains(t, requireCode(t, err, rpc.CodeInvalidArgument), "has an invalid type")
	err = cli.Call(ctx, b.addr, "be.delete", json.RawMessage(`[1,2,3]`), nil)
	require.Contains(t, requireCode(t, err, rpc.CodeInvalidArgument), "decoding the request")
	bad := storage.DeletePredicate{Conditions: []storage.DeleteCondition{{Column: 99, Op: "=", Ints: []int64{1}}}}
	err = r.AddDelete(ctx, tablet, 4, testSchema(), bad)
	var be *service.BackendError
	require.True(t, errors.As(err, &be), "%v (%T)", err, err)
	lerr := b.local().AddDelete(ctx, tablet, 5, testSchema(), bad)
	require.Error(t, lerr)
	require.Equal(t, lerr.Error(), be.Error(), "a remote backend's error reads as a local one's")
	require.Empty(t, b.store.PendingTxns())
}

// A writer cancelled after its memtable was flushed to a segment file
// removes the file.
func TestRemoteWriterCancelAfterFlush(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a million rows")
	}
	ctx := testCtx(t)
	b := newBackend(t, 1, newClient(t))
	const tablet, batch = 7, 1 << 16
	kb := array.NewInt64Builder(memory.DefaultAllocator)
	for i := range batch {
		kb.Append(int64(i))
	}
	k := kb.NewArray()
	kb.Release()
	vb := array.NewStringBuilder(memory.DefaultAllocator)
	vb.AppendNulls(batch)
	v := vb.NewArray()
	vb.Release()
	defer k.Release()
	defer v.Release()

	w, err := b.remote().OpenWriter(ctx, tablet, 100, testSchema())
	require.NoError(t, err)
	// The delta writer flushes at 1<<20 rows.
	for range 1<<20/batch + 1 {
		require.NoError(t, w.Write([]arrow.Array{k, v}))
	}
	require.Eventually(t, func() bool { return len(b.segFiles(t, tablet)) > 0 }, 20*time.Second, 10*time.Millisecond,
		"the backend flushed a segment")
	w.Cancel()
	b.stop(t)
	require.Empty(t, b.segFiles(t, tablet))
	require.Empty(t, b.store.PendingTxns())
}

// The same calls on a Local and a Remote backend give the same results,
// and the same error texts.
func TestLocalAndRemoteAgree(t *testing.T) {
	ctx := testCtx(t)
	cli := newClient(t)
	lb, rb := newBackend(t, 1, cli), newBackend(t, 2, cli)
	bes := []service.Backend{lb.local(), rb.remote()}
	const tablet = 7
	same := func(what string, f func(be service.Backend) (any, error)) any {
		t.Helper()
		var res [2]any
		var errs [2]error
		for i, be := range bes {
			res[i], errs[i] = f(be)
		}
		if errs[0] != nil || errs[1] != nil {
			require.Error(t, errs[0], what)
			require.Error(t, errs[1], what)
			require.Equal(t, errs[0].Error(), errs[1].Error(), what)
		}
		require.Equal(t, res[0], res[1], what)
		return res[0]
	}
	load := func(txn int64, rows [][]any) func(be service.Backend) (any, error) {
		return func(be service.Backend) (any, error) {
			w, err := be.OpenWriter(ctx, tablet, txn, testSchema())
			if err != nil {
				return nil, err
			}
			writeRows(t, w, rows)
			return w.Close()
		}
	}
	publish := func(txns ...tabletstore.TxnPublish) func(be service.Backend) (any, error) {
		return func(be service.Backend) (any, error) { return be.Publish(ctx, txns) }
	}
	written := func(txn, v int64) tabletstore.TxnPublish {
		return tabletstore.TxnPublish{TxnID: txn, Tablets: map[int64]tabletstore.PublishTablet{tablet: {Version: v, Written: true}}}
	}

	require.Equal(t, int64(1), same("load 1", load(1, makeRows(0, 100))))
	require.Equal(t, []map[int64]tabletstore.TabletPublishResult{{tablet: tabletstore.Published}},
		same("publish 1", publish(written(1, 2))))
	require.Equal(t, int64(2), same("load 2", load(2, makeRows(100, 100))))
	same("delete", func(be service.Backend) (any, error) {
		pred := storage.DeletePredicate{Conditions: []storage.DeleteCondition{{Column: 2, Op: "IS NULL"}}}
		return nil, be.AddDelete(ctx, tablet, 3, testSchema(), pred)
	})
	// Txn 4 is missing, 3 publishes its DELETE, 2 publishes again.
	require.Equal(t, []map[int64]tabletstore.TabletPublishResult{
		{tablet: tabletstore.Published}, {tablet: tabletstore.Published}, {tablet: tabletstore.Missing},
	}, same("publish 2-4", publish(written(2, 3), written(3, 4), written(4, 5))))
	same("publish again", publish(written(2, 3)))
	sum := same("checksum", func(be service.Backend) (any, error) { return be.Checksum(ctx, tablet, 4) }).(service.ChecksumResult)
	require.Equal(t, int64(160), sum.Rows, "every fifth row has a NULL v")
	same("checksum of a version not held", func(be service.Backend) (any, error) { return be.Checksum(ctx, tablet, 5) })
	same("report", func(be service.Backend) (any, error) { return be.Report(ctx) })

	// An alter job's rebuild replaces versions 2-3 by its converted rows.
	same("converted rows", load(50, makeRows(1000, 10)))
	same("rebuild", func(be service.Backend) (any, error) { return nil, be.Rebuild(ctx, tablet, 50, 3) })
	same("rebuild below version 2", func(be service.Backend) (any, error) { return nil, be.Rebuild(ctx, tablet, 50, 1) })
	same("load to abort", load(60, makeRows(0, 10)))
	same("abort", func(be service.Backend) (any, error) { return nil, be.AbortTxn(ctx, 60) })
	same("report after", func(be service.Backend) (any, error) { return be.Report(ctx) })
	for _, b := range []*backend{lb, rb} {
		require.Empty(t, b.store.PendingTxns())
		require.Equal(t, makeRows(1000, 10), readRows(t, b.store, tablet, 3))
		require.Equal(t, int64(4), b.version(tablet))
	}
}

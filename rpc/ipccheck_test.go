package rpc

import (
	"encoding/binary"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// ipcMessages returns the Flight messages of a stream of two allTypes
// batches written with opts.
func ipcMessages(t *testing.T, opts ...ipc.Option) []*flight.FlightData {
	t.Helper()
	var msgs []*flight.FlightData
	w := flight.NewRecordWriter(captureSender{&msgs}, opts...)
	for i := range 2 {
		rec := allTypesBatch(memory.DefaultAllocator, i*100, 100)
		require.NoError(t, w.Write(rec))
		rec.Release()
	}
	require.NoError(t, w.Close())
	return msgs
}

func TestCheckIPCAcceptsValidMessages(t *testing.T) {
	for name, opts := range map[string][]ipc.Option{
		"plain": nil,
		"zstd":  {ipc.WithZstd()},
		"lz4":   {ipc.WithLZ4()},
	} {
		t.Run(name, func(t *testing.T) {
			msgs := ipcMessages(t, opts...)
			require.Greater(t, len(msgs), 2) // schema, dictionaries, batches
			for i, m := range msgs {
				require.NoError(t, checkIPC(m.DataHeader, m.DataBody, 1<<20), "message %d", i)
			}
		})
	}
	require.NoError(t, checkIPC(nil, nil, 0), "a message without a header")
}

func TestCheckIPCRejects(t *testing.T) {
	t.Run("schema fields vector longer than the header", func(t *testing.T) {
		header := ipcMessages(t)[0].DataHeader
		fb := flatbuf(header)
		msg, err := fb.root()
		require.NoError(t, err)
		schema, ok, err := fb.tableField(msg, 8)
		require.True(t, ok)
		require.NoError(t, err)
		pos, err := fb.field(schema, 6)
		require.NoError(t, err)
		vec, err := fb.deref(pos)
		require.NoError(t, err)
		binary.LittleEndian.PutUint32(header[vec:], 0x7fff_ffff)
		require.ErrorIs(t, checkIPC(header, nil, 1<<20), errBadHeader)
	})
	t.Run("fields nested too deep", func(t *testing.T) {
		typ := arrow.DataType(arrow.PrimitiveTypes.Int32)
		for range maxFieldDepth + 1 {
			typ = arrow.StructOf(arrow.Field{Name: "f", Type: typ})
		}
		schema := arrow.NewSchema([]arrow.Field{{Name: "deep", Type: typ}}, nil)
		var msgs []*flight.FlightData
		w := flight.NewRecordWriter(captureSender{&msgs}, ipc.WithSchema(schema))
		require.NoError(t, w.Close())
		require.ErrorIs(t, checkIPC(msgs[0].DataHeader, nil, 1<<20), errBadHeader)
	})
	t.Run("compressed buffer claims a huge size", func(t *testing.T) {
		msgs := ipcMessages(t, ipc.WithZstd())
		var batch *flight.FlightData
		for _, m := range msgs {
			if ipc.NewMessage(memory.NewBufferBytes(m.DataHeader), memory.NewBufferBytes(nil)).Type() == ipc.MessageRecordBatch {
				batch = m
				break
			}
		}
		require.NotNil(t, batch)
		fb := flatbuf(batch.DataHeader)
		msg, err := fb.root()
		require.NoError(t, err)
		rb, _, err := fb.tableField(msg, 8)
		require.NoError(t, err)
		start, n, err := fb.vector(rb, 8, 16)
		require.NoError(t, err)
		patched := false
		for i := range n {
			off := binary.LittleEndian.Uint64(batch.DataHeader[start+16*i:])
			length := binary.LittleEndian.Uint64(batch.DataHeader[start+16*i+8:])
			if length >= 8 {
				binary.LittleEndian.PutUint64(batch.DataBody[off:], 1<<40)
				patched = true
				break
			}
		}
		require.True(t, patched)
		require.ErrorIs(t, checkIPC(batch.DataHeader, batch.DataBody, 1<<30), errBadHeader)
	})
	t.Run("truncated headers", func(t *testing.T) {
		// Any prefix either passes (arrow-go then fails on it by itself)
		// or fails; none panics.
		for _, m := range ipcMessages(t) {
			for n := range len(m.DataHeader) {
				_ = checkIPC(m.DataHeader[:n], m.DataBody, 1<<20)
			}
		}
	})
}

// TestUploadCompressed uploads zstd-compressed batches, as another Flight
// client might send them; the server reads them.
func TestUploadCompressed(t *testing.T) {
	mem := checkedAlloc(t)
	s := startServer(t, WithAllocator(mem))
	s.HandleUpload("tablet.write", checkAllTypes(mem))
	msgs := ipcMessages(t, ipc.WithZstd())
	msgs[0].FlightDescriptor = cmdDescriptor(`{"call":"tablet.write","req":{"tablet_id":1,"batches":2}}`)
	fc := rawClient(t, s.addr)
	stream, err := fc.DoPut(t.Context())
	require.NoError(t, err)
	for _, m := range msgs {
		require.NoError(t, stream.Send(m))
	}
	require.NoError(t, stream.CloseSend())
	res, err := stream.Recv()
	require.NoError(t, err)
	require.JSONEq(t, `{"tablet_id":1,"rows":200}`, string(res.AppMetadata))
}

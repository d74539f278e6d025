package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// rawClient is a plain Flight client, for sending what Client never
// would.
func rawClient(t *testing.T, addr string) flight.Client {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return flight.NewClientFromConn(conn, nil)
}

// schemaMessage returns the FlightData message carrying schema.
func schemaMessage(t *testing.T) *flight.FlightData {
	t.Helper()
	var msgs []*flight.FlightData
	w := flight.NewRecordWriter(captureSender{&msgs}, ipc.WithSchema(int64StringSchema))
	require.NoError(t, w.Close())
	require.Len(t, msgs, 1)
	return msgs[0]
}

// batchMessages returns the FlightData messages of a stream of one batch:
// schema, then the batch.
func batchMessages(t *testing.T) []*flight.FlightData {
	t.Helper()
	var msgs []*flight.FlightData
	w := flight.NewRecordWriter(captureSender{&msgs})
	rec := int64StringBatch(memory.DefaultAllocator, 0, 10)
	defer rec.Release()
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())
	require.Len(t, msgs, 2)
	return msgs
}

// captureSender keeps copies of the messages a flight.Writer sends (it
// reuses its buffers).
type captureSender struct{ msgs *[]*flight.FlightData }

func (c captureSender) Send(fd *flight.FlightData) error {
	*c.msgs = append(*c.msgs, &flight.FlightData{
		FlightDescriptor: fd.FlightDescriptor,
		DataHeader:       append([]byte(nil), fd.DataHeader...),
		DataBody:         append([]byte(nil), fd.DataBody...),
		AppMetadata:      append([]byte(nil), fd.AppMetadata...),
	})
	return nil
}

func cmdDescriptor(cmd string) *flight.FlightDescriptor {
	return &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: []byte(cmd)}
}

// TestMalformedInput sends what a broken or hostile peer might, and checks
// each gets a clear error while the server keeps serving.
func TestMalformedInput(t *testing.T) {
	mem := checkedAlloc(t)
	s := startServer(t, WithAllocator(mem))
	s.Handle("echo", func(_ context.Context, req json.RawMessage) (any, error) { return req, nil })
	s.HandleStream("scan", func(context.Context, json.RawMessage, RecordWriter) error { return nil })
	uploadErr := make(chan error, 1)
	s.HandleUpload("load", func(_ context.Context, _ json.RawMessage, r RecordReader) (any, error) {
		for {
			_, err := r.Read()
			if errors.Is(err, io.EOF) {
				return "ok", nil
			}
			if err != nil {
				uploadErr <- err
				return nil, err
			}
		}
	})
	fc := rawClient(t, s.addr)
	ctx := context.Background()

	doAction := func(typ string, body []byte) error {
		stream, err := fc.DoAction(ctx, &flight.Action{Type: typ, Body: body})
		if err != nil {
			return fromGRPC(err)
		}
		for {
			if _, err := stream.Recv(); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return fromGRPC(err)
			}
		}
	}
	doGet := func(ticket []byte) error {
		stream, err := fc.DoGet(ctx, &flight.Ticket{Ticket: ticket})
		if err != nil {
			return fromGRPC(err)
		}
		for {
			if _, err := stream.Recv(); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return fromGRPC(err)
			}
		}
	}
	doPut := func(msgs ...*flight.FlightData) error {
		stream, err := fc.DoPut(ctx)
		require.NoError(t, err)
		for _, m := range msgs {
			if err := stream.Send(m); err != nil {
				break // the server ended the call; Recv has its status
			}
		}
		require.NoError(t, stream.CloseSend())
		for {
			if _, err := stream.Recv(); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return fromGRPC(err)
			}
		}
	}
	check := func(t *testing.T, err error, code, contains string) {
		t.Helper()
		e := requireCode(t, err, code)
		require.Contains(t, e.Message, contains)
	}

	t.Run("DoAction body not JSON", func(t *testing.T) {
		check(t, doAction("echo", []byte("{not json")), CodeInvalidArgument, `call "echo": request body is not valid JSON`)
		check(t, doAction("echo", []byte{0xff, 0x00}), CodeInvalidArgument, "not valid JSON")
		require.NoError(t, doAction("echo", nil), "an empty body is null")
	})
	t.Run("DoAction unknown type", func(t *testing.T) {
		check(t, doAction("", nil), CodeUnimplemented, `unknown call ""`)
	})
	t.Run("DoGet garbage ticket", func(t *testing.T) {
		for _, ticket := range []string{"", "\x00\xff\xfegarbage", `{"call": 5}`, `{"call": ""}`, `{"req": {}}`, `["scan"]`, `{"call":"scan"} trailing`} {
			check(t, doGet([]byte(ticket)), CodeInvalidArgument, "decoding the DoGet ticket")
		}
		check(t, doGet([]byte(`{"call":"nope"}`)), CodeUnimplemented, `unknown call "nope"`)
		require.NoError(t, doGet([]byte(`{"call":"scan","req":{"x":1},"future_field":true}`)))
	})
	t.Run("DoPut first message lacks a descriptor", func(t *testing.T) {
		check(t, doPut(schemaMessage(t)), CodeInvalidArgument, "must carry a CMD FlightDescriptor")
		check(t, doPut(), CodeInvalidArgument, "ended before its first message")
		path := &flight.FlightData{FlightDescriptor: &flight.FlightDescriptor{Type: flight.DescriptorPATH, Path: []string{"load"}}}
		check(t, doPut(path), CodeInvalidArgument, "must carry a CMD FlightDescriptor")
	})
	t.Run("DoPut garbage descriptor", func(t *testing.T) {
		check(t, doPut(&flight.FlightData{FlightDescriptor: cmdDescriptor("\x01\x02")}), CodeInvalidArgument, "decoding the DoPut descriptor")
		check(t, doPut(&flight.FlightData{FlightDescriptor: cmdDescriptor(`{"call":"nope"}`)}), CodeUnimplemented, `unknown call "nope"`)
	})
	t.Run("DoPut ends before its schema", func(t *testing.T) {
		check(t, doPut(&flight.FlightData{FlightDescriptor: cmdDescriptor(`{"call":"load"}`)}), CodeInvalidArgument, `upload "load" ended before its schema`)
	})
	t.Run("DoPut garbage schema", func(t *testing.T) {
		msg := &flight.FlightData{FlightDescriptor: cmdDescriptor(`{"call":"load"}`), DataHeader: []byte("definitely not flatbuffers")}
		check(t, doPut(msg), CodeInvalidArgument, `upload "load": reading the schema`)
	})
	t.Run("DoPut schema and descriptor in one message", func(t *testing.T) {
		// What other Flight clients send: accepted.
		msgs := batchMessages(t)
		msgs[0].FlightDescriptor = cmdDescriptor(`{"call":"load"}`)
		require.NoError(t, doPut(msgs...))
	})
	t.Run("DoPut garbage batch", func(t *testing.T) {
		msgs := batchMessages(t)
		msgs[0].FlightDescriptor = cmdDescriptor(`{"call":"load"}`)
		for i := range msgs[1].DataHeader {
			msgs[1].DataHeader[i] ^= 0x5a
		}
		check(t, doPut(msgs...), CodeInvalidArgument, `upload "load": reading record batches`)
		requireCode(t, <-uploadErr, CodeInvalidArgument)
	})
	t.Run("DoPut truncated batch body", func(t *testing.T) {
		msgs := batchMessages(t)
		msgs[0].FlightDescriptor = cmdDescriptor(`{"call":"load"}`)
		msgs[1].DataBody = msgs[1].DataBody[:len(msgs[1].DataBody)/3]
		err := doPut(msgs...)
		requireCode(t, err, CodeInvalidArgument)
		requireCode(t, <-uploadErr, CodeInvalidArgument)
	})

	// After all that, the server still works.
	var got json.RawMessage
	require.NoError(t, newClient(t).Call(ctx, s.addr, "echo", map[string]int{"a": 1}, &got))
	require.JSONEq(t, `{"a":1}`, string(got))
}

func TestHandlerPanics(t *testing.T) {
	mem := checkedAlloc(t)
	s := startServer(t, WithAllocator(mem))
	c := newClient(t, WithAllocator(mem))
	s.Handle("boom.unary", func(context.Context, json.RawMessage) (any, error) {
		var m map[string]int
		m["x"] = 1 // nil map write
		return nil, nil
	})
	s.HandleStream("boom.stream", func(_ context.Context, _ json.RawMessage, w RecordWriter) error {
		rec := int64StringBatch(mem, 0, 5)
		defer rec.Release()
		if err := w.Write(rec); err != nil {
			return err
		}
		panic("stream handler gave up")
	})
	s.HandleStream("boom.stream-first", func(context.Context, json.RawMessage, RecordWriter) error {
		panic(errors.New("before any batch"))
	})
	s.HandleUpload("boom.upload", func(context.Context, json.RawMessage, RecordReader) (any, error) {
		var a []int
		return a[3], nil
	})
	ctx := context.Background()

	e := requireCode(t, c.Call(ctx, s.addr, "boom.unary", nil, nil), CodeInternal)
	require.Contains(t, e.Message, `call "boom.unary" panicked: assignment to entry in nil map`)

	r, err := c.Stream(ctx, s.addr, "boom.stream", nil)
	require.NoError(t, err)
	_, err = r.Read()
	require.NoError(t, err)
	_, err = r.Read()
	e = requireCode(t, err, CodeInternal)
	require.Contains(t, e.Message, `call "boom.stream" panicked: stream handler gave up`)
	require.NoError(t, r.Close())

	_, err = c.Stream(ctx, s.addr, "boom.stream-first", nil)
	e = requireCode(t, err, CodeInternal)
	require.Contains(t, e.Message, `call "boom.stream-first" panicked: before any batch`)

	u, err := c.Upload(ctx, s.addr, "boom.upload", nil, int64StringSchema)
	require.NoError(t, err)
	e = requireCode(t, u.Close(nil), CodeInternal)
	require.Contains(t, e.Message, `call "boom.upload" panicked: runtime error: index out of range`)

	logs := s.logs.String()
	for _, name := range []string{"boom.unary", "boom.stream", "boom.stream-first", "boom.upload"} {
		require.Contains(t, logs, "call="+name)
	}
	require.Equal(t, 4, strings.Count(logs, "rpc: handler panicked"))
	require.Contains(t, logs, "stack=", "the stack is logged")

	var pong json.RawMessage
	s.Handle("ping", func(context.Context, json.RawMessage) (any, error) { return "pong", nil })
	require.NoError(t, c.Call(ctx, s.addr, "ping", nil, &pong), "the server survives")
}

func TestListActions(t *testing.T) {
	s := startServer(t)
	s.Handle("b", func(context.Context, json.RawMessage) (any, error) { return nil, nil })
	s.Handle("a", func(context.Context, json.RawMessage) (any, error) { return nil, nil })
	s.HandleStream("s", func(context.Context, json.RawMessage, RecordWriter) error { return nil })
	stream, err := rawClient(t, s.addr).ListActions(context.Background(), &flight.Empty{})
	require.NoError(t, err)
	var names []string
	for {
		a, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		names = append(names, a.GetType())
	}
	require.Equal(t, []string{"a", "b"}, names)
}

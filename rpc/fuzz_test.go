package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
)

// FuzzDecodeEnvelope feeds arbitrary bytes to the decoders of what a peer
// sends before any handler runs: the ticket/descriptor envelope and the
// unary body. No input may panic; what decodes must re-encode to the same
// call and request.
//
//	go test -run XXX -fuzz FuzzDecodeEnvelope ./rpc/
func FuzzDecodeEnvelope(f *testing.F) {
	for _, seed := range []string{
		`{"call":"tablet.write","req":{"tablet_id":1,"txn_id":2}}`,
		`{"call":"scan"}`,
		`{"call":"x","req":null}`,
		`{"call":"x","req":[1,"two",{"3":4.5e6}],"extra":true}`,
		`{"call":""}`,
		`{"call":1}`,
		`["call"]`,
		`null`,
		`{"call":"a\u0000b","req":"\ud800"}`,
		"{\"call\":\"x\"",
		"\xff\xfe",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := decodeEnvelope(data)
		if err == nil {
			if env.Call == "" || !json.Valid(env.Req) {
				t.Fatalf("decoded %q to call %q req %q", data, env.Call, env.Req)
			}
			enc, err := encodeEnvelope(env.Call, env.Req)
			if err != nil {
				t.Fatalf("re-encoding %q: %v", data, err)
			}
			again, err := decodeEnvelope(enc)
			if err != nil || again.Call != env.Call {
				t.Fatalf("round trip of %q: %+v, %v", data, again, err)
			}
			var a, b any
			if json.Unmarshal(env.Req, &a) != nil || json.Unmarshal(again.Req, &b) != nil {
				t.Fatalf("round trip of %q: request no longer decodes", data)
			}
		}
		if body, err := decodeBody(data); err == nil && !json.Valid(body) {
			t.Fatalf("decodeBody(%q) accepted invalid JSON", data)
		}
	})
}

// FuzzUpload feeds a DoPut of arbitrary messages (descriptor, schema and
// batch bytes) to the server's DoPut, whose handler reads every batch and
// every value. No input may panic out of DoPut, and no memory may leak.
//
//	go test -run XXX -fuzz FuzzUpload ./rpc/
func FuzzUpload(f *testing.F) {
	var msgs []*flight.FlightData
	w := flight.NewRecordWriter(captureSender{&msgs})
	for i := range 2 {
		rec := allTypesBatch(memory.DefaultAllocator, i*10, 10)
		if err := w.Write(rec); err != nil {
			f.Fatal(err)
		}
		rec.Release()
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	cmd := []byte(`{"call":"load","req":{"n":1}}`)
	f.Add(cmd, msgs[0].DataHeader, msgs[1].DataHeader, msgs[1].DataBody)
	f.Add(cmd, msgs[0].DataHeader, msgs[2].DataHeader, msgs[2].DataBody[:len(msgs[2].DataBody)/2])
	f.Add(cmd, msgs[0].DataHeader[:len(msgs[0].DataHeader)/2], []byte{}, []byte{})
	f.Add([]byte(`{"call":"nope"}`), msgs[0].DataHeader, []byte{}, []byte{})

	f.Fuzz(func(t *testing.T, cmd, schemaHeader, batchHeader, batchBody []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		s := NewServer(slog.New(slog.DiscardHandler), WithAllocator(mem))
		s.HandleUpload("load", func(_ context.Context, _ json.RawMessage, r RecordReader) (any, error) {
			for {
				rec, err := r.Read()
				if errors.Is(err, io.EOF) {
					return nil, nil
				}
				if err != nil {
					return nil, err
				}
				for _, col := range rec.Columns() {
					for i := range col.Len() {
						_ = col.ValueStr(i)
					}
				}
			}
		})
		stream := &fakePutStream{ctx: context.Background(), msgs: []*flight.FlightData{
			{FlightDescriptor: &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: cmd}, DataHeader: schemaHeader},
			{DataHeader: batchHeader, DataBody: batchBody},
		}}
		_ = (&service{s: s}).DoPut(stream)
		mem.AssertSize(t, 0)
	})
}

// fakePutStream is a DoPut server stream without a network.
type fakePutStream struct {
	grpc.ServerStream // nil: only the methods below are called
	ctx               context.Context
	msgs              []*flight.FlightData
	results           []*flight.PutResult
}

func (s *fakePutStream) Context() context.Context { return s.ctx }

func (s *fakePutStream) Recv() (*flight.FlightData, error) {
	if len(s.msgs) == 0 {
		return nil, io.EOF
	}
	m := s.msgs[0]
	s.msgs = s.msgs[1:]
	return m, nil
}

func (s *fakePutStream) Send(r *flight.PutResult) error {
	s.results = append(s.results, r)
	return nil
}

// TestFakePutStream checks the fuzz harness itself: a well-formed upload
// through it succeeds.
func TestFakePutStream(t *testing.T) {
	var msgs []*flight.FlightData
	w := flight.NewRecordWriter(captureSender{&msgs}, ipc.WithSchema(int64StringSchema))
	rec := int64StringBatch(memory.DefaultAllocator, 0, 3)
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	msgs[0].FlightDescriptor = cmdDescriptor(`{"call":"count"}`)
	s := NewServer(slog.New(slog.DiscardHandler))
	s.HandleUpload("count", func(_ context.Context, _ json.RawMessage, r RecordReader) (any, error) {
		rec, err := r.Read()
		if err != nil {
			return nil, err
		}
		return rec.NumRows(), nil
	})
	stream := &fakePutStream{ctx: context.Background(), msgs: msgs}
	if err := (&service{s: s}).DoPut(stream); err != nil {
		t.Fatal(err)
	}
	if len(stream.results) != 1 || !bytes.Equal(stream.results[0].AppMetadata, []byte("3")) {
		t.Fatalf("results %v", stream.results)
	}
}

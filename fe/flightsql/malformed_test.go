package flightsql

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	afs "github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

func statementTicket(t testing.TB, handle []byte) *flight.Ticket {
	t.Helper()
	b, err := afs.CreateStatementQueryTicket(handle)
	require.NoError(t, err)
	return &flight.Ticket{Ticket: b}
}

// Bad tickets, unknown commands and garbage descriptors get clean gRPC
// errors; the session keeps working.
func TestMalformedRequests(t *testing.T) {
	env := newTestEnv(t, Config{})
	cl, ctx := env.login(t, "root", "")

	info, err := cl.Execute(ctx, "SELECT 1")
	require.NoError(t, err)
	good := info.Endpoint[0].Ticket

	h, err := newHandle()
	require.NoError(t, err)
	unknownAny, err := anypb.New(&pb.ActionCreatePreparedStatementResult{})
	require.NoError(t, err)
	unknownTicket, err := proto.Marshal(unknownAny)
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		ticket *flight.Ticket
		code   codes.Code
	}{
		"garbage":          {&flight.Ticket{Ticket: []byte("\xff\xfe garbage")}, codes.InvalidArgument},
		"empty":            {&flight.Ticket{}, codes.InvalidArgument},
		"unknown command":  {&flight.Ticket{Ticket: unknownTicket}, codes.InvalidArgument},
		"short handle":     {statementTicket(t, []byte{1, 'r', 2}), codes.InvalidArgument},
		"prepared handle":  {statementTicket(t, h.encode(kindPrepared)), codes.InvalidArgument},
		"bad version":      {statementTicket(t, append([]byte{9, 'r'}, h[:]...)), codes.InvalidArgument},
		"no such result":   {statementTicket(t, h.encode(kindResult)), codes.NotFound},
		"prepared as tick": {&flight.Ticket{Ticket: mustAny(t, &pb.CommandPreparedStatementQuery{PreparedStatementHandle: []byte("x")})}, codes.Unimplemented},
	} {
		t.Run(name, func(t *testing.T) {
			rdr, err := cl.DoGet(ctx, tc.ticket)
			if err == nil {
				_, err = drain(rdr)
			}
			requireCode(t, err, tc.code)
		})
	}

	// Another session cannot fetch the result; its owner still can, once.
	cl2, ctx2 := env.login(t, "root", "")
	rdr, err := cl2.DoGet(ctx2, good)
	if err == nil {
		_, err = drain(rdr)
	}
	requireCode(t, err, codes.NotFound)
	rdr, err = cl.DoGet(ctx, good)
	require.NoError(t, err)
	n, err := drain(rdr)
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	rdr, err = cl.DoGet(ctx, good)
	if err == nil {
		_, err = drain(rdr)
	}
	requireCode(t, err, codes.NotFound)

	// Garbage descriptors.
	for _, cmd := range [][]byte{nil, []byte("not a proto"), unknownTicket} {
		_, err := cl.Client.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: cmd})
		requireCode(t, err, codes.InvalidArgument)
	}
	_, err = cl.Client.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorPATH, Path: []string{"a"}})
	require.Error(t, err)

	// Unknown prepared statement handles.
	_, err = cl.Client.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorCMD,
		Cmd: mustAny(t, &pb.CommandPreparedStatementQuery{PreparedStatementHandle: h.encode(kindPrepared)})})
	requireCode(t, err, codes.NotFound)
	_, err = cl.Client.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorCMD,
		Cmd: mustAny(t, &pb.CommandPreparedStatementQuery{PreparedStatementHandle: []byte("junk")})})
	requireCode(t, err, codes.InvalidArgument)

	// Unknown actions.
	stream, err := cl.Client.DoAction(ctx, &flight.Action{Type: "NoSuchAction", Body: []byte("x")})
	if err == nil {
		_, err = stream.Recv()
	}
	require.Error(t, err)

	require.Equal(t, []string{"3"}, column(t, cl, ctx, "SELECT 1 + 2"))
}

func mustAny(t testing.TB, m proto.Message) []byte {
	t.Helper()
	a, err := anypb.New(m)
	require.NoError(t, err)
	b, err := proto.Marshal(a)
	require.NoError(t, err)
	return b
}

// drain reads a stream to its end and counts its rows.
func drain(r *flight.Reader) (int64, error) {
	defer r.Release()
	var n int64
	for r.Next() {
		n += r.RecordBatch().NumRows()
	}
	if err := r.Err(); err != nil && !errors.Is(err, io.EOF) {
		return n, err
	}
	return n, nil
}

// A result nobody fetches is closed after ResultTimeout; an idle session
// after IdleTimeout.
func TestExpiry(t *testing.T) {
	env := newTestEnv(t, Config{ResultTimeout: 50 * time.Millisecond, IdleTimeout: 200 * time.Millisecond})
	cl, ctx := env.login(t, "root", "")
	info, err := cl.Execute(ctx, "SELECT 1")
	require.NoError(t, err)
	eventually(t, 5*time.Second, func() bool {
		env.flight.mu.Lock()
		defer env.flight.mu.Unlock()
		return len(env.flight.results) == 0
	})
	rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	if err == nil {
		_, err = drain(rdr)
	}
	requireCode(t, err, codes.NotFound)

	eventually(t, 5*time.Second, func() bool { return env.flight.NumSessions() == 0 })
	_, err = cl.Execute(ctx, "SELECT 1")
	requireCode(t, err, codes.Unauthenticated)
}

// FuzzTicket feeds arbitrary bytes to the ticket decoding of DoGet: the
// protobuf Any, then the handle inside. An error is fine; a panic is not.
func FuzzTicket(f *testing.F) {
	var h handle
	for i := range h {
		h[i] = byte(i)
	}
	for _, seed := range [][]byte{
		nil, {}, h.encode(kindResult), h.encode(kindPrepared), {handleVersion, byte(kindResult)},
		bytes.Repeat([]byte{0xff}, 40),
	} {
		f.Add(seed)
		if tk, err := afs.CreateStatementQueryTicket(seed); err == nil {
			f.Add(tk)
			f.Add(tk[:len(tk)/2])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := decodeHandle(b, kindResult); err == nil {
			require.Len(t, b, handleLen)
		}
		var any anypb.Any
		if proto.Unmarshal(b, &any) != nil {
			return
		}
		var tq pb.TicketStatementQuery
		if !any.MessageIs(&tq) || any.UnmarshalTo(&tq) != nil {
			return
		}
		got, err := decodeHandle(tq.GetStatementHandle(), kindResult)
		if err == nil {
			require.Equal(t, tq.GetStatementHandle(), got.encode(kindResult))
		}
	})
}

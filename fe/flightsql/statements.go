package flightsql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	afs "github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/strata-db/strata/mysqlproto"
)

// service is the Flight service: arrow-go's Flight SQL dispatch, with our
// own Handshake and our own DoGet for statement results, which streams
// from the result's iterator without a goroutine in between.
type service struct {
	flight.FlightServer
	s *Server
}

func (f *service) Handshake(stream flight.FlightService_HandshakeServer) error {
	return f.s.handshake(stream)
}

func (f *service) DoGet(t *flight.Ticket, stream flight.FlightService_DoGetServer) error {
	var any anypb.Any
	if err := proto.Unmarshal(t.GetTicket(), &any); err != nil {
		return status.Errorf(codes.InvalidArgument, "unable to parse ticket: %v", err)
	}
	var tq pb.TicketStatementQuery
	if any.MessageIs(&tq) {
		if err := any.UnmarshalTo(&tq); err != nil {
			return status.Errorf(codes.InvalidArgument, "unable to parse ticket: %v", err)
		}
		return f.s.streamResult(stream, tq.GetStatementHandle())
	}
	return f.FlightServer.DoGet(t, stream)
}

// pending is a statement's result waiting for the DoGet of its ticket.
type pending struct {
	c       *client
	res     *mysqlproto.Result
	schema  *arrow.Schema
	cancel  context.CancelFunc // ends the statement
	expires time.Time
}

// close closes the result and ends its statement.
func (p *pending) close() {
	if p.res.Rows != nil {
		p.res.Rows.Close()
	}
	p.cancel()
}

// prepared is a prepared statement of a client.
type prepared struct {
	c    *client
	p    *mysqlproto.Prepared
	args []any // bound by DoPut; nil: none
}

// closePrepared lets the session free a prepared statement.
func (c *client) closePrepared(p *prepared) {
	if c.lock() != nil {
		return
	}
	defer c.mu.Unlock()
	c.sess.ClosePrepared(p.p)
}

// run runs a statement on c's session, serialized with the session's other
// statements, and returns its result. The result's rows read under a
// context that outlives the call (it ends with the server or when cancel
// is called); the call's own context cancels the statement only while it
// runs. Of several statements in text, the last one's result is returned.
func (s *Server) run(ctx context.Context, c *client, exec func(ctx context.Context) ([]*mysqlproto.Result, error)) (*mysqlproto.Result, context.CancelFunc, error) {
	rctx, cancel := context.WithCancel(s.ctx)
	stop := context.AfterFunc(ctx, cancel)
	if err := c.lock(); err != nil {
		stop()
		cancel()
		return nil, nil, err
	}
	rs, err := exec(rctx)
	c.mu.Unlock()
	interrupted := !stop()
	if err == nil && interrupted {
		err = ctx.Err()
	}
	if err != nil || len(rs) == 0 {
		closeResults(rs)
		cancel()
		if err == nil {
			err = mysqlproto.NewError(mysqlproto.ER_EMPTY_QUERY, "Query was empty")
		}
		return nil, nil, toStatus(err)
	}
	closeResults(rs[:len(rs)-1])
	res := rs[len(rs)-1]
	if res.Rows == nil {
		cancel()
	}
	return res, cancel, nil
}

func closeResults(rs []*mysqlproto.Result) {
	for _, r := range rs {
		if r != nil && r.Rows != nil {
			r.Rows.Close()
		}
	}
}

func (s *Server) query(ctx context.Context, c *client, text string) (*mysqlproto.Result, context.CancelFunc, error) {
	return s.run(ctx, c, func(ctx context.Context) ([]*mysqlproto.Result, error) {
		return c.sess.Query(ctx, text)
	})
}

// flightInfo registers a statement's result for its DoGet and describes
// it. A result without a result set (DDL, SET, USE) has no endpoint.
func (s *Server) flightInfo(c *client, res *mysqlproto.Result, cancel context.CancelFunc, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	if res.Fields == nil {
		cancel()
		return &flight.FlightInfo{
			Schema:           flight.SerializeSchema(arrow.NewSchema(nil, nil), s.alloc),
			FlightDescriptor: desc, TotalRecords: -1, TotalBytes: -1,
		}, nil
	}
	schema := schemaOf(res.Fields)
	p := &pending{c: c, res: res, schema: schema, cancel: cancel, expires: time.Now().Add(s.cfg.ResultTimeout)}
	h, err := newHandle()
	if err != nil {
		p.close()
		return nil, status.Errorf(codes.Internal, "making a result handle: %v", err)
	}
	s.mu.Lock()
	n := 0
	for _, q := range s.results {
		if q.c == c {
			n++
		}
	}
	full := n >= s.cfg.MaxPendingResults
	if !full && !s.closed {
		s.results[h] = p
	}
	closed := s.closed
	s.mu.Unlock()
	if full || closed {
		p.close()
		if closed {
			return nil, status.Error(codes.Unavailable, "the server is shutting down")
		}
		return nil, status.Errorf(codes.ResourceExhausted, "the session has %d results not fetched yet; fetch or let them expire first", n)
	}
	ticket, err := afs.CreateStatementQueryTicket(h.encode(kindResult))
	if err != nil {
		s.takeResult(c, h)
		p.close()
		return nil, status.Errorf(codes.Internal, "making a ticket: %v", err)
	}
	return &flight.FlightInfo{
		Schema:           flight.SerializeSchema(schema, s.alloc),
		FlightDescriptor: desc,
		Endpoint: []*flight.FlightEndpoint{{
			Ticket:         &flight.Ticket{Ticket: ticket},
			ExpirationTime: timestamppb.New(p.expires),
		}},
		TotalRecords: -1,
		TotalBytes:   -1,
		Ordered:      true,
	}, nil
}

// takeResult removes the result h of client c from the waiting ones.
func (s *Server) takeResult(c *client, h handle) *pending {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.results[h]
	if p == nil || p.c != c {
		return nil
	}
	delete(s.results, h)
	return p
}

// GetFlightInfoStatement runs a statement; its result waits for DoGet.
func (s *Server) GetFlightInfoStatement(ctx context.Context, cmd afs.StatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return nil, err
	}
	res, cancel, err := s.query(ctx, c, cmd.GetQuery())
	if err != nil {
		return nil, err
	}
	return s.flightInfo(c, res, cancel, desc)
}

// streamResult writes the result of a ticket to stream, one batch at a
// time: the next batch is pulled from the operators only once the last
// one was handed to gRPC.
func (s *Server) streamResult(stream flight.FlightService_DoGetServer, raw []byte) error {
	ctx := stream.Context()
	c, err := clientFrom(ctx)
	if err != nil {
		return err
	}
	h, err := decodeHandle(raw, kindResult)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	p := s.takeResult(c, h)
	if p == nil {
		return status.Error(codes.NotFound, "no such result: the ticket was fetched already, expired, or belongs to another session")
	}
	defer p.close()
	stop := context.AfterFunc(ctx, p.cancel)
	defer stop()

	w := flight.NewRecordWriter(stream, ipc.WithSchema(p.schema), ipc.WithAllocator(s.alloc))
	b := &batcher{schema: p.schema, fields: p.res.Fields, mem: s.alloc}
	err = s.writeRows(ctx, w, b, p.res.Rows)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil && ctx.Err() != nil {
		return status.FromContextError(ctx.Err()).Err()
	}
	return toStatus(err)
}

func (s *Server) writeRows(ctx context.Context, w *flight.Writer, b *batcher, rows mysqlproto.RowIterator) error {
	if rows == nil {
		return nil
	}
	for {
		cols, sel, err := rows.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		rec, err := b.record(ctx, cols, sel)
		if err != nil {
			return err
		}
		err = w.Write(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
}

// DoPutCommandStatementUpdate runs DDL or DML and returns the affected
// rows.
func (s *Server) DoPutCommandStatementUpdate(ctx context.Context, cmd afs.StatementUpdate) (int64, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return 0, err
	}
	res, cancel, err := s.query(ctx, c, cmd.GetQuery())
	if err != nil {
		return 0, err
	}
	return updateCount(res, cancel)
}

// updateCount is the affected rows of an update's result. A statement that
// returned rows was a query: it is closed and refused.
func updateCount(res *mysqlproto.Result, cancel context.CancelFunc) (int64, error) {
	defer cancel()
	if res.Rows != nil {
		res.Rows.Close()
	}
	if res.Fields != nil {
		return 0, status.Error(codes.InvalidArgument, "the statement returns rows: run it as a query (Execute), not as an update")
	}
	return int64(res.AffectedRows), nil
}

// CreatePreparedStatement parses (and, for a query, plans) a statement.
func (s *Server) CreatePreparedStatement(ctx context.Context, req afs.ActionCreatePreparedStatementRequest) (afs.ActionCreatePreparedStatementResult, error) {
	var out afs.ActionCreatePreparedStatementResult
	c, err := clientFrom(ctx)
	if err != nil {
		return out, err
	}
	if err := c.lock(); err != nil {
		return out, err
	}
	mp, err := c.sess.Prepare(ctx, req.GetQuery())
	c.mu.Unlock()
	if err != nil {
		return out, toStatus(err)
	}
	p := &prepared{c: c, p: mp}
	h, err := newHandle()
	if err != nil {
		c.closePrepared(p)
		return out, status.Errorf(codes.Internal, "making a statement handle: %v", err)
	}
	s.mu.Lock()
	s.prepared[h] = p
	s.mu.Unlock()
	out.Handle = h.encode(kindPrepared)
	if mp.Columns != nil {
		out.DatasetSchema = schemaOf(mp.Columns)
	} else {
		isUpdate := true
		out.IsUpdate = &isUpdate
	}
	if mp.NumParams > 0 {
		fs := make([]arrow.Field, mp.NumParams)
		for i := range fs {
			fs[i] = arrow.Field{Name: fmt.Sprintf("parameter_%d", i+1), Type: arrow.Null, Nullable: true}
		}
		out.ParameterSchema = arrow.NewSchema(fs, nil)
	}
	return out, nil
}

// lookupPrepared finds a prepared statement of the caller.
func (s *Server) lookupPrepared(ctx context.Context, raw []byte) (*prepared, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return nil, err
	}
	h, err := decodeHandle(raw, kindPrepared)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	s.mu.Lock()
	p := s.prepared[h]
	s.mu.Unlock()
	if p == nil || p.c != c {
		return nil, status.Error(codes.NotFound, "no such prepared statement")
	}
	return p, nil
}

// ClosePreparedStatement frees a prepared statement.
func (s *Server) ClosePreparedStatement(ctx context.Context, req afs.ActionClosePreparedStatementRequest) error {
	p, err := s.lookupPrepared(ctx, req.GetPreparedStatementHandle())
	if err != nil {
		return err
	}
	h, _ := decodeHandle(req.GetPreparedStatementHandle(), kindPrepared)
	s.mu.Lock()
	delete(s.prepared, h)
	s.mu.Unlock()
	p.c.closePrepared(p)
	return nil
}

// execute runs a prepared statement with its bound parameters.
func (s *Server) execute(ctx context.Context, p *prepared, args []any) (*mysqlproto.Result, context.CancelFunc, error) {
	if len(args) != p.p.NumParams {
		return nil, nil, status.Errorf(codes.InvalidArgument, "the statement has %d parameters, %d are bound", p.p.NumParams, len(args))
	}
	return s.run(ctx, p.c, func(ctx context.Context) ([]*mysqlproto.Result, error) {
		r, err := p.c.sess.Execute(ctx, p.p, args)
		if err != nil {
			return nil, err
		}
		return []*mysqlproto.Result{r}, nil
	})
}

// GetFlightInfoPreparedStatement runs a prepared query.
func (s *Server) GetFlightInfoPreparedStatement(ctx context.Context, cmd afs.PreparedStatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	p, err := s.lookupPrepared(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	res, cancel, err := s.execute(ctx, p, p.boundArgs())
	if err != nil {
		return nil, err
	}
	return s.flightInfo(p.c, res, cancel, desc)
}

func (p *prepared) boundArgs() []any {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	return p.args
}

// DoPutPreparedStatementQuery binds the parameters of a prepared query:
// one row of values, kept for its executions.
func (s *Server) DoPutPreparedStatementQuery(ctx context.Context, cmd afs.PreparedStatementQuery, r flight.MessageReader, _ flight.MetadataWriter) ([]byte, error) {
	p, err := s.lookupPrepared(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	args, err := readArgs(r, p.p.NumParams)
	if err != nil {
		return nil, err
	}
	p.c.mu.Lock()
	p.args = args
	p.c.mu.Unlock()
	return cmd.GetPreparedStatementHandle(), nil
}

// DoPutPreparedStatementUpdate runs a prepared update, with the parameter
// row the stream carries, if any.
func (s *Server) DoPutPreparedStatementUpdate(ctx context.Context, cmd afs.PreparedStatementUpdate, r flight.MessageReader) (int64, error) {
	p, err := s.lookupPrepared(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return 0, err
	}
	args, err := readArgs(r, p.p.NumParams)
	if err != nil {
		return 0, err
	}
	if args == nil {
		args = p.boundArgs()
	}
	res, cancel, err := s.execute(ctx, p, args)
	if err != nil {
		return 0, err
	}
	return updateCount(res, cancel)
}

// readArgs reads the parameter values a DoPut carries: at most one row,
// one column per parameter. nil: the stream carried no row.
func readArgs(r flight.MessageReader, n int) ([]any, error) {
	if r == nil {
		return nil, nil
	}
	var args []any
	for r.Next() {
		rec := r.RecordBatch()
		rows := int(rec.NumRows())
		if rows == 0 {
			continue
		}
		if rows > 1 || args != nil {
			return nil, status.Error(codes.InvalidArgument, "only one row of parameters can be bound")
		}
		if int(rec.NumCols()) != n {
			return nil, status.Errorf(codes.InvalidArgument, "the statement has %d parameters, the batch %d columns", n, rec.NumCols())
		}
		args = make([]any, n)
		for i := range n {
			v, err := argValue(rec.Column(i), 0)
			if err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "parameter %d: %v", i+1, err)
			}
			args[i] = v
		}
	}
	if err := r.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, status.Errorf(codes.InvalidArgument, "reading the parameters: %v", err)
	}
	if args == nil {
		return nil, nil
	}
	return args, nil
}

// argValue converts one Arrow value to the Go value Session.Execute takes.
func argValue(a arrow.Array, i int) (any, error) {
	if a.IsNull(i) {
		return nil, nil
	}
	switch a := a.(type) {
	case *array.Boolean:
		if a.Value(i) {
			return int64(1), nil
		}
		return int64(0), nil
	case *array.Int8:
		return int64(a.Value(i)), nil
	case *array.Int16:
		return int64(a.Value(i)), nil
	case *array.Int32:
		return int64(a.Value(i)), nil
	case *array.Int64:
		return a.Value(i), nil
	case *array.Uint8:
		return uint64(a.Value(i)), nil
	case *array.Uint16:
		return uint64(a.Value(i)), nil
	case *array.Uint32:
		return uint64(a.Value(i)), nil
	case *array.Uint64:
		return a.Value(i), nil
	case *array.Float32:
		return float64(a.Value(i)), nil
	case *array.Float64:
		return a.Value(i), nil
	case *array.String:
		return a.Value(i), nil
	case *array.LargeString:
		return a.Value(i), nil
	case *array.Binary:
		return string(a.Value(i)), nil
	case *array.Decimal128:
		return a.ValueStr(i), nil
	case *array.Date32:
		return a.Value(i).ToTime().UTC(), nil
	case *array.Date64:
		return a.Value(i).ToTime().UTC(), nil
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).UTC(), nil
	case *array.Null:
		return nil, nil
	}
	return nil, fmt.Errorf("values of type %v cannot be bound", a.DataType())
}

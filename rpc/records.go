package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// RecordReader reads a stream of record batches: the batches an upload
// handler receives, or those a [Client.Stream] caller receives. It is not
// safe for concurrent use.
type RecordReader interface {
	// Schema returns the stream's schema. It is known before the first
	// Read.
	Schema() *arrow.Schema
	// Read returns the next batch, or (nil, io.EOF) after the last one.
	// The batch belongs to the reader and stays valid until the next Read
	// or Close; Retain it (and Release it later) to keep it longer. Any
	// other error ends the stream; it wraps an [*Error] whose code says
	// what happened (the peer's error, "canceled", "unavailable", or
	// "invalid_argument"/"internal" for a batch that could not be
	// decoded).
	Read() (arrow.RecordBatch, error)
	// Close releases the reader and the current batch. On a client stream
	// that has not reached io.EOF it also cancels the call, which cancels
	// the handler's ctx on the server. Close is idempotent; it returns
	// nil.
	Close() error
}

// RecordWriter is how a stream handler sends record batches. It is not safe
// for concurrent use: a handler that produces batches on several goroutines
// funnels them to one writer goroutine.
type RecordWriter interface {
	// Begin fixes the stream's schema. It is needed only for a stream that
	// may have no batches (the client then still sees the schema); without
	// it the schema is the first batch's. The schema goes out with the
	// first batch, or when the handler returns. Begin with a schema other
	// than the one already fixed is an error.
	Begin(schema *arrow.Schema) error
	// Write sends rec. Its schema must equal the stream's. Write does not
	// keep rec: the caller still owns it and may release it as soon as
	// Write returns. Write fails once the client has gone (the handler's
	// ctx is then cancelled too); the handler should return that error.
	Write(rec arrow.RecordBatch) error
}

// recordReader is the RecordReader of both ends: it reads Flight data
// through arrow-go's flight.Reader and turns its errors into *Error.
type recordReader struct {
	r *flight.Reader
	// cancel ends the call the stream belongs to; nil on the server, whose
	// call ends when the handler returns.
	cancel context.CancelFunc
	// decodeCode is the code of an error that is not a gRPC status, that
	// is a batch the IPC reader could not decode: the sender's fault
	// (invalid_argument) when the server reads an upload, internal when
	// the client reads a server's stream.
	decodeCode string
	// context is prefixed to errors, e.g. `rpc: stream "scan" from host:8060`.
	context string
	closed  bool
}

func (r *recordReader) Schema() *arrow.Schema { return r.r.Schema() }

func (r *recordReader) Read() (arrow.RecordBatch, error) {
	if r.closed {
		return nil, fmt.Errorf("%s: read after close", r.context)
	}
	rec, err := r.r.Read()
	if err == nil {
		return rec, nil
	}
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	return nil, fmt.Errorf("%s: reading record batches: %w", r.context, readError(err, r.decodeCode))
}

// readError turns an error of the IPC reader into an *Error: the one the
// gRPC status carries (the peer's error, or a transport failure), else one
// with code decodeCode (the bytes could not be decoded).
func readError(err error, decodeCode string) error {
	err = fromGRPC(err)
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Code: decodeCode, Message: err.Error()}
}

func (r *recordReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.cancel != nil {
		r.cancel()
	}
	r.r.Release()
	return nil
}

// streamWriter is the RecordWriter of a DoGet handler. The Flight writer is
// made when the schema is fixed, because arrow-go's IPC writer takes the
// schema at construction or from the first batch.
type streamWriter struct {
	stream flight.FlightService_DoGetServer
	mem    memory.Allocator
	name   string

	schema  *arrow.Schema  // nil until Begin or the first Write
	w       *flight.Writer // nil until schema is set
	written bool           // a Write reached w, so it has sent the schema
}

func (sw *streamWriter) Begin(schema *arrow.Schema) error {
	if schema == nil {
		return fmt.Errorf("rpc: stream %q: Begin with a nil schema", sw.name)
	}
	if sw.schema != nil {
		if !sw.schema.Equal(schema) {
			return fmt.Errorf("rpc: stream %q: Begin with schema %s after the stream's schema was fixed as %s", sw.name, schema, sw.schema)
		}
		return nil
	}
	sw.schema = schema
	sw.w = flight.NewRecordWriter(sw.stream, ipc.WithSchema(schema), ipc.WithAllocator(sw.mem))
	return nil
}

func (sw *streamWriter) Write(rec arrow.RecordBatch) error {
	if sw.w == nil {
		if err := sw.Begin(rec.Schema()); err != nil {
			return err
		}
	}
	if !rec.Schema().Equal(sw.schema) {
		return fmt.Errorf("rpc: stream %q: batch schema %s differs from the stream's %s", sw.name, rec.Schema(), sw.schema)
	}
	sw.written = true
	if err := sw.w.Write(rec); err != nil {
		// The client went away (its status says how) or the batch could
		// not be encoded.
		return fmt.Errorf("rpc: stream %q: sending a record batch: %w", sw.name, fromGRPC(err))
	}
	return nil
}

// finish ends a stream whose handler succeeded: a stream without batches
// still sends its schema (an empty one if the handler fixed none), so the
// client's reader opens and reads io.EOF.
func (sw *streamWriter) finish() error {
	if sw.w == nil {
		if err := sw.Begin(arrow.NewSchema(nil, nil)); err != nil {
			return err
		}
	}
	if err := sw.w.Close(); err != nil {
		return fmt.Errorf("rpc: stream %q: sending the schema: %w", sw.name, fromGRPC(err))
	}
	return nil
}

// abort releases the writer of a stream whose handler failed, without
// sending anything: if no batch went out, the client's Stream call returns
// the handler's error itself rather than a reader that fails on Read.
func (sw *streamWriter) abort() {
	if sw.written {
		// Close sends nothing once the schema is out; it releases the
		// dictionaries the writer kept.
		_ = sw.w.Close()
	}
}

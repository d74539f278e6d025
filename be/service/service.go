// Package service is a backend's data service: what frontends and other
// backends ask of it — write a load's rows into a tablet, record a DELETE,
// abort or publish a transaction, run a plan fragment, report its tablets,
// checksum one, and clone one from another backend.
//
// [Service] does the work on the local tablet store. [Register] serves it
// over RPC (package rpc: Arrow Flight), and [Remote] is the client of a
// backend elsewhere; [Local] calls a Service in the same process. Both
// implement [Backend], so a caller (the load sink, the transaction
// publisher, the query coordinator, the tablet scheduler) does not know
// where the backend runs: the embedded server uses Local, a cluster
// Remote, through the same code.
package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/be/local"
	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/loader"
	"github.com/strata-db/strata/rpc"
	"github.com/strata-db/strata/storage"
)

// Call names.
const (
	callWrite  = "be.write"
	callDelete = "be.delete"
	callAbort  = "be.abort"
	// callRebuild publishes an alter job's converted rows of an index
	// tablet (tabletstore.Store.PublishRebuild).
	callRebuild = "be.rebuild"
)

// Service is the local backend's side of every call.
type Service struct {
	Store *tabletstore.Store
	Log   *slog.Logger
	// Stats, when set, counts fragments, publishes and clones.
	Stats *Stats
}

// ReplicaWriter writes one transaction's rows into one replica of a tablet.
type ReplicaWriter interface {
	// Write appends rows (one array per column, in schema order).
	Write(cols []arrow.Array) error
	// Close makes what was written durable as a pending rowset and returns
	// the replica's version (the highest version it holds every version up
	// to): a replica behind its partition's visible version missed loads.
	Close() (version int64, err error)
	// Cancel discards what was written.
	Cancel()
}

// WireSchema is a sink.TabletSchema as it crosses processes: the table (or
// index) it derives from, trimmed to what the derivation reads, and the
// partial update.
type WireSchema struct {
	Table   *catalog.Table        `json:"table"`
	Partial *loader.PartialUpdate `json:"partial,omitempty"`
}

// ToWire trims a schema for the wire.
func ToWire(s sink.TabletSchema) WireSchema {
	t := s.Source
	return WireSchema{
		Table: &catalog.Table{ID: t.ID, Name: t.Name, KeysType: t.KeysType, KeyColumns: t.KeyColumns,
			Schema: t.Schema, Properties: t.Properties},
		Partial: s.Partial,
	}
}

// FromWire derives the tablet schema again.
func (w WireSchema) FromWire() (sink.TabletSchema, error) {
	if w.Table == nil || len(w.Table.Schema.Columns) == 0 {
		return sink.TabletSchema{}, errors.New("the request carries no table schema")
	}
	for _, c := range w.Table.Schema.Columns {
		if !c.Type.Kind.IsValid() {
			return sink.TabletSchema{}, fmt.Errorf("column %q of the request's table has an invalid type %v", c.Name, c.Type.Kind)
		}
	}
	s := sink.SchemaOf(w.Table)
	s.Partial = w.Partial
	return s, nil
}

// OpenWriter opens a delta writer on a local tablet.
func (s *Service) OpenWriter(tabletID, txnID int64, schema sink.TabletSchema) (ReplicaWriter, error) {
	w, err := local.Writers{S: s.Store}.OpenWriter(tabletID, txnID, schema, sink.Placement{})
	if err != nil {
		return nil, err
	}
	return &localWriter{s: s.Store, tablet: tabletID, w: w}, nil
}

// localWriter adds the replica's version to a local delta writer's Close.
type localWriter struct {
	s      *tabletstore.Store
	tablet int64
	w      sink.TabletWriter
}

func (l *localWriter) Write(cols []arrow.Array) error { return l.w.Write(cols) }
func (l *localWriter) Cancel()                        { l.w.Cancel() }
func (l *localWriter) Close() (int64, error) {
	if err := l.w.Close(); err != nil {
		return 0, err
	}
	// A tablet the store has no version of is at a partition's empty
	// initial version: a replica that lost versions says so by being
	// behind the partition's visible version.
	v, known := l.s.TabletVersion(l.tablet)
	if !known {
		v = 1
	}
	return v, nil
}

// AddDelete records a DELETE's condition in a local tablet.
func (s *Service) AddDelete(tabletID, txnID int64, schema sink.TabletSchema, pred storage.DeletePredicate) error {
	return local.Writers{S: s.Store}.AddDelete(tabletID, txnID, schema, pred, sink.Placement{})
}

// Rebuild installs an alter job's converted rows of a local index tablet.
func (s *Service) Rebuild(tabletID, txnID, version int64) error {
	return s.Store.PublishRebuild(tabletID, txnID, version)
}

type rebuildRequest struct {
	Tablet  int64 `json:"tablet"`
	Txn     int64 `json:"txn"`
	Version int64 `json:"version"`
}

// AbortTxn discards the local pending rowsets of a transaction.
func (s *Service) AbortTxn(txnID int64) error { return s.Store.AbortTxn(txnID) }

// writeRequest opens an upload of rows into a tablet.
type writeRequest struct {
	Tablet int64      `json:"tablet"`
	Txn    int64      `json:"txn"`
	Schema WireSchema `json:"schema"`
}

type writeResponse struct {
	Version int64 `json:"version"`
}

type deleteRequest struct {
	Tablet    int64                   `json:"tablet"`
	Txn       int64                   `json:"txn"`
	Schema    WireSchema              `json:"schema"`
	Predicate storage.DeletePredicate `json:"predicate"`
}

type abortRequest struct {
	Txn int64 `json:"txn"`
}

// Register serves s on srv.
func Register(srv *rpc.Server, s *Service) {
	srv.HandleUpload(callWrite, s.serveWrite)
	srv.Handle(callDelete, func(ctx context.Context, body json.RawMessage) (any, error) {
		var req deleteRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		schema, err := req.Schema.FromWire()
		if err != nil {
			return nil, invalid(err)
		}
		return struct{}{}, s.AddDelete(req.Tablet, req.Txn, schema, req.Predicate)
	})
	srv.Handle(callRebuild, func(ctx context.Context, body json.RawMessage) (any, error) {
		var req rebuildRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		return struct{}{}, s.Rebuild(req.Tablet, req.Txn, req.Version)
	})
	srv.Handle(callAbort, func(ctx context.Context, body json.RawMessage) (any, error) {
		var req abortRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		return struct{}{}, s.AbortTxn(req.Txn)
	})
}

// serveWrite writes an upload's batches into a tablet; the upload's end
// closes the writer, and a failed or cancelled upload cancels it, so
// nothing of it stays pending.
func (s *Service) serveWrite(ctx context.Context, body json.RawMessage, r rpc.RecordReader) (any, error) {
	var req writeRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	schema, err := req.Schema.FromWire()
	if err != nil {
		return nil, invalid(err)
	}
	w, err := s.OpenWriter(req.Tablet, req.Txn, schema)
	if err != nil {
		return nil, wireError(err)
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			w.Cancel()
			return nil, err
		}
		if int(rec.NumCols()) != len(schema.Columns) {
			w.Cancel()
			return nil, invalid(fmt.Errorf("a batch of %d columns for a tablet of %d", rec.NumCols(), len(schema.Columns)))
		}
		for i, c := range schema.Columns {
			if got := rec.Column(i).DataType(); !arrow.TypeEqual(got, c.Type) {
				w.Cancel()
				return nil, invalid(fmt.Errorf("column %d of the batch is of type %s, the tablet's column %d of type %s", i, got, c.ID, c.Type))
			}
		}
		if err := w.Write(rec.Columns()); err != nil {
			w.Cancel()
			return nil, err
		}
	}
	if ctx.Err() != nil {
		w.Cancel()
		return nil, ctx.Err()
	}
	v, err := w.Close()
	if err != nil {
		return nil, err
	}
	return writeResponse{Version: v}, nil
}

// wireError gives a store error that a client tells apart its own code
// across the wire: a tablet past its version limit (BackendError.Temporary).
func wireError(err error) error {
	var tm *tabletstore.TooManyVersionsError
	if errors.As(err, &tm) {
		return codedError{err: err, code: codeTooManyVersions}
	}
	return err
}

// codedError is an error with its rpc code.
type codedError struct {
	err  error
	code string
}

func (e codedError) Error() string   { return e.err.Error() }
func (e codedError) Unwrap() error   { return e.err }
func (e codedError) RPCCode() string { return e.code }

func decode(body json.RawMessage, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return invalid(fmt.Errorf("decoding the request: %w", err))
	}
	return nil
}

// invalidError is a request the service cannot make sense of.
type invalidError struct{ err error }

func (e invalidError) Error() string   { return e.err.Error() }
func (e invalidError) Unwrap() error   { return e.err }
func (e invalidError) RPCCode() string { return rpc.CodeInvalidArgument }

func invalid(err error) error { return invalidError{err} }

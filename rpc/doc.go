// Package rpc carries Strata's process-to-process calls: the FE's calls to
// BEs (tablet writers, publish, plan fragments, clone) and a follower FE's
// calls to the leader. It offers three kinds of named call on one
// connection per peer:
//
//   - unary: a JSON request, a JSON response ([Server.Handle], [Client.Call]);
//   - stream: a JSON request, a stream of Arrow record batches back
//     ([Server.HandleStream], [Client.Stream]);
//   - upload: a JSON request and a stream of Arrow record batches in, a JSON
//     response back ([Server.HandleUpload], [Client.Upload]).
//
// [RecordReader] and [RecordWriter] are interfaces so that the service code
// behind the handlers can also be called in-process (the embedded
// `strata server`) with readers and writers of its own.
//
// # Why Arrow Flight
//
// Data already moves through Strata as Arrow record batches, and Arrow
// Flight is a gRPC service that already sits in the dependency set (arrow-go's
// flight package, google.golang.org/grpc). Running control calls and batch
// streams over that one service means one port, one connection pool, one
// error model and one deadline/cancellation story for everything, with no
// protobuf definitions or generated code of Strata's own: the requests and
// responses are JSON, the batches are Arrow IPC exactly as Flight frames them.
//
// # Wire format
//
// Every call is one Flight method; the call name picks the handler.
//
//	unary   DoAction  Action{Type: name, Body: JSON request}
//	                  → one Result{Body: JSON response}
//	stream  DoGet     Ticket{Ticket: envelope}
//	                  → FlightData: schema, record batch, record batch, …
//	upload  DoPut     FlightData{FlightDescriptor{Type: CMD, Cmd: envelope}} (no IPC header),
//	                  then FlightData: schema, record batch, …, half-close
//	                  → one PutResult{AppMetadata: JSON response}
//
//	envelope = JSON {"call": name, "req": request}
//
// An empty Action body and a missing "req" both mean the JSON null. Unknown
// envelope fields are ignored, so a newer peer may add some.
//
// # Errors
//
// A failed call ends with a gRPC status. Its message is the handler error's
// text and its details hold one google.rpc.ErrorInfo with Domain
// "strata.rpc", Reason the Strata error code and Metadata["data"] the JSON of
// the error's data, if any. The client turns that back into an [*Error] with
// the same Code, Message and Data, so typed errors survive the hop. A handler
// error keeps its code if some error in its chain implements
// interface{ RPCCode() string } (and its data if that error also implements
// interface{ RPCData() any }); other errors get [CodeInternal]. A status
// without Strata details (a transport failure, a non-Strata peer) is mapped
// from its gRPC code: the client can't reach the server → [CodeUnavailable],
// ctx deadline → [CodeDeadlineExceeded], ctx cancelled → [CodeCanceled].
// [IsUnavailable] tells a caller to try another replica. Errors are carried
// in HTTP/2 trailers, so keep their data small (well under a megabyte).
//
// # Limits
//
// One gRPC message (one record batch in IPC form, one JSON body) may be up to
// [DefaultMaxMessageSize] (256 MiB) in either direction on both sides, not
// gRPC's default of 4 MiB: Strata sends record batches of up to 64K rows whose
// string columns can be large. A bigger message fails the call with
// "resource_exhausted"; split the batch. [WithMaxMessageSize] changes the
// limit (set the same value on servers and clients).
//
// Received IPC headers are checked before arrow-go decodes them (see
// ipccheck.go), because arrow-go sizes allocations by counts it reads from
// the header: a corrupt header could otherwise make it allocate without
// bound and kill the process. So a schema may nest at most 64 levels, and a
// compressed buffer may claim at most 4 × the message limit (1 GiB by
// default) uncompressed; a message beyond that fails the call with
// "invalid_argument" (server) or "internal" (client).
//
// # Memory
//
// Batches a reader returns are valid until the next Read or Close; Retain
// one to keep it longer. Received batches point into the gRPC message
// buffers, so the allocator given by [WithAllocator] only serves what the IPC
// reader allocates itself (decompression, realignment); batches a handler or
// caller writes stay owned by them and may be released as soon as Write
// returns.
package rpc

// Package flightsql serves SQL over Arrow Flight SQL, the columnar protocol
// Doris 2.1 opened for reading large results (its arrow_flight_sql_port):
// results travel as Arrow IPC record batches over gRPC, in the layout the
// executor produced them, instead of as MySQL text rows.
//
// # Authentication and sessions
//
// A client first calls Handshake with an HTTP Basic "authorization" header.
// The credentials are checked by [Config.Authenticate]; on success the
// server opens a SQL session ([SessionFactory.NewSession]) and answers with
// an "authorization: Bearer <token>" header (and the token as the
// handshake payload). Every later call carries that bearer header; a call
// without a valid token fails with codes.Unauthenticated. A gRPC header
// "database" on the handshake selects the session's first database.
//
// One token is one session, with its own current database, session
// variables and privileges, as a MySQL connection has. Its connection id
// lies at or above [FirstConnID], apart from the MySQL protocol's ids (which
// count up from 1), so SHOW PROCESSLIST and KILL can tell them apart. A
// session idle for [Config.IdleTimeout] is closed and its token forgotten;
// CloseSession closes it at once.
//
// # Statements
//
//	GetFlightInfo(CommandStatementQuery)   run the statement; the ticket names its result
//	DoGet(TicketStatementQuery)            stream the result's batches, then close it
//	DoPut(CommandStatementUpdate)          run DDL or DML; reply with the affected rows
//	CreatePreparedStatement / Close...     parse (and plan) once; execute with
//	                                       GetFlightInfo or DoPut, parameters bound by DoPut
//	GetCatalogs, GetDbSchemas, GetTables,  metadata, read through the session
//	GetTableTypes, GetSqlInfo              (information_schema), so privileges apply
//	Set/GetSessionOptions, CloseSession    catalog, schema (the database), variables
//
// A statement runs when GetFlightInfo is called, so its errors come back
// there. Its result is not materialised: the open operator tree waits for
// the DoGet of its ticket, which pulls one batch at a time and writes it to
// the stream before pulling the next. A ticket is good for one DoGet; a
// result nobody fetches within [Config.ResultTimeout] is closed (the
// endpoint's expiration time says when). Statements of one session run one
// at a time; the streams of their results may overlap.
//
// # Errors
//
// SQL errors keep their MySQL message and carry the MySQL error number and
// SQLSTATE as a google.rpc.ErrorInfo detail (metadata "errno" and
// "sqlstate"). The gRPC code follows the number: access denied errors are
// PermissionDenied, killed statements Canceled, statements past their
// query_timeout (3024) DeadlineExceeded, a query over exec_mem_limit
// (1105 with MEM_LIMIT_EXCEEDED, as in Doris) ResourceExhausted, other SQL
// errors InvalidArgument, and other ER_UNKNOWN_ERRORs Internal.
package flightsql

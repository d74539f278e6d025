// Package mysqlproto is the server side of the MySQL client/server protocol:
// it accepts connections, performs the v10 handshake (optionally upgraded
// to TLS) with mysql_native_password, caching_sha2_password or, over TLS,
// mysql_clear_password authentication, reads commands and writes results,
// delegating everything that knows about data to a [Handler] and its
// per-connection [Session].
//
// # Layout of a connection
//
//	accept ─ semaphore (MaxConnections, bounded wait; 1040 "Too many connections" on timeout)
//	  └─ one goroutine per connection, deferred recover closes only that connection
//	       handshake v10 ─ [SSLRequest ─ TLS] ─ HandshakeResponse41 ─ plugin exchange (handshake.go) ─ OK
//	       loop: read packet (seq 0) → dispatch → write response into the out buffer → flush
//
// Results stream: a [RowIterator] is drained batch by batch, each batch is
// encoded column by column into reused buffers (one typed loop per column and
// batch), rows are assembled from those buffers into complete packets, and the
// out buffer goes to the socket whenever it passes a threshold. A result is
// never held whole in memory.
//
// # Relation to go-mysql
//
// The constants, the native-password scramble (mysql.CalcPassword) and the
// length-encoded integer helpers come from go-mysql's mysql package. The
// connection itself does not use go-mysql's server.Conn: that type writes each
// packet with its own syscall (no write buffering), fixes the capability flags
// (no CLIENT_DEPRECATE_EOF, MULTI_STATEMENTS or MULTI_RESULTS), omits the info
// string from OK packets, builds whole result sets in memory and can panic on
// a truncated handshake response. The packet framing, handshake and command
// parsing here are small, bounds-checked and fuzzed (see FuzzPacket and
// FuzzStmtExecute).
//
// # Concurrency
//
// A [Handler] is called from many connection goroutines at once. The methods
// of one [Session] are called by its connection goroutine only, never
// concurrently.
package mysqlproto

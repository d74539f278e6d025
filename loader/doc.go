// Package loader implements HTTP stream load, the Doris-compatible way to
// push CSV or JSON into a table over HTTP, and the text-to-column conversion
// that INSERT ... VALUES shares with it.
//
// The wire contract is Apache Doris's stream load, byte for byte where
// clients parse it (curl, the Flink connector, Flink CDC). A client sends
//
//	PUT /api/{db}/{table}/_stream_load
//
// to the FE port, which answers 307 to the BE port, or straight to the BE
// port. The BE handler works in this order, so that a rejected load never
// consumes its body (with "Expect: 100-continue" the client never sends it):
//
//  1. authenticate (Basic), parse the headers into [LoadOptions], check the
//     body framing (Content-Length or chunked);
//  2. [Backend.Begin]: check the label, fix the target schema;
//  3. stream the body (optionally gzip) through a CSV or JSON parser into a
//     [BatchBuilder], handing full batches to [Load.Write];
//  4. count filtered rows against max_filter_ratio, then [Load.Commit] or
//     [Load.Abort], and reply with the JSON result (always HTTP 200).
//
// Rows that cannot be converted are filtered: they are counted and written,
// with the reason, to an error log served by GET /api/_load_error_log.
//
// Memory is bounded: the parsers read through a fixed buffer that grows only
// to hold one row, and rows are converted into typed column buffers that are
// turned into Arrow arrays once per batch.
package loader

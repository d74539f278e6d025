// Package httpapi is the frontend's REST API: the Doris FE endpoints that
// the Flink Doris connector and Flink CDC call besides stream load itself.
//
//	GET  /api/backends[?is_alive=true]                  backends to load into
//	GET  /api/{db}/{table}/_schema                      table schema, keys type
//	GET  /api/{catalog}/{db}/{table}/_schema            same, catalog "internal"
//	POST /api/query/{ns}/{db}                           SQL, body {"stmt": ...}
//	GET  /api/enable_light_schema_change/{db}/{table}   ADD/DROP COLUMN check (JSON body)
//	GET  /api/{db}/get_load_state?label=L               state of a load by label
//	GET  /api/{db}/_load_info?label=L                   legacy load info
//
// Every reply but _load_info is Doris's ResponseBody, compact JSON with
// HTTP 200 whatever the logical outcome:
//
//	{"msg":"success","code":0,"data":...,"count":0}
//
// code is 0 on success, 1 for an ordinary failure (msg "Error", data the
// text), 403 for a malformed request (msg "Bad Request"), 401 for failed
// authentication (msg "Unauthorized") and 500 for an internal error. Every
// endpoint requires HTTP Basic authentication.
//
// # Routing
//
// Go's ServeMux refuses two patterns that can match the same request when
// neither is more specific. GET /api/{db}/{table}/_schema and
// GET /api/enable_light_schema_change/{db}/{table} are such a pair (think of
// /api/enable_light_schema_change/x/_schema), so both are served by one
// pattern, GET /api/{a}/{b}/{c}, that dispatches on the literal segment.
// Every other pattern is registered as is. None overlaps the stream-load
// routes of package loader, which use PUT, or its GET /api/_load_error_log,
// which has fewer segments; a pattern added later with a literal in any of
// the three segments is more specific than the dispatcher and wins.
package httpapi

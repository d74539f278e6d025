package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/mysqlproto"
)

// Catalog is the catalog as the API reads it; *catalog.Catalog is one.
type Catalog interface {
	Snapshot() *catalog.Snapshot
}

// Txns looks load transactions up; *txn.Manager is one.
type Txns interface {
	// GetByLabel returns the transaction holding a label (the latest one
	// that is not ABORTED); an error wrapping txn.ErrNotFound if none.
	GetByLabel(ctx context.Context, dbID int64, label string) (*txn.Txn, error)
	// List returns the stored transactions of a database.
	List(ctx context.Context, dbID int64) ([]*txn.Txn, error)
}

// Sessions opens SQL sessions; *session.Engine is one. The API closes
// every session it opens before the request ends.
type Sessions interface {
	NewSession(connID uint32, user, host, db string) (mysqlproto.Session, error)
}

// Config is what the API needs from the server. Every field but Logger is
// required.
type Config struct {
	Catalog  Catalog
	Txns     Txns
	Sessions Sessions
	// Authenticate checks HTTP Basic credentials; host is the client's IP.
	// The error text is what the client sees.
	Authenticate func(user, password, host string) error
	// Backends, when set, lists the cluster's backends for GET
	// /api/backends; otherwise it lists BackendHost:BackendHTTPPort.
	Backends func() []Backend
	// BackendHost and BackendHTTPPort are the backend GET /api/backends
	// lists: the BE HTTP port of this process in the embedded server.
	BackendHost     string
	BackendHTTPPort int
	Logger          *slog.Logger
}

// API serves the FE REST endpoints. Its methods may be called from many
// goroutines at once.
type API struct {
	cfg Config
	// conns numbers the SQL sessions of /api/query (see connID).
	conns atomic.Uint32
}

// New returns the API for cfg.
func New(cfg Config) *API {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &API{cfg: cfg}
}

// Register adds the API's routes to mux. It may be called for several
// muxes (the FE and BE ports); the routes share the API's state.
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle("GET /api/backends", a.handler(a.backends))
	mux.Handle("GET /api/{a}/{b}/{c}", http.HandlerFunc(a.dispatch3))
	mux.Handle("GET /api/{catalog}/{db}/{table}/_schema", a.handler(func(w http.ResponseWriter, r *http.Request, _ string) {
		a.schema(w, r.PathValue("catalog"), r.PathValue("db"), r.PathValue("table"))
	}))
	mux.Handle("POST /api/query/{ns}/{db}", a.handler(a.query))
	mux.Handle("GET /api/{db}/get_load_state", a.handler(a.loadState))
	mux.Handle("GET /api/{db}/_load_info", a.handler(a.loadInfo))
}

// dispatch3 serves GET /api/{a}/{b}/{c}: the light schema change check
// and the schema of a table in the default catalog (see the package doc).
// Any other path of that shape is not found.
func (a *API) dispatch3(w http.ResponseWriter, r *http.Request) {
	p1, p2, p3 := r.PathValue("a"), r.PathValue("b"), r.PathValue("c")
	switch {
	case p1 == "enable_light_schema_change":
		a.handler(func(w http.ResponseWriter, r *http.Request, _ string) {
			a.lightSchemaChange(w, r, p2, p3)
		}).ServeHTTP(w, r)
	case p3 == "_schema":
		a.handler(func(w http.ResponseWriter, _ *http.Request, _ string) {
			a.schema(w, "", p1, p2)
		}).ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// handlerFunc serves an authenticated request; user is the Basic user.
type handlerFunc func(w http.ResponseWriter, r *http.Request, user string)

// handler authenticates the request, then calls h. A panic in h answers
// with an internal error instead of a dropped connection.
func (a *API) handler(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				a.cfg.Logger.Error("httpapi: panic serving request", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				replyInternalError(w, fmt.Sprint(p))
			}
		}()
		user, pass, ok := r.BasicAuth()
		if !ok {
			replyUnauthorized(w, msgNoAuth)
			return
		}
		if err := a.cfg.Authenticate(user, pass, remoteHost(r)); err != nil {
			replyUnauthorized(w, err.Error())
			return
		}
		h(w, r, user)
	})
}

// httpConnBase is the first connection id of an /api/query session.
// mysqlproto numbers MySQL connections upwards from 1; HTTP sessions count
// upwards from 2^31 and wrap within the upper half, so the two ranges do
// not meet before two billion MySQL connections.
const httpConnBase = 1 << 31

func (a *API) connID() uint32 {
	return httpConnBase | a.conns.Add(1)&(httpConnBase-1)
}

// Doris's ResponseBody codes (RestApiStatusCode).
const (
	codeOK           = 0
	codeError        = 1
	codeUnauthorized = 401
	codeBadRequest   = 403
	codeInternal     = 500
)

// Texts fixed by Doris.
const (
	msgNoAuth    = "Need auth information."
	msgNoStmt    = "Missing statement request body"
	msgNoLabel   = "No label selected"
	msgAsyncStmt = "Not support async query execution"
)

// reply is Doris's ResponseBody; the field order is the wire order.
type reply struct {
	Msg   string `json:"msg"`
	Code  int    `json:"code"`
	Data  any    `json:"data"`
	Count int    `json:"count"`
}

func replyOK(w http.ResponseWriter, data any) {
	writeJSON(w, reply{Msg: "success", Code: codeOK, Data: data})
}

func replyError(w http.ResponseWriter, msg string) {
	writeJSON(w, reply{Msg: "Error", Code: codeError, Data: msg})
}

func replyBadRequest(w http.ResponseWriter, msg string) {
	writeJSON(w, reply{Msg: "Bad Request", Code: codeBadRequest, Data: msg})
}

func replyUnauthorized(w http.ResponseWriter, msg string) {
	writeJSON(w, reply{Msg: "Unauthorized", Code: codeUnauthorized, Data: msg})
}

func replyInternalError(w http.ResponseWriter, msg string) {
	writeJSON(w, reply{Msg: "Internal Error", Code: codeInternal, Data: msg})
}

// writeJSON writes v as compact JSON with HTTP 200: the connector strips
// whitespace before it parses, and Doris does not escape HTML characters.
func writeJSON(w http.ResponseWriter, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only a value the API built wrongly fails to encode.
		panic(fmt.Sprintf("BUG: encoding reply: %v", err))
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))) // a client that went away gets nothing
}

// metaNotFound renders Doris's MetaNotFoundException text.
func metaNotFound(format string, args ...any) string {
	return "errCode = 7, detailMessage = " + fmt.Sprintf(format, args...)
}

// analysisError renders Doris's AnalysisException text.
func analysisError(format string, args ...any) string {
	return "errCode = 2, detailMessage = " + fmt.Sprintf(format, args...)
}

// fullDBName drops the default_cluster: prefix old clients put on
// database names (Doris's getFullDbName).
func fullDBName(db string) string {
	return strings.TrimPrefix(db, "default_cluster:")
}

// isInternalCatalog reports whether a catalog path segment names the
// internal catalog, the only one Strata has ("" is the default).
func isInternalCatalog(name string) bool {
	return name == "" || strings.EqualFold(name, "internal")
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// maxBodyBytes bounds the JSON body of a request.
const maxBodyBytes = 16 << 20

func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	if len(b) > maxBodyBytes {
		return nil, errors.New("request body is larger than 16 MiB")
	}
	return b, nil
}

// backendRow is Doris's BackendsAction.BackendRow.
type backendRow struct {
	IP       string `json:"ip"`
	HTTPPort int    `json:"http_port"`
	IsAlive  bool   `json:"is_alive"`
}

// backends serves GET /api/backends. The embedded server has one backend,
// which is alive whenever this answers, so is_alive filters nothing.
func (a *API) backends(w http.ResponseWriter, r *http.Request, _ string) {
	rows := []backendRow{{IP: a.cfg.BackendHost, HTTPPort: a.cfg.BackendHTTPPort, IsAlive: true}}
	if a.cfg.Backends != nil {
		rows = rows[:0]
		onlyAlive := strings.EqualFold(r.URL.Query().Get("is_alive"), "true")
		for _, b := range a.cfg.Backends() {
			if b.IsAlive || !onlyAlive {
				rows = append(rows, backendRow{IP: b.Host, HTTPPort: b.HTTPPort, IsAlive: b.IsAlive})
			}
		}
	}
	replyOK(w, struct {
		Backends []backendRow `json:"backends"`
	}{rows})
}

// Backend is one backend GET /api/backends lists.
type Backend struct {
	Host     string
	HTTPPort int
	IsAlive  bool
}

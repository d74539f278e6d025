package httpapi

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/loader"
)

// Scenario 2 of STREAMLOAD.md: the connector needs HTTP 200, code 0 and one
// alive backend with an integer http_port, whatever is_alive says.
func TestBackends(t *testing.T) {
	e := newEnv(t)
	const want = `{"msg":"success","code":0,"data":{"backends":[{"ip":"127.0.0.1","http_port":8040,"is_alive":true}]},"count":0}`
	for _, q := range []string{"?is_alive=true", "", "?is_alive=false"} {
		status, body := e.request(t, http.MethodGet, "/api/backends"+q, "", true)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, want, body, q)
		require.Equal(t, body, compact(body))
	}
}

// Doris answers a failed authentication with HTTP 200 and code 401
// (RestApiExceptionHandler), on every endpoint.
func TestAuthRequired(t *testing.T) {
	e := newEnv(t)
	db := uniq("auth")
	e.sql(t, "information_schema", "CREATE DATABASE "+db)
	e.sql(t, db, "CREATE TABLE t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
	endpoints := []struct{ method, path, body string }{
		{http.MethodGet, "/api/backends?is_alive=true", ""},
		{http.MethodGet, "/api/" + db + "/t/_schema", ""},
		{http.MethodGet, "/api/internal/" + db + "/t/_schema", ""},
		{http.MethodPost, "/api/query/default_cluster/" + db, stmtBody("SELECT 1")},
		{http.MethodGet, "/api/enable_light_schema_change/" + db + "/t", `{"isDropColumn":false,"columnName":"c"}`},
		{http.MethodGet, "/api/" + db + "/get_load_state?label=x", ""},
		{http.MethodGet, "/api/" + db + "/_load_info?label=x", ""},
	}
	for _, ep := range endpoints {
		status, body := e.request(t, ep.method, ep.path, ep.body, false)
		require.Equal(t, http.StatusOK, status, ep.path)
		require.Equal(t, `{"msg":"Unauthorized","code":401,"data":"Need auth information.","count":0}`, body, ep.path)

		req, err := http.NewRequest(ep.method, e.srv.URL+ep.path, nil)
		require.NoError(t, err)
		req.SetBasicAuth("root", "wrong")
		resp, err := e.srv.Client().Do(req)
		require.NoError(t, err)
		r := decodeReply(t, readAll(t, resp))
		require.Equal(t, "Unauthorized", r["msg"], ep.path)
		require.EqualValues(t, "401", r["code"], ep.path)
		require.Contains(t, r["data"], "Access denied for user 'root'", ep.path)
	}
}

// The API's routes live next to the stream-load routes on both ports;
// registering them together must not panic, and each request must reach
// its own handler.
func TestRoutesCoexistWithStreamLoad(t *testing.T) {
	e := newEnv(t)
	twoPC := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("2pc")) })
	var fe, be http.Handler
	require.NotPanics(t, func() {
		var err error
		fe, be, err = loader.NewHandlers(e.sink, loader.Config{
			BEHost: "127.0.0.1", BEHTTPPort: testBEPort, ErrorLogDir: t.TempDir(),
			TwoPhaseCommit: twoPC, Extra: e.api.Register,
		})
		require.NoError(t, err)
	})
	db := uniq("routes")
	e.sql(t, "information_schema", "CREATE DATABASE "+db)
	e.sql(t, db, "CREATE TABLE t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
	for name, h := range map[string]http.Handler{"fe": fe, "be": be} {
		serve := func(method, path string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(method, path, nil)
			req.SetBasicAuth("root", "")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		require.Equal(t, http.StatusOK, serve(http.MethodGet, "/").Code, name)
		require.Contains(t, serve(http.MethodGet, "/api/backends").Body.String(), `"http_port":8040`, name)
		require.Contains(t, serve(http.MethodGet, "/api/"+db+"/t/_schema").Body.String(), `"keysType":"DUP_KEYS"`, name)
		require.Contains(t, serve(http.MethodGet, "/api/enable_light_schema_change/"+db+"/t").Body.String(), `"code":403`, name)
		require.Equal(t, "2pc", serve(http.MethodPut, "/api/"+db+"/_stream_load_2pc").Body.String(), name)
		require.Equal(t, "2pc", serve(http.MethodPut, "/api/"+db+"/t/_stream_load_2pc").Body.String(), name)
		require.Equal(t, http.StatusNotFound, serve(http.MethodGet, "/api/"+db+"/t/nothing").Code, name)
	}
	// The FE redirects a stream load to the BE.
	req := httptest.NewRequest(http.MethodPut, "/api/"+db+"/t/_stream_load", nil)
	req.SetBasicAuth("root", "")
	req.Header.Set("Expect", "100-continue")
	rec := httptest.NewRecorder()
	fe.ServeHTTP(rec, req)
	require.Equal(t, http.StatusTemporaryRedirect, rec.Code)
}

func TestConnIDsStayInTheUpperHalf(t *testing.T) {
	a := New(Config{})
	first := a.connID()
	require.Equal(t, uint32(httpConnBase+1), first)
	a.conns.Store(httpConnBase - 1)
	require.Equal(t, uint32(httpConnBase), a.connID(), "wraps within the upper half")
	require.GreaterOrEqual(t, a.connID(), uint32(httpConnBase))
}

// A panic in a handler answers with Doris's internal error instead of a
// dropped connection.
func TestPanicIsInternalError(t *testing.T) {
	a := New(Config{Authenticate: func(_, _, _ string) error { return nil }, Logger: slog.New(slog.DiscardHandler)})
	h := a.handler(func(http.ResponseWriter, *http.Request, string) { panic("boom") })
	req := httptest.NewRequest(http.MethodGet, "/api/x", nil)
	req.SetBasicAuth("root", "")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, `{"msg":"Internal Error","code":500,"data":"boom","count":0}`, rec.Body.String())
}

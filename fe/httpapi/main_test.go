package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/local"
	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/meta/metatest"
	"github.com/strata-db/strata/fe/session"
	"github.com/strata-db/strata/fe/txn"
)

// testStore is one embedded etcd shared by the tests of this package; each
// test uses databases of its own (uniq).
var testStore *meta.Store

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "strata-httpapi-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	e, err := metatest.Start(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testStore = meta.NewStore(e.Client())
	code := m.Run()
	e.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

var nameSeq atomic.Int64

// uniq returns a name no other test uses.
func uniq(prefix string) string { return fmt.Sprintf("%s_%d", prefix, nameSeq.Add(1)) }

// testBEPort is the backend HTTP port the test API advertises.
const testBEPort = 8040

// env is the whole frontend in process: catalog, transactions, the sink,
// tablets and the SQL engine, with the API served by an httptest server.
type env struct {
	cat  *catalog.Catalog
	txns *txn.Manager
	sink *sink.Sink
	api  *API
	srv  *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	cat, err := catalog.Open(ctx, testStore, catalog.Options{})
	require.NoError(t, err)
	t.Cleanup(cat.Close)
	tabs, err := tabletstore.Open(t.TempDir(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { tabs.Close() })
	txns := txn.NewManager(testStore, cat, txn.Config{
		Self:      txn.Coordinator{Node: "test", Incarnation: uuid.NewString()},
		Publisher: local.Publisher{S: tabs},
	})
	sk := &sink.Sink{Catalog: cat, Txns: txns, Tablets: local.Writers{S: tabs}}
	eng := &session.Engine{Catalog: cat, Tablets: local.Reader{S: tabs}, Loads: sk}
	api := New(Config{
		Catalog: cat, Txns: txns, Sessions: eng, Authenticate: sk.Authenticate,
		BackendHost: "127.0.0.1", BackendHTTPPort: testBEPort,
	})
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{cat: cat, txns: txns, sink: sk, api: api, srv: srv}
}

// request sends one request as root (no password) unless auth is false, and
// returns the status and body.
func (e *env) request(t *testing.T, method, path, body string, auth bool) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	require.NoError(t, err)
	if auth {
		req.SetBasicAuth("root", "")
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	resp, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// call sends an authenticated request, requires HTTP 200 and compact JSON,
// and decodes the reply (numbers as json.Number).
func (e *env) call(t *testing.T, method, path, body string) map[string]any {
	t.Helper()
	status, text := e.request(t, method, path, body, true)
	require.Equal(t, http.StatusOK, status, text)
	return decodeReply(t, text)
}

func decodeReply(t *testing.T, text string) map[string]any {
	t.Helper()
	require.NotContains(t, text, "\n", "replies are compact JSON")
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m), text)
	return m
}

// sql runs statements through /api/query with db as the current database
// and requires success.
func (e *env) sql(t *testing.T, db string, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		r := e.call(t, http.MethodPost, "/api/query/default_cluster/"+db, stmtBody(s))
		require.Equal(t, json.Number("0"), r["code"], "%s: %v", s, r["data"])
	}
}

func stmtBody(stmt string) string {
	b, _ := json.Marshal(map[string]string{"stmt": stmt})
	return string(b)
}

// compact removes all whitespace, as the connector does before parsing.
func compact(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		if r != ' ' && r != '\n' && r != '\t' && r != '\r' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

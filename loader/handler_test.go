package loader

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// fakeBackend is an in-memory Backend with one database "db" and tables
// "u" (with a delete sign column) and "d".
type fakeBackend struct {
	mu      sync.Mutex
	tables  map[string][]catalog.Column
	nextTxn int64
	loads   map[string]*fakeLoad // label -> last load holding it
	visible map[string][][]string
	begins  atomic.Int32
	// publishTimeout makes commits report delayed visibility.
	publishTimeout bool
}

type fakeLoad struct {
	b       *fakeBackend
	id      int64
	table   string
	cols    []catalog.Column
	rows    [][]string
	writes  int
	status  string // RUNNING, PRECOMMITTED, FINISHED, ABORTED
	twoPC   bool
	aborted string
	partial *PartialUpdate
}

func newFakeBackend() *fakeBackend {
	u := append(testTable(), catalog.Column{Name: "__DORIS_DELETE_SIGN__", Type: types.TinyInt, Default: strp("0")})
	return &fakeBackend{
		tables:  map[string][]catalog.Column{"u": u, "d": testTable()},
		nextTxn: 1000,
		loads:   map[string]*fakeLoad{},
		visible: map[string][][]string{},
	}
}

func (b *fakeBackend) Authenticate(user, password, host string) error {
	if user == "root" && password == "pw" {
		return nil
	}
	return &AuthError{Msg: fmt.Sprintf("Access denied for user '%s'@'%s'", user, host)}
}

func (b *fakeBackend) Begin(_ context.Context, req BeginRequest) (Load, error) {
	b.begins.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if !req.CheckPrivilege || req.Host == "" {
		// Every stream load has the backend check the client's privileges.
		return nil, fmt.Errorf("stream load begun unchecked (host %q)", req.Host)
	}
	if req.DB != "db" {
		return nil, fmt.Errorf("unknown database, database=%s", req.DB)
	}
	cols, ok := b.tables[req.Table]
	if !ok {
		return nil, fmt.Errorf("unknown table, table=%s", req.Table)
	}
	if l := b.loads[req.Label]; l != nil && l.status != "ABORTED" {
		return nil, &LabelExistsError{TxnID: l.id, ExistingStatus: l.status}
	}
	b.nextTxn++
	l := &fakeLoad{b: b, id: b.nextTxn, table: req.Table, cols: cols, status: "RUNNING", twoPC: req.TwoPhaseCommit}
	b.loads[req.Label] = l
	return l, nil
}

func (b *fakeBackend) rows(table string) [][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.visible[table]
}

func (l *fakeLoad) TxnID() int64              { return l.id }
func (l *fakeLoad) Columns() []catalog.Column { return l.cols }

// Table is a merge-on-write unique table for "u", a duplicate one else.
func (l *fakeLoad) Table() *catalog.Table {
	t := &catalog.Table{Name: l.table, KeysType: catalog.DupKeys, Schema: catalog.Schema{Columns: l.cols}}
	if l.table == "u" {
		t.KeysType = catalog.UniqueKeys
	}
	return t
}

func (l *fakeLoad) Delete(context.Context, storage.DeletePredicate, []string) error {
	return errors.New("the fake backend does not delete")
}

func (l *fakeLoad) SetPartialUpdate(p *PartialUpdate) error {
	if l.writes > 0 {
		return errors.New("partial update set after a write")
	}
	l.partial = p
	return nil
}

func (l *fakeLoad) Write(_ context.Context, cols []arrow.Array) error {
	if len(cols) != len(l.cols) {
		return fmt.Errorf("got %d arrays for %d columns", len(cols), len(l.cols))
	}
	for i, a := range cols {
		if !arrow.TypeEqual(a.DataType(), l.cols[i].Type.Arrow()) {
			return fmt.Errorf("column %d: type %s", i, a.DataType())
		}
	}
	if len(cols) > 0 && cols[0].Len() == 0 {
		return errors.New("empty write")
	}
	l.writes++
	l.rows = append(l.rows, rowsOf(cols)...)
	return nil
}

func (l *fakeLoad) Commit(context.Context) (bool, error) {
	l.b.mu.Lock()
	defer l.b.mu.Unlock()
	if l.status != "RUNNING" {
		return false, fmt.Errorf("txn %d is %s", l.id, l.status)
	}
	if l.twoPC {
		l.status = "PRECOMMITTED"
		return false, nil
	}
	l.status = "FINISHED"
	l.b.visible[l.table] = append(l.b.visible[l.table], l.rows...)
	return l.b.publishTimeout, nil
}

func (l *fakeLoad) Abort(_ context.Context, reason string) error {
	l.b.mu.Lock()
	defer l.b.mu.Unlock()
	if l.status == "FINISHED" {
		return errors.New("already committed")
	}
	l.status, l.aborted = "ABORTED", reason
	return nil
}

type testCluster struct {
	be, fe  *httptest.Server
	backend *fakeBackend
	logDir  string
}

func newTestCluster(t *testing.T) *testCluster { return newTestClusterWith(t, nil) }

// newTestClusterWith is newTestCluster with the config changed by configure.
func newTestClusterWith(t *testing.T, configure func(*Config)) *testCluster {
	t.Helper()
	lnBE, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c := &testCluster{backend: newFakeBackend(), logDir: filepath.Join(t.TempDir(), "error_log")}
	cfg := Config{
		BEHost:      "127.0.0.1",
		BEHTTPPort:  lnBE.Addr().(*net.TCPAddr).Port,
		ErrorLogDir: c.logDir,
		BatchRows:   2,
	}
	if configure != nil {
		configure(&cfg)
	}
	fe, be, err := NewHandlers(c.backend, cfg)
	require.NoError(t, err)
	c.be = httptest.NewUnstartedServer(be)
	c.be.Listener.Close()
	c.be.Listener = lnBE
	c.be.Start()
	c.fe = httptest.NewServer(fe)
	t.Cleanup(func() { c.be.Close(); c.fe.Close() })
	return c
}

// chunked hides the length of a body so that the client sends it chunked.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

type readFlag struct {
	r    io.Reader
	read *atomic.Bool
}

func (f readFlag) Read(p []byte) (int, error) { f.read.Store(true); return f.r.Read(p) }

var testClient = &http.Client{
	Transport: &http.Transport{ExpectContinueTimeout: 10 * time.Second, DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// load sends a stream load and returns the decoded result and raw body.
func (c *testCluster) load(t *testing.T, base, table string, body io.Reader, hdr map[string]string) (Result, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, base+"/api/db/"+table+"/_stream_load", body)
	require.NoError(t, err)
	req.SetBasicAuth("root", "pw")
	req.Header.Set("Expect", "100-continue")
	for k, v := range hdr {
		if k == "Authorization" && v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := testClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
	var res Result
	require.NoError(t, json.Unmarshal(raw, &res), string(raw))
	return res, string(raw)
}

func TestLiveness(t *testing.T) {
	c := newTestCluster(t)
	for _, u := range []string{c.fe.URL + "/", c.be.URL + "/"} {
		resp, err := http.Get(u)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
}

func TestStreamLoadScenarios(t *testing.T) {
	c := newTestCluster(t)
	csvHdr := map[string]string{"column_separator": `\x01`, "line_delimiter": `\x02`, "columns": "id,name,age", "label": "t4"}

	// Scenario 4: chunked CSV, non-2PC.
	res, raw := c.load(t, c.be.URL, "u", chunked{strings.NewReader("1\x01a\x0110\x022\x01b\x0120")}, csvHdr)
	require.Equal(t, StatusSuccess, res.Status, raw)
	require.Equal(t, "false", res.TwoPhaseCommit)
	require.Positive(t, res.TxnID)
	require.Equal(t, "t4", res.Label)
	require.Equal(t, "OK", res.Message)
	require.EqualValues(t, 2, res.NumberTotalRows)
	require.EqualValues(t, 2, res.NumberLoadedRows)
	require.Zero(t, res.NumberFilteredRows)
	require.EqualValues(t, len("1\x01a\x0110\x022\x01b\x0120"), res.LoadBytes)
	require.Empty(t, res.ErrorURL)
	require.Equal(t, [][]string{{"1", "a", "10", "NULL", "0"}, {"2", "b", "20", "NULL", "0"}}, c.backend.rows("u"))
	t4 := res.TxnID

	// Wire shape: keys in order, trailing newline, no optional keys.
	require.True(t, strings.HasSuffix(raw, "}\n"))
	require.NotContains(t, raw, "ExistingJobStatus")
	require.NotContains(t, raw, "ErrorURL")
	keys := []string{"TxnId", "Label", "Comment", "TwoPhaseCommit", "Status", "Message", "NumberTotalRows", "NumberLoadedRows",
		"NumberFilteredRows", "NumberUnselectedRows", "LoadBytes", "LoadTimeMs", "BeginTxnTimeMs", "StreamLoadPutTimeMs",
		"ReadDataTimeMs", "WriteDataTimeMs", "CommitAndPublishTimeMs"}
	last := -1
	for _, k := range keys {
		i := strings.Index(raw, `"`+k+`"`)
		require.Greater(t, i, last, k)
		last = i
	}

	// Scenario 10: the same label again.
	var bodyRead atomic.Bool
	res, raw = c.load(t, c.be.URL, "u", readFlag{chunked{strings.NewReader("9\x01z\x019")}, &bodyRead}, csvHdr)
	require.Equal(t, StatusLabelExists, res.Status)
	require.Equal(t, "FINISHED", res.ExistingJobStatus)
	require.EqualValues(t, -1, res.TxnID)
	require.Equal(t, fmt.Sprintf("errCode = 2, detailMessage = Label [t4] has already been used, relate to txn [%d]", t4), res.Message)
	require.Equal(t, "false", res.TwoPhaseCommit)
	require.Less(t, strings.Index(raw, "ExistingJobStatus"), strings.Index(raw, "Message"))
	require.False(t, bodyRead.Load(), "a rejected load must not consume the body")
	require.Len(t, c.backend.rows("u"), 2)

	// Scenario 5: Content-Length body.
	hdr5 := map[string]string{"column_separator": ",", "label": "t5", "columns": "id,name,age"}
	res, _ = c.load(t, c.be.URL, "d", strings.NewReader("5,e,50"), hdr5)
	require.Equal(t, StatusSuccess, res.Status)
	require.Equal(t, [][]string{{"5", "e", "50", "NULL"}}, c.backend.rows("d"))

	// Scenario 6: JSON lines with string values, hidden_columns.
	res, raw = c.load(t, c.be.URL, "u", chunked{strings.NewReader(
		`{"id":"11","name":"x","age":"3","__DORIS_DELETE_SIGN__":"0","extra":"ignored"}` + "\n" +
			`{"id":"12","name":null,"age":"4","__DORIS_DELETE_SIGN__":"0"}`)},
		map[string]string{"format": "json", "read_json_by_line": "true", "hidden_columns": "__DORIS_DELETE_SIGN__", "label": "t6"})
	require.Equal(t, StatusSuccess, res.Status, raw)
	require.EqualValues(t, 2, res.NumberLoadedRows)
	require.Equal(t, [][]string{{"11", "x", "3", "NULL", "0"}, {"12", "NULL", "4", "NULL", "0"}}, c.backend.rows("u")[2:])

	// Scenario 6 on a table without the delete sign: the key is ignored.
	res, _ = c.load(t, c.be.URL, "d", chunked{strings.NewReader(`{"id":"13","__DORIS_DELETE_SIGN__":"1"}`)},
		map[string]string{"format": "json", "hidden_columns": "__DORIS_DELETE_SIGN__"})
	require.Equal(t, StatusSuccess, res.Status)

	// Scenario 7: gzip CSV, gzip JSON, empty compress_type.
	res, raw = c.load(t, c.be.URL, "d", chunked{gz(t, "21,a,1\n22,b,2")}, map[string]string{"compress_type": "gz", "column_separator": ",", "columns": "id,name,age"})
	require.Equal(t, StatusSuccess, res.Status, raw)
	require.EqualValues(t, 2, res.NumberLoadedRows)
	res, raw = c.load(t, c.be.URL, "d", chunked{gz(t, `{"id":"23"}`+"\n"+`{"id":"24"}`)}, map[string]string{"compress_type": "gz", "format": "json", "read_json_by_line": "true"})
	require.Equal(t, StatusSuccess, res.Status, raw)
	require.EqualValues(t, 2, res.NumberLoadedRows)
	res, raw = c.load(t, c.be.URL, "d", chunked{strings.NewReader(`{"id":"25"}`)}, map[string]string{"compress_type": "", "format": "json"})
	require.Equal(t, StatusSuccess, res.Status, raw)
	require.EqualValues(t, 1, res.NumberLoadedRows)

	// Scenario 11: label validation.
	res, _ = c.load(t, c.be.URL, "d", strings.NewReader("1"), map[string]string{"label": "a.b"})
	require.Equal(t, StatusFail, res.Status)
	require.Contains(t, res.Message, "Label format error")
	require.EqualValues(t, -1, res.TxnID)
	require.Equal(t, "a.b", res.Label)
	res, _ = c.load(t, c.be.URL, "d", strings.NewReader("1"), map[string]string{"label": strings.Repeat("l", 129)})
	require.Equal(t, StatusFail, res.Status)
	res, raw = c.load(t, c.be.URL, "d", strings.NewReader("31\tx\t1\t2"), nil)
	require.Equal(t, StatusSuccess, res.Status, raw)
	require.Len(t, res.Label, 36)

	// Scenario 12: filtering.
	bad := "41,a,1\n42,b,abc\n43,c,3"
	res, raw = c.load(t, c.be.URL, "d", strings.NewReader(bad), map[string]string{"column_separator": ",", "columns": "id,name,age", "label": "t12a"})
	require.Equal(t, StatusFail, res.Status, raw)
	require.Equal(t, msgTooManyFiltered, res.Message)
	require.EqualValues(t, 3, res.NumberTotalRows)
	require.EqualValues(t, 1, res.NumberFilteredRows)
	require.EqualValues(t, 2, res.NumberLoadedRows)
	require.Positive(t, res.TxnID)
	require.True(t, strings.HasPrefix(res.ErrorURL, c.be.URL+"/api/_load_error_log?file=error_log_"), res.ErrorURL)
	require.Greater(t, strings.Index(raw, "ErrorURL"), strings.Index(raw, "CommitAndPublishTimeMs"))
	resp, err := http.Get(res.ErrorURL)
	require.NoError(t, err)
	logText, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "Reason: column(age) value is incorrect: 'abc' is not a valid INT. src line [42,b,abc]; \n", string(logText))
	for _, r := range c.backend.rows("d") {
		require.NotEqual(t, "41", r[0], "a failed load must not be visible")
	}
	// The aborted label is reusable.
	res, raw = c.load(t, c.be.URL, "d", strings.NewReader(bad), map[string]string{"column_separator": ",", "columns": "id,name,age", "label": "t12a", "max_filter_ratio": "1"})
	require.Equal(t, StatusSuccess, res.Status, raw)
	require.EqualValues(t, 2, res.NumberLoadedRows)
	require.EqualValues(t, 1, res.NumberFilteredRows)
	require.NotEmpty(t, res.ErrorURL)

	// Error log requests with bad names.
	for _, q := range []string{"?file=../x", "?file=", "?file=error_log_nope"} {
		resp, err := http.Get(c.be.URL + "/api/_load_error_log" + q)
		require.NoError(t, err)
		resp.Body.Close()
		require.Less(t, resp.StatusCode, 500)
		require.NotEqual(t, http.StatusOK, resp.StatusCode)
	}
}

func TestStreamLoadRejections(t *testing.T) {
	c := newTestCluster(t)
	begins := func() int32 { return c.backend.begins.Load() }

	// No Authorization.
	res, _ := c.load(t, c.be.URL, "d", strings.NewReader("1"), map[string]string{"Authorization": ""})
	require.Equal(t, StatusFail, res.Status)
	require.Equal(t, msgNoAuth, res.Message)
	require.EqualValues(t, -1, res.TxnID)

	// Wrong password.
	res, _ = c.load(t, c.be.URL, "d", strings.NewReader("1"), map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("root:bad")), "two_phase_commit": "true"})
	require.Equal(t, StatusFail, res.Status)
	require.Contains(t, res.Message, "Access denied")
	require.EqualValues(t, -1, res.TxnID)
	require.Equal(t, "true", res.TwoPhaseCommit)

	// Begin failure (unknown table) does not read the body.
	var read atomic.Bool
	res, _ = c.load(t, c.be.URL, "nope", readFlag{chunked{strings.NewReader("1")}, &read}, nil)
	require.Equal(t, StatusFail, res.Status)
	require.Equal(t, "unknown table, table=nope", res.Message)
	require.False(t, read.Load())

	// Invalid header values.
	res, _ = c.load(t, c.be.URL, "d", strings.NewReader("1"), map[string]string{"strict_mode": "maybe", "comment": "c1"})
	require.Equal(t, StatusFail, res.Status)
	require.Equal(t, "Invalid strict mode format. Must be bool type", res.Message)
	require.Equal(t, "c1", res.Comment)
	res, _ = c.load(t, c.be.URL, "d", strings.NewReader("1"), map[string]string{"where": "age > 1"})
	require.Equal(t, StatusFail, res.Status)
	require.Contains(t, res.Message, "not supported yet")
	require.EqualValues(t, 1, begins(), "only the unknown-table load reached begin")

	// Plan error after begin: the txn is aborted and its id reported.
	res, _ = c.load(t, c.be.URL, "d", strings.NewReader("1"), map[string]string{"columns": "id,zzz", "label": "plan"})
	require.Equal(t, StatusFail, res.Status)
	require.Positive(t, res.TxnID)
	require.Equal(t, "ABORTED", c.backend.loads["plan"].status)

	// Empty 2PC probe: Success, positive TxnId, zero rows.
	res, _ = c.load(t, c.be.URL, "d", strings.NewReader(""), map[string]string{"label": "p27", "two_phase_commit": "true", "format": "json", "read_json_by_line": "true", "compress_type": "gz"})
	require.Equal(t, StatusSuccess, res.Status)
	require.Positive(t, res.TxnID)
	require.Equal(t, "true", res.TwoPhaseCommit)
	require.Zero(t, res.CommitAndPublishTimeMs)
	require.Equal(t, "PRECOMMITTED", c.backend.loads["p27"].status)
	res, _ = c.load(t, c.be.URL, "d", strings.NewReader(""), map[string]string{"label": "p27", "two_phase_commit": "true"})
	require.Equal(t, StatusLabelExists, res.Status)
	require.Equal(t, "PRECOMMITTED", res.ExistingJobStatus)
	require.Equal(t, "true", res.TwoPhaseCommit)
}

// rawRequest sends a hand-written request and returns the response.
func rawRequest(t *testing.T, addr, req string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, req)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func TestStreamLoadFraming(t *testing.T) {
	c := newTestCluster(t)
	auth := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("root:pw")) + "\r\n"
	addr := c.be.Listener.Addr().String()

	// Neither Content-Length nor chunked.
	resp, body := rawRequest(t, addr, "PUT /api/db/d/_stream_load HTTP/1.1\r\nHost: x\r\n"+auth+"label: f1\r\nConnection: close\r\n\r\n")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var res Result
	require.NoError(t, json.Unmarshal([]byte(body), &res))
	require.Equal(t, StatusFail, res.Status)
	require.Equal(t, msgFramingNone, res.Message)
	require.Equal(t, "f1", res.Label)
	require.EqualValues(t, -1, res.TxnID)

}

func TestStreamLoadChunkedRaw(t *testing.T) {
	c := newTestCluster(t)
	auth := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("root:pw")) + "\r\n"
	conn, err := net.Dial("tcp", c.be.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "PUT /api/db/d/_stream_load HTTP/1.1\r\nHost: x\r\n"+auth+
		"Expect: 100-continue\r\nTransfer-Encoding: chunked\r\ncolumn_separator: ,\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusContinue, resp.StatusCode)
	// A pause in the body is fine.
	time.Sleep(200 * time.Millisecond)
	_, err = io.WriteString(conn, "5\r\n1,a,2\r\n")
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond)
	_, err = io.WriteString(conn, "3\r\n7,8\r\n0\r\n\r\n")
	require.NoError(t, err)
	resp, err = http.ReadResponse(br, nil)
	require.NoError(t, err)
	var res Result
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&res))
	require.Equal(t, StatusSuccess, res.Status, res.Message)
	require.EqualValues(t, 1, res.NumberLoadedRows)
	require.Equal(t, [][]string{{"1", "a", "27", "8"}}, c.backend.rows("d"))
}

func TestFERedirect(t *testing.T) {
	c := newTestCluster(t)
	// Missing Expect.
	req, err := http.NewRequest(http.MethodPut, c.fe.URL+"/api/db/d/_stream_load", strings.NewReader("1"))
	require.NoError(t, err)
	req.SetBasicAuth("root", "pw")
	resp, err := testClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"status":"FAILED","msg":"There is no 100-continue header"}`, string(b))

	// Scenario 9: 307 with credentials, body not consumed.
	var read atomic.Bool
	req, err = http.NewRequest(http.MethodPut, c.fe.URL+"/api/db/d/_stream_load?x=1", readFlag{chunked{strings.NewReader("1")}, &read})
	require.NoError(t, err)
	req.SetBasicAuth("root", "p@ss:w")
	req.Header.Set("Expect", "100-continue")
	resp, err = testClient.Do(req)
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "a wrong password is rejected at the FE")
	require.Contains(t, string(b), `"status":"FAILED"`)

	req, err = http.NewRequest(http.MethodPut, c.fe.URL+"/api/db/d/_stream_load?x=1", readFlag{chunked{strings.NewReader("1")}, &read})
	require.NoError(t, err)
	req.SetBasicAuth("root", "pw")
	req.Header.Set("Expect", "100-continue")
	resp, err = testClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusTemporaryRedirect, resp.StatusCode)
	require.Equal(t, "http://root:pw@"+c.be.Listener.Addr().String()+"/api/db/d/_stream_load?x=1", resp.Header.Get("Location"))
	require.False(t, read.Load())

	// Replay with curl --location-trusted.
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	data := filepath.Join(t.TempDir(), "data.csv")
	require.NoError(t, os.WriteFile(data, []byte("1,a,10\n2,b,20\n"), 0o644))
	out, err := exec.Command(curl, "-sS", "--location-trusted", "-u", "root:pw", "-H", "Expect:100-continue",
		"-H", "column_separator:,", "-H", "columns: id,name,age", "-H", "label:curl1", "-T", data,
		c.fe.URL+"/api/db/d/_stream_load").CombinedOutput()
	require.NoError(t, err, string(out))
	var res Result
	require.NoError(t, json.Unmarshal(out, &res), string(out))
	require.Equal(t, StatusSuccess, res.Status, string(out))
	require.Equal(t, "curl1", res.Label)
	require.EqualValues(t, 2, res.NumberLoadedRows)
}

func TestErrorLogRetention(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	logs, err := NewErrorLogs(dir, time.Hour, func() time.Time { return now }, slogDiscard())
	require.NoError(t, err)
	old := filepath.Join(dir, "error_log_old")
	fresh := filepath.Join(dir, "error_log_new")
	require.NoError(t, os.WriteFile(old, []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(fresh, []byte("x"), 0o644))
	require.NoError(t, os.Chtimes(old, now.Add(-2*time.Hour), now.Add(-2*time.Hour)))
	logs.Sweep()
	_, err = os.Stat(old)
	require.True(t, os.IsNotExist(err))
	_, err = os.Stat(fresh)
	require.NoError(t, err)
}

func TestStreamLoadTimeout(t *testing.T) {
	c := newTestCluster(t)
	pr, pw := io.Pipe()
	go func() {
		_, _ = io.WriteString(pw, "1\ta\t1\t1\n")
		time.Sleep(1500 * time.Millisecond)
		_, _ = io.WriteString(pw, "2\tb\t2\t2\n")
		pw.Close()
	}()
	res, raw := c.load(t, c.be.URL, "d", pr, map[string]string{"timeout": "1", "label": "slow"})
	require.Equal(t, StatusFail, res.Status, raw)
	require.Contains(t, res.Message, "[TIMEOUT]")
	require.Positive(t, res.TxnID)
	require.Equal(t, "ABORTED", c.backend.loads["slow"].status)
	require.Empty(t, c.backend.rows("d"))
}

func TestTwoPhaseCommitHook(t *testing.T) {
	var hits atomic.Int32
	_, be, err := NewHandlers(newFakeBackend(), Config{ErrorLogDir: t.TempDir(), TwoPhaseCommit: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	})})
	require.NoError(t, err)
	for _, p := range []string{"/api/db/_stream_load_2pc", "/api/db/t/_stream_load_2pc"} {
		rec := httptest.NewRecorder()
		be.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, p, nil))
		require.Equal(t, http.StatusOK, rec.Code)
	}
	require.EqualValues(t, 2, hits.Load())
}

func TestStreamLoadPublishTimeout(t *testing.T) {
	c := newTestCluster(t)
	c.backend.publishTimeout = true
	res, raw := c.load(t, c.be.URL, "d", strings.NewReader("1\ta\t1\t1"), nil)
	require.Equal(t, StatusPublishTimeout, res.Status, raw)
	require.Equal(t, msgPublishTimeout, res.Message)
	require.Positive(t, res.TxnID)
}

func TestStreamLoadBodyLimit(t *testing.T) {
	b := newFakeBackend()
	_, be, err := NewHandlers(b, Config{ErrorLogDir: t.TempDir(), MaxBodyBytes: 10})
	require.NoError(t, err)
	srv := httptest.NewServer(be)
	defer srv.Close()
	c := &testCluster{be: srv, backend: b}
	res, _ := c.load(t, srv.URL, "d", strings.NewReader("1\ta\t1\t1\n2\tb\t2\t2\n"), nil)
	require.Equal(t, StatusFail, res.Status)
	require.Contains(t, res.Message, "exceeds the max size")
	res, _ = c.load(t, srv.URL, "d", chunked{strings.NewReader("1\ta\t1\t1\n2\tb\t2\t2\n")}, nil)
	require.Equal(t, StatusFail, res.Status)
	require.Contains(t, res.Message, "exceeds the max size")
	require.Positive(t, res.TxnID)
	require.Empty(t, b.rows("d"))
}

// compileWhere is the server's CompileWhere: the planner's row filter.
func compileWhere(cols []catalog.Column, where string) (RowFilter, error) {
	f, err := planner.CompileRowFilter(cols, where)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func newWhereCluster(t *testing.T) *testCluster {
	t.Helper()
	return newTestClusterWith(t, func(cfg *Config) { cfg.CompileWhere = compileWhere })
}

func ids(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r[0]
	}
	return out
}

// TestStreamLoadWhere is scenario 13: rows the where header does not select
// are counted in NumberUnselectedRows and not loaded.
func TestStreamLoadWhere(t *testing.T) {
	c := newWhereCluster(t)
	csv := map[string]string{"column_separator": ",", "columns": "id,name,age"}
	with := func(h map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range h {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}

	// Batches of two rows: none selected, all selected, one of two (a NULL
	// age is not selected).
	body := "1,a,5\n2,b,6\n3,c,15\n4,d,20\n5,e,\\N\n6,f,30"
	res, raw := c.load(t, c.be.URL, "d", chunked{strings.NewReader(body)}, with(csv, "where", "age > 10", "label", "w1"))
	require.Equal(t, StatusSuccess, res.Status, raw)
	require.Equal(t, "OK", res.Message)
	require.EqualValues(t, 6, res.NumberTotalRows)
	require.EqualValues(t, 3, res.NumberUnselectedRows)
	require.EqualValues(t, 0, res.NumberFilteredRows)
	require.EqualValues(t, 3, res.NumberLoadedRows)
	require.Empty(t, res.ErrorURL, "unselected rows are not errors")
	require.Equal(t, [][]string{{"3", "c", "15", "NULL"}, {"4", "d", "20", "NULL"}, {"6", "f", "30", "NULL"}}, c.backend.rows("d"))
	require.Equal(t, 2, c.backend.loads["w1"].writes, "a batch with no selected row is not written")

	// Every row unselected: Success with nothing loaded.
	res, raw = c.load(t, c.be.URL, "d", strings.NewReader("7,g,1\n8,h,2\n9,i,3"), with(csv, "where", "age > 100", "label", "w2"))
	require.Equal(t, StatusSuccess, res.Status, raw)
	require.EqualValues(t, 3, res.NumberTotalRows)
	require.EqualValues(t, 3, res.NumberUnselectedRows)
	require.Zero(t, res.NumberLoadedRows)
	require.Zero(t, c.backend.loads["w2"].writes)
	require.Equal(t, "FINISHED", c.backend.loads["w2"].status)

	// JSON lines, on the table with a hidden delete sign; names are matched
	// case-insensitively and the filter sees converted values.
	res, raw = c.load(t, c.be.URL, "u", chunked{strings.NewReader(
		`{"id":"11","name":"x","age":"3"}` + "\n" +
			`{"id":"12","name":"y","age":"40"}` + "\n" +
			`{"id":"13","name":null,"age":"41"}` + "\n" +
			`{"id":"14","name":"x","age":null}`)},
		map[string]string{"format": "json", "read_json_by_line": "true", "label": "w3",
			"where": "NAME = 'x' OR (age BETWEEN 40 AND 50 AND name IS NOT NULL)"})
	require.Equal(t, StatusSuccess, res.Status, raw)
	require.EqualValues(t, 4, res.NumberTotalRows)
	require.EqualValues(t, 1, res.NumberUnselectedRows)
	require.EqualValues(t, 3, res.NumberLoadedRows)
	require.Equal(t, []string{"11", "12", "14"}, ids(c.backend.rows("u")))
	require.Equal(t, []string{"11", "x", "3", "NULL", "0"}, c.backend.rows("u")[0])

	// Gzip CSV with the where header.
	res, raw = c.load(t, c.be.URL, "d", chunked{gz(t, "21,a,1\n22,b,2\n23,c,3")},
		with(csv, "compress_type", "gz", "where", "id % 2 = 1", "label", "w4"))
	require.Equal(t, StatusSuccess, res.Status, raw)
	require.EqualValues(t, 1, res.NumberUnselectedRows)
	require.EqualValues(t, 2, res.NumberLoadedRows)

	// An empty where header is no filter.
	res, raw = c.load(t, c.be.URL, "d", strings.NewReader("31,a,1"), with(csv, "where", "", "label", "w5"))
	require.Equal(t, StatusSuccess, res.Status, raw)
	require.Zero(t, res.NumberUnselectedRows)
	require.EqualValues(t, 1, res.NumberLoadedRows)
}

// TestStreamLoadWhereFilterRatio checks Doris's ratio: filtered rows over
// the rows the where header selected (total - unselected).
func TestStreamLoadWhereFilterRatio(t *testing.T) {
	c := newWhereCluster(t)
	hdr := func(label, ratio string) map[string]string {
		h := map[string]string{"column_separator": ",", "columns": "id,name,age", "where": "age > 10 OR age IS NULL", "label": label}
		if ratio != "" {
			h["max_filter_ratio"] = ratio
		}
		return h
	}

	// Unselected rows alone do not fail a load with the default ratio 0.
	res, raw := c.load(t, c.be.URL, "d", strings.NewReader("1,a,1\n2,b,2\n3,c,30"), hdr("r1", ""))
	require.Equal(t, StatusSuccess, res.Status, raw)
	require.EqualValues(t, 2, res.NumberUnselectedRows)
	require.EqualValues(t, 1, res.NumberLoadedRows)

	// One filtered, two unselected, one loaded: the ratio is 1/2, not 1/4.
	body := "11,a,abc\n12,b,1\n13,c,2\n14,d,40"
	res, raw = c.load(t, c.be.URL, "d", strings.NewReader(body), hdr("r2", "0.4"))
	require.Equal(t, StatusFail, res.Status, raw)
	require.Equal(t, msgTooManyFiltered, res.Message)
	require.EqualValues(t, 4, res.NumberTotalRows)
	require.EqualValues(t, 1, res.NumberFilteredRows)
	require.EqualValues(t, 2, res.NumberUnselectedRows)
	require.EqualValues(t, 1, res.NumberLoadedRows)
	require.NotEmpty(t, res.ErrorURL)
	require.Equal(t, "ABORTED", c.backend.loads["r2"].status)
	require.NotContains(t, ids(c.backend.rows("d")), "14")

	res, raw = c.load(t, c.be.URL, "d", strings.NewReader(body), hdr("r2", "0.5"))
	require.Equal(t, StatusSuccess, res.Status, raw)
	require.EqualValues(t, 1, res.NumberFilteredRows)
	require.EqualValues(t, 2, res.NumberUnselectedRows)
	require.EqualValues(t, 1, res.NumberLoadedRows)
	require.Contains(t, ids(c.backend.rows("d")), "14")

	// A row that fails conversion is filtered, not unselected, even when the
	// where header would not have selected it.
	res, raw = c.load(t, c.be.URL, "d", strings.NewReader("21,a,1\n22,b,xyz"), hdr("r3", "1"))
	require.Equal(t, StatusSuccess, res.Status, raw)
	require.EqualValues(t, 1, res.NumberFilteredRows)
	require.EqualValues(t, 1, res.NumberUnselectedRows)
	require.Zero(t, res.NumberLoadedRows)
}

func TestStreamLoadWhereErrors(t *testing.T) {
	c := newWhereCluster(t)
	for _, tc := range []struct {
		where, msg string
	}{
		{"zzz > 1", `invalid where "zzz > 1": Unknown column 'zzz' in 'where clause'`},
		{"age >", `invalid where "age >": You have an error in your SQL syntax`},
		{"age + 1", `invalid where "age + 1": where clause must be a boolean expression`},
		{"count(*) > 1", "aggregate function count is not allowed"},
	} {
		var read atomic.Bool
		label := fmt.Sprintf("bad%d", c.backend.begins.Load())
		res, raw := c.load(t, c.be.URL, "d", readFlag{chunked{strings.NewReader("1\ta\t1\t1")}, &read}, map[string]string{"where": tc.where, "label": label})
		require.Equal(t, StatusFail, res.Status, raw)
		require.Contains(t, res.Message, tc.msg)
		require.Positive(t, res.TxnID, "the where is compiled after begin")
		require.Equal(t, "ABORTED", c.backend.loads[label].status)
		require.False(t, read.Load(), "a load with a bad where must not consume its body")
		require.Zero(t, res.NumberTotalRows)
	}
	require.Empty(t, c.backend.rows("d"))

	// A filter that fails on a batch fails the load.
	c = newTestClusterWith(t, func(cfg *Config) {
		cfg.CompileWhere = func([]catalog.Column, string) (RowFilter, error) { return failingFilter{}, nil }
	})
	res, raw := c.load(t, c.be.URL, "d", strings.NewReader("1\ta\t1\t1"), map[string]string{"where": "x", "label": "bad"})
	require.Equal(t, StatusFail, res.Status, raw)
	require.Equal(t, "filtering rows by where: boom", res.Message)
	require.Equal(t, "ABORTED", c.backend.loads["bad"].status)
	require.Zero(t, res.NumberLoadedRows)
}

type failingFilter struct{}

func (failingFilter) Select([]arrow.Array, int, []int32) ([]int32, error) {
	return nil, errors.New("boom")
}

// keepFilter selects fixed rows.
type keepFilter []int32

func (f keepFilter) Select(_ []arrow.Array, _ int, keep []int32) ([]int32, error) {
	return append(keep, f...), nil
}

// TestRowSelectorOwnership checks that apply releases the batch it is given
// whenever it does not hand it back.
func TestRowSelectorOwnership(t *testing.T) {
	for _, tc := range []struct {
		name string
		keep keepFilter
		want [][]string
	}{
		{"all", keepFilter{0, 1, 2}, [][]string{{"1", "a"}, {"2", "NULL"}, {"3", "c"}}},
		{"none", nil, nil},
		{"some", keepFilter{0, 2}, [][]string{{"1", "a"}, {"3", "c"}}},
		{"one", keepFilter{1}, [][]string{{"2", "NULL"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			ib := array.NewInt64Builder(mem)
			ib.AppendValues([]int64{1, 2, 3}, nil)
			sb := array.NewStringBuilder(mem)
			sb.AppendValues([]string{"a", "", "c"}, []bool{true, false, true})
			arrs := []arrow.Array{ib.NewArray(), sb.NewArray()}
			ib.Release()
			sb.Release()

			s := rowSelector{filter: tc.keep}
			out, err := s.apply(context.Background(), arrs)
			require.NoError(t, err)
			require.EqualValues(t, 3-len(tc.keep), s.unselected)
			if tc.want == nil {
				require.Nil(t, out)
			} else {
				require.Equal(t, tc.want, rowsOf(out))
				releaseAll(out)
			}
		})
	}

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ib := array.NewInt64Builder(mem)
	ib.Append(1)
	s := rowSelector{filter: failingFilter{}}
	out, err := s.apply(context.Background(), []arrow.Array{ib.NewArray()})
	ib.Release()
	require.Error(t, err)
	require.Nil(t, out)
}

package loader

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeTwoPhase records decisions and fails with err when set.
type fakeTwoPhase struct {
	got []string
	req TxnRequest
	err error
}

func (f *fakeTwoPhase) Authenticate(user, password, _ string) error {
	if user == "root" && password == "" {
		return nil
	}
	return &AuthError{Msg: "Access denied for user '" + user + "'"}
}

func (f *fakeTwoPhase) CommitTxn(_ context.Context, req TxnRequest) error {
	f.got, f.req = append(f.got, "commit"), req
	return f.err
}

func (f *fakeTwoPhase) AbortTxn(_ context.Context, req TxnRequest) error {
	f.got, f.req = append(f.got, "abort"), req
	return f.err
}

func TestTwoPhaseHandler(t *testing.T) {
	f := &fakeTwoPhase{}
	mux := http.NewServeMux()
	h := NewTwoPhaseHandler(f, nil)
	mux.Handle("PUT /api/{db}/_stream_load_2pc", h)
	mux.Handle("PUT /api/{db}/{table}/_stream_load_2pc", h)
	put := func(path, user string, headers ...string) string {
		t.Helper()
		r := httptest.NewRequest(http.MethodPut, path, nil)
		if user != "" {
			r.SetBasicAuth(user, "")
		}
		for i := 0; i < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		require.Equal(t, http.StatusOK, w.Code)
		return w.Body.String()
	}
	const p = "/api/db/_stream_load_2pc"
	for _, tc := range []struct {
		name    string
		path    string
		user    string
		headers []string
		want    string
	}{
		{"commit by id", p, "root", []string{"txn_id", "18036", "txn_operation", "commit"}, `{"status":"Success","msg":"transaction [18036] commit successfully."}`},
		{"abort by label", p, "root", []string{"label", "p23", "txn_operation", "abort"}, `{"status":"Success","msg":"label [p23] abort successfully."}`},
		{"both", "/api/db/t/_stream_load_2pc", "root", []string{"label", "L", "txn_id", "7", "txn_operation", "commit"}, `{"status":"Success","msg":"label [L] transaction [7] commit successfully."}`},
		{"no auth", p, "", []string{"txn_id", "1", "txn_operation", "commit"}, `{"status":"FAILED","msg":"no valid Basic authorization"}`},
		{"bad user", p, "bob", []string{"txn_id", "1", "txn_operation", "commit"}, `{"status":"FAILED","msg":"Access denied for user 'bob'"}`},
		{"no id or label", p, "root", []string{"txn_operation", "commit"}, `{"status":"FAILED","msg":"No transaction id or label selected."}`},
		{"no operation", p, "root", []string{"txn_id", "1"}, `{"status":"FAILED","msg":"No transaction operation('commit' or 'abort') selected."}`},
		{"bad id", p, "root", []string{"txn_id", "12x", "txn_operation", "commit"}, `{"status":"INTERNAL_ERROR","msg":"convert txn_id [12x] failed"}`},
		{"id overflow", p, "root", []string{"txn_id", "99999999999999999999", "txn_operation", "abort"}, `{"status":"INTERNAL_ERROR","msg":"convert txn_id [99999999999999999999] failed"}`},
		{"id zero", p, "root", []string{"txn_id", "0", "txn_operation", "abort"}, `{"status":"ANALYSIS_ERROR","msg":"errCode = 2, detailMessage = transaction [0] not found"}`},
		{"bad operation", p, "root", []string{"txn_id", "1", "txn_operation", "Commit"}, `{"status":"INTERNAL_ERROR","msg":"transaction operation should be 'commit' or 'abort'"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.got = nil
			require.JSONEq(t, tc.want, put(tc.path, tc.user, tc.headers...))
		})
	}
	f.got = nil
	put(p, "root", "txn_id", "42", "txn_operation", "commit")
	require.Equal(t, []string{"commit"}, f.got)
	require.Equal(t, TxnRequest{DB: "db", TxnID: 42, User: "root", Host: "192.0.2.1"}, f.req)

	// Backend errors carry their text after Doris's prefix.
	f.err = errors.New("transaction [42] is already visible, not pre-committed.")
	require.JSONEq(t, `{"status":"ANALYSIS_ERROR","msg":"errCode = 2, detailMessage = transaction [42] is already visible, not pre-committed."}`,
		put(p, "root", "txn_id", "42", "txn_operation", "commit"))
}

package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/loader"
)

// The label's state through a load's life: PREPARE while it runs,
// PRECOMMITTED after a 2PC precommit, VISIBLE once committed, ABORTED after
// an abort (the label is then free, but its latest transaction is still
// known), UNKNOWN for a label never used.
func TestLoadState(t *testing.T) {
	e := newEnv(t)
	db := uniq("ls")
	e.sql(t, "information_schema", "CREATE DATABASE "+db)
	e.sql(t, db, "CREATE TABLE t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
	ctx := context.Background()
	begin := func(label string, twoPC bool) loader.Load {
		l, err := e.sink.Begin(ctx, loader.BeginRequest{DB: db, Table: "t", Label: label, TwoPhaseCommit: twoPC, Timeout: time.Minute})
		require.NoError(t, err)
		return l
	}
	state := func(label string) string {
		status, body := e.request(t, http.MethodGet, "/api/"+db+"/get_load_state?label="+label, "", true)
		require.Equal(t, http.StatusOK, status)
		return body
	}
	want := func(s string) string { return `{"msg":"success","code":0,"data":"` + s + `","count":0}` }

	running := begin("running", false)
	require.Equal(t, want("PREPARE"), state("running"))

	pre := begin("pre", true)
	_, err := pre.Commit(ctx)
	require.NoError(t, err)
	require.Equal(t, want("PRECOMMITTED"), state("pre"))

	done := begin("done", false)
	_, err = done.Commit(ctx)
	require.NoError(t, err)
	require.Equal(t, want("VISIBLE"), state("done"))

	require.NoError(t, running.Abort(ctx, "test"))
	require.Equal(t, want("ABORTED"), state("running"))

	require.Equal(t, want("UNKNOWN"), state("never"))

	// The legacy _load_info shows the transaction as a load job.
	status, body := e.request(t, http.MethodGet, "/api/"+db+"/_load_info?label=done", "", true)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, `{"status":"OK","msg":"Success","jobInfo":{"dbName":"`+db+`","tblNames":["t"],"label":"done",`+
		`"clusterName":"default_cluster","state":"FINISHED","failMsg":"","trackingUrl":""}}`, body)
	var info loadInfoReply
	_, body = e.request(t, http.MethodGet, "/api/"+db+"/_load_info?label=running", "", true)
	require.NoError(t, json.Unmarshal([]byte(body), &info))
	require.Equal(t, "CANCELLED", info.JobInfo.State)
	require.Equal(t, "test", info.JobInfo.FailMsg)
}

func TestLoadStateErrors(t *testing.T) {
	e := newEnv(t)
	db := uniq("ls")
	e.sql(t, "information_schema", "CREATE DATABASE "+db)
	cases := []struct{ path, want string }{
		{"/api/" + db + "/get_load_state", `{"msg":"Bad Request","code":403,"data":"No label selected","count":0}`},
		{"/api/" + db + "/get_load_state?label=", `{"msg":"Bad Request","code":403,"data":"No label selected","count":0}`},
		{"/api/no_such_db/get_load_state?label=x", `{"msg":"Error","code":1,"data":"errCode = 7, detailMessage = unknown databases, dbName=no_such_db","count":0}`},
		{"/api/" + db + "/_load_info", `{"status":"FAILED","msg":"No label selected"}`},
		{"/api/" + db + "/_load_info?label=x", `{"status":"FAILED","msg":"errCode = 2, detailMessage = Unknown job(x)"}`},
		{"/api/no_such_db/_load_info?label=x", `{"status":"FAILED","msg":"errCode = 7, detailMessage = unknown databases, dbName=no_such_db"}`},
	}
	for _, c := range cases {
		status, body := e.request(t, http.MethodGet, c.path, "", true)
		require.Equal(t, http.StatusOK, status, c.path)
		require.Equal(t, c.want, body, c.path)
	}
}

package server

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// httpGet fetches a URL and returns the status code and the body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// metricSamples parses the Prometheus text format into samples by series.
func metricSamples(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		require.NoError(t, err, line)
		out[line[:i]] = v
	}
	require.NoError(t, sc.Err())
	return out
}

// showTablets returns the rows of SHOW TABLETS by column name.
func showTablets(t *testing.T, ctx context.Context, db *sql.DB, table string) []map[string]string {
	t.Helper()
	rows, err := db.QueryContext(ctx, "SHOW TABLETS FROM "+table)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out []map[string]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		row := map[string]string{}
		for i, c := range cols {
			row[c] = vals[i].String
		}
		out = append(out, row)
	}
	require.NoError(t, rows.Err())
	return out
}

// Compaction is observable as in Doris: SHOW TABLETS links each tablet's
// compaction status on the BE HTTP port, which lists the tablet's rowsets;
// /metrics on both HTTP ports shows what compactions merged.
func TestCompactionObservable(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.QueryPort, cfg.HTTPPort, cfg.BEHTTPPort, cfg.BERPCPort = freePort(t), freePort(t), freePort(t), freePort(t)
	cfg.EtcdClientPort, cfg.EtcdPeerPort = freePort(t), freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Start(ctx, cfg)
	require.NoError(t, err)
	defer s.Close()
	db, err := sql.Open("mysql", "root@tcp(127.0.0.1:"+strconv.Itoa(cfg.QueryPort)+")/?multiStatements=true")
	require.NoError(t, err)
	defer db.Close()
	_, err = db.ExecContext(ctx, `CREATE DATABASE d;
CREATE TABLE d.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1;
CREATE TABLE d.empty (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1`)
	require.NoError(t, err)
	const loads = 6 // past the policy's 5 rowsets
	for i := range loads {
		_, err := db.ExecContext(ctx, "INSERT INTO d.t VALUES (?)", i)
		require.NoError(t, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for st := s.cmpct.Stats(); st.Compactions == 0 || st.Running > 0; st = s.cmpct.Stats() {
		require.True(t, time.Now().Before(deadline), "no compaction ran: %+v", st)
		time.Sleep(10 * time.Millisecond)
	}

	tablets := showTablets(t, ctx, db, "d.t")
	require.Len(t, tablets, 1)
	tab := tablets[0]
	be := "http://127.0.0.1:" + strconv.Itoa(cfg.BEHTTPPort)
	require.Equal(t, be+"/api/compaction/show?tablet_id="+tab["TabletId"], tab["CompactionStatus"])

	code, body := httpGet(t, tab["CompactionStatus"])
	require.Equal(t, http.StatusOK, code)
	var status struct {
		Point       int64    `json:"cumulative point"`
		LastSuccess string   `json:"last cumulative success time"`
		LastStatus  string   `json:"last cumulative status"`
		Rowsets     []string `json:"rowsets"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &status), body)
	require.NotEmpty(t, status.Rowsets)
	require.Len(t, status.Rowsets, mustAtoi(t, tab["VersionCount"]))
	// The rowsets cover every load's version, from the first (2) on.
	require.True(t, strings.HasPrefix(status.Rowsets[0], "[2-"), status.Rowsets)
	last := status.Rowsets[len(status.Rowsets)-1]
	require.True(t, strings.HasPrefix(last[strings.IndexByte(last, '-'):], "-"+strconv.Itoa(loads+1)+"] "), status.Rowsets)
	require.Contains(t, body, "DATA NONOVERLAPPING")
	require.NotEqual(t, dorisEpoch(), status.LastSuccess)
	require.Equal(t, "[OK]", status.LastStatus)
	require.Positive(t, status.Point)

	// A tablet no load has written yet is shown without rowsets.
	empty := showTablets(t, ctx, db, "d.empty")
	require.Len(t, empty, 1)
	_, body = httpGet(t, empty[0]["CompactionStatus"])
	require.NoError(t, json.Unmarshal([]byte(body), &status), body)
	require.Empty(t, status.Rowsets)

	// Malformed and unknown tablets get Doris's error replies.
	for _, tc := range []struct{ query, want string }{
		{"", `{"status": "INTERNAL_ERROR", "msg": "check param failed: missing tablet_id"}`},
		{"?tablet_id=x1", `{"status": "INTERNAL_ERROR", "msg": "convert tablet_id failed, invalid syntax"}`},
		{"?tablet_id=987654321", `{"status": "NOT_FOUND", "msg": "Tablet not found. tablet_id=987654321"}`},
	} {
		code, body := httpGet(t, be+"/api/compaction/show"+tc.query)
		require.Equal(t, http.StatusOK, code)
		require.JSONEq(t, tc.want, body)
	}

	code, body = httpGet(t, be+"/api/compaction_score?top_n=1")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `[{"compaction_score": "0", "tablet_id": "`+tab["TabletId"]+`"}]`, body)

	for _, port := range []int{cfg.BEHTTPPort, cfg.HTTPPort} {
		code, body := httpGet(t, "http://127.0.0.1:"+strconv.Itoa(port)+"/metrics")
		require.Equal(t, http.StatusOK, code)
		m := metricSamples(t, body)
		require.Positive(t, m[`doris_be_compaction_deltas_total{type="cumulative"}`], "port %d", port)
		require.Positive(t, m[`doris_be_compaction_bytes_total{type="cumulative"}`])
		read := m[`doris_be_compaction_rows_total{location="local",type="read"}`]
		require.Positive(t, read)
		require.Equal(t, read, m[`doris_be_compaction_rows_total{location="local",type="write"}`], "duplicate keys keep every row")
		require.Positive(t, m[`strata_compaction_runs_total{result="finished",type="cumulative"}`])
		require.Zero(t, m[`strata_compaction_runs_total{result="failed",type="cumulative"}`])
		require.Contains(t, m, "doris_be_tablet_cumulative_max_compaction_score")
		require.Contains(t, m, "doris_be_tablet_base_max_compaction_score")
		require.Contains(t, m, "go_goroutines")
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// dorisEpoch is how the compaction status prints a time never set.
func dorisEpoch() string { return time.UnixMilli(0).Format("2006-01-02 15:04:05.000") }

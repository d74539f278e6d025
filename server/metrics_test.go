package server

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// scrape is one scrape of /metrics, parsed.
type scrape map[string]*dto.MetricFamily

// scrapeMetrics fetches and parses /metrics at base (http://host:port).
func scrapeMetrics(t *testing.T, base string) scrape {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return mfs
}

// metric returns the series of family name whose labels include the given
// name, value pairs; it fails the test if there is none or several.
func (s scrape) metric(t *testing.T, name string, labels ...string) *dto.Metric {
	t.Helper()
	mf, ok := s[name]
	require.True(t, ok, "no metric %s", name)
	var found *dto.Metric
	for _, m := range mf.GetMetric() {
		if hasLabels(m, labels) {
			require.Nil(t, found, "several series of %s%v", name, labels)
			found = m
		}
	}
	require.NotNil(t, found, "no series of %s%v", name, labels)
	return found
}

func hasLabels(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		ok := false
		for _, lp := range m.GetLabel() {
			ok = ok || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
		}
		if !ok {
			return false
		}
	}
	return true
}

// value is a counter's or gauge's value, or a histogram's count.
func (s scrape) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	m := s.metric(t, name, labels...)
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	t.Fatalf("metric %s%v has no value", name, labels)
	return 0
}

// streamLoad runs a CSV stream load on a BE HTTP port and returns its
// reply.
func streamLoad(t *testing.T, be, db, table, label, body string, headers map[string]string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, be+"/api/"+db+"/"+table+"/_stream_load", bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	req.SetBasicAuth("root", "")
	req.Header.Set("Expect", "100-continue")
	req.Header.Set("label", label)
	req.Header.Set("column_separator", ",")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var res map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&res))
	return res
}

// Every metric of docs/operations.md's list moves as it should when a
// client loads, inserts, queries and a compaction runs; the embedded
// server shows the frontend's and the backend's metrics on both HTTP
// ports.
func TestMetricsMove(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.QueryPort, cfg.HTTPPort, cfg.BEHTTPPort, cfg.BERPCPort = freePort(t), freePort(t), freePort(t), freePort(t)
	cfg.EtcdClientPort, cfg.EtcdPeerPort = freePort(t), freePort(t)
	cfg.PageCacheBytes = 64 << 20
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s, err := Start(ctx, cfg)
	require.NoError(t, err)
	defer s.Close()
	fe := "http://127.0.0.1:" + strconv.Itoa(cfg.HTTPPort)
	be := "http://127.0.0.1:" + strconv.Itoa(cfg.BEHTTPPort)

	before := scrapeMetrics(t, fe)

	// One connection runs every statement, so the counts are exact.
	db, err := sql.Open("mysql", "root@tcp(127.0.0.1:"+strconv.Itoa(cfg.QueryPort)+")/")
	require.NoError(t, err)
	defer db.Close()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	exec := func(q string) {
		t.Helper()
		_, err := conn.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	exec("CREATE DATABASE m")
	exec("CREATE TABLE m.t (k INT, v VARCHAR(10)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")

	// A stream load of 5 good rows and a bad one, and one whose only row
	// is bad, which fails.
	body1 := "1,a\n2,b\n3,c\n4,d\n5,e\nx,f\n"
	res := streamLoad(t, be, "m", "t", "l1", body1, map[string]string{"max_filter_ratio": "0.5"})
	require.Equal(t, "Success", res["Status"], res)
	require.EqualValues(t, 5, res["NumberLoadedRows"])
	body2 := "y,g\n"
	res = streamLoad(t, be, "m", "t", "l2", body2, nil)
	require.Equal(t, "Fail", res["Status"], res)

	const inserts = 6 // with the load, past the policy's 5 rowsets
	for i := range inserts {
		exec("INSERT INTO m.t VALUES (" + strconv.Itoa(10+i) + ", 'i')")
	}
	const selects = 3
	for range selects {
		var n int64
		require.NoError(t, conn.QueryRowContext(ctx, "SELECT sum(k) FROM m.t").Scan(&n))
		require.EqualValues(t, 15+10*inserts+15, n)
	}
	_, err = conn.QueryContext(ctx, "SELECT * FROM m.missing")
	require.Error(t, err)

	deadline := time.Now().Add(30 * time.Second)
	for st := s.cmpct.Stats(); st.Compactions == 0 || st.Running > 0; st = s.cmpct.Stats() {
		require.True(t, time.Now().Before(deadline), "no compaction ran: %+v", st)
		time.Sleep(10 * time.Millisecond)
	}
	// A second connection, to count.
	db2, err := sql.Open("mysql", "root@tcp(127.0.0.1:"+strconv.Itoa(cfg.QueryPort)+")/")
	require.NoError(t, err)
	defer db2.Close()
	conn2, err := db2.Conn(ctx)
	require.NoError(t, err)
	defer conn2.Close()

	for _, base := range []string{fe, be} {
		after := scrapeMetrics(t, base)
		delta := func(name string, labels ...string) float64 {
			t.Helper()
			return after.value(t, name, labels...) - before.value(t, name, labels...)
		}
		// Statements.
		require.Equal(t, float64(selects+1), delta("strata_fe_query_total", "kind", "select"), base)
		require.Equal(t, float64(inserts), delta("strata_fe_query_total", "kind", "insert"))
		require.Equal(t, 2.0, delta("strata_fe_query_total", "kind", "ddl"))
		require.Equal(t, 1.0, delta("strata_fe_query_err_total", "kind", "select"))
		require.Zero(t, delta("strata_fe_query_err_total", "kind", "insert"))
		require.Equal(t, float64(selects+1), delta("strata_fe_query_latency_seconds", "kind", "select"))
		require.Equal(t, float64(inserts), delta("strata_fe_query_latency_seconds", "kind", "insert"))
		require.Equal(t, float64(inserts), delta("strata_fe_insert_rows_total"))
		require.Equal(t, 2.0, delta("strata_fe_connections_total"))
		require.Equal(t, 2.0, after.value(t, "strata_fe_connections"))

		// Load transactions.
		for _, tc := range []struct {
			typ, source string
			want        float64
		}{
			{"begin", "STREAM_LOAD", 2}, {"success", "STREAM_LOAD", 1}, {"failed", "STREAM_LOAD", 1},
			{"begin", "INSERT", inserts}, {"success", "INSERT", inserts}, {"failed", "INSERT", 0},
			{"reject", "INSERT", 0},
		} {
			require.Equal(t, tc.want, delta("strata_fe_txn_counter_total", "type", tc.typ, "source", tc.source), "%+v", tc)
		}
		for _, st := range []string{"PREPARE", "PRECOMMITTED", "COMMITTED"} {
			require.Zero(t, after.value(t, "strata_fe_txn_status", "type", st))
		}

		// The catalog and its versions: each load made one version visible.
		require.Equal(t, 1.0, delta("strata_fe_catalog_databases"))
		require.Equal(t, 1.0, delta("strata_fe_catalog_tables"))
		require.Equal(t, 1.0, delta("strata_fe_catalog_partitions"))
		require.Equal(t, 1.0, delta("strata_fe_catalog_tablets"))
		require.Equal(t, float64(1+1+inserts), after.value(t, "strata_fe_max_partition_visible_version"))
		require.Positive(t, delta("strata_fe_catalog_revision"))
		require.Zero(t, after.value(t, "strata_fe_alter_jobs", "type", "ROLLUP", "state", "RUNNING"))

		// Stream loads.
		require.Equal(t, 1.0, delta("strata_be_streaming_load_requests_total", "status", "success"))
		require.Equal(t, 1.0, delta("strata_be_streaming_load_requests_total", "status", "fail"))
		require.Equal(t, 5.0, delta("strata_be_stream_load_rows_total", "type", "loaded"))
		require.Equal(t, 2.0, delta("strata_be_stream_load_rows_total", "type", "filtered"))
		require.Zero(t, delta("strata_be_stream_load_rows_total", "type", "unselected"))
		require.Equal(t, float64(len(body1)+len(body2)), delta("strata_be_stream_load_receive_bytes_total"))
		require.Equal(t, 2.0, delta("strata_be_streaming_load_duration_seconds"))
		require.Zero(t, after.value(t, "strata_be_streaming_load_current_processing"))

		// What the tablets took: a rowset per load.
		require.Equal(t, float64(5+inserts), delta("strata_be_load_rows_total"))
		require.Equal(t, float64(1+inserts), delta("strata_be_load_rowsets_total"))
		require.Positive(t, delta("strata_be_load_bytes_total"))
		require.Equal(t, 1.0, delta("strata_be_tablets"))
		require.Positive(t, after.value(t, "strata_be_all_rowsets_num"))
		require.Positive(t, after.value(t, "strata_be_all_segments_num"))
		require.Equal(t, float64(5+inserts), after.value(t, "strata_be_tablet_rows"))
		require.Positive(t, delta("strata_be_tablet_data_bytes"))
		require.Equal(t, 1.0, delta("strata_be_tablet_version_num_distribution"))
		require.Equal(t, float64(1+1+inserts), after.value(t, "strata_be_max_tablet_version"))
		require.Zero(t, after.value(t, "strata_be_pending_rowsets"))

		// Compaction merged the loads' rowsets.
		require.Positive(t, delta("doris_be_compaction_deltas_total", "type", "cumulative"))
		require.Positive(t, delta("doris_be_compaction_bytes_total", "type", "cumulative"))
		require.Positive(t, delta("doris_be_compaction_rows_total", "type", "read"))
		require.Positive(t, delta("strata_compaction_runs_total", "type", "cumulative", "result", "finished"))

		// The page cache served the repeated query.
		require.Positive(t, delta("strata_be_cache_lookup_total", "name", "DataPageCache"))
		require.Positive(t, delta("strata_be_cache_hit_total", "name", "DataPageCache"))
		require.Positive(t, after.value(t, "strata_be_cache_usage", "name", "DataPageCache"))
		require.Equal(t, float64(cfg.PageCacheBytes), after.value(t, "strata_be_cache_capacity", "name", "DataPageCache"))

		// Memory, from the Go runtime and the OS; the queries, which have
		// all ended, hold none of their tracked memory any more.
		require.Zero(t, after.value(t, "strata_query_memory_bytes"))
		require.Positive(t, after.value(t, "go_memstats_heap_alloc_bytes"))
		require.Positive(t, delta("go_memstats_alloc_bytes_total"))
		if _, ok := after["process_resident_memory_bytes"]; ok {
			require.Positive(t, after.value(t, "process_resident_memory_bytes"))
		}
	}

	// Every counter is described: no family without help text.
	for name, mf := range scrapeMetrics(t, fe) {
		if strings.HasPrefix(name, "strata_") {
			require.NotEmpty(t, mf.GetHelp(), name)
		}
	}
}

package cluster

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// metricsAt scrapes GET /metrics on 127.0.0.1:port.
func metricsAt(t *testing.T, port int) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return mfs
}

// metricValue is the value of the one series of a family with the given
// label pairs (0 if there is none).
func metricValue(mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	var v float64
	for _, m := range mfs[name].GetMetric() {
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			ok := false
			for _, lp := range m.GetLabel() {
				ok = ok || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
			}
			match = match && ok
		}
		if match {
			v += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return v
}

// A frontend's /metrics shows the statements it ran and the load
// transactions it led; a backend's shows the stream loads it ran and the
// rows its tablets took, INSERTs' included.
func TestMetricsOfFrontendAndBackend(t *testing.T) {
	c := startCluster(t, clusterOptions{frontends: 1, backends: 1})
	c.MustExec(0, "CREATE DATABASE d", `CREATE TABLE d.t (k INT, v VARCHAR(10), n BIGINT) DUPLICATE KEY(k)
DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ("replication_num" = "1")`)
	fe0, be0 := metricsAt(t, c.FEs[0].HTTP), metricsAt(t, c.BEs[0].HTTP)

	const loaded = 500
	body, _ := rowsCSV(0, loaded)
	res, err := c.StreamLoad(0, "d", "t", "m1", body)
	require.NoError(t, err)
	require.Equal(t, "Success", res["Status"], "%v", res)
	c.MustExec(0, "INSERT INTO d.t VALUES (-1, 'x', 5), (-2, 'y', 7)")
	n, err := c.QueryInt(0, "SELECT count(*) FROM d.t")
	require.NoError(t, err)
	require.EqualValues(t, loaded+2, n)

	fe1, be1 := metricsAt(t, c.FEs[0].HTTP), metricsAt(t, c.BEs[0].HTTP)
	feDelta := func(name string, labels ...string) float64 {
		return metricValue(fe1, name, labels...) - metricValue(fe0, name, labels...)
	}
	beDelta := func(name string, labels ...string) float64 {
		return metricValue(be1, name, labels...) - metricValue(be0, name, labels...)
	}
	require.GreaterOrEqual(t, feDelta("strata_fe_query_total", "kind", "select"), 1.0)
	require.Equal(t, 1.0, feDelta("strata_fe_query_total", "kind", "insert"))
	require.Equal(t, 2.0, feDelta("strata_fe_insert_rows_total"))
	require.Equal(t, 1.0, feDelta("strata_fe_txn_counter_total", "type", "begin", "source", "STREAM_LOAD"))
	require.Equal(t, 1.0, feDelta("strata_fe_txn_counter_total", "type", "success", "source", "STREAM_LOAD"))
	require.Equal(t, 1.0, feDelta("strata_fe_txn_counter_total", "type", "success", "source", "INSERT"))
	require.Equal(t, 3.0, metricValue(fe1, "strata_fe_max_partition_visible_version"))

	require.Equal(t, float64(loaded), beDelta("strata_be_stream_load_rows_total", "type", "loaded"))
	require.Equal(t, float64(len(body)), beDelta("strata_be_stream_load_receive_bytes_total"))
	require.Equal(t, 1.0, beDelta("strata_be_streaming_load_requests_total", "status", "success"))
	require.Equal(t, float64(loaded+2), beDelta("strata_be_load_rows_total"))
	require.Positive(t, beDelta("strata_be_load_bytes_total"))
	require.Equal(t, 1.0, metricValue(be1, "strata_be_tablets"))
	require.Equal(t, 3.0, metricValue(be1, "strata_be_max_tablet_version"))
	// The queries ran as fragments on the backend, and both loads were
	// published to its replica.
	require.GreaterOrEqual(t, beDelta("strata_be_fragments_total", "result", "ok"), 1.0)
	require.GreaterOrEqual(t, beDelta("strata_be_publish_txns_total"), 2.0) // a publish may be retried
	require.Zero(t, metricValue(be1, "strata_query_memory_bytes"))

	// Each process shows its own role's metrics only.
	for name := range fe1 {
		require.False(t, strings.HasPrefix(name, "strata_be_"), "the frontend shows %s", name)
	}
	for name := range be1 {
		require.False(t, strings.HasPrefix(name, "strata_fe_"), "the backend shows %s", name)
	}
}

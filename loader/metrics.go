package loader

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts the stream loads a BE handler ran, once per load when its
// reply is written (never per row or batch). It is a prometheus.Collector
// for the process's registry; a nil *Metrics counts nothing.
//
// The names follow Doris's backend metrics (doris_be_streaming_load_*,
// doris_be_stream_load{type="load_rows"|"receive_bytes"}) with Strata's
// prefix, as counters with a _total suffix and a duration histogram in
// seconds.
type Metrics struct {
	requests *prometheus.CounterVec
	rows     *prometheus.CounterVec
	bytes    prometheus.Counter
	duration prometheus.Histogram
	current  prometheus.Gauge
}

var _ prometheus.Collector = (*Metrics)(nil)

// NewMetrics returns stream load metrics, to register in a registry and
// set as Config.Metrics.
func NewMetrics() *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_be_streaming_load_requests_total",
			Help: "Stream loads this backend ran, by the Status of their reply (success, publish_timeout, label_exists, fail).",
		}, []string{"status"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_be_stream_load_rows_total",
			Help: "Rows of the stream loads that ended, by what became of them: loaded (by loads that succeeded), filtered (bad rows), unselected (left out by a where header).",
		}, []string{"type"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_be_stream_load_receive_bytes_total",
			Help: "Bytes of stream load bodies received, as sent (before decompression).",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "strata_be_streaming_load_duration_seconds",
			Help:    "How long stream loads took, from the request to the reply.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
		current: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "strata_be_streaming_load_current_processing",
			Help: "Stream loads running now.",
		}),
	}
	// Every label value has its series from the start, so that rates see
	// the first load.
	for _, st := range []string{StatusSuccess, StatusPublishTimeout, StatusLabelExists, StatusFail} {
		m.requests.WithLabelValues(statusLabel(st))
	}
	for _, typ := range []string{"loaded", "filtered", "unselected"} {
		m.rows.WithLabelValues(typ)
	}
	return m
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.requests.Describe(ch)
	m.rows.Describe(ch)
	m.bytes.Describe(ch)
	m.duration.Describe(ch)
	m.current.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.requests.Collect(ch)
	m.rows.Collect(ch)
	m.bytes.Collect(ch)
	m.duration.Collect(ch)
	m.current.Collect(ch)
}

// track counts a load as running and returns the func that counts it as
// ended, from res as written to the client (call it after res is final).
func (m *Metrics) track(res *Result) func() {
	if m == nil {
		return func() {}
	}
	m.current.Inc()
	return func() {
		m.current.Dec()
		m.requests.WithLabelValues(statusLabel(res.Status)).Inc()
		if res.Status == StatusSuccess || res.Status == StatusPublishTimeout {
			m.rows.WithLabelValues("loaded").Add(float64(res.NumberLoadedRows))
		}
		m.rows.WithLabelValues("filtered").Add(float64(res.NumberFilteredRows))
		m.rows.WithLabelValues("unselected").Add(float64(res.NumberUnselectedRows))
		m.bytes.Add(float64(res.LoadBytes))
		m.duration.Observe((time.Duration(res.LoadTimeMs) * time.Millisecond).Seconds())
	}
}

// statusLabel is a load Status as a label value.
func statusLabel(status string) string {
	switch status {
	case StatusSuccess:
		return "success"
	case StatusPublishTimeout:
		return "publish_timeout"
	case StatusLabelExists:
		return "label_exists"
	}
	return "fail"
}

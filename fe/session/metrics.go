package session

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
)

// Metrics counts the statements an engine's sessions run and the
// connections they hold, after Doris's frontend metrics
// (doris_fe_query_total, doris_fe_query_err, doris_fe_query_latency_ms,
// doris_fe_connection_total) with Strata's prefix. Statements are counted
// once each, when they end; connections now are read from the engine when
// the registry is scraped. It is a prometheus.Collector for the process's
// registry; an Engine whose Metrics is nil counts nothing.
type Metrics struct {
	eng *Engine

	queries    *prometheus.CounterVec
	errs       *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	insertRows prometheus.Counter
	connsTotal prometheus.Counter
	conns      *prometheus.Desc
}

var _ prometheus.Collector = (*Metrics)(nil)

// latencyBuckets span a point query to a long report, in seconds.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

// NewMetrics returns the statement metrics of e's sessions. Register them
// and set e.Metrics before e serves connections.
func NewMetrics(e *Engine) *Metrics {
	m := &Metrics{
		eng: e,
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_fe_query_total",
			Help: "Statements run over the MySQL protocol, by kind (select, insert, update, delete, explain, ddl, show, set, other).",
		}, []string{"kind"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_fe_query_err_total",
			Help: "Statements that failed, by kind; a SELECT also when it fails while its rows are sent (timeout, KILL, memory limit).",
		}, []string{"kind"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "strata_fe_query_latency_seconds",
			Help:    "How long statements took, from dispatch to their result (rows already sent for a streamed SELECT), by kind.",
			Buckets: latencyBuckets,
		}, []string{"kind"}),
		insertRows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_fe_insert_rows_total",
			Help: "Rows INSERT statements loaded (their affected rows).",
		}),
		connsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_fe_connections_total",
			Help: "MySQL connections that logged in.",
		}),
		conns: prometheus.NewDesc("strata_fe_connections",
			"MySQL connections open now.", nil, nil),
	}
	// Every kind has its series from the start, so that rates see the
	// first statement.
	for _, kind := range stmtKinds {
		m.queries.WithLabelValues(kind)
		m.errs.WithLabelValues(kind)
		m.latency.WithLabelValues(kind)
	}
	return m
}

// stmtKinds are the values stmtKind returns.
var stmtKinds = []string{"select", "insert", "update", "delete", "explain", "ddl", "show", "set", "other"}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.queries.Describe(ch)
	m.errs.Describe(ch)
	m.latency.Describe(ch)
	m.insertRows.Describe(ch)
	m.connsTotal.Describe(ch)
	ch <- m.conns
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.queries.Collect(ch)
	m.errs.Collect(ch)
	m.latency.Collect(ch)
	m.insertRows.Collect(ch)
	m.connsTotal.Collect(ch)
	m.eng.mu.Lock()
	n := len(m.eng.conns)
	m.eng.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(m.conns, prometheus.GaugeValue, float64(n))
}

// statement counts a statement that began at start, once it returned *res
// and *err. It is deferred by execute, after the statement's bookkeeping
// (beginStatement's end), so a result set's rows are a *stmtRows by then:
// its statement runs on while they are sent, and its latency and any
// error (a timeout, KILL, the memory limit) are recorded when they end.
func (m *Metrics) statement(st sql.Stmt, start time.Time, res **mysqlproto.Result, err *error) {
	if m == nil {
		return
	}
	kind := stmtKind(st)
	m.queries.WithLabelValues(kind).Inc()
	if *err == nil && *res != nil {
		if rows, ok := (*res).Rows.(*stmtRows); ok {
			rows.ended = func(failed bool) { m.ended(kind, start, failed) }
			return
		}
	}
	m.ended(kind, start, *err != nil)
	if _, ok := st.(*sql.InsertStmt); ok && *err == nil && *res != nil {
		m.insertRows.Add(float64((*res).AffectedRows))
	}
}

// ended records the latency of a statement of kind that began at start,
// and its failure.
func (m *Metrics) ended(kind string, start time.Time, failed bool) {
	m.latency.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	if failed {
		m.errs.WithLabelValues(kind).Inc()
	}
}

// connected counts a connection that logged in.
func (m *Metrics) connected() {
	if m != nil {
		m.connsTotal.Inc()
	}
}

// stmtKind is the kind label of a statement.
func stmtKind(st sql.Stmt) string {
	switch st.(type) {
	case *sql.SelectStmt:
		return "select"
	case *sql.InsertStmt:
		return "insert"
	case *sql.UpdateStmt:
		return "update"
	case *sql.DeleteStmt:
		return "delete"
	case *sql.ExplainStmt:
		return "explain"
	case *sql.CreateDatabaseStmt, *sql.DropDatabaseStmt, *sql.CreateTableStmt, *sql.DropTableStmt,
		*sql.AlterTableStmt, *sql.TruncateTableStmt, *sql.CreateViewStmt, *sql.DropViewStmt,
		*sql.CreateMaterializedViewStmt, *sql.DropMaterializedViewStmt, *sql.CancelAlterStmt, *sql.AlterSystemStmt:
		return "ddl"
	case *sql.ShowStmt, *sql.DescribeStmt:
		return "show"
	case *sql.SetStmt:
		return "set"
	}
	return "other"
}

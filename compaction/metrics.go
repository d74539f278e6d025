package compaction

import (
	"github.com/prometheus/client_golang/prometheus"
)

// NewCollector returns a Prometheus collector of a scheduler's metrics,
// read from Stats and Scores when the registry is scraped (so scores cost
// one pass over the tablets per scrape, and nothing in between).
//
// Metrics Doris's backend has keep its names and labels
// (be/src/util/doris_metrics.cpp), so Doris dashboards and alerts work:
//
//	doris_be_compaction_deltas_total{type="base"|"cumulative"}   rowsets merged
//	doris_be_compaction_bytes_total{type="base"|"cumulative"}    bytes merged
//	doris_be_compaction_rows_total{type="read"|"write",location="local"}
//	doris_be_tablet_cumulative_max_compaction_score              highest score of a tablet due for a cumulative compaction
//	doris_be_tablet_base_max_compaction_score                    same, base
//
// and the scheduler's own are Strata's:
//
//	strata_compaction_runs_total{type,result="finished"|"failed"|"skipped"}
//	strata_compaction_running            compactions running now
//	strata_compaction_queued             tablets waiting to be looked at
//	strata_compaction_due_tablets        tablets whose score is above 0
//	strata_compaction_max_version_count  most visible rowsets of a tablet
func NewCollector(s *Scheduler) prometheus.Collector {
	return &collector{
		s: s,
		deltas: prometheus.NewDesc("doris_be_compaction_deltas_total",
			"Rowsets merged by finished compactions.", []string{"type"}, nil),
		bytes: prometheus.NewDesc("doris_be_compaction_bytes_total",
			"Bytes of the rowsets merged by finished compactions.", []string{"type"}, nil),
		rows: prometheus.NewDesc("doris_be_compaction_rows_total",
			"Rows finished compactions read and wrote.", []string{"type", "location"}, nil),
		cumulativeScore: prometheus.NewDesc("doris_be_tablet_cumulative_max_compaction_score",
			"The highest compaction score of a tablet whose next compaction is cumulative.", nil, nil),
		baseScore: prometheus.NewDesc("doris_be_tablet_base_max_compaction_score",
			"The highest compaction score of a tablet whose next compaction is base.", nil, nil),
		runs: prometheus.NewDesc("strata_compaction_runs_total",
			"Compactions that ended, by kind and result (skipped: inputs of different schemas).",
			[]string{"type", "result"}, nil),
		running: prometheus.NewDesc("strata_compaction_running",
			"Compactions running now.", nil, nil),
		queued: prometheus.NewDesc("strata_compaction_queued",
			"Tablets waiting for the scheduler to look at them.", nil, nil),
		due: prometheus.NewDesc("strata_compaction_due_tablets",
			"Tablets the compaction policy would merge a run of now.", nil, nil),
		maxVersions: prometheus.NewDesc("strata_compaction_max_version_count",
			"The most visible rowsets any tablet has (loads are refused past max_tablet_version_num).", nil, nil),
	}
}

type collector struct {
	s *Scheduler

	deltas, bytes, rows                     *prometheus.Desc
	cumulativeScore, baseScore              *prometheus.Desc
	runs, running, queued, due, maxVersions *prometheus.Desc
}

var _ prometheus.Collector = (*collector)(nil)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.deltas, c.bytes, c.rows, c.cumulativeScore, c.baseScore, c.runs, c.running, c.queued, c.due, c.maxVersions,
	} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	var read, written int64
	for k, ks := range st.Kinds {
		kind := Kind(k).String()
		ch <- prometheus.MustNewConstMetric(c.deltas, prometheus.CounterValue, float64(ks.Rowsets), kind)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(ks.BytesMerged), kind)
		ch <- prometheus.MustNewConstMetric(c.runs, prometheus.CounterValue, float64(ks.Compactions), kind, "finished")
		ch <- prometheus.MustNewConstMetric(c.runs, prometheus.CounterValue, float64(ks.Failures), kind, "failed")
		ch <- prometheus.MustNewConstMetric(c.runs, prometheus.CounterValue, float64(ks.Skipped), kind, "skipped")
		read += ks.RowsMerged
		written += ks.RowsWritten
	}
	ch <- prometheus.MustNewConstMetric(c.rows, prometheus.CounterValue, float64(read), "read", "local")
	ch <- prometheus.MustNewConstMetric(c.rows, prometheus.CounterValue, float64(written), "write", "local")
	ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, float64(st.Running))
	ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(st.Queued))
	ch <- prometheus.MustNewConstMetric(c.maxVersions, prometheus.GaugeValue, float64(st.MaxVersionCount))

	var maxScore [numKinds]int
	due := 0
	for _, ts := range c.s.Scores() {
		maxScore[ts.Kind] = max(maxScore[ts.Kind], ts.Score)
		if ts.Score > 0 {
			due++
		}
	}
	ch <- prometheus.MustNewConstMetric(c.cumulativeScore, prometheus.GaugeValue, float64(maxScore[Cumulative]))
	ch <- prometheus.MustNewConstMetric(c.baseScore, prometheus.GaugeValue, float64(maxScore[Base]))
	ch <- prometheus.MustNewConstMetric(c.due, prometheus.GaugeValue, float64(due))
}

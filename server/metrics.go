package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/be/service"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/compaction"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/session"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/loader"
)

// newRegistry builds the process's metrics registry, which GET /metrics
// serves on both HTTP ports (in the embedded deployment one process is the
// frontend and the backend, so both ports show the same metrics). It is
// the one place metrics are registered: a component gets its collectors
// registered here (compaction.NewCollector), or is handed this registry
// as a prometheus.Registerer, never the global default registry.
//
// The frontend's metrics are added by registerFrontend, the backend's by
// registerBackend; docs/operations.md lists them all.
func newRegistry(cmpct *compaction.Scheduler) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "strata_query_memory_bytes",
			Help: "Bytes the running queries of this process hold in their tracked operators (hash tables, join builds, sorts, gathered fragment outputs), as exec_mem_limit counts them.",
		}, func() float64 { return float64(exec.ProcessQueryMemory()) }),
	)
	if cmpct != nil { // a frontend of a cluster compacts nothing
		reg.MustRegister(compaction.NewCollector(cmpct))
	}
	return reg
}

// registerEmbedded registers the metrics of both roles of the embedded
// server, and returns the stream load metrics its loader counts in.
func registerEmbedded(reg prometheus.Registerer, fe *frontendNode, tabs *tabletstore.Store, svc *service.Stats) *loader.Metrics {
	registerFrontend(reg, fe)
	loads := loader.NewMetrics()
	registerBackend(reg, tabs, loads, svc)
	return loads
}

// registerFrontend registers a frontend's metrics: its sessions'
// statements and connections (and hands the engine its session.Metrics,
// so call it before the engine serves), the catalog and the load
// transactions. The catalog and transaction metrics are read when the
// registry is scraped.
func registerFrontend(reg prometheus.Registerer, fe *frontendNode) {
	fe.eng.Metrics = session.NewMetrics(fe.eng)
	reg.MustRegister(fe.eng.Metrics, newCatalogCollector(fe.cat), newTxnCollector(fe.txns, fe.log))
}

// registerBackend registers a backend's metrics besides compaction's: its
// tablet store, read when the registry is scraped, and the stream loads it
// runs (loads, which its loader.Config must carry).
func registerBackend(reg prometheus.Registerer, tabs *tabletstore.Store, loads *loader.Metrics, svc *service.Stats) {
	reg.MustRegister(newStorageCollector(tabs), loads, newServiceCollector(svc))
}

// metricsHandler serves a registry in the Prometheus text format (or
// OpenMetrics, when the scraper asks for it).
func metricsHandler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          promLogger{log},
		ErrorHandling:     promhttp.ContinueOnError, // serve what was gathered
		EnableOpenMetrics: true,
	})
}

// promLogger passes promhttp's errors to the server's logger.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) { l.log.Warn("serving metrics", "err", fmt.Sprint(v...)) }

// catalogCollector reads the catalog's current snapshot at each scrape:
// how many objects it holds, the highest visible version of a partition,
// and the alter jobs not finished.
type catalogCollector struct {
	cat *catalog.Catalog

	dbs, tables, partitions, tablets *prometheus.Desc
	maxVersion, revision, alterJobs  *prometheus.Desc
}

func newCatalogCollector(cat *catalog.Catalog) *catalogCollector {
	return &catalogCollector{
		cat: cat,
		dbs: prometheus.NewDesc("strata_fe_catalog_databases",
			"Databases in the catalog.", nil, nil),
		tables: prometheus.NewDesc("strata_fe_catalog_tables",
			"Tables in the catalog.", nil, nil),
		partitions: prometheus.NewDesc("strata_fe_catalog_partitions",
			"Partitions of the catalog's tables.", nil, nil),
		tablets: prometheus.NewDesc("strata_fe_catalog_tablets",
			"Tablets of the catalog's partitions, of the base index and of rollups and materialized views (one per bucket, not per replica).", nil, nil),
		maxVersion: prometheus.NewDesc("strata_fe_max_partition_visible_version",
			"The highest visible version of any partition: it rises with every load made visible.", nil, nil),
		revision: prometheus.NewDesc("strata_fe_catalog_revision",
			"The etcd revision of the catalog snapshot this frontend serves (rises with every catalog change, load versions included).", nil, nil),
		alterJobs: prometheus.NewDesc("strata_fe_alter_jobs",
			"Alter jobs (rollups, materialized views, schema changes) not finished, by type and state.", []string{"type", "state"}, nil),
	}
}

func (c *catalogCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.dbs, c.tables, c.partitions, c.tablets, c.maxVersion, c.revision, c.alterJobs} {
		ch <- d
	}
}

func (c *catalogCollector) Collect(ch chan<- prometheus.Metric) {
	snap := c.cat.Snapshot()
	dbs := snap.Databases()
	var tables, partitions, tablets int
	var maxVersion int64
	type jobKey struct {
		typ   catalog.AlterJobType
		state catalog.JobState
	}
	jobs := map[jobKey]int{}
	for _, t := range allTablesOf(snap) {
		tables++
		for _, p := range t.Partitions {
			partitions++
			tablets += len(p.Tablets)
			for _, ids := range p.IndexTablets {
				tablets += len(ids)
			}
			maxVersion = max(maxVersion, p.VisibleVersion)
		}
		for _, j := range t.AlterJobs {
			if !j.State.Finished() {
				jobs[jobKey{j.Type, j.State}]++
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(c.dbs, prometheus.GaugeValue, float64(len(dbs)))
	ch <- prometheus.MustNewConstMetric(c.tables, prometheus.GaugeValue, float64(tables))
	ch <- prometheus.MustNewConstMetric(c.partitions, prometheus.GaugeValue, float64(partitions))
	ch <- prometheus.MustNewConstMetric(c.tablets, prometheus.GaugeValue, float64(tablets))
	ch <- prometheus.MustNewConstMetric(c.maxVersion, prometheus.GaugeValue, float64(maxVersion))
	ch <- prometheus.MustNewConstMetric(c.revision, prometheus.GaugeValue, float64(snap.Revision()))
	// Every type and running state has a series, zero when idle.
	for _, typ := range []catalog.AlterJobType{catalog.JobRollup, catalog.JobSchemaChange} {
		for _, state := range []catalog.JobState{catalog.JobWaitingTxn, catalog.JobRunning} {
			jobs[jobKey{typ, state}] += 0
		}
	}
	for k, n := range jobs {
		ch <- prometheus.MustNewConstMetric(c.alterJobs, prometheus.GaugeValue, float64(n), string(k.typ), string(k.state))
	}
}

// txnCollector reads the load transactions at each scrape: the manager's
// counters, and the transactions running (one etcd range read).
type txnCollector struct {
	txns *txn.Manager
	log  *slog.Logger

	counter, status, perDB *prometheus.Desc
}

func newTxnCollector(txns *txn.Manager, log *slog.Logger) *txnCollector {
	return &txnCollector{
		txns: txns, log: log,
		counter: prometheus.NewDesc("strata_fe_txn_counter_total",
			"Load transactions this frontend began (begin), committed (success), aborted (failed) or refused for too many running (reject), by source (STREAM_LOAD, INSERT, ...). Only the leader changes transactions.",
			[]string{"type", "source"}, nil),
		status: prometheus.NewDesc("strata_fe_txn_status",
			"Load transactions not yet final, by status (PREPARE, PRECOMMITTED, COMMITTED).", []string{"type"}, nil),
		perDB: prometheus.NewDesc("strata_fe_txn_num",
			"Load transactions not yet final, by database.", []string{"db"}, nil),
	}
}

func (c *txnCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.counter
	ch <- c.status
	ch <- c.perDB
}

// txnScrapeTimeout bounds the read of the running transactions.
const txnScrapeTimeout = 5 * time.Second

func (c *txnCollector) Collect(ch chan<- prometheus.Metric) {
	counts := c.txns.Counters()
	// The sources every deployment has appear before their first load.
	seen := map[string]bool{}
	for _, n := range counts {
		seen[n.Source] = true
	}
	for _, src := range []string{"INSERT", "STREAM_LOAD"} {
		if !seen[src] {
			counts = append(counts, txn.Counts{Source: src})
		}
	}
	for _, n := range counts {
		for typ := range txn.NumCounterTypes {
			ch <- prometheus.MustNewConstMetric(c.counter, prometheus.CounterValue, float64(n.N[typ]), txn.CounterType(typ).String(), n.Source)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), txnScrapeTimeout)
	defer cancel()
	running, err := c.txns.ListRunning(ctx, 0)
	if err != nil {
		// The gauges are left out of this scrape rather than shown as 0.
		c.log.Warn("reading running transactions for metrics", "err", err)
		return
	}
	byStatus := map[txn.Status]int{txn.StatusPrepare: 0, txn.StatusPrecommitted: 0, txn.StatusCommitted: 0}
	byDB := map[string]int{}
	for _, t := range running {
		byStatus[t.Status]++
		byDB[t.DBName]++
	}
	for st, n := range byStatus {
		ch <- prometheus.MustNewConstMetric(c.status, prometheus.GaugeValue, float64(n), st.String())
	}
	for db, n := range byDB {
		ch <- prometheus.MustNewConstMetric(c.perDB, prometheus.GaugeValue, float64(n), db)
	}
}

// storageCollector reads a backend's tablet store at each scrape (one pass
// over its tablets under the store's lock) and its page cache's counters.
type storageCollector struct {
	tabs *tabletstore.Store

	tablets, rowsets, segments, rows, dataBytes *prometheus.Desc
	pending, stale, versions, maxVersion        *prometheus.Desc
	loadRowsets, loadRows, loadBytes            *prometheus.Desc
	cacheCapacity, cacheUsage, cachePages       *prometheus.Desc
	cacheLookups, cacheHits                     *prometheus.Desc
}

// versionBuckets are the upper bounds of the histogram of visible rowsets
// per tablet, up to Doris's max_tablet_version_num (2000).
var versionBuckets = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000}

// pageCacheName is the page cache's name label, Doris's name of the cache
// of data pages.
const pageCacheName = "DataPageCache"

func newStorageCollector(tabs *tabletstore.Store) *storageCollector {
	cache := []string{"name"}
	return &storageCollector{
		tabs: tabs,
		tablets: prometheus.NewDesc("strata_be_tablets",
			"Tablets this backend holds anything of.", nil, nil),
		rowsets: prometheus.NewDesc("strata_be_all_rowsets_num",
			"Visible rowsets of this backend's tablets.", nil, nil),
		segments: prometheus.NewDesc("strata_be_all_segments_num",
			"Segment files of the visible rowsets.", nil, nil),
		rows: prometheus.NewDesc("strata_be_tablet_rows",
			"Rows in the visible rowsets (rows later replaced or deleted included).", nil, nil),
		dataBytes: prometheus.NewDesc("strata_be_tablet_data_bytes",
			"Bytes of the visible rowsets' segment files.", nil, nil),
		pending: prometheus.NewDesc("strata_be_pending_rowsets",
			"Rowsets of load transactions not yet published or aborted.", nil, nil),
		stale: prometheus.NewDesc("strata_be_stale_rowsets",
			"Rowsets compactions replaced, kept for the queries reading them until swept.", nil, nil),
		versions: prometheus.NewDesc("strata_be_tablet_version_num_distribution",
			"Tablets by their number of visible rowsets (the versions a read merges; loads are refused past max_tablet_version_num).", nil, nil),
		maxVersion: prometheus.NewDesc("strata_be_max_tablet_version",
			"The highest version any tablet of this backend holds.", nil, nil),
		loadRowsets: prometheus.NewDesc("strata_be_load_rowsets_total",
			"Rowsets loads (stream loads, INSERT, DELETE) and alter jobs wrote into this backend's tablets, one per tablet and transaction.", nil, nil),
		loadRows: prometheus.NewDesc("strata_be_load_rows_total",
			"Rows loads and alter jobs wrote into this backend's tablets (after a unique or aggregate key folded the rows of one load).", nil, nil),
		loadBytes: prometheus.NewDesc("strata_be_load_bytes_total",
			"Bytes of the segment files loads and alter jobs wrote into this backend's tablets.", nil, nil),
		cacheCapacity: prometheus.NewDesc("strata_be_cache_capacity",
			"Bytes the cache may hold.", cache, nil),
		cacheUsage: prometheus.NewDesc("strata_be_cache_usage",
			"Bytes the cache holds.", cache, nil),
		cachePages: prometheus.NewDesc("strata_be_cache_entries",
			"Entries (decoded pages) the cache holds.", cache, nil),
		cacheLookups: prometheus.NewDesc("strata_be_cache_lookup_total",
			"Lookups in the cache.", cache, nil),
		cacheHits: prometheus.NewDesc("strata_be_cache_hit_total",
			"Lookups the cache answered.", cache, nil),
	}
}

func (c *storageCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.tablets, c.rowsets, c.segments, c.rows, c.dataBytes, c.pending, c.stale, c.versions, c.maxVersion,
		c.loadRowsets, c.loadRows, c.loadBytes, c.cacheCapacity, c.cacheUsage, c.cachePages, c.cacheLookups, c.cacheHits,
	} {
		ch <- d
	}
}

func (c *storageCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.tabs.Stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(c.tablets, float64(st.Tablets))
	gauge(c.rowsets, float64(st.Rowsets))
	gauge(c.segments, float64(st.Segments))
	gauge(c.rows, float64(st.Rows))
	gauge(c.dataBytes, float64(st.DataBytes))
	gauge(c.pending, float64(st.PendingRowsets))
	gauge(c.stale, float64(st.StaleRowsets))
	gauge(c.maxVersion, float64(st.MaxVersion))
	counter(c.loadRowsets, float64(st.WrittenRowsets))
	counter(c.loadRows, float64(st.WrittenRows))
	counter(c.loadBytes, float64(st.WrittenBytes))

	buckets := make(map[float64]uint64, len(versionBuckets))
	var sum float64
	for _, n := range st.VersionCounts {
		sum += float64(n)
		for _, b := range versionBuckets {
			if float64(n) <= b {
				buckets[b]++ // cumulative: every bound at or above n
			}
		}
	}
	ch <- prometheus.MustNewConstHistogram(c.versions, uint64(len(st.VersionCounts)), sum, buckets)

	if pc := c.tabs.PageCache(); pc != nil {
		ps := pc.Stats()
		gauge(c.cacheCapacity, float64(ps.Capacity), pageCacheName)
		gauge(c.cacheUsage, float64(ps.Bytes), pageCacheName)
		gauge(c.cachePages, float64(ps.Pages), pageCacheName)
		counter(c.cacheLookups, float64(ps.Hits+ps.Misses), pageCacheName)
		counter(c.cacheHits, float64(ps.Hits), pageCacheName)
	}
}

// serviceCollector serves a backend's service counters: the fragments it
// ran for queries, the transactions it published to its replicas and the
// replicas it cloned from other backends (in a cluster; the embedded
// server runs fragments and publishes in the process, past the service).
type serviceCollector struct {
	stats                                    *service.Stats
	fragments, published, clones, cloneBytes *prometheus.Desc
}

func newServiceCollector(stats *service.Stats) *serviceCollector {
	return &serviceCollector{
		stats: stats,
		fragments: prometheus.NewDesc("strata_be_fragments_total",
			"Query fragment instances this backend ran, by result.", []string{"result"}, nil),
		published: prometheus.NewDesc("strata_be_publish_txns_total",
			"Load transactions published to this backend's replicas.", nil, nil),
		clones: prometheus.NewDesc("strata_be_clones_total",
			"Replicas this backend cloned from another backend, by result.", []string{"result"}, nil),
		cloneBytes: prometheus.NewDesc("strata_be_clone_bytes_total",
			"Bytes of segment files this backend's clones fetched.", nil, nil),
	}
}

func (c *serviceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.fragments, c.published, c.clones, c.cloneBytes} {
		ch <- d
	}
}

func (c *serviceCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats.Snapshot()
	ch <- prometheus.MustNewConstMetric(c.fragments, prometheus.CounterValue, float64(s.Fragments-s.FragmentErrors), "ok")
	ch <- prometheus.MustNewConstMetric(c.fragments, prometheus.CounterValue, float64(s.FragmentErrors), "failed")
	ch <- prometheus.MustNewConstMetric(c.published, prometheus.CounterValue, float64(s.PublishedTxns))
	ch <- prometheus.MustNewConstMetric(c.clones, prometheus.CounterValue, float64(s.Clones-s.CloneErrors), "ok")
	ch <- prometheus.MustNewConstMetric(c.clones, prometheus.CounterValue, float64(s.CloneErrors), "failed")
	ch <- prometheus.MustNewConstMetric(c.cloneBytes, prometheus.CounterValue, float64(s.CloneBytes))
}

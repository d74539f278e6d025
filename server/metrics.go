package server

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/strata-db/strata/compaction"
)

// newRegistry builds the process's metrics registry, which GET /metrics
// serves on both HTTP ports (in the embedded deployment one process is the
// frontend and the backend, so both ports show the same metrics). It is
// the one place metrics are registered: a component gets its collectors
// registered here (compaction.NewCollector), or is handed this registry
// as a prometheus.Registerer, never the global default registry.
func newRegistry(cmpct *compaction.Scheduler) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if cmpct != nil { // a frontend of a cluster compacts nothing
		reg.MustRegister(compaction.NewCollector(cmpct))
	}
	return reg
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

package strataload

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCompactionIdle(t *testing.T) {
	page := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, page) }))
	defer srv.Close()
	ctx := context.Background()
	page = "# HELP x\nstrata_compaction_running 0\nstrata_compaction_queued 0\nstrata_compaction_due_tablets 0\n"
	idle, err := CompactionIdle(ctx, srv.URL)
	require.NoError(t, err)
	require.True(t, idle)
	require.NoError(t, Settle(ctx, srv.URL, time.Minute))
	page = "strata_compaction_running 1\nstrata_compaction_queued 0\nstrata_compaction_due_tablets 0\n"
	idle, err = CompactionIdle(ctx, srv.URL)
	require.NoError(t, err)
	require.False(t, idle)
	require.ErrorContains(t, Settle(ctx, srv.URL, time.Millisecond), "still busy")
	page = "strata_compaction_running 0\n"
	_, err = CompactionIdle(ctx, srv.URL)
	require.ErrorContains(t, err, "lacks the compaction gauges")
}

func TestProcessCPU(t *testing.T) {
	page := "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 12.34\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, page) }))
	defer srv.Close()
	v, err := ProcessCPU(context.Background(), srv.URL)
	require.NoError(t, err)
	require.InDelta(t, 12.34, v, 1e-9)
	page = "go_goroutines 3\n"
	_, err = ProcessCPU(context.Background(), srv.URL)
	require.ErrorContains(t, err, "no process_cpu_seconds_total")
}

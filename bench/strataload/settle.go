package strataload

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Settle waits until the server's compaction metrics show nothing
// running, queued or due, twice a second apart, or fails after limit.
func Settle(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	quiet := 0
	for {
		idle, err := CompactionIdle(ctx, url)
		if err != nil {
			return fmt.Errorf("waiting for compaction: %w", err)
		}
		if quiet = map[bool]int{true: quiet + 1, false: 0}[idle]; quiet >= 2 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("compaction still busy after %s", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// CompactionIdle reads the compaction gauges of a Prometheus text page.
func CompactionIdle(ctx context.Context, url string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("%s: %s", url, resp.Status)
	}
	seen := 0
	for _, line := range strings.Split(string(body), "\n") {
		name, value, ok := strings.Cut(line, " ")
		switch name {
		case "strata_compaction_running", "strata_compaction_queued", "strata_compaction_due_tablets":
		default:
			continue
		}
		seen++
		if !ok || strings.TrimSpace(value) != "0" {
			return false, nil
		}
	}
	if seen != 3 {
		return false, fmt.Errorf("%s lacks the compaction gauges", url)
	}
	return true, nil
}

// ProcessCPU reads process_cpu_seconds_total (user and system CPU time of
// the server process) from a Prometheus text page.
func ProcessCPU(ctx context.Context, url string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "process_cpu_seconds_total "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("%s: no process_cpu_seconds_total", url)
}

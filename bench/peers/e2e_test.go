package peers

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestEndToEnd runs all three systems on SF 0.01, both schemas: it builds
// strata from the main module and needs clickhouse-server installed. Every
// system must answer all 26 queries, and agree.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds strata and starts servers")
	}
	if _, err := findClickHouse(); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out := t.TempDir()
	var log strings.Builder
	rep, err := Run(ctx, Config{
		SF: 0.01, Systems: KnownSystems, Schemas: []string{"flat", "star"}, Runs: 1,
		WorkDir: filepath.Join(t.TempDir(), "work"), OutDir: out, Log: &log,
	})
	require.NoError(t, err, log.String())
	require.Len(t, rep.Results, 26)
	for _, m := range rep.Results {
		require.Empty(t, m.Failed, "%s %s", m.Schema, m.Query)
		require.Len(t, m.Hot, 3, "%s %s", m.Schema, m.Query)
	}
	for _, s := range KnownSystems {
		require.Positive(t, rep.Load[s], s)
		require.Positive(t, rep.Size[s], s)
	}
	md, err := os.ReadFile(filepath.Join(out, "results.md"))
	require.NoError(t, err)
	require.Contains(t, string(md), "| **geomean** (13 common) |")
	for _, f := range []string{"ssb-flat.svg", "ssb-star.svg"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(string(b), "<svg"), f)
	}
}

package compaction

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/tabletstore"
)

// scrape serves a registry's metrics as a scraper gets them and returns
// the samples by series, `name{label="value",...}` as the text format
// writes them.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	out := map[string]float64{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		require.NoError(t, err, line)
		out[line[:i]] = v
	}
	return out
}

// loadOneRowEach publishes n one-row loads into a tablet, versions 2 to
// n+1.
func loadOneRowEach(t *testing.T, st *tabletstore.Store, tablet int64, n int) {
	t.Helper()
	for v := int64(2); v < int64(n)+2; v++ {
		loadRows(t, st, tinySchema, tablet, tablet*1000+v, v, [][]any{{v}})
	}
}

// The metrics move with a compaction the scheduler runs, under the kind
// the policy's run has: with the default policy six small loads are a
// cumulative run; when every rowset is past the promotion size, they are
// all below the cumulative point and merge as a base compaction.
func TestCollectorAfterCompaction(t *testing.T) {
	for _, tc := range []struct {
		kind   Kind
		policy Policy
	}{
		{Cumulative, Policy{}},
		{Base, Policy{PromotionMinBytes: 1, PromotionMaxBytes: 1}},
	} {
		t.Run("kind="+tc.kind.String(), func(t *testing.T) {
			st, err := tabletstore.OpenWithOptions(t.TempDir(), tabletstore.Options{StaleSweepTime: -1})
			require.NoError(t, err)
			defer st.Close()
			loadOneRowEach(t, st, 1, 6)
			s := NewScheduler(st, Config{Workers: 1, ScanInterval: time.Hour, Policy: tc.policy})
			defer s.Close()
			reg := prometheus.NewRegistry()
			reg.MustRegister(NewCollector(s))
			kind := `{type="` + tc.kind.String() + `"}`
			score := "doris_be_tablet_" + tc.kind.String() + "_max_compaction_score"

			before := scrape(t, reg)
			require.Zero(t, before["doris_be_compaction_deltas_total"+kind])
			require.Zero(t, before["doris_be_compaction_bytes_total"+kind])
			require.Zero(t, before[`strata_compaction_runs_total{result="finished",type="`+tc.kind.String()+`"}`])
			require.Equal(t, 6.0, before[score])
			require.Equal(t, 1.0, before["strata_compaction_due_tablets"])
			require.Equal(t, 6.0, before["strata_compaction_max_version_count"])

			s.Start()
			waitFor(t, "the compaction", func() bool {
				stats := s.Stats()
				return stats.Compactions == 1 && stats.Running == 0 && st.VersionCount(1) == 1
			})
			stats := s.Stats()
			require.Equal(t, int64(1), stats.Kinds[tc.kind].Compactions)
			require.Equal(t, int64(6), stats.Kinds[tc.kind].Rowsets)

			after := scrape(t, reg)
			require.Equal(t, 6.0, after["doris_be_compaction_deltas_total"+kind])
			require.Equal(t, float64(stats.BytesMerged), after["doris_be_compaction_bytes_total"+kind])
			require.Positive(t, after["doris_be_compaction_bytes_total"+kind])
			require.Equal(t, 6.0, after[`doris_be_compaction_rows_total{location="local",type="read"}`])
			require.Equal(t, 6.0, after[`doris_be_compaction_rows_total{location="local",type="write"}`])
			require.Equal(t, 1.0, after[`strata_compaction_runs_total{result="finished",type="`+tc.kind.String()+`"}`])
			require.Zero(t, after[`strata_compaction_runs_total{result="failed",type="`+tc.kind.String()+`"}`])
			require.Zero(t, after[score])
			require.Zero(t, after["strata_compaction_due_tablets"])
			require.Equal(t, 1.0, after["strata_compaction_max_version_count"])
			require.Zero(t, after["strata_compaction_running"])

			// The tablet's status remembers the compaction under its kind.
			ts, ok := s.TabletStatus(1)
			require.True(t, ok)
			require.Equal(t, statusOK, ts.LastStatus[tc.kind])
			require.False(t, ts.LastSuccess[tc.kind].IsZero())
			require.False(t, ts.LastScheduled[tc.kind].IsZero())
			require.True(t, ts.LastFailure[tc.kind].IsZero())
			require.Len(t, ts.Rowsets, 1)
			require.Equal(t, int64(2), ts.Rowsets[0].StartVersion)
			require.Equal(t, int64(7), ts.Rowsets[0].EndVersion)
		})
	}
}

func TestCumulativePoint(t *testing.T) {
	const mb = 1 << 20
	rowsets := func(sizes ...int64) []tabletstore.RowsetInfo {
		out := make([]tabletstore.RowsetInfo, len(sizes))
		for i, sz := range sizes {
			v := int64(i + 2)
			out[i] = tabletstore.RowsetInfo{StartVersion: v, EndVersion: v, DataSize: sz}
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		rowsets []tabletstore.RowsetInfo
		want    int64
	}{
		{"none", nil, -1},
		{"all small", rowsets(1, 1, 1), 2},
		{"after the newest large one", rowsets(500*mb, 1, 200*mb, 1, 1), 5},
		{"newest is large", rowsets(1, 200*mb), 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, DefaultPolicy().CumulativePoint(tc.rowsets))
		})
	}
}

func TestDorisRowset(t *testing.T) {
	for _, tc := range []struct {
		rs   tabletstore.RowsetInfo
		want string
	}{
		{tabletstore.RowsetInfo{ID: 7, StartVersion: 2, EndVersion: 2, NumSegments: 1, DataSize: 574},
			"[2-2] 1 DATA NONOVERLAPPING 7 574.00 B"},
		{tabletstore.RowsetInfo{ID: 8, StartVersion: 3, EndVersion: 3, NumSegments: 2, DataSize: 3 << 20},
			"[3-3] 2 DATA OVERLAPPING 8 3.00 MB"},
		{tabletstore.RowsetInfo{ID: 9, StartVersion: 2, EndVersion: 40, NumSegments: 13, DataSize: 3070 << 20},
			"[2-40] 13 DATA NONOVERLAPPING 9 3.00 GB"},
		{tabletstore.RowsetInfo{ID: 10, StartVersion: 41, EndVersion: 41, DataSize: 0},
			"[41-41] 0 DATA NONOVERLAPPING 10 0"},
		{tabletstore.RowsetInfo{ID: 11, StartVersion: 42, EndVersion: 42, NumSegments: 1, DataSize: 3184},
			"[42-42] 1 DATA NONOVERLAPPING 11 3.11 KB"},
	} {
		require.Equal(t, tc.want, dorisRowset(tc.rs))
	}
}

// get serves one request and returns the status, the content type and the
// body.
func get(t *testing.T, h http.Handler, target string) (int, string, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Code, rec.Header().Get("Content-Type"), rec.Body.String()
}

func TestShowHandler(t *testing.T) {
	st, err := tabletstore.OpenWithOptions(t.TempDir(), tabletstore.Options{StaleSweepTime: -1})
	require.NoError(t, err)
	defer st.Close()
	loadOneRowEach(t, st, 1, 3)
	s := NewScheduler(st, Config{Workers: 1, ScanInterval: time.Hour})
	defer s.Close()
	h := ShowHandler(s, func(id int64) bool { return id == 5 })

	code, ctype, body := get(t, h, "/api/compaction/show?tablet_id=1")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "application/json", ctype)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.Equal(t, "SIZE_BASED", got["cumulative policy type"])
	require.Equal(t, 2.0, got["cumulative point"])
	for _, key := range []string{"last cumulative failure time", "last base failure time", "last full failure time",
		"last cumulative success time", "last base success time", "last full success time"} {
		require.Equal(t, dorisTime(time.Time{}), got[key], key)
	}
	rowsets := got["rowsets"].([]any)
	require.Len(t, rowsets, 3)
	for i, rs := range rowsets {
		v := i + 2
		require.Regexp(t, `^\[`+strconv.Itoa(v)+`-`+strconv.Itoa(v)+`\] 1 DATA NONOVERLAPPING \d+ \d+\.\d\d B$`, rs)
	}
	require.Equal(t, []any{}, got["missing_rowsets"])
	require.Equal(t, []any{}, got["stale_rowsets"])
	require.Contains(t, body, "\n    \"cumulative policy type\": \"SIZE_BASED\",\n", "indented as Doris's PrettyWriter")

	// A tablet that exists without rowsets shows none.
	_, _, body = get(t, h, "/api/compaction/show?tablet_id=5")
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.Equal(t, []any{}, got["rowsets"])
	require.Equal(t, -1.0, got["cumulative point"])

	for _, tc := range []struct{ query, status, msg string }{
		{"", "INTERNAL_ERROR", "check param failed: missing tablet_id"},
		{"?tablet_id=", "INTERNAL_ERROR", "check param failed: missing tablet_id"},
		{"?tablet_id=0", "INTERNAL_ERROR", "check param failed: missing tablet_id"},
		{"?tablet_id=abc", "INTERNAL_ERROR", "convert tablet_id failed, invalid syntax"},
		{"?tablet_id=-1", "INTERNAL_ERROR", "convert tablet_id failed, invalid syntax"},
		{"?tablet_id=99999999999999999999", "INTERNAL_ERROR", "convert tablet_id failed, value out of range"},
		{"?tablet_id=42", "NOT_FOUND", "Tablet not found. tablet_id=42"},
	} {
		t.Run("query="+tc.query, func(t *testing.T) {
			code, ctype, body := get(t, h, "/api/compaction/show"+tc.query)
			require.Equal(t, http.StatusOK, code, "Doris answers errors with 200")
			require.Equal(t, "application/json", ctype)
			require.JSONEq(t, `{"status": "`+tc.status+`", "msg": "`+tc.msg+`"}`, body)
		})
	}
}

func TestScoreHandler(t *testing.T) {
	st, err := tabletstore.OpenWithOptions(t.TempDir(), tabletstore.Options{StaleSweepTime: -1})
	require.NoError(t, err)
	defer st.Close()
	loadOneRowEach(t, st, 1, 6)
	loadOneRowEach(t, st, 2, 2)
	loadOneRowEach(t, st, 3, 7)
	s := NewScheduler(st, Config{Workers: 1, ScanInterval: time.Hour})
	defer s.Close()
	h := ScoreHandler(s)

	_, _, body := get(t, h, "/api/compaction_score")
	require.JSONEq(t, `[{"compaction_score": "7", "tablet_id": "3"},
		{"compaction_score": "6", "tablet_id": "1"}, {"compaction_score": "0", "tablet_id": "2"}]`, body)
	_, _, body = get(t, h, "/api/compaction_score?top_n=1")
	require.JSONEq(t, `[{"compaction_score": "7", "tablet_id": "3"}]`, body)
	_, _, body = get(t, h, "/api/compaction_score?top_n=0")
	require.JSONEq(t, `[]`, body)
	for _, bad := range []string{"abc", "-1"} {
		code, _, body := get(t, h, "/api/compaction_score?top_n="+bad)
		require.Equal(t, http.StatusBadRequest, code)
		require.Equal(t, "invalid argument: top_n="+bad, body)
	}
}

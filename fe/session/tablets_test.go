package session

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestShowTablets(t *testing.T) {
	e := newTestEngine(t)
	e.TabletStats = func(tablets map[int64][]int64) map[int64][]TabletStats {
		out := map[int64][]TabletStats{}
		for id := range tablets {
			out[id] = []TabletStats{{Backend: 10001, Version: 2, Rowsets: int(id % 7), Rows: id * 10, DataSize: id * 100,
				CompactionStatus: "http://be:8040/api/compaction/show?tablet_id=" + strconv.FormatInt(id, 10)}}
		}
		return out
	}
	s := newTestSession(t, e, 1)
	query(t, s, "CREATE DATABASE d")
	query(t, s, "CREATE TABLE d.t (k INT, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 3")
	query(t, s, "INSERT INTO d.t VALUES (1, 1), (2, 2)")
	rows := query(t, s, "SHOW TABLETS FROM d.t")
	require.Len(t, rows, 3)
	for _, r := range rows {
		f := strings.Split(r, "\t")
		require.Len(t, f, 22)
		require.Equal(t, f[0], f[1]) // one replica, named by the tablet
		require.Equal(t, "2", f[4], "version after one load")
		id, err := strconv.ParseInt(f[0], 10, 64)
		require.NoError(t, err)
		require.Equal(t, strconv.FormatInt(id*100, 10), f[8])
		require.Equal(t, strconv.FormatInt(id*10, 10), f[10])
		require.Equal(t, strconv.FormatInt(id%7, 10), f[14])
		require.Equal(t, "http://be:8040/api/compaction/show?tablet_id="+f[0], f[19], "CompactionStatus")
	}
	// Three replicas of each tablet, one behind: one row each.
	e.TabletStats = func(tablets map[int64][]int64) map[int64][]TabletStats {
		out := map[int64][]TabletStats{}
		for id := range tablets {
			out[id] = []TabletStats{{Backend: 1, Version: 2}, {Backend: 2, Version: 1}, {Backend: 3, Err: "down"}}
		}
		return out
	}
	rows = query(t, s, "SHOW TABLETS FROM d.t")
	require.Len(t, rows, 9)
	states := map[string]int{}
	for _, r := range rows {
		f := strings.Split(r, "\t")
		states[f[2]+":"+f[11]+":"+f[6]]++
	}
	require.Equal(t, map[string]int{"1:NORMAL:-1": 3, "2:LAGGING:2": 3, "3:UNKNOWN:2": 3}, states)
	_, err := s.Query(t.Context(), "SHOW TABLETS FROM d.nosuch")
	require.ErrorContains(t, err, "nosuch")
}

package session

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestShowTablets(t *testing.T) {
	e := newTestEngine(t)
	e.TabletStats = func(id int64) TabletStats {
		return TabletStats{Rowsets: int(id % 7), Rows: id * 10, DataSize: id * 100,
			CompactionStatus: "http://be:8040/api/compaction/show?tablet_id=" + strconv.FormatInt(id, 10)}
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
	_, err := s.Query(t.Context(), "SHOW TABLETS FROM d.nosuch")
	require.ErrorContains(t, err, "nosuch")
}

package server

import (
	"context"
	"database/sql"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/stretchr/testify/require"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// A start-up that fails after the listeners were opened gives their ports
// back, so that the caller can retry (or another process can bind them).
func TestFailedStartReleasesPorts(t *testing.T) {
	// Hold the embedded etcd's client port so that etcd cannot start.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()

	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.QueryPort, cfg.HTTPPort, cfg.BEHTTPPort, cfg.BERPCPort = freePort(t), freePort(t), freePort(t), freePort(t)
	cfg.EtcdClientPort = busy.Addr().(*net.TCPAddr).Port
	cfg.EtcdPeerPort = freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Start(ctx, cfg)
	require.Error(t, err)
	require.Nil(t, s)

	for _, p := range []int{cfg.QueryPort, cfg.HTTPPort, cfg.BEHTTPPort, cfg.BERPCPort} {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		require.NoError(t, err, "port %d is still bound after the failed start", p)
		l.Close()
	}
}

// The tablets of a dropped table are deleted on the second maintenance
// pass that finds them in no table; a live table's are kept.
func TestDropOrphanTablets(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.QueryPort, cfg.HTTPPort, cfg.BEHTTPPort, cfg.BERPCPort = freePort(t), freePort(t), freePort(t), freePort(t)
	cfg.EtcdClientPort, cfg.EtcdPeerPort = freePort(t), freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Start(ctx, cfg)
	require.NoError(t, err)
	defer s.Close()
	db, err := sql.Open("mysql", "root@tcp(127.0.0.1:"+strconv.Itoa(cfg.QueryPort)+")/?multiStatements=true")
	require.NoError(t, err)
	defer db.Close()
	_, err = db.ExecContext(ctx, `CREATE DATABASE d;
CREATE TABLE d.gone (k INT) DISTRIBUTED BY HASH(k) BUCKETS 2;
CREATE TABLE d.kept (k INT) DISTRIBUTED BY HASH(k) BUCKETS 2;
INSERT INTO d.gone VALUES (1), (2), (3);
INSERT INTO d.kept VALUES (1), (2), (3)`)
	require.NoError(t, err)
	tablets := func(table string) []int64 {
		tb, err := s.cat.Snapshot().Table("d", table)
		require.NoError(t, err)
		return tb.Partitions[0].Tablets
	}
	gone, kept := tablets("gone"), tablets("kept")
	_, err = db.ExecContext(ctx, "DROP TABLE d.gone")
	require.NoError(t, err)

	s.dropOrphanTablets()
	for _, id := range gone {
		require.Contains(t, s.tabs.Tablets(), id, "kept on the first pass")
	}
	s.dropOrphanTablets()
	held := s.tabs.Tablets()
	for _, id := range gone {
		require.NotContains(t, held, id)
		_, err := os.Stat(filepath.Join(cfg.DataDir, "be", "data", strconv.FormatInt(id%256, 10), strconv.FormatInt(id, 10)))
		require.ErrorIs(t, err, os.ErrNotExist)
	}
	for _, id := range kept {
		require.Contains(t, held, id)
	}
	var n int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM d.kept").Scan(&n))
	require.Equal(t, 3, n)
}

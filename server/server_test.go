package server

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

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

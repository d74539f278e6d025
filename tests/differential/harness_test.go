package differential

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/tests/testbin"
)

// server is a running strata server process. The binary is built without
// the race detector: this package is a client, and its run time matters
// more than racing the server again.
type server struct {
	t        *testing.T
	query    int
	cmd      *exec.Cmd
	logs     *testbin.LockedBuffer
	waitDone chan struct{}
}

// startServer starts strata on fresh ports and a temporary data dir, and
// stops it when the test ends.
func startServer(t *testing.T) *server {
	t.Helper()
	bin := testbin.Strata(t, filepath.Join("..", ".."), false)
	p := testbin.FreePorts(t, 6)
	s := &server{t: t, query: p[0], logs: &testbin.LockedBuffer{}}
	s.cmd = exec.Command(bin, "server",
		"--data-dir", t.TempDir(),
		"--query-port", strconv.Itoa(p[0]), "--http-port", strconv.Itoa(p[1]),
		"--be-http-port", strconv.Itoa(p[2]), "--be-rpc-port", strconv.Itoa(p[3]),
		"--etcd-client-port", strconv.Itoa(p[4]), "--etcd-peer-port", strconv.Itoa(p[5]),
		"--arrow-flight-sql-port", "0", "--log-level", "warn")
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	require.NoError(t, s.cmd.Start())
	s.waitDone = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.waitDone) }()
	t.Cleanup(s.stop)
	testbin.WaitServing(t, p[0], p[2], s.waitDone, s.logs)
	return s
}

// exited reports whether the server process has ended (a crash).
func (s *server) exited() bool {
	select {
	case <-s.waitDone:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() {
	if s.exited() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.waitDone:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.waitDone
		s.t.Errorf("strata server did not stop within 30s of SIGTERM:\n%s", s.logs.String())
	}
}

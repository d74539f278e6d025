// Package e2e drives a real `strata server` process the way users do: the
// mysql command-line client for SQL, curl for stream load, and kill -9 for
// crashes. Answers are computed in the test from the data it generated, never
// read back from Strata.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/tests/testbin"
)

// strataBinary builds cmd/strata once per test run.
func strataBinary(t *testing.T) string {
	t.Helper()
	return testbin.Strata(t, "../..", raceEnabled)
}

// Server is a running strata server process.
type Server struct {
	t        *testing.T
	DataDir  string
	Query    int
	HTTP     int
	BEHTTP   int
	ports    []int
	extra    []string // further server flags
	Env      []string // further environment variables (KEY=value) of the process
	cmd      *exec.Cmd
	logs     *testbin.LockedBuffer
	waitDone chan struct{}
}

// startServer starts strata on fresh ports with dataDir ("" = a new temp
// dir) and any further server flags.
func startServer(t *testing.T, dataDir string, flags ...string) *Server {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	p := testbin.FreePorts(t, 6)
	s := &Server{t: t, DataDir: dataDir, ports: p, Query: p[0], HTTP: p[1], BEHTTP: p[2], extra: flags}
	s.start()
	t.Cleanup(func() { s.Stop() })
	return s
}

func (s *Server) start() {
	t := s.t
	t.Helper()
	p := s.ports
	s.logs = &testbin.LockedBuffer{}
	s.cmd = exec.Command(strataBinary(t), "server",
		"--data-dir", s.DataDir,
		"--query-port", strconv.Itoa(p[0]), "--http-port", strconv.Itoa(p[1]),
		"--be-http-port", strconv.Itoa(p[2]), "--be-rpc-port", strconv.Itoa(p[3]),
		"--etcd-client-port", strconv.Itoa(p[4]), "--etcd-peer-port", strconv.Itoa(p[5]),
		"--arrow-flight-sql-port", "0", "--log-level", "warn")
	s.cmd.Args = append(s.cmd.Args, s.extra...)
	s.cmd.Env = append(os.Environ(), s.Env...)
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	require.NoError(t, s.cmd.Start())
	s.waitDone = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.waitDone) }()
	testbin.WaitServing(t, s.Query, s.BEHTTP, s.waitDone, s.logs)
}

// Stop sends SIGTERM and waits for a clean exit.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.waitDone:
		return
	default:
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

// Kill9 kills the server with SIGKILL, as a crash would.
func (s *Server) Kill9() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.waitDone
}

// Restart starts a new process on the same data dir and ports.
func (s *Server) Restart() {
	s.start()
}

// MySQL runs the real mysql client with the given SQL and returns its batch
// output (tab-separated, no headers unless withHeader).
func (s *Server) MySQL(sql string, extra ...string) (string, error) {
	args := append([]string{"-h127.0.0.1", "-P" + strconv.Itoa(s.Query), "-uroot", "--batch", "--skip-column-names"}, extra...)
	args = append(args, "-e", sql)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, mysqlBinary(s.t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%v: %s", err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// MustMySQL is MySQL that fails the test on error.
func (s *Server) MustMySQL(sql string, extra ...string) string {
	s.t.Helper()
	out, err := s.MySQL(sql, extra...)
	require.NoError(s.t, err, "sql: %s\nserver log:\n%s", sql, s.logs.String())
	return out
}

func mysqlBinary(t *testing.T) string {
	for _, name := range []string{"mysql", "mariadb"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the mysql command-line client is not installed; scripts/test.sh installs it (apt-get install mariadb-client)")
	return ""
}

func curlBinary(t *testing.T) string {
	p, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl is not installed; scripts/test.sh installs it (apt-get install curl)")
	}
	return p
}

// Curl runs curl with args and returns its stdout.
func (s *Server) Curl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, curlBinary(s.t), append([]string{"-sS"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("curl: %v: %s", err, errb.String())
	}
	return out.String(), nil
}

// StreamLoad PUTs the file at path through the FE port with
// --location-trusted, as a user would, and returns the decoded response.
func (s *Server) StreamLoad(db, table, path string, headers ...string) map[string]any {
	s.t.Helper()
	args := []string{"--location-trusted", "-u", "root:", "-T", path, "-H", "Expect: 100-continue"}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	args = append(args, fmt.Sprintf("http://127.0.0.1:%d/api/%s/%s/_stream_load", s.HTTP, db, table))
	out, err := s.Curl(args...)
	require.NoError(s.t, err, "server log:\n%s", s.logs.String())
	return decodeJSON(s.t, out)
}

// Package testbin is what the end-to-end, oracle and cluster tests share
// to run real strata processes: the binary, built once per test run (with
// the race detector when the tests have it), a buffer that collects a
// process's output while the test reads it, free ports, and the wait for
// a server to serve.
package testbin

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	once    sync.Once
	binPath string
	errB    error
)

// Strata builds cmd/strata once per test binary and returns its path.
// root is the repository root relative to the test's package directory.
func Strata(t *testing.T, root string, race bool) string {
	t.Helper()
	once.Do(func() {
		dir, err := os.MkdirTemp("", "strata-test-bin")
		if err != nil {
			errB = err
			return
		}
		binPath = filepath.Join(dir, "strata")
		args := []string{"build", "-o", binPath}
		if race {
			args = append(args, "-race")
		}
		// The build runs in root, so the main module's requirements apply
		// whichever module the calling test belongs to.
		cmd := exec.Command("go", append(args, "./cmd/strata")...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			errB = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if errB != nil {
		t.Fatal(errB)
	}
	return binPath
}

// LockedBuffer collects a process's output, which a goroutine of os/exec
// writes while the test reads it.
type LockedBuffer struct {
	mu sync.Mutex // protects b
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// FreePorts reserves n distinct loopback ports.
func FreePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// WaitServing waits up to 60 s for a starting `strata server` to accept
// MySQL connections on queryPort and answer HTTP on beHTTPPort, failing
// the test if the process ends first (exited closes then) or the time runs
// out; logs is its output, for the failure.
func WaitServing(t *testing.T, queryPort, beHTTPPort int, exited <-chan struct{}, logs *LockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("strata server exited during start-up:\n%s", logs.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", queryPort), time.Second); err == nil {
			c.Close()
			if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", beHTTPPort)); err == nil {
				resp.Body.Close()
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("strata server not ready after 60s:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Server is a `strata server` process on fresh ports and a temporary data
// directory, for tests that only need one to talk to over MySQL.
type Server struct {
	Query int           // MySQL port
	Logs  *LockedBuffer // the process's output

	t        *testing.T
	cmd      *exec.Cmd
	waitDone chan struct{}
}

// StartServer builds cmd/strata (without the race detector: the caller is
// a client, and its run time matters more than racing the server again),
// starts it and waits until it serves; it is stopped when the test ends.
// root is the repository root relative to the test's package directory.
func StartServer(t *testing.T, root string) *Server {
	t.Helper()
	bin := Strata(t, root, false)
	p := FreePorts(t, 6)
	s := &Server{t: t, Query: p[0], Logs: &LockedBuffer{}}
	s.cmd = exec.Command(bin, "server",
		"--data-dir", t.TempDir(),
		"--query-port", strconv.Itoa(p[0]), "--http-port", strconv.Itoa(p[1]),
		"--be-http-port", strconv.Itoa(p[2]), "--be-rpc-port", strconv.Itoa(p[3]),
		"--etcd-client-port", strconv.Itoa(p[4]), "--etcd-peer-port", strconv.Itoa(p[5]),
		"--arrow-flight-sql-port", "0", "--log-level", "warn")
	s.cmd.Stdout = s.Logs
	s.cmd.Stderr = s.Logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.waitDone = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.waitDone) }()
	t.Cleanup(s.Stop)
	WaitServing(t, p[0], p[2], s.waitDone, s.Logs)
	return s
}

// Exited reports whether the server process has ended (a crash).
func (s *Server) Exited() bool {
	select {
	case <-s.waitDone:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM and waits for a clean exit.
func (s *Server) Stop() {
	if s.Exited() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.waitDone:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.waitDone
		s.t.Errorf("strata server did not stop within 30s of SIGTERM:\n%s", s.Logs.String())
	}
}

// ParseMetrics reads a Prometheus text exposition: each series by its full
// name with labels, and each metric name as the sum of its series.
func ParseMetrics(r io.Reader) (map[string]float64, error) {
	m := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		series := line[:i]
		m[series] = v
		if j := strings.IndexByte(series, '{'); j >= 0 {
			m[series[:j]] += v
		}
	}
	return m, sc.Err()
}

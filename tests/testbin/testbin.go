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
	"math/rand/v2"
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

// The ports tests give processes come from below the kernel's ephemeral
// range (ip_local_port_range), so that no outgoing connection of a running
// process takes one between the test choosing it and the process binding
// it (a port the kernel picked for a listener of our own could be).
var (
	portMu    sync.Mutex // protects handedOut
	handedOut = map[int]bool{}
)

// FreePort returns a loopback port nothing listens on, one this test
// binary has not handed out before.
func FreePort(t *testing.T) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	const lo = 20000
	if hi := ephemeralStart() - 1; hi-lo >= 1000 {
		for range 1000 {
			p := lo + rand.IntN(hi-lo+1)
			if handedOut[p] {
				continue
			}
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				continue
			}
			l.Close()
			handedOut[p] = true
			return p
		}
	}
	// No room below the ephemeral range: let the kernel choose.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreePorts returns n distinct free loopback ports (see FreePort).
func FreePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ports[i] = FreePort(t)
	}
	return ports
}

// ephemeralStart is the first port of the kernel's ephemeral range.
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				return n
			}
		}
	}
	return 32768 // Linux's default
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

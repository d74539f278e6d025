// Package cluster drives real local clusters: Debian's etcd server, several
// `strata fe` and `strata be` processes on loopback, stream loads with
// curl, SQL over the MySQL protocol, and crashes with kill -9. Expected
// answers come from the data the tests generate.
package cluster

import (
	"context"
	"database/sql"
	"encoding/json"
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

	_ "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/tests/testbin"
)

// strataBinary builds cmd/strata once per test run.
func strataBinary(t *testing.T) string {
	t.Helper()
	return testbin.Strata(t, "../..", raceEnabled)
}

// proc is one process of the cluster.
type proc struct {
	t    *testing.T
	name string
	args []string
	// env are environment variables the process starts with besides the
	// test's own (STRATA_FAILPOINTS, say); start reads it each time.
	env      []string
	cmd      *exec.Cmd
	logs     *testbin.LockedBuffer
	waitDone chan struct{}
}

func (p *proc) start() {
	p.t.Helper()
	p.logs = &testbin.LockedBuffer{}
	p.cmd = exec.Command(p.args[0], p.args[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if len(p.env) > 0 {
		p.cmd.Env = append(os.Environ(), p.env...)
	}
	require.NoError(p.t, p.cmd.Start(), p.name)
	p.waitDone = make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(p.waitDone) }()
}

func (p *proc) running() bool {
	select {
	case <-p.waitDone:
		return false
	default:
		return p.cmd != nil
	}
}

// stop sends SIGTERM and waits.
func (p *proc) stop() {
	if p.cmd == nil || !p.running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.waitDone:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.waitDone
		p.t.Errorf("%s did not stop within 30s of SIGTERM:\n%s", p.name, p.logs.String())
	}
}

// kill9 kills the process as a crash would.
func (p *proc) kill9() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.waitDone
}

func (p *proc) signal(sig syscall.Signal) { _ = p.cmd.Process.Signal(sig) }

// waitPort waits until the process listens on port.
func (p *proc) waitPort(port int) {
	p.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if !p.running() {
			p.t.Fatalf("%s exited during start-up:\n%s", p.name, p.logs.String())
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s not listening on %d after 60s:\n%s", p.name, port, p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FE is a frontend process.
type FE struct {
	proc
	Query, HTTP, RPC int
	FlightSQL        int
}

// BE is a backend process.
type BE struct {
	proc
	HTTP, RPC int
	Dir       string
}

// Cluster is a running local cluster.
type Cluster struct {
	t    *testing.T
	dir  string
	etcd proc
	// EtcdURL is the etcd client URL; frontends may reach it through a
	// proxy of their own (proxies, by frontend index).
	EtcdURL string
	FEs     []*FE
	BEs     []*BE
	proxies map[int]*proxy
	ttl     string
	beArgs  []string
}

// AddBackend adds a backend with ALTER SYSTEM ADD BACKEND and starts it,
// with the environment variables env besides the test's own.
func (c *Cluster) AddBackend(env ...string) *BE {
	c.t.Helper()
	i := len(c.BEs)
	be := &BE{HTTP: testbin.FreePort(c.t), RPC: testbin.FreePort(c.t), Dir: filepath.Join(c.dir, fmt.Sprintf("be%d", i))}
	c.MustExec(0, fmt.Sprintf(`ALTER SYSTEM ADD BACKEND "127.0.0.1:%d"`, be.RPC))
	be.proc = proc{t: c.t, name: fmt.Sprintf("be%d", i), args: []string{strataBinary(c.t), "be",
		"--fe", fmt.Sprintf("127.0.0.1:%d", c.FEs[0].HTTP),
		"--data-dir", be.Dir, "--http-port", strconv.Itoa(be.HTTP), "--rpc-port", strconv.Itoa(be.RPC),
		"--lease-ttl", c.ttl, "--log-level", "info"}}
	be.args = append(be.args, c.beArgs...)
	be.env = env
	be.start()
	c.t.Cleanup(be.stop)
	c.BEs = append(c.BEs, be)
	be.waitPort(be.HTTP)
	return be
}

// clusterOptions shape a cluster.
type clusterOptions struct {
	frontends, backends int
	// proxied frontends reach etcd through a proxy the test can pause.
	proxied []int
	// leaseTTL of every process.
	leaseTTL time.Duration
	// feArgs and beArgs are further flags of every frontend and backend
	// (--enable-failpoints, say).
	feArgs, beArgs []string
}

// checkInterval is how often the test clusters' leaders check replicas.
const checkInterval = "500ms"

// startCluster starts etcd, the frontends and the backends, and adds the
// backends.
func startCluster(t *testing.T, o clusterOptions) *Cluster {
	t.Helper()
	if _, err := exec.LookPath("etcd"); err != nil {
		t.Fatalf("etcd is not installed (scripts/test.sh installs Debian's etcd-server): %v", err)
	}
	if o.leaseTTL == 0 {
		o.leaseTTL = 3 * time.Second
	}
	c := &Cluster{t: t, dir: t.TempDir(), proxies: map[int]*proxy{}}
	cp, pp := testbin.FreePort(t), testbin.FreePort(t)
	c.EtcdURL = fmt.Sprintf("http://127.0.0.1:%d", cp)
	peer := fmt.Sprintf("http://127.0.0.1:%d", pp)
	c.etcd = proc{t: t, name: "etcd", args: []string{"etcd", "--name", "t", "--data-dir", filepath.Join(c.dir, "etcd"),
		"--listen-client-urls", c.EtcdURL, "--advertise-client-urls", c.EtcdURL,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "t=" + peer,
		"--logger", "zap", "--log-level", "error"}}
	c.etcd.start()
	t.Cleanup(c.etcd.stop)
	c.etcd.waitPort(cp)
	bin := strataBinary(t)
	ttl := o.leaseTTL.String()
	for i := 0; i < o.frontends; i++ {
		etcdURL := c.EtcdURL
		for _, k := range o.proxied {
			if k == i {
				px := startProxy(t, fmt.Sprintf("127.0.0.1:%d", cp))
				c.proxies[i] = px
				etcdURL = "http://" + px.addr
			}
		}
		fe := &FE{Query: testbin.FreePort(t), HTTP: testbin.FreePort(t), RPC: testbin.FreePort(t), FlightSQL: testbin.FreePort(t)}
		fe.proc = proc{t: t, name: fmt.Sprintf("fe%d", i), args: []string{bin, "fe", "--etcd", etcdURL, "--name", fmt.Sprintf("fe%d", i),
			"--data-dir", filepath.Join(c.dir, fmt.Sprintf("fe%d", i)),
			"--query-port", strconv.Itoa(fe.Query), "--http-port", strconv.Itoa(fe.HTTP), "--rpc-port", strconv.Itoa(fe.RPC),
			"--arrow-flight-sql-port", strconv.Itoa(fe.FlightSQL),
			"--lease-ttl", ttl, "--tablet-check-interval", checkInterval, "--log-level", "info"}}
		fe.args = append(fe.args, o.feArgs...)
		fe.start()
		t.Cleanup(fe.stop)
		c.FEs = append(c.FEs, fe)
	}
	for _, fe := range c.FEs {
		fe.waitPort(fe.Query)
	}
	c.ttl = ttl
	c.beArgs = o.beArgs
	for i := 0; i < o.backends; i++ {
		c.AddBackend()
	}
	c.waitAlive(o.backends)
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range c.procs() {
				t.Logf("---- %s ----\n%s", p.name, tail(p.logs.String(), 60))
			}
		}
	})
	return c
}

func (c *Cluster) procs() []*proc {
	var out []*proc
	for _, fe := range c.FEs {
		out = append(out, &fe.proc)
	}
	for _, be := range c.BEs {
		out = append(out, &be.proc)
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// DB opens a connection pool to frontend i.
func (c *Cluster) DB(i int) *sql.DB {
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(127.0.0.1:%d)/?timeout=10s&readTimeout=120s", c.FEs[i].Query))
	require.NoError(c.t, err)
	c.t.Cleanup(func() { db.Close() })
	return db
}

// MustExec runs statements on frontend i.
func (c *Cluster) MustExec(i int, stmts ...string) {
	c.t.Helper()
	db := c.DB(i)
	for _, s := range stmts {
		_, err := db.Exec(s)
		require.NoError(c.t, err, "fe%d: %s", i, s)
	}
}

// QueryInt runs a query returning one integer on frontend i.
func (c *Cluster) QueryInt(i int, q string) (int64, error) {
	db := c.DB(i)
	var n sql.NullInt64
	err := db.QueryRow(q).Scan(&n)
	return n.Int64, err
}

// WaitInt waits until a query returning one integer gives want on
// frontend i. A frontend other than the one that published a load sees it
// once its catalog watch brings the new visible version, a moment later
// (as a Doris follower replays the journal).
func (c *Cluster) WaitInt(i int, q string, want int64) {
	c.t.Helper()
	var got int64
	var err error
	ok := assertEventually(10*time.Second, func() bool {
		got, err = c.QueryInt(i, q)
		return err == nil && got == want
	})
	require.True(c.t, ok, "fe%d: %s gave %d (%v), want %d", i, q, got, err, want)
}

// Drain runs a query on frontend i and reads all its rows.
func (c *Cluster) Drain(i int, q string) error {
	rows, err := c.DB(i).Query(q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// Rows runs a query on frontend i and returns its rows as text.
func (c *Cluster) Rows(i int, q string) [][]string {
	c.t.Helper()
	rows, err := c.DB(i).Query(q)
	require.NoError(c.t, err, q)
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for k := range vals {
			ptrs[k] = &vals[k]
		}
		require.NoError(c.t, rows.Scan(ptrs...))
		row := make([]string, len(cols))
		for k, v := range vals {
			if v.Valid {
				row[k] = v.String
			} else {
				row[k] = "NULL"
			}
		}
		out = append(out, row)
	}
	require.NoError(c.t, rows.Err())
	return out
}

// waitAlive waits until n backends are alive in SHOW BACKENDS.
func (c *Cluster) waitAlive(n int) {
	c.t.Helper()
	require.Eventually(c.t, func() bool {
		alive := 0
		for _, r := range c.Rows(0, "SHOW BACKENDS") {
			if r[9] == "true" {
				alive++
			}
		}
		return alive >= n
	}, 60*time.Second, 100*time.Millisecond, "backends did not come alive")
}

// Leader returns the index of the frontend SHOW FRONTENDS names master,
// asking frontend ask; -1 when none.
func (c *Cluster) Leader(ask int) int {
	for _, r := range c.Rows(ask, "SHOW FRONTENDS") {
		if r[8] == "true" {
			var k int
			if _, err := fmt.Sscanf(r[0], "fe%d", &k); err == nil {
				return k
			}
		}
	}
	return -1
}

// curl runs curl with args and returns its output.
func curl(args ...string) (string, error) {
	out, err := exec.Command("curl", append([]string{"-sS", "--max-time", "120"}, args...)...).CombinedOutput()
	return string(out), err
}

// StreamLoad loads a CSV body through frontend i's HTTP port (redirected
// to a backend), returning the response.
func (c *Cluster) StreamLoad(i int, db, table, label, body string, headers ...string) (map[string]any, error) {
	return streamLoadAt(fmt.Sprintf("127.0.0.1:%d", c.FEs[i].HTTP), db, table, label, body, headers...)
}

func streamLoadAt(hostPort, db, table, label, body string, headers ...string) (map[string]any, error) {
	f, err := os.CreateTemp("", "load-*.csv")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(body); err != nil {
		return nil, err
	}
	f.Close()
	args := []string{"--location-trusted", "-u", "root:", "-H", "Expect: 100-continue", "-H", "column_separator: ,",
		"-H", "label: " + label}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	args = append(args, "-T", f.Name(), fmt.Sprintf("http://%s/api/%s/%s/_stream_load", hostPort, db, table))
	out, err := curl(args...)
	if err != nil {
		return nil, fmt.Errorf("curl: %v: %s", err, out)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return nil, fmt.Errorf("load response %q: %w", out, err)
	}
	return res, nil
}

// Checksums reads every replica's checksum of a table through frontend i.
func (c *Cluster) Checksums(i int, db, table string) ([]tabletChecksums, error) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/cluster/checksum?db=%s&table=%s", c.FEs[i].HTTP, db, table))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	var out []tabletChecksums
	return out, json.Unmarshal(b, &out)
}

type tabletChecksums struct {
	Tablet   int64 `json:"tablet"`
	Version  int64 `json:"version"`
	Replicas []struct {
		Backend int64  `json:"backend"`
		Sum     uint64 `json:"sum"`
		Rows    int64  `json:"rows"`
		Error   string `json:"error"`
	} `json:"replicas"`
}

// proxy forwards TCP connections to a target and can pause them: while
// paused nothing moves in either direction (bytes wait in the sockets), as
// across a network partition; resume lets them through.
type proxy struct {
	t      *testing.T
	addr   string
	target string
	ln     net.Listener
	mu     sync.Mutex
	paused bool
	cond   *sync.Cond
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{t: t, addr: ln.Addr().String(), target: target, ln: ln}
	p.cond = sync.NewCond(&p.mu)
	go p.accept()
	t.Cleanup(func() { p.resume(); ln.Close() })
	return p
}

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *proxy) serve(c net.Conn) {
	defer c.Close()
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer u.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { p.pipe(u, c); cancel() }()
	go func() { p.pipe(c, u); cancel() }()
	<-ctx.Done()
}

// pipe copies src to dst, holding each chunk while paused.
func (p *proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.paused {
				p.cond.Wait()
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) pause() {
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
}

func (p *proxy) resume() {
	p.mu.Lock()
	p.paused = false
	p.cond.Broadcast()
	p.mu.Unlock()
}

package service_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/rowset/rowsettest"
	"github.com/strata-db/strata/be/service"
	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/rpc"
	"github.com/strata-db/strata/types"
)

// logBuffer is a slog destination tests read while servers write.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger(w *logBuffer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// newClient returns an RPC client closed when the test ends. Make it
// before the backends, so that they stop first.
func newClient(t testing.TB, opts ...rpc.Option) *rpc.Client {
	t.Helper()
	c := rpc.NewClient(opts...)
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("closing the rpc client: %v", err)
		}
	})
	return c
}

// backend is one backend as a cluster runs it: a strict tablet store in a
// temporary directory, its Service, and an RPC server on a loopback port
// serving every call of the package (writers, replicas, clones,
// fragments). It stops when the test ends.
type backend struct {
	id    int64
	dir   string
	store *tabletstore.Store
	svc   *service.Service
	src   *service.CloneSource
	srv   *rpc.Server
	addr  string
	cli   *rpc.Client
	logs  *logBuffer

	stopOnce sync.Once
	served   chan error
}

// backendOpts tune a backend.
type backendOpts struct {
	store tabletstore.Options
	// prepare, when set, adjusts the clone source before serving.
	prepare func(src *service.CloneSource)
	// quiet leaves out the server's debug log (every failed call).
	quiet bool
	// mem, when set, allocates what the server decodes.
	mem memory.Allocator
}

func newBackend(t testing.TB, id int64, cli *rpc.Client, opts ...backendOpts) *backend {
	t.Helper()
	var o backendOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	logs := &logBuffer{}
	level := slog.LevelDebug
	if o.quiet {
		level = slog.LevelInfo
	}
	log := newLogger(logs, level)
	so := o.store
	so.Strict = true
	so.Logger = log
	dir := t.TempDir()
	store, err := tabletstore.OpenWithOptions(dir, so)
	require.NoError(t, err)
	svc := &service.Service{Store: store, Log: log, Stats: &service.Stats{}}
	src := &service.CloneSource{S: svc}
	if o.prepare != nil {
		o.prepare(src)
	}
	// A short stop timeout: a test that stops a backend in the middle of
	// an upload must not wait rpc's default ten seconds.
	rpcOpts := []rpc.Option{rpc.WithStopTimeout(300 * time.Millisecond)}
	if o.mem != nil {
		rpcOpts = append(rpcOpts, rpc.WithAllocator(o.mem))
	}
	srv := rpc.NewServer(log, rpcOpts...)
	service.Register(srv, svc)
	service.RegisterReplicas(srv, svc, src, cli)
	service.RegisterFragments(srv, svc)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	b := &backend{id: id, dir: dir, store: store, svc: svc, src: src, srv: srv, addr: ln.Addr().String(),
		cli: cli, logs: logs, served: make(chan error, 1)}
	go func() { b.served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		b.stop(t)
		src.Close()
		require.NoError(t, store.Close())
	})
	return b
}

// stop stops the backend's RPC server (its store stays open); it waits for
// the calls in flight. It may be called more than once.
func (b *backend) stop(t testing.TB) {
	b.stopOnce.Do(func() {
		b.srv.Stop()
		if err := <-b.served; err != nil {
			t.Errorf("backend %d: Serve: %v", b.id, err)
		}
	})
}

func (b *backend) remote() service.Remote { return service.Remote{RPC: b.cli, Addr: b.addr, ID: b.id} }
func (b *backend) local() service.Local   { return service.Local{S: b.svc, RPC: b.cli} }

// version is the backend's version of a tablet (0: none recorded).
func (b *backend) version(tablet int64) int64 {
	v, _ := b.store.TabletVersion(tablet)
	return v
}

// segFiles lists the segment files of a tablet on the backend.
func (b *backend) segFiles(t testing.TB, tablet int64) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(b.dir, "data"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && filepath.Base(filepath.Dir(path)) == fmt.Sprint(tablet) && strings.HasSuffix(path, ".seg") {
			out = append(out, d.Name())
		}
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	return out
}

// testTable is the tests' table: k BIGINT key, v VARCHAR NULL, duplicate
// keys.
func testTable() *catalog.Table {
	return &catalog.Table{
		ID: 10, DBID: 1, Name: "t", KeysType: catalog.DupKeys, KeyColumns: []string{"k"},
		Schema: catalog.Schema{Version: 1, Columns: []catalog.Column{
			{ID: 1, Name: "k", Type: types.BigInt, IsKey: true},
			{ID: 2, Name: "v", Type: types.Varchar(255), Nullable: true},
		}},
		NextColumnID: 3,
	}
}

func testSchema() sink.TabletSchema { return sink.SchemaOf(testTable()) }

// makeRows makes rows k = from, ..., from+n-1 with v "v<k>", NULL for
// every fifth.
func makeRows(from, n int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		k := int64(from + i)
		var v any = fmt.Sprintf("v%d", k)
		if k%5 == 0 {
			v = nil
		}
		rows[i] = []any{k, v}
	}
	return rows
}

// arrays builds the columns of rows in the test schema; release them.
func arrays(t testing.TB, rows [][]any) []arrow.Array {
	t.Helper()
	return rowsettest.BuildArrays(t, testSchema().Columns, rows)
}

func release(cols []arrow.Array) {
	for _, c := range cols {
		c.Release()
	}
}

// writeRows writes batches of rows through w and closes it.
func writeRows(t testing.TB, w interface {
	Write([]arrow.Array) error
}, batches ...[][]any) {
	t.Helper()
	for _, rows := range batches {
		cols := arrays(t, rows)
		err := w.Write(cols)
		release(cols)
		require.NoError(t, err)
	}
}

// readRows reads every live row of a tablet at a version, sorted.
func readRows(t testing.TB, s *tabletstore.Store, tablet, version int64) [][]any {
	t.Helper()
	snap, err := s.Acquire(tablet, version)
	require.NoError(t, err)
	defer snap.Release()
	segs, err := snap.Segments()
	require.NoError(t, err)
	dels := snap.Deletes()
	require.Len(t, dels, len(segs))
	cols := testSchema().Columns
	var out [][]any
	for si, seg := range segs {
		for p := 0; p < seg.NumPages(); p++ {
			first, _ := seg.PageRange(p)
			page := make([]arrow.Array, len(cols))
			for i, c := range cols {
				a, err := seg.Column(c.ID).ReadPage(p, memory.DefaultAllocator)
				require.NoError(t, err)
				page[i] = a
			}
			for i, row := range rowsettest.RowsOf(t, page) {
				if dels[si] == nil || !dels[si].Contains(uint32(first)+uint32(i)) {
					out = append(out, row)
				}
			}
			release(page)
		}
	}
	rowsettest.SortRows(out, 1)
	return out
}

// loadOn writes rows as txn into tablet on each backend directly (the
// store's own writer) and leaves them pending.
func loadOn(t testing.TB, txn, tablet int64, rows [][]any, bes ...*backend) {
	t.Helper()
	for _, b := range bes {
		w, err := b.svc.OpenWriter(tablet, txn, testSchema())
		require.NoError(t, err)
		writeRows(t, w, rows)
		_, err = w.Close()
		require.NoError(t, err)
	}
}

// publishOn publishes txn at version on each backend's store and checks
// that it published.
func publishOn(t testing.TB, txn, version int64, tablets map[int64]bool, bes ...*backend) {
	t.Helper()
	pt := map[int64]tabletstore.PublishTablet{}
	want := map[int64]tabletstore.TabletPublishResult{}
	for id, written := range tablets {
		pt[id] = tabletstore.PublishTablet{Version: version, Written: written}
		want[id] = tabletstore.Published
	}
	for _, b := range bes {
		res, err := b.store.PublishReplica([]tabletstore.TxnPublish{{TxnID: txn, Tablets: pt}})
		require.NoError(t, err)
		require.Equal(t, []map[int64]tabletstore.TabletPublishResult{want}, res, "backend %d", b.id)
	}
}

// requireCode checks that err carries an rpc code and returns its message.
func requireCode(t testing.TB, err error, code string) string {
	t.Helper()
	require.Error(t, err)
	var e *rpc.Error
	require.True(t, errors.As(err, &e), "error %v (%T) wraps no *rpc.Error", err, err)
	require.Equal(t, code, e.Code, "error: %v", err)
	return e.Message
}

// checkedAlloc returns an allocator that fails the test if anything it
// allocated is still held once the test's cleanups have run. Call it
// before making the client and backends that use it.
func checkedAlloc(t testing.TB) *memory.CheckedAllocator {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeCluster is a service.Cluster over test backends: the backends it
// knows, those it says are down, and each partition's visible version.
type fakeCluster struct {
	mu       sync.Mutex // protects following fields
	backends map[int64]service.Backend
	down     map[int64]bool
	visible  map[int64]int64 // partition -> version
}

func newFakeCluster(bes map[int64]service.Backend) *fakeCluster {
	return &fakeCluster{backends: bes, down: map[int64]bool{}, visible: map[int64]int64{}}
}

func (c *fakeCluster) Backend(id int64) (service.Backend, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.backends[id]
	switch {
	case !ok:
		return nil, fmt.Errorf("backend %d is unknown", id)
	case c.down[id]:
		return nil, fmt.Errorf("backend %d is down", id)
	}
	return b, nil
}

func (c *fakeCluster) Alive() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int64
	for id := range c.backends {
		if !c.down[id] {
			out = append(out, id)
		}
	}
	return out
}

func (c *fakeCluster) Visible(_, _, partitionID int64) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.visible[partitionID]
}

func (c *fakeCluster) setDown(down bool, ids ...int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		c.down[id] = down
	}
}

func (c *fakeCluster) setVisible(partition, v int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.visible[partition] = v
}

var _ service.Cluster = (*fakeCluster)(nil)

// cluster3 starts three backends: 1 reached as a Local, 2 and 3 as
// Remotes.
func cluster3(t testing.TB, opts ...backendOpts) ([]*backend, *fakeCluster) {
	t.Helper()
	cli := newClient(t)
	bes := []*backend{newBackend(t, 1, cli, opts...), newBackend(t, 2, cli, opts...), newBackend(t, 3, cli, opts...)}
	return bes, newFakeCluster(map[int64]service.Backend{1: bes[0].local(), 2: bes[1].remote(), 3: bes[2].remote()})
}
